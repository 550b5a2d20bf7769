//! A chat bot's verifications (Freshchat's Freddy, through its API library): the bot names the
//! customer by email; the contact is found in the CRM, or created from what the bot knows; a
//! verification starts (or the pending one is reused) and the bot gets flat fields to show the
//! link and, later, to branch on the state. The result is posted back into the conversation and
//! written onto the chat user's properties through the write-back queue. The chat product's
//! signed webhooks tell which user a conversation belongs to.

use idv_types::{ContactData, Delivery, Kind, SessionState, StartVerification};
use serde::Serialize;
use serde_json::Value;

use super::{
    crm_unavailable, doctor::Check, start::well_formed_email, sync, Engine, Origin, TenantRow,
    VerRow, Write,
};
use crate::{
    clock,
    error::{AppError, Result},
    ports::{
        chat::{ChatEvent, UserProperty},
        crm::{ContactUpsert, UpsertedContact},
        CrmError,
    },
    store::Conn,
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

/// An optional input: absent, `null` and the empty string (an empty bot variable) are none.
fn given<'a>(body: &'a Value, key: &str) -> Option<&'a Value> {
    match body.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        v => v,
    }
}

fn text(body: &Value, key: &str, max: usize) -> std::result::Result<Option<String>, String> {
    let Some(v) = given(body, key) else {
        return Ok(None);
    };
    let s = match v {
        Value::String(s) => s.trim(),
        _ => return Err(format!("{key} must be a string")),
    };
    if s.chars().count() > max {
        return Err(format!("{key} is longer than {max} characters"));
    }
    if s.chars().any(char::is_control) {
        return Err(format!("{key} holds control characters"));
    }
    Ok(Some(s.to_string()))
}

/// A chat product's id: letters, digits, `-` and `_`, at most 128.
fn chat_id(body: &Value, key: &str) -> std::result::Result<Option<String>, String> {
    let Some(v) = given(body, key) else {
        return Ok(None);
    };
    let s = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return Err(format!("{key} must be a string")),
    };
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return Err(format!(
            "{key} must be the chat's id: letters, digits, - and _, at most 128"
        ));
    }
    Ok(Some(s))
}

/// Reads a bot's body: `email` (required), `first_name`, `last_name`, `phone`,
/// `marketing_consent` (true/false, or "yes"/"no" as a bot's button gives it), `user_id`,
/// `conversation_id`, `delivery`. Each refusal names its field.
pub fn from_bot(body: &Value) -> std::result::Result<BotStart, String> {
    if !body.is_object() {
        return Err("the body must be a JSON object with the customer's \"email\"".into());
    }
    let email = text(body, "email", 254)?
        .ok_or("email is required: the customer's email address, as the bot asked for it")?;
    if !well_formed_email(&email) {
        return Err("email is not an email address".into());
    }
    let marketing_consent = match given(body, "marketing_consent") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Some(true),
            "false" | "no" | "0" => Some(false),
            _ => return Err("marketing_consent must be true or false".into()),
        },
        Some(_) => return Err("marketing_consent must be true or false".into()),
    };
    let delivery = match given(body, "delivery") {
        None => None,
        Some(v) => Some(
            v.as_str()
                .and_then(|s| Delivery::parse(s.trim()))
                .ok_or("delivery must be \"show\", \"email\" or \"sms\"")?,
        ),
    };
    Ok(BotStart {
        email: email.to_ascii_lowercase(),
        first_name: text(body, "first_name", 255)?,
        last_name: text(body, "last_name", 255)?,
        phone: text(body, "phone", 64)?,
        marketing_consent,
        user_id: chat_id(body, "user_id")?,
        conversation_id: chat_id(body, "conversation_id")?,
        delivery,
    })
}

/// What the customer reads in the conversation when a verification ends, with its reference
/// (the marker that tells whether an uncertain post went through). No personal data.
pub fn result_text(state: &str, verification: &str) -> String {
    let said = match state {
        "verified" => "Identity verified. Thank you, you can carry on here.",
        "failed" => {
            "Your identity could not be verified. An agent will help you with the next steps."
        }
        "expired" => "The verification link expired before it was used. Ask here for a new one.",
        _ => "The verification ended without a result. Ask here for a new one.",
    };
    format!("{said} (Reference {verification})")
}

