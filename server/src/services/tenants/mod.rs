//! `Tenants`: every account's row, read through a short cache, and the clients of its
//! connections (CRM, identity provider, chat), built once per change of those connections;
//! `oauth.rs`: accounts that authorise the app by OAuth, and their tokens' refresh;
//! `passes.rs`: the tickets and sessions of the widget page a HubSpot card opens.

mod oauth;
mod passes;

use std::{collections::HashMap, sync::Arc, time::Duration};

use idv_types::Stage;
pub use oauth::Authorised;
use parking_lot::Mutex;
pub use passes::{WidgetSession, SESSION_LIFE, SESSION_PREFIX, TICKET_LIFE};

use super::tenant::{self, ConnectionsDigest, TenantRow};
use crate::{
    crypto::Sealer,
    error::{AppError, Result},
    ports::{
        Chat, ChatWebhooks, Connector, Crm, CrmConnection, CrmKind, CrmWebhooks, IdentityProvider,
    },
    store::Store,
};

/// Deal stages change rarely; deal pages are polled often and each read costs API budget.
pub const STAGES_TTL: Duration = Duration::from_secs(300);

/// How long a tenant's row is reused before it is read again. Changes made through this
/// process apply at once; other replicas see them within this time.
pub const TENANT_TTL: Duration = Duration::from_secs(2);

/// The tenant of an account that installed the app by OAuth (`hubspot-{portal id}`).
pub fn account_tenant(kind: CrmKind, account: &str) -> String {
    format!("{}-{account}", kind.as_str())
}

/// The tenants of this backend, their cached rows and their clients.
pub struct Tenants {
    store: Store,
    sealer: Sealer,
    connector: Arc<dyn Connector>,
    /// Each tenant's clients, with the digest of the connections they were built for: a
    /// key changed on another replica is picked up as soon as the tenant row is read again.
    clients: Mutex<HashMap<String, (ConnectionsDigest, Arc<Clients>)>>,
    /// Tenants read in the last [`TENANT_TTL`] (every request and callback needs one).
    rows: moka::sync::Cache<String, TenantRow>,
    /// Token hash → tenant id, for the same time.
    by_token: moka::sync::Cache<String, String>,
    /// Each tenant's deal stages, read from the CRM at most every [`STAGES_TTL`].
    stages: moka::sync::Cache<String, Vec<Stage>>,
}

/// A tenant's clients, built by the [`Connector`] from its connections; each is the client or
/// what keeps the account from having one.
struct Clients {
    provider: std::result::Result<Arc<dyn IdentityProvider>, String>,
    crm: std::result::Result<Arc<dyn Crm>, String>,
    chat: Option<Arc<dyn Chat>>,
    chat_webhooks: std::result::Result<Arc<dyn ChatWebhooks>, String>,
}

impl std::fmt::Debug for Tenants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenants")
            .field("cached", &self.rows.entry_count())
            .finish_non_exhaustive()
    }
}

impl Tenants {
    pub fn new(store: Store, sealer: Sealer, connector: Arc<dyn Connector>) -> Self {
        Self {
            store,
            sealer,
            connector,
            clients: Mutex::default(),
            rows: ttl_cache(TENANT_TTL),
            by_token: ttl_cache(TENANT_TTL),
            stages: ttl_cache(STAGES_TTL),
        }
    }

    /// A tenant's row, at most [`TENANT_TTL`] old.
    pub async fn get(&self, id: &str) -> Result<Option<TenantRow>> {
        if let Some(row) = self.rows.get(id) {
            return Ok(Some(row));
        }
        let row = tenant::load(&self.store, &self.sealer, id).await?;
        if let Some(r) = &row {
            self.rows.insert(id.to_string(), r.clone());
            self.by_token.insert(r.token_hash.clone(), r.id.clone());
        }
        Ok(row)
    }

    /// The tenant of an account that installed the app by OAuth; 403 when it has not (or
    /// uninstalled it).
    pub async fn installed_account(&self, kind: CrmKind, account: &str) -> Result<TenantRow> {
        self.get(&account_tenant(kind, account))
            .await?
            .filter(|t| t.installed)
            .ok_or_else(|| {
                AppError::Forbidden(format!(
                    "{} account {account} has not installed the app: an admin installs it first",
                    kind.product()
                ))
            })
    }

