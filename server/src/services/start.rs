//! Verify Identity: start document + selfie proofing, idempotently.

use std::{sync::Arc, time::Duration};

use idv_types::{
    AuditFacts, Delivery, DocumentType, IalLevel, Kind, SessionState, StartVerification,
    Verification,
};

use super::{
    core::{crm_unavailable, provider_unavailable, read_row, uid, Core},
    identity::Identity,
    limits::{Limits, Spend},
    queue::Queue,
    tenant::TenantRow,
    workflow::StartOptions,
};
use crate::{
    clock::{self},
    crypto::at,
    domain::origin::Origin,
    error::{AppError, Result},
    ports::{crm::CrmContact, identity::CreateIdv, CrmError, IdentityProvider},
    store::{PendingIdv, SessionStarted},
};

/// Which earlier sessions a start returns instead of starting one, and what it spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// The contact's own: its pending session (not one of a chat's) or a valid verified one;
    /// a new session spends the tenant's and the contact's start limits.
    Contact,
    /// A chat bot's for one conversation: only the sessions started for that conversation. A
    /// new one stands beside the contact's other pending sessions, which it neither returns nor
    /// cancels; the chat's own limits are spent by the bot's call.
    Conversation(&'a str),
}

impl<'a> Scope<'a> {
    fn conversation(self) -> Option<&'a str> {
        match self {
            Self::Contact => None,
            Self::Conversation(c) => Some(c),
        }
    }
}

/// The ticket a start names: only a help desk has tickets.
fn ticket_of(tenant: &TenantRow, ticket: Option<u64>) -> Result<Option<i64>> {
    match ticket {
        None => Ok(None),
        Some(_) if !tenant.crm_kind.has_tickets() => Err(AppError::Unprocessable(format!(
            "ticket_id is for accounts installed in Freshdesk; this {} account has no tickets",
            tenant.crm_kind.product()
        ))),
        Some(t) => i64::try_from(t)
            .ok()
            .filter(|t| *t > 0)
            .map(Some)
            .ok_or_else(|| AppError::Unprocessable("ticket_id must be a positive id".into())),
    }
}

/// A reserved session, before the provider is asked for it.
struct Unstarted {
    tenant: TenantRow,
    contact: i64,
    id: String,
    ial: String,
    req: StartVerification,
    person: CrmContact,
    /// The fields where the page's record data differed from the CRM's (whose were used).
    page_differs: Vec<&'static str>,
    origin: Origin,
    provider: Arc<dyn IdentityProvider>,
}

/// Starts document + selfie sessions.
#[derive(Clone, Debug)]
pub struct Sessions {
    core: Arc<Core>,
    limits: Limits,
    identity: Identity,
    queue: Queue,
}

impl Sessions {
    pub fn new(core: Arc<Core>, limits: Limits, identity: Identity, queue: Queue) -> Self {
        Self {
            core,
            limits,
            identity,
            queue,
        }
    }

    /// The delivery a workflow's start would use; a 422 if it asks for one the account's
    /// provider does not offer.
    pub fn workflow_delivery(
        &self,
        tenant: &TenantRow,
        options: &StartOptions,
    ) -> Result<Delivery> {
        let offers = self
            .core
            .tenants
            .provider(tenant)
            .map(|p| p.deliveries())
            .unwrap_or_else(|_| vec![Delivery::Show]);
        match options.delivery {
            Some(d) if !offers.contains(&d) => Err(AppError::Unprocessable(format!(
                "delivery {} is not offered by this account's 1Kosmos connection; choose one of: {}",
                d.as_str(),
                offers.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")
            ))),
            Some(d) => Ok(d),
            None => Ok(tenant.policy.automation_delivery(&offers)),
        }
    }

    /// Starts a verification for automation: the workflow's inputs, else the policy's; the
    /// link goes out by the requested delivery, else the policy's automation delivery (which
    /// falls back to `show` for a contact without the email or phone it needs). An automation
    /// start gives the contact's owner a task (see [`Origin`]).
    pub async fn start_automatic(
        &self,
        tenant: &TenantRow,
        contact: i64,
        options: &StartOptions,
        origin: Origin,
    ) -> Result<(Verification, bool)> {
        let delivery = self.workflow_delivery(tenant, options)?;
        let started = self
            .start_idv(tenant, contact, &options.request(delivery), None, origin)
            .await;
        match started {
            Err(AppError::Unprocessable(m))
                if options.delivery.is_none()
                    && delivery != Delivery::Show
                    && m.starts_with("the contact has no") =>
            {
                self.start_idv(
                    tenant,
                    contact,
                    &options.request(Delivery::Show),
                    None,
                    origin,
                )
                .await
            }
            other => other,
        }
    }

