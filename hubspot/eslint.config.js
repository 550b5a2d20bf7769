// HubSpot's rules for UI extensions, typescript-eslint's recommended set and the rules of hooks.
import js from "@eslint/js";
import hubspot from "@hubspot/eslint-config-ui-extensions";
import reactHooks from "eslint-plugin-react-hooks";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...hubspot.configs.default,
  reactHooks.configs.flat.recommended,
  {
    // The stand-in host runs on a plain web page, not in HubSpot's sandbox: it draws HTML, uses the
    // DOM and calls the page's proxy, so HubSpot's rules for extensions do not apply to it.
    files: ["stand-in/**/*.{ts,tsx}", "tests/stand-in.test.tsx"],
    rules: Object.fromEntries(
      Object.keys(hubspot.rules).map((rule) => [`@hubspot/ui-extensions/${rule}`, "off"]),
    ),
  },
  {
    files: ["scripts/**/*.mjs", "tests/**/*.{ts,tsx}", "*.config.{js,ts}"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
);
