//! What every service shares: the database, the sealer, the settings, the metrics, the
//! tenants and the workers' wake-ups; and the reading of a stored verification, which every
//! use case needs.

use std::sync::Arc;

use idv_types::{Assurance, Delivery, IdentityMatch, Kind, SessionState, Verification};
use tokio::sync::Notify;

use super::{metrics::Metrics, settings::Settings, tenants::Tenants};
use crate::{
    clock::rfc3339,
    crypto::{at, Sealer},
    domain::status::NIST_REVISION,
    error::{AppError, Result},
    ports::{Connector, CrmError, ProviderError},
    store::{bp_to_confidence, Store, VerificationRow},
};

/// What every service shares. Its fields are the services' own; the wiring (`main`, the
/// testkit, the demo) reaches them through the accessors.
pub struct Core {
    pub(super) store: Store,
    pub(super) sealer: Sealer,
    pub(super) settings: Settings,
    pub(super) metrics: Metrics,
    /// Rings when a CRM write is queued (the outbox's sender wakes).
    pub(super) wake_sync: Notify,
    /// Rings when a provider answer may be due (the poller wakes).
    pub(super) wake_poll: Notify,
    /// Every account's row and the clients of its connections.
    pub(super) tenants: Tenants,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
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
    pub(super) row: Verification,
}

pub(super) fn uid(prefix: &str) -> String {
    crate::domain::ids::new_id(prefix)
}

impl Core {
    /// The shared parts over `store`, reaching providers and CRMs through `connector`.
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
        }
    }

    /// The database, for the wiring's own commands (the operator's CLI, the demo's seed).
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub fn tenants(&self) -> &Tenants {
        &self.tenants
    }

    /// Wakes the outbox's sender (a write was queued outside the services).
    pub fn wake_sync(&self) {
        self.wake_sync.notify_one();
    }

    pub async fn verification(&self, tenant: &str, id: &str) -> Result<Option<VerRow>> {
        let row = self.store.verification(tenant, id).await?;
        Ok(row.map(|r| read_row(&self.sealer, r)))
    }

    /// A session of the tenant's, or 404.
    pub async fn known_verification(&self, tenant: &str, id: &str) -> Result<VerRow> {
        self.verification(tenant, id).await?.ok_or_else(|| {
            AppError::NotFound(format!("verification {id} is not known to this account"))
        })
    }

    pub async fn verification_view(&self, tenant: &str, id: &str) -> Result<Verification> {
        Ok(self.known_verification(tenant, id).await?.row)
    }

    pub(super) async fn sessions_of(
        &self,
        tenant: &str,
        contact: i64,
        limit: i64,
    ) -> Result<Vec<VerRow>> {
        let rows = self.store.sessions_of(tenant, contact, limit).await?;
        Ok(rows
            .into_iter()
            .map(|r| read_row(&self.sealer, r))
            .collect())
    }
}

/// Reads a stored verification: its kind and state parsed, its wire view built with the sealed
/// values opened (links only while the session is pending).
pub(super) fn read_row(sealer: &Sealer, r: VerificationRow) -> VerRow {
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

pub(super) fn crm_unavailable(e: CrmError) -> AppError {
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

pub(super) fn provider_unavailable(e: ProviderError) -> AppError {
    match e {
        ProviderError::Unauthorized | ProviderError::Rejected(_) => {
            AppError::Unprocessable(e.to_string())
        }
        other => AppError::Upstream(other.to_string()),
    }
}
