//! Automation: what a CRM event sets in motion, whichever way it arrived (the serverless
//! forwarder's `onContactCreate` / `onContactUpdate` / `onDealUpdate`, or a Workflow Automator
//! *Trigger Webhook*).
//!
//! Contact created → start IDV: for a forwarded event if the tenant's policy says so, for a
//! workflow always (a workflow is its own opt-in). Contact's name, email or phone changed →
//! (policy) end a valid verification. Deal moved into a gated stage with an unverified primary
//! contact → start IDV, add a note and a task, and (policy) move the deal back to the stage the
//! backend last saw it in. Starts by automation send the link by the policy's automation
//! delivery and give the contact's owner a task and the contact a note. All of it is
//! idempotent: the engine never starts a second session while one is pending or still valid,
//! and notes and tasks are keyed so a repeated event adds none.

use std::sync::Arc;

use idv_types::{SessionState, StageId};
use serde_json::Value;

pub use super::events::{Authority, CrmEvent, Handled, StageRef};
use crate::domain::origin::Origin;
mod gate;

use super::{
    core::Core, deals::Deals, events::StartOptions, expiry::Expiry, start::Sessions,
    status::Status, tenant::TenantRow, workflow::WorkflowCall,
};
use crate::error::{AppError, Result};

/// The `inbound_events` source of the contacts whose creation was acted on.
pub const CONTACT_CREATED_SOURCE: &str = "contact_created";

/// A JSON number or numeric string as a positive id.
fn id_of(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().filter(|n| *n > 0),
        Value::String(s) => s.trim().parse::<i64>().ok().filter(|n| *n > 0),
        _ => None,
    }
}

/// `[old, new]` as the platform reports a change.
fn change_pair(v: Option<&Value>) -> Option<(Option<i64>, Option<i64>)> {
    let arr = v?.as_array()?;
    (arr.len() == 2).then(|| (id_of(arr.first()), id_of(arr.get(1))))
}

/// The contact fields that make up a person's identity, and what they are.
const IDENTITY_FIELDS: [(&str, &str); 8] = [
    ("first_name", "name"),
    ("last_name", "name"),
    ("display_name", "name"),
    ("email", "email"),
    ("emails", "email"),
    ("mobile_number", "phone"),
    ("work_number", "phone"),
    ("phone_numbers", "phone"),
];

/// Which identity fields a contact update changed (`name`, `email`, `phone`), read from the
/// forwarder's `data.changed_fields` (names only), or the platform's `data.changes.model_changes`
/// and the older `data.contact.changes`.
fn identity_changes(data: &Value) -> Vec<&'static str> {
    let mut out = Vec::new();
    let named = data.get("changed_fields").and_then(Value::as_array);
    for field in named.into_iter().flatten().filter_map(Value::as_str) {
        if let Some((_, what)) = IDENTITY_FIELDS.iter().find(|(f, _)| *f == field) {
            if !out.contains(what) {
                out.push(*what);
            }
        }
    }
    for at in ["/changes/model_changes", "/contact/changes"] {
        let Some(changes) = data.pointer(at).and_then(Value::as_object) else {
            continue;
        };
        for (field, what) in IDENTITY_FIELDS {
            if changes.contains_key(field) && !out.contains(&what) {
                out.push(what);
            }
        }
    }
    out
}

/// Reads the serverless forwarder's body: `{event, data: {contact|deal, changes}}`. Stage
/// changes are read from `data.changes.model_changes.deal_stage_id` and from the older
/// `data.deal.changes.deal_stage_id`. `Ok(None)` for an event that needs no action (a deal
/// update that did not change the stage, a contact update that changed no identity field).
pub fn from_forwarder(body: &Value) -> std::result::Result<Option<CrmEvent>, String> {
    let event = body
        .get("event")
        .and_then(Value::as_str)
        .ok_or("the body needs an \"event\" string")?;
    let data = body.get("data").ok_or("the body needs a \"data\" object")?;
    match event {
        "onContactCreate" => {
            let id = id_of(data.pointer("/contact/id"))
                .ok_or("data.contact.id must be a positive integer")?;
            Ok(Some(CrmEvent::ContactCreated { contact_id: id }))
        }
        "onContactUpdate" => {
            let id = id_of(data.pointer("/contact/id"))
                .ok_or("data.contact.id must be a positive integer")?;
            let changed = identity_changes(data);
            Ok((!changed.is_empty()).then_some(CrmEvent::ContactUpdated {
                contact_id: id,
                changed,
            }))
        }
        "onDealUpdate" => {
            let deal_id =
                id_of(data.pointer("/deal/id")).ok_or("data.deal.id must be a positive integer")?;
            let change = change_pair(data.pointer("/changes/model_changes/deal_stage_id"))
                .or_else(|| change_pair(data.pointer("/deal/changes/deal_stage_id")));
            let Some((old, new)) = change else {
                return Ok(None);
            };
            let new = new.or_else(|| id_of(data.pointer("/deal/deal_stage_id")));
            Ok(Some(CrmEvent::DealStageChanged {
                deal_id,
                contact_id: None,
                stage: new.map(|s| StageRef::Id(StageId::from(s as u64))),
                previous_stage_id: old.map(|s| StageId::from(s as u64)),
            }))
        }
        "onTicketCreate" => {
            let ticket_id = id_of(data.pointer("/ticket/id"))
                .ok_or("data.ticket.id must be a positive integer")?;
            let requester_id = id_of(data.pointer("/ticket/requester_id"))
                .or_else(|| id_of(data.pointer("/requester/id")))
                .ok_or("data.ticket.requester_id must be a positive integer")?;
            let ticket_type = data
                .pointer("/ticket/type")
                .and_then(Value::as_str)
                .map(|t| t.chars().take(100).collect());
            Ok(Some(CrmEvent::TicketCreated {
                ticket_id,
                requester_id,
                ticket_type,
                group_id: id_of(data.pointer("/ticket/group_id")),
            }))
        }
        other => Err(format!(
            "unknown event {:?}; expected onContactCreate, onContactUpdate, onDealUpdate or onTicketCreate",
            other.chars().take(40).collect::<String>()
        )),
    }
}

