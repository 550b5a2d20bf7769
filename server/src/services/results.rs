//! Applying what the provider says (and cancels), and queueing the CRM writes that follow: the
//! contact's fields, the history record, and one note that tells the start and the result.

use std::sync::Arc;

use idv_types::{AuditFacts, IdentityMatch, Kind, Verification};

use super::{
    core::{Core, VerRow},
    identity::Identity,
    queue::{self, Queue, Write},
    tenant::{MismatchPolicy, TenantRow},
};
use crate::{
    clock::{self, DAY_MS},
    domain::origin::Origin,
    error::{AppError, Result},
    ports::identity::{Outcome, ResultFields, SessionReport},
    store::Finish,
};

/// Applies what the provider says, and cancels.
#[derive(Clone, Debug)]
pub struct Results {
    core: Arc<Core>,
    identity: Identity,
    queue: Queue,
}

impl Results {
    pub fn new(core: Arc<Core>, identity: Identity, queue: Queue) -> Self {
        Self {
            core,
            identity,
            queue,
        }
    }

    /// Cancels a pending session.
    pub async fn cancel(&self, tenant: &TenantRow, id: &str) -> Result<Verification> {
        let v = self.core.known_verification(&tenant.id, id).await?;
        let mut tx = self.core.store.begin().await?;
        let now = clock::now_ms();
        if !tx.cancel(id, now).await? {
            return Err(AppError::Conflict(format!(
                "verification {id} is already {} and cannot be canceled",
                v.state.as_str()
            )));
        }
        tx.audit(&tenant.id, "cancel", id, "").await?;
        if v.kind == Kind::Idv {
            self.queue
                .queue_contact_writes(&mut tx, tenant, v.contact_id)
                .await?;
            self.queue.queue_history(&mut tx, &tenant.id, id).await?;
        }
        tx.commit().await?;
        self.core.wake_sync.notify_one();
        self.core.verification_view(&tenant.id, id).await
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
        let mut tx = self.core.store.begin().await?;
        let (outcome, identity) = match v.kind {
            Kind::Idv => {
                self.identity
                    .bind_to_contact(&mut tx, tenant, v, &report.outcome)
                    .await?
            }
            Kind::Stepup => (report.outcome.clone(), None),
        };
        let (state, fields, reason, why): (&str, Option<&ResultFields>, Option<&str>, _) =
            match &outcome {
                Outcome::Pending => {
                    let delay = if v.kind == Kind::Stepup {
                        self.core.settings.stepup_poll
                    } else {
                        self.core.settings.idv_poll_delay(v.poll_attempts + 1)
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
        let facts = AuditFacts {
            state: Some(state.to_string()),
            ..Default::default()
        };
        if !done {
            tx.audit_facts(
                &tenant.id,
                "late_report_ignored",
                &v.id,
                state,
                Some(&facts),
            )
            .await?;
            tx.commit().await?;
            return Ok(false);
        }
        tx.audit_facts(&tenant.id, "result", &v.id, state, Some(&facts))
            .await?;
        if let (Some(f), Kind::Idv) = (fields, v.kind) {
            if let Some(did) = &f.credential_did {
                let row = super::core::contact_row(&tenant.id, v.contact_id);
                let sealed = self.core.sealer.seal(
                    crate::crypto::at("contacts", "credential_did_sealed", &row),
                    did,
                );
                tx.enroll_liveid(&tenant.id, v.contact_id, &sealed).await?;
            }
        }
        self.queue
            .queue_contact_writes(&mut tx, tenant, v.contact_id)
            .await?;
        self.queue.queue_history(&mut tx, &tenant.id, &v.id).await?;
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
            self.queue
                .queue_chat_result(&mut tx, tenant, v, state)
                .await?;
        }
        if identity == Some(IdentityMatch::Mismatch)
            && tenant.policy.identity_mismatch == MismatchPolicy::Review
            && tenant.crm_kind.has_tasks()
        {
            queue::enqueue(
                &mut tx,
                &self.core.sealer,
                self.core.settings.coalesce,
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
            queue::enqueue(
                &mut tx,
                &self.core.sealer,
                self.core.settings.coalesce,
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
        self.core.metrics.results.inc();
        self.core.wake_sync.notify_one();
        Ok(true)
    }
}
