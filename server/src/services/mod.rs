//! The verification engine: starting sessions, applying what the provider says (polling is the
//! truth; callbacks are hints), deriving contact status, and queueing the CRM write-back.

pub mod actions;
pub mod audit;
pub mod automation;
pub mod chat;
mod deals;
pub mod deliveries;
pub mod doctor;
pub mod events;
mod expiry;
mod gate;
mod identity;
mod install;
pub mod intake;
pub mod keys;
pub mod limits;
pub mod metrics;
mod poller;
pub mod reconcile;
mod resend;
mod results;
pub mod retention;
mod setup;
mod start;
mod status;
mod stepup;
pub mod sync;
pub mod tenant;
pub mod tenants;
mod workers;
pub mod workflow;

use std::{sync::Arc, time::Duration};

use idv_types::{Assurance, Delivery, IdentityMatch, Kind, SessionState, Verification};
use tokio::sync::Notify;

pub use self::{
    deals::DealInfo,
    metrics::Metrics,
    start::Origin,
    sync::Write,
    tenant::{Policy, TenantRow},
    tenants::Tenants,
};
use crate::{
    clock::rfc3339,
    crypto::{at, Sealer},
    domain::status::NIST_REVISION,
    error::{AppError, Result},
    ports::{Connector, CrmError, ProviderError},
    store::{bp_to_confidence, Store, VerificationRow},
};

/// Tunables (tests shrink them).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Public base URL of this backend, for provider callbacks (`{base}/hooks/kosmos/{tenant}`).
    pub public_base_url: String,
    /// The folder of the built widget (its `index.html`), served to the page a HubSpot card
    /// opens in its modal.
    pub widget_dir: std::path::PathBuf,
    /// CRM write retry delays (the row goes dead after the last).
    pub retry_schedule: Vec<Duration>,
    /// How long a desired-state write waits for more changes before it is sent.
    pub coalesce: Duration,
    /// Poll delays for pending IDV sessions (the last repeats).
    pub idv_poll: Vec<Duration>,
    /// Poll delay for pending step-ups (they live 60–120 s).
    pub stepup_poll: Duration,
    /// LiveID session lifetime asked of the provider.
    pub stepup_ttl_secs: u32,
    /// Timeout of calls to 1Kosmos and Freshsales.
    pub http_timeout: Duration,
    /// How often the workers look for due work when not woken.
    pub tick: Duration,
    /// How long a claimed write-back row is reserved for its claimant (kept above
    /// `http_timeout`: a send that outlives it may be repeated by another replica).
    pub sync_lease: Duration,
    /// A pending session whose provider session was not recorded by then (the start was cut
    /// short by a crash) is failed, so it no longer blocks a new start. Never less than three
    /// HTTP timeouts.
    pub start_deadline: Duration,
    /// How long past its provider session's expiry a pending session still waits for the
    /// provider's answer (a provider that keeps failing reads); then it reads expired locally,
    /// its polling stops and the contact may start again.
    pub pending_grace: Duration,
    /// The longest a pending session whose expiry the provider never gave may wait.
    pub max_pending: Duration,
    /// How long each kind of row is kept (the retention job deletes older ones).
    pub retention: retention::Retention,
    /// How often an account whose set-up was incomplete is read again (its waiting writes go
    /// out once it is complete).
    pub setup_recheck: Duration,
    /// This backend's registration with a CRM's app platform (HubSpot), if the operator set it.
    pub oauth_app: Option<crate::ports::OAuthApp>,
    /// An OAuth access token is refreshed this long before it ends.
    pub token_refresh_margin: Duration,
    /// Accept any http(s) account URL at install (simulators on loopback). Off in production:
    /// only `https://*.myfreshworks.com` and `https://*.freshsales.io` are accepted.
    pub allow_any_account_url: bool,
}

/// This backend's public address unless configured (`IDV_PUBLIC_URL`).
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

