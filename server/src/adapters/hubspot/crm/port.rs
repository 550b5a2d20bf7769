//! [`HubSpotCrm`] as the CRM port.

use idv_types::StageId;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{numeric_id, properties, HubSpotCrm};
use crate::{
    adapters::{hubspot::platform, note_html},
    clock,
    domain::{
        identity::{date_of_birth, DATE_OF_BIRTH_FIELD},
        phone::normalise_phone,
    },
    ports::crm::{
        ContactUpsert, Crm, CrmContact, CrmDeal, CrmError, CrmStage, FieldSpec, ModuleSpec,
        RecentContact, RecentDeal, RecentPage, Record, SetupFacts, UpsertedContact,
    },
};

/// The contact properties the services read (C: HubSpot's default contact properties; the
/// date of birth is the account's own, if it keeps one).
const CONTACT_READ: &[&str] = &[
    "firstname",
    "lastname",
    "email",
    "mobilephone",
    "phone",
    "hubspot_owner_id",
    DATE_OF_BIRTH_FIELD,
];

#[derive(Debug, Deserialize)]
struct Pipeline {
    id: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    stages: Vec<PipelineStage>,
}

#[derive(Debug, Deserialize)]
struct PipelineStage {
    id: String,
    #[serde(default)]
    label: String,
}

/// The record's object type and id, as the notes and tasks APIs associate them.
fn object_of(on: Record) -> Result<(&'static str, u64), CrmError> {
    match on {
        Record::Contact(id) => Ok(("contacts", id)),
        Record::Deal(id) => Ok(("deals", id)),
        Record::Ticket(id) => Err(CrmError::Unprocessable(format!(
            "tickets are not kept in HubSpot by this app (ticket {id})"
        ))),
    }
}

