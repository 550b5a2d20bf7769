/**
 * Which catalogue a rep reads, in one place: HubSpot's user locale first (`context.user.locale`,
 * e.g. `en-us`, `pt-br`, `ja-jp`), then its `language` field, then the browser's languages, then
 * English. Each tag is resolved to one of the catalogues by its language:
 *
 * - `en-*` → `en`, `es-*` (`es-419`, `es-mx`, …) → `es`, `fr-*` → `fr`, `de-*` → `de`,
 *   `ja-*` → `ja`, `ar-*` → `ar`;
 * - every Portuguese (`pt-br`, and also `pt-pt`, `pt-ao`, …) → `pt-BR`, the one Portuguese
 *   catalogue; dates and numbers still follow the rep's own region (`pt-PT` writes `02/11/2026`);
 * - anything else, or a tag that is not BCP 47 → the next candidate.
 *
 * The tag that matched is kept for `Intl` (dates, numbers, plurals), so `en-gb` reads "2 Nov 2026"
 * while `en-us` reads "Nov 2, 2026".
 */

export const LANGUAGES = ["en", "es", "pt-BR", "fr", "de", "ja", "ar"] as const;
export type Language = (typeof LANGUAGES)[number];

/** The languages written right to left. */
export const RTL: ReadonlySet<Language> = new Set<Language>(["ar"]);

const BY_LANGUAGE: Readonly<Record<string, Language>> = {
  en: "en",
  es: "es",
  pt: "pt-BR",
  fr: "fr",
  de: "de",
  ja: "ja",
  ar: "ar",
};

/** A catalogue and the tag `Intl` formats with. */
export interface LocaleChoice {
  language: Language;
  tag: string;
}

export const ENGLISH: LocaleChoice = { language: "en", tag: "en" };

/** The catalogue for one locale tag, or null when there is none for its language. */
export function resolveLocale(tag: string | null | undefined): LocaleChoice | null {
  if (typeof tag !== "string" || tag.trim() === "") {
    return null;
  }
  let canonical: string | undefined;
  try {
    [canonical] = Intl.getCanonicalLocales(tag.trim().replace(/_/g, "-"));
  } catch {
    return null;
  }
  if (!canonical) {
    return null;
  }
  const language = BY_LANGUAGE[new Intl.Locale(canonical).language];
  if (!language) {
    return null;
  }
  const formatted = Intl.DateTimeFormat.supportedLocalesOf([canonical]).length > 0 ? canonical : language;
  return { language, tag: formatted };
}

/** What HubSpot says of the user; both fields are optional in the SDK's types. */
export interface HostUser {
  locale?: string;
  language?: string;
}

/** The first of the host's and the browser's tags that has a catalogue, else English. */
export function chooseLocale(user: HostUser | undefined, browser: readonly string[] = browserLanguages()): LocaleChoice {
  for (const tag of [user?.locale, user?.language, ...browser]) {
    const choice = resolveLocale(tag);
    if (choice) {
      return choice;
    }
  }
  return ENGLISH;
}

/** `navigator.language` then `navigator.languages`, where there is a navigator (a browser or worker). */
export function browserLanguages(): string[] {
  const nav = (globalThis as { navigator?: { language?: unknown; languages?: unknown } }).navigator;
  if (!nav) {
    return [];
  }
  const all = [nav.language, ...(Array.isArray(nav.languages) ? nav.languages : [])];
  return all.filter((tag): tag is string => typeof tag === "string");
}
