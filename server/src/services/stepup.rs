//! Step-Up Auth: a LiveID session for a deal's primary contact, or for a contact on its own
//! page.

use std::sync::Arc;

use idv_types::{AuditFacts, Verification};
use secrecy::{ExposeSecret, SecretString};

use super::{
    core::{contact_row, provider_unavailable, read_row, uid, Core},
    deals::Deals,
    limits::{Limits, Spend},
    tenant::TenantRow,
};
use crate::{
    clock::{self},
    crypto::at,
    domain::origin::Origin,
    error::{AppError, Result},
    ports::identity::CreateLiveId,
    store::SessionStarted,
};

/// Starts LiveID step-ups for deals and contacts.
#[derive(Clone, Debug)]
pub struct StepUps {
    core: Arc<Core>,
    limits: Limits,
    deals: Deals,
}

impl StepUps {
    pub fn new(core: Arc<Core>, limits: Limits, deals: Deals) -> Self {
        Self {
            core,
            limits,
            deals,
        }
    }

    /// Starts a LiveID step-up for a deal's primary contact.
    pub async fn start_stepup(
        &self,
        tenant: &TenantRow,
        deal: i64,
        requested_by: Option<&str>,
    ) -> Result<(Verification, bool)> {
        tenant.require_installed()?;
        // Every step-up start reads the deal: within the account's start limit first.
        self.limits.spend_start(tenant, Spend::Tenant).await?;
        let info = self.deals.deal_info(tenant, deal, true).await?;
        let contact = info.primary_contact.ok_or_else(|| {
            AppError::Unprocessable(
                "this deal has no contact; add one before asking for a step-up".into(),
            )
        })?;
        self.core
            .store
            .upsert_contact_keep(&tenant.id, contact)
            .await?;
        self.stepup_for(tenant, contact, Some(deal), requested_by)
            .await
    }

    /// Starts a LiveID step-up for a contact from its own page (the 1Kosmos design puts Step-Up
    /// Auth beside Verify Identity in the contact sidebar). Only an enrolled contact can be
    /// asked: the backend knows the enrolment, so no CRM call is made.
    pub async fn start_contact_stepup(
        &self,
        tenant: &TenantRow,
        contact: i64,
        requested_by: Option<&str>,
    ) -> Result<(Verification, bool)> {
        tenant.require_installed()?;
        self.stepup_for(tenant, contact, None, requested_by).await
    }

    /// The step-up itself: for `deal`'s primary contact, or for the contact alone.
    async fn stepup_for(
        &self,
        tenant: &TenantRow,
        contact: i64,
        deal: Option<i64>,
        requested_by: Option<&str>,
    ) -> Result<(Verification, bool)> {
        let did = self.credential_did(&tenant.id, contact).await?.ok_or_else(|| AppError::NotEnrolled(format!(
            "contact {contact} is not enrolled in 1Kosmos LiveID yet: run Verify Identity on the contact first"
        )))?;
        // A pending, unexpired step-up for this deal (or contact page) is returned as is.
        let now = clock::now_ms();
        let pending = match deal {
            Some(deal) => self.core.store.pending_stepup(&tenant.id, deal).await?,
            None => {
                self.core
                    .store
                    .pending_contact_stepup(&tenant.id, contact)
                    .await?
            }
        };
        if let Some(r) = pending {
            let existing = read_row(&self.core.sealer, r);
            let live = self
                .core
                .store
                .session_expires_at(&existing.id)
                .await?
                .is_none_or(|e| e > now);
            if live {
                return Ok((existing.row, false));
            }
            self.core.store.expire_pending(&existing.id, now).await?;
        }
        self.limits
            .spend_start(
                tenant,
                Spend::Contact {
                    contact,
                    forced: false,
                },
            )
            .await?;
        let provider = self.core.tenants.provider(tenant)?;
        let id = uid("ver");
        let inserted = self
            .core
            .store
            .insert_pending_stepup(
                &id,
                &tenant.id,
                contact,
                deal,
                now,
                requested_by.map(|r| {
                    self.core
                        .sealer
                        .seal(at("verifications", "requested_by_sealed", &id), r)
                }),
            )
            .await?;
        if !inserted {
            return Err(AppError::Conflict(
                "a step-up for this record was started at the same time; refresh".into(),
            ));
        }
        let created = provider
            .create_liveid(&CreateLiveId {
                reference: id.clone(),
                did: did.expose_secret().to_string(),
                callback_url: Some(format!(
                    "{}/hooks/kosmos/{}",
                    self.core.settings.public_base_url, tenant.id
                )),
                ttl_seconds: self.core.settings.stepup_ttl_secs,
            })
            .await;
        let mut conn = self.core.store.writer().await?;
        let session = match created {
            Ok(s) => s,
            Err(e) => {
                conn.fail_pending(&id, &format!("could not start: {e}"), clock::now_ms())
                    .await?;
                return Err(provider_unavailable(e));
            }
        };
        conn.stepup_started(&SessionStarted {
            id: &id,
            provider_session_id: &session.session_id,
            link_sealed: session.qr_payload.as_deref().map(|u| {
                self.core
                    .sealer
                    .seal(at("verifications", "qr_payload_sealed", &id), u)
            }),
            delivery_error: None,
            session_expires_at: crate::clock::parse_rfc3339(&session.expires_at),
            next_poll_at: clock::now_ms() + self.core.settings.stepup_poll.as_millis() as i64,
            now: clock::now_ms(),
        })
        .await?;
        conn.set_origin(&id, Origin::Widget.as_str()).await?;
        let who = Origin::Widget.actor(requested_by);
        let on = deal.map_or_else(String::new, |d| format!("deal {d} "));
        conn.audit_facts(
            &tenant.id,
            "start_stepup",
            &id,
            &format!("{on}contact {contact} by {who}"),
            Some(&AuditFacts {
                by: Some(Origin::Widget.by(requested_by)),
                ..Default::default()
            }),
        )
        .await?;
        drop(conn);
        self.core.wake_poll.notify_one();
        Ok((self.core.verification_view(&tenant.id, &id).await?, true))
    }

    async fn credential_did(&self, tenant: &str, contact: i64) -> Result<Option<SecretString>> {
        let sealed = self.core.store.enrolled_credential(tenant, contact).await?;
        let row = contact_row(tenant, contact);
        Ok(self
            .core
            .sealer
            .open_opt(
                at("contacts", "credential_did_sealed", &row),
                sealed.as_deref(),
            )
            .map(SecretString::from))
    }
}
