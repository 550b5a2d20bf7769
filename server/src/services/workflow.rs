//! A Workflow Automator *Trigger Webhook*, read: which event, which record, and what the workflow
//! chose for the verification it starts (`ial`, `document_types`, `delivery`, `force`). A
//! workflow is its own opt-in: it starts a verification whatever the policy's auto-verify box
//! says. The editor's *Test this webhook* call (unexpanded `{{…}}` placeholders, or
//! `"test": true`) is recognised and answered without starting anything.

use idv_types::{Delivery, DocumentType, IalLevel, StageId};
use serde_json::{json, Value};

pub use super::events::StartOptions;
use super::{
    events::{CrmEvent, StageRef},
    tenant::TenantRow,
};

/// A workflow's call: the event, the start options, and whether it is the editor's test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowCall {
    pub event: CrmEvent,
    pub options: StartOptions,
    /// The editor's *Test this webhook*: answer what would happen, start nothing.
    pub test: bool,
}

/// Whether a value still holds a workflow placeholder (`{{deal.id}}`): the editor's test call.
fn is_placeholder(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("{{") || s.contains("}}"),
        Value::Array(a) => a.iter().any(is_placeholder),
        _ => false,
    }
}

/// An optional input: absent, `null` and the empty string (an empty workflow field) are none.
fn given<'a>(body: &'a Value, key: &str) -> Option<&'a Value> {
    match body.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        v => v,
    }
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

/// A JSON number or numeric string as a positive id.
fn id_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().filter(|n| *n > 0),
        Value::String(s) => s.trim().parse::<i64>().ok().filter(|n| *n > 0),
        _ => None,
    }
}

fn required_id(body: &Value, key: &str) -> Result<i64, String> {
    given(body, key)
        .and_then(id_of)
        .ok_or_else(|| format!("{key} must be a positive integer (a record id)"))
}

fn optional_id(body: &Value, key: &str) -> Result<Option<i64>, String> {
    given(body, key)
        .map(|v| id_of(v).ok_or_else(|| format!("{key} must be a positive integer (a record id)")))
        .transpose()
}

/// A stage id: a number, or the CRM's text id.
fn optional_stage(body: &Value, key: &str) -> Result<Option<StageId>, String> {
    given(body, key)
        .map(|v| {
            id_of(v)
                .map(|id| StageId::from(id as u64))
                .or_else(|| v.as_str().and_then(StageId::new))
                .ok_or_else(|| {
                    format!("{key} must be a stage id (a number, or up to 100 characters)")
                })
        })
        .transpose()
}

/// The start inputs of a workflow (`ial`, `document_types`, `delivery`, `force`), each optional.
pub fn read_options(body: &Value) -> Result<StartOptions, String> {
    let ial = given(body, "ial")
        .map(|v| {
            v.as_str()
                .and_then(|s| IalLevel::parse(s.trim()))
                .ok_or_else(|| {
                    format!(
                        "ial must be \"IAL1\" or \"IAL2\", not {}",
                        short(&v.to_string())
                    )
                })
        })
        .transpose()?;
    // A list, or one comma-separated string (what a workflow's text field can hold).
    let names: Vec<String> = match given(body, "document_types") {
        None => Vec::new(),
        Some(Value::String(s)) => s.split(',').map(|p| p.trim().to_string()).collect(),
        Some(Value::Array(a)) if a.len() <= 3 => a
            .iter()
            .map(|d| d.as_str().map(|s| s.trim().to_string()))
            .collect::<Option<_>>()
            .ok_or("document_types must be a list of strings")?,
        Some(_) => {
            return Err(
                "document_types must be a list (or a comma-separated string) of drivers_license, passport, national_id"
                    .into(),
            )
        }
    };
    let mut document_types = Vec::new();
    for n in names.iter().filter(|n| !n.is_empty()) {
        let d = DocumentType::parse(n).ok_or_else(|| {
            format!(
                "unknown document type {:?}; use drivers_license, passport or national_id",
                short(n)
            )
        })?;
        if !document_types.contains(&d) {
            document_types.push(d);
        }
    }
    let delivery = given(body, "delivery")
        .map(|v| {
            v.as_str()
                .and_then(|s| Delivery::parse(s.trim()))
                .ok_or_else(|| {
                    format!(
                        "delivery must be \"show\", \"email\" or \"sms\", not {}",
                        short(&v.to_string())
                    )
                })
        })
        .transpose()?;
    let force = match given(body, "force") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("false") => false,
        Some(v) => {
            return Err(format!(
                "force must be true or false, not {}",
                short(&v.to_string())
            ))
        }
    };
    Ok(StartOptions {
        ial,
        document_types,
        delivery,
        force,
        ticket: None,
    })
}

