//! Passes to the widget page opened from a HubSpot card: single-use tickets and the sessions
//! they are traded for, each kept as the SHA-256 hash of its secret.

use super::Store;
use crate::error::Result;

/// What a ticket or session is for: its tenant and record (`contact:12`, `deal:5`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Pass {
    pub tenant_id: String,
    pub record: String,
    pub expires_at: i64,
}

impl Store {
    /// Keeps a pass (`ticket` or `session`) under the hash of its secret.
    pub async fn add_pass(
        &self,
        hash: &str,
        tenant: &str,
        kind: &str,
        record: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO widget_passes (hash, tenant_id, kind, record, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(hash)
        .bind(tenant)
        .bind(kind)
        .bind(record)
        .bind(expires_at)
        .bind(now)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(())
    }

    /// Uses a ticket: the pass it was, if it was unused and unexpired (then never again).
    pub async fn use_ticket(&self, hash: &str, now: i64) -> Result<Option<Pass>> {
        Ok(sqlx::query_as(
            "UPDATE widget_passes SET used_at = $2 \
             WHERE hash = $1 AND kind = 'ticket' AND used_at IS NULL AND expires_at > $2 \
             RETURNING tenant_id, record, expires_at",
        )
        .bind(hash)
        .bind(now)
        .fetch_optional(self.writer().await?.raw())
        .await?)
    }

    /// The session a hash names, while it lasts.
    pub async fn session_pass(&self, hash: &str, now: i64) -> Result<Option<Pass>> {
        Ok(sqlx::query_as(
            "SELECT tenant_id, record, expires_at FROM widget_passes \
             WHERE hash = $1 AND kind = 'session' AND expires_at > $2",
        )
        .bind(hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Deletes the passes that ended before `before`; returns how many.
    pub async fn delete_ended_passes(&self, before: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM widget_passes WHERE expires_at < $1")
                .bind(before)
                .execute(self.writer().await?.raw())
                .await?
                .rows_affected(),
        )
    }
}
