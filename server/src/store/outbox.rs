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
    pub kind: String,
    pub payload: String,
    pub version: i64,
    pub remote_id: Option<i64>,
    pub attempts: i64,
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
    /// Claims up to 32 due rows for `lease` (a later `next_attempt_at`, so no other worker
    /// takes them meanwhile).
    pub async fn claim_outbox(&self, lease: i64, now: i64) -> Result<Vec<Claimed>> {
        let lock = self.backend.claim_lock();
        Ok(sqlx::query_as(&format!(
            "UPDATE sync_outbox SET next_attempt_at = $1 WHERE id IN (\
               SELECT id FROM sync_outbox WHERE state = 'pending' AND next_attempt_at <= $2 \
               ORDER BY next_attempt_at LIMIT 32{lock}) \
             RETURNING id, tenant_id, kind, payload, version, remote_id, attempts"
        ))
        .bind(lease)
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Puts a claimed row back until `at` (the tenant's rate limit said wait).
    pub async fn outbox_defer(&self, id: i64, at: i64) -> Result<()> {
        sqlx::query("UPDATE sync_outbox SET next_attempt_at = $2 WHERE id = $1")
            .bind(id)
            .bind(at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks `version` of a row sent: done unless a newer version was queued meanwhile.
    pub async fn outbox_sent(
        &self,
        id: i64,
        version: i64,
        remote_id: Option<i64>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE sync_outbox SET sent_version = $2, remote_id = COALESCE($3, remote_id), \
             state = CASE WHEN version = $2 THEN 'done' ELSE 'pending' END, \
             next_attempt_at = $4, attempts = 0, last_error = NULL, updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(version)
        .bind(remote_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Counts a failed attempt and schedules the next at `next_attempt_at`.
    pub async fn outbox_retry(
        &self,
        id: i64,
        next_attempt_at: i64,
        error: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query("UPDATE sync_outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3, updated_at = $4 WHERE id = $1")
            .bind(id)
            .bind(next_attempt_at)
            .bind(error)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Gives a row up until it is replayed.
    pub async fn outbox_dead(&self, id: i64, error: &str, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE sync_outbox SET state = 'dead', last_error = $2, updated_at = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(error)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Puts dead rows (of one tenant, or all) back in the queue; returns how many.
    pub async fn outbox_replay(&self, tenant: Option<&str>, now: i64) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE sync_outbox SET state = 'pending', attempts = 0, next_attempt_at = $1, updated_at = $1 \
             WHERE state = 'dead' AND ($2 IS NULL OR tenant_id = $2)",
        )
        .bind(now)
        .bind(tenant)
        .execute(&self.pool)
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

    /// Dead rows: tenant, record key, kind and last error (no payloads: they hold personal data).
    pub async fn dead_outbox_rows(&self) -> Result<Vec<(String, String, String, String)>> {
        Ok(sqlx::query_as("SELECT tenant_id, record_key, kind, COALESCE(last_error, '') FROM sync_outbox WHERE state = 'dead' ORDER BY id")
            .fetch_all(&self.pool)
            .await?)
    }
}
