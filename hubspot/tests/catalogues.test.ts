import { readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";

import { CATALOGUES, LANGUAGES } from "../src/app/cards/i18n/index.ts";
import { catalogueProblems } from "./catalogue-check.ts";

describe("the catalogues", () => {
  it.each(LANGUAGES)("%s has English's keys, placeholders and product terms, and its plural categories", (language) => {
    expect(catalogueProblems(language, CATALOGUES[language])).toEqual([]);
  });

  it("the check fails on a missing key, an extra key, a stray placeholder and a missing plural form", () => {
    const { "card.retry": _dropped, ...rest } = CATALOGUES.ar;
    void _dropped;
    const broken = {
      ...rest,
      "card.extra": "زائد",
      "pending.until": "يعمل الرابط حتى {date} {when}.",
      "fact.assuranceValue": "{level} (معيار {revision})",
      "deal.gatedStages": { one: "المرحلة المشروطة", other: "المراحل المشروطة" },
    };
    expect(catalogueProblems("ar", broken).sort()).toEqual(
      [
      "card.retry: missing",
      "pending.until: placeholders {date,when} where English has {date}",
      "fact.assuranceValue: \"NIST\" is a product term and stays as it is",
      "deal.gatedStages: plural categories one,other where ar has few,many,one,other,two,zero",
      "card.extra: not in English",
      ].sort(),
    );
  });
});

describe("the reasons a verification fails", () => {
  it("every catalogue words every code the backend can give (contract.json failureCodes)", () => {
    const contract = JSON.parse(readFileSync(new URL("../contract.json", import.meta.url), "utf8")) as { failureCodes: string[] };
    expect(contract.failureCodes.length).toBeGreaterThan(30);
    for (const language of LANGUAGES) {
      const catalogue = CATALOGUES[language] as Record<string, unknown>;
      for (const code of contract.failureCodes) {
        expect(typeof catalogue[`failure.${code}`], `${language} failure.${code}`).toBe("string");
      }
    }
  });
});
