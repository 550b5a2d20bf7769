//! Tenants: connections (sealed secrets) and policy.

use std::sync::Arc;

use idv_types::{Delivery, IalLevel};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::{
    crypto::{at, Sealer},
    error::{AppError, Result},
    ports::{ChatConnection, CrmAuth, CrmConnection, OAuthTokens, ProviderConnection},
    store::{SealedColumn, SealedConnections, Store, WebhookSecret},
};
pub use crate::{
    domain::identity::MismatchPolicy,
    ports::{CrmKind, ProviderSettings},
};

/// What an admin chooses at install (iparams) or with `server tenant set-policy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// Start IDV when a contact is created.
    pub auto_verify_on_create: bool,
    /// Stage names or ids that need a verified primary contact.
    pub gated_stages: Vec<String>,
    /// Move a deal back to its previous stage when it enters a gated one unverified.
    pub revert_on_gate: bool,
    /// How long a verification stays valid.
    pub validity_days: i64,
    /// IAL requested by automation.
    pub default_ial: IalLevel,
    /// The lowest IAL this account accepts: no request may ask for less, and a gate is passed
    /// only by a valid verification at or above it.
    pub min_ial: IalLevel,
    /// How a link started by automation reaches the customer; unset: `email` when the
    /// account's provider offers it, else `show`.
    pub automation_delivery: Option<Delivery>,
    /// When a verification lapses, start a new one (with the automation delivery).
    pub reverify_on_expiry: bool,
    /// A change of the contact's name, email or phone ends a valid verification.
    pub invalidate_on_identity_change: bool,
    /// Freshdesk: when a ticket is created, verify its requester (with the automation delivery).
    pub verify_new_tickets: bool,
    /// Freshdesk: only tickets of these types (empty: any type).
    pub ticket_types: Vec<String>,
    /// Freshdesk: only tickets of these groups (empty: any group).
    pub ticket_group_ids: Vec<i64>,
    /// Freshdesk: how many minutes a verification counts as fresh enough for account changes
    /// (the ticket sidebar says whether the requester verified within them).
    pub fresh_minutes: i64,
    /// A document that names another person than the CRM contact: `fail` the verification, or
    /// hold it for `review` (not verified either way; the contact's owner gets a task).
    pub identity_mismatch: MismatchPolicy,
    /// Write the contact's BlockID credential DID into its CRM field, where every user of the
    /// account reads it. Off: the DID stays sealed in the backend (step-ups still work).
    pub publish_credential_did: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            auto_verify_on_create: false,
            gated_stages: Vec::new(),
            revert_on_gate: false,
            validity_days: 365,
            default_ial: IalLevel::IAL2,
            min_ial: IalLevel::IAL1,
            automation_delivery: None,
            reverify_on_expiry: false,
            invalidate_on_identity_change: false,
            verify_new_tickets: false,
            ticket_types: Vec::new(),
            ticket_group_ids: Vec::new(),
            fresh_minutes: 30,
            publish_credential_did: false,
            identity_mismatch: MismatchPolicy::Fail,
        }
    }
}

impl Policy {
    /// The lowest IAL this account accepts.
    pub fn minimum(&self) -> IalLevel {
        self.min_ial
    }

    /// How automation sends a link, given what the provider `offers`: the policy's choice if
    /// the provider offers it, else `email` if offered, else `show`.
    pub fn automation_delivery(&self, offers: &[Delivery]) -> Delivery {
        [self.automation_delivery, Some(Delivery::Email)]
            .into_iter()
            .flatten()
            .find(|d| offers.contains(d))
            .unwrap_or(Delivery::Show)
    }

    /// Whether the requester of a new ticket of `ticket_type` in `group` is verified.
    pub fn verifies_ticket(&self, ticket_type: Option<&str>, group: Option<i64>) -> bool {
        let type_ok = self.ticket_types.is_empty()
            || ticket_type.is_some_and(|t| {
                self.ticket_types
                    .iter()
                    .any(|want| want.trim().eq_ignore_ascii_case(t.trim()))
            });
        let group_ok = self.ticket_group_ids.is_empty()
            || group.is_some_and(|g| self.ticket_group_ids.contains(&g));
        self.verify_new_tickets && type_ok && group_ok
    }

