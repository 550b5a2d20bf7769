/**
 * The backend contract of the HubSpot cards: every call the cards make, and the JSON shapes
 * they get back (mirroring `shared-types/src/lib.rs` and `requests.rs`, same snake_case names).
 *
 * All calls go through `hubspot.fetch`, under `${BACKEND_ORIGIN}/hubspot/v1/card`:
 *
 * | Call                                           | Body                                                    | Answer             |
 * |------------------------------------------------|---------------------------------------------------------|--------------------|
 * | `GET  /contacts/{contactId}`                   | —                                                       | `ContactStatus`    |
 * | `POST /contacts/{contactId}/verifications`     | `{ ial?, document_types?, delivery?, force?, idempotency_key }` | `Verification` (201) |
 * | `POST /contacts/{contactId}/step-up`           | `{ idempotency_key }`                                   | `Verification`     |
 * | `GET  /deals/{dealId}`                         | —                                                       | `DealStatus`       |
 * | `POST /deals/{dealId}/step-up`                 | `{ idempotency_key }`                                   | `Verification`     |
 * | `POST /verifications/{id}/resend`              | `{ idempotency_key }`                                   | `ResendAnswer`     |
 * | `POST /widget-link`                            | `{ object_type: "contacts" \| "deals", object_id }`     | `{ url }`          |
 *
 * - HubSpot signs each request and appends `portalId`, `userId` and `appId` to its query: the
 *   backend takes the account and the user from there, so no body ever names them.
 * - `hubspot.fetch` allows no header but `Authorization` and retries once on a 5xx, so the
 *   idempotency key of a POST travels in its body.
 * - An error is a 4xx/5xx status with `{ "error": "...", "message": "..." }`; the card shows
 *   the message as the backend wrote it. When there is none (no answer, no message, an answer the
 *   card cannot read) the card says so in the rep's language (`ApiError.fromBackend` is false).
 */
import { hubspot } from "@hubspot/ui-extensions";

import { BACKEND_ORIGIN } from "./backend.ts";
import { english } from "./i18n/index.ts";

/** The base URL of every card call. */
export const CARD_API = `${BACKEND_ORIGIN}/hubspot/v1/card`;

export type IdvStatus = "not_verified" | "pending" | "verified" | "failed" | "expired" | "lapsed";
export type IalLevel = "IAL1" | "IAL2";
export type DocumentType = "drivers_license" | "passport" | "national_id";
export type Delivery = "show" | "email" | "sms";
export type IdentityMatch = "match" | "partial" | "mismatch";
export type Kind = "idv" | "stepup";
export type SessionState = "pending" | "verified" | "failed" | "expired" | "canceled" | "lapsed";

/** Assurance level with the NIST SP 800-63 revision it refers to. */
export interface Assurance {
  level: string;
  revision: string;
}

/** What is wrong with a part of the account, as a code (`code`) with its particulars. */
export interface SetupIssue {
  /** `missing`, `wrong_type`, `lacks_choices`, `no_stage`, `not_created`, `write_refused`; a code
   * this card does not know reads as the backend's English `problem`. */
  code: string;
  has?: string;
  needs?: string;
  choices?: string[];
  similar?: string;
  detail?: string;
}

/**
 * Something the HubSpot account lacks for the app to write its results: `what`, `expected` and
 * `problem` in English, `part` and `issue` as codes the card words in the rep's language (absent
 * from reports stored before codes existed).
 */
export interface SetupGap {
  what: string;
  label: string;
  name: string;
  expected: string;
  problem: string;
  part?: string;
  field_type?: string;
  choices?: string[];
  issue?: SetupIssue;
}

export interface SetupReport {
  complete: boolean;
  checked_at: string;
  gaps: SetupGap[];
  created?: string[];
  product: string;
}

/** One verification session (IDV link or LiveID step-up). */
export interface Verification {
  id: string;
  kind: Kind;
  state: SessionState;
  contact_id: number | string;
  deal_id?: number | string;
  ticket_id?: number;
  created_at: string;
  completed_at?: string;
  hosted_url?: string;
  qr_payload?: string;
  session_expires_at?: string;
  requested_by?: string;
  /** Why it failed and the next step, in English, with the provider's code. */
  failure_reason?: string;
  /** The reason's code (contract.json `failureCodes`), worded by the card in the rep's language. */
  failure_code?: string;
  ial?: Assurance;
  document_type?: string;
  match_confidence?: number;
  requested_ial?: string;
  identity_match?: IdentityMatch;
  delivery?: Delivery;
  delivery_error?: string;
}

