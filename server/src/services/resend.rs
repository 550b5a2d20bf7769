//! Resend a link with one click: the contact's latest verification expired unused, or its link
//! could not be delivered. The same delivery is used. A session still open at the provider is
//! delivered again where the provider can (no second billable session); otherwise a new session
//! is started, and the answer says so. Both count against the start limits and are audited.

use std::sync::Arc;

use idv_types::{Delivery, Kind, ResendAnswer, ResendLink, SessionState, StartVerification};

use super::{
    core::{provider_unavailable, Core, VerRow},
    identity::Identity,
    limits::{Limits, Spend},
    start::Sessions,
    tenant::TenantRow,
};
use crate::{
    clock,
    domain::origin::Origin,
    error::{AppError, Result},
    ports::identity::{Redelivery, ResendIdv},
};

/// How a link went out, for the rep.
fn went_out(d: Delivery) -> &'static str {
    match d {
        Delivery::Show => "is ready to show or copy",
        Delivery::Email => "emailed to the contact",
        Delivery::Sms => "texted to the contact",
    }
}

/// Why a link is sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    /// The customer never used the link and it expired.
    Expired,
    /// The session is open but its link did not reach the customer.
    Undelivered,
}

/// Resends a pending session's link.
#[derive(Clone, Debug)]
pub struct Resends {
    core: Arc<Core>,
    limits: Limits,
    identity: Identity,
    sessions: Sessions,
}

impl Resends {
    pub fn new(core: Arc<Core>, limits: Limits, identity: Identity, sessions: Sessions) -> Self {
        Self {
            core,
            limits,
            identity,
            sessions,
        }
    }

    /// Sends the link of verification `id` again (see the module's description).
    pub async fn resend(
        &self,
        tenant: &TenantRow,
        id: &str,
        req: &ResendLink,
    ) -> Result<(ResendAnswer, bool)> {
        tenant.require_installed()?;
        if req.requested_by.as_ref().is_some_and(|r| r.len() > 254) {
            return Err(AppError::Unprocessable("requested_by is too long".into()));
        }
        let v = self.core.known_verification(&tenant.id, id).await?;
        let why = self.resendable(tenant, &v).await?;
        let delivery = v.row.delivery.unwrap_or(Delivery::Show);
        let provider = self.core.tenants.provider(tenant)?;
        if !provider.deliveries().contains(&delivery) {
            return Err(AppError::Unprocessable(format!(
                "this account's 1Kosmos connection no longer sends links by {}; start a new verification instead",
                delivery.as_str()
            )));
        }
        let who = Origin::Widget.actor(req.requested_by.as_deref());
        if why == Why::Undelivered {
            // The contact's bucket: a re-delivery reaches the customer's inbox or phone.
            self.limits
                .spend_start(
                    tenant,
                    Spend::Contact {
                        contact: v.contact_id,
                        forced: false,
                    },
                )
                .await?;
            // The link goes to the CRM's addresses, never to what the request says.
            let (person, _) = self
                .identity
                .person_to_verify(tenant, v.contact_id, req.contact.as_ref())
                .await?;
            let (Some(session_id), Some(url)) =
                (v.provider_session_id.clone(), v.row.hosted_url.clone())
            else {
                return Err(AppError::Conflict(format!(
                    "verification {id} has no link yet; retry in a moment"
                )));
            };
            let sent = provider
                .resend_idv(&ResendIdv {
                    session_id,
                    url,
                    delivery,
                    email: person.email,
                    phone: person.phone,
                })
                .await;
            match sent {
                Ok(Redelivery::Sent) => {
                    let mut tx = self.core.store.begin().await?;
                    tx.set_delivery_error(id, None, clock::now_ms()).await?;
                    tx.audit_facts(
                        &tenant.id,
                        "resend_link",
                        id,
                        &format!(
                            "contact {} link sent again by {} on the same session, by {who}",
                            v.contact_id,
                            delivery.as_str()
                        ),
                        Some(&idv_types::AuditFacts {
                            by: Some(Origin::Widget.by(req.requested_by.as_deref())),
                            delivery: Some(delivery.as_str().into()),
                            reason: Some(idv_types::audit_reason::SAME_SESSION.into()),
                            ..Default::default()
                        }),
                    )
                    .await?;
                    tx.commit().await?;
                    let verification = self.core.verification_view(&tenant.id, id).await?;
                    let message = format!(
                        "The link was {} again (the same verification, no new session).",
                        went_out(delivery)
                    );
                    return Ok((
                        ResendAnswer {
                            verification,
                            new_session: false,
                            message,
                        },
                        false,
                    ));
                }
                Ok(Redelivery::CannotReuse(reason)) => {
                    let message = format!(
                        "1Kosmos cannot send this link again ({reason}), so a new verification was started and its link {}.",
                        went_out(delivery)
                    );
                    return self
                        .resend_as_new(tenant, &v, delivery, req, &reason, message)
                        .await;
                }
                Err(e) => {
                    let error = format!("sending the link again failed: {e}");
                    let mut tx = self.core.store.begin().await?;
                    tx.set_delivery_error(id, Some(&error), clock::now_ms())
                        .await?;
                    tx.audit(&tenant.id, "resend_link_failed", id, &e.to_string())
                        .await?;
                    tx.commit().await?;
                    return Err(provider_unavailable(e));
                }
            }
        }
        let message = format!(
            "The link had expired, so a new verification was started and its link {}.",
            went_out(delivery)
        );
        self.resend_as_new(
            tenant,
            &v,
            delivery,
            req,
            "the link expired unused",
            message,
        )
        .await
    }

