//! A chat bot's verifications (Freshchat's Freddy, through its API library): the bot names the
//! customer by email; the contact is found in the CRM (and left as it is), or created from what
//! the bot knows; a verification starts for the conversation (or the one this conversation
//! started is reused) and the bot gets flat fields to show the link and, later, to branch on the
//! state. Whoever is in a chat may type anyone's email: a conversation only ever sees its own
//! sessions. The result is posted back into that conversation and written onto its user's
//! properties through the write-back queue. The chat product's signed webhooks tell which user
//! a conversation belongs to. The chat has its own start limits and its own share of the
//! account's CRM budget.

use std::sync::Arc;

pub mod conversation;
mod input;

use idv_types::{ContactData, Delivery, Kind, SessionState, StartVerification};
use serde::Serialize;

pub use self::input::{from_bot, is_chat_id};
use super::{
    core::{crm_unavailable, Core, VerRow},
    limits::Limits,
    queue,
    queue::Write,
    start::{Scope, Sessions},
    tenant::TenantRow,
};
use crate::{
    clock,
    domain::origin::Origin,
    error::{AppError, Result},
    ports::{
        crm::{ContactUpsert, UpsertedContact},
        CrmError,
    },
};

/// What a bot sent, read and checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BotStart {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// As the customer typed it (read as E.164 when the contact is created).
    pub phone: Option<String>,
    /// Set on a contact the bot creates; a found contact's consent is never changed from chat.
    pub marketing_consent: Option<bool>,
    /// The chat user and conversation (ids of the chat product).
    pub user_id: Option<String>,
    pub conversation_id: Option<String>,
    pub delivery: Option<Delivery>,
}

/// What the bot gets back: flat, for its response parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BotAnswer {
    pub verification_id: String,
    pub contact_id: u64,
    /// The contact was created from the bot's data (else found by its email).
    pub contact_created: bool,
    pub state: SessionState,
    /// The hosted page, for the bot to show: only while pending, and only when the link is
    /// shown (not when 1Kosmos emails or texts it to the contact).
    pub link: Option<String>,
    /// When the link stops working (pending), or when the verification lapses (verified).
    pub expires_at: Option<String>,
    pub delivery: Delivery,
    /// The phone the bot gave did not read as an international number and was left out.
    pub phone_left_out: bool,
}

/// What the bot reads to branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BotState {
    pub verification_id: String,
    pub contact_id: u64,
    pub state: SessionState,
    pub verified: bool,
    /// `IAL1` or `IAL2` once verified.
    pub ial: Option<String>,
    pub expires_at: Option<String>,
    pub completed_at: Option<String>,
    /// Why it failed, in the provider's words (no personal data).
    pub reason: Option<String>,
    pub link: Option<String>,
}

/// A chat bot's verifications.
#[derive(Clone, Debug)]
pub struct Chat {
    core: Arc<Core>,
    limits: Limits,
    sessions: Sessions,
}

impl Chat {
    pub fn new(core: Arc<Core>, limits: Limits, sessions: Sessions) -> Self {
        Self {
            core,
            limits,
            sessions,
        }
    }

    /// Finds or creates the bot's customer in the CRM and starts (or reuses) a verification for
    /// the conversation. The email only finds the contact: it proves nothing about who is in
    /// the chat, so only a session started for this very conversation is ever returned; a
    /// contact's other sessions (a rep's, another conversation's, a verification of the past)
    /// are neither reported, nor linked, nor canceled.
    pub async fn bot_start(&self, tenant: &TenantRow, bot: &BotStart) -> Result<BotAnswer> {
        if !tenant.installed {
            return Err(AppError::Unprocessable(
                "the app is uninstalled from this account: reinstall it to start verifications"
                    .into(),
            ));
        }
        let (conversation, user) = self.bot_conversation(tenant, bot).await?;
        // The chat's own limits, before anything is asked of the CRM.
        self.limits.spend_chat_start(tenant, &conversation).await?;
        let (contact, phone_left_out) = self.find_or_create(tenant, bot).await?;
        let delivery = bot.delivery.unwrap_or(Delivery::Show);
        let person = &contact.contact;
        let req = StartVerification {
            requested_by: Some("the chat bot".into()),
            delivery: Some(delivery),
            // The CRM's own record of the person (a found contact keeps its names): no read.
            contact: Some(ContactData {
                first_name: person.first_name.clone(),
                last_name: person.last_name.clone(),
                email: person.email.clone().or_else(|| Some(bot.email.clone())),
                phone: person.phone.clone(),
            }),
            ..Default::default()
        };
        let (v, _new) = self
            .sessions
            .start_idv_in(
                tenant,
                contact.id as i64,
                &req,
                None,
                Origin::Chat,
                Scope::Conversation(&conversation),
            )
            .await?;
        let mut tx = self.core.store.begin().await?;
        tx.link_chat_session(
            &tenant.id,
            &v.id,
            &conversation,
            user.as_deref(),
            clock::now_ms(),
        )
        .await?;
        let how = if contact.created { "created" } else { "found" };
        tx.audit(
            &tenant.id,
            "chat_start",
            &v.id,
            &format!(
                "contact {} {how} by email; conversation {conversation}",
                contact.id
            ),
        )
        .await?;
        tx.commit().await?;
        let pending = v.state == SessionState::Pending;
        Ok(BotAnswer {
            verification_id: v.id.clone(),
            contact_id: contact.id,
            contact_created: contact.created,
            state: v.state,
            link: (pending && v.delivery.unwrap_or(Delivery::Show) == Delivery::Show)
                .then(|| v.hosted_url.clone())
                .flatten(),
            expires_at: if pending {
                v.session_expires_at.clone()
            } else {
                self.core
                    .verification(&tenant.id, &v.id)
                    .await?
                    .and_then(|r| r.valid_until)
                    .map(clock::rfc3339)
            },
            delivery: v.delivery.unwrap_or(delivery),
            phone_left_out,
        })
    }

