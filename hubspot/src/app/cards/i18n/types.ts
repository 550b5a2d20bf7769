/**
 * The shape every catalogue must have, derived from English: the same keys, each text holding the
 * same `{name}` placeholders, each plural an object of plural categories. A language that lacks a
 * key, adds one, or drops a placeholder does not compile.
 */
import type { en } from "./en.ts";

export type English = typeof en;
export type MessageId = keyof English;

/** The ids of plain texts, and of plurals (objects of Intl.PluralRules categories). */
export type TextId = { [K in MessageId]: English[K] extends string ? K : never }[MessageId];
export type PluralId = Exclude<MessageId, TextId>;

/** The `{name}` placeholders of a text, as a union of names. */
export type Placeholders<S> = S extends `${string}{${infer Name}}${infer Rest}`
  ? Name | Placeholders<Rest>
  : never;

type Intersect<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** A string that contains each of `Names` as `{name}` (any order, any words around them). */
export type Holding<Names extends string> = [Names] extends [never]
  ? string
  : Intersect<Names extends string ? `${string}{${Names}}${string}` : never>;

/** One text per plural category the language has; `other` always. */
export type Plural = { readonly other: string } & { readonly [C in Intl.LDMLPluralRule]?: string };

export type Catalogue = {
  readonly [K in MessageId]: English[K] extends string ? Holding<Placeholders<English[K]>> : Plural;
};

/** The values of a text's placeholders. */
export type Params<K extends TextId> = Record<Placeholders<English[K]>, string | number>;

/** The arguments after the id: none for a text without placeholders, else its values. */
export type ParamArgs<K extends TextId> = [Placeholders<English[K]>] extends [never] ? [] : [Params<K>];