export interface ContactStatus {
  contact_id: number | string;
  status: IdvStatus;
  ial?: Assurance;
  liveid_enrolled: boolean;
  document_type?: string;
  match_confidence?: number;
  identity_match?: IdentityMatch;
  verified_at?: string;
  expires_at?: string;
  last_stepup_at?: string;
  current?: Verification;
  history: Verification[];
  deliveries: Delivery[];
  setup?: SetupReport;
  fresh_minutes?: number;
}

/** A deal stage; HubSpot's stage ids are strings such as `closedwon`. */
export interface Stage {
  id: string | number;
  name: string;
}

export interface DealStatus {
  deal_id: number | string;
  stage?: Stage;
  gated_stages: Stage[];
  gated: boolean;
  gate_satisfied: boolean;
  primary_contact?: ContactStatus;
  stepup?: Verification;
  setup?: SetupReport;
}

export interface ResendAnswer {
  verification: Verification;
  new_session: boolean;
  message: string;
}

export interface WidgetLink {
  url: string;
}

/** `POST /contacts/{contactId}/verifications`. */
export interface StartVerification {
  ial?: IalLevel;
  document_types?: DocumentType[];
  delivery?: Delivery;
  force?: boolean;
  idempotency_key: string;
}

export type ObjectType = "contacts" | "deals";

/**
 * A failed call: the backend's `{ error, message }`, or what the card could tell. The card's own
 * cases (`network`, `http`, `unreadable`) carry an English message for logs; the card shows them
 * in the rep's language from the code and status (`errorText` in `components/useCard.ts`).
 */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  /** Whether `message` is the backend's own sentence (else the card's, in English). */
  readonly fromBackend: boolean;

  constructor(code: string, message: string, status: number, fromBackend = false) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    this.fromBackend = fromBackend;
  }
}

/** A fresh key for one click; HubSpot's single retry of the same request carries it again. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

async function call<T>(
  path: string,
  method: "GET" | "POST",
  body?: Record<string, unknown>,
): Promise<T> {
  let response: Response;
  try {
    response = await hubspot.fetch(`${CARD_API}${path}`, body ? { method, body } : { method });
  } catch {
    throw new ApiError("network", english.t("error.network"), 0);
  }
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const e = json as { error?: unknown; message?: unknown } | undefined;
    const code = typeof e?.error === "string" ? e.error : "http";
    if (typeof e?.message === "string" && e.message !== "") {
      throw new ApiError(code, e.message, response.status, true);
    }
    throw new ApiError(code, english.t("error.http", { status: String(response.status) }), response.status);
  }
  if (json === undefined || json === null || typeof json !== "object") {
    throw new ApiError("unreadable", english.t("error.unreadable"), response.status);
  }
  return json as T;
}

const id = (value: string | number) => encodeURIComponent(String(value));

export function getContactStatus(contactId: string | number): Promise<ContactStatus> {
  return call(`/contacts/${id(contactId)}`, "GET");
}

export function startVerification(
  contactId: string | number,
  request: StartVerification,
): Promise<Verification> {
  return call(`/contacts/${id(contactId)}/verifications`, "POST", { ...request });
}

export function startContactStepUp(
  contactId: string | number,
  idempotencyKey: string,
): Promise<Verification> {
  return call(`/contacts/${id(contactId)}/step-up`, "POST", { idempotency_key: idempotencyKey });
}

export function getDealStatus(dealId: string | number): Promise<DealStatus> {
  return call(`/deals/${id(dealId)}`, "GET");
}

export function startDealStepUp(
  dealId: string | number,
  idempotencyKey: string,
): Promise<Verification> {
  return call(`/deals/${id(dealId)}/step-up`, "POST", { idempotency_key: idempotencyKey });
}

export function resendLink(verificationId: string, idempotencyKey: string): Promise<ResendAnswer> {
  return call(`/verifications/${id(verificationId)}/resend`, "POST", {
    idempotency_key: idempotencyKey,
  });
}

/**
 * A single-use link to the details page (the widget) for the modal, in the rep's language
 * (`locale`, the tag the card formats with). The card opens the URL exactly as given, and
 * only if it lies under the backend's origin.
 */
export async function widgetLink(
  objectType: ObjectType,
  objectId: string | number,
  locale: string,
): Promise<string> {
  const answer = await call<Partial<WidgetLink>>("/widget-link", "POST", {
    object_type: objectType,
    object_id: String(objectId),
    locale,
  });
  if (typeof answer.url !== "string" || !answer.url.startsWith(`${BACKEND_ORIGIN}/`)) {
    throw new ApiError("unreadable", english.t("error.unreadable"), 200);
  }
  return answer.url;
}
