//! The account's set-up through the Freshsales API: fields with their types, custom modules,
//! and creating the history module.
//!
//! UNCONFIRMED (see `../shared/reference/freshworks.md` §6): the shapes of
//! `GET /settings/module_customizations` and of a module's creation with its fields, and the
//! fields API's type names. Creating fields on the standard Contact by API is UNCONFIRMED, so
//! the app does not try it ([`CONTACT_FIELDS_BY_API`]) and lists them for the admin.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Field, FreshsalesClient, FsError};
use crate::domain::setup::{FieldKind, FieldSpec, HaveField, ModuleSpec};

/// Whether Freshsales lets an app create custom fields on contacts (UNCONFIRMED: no).
pub const CONTACT_FIELDS_BY_API: bool = false;
/// Where a contact field would be created, were it offered (UNCONFIRMED).
pub const CONTACT_FIELDS_CREATE_PATH: &str = "/settings/contacts/fields";
pub const MODULE_CUSTOMIZATIONS_PATH: &str = "/settings/module_customizations";

#[derive(Debug, Deserialize)]
struct ModuleDef {
    name: String,
    #[serde(default)]
    fields: Vec<Field>,
}

impl From<Field> for HaveField {
    fn from(f: Field) -> Self {
        Self {
            name: f.name,
            kind: f.kind.unwrap_or_default().to_ascii_lowercase(),
            choices: f.choices.into_iter().map(|c| c.value).collect(),
        }
    }
}

/// A field definition as the creation call takes it.
pub fn field_body(f: &FieldSpec) -> Value {
    let mut v = json!({ "label": f.label, "name": f.name, "type": f.kind.type_name() });
    if let FieldKind::Dropdown(choices) = f.kind {
        v["choices"] = choices.iter().map(|c| json!({ "value": c })).collect();
    }
    v
}

impl FreshsalesClient {
    /// The account's custom modules with their fields.
    pub async fn custom_modules(&self) -> Result<Vec<(String, Vec<HaveField>)>, FsError> {
        let v = self
            .call(
                Method::GET,
                MODULE_CUSTOMIZATIONS_PATH,
                None,
                "module customisations (is the bundle alias right?)",
            )
            .await?;
        let defs: Vec<ModuleDef> = Self::field(v, "module_customizations")?;
        Ok(defs
            .into_iter()
            .map(|m| (m.name, m.fields.into_iter().map(HaveField::from).collect()))
            .collect())
    }

    /// Creates a custom module with its fields.
    pub async fn create_custom_module(&self, spec: &ModuleSpec) -> Result<(), FsError> {
        let body = json!({ "module_customization": {
            "label": spec.label,
            "name": spec.name,
            "fields": spec.fields.iter().map(field_body).collect::<Vec<_>>(),
        }});
        self.call(
            Method::POST,
            MODULE_CUSTOMIZATIONS_PATH,
            Some(body),
            "module customisations",
        )
        .await?;
        Ok(())
    }

    /// Creates a contact field (only called when [`CONTACT_FIELDS_BY_API`] says it exists).
    pub async fn create_contact_field_def(&self, spec: &FieldSpec) -> Result<(), FsError> {
        self.call(
            Method::POST,
            CONTACT_FIELDS_CREATE_PATH,
            Some(json!({ "field": field_body(spec) })),
            "contact fields",
        )
        .await?;
        Ok(())
    }
}
