//! What goes into a conversation and comes from it: the result's message and the user's
//! properties (queued with the result), Freshchat's signed webhooks, and `server check`'s lines.

use crate::{
    clock,
    error::{AppError, Result},
    ports::chat::{ChatEvent, UserProperty},
    services::{doctor::Check, sync, Engine, TenantRow, VerRow, Write},
    store::Conn,
};

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

/// How far a signed webhook's own time (`action_time`) may be from now, either way. A delivery
/// is only deduplicated while its record is kept (7 days, `Retention::inbound_events`), so a
/// captured delivery could otherwise be replayed once that record is gone. Five minutes is far
/// inside that retention, covers clock skew and prompt retries, and keeps the window in which a
/// captured body is of any use short.
pub const WEBHOOK_TOLERANCE_MS: i64 = 5 * 60 * 1000;

/// Why a webhook's time is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
enum Stale {
    #[error(
        "the webhook has no readable action_time (RFC 3339), so its freshness cannot be checked"
    )]
    Unknown,
    #[error("the webhook's action_time is more than 5 minutes from now: a late or replayed delivery is refused")]
    Outside,
}

/// Checks a webhook's own time against now.
fn fresh(at_ms: Option<i64>, now_ms: i64) -> std::result::Result<(), Stale> {
    let at = at_ms.ok_or(Stale::Unknown)?;
    if now_ms.abs_diff(at) > WEBHOOK_TOLERANCE_MS.unsigned_abs() {
        return Err(Stale::Outside);
    }
    Ok(())
}

impl Engine {
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
        let hooks = self.tenants.chat_webhooks(tenant).map_err(refused)?;
        hooks
            .verify(signature, body)
            .map_err(|e| refused(format!("webhook signature refused: {e}")))?;
        let event: ChatEvent = hooks.read(body).map_err(AppError::BadRequest)?;
        fresh(event.at_ms, clock::now_ms()).map_err(|e| match e {
            Stale::Unknown => AppError::BadRequest(e.to_string()),
            Stale::Outside => refused(e.to_string()),
        })?;
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
                let recorded = self
                    .store
                    .record_conversation_user(
                        &tenant.id,
                        conversation,
                        user,
                        event.channel_id.as_deref(),
                        clock::now_ms(),
                    )
                    .await;
                if let Err(e) = recorded {
                    // Freshchat's retry of this delivery must not read as a duplicate.
                    self.store
                        .forget_delivery(&tenant.id, "freshchat", &event.key)
                        .await?;
                    return Err(e);
                }
                Ok("linked")
            }
            _ => Ok("ignored"),
        }
    }

    /// Queues, in the result's transaction, the message into the conversation the verification
    /// was started for and its user's properties; nothing for a session no bot started, and
    /// nowhere else.
    pub(in crate::services) async fn queue_chat_result(
        &self,
        tx: &mut dyn Conn,
        tenant: &TenantRow,
        v: &VerRow,
        state: &str,
    ) -> Result<()> {
        let Some(own) = v.conversation_id.as_deref() else {
            return Ok(());
        };
        sync::enqueue(
            tx,
            &self.sealer,
            self.settings.coalesce,
            &tenant.id,
            &format!("chat:{}:{own}:{state}", v.id),
            &Write::ChatMessage {
                conversation_id: own.to_string(),
                text: result_text(state, &v.id),
                marker: v.id.clone(),
            },
        )
        .await?;
        let links = tx.chat_sessions(&v.id).await?;
        let Some(user) = links
            .into_iter()
            .find(|l| l.conversation_id == own)
            .and_then(|l| l.user_id)
        else {
            return Ok(());
        };
        let mut properties = vec![UserProperty {
            name: "idv_status".into(),
            value: state.into(),
        }];
        if state == "verified" {
            properties.push(UserProperty {
                name: "idv_verified_at".into(),
                value: clock::rfc3339(clock::now_ms()),
            });
        }
        sync::enqueue(
            tx,
            &self.sealer,
            self.settings.coalesce,
            &tenant.id,
            &format!("chat:{}:user:{user}", v.id),
            &Write::ChatUserProperties {
                user_id: user.clone(),
                properties: properties.into_iter().map(|p| (p.name, p.value)).collect(),
            },
        )
        .await
    }

    /// `server check`'s lines for a tenant with a Freshchat connection (none without one).
    pub(in crate::services) async fn chat_checks(&self, t: &TenantRow) -> Vec<Check> {
        if t.chat.is_none() && t.chat_webhook_key.is_none() {
            return Vec::new();
        }
        let api = match self.tenants.chat(t) {
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
        let hooks = match self.tenants.chat_webhooks(t) {
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
    use super::*;

    #[test]
    fn result_messages_carry_the_reference_and_no_personal_data() {
        let t = result_text("verified", "ver_1");
        assert!(t.starts_with("Identity verified."));
        assert!(t.ends_with("(Reference ver_1)"));
        assert!(result_text("failed", "ver_1").contains("could not be verified"));
    }

    #[test]
    fn a_webhook_is_fresh_only_within_the_tolerance_which_is_inside_the_dedupe_retention() {
        let now = 1_796_637_600_000;
        assert_eq!(fresh(Some(now), now), Ok(()));
        assert_eq!(fresh(Some(now - WEBHOOK_TOLERANCE_MS), now), Ok(()));
        assert_eq!(fresh(Some(now + WEBHOOK_TOLERANCE_MS), now), Ok(()));
        assert_eq!(
            fresh(Some(now - WEBHOOK_TOLERANCE_MS - 1), now),
            Err(Stale::Outside)
        );
        assert_eq!(
            fresh(Some(now + WEBHOOK_TOLERANCE_MS + 1), now),
            Err(Stale::Outside)
        );
        assert_eq!(fresh(Some(i64::MIN), now), Err(Stale::Outside));
        assert_eq!(fresh(None, now), Err(Stale::Unknown));
        let kept = crate::services::retention::Retention::default().inbound_events;
        assert!(u128::try_from(WEBHOOK_TOLERANCE_MS).unwrap() * 10 < kept.as_millis());
    }
}
