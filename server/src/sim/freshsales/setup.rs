//! The simulated account's set-up: its custom contact fields and custom modules, as an admin
//! (or the app, for modules) creates them, and the checks writes meet against them.

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::{err, Account};
use crate::domain::setup::{FieldKind, FieldSpec, CONTACT_FIELDS, HISTORY_MODULE};

/// A field definition as the fields API answers it.
pub fn def_of(f: &FieldSpec) -> Value {
    let mut v = json!({ "name": f.name, "label": f.label, "type": f.kind.type_name() });
    if let FieldKind::Dropdown(choices) = f.kind {
        v["choices"] = choices.iter().map(|c| json!({ "value": c })).collect();
    }
    v
}

/// The set-up of an account where everything this app needs exists.
pub fn complete(a: &mut Account) {
    a.contact_fields = CONTACT_FIELDS.iter().map(def_of).collect();
    a.module_defs.insert(
        HISTORY_MODULE.name.into(),
        json!({
            "name": HISTORY_MODULE.name,
            "label": HISTORY_MODULE.label,
            "fields": HISTORY_MODULE.fields.iter().map(def_of).collect::<Vec<_>>(),
        }),
    );
}

fn names(defs: &[Value]) -> impl Iterator<Item = &str> {
    defs.iter().filter_map(|d| d["name"].as_str())
}

/// A write's `custom_field` keys must all be defined.
pub fn check_custom_fields(defs: &[Value], cf: &Map<String, Value>) -> Option<(StatusCode, Value)> {
    let bad = cf.keys().find(|k| !names(defs).any(|n| n == k.as_str()))?;
    Some(err(
        StatusCode::UNPROCESSABLE_ENTITY,
        &format!("Custom field {bad} does not exist"),
    ))
}

/// A record write to a custom module: the module and its fields must exist.
pub fn check_module_write(a: &Account, module: &str, rec: &Value) -> Option<(StatusCode, Value)> {
    let Some(def) = a.module_defs.get(module) else {
        return Some(err(StatusCode::NOT_FOUND, "Module not found"));
    };
    let defs = def["fields"].as_array().cloned().unwrap_or_default();
    let cf = rec.get("custom_field").and_then(Value::as_object)?;
    check_custom_fields(&defs, cf)
}

/// `GET /settings/module_customizations`.
pub fn list_modules(a: &Account) -> (StatusCode, Value) {
    let defs: Vec<&Value> = a.module_defs.values().collect();
    (StatusCode::OK, json!({ "module_customizations": defs }))
}

/// `POST /settings/module_customizations`: a module with its fields.
pub fn create_module(a: &mut Account, body: &Value) -> (StatusCode, Value) {
    let Some(m) = body.get("module_customization").and_then(Value::as_object) else {
        return err(StatusCode::BAD_REQUEST, "module_customization is required");
    };
    let (Some(name), Some(label)) = (
        m.get("name").and_then(Value::as_str),
        m.get("label").and_then(Value::as_str),
    ) else {
        return err(StatusCode::BAD_REQUEST, "name and label are required");
    };
    if !name.starts_with("cm_") {
        return err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Custom module names start with cm_",
        );
    }
    if a.module_defs.contains_key(name) {
        return err(StatusCode::UNPROCESSABLE_ENTITY, "Module already exists");
    }
    let fields = m.get("fields").cloned().unwrap_or_else(|| json!([]));
    let def = json!({ "name": name, "label": label, "fields": fields });
    a.module_defs.insert(name.into(), def.clone());
    (StatusCode::CREATED, json!({ "module_customization": def }))
}
