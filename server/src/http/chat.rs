//! Freshchat: a Freddy bot's API-library calls and Freshchat's signed webhooks.
//!
//! - `POST /hooks/freshchat/{tenant}`: the bot starts a verification for its conversation and
//!   the customer it names by email (or reuses the one that conversation started); flat JSON
//!   for its response parameters.
//! - `GET /hooks/freshchat/{tenant}/verifications/{id}?conversation_id=…`: the state of a
//!   verification of that conversation, for the bot to branch on.
//!
//! Both carry the workflow webhook secret in `X-IDV-Webhook-Secret` (the same secret, rotated
//! with `server tenant rotate-secret --workflow`).
//!
//! - `POST /hooks/freshchat/{tenant}/events`: Freshchat's webhooks, verified with the account's
//!   RSA public key over the raw body (`X-Freshchat-Signature`); a forged or unsigned one is
//!   refused with 401 and changes nothing.

use axum::{
    body::Bytes,
    extract::{RawQuery, State},
    http::HeaderMap,
    Json,
};
use idv_types::ApiError;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    auth::{AutomatorTenant, PathTenant},
    extract::{parse_json, TenantVerification},
};
use crate::{
    error::{AppError, Result},
    services::{chat, deliveries::HookAnswer},
    AppState,
};

/// Freshchat's signature header.
pub const SIGNATURE_HEADER: &str = "x-freshchat-signature";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(bot_start))
        .routes(routes!(bot_state))
        .routes(routes!(events))
}

#[utoipa::path(post, path = "/hooks/freshchat/{tenant}", tag = "hooks",
    summary = "A chat bot starts a verification for its conversation and the customer it names by email",
    description = "The email only finds the Freshsales contact: whoever is in a chat may type anyone's email, so it \
        never proves who is there. The contact is found (nothing of it changes: names, phone and marketing consent stay \
        the contact's), or created (both names needed; the phone read as E.164, left out with a note on the contact when \
        it does not read as one; marketing consent as the subscription status). Then the verification this conversation \
        started is returned (pending, or verified and still valid), or a new one is started for the conversation. A \
        contact's other verifications (a rep's, another conversation's, an earlier result) are never returned, linked \
        or canceled. The conversation is `conversation_id`, or the one Freshchat's webhooks last reported for \
        `user_id`; without one: 422. The result is posted into that conversation only and written onto its user's \
        properties. The chat's calls have their own limits (per conversation per hour, per account per minute) and \
        their own share of the account's Freshsales budget (`server tenant set-limits`).",
    params(("tenant" = String, Path, description = "The tenant id", pattern = r"^[A-Za-z0-9_-]{1,64}$"),
        ("x-idv-webhook-secret" = String, Header, description = "The workflow webhook secret of `server tenant add`"),
    ),
    request_body(content = super::bodies::BotStart, content_type = "application/json", description = "empty values count as absent"),
    responses(
        (status = 200, description = "`{verification_id, contact_id, contact_created, state, link (while pending, when shown), expires_at, delivery, phone_left_out}`"),
        (status = 400, description = "not JSON", body = ApiError),
        (status = 401, description = "a missing or wrong secret", body = ApiError),
        (status = 404, description = "no such tenant", body = ApiError),
        (status = 422, description = "an input that cannot be used (no email, no conversation, names missing to create a contact), with the reason", body = ApiError),
        (status = 429, description = "a chat limit (per conversation, per account) or the chat's share of the Freshsales budget is spent; `Retry-After`", body = ApiError),
    )
)]
#[tracing::instrument(skip_all, fields(tenant))]
async fn bot_start(
    State(state): State<AppState>,
    AutomatorTenant(row): AutomatorTenant,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<chat::BotAnswer>> {
    let value: Value = parse_json(&headers, &body, false)?;
    let bot = chat::from_bot(&value).map_err(AppError::Unprocessable)?;
    Ok(Json(state.services.chat.bot_start(&row, &bot).await?))
}

#[utoipa::path(get, path = "/hooks/freshchat/{tenant}/verifications/{id}", tag = "hooks",
    summary = "A verification's state, for the bot of the conversation it was started for",
    description = "Answers only for a verification a bot started for `conversation_id`: any other (another \
        conversation's, a rep's) is a 404 like one that does not exist, so `verified` means verified in this chat.",
    params(("tenant" = String, Path, description = "The tenant id", pattern = r"^[A-Za-z0-9_-]{1,64}$"),
        ("id" = String, Path, description = "The verification id the start answered", pattern = r"^[A-Za-z0-9_]{1,64}$"),
        ("conversation_id" = String, Query, description = "The Freshchat conversation the verification was started for", pattern = r"^[A-Za-z0-9_-]{1,128}$"),
        ("x-idv-webhook-secret" = String, Header, description = "The workflow webhook secret of `server tenant add`"),
    ),
    responses(
        (status = 200, description = "`{verification_id, contact_id, state, verified, ial, expires_at, completed_at, reason, link}`"),
        (status = 400, description = "a malformed id, or `conversation_id` missing or malformed", body = ApiError),
        (status = 401, description = "a missing or wrong secret", body = ApiError),
        (status = 404, description = "no such tenant, or no verification of this conversation with this id", body = ApiError),
    )
)]
#[tracing::instrument(skip_all, fields(tenant))]
async fn bot_state(
    State(state): State<AppState>,
    path: TenantVerification,
    AutomatorTenant(row): AutomatorTenant,
    RawQuery(query): RawQuery,
) -> Result<Json<chat::BotState>> {
    let conversation = conversation_of(query.as_deref())?;
    Ok(Json(
        state
            .services
            .chat
            .bot_state(&row, &path.id, &conversation)
            .await?,
    ))
}