    /// Starts document + selfie proofing for a contact (idempotent: a pending or valid session
    /// is returned instead, unless `force`). Returns the session and whether it is new.
    pub async fn start_idv(
        &self,
        tenant: &TenantRow,
        contact: i64,
        req: &StartVerification,
        idempotency_key: Option<&str>,
        origin: Origin,
    ) -> Result<(Verification, bool)> {
        self.start_idv_in(
            tenant,
            contact,
            req,
            idempotency_key,
            origin,
            Scope::Contact,
        )
        .await
    }

    /// [`Sessions::start_idv`] within `scope`: which sessions it may return instead.
    pub(super) async fn start_idv_in(
        &self,
        tenant: &TenantRow,
        contact: i64,
        req: &StartVerification,
        idempotency_key: Option<&str>,
        origin: Origin,
        scope: Scope<'_>,
    ) -> Result<(Verification, bool)> {
        tenant.require_installed()?;
        let level = match req.ial.as_deref() {
            Some(asked) => IalLevel::parse(asked)
                .ok_or_else(|| AppError::Unprocessable("ial must be IAL1 or IAL2".into()))?,
            None => tenant.policy.default_ial,
        };
        let ial = level.as_str().to_string();
        let min = tenant.policy.minimum();
        if level < min {
            return Err(AppError::Unprocessable(format!(
                "this account accepts no verification below {}; ask for {} or higher",
                min.as_str(),
                min.as_str()
            )));
        }
        if let Some(bad) = req
            .document_types
            .iter()
            .find(|d| DocumentType::parse(d).is_none())
        {
            return Err(AppError::Unprocessable(format!(
                "unknown document type {:?}; use drivers_license, passport or national_id",
                bad.chars().take(40).collect::<String>()
            )));
        }
        if let Some(by) = &req.requested_by {
            if by.len() > 254 {
                return Err(AppError::Unprocessable("requested_by is too long".into()));
            }
        }
        let ticket = ticket_of(tenant, req.ticket_id)?;
        if let Some(key) = idempotency_key {
            if let Some(v) = self.by_idempotency_key(&tenant.id, key).await? {
                return Ok((v, false));
            }
        }
        if !req.force {
            let sessions = self.reusable_idv(&tenant.id, contact, scope).await?;
            let now = clock::now_ms();
            if let Some(existing) = sessions
                .iter()
                .filter(|s| s.kind == Kind::Idv && s.state != SessionState::Canceled)
                .find(|s| {
                    // A valid result counts only if it is at the level asked for.
                    let enough = s
                        .row
                        .ial
                        .as_ref()
                        .and_then(|a| IalLevel::parse(&a.level))
                        .is_some_and(|l| l >= level);
                    s.state == SessionState::Pending
                        || (s.state == SessionState::Verified
                            && enough
                            && s.valid_until.is_none_or(|v| v > now))
                })
            {
                return Ok((existing.row.clone(), false));
            }
        }
        let provider = self.core.tenants.provider(tenant)?;
        let delivery = req.delivery();
        if !provider.deliveries().contains(&delivery) {
            return Err(AppError::Unprocessable(format!(
                "this account's 1Kosmos connection cannot send the link by {}; choose one of: {}",
                delivery.as_str(),
                provider
                    .deliveries()
                    .iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        // A new, billable session: within the account's and the contact's limits (a chat's
        // within its own, spent by the bot's call).
        if scope == Scope::Contact {
            self.limits.spend_start(tenant, Spend::Tenant).await?;
            self.limits
                .spend_start(
                    tenant,
                    Spend::Contact {
                        contact,
                        forced: req.force,
                    },
                )
                .await?;
        }
        // Who is verified, and where the link goes, is the CRM's record: never what the
        // request says about the contact (404 when the CRM does not know it).
        let (person, page_differs) = self
            .identity
            .person_to_verify(tenant, contact, req.contact.as_ref())
            .await?;
        match delivery {
            Delivery::Sms if person.phone.is_none() => {
                return Err(AppError::Unprocessable(
                    "the contact has no phone number that reads as an international (E.164) \
                     number; add one in Freshsales or choose another delivery"
                        .into(),
                ))
            }
            Delivery::Email if person.email.is_none() => {
                return Err(AppError::Unprocessable(
                    "the contact has no email address; add one in Freshsales or choose another delivery"
                        .into(),
                ))
            }
            _ => {}
        }
        if let Some(ticket) = ticket {
            self.ticket_of_contact(tenant, ticket, contact).await?;
        }
        self.core
            .store
            .upsert_contact_keep(&tenant.id, contact)
            .await?;

        // Reserve the row (and the idempotency key) before calling the provider, so concurrent
        // starts for one contact make one session.
        let id = uid("ver");
        let now = clock::now_ms();
        let mut tx = self.core.store.begin().await?;
        if let Some(key) = idempotency_key {
            if !tx
                .reserve_idempotency_key(&tenant.id, key, &id, now)
                .await?
            {
                drop(tx);
                return self
                    .wait_for_idempotent(&tenant.id, key)
                    .await
                    .map(|v| (v, false));
            }
        }
        if req.force {
            // A forced restart supersedes the pending session.
            tx.cancel_pending_idv(&tenant.id, contact, now).await?;
        }
        let inserted = tx
            .insert_pending_idv(&PendingIdv {
                id: &id,
                tenant: &tenant.id,
                contact,
                now,
                requested_by_sealed: req.requested_by.as_deref().map(|r| {
                    self.core
                        .sealer
                        .seal(at("verifications", "requested_by_sealed", &id), r)
                }),
                delivery: delivery.as_str(),
                ticket,
                conversation: scope.conversation(),
                requested_ial: &ial,
                expected_holder_sealed: Some(self.identity.seal_holder(&id, &person.holder())),
            })
            .await?;
        if !inserted {
            drop(tx);
            // Someone else started one a moment ago: return theirs.
            let sessions = self.reusable_idv(&tenant.id, contact, scope).await?;
            if let Some(p) = sessions
                .into_iter()
                .find(|s| s.state == SessionState::Pending)
            {
                return Ok((p.row, false));
            }
            return Err(AppError::Conflict(
                "a verification for this contact was started at the same time; retry".into(),
            ));
        }
        tx.commit().await?;

        // The provider call and its recording run as a task of their own: a request dropped
        // meanwhile (the platform's proxy gives up at 15 s) still ends in a usable session or
        // a failed one, never in a pending row without a provider session.
        let job = Unstarted {
            tenant: tenant.clone(),
            contact,
            id,
            ial,
            req: req.clone(),
            person,
            page_differs,
            origin,
            provider,
        };
        let sessions = self.clone();
        let v = tokio::spawn(async move { sessions.create_session(job).await })
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("the start task failed: {e}")))??;
        Ok((v, true))
    }

    /// Asks the provider for the reserved session and records it (or fails the row).
    async fn create_session(&self, job: Unstarted) -> Result<Verification> {
        let Unstarted {
            tenant,
            contact,
            id,
            ial,
            req,
            person,
            page_differs,
            origin,
            provider,
        } = job;
        let tenant = &tenant;
        let delivery = req.delivery();
        let ticket = req.ticket_id.map(|t| t as i64);
        let phone = person.phone.clone();
        let owner = person.owner_id;
        let created = provider
            .create_idv(&CreateIdv {
                reference: id.clone(),
                first_name: person.first_name.clone(),
                last_name: person.last_name.clone(),
                date_of_birth: person.date_of_birth.clone(),
                email: person.email.clone(),
                phone,
                ial: ial.clone(),
                document_types: if req.document_types.is_empty() {
                    DocumentType::ALL
                        .iter()
                        .map(|d| d.as_str().to_string())
                        .collect()
                } else {
                    req.document_types.clone()
                },
                callback_url: Some(format!(
                    "{}/hooks/kosmos/{}",
                    self.core.settings.public_base_url, tenant.id
                )),
                delivery,
            })
            .await;
        let session = match created {
            Ok(s) => s,
            Err(e) => {
                let mut conn = self.core.store.writer().await?;
                conn.fail_pending(&id, &format!("could not start: {e}"), clock::now_ms())
                    .await?;
                conn.audit(&tenant.id, "start_failed", &id, &e.to_string())
                    .await?;
                return Err(provider_unavailable(e));
            }
        };
        let expires = crate::clock::parse_rfc3339(&session.expires_at);
        let mut tx = self.core.store.begin().await?;
        tx.idv_started(&SessionStarted {
            id: &id,
            provider_session_id: &session.session_id,
            link_sealed: session.url.as_deref().map(|u| {
                self.core
                    .sealer
                    .seal(at("verifications", "hosted_url_sealed", &id), u)
            }),
            delivery_error: session.delivery_error.as_deref(),
            session_expires_at: expires,
            next_poll_at: clock::now_ms() + self.core.settings.idv_poll_delay(0).as_millis() as i64,
            now: clock::now_ms(),
        })
        .await?;
        tx.set_origin(&id, origin.as_str()).await?;
        let who = origin.actor(req.requested_by.as_deref());
        let differs = if page_differs.is_empty() {
            String::new()
        } else {
            format!(
                "; the request's record data differed from the CRM's ({}), the CRM's was used",
                page_differs.join(", ")
            )
        };
        tx.audit_facts(
            &tenant.id,
            "start_idv",
            &id,
            &format!(
                "contact {contact} {ial} by {who}, link by {}{differs}",
                delivery.as_str()
            ),
            Some(&AuditFacts {
                by: Some(origin.by(req.requested_by.as_deref())),
                ial: Some(ial.to_string()),
                delivery: Some(delivery.as_str().into()),
                ..Default::default()
            }),
        )
        .await?;
        // No note yet: the result's note says who started it and how the link went out (one
        // CRM call per verification instead of two).
        self.queue
            .queue_contact_writes(&mut tx, tenant, contact)
            .await?;
        if origin == Origin::Automation {
            let link = super::queue::LinkSent {
                id: &id,
                delivery,
                delivery_error: session.delivery_error.as_deref(),
                expires_at: expires,
                owner,
                ticket,
            };
            self.queue
                .queue_automation_followup(&mut tx, tenant, contact, &link)
                .await?;
        }
        tx.commit().await?;
        self.core.wake_sync.notify_one();
        self.core.verification_view(&tenant.id, &id).await
    }

    /// The sessions a start in `scope` may return instead, newest first.
    async fn reusable_idv(
        &self,
        tenant: &str,
        contact: i64,
        scope: Scope<'_>,
    ) -> Result<Vec<super::core::VerRow>> {
        let rows = self
            .core
            .store
            .reusable_idv(tenant, contact, scope.conversation())
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| read_row(&self.core.sealer, r))
            .collect())
    }

