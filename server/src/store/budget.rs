//! Each tenant's Freshsales budget (`rate_buckets`), shared by every replica: two token buckets
//! in one row, refilled by elapsed time and taken with one atomic `UPDATE`.

use super::{Backend, Conn, Store};
use crate::error::Result;

/// A bucket's size and refill rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketShape {
    pub capacity: f64,
    pub per_ms: f64,
}

/// The two buckets of a tenant: the plan's hourly limit and 400 per minute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetShape {
    pub hour: BucketShape,
    pub minute: BucketShape,
}

/// A bucket row as read.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct BudgetRow {
    pub hour_tokens: f64,
    pub minute_tokens: f64,
    pub updated_at: i64,
    pub paused_until: i64,
}

impl BudgetRow {
    /// How long (ms) until a call may go: 0 when one may go now.
    pub fn wait_ms(&self, shape: &BudgetShape, now: i64) -> i64 {
        let elapsed = (now - self.updated_at).max(0) as f64;
        let wait = |tokens: f64, b: &BucketShape| {
            let have = (tokens + elapsed * b.per_ms).min(b.capacity);
            if have >= 1.0 {
                0
            } else {
                ((1.0 - have) / b.per_ms).ceil() as i64
            }
        };
        (self.paused_until - now)
            .max(wait(self.hour_tokens, &shape.hour))
            .max(wait(self.minute_tokens, &shape.minute))
            .max(0)
    }
}

impl Store {
    /// Takes one call from the tenant's budget: `Ok(())`, or how many ms to wait.
    pub async fn take_budget(
        &self,
        tenant: &str,
        shape: &BudgetShape,
        now: i64,
    ) -> Result<std::result::Result<(), i64>> {
        let (least, greatest) = match self.backend {
            Backend::Sqlite => ("MIN", "MAX"),
            Backend::Postgres => ("LEAST", "GREATEST"),
        };
        let hour = format!("{least}($2, hour_tokens + {greatest}($6 - updated_at, 0) * $3)");
        let minute = format!("{least}($4, minute_tokens + {greatest}($6 - updated_at, 0) * $5)");
        let take = format!(
            "UPDATE rate_buckets SET hour_tokens = {hour} - 1, minute_tokens = {minute} - 1, \
             updated_at = {greatest}(updated_at, $6) \
             WHERE tenant_id = $1 AND paused_until <= $6 AND {hour} >= 1 AND {minute} >= 1"
        );
        for _ in 0..3 {
            let done = sqlx::query(&take)
                .bind(tenant)
                .bind(shape.hour.capacity)
                .bind(shape.hour.per_ms)
                .bind(shape.minute.capacity)
                .bind(shape.minute.per_ms)
                .bind(now)
                .execute(self.writer().await?.raw())
                .await?;
            if done.rows_affected() == 1 {
                return Ok(Ok(()));
            }
            let row: Option<BudgetRow> = sqlx::query_as(
                "SELECT hour_tokens, minute_tokens, updated_at, paused_until FROM rate_buckets WHERE tenant_id = $1",
            )
            .bind(tenant)
            .fetch_optional(&self.pool)
            .await?;
            match row {
                // A row a concurrent first call just made (or refilled): take from it.
                Some(r) if r.wait_ms(shape, now) == 0 => {}
                Some(r) => return Ok(Err(r.wait_ms(shape, now).max(1))),
                None => {
                    // A tenant's first call: a full bucket, then take from it.
                    sqlx::query(
                        "INSERT INTO rate_buckets (tenant_id, hour_tokens, minute_tokens, updated_at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id) DO NOTHING",
                    )
                    .bind(tenant)
                    .bind(shape.hour.capacity)
                    .bind(shape.minute.capacity)
                    .bind(now)
                    .execute(self.writer().await?.raw())
                    .await?;
                }
            }
        }
        Ok(Err(1))
    }

    /// After a 429: no replica sends for this tenant before `until`.
    pub async fn pause_budget(&self, tenant: &str, until: i64) -> Result<()> {
        let greatest = match self.backend {
            Backend::Sqlite => "MAX",
            Backend::Postgres => "GREATEST",
        };
        sqlx::query(&format!(
            "UPDATE rate_buckets SET paused_until = {greatest}(paused_until, $2) WHERE tenant_id = $1"
        ))
        .bind(tenant)
        .bind(until)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(())
    }
}

impl dyn Conn + '_ {
    /// Drops bucket rows by key (a forgotten contact's start buckets).
    pub async fn drop_buckets(&mut self, keys: &[String]) -> Result<()> {
        for key in keys {
            sqlx::query("DELETE FROM rate_buckets WHERE tenant_id = $1")
                .bind(key)
                .execute(self.raw())
                .await?;
        }
        Ok(())
    }
}

impl Store {
    /// Drops start-limit rows untouched since `before` (full again by then); how many went.
    pub async fn drop_idle_start_buckets(&self, before: i64) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM rate_buckets WHERE tenant_id LIKE 'start:%' AND updated_at < $1 AND paused_until <= $1",
        )
        .bind(before)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(done.rows_affected())
    }
}