    /// The tenant a token hash belongs to (through the same cache).
    pub async fn by_token_hash(&self, hash: &str) -> Result<Option<TenantRow>> {
        if let Some(id) = self.by_token.get(hash) {
            if let Some(row) = self.get(&id).await? {
                // A rotated token: the cached hash no longer belongs to the tenant.
                if row.token_hash == hash {
                    return Ok(Some(row));
                }
            }
        }
        match self.store.tenant_by_token_hash(hash).await? {
            Some(t) => self.get(&t.id).await,
            None => Ok(None),
        }
    }

    /// Forgets a tenant's cached row, clients and stages after its settings change.
    pub fn forget(&self, tenant: &str) {
        self.clients.lock().remove(tenant);
        self.rows.invalidate(tenant);
        self.stages.invalidate(tenant);
    }

    /// The tenant's deal stages if read from its CRM in the last [`STAGES_TTL`].
    pub fn cached_stages(&self, tenant: &str) -> Option<Vec<Stage>> {
        self.stages.get(tenant)
    }

    /// Keeps the stages just read from the tenant's CRM.
    pub fn keep_stages(&self, tenant: &str, stages: Vec<Stage>) {
        self.stages.insert(tenant.to_string(), stages);
    }

    fn clients(&self, t: &TenantRow) -> Arc<Clients> {
        let digest = *t.connections_digest();
        if let Some((d, c)) = self.clients.lock().get(&t.id) {
            if *d == digest {
                return c.clone();
            }
        }
        let c = Arc::new(Clients {
            provider: match &t.provider {
                Some(p) => self.connector.identity(p),
                None => Err("this account has no 1Kosmos connection; the operator sets it with `server tenant add`".into()),
            },
            crm: match &t.crm {
                Some(c) => self.connector.crm(c),
                None => Err("this account has no CRM connection; reinstall the app with an API key".into()),
            },
            chat: t.chat.as_ref().map(|c| self.connector.chat(c)),
            chat_webhooks: match &t.chat_webhook_key {
                Some(pem) => self.connector.chat_webhooks(pem),
                None => Err("this account has no Freshchat webhook key; the operator sets it with `server tenant freshchat … --public-key-file`".into()),
            },
        });
        self.clients
            .lock()
            .insert(t.id.clone(), (digest, c.clone()));
        c
    }

    /// The tenant's CRM, if it has a usable connection.
    pub fn crm(&self, t: &TenantRow) -> Option<Arc<dyn Crm>> {
        self.clients(t).crm.clone().ok()
    }

    /// The tenant's CRM, or what keeps it from having one.
    pub fn crm_or_err(&self, t: &TenantRow) -> Result<Arc<dyn Crm>> {
        self.clients(t).crm.clone().map_err(AppError::Unprocessable)
    }

    /// A CRM for a connection that is not stored yet (the install checks the key first).
    pub fn crm_for(&self, c: &CrmConnection) -> Result<Arc<dyn Crm>> {
        self.connector.crm(c).map_err(AppError::Unprocessable)
    }

    /// The tenant's chat product, if it has a connection.
    pub fn chat(&self, t: &TenantRow) -> Option<Arc<dyn Chat>> {
        self.clients(t).chat.clone()
    }

    /// The verifier of the tenant's chat webhooks, or why there is none.
    pub fn chat_webhooks(
        &self,
        t: &TenantRow,
    ) -> std::result::Result<Arc<dyn ChatWebhooks>, String> {
        self.clients(t).chat_webhooks.clone()
    }

    /// The tenant's identity provider, or what keeps it from having one.
    pub fn provider(&self, t: &TenantRow) -> Result<Arc<dyn IdentityProvider>> {
        self.clients(t)
            .provider
            .clone()
            .map_err(AppError::Unprocessable)
    }

    /// The reader of a CRM platform's signed webhooks.
    pub fn crm_webhooks(&self, kind: CrmKind) -> Result<Arc<dyn CrmWebhooks>> {
        self.connector
            .crm_webhooks(kind)
            .map_err(AppError::Unprocessable)
    }

    /// The CRM's API root for the account address an admin gives at install.
    pub fn crm_base_url(
        &self,
        kind: CrmKind,
        account_url: &str,
        allow_any: bool,
    ) -> std::result::Result<String, String> {
        self.connector.crm_base_url(kind, account_url, allow_any)
    }
}

/// A bounded cache whose entries are read again after `ttl`.
fn ttl_cache<V: Clone + Send + Sync + 'static>(ttl: Duration) -> moka::sync::Cache<String, V> {
    moka::sync::Cache::builder()
        .max_capacity(10_000)
        .time_to_live(ttl)
        .build()
}
