//! Expiry and freshness. The expiry job: verified sessions past their validity lapse (a note
//! and a task for the contact's owner, and with the policy's `reverify_on_expiry` a new
//! verification by the automation delivery), and pending sessions whose start never reached the
//! provider fail once their deadline passed. A change of the contact's name, email or phone
//! ends a valid verification when the policy's `invalidate_on_identity_change` says so.

use std::sync::Arc;

use idv_types::{audit_reason, AuditFacts, Kind, SessionState};

use super::{
    core::Core,
    queue,
    queue::{Queue, Write},
    results::Results,
    start::Sessions,
    tenant::TenantRow,
    workflow::StartOptions,
};
use crate::{
    clock::{self},
    domain::origin::Origin,
    error::Result,
    ports::identity::{Outcome, SessionReport},
};

/// Ends what has run out: verified results, unstarted and abandoned sessions.
#[derive(Clone, Debug)]
pub struct Expiry {
    core: Arc<Core>,
    queue: Queue,
    results: Results,
    sessions: Sessions,
}

impl Expiry {
    pub fn new(core: Arc<Core>, queue: Queue, results: Results, sessions: Sessions) -> Self {
        Self {
            core,
            queue,
            results,
            sessions,
        }
    }

    /// Lapses verified sessions past their validity and queues the writes: each session is
    /// flipped and its writes (fields, history, a note, a task for the contact's owner) queued
    /// in one transaction, so a failure in between leaves it verified-and-due for the next run
    /// instead of lapsed with its writes lost. Then (policy) a new verification starts.
    pub async fn expire_once(&self) -> Result<usize> {
        let now = clock::now_ms();
        let due = self.core.store.due_for_expiry(now, 100).await?;
        let mut expired = 0;
        for r in &due {
            let Some(tenant) = self.core.tenants.get(&r.tenant_id).await? else {
                continue;
            };
            let mut tx = self.core.store.begin().await?;
            if !tx.expire_verified(&r.id, now).await? {
                continue;
            }
            tx.audit_facts(
                &r.tenant_id,
                "expired",
                &r.id,
                "validity ran out",
                Some(&reason(audit_reason::VALIDITY_RAN_OUT)),
            )
            .await?;
            self.queue
                .queue_contact_writes(&mut tx, &tenant, r.contact_id)
                .await?;
            self.queue
                .queue_history(&mut tx, &r.tenant_id, &r.id)
                .await?;
            let since = r.valid_until.map(clock::rfc3339).unwrap_or_default();
            let again = if tenant.policy.reverify_on_expiry {
                " A new verification was started."
            } else {
                " Start a new one from the contact's IDV panel."
            };
            queue::enqueue(&mut *tx, &self.core.sealer, self.core.settings.coalesce, &tenant.id, &format!("note:{}:lapsed", r.id), &Write::Note {
                target: "contact".into(),
                id: r.contact_id as u64,
                text: format!("The identity verification (session {}) lapsed: its validity ended {since}.{again}", r.id),
            })
            .await?;
            queue::enqueue(&mut *tx, &self.core.sealer, self.core.settings.coalesce, &tenant.id, &format!("task:{}:lapsed", r.id), &Write::Task {
                target: "contact".into(),
                id: r.contact_id as u64,
                title: "Identity verification lapsed".into(),
                description: format!("The contact's identity verification (session {}) is no longer valid.{again}", r.id),
                due_date: clock::rfc3339(now + clock::DAY_MS),
                owner_id: None,
                owner_of_contact: Some(r.contact_id as u64),
            })
            .await?;
            tx.commit().await?;
            expired += 1;
            if tenant.policy.reverify_on_expiry && tenant.installed {
                let started = self
                    .sessions
                    .start_automatic(
                        &tenant,
                        r.contact_id,
                        &StartOptions::default(),
                        Origin::Automation,
                    )
                    .await;
                if let Err(e) = started {
                    tracing::warn!(tenant = %tenant.id, verification = %r.id, error = %e, "re-verification after expiry not started");
                }
            }
        }
        if expired > 0 {
            self.core.wake_sync.notify_one();
        }
        Ok(expired)
    }

