/**
 * The contact and deal cards in English, Spanish and Arabic: the visible text, the dates and the
 * numbers each rep reads, and Arabic's right-to-left isolation. HubSpot's user locale drives it.
 */
import { Alert, Button, DescriptionListItem, LoadingSpinner, Select, Tag, Text } from "@hubspot/ui-extensions";
import { RenderedNodeType, type RenderedNode } from "@hubspot/ui-extensions/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { ContactView } from "../src/app/cards/components/ContactView.tsx";
import { DealView } from "../src/app/cards/components/DealView.tsx";
import { contact, deal, plain, renderer, route, textOf, unmountAll, verification, verifiedContact } from "./fixtures.ts";
import { fetchMock } from "./mock-hubspot.ts";

beforeEach(() => {
  fetchMock.mockReset();
});
afterEach(unmountAll);

async function render(view: "contact" | "deal", locale: string) {
  const r = renderer(locale);
  r.render(view === "contact" ? <ContactView /> : <DealView />);
  await r.waitFor(() => expect(r.maybeFind(LoadingSpinner)).toBeNull());
  return r;
}
type Card = Awaited<ReturnType<typeof render>>;

const fact = (r: Card, key: string) => {
  const item = r.findByTestId(DescriptionListItem, `idv-fact-${key}`);
  return [plain(item.props.label), plain(item.find(Text).text)];
};
const show = (node: RenderedNode | null | undefined) => plain(textOf(node));

/** Every string a rep sees in the tree: texts, labels, titles and option labels. */
function shown(node: RenderedNode): string[] {
  if (node.nodeType === RenderedNodeType.Text) {
    return node.text.trim() === "" ? [] : [node.text];
  }
  const own: string[] = [];
  if (node.nodeType === RenderedNodeType.Element) {
    const props = node.props as Record<string, unknown>;
    for (const name of ["label", "title"]) {
      if (typeof props[name] === "string") {
        own.push(props[name]);
      }
    }
    if (Array.isArray(props.options)) {
      own.push(...props.options.map((o: { label: string }) => o.label));
    }
  }
  return [...own, ...node.childNodes.flatMap(shown)];
}

const LANGUAGES = {
  "en-us": {
    badge: "Verified",
    facts: {
      assurance: ["Assurance", "IAL2 (NIST 800-63-3)"],
      document: ["Document", "Passport"],
      nameOnId: ["Name on ID", "Matches the contact"],
      match: ["Match confidence", "97%"],
      verified: ["Verified on", "Nov 2, 2026"],
      validUntil: ["Valid until", "Nov 2, 2027"],
      liveid: ["LiveID", "Enrolled"],
      lastStepUp: ["Last step-up", "Nov 20, 2026"],
    },
    buttons: { stepup: "Step-Up Auth", details: "Open details", verify: "Verify again" },
    pending: ["Waiting for the contact", "Give the contact this link.", "The link works until Nov 3, 2026."],
    form: ["Assurance level", "IAL2: document and selfie", "IAL1: basic", "Send the link", "Show the link here", "Email it to the contact"],
    networkError: "The identity service could not be reached. Try again in a moment.",
    deal: {
      gate: ["Stage gate", "Needs a verified contactNot satisfied"],
      stages: ["Gated stages", "Contract sent, Closed won"],
      stepup: "Passed · Nov 21, 2026",
      modal: "Identity verification for this deal",
    },
  },
  es: {
    badge: "Verificado",
    facts: {
      assurance: ["Nivel de garantía", "IAL2 (NIST 800-63-3)"],
      document: ["Documento", "Pasaporte"],
      nameOnId: ["Nombre en el documento", "Coincide con el contacto"],
      match: ["Coincidencia", "97\u00a0%"],
      verified: ["Verificado el", "2 nov 2026"],
      validUntil: ["Válido hasta", "2 nov 2027"],
      liveid: ["LiveID", "Inscrito"],
      lastStepUp: ["Última autenticación reforzada", "20 nov 2026"],
    },
    buttons: { stepup: "Autenticación reforzada", details: "Ver detalles", verify: "Verificar de nuevo" },
    pending: ["Esperando al contacto", "Comparte este enlace con el contacto.", "El enlace vale hasta el 3 nov 2026."],
    form: ["Nivel de garantía", "IAL2: documento y selfi", "IAL1: básico", "Cómo enviar el enlace", "Mostrar el enlace aquí", "Enviarlo al contacto por correo"],
    networkError: "No se pudo conectar con el servicio de identidad. Vuelve a intentarlo en un momento.",
    deal: {
      gate: ["Control de etapa", "Requiere un contacto verificadoNo cumplido"],
      stages: ["Etapas con control", "Contract sent y Closed won"],
      stepup: "Superada · 21 nov 2026",
      modal: "Verificación de identidad de este negocio",
    },
  },
  ar: {
    badge: "تم التحقق",
    facts: {
      assurance: ["مستوى الضمان", "IAL2 (NIST 800-63-3)"],
      document: ["المستند", "جواز السفر"],
      nameOnId: ["الاسم في الهوية", "يطابق جهة الاتصال"],
      match: ["درجة التطابق", "97\u200e%\u200e"],
      verified: ["تاريخ التحقق", "2 نوفمبر 2026"],
      validUntil: ["صالح حتى", "2 نوفمبر 2027"],
      liveid: ["LiveID", "مسجَّل"],
      lastStepUp: ["آخر مصادقة معزَّزة", "20 نوفمبر 2026"],
    },
    buttons: { stepup: "مصادقة معزَّزة", details: "فتح التفاصيل", verify: "التحقق مجددًا" },
    pending: ["في انتظار جهة الاتصال", "أعطِ جهة الاتصال هذا الرابط.", "يعمل الرابط حتى 3 نوفمبر 2026."],
    form: ["مستوى الضمان", "IAL2: مستند وصورة سيلفي", "IAL1: أساسي", "طريقة إرسال الرابط", "عرض الرابط هنا", "إرساله إلى جهة الاتصال بالبريد الإلكتروني"],
    networkError: "تعذّر الوصول إلى خدمة الهوية. حاول مرة أخرى بعد قليل.",
    deal: {
      gate: ["شرط المرحلة", "تتطلب جهة اتصال تم التحقق منهاغير مستوفى"],
      stages: ["المرحلتان المشروطتان", "Contract sent وClosed won"], // two stages: the dual
      stepup: "ناجحة · 21 نوفمبر 2026",
      modal: "التحقق من الهوية لهذه الصفقة",
    },
  },
} as const;

