//! The poller: reads due pending sessions from the provider (callbacks only make them due).

use std::{sync::Arc, time::Duration};

use idv_types::Kind;

use super::{
    core::{read_row, Core, VerRow},
    results::Results,
};
use crate::{
    clock::{self},
    domain::reasons::Failure,
    error::Result,
    ports::{
        identity::{Outcome, SessionReport},
        ProviderError,
    },
};

/// Asks the provider for the sessions that are due.
#[derive(Clone, Debug)]
pub struct Poller {
    core: Arc<Core>,
    results: Results,
}

impl Poller {
    pub fn new(core: Arc<Core>, results: Results) -> Self {
        Self { core, results }
    }

    /// Reads due pending sessions from the provider and applies the answers.
    pub async fn poll_once(&self) -> Result<usize> {
        let now = clock::now_ms();
        // Claim with a lease so replicas do not read the same session at once.
        let rows = self.core.store.claim_due_polls(now + 30_000, now).await?;
        let claimed: Vec<VerRow> = rows
            .into_iter()
            .map(|r| read_row(&self.core.sealer, r))
            .collect();
        let n = claimed.len();
        for v in claimed {
            if let Err(e) = self.poll_one(&v).await {
                tracing::warn!(verification = %v.id, error = %e, "poll failed");
            }
        }
        Ok(n)
    }

    async fn poll_one(&self, v: &VerRow) -> Result<()> {
        let Some(tenant) = self.core.tenants.get(&v.tenant_id).await? else {
            return Ok(());
        };
        let provider = self.core.tenants.provider(&tenant)?;
        let session = v.provider_session_id.as_deref().unwrap_or_default();
        self.core.metrics.provider_reads.inc();
        let report = match v.kind {
            Kind::Idv => provider.get_idv(session).await,
            Kind::Stepup => provider.get_liveid(session).await,
        };
        match report {
            Ok(r) => {
                self.results.apply_report(&tenant, v, &r).await?;
            }
            Err(ProviderError::NotFound(_)) => {
                // The provider no longer knows the session: it cannot finish any more.
                let gone = SessionReport {
                    session_id: session.to_string(),
                    outcome: Outcome::failed(Failure::SessionGone, None),
                };
                self.results.apply_report(&tenant, v, &gone).await?;
            }
            Err(e) => {
                let delay = match &e {
                    ProviderError::RateLimited(s) => Duration::from_secs(*s),
                    _ if v.kind == Kind::Stepup => self.core.settings.stepup_poll,
                    _ => self.core.settings.idv_poll_delay(v.poll_attempts + 1),
                };
                self.core
                    .store
                    .record_poll(&v.id, clock::now_ms() + delay.as_millis() as i64)
                    .await?;
                tracing::info!(verification = %v.id, error = %e, "provider read failed; will retry");
            }
        }
        Ok(())
    }

    /// A callback's hint: read this session now.
    pub async fn hint(&self, tenant: &str, provider_session: &str) -> Result<bool> {
        let due = self
            .core
            .store
            .hint(tenant, provider_session, clock::now_ms())
            .await?;
        if due {
            self.core.wake_poll.notify_one();
        }
        Ok(due)
    }
}
