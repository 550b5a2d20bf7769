//! Contacts: the ones the backend has seen, their LiveID enrolment, and their derived status.

use idv_types::ContactStatus;
use sqlx::Row;

use super::{bp_to_confidence, padded, Conn, Kept, Store};
use crate::{
    clock,
    domain::status::{self, IdvFacts},
    error::Result,
};

/// The latest IDV session's facts, as the status rule reads them.
#[derive(sqlx::FromRow)]
struct IdvRow {
    state: String,
    ial_level: Option<String>,
    ial_revision: Option<String>,
    document_type: Option<String>,
    match_confidence_bp: Option<i64>,
    identity_match: Option<String>,
    completed_at: Option<i64>,
    valid_until: Option<i64>,
}

/// What a contact's cached status read is checked against: the contact row's creation and
/// status version (bumped by the database with every write its status shows), and the tenant's
/// set-up report (`None` when complete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusStamp {
    pub version: (i64, i64),
    pub setup_report: Option<String>,
}

/// The stamps' lookup: one indexed probe of the contact's primary key (and the tenant's) per
/// contact asked for, `{keys}` standing for `(contacts.tenant_id = $1 AND contacts.contact_id =
/// $2) OR …`.
pub const STATUS_STAMPS_SQL: &str =
    "SELECT contacts.tenant_id, contacts.contact_id, contacts.created_at, \
     contacts.status_version, tenants.setup_report, tenants.setup_complete \
     FROM contacts JOIN tenants ON tenants.id = contacts.tenant_id WHERE {keys}";

/// [`STATUS_STAMPS_SQL`] for `n` contacts.
pub fn status_stamps_sql(n: usize) -> String {
    let keys: Vec<String> = (0..n)
        .map(|i| {
            format!(
                "(contacts.tenant_id = ${} AND contacts.contact_id = ${})",
                2 * i + 1,
                2 * i + 2
            )
        })
        .collect();
    STATUS_STAMPS_SQL.replace("{keys}", &keys.join(" OR "))
}

impl Store {
    /// The status stamps of many contacts in one lookup (each asked once), in the order
    /// asked (`None`: this tenant has no such contact), on the caller's kept connection.
    pub async fn status_stamps(
        &self,
        kept: &mut Kept,
        keys: &[(String, i64)],
    ) -> Result<Vec<Option<StatusStamp>>> {
        let mut unique: Vec<&(String, i64)> = keys.iter().collect();
        unique.sort_unstable();
        unique.dedup();
        if unique.is_empty() {
            return Ok(Vec::new());
        }
        // A statement per power of two, not one per size: each connection prepares at most
        // seven and keeps them.
        let asked = padded(&unique);
        let sql = status_stamps_sql(asked.len());
        let rows = self
            .fetch_kept(kept, &sql, |mut q| {
                for (tenant, contact) in &asked {
                    q = q.bind(tenant.as_str()).bind(*contact);
                }
                q
            })
            .await?;
        let found: std::collections::HashMap<(String, i64), StatusStamp> = rows
            .into_iter()
            .map(|r| {
                let stamp = StatusStamp {
                    version: (r.get::<i64, _>(2), r.get::<i64, _>(3)),
                    setup_report: (r.get::<i64, _>(5) == 0)
                        .then(|| r.get::<Option<String>, _>(4))
                        .flatten(),
                };
                ((r.get::<String, _>(0), r.get::<i64, _>(1)), stamp)
            })
            .collect();
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    /// Records that a contact exists (idempotent).
    pub async fn upsert_contact(
        &self,
        tenant_id: &str,
        contact_id: i64,
        liveid_enrolled: bool,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO contacts (tenant_id, contact_id, liveid_enrolled, created_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, contact_id) DO UPDATE SET liveid_enrolled = excluded.liveid_enrolled",
        )
        .bind(tenant_id)
        .bind(contact_id)
        .bind(i64::from(liveid_enrolled))
        .bind(clock::now_ms())
        .execute(self.writer().await?.raw())
        .await?;
        Ok(())
    }

