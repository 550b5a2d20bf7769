//! A workflow action that starts a verification and, if the workflow asks, waits for its
//! result (HubSpot's `BLOCK`): the platform's callback is completed once, through the durable
//! write-back queue, with the result, or with `timeout` shortly before the platform's own
//! expiry if the customer has not finished by then.

use std::{sync::Arc, time::Duration};

use idv_types::{SessionState, Verification};
use serde_json::{json, Map, Value};

use super::{
    core::Core,
    deals::Deals,
    queue::{self, Queue, Write},
    start::Sessions,
    tenant::TenantRow,
    workflow::StartOptions,
};
use crate::{
    clock,
    domain::{origin::Origin, outputs::outputs_of},
    error::{AppError, Result},
};

/// How long before the platform's expiry a waiting action is completed with `timeout`.
pub const TIMEOUT_MARGIN: Duration = Duration::from_secs(15 * 60);
/// The longest a platform lets an action wait (U: HubSpot's one-week default).
pub const LONGEST_WAIT: Duration = Duration::from_secs(7 * 24 * 3600);

/// The record a workflow action runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionObject {
    Contact(i64),
    /// A deal: its primary contact is verified.
    Deal(i64),
}

/// One execution of the action, as the platform's signed request gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionCall {
    /// The platform's id of this execution (the same on its retries).
    pub callback_id: String,
    pub object: ActionObject,
    pub options: StartOptions,
    /// Wait for the result (else the action continues at once).
    pub wait: bool,
}

/// What the action answers: go on now, or wait (with how long the platform should wait).
#[derive(Debug, Clone, PartialEq)]
pub enum ActionAnswer {
    Done(Map<String, Value>),
    Wait {
        outputs: Map<String, Value>,
        for_at_most: Duration,
    },
}

/// The outputs of an action the platform would time out before the result came.
pub fn timeout_outputs() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("idv_result".into(), json!("timeout"));
    m.insert("idv_status".into(), json!("pending"));
    for k in ["idv_ial_level", "idv_verified_date", "idv_failure_reason"] {
        m.insert(k.into(), json!(""));
    }
    m
}

/// Runs workflow actions that wait for a result.
#[derive(Clone, Debug)]
pub struct Actions {
    core: Arc<Core>,
    sessions: Sessions,
    deals: Deals,
    queue: Queue,
}

impl Actions {
    pub fn new(core: Arc<Core>, sessions: Sessions, deals: Deals, queue: Queue) -> Self {
        Self {
            core,
            sessions,
            deals,
            queue,
        }
    }

    /// Runs one execution: starts (or finds) the contact's verification through the same
    /// start as every automation, and answers at once or waits for the result. A retry of
    /// the same execution finds what the first one started.
    pub async fn run_workflow_action(
        &self,
        tenant: &TenantRow,
        call: &ActionCall,
    ) -> Result<ActionAnswer> {
        if !tenant.installed {
            return Err(AppError::Forbidden(format!(
                "the app is not installed on {}",
                tenant.id
            )));
        }
        if let Some(id) = self
            .core
            .store
            .waiting_action(&tenant.id, &call.callback_id)
            .await?
        {
            let v = self.core.verification_view(&tenant.id, &id).await?;
            return Ok(self.wait_answer(&v));
        }
        let contact = match call.object {
            ActionObject::Contact(id) => id,
            ActionObject::Deal(deal) => self
                .deals
                .deal_info(tenant, deal, true)
                .await?
                .primary_contact
                .ok_or_else(|| {
                    AppError::Unprocessable(format!(
                        "deal {deal} has no contact to verify: associate one and enrol it again"
                    ))
                })?,
        };
        let (v, _) = self
            .sessions
            .start_automatic(tenant, contact, &call.options, Origin::Automation)
            .await?;
        if !call.wait || v.state != SessionState::Pending {
            return Ok(ActionAnswer::Done(outputs_of(&v)));
        }
        let answer = self.wait_answer(&v);
        if let ActionAnswer::Wait { for_at_most, .. } = &answer {
            let now = clock::now_ms();
            let waits_for = self
                .core
                .store
                .wait_action(
                    &tenant.id,
                    &call.callback_id,
                    &v.id,
                    now + for_at_most.as_millis() as i64,
                    now,
                )
                .await?;
            // The result may have come between the start and the record: complete now.
            let v = self.core.verification_view(&tenant.id, &waits_for).await?;
            if v.state != SessionState::Pending {
                let mut tx = self.core.store.begin().await?;
                self.queue
                    .queue_action_completions(&mut tx, &tenant.id, &v)
                    .await?;
                tx.commit().await?;
                self.core.wake_sync.notify_one();
            }
        }
        Ok(answer)
    }

