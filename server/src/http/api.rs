//! The widget API (`/api/v1/…`) and the app's install and uninstall.

use axum::{
    body::Bytes,
    extract::{RawQuery, State},
    http::{header, HeaderMap, StatusCode},
    response::IntoResponse,
    Json,
};
use idv_types::{
    ApiError, AuditPage, ContactStatus, DealStatus, ResendAnswer, ResendLink, StartStepUp,
    StartVerification, Verification,
};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    auth::AuthTenant,
    extract::{parse_json, ContactId, DealId, IdempotencyKey, OptionalJson, VerificationId},
};
use crate::{
    clock,
    error::{AppError, Result},
    services::{audit, tenant::CrmKind, Origin, Policy},
    webhook, AppState,
};

/// What any widget call may be refused with before its service is asked (documented once for
/// every route; the answers themselves are `AppError`s).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum Refused {
    /// a malformed id, header, query or body
    #[response(status = 400)]
    BadRequest(ApiError),
    /// no or an unknown API token
    #[response(status = 401)]
    Unauthorized(ApiError),
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(contact_status))
        .routes(routes!(start_verification))
        .routes(routes!(start_contact_step_up))
        .routes(routes!(contact_audit))
        .routes(routes!(deal_status))
        .routes(routes!(start_step_up))
        .routes(routes!(verification))
        .routes(routes!(cancel))
        .routes(routes!(resend))
        .routes(routes!(install))
        .routes(routes!(uninstall))
}

/// 201 for a session made by this request, 200 for the one that already stood.
pub(super) fn created<T>(v: T, new: bool) -> (StatusCode, Json<T>) {
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(v))
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}/status", tag = "widget", summary = "A contact's verification status",
    params(("id" = String, Path, description = "The CRM contact id: 1 to 18 digits, not zero", pattern = r"^[1-9][0-9]{0,17}$")),
    responses(
        (status = 200, description = "the contact's status", body = ContactStatus),
        Refused,
        (status = 404, description = "no such contact in this account", body = ApiError),
        (status = 429, description = "the account's Freshsales API budget is spent; see `Retry-After`", body = ApiError),
        (status = 502, description = "the CRM could not be reached", body = ApiError),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn contact_status(
    auth: AuthTenant,
    State(state): State<AppState>,
    ContactId(id): ContactId,
) -> Result<impl IntoResponse> {
    let body = state
        .services
        .status
        .contact_status_json(&auth.0, id)
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body))
}

