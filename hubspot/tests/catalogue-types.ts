/**
 * Compile-time checks of the `Catalogue` type (run by `tsc --noEmit`): each line marked
 * `@ts-expect-error` must stay an error, or the type check fails.
 */
import type { Catalogue } from "../src/app/cards/i18n/index.ts";
import { es } from "../src/app/cards/i18n/es.ts";

const { "card.retry": _retry, ...withoutRetry } = es;
void _retry;
// @ts-expect-error a language without a key English has
export const missingKey: Catalogue = { ...withoutRetry };

// @ts-expect-error a language with a key English does not have
export const extraKey: Catalogue = { ...es, "card.extra": "De más" };

// @ts-expect-error a text that lost its placeholder
export const lostPlaceholder: Catalogue = { ...es, "pending.until": "El enlace vale hasta mañana." };

// @ts-expect-error a plural without its `other` form
export const noOther: Catalogue = { ...es, "deal.gatedStages": { one: "Etapa con control" } };
