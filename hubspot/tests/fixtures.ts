/** Backend answers for the card tests, and a stand-in for `hubspot.fetch`. */
import { createRenderer, RenderedNodeType, type RenderedNode } from "@hubspot/ui-extensions/testing";
import type { ReactNode } from "react";
import type { Mock } from "vitest";

import type { ContactStatus, DealStatus, Verification } from "../src/app/cards/api.ts";

export const ORIGIN = "https://idv.example.com";
export const API = `${ORIGIN}/hubspot/v1/card`;

export function verification(over: Partial<Verification> = {}): Verification {
  return {
    id: "ses_1",
    kind: "idv",
    state: "pending",
    contact_id: 123,
    created_at: "2026-11-02T10:00:00Z",
    ...over,
  };
}

export function contact(over: Partial<ContactStatus> = {}): ContactStatus {
  return {
    contact_id: 123,
    status: "not_verified",
    liveid_enrolled: false,
    history: [],
    deliveries: ["show", "email"],
    ...over,
  };
}

export function verifiedContact(over: Partial<ContactStatus> = {}): ContactStatus {
  return contact({
    status: "verified",
    ial: { level: "IAL2", revision: "800-63-3" },
    document_type: "passport",
    match_confidence: 0.974,
    identity_match: "match",
    verified_at: "2026-11-02T10:05:00Z",
    expires_at: "2027-11-02T10:05:00Z",
    liveid_enrolled: true,
    last_stepup_at: "2026-11-20T09:00:00Z",
    history: [verification({ state: "verified", completed_at: "2026-11-02T10:05:00Z" })],
    ...over,
  });
}

export function deal(over: Partial<DealStatus> = {}): DealStatus {
  return {
    deal_id: 123,
    stage: { id: "closedwon", name: "Closed won" },
    gated_stages: [
      { id: "contractsent", name: "Contract sent" },
      { id: "closedwon", name: "Closed won" },
    ],
    gated: true,
    gate_satisfied: false,
    ...over,
  };
}

export interface Call {
  url: string;
  method: string;
  body?: Record<string, unknown>;
  headers?: unknown;
}

type Answer = { status: number; json?: unknown } | Error;

/**
 * Routes `hubspot.fetch` calls by `METHOD path` (path under the card API) to answers, and
 * records every call. An unrouted call answers 404.
 */
export function route(mock: Mock, answers: Record<string, Answer | Answer[]>): Call[] {
  const calls: Call[] = [];
  const queues = new Map(
    Object.entries(answers).map(([k, v]) => [k, Array.isArray(v) ? [...v] : [v]] as const),
  );
  mock.mockImplementation(async (url: string, options?: { method?: string; body?: Record<string, unknown>; headers?: unknown }) => {
    const method = options?.method ?? "GET";
    calls.push({ url, method, body: options?.body, headers: options?.headers });
    const path = url.startsWith(API) ? url.slice(API.length) : url;
    const queue = queues.get(`${method} ${path}`);
    const answer = queue && (queue.length > 1 ? queue.shift() : queue[0]);
    if (!answer) {
      return new Response(JSON.stringify({ error: "not_found", message: `no route ${method} ${path}` }), { status: 404 });
    }
    if (answer instanceof Error) {
      throw answer;
    }
    return new Response(answer.json === undefined ? "" : JSON.stringify(answer.json), {
      status: answer.status,
      headers: { "content-type": "application/json" },
    });
  });
  return calls;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A POST body as HubSpot would forward it: JSON, no account or user in it. */
export function expectCleanBody(body: Record<string, unknown> | undefined): void {
  if (!body) {
    throw new Error("a POST without a body");
  }
  for (const key of ["portalId", "userId", "appId", "portal_id", "user_id", "tenant"]) {
    if (key in body) {
      throw new Error(`the body names ${key}: ${JSON.stringify(body)}`);
    }
  }
}

const mounted: { render: (node: ReactNode) => unknown }[] = [];

/**
 * A renderer on a CRM record sidebar whose tree `unmountAll` takes down after the test. HubSpot's
 * user locale is set (US English unless told), so no test depends on the machine's language.
 */
export function renderer(locale = "en-us") {
  const r = createRenderer("crm.record.sidebar");
  r.mocks.context.user.locale = locale;
  mounted.push(r);
  return r;
}

/** Text without the Unicode isolates an RTL card puts around its texts and values. */
export function plain(text: string | null | undefined): string {
  return (text ?? "").replace(/[\u2066-\u2069]/g, "");
}

/** Unmounts every card a test rendered, so none of them calls `hubspot.fetch` in the next test. */
export function unmountAll(): void {
  for (const r of mounted.splice(0)) {
    r.render(null);
  }
}

/** All the text under a node, its descendants' included (`node.text` is its own text only). */
export function textOf(node: RenderedNode | null | undefined): string {
  if (!node) {
    return "";
  }
  if (node.nodeType === RenderedNodeType.Text) {
    return node.text;
  }
  return node.childNodes.map((child) => textOf(child)).join("");
}