#[utoipa::path(post, path = "/api/v1/contacts/{id}/verifications", tag = "widget", summary = "Verify Identity: start document and selfie proofing",
    params(
        ("id" = String, Path, description = "The CRM contact id: 1 to 18 digits, not zero", pattern = r"^[1-9][0-9]{0,17}$"),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeats of a request with the same key return the same session", min_length = 1, max_length = 128),
    ),
    request_body(content = StartVerification, description = "may be empty"),
    responses(
        (status = 201, description = "a new session", body = Verification),
        (status = 200, description = "the pending or valid session that already stood", body = Verification),
        Refused,
        (status = 404, description = "no such contact in this account", body = ApiError),
        (status = 409, description = "started at the same moment elsewhere; retry", body = ApiError),
        (status = 415, description = "a body that is not JSON", body = ApiError),
        (status = 422, description = "an unknown IAL or document type, or the app is uninstalled from the account", body = ApiError),
        (status = 429, description = "a start or Freshsales limit of the account or the contact was reached; see `Retry-After`", body = ApiError),
        (status = 502, description = "the provider or the CRM could not be reached", body = ApiError),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn start_verification(
    auth: AuthTenant,
    State(state): State<AppState>,
    ContactId(id): ContactId,
    IdempotencyKey(key): IdempotencyKey,
    OptionalJson(req): OptionalJson<StartVerification>,
) -> Result<(StatusCode, Json<Verification>)> {
    let (v, new) = state
        .services
        .sessions
        .start_idv(&auth.0, id, &req, key.as_deref(), Origin::Widget)
        .await?;
    Ok(created(v, new))
}

#[utoipa::path(post, path = "/api/v1/contacts/{id}/step-up", tag = "widget", summary = "Step-Up Auth on the contact page: a LiveID session for an enrolled contact",
    params(("id" = String, Path, description = "The CRM contact id: 1 to 18 digits, not zero", pattern = r"^[1-9][0-9]{0,17}$")),
    request_body(content = StartStepUp, description = "may be empty"),
    responses(
        (status = 201, description = "a new LiveID session", body = Verification),
        (status = 200, description = "the live session that already stood", body = Verification),
        Refused,
        (status = 409, description = "the contact is not enrolled in LiveID (`not_enrolled`), or a step-up was started at the same moment", body = ApiError),
        (status = 415, description = "a body that is not JSON", body = ApiError),
        (status = 422, description = "`requested_by` is too long, or the app is uninstalled from the account", body = ApiError),
        (status = 502, description = "the provider could not be reached", body = ApiError),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn start_contact_step_up(
    auth: AuthTenant,
    State(state): State<AppState>,
    ContactId(id): ContactId,
    OptionalJson(req): OptionalJson<StartStepUp>,
) -> Result<(StatusCode, Json<Verification>)> {
    if req.requested_by.as_ref().is_some_and(|r| r.len() > 254) {
        return Err(AppError::Unprocessable("requested_by is too long".into()));
    }
    let (v, new) = state
        .services
        .stepups
        .start_contact_stepup(&auth.0, id, req.requested_by.as_deref())
        .await?;
    Ok(created(v, new))
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}/audit", tag = "widget", summary = "A contact's audit trail for the history panel, newest first",
    params(
        ("id" = String, Path, description = "The CRM contact id: 1 to 18 digits, not zero", pattern = r"^[1-9][0-9]{0,17}$"),
        ("limit" = Option<u32>, Query, description = "Lines per page (default 50)", minimum = 1, maximum = 100),
        ("before" = Option<u64>, Query, description = "The `next_before` of the previous page", minimum = 1),
    ),
    responses(
        (status = 200, description = "a page of the contact's audit lines", body = AuditPage),
        Refused,
        (status = 404, description = "no such contact in this account", body = ApiError),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn contact_audit(
    auth: AuthTenant,
    State(state): State<AppState>,
    ContactId(id): ContactId,
    RawQuery(query): RawQuery,
) -> Result<Json<AuditPage>> {
    let (mut limit, mut before) = (audit::PAGE, None);
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let number = |max: i64| {
            v.parse::<i64>()
                .ok()
                .filter(|n| (1..=max).contains(n) && !v.starts_with('+'))
                .ok_or_else(|| {
                    AppError::BadRequest(format!("{k} must be a whole number from 1 to {max}"))
                })
        };
        match k.as_ref() {
            "limit" => limit = number(audit::MAX_PAGE)?,
            "before" => before = Some(number(i64::MAX)?),
            _ => {
                return Err(AppError::BadRequest(format!(
                    "unknown query parameter {:?}; use limit and before",
                    k.chars().take(40).collect::<String>()
                )))
            }
        }
    }
    Ok(Json(
        state
            .services
            .audit
            .contact_audit(&auth.0, id, before, limit)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/deals/{id}/status", tag = "widget", summary = "A deal's gate and its primary contact's status",
    params(("id" = String, Path, description = "The CRM deal id: 1 to 18 digits, not zero", pattern = r"^[1-9][0-9]{0,17}$")),
    responses(
        (status = 200, description = "the deal's gate and primary contact", body = DealStatus),
        Refused,
        (status = 404, description = "no such deal in the CRM", body = ApiError),
        (status = 429, description = "the account's Freshsales API budget is spent; see `Retry-After`", body = ApiError),
        (status = 502, description = "the CRM could not be reached", body = ApiError),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn deal_status(
    auth: AuthTenant,
    State(state): State<AppState>,
    DealId(id): DealId,
) -> Result<Json<DealStatus>> {
    Ok(Json(state.services.deals.deal_status(&auth.0, id).await?))
}

#[utoipa::path(post, path = "/api/v1/deals/{id}/step-up", tag = "widget", summary = "Step-Up Auth: a LiveID session for the deal's primary contact",
    params(("id" = String, Path, description = "The CRM deal id: 1 to 18 digits, not zero", pattern = r"^[1-9][0-9]{0,17}$")),
    request_body(content = StartStepUp, description = "may be empty"),
    responses(
        (status = 201, description = "a new LiveID session", body = Verification),
        (status = 200, description = "the live session that already stood", body = Verification),
        Refused,
        (status = 404, description = "no such deal in the CRM", body = ApiError),
        (status = 409, description = "the contact is not enrolled in LiveID (`not_enrolled`)", body = ApiError),
        (status = 422, description = "the deal has no contact, or the app is uninstalled from the account", body = ApiError),
        (status = 429, description = "a start or Freshsales limit of the account or the contact was reached; see `Retry-After`", body = ApiError),
        (status = 502, description = "the provider or the CRM could not be reached", body = ApiError),
    ),
    security(("bearer" = []))
)]
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
        .services
        .stepups
        .start_stepup(&auth.0, id, req.requested_by.as_deref())
        .await?;
    Ok(created(v, new))
}

#[utoipa::path(get, path = "/api/v1/verifications/{id}", tag = "widget", summary = "One verification session",
    params(("id" = String, Path, description = "A verification id", pattern = r"^[A-Za-z0-9_]{1,64}$")),
    responses(
        (status = 200, description = "the session", body = Verification),
        Refused,
        (status = 404, description = "no such session in this account", body = ApiError),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn verification(
    auth: AuthTenant,
    State(state): State<AppState>,
    VerificationId(id): VerificationId,
) -> Result<Json<Verification>> {
    Ok(Json(
        state
            .services
            .core
            .verification_view(&auth.0.id, &id)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/verifications/{id}/cancel", tag = "widget", summary = "Cancel a pending session",
    params(("id" = String, Path, description = "A verification id", pattern = r"^[A-Za-z0-9_]{1,64}$")),
    responses(
        (status = 200, description = "the canceled session", body = Verification),
        Refused,
        (status = 404, description = "no such session in this account", body = ApiError),
        (status = 409, description = "the session has already ended", body = ApiError),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn cancel(
    auth: AuthTenant,
    State(state): State<AppState>,
    VerificationId(id): VerificationId,
) -> Result<Json<Verification>> {
    Ok(Json(state.services.results.cancel(&auth.0, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/verifications/{id}/resend", tag = "widget", summary = "Resend a link that expired unused or could not be delivered, by the same delivery",
    params(("id" = String, Path, description = "A verification id", pattern = r"^[A-Za-z0-9_]{1,64}$")),
    request_body(content = ResendLink, description = "may be empty"),
    responses(
        (status = 200, description = "the same session's link went out again (no new session)", body = ResendAnswer),
        (status = 201, description = "the old session could not be reused: a new one was started and its link sent", body = ResendAnswer),
        Refused,
        (status = 404, description = "no such session in this account", body = ApiError),
        (status = 409, description = "not the contact's latest link, or not one that expired unused or went undelivered", body = ApiError),
        (status = 415, description = "a body that is not JSON", body = ApiError),
        (status = 422, description = "the delivery is no longer offered, the contact lacks the email or phone it needs, `requested_by` is too long, or the app is uninstalled from the account", body = ApiError),
        (status = 429, description = "a start limit of the account or the contact was reached; see `Retry-After`", body = ApiError),
        (status = 502, description = "the provider or the CRM could not be reached, or the link could not be sent", body = ApiError),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn resend(
    auth: AuthTenant,
    State(state): State<AppState>,
    VerificationId(id): VerificationId,
    OptionalJson(req): OptionalJson<ResendLink>,
) -> Result<(StatusCode, Json<ResendAnswer>)> {
    let (answer, new) = state.services.resends.resend(&auth.0, &id, &req).await?;
    Ok(created(answer, new))
}

/// `POST /api/v1/install`: the serverless `onAppInstall` registers the account and its policy.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = InstallRequest)]
struct Install {
    /// The account's address, e.g. `https://acme.myfreshworks.com` or `https://acme.freshdesk.com`.
    account_url: String,
    /// The product the app is installed in: `freshsales` (default) or `freshdesk`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "freshdesk")]
    product: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    policy: Option<Policy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Uninstall {
    /// The account being uninstalled; refused if it is not the one installed.
    #[serde(default)]
    account_url: Option<String>,
}

/// Proves an install or uninstall came from the app's serverless code: signed the Standard
/// Webhooks way with the token's hash (the widget's templates carry the token but cannot sign),
/// never seen before. The widget's token alone is refused with 403 and changes nothing.
async fn signed_by_the_app(
    state: &AppState,
    tenant: &crate::services::TenantRow,
    purpose: super::auth::Purpose,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<()> {
    let key = super::auth::signing_key(&tenant.token_hash, purpose);
    let verified = webhook::verify(
        &[key.as_slice()],
        headers,
        body,
        clock::now_secs(),
    )
    .map_err(|e| {
        e.answer(|m| {
            AppError::Forbidden(format!(
                "install and uninstall are accepted only from the app's serverless code, signed: {m}"
            ))
        })
    })?;
    if !state
        .services
        .deliveries
        .first_app_request(&tenant.id, &verified.id)
        .await?
    {
        return Err(AppError::Conflict(
            "this signed request was received before; the app signs each one afresh".into(),
        ));
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/install", tag = "widget", summary = "Install the app on a CRM account (serverless onAppInstall, signed)",
    params(
        ("x-freshsales-api-key" = Option<String>, Header, description = "The Freshsales API key of the installing admin (filled in by the platform), for a Freshsales install", min_length = 1, max_length = 256),
        ("x-freshdesk-api-key" = Option<String>, Header, description = "The Freshdesk API key of the installing admin, for a Freshdesk install", min_length = 1, max_length = 256),
        ("webhook-id" = String, Header, description = "The request's id (a replay is refused)", min_length = 1, max_length = 256),
        ("webhook-timestamp" = String, Header, description = "Seconds since the epoch", pattern = r"^[0-9]{1,12}$"),
        ("webhook-signature" = String, Header, description = "Standard Webhooks signature keyed with `{the API token's SHA-256 hex}:install`"),
    ),
    request_body(content = Install),
    responses(
        (status = 200, description = "installed; the contact fields the admin still has to create"),
        Refused,
        (status = 403, description = "not signed by the app's serverless code, or another account than the one first installed", body = ApiError),
        (status = 409, description = "a replayed request", body = ApiError),
        (status = 422, description = "a wrong account address, key or policy", body = ApiError),
        (status = 502, description = "the CRM could not be reached", body = ApiError),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn install(
    auth: AuthTenant,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>> {
    signed_by_the_app(
        &state,
        &auth.0,
        super::auth::Purpose::Install,
        &headers,
        &body,
    )
    .await?;
    let req: Install = parse_json(&headers, &body, false)?;
    let product = match req.product.as_deref() {
        None => CrmKind::Freshsales,
        Some(p) => CrmKind::parse(p).ok_or_else(|| {
            AppError::Unprocessable("product must be freshsales or freshdesk".into())
        })?,
    };
    let key_header = product.install_key_header().ok_or_else(|| {
        AppError::Unprocessable(format!(
            "{} is installed by OAuth: an admin opens /hubspot/v1/install",
            product.product()
        ))
    })?;
    let key = headers
        .get(key_header)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 256)
        .ok_or_else(|| {
            AppError::Unprocessable(format!(
                "the {} API key is missing: fill it in on the install form",
                product.product()
            ))
        })?
        .to_string();
    let policy = req.policy.unwrap_or_default();
    let setup = state
        .services
        .accounts
        .install(&auth.0.id, product, &req.account_url, key, &policy)
        .await?;
    let missing: Vec<&str> = setup
        .gaps
        .iter()
        .filter(|g| g.what == "contact field")
        .map(|g| g.name.as_str())
        .collect();
    Ok(Json(json!({
        "tenant": auth.0.id,
        "installed": true,
        "policy": policy,
        "missing_contact_fields": missing,
        "setup": setup,
    })))
}

#[utoipa::path(post, path = "/api/v1/uninstall", tag = "widget", summary = "Uninstall the app (serverless onAppUninstall, signed)",
    params(
        ("webhook-id" = String, Header, description = "The request's id (a replay is refused)", min_length = 1, max_length = 256),
        ("webhook-timestamp" = String, Header, description = "Seconds since the epoch", pattern = r"^[0-9]{1,12}$"),
        ("webhook-signature" = String, Header, description = "Standard Webhooks signature keyed with `{the API token's SHA-256 hex}:uninstall`"),
    ),
    responses(
        (status = 200, description = "uninstalled"),
        Refused,
        (status = 403, description = "not signed by the app's serverless code, or another account than the one installed", body = ApiError),
        (status = 409, description = "a replayed request", body = ApiError),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn uninstall(
    auth: AuthTenant,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>> {
    signed_by_the_app(
        &state,
        &auth.0,
        super::auth::Purpose::Uninstall,
        &headers,
        &body,
    )
    .await?;
    let req: Uninstall = parse_json(&headers, &body, true)?;
    state
        .services
        .accounts
        .uninstall(&auth.0.id, req.account_url.as_deref())
        .await?;
    Ok(Json(json!({"tenant": auth.0.id, "installed": false})))
}