    /// Whether `v` may be resent, and why: the contact's latest verification, expired unused or
    /// open with a link that was not delivered. A 409 says what the rep can do instead.
    async fn resendable(&self, tenant: &TenantRow, v: &VerRow) -> Result<Why> {
        if v.kind != Kind::Idv {
            return Err(AppError::Conflict(
                "a step-up has no link to resend; start a new step-up instead".into(),
            ));
        }
        if v.conversation_id.is_some() {
            return Err(AppError::Conflict(
                "this verification belongs to a chat conversation; the customer asks the chat bot \
                 again, or start a new verification here"
                    .into(),
            ));
        }
        let why = match v.state {
            SessionState::Expired => Why::Expired,
            SessionState::Pending if v.row.delivery_error.is_some() => Why::Undelivered,
            SessionState::Pending => {
                return Err(AppError::Conflict(format!(
                    "verification {} is pending and its link went out; the customer can still use it",
                    v.id
                )))
            }
            other => {
                return Err(AppError::Conflict(format!(
                    "verification {} is {}: only a link that expired unused or could not be delivered can be resent",
                    v.id,
                    other.as_str()
                )))
            }
        };
        let sessions = self.core.sessions_of(&tenant.id, v.contact_id, 20).await?;
        let newer = sessions.iter().take_while(|s| s.id != v.id).find(|s| {
            s.kind == Kind::Idv && s.state != SessionState::Canceled && s.conversation_id.is_none()
        });
        if let Some(n) = newer {
            return Err(AppError::Conflict(format!(
                "the contact has a newer verification ({}, {}); resend only the latest link",
                n.id,
                n.state.as_str()
            )));
        }
        Ok(why)
    }

    /// A new session for a link that cannot be sent again, by the same delivery (within the
    /// start limits: a forced restart, as it replaces the old link).
    async fn resend_as_new(
        &self,
        tenant: &TenantRow,
        old: &VerRow,
        delivery: Delivery,
        req: &ResendLink,
        reason: &str,
        message: String,
    ) -> Result<(ResendAnswer, bool)> {
        let start = StartVerification {
            requested_by: req.requested_by.clone(),
            force: true,
            delivery: Some(delivery),
            contact: req.contact.clone(),
            ..Default::default()
        };
        let (verification, new) = self
            .sessions
            .start_idv(tenant, old.contact_id, &start, None, Origin::Widget)
            .await?;
        let mut conn = self.core.store.writer().await?;
        let who = Origin::Widget.actor(req.requested_by.as_deref());
        conn.audit_facts(
            &tenant.id,
            "resend_link",
            &old.id,
            &format!(
                "contact {} new session {} by {} ({reason}), by {who}",
                old.contact_id,
                verification.id,
                delivery.as_str(),
            ),
            Some(&idv_types::AuditFacts {
                by: Some(Origin::Widget.by(req.requested_by.as_deref())),
                delivery: Some(delivery.as_str().into()),
                reason: Some(idv_types::audit_reason::NEW_SESSION.into()),
                ..Default::default()
            }),
        )
        .await?;
        Ok((
            ResendAnswer {
                verification,
                new_session: new,
                message,
            },
            new,
        ))
    }
}
