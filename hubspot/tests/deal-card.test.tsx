import { Alert, Button, DescriptionListItem, LoadingSpinner, Tag, Text } from "@hubspot/ui-extensions";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { DealView } from "../src/app/cards/components/DealView.tsx";
import { MODAL } from "../src/app/cards/components/useCard.ts";
import { API, contact, deal, expectCleanBody, renderer, route, textOf, unmountAll, UUID, verification, verifiedContact } from "./fixtures.ts";
import { fetchMock } from "./mock-hubspot.ts";

beforeEach(() => {
  fetchMock.mockReset();
});
afterEach(unmountAll);

async function renderCard() {
  const r = renderer();
  r.render(<DealView />);
  await r.waitFor(() => expect(r.maybeFind(LoadingSpinner)).toBeNull());
  return r;
}

const gateText = (r: Awaited<ReturnType<typeof renderCard>>) =>
  textOf(r.find(DescriptionListItem, { label: "Stage gate" }));

describe("deal card", () => {
  it("shows a spinner while loading, then asks for the signed deal", async () => {
    const calls = route(fetchMock, { "GET /deals/123": { status: 200, json: deal() } });
    const r = renderer();
    r.render(<DealView />);
    expect(r.find(LoadingSpinner).props.label).toBe("Loading the identity status…");
    await r.waitFor(() => expect(r.maybeFind(LoadingSpinner)).toBeNull());
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([`GET ${API}/deals/123`]);
  });

  it("shows the backend's message when loading fails", async () => {
    route(fetchMock, { "GET /deals/123": { status: 404, json: { error: "not_found", message: "This deal is not in the connected HubSpot account." } } });
    const r = await renderCard();
    expect(textOf(r.findByTestId(Alert, "idv-load-error"))).toContain("This deal is not in the connected HubSpot account.");
    expect(r.findByTestId(Button, "idv-retry").text).toBe("Try again");
  });

  it("a gated stage not yet satisfied: the stage, the gate, the gated stages and why it is blocked", async () => {
    route(fetchMock, { "GET /deals/123": { status: 200, json: deal({ primary_contact: contact() }) } });
    const r = await renderCard();
    expect(textOf(r.find(DescriptionListItem, { label: "Stage" }))).toBe("Closed won");
    expect(gateText(r)).toBe("Needs a verified contactNot satisfied");
    expect(r.findByTestId(Tag, "idv-gate-tag").props.variant).toBe("error");
    expect(textOf(r.find(DescriptionListItem, { label: "Gated stages" }))).toBe("Contract sent, Closed won");
    expect(textOf(r.findByTestId(Alert, "idv-gate-blocked"))).toContain("needs the primary contact verified first");
    expect(r.findByTestId(Tag, "idv-badge").text).toBe("Not verified");
    expect(r.maybeFindByTestId(Button, "idv-stepup")).toBeNull();
  });

  it("a satisfied gate and a verified primary contact, with the deal's last step-up", async () => {
    const stepup = verification({ kind: "stepup", state: "verified", completed_at: "2026-11-21T15:00:00Z" });
    route(fetchMock, {
      "GET /deals/123": { status: 200, json: deal({ gate_satisfied: true, primary_contact: verifiedContact(), stepup }) },
    });
    const r = await renderCard();
    expect(r.findByTestId(Tag, "idv-gate-tag").text).toBe("Satisfied");
    expect(r.maybeFindByTestId(Alert, "idv-gate-blocked")).toBeNull();
    expect(r.findByTestId(Tag, "idv-badge").text).toBe("Verified");
    expect(r.findByTestId(Text, "idv-deal-stepup").text).toBe("Passed · Nov 21, 2026");
    expect(r.findByTestId(Button, "idv-stepup").text).toBe("Step-Up Auth");
  });

  it("a stage without a gate", async () => {
    route(fetchMock, { "GET /deals/123": { status: 200, json: deal({ stage: { id: "appointmentscheduled", name: "Appointment scheduled" }, gated: false, gated_stages: [] }) } });
    const r = await renderCard();
    expect(gateText(r)).toBe("This stage needs no verification");
    expect(textOf(r.find(DescriptionListItem, { label: "Gated stages" }))).toBe("None");
    expect(r.maybeFindByTestId(Tag, "idv-gate-tag")).toBeNull();
  });

  it("no primary contact: says so, and offers no step-up", async () => {
    route(fetchMock, { "GET /deals/123": { status: 200, json: deal() } });
    const r = await renderCard();
    expect(r.findByTestId(Text, "idv-no-contact").text).toContain("no primary contact");
    expect(r.maybeFindByTestId(Button, "idv-stepup")).toBeNull();
    expect(r.findByTestId(Button, "idv-details").text).toBe("Open details");
  });

  it("setup gaps on the deal", async () => {
    const setup = {
      complete: false,
      checked_at: "2026-11-02T10:00:00Z",
      product: "HubSpot",
      gaps: [{ what: "deal stage", label: "Closed won", name: "closedwon", expected: "stage id", problem: "no stage of this id in any pipeline" }],
    };
    route(fetchMock, { "GET /deals/123": { status: 200, json: deal({ setup }) } });
    const r = await renderCard();
    expect(textOf(r.findByTestId(Alert, "idv-setup"))).toContain("Closed won: no stage of this id in any pipeline");
  });

  it("Step-Up Auth on the deal, then the details page with the QR code; closing refreshes", async () => {
    const url = "https://idv.example.com/hubspot/v1/widget?token=tok_deal";
    const calls = route(fetchMock, {
      "GET /deals/123": { status: 200, json: deal({ primary_contact: verifiedContact() }) },
      "POST /deals/123/step-up": { status: 201, json: verification({ kind: "stepup", deal_id: 123 }) },
      "POST /widget-link": { status: 200, json: { url } },
    });
    const r = await renderCard();
    r.findByTestId(Button, "idv-stepup").trigger("onClick");
    await r.waitFor(() => expect(r.mocks.actions.openIframeModal.callCount).toBe(1));
    const posts = calls.filter((c) => c.method === "POST");
    expect(posts.map((p) => p.url)).toEqual([`${API}/deals/123/step-up`, `${API}/widget-link`]);
    posts.forEach((p) => expectCleanBody(p.body));
    expect(posts[0].body).toEqual({ idempotency_key: expect.stringMatching(UUID) });
    expect(posts[1].body).toEqual({ object_type: "deals", object_id: "123", locale: "en-US" });
    const [payload, onClose] = r.mocks.actions.openIframeModal.calls[0];
    expect(payload).toEqual({ uri: url, width: MODAL.width, height: MODAL.height, title: "Identity verification for this deal" });
    const before = calls.filter((c) => c.method === "GET").length;
    onClose?.();
    await r.waitFor(() => expect(calls.filter((c) => c.method === "GET").length).toBe(before + 1));
  });

  it("Step-Up Auth failing shows the message", async () => {
    route(fetchMock, {
      "GET /deals/123": { status: 200, json: deal({ primary_contact: verifiedContact() }) },
      "POST /deals/123/step-up": { status: 502, json: { error: "provider_unavailable", message: "1Kosmos did not answer; try again in a minute." } },
    });
    const r = await renderCard();
    r.findByTestId(Button, "idv-stepup").trigger("onClick");
    await r.waitFor(() => expect(textOf(r.findByTestId(Alert, "idv-action-error"))).toBe("1Kosmos did not answer; try again in a minute."));
    expect(r.mocks.actions.openIframeModal.callCount).toBe(0);
  });

  it("Open details asks for a deal link", async () => {
    const calls = route(fetchMock, {
      "GET /deals/123": { status: 200, json: deal() },
      "POST /widget-link": { status: 200, json: { url: "https://idv.example.com/hubspot/v1/widget?token=t" } },
    });
    const r = await renderCard();
    r.findByTestId(Button, "idv-details").trigger("onClick");
    await r.waitFor(() => expect(r.mocks.actions.openIframeModal.callCount).toBe(1));
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ object_type: "deals", object_id: "123", locale: "en-US" });
  });
});