    /// A ticket a start names must be the contact's own (its requester): the result is noted on
    /// it, and the agents of another customer's ticket must not read this one's result there.
    async fn ticket_of_contact(&self, tenant: &TenantRow, ticket: i64, contact: i64) -> Result<()> {
        let crm = self.core.tenants.crm_or_err(tenant)?;
        self.limits.spend_crm_read(tenant).await?;
        match crm.ticket_requester(ticket as u64).await {
            Ok(requester) if requester as i64 == contact => Ok(()),
            Ok(_) => Err(AppError::Unprocessable(format!(
                "ticket {ticket} was raised by another contact; verify a ticket's own requester"
            ))),
            Err(CrmError::NotFound(_)) => Err(AppError::NotFound(format!(
                "ticket {ticket} does not exist in {}",
                tenant.crm_kind.product()
            ))),
            Err(e) => Err(crm_unavailable(e)),
        }
    }

    async fn by_idempotency_key(&self, tenant: &str, key: &str) -> Result<Option<Verification>> {
        match self.core.store.idempotent_verification(tenant, key).await? {
            Some(id) => Ok(self.core.verification(tenant, &id).await?.map(|v| v.row)),
            None => Ok(None),
        }
    }

    async fn wait_for_idempotent(&self, tenant: &str, key: &str) -> Result<Verification> {
        for _ in 0..50 {
            if let Some(v) = self.by_idempotency_key(tenant, key).await? {
                return Ok(v);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(AppError::Conflict(
            "a request with this Idempotency-Key is still being processed; retry".into(),
        ))
    }
}