    /// Checks an admin's choices; the message says what to fix.
    pub fn validate(&self) -> Result<()> {
        if !(1..=3650).contains(&self.validity_days) {
            return Err(AppError::Unprocessable(
                "validity_days must be between 1 and 3650".into(),
            ));
        }
        let (default, min) = (self.default_ial, self.min_ial);
        if default < min {
            return Err(AppError::Unprocessable(format!(
                "default_ial {} is below min_ial {}",
                default.as_str(),
                min.as_str()
            )));
        }
        if self.gated_stages.len() > 50
            || self
                .gated_stages
                .iter()
                .any(|s| s.trim().is_empty() || s.len() > 100)
        {
            return Err(AppError::Unprocessable(
                "gated_stages must be up to 50 non-empty stage names or ids".into(),
            ));
        }
        if !(1..=10_080).contains(&self.fresh_minutes) {
            return Err(AppError::Unprocessable(
                "fresh_minutes must be between 1 and 10080 (a week)".into(),
            ));
        }
        if self.ticket_types.len() > 50
            || self
                .ticket_types
                .iter()
                .any(|t| t.trim().is_empty() || t.len() > 100)
        {
            return Err(AppError::Unprocessable(
                "ticket_types must be up to 50 non-empty ticket type names".into(),
            ));
        }
        if self.ticket_group_ids.len() > 50 || self.ticket_group_ids.iter().any(|g| *g < 1) {
            return Err(AppError::Unprocessable(
                "ticket_group_ids must be up to 50 positive group ids".into(),
            ));
        }
        Ok(())
    }
}

/// A tenant's start limits (`server tenant set-limits`; these defaults otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StartLimits {
    /// New sessions (Verify Identity, step-up, automation) per tenant per minute.
    pub tenant_per_minute: u32,
    /// New sessions per contact per hour.
    pub contact_per_hour: u32,
    /// Forced restarts (`force`) per contact per hour.
    pub forced_per_hour: u32,
    /// A chat bot's starts per conversation per hour (each may read the CRM; retries count).
    pub chat_conversation_per_hour: u32,
    /// A chat bot's starts per tenant per minute, apart from the other starts: an anonymous
    /// chat cannot spend what reps and automation need.
    pub chat_per_minute: u32,
    /// The share of the tenant's Freshsales budget a chat bot's calls may spend, in percent;
    /// the rest is kept for write-back and reps.
    pub chat_crm_percent: u32,
}

impl Default for StartLimits {
    fn default() -> Self {
        Self {
            tenant_per_minute: 60,
            contact_per_hour: 10,
            forced_per_hour: 3,
            chat_conversation_per_hour: 5,
            chat_per_minute: 10,
            chat_crm_percent: 20,
        }
    }
}

