//! The widget API and the operational endpoints.

use axum::{
    body::Bytes,
    extract::{rejection::PathRejection, Path, State},
    http::{header, HeaderMap, StatusCode},
    response::IntoResponse,
    routing::{get, post},
    Json, Router,
};
use idv_types::{ContactStatus, DealStatus, StartStepUp, StartVerification, Verification};
use serde::{de::DeserializeOwned, Deserialize};
use serde_json::{json, Value};

use crate::{
    auth::AuthTenant,
    engine::{tenant, Policy},
    error::{AppError, Result},
    freshsales::{FreshsalesClient, FsError},
    sim::freshsales::IDV_FIELDS,
    AppState,
};

/// Routes served by every backend process.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/v1/openapi.json", get(openapi))
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
        .merge(crate::hooks::routes())
}

async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse> {
    state.store.ping().await?;
    Ok(Json(json!({ "status": "ready" })))
}

async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse> {
    let outbox = state.engine.sync_counts().await?;
    let sessions: Vec<(String, String, i64)> = sqlx::query(
        "SELECT kind, state, COUNT(*) FROM verifications GROUP BY kind, state ORDER BY kind, state",
    )
    .fetch_all(state.store.pool())
    .await?
    .into_iter()
    .map(|r| {
        use sqlx::Row;
        (r.get(0), r.get(1), r.get(2))
    })
    .collect();
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.engine.metrics.render(&outbox, &sessions),
    ))
}

async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
}

/// Parses a JSON body with a precise 4xx: 415 for another media type, 400 for bad JSON, 422
/// for JSON of the wrong shape. An empty body reads as `{}` when `empty_ok`.
pub fn parse_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
    empty_ok: bool,
) -> Result<T> {
    if body.is_empty() && empty_ok {
        return serde_json::from_str("{}").map_err(|e| AppError::Unprocessable(e.to_string()));
    }
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        if !(ct.starts_with("application/json") || ct.contains("+json")) {
            return Err(AppError::Unsupported(
                "send the body as application/json".into(),
            ));
        }
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| AppError::BadRequest("the body is not valid UTF-8".into()))?;
    let value: Value = serde_json::from_str(text)
        .map_err(|e| AppError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    serde_json::from_value(value).map_err(|e| {
        AppError::Unprocessable(format!("the body does not have the expected fields: {e}"))
    })
}

#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn contact_status(
    auth: AuthTenant,
    State(state): State<AppState>,
    id: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<ContactStatus>> {
    let id = record_id("contact", id)?;
    let row = auth.0;
    Ok(Json(state.engine.contact_status(&row, id).await?))
}

const MAX_IDEMPOTENCY_KEY: usize = 128;

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
async fn start_verification(
    auth: AuthTenant,
    State(state): State<AppState>,
    id: std::result::Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Verification>)> {
    let id = record_id("contact", id)?;
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let k = v
                .to_str()
                .map_err(|_| AppError::BadRequest("Idempotency-Key must be ASCII".into()))?
                .trim();
            if k.is_empty() || k.len() > MAX_IDEMPOTENCY_KEY {
                return Err(AppError::BadRequest(format!(
                    "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters"
                )));
            }
            Some(k.to_string())
        }
    };
    let req: StartVerification = parse_json(&headers, &body, true)?;
    let row = auth.0;
    let (v, new) = state
        .engine
        .start_idv(&row, id, &req, key.as_deref())
        .await?;
    Ok(created(v, new))
}

#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn deal_status(
    auth: AuthTenant,
    State(state): State<AppState>,
    id: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<DealStatus>> {
    let id = record_id("deal", id)?;
    let row = auth.0;
    Ok(Json(state.engine.deal_status(&row, id).await?))
}

#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn start_step_up(
    auth: AuthTenant,
    State(state): State<AppState>,
    id: std::result::Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Verification>)> {
    let id = record_id("deal", id)?;
    let req: StartStepUp = parse_json(&headers, &body, true)?;
    if req.requested_by.as_ref().is_some_and(|r| r.len() > 254) {
        return Err(AppError::Unprocessable("requested_by is too long".into()));
    }
    let row = auth.0;
    let (v, new) = state
        .engine
        .start_stepup(&row, id, req.requested_by.as_deref())
        .await?;
    Ok(created(v, new))
}

fn verification_id(raw: std::result::Result<Path<String>, PathRejection>) -> Result<String> {
    let Path(id) = raw.map_err(|e| AppError::BadRequest(format!("verification id: {e}")))?;
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(AppError::BadRequest(
            "verification id must be up to 64 letters, digits or underscores".into(),
        ));
    }
    Ok(id)
}

#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn verification(
    auth: AuthTenant,
    State(state): State<AppState>,
    id: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<Verification>> {
    let id = verification_id(id)?;
    Ok(Json(state.engine.verification_view(&auth.0.id, &id).await?))
}

