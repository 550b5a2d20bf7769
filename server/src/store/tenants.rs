//! Tenants: one CRM account that installed the app, its connections (secrets sealed), its
//! policy (JSON) and the hash of its widget token.

use super::{Conn, Store};
use crate::{clock, error::Result};

/// A tenant as the auth layer needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub token_hash: String,
}

/// A tenant's row as stored: secrets sealed, the policy as JSON.
#[derive(Clone, sqlx::FromRow)]
pub struct TenantRecord {
    pub id: String,
    pub name: String,
    pub crm_base_url: Option<String>,
    pub crm_key_sealed: Option<String>,
    pub provider_base_url: Option<String>,
    pub provider_key_sealed: Option<String>,
    pub provider_webhook_secret_sealed: Option<String>,
    pub automator_secret_sealed: Option<String>,
    pub hourly_limit: i64,
    pub rate_window_secs: i64,
    pub policy: String,
    pub installed: i64,
    pub token_hash: String,
    pub provider_settings: Option<String>,
    pub provider_secret_sealed: Option<String>,
    pub provider_webhook_secret_prev_sealed: Option<String>,
    pub provider_webhook_secret_prev_until: Option<i64>,
    pub automator_secret_prev_sealed: Option<String>,
    pub automator_secret_prev_until: Option<i64>,
    pub start_limits: Option<String>,
    /// `freshsales` or `freshdesk`.
    pub crm_kind: String,
    pub chat_base_url: Option<String>,
    pub chat_token_sealed: Option<String>,
    pub chat_webhook_public_key: Option<String>,
    pub chat_agent_id: Option<String>,
    pub crm_refresh_token_sealed: Option<String>,
    pub crm_access_token_sealed: Option<String>,
    pub crm_access_expires_at: Option<i64>,
}

/// A sealed column of `tenants` and the name its values are sealed for. A column renamed after
/// values were sealed in it keeps its first name in the seal, so no value needs re-sealing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedColumn {
    /// The column's name in SQL.
    pub column: &'static str,
    /// The name the seal binds its values to (with the table and the row).
    pub seal: &'static str,
}

impl SealedColumn {
    const fn same(column: &'static str) -> Self {
        Self {
            column,
            seal: column,
        }
    }

    const fn renamed(column: &'static str, seal: &'static str) -> Self {
        Self { column, seal }
    }

    pub const CRM_KEY: Self = Self::renamed("crm_key_sealed", "freshsales_key_sealed");
    pub const CRM_REFRESH_TOKEN: Self = Self::same("crm_refresh_token_sealed");
    pub const CRM_ACCESS_TOKEN: Self = Self::same("crm_access_token_sealed");
    pub const PROVIDER_KEY: Self = Self::renamed("provider_key_sealed", "kosmos_key_sealed");
    pub const PROVIDER_SECRET: Self = Self::same("provider_secret_sealed");
    pub const PROVIDER_WEBHOOK_SECRET: Self = Self::renamed(
        "provider_webhook_secret_sealed",
        "kosmos_webhook_secret_sealed",
    );
    pub const PROVIDER_WEBHOOK_SECRET_PREVIOUS: Self = Self::renamed(
        "provider_webhook_secret_prev_sealed",
        "kosmos_webhook_secret_prev_sealed",
    );
    pub const AUTOMATOR_SECRET: Self = Self::same("automator_secret_sealed");
    pub const AUTOMATOR_SECRET_PREVIOUS: Self = Self::same("automator_secret_prev_sealed");
    pub const CHAT_TOKEN: Self = Self::renamed("chat_token_sealed", "freshchat_token_sealed");

    /// Every sealed column of the tenants table.
    pub const ALL: &'static [Self] = &[
        Self::CRM_KEY,
        Self::CRM_REFRESH_TOKEN,
        Self::CRM_ACCESS_TOKEN,
        Self::PROVIDER_KEY,
        Self::PROVIDER_SECRET,
        Self::PROVIDER_WEBHOOK_SECRET,
        Self::PROVIDER_WEBHOOK_SECRET_PREVIOUS,
        Self::AUTOMATOR_SECRET,
        Self::AUTOMATOR_SECRET_PREVIOUS,
        Self::CHAT_TOKEN,
    ];
}

/// The two webhook secrets a tenant can rotate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookSecret {
    /// The secret the identity provider signs callbacks with (`provider_webhook_secret_sealed`).
    Provider,
    /// The workflow webhook's `X-IDV-Webhook-Secret` (`automator_secret_sealed`).
    Workflow,
}

impl WebhookSecret {
    /// The column of the secret; its previous value and the end of that value's grace period
    /// are in the two columns below.
    pub fn column(self) -> SealedColumn {
        match self {
            Self::Provider => SealedColumn::PROVIDER_WEBHOOK_SECRET,
            Self::Workflow => SealedColumn::AUTOMATOR_SECRET,
        }
    }

