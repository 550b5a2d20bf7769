/**
 * The offline check of the HubSpot project files against the shapes of HubSpot's 2026.03
 * templates (`hs project validate` needs HubSpot's servers), against `contract.json` (what the
 * backend accepts and needs) and against the one backend origin of `backend.json`.
 *
 * `checkProject(root)` answers every problem found, as `file: what is wrong`; none is a pass.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

export const PLATFORM_VERSION = "2026.03";
export const CARD_LOCATIONS = ["crm.record.tab", "crm.record.sidebar", "crm.preview", "helpdesk.sidebar"];
export const CARD_OBJECT_TYPES = ["contacts", "deals", "companies", "tickets"];
export const UID = /^[A-Za-z0-9_.-]{1,64}$/;

/** Where each component type lives under `src/` (HubSpot's rule: `type` matches the folder). */
const FOLDER: Record<string, string> = {
  app: "app",
  card: "app/cards",
  webhooks: "app/webhooks",
  "workflow-action": "app/workflow-actions",
  settings: "app/settings",
};

interface Contract {
  paths: Record<string, string>;
  workflowAction: {
    inputFields: Record<string, string[]>;
    outputFields: Record<string, string[] | null>;
  };
  scopes: { required: string[]; optional: string[] };
  webhooks: { group: string; subscriptionType: string; propertyName?: string }[];
}

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === "string");
const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");

function files(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "node_modules") {
      out.push(...files(path, keep));
    } else if (entry.isFile() && keep(entry.name)) {
      out.push(path);
    }
  }
  return out.sort();
}

/** Every string in a JSON value that looks like a URL. */
function urls(value: Json): string[] {
  if (typeof value === "string") {
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? [value] : [];
  }
  if (Array.isArray(value)) {
    return value.flatMap(urls);
  }
  if (isObj(value)) {
    return Object.values(value).flatMap(urls);
  }
  return [];
}

/** Whether `url` lies under one of the permitted URL prefixes. */
export function permitted(url: string, prefixes: string[]): boolean {
  return prefixes.some(
    (p) => url === p || url.startsWith(p.endsWith("/") ? p : `${p}/`) || url.startsWith(`${p}?`),
  );
}

