//! Applying what the provider says (and cancels), and queueing the CRM writes that follow: the
//! contact's fields, the history record, and one note that tells the start and the result.

use idv_types::{IdentityMatch, Kind, Verification};
use serde_json::json;

use super::{
    sync::{self, Write},
    tenant::{MismatchPolicy, TenantRow},
};
use crate::{
    clock::{self, DAY_MS},
    error::{AppError, Result},
    ports::identity::{Outcome, ResultFields, SessionReport},
    store::{Conn, Finish},
};

use super::{read_row, Engine, Origin, VerRow};

impl Engine {
    /// Cancels a pending session.
    pub async fn cancel(&self, tenant: &TenantRow, id: &str) -> Result<Verification> {
        let v = self.verification(&tenant.id, id).await?.ok_or_else(|| {
            AppError::NotFound(format!("verification {id} is not known to this account"))
        })?;
        let mut tx = self.store.begin().await?;
        let now = clock::now_ms();
        if !tx.cancel(id, now).await? {
            return Err(AppError::Conflict(format!(
                "verification {id} is already {} and cannot be canceled",
                v.state.as_str()
            )));
        }
        tx.audit(&tenant.id, "cancel", id, "").await?;
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
    /// late or duplicate report is recorded in the audit log and changes nothing. An IDV pass
    /// is verified only for a document whose holder is the contact, at the level asked for
    /// (see `services::identity`).
    pub async fn apply_report(
        &self,
        tenant: &TenantRow,
        v: &VerRow,
        report: &SessionReport,
    ) -> Result<bool> {
        let now = clock::now_ms();
        let mut tx = self.store.begin().await?;
        let (outcome, identity) = match v.kind {
            Kind::Idv => {
                self.bind_to_contact(&mut tx, tenant, v, &report.outcome)
                    .await?
            }
            Kind::Stepup => (report.outcome.clone(), None),
        };
        let (state, fields, reason, why): (&str, Option<&ResultFields>, Option<&str>, _) =
            match &outcome {
                Outcome::Pending => {
                    let delay = if v.kind == Kind::Stepup {
                        self.settings.stepup_poll
                    } else {
                        self.idv_poll_delay(v.poll_attempts + 1)
                    };
                    tx.record_poll(&v.id, now + delay.as_millis() as i64)
                        .await?;
                    tx.commit().await?;
                    return Ok(false);
                }
                Outcome::Verified(f) => ("verified", Some(f), None, None),
                Outcome::Failed { why, reason } => {
                    ("failed", None, Some(reason.as_str()), Some(*why))
                }
                Outcome::Expired => ("expired", None, None, None),
            };
        let valid_until = (state == "verified" && v.kind == Kind::Idv)
            .then(|| now + tenant.policy.validity_days * DAY_MS);
        let done = tx
            .finish(&Finish {
                id: &v.id,
                state,
                ial_level: fields.and_then(|f| f.ial.clone()),
                document_type: fields.and_then(|f| f.document_type.clone()),
                match_confidence: fields.and_then(|f| f.match_confidence),
                failure_reason: reason,
                failure_code: why.map(|w: crate::domain::reasons::Failure| w.code()),
                now,
                valid_until,
                identity_match: identity.map(IdentityMatch::as_str),
            })
            .await?;
        if !done {
            tx.audit(&tenant.id, "late_report_ignored", &v.id, state)
                .await?;
            tx.commit().await?;
            return Ok(false);
        }
        tx.audit(&tenant.id, "result", &v.id, state).await?;
        if let (Some(f), Kind::Idv) = (fields, v.kind) {
            if let Some(did) = &f.credential_did {
                let row = super::contact_row(&tenant.id, v.contact_id);
                let sealed = self.sealer.seal(
                    crate::crypto::at("contacts", "credential_did_sealed", &row),
                    did,
                );
                tx.enroll_liveid(&tenant.id, v.contact_id, &sealed).await?;
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
        let holder = match identity {
            Some(IdentityMatch::Match) => "; the name on the ID is the contact's",
            Some(IdentityMatch::Partial) => "; the name on the ID matches the contact's in part",
            _ => "",
        };
        let detail = match (fields, reason) {
            (Some(f), _) => format!(
                " ({}, {}, match {:.0} %{holder})",
                f.ial.as_deref().unwrap_or("IAL?"),
                f.document_type.as_deref().unwrap_or("LiveID"),
                f.match_confidence.unwrap_or(0.0) * 100.0
            ),
            (None, Some(r)) => format!(": {r}"),
            _ => String::new(),
        };
        // The note tells the start too (sessions started before the origin was kept had a
        // start note of their own).
        let started = match tx.origin(&v.id).await?.as_deref() {
            Some(origin) => {
                let who = Origin::from_stored(origin).actor(v.row.requested_by.as_deref());
                let link = v
                    .row
                    .delivery
                    .map(|d| match d {
                        idv_types::Delivery::Show => ", link shown in the app",
                        idv_types::Delivery::Email => ", link emailed by 1Kosmos",
                        idv_types::Delivery::Sms => ", link texted by 1Kosmos",
                    })
                    .unwrap_or_default();
                format!(" Started {} by {who}{link}.", v.row.created_at)
            }
            None => String::new(),
        };
        let target = match (v.kind, v.deal_id, v.ticket_id) {
            (Kind::Stepup, Some(d), _) => Some(("deal", d)),
            // Started from a help-desk ticket: the agents working it read the result there.
            (_, _, Some(t)) => Some(("ticket", t)),
            // Where contacts take no notes, the result is in the contact's fields only.
            _ => tenant
                .crm_kind
                .notes_on_contacts()
                .then_some(("contact", v.contact_id)),
        };
        if v.kind == Kind::Idv {
            self.queue_chat_result(&mut tx, tenant, v, state).await?;
        }
        if identity == Some(IdentityMatch::Mismatch)
            && tenant.policy.identity_mismatch == MismatchPolicy::Review
            && tenant.crm_kind.has_tasks()
        {
            sync::enqueue(
                &mut tx,
                &self.sealer,
                self.settings.coalesce,
                &tenant.id,
                &format!("task:{}:review", v.id),
                &Write::Task {
                    target: "contact".into(),
                    id: v.contact_id as u64,
                    title: "Review an identity mismatch".into(),
                    description: format!(
                        "The ID shown in verification {} names someone other than this \
                         contact, so it is not verified. Compare the name on the ID (in the \
                         1Kosmos console) with the contact's record: if the record is wrong, \
                         correct it and send a new link; otherwise do not proceed.",
                        v.id
                    ),
                    due_date: clock::rfc3339(now + DAY_MS),
                    owner_id: None,
                    owner_of_contact: Some(v.contact_id as u64),
                },
            )
            .await?;
        }
        if let Some((target, target_id)) = target {
            sync::enqueue(
                &mut tx,
                &self.sealer,
                self.settings.coalesce,
                &tenant.id,
                &format!("note:{}:{state}", v.id),
                &Write::Note {
                    target: target.into(),
                    id: target_id as u64,
                    text: format!("{what}{detail}.{started} Session {}.", v.id),
                },
            )
            .await?;
        }
        tx.commit().await?;
        self.metrics.results.inc();
        self.wake_sync.notify_one();
        Ok(true)
    }

    /// Recomputes a contact's fields and upserts their desired state.
    pub async fn queue_contact_writes(
        &self,
        tx: &mut dyn Conn,
        tenant: &TenantRow,
        contact: i64,
    ) -> Result<()> {
        let status = tx.contact_status(&tenant.id, contact).await?;
        let Some(status) = status else { return Ok(()) };
        let sealed = tx.credential_sealed(&tenant.id, contact).await?;
        let row = super::contact_row(&tenant.id, contact);
        // The DID goes into the CRM only when the admin chose to publish it; otherwise the
        // field is cleared (a DID published before stays no longer).
        let did = self
            .sealer
            .open_opt(
                crate::crypto::at("contacts", "credential_did_sealed", &row),
                sealed.as_deref(),
            )
            .filter(|_| tenant.policy.publish_credential_did);
        let fields = crate::domain::fields::contact_fields(&status, did);
        sync::enqueue(
            tx,
            &self.sealer,
            self.settings.coalesce,
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
        tx: &mut dyn Conn,
        tenant: &str,
        id: &str,
    ) -> Result<()> {
        let row = tx.verification_by_id(id).await?;
        let v = read_row(&self.sealer, row).row;
        // A workflow action that waited for this result is completed with it.
        self.queue_action_completions(tx, tenant, &v).await?;
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
            tx,
            &self.sealer,
            self.settings.coalesce,
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
