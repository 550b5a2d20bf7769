//! Inbound webhooks, each handled as verify → dedupe → commit → 2xx.
//!
//! - `POST /hooks/kosmos/{tenant}`: 1Kosmos callbacks, signed the Standard Webhooks way with the
//!   tenant's webhook secret. A callback is only a *hint*: it makes the session due for a read
//!   now, and the engine applies what the provider's API says. A forged or stale callback
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
use serde_json::{json, Value};
use subtle::ConstantTimeEq;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    auth::AuthTenant,
    extract::{parse_json, TenantId},
};
use crate::{
    clock,
    error::{AppError, Result},
    ports::identity::CallbackEvent,
    services::{
        automation::{self, Handled},
        intake::{Delivery, Recorded},
        workflow, TenantRow,
    },
    webhook, AppState,
};

pub const AUTOMATOR_SECRET_HEADER: &str = "x-idv-webhook-secret";
/// A workflow call's own id, for deduplication.
pub const DELIVERY_ID_HEADER: &str = "x-idv-delivery-id";
/// A workflow call without an id repeats an earlier one if its body is the same within this.
const REPEAT_WINDOW_MS: i64 = 2 * 60 * 1000;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(kosmos))
        .routes(routes!(freshworks))
        .routes(routes!(workflow))
}

