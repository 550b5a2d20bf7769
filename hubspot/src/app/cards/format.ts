/** How the cards turn the backend's values into what a rep reads, in the rep's language. */
import type { ContactStatus, IdvStatus, Verification } from "./api.ts";
import { en } from "./i18n/en.ts";
import type { I18n } from "./i18n/index.ts";
import type { TextId } from "./i18n/types.ts";

export type TagVariant = "default" | "warning" | "success" | "error" | "info";

/** The badge colour of each status. */
export const STATUS_VARIANT: Record<IdvStatus, TagVariant> = {
  not_verified: "default",
  pending: "info",
  verified: "success",
  failed: "error",
  expired: "warning",
  lapsed: "warning",
};

export function statusLabel(status: IdvStatus, i18n: I18n): string {
  return i18n.t(`status.${status}`);
}

const DOCUMENTS = ["drivers_license", "passport", "national_id"] as const;
type KnownDocument = (typeof DOCUMENTS)[number];

/** A document type's name; a code the card does not know is shown as the backend sent it. */
export function documentLabel(code: string, i18n: I18n): string {
  return (DOCUMENTS as readonly string[]).includes(code)
    ? i18n.t(`document.${code as KnownDocument}`)
    : i18n.bidi(code.replace(/_/g, " "));
}

export interface Fact {
  key: string;
  label: string;
  value: string;
}

/** The facts beside the badge; only those known are listed (LiveID and step-up always). */
export function contactFacts(c: ContactStatus, i18n: I18n, timeZone?: string): Fact[] {
  const { t } = i18n;
  const facts: (Fact | null)[] = [
    c.ial
      ? {
          key: "assurance",
          label: t("fact.assurance"),
          value: t("fact.assuranceValue", { level: c.ial.level, revision: c.ial.revision }),
        }
      : null,
    c.document_type
      ? { key: "document", label: t("fact.document"), value: documentLabel(c.document_type, i18n) }
      : null,
    c.identity_match
      ? { key: "nameOnId", label: t("fact.nameOnId"), value: t(`match.${c.identity_match}`) }
      : null,
    c.match_confidence !== undefined && c.match_confidence !== null
      ? { key: "match", label: t("fact.match"), value: i18n.percent(c.match_confidence) }
      : null,
    c.verified_at
      ? { key: "verified", label: t("fact.verified"), value: i18n.date(c.verified_at, timeZone) }
      : null,
    c.expires_at
      ? { key: "validUntil", label: t("fact.validUntil"), value: i18n.date(c.expires_at, timeZone) }
      : null,
    {
      key: "liveid",
      label: t("fact.liveid"),
      value: c.liveid_enrolled ? t("fact.liveidEnrolled") : t("fact.liveidNotEnrolled"),
    },
    {
      key: "lastStepUp",
      label: t("fact.lastStepUp"),
      value: c.last_stepup_at ? i18n.date(c.last_stepup_at, timeZone) : t("fact.never"),
    },
  ];
  return facts.filter((f): f is Fact => f !== null);
}

/** The session whose link can go out again: an IDV link that expired unused or was not delivered. */
export function resendable(c: ContactStatus): Verification | undefined {
  const sessions = [c.current, ...c.history].filter((v): v is Verification => v !== undefined);
  if (c.current?.kind === "idv" && c.current.delivery_error) {
    return c.current;
  }
  if (c.status !== "expired") {
    return undefined;
  }
  return sessions.find((v) => v.kind === "idv" && v.state === "expired");
}

/** The newest finished IDV session (for a failure's reason). */
export function lastIdv(c: ContactStatus): Verification | undefined {
  return c.history.find((v) => v.kind === "idv");
}

/**
 * Why a verification failed, for the rep: in English, the backend's sentence (it carries the
 * provider's code); in another language, the catalogue's sentence for the reason's code, and for
 * a reason the app does not know, the backend's sentence after it (its code is for support). A
 * failure recorded without a code, or with one this card does not know, reads as the backend
 * wrote it.
 */
export function failureText(i18n: I18n, v: Pick<Verification, "failure_code" | "failure_reason">): string | undefined {
  const id = `failure.${v.failure_code ?? ""}`;
  if (i18n.language === "en" || !isFailureId(id)) {
    return v.failure_reason === undefined ? undefined : i18n.bidi(v.failure_reason);
  }
  const words = i18n.t(id);
  return v.failure_code === "unknown" && v.failure_reason ? `${words} (${i18n.bidi(v.failure_reason)})` : words;
}

/** The catalogue's ids of the failure sentences. */
type FailureId = Extract<TextId, `failure.${string}`>;

function isFailureId(id: string): id is FailureId {
  return id.startsWith("failure.") && Object.prototype.hasOwnProperty.call(en, id);
}
