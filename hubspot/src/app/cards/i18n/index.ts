/**
 * The cards' words, dates and numbers in the rep's language: one catalogue per language (this
 * folder), the locale chosen in `locale.ts`, and `Intl` for plurals, dates, numbers and lists. No
 * i18n package: `Intl` covers all of it (the README gives the weight each package would add).
 *
 * Right to left: no HubSpot component takes `dir` or `lang` (SDK 0.17), so an Arabic card keeps
 * HubSpot's left-to-right layout and makes its text right itself with Unicode isolates:
 * - each text of an RTL catalogue is wrapped in RLI … PDI, so its words and punctuation run right
 *   to left inside any container;
 * - each value put into it (a date, a number, a stage name, an email) and each product term
 *   (IAL2, NIST, LiveID…) is wrapped in FSI … PDI, so it keeps its own direction;
 * - text from the backend shown on its own goes through `bidi()` (FSI … PDI) for the same reason.
 */
import { useExtensionContext } from "@hubspot/ui-extensions";

import { ar } from "./ar.ts";
import { de } from "./de.ts";
import { en } from "./en.ts";
import { es } from "./es.ts";
import { fr } from "./fr.ts";
import { ja } from "./ja.ts";
import { chooseLocale, ENGLISH, RTL, type Language, type LocaleChoice } from "./locale.ts";
import { ptBR } from "./pt-BR.ts";
import type { Catalogue, MessageId, ParamArgs, Plural, PluralId, TextId } from "./types.ts";

export { chooseLocale, LANGUAGES, resolveLocale, type Language, type LocaleChoice } from "./locale.ts";
export type { Catalogue, MessageId, PluralId, TextId } from "./types.ts";

export const CATALOGUES: Readonly<Record<Language, Catalogue>> = {
  en,
  es,
  "pt-BR": ptBR,
  fr,
  de,
  ja,
  ar,
};

/** First strong isolate, right-to-left isolate, pop directional isolate. */
export const FSI = "\u2068";
export const RLI = "\u2067";
export const PDI = "\u2069";

/** Product terms kept in Latin letters inside right-to-left text. */
const LTR_TERMS = /1Kosmos|LiveID|IAL[12]|NIST|SMS/g;

export interface I18n {
  language: Language;
  /** The BCP 47 tag dates, numbers and plurals follow (e.g. `en-US`, `pt-PT`). */
  tag: string;
  dir: "ltr" | "rtl";
  /** A text, its placeholders filled. */
  t<K extends TextId>(id: K, ...params: ParamArgs<K>): string;
  /** A plural text for `count` (its `{count}` the number for the locale). */
  plural(id: PluralId, count: number): string;
  /** A date (RFC 3339) as the rep reads it, in the portal's time zone. */
  date(iso: string, timeZone?: string): string;
  /** A fraction as a whole percentage (0.974 → "97%"). */
  percent(fraction: number): string;
  /** Names listed as the language lists them ("A, B"). */
  list(items: readonly string[]): string;
  /** Text from elsewhere (the backend, HubSpot) made safe to show in this direction. */
  bidi(text: string): string;
}

const DATE: Intl.DateTimeFormatOptions = { year: "numeric", month: "short", day: "numeric" };

function fill(text: string, params: Record<string, string | number> | undefined, wrap: (v: string) => string): string {
  if (!params) {
    return text;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? wrap(String(params[name])) : whole,
  );
}

/** The translator of one language and tag. */
export function translator({ language, tag }: LocaleChoice): I18n {
  const catalogue = CATALOGUES[language];
  const rtl = RTL.has(language);
  const isolate = (value: string) => (rtl ? FSI + value + PDI : value);
  const own = (text: string) => (rtl ? RLI + text + PDI : text);
  const terms = (text: string) => (rtl ? text.replace(LTR_TERMS, (term) => FSI + term + PDI) : text);
  const plurals = new Intl.PluralRules(tag);
  const numbers = new Intl.NumberFormat(tag);
  const percents = new Intl.NumberFormat(tag, { style: "percent", maximumFractionDigits: 0 });
  const lists = new Intl.ListFormat(tag, { type: "unit", style: "short" });

  const date = (iso: string, timeZone?: string) => {
    const when = new Date(iso);
    if (Number.isNaN(when.getTime())) {
      return isolate(iso);
    }
    let text: string;
    try {
      text = new Intl.DateTimeFormat(tag, { ...DATE, timeZone: timeZone || "UTC" }).format(when);
    } catch {
      text = new Intl.DateTimeFormat(tag, { ...DATE, timeZone: "UTC" }).format(when);
    }
    return own(text);
  };

  return {
    language,
    tag,
    dir: rtl ? "rtl" : "ltr",
    t(id, ...params) {
      const text = catalogue[id as MessageId] as string;
      return own(fill(terms(text), params[0] as Record<string, string | number> | undefined, isolate));
    },
    plural(id, count) {
      const forms = catalogue[id] as Plural;
      const text = forms[plurals.select(count)] ?? forms.other;
      return own(fill(terms(text), { count: numbers.format(count) }, isolate));
    },
    date,
    percent(fraction) {
      return own(percents.format(Math.min(1, Math.max(0, fraction))));
    },
    list(items) {
      return own(lists.format(items.map(isolate)));
    },
    bidi: isolate,
  };
}

const made = new Map<string, I18n>();

/** The translator of a choice, made once per language and tag. */
export function i18nFor(choice: LocaleChoice): I18n {
  const key = `${choice.language}|${choice.tag}`;
  let i18n = made.get(key);
  if (!i18n) {
    i18n = translator(choice);
    made.set(key, i18n);
  }
  return i18n;
}

/** English as spelled for `en` (for text made outside a card, e.g. an error's own message). */
export const english: I18n = i18nFor(ENGLISH);

/** The rep's translator: HubSpot's user locale, else the browser's language, else English. */
export function useI18n(): I18n {
  const context = useExtensionContext<"crm.record.sidebar">();
  return i18nFor(chooseLocale(context?.user));
}
