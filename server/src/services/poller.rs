//! The poller: reads due pending sessions from the provider (callbacks only make them due).

use std::time::Duration;

use idv_types::Kind;

use crate::{
    clock::{self},
    error::Result,
    ports::{
        identity::{Outcome, SessionReport},
        ProviderError,
    },
};

use super::{Engine, VerRow, VCOLS};

impl Engine {
    /// Reads due pending sessions from the provider and applies the answers.
    pub async fn poll_once(&self) -> Result<usize> {
        let now = clock::now_ms();
        let lock = if self.store.backend() == crate::store::Backend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        // Claim with a lease so replicas do not read the same session at once.
        let rows = sqlx::query(&format!(
            "UPDATE verifications SET next_poll_at = $1 WHERE id IN (\
               SELECT id FROM verifications WHERE state = 'pending' AND provider_session_id IS NOT NULL \
               AND next_poll_at <= $2 ORDER BY next_poll_at LIMIT 32{lock}) RETURNING {VCOLS}"
        ))
        .bind(now + 30_000)
        .bind(now)
        .fetch_all(self.store.pool())
        .await?;
        let claimed: Vec<VerRow> = rows.iter().map(|r| self.read_row(r)).collect();
        let n = claimed.len();
        for v in claimed {
            if let Err(e) = self.poll_one(&v).await {
                tracing::warn!(verification = %v.id, error = %e, "poll failed");
            }
        }
        Ok(n)
    }

    async fn poll_one(&self, v: &VerRow) -> Result<()> {
        let Some(tenant) = self.tenant(&v.tenant_id).await? else {
            return Ok(());
        };
        let provider = self.provider(&tenant)?;
        let session = v.provider_session_id.as_deref().unwrap_or_default();
        self.metrics.provider_reads.inc();
        let report = match v.kind {
            Kind::Idv => provider.get_idv(session).await,
            Kind::Stepup => provider.get_liveid(session).await,
        };
        match report {
            Ok(r) => {
                self.apply_report(&tenant, v, &r).await?;
            }
            Err(ProviderError::NotFound(_)) => {
                // The provider no longer knows the session: it cannot finish any more.
                let gone = SessionReport {
                    session_id: session.to_string(),
                    outcome: Outcome::Failed {
                        reason: "the identity provider no longer knows this session".into(),
                    },
                };
                self.apply_report(&tenant, v, &gone).await?;
            }
            Err(e) => {
                let delay = match &e {
                    ProviderError::RateLimited(s) => Duration::from_secs(*s),
                    _ if v.kind == Kind::Stepup => self.settings.stepup_poll,
                    _ => self.idv_poll_delay(v.poll_attempts + 1),
                };
                sqlx::query("UPDATE verifications SET poll_attempts = poll_attempts + 1, next_poll_at = $2 WHERE id = $1 AND state = 'pending'")
                    .bind(&v.id)
                    .bind(clock::now_ms() + delay.as_millis() as i64)
                    .execute(self.store.pool())
                    .await?;
                tracing::info!(verification = %v.id, error = %e, "provider read failed; will retry");
            }
        }
        Ok(())
    }

    /// A callback's hint: read this session now.
    pub async fn hint(&self, tenant: &str, provider_session: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE verifications SET next_poll_at = $3 WHERE tenant_id = $1 AND provider_session_id = $2 AND state = 'pending'")
            .bind(tenant)
            .bind(provider_session)
            .bind(clock::now_ms())
            .execute(self.store.pool())
            .await?;
        if done.rows_affected() > 0 {
            self.wake_poll.notify_one();
        }
        Ok(done.rows_affected() > 0)
    }
}
