//! Tenants: connections (sealed secrets) and policy.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{
    crypto::Sealer,
    error::{AppError, Result},
    store::Store,
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
    pub default_ial: String,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            auto_verify_on_create: false,
            gated_stages: Vec::new(),
            revert_on_gate: false,
            validity_days: 365,
            default_ial: "IAL2".into(),
        }
    }
}

impl Policy {
    /// Checks an admin's choices; the message says what to fix.
    pub fn validate(&self) -> Result<()> {
        if !(1..=3650).contains(&self.validity_days) {
            return Err(AppError::Unprocessable(
                "validity_days must be between 1 and 3650".into(),
            ));
        }
        if !matches!(self.default_ial.as_str(), "IAL1" | "IAL2") {
            return Err(AppError::Unprocessable(
                "default_ial must be IAL1 or IAL2".into(),
            ));
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
        Ok(())
    }
}

/// A tenant with its secrets opened.
#[derive(Clone)]
pub struct TenantRow {
    pub id: String,
    pub name: String,
    pub freshsales_base_url: Option<String>,
    pub freshsales_key: Option<SecretString>,
    pub kosmos_base_url: Option<String>,
    pub kosmos_key: Option<SecretString>,
    pub kosmos_webhook_secret: Option<SecretString>,
    pub automator_secret: Option<SecretString>,
    pub hourly_limit: i64,
    pub rate_window_secs: i64,
    pub policy: Policy,
    pub installed: bool,
    pub token_hash: String,
}

impl std::fmt::Debug for TenantRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantRow")
            .field("id", &self.id)
            .field("freshsales_base_url", &self.freshsales_base_url)
            .field("kosmos_base_url", &self.kosmos_base_url)
            .field("secrets", &"[redacted]")
            .finish()
    }
}

/// Connection settings for `tenant add` / `install`.
#[derive(Default)]
pub struct Connections {
    pub freshsales_base_url: Option<String>,
    pub freshsales_key: Option<String>,
    pub kosmos_base_url: Option<String>,
    pub kosmos_key: Option<String>,
    pub kosmos_webhook_secret: Option<String>,
    pub automator_secret: Option<String>,
    pub hourly_limit: Option<i64>,
    pub rate_window_secs: Option<i64>,
}

const COLS: &str = "id, name, freshsales_base_url, freshsales_key_sealed, kosmos_base_url, kosmos_key_sealed, \
    kosmos_webhook_secret_sealed, automator_secret_sealed, hourly_limit, rate_window_secs, policy, installed, token_hash";

pub async fn load(store: &Store, sealer: &Sealer, id: &str) -> Result<Option<TenantRow>> {
    let row = sqlx::query(&format!("SELECT {COLS} FROM tenants WHERE id = $1"))
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| {
        let open = |i: usize| {
            sealer
                .open_opt(r.get::<Option<String>, _>(i).as_deref())
                .map(SecretString::from)
        };
        TenantRow {
            id: r.get(0),
            name: r.get(1),
            freshsales_base_url: r.get(2),
            freshsales_key: open(3),
            kosmos_base_url: r.get(4),
            kosmos_key: open(5),
            kosmos_webhook_secret: open(6),
            automator_secret: open(7),
            hourly_limit: r.get(8),
            rate_window_secs: r.get(9),
            policy: serde_json::from_str(&r.get::<String, _>(10)).unwrap_or_default(),
            installed: r.get::<i64, _>(11) != 0,
            token_hash: r.get(12),
        }
    }))
}

pub async fn list(store: &Store) -> Result<Vec<(String, String, bool)>> {
    let rows = sqlx::query("SELECT id, name, installed FROM tenants ORDER BY id")
        .fetch_all(store.pool())
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.get(0), r.get(1), r.get::<i64, _>(2) != 0))
        .collect())
}

/// Updates whichever connection settings are given (secrets sealed).
pub async fn set_connections(
    store: &Store,
    sealer: &Sealer,
    id: &str,
    c: &Connections,
) -> Result<()> {
    let seal = |v: &Option<String>| v.as_deref().map(|s| sealer.seal(s));
    sqlx::query(
        "UPDATE tenants SET \
         freshsales_base_url = COALESCE($2, freshsales_base_url), \
         freshsales_key_sealed = COALESCE($3, freshsales_key_sealed), \
         kosmos_base_url = COALESCE($4, kosmos_base_url), \
         kosmos_key_sealed = COALESCE($5, kosmos_key_sealed), \
         kosmos_webhook_secret_sealed = COALESCE($6, kosmos_webhook_secret_sealed), \
         automator_secret_sealed = COALESCE($7, automator_secret_sealed), \
         hourly_limit = COALESCE($8, hourly_limit), \
         rate_window_secs = COALESCE($9, rate_window_secs) \
         WHERE id = $1",
    )
    .bind(id)
    .bind(c.freshsales_base_url.clone())
    .bind(seal(&c.freshsales_key))
    .bind(c.kosmos_base_url.clone())
    .bind(seal(&c.kosmos_key))
    .bind(seal(&c.kosmos_webhook_secret))
    .bind(seal(&c.automator_secret))
    .bind(c.hourly_limit)
    .bind(c.rate_window_secs)
    .execute(store.pool())
    .await?;
    Ok(())
}

pub async fn set_policy(store: &Store, id: &str, policy: &Policy) -> Result<()> {
    policy.validate()?;
    let json = serde_json::to_string(policy).map_err(|e| AppError::Internal(e.into()))?;
    let done = sqlx::query("UPDATE tenants SET policy = $2 WHERE id = $1")
        .bind(id)
        .bind(json)
        .execute(store.pool())
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound(format!("no tenant {id}")));
    }
    sqlx::query(
        "INSERT INTO audit_log (tenant_id, at, action, subject, detail) VALUES ($1, $2, 'policy', $1, $3)",
    )
    .bind(id)
    .bind(crate::clock::now_ms())
    .bind(serde_json::to_string(policy).unwrap_or_default())
    .execute(store.pool())
    .await?;
    Ok(())
}

pub async fn set_installed(store: &Store, id: &str, installed: bool) -> Result<()> {
    sqlx::query("UPDATE tenants SET installed = $2 WHERE id = $1")
        .bind(id)
        .bind(i64::from(installed))
        .execute(store.pool())
        .await?;
    Ok(())
}
