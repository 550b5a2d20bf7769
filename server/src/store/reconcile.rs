//! Where each tenant's periodic check of missed CRM events stands: the point it started from
//! and the install time it never reads before, and the sweep of each list it reads.

use sqlx::Row;

use super::{Conn, Store};
use crate::error::Result;

/// A sweep of one CRM list: it reads the list newest first from page 1 down to the records
/// older than `since_ms`, a few pages per check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sweep {
    /// The oldest time the sweep reads (Unix ms).
    pub since_ms: i64,
    /// When the sweep read its first page; `None` before it did.
    pub started_at: Option<i64>,
    /// The next page to read (from 1).
    pub page: u32,
}

impl Store {
    /// `(the last check, floor)` in Unix ms; `None` while the tenant has no starting point.
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
    /// has no starting point yet or is not installed (a reinstall starts afresh, its sweeps
    /// forgotten).
    pub async fn start_reconciling(&self, tenant: &str, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        let started = sqlx::query(
            "UPDATE tenants SET reconciled_until = $2, reconcile_floor = $2 \
             WHERE id = $1 AND (reconciled_until IS NULL OR installed = 0)",
        )
        .bind(tenant)
        .bind(now)
        .execute(tx.raw())
        .await?
        .rows_affected();
        if started == 1 {
            sqlx::query("DELETE FROM reconcile_sweeps WHERE tenant_id = $1")
                .bind(tenant)
                .execute(tx.raw())
                .await?;
        }
        tx.commit().await
    }

    /// The sweep of `list` under way or due, if the tenant has one.
    pub async fn reconcile_sweep(&self, tenant: &str, list: &str) -> Result<Option<Sweep>> {
        let row: Option<(i64, Option<i64>, i64)> = sqlx::query_as(
            "SELECT since_ms, started_at, page FROM reconcile_sweeps WHERE tenant_id = $1 AND list = $2",
        )
        .bind(tenant)
        .bind(list)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(since_ms, started_at, page)| Sweep {
            since_ms,
            started_at,
            page: u32::try_from(page.max(1)).unwrap_or(u32::MAX),
        }))
    }

    /// Records where the sweep of `list` stands.
    pub async fn save_reconcile_sweep(&self, tenant: &str, list: &str, s: &Sweep) -> Result<()> {
        sqlx::query(
            "INSERT INTO reconcile_sweeps (tenant_id, list, since_ms, started_at, page) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, list) DO UPDATE SET \
             since_ms = excluded.since_ms, started_at = excluded.started_at, page = excluded.page",
        )
        .bind(tenant)
        .bind(list)
        .bind(s.since_ms)
        .bind(s.started_at)
        .bind(i64::from(s.page))
        .execute(self.writer().await?.raw())
        .await?;
        Ok(())
    }

    /// Forgets the sweep of `list`.
    pub async fn drop_reconcile_sweep(&self, tenant: &str, list: &str) -> Result<()> {
        sqlx::query("DELETE FROM reconcile_sweeps WHERE tenant_id = $1 AND list = $2")
            .bind(tenant)
            .bind(list)
            .execute(self.writer().await?.raw())
            .await?;
        Ok(())
    }

    /// Records the time of the last check (never moves back): a list without a sweep starts a
    /// little before it.
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