    /// The conversation a bot's start is for, and its user: as the bot names them, or what the
    /// signed webhooks told (the conversation's user, or the conversation the user wrote in
    /// last). No conversation: 422.
    async fn bot_conversation(
        &self,
        tenant: &TenantRow,
        bot: &BotStart,
    ) -> Result<(String, Option<String>)> {
        match (&bot.conversation_id, &bot.user_id) {
            (Some(c), Some(u)) => Ok((c.clone(), Some(u.clone()))),
            (Some(c), None) => Ok((
                c.clone(),
                self.core.store.conversation_user(&tenant.id, c).await?,
            )),
            (None, Some(u)) => match self
                .core
                .store
                .latest_conversation_of(&tenant.id, u)
                .await?
            {
                Some(c) => Ok((c, Some(u.clone()))),
                None => Err(AppError::Unprocessable(
                    "conversation_id is required: Freshchat's webhooks have reported no \
                     conversation of this user_id yet; give the conversation's id"
                        .into(),
                )),
            },
            (None, None) => Err(AppError::Unprocessable(
                "conversation_id is required: the id of the conversation the customer writes \
                 in (or a user_id whose conversation Freshchat's webhooks have reported); a \
                 verification is for that conversation only"
                    .into(),
            )),
        }
    }

    /// The contact with the bot's email: found (nothing of it changes: names, phone and
    /// marketing consent are the contact's, not what a chat says), else created from the bot's
    /// names, phone and consent. Each CRM call is spent from the chat's share of the budget.
    /// Returns it and whether the bot's phone was left out for not reading as E.164.
    async fn find_or_create(
        &self,
        tenant: &TenantRow,
        bot: &BotStart,
    ) -> Result<(UpsertedContact, bool)> {
        let crm = self.core.tenants.crm_or_err(tenant)?;
        self.limits.spend_chat_crm_read(tenant).await?;
        // An upsert with no fields finds an existing contact and changes nothing of it; the CRM
        // refuses it (it would create without names) when there is none.
        let refusal = match crm
            .upsert_contact(&bot.email, &ContactUpsert::default())
            .await
        {
            Ok(c) => return Ok((c, false)),
            Err(CrmError::Unprocessable(m)) => m,
            Err(e) => return Err(crm_unavailable(e)),
        };
        if let Some(missing) = input::missing_names(bot) {
            return Err(AppError::Unprocessable(format!(
                "no contact has this email, and creating one needs first_name and last_name: \
                 {missing} (the CRM said: {refusal})"
            )));
        }
        let phone = bot
            .phone
            .as_deref()
            .map(|p| crate::domain::phone::normalise_phone(p, None));
        let phone_left_out = matches!(phone, Some(Err(_)));
        let create = ContactUpsert {
            first_name: bot.first_name.clone(),
            last_name: bot.last_name.clone(),
            phone: phone.and_then(|p| p.ok()),
            marketing_consent: bot.marketing_consent,
        };
        self.limits.spend_chat_crm_read(tenant).await?;
        let created = match crm.upsert_contact(&bot.email, &create).await {
            Ok(c) => c,
            Err(CrmError::Unprocessable(m)) => {
                return Err(AppError::Unprocessable(format!(
                    "the contact could not be created: {m}"
                )))
            }
            Err(e) => return Err(crm_unavailable(e)),
        };
        if phone_left_out && created.created {
            let mut tx = self.core.store.begin().await?;
            queue::enqueue(
                &mut tx,
                &self.core.sealer,
                self.core.settings.coalesce,
                &tenant.id,
                &format!("note:contact:{}:phone_left_out", created.id),
                &Write::Note {
                    target: "contact".into(),
                    id: created.id,
                    text: "Created from a chat with the chat bot. The phone number given in the \
                           chat was left out: it does not read as an international (E.164) \
                           number. Add it by hand if you need it."
                        .into(),
                },
            )
            .await?;
            tx.commit().await?;
            self.core.wake_sync.notify_one();
        }
        Ok((created, phone_left_out))
    }

    /// A verification's state, as the bot of `conversation` branches on it: only a session
    /// started for that conversation is known here (any other is a 404, like one that does not
    /// exist), so `verified` means verified in this chat.
    pub async fn bot_state(
        &self,
        tenant: &TenantRow,
        id: &str,
        conversation: &str,
    ) -> Result<BotState> {
        let v: VerRow = self
            .core
            .verification(&tenant.id, id)
            .await?
            .filter(|v| v.kind == Kind::Idv && v.conversation_id.as_deref() == Some(conversation))
            .ok_or_else(|| {
                AppError::NotFound(format!("verification {id} is not known to this account"))
            })?;
        let pending = v.state == SessionState::Pending;
        let verified = v.state == SessionState::Verified;
        let row = &v.row;
        Ok(BotState {
            verification_id: v.id.clone(),
            contact_id: v.contact_id as u64,
            state: v.state,
            verified,
            ial: row
                .ial
                .as_ref()
                .filter(|_| verified)
                .map(|a| a.level.clone()),
            expires_at: if pending {
                row.session_expires_at.clone()
            } else if verified {
                v.valid_until.map(clock::rfc3339)
            } else {
                None
            },
            completed_at: row.completed_at.clone(),
            reason: row.failure_reason.clone(),
            link: (pending && row.delivery.unwrap_or(Delivery::Show) == Delivery::Show)
                .then(|| row.hosted_url.clone())
                .flatten(),
        })
    }
}
