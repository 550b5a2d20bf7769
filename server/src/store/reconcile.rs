//! Where each tenant's periodic check of missed CRM events stands: the point up to which it
//! reconciled, and the install time it never reads before.

use sqlx::Row;

use super::Store;
use crate::error::Result;

impl Store {
    /// `(reconciled until, floor)` in Unix ms; `None` while the tenant has no starting point.
    pub async fn reconcile_point(&self, tenant: &str) -> Result<Option<(i64, i64)>> {
        let row =
            sqlx::query("SELECT reconciled_until, reconcile_floor FROM tenants WHERE id = $1")
                .bind(tenant)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|r| {
            let until: Option<i64> = r.get(0);
            let floor: Option<i64> = r.get(1);
            until.map(|u| (u, floor.unwrap_or(u)))
        }))
    }

    /// Starts reconciling at `now` (records older than that are never read) when the tenant
    /// has no starting point yet or is not installed (a reinstall starts afresh).
    pub async fn start_reconciling(&self, tenant: &str, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE tenants SET reconciled_until = $2, reconcile_floor = $2 \
             WHERE id = $1 AND (reconciled_until IS NULL OR installed = 0)",
        )
        .bind(tenant)
        .bind(now)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(())
    }

    /// Records that everything before `to` was reconciled (never moves back).
    pub async fn advance_reconciled(&self, tenant: &str, to: i64) -> Result<()> {
        sqlx::query(
            "UPDATE tenants SET reconciled_until = $2 WHERE id = $1 \
             AND (reconciled_until IS NULL OR reconciled_until < $2)",
        )
        .bind(tenant)
        .bind(to)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(())
    }
}
