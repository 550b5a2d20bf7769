//! Freshdesk as the CRM port: the ticket's requester is the contact; results go into the
//! contact's custom fields (their API names read from `GET /contact_fields`, matched by the
//! labels of [`crate::domain::setup`]), and a private note on the ticket. Freshdesk has no
//! deals, tasks or custom modules.

use serde_json::{json, Map, Value};

use super::{ContactField, FreshdeskClient};
use crate::{
    adapters::freshsales::normalise_phone,
    domain::{
        identity::{date_of_birth, DATE_OF_BIRTH_FIELD},
        setup::{FieldKind, CONTACT_FIELDS},
    },
    ports::crm::{
        ContactUpsert, Crm, CrmContact, CrmDeal, CrmError, CrmStage, FieldSpec, HaveField,
        ModuleSpec, Record, SetupFacts, UpsertedContact,
    },
};

/// Freshdesk's type name for a kind of field. UNCONFIRMED: `custom_number` (seen: `custom_text`,
/// `custom_date`, `custom_dropdown`).
pub fn freshdesk_type(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Dropdown(_) => "custom_dropdown",
        FieldKind::Date => "custom_date",
        FieldKind::Number => "custom_number",
        FieldKind::Text => "custom_text",
    }
}

/// The kind a Freshdesk type name stands for, in the set-up rule's words.
fn kind_name(freshdesk: &str) -> String {
    freshdesk
        .strip_prefix("custom_")
        .unwrap_or(freshdesk)
        .to_string()
}

/// The account's field for one of ours: by label, or by an API name equal to ours with or
/// without the `cf_` prefix (Freshdesk's prefix is UNCONFIRMED, so both are read).
fn account_field<'a>(fields: &'a [ContactField], spec: &FieldSpec) -> Option<&'a ContactField> {
    let bare = spec.name.trim_start_matches("cf_");
    fields
        .iter()
        .filter(|f| !f.default)
        .find(|f| f.label.eq_ignore_ascii_case(spec.label) || f.name == spec.name || f.name == bare)
}