/// Acts on CRM events and workflow calls, and gates deals.
#[derive(Clone, Debug)]
pub struct Automation {
    core: Arc<Core>,
    sessions: Sessions,
    deals: Deals,
    status: Status,
    expiry: Expiry,
}

impl Automation {
    pub fn new(
        core: Arc<Core>,
        sessions: Sessions,
        deals: Deals,
        status: Status,
        expiry: Expiry,
    ) -> Self {
        Self {
            core,
            sessions,
            deals,
            status,
            expiry,
        }
    }

    /// Acts on an event the app's serverless forwarder sent, per the tenant's policy.
    pub async fn handle_event(&self, tenant: &TenantRow, event: &CrmEvent) -> Result<Handled> {
        self.handle(
            tenant,
            event,
            Authority::Forwarded,
            &StartOptions::default(),
        )
        .await
    }

    /// Acts on a workflow's call (not its editor's test: see [`Sessions::workflow_delivery`](Sessions::workflow_delivery)).
    pub async fn handle_workflow(
        &self,
        tenant: &TenantRow,
        call: &WorkflowCall,
    ) -> Result<Handled> {
        self.sessions.workflow_delivery(tenant, &call.options)?;
        self.handle(tenant, &call.event, Authority::Workflow, &call.options)
            .await
    }