describe.each(Object.entries(LANGUAGES))("the cards in %s", (locale, want) => {
  it("the contact card: badge, facts with their dates and percentage, buttons", async () => {
    route(fetchMock, { "GET /contacts/123": { status: 200, json: verifiedContact() } });
    const r = await render("contact", locale);
    expect(plain(r.findByTestId(Tag, "idv-badge").text)).toBe(want.badge);
    for (const [key, pair] of Object.entries(want.facts)) {
      expect(fact(r, key), key).toEqual(pair);
    }
    expect(plain(r.findByTestId(Button, "idv-stepup").text)).toBe(want.buttons.stepup);
    expect(plain(r.findByTestId(Button, "idv-details").text)).toBe(want.buttons.details);
    expect(plain(r.findByTestId(Button, "idv-verify").text)).toBe(want.buttons.verify);
  });

  it("the pending link, its end date, and the Verify form", async () => {
    const current = verification({ delivery: "show", hosted_url: "https://verify.1kosmos.example/s/abc", session_expires_at: "2026-11-03T10:00:00Z" });
    route(fetchMock, { "GET /contacts/123": { status: 200, json: contact({ status: "pending", current }) } });
    const r = await render("contact", locale);
    const note = r.findByTestId(Alert, "idv-pending");
    expect(plain(note.props.title)).toBe(want.pending[0]);
    expect(note.findAll(Text).map((t) => plain(t.text))).toEqual(want.pending.slice(1));
    r.findByTestId(Button, "idv-verify").trigger("onClick");
    await r.waitFor(() => expect(r.findByTestId(Select, "idv-delivery")).toBeDefined());
    const ial = r.findByTestId(Select, "idv-ial");
    const delivery = r.findByTestId(Select, "idv-delivery");
    expect([ial.props.label, ...ial.props.options.map((o) => o.label), delivery.props.label, ...delivery.props.options.map((o) => o.label)].map(plain)).toEqual(want.form);
  });

  it("the card's own error in the language, the backend's sentence as sent", async () => {
    route(fetchMock, { "GET /contacts/123": new Error("timeout") });
    const r = await render("contact", locale);
    expect(show(r.findByTestId(Alert, "idv-load-error"))).toBe(want.networkError);
    route(fetchMock, {
      "GET /contacts/123": { status: 200, json: verifiedContact() },
      "POST /contacts/123/step-up": { status: 502, json: { error: "provider_unavailable", message: "1Kosmos did not answer; try again in a minute." } },
    });
    r.findByTestId(Button, "idv-retry").trigger("onClick");
    await r.waitFor(() => expect(r.maybeFindByTestId(Button, "idv-stepup")).not.toBeNull());
    r.findByTestId(Button, "idv-stepup").trigger("onClick");
    await r.waitFor(() => expect(show(r.findByTestId(Alert, "idv-action-error"))).toBe("1Kosmos did not answer; try again in a minute."));
  });

  it("the deal card: the gate, the gated stages, the step-up with its date, the modal title", async () => {
    const stepup = verification({ kind: "stepup", state: "verified", completed_at: "2026-11-21T15:00:00Z" });
    const calls = route(fetchMock, {
      "GET /deals/123": { status: 200, json: deal({ primary_contact: verifiedContact(), stepup }) },
      "POST /widget-link": { status: 200, json: { url: "https://idv.example.com/hubspot/v1/widget?token=t" } },
    });
    const r = await render("deal", locale);
    const items = r.findAll(DescriptionListItem).map((item) => [plain(item.props.label), show(item)]);
    expect(items).toContainEqual(want.deal.gate);
    expect(items).toContainEqual(want.deal.stages);
    expect(plain(r.findByTestId(Text, "idv-deal-stepup").text)).toBe(want.deal.stepup);
    expect(plain(r.findByTestId(Tag, "idv-badge").text)).toBe(want.badge);
    expect(fact(r, "verified")).toEqual(want.facts.verified);
    r.findByTestId(Button, "idv-details").trigger("onClick");
    await r.waitFor(() => expect(r.mocks.actions.openIframeModal.callCount).toBe(1));
    expect(plain(r.mocks.actions.openIframeModal.calls[0][0].title ?? "")).toBe(want.deal.modal);
    // The widget in the modal speaks the rep's language too.
    const link = calls.find((c) => c.url.endsWith("/widget-link"));
    expect(String(link?.body?.locale).toLowerCase()).toBe(locale.toLowerCase());
  });
});

