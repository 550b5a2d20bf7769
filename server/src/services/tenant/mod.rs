//! Tenants: an account's row with its connections (sealed secrets) typed, and its writes;
//! `policy.rs`: what an admin chooses for it (policy, start limits).

mod policy;

use std::sync::Arc;

use secrecy::SecretString;

use crate::{
    crypto::{at, Sealer},
    error::{AppError, Result},
    ports::{ChatConnection, CrmAuth, CrmConnection, OAuthTokens, ProviderConnection},
    store::{SealedColumn, SealedConnections, Store, WebhookSecret},
};
pub use policy::{Policy, StartLimits};

pub use crate::{
    domain::identity::MismatchPolicy,
    ports::{CrmKind, ProviderSettings},
};

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
