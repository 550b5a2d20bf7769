//! Install and uninstall of the app on a CRM account: prove the key, record the connection and
//! the policy, and say which contact fields the admin still has to create.

use super::{tenant, Engine, Policy};
use crate::{
    domain::fields::missing_fields,
    error::{AppError, Result},
    ports::{CrmConnection, CrmError},
};

impl Engine {
    /// Installs the app for `tenant_id` on the account at `account_url` with its API `key`;
    /// returns the contact fields the account still lacks.
    pub async fn install(
        &self,
        tenant_id: &str,
        account_url: &str,
        key: String,
        policy: &Policy,
    ) -> Result<Vec<&'static str>> {
        policy.validate()?;
        let base_url = self
            .connector
            .crm_base_url(account_url, self.settings.allow_any_account_url)
            .map_err(AppError::Unprocessable)?;
        // Prove the key works (and see which of our fields the admin has created).
        let crm = self.crm_for(&CrmConnection {
            base_url: base_url.clone(),
            key: key.clone().into(),
        });
        let fields = crm.contact_field_names().await.map_err(|e| match e {
            CrmError::Unauthorized(_) | CrmError::NotFound(_) | CrmError::Unprocessable(_) => {
                AppError::Unprocessable(e.to_string())
            }
            other => AppError::Upstream(other.to_string()),
        })?;
        let missing = missing_fields(fields.iter().map(String::as_str));
        tenant::set_connections(
            &self.store,
            &self.sealer,
            tenant_id,
            &tenant::Connections {
                freshsales_base_url: Some(base_url),
                freshsales_key: Some(key),
                ..Default::default()
            },
        )
        .await?;
        tenant::set_policy(&self.store, tenant_id, policy).await?;
        tenant::set_installed(&self.store, tenant_id, true).await?;
        self.forget_clients(tenant_id);
        tracing::info!(missing_fields = missing.len(), "installed");
        Ok(missing)
    }

    /// Marks the app uninstalled for `tenant_id`.
    pub async fn uninstall(&self, tenant_id: &str) -> Result<()> {
        tenant::set_installed(&self.store, tenant_id, false).await?;
        self.forget_clients(tenant_id);
        Ok(())
    }
}