impl Default for Settings {
    fn default() -> Self {
        let s = Duration::from_secs;
        Self {
            public_base_url: DEFAULT_PUBLIC_URL.into(),
            widget_dir: "app".into(),
            retry_schedule: vec![
                s(1),
                s(5),
                s(30),
                s(120),
                s(600),
                s(1800),
                s(3600),
                s(3 * 3600),
            ],
            coalesce: Duration::from_secs(2),
            idv_poll: vec![s(15), s(30), s(60), s(120), s(300)],
            stepup_poll: s(2),
            stepup_ttl_secs: 90,
            http_timeout: s(10),
            tick: Duration::from_millis(500),
            sync_lease: s(60),
            start_deadline: s(120),
            pending_grace: s(15 * 60),
            max_pending: s(8 * 24 * 3600),
            retention: retention::Retention::default(),
            setup_recheck: s(600),
            oauth_app: None,
            token_refresh_margin: s(300),
            allow_any_account_url: false,
        }
    }
}

/// Everything a request handler or worker needs.
pub struct Engine {
    pub store: Store,
    pub sealer: Sealer,
    pub settings: Settings,
    pub metrics: Metrics,
    pub wake_sync: Notify,
    pub wake_poll: Notify,
    /// Every account's row and the clients of its connections.
    pub tenants: Tenants,
    intake: intake::Intake,
    /// The contacts' status reads, checked against the database's stamp at each read.
    status_cache: status::StatusCache,
    /// This engine, once shared ([`Engine::shared`]): work that must outlive the request that
    /// began it (the provider call of a start) runs as a task of its own.
    me: std::sync::OnceLock<std::sync::Weak<Engine>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// A verification row, read: its state parsed, and its wire view with the sealed values opened.
#[derive(Debug, Clone)]
pub struct VerRow {
    pub id: String,
    pub tenant_id: String,
    pub contact_id: i64,
    pub deal_id: Option<i64>,
    /// The help-desk ticket it was started from.
    pub ticket_id: Option<i64>,
    pub kind: Kind,
    pub state: SessionState,
    pub provider_session_id: Option<String>,
    pub poll_attempts: i64,
    /// A verified IDV session counts until then (the expiry job moves it to `expired`).
    pub valid_until: Option<i64>,
    /// The chat conversation a bot started it for (`None`: not started in a chat).
    pub conversation_id: Option<String>,
    row: Verification,
}

fn uid(prefix: &str) -> String {
    crate::domain::ids::new_id(prefix)
}

impl Engine {
    /// The services over `store`, reaching providers and CRMs through `connector`.
    pub fn new(
        store: Store,
        sealer: Sealer,
        settings: Settings,
        connector: Arc<dyn Connector>,
    ) -> Self {
        Self {
            tenants: Tenants::new(store.clone(), sealer.clone(), connector),
            store,
            sealer,
            settings,
            metrics: Metrics::default(),
            wake_sync: Notify::new(),
            wake_poll: Notify::new(),
            intake: intake::Intake::default(),
            status_cache: status::StatusCache::default(),
            me: std::sync::OnceLock::new(),
        }
    }

    /// Shares the engine, so it can hand work to tasks that outlive a request.
    pub fn shared(self) -> Arc<Self> {
        Arc::new_cyclic(|me| {
            let _ = self.me.set(me.clone());
            self
        })
    }

    /// This engine as an `Arc`, if it was made with [`Engine::shared`].
    fn arc(&self) -> Option<Arc<Self>> {
        self.me.get().and_then(std::sync::Weak::upgrade)
    }

    pub async fn verification(&self, tenant: &str, id: &str) -> Result<Option<VerRow>> {
        let row = self.store.verification(tenant, id).await?;
        Ok(row.map(|r| read_row(&self.sealer, r)))
    }