fn missing_names(b: &BotStart) -> Option<&'static str> {
    match (&b.first_name, &b.last_name) {
        (None, None) => Some("first_name and last_name are missing"),
        (None, Some(_)) => Some("first_name is missing"),
        (Some(_), None) => Some("last_name is missing"),
        _ => None,
    }
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
        if let Some(missing) = missing_names(bot) {
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

    /// A signed webhook of the chat product: verified on the raw body (a forged or unsigned
    /// one is refused and changes nothing), deduplicated, and a user's message records whose
    /// conversation it is. Returns what was done.
    pub async fn chat_event(
        &self,
        tenant: &TenantRow,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<&'static str> {
        let refused = |e: String| {
            self.metrics.callbacks_rejected.inc();
            AppError::Unauthorized(e)
        };
        let hooks = self.chat_webhooks(tenant).map_err(refused)?;
        hooks
            .verify(signature, body)
            .map_err(|e| refused(format!("webhook signature refused: {e}")))?;
        let event: ChatEvent = hooks.read(body).map_err(AppError::BadRequest)?;
        if !self
            .store
            .record_delivery(&tenant.id, "freshchat", &event.key)
            .await?
        {
            self.metrics.callbacks_duplicate.inc();
            return Ok("duplicate");
        }
        self.metrics.callbacks_accepted.inc();
        let from_user = event.actor_type.as_deref() == Some("user");
        match (&event.conversation_id, &event.user_id) {
            (Some(conversation), Some(user))
                if event.action == "message_create" && from_user && !event.private =>
            {
                self.store
                    .record_conversation_user(
                        &tenant.id,
                        conversation,
                        user,
                        event.channel_id.as_deref(),
                        clock::now_ms(),
                    )
                    .await?;
                Ok("linked")
            }
            _ => Ok("ignored"),
        }
    }

    /// Queues, in the result's transaction, the message into each conversation the
    /// verification was started from and its chat users' properties.
    pub(super) async fn queue_chat_result(
        &self,
        tx: &mut dyn Conn,
        tenant: &TenantRow,
        v: &VerRow,
        state: &str,
    ) -> Result<()> {
        let links = tx.chat_sessions(&v.id).await?;
        let mut users: Vec<&str> = Vec::new();
        for link in &links {
            if !link.conversation_id.is_empty() {
                sync::enqueue(
                    tx,
                    &self.sealer,
                    self.settings.coalesce,
                    &tenant.id,
                    &format!("chat:{}:{}:{state}", v.id, link.conversation_id),
                    &Write::ChatMessage {
                        conversation_id: link.conversation_id.clone(),
                        text: result_text(state, &v.id),
                        marker: v.id.clone(),
                    },
                )
                .await?;
            }
            if let Some(u) = link.user_id.as_deref().filter(|u| !users.contains(u)) {
                users.push(u);
            }
        }
        let now = clock::rfc3339(clock::now_ms());
        for user in users {
            let mut properties = vec![UserProperty {
                name: "idv_status".into(),
                value: state.into(),
            }];
            if state == "verified" {
                properties.push(UserProperty {
                    name: "idv_verified_at".into(),
                    value: now.clone(),
                });
            }
            sync::enqueue(
                tx,
                &self.sealer,
                self.settings.coalesce,
                &tenant.id,
                &format!("chat:{}:user:{user}", v.id),
                &Write::ChatUserProperties {
                    user_id: user.into(),
                    properties: properties.into_iter().map(|p| (p.name, p.value)).collect(),
                },
            )
            .await?;
        }
        Ok(())
    }

    /// `server check`'s lines for a tenant with a Freshchat connection (none without one).
    pub(super) async fn chat_checks(&self, t: &TenantRow) -> Vec<Check> {
        if t.freshchat_api_url.is_none() && t.freshchat_public_key.is_none() {
            return Vec::new();
        }
        let api = match self.chat(t) {
            None => Check {
                name: "freshchat",
                ok: false,
                detail: "no API address or token: set them with `server tenant freshchat ID \
                         --api-url … --token-env …`"
                    .into(),
            },
            Some(chat) => match chat.check().await {
                Ok(()) => Check {
                    name: "freshchat",
                    ok: true,
                    detail: format!("API token accepted: {}", chat.describe()),
                },
                Err(e) => Check {
                    name: "freshchat",
                    ok: false,
                    detail: e.to_string(),
                },
            },
        };
        let hooks = match self.chat_webhooks(t) {
            Ok(_) => Check {
                name: "freshchat webhooks",
                ok: true,
                detail: format!(
                    "signed webhooks expected at {}/hooks/freshchat/{}/events",
                    self.settings.public_base_url, t.id
                ),
            },
            Err(e) => Check {
                name: "freshchat webhooks",
                ok: false,
                detail: e,
            },
        };
        vec![api, hooks]
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_a_bots_body_and_names_each_bad_field() {
        let b = from_bot(&json!({"email": " Jane@Example.com ", "first_name": "Jane",
            "last_name": "", "phone": "+44 20 7946 0018", "marketing_consent": "yes",
            "user_id": "u-1", "conversation_id": "c-1", "delivery": "show"}))
        .unwrap();
        assert_eq!(b.email, "jane@example.com");
        assert_eq!(b.last_name, None, "an empty bot variable is no value");
        assert_eq!(b.marketing_consent, Some(true));
        assert_eq!(b.delivery, Some(Delivery::Show));
        assert_eq!(missing_names(&b), Some("last_name is missing"));
        let bad = |v: Value| from_bot(&v).unwrap_err();
        assert!(bad(json!({})).contains("email is required"));
        assert!(bad(json!({"email": "nope"})).contains("email"));
        assert!(
            bad(json!({"email": "a@b.co", "marketing_consent": "maybe"}))
                .contains("marketing_consent")
        );
        assert!(
            bad(json!({"email": "a@b.co", "conversation_id": "../x"})).contains("conversation_id")
        );
        assert!(bad(json!({"email": "a@b.co", "delivery": "pigeon"})).contains("delivery"));
        assert!(bad(json!({"email": "a@b.co", "first_name": 7})).contains("first_name"));
        assert!(bad(json!([1])).contains("JSON object"));
    }

    #[test]
    fn result_messages_carry_the_reference_and_no_personal_data() {
        let t = result_text("verified", "ver_1");
        assert!(t.starts_with("Identity verified."));
        assert!(t.ends_with("(Reference ver_1)"));
        assert!(result_text("failed", "ver_1").contains("could not be verified"));
    }
}