describe("Arabic, right to left", () => {
  it("every string of the contact and deal cards is isolated, so it reads right to left in HubSpot's layout", async () => {
    const setup = {
      complete: false,
      checked_at: "2026-11-02T10:00:00Z",
      product: "HubSpot",
      gaps: [{ what: "contact field", label: "IDV Status", name: "idv_status", expected: "enumeration", problem: "missing" }],
    };
    route(fetchMock, {
      "GET /contacts/123": { status: 200, json: verifiedContact({ setup }) },
      "GET /deals/123": { status: 200, json: deal({ primary_contact: verifiedContact(), setup }) },
    });
    for (const view of ["contact", "deal"] as const) {
      const r = await render(view, "ar");
      const strings = shown(r.getRootNode());
      expect(strings.length).toBeGreaterThan(10);
      for (const text of strings) {
        expect(text, view).toMatch(/^[\u2067\u2068][\s\S]*\u2069$/);
      }
    }
  });

  it("left-to-right values keep their direction inside Arabic sentences", async () => {
    const setup = {
      complete: false,
      checked_at: "2026-11-02T10:00:00Z",
      product: "HubSpot",
      gaps: [{ what: "contact field", label: "IDV Status", name: "idv_status", expected: "enumeration", problem: "missing" }],
    };
    route(fetchMock, { "GET /contacts/123": { status: 200, json: verifiedContact({ setup }) } });
    const r = await render("contact", "ar");
    expect(r.findByTestId(DescriptionListItem, "idv-fact-assurance").find(Text).text).toBe(
      "\u2067\u2068IAL2\u2069 (\u2068NIST\u2069 \u2068800-63-3\u2069)\u2069",
    );
    expect(r.findByTestId(Alert, "idv-setup").find(Text).text).toBe("\u2067\u2068IDV Status\u2069: \u2068missing\u2069\u2069");
  });

  it("Saudi Arabic writes Arabic-Indic digits", async () => {
    route(fetchMock, { "GET /contacts/123": { status: 200, json: verifiedContact() } });
    const r = await render("contact", "ar-sa");
    expect(fact(r, "verified")[1]).toBe("٢ نوفمبر ٢٠٢٦");
    expect(fact(r, "match")[1]).toBe("٩٧٪؜");
  });
});

describe("the language follows the host", () => {
  it("Japanese and Brazilian Portuguese from HubSpot's locale; an unsupported one reads English", async () => {
    route(fetchMock, { "GET /contacts/123": { status: 200, json: verifiedContact() } });
    const ja = await render("contact", "ja-jp");
    expect(ja.findByTestId(Tag, "idv-badge").text).toBe("確認済み");
    expect(fact(ja, "verified")).toEqual(["確認日", "2026年11月2日"]);
    const pt = await render("contact", "pt-br");
    expect(pt.findByTestId(Tag, "idv-badge").text).toBe("Verificado");
    expect(fact(pt, "verified")).toEqual(["Verificado em", "2 de nov. de 2026"]);
    const it = await render("contact", "it-it");
    expect(it.findByTestId(Tag, "idv-badge").text).toBe("Verified");
  });
});

