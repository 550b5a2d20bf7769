//! The audit log: who did what to which session or record (never personal data), and reading it
//! back (`server audit`, the widget's history panel).

use idv_types::AuditFacts;

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
        self.audit_facts(tenant, action, subject, detail, None)
            .await
    }

    /// Appends an audit line with its facts (what the widget words in the rep's language).
    pub async fn audit_facts(
        &mut self,
        tenant: &str,
        action: &str,
        subject: &str,
        detail: &str,
        facts: Option<&AuditFacts>,
    ) -> Result<()> {
        let facts = facts.and_then(|f| serde_json::to_string(f).ok());
        sqlx::query(
            "INSERT INTO audit_log (tenant_id, at, action, subject, detail, facts) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tenant)
        .bind(clock::now_ms())
        .bind(action)
        .bind(subject)
        .bind(detail)
        .bind(facts)
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

/// One audit line as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub tenant_id: String,
    pub at: i64,
    pub action: String,
    pub subject: String,
    pub detail: String,
    /// [`AuditFacts`] as JSON, where the line has them.
    pub facts: Option<String>,
}

/// Which audit lines to read: newest first, `limit` of them, older than `before` (a line id).
#[derive(Debug, Clone, Default)]
pub struct AuditQuery<'a> {
    pub tenant: Option<&'a str>,
    /// Lines about this contact: its sessions, and CRM writes to it or for its sessions.
    pub contact: Option<i64>,
    /// Lines at or after this time (ms since the epoch).
    pub since: Option<i64>,
    pub before: Option<i64>,
    pub limit: i64,
}

impl Store {
    /// Audit lines, newest first.
    pub async fn audit_lines(&self, q: &AuditQuery<'_>) -> Result<Vec<AuditRow>> {
        let mut sql = String::from(
            "SELECT a.id, a.tenant_id, a.at, a.action, a.subject, a.detail, a.facts FROM audit_log a WHERE 1 = 1",
        );
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if q.tenant.is_some() {
            sql.push_str(&format!(" AND a.tenant_id = {}", next()));
        }
        if q.contact.is_some() {
            let (key, id) = (next(), next());
            sql.push_str(&format!(
                " AND (a.subject = {key} OR EXISTS (SELECT 1 FROM verifications v \
                 WHERE v.tenant_id = a.tenant_id AND v.contact_id = {id} \
                 AND (a.subject = v.id OR a.subject LIKE '%:' || v.id || '%')))"
            ));
        }
        if q.since.is_some() {
            sql.push_str(&format!(" AND a.at >= {}", next()));
        }
        if q.before.is_some() {
            sql.push_str(&format!(" AND a.id < {}", next()));
        }
        sql.push_str(&format!(" ORDER BY a.id DESC LIMIT {}", next()));
        let mut query = sqlx::query_as::<_, AuditRow>(&sql);
        if let Some(t) = q.tenant {
            query = query.bind(t);
        }
        if let Some(c) = q.contact {
            query = query.bind(format!("contact:{c}")).bind(c);
        }
        if let Some(s) = q.since {
            query = query.bind(s);
        }
        if let Some(b) = q.before {
            query = query.bind(b);
        }
        Ok(query.bind(q.limit).fetch_all(&self.pool).await?)
    }
}
