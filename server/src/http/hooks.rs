//! Inbound webhooks, each handled as verify → dedupe → commit → 2xx.
//!
//! - `POST /hooks/kosmos/{tenant}`: 1Kosmos callbacks, signed the Standard Webhooks way with the
//!   tenant's webhook secret. A callback is only a *hint*: it makes the session due for a read
//!   now, and the services apply what the provider's API says. A forged or stale callback
//!   changes nothing.
//! - `POST /hooks/freshworks`: the serverless forwarder's events (`Authorization: Bearer` token,
//!   signed with `{the token's SHA-256 hex}:event` as key, so only as an event).
//! - `POST /hooks/freshsales/{tenant}`: a Workflow Automator *Trigger Webhook* with the secret
//!   header `X-IDV-Webhook-Secret`.
//! - `/hooks/freshchat/{tenant}…`: a chat bot's calls and Freshchat's signed webhooks
//!   ([`super::chat`]).

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    Json,
};
use idv_types::ApiError;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    auth::{AutomatorTenant, SignedCallback, SignedEvent},
    extract::parse_json,
};
use crate::{
    error::{AppError, Result},
    ports::identity::CallbackEvent,
    services::{
        deliveries::{HookAnswer, WorkflowDelivery},
        workflow,
    },
    AppState,
};

/// A workflow call's own id, for deduplication.
pub const DELIVERY_ID_HEADER: &str = "x-idv-delivery-id";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(kosmos))
        .routes(routes!(freshworks))
        .routes(routes!(workflow))
}

#[utoipa::path(post, path = "/hooks/kosmos/{tenant}", tag = "hooks",
    summary = "1Kosmos callback (Standard Webhooks signature): a hint to read the session now",
    params(("tenant" = String, Path, description = "The tenant id", pattern = r"^[A-Za-z0-9_-]{1,64}$"),
        ("webhook-id" = String, Header, min_length = 1, max_length = 256),
        ("webhook-timestamp" = String, Header, description = "Unix seconds, within 5 minutes", pattern = r"^[0-9]{1,12}$"),
        ("webhook-signature" = String, Header, max_length = 1024, description = "`v1,<base64 HMAC-SHA256>`, space-separated, at most 8 entries"),
    ),
    request_body(content_type = "application/json", description = "`{\"type\", \"session_id\" (1–128 characters), \"reference\"?, \"status\"?}`"),
    responses(
        (status = 202, description = "accepted", body = HookAnswer),
        (status = 200, description = "a duplicate delivery", body = HookAnswer),
        (status = 400, description = "not a session event, or a `webhook-signature` over 1,024 bytes or 8 entries", body = ApiError),
        (status = 401, description = "a missing, wrong or stale signature", body = ApiError),
        (status = 404, description = "no such tenant", body = ApiError),
    )
)]
#[tracing::instrument(skip_all, fields(tenant))]
async fn kosmos(
    State(state): State<AppState>,
    callback: SignedCallback,
) -> Result<(StatusCode, Json<HookAnswer>)> {
    let event: CallbackEvent = serde_json::from_slice(&callback.body)
        .map_err(|e| AppError::BadRequest(format!("callback body is not a session event: {e}")))?;
    if event.session_id.is_empty() || event.session_id.len() > 128 {
        return Err(AppError::BadRequest(
            "session_id must be 1 to 128 characters".into(),
        ));
    }
    let answer = state
        .services
        .deliveries
        .callback(
            &callback.tenant,
            &callback.delivery_id,
            &event.session_id,
            event.reference.clone(),
        )
        .await?;
    let status = if answer.is_fresh() {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(answer)))
}

#[utoipa::path(post, path = "/hooks/freshworks", tag = "hooks",
    summary = "The serverless forwarder's events (onContactCreate, onContactUpdate, onDealUpdate), signed",
    params(
        ("webhook-id" = String, Header, min_length = 1, max_length = 256),
        ("webhook-timestamp" = String, Header, pattern = r"^[0-9]{1,12}$"),
        ("webhook-signature" = String, Header),
    ),
    request_body(content_type = "application/json", description = "the platform's event payload"),
    responses(
        (status = 200, description = "handled (`result`), an event that needs nothing (`outcome`), or a duplicate", body = HookAnswer),
        (status = 400, description = "a `webhook-signature` over 1,024 bytes or 8 entries", body = ApiError),
        (status = 401, description = "a wrong token or signature", body = ApiError),
        (status = 403, description = "an event of another account than the one the app is installed on", body = ApiError),
        (status = 422, description = "not an event the app handles, or one that names no `account_url`", body = ApiError),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %event.tenant.id))]
async fn freshworks(State(state): State<AppState>, event: SignedEvent) -> Result<Json<HookAnswer>> {
    let value: Value = parse_json(&event.headers, &event.body, false)?;
    Ok(Json(
        state
            .services
            .deliveries
            .forwarded_event(&event.tenant, &event.delivery_id, &value)
            .await?,
    ))
}

#[utoipa::path(post, path = "/hooks/freshsales/{tenant}", tag = "hooks",
    summary = "A Workflow Automator Trigger Webhook: starts a verification on the workflow's own authority",
    params(("tenant" = String, Path, description = "The tenant id", pattern = r"^[A-Za-z0-9_-]{1,64}$"),
        ("x-idv-webhook-secret" = String, Header, description = "The workflow webhook secret of `server tenant add`"),
        ("x-idv-delivery-id" = Option<String>, Header, min_length = 1, max_length = 256,
            description = "The call's id: a repeat is answered as a duplicate and starts nothing (without it, a repeat of the same body within 2 minutes is); a repeated deal call still has its gate checked, since the deal may have entered the stage again"),
    ),
    request_body(content = super::bodies::Workflow, content_type = "application/json", description = "values that are unexpanded `{{placeholders}}` make it the editor's test call"),
    responses(
        (status = 200, description = "handled (`verification_id`, `state`, `result`), a duplicate (for a deal, with the `result` of the gate checked again), or the editor's test call (`test`: true, `message`), which starts nothing"),
        (status = 401, description = "a missing or wrong secret", body = ApiError),
        (status = 404, description = "no such tenant or record", body = ApiError),
        (status = 422, description = "an input that cannot be used, with the reason", body = ApiError),
    )
)]
#[tracing::instrument(skip_all, fields(tenant))]
async fn workflow(
    State(state): State<AppState>,
    AutomatorTenant(row): AutomatorTenant,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>> {
    let value: Value = parse_json(&headers, &body, false)?;
    let call = workflow::from_workflow(&value).map_err(AppError::Unprocessable)?;
    if call.test {
        let delivery = state
            .services
            .sessions
            .workflow_delivery(&row, &call.options)?;
        return Ok(Json(workflow::test_answer(&row, &call, delivery)));
    }
    // A repeated call (the sender's retry, a replay) starts and moves nothing twice.
    let delivery = match headers.get(DELIVERY_ID_HEADER) {
        Some(id) => WorkflowDelivery::Id(
            id.to_str()
                .ok()
                .filter(|s| !s.is_empty() && s.len() <= 256)
                .ok_or_else(|| {
                    AppError::BadRequest(
                        "X-IDV-Delivery-Id must be 1 to 256 visible characters".into(),
                    )
                })?
                .to_string(),
        ),
        None => WorkflowDelivery::Body(body.to_vec()),
    };
    let answer = state
        .services
        .deliveries
        .workflow_call(&row, &call, delivery)
        .await?;
    Ok(Json(serde_json::to_value(answer).unwrap_or_default()))
}