    async fn handle(
        &self,
        tenant: &TenantRow,
        event: &CrmEvent,
        authority: Authority,
        options: &StartOptions,
    ) -> Result<Handled> {
        self.core.metrics.events_accepted.inc();
        if !tenant.installed {
            return Ok(Handled::just("uninstalled"));
        }
        match event {
            CrmEvent::ContactCreated { contact_id } => {
                if authority == Authority::Forwarded && !tenant.policy.auto_verify_on_create {
                    return Ok(Handled::just("policy_off"));
                }
                // A person whose data was erased here is not started again by a late report of
                // their creation (the forwarder's retry, the periodic check reading them again).
                if authority == Authority::Forwarded
                    && self
                        .core
                        .store
                        .contact_forgotten(&tenant.id, *contact_id)
                        .await?
                {
                    return Ok(Handled::just("forgotten"));
                }
                // The app's own report of a new contact is acted on once, whether the forwarder
                // or the periodic check of missed events brought it.
                let seen = format!("contact:{contact_id}:created");
                if authority == Authority::Forwarded
                    && !self
                        .core
                        .store
                        .record_delivery(&tenant.id, CONTACT_CREATED_SOURCE, &seen)
                        .await?
                {
                    return Ok(Handled::just("already_seen"));
                }
                let started = self
                    .sessions
                    .start_automatic(tenant, *contact_id, options, Origin::Automation)
                    .await;
                if started.is_err() && authority == Authority::Forwarded {
                    // Not acted on: the next delivery or check tries again.
                    self.core
                        .store
                        .forget_delivery(&tenant.id, CONTACT_CREATED_SOURCE, &seen)
                        .await?;
                }
                let (v, new) = started?;
                let outcome = if new {
                    "started"
                } else {
                    "already_pending_or_valid"
                };
                Ok(Handled::session(outcome, &v))
            }
            CrmEvent::ContactUpdated {
                contact_id,
                changed,
            } => {
                if !tenant.policy.invalidate_on_identity_change {
                    return Ok(Handled::just("policy_off"));
                }
                let ended = self
                    .expiry
                    .invalidate_on_change(tenant, *contact_id, changed)
                    .await?;
                Ok(match ended {
                    Some(id) => Handled {
                        verification_id: Some(id),
                        state: Some(SessionState::Lapsed),
                        ..Handled::just("invalidated")
                    },
                    None => Handled::just("nothing_to_invalidate"),
                })
            }
            CrmEvent::DealStageChanged {
                deal_id,
                contact_id,
                stage,
                previous_stage_id,
            } => {
                if authority == Authority::Forwarded {
                    // The platform's own report of the move: the deal's history.
                    if let Some(StageRef::Id(to)) = stage {
                        self.core
                            .store
                            .saw_deal_stage(
                                &tenant.id,
                                *deal_id,
                                previous_stage_id.as_ref().map(StageId::as_str),
                                to.as_str(),
                            )
                            .await?;
                    }
                }
                self.deal_entered_stage(
                    tenant,
                    &gate::Entry {
                        deal: *deal_id,
                        contact: *contact_id,
                        stage: stage.as_ref(),
                        claimed_previous: match authority {
                            Authority::Forwarded => None,
                            Authority::Workflow => previous_stage_id.clone(),
                        },
                        authority,
                        recheck: false,
                    },
                    options,
                )
                .await
            }
            CrmEvent::TicketCreated {
                ticket_id,
                requester_id,
                ticket_type,
                group_id,
            } => {
                if !tenant.crm_kind.has_tickets() {
                    return Err(AppError::Unprocessable(format!(
                        "onTicketCreate comes from a help desk; this account is installed in {}",
                        tenant.crm_kind.product()
                    )));
                }
                if !tenant
                    .policy
                    .verifies_ticket(ticket_type.as_deref(), *group_id)
                {
                    return Ok(Handled::just("policy_off"));
                }
                let options = StartOptions {
                    ticket: Some(*ticket_id as u64),
                    ..options.clone()
                };
                let (v, new) = self
                    .sessions
                    .start_automatic(tenant, *requester_id, &options, Origin::Automation)
                    .await?;
                let outcome = if new {
                    "started"
                } else {
                    "already_pending_or_valid"
                };
                Ok(Handled::session(outcome, &v))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_both_forms_of_a_stage_change() {
        let current = json!({"event": "onDealUpdate", "data": {"deal": {"id": 88, "deal_stage_id": 4},
            "changes": {"model_changes": {"deal_stage_id": [3, 4]}}}});
        let classic = json!({"event": "onDealUpdate", "data": {"deal": {"id": 89, "deal_stage_id": 3,
            "changes": {"deal_stage_id": [2, 3]}}}});
        assert_eq!(
            from_forwarder(&current).unwrap(),
            Some(CrmEvent::DealStageChanged {
                deal_id: 88,
                contact_id: None,
                stage: Some(StageRef::Id(4.into())),
                previous_stage_id: Some(3.into())
            })
        );
        assert_eq!(
            from_forwarder(&classic).unwrap(),
            Some(CrmEvent::DealStageChanged {
                deal_id: 89,
                contact_id: None,
                stage: Some(StageRef::Id(3.into())),
                previous_stage_id: Some(2.into())
            })
        );
        let no_stage_change = json!({"event": "onDealUpdate", "data": {"deal": {"id": 88},
            "changes": {"model_changes": {"amount": [1, 2]}}}});
        assert_eq!(from_forwarder(&no_stage_change).unwrap(), None);
    }

    #[test]
    fn reads_which_identity_fields_a_contact_update_changed() {
        let update = json!({"event": "onContactUpdate", "data": {"contact": {"id": 7},
            "changes": {"model_changes": {"first_name": ["A", "B"], "mobile_number": ["1", "2"], "job_title": ["x", "y"]}}}});
        assert_eq!(
            from_forwarder(&update).unwrap(),
            Some(CrmEvent::ContactUpdated {
                contact_id: 7,
                changed: vec!["name", "phone"]
            })
        );
        let classic = json!({"event": "onContactUpdate", "data": {"contact": {"id": 7,
            "changes": {"email": ["a@x", "b@x"]}}}});
        assert_eq!(
            from_forwarder(&classic).unwrap(),
            Some(CrmEvent::ContactUpdated {
                contact_id: 7,
                changed: vec!["email"]
            })
        );
        let forwarded = json!({"event": "onContactUpdate", "data": {"contact": {"id": 7},
            "changed_fields": ["job_title", "last_name"]}});
        assert_eq!(
            from_forwarder(&forwarded).unwrap(),
            Some(CrmEvent::ContactUpdated {
                contact_id: 7,
                changed: vec!["name"]
            })
        );
        let other = json!({"event": "onContactUpdate", "data": {"contact": {"id": 7},
            "changes": {"model_changes": {"job_title": ["x", "y"]}}}});
        assert_eq!(from_forwarder(&other).unwrap(), None);
    }

    #[test]
    fn refuses_malformed_events_with_a_reason() {
        assert!(from_forwarder(
            &json!({"event": "onContactCreate", "data": {"contact": {"id": -1}}})
        )
        .is_err());
        assert!(from_forwarder(&json!({"event": "onTicketCreate", "data": {}})).is_err());
        assert!(from_forwarder(&json!({"data": {}})).is_err());
    }
}