    pub async fn verification_view(&self, tenant: &str, id: &str) -> Result<Verification> {
        self.verification(tenant, id)
            .await?
            .map(|v| v.row)
            .ok_or_else(|| {
                AppError::NotFound(format!("verification {id} is not known to this account"))
            })
    }

    async fn sessions_of(&self, tenant: &str, contact: i64, limit: i64) -> Result<Vec<VerRow>> {
        let rows = self.store.sessions_of(tenant, contact, limit).await?;
        Ok(rows
            .into_iter()
            .map(|r| read_row(&self.sealer, r))
            .collect())
    }
}

/// Reads a stored verification: its kind and state parsed, its wire view built with the sealed
/// values opened (links only while the session is pending).
fn read_row(sealer: &Sealer, r: VerificationRow) -> VerRow {
    let kind = Kind::parse(&r.kind).unwrap_or(Kind::Idv);
    let state = crate::domain::status::stored_state(&r.state, r.valid_until);
    let pending = state == SessionState::Pending;
    let view = Verification {
        id: r.id.clone(),
        kind,
        state,
        contact_id: r.contact_id as u64,
        deal_id: r.deal_id.map(|d| d as u64),
        ticket_id: r.ticket_id.map(|t| t as u64),
        created_at: rfc3339(r.created_at),
        completed_at: r.completed_at.map(rfc3339),
        // Links only matter while the session can still be used.
        hosted_url: if pending {
            sealer.open_opt(
                at("verifications", "hosted_url_sealed", &r.id),
                r.hosted_url_sealed.as_deref(),
            )
        } else {
            None
        },
        qr_payload: if pending {
            sealer.open_opt(
                at("verifications", "qr_payload_sealed", &r.id),
                r.qr_payload_sealed.as_deref(),
            )
        } else {
            None
        },
        session_expires_at: r.session_expires_at.map(rfc3339),
        requested_by: sealer.open_opt(
            at("verifications", "requested_by_sealed", &r.id),
            r.requested_by_sealed.as_deref(),
        ),
        failure_reason: r.failure_reason,
        failure_code: r.failure_code,
        ial: r.ial_level.map(|level| Assurance {
            level,
            revision: r.ial_revision.unwrap_or_else(|| NIST_REVISION.into()),
        }),
        document_type: r.document_type,
        match_confidence: r.match_confidence_bp.map(bp_to_confidence),
        requested_ial: r.requested_ial,
        identity_match: r.identity_match.as_deref().and_then(IdentityMatch::parse),
        delivery: r.delivery.as_deref().and_then(Delivery::parse),
        delivery_error: if pending { r.delivery_error } else { None },
    };
    VerRow {
        id: r.id,
        tenant_id: r.tenant_id,
        contact_id: r.contact_id,
        deal_id: r.deal_id,
        ticket_id: r.ticket_id,
        kind,
        state,
        provider_session_id: r.provider_session_id,
        poll_attempts: r.poll_attempts,
        valid_until: r.valid_until,
        conversation_id: r.chat_conversation_id,
        row: view,
    }
}

/// The row of a contact's sealed values: its tenant and contact id.
pub fn contact_row(tenant: &str, contact: i64) -> String {
    format!("{tenant}/{contact}")
}

fn crm_unavailable(e: CrmError) -> AppError {
    match e {
        CrmError::Unauthorized(_) | CrmError::Unprocessable(_) => {
            AppError::Unprocessable(e.to_string())
        }
        // The caller is told when to try again, as the CRM told the backend.
        CrmError::RateLimited {
            retry_after_secs,
            message,
        } => AppError::TooManyRequests(message, retry_after_secs.max(1)),
        other => AppError::Upstream(other.to_string()),
    }
}

fn provider_unavailable(e: ProviderError) -> AppError {
    match e {
        ProviderError::Unauthorized | ProviderError::Rejected(_) => {
            AppError::Unprocessable(e.to_string())
        }
        other => AppError::Upstream(other.to_string()),
    }
}
