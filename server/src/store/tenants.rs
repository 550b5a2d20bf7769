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
    pub freshsales_base_url: Option<String>,
    pub freshsales_key_sealed: Option<String>,
    pub kosmos_base_url: Option<String>,
    pub kosmos_key_sealed: Option<String>,
    pub kosmos_webhook_secret_sealed: Option<String>,
    pub automator_secret_sealed: Option<String>,
    pub hourly_limit: i64,
    pub rate_window_secs: i64,
    pub policy: String,
    pub installed: i64,
    pub token_hash: String,
    pub provider_settings: Option<String>,
    pub provider_secret_sealed: Option<String>,
    pub kosmos_webhook_secret_prev_sealed: Option<String>,
    pub kosmos_webhook_secret_prev_until: Option<i64>,
    pub automator_secret_prev_sealed: Option<String>,
    pub automator_secret_prev_until: Option<i64>,
    pub start_limits: Option<String>,
    /// `freshsales` or `freshdesk`.
    pub crm_kind: String,
    pub freshchat_api_url: Option<String>,
    pub freshchat_token_sealed: Option<String>,
    pub freshchat_public_key: Option<String>,
    pub freshchat_agent_id: Option<String>,
}

/// The two webhook secrets a tenant can rotate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookSecret {
    /// The secret 1Kosmos signs callbacks with (`kosmos_webhook_secret_sealed`).
    Kosmos,
    /// The workflow webhook's `X-IDV-Webhook-Secret` (`automator_secret_sealed`).
    Workflow,
}

impl WebhookSecret {
    /// The column of the secret; its previous value and the end of that value's grace period
    /// are in the two columns below.
    pub fn column(self) -> &'static str {
        match self {
            Self::Kosmos => "kosmos_webhook_secret_sealed",
            Self::Workflow => "automator_secret_sealed",
        }
    }

    pub fn previous_column(self) -> &'static str {
        match self {
            Self::Kosmos => "kosmos_webhook_secret_prev_sealed",
            Self::Workflow => "automator_secret_prev_sealed",
        }
    }

    pub fn previous_until_column(self) -> &'static str {
        match self {
            Self::Kosmos => "kosmos_webhook_secret_prev_until",
            Self::Workflow => "automator_secret_prev_until",
        }
    }
}

impl std::fmt::Debug for TenantRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantRecord")
            .field("id", &self.id)
            .field("freshsales_base_url", &self.freshsales_base_url)
            .field("kosmos_base_url", &self.kosmos_base_url)
            .finish_non_exhaustive()
    }
}

/// Connection settings to change (`None` keeps the stored value); secrets already sealed.
#[derive(Debug, Clone, Default)]
pub struct SealedConnections {
    pub freshsales_base_url: Option<String>,
    pub freshsales_key_sealed: Option<String>,
    pub kosmos_base_url: Option<String>,
    pub kosmos_key_sealed: Option<String>,
    pub kosmos_webhook_secret_sealed: Option<String>,
    pub automator_secret_sealed: Option<String>,
    pub hourly_limit: Option<i64>,
    pub rate_window_secs: Option<i64>,
    pub provider_settings: Option<String>,
    pub provider_secret_sealed: Option<String>,
    /// `freshsales` or `freshdesk`.
    pub crm_kind: Option<String>,
    pub freshchat_api_url: Option<String>,
    pub freshchat_token_sealed: Option<String>,
    /// The PEM public key of the Freshchat webhook settings (public, not sealed).
    pub freshchat_public_key: Option<String>,
    pub freshchat_agent_id: Option<String>,
    /// See `services::tenant::Connections::pin_account`.
    pub pin_account: Option<String>,
}

const COLS: &str = "id, name, freshsales_base_url, freshsales_key_sealed, kosmos_base_url, kosmos_key_sealed, \
    kosmos_webhook_secret_sealed, automator_secret_sealed, hourly_limit, rate_window_secs, policy, installed, token_hash, \
    provider_settings, provider_secret_sealed, kosmos_webhook_secret_prev_sealed, kosmos_webhook_secret_prev_until, \
    automator_secret_prev_sealed, automator_secret_prev_until, start_limits, crm_kind, \
    freshchat_api_url, freshchat_token_sealed, freshchat_public_key, freshchat_agent_id";

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
             freshsales_base_url = COALESCE($2, freshsales_base_url), \
             freshsales_key_sealed = COALESCE($3, freshsales_key_sealed), \
             kosmos_base_url = COALESCE($4, kosmos_base_url), \
             kosmos_key_sealed = COALESCE($5, kosmos_key_sealed), \
             kosmos_webhook_secret_sealed = COALESCE($6, kosmos_webhook_secret_sealed), \
             automator_secret_sealed = COALESCE($7, automator_secret_sealed), \
             hourly_limit = COALESCE($8, hourly_limit), \
             rate_window_secs = COALESCE($9, rate_window_secs), \
             provider_settings = COALESCE($10, provider_settings), \
             provider_secret_sealed = COALESCE($11, provider_secret_sealed), \
             crm_kind = COALESCE($12, crm_kind), \
             freshchat_api_url = COALESCE($13, freshchat_api_url), \
             freshchat_token_sealed = COALESCE($14, freshchat_token_sealed), \
             freshchat_public_key = COALESCE($15, freshchat_public_key), \
             freshchat_agent_id = COALESCE($16, freshchat_agent_id), \
             account_url = COALESCE($17, account_url) \
             WHERE id = $1 AND ($17 IS NULL OR account_url IS NULL OR account_url = $17)",
        )
        .bind(id)
        .bind(c.freshsales_base_url.clone())
        .bind(c.freshsales_key_sealed.clone())
        .bind(c.kosmos_base_url.clone())
        .bind(c.kosmos_key_sealed.clone())
        .bind(c.kosmos_webhook_secret_sealed.clone())
        .bind(c.automator_secret_sealed.clone())
        .bind(c.hourly_limit)
        .bind(c.rate_window_secs)
        .bind(c.provider_settings.clone())
        .bind(c.provider_secret_sealed.clone())
        .bind(c.crm_kind.clone())
        .bind(c.freshchat_api_url.clone())
        .bind(c.freshchat_token_sealed.clone())
        .bind(c.freshchat_public_key.clone())
        .bind(c.freshchat_agent_id.clone())
        .bind(c.pin_account.clone())
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
            which.column(),
            which.previous_column(),
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
}