    /// Wait until shortly after the session itself ends (the expiry sweep reports it as
    /// expired), within the platform's longest wait.
    fn wait_answer(&self, v: &Verification) -> ActionAnswer {
        if v.state != SessionState::Pending {
            return ActionAnswer::Done(outputs_of(v));
        }
        let now = clock::now_ms();
        let session_left = v
            .session_expires_at
            .as_deref()
            .and_then(clock::parse_rfc3339)
            .map(|end| Duration::from_millis((end - now).max(0) as u64))
            .unwrap_or(Duration::from_secs(24 * 3600));
        let hours = (session_left + TIMEOUT_MARGIN * 2).as_secs().div_ceil(3600);
        ActionAnswer::Wait {
            outputs: outputs_of(v),
            for_at_most: Duration::from_secs(hours * 3600).min(LONGEST_WAIT),
        }
    }

    /// Completes with `timeout` the actions whose platform expiry is near, before the
    /// platform times them out itself. Returns how many were completed.
    pub async fn time_out_actions_once(&self) -> Result<usize> {
        let now = clock::now_ms();
        let due = self
            .core
            .store
            .actions_running_out(now + TIMEOUT_MARGIN.as_millis() as i64, 100)
            .await?;
        let mut done = 0;
        for a in due {
            let mut tx = self.core.store.begin().await?;
            if !tx
                .complete_action(&a.tenant_id, &a.callback_id, "timeout", now)
                .await?
            {
                continue;
            }
            queue::enqueue(
                &mut *tx,
                &self.core.sealer,
                self.core.settings.coalesce,
                &a.tenant_id,
                &format!("action:{}", a.callback_id),
                &Write::CompleteAction {
                    callback_id: a.callback_id.clone(),
                    outputs: timeout_outputs(),
                },
            )
            .await?;
            tx.audit_facts(
                &a.tenant_id,
                "action_timeout",
                &a.verification_id,
                "the workflow's wait ended before the result",
                Some(&idv_types::AuditFacts {
                    reason: Some(idv_types::audit_reason::WAIT_ENDED.into()),
                    ..Default::default()
                }),
            )
            .await?;
            tx.commit().await?;
            done += 1;
        }
        if done > 0 {
            self.core.wake_sync.notify_one();
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use idv_types::Kind;

    use super::*;

    fn declared(outs: &Map<String, Value>) {
        let declared = &crate::domain::app_contract::contract()
            .workflow_action
            .output_fields;
        for (k, v) in outs {
            let allowed = declared
                .get(k)
                .unwrap_or_else(|| panic!("{k} is not an output of the action"));
            if let (Some(values), Some(v)) = (allowed, v.as_str().filter(|v| !v.is_empty())) {
                assert!(values.iter().any(|a| a == v), "{k}: {v} not in {values:?}");
            }
        }
    }

    #[test]
    fn every_output_is_one_the_action_declares_with_a_value_it_lists() {
        declared(&timeout_outputs());
        for state in [
            SessionState::Pending,
            SessionState::Verified,
            SessionState::Failed,
            SessionState::Expired,
            SessionState::Canceled,
            SessionState::Lapsed,
        ] {
            let v = Verification {
                id: "ver_1".into(),
                kind: Kind::Idv,
                state,
                contact_id: 1,
                deal_id: None,
                ticket_id: None,
                created_at: "2026-12-06T10:00:00Z".into(),
                completed_at: Some("2026-12-06T10:05:00Z".into()),
                hosted_url: None,
                qr_payload: None,
                session_expires_at: None,
                requested_by: None,
                failure_reason: None,
                failure_code: None,
                ial: None,
                document_type: None,
                match_confidence: None,
                requested_ial: None,
                identity_match: None,
                delivery: None,
                delivery_error: None,
            };
            declared(&outputs_of(&v));
        }
    }
}
