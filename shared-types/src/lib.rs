//! The widget ⇄ backend contract: JSON shapes shared by `widget/` and `server/`.
//!
//! Everything here must compile for `wasm32-unknown-unknown`, so it depends on serde only; the
//! backend turns on the `openapi` feature to describe these shapes in its API document.

use serde::{Deserialize, Serialize};

mod requests;
mod setup;
mod stage;

pub use requests::{ContactData, ResendAnswer, ResendLink, StartStepUp, StartVerification};
pub use setup::{SetupGap, SetupIssue, SetupIssueCode, SetupPart, SetupReport};
pub use stage::StageId;

/// A contact's identity-verification status as shown on its badge and written to the
/// `cf_idv_status` field in Freshsales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IdvStatus {
    /// No IDV session was ever started for this contact.
    #[default]
    NotVerified,
    Pending,
    Verified,
    Failed,
    /// The last link ran out before the customer finished it (no verification was made).
    Expired,
    /// A verification was made, and its validity ran out (or a change of the contact's name,
    /// email or phone ended it): verify again.
    Lapsed,
}

impl IdvStatus {
    /// The wire / database spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotVerified => "not_verified",
            Self::Pending => "pending",
            Self::Verified => "verified",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Lapsed => "lapsed",
        }
    }

    /// Parses the wire / database spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "not_verified" => Self::NotVerified,
            "pending" => Self::Pending,
            "verified" => Self::Verified,
            "failed" => Self::Failed,
            "expired" => Self::Expired,
            "lapsed" => Self::Lapsed,
            _ => return None,
        })
    }
}

/// The NIST SP 800-63 identity assurance levels a verification can be asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IalLevel {
    IAL1,
    IAL2,
}

impl IalLevel {
    pub const ALL: [Self; 2] = [Self::IAL1, Self::IAL2];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::IAL1 => "IAL1",
            Self::IAL2 => "IAL2",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// Whether the holder named on the identity document is the CRM contact: the name (and the
/// date of birth, where the CRM has one) on the document against the CRM record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IdentityMatch {
    /// The same names (case, accents and word order aside) and, where the CRM has one, the
    /// same date of birth.
    Match,
    /// The names agree in part (e.g. a middle name on the document only): verified, flagged.
    Partial,
    /// Another person's document: never verified.
    Mismatch,
}

impl IdentityMatch {
    pub const ALL: [Self; 3] = [Self::Match, Self::Partial, Self::Mismatch];

    /// The wire / database spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Match => "match",
            Self::Partial => "partial",
            Self::Mismatch => "mismatch",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// The codes of the reasons a verification fails (`failure_code`): the backend's reason table
/// (`server/src/domain/reasons.rs`) has an entry for each, and the widget a sentence for each
/// in every language it speaks.
pub const FAILURE_CODES: [&str; 33] = [
    "scan_unclear",
    "check_incomplete",
    "front_only",
    "unreadable",
    "wrong_document",
    "unsupported_document",
    "inconsistent",
    "not_physical",
    "not_validated",
    "provider_error",
    "document_expired",
    "fraud",
    "undocumented_code",
    "attempts_used",
    "not_accepted",
    "face_mismatch",
    "no_faces_to_compare",
    "no_face_verdict",
    "not_approved",
    "other_user",
    "foreign_answer",
    "declined",
    "abandoned",
    "no_result",
    "no_document",
    "session_gone",
    "name_mismatch",
    "name_mismatch_held",
    "no_name_verdict",
    "level_too_low",
    "unknown_level",
    "no_level",
    "unknown",
];

/// The identity documents the customer may present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DocumentType {
    DriversLicense,
    Passport,
    NationalId,
}

impl DocumentType {
    pub const ALL: [Self; 3] = [Self::DriversLicense, Self::Passport, Self::NationalId];

    /// The wire spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DriversLicense => "drivers_license",
            Self::Passport => "passport",
            Self::NationalId => "national_id",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// How the hosted verification link reaches the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Delivery {
    /// The rep shows or copies the link (QR code in the widget).
    #[default]
    Show,
    /// The identity provider emails the link to the contact.
    Email,
    /// The identity provider texts the link to the contact's phone (E.164).
    Sms,
}

