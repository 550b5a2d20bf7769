import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.{ts,tsx}"],
    environment: "node",
    // hubspot.fetch and hubspot.extend as Vitest mocks, for every test file.
    setupFiles: ["tests/mock-hubspot.ts"],
  },
});
