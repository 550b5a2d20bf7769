//! What a CRM's app platform sends on its own (HubSpot's webhooks): signed batches of events
//! about the accounts that installed the app.

/// A request the platform says it signed, as received.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// The URIs the platform may have signed: the one rebuilt from the proxy's
    /// `X-Forwarded-*` headers, and the one under this backend's public URL.
    pub uris: &'a [String],
    pub body: &'a [u8],
    pub headers: &'a http::HeaderMap,
}

/// Something that happened in an account, that this app acts on (kept in the durable queue
/// between the platform's delivery and the action).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AccountEvent {
    ContactCreated {
        contact_id: u64,
    },
    /// The account erased the contact at the person's request (GDPR): forget them here too.
    ContactErased {
        contact_id: u64,
    },
    /// A deal entered a stage (the platform's stage id).
    DealStageChanged {
        deal_id: u64,
        stage: String,
    },
}

/// One event of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformEvent {
    /// The account it happened in (HubSpot's portal id).
    pub account: String,
    /// What tells it from its repeats (the platform's ids may repeat).
    pub id: String,
    /// `None`: a kind of event this app does not act on.
    pub event: Option<AccountEvent>,
}

/// Why a batch is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    /// No signature this endpoint accepts, a stale one, or one that does not match.
    #[error("{0}")]
    Unsigned(String),
    /// Signed, but not a batch of events this app can read.
    #[error("{0}")]
    Malformed(String),
}

/// Reads a platform's signed requests: its webhook batches, and the calls its UI makes on a
/// user's behalf (HubSpot's `hubspot.fetch` from the card).
pub trait CrmWebhooks: Send + Sync + std::fmt::Debug {
    fn read(&self, req: &SignedRequest<'_>, now_ms: i64) -> Result<Vec<PlatformEvent>, HookError>;
    /// Checks that the platform signed a call made on a user's behalf.
    fn verify_call(&self, req: &SignedRequest<'_>, now_ms: i64) -> Result<(), HookError>;
    /// Checks that the platform signed a workflow action's execution request.
    fn verify_action(&self, req: &SignedRequest<'_>, now_ms: i64) -> Result<(), HookError>;
}
