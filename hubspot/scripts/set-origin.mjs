#!/usr/bin/env node
// Sets the backend origin of the HubSpot project: `backend.json` holds it, and every
// `*-hsmeta.json` and `src/app/cards/backend.ts` repeat it.
//
//   node scripts/set-origin.mjs https://idv.acme.com             rewrite this folder in place
//   node scripts/set-origin.mjs https://idv.acme.com --out DIR   write a copy ready for
//                                                                `hs project upload` into DIR
//
// Only Node's own modules: it runs before (and without) `npm ci`.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The origin as HubSpot needs it (HTTPS, no path, not this machine), or an explanation. */
export function parseOrigin(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${text} is not a URL`);
  }
  if (url.protocol !== "https:") {
    throw new Error(`${text}: HubSpot calls only https:// URLs`);
  }
  if (url.pathname !== "/" || url.search || url.hash || url.username || url.password) {
    throw new Error(`${text}: give the origin only (https://host[:port]), no path or query`);
  }
  if (/^(localhost|127\.|\[::1\]|0\.0\.0\.0)/.test(url.hostname)) {
    throw new Error(`${text}: HubSpot cannot reach this machine; use local.json to proxy in development`);
  }
  return url.origin;
}

function hsmetaFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "node_modules") {
      out.push(...hsmetaFiles(path));
    } else if (entry.isFile() && entry.name.endsWith("-hsmeta.json")) {
      out.push(path);
    }
  }
  return out;
}

/** Writes `origin` into the project at `root`; answers the files changed. */
export function setOrigin(root, origin) {
  const backendPath = join(root, "backend.json");
  const old = JSON.parse(readFileSync(backendPath, "utf8")).origin;
  const changed = [];
  const write = (path, text) => {
    if (readFileSync(path, "utf8") !== text) {
      writeFileSync(path, text);
      changed.push(relative(root, path));
    }
  };
  write(backendPath, `${JSON.stringify({ origin }, null, 2)}\n`);
  for (const path of hsmetaFiles(join(root, "src"))) {
    write(path, readFileSync(path, "utf8").split(old).join(origin));
  }
  write(
    join(root, "src/app/cards/backend.ts"),
    [
      "// Generated from hubspot/backend.json by `npm run set-origin`; edit that file, not this one.",
      "/** The operator's backend origin: every card call and the details page live under it. */",
      `export const BACKEND_ORIGIN = ${JSON.stringify(origin)};`,
      "",
    ].join("\n"),
  );
  return changed;
}

/** Copies what `hs project upload` needs (hsproject.json, src/) and backend.json into `out`. */
export function copyProject(from, out) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const name of ["hsproject.json", "backend.json"]) {
    if (existsSync(join(from, name))) {
      cpSync(join(from, name), join(out, name));
    }
  }
  cpSync(join(from, "src"), join(out, "src"), {
    recursive: true,
    filter: (path) => !/(^|[/\\])(node_modules|local\.json)$/.test(path),
  });
}

function main(argv) {
  const args = [...argv];
  const outAt = args.indexOf("--out");
  let out;
  if (outAt >= 0) {
    out = args[outAt + 1];
    args.splice(outAt, 2);
    if (!out) {
      throw new Error("--out needs a folder");
    }
  }
  if (args.length !== 1) {
    throw new Error("usage: node scripts/set-origin.mjs https://your-backend.example [--out DIR]");
  }
  const origin = parseOrigin(args[0]);
  let root = here;
  if (out) {
    root = resolve(out);
    copyProject(here, root);
  }
  const changed = setOrigin(root, origin);
  console.log(`backend origin ${origin} in ${root}${changed.length ? `: ${changed.join(", ")}` : " (unchanged)"}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    console.error(`set-origin: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
}