    pub fn previous_column(self) -> SealedColumn {
        match self {
            Self::Provider => SealedColumn::PROVIDER_WEBHOOK_SECRET_PREVIOUS,
            Self::Workflow => SealedColumn::AUTOMATOR_SECRET_PREVIOUS,
        }
    }

    pub fn previous_until_column(self) -> &'static str {
        match self {
            Self::Provider => "provider_webhook_secret_prev_until",
            Self::Workflow => "automator_secret_prev_until",
        }
    }
}

impl std::fmt::Debug for TenantRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantRecord")
            .field("id", &self.id)
            .field("crm_base_url", &self.crm_base_url)
            .field("provider_base_url", &self.provider_base_url)
            .finish_non_exhaustive()
    }
}

/// Connection settings to change (`None` keeps the stored value); secrets already sealed.
#[derive(Debug, Clone, Default)]
pub struct SealedConnections {
    pub crm_base_url: Option<String>,
    pub crm_key_sealed: Option<String>,
    pub provider_base_url: Option<String>,
    pub provider_key_sealed: Option<String>,
    pub provider_webhook_secret_sealed: Option<String>,
    pub automator_secret_sealed: Option<String>,
    pub hourly_limit: Option<i64>,
    pub rate_window_secs: Option<i64>,
    pub provider_settings: Option<String>,
    pub provider_secret_sealed: Option<String>,
    /// `freshsales` or `freshdesk`.
    pub crm_kind: Option<String>,
    pub chat_base_url: Option<String>,
    pub chat_token_sealed: Option<String>,
    /// The PEM public key of the Freshchat webhook settings (public, not sealed).
    pub chat_webhook_public_key: Option<String>,
    pub chat_agent_id: Option<String>,
    /// A CRM reached by OAuth: its refresh token, and the access token it gave with its end.
    pub crm_refresh_token_sealed: Option<String>,
    pub crm_access_token_sealed: Option<String>,
    pub crm_access_expires_at: Option<i64>,
    /// See `services::tenants::Connections::pin_account`.
    pub pin_account: Option<String>,
}

const COLS: &str = "id, name, crm_base_url, crm_key_sealed, provider_base_url, provider_key_sealed, \
    provider_webhook_secret_sealed, automator_secret_sealed, hourly_limit, rate_window_secs, policy, installed, token_hash, \
    provider_settings, provider_secret_sealed, provider_webhook_secret_prev_sealed, provider_webhook_secret_prev_until, \
    automator_secret_prev_sealed, automator_secret_prev_until, start_limits, crm_kind, \
    chat_base_url, chat_token_sealed, chat_webhook_public_key, chat_agent_id, \
    crm_refresh_token_sealed, crm_access_token_sealed, crm_access_expires_at";

