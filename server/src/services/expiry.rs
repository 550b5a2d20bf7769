//! The expiry job: verified sessions past their validity become expired.

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
}
