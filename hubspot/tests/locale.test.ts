import { afterEach, describe, expect, it, vi } from "vitest";

import { FSI, i18nFor, PDI, RLI, chooseLocale, resolveLocale } from "../src/app/cards/i18n/index.ts";
import { browserLanguages } from "../src/app/cards/i18n/locale.ts";
import { plain } from "./fixtures.ts";

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("a locale tag to a catalogue", () => {
  it.each([
    ["en-us", "en", "en-US"],
    ["en-gb", "en", "en-GB"],
    ["EN", "en", "en"],
    ["es", "es", "es"],
    ["es-419", "es", "es-419"],
    ["es-mx", "es", "es-MX"],
    ["pt-br", "pt-BR", "pt-BR"],
    // Every Portuguese reads the Brazilian catalogue; dates keep the rep's own region.
    ["pt-pt", "pt-BR", "pt-PT"],
    ["pt", "pt-BR", "pt"],
    ["fr-ca", "fr", "fr-CA"],
    ["de_DE", "de", "de-DE"],
    ["ja-jp", "ja", "ja-JP"],
    ["ar", "ar", "ar"],
    ["ar-sa", "ar", "ar-SA"],
  ])("%s → %s (formats as %s)", (tag, language, formatted) => {
    expect(resolveLocale(tag)).toEqual({ language, tag: formatted });
  });

  it.each([["zh-tw"], ["it-it"], ["nl"], ["not a tag"], [""], ["  "], [undefined], [null]])("%s → none", (tag) => {
    expect(resolveLocale(tag)).toBeNull();
  });
});

describe("the user's language, from the host", () => {
  it("HubSpot's user locale comes first", () => {
    expect(chooseLocale({ locale: "ja-jp", language: "en" }, ["de-DE"])).toEqual({ language: "ja", tag: "ja-JP" });
  });

  it("then HubSpot's user language", () => {
    expect(chooseLocale({ language: "fr" }, ["de-DE"])).toEqual({ language: "fr", tag: "fr" });
  });

  it("then the browser's, when HubSpot's has no catalogue or is missing", () => {
    expect(chooseLocale({ locale: "it-it" }, ["es-MX", "en-US"])).toEqual({ language: "es", tag: "es-MX" });
    expect(chooseLocale(undefined, ["zh-CN", "pt-BR"])).toEqual({ language: "pt-BR", tag: "pt-BR" });
  });

  it("then English", () => {
    expect(chooseLocale({ locale: "it-it" }, ["nl-NL"])).toEqual({ language: "en", tag: "en" });
    expect(chooseLocale(undefined, [])).toEqual({ language: "en", tag: "en" });
  });

  it("reads navigator.language then navigator.languages, and nothing without a navigator", () => {
    vi.stubGlobal("navigator", { language: "ar-EG", languages: ["ar-EG", "en-US"] });
    expect(browserLanguages()).toEqual(["ar-EG", "ar-EG", "en-US"]);
    expect(chooseLocale({})).toEqual({ language: "ar", tag: "ar-EG" });
    vi.stubGlobal("navigator", undefined);
    expect(browserLanguages()).toEqual([]);
  });
});

