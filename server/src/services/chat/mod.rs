//! A chat bot's verifications (Freshchat's Freddy, through its API library): the bot names the
//! customer by email; the contact is found in the CRM, or created from what the bot knows; a
//! verification starts (or the pending one is reused) and the bot gets flat fields to show the
//! link and, later, to branch on the state. The result is posted back into the conversation and
//! written onto the chat user's properties through the write-back queue. The chat product's
//! signed webhooks tell which user a conversation belongs to.

mod conversation;
mod input;

use idv_types::{ContactData, Delivery, Kind, SessionState, StartVerification};
use serde::Serialize;

pub use self::{conversation::result_text, input::from_bot};
use super::{crm_unavailable, sync, Engine, Origin, TenantRow, VerRow, Write};
use crate::{
    clock,
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

impl Engine {
    /// Finds or creates the bot's customer in the CRM, starts (or reuses) their verification
    /// and links it to the conversation.
    pub async fn bot_start(&self, tenant: &TenantRow, bot: &BotStart) -> Result<BotAnswer> {
        if !tenant.installed {
            return Err(AppError::Unprocessable(
                "the app is uninstalled from this account: reinstall it to start verifications"
                    .into(),
            ));
        }
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
            .start_idv(tenant, contact.id as i64, &req, None, Origin::Chat)
            .await?;
        // What the bot does not name, the webhooks may have told: the conversation's user, or
        // the conversation the user wrote in last.
        let (conversation, user) = match (&bot.conversation_id, &bot.user_id) {
            (Some(c), Some(u)) => (Some(c.clone()), Some(u.clone())),
            (Some(c), None) => (
                Some(c.clone()),
                self.store.conversation_user(&tenant.id, c).await?,
            ),
            (None, Some(u)) => (
                self.store.latest_conversation_of(&tenant.id, u).await?,
                Some(u.clone()),
            ),
            (None, None) => (None, None),
        };
        let mut tx = self.store.begin().await?;
        if conversation.is_some() || user.is_some() {
            tx.link_chat_session(
                &tenant.id,
                &v.id,
                conversation.as_deref(),
                user.as_deref(),
                clock::now_ms(),
            )
            .await?;
        }
        let how = if contact.created { "created" } else { "found" };
        tx.audit(
            &tenant.id,
            "chat_start",
            &v.id,
            &format!(
                "contact {} {how} by email; conversation {}",
                contact.id,
                conversation.as_deref().unwrap_or("none")
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
                self.verification(&tenant.id, &v.id)
                    .await?
                    .and_then(|r| r.valid_until)
                    .map(clock::rfc3339)
            },
            delivery: v.delivery.unwrap_or(delivery),
            phone_left_out,
        })
    }

    /// The contact with the bot's email: found (it keeps its own names and phone; only the
    /// consent the bot gives is set), else created from the bot's names, phone and consent.
    /// Returns it and whether the bot's phone was left out for not reading as E.164.
    async fn find_or_create(
        &self,
        tenant: &TenantRow,
        bot: &BotStart,
    ) -> Result<(UpsertedContact, bool)> {
        let crm = self.crm_or_err(tenant)?;
        let found = ContactUpsert {
            marketing_consent: bot.marketing_consent,
            ..Default::default()
        };
        self.spend_crm_read(tenant).await?;
        // An upsert without names finds an existing contact and changes none of its identity;
        // the CRM refuses it (it would create without names) when there is none.
        let refusal = match crm.upsert_contact(&bot.email, &found).await {
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
        self.spend_crm_read(tenant).await?;
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
            let mut tx = self.store.begin().await?;
            sync::enqueue(
                &mut tx,
                &self.sealer,
                self.settings.coalesce,
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
            self.wake_sync.notify_one();
        }
        Ok((created, phone_left_out))
    }

    /// A verification's state, as a bot branches on it.
    pub async fn bot_state(&self, tenant: &TenantRow, id: &str) -> Result<BotState> {
        let v: VerRow = self
            .verification(&tenant.id, id)
            .await?
            .filter(|v| v.kind == Kind::Idv)
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
