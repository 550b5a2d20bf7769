//! The widget API and the operational endpoints.

use axum::{
    extract::{rejection::PathRejection, Path, State},
    http::StatusCode,
    response::IntoResponse,
    routing::get,
    Json, Router,
};
use idv_types::ContactStatus;
use serde_json::json;

use crate::{
    auth::AuthTenant,
    error::{AppError, Result},
    AppState,
};

/// Routes served by every backend process.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/v1/contacts/{id}/status", get(contact_status))
}

async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse> {
    state.store.ping().await?;
    Ok(Json(json!({ "status": "ready" })))
}

#[tracing::instrument(skip_all, fields(tenant = %tenant.0.id))]
async fn contact_status(
    tenant: AuthTenant,
    State(state): State<AppState>,
    id: std::result::Result<Path<String>, PathRejection>,
) -> Result<Json<ContactStatus>> {
    let id = record_id("contact", id)?;
    let status = state
        .store
        .contact_status(&tenant.0.id, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("contact {id} is not known to this account")))?;
    Ok(Json(status))
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
