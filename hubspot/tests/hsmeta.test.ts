import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

import { checkProject } from "./hsmeta-check.ts";

const ROOT = resolve(import.meta.dirname, "..");
const temps: string[] = [];

/** A copy of the project (no node_modules) to break on purpose. */
function copy(): string {
  const dir = mkdtempSync(join(tmpdir(), "hubspot-project-"));
  temps.push(dir);
  for (const name of ["backend.json", "contract.json", "hsproject.json", "package.json"]) {
    cpSync(join(ROOT, name), join(dir, name));
  }
  cpSync(join(ROOT, "src"), join(dir, "src"), { recursive: true });
  return dir;
}

// The cases below reach into the JSON freely: a loose type is the point.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

function edit(dir: string, rel: string, change: (json: Loose) => void): void {
  const path = join(dir, rel);
  const json = JSON.parse(readFileSync(path, "utf8"));
  change(json);
  writeFileSync(path, JSON.stringify(json, null, 2));
}

const APP = "src/app/app-hsmeta.json";
const ACTION = "src/app/workflow-actions/trigger-verification-hsmeta.json";
const HOOKS = "src/app/webhooks/webhooks-hsmeta.json";
const CARD = "src/app/cards/contact-card-hsmeta.json";

afterEach(() => {
  for (const dir of temps.splice(0)) {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("the project files", () => {
  it("pass the check", () => {
    expect(checkProject(ROOT)).toEqual([]);
  });

  it("are HubSpot's 2026.03 shapes with our values", () => {
    const app = JSON.parse(readFileSync(join(ROOT, APP), "utf8"));
    expect(app.type).toBe("app");
    expect(app.config.distribution).toBe("marketplace");
    expect(app.config.auth.type).toBe("oauth");
    expect(app.config.auth.requiredScopes).toContain("oauth");
    const action = JSON.parse(readFileSync(join(ROOT, ACTION), "utf8"));
    expect(action.config.labels.en.actionName).toBe("Trigger 1Kosmos Verification");
    expect(action.config.inputFields.map((f: Loose) => f.typeDefinition.name)).toEqual([
      "ial",
      "document_types",
      "delivery",
      "wait_for_result",
    ]);
    const hooks = JSON.parse(readFileSync(join(ROOT, HOOKS), "utf8"));
    expect(hooks.config.subscriptions.legacyCrmObjects).toContainEqual({
      subscriptionType: "deal.propertyChange",
      propertyName: "dealstage",
      active: true,
    });
  });
});

describe("the check fails", () => {
  const cases: [string, (dir: string) => void, RegExp][] = [
    ["on a second host", (d) => edit(d, HOOKS, (j) => (j.config.settings.targetUrl = "https://other.example.org/hubspot/v1/webhooks")), /not under the backend origin/],
    ["on a host in card code", (d) => writeFileSync(join(d, "src/app/cards/extra.ts"), 'export const X = "https://evil.example.net/x";\n'), /none of their own/],
    ["on backend.ts out of step with backend.json", (d) => writeFileSync(join(d, "backend.json"), '{"origin":"https://idv.acme.test"}'), /backend\.ts: must say/],
    ["on an http origin", (d) => writeFileSync(join(d, "backend.json"), '{"origin":"http://idv.example.com"}'), /must be https/],
    ["on a missing oauth scope", (d) => edit(d, APP, (j) => (j.config.auth.requiredScopes = j.config.auth.requiredScopes.filter((s: string) => s !== "oauth"))), /must include "oauth"/],
    ["on a scope the backend does not need", (d) => edit(d, APP, (j) => j.config.auth.requiredScopes.push("tickets")), /requiredScopes .* differ/],
    ["on a duplicate uid", (d) => edit(d, "src/app/cards/deal-card-hsmeta.json", (j) => (j.uid = "kosmos_idv_contact_card")), /uid kosmos_idv_contact_card is also/],
    ["on a bad uid", (d) => edit(d, CARD, (j) => (j.uid = "has space")), /uid must be/],
    ["on a type in the wrong folder", (d) => edit(d, CARD, (j) => (j.type = "webhooks")), /must sit in src\/app\/webhooks/],
    ["on an unknown type", (d) => edit(d, CARD, (j) => (j.type = "widget")), /unknown type/],
    ["on a missing entrypoint", (d) => edit(d, CARD, (j) => (j.config.entrypoint = "/app/cards/Nope.tsx")), /does not exist/],
    ["on an unknown location", (d) => edit(d, CARD, (j) => (j.config.location = "crm.record.footer")), /config.location/],
    ["on a fetch origin not permitted", (d) => edit(d, APP, (j) => (j.config.permittedUrls.fetch = [])), /permittedUrls.fetch does not list/],
    ["on an iframe origin not permitted", (d) => edit(d, APP, (j) => (j.config.permittedUrls.iframe = [])), /permittedUrls.iframe does not list/],
    ["on a wrong redirect URL", (d) => edit(d, APP, (j) => (j.config.auth.redirectUrls = ["https://idv.example.com/oauth"])), /redirectUrls must be/],
    ["on a marketplace app without oauth", (d) => edit(d, APP, (j) => (j.config.auth.type = "static")), /must use auth.type oauth/],
    ["on a renamed input field", (d) => edit(d, ACTION, (j) => (j.config.inputFields[0].typeDefinition.name = "proofing_level")), /inputFields \[.*\] differ/],
    ["on an input option the backend does not take", (d) => edit(d, ACTION, (j) => j.config.inputFields[2].typeDefinition.options.push({ value: "show", label: "Show" })), /inputFields.delivery: options/],
    ["on an unlabelled output", (d) => edit(d, ACTION, (j) => delete j.config.labels.en.outputFieldLabels.idv_status), /outputFieldLabels/],
    ["on a card text naming no input", (d) => edit(d, ACTION, (j) => (j.config.labels.en.actionCardContent = "Verify at {{level}}")), /\{\{level\}\}/],
    ["on a missing webhook subscription", (d) => edit(d, HOOKS, (j) => (j.config.subscriptions.hubEvents = [])), /subscriptions .* differ/],
    ["on another platform version", (d) => edit(d, "hsproject.json", (j) => (j.platformVersion = "2025.2")), /platformVersion must be 2026.03/],
    ["on card packages out of step", (d) => edit(d, "src/app/cards/package.json", (j) => (j.dependencies.react = "^19.0.0")), /react \^19.0.0 differs/],
  ];
  for (const [name, breakIt, expected] of cases) {
    it(name, () => {
      const dir = copy();
      breakIt(dir);
      const problems = checkProject(dir);
      expect(problems.join("\n")).toMatch(expected);
    });
  }
});

describe("set-origin", () => {
  const script = join(ROOT, "scripts/set-origin.mjs");

  it("writes a copy for upload with the operator's origin everywhere", () => {
    const dir = copy();
    const out = join(dir, "upload");
    const source = readFileSync(join(ROOT, "backend.json"), "utf8");
    execFileSync("node", [script, "https://idv.acme.test", "--out", out], { stdio: "pipe" });
    expect(JSON.parse(readFileSync(join(out, "backend.json"), "utf8"))).toEqual({ origin: "https://idv.acme.test" });
    expect(readdirSync(out).sort()).toEqual(["backend.json", "hsproject.json", "src"]);
    const leftover = (readdirSync(out, { recursive: true }) as string[])
      .map((rel) => join(out, rel))
      .filter((path) => statSync(path).isFile() && readFileSync(path, "utf8").includes("idv.example.com"));
    expect(leftover).toEqual([]);
    expect(checkProject(withContract(out))).toEqual([]);
    // The project it was copied from is left as it was.
    expect(readFileSync(join(ROOT, "backend.json"), "utf8")).toBe(source);
  });

  it("refuses what HubSpot cannot call", () => {
    for (const bad of ["http://idv.acme.test", "https://localhost:8443", "https://idv.acme.test/base", "nope"]) {
      expect(() => execFileSync("node", [script, bad, "--out", join(copy(), "x")], { stdio: "pipe" })).toThrow();
    }
  });
});

/** The upload copy has no contract.json or package.json of its own: borrow the project's. */
function withContract(out: string): string {
  cpSync(join(ROOT, "contract.json"), join(out, "contract.json"));
  cpSync(join(ROOT, "package.json"), join(out, "package.json"));
  return out;
}
