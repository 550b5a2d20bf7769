#!/usr/bin/env node
// The weight of the cards as HubSpot's build ships them: each entry bundled with everything it
// imports (React and @hubspot/ui-extensions included), minified, then gzipped.
//
//   node scripts/weigh.mjs                      the two card entries
//   node scripts/weigh.mjs path/to/entry.ts …   any other entries (to weigh a package alone)
//
// It bundles with rolldown, which Vitest's Vite brings in; HubSpot's own bundler differs, so the
// figures are for comparing one version of the cards with another, not HubSpot's exact bytes.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { gzipSync } from "node:zlib";

import { build } from "rolldown";

const here = resolve(import.meta.dirname, "..");
const entries = process.argv.slice(2);
const targets =
  entries.length > 0
    ? entries.map((e) => resolve(e))
    : ["src/app/cards/ContactCard.tsx", "src/app/cards/DealCard.tsx"].map((e) => join(here, e));

const out = mkdtempSync(join(tmpdir(), "card-weight-"));
try {
  for (const input of targets) {
    const file = join(out, `${basename(input).replace(/\.\w+$/, "")}.js`);
    await build({
      input,
      cwd: here,
      platform: "browser",
      transform: { define: { "process.env.NODE_ENV": '"production"' } },
      output: { file, format: "esm", minify: true },
      logLevel: "warn",
    });
    const code = readFileSync(file);
    const gz = gzipSync(code, { level: 9 });
    console.log(`${basename(input)}\t${code.length} B minified\t${gz.length} B gzipped`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