/// Reads a Workflow Automator body: `{"event": "contact_created", "contact_id": …}` or
/// `{"event": "deal_stage_changed", "deal_id": …, "contact_id"?, "stage"?, "previous_stage_id"?}`,
/// with the optional start inputs `ial`, `document_types`, `delivery` and `force`. A body whose
/// values are unexpanded placeholders, or with `"test": true`, is the editor's test: its ids are
/// not read, its start inputs are checked.
pub fn from_workflow(body: &Value) -> Result<WorkflowCall, String> {
    let obj = body
        .as_object()
        .ok_or("the body must be a JSON object with an \"event\"")?;
    let test = obj.values().any(is_placeholder) || body.get("test") == Some(&Value::Bool(true));
    let event = body
        .get("event")
        .and_then(Value::as_str)
        .map(str::trim)
        .ok_or("the body needs an \"event\": \"contact_created\" or \"deal_stage_changed\"")?;
    let options = read_options(body)?;
    let event = match (event, test) {
        ("contact_created", true) => CrmEvent::ContactCreated { contact_id: 0 },
        ("contact_created", false) => CrmEvent::ContactCreated {
            contact_id: required_id(body, "contact_id")?,
        },
        ("deal_stage_changed", true) => CrmEvent::DealStageChanged {
            deal_id: 0,
            contact_id: None,
            stage: read_stage(body).ok().flatten(),
            previous_stage_id: None,
        },
        ("deal_stage_changed", false) => CrmEvent::DealStageChanged {
            deal_id: required_id(body, "deal_id")?,
            contact_id: optional_id(body, "contact_id")?,
            stage: read_stage(body)?,
            previous_stage_id: optional_stage(body, "previous_stage_id")?,
        },
        (other, _) => {
            return Err(format!(
                "unknown event {:?}; expected contact_created or deal_stage_changed",
                short(other)
            ))
        }
    };
    Ok(WorkflowCall {
        event,
        options,
        test,
    })
}

fn read_stage(body: &Value) -> Result<Option<StageRef>, String> {
    let Some(v) = given(body, "stage") else {
        return Ok(None);
    };
    if let Some(id) = id_of(v) {
        return Ok(Some(StageRef::Id(StageId::from(id as u64))));
    }
    match v.as_str().map(str::trim) {
        Some(name) if name.len() <= 100 && !is_placeholder(v) => {
            Ok(Some(StageRef::Name(name.to_string())))
        }
        _ => Err("stage must be a stage id or a name of at most 100 characters".into()),
    }
}

