//! The expiry job: verified sessions past their validity become expired.

use crate::{
    clock::{self},
    error::Result,
};

use super::Engine;

impl Engine {
    /// Moves verified sessions past their validity to `expired` and queues the writes.
    pub async fn expire_once(&self) -> Result<usize> {
        let now = clock::now_ms();
        let rows = self.store.expire_verified(now).await?;
        for r in &rows {
            let Some(tenant) = self.tenant(&r.tenant_id).await? else {
                continue;
            };
            let mut tx = self.store.begin().await?;
            tx.audit(&r.tenant_id, "expired", &r.id, "validity ran out")
                .await?;
            self.queue_contact_writes(&mut tx, &tenant, r.contact_id)
                .await?;
            self.queue_history(&mut tx, &r.tenant_id, &r.id).await?;
            tx.commit().await?;
        }
        if !rows.is_empty() {
            self.wake_sync.notify_one();
        }
        Ok(rows.len())
    }
}