impl Delivery {
    pub const ALL: [Self; 3] = [Self::Show, Self::Email, Self::Sms];

    /// The wire spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Show => "show",
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// Assurance level, stored with the NIST revision it refers to (800-63-4 renumbers the levels).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assurance {
    /// `IAL1` or `IAL2`.
    pub level: String,
    /// e.g. `800-63-3`.
    pub revision: String,
}

/// `GET /api/v1/contacts/{id}/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactStatus {
    pub contact_id: u64,
    pub status: IdvStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ial: Option<Assurance>,
    #[serde(default)]
    pub liveid_enrolled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_confidence: Option<f64>,
    /// Whether the name on the document is the contact's (verified and lapsed only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_match: Option<IdentityMatch>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_stepup_at: Option<String>,
    /// The pending session, if any (hosted link while the customer has not finished).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<Verification>,
    /// Past sessions, newest first.
    #[serde(default)]
    pub history: Vec<Verification>,
    /// How this account can deliver a link (its identity provider's abilities); `show` always.
    #[serde(default = "only_show")]
    pub deliveries: Vec<Delivery>,
    /// Present while the CRM account is not set up for this app (the rep asks an admin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup: Option<SetupReport>,
    /// Help desks (Freshdesk): how many minutes a verification counts as fresh enough for
    /// account changes; the agent's sidebar says whether the requester verified within them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fresh_minutes: Option<u32>,
}

fn only_show() -> Vec<Delivery> {
    vec![Delivery::Show]
}

/// The two kinds of provider session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Document + selfie proofing (hosted link).
    Idv,
    /// LiveID biometric step-up (QR / push, 60–120 s).
    Stepup,
}

impl Kind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Idv => "idv",
            Self::Stepup => "stepup",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "idv" => Some(Self::Idv),
            "stepup" => Some(Self::Stepup),
            _ => None,
        }
    }
}

/// State of one provider session: `pending → verified | failed | expired | canceled`
/// (`expired`: the link or LiveID session ran out unused), and `verified → lapsed` when its
/// validity runs out or a change of the contact's identity ends it. Terminal states never
/// change back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    Pending,
    Verified,
    Failed,
    Expired,
    Canceled,
    Lapsed,
}

impl SessionState {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Verified => "verified",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Canceled => "canceled",
            Self::Lapsed => "lapsed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "verified" => Self::Verified,
            "failed" => Self::Failed,
            "expired" => Self::Expired,
            "canceled" => Self::Canceled,
            "lapsed" => Self::Lapsed,
            _ => return None,
        })
    }

    /// Whether the provider can still change this session.
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Pending)
    }
}

/// One verification session as the widget shows it (current session and history rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verification {
    pub id: String,
    pub kind: Kind,
    pub state: SessionState,
    pub contact_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deal_id: Option<u64>,
    /// The help-desk ticket it was started from (Freshdesk): its result note goes there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<u64>,
    /// RFC 3339.
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// IDV: the hosted link the customer opens (a bearer link: shown to the rep, never logged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosted_url: Option<String>,
    /// Step-up: what the QR code encodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_payload: Option<String>,
    /// When the link or LiveID session stops working (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_expires_at: Option<String>,
    /// The Freshworks user who asked (audit line only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    /// Why it failed, and the next step, in English (with the provider's code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// The reason's stable code (`document_expired`, `face_mismatch`, `unknown`, …), which the
    /// widget and the card word in the rep's language; absent for failures recorded before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ial: Option<Assurance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_confidence: Option<f64>,
    /// IDV: the assurance level asked for (a result below it, or below the account's minimum,
    /// is not verified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_ial: Option<String>,
    /// IDV: whether the holder named on the document is the CRM contact (a `mismatch` is never
    /// verified). Only the outcome is kept, never the document's data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_match: Option<IdentityMatch>,
    /// IDV: how the link was to reach the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    /// IDV: why the provider could not deliver the link as asked (show it, or resend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_error: Option<String>,
}

/// A deal stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stage {
    pub id: StageId,
    pub name: String,
}

