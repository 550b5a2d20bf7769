//! Install and uninstall of the app on a CRM account: prove the key, record the connection and
//! the policy, and check the account's set-up (what the app cannot create, an admin must).

use std::sync::Arc;

use idv_types::SetupReport;

use super::{core::Core, setup::Setup, tenant, tenant::Policy};
use crate::{
    error::{AppError, Result},
    ports::{CrmConnection, CrmError, CrmKind},
};

/// Installs and uninstalls the app for an account.
#[derive(Clone, Debug)]
pub struct Accounts {
    core: Arc<Core>,
    setup: Setup,
}

impl Accounts {
    pub fn new(core: Arc<Core>, setup: Setup) -> Self {
        Self { core, setup }
    }

    /// Installs the app for `tenant_id` on the `product` account at `account_url` with its API
    /// `key`; returns the account's set-up report.
    pub async fn install(
        &self,
        tenant_id: &str,
        product: CrmKind,
        account_url: &str,
        key: String,
        policy: &Policy,
    ) -> Result<SetupReport> {
        policy.validate()?;
        let base_url = self
            .core
            .tenants
            .crm_base_url(
                product,
                account_url,
                self.core.settings.allow_any_account_url,
            )
            .map_err(AppError::Unprocessable)?;
        let account = normalise_account(account_url);
        self.same_account(tenant_id, &account).await?;
        // Prove the key works (and see which of our fields the admin has created).
        let crm = self.core.tenants.crm_for(&CrmConnection::with_key(
            product,
            base_url.clone(),
            key.clone().into(),
        ))?;
        crm.contact_field_names().await.map_err(|e| match e {
            CrmError::Unauthorized(_) | CrmError::NotFound(_) | CrmError::Unprocessable(_) => {
                AppError::Unprocessable(e.to_string())
            }
            other => AppError::Upstream(other.to_string()),
        })?;
        // The connection and the pin in one conditional write: an install racing another for a
        // different account cannot leave the tenant pinned to one and connected to the other.
        let connected = tenant::set_connections(
            &self.core.store,
            &self.core.sealer,
            tenant_id,
            &tenant::Connections {
                crm_base_url: Some(base_url),
                crm_key: Some(key),
                crm_kind: Some(product),
                pin_account: Some(account.clone()),
                ..Default::default()
            },
        )
        .await?;
        if !connected {
            return Err(another_account());
        }
        tenant::set_policy(&self.core.store, tenant_id, policy).await?;
        // Missed events are read back to here at most, never before the app was installed.
        self.core
            .store
            .start_reconciling(tenant_id, crate::clock::now_ms())
            .await?;
        tenant::set_installed(&self.core.store, tenant_id, true).await?;
        self.core.tenants.forget(tenant_id);
        let policy_json = serde_json::to_string(policy).unwrap_or_default();
        self.core
            .store
            .acquire()
            .await?
            .audit(
                tenant_id,
                "install",
                &account,
                &format!(
                    "{} account, by the app's signed serverless onAppInstall; policy {policy_json}",
                    product.product()
                ),
            )
            .await?;
        let tenant = self
            .core
            .tenants
            .get(tenant_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("tenant {tenant_id} vanished")))?;
        let setup = self.setup.check_setup(&tenant).await?;
        tracing::info!(gaps = setup.gaps.len(), "installed");
        Ok(setup)
    }

    /// Marks the app uninstalled for `tenant_id` (refused when `account_url` names another
    /// account than the one installed).
    pub async fn uninstall(&self, tenant_id: &str, account_url: Option<&str>) -> Result<()> {
        let account = account_url.map(normalise_account).filter(|a| !a.is_empty());
        if let Some(a) = &account {
            self.same_account(tenant_id, a).await?;
        }
        tenant::set_installed(&self.core.store, tenant_id, false).await?;
        self.setup.refresh_setup_gauge().await?;
        // The key the install brought goes with the app (a reinstall brings one again).
        self.core.store.wipe_tenant_keys(tenant_id).await?;
        self.core.tenants.forget(tenant_id);
        self.core
            .store
            .acquire()
            .await?
            .audit(
                tenant_id,
                "uninstall",
                account.as_deref().unwrap_or(""),
                "by the app's signed serverless onAppUninstall",
            )
            .await?;
        Ok(())
    }

    /// Refuses a forwarded event that names another account than the one the tenant is
    /// installed on (403), or none (422): a token reused on a second account, or an event of
    /// another account replayed under this tenant's signature, acts on nothing.
    pub async fn check_event_account(
        &self,
        tenant_id: &str,
        account_url: Option<&str>,
    ) -> Result<()> {
        let Some(pinned) = self.core.store.account_url(tenant_id).await? else {
            return Ok(());
        };
        let given = account_url
            .map(normalise_account)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| {
                AppError::Unprocessable(
                    "the event names no account_url; the app's serverless code sends the account's"
                        .into(),
                )
            })?;
        if given == pinned {
            Ok(())
        } else {
            Err(another_account())
        }
    }

    /// Refuses an account other than the one the tenant was first installed on.
    async fn same_account(&self, tenant_id: &str, account: &str) -> Result<()> {
        match self.core.store.account_url(tenant_id).await? {
            Some(pinned) if pinned != account => Err(another_account()),
            _ => Ok(()),
        }
    }
}

fn another_account() -> AppError {
    AppError::Forbidden(
        "this tenant belongs to another account; the operator creates a tenant per account (and per product)"
            .into(),
    )
}

/// An account URL as pinned: trimmed, lower case, without a trailing slash.
fn normalise_account(url: &str) -> String {
    url.trim().trim_end_matches('/').to_ascii_lowercase()
}
