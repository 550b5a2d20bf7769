//! The contact's status read model: derived from the sessions, a new contact looked up in the CRM.

use idv_types::{ContactStatus, Delivery, Kind, SessionState};

use super::tenant::TenantRow;
use crate::{
    error::{AppError, Result},
    ports::CrmError,
};

use super::{crm_unavailable, Engine};

impl Engine {
    /// The contact's status; a contact seen for the first time is looked up in Freshsales.
    pub async fn contact_status(&self, tenant: &TenantRow, contact: i64) -> Result<ContactStatus> {
        let status = match self.store.contact_status(&tenant.id, contact).await? {
            Some(s) => s,
            None => {
                let Some(crm) = self.tenants.crm(tenant) else {
                    return Err(AppError::NotFound(format!(
                        "contact {contact} is not known to this account"
                    )));
                };
                self.spend_crm_read(tenant).await?;
                match crm.contact(contact as u64).await {
                    Ok(_) => {}
                    Err(CrmError::NotFound(_)) => {
                        return Err(AppError::NotFound(format!(
                            "contact {contact} does not exist in the CRM"
                        )))
                    }
                    Err(e) => return Err(crm_unavailable(e)),
                }
                self.store
                    .upsert_contact(&tenant.id, contact, false)
                    .await?;
                self.store
                    .contact_status(&tenant.id, contact)
                    .await?
                    .ok_or_else(|| AppError::Internal(anyhow::anyhow!("contact row vanished")))?
            }
        };
        let mut status = status;
        let sessions = self.sessions_of(&tenant.id, contact, 20).await?;
        // A chat's pending session is its conversation's: never offered to the rep to show.
        status.current = sessions
            .iter()
            .find(|s| {
                s.kind == Kind::Idv
                    && s.state == SessionState::Pending
                    && s.conversation_id.is_none()
            })
            .map(|s| s.row.clone());
        status.history = sessions.into_iter().map(|s| s.row).collect();
        status.setup = self.setup_gaps(&tenant.id).await?;
        status.deliveries = self
            .tenants
            .provider(tenant)
            .map(|p| p.deliveries())
            .unwrap_or_else(|_| vec![Delivery::Show]);
        status.fresh_minutes = tenant
            .crm_kind
            .has_tickets()
            .then(|| u32::try_from(tenant.policy.fresh_minutes).unwrap_or(30));
        Ok(status)
    }
}