/// The answer to the editor's test call: the URL and secret are right, and what a real call
/// with these inputs would do.
pub fn test_answer(tenant: &TenantRow, call: &WorkflowCall, delivery: Delivery) -> Value {
    let o = &call.options;
    let ial = o.ial.unwrap_or(tenant.policy.default_ial).as_str();
    let docs = if o.document_types.is_empty() {
        "any document".to_string()
    } else {
        o.document_types
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let link = match delivery {
        Delivery::Show => "shown in the contact's IDV panel (the rep sends it)",
        Delivery::Email => "emailed to the contact by 1Kosmos",
        Delivery::Sms => "texted to the contact's phone by 1Kosmos",
    };
    let unless = if o.force {
        "even if one is pending or still valid (force)"
    } else {
        "unless one is pending or still valid"
    };
    let what = match &call.event {
        CrmEvent::ContactCreated { .. }
        | CrmEvent::ContactUpdated { .. }
        | CrmEvent::TicketCreated { .. } => format!(
            "start a verification ({ial}, {docs}) of the contact {unless}; the link is {link}, and the contact's owner gets a task"
        ),
        CrmEvent::DealStageChanged { .. } => {
            let back = if tenant.policy.revert_on_gate {
                ", and move the deal back to the stage it was in before until then"
            } else {
                ""
            };
            format!(
                "start a verification ({ial}, {docs}) of the deal's primary contact unless it is verified at {} or above; the link is {link}; the deal gets a note and a task{back}",
                tenant.policy.minimum().as_str()
            )
        }
    };
    json!({
        "accepted": true,
        "test": true,
        "message": format!("The webhook URL and secret are right. This was a test call (its values are placeholders or \"test\": true), so nothing was started. A real call would {what}."),
        "would": {
            "ial": ial,
            "document_types": o.document_types,
            "delivery": delivery,
            "force": o.force,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_workflow_bodies_with_ids_as_strings_or_numbers() {
        let call = from_workflow(&json!({"event": "deal_stage_changed", "deal_id": "77", "contact_id": 12, "stage": "Negotiation"})).unwrap();
        assert_eq!(
            call.event,
            CrmEvent::DealStageChanged {
                deal_id: 77,
                contact_id: Some(12),
                stage: Some(StageRef::Name("Negotiation".into())),
                previous_stage_id: None
            }
        );
        assert!(!call.test);
        assert_eq!(
            from_workflow(&json!({"event": "contact_created", "contact_id": "12"}))
                .unwrap()
                .event,
            CrmEvent::ContactCreated { contact_id: 12 }
        );
    }

    #[test]
    fn reads_the_start_inputs_and_refuses_bad_ones_with_a_reason() {
        let call = from_workflow(
            &json!({"event": "contact_created", "contact_id": 5, "ial": "IAL1",
            "document_types": "passport, national_id", "delivery": "sms", "force": "true"}),
        )
        .unwrap();
        assert_eq!(
            call.options,
            StartOptions {
                ial: Some(IalLevel::IAL1),
                document_types: vec![DocumentType::Passport, DocumentType::NationalId],
                delivery: Some(Delivery::Sms),
                force: true,
                ticket: None,
            }
        );
        let bad = |extra: Value| {
            let mut b = json!({"event": "contact_created", "contact_id": 5});
            b.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            from_workflow(&b).unwrap_err()
        };
        assert!(bad(json!({"ial": "IAL3"})).contains("ial"));
        assert!(bad(json!({"document_types": ["selfie"]})).contains("selfie"));
        assert!(bad(json!({"delivery": "pigeon"})).contains("delivery"));
        assert!(bad(json!({"force": 2})).contains("force"));
        assert!(bad(json!({"contact_id": "abc"})).contains("contact_id"));
        assert!(from_workflow(
            &json!({"event": "deal_stage_changed", "deal_id": 5, "stage": {"x": 1}})
        )
        .is_err());
        assert!(from_workflow(&json!([1])).is_err());
    }

    #[test]
    fn placeholders_or_test_true_make_a_test_call() {
        let call = from_workflow(
            &json!({"event": "deal_stage_changed", "deal_id": "{{deal.id}}", "stage": "{{deal.deal_stage}}"}),
        )
        .unwrap();
        assert!(call.test);
        let call =
            from_workflow(&json!({"event": "contact_created", "contact_id": 1, "test": true}))
                .unwrap();
        assert!(call.test);
        // A test call's start inputs are still checked.
        assert!(from_workflow(
            &json!({"event": "contact_created", "contact_id": "{{contact.id}}", "ial": "IAL9"})
        )
        .is_err());
    }
}