fn choices_of(f: &ContactField) -> Vec<String> {
    match &f.choices {
        Value::Array(items) => items
            .iter()
            .filter_map(|c| match c {
                Value::String(s) => Some(s.clone()),
                other => other
                    .get("value")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            })
            .collect(),
        Value::Object(map) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

#[async_trait::async_trait]
impl Crm for FreshdeskClient {
    fn name(&self) -> &'static str {
        "freshdesk"
    }

    fn describe(&self) -> String {
        format!("Freshdesk at {}", self.base())
    }

    async fn contact(&self, id: u64) -> Result<CrmContact, CrmError> {
        let c = self.view_contact(id).await?;
        let (first, last) = match c.name.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => match n.rsplit_once(' ') {
                Some((f, l)) => (Some(f.to_string()), Some(l.to_string())),
                None => (Some(n.to_string()), None),
            },
            _ => (None, None),
        };
        let phone = c
            .mobile
            .as_deref()
            .or(c.phone.as_deref())
            .and_then(|p| normalise_phone(p, None).ok());
        // A date field of the account's own (`date_of_birth`), if it keeps one.
        let date_of_birth = c
            .custom_fields
            .get(DATE_OF_BIRTH_FIELD)
            .and_then(Value::as_str)
            .and_then(date_of_birth);
        Ok(CrmContact {
            first_name: first,
            last_name: last,
            email: c.email,
            phone,
            owner_id: None,
            date_of_birth,
        })
    }

    /// Freshdesk's API has no upsert by email on this route: a bot's start needs Freshsales.
    async fn upsert_contact(
        &self,
        _email: &str,
        _fields: &ContactUpsert,
    ) -> Result<UpsertedContact, CrmError> {
        Err(CrmError::Unprocessable(
            "Freshdesk has no upsert by email on this route: a chat bot's start finds or creates \
             contacts in Freshsales"
                .into(),
        ))
    }

    async fn write_verification_fields(
        &self,
        contact: u64,
        fields: &Map<String, Value>,
    ) -> Result<(), CrmError> {
        let account = self.contact_fields().await?;
        let mut out = Map::new();
        for (ours, value) in fields {
            let Some(spec) = CONTACT_FIELDS.iter().find(|s| s.name == ours) else {
                continue;
            };
            let Some(field) = account_field(&account, spec) else {
                return Err(CrmError::NotSetUp(format!(
                    "this Freshdesk account has no contact field {:?} ({}): an admin creates it",
                    spec.label,
                    spec.kind.describe()
                )));
            };
            out.insert(field.name.clone(), value.clone());
        }
        self.update_custom_fields(contact, &out).await
    }

    async fn ticket_requester(&self, id: u64) -> Result<u64, CrmError> {
        FreshdeskClient::ticket_requester(self, id).await
    }

    async fn add_note(&self, on: Record, text: &str) -> Result<u64, CrmError> {
        match on {
            Record::Ticket(t) => self.add_private_note(t, text).await,
            Record::Contact(_) | Record::Deal(_) => Err(CrmError::Unprocessable(
                "Freshdesk keeps notes on tickets only".into(),
            )),
        }
    }

    async fn add_task(
        &self,
        _on: Record,
        _title: &str,
        _description: &str,
        _due_date: &str,
        _owner: Option<u64>,
    ) -> Result<u64, CrmError> {
        Err(CrmError::Unprocessable(
            "Freshdesk has no tasks: the ticket's private note carries the result".into(),
        ))
    }

    /// Freshdesk has no custom modules: the ticket's note is the history.
    async fn record_history(
        &self,
        _remote_id: Option<u64>,
        _record: &Value,
    ) -> Result<Option<u64>, CrmError> {
        Ok(None)
    }

    async fn deal(&self, id: u64) -> Result<CrmDeal, CrmError> {
        Err(CrmError::NotFound(format!(
            "deal {id}: Freshdesk has no deals"
        )))
    }

    async fn move_deal(&self, id: u64, _stage: &idv_types::StageId) -> Result<(), CrmError> {
        Err(CrmError::NotFound(format!(
            "deal {id}: Freshdesk has no deals"
        )))
    }

    async fn stages(&self) -> Result<Vec<CrmStage>, CrmError> {
        Ok(Vec::new())
    }

    async fn contact_field_names(&self) -> Result<Vec<String>, CrmError> {
        Ok(self
            .contact_fields()
            .await?
            .into_iter()
            .map(|f| f.name)
            .collect())
    }

    /// The account's fields in the set-up rule's terms: each of ours found by label or name is
    /// reported under our name, with its Freshdesk type.
    async fn setup_facts(&self) -> Result<SetupFacts, CrmError> {
        let account = self.contact_fields().await?;
        let contact_fields = CONTACT_FIELDS
            .iter()
            .filter_map(|spec| {
                account_field(&account, spec).map(|f| HaveField {
                    name: spec.name.into(),
                    kind: kind_name(&f.kind),
                    choices: choices_of(f),
                })
            })
            .collect();
        Ok(SetupFacts {
            contact_fields,
            ..Default::default()
        })
    }

    async fn create_module(&self, spec: &ModuleSpec) -> Result<(), CrmError> {
        Err(CrmError::Unprocessable(format!(
            "Freshdesk has no custom modules ({})",
            spec.label
        )))
    }

    /// `POST /admin/contact_fields` (an admin's key); dropdown choices with their positions.
    async fn create_contact_field(&self, spec: &FieldSpec) -> Result<(), CrmError> {
        let mut body = json!({
            "label": spec.label,
            "label_for_customers": spec.label,
            "type": freshdesk_type(spec.kind),
            "required_for_agents": false,
            "customers_can_edit": false,
        });
        if let FieldKind::Dropdown(choices) = spec.kind {
            body["choices"] = choices
                .iter()
                .enumerate()
                .map(|(i, c)| json!({ "value": c, "position": i + 1 }))
                .collect();
        }
        self.post_contact_field(&body).await?;
        // The next write reads the fields again (with the new one's API name).
        self.forget_fields();
        Ok(())
    }

    fn has_custom_modules(&self) -> bool {
        false
    }
}