/// The state call's `conversation_id` (required; no other parameter).
fn conversation_of(query: Option<&str>) -> Result<String> {
    let mut conversation = None;
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "conversation_id" if conversation.is_none() => conversation = Some(v.into_owned()),
            "conversation_id" => {
                return Err(AppError::BadRequest(
                    "conversation_id is given twice".into(),
                ))
            }
            _ => {
                return Err(AppError::BadRequest(format!(
                    "unknown query parameter {:?}; use conversation_id",
                    k.chars().take(40).collect::<String>()
                )))
            }
        }
    }
    match conversation.map(|c| c.trim().to_string()) {
        Some(c) if chat::is_chat_id(&c) => Ok(c),
        Some(_) => Err(AppError::BadRequest(
            "conversation_id must be the chat's id: letters, digits, - and _, at most 128".into(),
        )),
        None => Err(AppError::BadRequest(
            "conversation_id is required: the conversation the verification was started for".into(),
        )),
    }
}

#[utoipa::path(post, path = "/hooks/freshchat/{tenant}/events", tag = "hooks",
    summary = "Freshchat's webhooks, RSA-signed: a user's message tells whose conversation it is",
    params(("tenant" = String, Path, description = "The tenant id", pattern = r"^[A-Za-z0-9_-]{1,64}$"),
        ("x-freshchat-signature" = String, Header, description = "Base64 of SHA256withRSA (PKCS#1 v1.5) over the raw body, by the account's webhook key", max_length = 4096),
    ),
    request_body(content_type = "application/json", description = "`{actor, action, action_time, data: {message: {message_parts | msg_parts, conversation_id, user_id, …}}}`"),
    responses(
        (status = 200, description = "accepted (`outcome`: linked, ignored), or a duplicate"),
        (status = 400, description = "not a Freshchat event, or no readable `action_time`", body = ApiError),
        (status = 401, description = "a missing or wrong signature, an `action_time` more than 5 minutes from now (a late or replayed delivery), or no webhook key set for this account", body = ApiError),
        (status = 404, description = "no such tenant", body = ApiError),
    )
)]
#[tracing::instrument(skip_all, fields(tenant))]
async fn events(
    State(state): State<AppState>,
    PathTenant(row): PathTenant,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<HookAnswer>> {
    let signature = headers
        .get(SIGNATURE_HEADER)
        .map(|v| {
            v.to_str()
                .map_err(|_| AppError::Unauthorized("X-Freshchat-Signature is not ASCII".into()))
        })
        .transpose()?;
    let outcome = state
        .services
        .chat
        .chat_event(&row, signature, &body)
        .await?;
    Ok(Json(if outcome == "duplicate" {
        HookAnswer::duplicate()
    } else {
        HookAnswer::fresh(Some(outcome.to_string()))
    }))
}
