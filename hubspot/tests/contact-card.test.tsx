import { Alert, Button, DescriptionListItem, LoadingSpinner, Select, Tag, Text } from "@hubspot/ui-extensions";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { ContactView } from "../src/app/cards/components/ContactView.tsx";
import { MODAL } from "../src/app/cards/components/useCard.ts";
import {
  API,
  contact,
  expectCleanBody,
  renderer,
  route,
  textOf,
  unmountAll,
  UUID,
  verification,
  verifiedContact,
  type Call,
} from "./fixtures.ts";
import { extendMock, fetchMock } from "./mock-hubspot.ts";

beforeEach(() => {
  fetchMock.mockReset();
  extendMock.mockReset();
});
afterEach(unmountAll);

/** Renders the contact card on contact 123 and waits for it to leave the spinner. */
async function renderCard() {
  const r = renderer();
  r.render(<ContactView />);
  await r.waitFor(() => expect(r.maybeFind(LoadingSpinner)).toBeNull());
  return r;
}

const fact = (r: Awaited<ReturnType<typeof renderCard>>, key: string) =>
  r.findByTestId(DescriptionListItem, `idv-fact-${key}`).find(Text).text;

const gets = (calls: Call[]) => calls.filter((c) => c.method === "GET").length;

describe("contact card states", () => {
  it("shows a spinner while loading", () => {
    fetchMock.mockReturnValue(new Promise(() => {}));
    const r = renderer();
    r.render(<ContactView />);
    expect(r.findByTestId(LoadingSpinner, "idv-loading").props.label).toBe("Loading the identity status…");
  });

  it("asks for the signed record's status, with no query or body of its own", async () => {
    const calls = route(fetchMock, { "GET /contacts/123": { status: 200, json: contact() } });
    await renderCard();
    expect(calls).toEqual([{ url: `${API}/contacts/123`, method: "GET", body: undefined, headers: undefined }]);
  });

  it("shows the backend's message when loading fails, and loads again on Try again", async () => {
    const calls = route(fetchMock, {
      "GET /contacts/123": [
        { status: 503, json: { error: "crm_unavailable", message: "HubSpot did not answer; try again shortly." } },
        { status: 200, json: contact() },
      ],
    });
    const r = await renderCard();
    expect(textOf(r.findByTestId(Alert, "idv-load-error"))).toContain("HubSpot did not answer; try again shortly.");
    r.findByTestId(Button, "idv-retry").trigger("onClick");
    await r.waitFor(() => expect(r.find(Tag).text).toBe("Not verified"));
    expect(gets(calls)).toBe(2);
  });

  it("says the service is unreachable when the call itself fails", async () => {
    route(fetchMock, { "GET /contacts/123": new Error("timeout") });
    const r = await renderCard();
    expect(textOf(r.findByTestId(Alert, "idv-load-error"))).toContain("could not be reached");
  });

  it("not verified: the empty state and Verify Identity, no Step-Up or Resend", async () => {
    route(fetchMock, { "GET /contacts/123": { status: 200, json: contact() } });
    const r = await renderCard();
    expect(r.findByTestId(Tag, "idv-badge").text).toBe("Not verified");
    expect(r.findByTestId(Tag, "idv-badge").props.variant).toBe("default");
    expect(r.findByTestId(Text, "idv-empty").text).toBe("No identity check yet for this contact.");
    expect(r.findByTestId(Button, "idv-verify").text).toBe("Verify Identity");
    expect(r.maybeFindByTestId(Button, "idv-stepup")).toBeNull();
    expect(r.maybeFindByTestId(Button, "idv-resend")).toBeNull();
    expect(fact(r, "liveid")).toBe("Not enrolled");
    expect(fact(r, "lastStepUp")).toBe("Never");
  });

  it("pending with a link to give: where it went, until when, and Copy link", async () => {
    const current = verification({
      delivery: "show",
      hosted_url: "https://verify.1kosmos.example/s/abc",
      session_expires_at: "2026-11-03T10:00:00Z",
    });
    route(fetchMock, { "GET /contacts/123": { status: 200, json: contact({ status: "pending", current }) } });
    const r = await renderCard();
    expect(r.findByTestId(Tag, "idv-badge").text).toBe("Pending");
    const note = r.findByTestId(Alert, "idv-pending");
    expect(textOf(note)).toContain("Give the contact this link.");
    expect(textOf(note)).toContain("The link works until Nov 3, 2026.");
    r.findByTestId(Button, "idv-copy").trigger("onClick");
    expect(r.mocks.actions.copyTextToClipboard.calls).toEqual([["https://verify.1kosmos.example/s/abc"]]);
    expect(r.findByTestId(Button, "idv-verify").text).toBe("Verify again");
  });

  it("pending by email: says so, and offers Resend when delivery failed", async () => {
    const current = verification({ delivery: "email", delivery_error: "The mailbox refused the message." });
    route(fetchMock, { "GET /contacts/123": { status: 200, json: contact({ status: "pending", current }) } });
    const r = await renderCard();
    expect(textOf(r.findByTestId(Alert, "idv-pending"))).toContain("The link went to the contact by email.");
    expect(r.findByTestId(Text, "idv-delivery-error").text).toContain("The mailbox refused the message.");
    expect(r.maybeFindByTestId(Button, "idv-copy")).toBeNull();
    expect(r.findByTestId(Button, "idv-resend").text).toBe("Resend link");
  });

  it("verified: every fact, with the NIST revision, and Step-Up Auth", async () => {
    route(fetchMock, { "GET /contacts/123": { status: 200, json: verifiedContact() } });
    const r = await renderCard();
    expect(r.findByTestId(Tag, "idv-badge").text).toBe("Verified");
    expect(r.findByTestId(Tag, "idv-badge").props.variant).toBe("success");
    expect(fact(r, "assurance")).toBe("IAL2 (NIST 800-63-3)");
    expect(fact(r, "document")).toBe("Passport");
    expect(fact(r, "nameOnId")).toBe("Matches the contact");
    expect(fact(r, "match")).toBe("97%");
    expect(fact(r, "verified")).toBe("Nov 2, 2026");
    expect(fact(r, "validUntil")).toBe("Nov 2, 2027");
    expect(fact(r, "liveid")).toBe("Enrolled");
    expect(fact(r, "lastStepUp")).toBe("Nov 20, 2026");
    expect(r.findByTestId(Button, "idv-stepup").text).toBe("Step-Up Auth");
    expect(r.maybeFindByTestId(Text, "idv-empty")).toBeNull();
  });

  it("failed: the provider's reason", async () => {
    const failed = verification({ state: "failed", failure_reason: "The document photo was unreadable." });
    route(fetchMock, { "GET /contacts/123": { status: 200, json: contact({ status: "failed", history: [failed] }) } });
    const r = await renderCard();
    expect(r.findByTestId(Tag, "idv-badge").props.variant).toBe("error");
    expect(textOf(r.findByTestId(Alert, "idv-failed"))).toContain("The document photo was unreadable.");
    expect(r.findByTestId(Button, "idv-verify").text).toBe("Verify Identity");
  });

  it("lapsed: says to verify again", async () => {
    route(fetchMock, { "GET /contacts/123": { status: 200, json: verifiedContact({ status: "lapsed" }) } });
    const r = await renderCard();
    expect(r.findByTestId(Tag, "idv-badge").text).toBe("Verification lapsed");
    expect(textOf(r.findByTestId(Alert, "idv-lapsed"))).toContain("Verify the contact again.");
  });

  it("setup gaps: what an admin must create", async () => {
    const setup = {
      complete: false,
      checked_at: "2026-11-02T10:00:00Z",
      product: "HubSpot",
      gaps: [
        { what: "contact field", label: "IDV Status", name: "idv_status", expected: "enumeration", problem: "missing" },
        { what: "CRM write", label: "Contacts", name: "crm.objects.contacts.write", expected: "scope", problem: "not granted" },
      ],
    };
    route(fetchMock, { "GET /contacts/123": { status: 200, json: contact({ setup }) } });
    const r = await renderCard();
    const alert = r.findByTestId(Alert, "idv-setup");
    expect(alert.props.title).toBe("An admin needs to finish setting up identity verification");
    expect(alert.findAll(Text).map((t) => t.text)).toEqual(["IDV Status: missing", "Contacts: not granted"]);
  });
});

