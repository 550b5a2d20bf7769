//! This app's contact properties as HubSpot keeps them: the set-up's fields
//! ([`CONTACT_FIELDS`], `cf_idv_*`) become `idv_*` properties with valid `type`/`fieldType`
//! pairs, plus the session reference; their values are written as HubSpot reads them (dates
//! `YYYY-MM-DD`, numbers without separators, an empty string to clear). Facts:
//! `shared/reference/hubspot.md` §3.

use serde_json::{json, Map, Value};

use super::super::platform::PROPERTY_GROUP;
use crate::domain::setup::{FieldKind, FieldSpec, HaveField, CONTACT_FIELDS};

/// The property holding the reference of the contact's latest verification (the design keeps
/// it on the contact; HubSpot has no custom module for a history).
pub const SESSION_REF: &str = "idv_session_ref";

/// The boolean property (HubSpot's own true/false pair, so that lists filter on it).
const BOOLEAN: &str = "idv_liveid_enrolled";

/// HubSpot's name for one of ours: `cf_idv_status` → `idv_status`.
pub fn property_name(ours: &str) -> &str {
    ours.strip_prefix("cf_").unwrap_or(ours)
}

/// The `type` and `fieldType` a field is created with (C: the pairs of §3).
pub fn type_pair(name: &str, kind: FieldKind) -> (&'static str, &'static str) {
    match kind {
        _ if name == BOOLEAN => ("bool", "booleancheckbox"),
        FieldKind::Dropdown(_) => ("enumeration", "select"),
        FieldKind::Date => ("date", "date"),
        FieldKind::Number => ("number", "number"),
        FieldKind::Text => ("string", "text"),
    }
}

/// The creation body of one of our fields as a HubSpot property in the app's group.
pub fn definition(spec: &FieldSpec) -> Value {
    let name = property_name(spec.name);
    let (kind, field_type) = type_pair(name, spec.kind);
    let mut body = json!({
        "name": name,
        "label": spec.label,
        "type": kind,
        "fieldType": field_type,
        "groupName": PROPERTY_GROUP.0,
        "formField": false,
    });
    match spec.kind {
        _ if name == BOOLEAN => {
            body["options"] = json!([
                {"label": "Yes", "value": "true", "displayOrder": 0, "hidden": false},
                {"label": "No", "value": "false", "displayOrder": 1, "hidden": false},
            ]);
        }
        FieldKind::Dropdown(choices) => {
            body["options"] = choices
                .iter()
                .enumerate()
                .map(|(i, c)| json!({"label": c, "value": c, "displayOrder": i, "hidden": false}))
                .collect();
        }
        _ => {}
    }
    body
}

/// The session reference's creation body.
pub fn session_ref_definition() -> Value {
    json!({
        "name": SESSION_REF,
        "label": "IDV Session Reference",
        "type": "string",
        "fieldType": "text",
        "groupName": PROPERTY_GROUP.0,
        "formField": false,
        "description": "The reference of the contact's latest identity verification (no personal data)",
    })
}

/// The property group's creation body (U: `name`, `label`, `displayOrder`).
pub fn group_definition() -> Value {
    json!({ "name": PROPERTY_GROUP.0, "label": PROPERTY_GROUP.1, "displayOrder": -1 })
}

/// A HubSpot property definition as the answer of `GET /crm/properties/…` gives it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Property {
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(rename = "fieldType", default)]
    pub field_type: String,
    #[serde(default)]
    pub options: Vec<PropertyOption>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct PropertyOption {
    pub value: String,
}

/// The account's properties in the set-up rule's words: each of ours found by its HubSpot
/// name is reported under our name, with the kind its type stands for.
pub fn have_fields(account: &[Property]) -> Vec<HaveField> {
    CONTACT_FIELDS
        .iter()
        .filter_map(|spec| {
            let p = account
                .iter()
                .find(|p| p.name == property_name(spec.name))?;
            let kind = match (p.kind.as_str(), p.field_type.as_str()) {
                ("enumeration", _) | ("bool", _) => "dropdown",
                ("date", _) => "date",
                ("number", _) => "number",
                ("string", _) => "text",
                (other, _) => other,
            };
            Some(HaveField {
                name: spec.name.into(),
                kind: kind.into(),
                choices: p.options.iter().map(|o| o.value.clone()).collect(),
            })
        })
        .collect()
}

/// The verification fields (`cf_` names) as the properties of a contact update: names
/// without the prefix, every value a string (HubSpot's form), `""` to clear.
pub fn values(fields: &Map<String, Value>) -> Map<String, Value> {
    fields
        .iter()
        .map(|(k, v)| (property_name(k).to_string(), Value::String(text(v))))
        .collect()
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        // One period, no thousands separators, no exponent (C: §3).
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            Some(f) => format!("{f}"),
            None => n.to_string(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_field_gets_a_valid_type_pair_in_the_apps_group() {
        let pairs: Vec<_> = CONTACT_FIELDS
            .iter()
            .map(|f| {
                let d = definition(f);
                (
                    d["name"].as_str().unwrap().to_string(),
                    d["type"].as_str().unwrap().to_string(),
                    d["fieldType"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let pair = |n: &str| pairs.iter().find(|p| p.0 == n).cloned().unwrap();
        assert_eq!(pair("idv_status").1, "enumeration");
        assert_eq!(pair("idv_liveid_enrolled").2, "booleancheckbox");
        assert_eq!(pair("idv_verified_date").1, "date");
        assert_eq!(pair("idv_match_confidence").2, "number");
        assert_eq!(pair("idv_credential_did").1, "string");
        assert!(CONTACT_FIELDS
            .iter()
            .all(|f| definition(f)["groupName"] == PROPERTY_GROUP.0));
        let status = definition(&CONTACT_FIELDS[0]);
        assert!(status["options"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["value"] == "verified"));
    }

    #[test]
    fn values_are_strings_hubspot_reads() {
        let mut m = Map::new();
        m.insert("cf_idv_status".into(), json!("verified"));
        m.insert("cf_idv_match_confidence".into(), json!(1234.0));
        m.insert("cf_idv_verified_date".into(), json!("2030-02-03"));
        m.insert("cf_idv_credential_did".into(), Value::Null);
        let v = values(&m);
        assert_eq!(v["idv_status"], "verified");
        assert_eq!(v["idv_match_confidence"], "1234");
        assert_eq!(v["idv_verified_date"], "2030-02-03");
        assert_eq!(v["idv_credential_did"], "");
    }
}
