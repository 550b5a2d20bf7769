//! The CRM port: what the services read from and write to the customer's CRM. Freshsales is the
//! first adapter; the messages of [`CrmError`] come from the adapter and say what to fix.

use idv_types::StageId;
use serde_json::{Map, Value};

pub use crate::domain::setup::{FieldSpec, HaveField, ModuleSpec};

/// A record a note or task is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    Contact(u64),
    Deal(u64),
    /// A help-desk ticket (Freshdesk): notes on it are private to agents.
    Ticket(u64),
}

/// A person, as the identity provider needs them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CrmContact {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    /// The best phone number, in E.164 when it can be read, else left out.
    pub phone: Option<String>,
    /// The CRM user who owns the contact (automation's tasks are assigned to them).
    pub owner_id: Option<u64>,
    /// `YYYY-MM-DD`, where the account keeps one (a `date_of_birth` contact field, see
    /// [`crate::domain::identity::DATE_OF_BIRTH_FIELD`]); compared with the document's.
    pub date_of_birth: Option<String>,
}

impl CrmContact {
    /// Who the CRM says the person is: the names (and date of birth) a document must show.
    pub fn holder(&self) -> crate::domain::identity::Holder {
        crate::domain::identity::Holder {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            date_of_birth: self.date_of_birth.clone(),
        }
    }
}

/// What a bot knows of a person, to find their contact by email or to create it
/// ([`Crm::upsert_contact`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactUpsert {
    /// Both names are needed to create a contact; an existing one keeps its own.
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// In E.164 (the caller leaves out a number that does not read as one).
    pub phone: Option<String>,
    /// Marketing consent (the contact's subscription status).
    pub marketing_consent: Option<bool>,
}

/// A contact [`Crm::upsert_contact`] found or created.
#[derive(Debug, Clone, PartialEq)]
pub struct UpsertedContact {
    pub id: u64,
    /// Created by this call (else found by its email).
    pub created: bool,
    pub contact: CrmContact,
}

/// A deal's stage and contacts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CrmDeal {
    pub stage_id: Option<StageId>,
    pub primary_contact: Option<u64>,
    /// Every contact on the deal (the primary first).
    pub contact_ids: Vec<u64>,
}

/// A stage of a deal pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrmStage {
    pub id: StageId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CrmError {
    /// The key is wrong or lacks rights.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    NotFound(String),
    /// The CRM refused this request (a missing field, a bad value): retrying will not help.
    #[error("{0}")]
    Unprocessable(String),
    #[error("{message}")]
    RateLimited {
        retry_after_secs: u64,
        message: String,
    },
    /// A passing failure: 5xx, timeout, unreachable.
    #[error("{0}")]
    Unavailable(String),
    /// An answer that cannot be read.
    #[error("{0}")]
    Protocol(String),
    /// The account lacks a field or module this write needs: the write waits until the
    /// set-up is complete.
    #[error("{0}")]
    NotSetUp(String),
}

impl CrmError {
    /// The wait the CRM asked for, if any.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// Retrying the same request later cannot succeed.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Self::NotFound(_) | Self::Unprocessable(_) | Self::Protocol(_)
        )
    }
}

/// What the services need from a CRM.
/// What a CRM's answer said of its rate limit (HubSpot's `X-HubSpot-RateLimit-*` headers):
/// the calls left in the interval it counts, that interval, and when it was said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSeen {
    pub remaining: u64,
    pub interval_ms: u64,
    pub at_ms: i64,
}

impl LimitSeen {
    /// Until when the CRM will refuse calls, when its answer said none are left: the end of its
    /// interval (a rolling one: at most that far from the answer). `None` while calls are left
    /// or once the interval has passed.
    pub fn spent_until(&self, now_ms: i64) -> Option<i64> {
        let end = self.at_ms + self.interval_ms as i64;
        (self.remaining == 0 && end > now_ms).then_some(end)
    }
}

