//! What the widget asks of the backend: start a verification or a step-up, resend a link.

use serde::{Deserialize, Serialize};

use crate::{Delivery, Verification};
#[cfg(feature = "openapi")]
use crate::{DocumentType, IalLevel};

/// `POST /api/v1/contacts/{id}/verifications` (header `Idempotency-Key` honoured).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartVerification {
    /// `IAL2` (default) or `IAL1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<IalLevel>))]
    pub ial: Option<String>,
    /// Subset of `drivers_license`, `passport`, `national_id`; empty means all three.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<DocumentType>))]
    pub document_types: Vec<String>,
    /// The Freshworks user's email, for the audit line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 254))]
    pub requested_by: Option<String>,
    /// Start a new session even if one is pending or valid.
    #[serde(default)]
    pub force: bool,
    /// How the link reaches the customer (default `show`; the account's provider must offer it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    /// Older spelling of `"delivery": "email"`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub send_email: bool,
    /// What the page shows about the contact (the Freshworks client's record data): a hint
    /// only, checked and compared. Who is verified and where the link goes always come from
    /// the CRM record, read at the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactData>,
    /// The Freshdesk ticket the agent started it from (the contact is its requester): the
    /// result is noted on the ticket, privately.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub ticket_id: Option<u64>,
}

/// A contact's name, email and phone as the CRM page shows them (`POST …/verifications`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 255))]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 255))]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 254))]
    pub email: Option<String>,
    /// Any spelling; read as E.164 (an unreadable number is left out, as when read from the CRM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub phone: Option<String>,
}

impl StartVerification {
    /// The delivery asked for, reading the older `send_email` too.
    pub fn delivery(&self) -> Delivery {
        match (self.delivery, self.send_email) {
            (Some(d), _) => d,
            (None, true) => Delivery::Email,
            (None, false) => Delivery::Show,
        }
    }
}

/// `POST /api/v1/deals/{id}/step-up`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartStepUp {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 254))]
    pub requested_by: Option<String>,
}

/// `POST /api/v1/verifications/{id}/resend`: send a link that expired unused, or that could not
/// be delivered, again by the same delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResendLink {
    /// The Freshworks user's email, for the audit line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 254))]
    pub requested_by: Option<String>,
    /// What the contact page shows about the contact: a hint only, as for a start (the link
    /// goes to the CRM record's addresses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactData>,
}

/// The answer to a resend: the session whose link went out, and whether it is a new one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResendAnswer {
    pub verification: Verification,
    /// `false`: the provider sent the same session's link again (no new billable session);
    /// `true`: the old session could not be reused, so a new one was started.
    pub new_session: bool,
    /// What happened, for the rep.
    pub message: String,
}