    /// Records that a contact exists, keeping its enrolment if already known.
    pub async fn upsert_contact_keep(&self, tenant_id: &str, contact_id: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO contacts (tenant_id, contact_id, liveid_enrolled, created_at) \
             VALUES ($1, $2, 0, $3) ON CONFLICT (tenant_id, contact_id) DO NOTHING",
        )
        .bind(tenant_id)
        .bind(contact_id)
        .bind(clock::now_ms())
        .execute(self.writer().await?.raw())
        .await?;
        Ok(())
    }

    /// The contact's derived status, or `None` if this tenant has no such contact.
    pub async fn contact_status(
        &self,
        tenant_id: &str,
        contact_id: i64,
    ) -> Result<Option<ContactStatus>> {
        self.acquire()
            .await?
            .contact_status(tenant_id, contact_id)
            .await
    }

    /// The contact's sealed LiveID credential, if the contact is enrolled.
    pub async fn enrolled_credential(&self, tenant: &str, contact: i64) -> Result<Option<String>> {
        let row = sqlx::query("SELECT credential_did_sealed, liveid_enrolled FROM contacts WHERE tenant_id = $1 AND contact_id = $2")
            .bind(tenant)
            .bind(contact)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|r| {
            if r.get::<i64, _>("liveid_enrolled") == 0 {
                return None;
            }
            r.get::<Option<String>, _>("credential_did_sealed")
        }))
    }
}

impl dyn Conn + '_ {
    /// [`Store::contact_status`] inside the caller's transaction.
    pub async fn contact_status(
        &mut self,
        tenant_id: &str,
        contact_id: i64,
    ) -> Result<Option<ContactStatus>> {
        let conn = self.raw();
        // The decisive session of the rule (crate::domain::status): a verified session still
        // inside its validity wins; otherwise the latest IDV session that was not canceled.
        let now = clock::now_ms();
        let idv = sqlx::query_as::<_, IdvRow>(
            "SELECT state, ial_level, ial_revision, document_type, match_confidence_bp, identity_match, completed_at, valid_until \
             FROM verifications WHERE tenant_id = $1 AND contact_id = $2 AND kind = 'idv' AND state <> 'canceled' \
             ORDER BY CASE WHEN state = 'verified' AND (valid_until IS NULL OR valid_until > $3) THEN 0 ELSE 1 END, \
             created_at DESC, id DESC LIMIT 1",
        )
        .bind(tenant_id)
        .bind(contact_id)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| IdvFacts {
            state: status::stored_state(&r.state, r.valid_until),
            ial_level: r.ial_level,
            ial_revision: r.ial_revision,
            document_type: r.document_type,
            match_confidence: r.match_confidence_bp.map(bp_to_confidence),
            identity_match: r
                .identity_match
                .as_deref()
                .and_then(idv_types::IdentityMatch::parse),
            completed_at: r.completed_at,
            valid_until: r.valid_until,
        });
        let stepup: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(completed_at) FROM verifications \
             WHERE tenant_id = $1 AND contact_id = $2 AND kind = 'stepup' AND state = 'verified'",
        )
        .bind(tenant_id)
        .bind(contact_id)
        .fetch_one(&mut *conn)
        .await?;
        // Read after the sessions: a result and the enrolment it brings commit together, so a
        // session read as verified is never shown with the enrolment of before (each statement
        // sees what was committed when it began).
        let Some(contact) = sqlx::query(
            "SELECT liveid_enrolled FROM contacts WHERE tenant_id = $1 AND contact_id = $2",
        )
        .bind(tenant_id)
        .bind(contact_id)
        .fetch_optional(&mut *conn)
        .await?
        else {
            return Ok(None);
        };
        let liveid_enrolled: i64 = contact.get("liveid_enrolled");
        Ok(Some(status::contact_status(
            contact_id as u64,
            liveid_enrolled != 0,
            idv.as_ref(),
            stepup,
            now,
        )))
    }

    /// The contact's sealed LiveID credential, whether or not it is enrolled (`None` too for
    /// an unknown contact).
    pub async fn credential_sealed(
        &mut self,
        tenant: &str,
        contact: i64,
    ) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT credential_did_sealed FROM contacts WHERE tenant_id = $1 AND contact_id = $2",
        )
        .bind(tenant)
        .bind(contact)
        .fetch_optional(self.raw())
        .await?;
        Ok(row.and_then(|r| r.get::<Option<String>, _>("credential_did_sealed")))
    }

    /// Marks the contact enrolled in LiveID with its (sealed) credential.
    pub async fn enroll_liveid(
        &mut self,
        tenant: &str,
        contact: i64,
        credential_sealed: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE contacts SET liveid_enrolled = 1, credential_did_sealed = $3 WHERE tenant_id = $1 AND contact_id = $2")
            .bind(tenant)
            .bind(contact)
            .bind(credential_sealed)
            .execute(self.raw())
            .await?;
        Ok(())
    }
}
