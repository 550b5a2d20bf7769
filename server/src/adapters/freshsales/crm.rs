//! Freshsales as the CRM port.

use idv_types::StageId;
use serde_json::{Map, Value};

use super::{normalise_phone, Contact, FreshsalesClient, FsError, Target, HISTORY_MODULE};
use crate::domain::identity::{date_of_birth, DATE_OF_BIRTH_FIELD};
use crate::ports::crm::{
    ContactUpsert, Crm, CrmContact, CrmDeal, CrmError, CrmStage, FieldSpec, ModuleSpec,
    RecentContact, RecentDeal, RecentPage, Record, SetupFacts, UpsertedContact,
};

/// A refusal of a write that names a field or module the account lacks.
fn not_set_up(e: FsError, what: &str) -> CrmError {
    match &e {
        FsError::Unprocessable(m) if m.to_ascii_lowercase().contains("field") => {
            CrmError::NotSetUp(format!("Freshsales refused the {what}: {m}"))
        }
        FsError::NotFound(_) if what.contains("module") => CrmError::NotSetUp(format!(
            "the custom module {HISTORY_MODULE} does not exist in this account"
        )),
        _ => e.into(),
    }
}

impl From<FsError> for CrmError {
    fn from(e: FsError) -> Self {
        let message = e.to_string();
        match e {
            FsError::Unauthorized(_) => Self::Unauthorized(message),
            FsError::NotFound(_) => Self::NotFound(message),
            FsError::Unprocessable(_) => Self::Unprocessable(message),
            FsError::RateLimited(secs) => Self::RateLimited {
                retry_after_secs: secs,
                message,
            },
            FsError::Unavailable(_) | FsError::Timeout | FsError::Unreachable(_) => {
                Self::Unavailable(message)
            }
            FsError::Protocol(_) => Self::Protocol(message),
        }
    }
}

/// A contact as the services need it: the best phone in E.164, or none.
fn person(c: Contact) -> CrmContact {
    let phone = c
        .mobile_number
        .as_deref()
        .or(c.work_number.as_deref())
        .and_then(|p| normalise_phone(p, None).ok());
    // A date field of the account's own (`cf_date_of_birth`), if it keeps one.
    let date_of_birth = c
        .custom_field
        .get(&format!("cf_{DATE_OF_BIRTH_FIELD}"))
        .and_then(Value::as_str)
        .and_then(date_of_birth);
    CrmContact {
        first_name: c.first_name,
        last_name: c.last_name,
        email: c.email,
        phone,
        owner_id: c.owner_id,
        date_of_birth,
    }
}

fn target(r: Record) -> Result<Target, CrmError> {
    match r {
        Record::Contact(id) => Ok(Target::Contact(id)),
        Record::Deal(id) => Ok(Target::Deal(id)),
        Record::Ticket(id) => Err(CrmError::Unprocessable(format!(
            "Freshsales has no tickets (ticket {id}): notes on tickets go to Freshdesk"
        ))),
    }
}