export function checkProject(root: string): string[] {
  const problems: string[] = [];
  const say = (file: string, what: string) => problems.push(`${file}: ${what}`);
  const read = (rel: string): Json | undefined => {
    try {
      return JSON.parse(readFileSync(join(root, rel), "utf8")) as Json;
    } catch (e) {
      say(rel, `unreadable JSON (${e instanceof Error ? e.message : String(e)})`);
      return undefined;
    }
  };

  // The one origin.
  const backend = read("backend.json");
  const origin = isObj(backend) && typeof backend.origin === "string" ? backend.origin : "";
  let parsed: URL | undefined;
  try {
    parsed = new URL(origin);
  } catch {
    say("backend.json", `origin ${JSON.stringify(origin)} is not a URL`);
  }
  if (parsed && (parsed.protocol !== "https:" || parsed.origin !== origin)) {
    say("backend.json", `origin ${origin} must be https://host[:port], nothing more`);
  }
  const contract = read("contract.json") as unknown as Contract | undefined;
  if (!contract) {
    return problems;
  }

  const project = read("hsproject.json");
  if (!isObj(project) || typeof project.name !== "string" || project.name === "") {
    say("hsproject.json", "needs a name");
  }
  if (isObj(project) && project.srcDir !== "src") {
    say("hsproject.json", 'srcDir must be "src"');
  }
  if (isObj(project) && project.platformVersion !== PLATFORM_VERSION) {
    say("hsproject.json", `platformVersion must be ${PLATFORM_VERSION}`);
  }

  const src = join(root, "src");
  const metas = files(src, (n) => n.endsWith("-hsmeta.json"));
  const uids = new Map<string, string>();
  const byType = new Map<string, { rel: string; config: Obj }[]>();
  for (const path of metas) {
    const rel = relative(root, path).split(sep).join("/");
    const meta = read(rel);
    if (!isObj(meta)) {
      say(rel, "not a JSON object");
      continue;
    }
    const { uid, type, config } = meta;
    if (typeof uid !== "string" || !UID.test(uid)) {
      say(rel, "uid must be 1 to 64 letters, digits, '_', '-' or '.'");
    } else if (uids.has(uid)) {
      say(rel, `uid ${uid} is also the uid of ${uids.get(uid)}`);
    } else {
      uids.set(uid, rel);
    }
    if (typeof type !== "string" || !(type in FOLDER)) {
      say(rel, `unknown type ${JSON.stringify(type)}`);
      continue;
    }
    const folder = relative(src, join(path, "..")).split(sep).join("/");
    if (folder !== FOLDER[type]) {
      say(rel, `a ${type} component must sit in src/${FOLDER[type]}/`);
    }
    if (!isObj(config)) {
      say(rel, "needs a config object");
      continue;
    }
    for (const url of urls(config)) {
      if (url !== origin && !url.startsWith(`${origin}/`)) {
        say(rel, `${url} is not under the backend origin ${origin} (backend.json)`);
      }
    }
    byType.set(type, [...(byType.get(type) ?? []), { rel, config }]);
  }

  // The app.
  const apps = byType.get("app") ?? [];
  if (apps.length !== 1) {
    say("src/app", `needs exactly one app component, found ${apps.length}`);
  }
  const permittedUrls: Record<string, string[]> = { fetch: [], iframe: [], img: [] };
  for (const { rel, config } of apps) {
    for (const key of ["name", "description"]) {
      if (typeof config[key] !== "string" || config[key] === "") {
        say(rel, `config.${key} is missing`);
      }
    }
    if (config.distribution !== "marketplace" && config.distribution !== "private") {
      say(rel, "config.distribution must be marketplace or private");
    }
    const auth = config.auth;
    if (!isObj(auth)) {
      say(rel, "config.auth is missing");
    } else {
      if (config.distribution === "marketplace" && auth.type !== "oauth") {
        say(rel, "a marketplace app must use auth.type oauth");
      }
      for (const key of ["redirectUrls", "requiredScopes", "optionalScopes", "conditionallyRequiredScopes"]) {
        if (!isStrings(auth[key])) {
          say(rel, `config.auth.${key} must be an array of strings`);
        }
      }
      const required = isStrings(auth.requiredScopes) ? auth.requiredScopes : [];
      const optional = isStrings(auth.optionalScopes) ? auth.optionalScopes : [];
      if (!required.includes("oauth")) {
        say(rel, 'config.auth.requiredScopes must include "oauth"');
      }
      if (!sameSet(required, contract.scopes.required)) {
        say(rel, `requiredScopes ${required.join(" ")} differ from contract.json's ${contract.scopes.required.join(" ")}`);
      }
      if (!sameSet(optional, contract.scopes.optional)) {
        say(rel, `optionalScopes ${optional.join(" ")} differ from contract.json's ${contract.scopes.optional.join(" ")}`);
      }
      const redirect = `${origin}${contract.paths.oauthRedirect}`;
      if (!isStrings(auth.redirectUrls) || !sameSet(auth.redirectUrls, [redirect])) {
        say(rel, `redirectUrls must be [${redirect}]`);
      }
    }
    const pu = config.permittedUrls;
    if (!isObj(pu)) {
      say(rel, "config.permittedUrls is missing");
    } else {
      for (const key of ["fetch", "iframe", "img"]) {
        if (!isStrings(pu[key])) {
          say(rel, `config.permittedUrls.${key} must be an array of strings`);
        } else {
          permittedUrls[key] = pu[key];
          for (const url of pu[key]) {
            if (!url.startsWith("https://")) {
              say(rel, `permittedUrls.${key}: ${url} is not https`);
            }
          }
        }
      }
    }
  }

  // The cards, and what their code calls and opens.
  const cards = byType.get("card") ?? [];
  for (const { rel, config } of cards) {
    if (typeof config.name !== "string" || config.name === "") {
      say(rel, "config.name is missing");
    }
    if (typeof config.location !== "string" || !CARD_LOCATIONS.includes(config.location)) {
      say(rel, `config.location must be one of ${CARD_LOCATIONS.join(", ")}`);
    }
    const entry = config.entrypoint;
    if (typeof entry !== "string" || !entry.startsWith("/app/cards/") || !/\.(jsx|tsx)$/.test(entry)) {
      say(rel, "config.entrypoint must be /app/cards/<file>.tsx or .jsx");
    } else if (!existsSync(join(src, entry))) {
      say(rel, `config.entrypoint ${entry} does not exist`);
    }
    if (
      !isStrings(config.objectTypes) ||
      config.objectTypes.length === 0 ||
      !config.objectTypes.every((o) => CARD_OBJECT_TYPES.includes(o))
    ) {
      say(rel, `config.objectTypes must list some of ${CARD_OBJECT_TYPES.join(", ")}`);
    }
  }
  const cardsDir = join(src, "app/cards");
  if (existsSync(cardsDir)) {
    const backendTs = join(cardsDir, "backend.ts");
    const expected = `export const BACKEND_ORIGIN = ${JSON.stringify(origin)};`;
    if (!existsSync(backendTs) || !readFileSync(backendTs, "utf8").includes(expected)) {
      say("src/app/cards/backend.ts", `must say ${expected} (run npm run set-origin)`);
    }
    for (const path of files(cardsDir, (n) => /\.(ts|tsx|js|jsx)$/.test(n))) {
      const rel = relative(root, path).split(sep).join("/");
      if (path === backendTs) {
        continue;
      }
      const found = readFileSync(path, "utf8").match(/[a-z][a-z0-9+.-]*:\/\/[^\s"'`)]+/gi) ?? [];
      for (const url of found) {
        say(rel, `${url}: the cards take every URL from BACKEND_ORIGIN (backend.ts), none of their own`);
      }
    }
    const cardApi = `${origin}${contract.paths.card}`;
    const apiTs = existsSync(join(cardsDir, "api.ts")) ? readFileSync(join(cardsDir, "api.ts"), "utf8") : "";
    if (!apiTs.includes(`CARD_API = \`\${BACKEND_ORIGIN}${contract.paths.card}\``)) {
      say("src/app/cards/api.ts", `CARD_API must be \${BACKEND_ORIGIN}${contract.paths.card}`);
    }
    if (cards.length > 0 && !permitted(`${cardApi}/contacts/1`, permittedUrls.fetch)) {
      say("src/app/app-hsmeta.json", `the cards fetch ${cardApi}/…, which permittedUrls.fetch does not list`);
    }
    if (cards.length > 0 && !permitted(`${origin}/`, permittedUrls.iframe)) {
      say("src/app/app-hsmeta.json", `the cards open ${origin}/… in a modal, which permittedUrls.iframe does not list`);
    }
    const cardPkg = read("src/app/cards/package.json");
    const rootPkg = read("package.json");
    if (isObj(cardPkg) && isObj(rootPkg) && isObj(rootPkg.devDependencies)) {
      const deps = isObj(cardPkg.dependencies) ? cardPkg.dependencies : {};
      for (const name of ["@hubspot/ui-extensions", "react"]) {
        if (deps[name] !== rootPkg.devDependencies[name]) {
          say("src/app/cards/package.json", `${name} ${String(deps[name])} differs from package.json's ${String(rootPkg.devDependencies[name])}`);
        }
      }
    }
  }

  // The webhooks.
  const hooks = byType.get("webhooks") ?? [];
  if (hooks.length > 1) {
    say("src/app/webhooks", "only one webhooks component is allowed");
  }
  for (const { rel, config } of hooks) {
    const settings = config.settings;
    const target = `${origin}${contract.paths.webhooks}`;
    if (!isObj(settings) || settings.targetUrl !== target) {
      say(rel, `config.settings.targetUrl must be ${target}`);
    }
    if (isObj(settings) && typeof settings.maxConcurrentRequests !== "number") {
      say(rel, "config.settings.maxConcurrentRequests must be a number");
    }
    const subs = config.subscriptions;
    const found: string[] = [];
    if (!isObj(subs)) {
      say(rel, "config.subscriptions is missing");
    } else {
      for (const [group, list] of Object.entries(subs)) {
        if (!["crmObjects", "legacyCrmObjects", "hubEvents"].includes(group) || !Array.isArray(list)) {
          say(rel, `unknown subscription group ${group}`);
          continue;
        }
        for (const s of list) {
          if (!isObj(s) || typeof s.subscriptionType !== "string" || typeof s.active !== "boolean") {
            say(rel, `${group}: each subscription needs subscriptionType and active`);
            continue;
          }
          if (group === "crmObjects" && typeof s.objectType !== "string") {
            say(rel, "crmObjects: each subscription needs objectType");
          }
          found.push([group, s.subscriptionType, typeof s.propertyName === "string" ? s.propertyName : ""].join(" "));
        }
      }
    }
    const wanted = contract.webhooks.map((w) => [w.group, w.subscriptionType, w.propertyName ?? ""].join(" "));
    if (!sameSet(found, wanted)) {
      say(rel, `subscriptions [${found.join("; ")}] differ from contract.json's [${wanted.join("; ")}]`);
    }
  }

  // The workflow action: inputs and outputs as the backend names them.
  for (const { rel, config } of byType.get("workflow-action") ?? []) {
    const action = `${origin}${contract.paths.workflowAction}`;
    if (config.actionUrl !== action) {
      say(rel, `config.actionUrl must be ${action}`);
    }
    if (typeof config.isPublished !== "boolean") {
      say(rel, "config.isPublished must be true or false");
    }
    const clients = Array.isArray(config.supportedClients) ? config.supportedClients : [];
    if (!clients.some((c) => isObj(c) && c.client === "WORKFLOWS")) {
      say(rel, "config.supportedClients must include WORKFLOWS");
    }
    if (!isStrings(config.objectTypes) || config.objectTypes.length === 0 || config.objectTypes.some((o) => o !== o.toUpperCase())) {
      say(rel, "config.objectTypes must list upper-case object types (CONTACT, DEAL)");
    }
    const fields = (key: "inputFields" | "outputFields") => {
      const list = Array.isArray(config[key]) ? config[key] : [];
      const out = new Map<string, Obj>();
      for (const f of list) {
        const def = isObj(f) ? f.typeDefinition : undefined;
        if (!isObj(f) || !isObj(def) || typeof def.name !== "string" || typeof def.type !== "string") {
          say(rel, `${key}: each field needs typeDefinition.name and .type`);
          continue;
        }
        if (key === "inputFields" && (typeof def.fieldType !== "string" || !isStrings(f.supportedValueTypes) || typeof f.isRequired !== "boolean")) {
          say(rel, `inputFields.${def.name}: needs fieldType, supportedValueTypes and isRequired`);
        }
        out.set(def.name, def);
      }
      return out;
    };
    const check = (key: "inputFields" | "outputFields", wanted: Record<string, string[] | null>) => {
      const got = fields(key);
      if (!sameSet([...got.keys()], Object.keys(wanted))) {
        say(rel, `${key} [${[...got.keys()].join(", ")}] differ from contract.json's [${Object.keys(wanted).join(", ")}]`);
      }
      for (const [name, values] of Object.entries(wanted)) {
        const def = got.get(name);
        if (!def || values === null) {
          continue;
        }
        const options = Array.isArray(def.options) ? def.options : [];
        const offered = options.map((o) => (isObj(o) && typeof o.value === "string" ? o.value : ""));
        if (def.type !== "enumeration" || !sameSet(offered, values)) {
          say(rel, `${key}.${name}: options [${offered.join(", ")}] differ from contract.json's [${values.join(", ")}]`);
        }
        if (options.some((o) => !isObj(o) || typeof o.label !== "string" || o.label === "")) {
          say(rel, `${key}.${name}: each option needs a label`);
        }
      }
      return got;
    };
    const inputs = check("inputFields", contract.workflowAction.inputFields);
    const outputs = check("outputFields", contract.workflowAction.outputFields);
    const labels = isObj(config.labels) ? config.labels.en : undefined;
    if (!isObj(labels)) {
      say(rel, "config.labels.en is missing");
      continue;
    }
    for (const key of ["actionName", "actionDescription", "actionCardContent"]) {
      if (typeof labels[key] !== "string" || labels[key] === "") {
        say(rel, `labels.en.${key} is missing`);
      }
    }
    const labelled = (key: string, names: string[], all: boolean) => {
      const map = isObj(labels[key]) ? labels[key] : {};
      const keys = Object.keys(map);
      if (all ? !sameSet(keys, names) : !keys.every((k) => names.includes(k))) {
        say(rel, `labels.en.${key} [${keys.join(", ")}] do not match the fields [${names.join(", ")}]`);
      }
    };
    labelled("inputFieldLabels", [...inputs.keys()], true);
    labelled("inputFieldDescriptions", [...inputs.keys()], false);
    labelled("outputFieldLabels", [...outputs.keys()], true);
    const card = typeof labels.actionCardContent === "string" ? labels.actionCardContent : "";
    for (const [, name] of card.matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
      if (!inputs.has(name)) {
        say(rel, `labels.en.actionCardContent names {{${name}}}, which is no input field`);
      }
    }
  }
  return problems;
}
