//! The expiry job: verified sessions past their validity become expired, and pending sessions
//! whose start never reached the provider fail once their deadline passed.

use crate::{
    clock::{self},
    error::Result,
};

use super::Engine;

impl Engine {
    /// Moves verified sessions past their validity to `expired` and queues the writes: each
    /// session is flipped and its writes queued in one transaction, so a failure in between
    /// leaves it verified-and-due for the next run instead of expired with its writes lost.
    pub async fn expire_once(&self) -> Result<usize> {
        let now = clock::now_ms();
        let due = self.store.due_for_expiry(now, 100).await?;
        let mut expired = 0;
        for r in &due {
            let Some(tenant) = self.tenant(&r.tenant_id).await? else {
                continue;
            };
            let mut tx = self.store.begin().await?;
            if !tx.expire_verified(&r.id, now).await? {
                continue;
            }
            tx.audit(&r.tenant_id, "expired", &r.id, "validity ran out")
                .await?;
            self.queue_contact_writes(&mut tx, &tenant, r.contact_id)
                .await?;
            self.queue_history(&mut tx, &r.tenant_id, &r.id).await?;
            tx.commit().await?;
            expired += 1;
        }
        if expired > 0 {
            self.wake_sync.notify_one();
        }
        Ok(expired)
    }

    /// Fails pending sessions that have had no provider session for longer than the start
    /// deadline (the process crashed mid start), so they no longer block a new start.
    pub async fn sweep_unstarted_once(&self) -> Result<usize> {
        let deadline = self
            .settings
            .start_deadline
            .max(self.settings.http_timeout * 3);
        let now = clock::now_ms();
        let stuck = self
            .store
            .unstarted_before(now - deadline.as_millis() as i64, 100)
            .await?;
        let mut failed = 0;
        for (id, tenant) in &stuck {
            let mut tx = self.store.begin().await?;
            if !tx
                .fail_unstarted(
                    id,
                    "the identity provider never confirmed this session; start a new one",
                    now,
                )
                .await?
            {
                continue;
            }
            tx.audit(
                tenant,
                "start_failed",
                id,
                "no provider session before the deadline",
            )
            .await?;
            tx.commit().await?;
            failed += 1;
        }
        Ok(failed)
    }
}
