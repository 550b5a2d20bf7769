//! The widget API (`/api/v1/…`) and the app's install and uninstall.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::{get, post},
    Json, Router,
};
use idv_types::{ContactStatus, DealStatus, StartStepUp, StartVerification, Verification};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    auth::AuthTenant,
    extract::{AppJson, ContactId, DealId, IdempotencyKey, OptionalJson, VerificationId},
};
use crate::{
    error::{AppError, Result},
    services::Policy,
    AppState,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/contacts/{id}/status", get(contact_status))
        .route(
            "/api/v1/contacts/{id}/verifications",
            post(start_verification),
        )
        .route("/api/v1/deals/{id}/status", get(deal_status))
        .route("/api/v1/deals/{id}/step-up", post(start_step_up))
        .route("/api/v1/verifications/{id}", get(verification))
        .route("/api/v1/verifications/{id}/cancel", post(cancel))
        .route("/api/v1/install", post(install))
        .route("/api/v1/uninstall", post(uninstall))
}

/// 201 for a session made by this request, 200 for the one that already stood.
fn created<T>(v: T, new: bool) -> (StatusCode, Json<T>) {
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(v))
}

#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn contact_status(
    auth: AuthTenant,
    State(state): State<AppState>,
    ContactId(id): ContactId,
) -> Result<Json<ContactStatus>> {
    Ok(Json(state.engine.contact_status(&auth.0, id).await?))
}

#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn start_verification(
    auth: AuthTenant,
    State(state): State<AppState>,
    ContactId(id): ContactId,
    IdempotencyKey(key): IdempotencyKey,
    OptionalJson(req): OptionalJson<StartVerification>,
) -> Result<(StatusCode, Json<Verification>)> {
    let (v, new) = state
        .engine
        .start_idv(&auth.0, id, &req, key.as_deref())
        .await?;
    Ok(created(v, new))
}

#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn deal_status(
    auth: AuthTenant,
    State(state): State<AppState>,
    DealId(id): DealId,
) -> Result<Json<DealStatus>> {
    Ok(Json(state.engine.deal_status(&auth.0, id).await?))
}

#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn start_step_up(
    auth: AuthTenant,
    State(state): State<AppState>,
    DealId(id): DealId,
    OptionalJson(req): OptionalJson<StartStepUp>,
) -> Result<(StatusCode, Json<Verification>)> {
    if req.requested_by.as_ref().is_some_and(|r| r.len() > 254) {
        return Err(AppError::Unprocessable("requested_by is too long".into()));
    }
    let (v, new) = state
        .engine
        .start_stepup(&auth.0, id, req.requested_by.as_deref())
        .await?;
    Ok(created(v, new))
}

#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn verification(
    auth: AuthTenant,
    State(state): State<AppState>,
    VerificationId(id): VerificationId,
) -> Result<Json<Verification>> {
    Ok(Json(state.engine.verification_view(&auth.0.id, &id).await?))
}

#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn cancel(
    auth: AuthTenant,
    State(state): State<AppState>,
    VerificationId(id): VerificationId,
) -> Result<Json<Verification>> {
    Ok(Json(state.engine.cancel(&auth.0, &id).await?))
}

/// `POST /api/v1/install`: the serverless `onAppInstall` registers the account and its policy.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Install {
    account_url: String,
    #[serde(default)]
    policy: Option<Policy>,
}

#[derive(Debug, Deserialize)]
struct Uninstall {
    #[serde(default)]
    #[allow(dead_code)]
    account_url: Option<String>,
}

#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn install(
    auth: AuthTenant,
    State(state): State<AppState>,
    headers: HeaderMap,
    AppJson(req): AppJson<Install>,
) -> Result<Json<Value>> {
    let key = headers
        .get("x-freshsales-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 256)
        .ok_or_else(|| {
            AppError::Unprocessable(
                "the Freshsales API key is missing: fill it in on the install form".into(),
            )
        })?
        .to_string();
    let policy = req.policy.unwrap_or_default();
    let missing = state
        .engine
        .install(&auth.0.id, &req.account_url, key, &policy)
        .await?;
    Ok(Json(json!({
        "tenant": auth.0.id,
        "installed": true,
        "policy": policy,
        "missing_contact_fields": missing,
    })))
}

#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn uninstall(
    auth: AuthTenant,
    State(state): State<AppState>,
    OptionalJson(_): OptionalJson<Uninstall>,
) -> Result<Json<Value>> {
    state.engine.uninstall(&auth.0.id).await?;
    Ok(Json(json!({"tenant": auth.0.id, "installed": false})))
}
