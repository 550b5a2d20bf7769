//! The expiry job: verified sessions past their validity become expired.

use sqlx::Row;

use crate::{
    clock::{self},
    error::Result,
};

use super::Engine;

impl Engine {
    /// Moves verified sessions past their validity to `expired` and queues the writes.
    pub async fn expire_once(&self) -> Result<usize> {
        let now = clock::now_ms();
        let rows = sqlx::query(
            "UPDATE verifications SET state = 'expired', updated_at = $1 WHERE state = 'verified' AND valid_until IS NOT NULL AND valid_until <= $1 \
             RETURNING id, tenant_id, contact_id",
        )
        .bind(now)
        .fetch_all(self.store.pool())
        .await?;
        for r in &rows {
            let (id, tenant_id, contact): (String, String, i64) = (r.get(0), r.get(1), r.get(2));
            let Some(tenant) = self.tenant(&tenant_id).await? else {
                continue;
            };
            let mut tx = self.store.begin().await?;
            self.audit(&mut tx, &tenant_id, "expired", &id, "validity ran out")
                .await?;
            self.queue_contact_writes(&mut tx, &tenant, contact).await?;
            self.queue_history(&mut tx, &tenant_id, &id).await?;
            tx.commit().await?;
        }
        if !rows.is_empty() {
            self.wake_sync.notify_one();
        }
        Ok(rows.len())
    }
}
