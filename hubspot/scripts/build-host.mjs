#!/usr/bin/env node
// Builds the stand-in host of the cards (stand-in/host.tsx) into one browser script,
// <outdir>/card-host.js, its style sheet included. It draws the real contact and deal cards on a
// plain page (the offline demo's record pages), outside HubSpot.
//
//   node scripts/build-host.mjs [outdir]        outdir defaults to ../target/hubspot-host
//
// `@hubspot/ui-extensions` resolves to stand-in/ui-extensions.tsx, and the generated
// src/app/cards/backend.ts is replaced by the page's origin (window.IDV_HUBSPOT_HOST.backendOrigin).
import { statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";

import { build, transform } from "esbuild";

const here = resolve(import.meta.dirname, "..");
const outdir = resolve(process.argv[2] ?? join(here, "..", "target", "hubspot-host"));
const standIn = join(here, "stand-in", "ui-extensions.tsx");
const backend = join(here, "src", "app", "cards", "backend.ts");

let backendReplaced = false;

/** @type {import("esbuild").Plugin} */
const standInHost = {
  name: "stand-in-host",
  setup(b) {
    b.onResolve({ filter: /^@hubspot\/ui-extensions(\/.*)?$/ }, (args) => {
      if (args.path !== "@hubspot/ui-extensions") {
        return { errors: [{ text: `the stand-in host has no ${args.path}` }] };
      }
      return { path: standIn };
    });
    b.onLoad({ filter: /[\\/]src[\\/]app[\\/]cards[\\/]backend\.ts$/ }, (args) => {
      if (resolve(args.path) !== backend) {
        return undefined;
      }
      backendReplaced = true;
      return {
        contents: "export const BACKEND_ORIGIN = window.IDV_HUBSPOT_HOST.backendOrigin;\n",
        loader: "ts",
      };
    });
    // The style sheet becomes a minified string the entry puts into the page.
    b.onLoad({ filter: /\.css$/ }, async (args) => {
      const { code } = await transform(await readFile(args.path, "utf8"), { loader: "css", minify: true });
      return { contents: code, loader: "text" };
    });
  },
};

await build({
  entryPoints: { "card-host": join(here, "stand-in", "host.tsx") },
  outdir,
  bundle: true,
  format: "iife",
  platform: "browser",
  target: "es2020",
  minify: true,
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  plugins: [standInHost],
  logLevel: "warning",
});

if (!backendReplaced) {
  throw new Error(`${backend} was not part of the bundle; the cards' origin would be the placeholder`);
}
const file = join(outdir, "card-host.js");
console.log(`${file}\t${statSync(file).size} B`);
