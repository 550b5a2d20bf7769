//! The CRM account's set-up state per tenant, and the write-back rows that wait for it.

use sqlx::Row;

use super::{Claimed, Conn, Store};
use crate::error::Result;

/// Where a parked row's next attempt sits: never, until the set-up is complete.
const PARKED: i64 = i64::MAX / 2;

impl Store {
    /// Records the last set-up check (a JSON report) and whether it found the set-up complete.
    pub async fn save_setup(&self, tenant: &str, report: &str, complete: bool) -> Result<()> {
        sqlx::query("UPDATE tenants SET setup_report = $2, setup_complete = $3 WHERE id = $1")
            .bind(tenant)
            .bind(report)
            .bind(i64::from(complete))
            .execute(self.writer().await?.raw())
            .await?;
        Ok(())
    }

    /// The last set-up report and whether it was complete (`None`: never checked).
    pub async fn setup_of(&self, tenant: &str) -> Result<Option<(String, bool)>> {
        let row = sqlx::query("SELECT setup_report, setup_complete FROM tenants WHERE id = $1")
            .bind(tenant)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|r| {
            let report: Option<String> = r.get(0);
            report.map(|rep| (rep, r.get::<i64, _>(1) != 0))
        }))
    }

    /// Tenants whose last check found the set-up incomplete.
    pub async fn tenants_with_incomplete_setup(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM tenants WHERE setup_complete = 0 AND installed = 1 ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many installed tenants' last check found the set-up incomplete (the tenants table
    /// only: one row per account).
    pub async fn incomplete_setup_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM tenants WHERE setup_complete = 0 AND installed = 1",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// Parks a claimed row until the set-up is complete; `false` if the claim was lost.
    pub async fn outbox_park_for_setup(
        &self,
        row: &Claimed,
        error: &str,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE sync_outbox SET waiting_setup = 1, next_attempt_at = $2, last_error = $3, \
             updated_at = $4, claim_token = NULL WHERE id = $1 AND claim_token = $5",
        )
        .bind(row.id)
        .bind(PARKED)
        .bind(error)
        .bind(now)
        .bind(&row.claim_token)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Sends a tenant's parked rows again; returns how many.
    pub async fn release_setup_waits(&self, tenant: &str, now: i64) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE sync_outbox SET waiting_setup = 0, next_attempt_at = $2, attempts = 0, updated_at = $2 \
             WHERE tenant_id = $1 AND waiting_setup = 1",
        )
        .bind(tenant)
        .bind(now)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(done.rows_affected())
    }

    /// How many of a tenant's writes wait for the set-up.
    pub async fn setup_waits(&self, tenant: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM sync_outbox WHERE tenant_id = $1 AND waiting_setup = 1 AND state = 'pending'",
        )
        .bind(tenant)
        .fetch_one(&self.pool)
        .await?)
    }
}
