//! Automation: what a CRM event sets in motion, whichever way it arrived (the serverless
//! forwarder's `onContactCreate` / `onDealUpdate`, or a Workflow Automator *Trigger Webhook*).
//!
//! Contact created → start IDV if the tenant's policy says so. Deal moved into a gated stage with
//! an unverified primary contact → start IDV, add a note and a task, and (policy) move the deal
//! back. Both are idempotent: the engine never starts a second session while one is pending or
//! still valid, and notes and tasks are keyed so a repeated event adds none.

use idv_types::StartVerification;
use serde_json::Value;

use super::{sync, Engine, Origin, TenantRow, Write};
use crate::{clock, error::Result};

/// A CRM event in our terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrmEvent {
    ContactCreated {
        contact_id: i64,
    },
    DealStageChanged {
        deal_id: i64,
        /// The primary contact, when the sender knows it (else read from Freshsales).
        contact_id: Option<i64>,
        /// The stage entered: an id, or a name from a workflow's placeholder.
        stage: Option<StageRef>,
        /// The stage left, when known (needed to move the deal back).
        previous_stage_id: Option<i64>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageRef {
    Id(i64),
    Name(String),
}

/// What an event did, for the sender's 2xx body and the tests.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Handled {
    /// `started`, `already_pending_or_valid`, `not_gated`, `gate_satisfied`, `policy_off`,
    /// `no_contact`, `uninstalled`.
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_id: Option<String>,
    pub deal_moved_back: bool,
}

impl Handled {
    fn just(outcome: &'static str) -> Self {
        Self {
            outcome,
            verification_id: None,
            deal_moved_back: false,
        }
    }
}

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

/// Reads the serverless forwarder's body: `{event, data: {contact|deal, changes}}`. Stage
/// changes are read from `data.changes.model_changes.deal_stage_id` and from the older
/// `data.deal.changes.deal_stage_id`. `Ok(None)` for an event that needs no action (a deal
/// update that did not change the stage).
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
                stage: new.map(StageRef::Id),
                previous_stage_id: old,
            }))
        }
        other => Err(format!(
            "unknown event {:?}; expected onContactCreate or onDealUpdate",
            other.chars().take(40).collect::<String>()
        )),
    }
}

/// Reads a Workflow Automator body: `{"event": "contact_created", "contact_id": …}` or
/// `{"event": "deal_stage_changed", "deal_id": …, "contact_id": …, "stage": …}`.
pub fn from_workflow(body: &Value) -> std::result::Result<CrmEvent, String> {
    let event = body
        .get("event")
        .and_then(Value::as_str)
        .ok_or("the body needs an \"event\": \"contact_created\" or \"deal_stage_changed\"")?;
    match event {
        "contact_created" => Ok(CrmEvent::ContactCreated {
            contact_id: id_of(body.get("contact_id"))
                .ok_or("contact_id must be a positive integer")?,
        }),
        "deal_stage_changed" => {
            let stage = match body.get("stage") {
                None | Some(Value::Null) => None,
                Some(v) => match id_of(Some(v)) {
                    Some(id) => Some(StageRef::Id(id)),
                    None => match v.as_str().map(str::trim) {
                        Some(name) if !name.is_empty() && name.len() <= 100 => {
                            Some(StageRef::Name(name.to_string()))
                        }
                        _ => {
                            return Err(
                                "stage must be a stage id or a name of at most 100 characters"
                                    .into(),
                            )
                        }
                    },
                },
            };
            Ok(CrmEvent::DealStageChanged {
                deal_id: id_of(body.get("deal_id")).ok_or("deal_id must be a positive integer")?,
                contact_id: match body.get("contact_id") {
                    None | Some(Value::Null) => None,
                    v => Some(id_of(v).ok_or("contact_id must be a positive integer")?),
                },
                stage,
                previous_stage_id: id_of(body.get("previous_stage_id")),
            })
        }
        other => Err(format!(
            "unknown event {:?}; expected contact_created or deal_stage_changed",
            other.chars().take(40).collect::<String>()
        )),
    }
}

impl Engine {
    /// Acts on a CRM event per the tenant's policy.
    pub async fn handle_event(&self, tenant: &TenantRow, event: &CrmEvent) -> Result<Handled> {
        self.metrics.events_accepted.inc();
        if !tenant.installed {
            return Ok(Handled::just("uninstalled"));
        }
        match event {
            CrmEvent::ContactCreated { contact_id } => {
                if !tenant.policy.auto_verify_on_create {
                    return Ok(Handled::just("policy_off"));
                }
                let (v, new) = self
                    .start_idv(tenant, *contact_id, &automatic(), None, Origin::Automation)
                    .await?;
                Ok(Handled {
                    outcome: if new {
                        "started"
                    } else {
                        "already_pending_or_valid"
                    },
                    verification_id: Some(v.id),
                    deal_moved_back: false,
                })
            }
            CrmEvent::DealStageChanged {
                deal_id,
                contact_id,
                stage,
                previous_stage_id,
            } => {
                self.deal_entered_stage(
                    tenant,
                    *deal_id,
                    *contact_id,
                    stage.as_ref(),
                    *previous_stage_id,
                )
                .await
            }
        }
    }