    /// Ends the contact's valid verification after a change of its `changed` identity fields
    /// (`name`, `email`, `phone`): it reads as lapsed, the CRM fields follow, and the contact
    /// gets a note. The id of the session ended, if there was one.
    pub(super) async fn invalidate_on_change(
        &self,
        tenant: &TenantRow,
        contact: i64,
        changed: &[&str],
    ) -> Result<Option<String>> {
        let now = clock::now_ms();
        let sessions = self.core.sessions_of(&tenant.id, contact, 20).await?;
        let valid = sessions.iter().filter(|s| {
            s.kind == Kind::Idv
                && s.state == SessionState::Verified
                && s.valid_until.is_none_or(|v| v > now)
        });
        let what = changed.join(", ");
        let mut ended = None;
        for s in valid {
            let mut tx = self.core.store.begin().await?;
            let reason = format!("the contact's {what} changed after the verification");
            if !tx.end_verified(&s.id, &reason, now).await? {
                continue;
            }
            tx.audit(&tenant.id, "invalidated", &s.id, &format!("{what} changed"))
                .await?;
            self.queue
                .queue_contact_writes(&mut tx, tenant, contact)
                .await?;
            self.queue.queue_history(&mut tx, &tenant.id, &s.id).await?;
            queue::enqueue(&mut *tx, &self.core.sealer, self.core.settings.coalesce, &tenant.id, &format!("note:{}:invalidated", s.id), &Write::Note {
                target: "contact".into(),
                id: contact as u64,
                text: format!("The identity verification (session {}) no longer counts: the contact's {what} changed. Verify the customer again.", s.id),
            })
            .await?;
            tx.commit().await?;
            ended.get_or_insert_with(|| s.id.clone());
        }
        if ended.is_some() {
            self.core.wake_sync.notify_one();
        }
        Ok(ended)
    }

    /// Fails pending sessions that have had no provider session for longer than the start
    /// deadline (the process crashed mid start), so they no longer block a new start.
    pub async fn sweep_unstarted_once(&self) -> Result<usize> {
        let deadline = self
            .core
            .settings
            .start_deadline
            .max(self.core.settings.http_timeout * 3);
        let now = clock::now_ms();
        let stuck = self
            .core
            .store
            .unstarted_before(now - deadline.as_millis() as i64, 100)
            .await?;
        let mut failed = 0;
        for (id, tenant) in &stuck {
            let mut tx = self.core.store.begin().await?;
            if !tx
                .fail_unstarted(
                    id,
                    "the identity provider never confirmed this session; start a new one",
                    now,
                )
                .await?
            {
                continue;
            }
            tx.audit_facts(
                tenant,
                "start_failed",
                id,
                "no provider session before the deadline",
                Some(&reason(audit_reason::NO_PROVIDER_SESSION)),
            )
            .await?;
            tx.commit().await?;
            failed += 1;
        }
        Ok(failed)
    }

    /// Ends pending sessions the provider should have ended long ago (past the session's
    /// expiry by the pending grace, or without a known expiry older than the longest a
    /// session may wait): when the provider keeps failing reads they would otherwise stay
    /// pending for ever, block new starts and (step-ups) be polled every few seconds. They
    /// read expired, with the result's writes, as if the provider had said so.
    pub async fn expire_abandoned_once(&self) -> Result<usize> {
        let now = clock::now_ms();
        let grace = self.core.settings.pending_grace.as_millis() as i64;
        let longest = self.core.settings.max_pending.as_millis() as i64;
        let stale = self
            .core
            .store
            .abandoned_pending(now - grace, now - longest, 100)
            .await?;
        let mut expired = 0;
        for (id, tenant_id) in &stale {
            let Some(tenant) = self.core.tenants.get(tenant_id).await? else {
                continue;
            };
            let Some(row) = self.core.store.verification(tenant_id, id).await? else {
                continue;
            };
            let v = super::core::read_row(&self.core.sealer, row);
            let report = SessionReport {
                session_id: v.provider_session_id.clone().unwrap_or_default(),
                outcome: Outcome::Expired,
            };
            if self.results.apply_report(&tenant, &v, &report).await? {
                let mut tx = self.core.store.begin().await?;
                tx.audit_facts(
                    tenant_id,
                    "expired_locally",
                    id,
                    "no answer from the identity provider past the session's end",
                    Some(&reason(audit_reason::NO_ANSWER)),
                )
                .await?;
                tx.commit().await?;
                expired += 1;
            }
        }
        Ok(expired)
    }
}

/// An audit line's facts that are only its reason.
fn reason(code: &str) -> AuditFacts {
    AuditFacts {
        reason: Some(code.into()),
        ..Default::default()
    }
}
