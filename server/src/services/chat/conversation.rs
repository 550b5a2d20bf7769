//! What goes into a conversation and comes from it: the result's message and the user's
//! properties (queued with the result), Freshchat's signed webhooks, and `server check`'s lines.

use crate::{
    clock,
    error::{AppError, Result},
    ports::chat::ChatEvent,
    services::{chat::Chat, tenant::TenantRow},
};

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

impl Chat {
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
            self.core.metrics.callbacks_rejected.inc();
            AppError::Unauthorized(e)
        };
        let hooks = self.core.tenants.chat_webhooks(tenant).map_err(refused)?;
        hooks
            .verify(signature, body)
            .map_err(|e| refused(format!("webhook signature refused: {e}")))?;
        let event: ChatEvent = hooks.read(body).map_err(AppError::BadRequest)?;
        fresh(event.at_ms, clock::now_ms()).map_err(|e| match e {
            Stale::Unknown => AppError::BadRequest(e.to_string()),
            Stale::Outside => refused(e.to_string()),
        })?;
        if !self
            .core
            .store
            .record_delivery(&tenant.id, "freshchat", &event.key)
            .await?
        {
            self.core.metrics.callbacks_duplicate.inc();
            return Ok("duplicate");
        }
        self.core.metrics.callbacks_accepted.inc();
        let from_user = event.actor_type.as_deref() == Some("user");
        match (&event.conversation_id, &event.user_id) {
            (Some(conversation), Some(user))
                if event.action == "message_create" && from_user && !event.private =>
            {
                let recorded = self
                    .core
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
                    self.core
                        .store
                        .forget_delivery(&tenant.id, "freshchat", &event.key)
                        .await?;
                    return Err(e);
                }
                Ok("linked")
            }
            _ => Ok("ignored"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let kept = crate::services::settings::RetentionPeriods::default().inbound_events;
        assert!(u128::try_from(WEBHOOK_TOLERANCE_MS).unwrap() * 10 < kept.as_millis());
    }
}