describe("a failure says what to do next in the rep's language", () => {
  const expired = {
    state: "failed" as const,
    failure_code: "document_expired",
    failure_reason: "The ID has expired (IDV0011). Next step: ask the customer to use an ID that is still valid.",
  };
  it.each([
    ["en-us", "The ID has expired (IDV0011). Next step: ask the customer to use an ID that is still valid."],
    ["es", "El ID está caducado. Siguiente paso: pida al cliente un ID vigente."],
    ["de-de", "Der Ausweis ist abgelaufen. Nächster Schritt: Bitten Sie den Kunden um einen gültigen Ausweis."],
    ["ar", "انتهت صلاحية المستند. الخطوة التالية: اطلب من العميل مستندًا ساري الصلاحية."],
  ])("%s", async (locale, text) => {
    route(fetchMock, {
      "GET /contacts/123": { status: 200, json: contact({ status: "failed", history: [verification(expired)] }) },
    });
    const r = await render("contact", locale);
    expect(show(r.findByTestId(Alert, "idv-failed"))).toBe(text);
  });

  it("an unknown reason keeps the provider's code for support; an unknown code reads as the backend wrote it", async () => {
    const unknown = "The customer could not be verified (1Kosmos reason IDV0099). Next step: send a new link.";
    route(fetchMock, {
      "GET /contacts/123": [
        { status: 200, json: contact({ status: "failed", history: [verification({ state: "failed", failure_code: "unknown", failure_reason: unknown })] }) },
        { status: 200, json: contact({ status: "failed", history: [verification({ state: "failed", failure_code: "from_a_newer_backend", failure_reason: "new words" })] }) },
      ],
    });
    const first = await render("contact", "fr");
    const words = show(first.findByTestId(Alert, "idv-failed"));
    expect(words.startsWith("Le client n’a pas pu être vérifié.")).toBe(true);
    expect(words).toContain("IDV0099");
    const second = await render("contact", "fr");
    expect(show(second.findByTestId(Alert, "idv-failed"))).toBe("new words");
  });
});

describe("the set-up an admin must finish, in the rep's language", () => {
  const setup = {
    complete: false,
    checked_at: "2026-11-02T10:00:00Z",
    product: "HubSpot",
    gaps: [
      {
        what: "contact field", label: "IDV Status", name: "idv_status", expected: "dropdown: pending, verified",
        problem: "has type text; views and workflows need dropdown", part: "contact_field", field_type: "dropdown",
        choices: ["pending", "verified"], issue: { code: "wrong_type", has: "string", needs: "dropdown" },
      },
      {
        what: "deal stage", label: "Negotation", name: "Negotation", expected: "a stage of a deal pipeline",
        problem: "no stage of this name; did you mean \"Negotiation\"? It gates nothing", part: "deal_stage",
        issue: { code: "no_stage", similar: "Negotiation" },
      },
      {
        what: "CRM write", label: "a write of this app", name: "", expected: "the fields listed by `server check`",
        problem: "400: Property idv_status does not exist", part: "crm_write",
        issue: { code: "write_refused", detail: "400: Property idv_status does not exist" },
      },
      {
        what: "workflow", label: "IDV Flow", name: "x", expected: "x", problem: "a newer backend's words",
        part: "workflow", issue: { code: "renamed" },
      },
    ],
  };
  const gaps = async (locale: string) => {
    route(fetchMock, { "GET /contacts/123": { status: 200, json: verifiedContact({ setup }) } });
    const r = await render("contact", locale);
    return r.findByTestId(Alert, "idv-setup").findAll(Text).map((t) => plain(t.text ?? ""));
  };

  it("English says it as the backend does", async () => {
    expect(await gaps("en-US")).toEqual([
      "IDV Status: has type string; views and workflows need dropdown",
      "Negotation: no stage of this name; did you mean “Negotiation”? It gates nothing",
      "A write of this app: the CRM refused a write of this app: 400: Property idv_status does not exist",
      "IDV Flow: a newer backend's words",
    ]);
  });

  it("German and Spanish word the problems; the CRM's names and refusal stay as they are", async () => {
    expect(await gaps("de-DE")).toEqual([
      "IDV Status: hat den Typ string; Ansichten und Workflows brauchen Dropdown",
      "Negotation: keine Phase heißt so; meinten Sie „Negotiation“? Sie sperrt nichts",
      "Ein Schreibvorgang dieser App: das CRM hat einen Schreibvorgang dieser App abgelehnt: 400: Property idv_status does not exist",
      "IDV Flow: a newer backend's words",
    ]);
    const es = await gaps("es");
    expect(es[0]).toBe("IDV Status: es de tipo string; las vistas y los flujos de trabajo necesitan lista desplegable");
    expect(es[1]).toContain("¿quería decir «Negotiation»?");
  });
});