impl StartLimits {
    /// Checks an operator's choice.
    pub fn validate(&self) -> Result<()> {
        let ok = |n: u32| (1..=100_000).contains(&n);
        if ![
            self.tenant_per_minute,
            self.contact_per_hour,
            self.forced_per_hour,
            self.chat_conversation_per_hour,
            self.chat_per_minute,
        ]
        .into_iter()
        .all(ok)
        {
            return Err(AppError::Unprocessable(
                "every start limit must be between 1 and 100000".into(),
            ));
        }
        if !(1..=100).contains(&self.chat_crm_percent) {
            return Err(AppError::Unprocessable(
                "the chat's share of the Freshsales budget must be between 1 and 100 percent"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// A tenant with its secrets opened and its connections typed, as read from the database:
/// shared by the requests that read it (a copy is a pointer) and never changed in place (a
/// change is read again as a new row), so the digest of its connections is taken once.
#[derive(Clone)]
pub struct TenantRow(Arc<TenantData>);

/// What a [`TenantRow`] holds.
pub struct TenantData {
    pub id: String,
    pub name: String,
    /// The product the app is installed in (its CRM connection speaks that product's API).
    pub crm_kind: CrmKind,
    /// The CRM account, once installed with a key or authorised.
    pub crm: Option<CrmConnection>,
    /// The identity provider, once the operator set it (`server tenant add`).
    pub provider: Option<ProviderConnection>,
    /// The secret the provider signs callbacks with, and the one before the last rotation
    /// while its grace period lasts.
    pub provider_webhook_secret: Option<SecretString>,
    pub provider_webhook_secret_previous: Option<SecretString>,
    /// The workflow webhook secret, and the one before the last rotation while its grace lasts.
    pub automator_secret: Option<SecretString>,
    pub automator_secret_previous: Option<SecretString>,
    /// The chat product (Freshchat), if connected (`server tenant freshchat`).
    pub chat: Option<ChatConnection>,
    /// The public key (PEM) the chat product's webhook settings show.
    pub chat_webhook_key: Option<String>,
    pub hourly_limit: i64,
    pub rate_window_secs: i64,
    pub policy: Policy,
    pub installed: bool,
    pub token_hash: String,
    /// How many sessions the account may start (the defaults unless the operator set them).
    pub start_limits: StartLimits,
    /// The digest of the connections above (see [`TenantData::connections_digest`]).
    connections: ConnectionsDigest,
}

/// A SHA-256 digest of a tenant's connections.
pub type ConnectionsDigest = [u8; 32];

impl std::ops::Deref for TenantRow {
    type Target = TenantData;

    fn deref(&self) -> &TenantData {
        &self.0
    }
}

impl std::fmt::Debug for TenantRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantRow")
            .field("id", &self.id)
            .field("crm", &self.crm.as_ref().map(|c| &c.base_url))
            .field("provider", &self.provider.as_ref().map(|p| &p.base_url))
            .field("secrets", &"[redacted]")
            .finish()
    }
}

impl TenantData {
    /// The row, with the digest of its connections taken.
    fn into_row(mut self) -> TenantRow {
        self.connections = self.digest();
        TenantRow(Arc::new(self))
    }

    /// A digest of the connections a tenant's clients are built from (never the secrets
    /// themselves: they stay sealed and only their hash is kept in memory): the clients built
    /// for one row serve another with the same digest.
    pub fn connections_digest(&self) -> &ConnectionsDigest {
        &self.connections
    }

    fn digest(&self) -> ConnectionsDigest {
        use secrecy::ExposeSecret;
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let settings = self
            .provider
            .as_ref()
            .and_then(|p| p.settings.as_ref())
            .and_then(|s| serde_json::to_string(s).ok());
        let crm = self.crm.as_ref();
        let (key, access, refresh) = match crm.map(|c| &c.auth) {
            Some(CrmAuth::ApiKey(k)) => (Some(k), None, None),
            Some(CrmAuth::OAuth(o)) => (None, o.access_token.as_ref(), Some(&o.refresh_token)),
            None => (None, None, None),
        };
        let provider = self.provider.as_ref();
        let chat = self.chat.as_ref();
        for part in [
            Some(self.crm_kind.as_str()),
            crm.map(|c| c.base_url.as_str()),
            key.map(|k| k.expose_secret()),
            access.map(|k| k.expose_secret()),
            refresh.map(|k| k.expose_secret()),
            provider.map(|p| p.base_url.as_str()),
            provider.map(|p| p.key.expose_secret()),
            settings.as_deref(),
            provider
                .and_then(|p| p.secret.as_ref())
                .map(|k| k.expose_secret()),
            chat.map(|c| c.base_url.as_str()),
            chat.map(|c| c.token.expose_secret()),
            chat.and_then(|c| c.agent_id.as_deref()),
            self.chat_webhook_key.as_deref(),
        ] {
            h.update(part.unwrap_or("\u{0}").as_bytes());
            h.update([0xff]);
        }
        h.finalize().into()
    }
}

impl TenantRow {
    /// The CRM's API key, when the account is reached with one.
    pub fn crm_key(&self) -> Option<&SecretString> {
        match self.crm.as_ref().map(|c| &c.auth) {
            Some(CrmAuth::ApiKey(key)) => Some(key),
            _ => None,
        }
    }

    /// Refuses what would start a session (a billable one at the provider) once the app is
    /// uninstalled: the widget's token still authenticates, but the account no longer uses it.
    pub fn require_installed(&self) -> Result<()> {
        if self.installed {
            return Ok(());
        }
        Err(AppError::Unprocessable(
            "the app is uninstalled from this account: reinstall it to start verifications".into(),
        ))
    }
}

/// Connection settings for `tenant add` / `install` (`None` keeps what is stored).
#[derive(Default)]
pub struct Connections {
    /// The CRM account's API root and the admin's API key.
    pub crm_base_url: Option<String>,
    pub crm_key: Option<String>,
    /// A CRM reached by OAuth: the refresh token, and the access token it gave with its end.
    pub crm_oauth: Option<OAuthGrant>,
    /// The identity provider: the design contract's base URL or BlockID's tenant host, and
    /// the API or licence key.
    pub provider_base_url: Option<String>,
    pub provider_key: Option<String>,
    pub provider_webhook_secret: Option<String>,
    pub automator_secret: Option<String>,
    pub hourly_limit: Option<i64>,
    pub rate_window_secs: Option<i64>,
    pub provider_settings: Option<ProviderSettings>,
    /// The provider's second secret (BlockID's dvcID).
    pub provider_secret: Option<String>,
    pub crm_kind: Option<CrmKind>,
    /// Freshchat: the API root, the token, the webhook settings' public key (PEM) and the agent
    /// results are posted as.
    pub chat_base_url: Option<String>,
    pub chat_token: Option<String>,
    pub chat_webhook_key: Option<String>,
    pub chat_agent_id: Option<String>,
    /// The account these connections are for: the write happens only when the tenant is
    /// pinned to no account or to this one, and pins it.
    pub pin_account: Option<String>,
}

/// The tokens an OAuth authorisation or refresh gives.
pub struct OAuthGrant {
    pub refresh_token: String,
    pub access_token: String,
    /// When the access token stops working (epoch ms).
    pub expires_at_ms: i64,
}

pub async fn load(store: &Store, sealer: &Sealer, id: &str) -> Result<Option<TenantRow>> {
    let row = store.tenant_record(id).await?;
    let now = crate::clock::now_ms();
    Ok(row.map(|r| {
        let id = r.id.clone();
        let open = |column: SealedColumn, sealed: Option<String>| {
            sealer
                .open_opt(at("tenants", column.seal, &id), sealed.as_deref())
                .map(SecretString::from)
        };
        // A previous secret counts only until its grace period ends.
        let previous = |column: SealedColumn, sealed: Option<String>, until: Option<i64>| {
            until
                .filter(|u| *u > now)
                .and_then(|_| open(column, sealed))
        };
        let crm_kind = CrmKind::parse(&r.crm_kind).unwrap_or_default();
        let refresh = open(SealedColumn::CRM_REFRESH_TOKEN, r.crm_refresh_token_sealed);
        let auth = match (refresh, open(SealedColumn::CRM_KEY, r.crm_key_sealed)) {
            (Some(refresh_token), _) => Some(CrmAuth::OAuth(OAuthTokens {
                access_token: open(SealedColumn::CRM_ACCESS_TOKEN, r.crm_access_token_sealed),
                expires_at_ms: r.crm_access_expires_at,
                refresh_token,
            })),
            (None, Some(key)) => Some(CrmAuth::ApiKey(key)),
            (None, None) => None,
        };
        let provider_secret = open(SealedColumn::PROVIDER_SECRET, r.provider_secret_sealed);
        let provider_settings = r
            .provider_settings
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok());
        TenantData {
            crm: r
                .crm_base_url
                .zip(auth)
                .map(|(base_url, auth)| CrmConnection {
                    kind: crm_kind,
                    base_url,
                    auth,
                }),
            provider: r
                .provider_base_url
                .zip(open(SealedColumn::PROVIDER_KEY, r.provider_key_sealed))
                .map(|(base_url, key)| ProviderConnection {
                    base_url,
                    key,
                    settings: provider_settings,
                    secret: provider_secret,
                }),
            provider_webhook_secret: open(
                SealedColumn::PROVIDER_WEBHOOK_SECRET,
                r.provider_webhook_secret_sealed,
            ),
            provider_webhook_secret_previous: previous(
                SealedColumn::PROVIDER_WEBHOOK_SECRET_PREVIOUS,
                r.provider_webhook_secret_prev_sealed,
                r.provider_webhook_secret_prev_until,
            ),
            automator_secret: open(SealedColumn::AUTOMATOR_SECRET, r.automator_secret_sealed),
            automator_secret_previous: previous(
                SealedColumn::AUTOMATOR_SECRET_PREVIOUS,
                r.automator_secret_prev_sealed,
                r.automator_secret_prev_until,
            ),
            chat: r
                .chat_base_url
                .zip(open(SealedColumn::CHAT_TOKEN, r.chat_token_sealed))
                .map(|(base_url, token)| ChatConnection {
                    base_url,
                    token,
                    agent_id: r.chat_agent_id,
                }),
            chat_webhook_key: r.chat_webhook_public_key,
            id: r.id,
            name: r.name,
            crm_kind,
            hourly_limit: r.hourly_limit,
            rate_window_secs: r.rate_window_secs,
            policy: serde_json::from_str(&r.policy).unwrap_or_default(),
            installed: r.installed != 0,
            token_hash: r.token_hash,
            start_limits: r
                .start_limits
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok())
                .unwrap_or_default(),
            connections: ConnectionsDigest::default(),
        }
        .into_row()
    }))
}

/// Every tenant: id, name, and whether the app is installed.
pub async fn list(store: &Store) -> Result<Vec<(String, String, bool)>> {
    store.list_tenants().await
}

/// Updates whichever connection settings are given (secrets sealed).
pub async fn set_connections(
    store: &Store,
    sealer: &Sealer,
    id: &str,
    c: &Connections,
) -> Result<bool> {
    let seal = |column: SealedColumn, v: Option<&str>| {
        v.map(|s| sealer.seal(at("tenants", column.seal, id), s))
    };
    let oauth = c.crm_oauth.as_ref();
    store
        .set_connections(
            id,
            &SealedConnections {
                crm_base_url: c.crm_base_url.clone(),
                crm_key_sealed: seal(SealedColumn::CRM_KEY, c.crm_key.as_deref()),
                provider_base_url: c.provider_base_url.clone(),
                provider_key_sealed: seal(SealedColumn::PROVIDER_KEY, c.provider_key.as_deref()),
                provider_webhook_secret_sealed: seal(
                    SealedColumn::PROVIDER_WEBHOOK_SECRET,
                    c.provider_webhook_secret.as_deref(),
                ),
                automator_secret_sealed: seal(
                    SealedColumn::AUTOMATOR_SECRET,
                    c.automator_secret.as_deref(),
                ),
                hourly_limit: c.hourly_limit,
                rate_window_secs: c.rate_window_secs,
                provider_settings: c
                    .provider_settings
                    .as_ref()
                    .and_then(|p| serde_json::to_string(p).ok()),
                provider_secret_sealed: seal(
                    SealedColumn::PROVIDER_SECRET,
                    c.provider_secret.as_deref(),
                ),
                crm_kind: c.crm_kind.map(|k| k.as_str().to_string()),
                chat_base_url: c.chat_base_url.clone(),
                chat_token_sealed: seal(SealedColumn::CHAT_TOKEN, c.chat_token.as_deref()),
                chat_webhook_public_key: c.chat_webhook_key.clone(),
                chat_agent_id: c.chat_agent_id.clone(),
                crm_refresh_token_sealed: seal(
                    SealedColumn::CRM_REFRESH_TOKEN,
                    oauth.map(|o| o.refresh_token.as_str()),
                ),
                crm_access_token_sealed: seal(
                    SealedColumn::CRM_ACCESS_TOKEN,
                    oauth.map(|o| o.access_token.as_str()),
                ),
                crm_access_expires_at: oauth.map(|o| o.expires_at_ms),
                pin_account: c.pin_account.clone(),
            },
        )
        .await
}

/// Replaces one of a tenant's webhook secrets with `new`; the secret it replaces is still
/// accepted for `grace` (deliveries signed or workflows configured with it meanwhile).
pub async fn rotate_webhook_secret(
    store: &Store,
    sealer: &Sealer,
    id: &str,
    which: WebhookSecret,
    new: &str,
    grace: std::time::Duration,
) -> Result<()> {
    use secrecy::ExposeSecret;
    let Some(current) = load(store, sealer, id).await? else {
        return Err(AppError::NotFound(format!("no tenant {id}")));
    };
    let previous = match which {
        WebhookSecret::Provider => &current.provider_webhook_secret,
        WebhookSecret::Workflow => &current.automator_secret,
    };
    let until = crate::clock::now_ms() + grace.as_millis() as i64;
    let previous = previous.as_ref().map(|p| {
        sealer.seal(
            at("tenants", which.previous_column().seal, id),
            p.expose_secret(),
        )
    });
    let new = sealer.seal(at("tenants", which.column().seal, id), new);
    if !store
        .rotate_webhook_secret(id, which, &new, previous.as_deref(), until)
        .await?
    {
        return Err(AppError::NotFound(format!("no tenant {id}")));
    }
    Ok(())
}

/// Checks and stores a tenant's start limits.
pub async fn set_start_limits(store: &Store, id: &str, limits: &StartLimits) -> Result<()> {
    limits.validate()?;
    let json = serde_json::to_string(limits).map_err(|e| AppError::Internal(e.into()))?;
    if !store.set_start_limits(id, &json).await? {
        return Err(AppError::NotFound(format!("no tenant {id}")));
    }
    Ok(())
}

/// Checks and stores a tenant's policy (audited).
pub async fn set_policy(store: &Store, id: &str, policy: &Policy) -> Result<()> {
    policy.validate()?;
    let json = serde_json::to_string(policy).map_err(|e| AppError::Internal(e.into()))?;
    if !store.set_policy(id, &json).await? {
        return Err(AppError::NotFound(format!("no tenant {id}")));
    }
    Ok(())
}

pub async fn set_installed(store: &Store, id: &str, installed: bool) -> Result<()> {
    store.set_installed(id, installed).await
}
