//! Applying what the provider says (and cancels), and queueing the CRM writes that follow.

use idv_types::{Kind, Verification};
use serde_json::json;
use sqlx::Row;

use super::{
    sync::{self, Write},
    tenant::TenantRow,
};
use crate::{
    clock::{self, DAY_MS},
    domain::status::NIST_REVISION,
    error::{AppError, Result},
    ports::identity::{Outcome, ResultFields, SessionReport},
    store::confidence_to_bp,
};

use super::{Engine, VerRow, VCOLS};

impl Engine {
    /// Cancels a pending session.
    pub async fn cancel(&self, tenant: &TenantRow, id: &str) -> Result<Verification> {
        let v = self.verification(&tenant.id, id).await?.ok_or_else(|| {
            AppError::NotFound(format!("verification {id} is not known to this account"))
        })?;
        let mut tx = self.store.begin().await?;
        let now = clock::now_ms();
        let done = sqlx::query("UPDATE verifications SET state = 'canceled', completed_at = $2, updated_at = $2 WHERE id = $1 AND state = 'pending'")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(AppError::Conflict(format!(
                "verification {id} is already {} and cannot be canceled",
                v.state.as_str()
            )));
        }
        self.audit(&mut tx, &tenant.id, "cancel", id, "").await?;
        if v.kind == Kind::Idv {
            self.queue_contact_writes(&mut tx, tenant, v.contact_id)
                .await?;
            self.queue_history(&mut tx, &tenant.id, id).await?;
        }
        tx.commit().await?;
        self.wake_sync.notify_one();
        self.verification_view(&tenant.id, id).await
    }

    /// Applies what the provider says about a session. Terminal states never change back; a
    /// late or duplicate report is recorded in the audit log and changes nothing.
    pub async fn apply_report(
        &self,
        tenant: &TenantRow,
        v: &VerRow,
        report: &SessionReport,
    ) -> Result<bool> {
        let now = clock::now_ms();
        let mut tx = self.store.begin().await?;
        let (state, fields, reason): (&str, Option<&ResultFields>, Option<&str>) = match &report
            .outcome
        {
            Outcome::Pending => {
                let delay = if v.kind == Kind::Stepup {
                    self.settings.stepup_poll
                } else {
                    self.idv_poll_delay(v.poll_attempts + 1)
                };
                sqlx::query("UPDATE verifications SET poll_attempts = poll_attempts + 1, next_poll_at = $2 WHERE id = $1 AND state = 'pending'")
                    .bind(&v.id)
                    .bind(now + delay.as_millis() as i64)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                return Ok(false);
            }
            Outcome::Verified(f) => ("verified", Some(f), None),
            Outcome::Failed { reason } => ("failed", None, Some(reason.as_str())),
            Outcome::Expired => ("expired", None, None),
        };
        let valid_until = (state == "verified" && v.kind == Kind::Idv)
            .then(|| now + tenant.policy.validity_days * DAY_MS);
        let done = sqlx::query(
            "UPDATE verifications SET state = $2, ial_level = $3, ial_revision = $4, document_type = $5, match_confidence_bp = $6, \
             failure_reason = $7, completed_at = $8, updated_at = $8, valid_until = $9, next_poll_at = NULL \
             WHERE id = $1 AND state = 'pending'",
        )
        .bind(&v.id)
        .bind(state)
        .bind(fields.and_then(|f| f.ial.clone()))
        .bind(fields.and_then(|f| f.ial.as_ref()).map(|_| NIST_REVISION))
        .bind(fields.and_then(|f| f.document_type.clone()))
        .bind(fields.and_then(|f| f.match_confidence).map(confidence_to_bp))
        .bind(reason)
        .bind(now)
        .bind(valid_until)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            self.audit(&mut tx, &tenant.id, "late_report_ignored", &v.id, state)
                .await?;
            tx.commit().await?;
            return Ok(false);
        }
        self.audit(&mut tx, &tenant.id, "result", &v.id, state)
            .await?;
        if let (Some(f), Kind::Idv) = (fields, v.kind) {
            if let Some(did) = &f.credential_did {
                sqlx::query("UPDATE contacts SET liveid_enrolled = 1, credential_did_sealed = $3 WHERE tenant_id = $1 AND contact_id = $2")
                    .bind(&tenant.id)
                    .bind(v.contact_id)
                    .bind(self.sealer.seal(did))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        self.queue_contact_writes(&mut tx, tenant, v.contact_id)
            .await?;
        self.queue_history(&mut tx, &tenant.id, &v.id).await?;
        let what = match (v.kind, state) {
            (Kind::Idv, "verified") => "Identity verified".to_string(),
            (Kind::Idv, s) => format!("Identity verification {s}"),
            (Kind::Stepup, "verified") => "LiveID step-up passed".to_string(),
            (Kind::Stepup, s) => format!("LiveID step-up {s}"),
        };
        let detail = match (fields, reason) {
            (Some(f), _) => format!(
                " ({}, {}, match {:.0} %)",
                f.ial.as_deref().unwrap_or("IAL?"),
                f.document_type.as_deref().unwrap_or("LiveID"),
                f.match_confidence.unwrap_or(0.0) * 100.0
            ),
            (None, Some(r)) => format!(": {r}"),
            _ => String::new(),
        };
        let (target, target_id) = match (v.kind, v.deal_id) {
            (Kind::Stepup, Some(d)) => ("deal", d),
            _ => ("contact", v.contact_id),
        };
        sync::enqueue(
            &mut tx,
            self,
            &tenant.id,
            &format!("note:{}:{state}", v.id),
            &Write::Note {
                target: target.into(),
                id: target_id as u64,
                text: format!("{what}{detail}. Session {}.", v.id),
            },
        )
        .await?;
        tx.commit().await?;
        self.metrics.results.inc();
        self.wake_sync.notify_one();
        Ok(true)
    }

    /// Recomputes a contact's fields and upserts their desired state.
    pub async fn queue_contact_writes(
        &self,
        conn: &mut sqlx::AnyConnection,
        tenant: &TenantRow,
        contact: i64,
    ) -> Result<()> {
        let status = self
            .store
            .contact_status_on(conn, &tenant.id, contact)
            .await?;
        let Some(status) = status else { return Ok(()) };
        let did = sqlx::query(
            "SELECT credential_did_sealed FROM contacts WHERE tenant_id = $1 AND contact_id = $2",
        )
        .bind(&tenant.id)
        .bind(contact)
        .fetch_optional(&mut *conn)
        .await?
        .and_then(|r| {
            self.sealer
                .open_opt(r.get::<Option<String>, _>(0).as_deref())
        });
        let fields = crate::domain::fields::contact_fields(&status, did);
        sync::enqueue(
            conn,
            self,
            &tenant.id,
            &format!("contact:{contact}"),
            &Write::ContactFields {
                contact_id: contact as u64,
                fields,
            },
        )
        .await
    }

    pub(super) async fn queue_history(
        &self,
        conn: &mut sqlx::AnyConnection,
        tenant: &str,
        id: &str,
    ) -> Result<()> {
        let row = sqlx::query(&format!("SELECT {VCOLS} FROM verifications WHERE id = $1"))
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
        let v = self.read_row(&row).row;
        let record = json!({
            "name": format!("{} {}", if v.kind == Kind::Idv { "IDV" } else { "Step-up" }, v.id),
            "custom_field": {
                "cf_session_id": v.id,
                "cf_kind": v.kind.as_str(),
                "cf_state": v.state.as_str(),
                "cf_contact_id": v.contact_id,
                "cf_deal_id": v.deal_id,
                "cf_ial": v.ial.as_ref().map(|a| format!("{} ({})", a.level, a.revision)),
                "cf_document_type": v.document_type,
                "cf_match_confidence": v.match_confidence,
                "cf_started_at": v.created_at,
                "cf_completed_at": v.completed_at,
                "cf_failure_reason": v.failure_reason,
            }
        });
        sync::enqueue(
            conn,
            self,
            tenant,
            &format!("history:{id}"),
            &Write::History {
                verification_id: id.into(),
                record,
            },
        )
        .await
    }
}
