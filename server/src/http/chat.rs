//! Freshchat: a Freddy bot's API-library calls and Freshchat's signed webhooks.
//!
//! - `POST /hooks/freshchat/{tenant}`: the bot starts (or reuses) a verification for the
//!   customer it names by email; flat JSON for its response parameters.
//! - `GET /hooks/freshchat/{tenant}/verifications/{id}`: the state, for the bot to branch on.
//!
//! Both carry the workflow webhook secret in `X-IDV-Webhook-Secret` (the same secret, rotated
//! with `server tenant rotate-secret --workflow`).
//!
//! - `POST /hooks/freshchat/{tenant}/events`: Freshchat's webhooks, verified with the account's
//!   RSA public key over the raw body (`X-Freshchat-Signature`); a forged or unsigned one is
//!   refused with 401 and changes nothing.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    Json,
};
use idv_types::ApiError;
use serde_json::{json, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    extract::{parse_json, TenantId, TenantVerification},
    hooks::{check_automator_secret, path_tenant},
};
use crate::{
    error::{AppError, Result},
    services::chat,
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
    summary = "A chat bot starts a verification for the customer it names by email",
    description = "Finds the Freshsales contact with the email (it keeps its own names and phone), or creates it \
        (both names needed; the phone read as E.164, left out with a note on the contact when it does not read as one; \
        marketing consent as the subscription status), then starts a verification or returns the pending or valid one. \
        The result is posted into `conversation_id` and written onto the chat user's properties.",
    params(("tenant" = String, Path, description = "The tenant id", pattern = r"^[A-Za-z0-9_-]{1,64}$"),
        ("x-idv-webhook-secret" = String, Header, description = "The workflow webhook secret of `server tenant add`"),
    ),
    request_body(content_type = "application/json", description = "`{\"email\" (required), \"first_name\"?, \"last_name\"? (both needed to create a contact), \"phone\"?, \"marketing_consent\"?: bool, \"user_id\"?, \"conversation_id\"? (Freshchat ids), \"delivery\"?: \"show\" | \"email\" | \"sms\"}`; empty values count as absent"),
    responses(
        (status = 200, description = "`{verification_id, contact_id, contact_created, state, link (while pending, when shown), expires_at, delivery, phone_left_out}`"),
        (status = 400, description = "not JSON", body = ApiError),
        (status = 401, description = "a missing or wrong secret", body = ApiError),
        (status = 404, description = "no such tenant", body = ApiError),
        (status = 422, description = "an input that cannot be used (e.g. names missing to create a contact), with the reason", body = ApiError),
        (status = 429, description = "a start limit or the CRM budget is spent; `Retry-After`", body = ApiError),
    )
)]
#[tracing::instrument(skip_all, fields(tenant))]
async fn bot_start(
    State(state): State<AppState>,
    tenant: TenantId,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<chat::BotAnswer>> {
    let row = path_tenant(&state, tenant).await?;
    check_automator_secret(&row, &headers)?;
    let value: Value = parse_json(&headers, &body, false)?;
    let bot = chat::from_bot(&value).map_err(AppError::Unprocessable)?;
    Ok(Json(state.engine.bot_start(&row, &bot).await?))
}

#[utoipa::path(get, path = "/hooks/freshchat/{tenant}/verifications/{id}", tag = "hooks",
    summary = "A verification's state, for a chat bot to branch on",
    params(("tenant" = String, Path, description = "The tenant id", pattern = r"^[A-Za-z0-9_-]{1,64}$"),
        ("id" = String, Path, description = "The verification id the start answered", pattern = r"^[A-Za-z0-9_]{1,64}$"),
        ("x-idv-webhook-secret" = String, Header, description = "The workflow webhook secret of `server tenant add`"),
    ),
    responses(
        (status = 200, description = "`{verification_id, contact_id, state, verified, ial, expires_at, completed_at, reason, link}`"),
        (status = 400, description = "a malformed id", body = ApiError),
        (status = 401, description = "a missing or wrong secret", body = ApiError),
        (status = 404, description = "no such tenant or verification", body = ApiError),
    )
)]
#[tracing::instrument(skip_all, fields(tenant))]
async fn bot_state(
    State(state): State<AppState>,
    path: TenantVerification,
    headers: HeaderMap,
) -> Result<Json<chat::BotState>> {
    let row = path_tenant(&state, path.tenant).await?;
    check_automator_secret(&row, &headers)?;
    Ok(Json(state.engine.bot_state(&row, &path.id).await?))
}

#[utoipa::path(post, path = "/hooks/freshchat/{tenant}/events", tag = "hooks",
    summary = "Freshchat's webhooks, RSA-signed: a user's message tells whose conversation it is",
    params(("tenant" = String, Path, description = "The tenant id", pattern = r"^[A-Za-z0-9_-]{1,64}$"),
        ("x-freshchat-signature" = String, Header, description = "Base64 of SHA256withRSA (PKCS#1 v1.5) over the raw body, by the account's webhook key", max_length = 4096),
    ),
    request_body(content_type = "application/json", description = "`{actor, action, action_time, data: {message: {message_parts | msg_parts, conversation_id, user_id, …}}}`"),
    responses(
        (status = 200, description = "accepted (`outcome`: linked, ignored), or a duplicate"),
        (status = 400, description = "not a Freshchat event", body = ApiError),
        (status = 401, description = "a missing or wrong signature, or no webhook key set for this account", body = ApiError),
        (status = 404, description = "no such tenant", body = ApiError),
    )
)]
#[tracing::instrument(skip_all, fields(tenant))]
async fn events(
    State(state): State<AppState>,
    tenant: TenantId,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>)> {
    let row = path_tenant(&state, tenant).await?;
    let signature = headers
        .get(SIGNATURE_HEADER)
        .map(|v| {
            v.to_str()
                .map_err(|_| AppError::Unauthorized("X-Freshchat-Signature is not ASCII".into()))
        })
        .transpose()?;
    let outcome = state.engine.chat_event(&row, signature, &body).await?;
    let answer = if outcome == "duplicate" {
        json!({"accepted": true, "duplicate": true})
    } else {
        json!({"accepted": true, "duplicate": false, "outcome": outcome})
    };
    Ok((StatusCode::OK, Json(answer)))
}