#[async_trait::async_trait]
impl Crm for FreshsalesClient {
    fn name(&self) -> &'static str {
        "freshsales"
    }

    fn describe(&self) -> String {
        format!("Freshsales at {}", self.base())
    }

    async fn contact(&self, id: u64) -> Result<CrmContact, CrmError> {
        Ok(person(self.view_contact(id).await?))
    }

    async fn upsert_contact(
        &self,
        email: &str,
        fields: &ContactUpsert,
    ) -> Result<UpsertedContact, CrmError> {
        let answer = FreshsalesClient::upsert_contact(self, email, fields).await?;
        Ok(UpsertedContact {
            id: answer.contact.id,
            created: answer.created,
            contact: person(answer.contact),
        })
    }

    async fn write_verification_fields(
        &self,
        contact: u64,
        fields: &Map<String, Value>,
    ) -> Result<(), CrmError> {
        self.update_contact_fields(contact, fields)
            .await
            .map_err(|e| not_set_up(e, "contact fields"))
    }

    async fn add_note(&self, on: Record, text: &str) -> Result<u64, CrmError> {
        Ok(self.create_note(target(on)?, text).await?)
    }

    async fn add_task(
        &self,
        on: Record,
        title: &str,
        description: &str,
        due_date: &str,
        owner: Option<u64>,
    ) -> Result<u64, CrmError> {
        Ok(self
            .create_task(target(on)?, title, description, due_date, owner)
            .await?)
    }

    async fn record_history(
        &self,
        remote_id: Option<u64>,
        record: &Value,
    ) -> Result<Option<u64>, CrmError> {
        match remote_id {
            Some(id) => {
                self.update_module_record(HISTORY_MODULE, id, record)
                    .await
                    .map_err(|e| not_set_up(e, "history module record"))?;
                Ok(None)
            }
            None => Ok(Some(
                self.create_module_record(HISTORY_MODULE, record)
                    .await
                    .map_err(|e| not_set_up(e, "history module record"))?,
            )),
        }
    }

    async fn deal(&self, id: u64) -> Result<CrmDeal, CrmError> {
        let d = self.view_deal(id).await?;
        Ok(CrmDeal {
            stage_id: d.deal_stage_id.map(StageId::from),
            primary_contact: d.primary_contact(),
            contact_ids: d.contact_ids,
        })
    }

    async fn move_deal(&self, id: u64, stage: &StageId) -> Result<(), CrmError> {
        let stage_id = stage.as_u64().ok_or_else(|| {
            CrmError::Unprocessable(format!("{stage} is not a Freshsales stage id (a number)"))
        })?;
        Ok(self.update_deal_stage(id, stage_id).await?)
    }

    async fn stages(&self) -> Result<Vec<CrmStage>, CrmError> {
        Ok(self
            .deal_stages()
            .await?
            .into_iter()
            .map(|s| CrmStage {
                id: s.id.into(),
                name: s.name,
            })
            .collect())
    }

    /// The first call of an install and of `server check`: its errors say what to fix.
    async fn contact_field_names(&self) -> Result<Vec<String>, CrmError> {
        match self.contact_fields().await {
            Ok(fields) => Ok(fields.into_iter().map(|f| f.name).collect()),
            Err(FsError::NotFound(_)) => Err(CrmError::NotFound(
                "Freshsales has no API at this address: the account URL (bundle alias) is wrong; \
                 use the address you sign in at, e.g. https://acme.myfreshworks.com"
                    .into(),
            )),
            Err(e @ (FsError::Unreachable(_) | FsError::Timeout)) => Err(CrmError::Unavailable(
                format!("{e}: check the account URL and that this machine can reach it over HTTPS"),
            )),
            Err(e) => Err(e.into()),
        }
    }

    async fn setup_facts(&self) -> Result<SetupFacts, CrmError> {
        let contact_fields = self.contact_fields().await?;
        let modules = self.custom_modules().await?;
        let stages = self.deal_stages().await?;
        Ok(SetupFacts {
            contact_fields: contact_fields.into_iter().map(Into::into).collect(),
            modules,
            stage_ids: stages.iter().map(|s| s.id.into()).collect(),
            stage_names: stages.into_iter().map(|s| s.name).collect(),
        })
    }

    async fn create_module(&self, spec: &ModuleSpec) -> Result<(), CrmError> {
        Ok(self.create_custom_module(spec).await?)
    }

    async fn create_contact_field(&self, spec: &FieldSpec) -> Result<(), CrmError> {
        if !super::CONTACT_FIELDS_BY_API {
            return Err(CrmError::Unprocessable(format!(
                "Freshsales offers apps no way to create contact fields: an admin creates {:?} \
                 in Admin Settings → Module customization → Contacts",
                spec.label
            )));
        }
        Ok(self.create_contact_field_def(spec).await?)
    }

    async fn recent_contacts(&self, page: u32) -> Result<RecentPage<RecentContact>, CrmError> {
        Ok(self.contacts_page(page).await?)
    }

    async fn recent_deals(&self, page: u32) -> Result<RecentPage<RecentDeal>, CrmError> {
        Ok(self.deals_page(page).await?)
    }
}