describe("contact card buttons", () => {
  it("expired: Resend link in one click, with an idempotency key, then the new status", async () => {
    const expired = verification({ id: "ses_9", state: "expired", delivery: "sms" });
    const calls = route(fetchMock, {
      "GET /contacts/123": [
        { status: 200, json: contact({ status: "expired", history: [expired] }) },
        { status: 200, json: contact({ status: "pending", current: verification({ id: "ses_9", delivery: "sms" }) }) },
      ],
      "POST /verifications/ses_9/resend": {
        status: 200,
        json: { verification: verification({ id: "ses_9" }), new_session: false, message: "The same link went out again by text message." },
      },
    });
    const r = await renderCard();
    expect(r.findByTestId(Tag, "idv-badge").text).toBe("Link expired unused");
    expect(textOf(r.findByTestId(Alert, "idv-expired"))).toContain("Send it again in one click.");
    r.findByTestId(Button, "idv-resend").trigger("onClick");
    await r.waitFor(() => expect(textOf(r.findByTestId(Alert, "idv-done"))).toBe("The same link went out again by text message."));
    const post = calls.find((c) => c.method === "POST");
    expect(post?.url).toBe(`${API}/verifications/ses_9/resend`);
    expect(Object.keys(post?.body ?? {})).toEqual(["idempotency_key"]);
    expect(post?.body?.idempotency_key).toMatch(UUID);
    expect(post?.headers).toBeUndefined();
    await r.waitFor(() => expect(r.findByTestId(Tag, "idv-badge").text).toBe("Pending"));
  });

  it("Resend link failing shows the backend's message", async () => {
    const expired = verification({ id: "ses_9", state: "expired" });
    route(fetchMock, {
      "GET /contacts/123": { status: 200, json: contact({ status: "expired", history: [expired] }) },
      "POST /verifications/ses_9/resend": { status: 429, json: { error: "rate_limited", message: "Too many links for this contact today." } },
    });
    const r = await renderCard();
    r.findByTestId(Button, "idv-resend").trigger("onClick");
    await r.waitFor(() => expect(textOf(r.findByTestId(Alert, "idv-action-error"))).toBe("Too many links for this contact today."));
  });

  it("Verify Identity offers only the backend's deliveries and posts the choice", async () => {
    const calls = route(fetchMock, {
      "GET /contacts/123": { status: 200, json: contact({ deliveries: ["show", "email"] }) },
      "POST /contacts/123/verifications": { status: 201, json: verification({ delivery: "email" }) },
    });
    const r = await renderCard();
    r.findByTestId(Button, "idv-verify").trigger("onClick");
    await r.waitFor(() => expect(r.findByTestId(Select, "idv-delivery")).toBeDefined());
    const delivery = r.findByTestId(Select, "idv-delivery");
    expect(delivery.props.options.map((o) => o.value)).toEqual(["show", "email"]);
    expect(delivery.props.options.map((o) => o.label)).toEqual(["Show the link here", "Email it to the contact"]);
    r.findByTestId(Select, "idv-ial").trigger("onChange", "IAL1" as never);
    r.findByTestId(Select, "idv-delivery").trigger("onChange", "email" as never);
    await r.waitFor(() => expect(r.findByTestId(Select, "idv-delivery").props.value).toBe("email"));
    r.findByTestId(Button, "idv-send").trigger("onClick");
    await r.waitFor(() => expect(textOf(r.findByTestId(Alert, "idv-done"))).toBe("Verification link created."));
    const post = calls.find((c) => c.method === "POST");
    expect(post?.url).toBe(`${API}/contacts/123/verifications`);
    expectCleanBody(post?.body);
    expect(post?.body).toEqual({ ial: "IAL1", delivery: "email", force: false, idempotency_key: expect.stringMatching(UUID) });
    expect(gets(calls)).toBe(2);
  });

  it("Verify again on a verified contact forces a new session; each click has its own key", async () => {
    const calls = route(fetchMock, {
      "GET /contacts/123": { status: 200, json: verifiedContact({ deliveries: ["show"] }) },
      "POST /contacts/123/verifications": { status: 201, json: verification() },
    });
    const r = await renderCard();
    for (let i = 0; i < 2; i++) {
      r.findByTestId(Button, "idv-verify").trigger("onClick");
      await r.waitFor(() => expect(r.findByTestId(Select, "idv-delivery").props.options).toHaveLength(1));
      r.findByTestId(Button, "idv-send").trigger("onClick");
      await r.waitFor(() => expect(calls.filter((c) => c.method === "POST")).toHaveLength(i + 1));
      await r.waitFor(() => expect(r.maybeFindByTestId(Button, "idv-verify")?.props.disabled).toBe(false));
    }
    const posts = calls.filter((c) => c.method === "POST");
    expect(posts.map((p) => p.body?.force)).toEqual([true, true]);
    expect(posts.map((p) => p.body?.delivery)).toEqual(["show", "show"]);
    expect(posts[0].body?.idempotency_key).not.toBe(posts[1].body?.idempotency_key);
  });

  it("Verify Identity failing shows the backend's message", async () => {
    route(fetchMock, {
      "GET /contacts/123": { status: 200, json: contact() },
      "POST /contacts/123/verifications": { status: 422, json: { error: "no_email", message: "This contact has no email address to send the link to." } },
    });
    const r = await renderCard();
    r.findByTestId(Button, "idv-verify").trigger("onClick");
    await r.waitFor(() => expect(r.findByTestId(Button, "idv-send")).toBeDefined());
    r.findByTestId(Button, "idv-send").trigger("onClick");
    await r.waitFor(() =>
      expect(textOf(r.findByTestId(Alert, "idv-action-error"))).toBe("This contact has no email address to send the link to."),
    );
  });

  it("Step-Up Auth starts the step-up, then opens the details page with its QR code", async () => {
    const url = "https://idv.example.com/hubspot/v1/widget?token=tok_single_use";
    const calls = route(fetchMock, {
      "GET /contacts/123": { status: 200, json: verifiedContact() },
      "POST /contacts/123/step-up": { status: 201, json: verification({ kind: "stepup" }) },
      "POST /widget-link": { status: 200, json: { url } },
    });
    const r = await renderCard();
    r.findByTestId(Button, "idv-stepup").trigger("onClick");
    await r.waitFor(() => expect(r.mocks.actions.openIframeModal.callCount).toBe(1));
    const posts = calls.filter((c) => c.method === "POST");
    expect(posts.map((p) => p.url)).toEqual([`${API}/contacts/123/step-up`, `${API}/widget-link`]);
    expect(posts[0].body).toEqual({ idempotency_key: expect.stringMatching(UUID) });
    expect(posts[1].body).toEqual({ object_type: "contacts", object_id: "123", locale: "en-US" });
    const [payload] = r.mocks.actions.openIframeModal.calls[0];
    expect(payload).toEqual({ uri: url, width: MODAL.width, height: MODAL.height, title: "Identity verification" });
    await r.waitFor(() => expect(textOf(r.findByTestId(Alert, "idv-done"))).toContain("Step-up started"));
  });

  it("Step-Up Auth failing shows the message and opens nothing", async () => {
    route(fetchMock, {
      "GET /contacts/123": { status: 200, json: verifiedContact() },
      "POST /contacts/123/step-up": { status: 409, json: { error: "not_enrolled", message: "This contact has no LiveID yet: verify their identity first." } },
    });
    const r = await renderCard();
    r.findByTestId(Button, "idv-stepup").trigger("onClick");
    await r.waitFor(() => expect(textOf(r.findByTestId(Alert, "idv-action-error"))).toContain("no LiveID yet"));
    expect(r.mocks.actions.openIframeModal.callCount).toBe(0);
  });

  it("Open details opens the single-use URL exactly as given, and closing it refreshes the card", async () => {
    const url = "https://idv.example.com/hubspot/v1/widget?token=tok_abc";
    const calls = route(fetchMock, {
      "GET /contacts/123": [
        { status: 200, json: contact() },
        { status: 200, json: verifiedContact() },
      ],
      "POST /widget-link": { status: 200, json: { url } },
    });
    const r = await renderCard();
    r.findByTestId(Button, "idv-details").trigger("onClick");
    await r.waitFor(() => expect(r.mocks.actions.openIframeModal.callCount).toBe(1));
    const [payload, onClose] = r.mocks.actions.openIframeModal.calls[0];
    expect(payload.uri).toBe(url);
    expect(new URL(payload.uri).searchParams.size).toBe(1);
    expect(r.maybeFindByTestId(Alert, "idv-done")).toBeNull();
    const before = gets(calls);
    onClose?.();
    await r.waitFor(() => expect(r.findByTestId(Tag, "idv-badge").text).toBe("Verified"));
    expect(gets(calls)).toBe(before + 1);
  });

  it("Open details refuses a URL outside the backend and failures of the link", async () => {
    route(fetchMock, {
      "GET /contacts/123": { status: 200, json: contact() },
      "POST /widget-link": [
        { status: 200, json: { url: "https://elsewhere.example.net/widget?token=x" } },
        { status: 500, json: { error: "internal", message: "The details page is not available right now." } },
      ],
    });
    const r = await renderCard();
    r.findByTestId(Button, "idv-details").trigger("onClick");
    await r.waitFor(() => expect(textOf(r.findByTestId(Alert, "idv-action-error"))).toContain("cannot read"));
    r.findByTestId(Button, "idv-details").trigger("onClick");
    await r.waitFor(() =>
      expect(textOf(r.findByTestId(Alert, "idv-action-error"))).toBe("The details page is not available right now."),
    );
    expect(r.mocks.actions.openIframeModal.callCount).toBe(0);
  });
});