    async fn deal_entered_stage(
        &self,
        tenant: &TenantRow,
        deal: i64,
        contact: Option<i64>,
        stage: Option<&StageRef>,
        previous: Option<i64>,
    ) -> Result<Handled> {
        if tenant.policy.gated_stages.is_empty() {
            return Ok(Handled::just("not_gated"));
        }
        let info = self.deal_info(tenant, deal, true).await?;
        let (all, gated) = self.stages(tenant).await?;
        let entered = match stage {
            Some(StageRef::Id(id)) => all.iter().find(|s| s.id as i64 == *id).cloned(),
            Some(StageRef::Name(name)) => all
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(name))
                .cloned(),
            None => info
                .stage_id
                .and_then(|id| all.iter().find(|s| s.id as i64 == id).cloned()),
        };
        let Some(entered) = entered.filter(|s| gated.contains(s)) else {
            return Ok(Handled::just("not_gated"));
        };
        let Some(contact) = contact.or(info.primary_contact) else {
            // Nobody to verify: say so on the deal, once per stage entry.
            let mut conn = self.store.writer().await?;
            sync::enqueue(&mut conn, &self.sealer, self.settings.coalesce, &tenant.id, &format!("note:gate:{deal}:{}:nocontact", entered.id), &Write::Note {
                target: "deal".into(),
                id: deal as u64,
                text: format!("Stage \"{}\" needs a verified primary contact, and this deal has no contact.", entered.name),
            })
            .await?;
            self.wake_sync.notify_one();
            return Ok(Handled::just("no_contact"));
        };
        let status = self.contact_status(tenant, contact).await?;
        if crate::domain::gate::meets(&status, tenant.policy.minimum()) {
            return Ok(Handled::just("gate_satisfied"));
        }
        let (v, _new) = self
            .start_idv(tenant, contact, &automatic(), None, Origin::Automation)
            .await?;
        let revert_to =
            previous.filter(|p| tenant.policy.revert_on_gate && *p != entered.id as i64);
        let mut tx = self.store.begin().await?;
        let key = format!("gate:{deal}:{}:{}", entered.id, v.id);
        let moved = match revert_to {
            Some(prev) => {
                sync::enqueue(
                    &mut tx,
                    &self.sealer,
                    self.settings.coalesce,
                    &tenant.id,
                    &format!("deal:{deal}:stage"),
                    &Write::DealStage {
                        deal_id: deal as u64,
                        stage_id: prev as u64,
                    },
                )
                .await?;
                // The widget reads the cached deal: show the stage it is being moved back to.
                tx.set_cached_deal_stage(&tenant.id, deal, prev, clock::now_ms())
                    .await?;
                " The deal was moved back to its previous stage until then."
            }
            None => "",
        };
        sync::enqueue(&mut tx, &self.sealer, self.settings.coalesce, &tenant.id, &format!("note:{key}"), &Write::Note {
            target: "deal".into(),
            id: deal as u64,
            text: format!(
                "Stage \"{}\" needs a verified primary contact. Identity verification started for contact {contact} (session {}).{moved}",
                entered.name, v.id
            ),
        })
        .await?;
        let due = clock::rfc3339(clock::now_ms() + clock::DAY_MS);
        sync::enqueue(&mut tx, &self.sealer, self.settings.coalesce, &tenant.id, &format!("task:{key}"), &Write::Task {
            target: "deal".into(),
            id: deal as u64,
            title: "Get the customer's identity verified".into(),
            description: format!(
                "The deal entered \"{}\", which needs a verified primary contact. Send the customer the verification link from the contact's Freshsales IDV panel.",
                entered.name
            ),
            due_date: due,
        })
        .await?;
        tx.audit(
            &tenant.id,
            "gate",
            &v.id,
            &format!("deal {deal} entered stage {}", entered.id),
        )
        .await?;
        tx.commit().await?;
        self.wake_sync.notify_one();
        Ok(Handled {
            outcome: "started",
            verification_id: Some(v.id),
            deal_moved_back: revert_to.is_some(),
        })
    }
}

/// The request automation makes: the tenant's default IAL, all document types.
fn automatic() -> StartVerification {
    StartVerification {
        requested_by: Some("automation".into()),
        ..Default::default()
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
                stage: Some(StageRef::Id(4)),
                previous_stage_id: Some(3)
            })
        );
        assert_eq!(
            from_forwarder(&classic).unwrap(),
            Some(CrmEvent::DealStageChanged {
                deal_id: 89,
                contact_id: None,
                stage: Some(StageRef::Id(3)),
                previous_stage_id: Some(2)
            })
        );
        let no_stage_change = json!({"event": "onDealUpdate", "data": {"deal": {"id": 88},
            "changes": {"model_changes": {"amount": [1, 2]}}}});
        assert_eq!(from_forwarder(&no_stage_change).unwrap(), None);
    }

    #[test]
    fn refuses_malformed_events_with_a_reason() {
        assert!(from_forwarder(
            &json!({"event": "onContactCreate", "data": {"contact": {"id": -1}}})
        )
        .is_err());
        assert!(from_forwarder(&json!({"event": "onTicketCreate", "data": {}})).is_err());
        assert!(from_forwarder(&json!({"data": {}})).is_err());
        assert!(from_workflow(
            &json!({"event": "deal_stage_changed", "deal_id": 5, "stage": {"x": 1}})
        )
        .is_err());
        assert!(from_workflow(&json!({"event": "contact_created", "contact_id": "abc"})).is_err());
    }

    #[test]
    fn reads_workflow_bodies_with_ids_as_strings_or_numbers() {
        assert_eq!(
            from_workflow(&json!({"event": "deal_stage_changed", "deal_id": "77", "contact_id": 12, "stage": "Negotiation"})).unwrap(),
            CrmEvent::DealStageChanged { deal_id: 77, contact_id: Some(12), stage: Some(StageRef::Name("Negotiation".into())), previous_stage_id: None }
        );
        assert_eq!(
            from_workflow(&json!({"event": "contact_created", "contact_id": "12"})).unwrap(),
            CrmEvent::ContactCreated { contact_id: 12 }
        );
    }
}
