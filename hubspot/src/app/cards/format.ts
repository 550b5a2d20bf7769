/** How the cards turn the backend's values into what a rep reads. */
import type { ContactStatus, IdvStatus, Verification } from "./api.ts";
import { hasMessage, t } from "./messages.ts";

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

export function statusLabel(status: IdvStatus): string {
  return t(`status.${status}`);
}

/** A date (RFC 3339) as the rep reads it, in the account's time zone. */
export function formatDate(iso: string, timeZone?: string): string {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) {
    return iso;
  }
  const options: Intl.DateTimeFormatOptions = { year: "numeric", month: "short", day: "numeric" };
  try {
    return when.toLocaleDateString("en-US", { ...options, timeZone: timeZone || "UTC" });
  } catch {
    return when.toLocaleDateString("en-US", { ...options, timeZone: "UTC" });
  }
}

export function documentLabel(code: string): string {
  const id = `document.${code}`;
  return hasMessage(id) ? t(id) : code.replace(/_/g, " ");
}

export function percent(confidence: number): string {
  const p = Math.round(Math.min(1, Math.max(0, confidence)) * 100);
  return t("fact.matchValue", { percent: String(p) });
}

export interface Fact {
  key: string;
  label: string;
  value: string;
}

/** The facts beside the badge; only those known are listed (LiveID and step-up always). */
export function contactFacts(c: ContactStatus, timeZone?: string): Fact[] {
  const facts: (Fact | null)[] = [
    c.ial
      ? {
          key: "assurance",
          label: t("fact.assurance"),
          value: t("fact.assuranceValue", { level: c.ial.level, revision: c.ial.revision }),
        }
      : null,
    c.document_type
      ? { key: "document", label: t("fact.document"), value: documentLabel(c.document_type) }
      : null,
    c.identity_match
      ? { key: "nameOnId", label: t("fact.nameOnId"), value: t(`match.${c.identity_match}`) }
      : null,
    c.match_confidence !== undefined && c.match_confidence !== null
      ? { key: "match", label: t("fact.match"), value: percent(c.match_confidence) }
      : null,
    c.verified_at
      ? { key: "verified", label: t("fact.verified"), value: formatDate(c.verified_at, timeZone) }
      : null,
    c.expires_at
      ? { key: "validUntil", label: t("fact.validUntil"), value: formatDate(c.expires_at, timeZone) }
      : null,
    {
      key: "liveid",
      label: t("fact.liveid"),
      value: c.liveid_enrolled ? t("fact.liveidEnrolled") : t("fact.liveidNotEnrolled"),
    },
    {
      key: "lastStepUp",
      label: t("fact.lastStepUp"),
      value: c.last_stepup_at ? formatDate(c.last_stepup_at, timeZone) : t("fact.never"),
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