/// `GET /api/v1/deals/{id}/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DealStatus {
    pub deal_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<Stage>,
    /// The tenant's gated stages (moving into one needs a verified primary contact).
    #[serde(default)]
    pub gated_stages: Vec<Stage>,
    /// Whether the deal's current stage is gated.
    pub gated: bool,
    /// Whether the gate is satisfied (primary contact verified).
    pub gate_satisfied: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_contact: Option<ContactStatus>,
    /// The latest step-up for this deal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stepup: Option<Verification>,
    /// Present while the CRM account is not set up for this app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup: Option<SetupReport>,
}

/// One line of a contact's audit trail: who started what, how the link went out, the results,
/// the CRM writes (`GET /api/v1/contacts/{id}/audit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// RFC 3339.
    pub at: String,
    /// `start_idv`, `start_stepup`, `start_failed`, `result`, `cancel`, `expired`, `gate`,
    /// `crm_write`, `crm_write_dead`, `late_report_ignored`, …
    pub action: String,
    /// The session the line is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// For CRM writes: which record (`contact`, `note`, `history`, `task`, `deal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// What happened, in words (e.g. `contact 11 IAL2 by …, link by email`, a result's state, the
    /// CRM's reason for refusing a write).
    #[serde(default)]
    pub detail: String,
    /// What the line says, as facts the widget words in the rep's language (absent from lines
    /// written before facts were kept, and from lines whose detail is a CRM's or provider's own
    /// words: `detail` says those).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<AuditFacts>,
}

/// The facts of an audit line (each present where the action has it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditFacts {
    /// Who acted: a rep's email, or `automation`, `workflow`, `chat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The assurance level asked for (`IAL2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ial: Option<String>,
    /// How the link went out (`show`, `email`, `sms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<String>,
    /// A session's state (`verified`, `failed`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The deal stage entered (its id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// Why, as a code ([`audit_reason`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Why an audit line happened: the codes of [`AuditFacts::reason`] (plain strings on the wire,
/// so a reader meets a newer code as one it does not know, at no cost to the widget's weight).
pub mod audit_reason {
    /// A verification's validity ended.
    pub const VALIDITY_RAN_OUT: &str = "validity_ran_out";
    /// The identity provider started no session before the deadline.
    pub const NO_PROVIDER_SESSION: &str = "no_provider_session";
    /// The identity provider never answered after the session's end.
    pub const NO_ANSWER: &str = "no_answer";
    /// A workflow's wait for the result ended first.
    pub const WAIT_ENDED: &str = "wait_ended";
    /// A link sent again on the session it had.
    pub const SAME_SESSION: &str = "same_session";
    /// A link sent on a new session (the old one had ended).
    pub const NEW_SESSION: &str = "new_session";
}

/// A page of a contact's audit trail, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_before: Option<u64>,
}

/// Every error the backend returns has this JSON body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// Stable machine-readable code, e.g. `unauthorized`, `not_found`, `bad_request`,
    /// `not_enrolled` (step-up asked for a contact without LiveID: offer Verify Identity).
    pub error: String,
    /// A sentence a person can act on.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_through_its_wire_name() {
        for s in [
            IdvStatus::NotVerified,
            IdvStatus::Pending,
            IdvStatus::Verified,
            IdvStatus::Failed,
            IdvStatus::Expired,
            IdvStatus::Lapsed,
        ] {
            assert_eq!(IdvStatus::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(IdvStatus::parse("VERIFIED"), None);
    }

    #[test]
    fn levels_and_documents_round_trip_through_their_wire_names() {
        for l in IalLevel::ALL {
            assert_eq!(IalLevel::parse(l.as_str()), Some(l));
            assert_eq!(
                serde_json::to_string(&l).unwrap(),
                format!("\"{}\"", l.as_str())
            );
        }
        assert!(IalLevel::IAL1 < IalLevel::IAL2);
        for d in DocumentType::ALL {
            assert_eq!(DocumentType::parse(d.as_str()), Some(d));
            assert_eq!(
                serde_json::to_string(&d).unwrap(),
                format!("\"{}\"", d.as_str())
            );
        }
        assert_eq!(DocumentType::parse("selfie"), None);
        for m in IdentityMatch::ALL {
            assert_eq!(IdentityMatch::parse(m.as_str()), Some(m));
            assert_eq!(
                serde_json::to_string(&m).unwrap(),
                format!("\"{}\"", m.as_str())
            );
        }
        assert_eq!(IdentityMatch::parse("MATCH"), None);
    }
}