/// The tenant named in a hook's path, read through the engine's cache.
pub(super) async fn path_tenant(state: &AppState, TenantId(id): TenantId) -> Result<TenantRow> {
    tracing::Span::current().record("tenant", id.as_str());
    state
        .engine
        .tenant(&id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such tenant".into()))
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
        (status = 202, description = "accepted"),
        (status = 200, description = "a duplicate delivery"),
        (status = 400, description = "not a session event, or a `webhook-signature` over 1,024 bytes or 8 entries", body = ApiError),
        (status = 401, description = "a missing, wrong or stale signature", body = ApiError),
        (status = 404, description = "no such tenant", body = ApiError),
    )
)]
#[tracing::instrument(skip_all, fields(tenant))]
async fn kosmos(
    State(state): State<AppState>,
    tenant: TenantId,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>)> {
    let engine = &state.engine;
    let row = path_tenant(&state, tenant).await?;
    let tenant = row.id.clone();
    let Some(secret) = &row.kosmos_webhook_secret else {
        engine.metrics.callbacks_rejected.inc();
        return Err(AppError::Unauthorized(
            "this tenant has no 1Kosmos webhook secret configured".into(),
        ));
    };
    use secrecy::ExposeSecret;
    // The secret before the last rotation still verifies while its grace period lasts.
    let keys: Vec<Vec<u8>> = std::iter::once(secret)
        .chain(row.kosmos_webhook_secret_previous.as_ref())
        .map(|s| webhook::secret_bytes(s.expose_secret()))
        .collect();
    let keys: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    let verified = webhook::verify(&keys, &headers, &body, clock::now_secs()).map_err(|e| {
        engine.metrics.callbacks_rejected.inc();
        e.answer(|m| AppError::Unauthorized(format!("callback signature refused: {m}")))
    })?;
    let event: CallbackEvent = serde_json::from_slice(&body)
        .map_err(|e| AppError::BadRequest(format!("callback body is not a session event: {e}")))?;
    if event.session_id.is_empty() || event.session_id.len() > 128 {
        return Err(AppError::BadRequest(
            "session_id must be 1 to 128 characters".into(),
        ));
    }
    let duplicate = || {
        engine.metrics.callbacks_duplicate.inc();
        Ok((
            StatusCode::OK,
            Json(json!({"accepted": true, "duplicate": true})),
        ))
    };
    // Seen before: a read, no write lock.
    if engine
        .store
        .delivery_seen(&tenant, "kosmos", &verified.id)
        .await?
    {
        return duplicate();
    }
    // Recorded with the hint in one transaction, shared with the callbacks arriving meanwhile;
    // answered only once it committed.
    let recorded = engine
        .record_callback(Delivery {
            tenant: tenant.clone(),
            event_id: verified.id.clone(),
            provider_session: event.session_id.clone(),
            // Our own ids only: anything else cannot name a row.
            reference: event.reference.clone().filter(|r| {
                r.len() <= 64 && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            }),
        })
        .await?;
    let Recorded::Accepted { due } = recorded else {
        return duplicate();
    };
    engine.metrics.callbacks_accepted.inc();
    if due {
        engine.wake_poll.notify_one();
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"accepted": true, "duplicate": false})),
    ))
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
        (status = 200, description = "handled, or a duplicate"),
        (status = 400, description = "a `webhook-signature` over 1,024 bytes or 8 entries", body = ApiError),
        (status = 401, description = "a wrong token or signature", body = ApiError),
        (status = 403, description = "an event of another account than the one the app is installed on", body = ApiError),
        (status = 422, description = "not an event the app handles, or one that names no `account_url`", body = ApiError),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn freshworks(
    auth: AuthTenant,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>)> {
    // The forwarder signs with a key derived from the token's hash (all the backend keeps of
    // it) for events only.
    let key = super::auth::signing_key(&auth.0.token_hash, super::auth::Purpose::Event);
    let verified =
        webhook::verify(&[key.as_slice()], &headers, &body, clock::now_secs()).map_err(|e| {
            e.answer(|m| AppError::Unauthorized(format!("event signature refused: {m}")))
        })?;
    let value: Value = parse_json(&headers, &body, false)?;
    state
        .engine
        .check_event_account(&auth.0.id, value.get("account_url").and_then(Value::as_str))
        .await?;
    let event = automation::from_forwarder(&value).map_err(AppError::Unprocessable)?;
    let row = auth.0;
    if !state
        .engine
        .store
        .record_delivery(&row.id, "freshworks", &verified.id)
        .await?
    {
        return Ok((
            StatusCode::OK,
            Json(json!({"accepted": true, "duplicate": true})),
        ));
    }
    let Some(event) = event else {
        let outcome = if value.get("event").and_then(Value::as_str) == Some("onContactUpdate") {
            "no_identity_change"
        } else {
            "no_stage_change"
        };
        return Ok((
            StatusCode::OK,
            Json(json!({"accepted": true, "outcome": outcome})),
        ));
    };
    let handled = act(&state, &row, &event, "freshworks", &verified.id).await?;
    Ok((
        StatusCode::OK,
        Json(json!({"accepted": true, "result": handled})),
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
    tenant: TenantId,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>)> {
    let row = path_tenant(&state, tenant).await?;
    check_automator_secret(&row, &headers)?;
    let value: Value = parse_json(&headers, &body, false)?;
    let call = workflow::from_workflow(&value).map_err(AppError::Unprocessable)?;
    if call.test {
        let delivery = state.engine.workflow_delivery(&row, &call.options)?;
        return Ok((
            StatusCode::OK,
            Json(workflow::test_answer(&row, &call, delivery)),
        ));
    }
    // A repeated call (the sender's retry, a replay) starts and moves nothing twice.
    let engine = &state.engine;
    let (key, fresh) = match headers.get(DELIVERY_ID_HEADER) {
        Some(id) => {
            let id = id
                .to_str()
                .ok()
                .filter(|s| !s.is_empty() && s.len() <= 256)
                .ok_or_else(|| {
                    AppError::BadRequest(
                        "X-IDV-Delivery-Id must be 1 to 256 visible characters".into(),
                    )
                })?;
            let key = format!("id:{id}");
            let fresh = engine
                .store
                .record_delivery(&row.id, "workflow", &key)
                .await?;
            (key, fresh)
        }
        None => {
            use sha2::{Digest, Sha256};
            let key = format!("body:{}", hex::encode(Sha256::digest(&body)));
            let fresh = engine
                .store
                .record_delivery_within(
                    &row.id,
                    "workflow",
                    &key,
                    clock::now_ms(),
                    REPEAT_WINDOW_MS,
                )
                .await?;
            (key, fresh)
        }
    };
    if !fresh {
        // A deal moved into the gated stage again sends the same body: its gate is checked
        // again (idempotently) rather than skipped.
        let mut answer = json!({"accepted": true, "duplicate": true});
        if let Some(rechecked) = engine.recheck_workflow_gate(&row, &call).await? {
            answer["result"] = json!(rechecked);
        }
        return Ok((StatusCode::OK, Json(answer)));
    }
    let handled = match engine.handle_workflow(&row, &call).await {
        Ok(h) => h,
        Err(e) => {
            engine
                .store
                .forget_delivery(&row.id, "workflow", &key)
                .await?;
            return Err(e);
        }
    };
    Ok((
        StatusCode::OK,
        Json(json!({
            "accepted": true,
            "duplicate": false,
            "verification_id": handled.verification_id,
            "state": handled.state,
            "result": handled,
        })),
    ))
}

/// Handles an event whose delivery id was recorded; forgets the id if handling failed, so the
/// sender's retry is not mistaken for a duplicate.
async fn act(
    state: &AppState,
    row: &TenantRow,
    event: &automation::CrmEvent,
    source: &str,
    id: &str,
) -> Result<Handled> {
    match state.engine.handle_event(row, event).await {
        Ok(h) => Ok(h),
        Err(e) => {
            state
                .engine
                .store
                .forget_delivery(&row.id, source, id)
                .await?;
            Err(e)
        }
    }
}

pub(super) fn check_automator_secret(row: &TenantRow, headers: &HeaderMap) -> Result<()> {
    use secrecy::ExposeSecret;
    let Some(expected) = &row.automator_secret else {
        return Err(AppError::Unauthorized(
            "this tenant has no workflow webhook secret; the operator sets one with `server tenant add`".into(),
        ));
    };
    let given = headers
        .get(AUTOMATOR_SECRET_HEADER)
        .ok_or_else(|| AppError::Unauthorized("missing X-IDV-Webhook-Secret header".into()))?
        .as_bytes();
    // The secret before the last rotation is still accepted while its grace period lasts.
    let matches = std::iter::once(expected)
        .chain(row.automator_secret_previous.as_ref())
        .fold(subtle::Choice::from(0), |any, s| {
            any | given.ct_eq(s.expose_secret().as_bytes())
        });
    if !bool::from(matches) {
        return Err(AppError::Unauthorized(
            "the X-IDV-Webhook-Secret header is wrong".into(),
        ));
    }
    Ok(())
}