impl Store {
    pub async fn insert_tenant(&self, id: &str, name: &str, token_hash: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO tenants (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(name)
        .bind(token_hash)
        .bind(clock::now_ms())
        .execute(self.writer().await?.raw())
        .await?;
        Ok(())
    }

    /// Replaces a tenant's token hash; `false` if there is no such tenant.
    pub async fn rotate_token(&self, tenant_id: &str, token_hash: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE tenants SET token_hash = $1 WHERE id = $2")
            .bind(token_hash)
            .bind(tenant_id)
            .execute(self.writer().await?.raw())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn tenant_by_token_hash(&self, token_hash: &str) -> Result<Option<Tenant>> {
        Ok(
            sqlx::query_as("SELECT id, name, token_hash FROM tenants WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// A tenant's whole row.
    pub async fn tenant_record(&self, id: &str) -> Result<Option<TenantRecord>> {
        Ok(
            sqlx::query_as(&format!("SELECT {COLS} FROM tenants WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Every tenant: id, name, and whether the app is installed.
    pub async fn list_tenants(&self) -> Result<Vec<(String, String, bool)>> {
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT id, name, installed FROM tenants ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, installed)| (id, name, installed != 0))
            .collect())
    }

    /// Updates whichever connection settings are given; with `pin_account`, only when the
    /// tenant is pinned to no account or that one (and pins it). `false` if nothing was written.
    pub async fn set_connections(&self, id: &str, c: &SealedConnections) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE tenants SET \
             crm_base_url = COALESCE($2, crm_base_url), \
             crm_key_sealed = COALESCE($3, crm_key_sealed), \
             provider_base_url = COALESCE($4, provider_base_url), \
             provider_key_sealed = COALESCE($5, provider_key_sealed), \
             provider_webhook_secret_sealed = COALESCE($6, provider_webhook_secret_sealed), \
             automator_secret_sealed = COALESCE($7, automator_secret_sealed), \
             hourly_limit = COALESCE($8, hourly_limit), \
             rate_window_secs = COALESCE($9, rate_window_secs), \
             provider_settings = COALESCE($10, provider_settings), \
             provider_secret_sealed = COALESCE($11, provider_secret_sealed), \
             crm_kind = COALESCE($12, crm_kind), \
             chat_base_url = COALESCE($13, chat_base_url), \
             chat_token_sealed = COALESCE($14, chat_token_sealed), \
             chat_webhook_public_key = COALESCE($15, chat_webhook_public_key), \
             chat_agent_id = COALESCE($16, chat_agent_id), \
             account_url = COALESCE($17, account_url), \
             crm_refresh_token_sealed = COALESCE($18, crm_refresh_token_sealed), \
             crm_access_token_sealed = COALESCE($19, crm_access_token_sealed), \
             crm_access_expires_at = COALESCE($20, crm_access_expires_at) \
             WHERE id = $1 AND ($17 IS NULL OR account_url IS NULL OR account_url = $17)",
        )
        .bind(id)
        .bind(c.crm_base_url.clone())
        .bind(c.crm_key_sealed.clone())
        .bind(c.provider_base_url.clone())
        .bind(c.provider_key_sealed.clone())
        .bind(c.provider_webhook_secret_sealed.clone())
        .bind(c.automator_secret_sealed.clone())
        .bind(c.hourly_limit)
        .bind(c.rate_window_secs)
        .bind(c.provider_settings.clone())
        .bind(c.provider_secret_sealed.clone())
        .bind(c.crm_kind.clone())
        .bind(c.chat_base_url.clone())
        .bind(c.chat_token_sealed.clone())
        .bind(c.chat_webhook_public_key.clone())
        .bind(c.chat_agent_id.clone())
        .bind(c.pin_account.clone())
        .bind(c.crm_refresh_token_sealed.clone())
        .bind(c.crm_access_token_sealed.clone())
        .bind(c.crm_access_expires_at)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces one webhook secret, keeping the previous one (sealed for its own column) until
    /// `previous_until`; `false` if there is no such tenant.
    pub async fn rotate_webhook_secret(
        &self,
        id: &str,
        which: WebhookSecret,
        new_sealed: &str,
        previous_sealed: Option<&str>,
        previous_until: i64,
    ) -> Result<bool> {
        let (current, previous, until) = (
            which.column().column,
            which.previous_column().column,
            which.previous_until_column(),
        );
        let done = sqlx::query(&format!(
            "UPDATE tenants SET {current} = $2, {previous} = $3, {until} = $4 WHERE id = $1"
        ))
        .bind(id)
        .bind(new_sealed)
        .bind(previous_sealed)
        .bind(previous_until)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores a tenant's start limits (JSON); `false` if there is no such tenant.
    pub async fn set_start_limits(&self, id: &str, limits_json: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE tenants SET start_limits = $2 WHERE id = $1")
            .bind(id)
            .bind(limits_json)
            .execute(self.writer().await?.raw())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores a tenant's policy (JSON) and audits it; `false` if there is no such tenant.
    pub async fn set_policy(&self, id: &str, policy_json: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE tenants SET policy = $2 WHERE id = $1")
            .bind(id)
            .bind(policy_json)
            .execute(self.writer().await?.raw())
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO audit_log (tenant_id, at, action, subject, detail) VALUES ($1, $2, 'policy', $1, $3)",
        )
        .bind(id)
        .bind(clock::now_ms())
        .bind(policy_json)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(true)
    }

    pub async fn set_installed(&self, id: &str, installed: bool) -> Result<()> {
        sqlx::query("UPDATE tenants SET installed = $2 WHERE id = $1")
            .bind(id)
            .bind(i64::from(installed))
            .execute(self.writer().await?.raw())
            .await?;
        Ok(())
    }

    /// The account a tenant was first installed on, if any.
    pub async fn account_url(&self, id: &str) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT account_url FROM tenants WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|r| r.0))
    }

    /// Accounts reached by OAuth whose access token ends by `before` and whose refresh no
    /// replica holds at `now`: (tenant, the token's end as read).
    pub async fn crm_tokens_due(&self, before: i64, now: i64) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(super::periodic::TOKENS_DUE_SQL)
            .bind(before)
            .bind(now)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Takes the refresh of a tenant's access token until `until`, if no replica holds it and
    /// the token still ends at `seen` (else another replica refreshed it already).
    pub async fn claim_token_refresh(
        &self,
        id: &str,
        seen: i64,
        now: i64,
        until: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE tenants SET crm_refresh_lease_until = $4 \
             WHERE id = $1 AND crm_access_expires_at = $2 \
             AND (crm_refresh_lease_until IS NULL OR crm_refresh_lease_until <= $3)",
        )
        .bind(id)
        .bind(seen)
        .bind(now)
        .bind(until)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends a refresh lease (the new token is stored).
    pub async fn release_token_refresh(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE tenants SET crm_refresh_lease_until = NULL WHERE id = $1")
            .bind(id)
            .execute(self.writer().await?.raw())
            .await?;
        Ok(())
    }
}
