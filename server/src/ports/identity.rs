//! The identity-provider port: start a proofing or step-up session, read it (the provider's
//! answer is the truth), and the callback body that only hints that a session changed.

use idv_types::{Delivery, IdentityMatch};
use serde::{Deserialize, Serialize};

use crate::domain::reasons::Failure;

/// What the services need from an identity provider.
#[async_trait::async_trait]
pub trait IdentityProvider: Send + Sync + std::fmt::Debug {
    /// Starts document + selfie proofing; returns the hosted link.
    async fn create_idv(&self, req: &CreateIdv) -> Result<ProviderSession, ProviderError>;
    /// Reads an IDV session: the source of truth for its result.
    async fn get_idv(&self, session_id: &str) -> Result<SessionReport, ProviderError>;
    /// Starts a LiveID step-up for an enrolled person.
    async fn create_liveid(&self, req: &CreateLiveId) -> Result<ProviderSession, ProviderError>;
    /// Reads a LiveID session.
    async fn get_liveid(&self, session_id: &str) -> Result<SessionReport, ProviderError>;
    /// A read-only call that proves the credentials work (for `server check`).
    async fn check(&self) -> Result<String, ProviderError>;
    /// How this provider can deliver a hosted link besides showing it (`show` is always first).
    fn deliveries(&self) -> Vec<Delivery> {
        vec![Delivery::Show]
    }
    /// Sends the link of a session still open at the provider again, by `req.delivery`, without
    /// a new (billable) session. A provider that cannot answers [`Redelivery::CannotReuse`] and
    /// the engine starts a new session instead.
    async fn resend_idv(&self, req: &ResendIdv) -> Result<Redelivery, ProviderError> {
        let _ = req;
        Ok(Redelivery::CannotReuse(
            "this 1Kosmos connection has no call that sends a session's link again".into(),
        ))
    }
}

/// The link of an open IDV session, to send again.
#[derive(Debug, Clone, PartialEq)]
pub struct ResendIdv {
    pub session_id: String,
    /// The hosted link the session was created with.
    pub url: String,
    pub delivery: Delivery,
    pub email: Option<String>,
    /// E.164.
    pub phone: Option<String>,
}

/// What became of a [`IdentityProvider::resend_idv`].
#[derive(Debug, Clone, PartialEq)]
pub enum Redelivery {
    /// The same session's link went out again.
    Sent,
    /// The provider cannot send this session's link again (why): start a new session.
    CannotReuse(String),
}

/// `POST /v2/verify/sessions`. The names, date of birth, email and phone are the CRM record's
/// (never what a request said about the contact): the holder the document must name, and
/// where the link goes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CreateIdv {
    /// Our verification id (echoed back in callbacks).
    pub reference: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `YYYY-MM-DD`, where the CRM has one.
    #[serde(default)]
    pub date_of_birth: Option<String>,
    pub email: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    pub ial: String,
    pub document_types: Vec<String>,
    pub callback_url: Option<String>,
    /// How the provider sends the link (only one of [`IdentityProvider::deliveries`]).
    #[serde(default)]
    pub delivery: Delivery,
}

/// `POST /v2/auth/liveid`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CreateLiveId {
    pub reference: String,
    /// The credential DID from the person's proofing (their LiveID enrolment).
    pub did: String,
    pub callback_url: Option<String>,
    /// 60–120 s.
    pub ttl_seconds: u32,
}

/// A created session.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProviderSession {
    pub session_id: String,
    /// IDV: the hosted verification page.
    #[serde(default)]
    pub url: Option<String>,
    /// LiveID: what the QR code encodes.
    #[serde(default)]
    pub qr_payload: Option<String>,
    /// RFC 3339.
    pub expires_at: String,
    /// The session exists but the provider could not deliver the link as asked (why, for the
    /// rep: show the link instead, or resend).
    #[serde(default)]
    pub delivery_error: Option<String>,
}

/// The provider's view of a session, normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionReport {
    pub session_id: String,
    pub outcome: Outcome,
}

/// A session's outcome in our terms.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Pending,
    Verified(ResultFields),
    /// Not a pass: why (the table's entry) and the sentence a rep reads.
    Failed {
        why: Failure,
        reason: String,
    },
    Expired,
}

impl Outcome {
    /// A failure for `why`, with the provider's own detail (its code, the levels) if any.
    pub fn failed(why: Failure, detail: Option<&str>) -> Self {
        Self::Failed {
            why,
            reason: why.sentence(detail),
        }
    }
}

/// Result fields only: never images or biometrics.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResultFields {
    pub ial: Option<String>,
    pub document_type: Option<String>,
    pub match_confidence: Option<f64>,
    pub credential_did: Option<String>,
    /// The provider's own comparison of the document's holder with the names the session was
    /// started with (the design contract).
    pub identity_match: Option<IdentityMatch>,
    /// The holder the document names, for the engine to compare with the CRM record (BlockID
    /// returns the document's data, not a comparison). In memory only: compared, then dropped,
    /// never stored or logged (its `Debug` shows nothing).
    pub holder: Option<crate::domain::identity::Holder>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("1Kosmos refused the API key (401/403): check the key configured for this tenant")]
    Unauthorized,
    #[error("1Kosmos has no session {0}")]
    NotFound(String),
    #[error("1Kosmos rejected the request: {0}")]
    Rejected(String),
    #[error("1Kosmos is rate limiting; retry after {0} s")]
    RateLimited(u64),
    #[error("1Kosmos answered {0}; retrying later")]
    Unavailable(u16),
    #[error("1Kosmos did not answer in time")]
    Timeout,
    #[error("1Kosmos could not be reached: {0}")]
    Unreachable(String),
    #[error("1Kosmos sent an answer we cannot read: {0}")]
    Protocol(String),
}

impl ProviderError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RateLimited(_) | Self::Unavailable(_) | Self::Timeout | Self::Unreachable(_)
        )
    }
}

/// The body 1Kosmos (and our simulator) posts to the callback URL: a hint only.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CallbackEvent {
    /// `verify.session.updated` or `liveid.session.updated`.
    #[serde(rename = "type")]
    pub kind: String,
    pub session_id: String,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}
