/**
 * What is wrong with a catalogue next to English: a missing or extra key, a placeholder English
 * does not have (or lacks), a plural without a category its language needs (or with one it does
 * not have), a product term translated, an empty text, a direction mark written by hand.
 */
import { en } from "../src/app/cards/i18n/en.ts";

export const PRODUCT_TERMS = ["1Kosmos", "LiveID", "IAL1", "IAL2", "NIST"] as const;

type Entry = string | Readonly<Record<string, string | undefined>>;

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
const forms = (entry: Entry): string[] =>
  typeof entry === "string" ? [entry] : Object.values(entry).filter((v): v is string => typeof v === "string");

export function catalogueProblems(tag: string, catalogue: Readonly<Record<string, Entry>>): string[] {
  const problems: string[] = [];
  const english: Readonly<Record<string, Entry>> = en;
  const categories = new Intl.PluralRules(tag).resolvedOptions().pluralCategories.map(String).sort();
  for (const key of Object.keys(english)) {
    if (!Object.prototype.hasOwnProperty.call(catalogue, key)) {
      problems.push(`${key}: missing`);
    }
  }
  for (const [key, entry] of Object.entries(catalogue)) {
    const reference = english[key];
    if (reference === undefined) {
      problems.push(`${key}: not in English`);
      continue;
    }
    if (typeof reference === "string") {
      if (typeof entry !== "string") {
        problems.push(`${key}: a plural where English has a text`);
        continue;
      }
      const want = placeholders(reference).join(",");
      const got = placeholders(entry).join(",");
      if (want !== got) {
        problems.push(`${key}: placeholders {${got}} where English has {${want}}`);
      }
    } else {
      if (typeof entry === "string") {
        problems.push(`${key}: a text where English has a plural`);
        continue;
      }
      const allowed = new Set(forms(reference).flatMap(placeholders));
      for (const [category, text] of Object.entries(entry)) {
        for (const name of placeholders(text ?? "")) {
          if (!allowed.has(name)) {
            problems.push(`${key}.${category}: placeholder {${name}} English does not have`);
          }
        }
      }
      const have = Object.keys(entry).sort().join(",");
      if (have !== categories.join(",")) {
        problems.push(`${key}: plural categories ${have} where ${tag} has ${categories.join(",")}`);
      }
    }
    const referenceText = forms(reference).join(" ");
    for (const text of forms(entry)) {
      if (text.trim() === "") {
        problems.push(`${key}: empty`);
      }
      if (/[\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(text)) {
        problems.push(`${key}: holds a direction mark (the translator adds them)`);
      }
      for (const term of PRODUCT_TERMS) {
        if (referenceText.includes(term) && !text.includes(term)) {
          problems.push(`${key}: "${term}" is a product term and stays as it is`);
        }
      }
    }
  }
  return problems;
}