/// A property value as text, if it is set.
fn prop(v: &Value, name: &str) -> Option<String> {
    v.get("properties")
        .and_then(|p| p.get(name))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A create (POST) that finds the thing there already (409) is done.
fn created_or_there(r: Result<(reqwest::StatusCode, Value), CrmError>) -> Result<bool, CrmError> {
    match r {
        Ok(_) => Ok(true),
        Err(CrmError::Unprocessable(m)) if m.contains("already exists") => Ok(false),
        Err(e) => Err(e),
    }
}

impl HubSpotCrm {
    /// Makes what `find` (a GET) does not find, by a POST of `body` to `create`; whether it
    /// made it (there already, or made meanwhile: not made).
    async fn ensure(
        &self,
        find: &str,
        create: &str,
        body: &Value,
        what: &str,
    ) -> Result<bool, CrmError> {
        match self.call(Method::GET, find, None, what).await {
            Ok(_) => Ok(false),
            Err(CrmError::NotFound(_)) => {
                created_or_there(self.call(Method::POST, create, Some(body), what).await)
            }
            Err(e) => Err(e),
        }
    }

    async fn pipelines(&self) -> Result<Vec<Pipeline>, CrmError> {
        let what = "deal pipelines";
        let (_, v) = self
            .call(Method::GET, &platform::pipelines_path("deals"), None, what)
            .await?;
        Self::read(&v, "results", what)
    }

    async fn properties(&self) -> Result<Vec<properties::Property>, CrmError> {
        let what = "contact properties";
        let (_, v) = self
            .call(
                Method::GET,
                &platform::properties_path("contacts"),
                None,
                what,
            )
            .await?;
        Self::read(&v, "results", what)
    }

    async fn patch_contact(&self, id: u64, props: Map<String, Value>) -> Result<(), CrmError> {
        self.call(
            Method::PATCH,
            &format!("{}/{id}", platform::objects_path("contacts")),
            Some(&json!({ "properties": props })),
            &format!("contact {id}"),
        )
        .await?;
        Ok(())
    }

    /// Creates a note or task associated with one record.
    async fn engagement(
        &self,
        kind: &'static str,
        on: Record,
        properties: Value,
    ) -> Result<u64, CrmError> {
        let (object, id) = object_of(on)?;
        let type_id = self.association_type(kind, object).await?;
        let body = json!({
            "properties": properties,
            "associations": [{
                "to": { "id": id.to_string() },
                "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id }],
            }],
        });
        let what = kind.trim_end_matches('s');
        let (_, v) = self
            .call(
                Method::POST,
                &platform::objects_path(kind),
                Some(&body),
                what,
            )
            .await?;
        numeric_id(&v, what)
    }

    /// The marketing-suppression list: contacts whose `idv_status` is anything but
    /// `verified`, or empty. The filter's operator names are U (§8).
    fn suppression_list() -> Value {
        let filter = |operation: Value| {
            json!({ "filterBranchType": "AND", "filterBranches": [], "filters": [{
                "filterType": "PROPERTY", "property": "idv_status", "operation": operation,
            }]})
        };
        json!({
            "name": platform::SUPPRESSION_LIST,
            "objectTypeId": platform::CONTACTS_OBJECT_TYPE_ID,
            "processingType": "DYNAMIC",
            "filterBranch": {
                "filterBranchType": "OR",
                "filters": [],
                "filterBranches": [
                    filter(json!({"operationType": "ENUMERATION", "operator": "IS_NONE_OF", "values": ["verified"]})),
                    filter(json!({"operationType": "ALL_PROPERTY", "operator": "IS_UNKNOWN"})),
                ],
            },
        })
    }
}

#[async_trait::async_trait]
impl Crm for HubSpotCrm {
    fn name(&self) -> &'static str {
        "hubspot"
    }

    fn describe(&self) -> String {
        format!("HubSpot at {}", self.base())
    }

    async fn contact(&self, id: u64) -> Result<CrmContact, CrmError> {
        let what = format!("contact {id}");
        let (_, v) = self
            .call(
                Method::GET,
                &format!(
                    "{}/{id}?properties={}",
                    platform::objects_path("contacts"),
                    CONTACT_READ.join(",")
                ),
                None,
                &what,
            )
            .await?;
        let phone = prop(&v, "mobilephone")
            .or_else(|| prop(&v, "phone"))
            .and_then(|p| normalise_phone(&p, None).ok());
        Ok(CrmContact {
            first_name: prop(&v, "firstname"),
            last_name: prop(&v, "lastname"),
            email: prop(&v, "email"),
            phone,
            owner_id: prop(&v, "hubspot_owner_id").and_then(|o| o.parse().ok()),
            date_of_birth: prop(&v, DATE_OF_BIRTH_FIELD).and_then(|d| date_of_birth(&d)),
        })
    }

    /// A chat bot's upsert by email is Freshsales'; HubSpot's account is not written by bots.
    async fn upsert_contact(
        &self,
        _email: &str,
        _fields: &ContactUpsert,
    ) -> Result<UpsertedContact, CrmError> {
        Err(CrmError::Unprocessable(
            "a chat bot's start finds or creates contacts in Freshsales, not in HubSpot".into(),
        ))
    }

    async fn write_verification_fields(
        &self,
        contact: u64,
        fields: &Map<String, Value>,
    ) -> Result<(), CrmError> {
        self.patch_contact(contact, properties::values(fields))
            .await
    }

    async fn add_note(&self, on: Record, text: &str) -> Result<u64, CrmError> {
        self.engagement(
            "notes",
            on,
            json!({
                "hs_timestamp": clock::rfc3339(clock::now_ms()),
                "hs_note_body": note_html::escape(text),
            }),
        )
        .await
    }

    async fn add_task(
        &self,
        on: Record,
        title: &str,
        description: &str,
        due_date: &str,
        owner: Option<u64>,
    ) -> Result<u64, CrmError> {
        let mut props = json!({
            "hs_timestamp": due_date,
            "hs_task_subject": title,
            "hs_task_body": description,
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": "HIGH",
            "hs_task_type": "TODO",
        });
        if let Some(owner) = owner {
            props["hubspot_owner_id"] = json!(owner.to_string());
        }
        self.engagement("tasks", on, props).await
    }

    /// HubSpot has no custom module for a history: the contact keeps its latest
    /// verification's reference ([`properties::SESSION_REF`]); the notes are the history.
    async fn record_history(
        &self,
        _remote_id: Option<u64>,
        record: &Value,
    ) -> Result<Option<u64>, CrmError> {
        // The history record's fields (`custom_field`, as the services write it).
        let fields = record.get("custom_field").unwrap_or(record);
        let contact = fields.get("cf_contact_id").and_then(Value::as_u64);
        let session = fields.get("cf_session_id").and_then(Value::as_str);
        if let (Some(contact), Some(session)) = (contact, session) {
            let mut props = Map::new();
            props.insert(properties::SESSION_REF.into(), json!(session));
            self.patch_contact(contact, props).await?;
        }
        Ok(None)
    }

    async fn deal(&self, id: u64) -> Result<CrmDeal, CrmError> {
        let what = format!("deal {id}");
        let (_, v) = self
            .call(
                Method::GET,
                &format!(
                    "{}/{id}?properties=dealstage,pipeline",
                    platform::objects_path("deals")
                ),
                None,
                &what,
            )
            .await?;
        let stage_id = prop(&v, "dealstage").and_then(StageId::new);
        let what = format!("contacts of deal {id}");
        let (_, assoc) = self
            .call(
                Method::POST,
                &platform::association_batch_read_path("deals", "contacts"),
                Some(&json!({ "inputs": [{ "id": id.to_string() }] })),
                &what,
            )
            .await?;
        let contact_ids: Vec<u64> = assoc
            .get("results")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|r| r.get("to").and_then(Value::as_array).into_iter().flatten())
            .filter_map(|t| match t.get("toObjectId") {
                Some(Value::Number(n)) => n.as_u64(),
                Some(Value::String(s)) => s.parse().ok(),
                _ => None,
            })
            .collect();
        Ok(CrmDeal {
            stage_id,
            primary_contact: contact_ids.first().copied(),
            contact_ids,
        })
    }

    /// Sets `dealstage` with the stage's `pipeline` (C: §6 asks for it outside the default
    /// pipeline; a deal in another pipeline needs it to come back to the default one).
    async fn move_deal(&self, id: u64, stage: &StageId) -> Result<(), CrmError> {
        let pipelines = self.pipelines().await?;
        let pipeline = pipelines
            .iter()
            .find(|p| p.stages.iter().any(|s| s.id == stage.as_str()))
            .ok_or_else(|| {
                CrmError::Unprocessable(format!("HubSpot has no deal stage with the id {stage}"))
            })?;
        let props = json!({ "dealstage": stage.as_str(), "pipeline": pipeline.id });
        self.call(
            Method::PATCH,
            &format!("{}/{id}", platform::objects_path("deals")),
            Some(&json!({ "properties": props })),
            &format!("deal {id}"),
        )
        .await?;
        Ok(())
    }

    /// Every pipeline's stages; with more than one pipeline a stage's name says whose it is.
    async fn stages(&self) -> Result<Vec<CrmStage>, CrmError> {
        let pipelines = self.pipelines().await?;
        let several = pipelines.len() > 1;
        Ok(pipelines
            .iter()
            .flat_map(|p| {
                p.stages.iter().filter_map(move |s| {
                    Some(CrmStage {
                        id: StageId::new(s.id.clone())?,
                        name: if several && p.id != platform::DEFAULT_PIPELINE {
                            format!("{} · {}", p.label, s.label)
                        } else {
                            s.label.clone()
                        },
                    })
                })
            })
            .collect())
    }

    async fn contact_field_names(&self) -> Result<Vec<String>, CrmError> {
        Ok(self
            .properties()
            .await?
            .into_iter()
            .map(|p| p.name)
            .collect())
    }

    async fn setup_facts(&self) -> Result<SetupFacts, CrmError> {
        let account = self.properties().await?;
        let stages = self.stages().await?;
        Ok(SetupFacts {
            contact_fields: properties::have_fields(&account),
            modules: Vec::new(),
            stage_ids: stages.iter().map(|s| s.id.clone()).collect(),
            stage_names: stages.into_iter().map(|s| s.name).collect(),
        })
    }

    async fn create_module(&self, spec: &ModuleSpec) -> Result<(), CrmError> {
        Err(CrmError::Unprocessable(format!(
            "HubSpot keeps no custom module for this app ({}): the contact's notes are the history",
            spec.label
        )))
    }

    /// Creates the property in the app's group; one that exists already (409) is fine.
    async fn create_contact_field(&self, spec: &FieldSpec) -> Result<(), CrmError> {
        let r = self
            .call(
                Method::POST,
                &platform::properties_path("contacts"),
                Some(&properties::definition(spec)),
                &format!("contact property {}", properties::property_name(spec.name)),
            )
            .await;
        created_or_there(r).map(|_| ())
    }

    fn has_custom_modules(&self) -> bool {
        false
    }

    fn field_noun(&self) -> &'static str {
        "contact property"
    }

    fn limit_seen(&self) -> Option<crate::ports::crm::LimitSeen> {
        *self.last_limit.lock()
    }

    async fn recent_contacts(&self, page: u32) -> Result<RecentPage<RecentContact>, CrmError> {
        let found = self
            .newest_first("contacts", "createdate", &["createdate"], page)
            .await?;
        Ok(RecentPage {
            items: found
                .items
                .into_iter()
                .filter_map(|r| {
                    Some(RecentContact {
                        id: r.id,
                        created_at_ms: super::search::ms_of(r.properties.get("createdate"))?,
                    })
                })
                .collect(),
            more: found.more,
        })
    }

    async fn recent_deals(&self, page: u32) -> Result<RecentPage<RecentDeal>, CrmError> {
        let found = self
            .newest_first(
                "deals",
                "hs_lastmodifieddate",
                &["dealstage", "hs_lastmodifieddate"],
                page,
            )
            .await?;
        Ok(RecentPage {
            items: found
                .items
                .into_iter()
                .filter_map(|r| {
                    Some(RecentDeal {
                        id: r.id,
                        stage_id: r
                            .properties
                            .get("dealstage")
                            .and_then(Value::as_str)
                            .and_then(StageId::new),
                        updated_at_ms: super::search::ms_of(
                            r.properties.get("hs_lastmodifieddate"),
                        )?,
                    })
                })
                .collect(),
            more: found.more,
        })
    }

    /// `outputFields` as strings, and `typedOutputs: {}` (listed as required, C: §5).
    async fn complete_workflow_action(
        &self,
        callback_id: &str,
        outputs: &Map<String, Value>,
    ) -> Result<(), CrmError> {
        let id = platform::segment(callback_id);
        let body = json!({ "outputFields": properties::values(outputs), "typedOutputs": {} });
        self.call(
            Method::POST,
            &platform::action_callback_path(&id),
            Some(&body),
            &format!("completion of workflow action {callback_id}"),
        )
        .await?;
        Ok(())
    }

    /// The property group (before its properties), the session reference and the
    /// marketing-suppression list. A list refused for a missing optional scope is left out.
    async fn prepare(&self) -> Result<Vec<String>, CrmError> {
        let mut created = Vec::new();
        let group = format!(
            "{}/{}",
            platform::property_groups_path("contacts"),
            platform::PROPERTY_GROUP.0
        );
        if self
            .ensure(
                &group,
                &platform::property_groups_path("contacts"),
                &properties::group_definition(),
                "property group",
            )
            .await?
        {
            created.push(format!("property group {}", platform::PROPERTY_GROUP.1));
        }
        if !self
            .properties()
            .await?
            .iter()
            .any(|p| p.name == properties::SESSION_REF)
        {
            let r = self
                .call(
                    Method::POST,
                    &platform::properties_path("contacts"),
                    Some(&properties::session_ref_definition()),
                    "contact property idv_session_ref",
                )
                .await;
            if created_or_there(r)? {
                created.push("contact property IDV Session Reference".into());
            }
        }
        let by_name = format!(
            "{}/object-type-id/{}/name/{}",
            platform::lists_path(),
            platform::CONTACTS_OBJECT_TYPE_ID,
            platform::segment(platform::SUPPRESSION_LIST)
        );
        let list = self
            .ensure(
                &by_name,
                &platform::lists_path(),
                &Self::suppression_list(),
                "suppression list",
            )
            .await;
        match list {
            Ok(true) => created.push(format!("list {}", platform::SUPPRESSION_LIST)),
            Ok(false) => {}
            Err(CrmError::Unauthorized(m)) => {
                tracing::warn!(reason = %m, "the marketing-suppression list was not made")
            }
            Err(e) => return Err(e),
        }
        Ok(created)
    }
}
