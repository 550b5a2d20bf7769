//! Retention: rows past their keep-until are deleted, one person's data is erased on request,
//! and an uninstalled tenant's sealed keys are wiped.

use super::{Conn, Store};
use crate::error::Result;

/// The retention job's deletes, named so that a test can read their plans.
pub const DELETE_INBOUND_SQL: &str = "DELETE FROM inbound_events WHERE received_at < $1";
pub const DELETE_IDEMPOTENCY_SQL: &str = "DELETE FROM idempotency_keys WHERE created_at < $1";
pub const DELETE_AUDIT_SQL: &str = "DELETE FROM audit_log WHERE at < $1";
/// Counted from when the row last changed: a verification that lapsed yesterday after a year of
/// validity is kept (its contact still shows Expired).
/// Writes that happen once (they never coalesce), sent before `$1`; desired-state rows stay (they
/// hold the remote record's id and version).
pub const DELETE_SENT_ONCE_SQL: &str =
    "DELETE FROM sync_outbox WHERE state = 'done' AND updated_at < $1 \
     AND kind IN ('note', 'task', 'chat_message', 'action_completion', 'platform_event')";
pub const DELETE_FINISHED_SQL: &str = "DELETE FROM verifications WHERE state IN ('failed', 'expired', 'canceled') AND updated_at < $1";

impl Store {
    /// Deletes inbound delivery ids received before `cutoff`; returns how many.
    pub async fn delete_inbound_before(&self, cutoff: i64) -> Result<u64> {
        self.delete_before(DELETE_INBOUND_SQL, cutoff).await
    }

    /// Deletes idempotency keys created before `cutoff`; returns how many.
    pub async fn delete_idempotency_before(&self, cutoff: i64) -> Result<u64> {
        self.delete_before(DELETE_IDEMPOTENCY_SQL, cutoff).await
    }

    /// Deletes audit lines written before `cutoff`; returns how many.
    pub async fn delete_audit_before(&self, cutoff: i64) -> Result<u64> {
        self.delete_before(DELETE_AUDIT_SQL, cutoff).await
    }

    /// Deletes sessions that ended (failed, expired, canceled) before `cutoff`; pending and
    /// verified sessions stay (a verified one counts until the expiry job moves it on).
    pub async fn delete_finished_verifications_before(&self, cutoff: i64) -> Result<u64> {
        self.delete_before(DELETE_FINISHED_SQL, cutoff).await
    }

    /// Deletes the sent rows of writes that happen once, sent before `cutoff`.
    pub async fn delete_sent_once_before(&self, cutoff: i64) -> Result<u64> {
        self.delete_before(DELETE_SENT_ONCE_SQL, cutoff).await
    }

    async fn delete_before(&self, sql: &str, cutoff: i64) -> Result<u64> {
        let _gate = self.write_gate().await;
        let done = sqlx::query(sql).bind(cutoff).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    /// Wipes what an uninstalled tenant's app brought: the sealed Freshsales key, and the
    /// sealed links of its sessions and the CRM names kept for its pending ones.
    pub async fn wipe_tenant_keys(&self, tenant: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE tenants SET crm_key_sealed = NULL, crm_access_token_sealed = NULL, crm_refresh_token_sealed = NULL WHERE id = $1")
            .bind(tenant)
            .execute(tx.raw())
            .await?;
        sqlx::query(
            "UPDATE verifications SET hosted_url_sealed = NULL, qr_payload_sealed = NULL, expected_holder_sealed = NULL \
             WHERE tenant_id = $1",
        )
        .bind(tenant)
        .execute(tx.raw())
        .await?;
        tx.commit().await
    }
}

/// Whether the text in `column` names the contact `$2` of tenant `$1`: a record key
/// `contact:{id}` (alone or between colons, as in `note:contact:{id}:…`), or one of the
/// contact's sessions.
fn names_contact(column: &str) -> String {
    let id = "CAST($2 AS TEXT)";
    format!(
        "({column} = 'contact:' || {id} OR {column} LIKE 'contact:' || {id} || ':%' \
         OR {column} LIKE '%:contact:' || {id} OR {column} LIKE '%:contact:' || {id} || ':%' \
         OR EXISTS (SELECT 1 FROM verifications v WHERE v.tenant_id = $1 AND v.contact_id = $2 \
         AND {column} LIKE '%' || v.id || '%'))"
    )
}

impl Store {
    /// Whether the contact's data was erased here (its erasure record is kept).
    pub async fn contact_forgotten(&self, tenant: &str, contact: i64) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM audit_log WHERE tenant_id = $1 AND subject = $2 \
             AND action = 'contact_forgotten' LIMIT 1",
        )
        .bind(tenant)
        .bind(format!("contact:{contact}"))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }
}

impl dyn Conn + '_ {
    /// Erases one contact's data inside the caller's transaction: their sessions and what
    /// hangs on them (idempotency keys, chat links), the chat conversations and chat users
    /// linked to those sessions, every audit line, queued or sent write and inbound event id
    /// that names the contact or one of their sessions, their contact row, and the deals' link
    /// to them. Returns how many sessions were erased.
    pub async fn forget_contact(&mut self, tenant: &str, contact: i64) -> Result<u64> {
        let theirs = "SELECT id FROM verifications WHERE tenant_id = $1 AND contact_id = $2";
        for sql in [
            format!("DELETE FROM idempotency_keys WHERE tenant_id = $1 AND verification_id IN ({theirs})"),
            format!("DELETE FROM waiting_actions WHERE tenant_id = $1 AND verification_id IN ({theirs})"),
            // The chat users and conversations linked to their sessions are theirs.
            format!(
                "DELETE FROM chat_conversations WHERE tenant_id = $1 AND EXISTS (SELECT 1 FROM chat_sessions s \
                 WHERE s.tenant_id = $1 AND s.verification_id IN ({theirs}) \
                 AND (s.conversation_id = chat_conversations.conversation_id OR s.user_id = chat_conversations.user_id))"
            ),
            format!(
                "DELETE FROM audit_log WHERE tenant_id = $1 AND {}",
                names_contact("subject")
            ),
            format!(
                "DELETE FROM sync_outbox WHERE tenant_id = $1 AND {}",
                names_contact("record_key")
            ),
            format!(
                "DELETE FROM inbound_events WHERE tenant_id = $1 AND {}",
                names_contact("event_id")
            ),
        ] {
            sqlx::query(&sql)
                .bind(tenant)
                .bind(contact)
                .execute(self.raw())
                .await?;
        }
        // Their chat links go with the sessions (ON DELETE CASCADE).
        let erased =
            sqlx::query("DELETE FROM verifications WHERE tenant_id = $1 AND contact_id = $2")
                .bind(tenant)
                .bind(contact)
                .execute(self.raw())
                .await?
                .rows_affected();
        sqlx::query("DELETE FROM contacts WHERE tenant_id = $1 AND contact_id = $2")
            .bind(tenant)
            .bind(contact)
            .execute(self.raw())
            .await?;
        sqlx::query(
            "UPDATE deals SET primary_contact = NULL WHERE tenant_id = $1 AND primary_contact = $2",
        )
        .bind(tenant)
        .bind(contact)
        .execute(self.raw())
        .await?;
        Ok(erased)
    }
}
