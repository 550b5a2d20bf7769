import { isValidElement } from "react";
import { beforeEach, describe, expect, it } from "vitest";

import { ApiError, CARD_API, getContactStatus, resendLink, startVerification, widgetLink } from "../src/app/cards/api.ts";
import { ContactView } from "../src/app/cards/components/ContactView.tsx";
import { DealView } from "../src/app/cards/components/DealView.tsx";
import { CATALOGUES, english, i18nFor } from "../src/app/cards/i18n/index.ts";
import { API, route } from "./fixtures.ts";
import { extendMock, fetchMock } from "./mock-hubspot.ts";

beforeEach(() => {
  fetchMock.mockReset();
});

describe("entry points", () => {
  it("each card registers its view with hubspot.extend", async () => {
    for (const [file, view] of [
      ["../src/app/cards/ContactCard.tsx", ContactView],
      ["../src/app/cards/DealCard.tsx", DealView],
    ] as const) {
      extendMock.mockReset();
      await import(file);
      expect(extendMock).toHaveBeenCalledTimes(1);
      const element = extendMock.mock.calls[0][0]({ context: {}, actions: {} });
      expect(isValidElement(element) && element.type).toBe(view);
    }
  });
});

describe("the card API", () => {
  it("lives under the backend origin", () => {
    expect(CARD_API).toBe(API);
  });

  it("escapes ids in paths", async () => {
    const calls = route(fetchMock, {});
    await expect(resendLink("a/b?c", "k")).rejects.toBeInstanceOf(ApiError);
    expect(calls[0].url).toBe(`${API}/verifications/a%2Fb%3Fc/resend`);
  });

  it("sends only method and JSON body, never a header", async () => {
    const calls = route(fetchMock, { "POST /contacts/7/verifications": { status: 201, json: { id: "s" } } });
    await startVerification(7, { idempotency_key: "k1" });
    expect(fetchMock.mock.calls[0][1]).toEqual({ method: "POST", body: { idempotency_key: "k1" } });
    expect(calls[0].headers).toBeUndefined();
  });

  it("turns errors into the backend's message, or a sentence of the card's own", async () => {
    route(fetchMock, {
      "GET /contacts/1": { status: 403, json: { error: "forbidden", message: "Your HubSpot user may not see this contact." } },
      "GET /contacts/2": { status: 500 },
      "GET /contacts/3": { status: 200, json: "a string" },
      "GET /contacts/4": new Error("socket hang up"),
    });
    await expect(getContactStatus(1)).rejects.toMatchObject({ code: "forbidden", status: 403, message: "Your HubSpot user may not see this contact.", fromBackend: true });
    await expect(getContactStatus(2)).rejects.toMatchObject({ code: "http", status: 500, fromBackend: false, message: english.t("error.http", { status: "500" }) });
    await expect(getContactStatus(3)).rejects.toMatchObject({ code: "unreadable", fromBackend: false, message: english.t("error.unreadable") });
    await expect(getContactStatus(4)).rejects.toMatchObject({ code: "network", status: 0, fromBackend: false, message: english.t("error.network") });
  });

  it("accepts a details link only under the backend origin", async () => {
    route(fetchMock, {
      "POST /widget-link": [
        { status: 200, json: { url: "https://idv.example.com.evil.test/w?token=t" } },
        { status: 200, json: {} },
        { status: 200, json: { url: "https://idv.example.com/hubspot/v1/widget?token=t" } },
      ],
    });
    await expect(widgetLink("contacts", 1, "en-US")).rejects.toMatchObject({ code: "unreadable" });
    await expect(widgetLink("contacts", 1, "en-US")).rejects.toMatchObject({ code: "unreadable" });
    await expect(widgetLink("contacts", 1, "en-US")).resolves.toBe("https://idv.example.com/hubspot/v1/widget?token=t");
  });
});

describe("the message catalogue", () => {
  it("fills placeholders, in each language's catalogue", () => {
    expect(english.t("setup.gap", { label: "IDV Status", problem: "missing" })).toBe("IDV Status: missing");
    expect(i18nFor({ language: "fr", tag: "fr-FR" }).t("card.retry")).toBe(CATALOGUES.fr["card.retry"]);
  });

  it("every string the cards show comes from it", async () => {
    const { readFileSync, readdirSync } = await import("node:fs");
    const dir = new URL("../src/app/cards/components/", import.meta.url);
    for (const name of readdirSync(dir)) {
      const source = readFileSync(new URL(name, dir), "utf8");
      // JSX text between tags that is not an expression: a literal the catalogue should hold.
      const literals = [...source.matchAll(/(?<!=)>\s*([A-Za-z][^<>{}();=]*?)\s*</g)].map((m) => m[1]);
      expect(literals, name).toEqual([]);
    }
  });
});