#[async_trait::async_trait]
pub trait Crm: Send + Sync + std::fmt::Debug {
    /// A short lowercase name for reports (`freshsales`).
    fn name(&self) -> &'static str;
    /// The CRM and where it is, for operators (`Freshsales at https://…`).
    fn describe(&self) -> String;
    async fn contact(&self, id: u64) -> Result<CrmContact, CrmError>;
    /// Finds the contact with this email and sets what `fields` gives, or creates it (both
    /// names needed, else `Unprocessable`). `Unprocessable` too where the CRM has no upsert.
    async fn upsert_contact(
        &self,
        email: &str,
        fields: &ContactUpsert,
    ) -> Result<UpsertedContact, CrmError>;
    /// Writes the verification fields (field name → value) onto a contact.
    async fn write_verification_fields(
        &self,
        contact: u64,
        fields: &Map<String, Value>,
    ) -> Result<(), CrmError>;
    async fn add_note(&self, on: Record, text: &str) -> Result<u64, CrmError>;
    /// Adds a task, assigned to `owner` when given (else to the key's user).
    async fn add_task(
        &self,
        on: Record,
        title: &str,
        description: &str,
        due_date: &str,
        owner: Option<u64>,
    ) -> Result<u64, CrmError>;
    /// Creates (no `remote_id`) or updates the history record of a verification; returns the
    /// id of a created record.
    async fn record_history(
        &self,
        remote_id: Option<u64>,
        record: &Value,
    ) -> Result<Option<u64>, CrmError>;
    async fn deal(&self, id: u64) -> Result<CrmDeal, CrmError>;
    async fn move_deal(&self, id: u64, stage: &StageId) -> Result<(), CrmError>;
    async fn stages(&self) -> Result<Vec<CrmStage>, CrmError>;
    /// The API names of the contact fields the account has (to check the set-up).
    async fn contact_field_names(&self) -> Result<Vec<String>, CrmError>;
    /// What the account has of what this app needs: contact fields with their types, custom
    /// modules with their fields, the names of its deal stages.
    async fn setup_facts(&self) -> Result<SetupFacts, CrmError>;
    /// Creates a custom module with its fields.
    async fn create_module(&self, spec: &ModuleSpec) -> Result<(), CrmError>;
    /// Creates a contact field; `Err(Unprocessable)` where the CRM's API does not offer it.
    async fn create_contact_field(&self, spec: &FieldSpec) -> Result<(), CrmError>;
    /// The contact who raised ticket `id` (its requester). A CRM without tickets says so.
    async fn ticket_requester(&self, id: u64) -> Result<u64, CrmError> {
        Err(CrmError::Unprocessable(format!(
            "{} has no tickets (ticket {id})",
            self.name()
        )))
    }
    /// Creates what this CRM keeps for the app besides its contact fields and history module
    /// (HubSpot: the property group the fields sit in, the session reference, the
    /// marketing-suppression list), where missing; returns what it created, as an admin reads
    /// it. Run by the set-up check before the fields are created.
    async fn prepare(&self) -> Result<Vec<String>, CrmError> {
        Ok(Vec::new())
    }
    /// Completes a workflow action that waited for a verification's result, with the outputs
    /// a workflow branches on.
    async fn complete_workflow_action(
        &self,
        callback_id: &str,
        outputs: &Map<String, Value>,
    ) -> Result<(), CrmError> {
        let _ = outputs;
        Err(CrmError::Unprocessable(format!(
            "{} has no workflow actions that wait (callback {callback_id})",
            self.name()
        )))
    }
    /// What the CRM's last answer said of its rate limit, where its answers say (HubSpot's
    /// headers; Freshsales' are UNCONFIRMED, so nothing is read from them).
    fn limit_seen(&self) -> Option<LimitSeen> {
        None
    }
    /// What the CRM calls one of a contact's fields, as an admin reads it (`contact field`).
    fn field_noun(&self) -> &'static str {
        "contact field"
    }
    /// Whether the CRM has custom modules (where the history of verifications is kept).
    fn has_custom_modules(&self) -> bool {
        true
    }
    /// One page (from 1) of the account's contacts, newest created first: what the periodic
    /// check reads to catch contacts whose event never reached the backend. A CRM that cannot
    /// list them has nothing to reconcile.
    async fn recent_contacts(&self, page: u32) -> Result<RecentPage<RecentContact>, CrmError> {
        let _ = page;
        Ok(RecentPage::default())
    }
    /// One page (from 1) of the account's deals, newest updated first, with their stage.
    async fn recent_deals(&self, page: u32) -> Result<RecentPage<RecentDeal>, CrmError> {
        let _ = page;
        Ok(RecentPage::default())
    }
}

/// A page of a list of recent records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentPage<T> {
    pub items: Vec<T>,
    /// Whether a next page may hold more records.
    pub more: bool,
}

impl<T> Default for RecentPage<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            more: false,
        }
    }
}

/// A contact as a list of recently created contacts shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecentContact {
    pub id: u64,
    pub created_at_ms: i64,
}

/// A deal as a list of recently updated deals shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentDeal {
    pub id: u64,
    pub stage_id: Option<StageId>,
    pub updated_at_ms: i64,
}

/// An account's set-up, as [`Crm::setup_facts`] reads it.
#[derive(Debug, Clone, Default)]
pub struct SetupFacts {
    pub contact_fields: Vec<HaveField>,
    /// Module API name → its fields.
    pub modules: Vec<(String, Vec<HaveField>)>,
    pub stage_names: Vec<String>,
    pub stage_ids: Vec<StageId>,
}
