//! The audit log: who did what to which session or record (never personal data).

use super::{Conn, Store};
use crate::{clock, error::Result};

impl dyn Conn + '_ {
    /// Appends an audit line inside the caller's transaction.
    pub async fn audit(
        &mut self,
        tenant: &str,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> Result<()> {
        sqlx::query("INSERT INTO audit_log (tenant_id, at, action, subject, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(tenant)
            .bind(clock::now_ms())
            .bind(action)
            .bind(subject)
            .bind(detail)
            .execute(self.raw())
            .await?;
        Ok(())
    }
}

impl Store {
    /// An audit line for an outbox row: its tenant and record key, never its payload.
    pub async fn audit_outbox_row(&self, id: i64, action: &str, detail: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (tenant_id, at, action, subject, detail) \
             SELECT tenant_id, $2, $3, record_key, $4 FROM sync_outbox WHERE id = $1",
        )
        .bind(id)
        .bind(clock::now_ms())
        .bind(action)
        .bind(detail)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(())
    }
}