#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn cancel(
    auth: AuthTenant,
    State(state): State<AppState>,
    id: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<Verification>> {
    let id = verification_id(id)?;
    let row = auth.0;
    Ok(Json(state.engine.cancel(&row, &id).await?))
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

/// The Freshsales API root for an account URL, if the URL is acceptable.
pub fn api_base_for_account(account_url: &str, allow_any: bool) -> Result<String> {
    let bad = || {
        AppError::Unprocessable(
            "account_url must be your Freshsales address, e.g. https://acme.myfreshworks.com"
                .into(),
        )
    };
    let url = url::Url::parse(account_url.trim()).map_err(|_| bad())?;
    let host = url.host_str().ok_or_else(bad)?.to_ascii_lowercase();
    let hosted = url.scheme() == "https"
        && (host.ends_with(".myfreshworks.com") || host.ends_with(".freshsales.io"))
        && url.port().is_none();
    let simulated = allow_any && matches!(url.scheme(), "http" | "https");
    if !(hosted || simulated) || url.query().is_some() || !url.username().is_empty() {
        return Err(bad());
    }
    Ok(format!(
        "{}/crm/sales/api",
        url.as_str().trim_end_matches('/')
    ))
}

#[tracing::instrument(skip_all, fields(tenant = %auth.0.id))]
async fn install(
    auth: AuthTenant,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>> {
    let req: Install = parse_json(&headers, &body, false)?;
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
    policy.validate()?;
    let base = api_base_for_account(
        &req.account_url,
        state.engine.settings.allow_any_account_url,
    )?;
    // Prove the key works (and see which of our fields the admin has created).
    let fs = FreshsalesClient::new(
        &base,
        key.clone().into(),
        state.engine.settings.http_timeout,
    );
    let fields = fs.contact_fields().await.map_err(|e| match e {
        FsError::Unauthorized(_) | FsError::NotFound(_) | FsError::Unprocessable(_) => {
            AppError::Unprocessable(e.to_string())
        }
        other => AppError::Upstream(other.to_string()),
    })?;
    let missing: Vec<&str> = IDV_FIELDS
        .iter()
        .filter(|f| !fields.iter().any(|x| x.name == **f))
        .copied()
        .collect();
    tenant::set_connections(
        &state.store,
        &state.engine.sealer,
        &auth.0.id,
        &tenant::Connections {
            freshsales_base_url: Some(base),
            freshsales_key: Some(key),
            ..Default::default()
        },
    )
    .await?;
    tenant::set_policy(&state.store, &auth.0.id, &policy).await?;
    tenant::set_installed(&state.store, &auth.0.id, true).await?;
    state.engine.forget_clients(&auth.0.id);
    tracing::info!(missing_fields = missing.len(), "installed");
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
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>> {
    let _: Uninstall = parse_json(&headers, &body, true)?;
    tenant::set_installed(&state.store, &auth.0.id, false).await?;
    state.engine.forget_clients(&auth.0.id);
    Ok(Json(json!({"tenant": auth.0.id, "installed": false})))
}

/// Parses a Freshsales record id from a path segment: 1–18 ASCII digits, not zero.
pub fn record_id(what: &str, raw: std::result::Result<Path<String>, PathRejection>) -> Result<i64> {
    let Path(raw) = raw.map_err(|e| AppError::BadRequest(format!("{what} id: {e}")))?;
    parse_record_id(what, &raw)
}

pub fn parse_record_id(what: &str, raw: &str) -> Result<i64> {
    if raw.is_empty() || raw.len() > 18 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        let shown: String = raw.chars().take(24).collect();
        let ellipsis = if raw.chars().count() > 24 { "…" } else { "" };
        return Err(AppError::BadRequest(format!(
            "{what} id must be a positive integer of at most 18 digits, got {shown:?}{ellipsis}"
        )));
    }
    match raw.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(AppError::BadRequest(format!(
            "{what} id must be a positive integer"
        ))),
    }
}

/// JSON 404 for paths nobody serves.
pub async fn not_found(uri: axum::http::Uri) -> AppError {
    AppError::NotFound(format!("no route for {}", uri.path()))
}

/// JSON 405 for a known path with the wrong method.
pub async fn method_not_allowed(method: axum::http::Method) -> AppError {
    AppError::MethodNotAllowed(format!("{method} is not allowed on this path"))
}

/// Counts every answer by status class for `/metrics`.
pub async fn count_answers(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let res = next.run(req).await;
    state.engine.metrics.answered(res.status().as_u16());
    res
}

/// Maps the body-limit layer's bare 413 to the JSON error shape.
pub async fn json_errors(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let res = next.run(req).await;
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE
        && res
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .is_none_or(|v| !v.as_bytes().starts_with(b"application/json"))
    {
        return AppError::PayloadTooLarge("the request body is too large".into()).into_response();
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_are_positive_bounded_integers() {
        assert_eq!(parse_record_id("contact", "42").unwrap(), 42);
        for bad in [
            "",
            "0",
            "-1",
            "12a",
            "1e5",
            " 1",
            "1234567890123456789",
            "１",
        ] {
            assert!(
                matches!(
                    parse_record_id("contact", bad),
                    Err(AppError::BadRequest(_))
                ),
                "{bad:?} should be rejected"
            );
        }
        let long = "9".repeat(10_000);
        let AppError::BadRequest(msg) = parse_record_id("contact", &long).unwrap_err() else {
            panic!("expected a bad request");
        };
        assert!(
            msg.len() < 200,
            "the message must not echo a huge id: {msg}"
        );
    }
}
