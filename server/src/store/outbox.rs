//! The CRM write-back queue (`sync_outbox`): one desired-state row per remote record, versioned;
//! workers claim due rows with a lease and send the latest version.

use super::{Conn, Store};
use crate::error::Result;

/// One write to queue (its payload already sealed).
#[derive(Debug, Clone, Copy)]
pub struct Enqueue<'a> {
    pub tenant: &'a str,
    /// Names the remote record: one row per key.
    pub record_key: &'a str,
    pub kind: &'a str,
    pub payload: &'a str,
    /// Desired-state writes replace the queued version; others (notes, tasks) happen once.
    pub coalesces: bool,
    pub next_attempt_at: i64,
    pub now: i64,
}

/// A row a worker claimed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    #[sqlx(rename = "tenant_id")]
    pub tenant: String,
    pub record_key: String,
    pub kind: String,
    pub payload: String,
    pub version: i64,
    pub remote_id: Option<i64>,
    pub attempts: i64,
    /// The claimant's token: finishing the row needs it.
    pub claim_token: Option<String>,
    /// How often the row was claimed, this claim included (more than once: an earlier claimant
    /// may have sent it and stopped before recording that).
    pub claims: i64,
}

impl dyn Conn + '_ {
    /// Upserts a write inside the caller's transaction.
    pub async fn enqueue(&mut self, w: &Enqueue<'_>) -> Result<()> {
        let sql = if w.coalesces {
            "INSERT INTO sync_outbox (tenant_id, record_key, kind, payload, next_attempt_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant_id, record_key) DO UPDATE SET payload = excluded.payload, \
               version = sync_outbox.version + 1, attempts = 0, last_error = NULL, \
               next_attempt_at = CASE WHEN sync_outbox.state = 'pending' THEN sync_outbox.next_attempt_at ELSE excluded.next_attempt_at END, \
               state = 'pending', updated_at = excluded.updated_at"
        } else {
            "INSERT INTO sync_outbox (tenant_id, record_key, kind, payload, next_attempt_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, record_key) DO NOTHING"
        };
        sqlx::query(sql)
            .bind(w.tenant)
            .bind(w.record_key)
            .bind(w.kind)
            .bind(w.payload)
            .bind(w.next_attempt_at)
            .bind(w.now)
            .execute(self.raw())
            .await?;
        Ok(())
    }
}

impl Store {
    /// Claims the next due row for `lease` under `token`: until the lease ends no other worker
    /// takes it, and only the holder of `token` can finish it (one row at a time, so a lease
    /// never has to cover a queue of slow sends).
    pub async fn claim_outbox_row(
        &self,
        token: &str,
        lease: i64,
        now: i64,
    ) -> Result<Option<Claimed>> {
        Ok(sqlx::query_as(&super::periodic::claim_outbox_sql(
            self.backend.claim_lock(),
        ))
        .bind(lease)
        .bind(now)
        .bind(token)
        .fetch_optional(self.writer().await?.raw())
        .await?)
    }

    /// Puts a claimed row back until `at` (the tenant's rate limit said wait); `false` if the
    /// claim was lost.
    pub async fn outbox_defer(&self, row: &Claimed, at: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE sync_outbox SET next_attempt_at = $2, claim_token = NULL \
             WHERE id = $1 AND claim_token = $3",
        )
        .bind(row.id)
        .bind(at)
        .bind(&row.claim_token)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks `version` of a claimed row sent: done unless a newer version was queued
    /// meanwhile; `false` if the claim was lost.
    pub async fn outbox_sent(
        &self,
        row: &Claimed,
        remote_id: Option<i64>,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE sync_outbox SET sent_version = $2, remote_id = COALESCE($3, remote_id), \
             state = CASE WHEN version = $2 THEN 'done' ELSE 'pending' END, claim_token = NULL, \
             next_attempt_at = $4, attempts = 0, last_error = NULL, updated_at = $4 \
             WHERE id = $1 AND claim_token = $5",
        )
        .bind(row.id)
        .bind(row.version)
        .bind(remote_id)
        .bind(now)
        .bind(&row.claim_token)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Counts a failed attempt of a claimed row and schedules the next at `next_attempt_at`;
    /// `false` if the claim was lost.
    pub async fn outbox_retry(
        &self,
        row: &Claimed,
        next_attempt_at: i64,
        error: &str,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE sync_outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3, \
             updated_at = $4, claim_token = NULL WHERE id = $1 AND claim_token = $5",
        )
        .bind(row.id)
        .bind(next_attempt_at)
        .bind(error)
        .bind(now)
        .bind(&row.claim_token)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives a claimed row up until it is replayed; `false` if the claim was lost.
    pub async fn outbox_dead(&self, row: &Claimed, error: &str, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE sync_outbox SET state = 'dead', last_error = $2, updated_at = $3, claim_token = NULL \
             WHERE id = $1 AND claim_token = $4",
        )
        .bind(row.id)
        .bind(error)
        .bind(now)
        .bind(&row.claim_token)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Puts dead rows (of one tenant, or all) back in the queue; returns how many.
    pub async fn outbox_replay(&self, tenant: Option<&str>, now: i64) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE sync_outbox SET state = 'pending', attempts = 0, next_attempt_at = $1, updated_at = $1, \
             claim_token = NULL WHERE state = 'dead' AND ($2 IS NULL OR tenant_id = $2)",
        )
        .bind(now)
        .bind(tenant)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(done.rows_affected())
    }

    /// Rows by state.
    pub async fn outbox_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(
            sqlx::query_as("SELECT state, COUNT(*) FROM sync_outbox GROUP BY state ORDER BY state")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Live rows (pending, dead) by state, for the gauges: an index range, never the done
    /// rows of the whole history.
    pub async fn outbox_live_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT state, COUNT(*) FROM sync_outbox WHERE state IN ('pending', 'dead') GROUP BY state",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Dead rows: tenant, record key, kind and last error (no payloads: they hold personal data).
    pub async fn dead_outbox_rows(&self) -> Result<Vec<(String, String, String, String)>> {
        Ok(sqlx::query_as("SELECT tenant_id, record_key, kind, COALESCE(last_error, '') FROM sync_outbox WHERE state = 'dead' ORDER BY id")
            .fetch_all(&self.pool)
            .await?)
    }
}