describe("plurals, dates and numbers", () => {
  it("a plural takes the form of the language's category for the count", () => {
    const en = i18nFor({ language: "en", tag: "en-US" });
    expect([0, 1, 2].map((n) => en.plural("deal.gatedStages", n))).toEqual(["Gated stages", "Gated stage", "Gated stages"]);
    const ar = i18nFor({ language: "ar", tag: "ar" });
    expect([0, 1, 2, 3, 11, 100].map((n) => plain(ar.plural("deal.gatedStages", n)))).toEqual([
      "المراحل المشروطة",
      "المرحلة المشروطة",
      "المرحلتان المشروطتان",
      "المراحل المشروطة",
      "المراحل المشروطة",
      "المراحل المشروطة",
    ]);
    const fr = i18nFor({ language: "fr", tag: "fr" });
    expect([0, 1, 2].map((n) => fr.plural("deal.gatedStages", n))).toEqual(["Étape contrôlée", "Étape contrôlée", "Étapes contrôlées"]);
  });

  it.each([
    ["en", "en-US", "Nov 2, 2026", "97%"],
    ["en", "en-GB", "2 Nov 2026", "97%"],
    ["es", "es", "2 nov 2026", "97\u00a0%"],
    ["pt-BR", "pt-BR", "2 de nov. de 2026", "97%"],
    ["fr", "fr", "2 nov. 2026", "97\u00a0%"],
    ["de", "de", "2. Nov. 2026", "97\u00a0%"],
    ["ja", "ja-JP", "2026年11月2日", "97%"],
    ["ar", "ar", "2 نوفمبر 2026", "97\u200e%\u200e"],
    ["ar", "ar-SA", "٢ نوفمبر ٢٠٢٦", "٩٧٪؜"],
  ] as const)("%s (%s): a date reads %s, a percentage %s", (language, tag, date, percent) => {
    const i18n = i18nFor({ language, tag });
    expect(plain(i18n.date("2026-11-02T10:05:00Z", "America/New_York"))).toBe(date);
    expect(plain(i18n.percent(0.974))).toBe(percent);
  });

  it("a date is the portal's day, and UTC's when the time zone is unknown", () => {
    const en = i18nFor({ language: "en", tag: "en-US" });
    expect(en.date("2026-11-02T23:30:00Z", "Asia/Tokyo")).toBe("Nov 3, 2026");
    expect(en.date("2026-11-02T23:30:00Z", "America/Los_Angeles")).toBe("Nov 2, 2026");
    expect(en.date("2026-11-02T23:30:00Z", "Not/AZone")).toBe("Nov 2, 2026");
    expect(en.date("not a date")).toBe("not a date");
  });

  it("lists names as the language does", () => {
    expect(i18nFor({ language: "en", tag: "en-US" }).list(["Contract sent", "Closed won"])).toBe("Contract sent, Closed won");
    expect(i18nFor({ language: "de", tag: "de" }).list(["A", "B", "C"])).toBe("A, B und C");
    expect(i18nFor({ language: "ja", tag: "ja" }).list(["A", "B"])).toBe("A B");
  });
});

describe("right to left", () => {
  const ar = i18nFor({ language: "ar", tag: "ar" });
  const en = i18nFor({ language: "en", tag: "en-US" });

  it("Arabic reads right to left, English left to right", () => {
    expect(ar.dir).toBe("rtl");
    expect(en.dir).toBe("ltr");
    expect(i18nFor({ language: "ja", tag: "ja" }).dir).toBe("ltr");
  });

  it("an Arabic text runs right to left inside an isolate; its values and product terms keep their own direction", () => {
    expect(ar.t("fact.assuranceValue", { level: "IAL2", revision: "800-63-3" })).toBe(
      `${RLI}${FSI}IAL2${PDI} (${FSI}NIST${PDI} ${FSI}800-63-3${PDI})${PDI}`,
    );
    expect(ar.t("pending.deliveryFailed", { reason: "mailbox@example.com refused it." })).toBe(
      `${RLI}تعذّر إرسال الرابط: ${FSI}mailbox@example.com refused it.${PDI}${PDI}`,
    );
    expect(ar.t("ial.IAL1")).toBe(`${RLI}${FSI}IAL1${PDI}: أساسي${PDI}`);
    expect(ar.bidi("Closed won")).toBe(`${FSI}Closed won${PDI}`);
    expect(ar.list(["Contract sent", "Closed won"])).toBe(`${RLI}${FSI}Contract sent${PDI} و${FSI}Closed won${PDI}${PDI}`);
  });

  it("a left-to-right text carries no marks", () => {
    expect(en.t("fact.assuranceValue", { level: "IAL2", revision: "800-63-3" })).toBe("IAL2 (NIST 800-63-3)");
    expect(en.bidi("Closed won")).toBe("Closed won");
  });
});
