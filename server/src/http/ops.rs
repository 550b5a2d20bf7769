//! The operator's endpoints: liveness, readiness and the API description on the public address;
//! the metrics only on the operator's address ([`ops_router`], `IDV_OPS_BIND`).

use std::sync::OnceLock;

use axum::{extract::State, http::header, response::IntoResponse, Json};
use serde_json::json;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{error::Result, AppState};

/// The generated API document, rendered once when the router is built.
pub(super) static DOCUMENT: OnceLock<String> = OnceLock::new();

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(openapi))
}

#[utoipa::path(get, path = "/healthz", tag = "operations", summary = "Answers while the process runs",
    responses((status = 200, description = "`{\"status\": \"ok\", \"version\": …}`")))]
async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

#[utoipa::path(get, path = "/readyz", tag = "operations", summary = "Answers when the database does too",
    responses((status = 200, description = "ready"), (status = 503, description = "the database is unavailable")))]
async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse> {
    state.services.deliveries.ready().await?;
    Ok(Json(json!({ "status": "ready" })))
}

/// The operator's address: the metrics, and liveness and readiness for probes there too.
pub fn ops_router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(metrics))
        .route("/healthz", axum::routing::get(healthz))
        .route("/readyz", axum::routing::get(readyz))
        .with_state(state)
}

/// The counters and gauges as they stand (no database access per scrape).
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, crate::services::metrics::CONTENT_TYPE)],
        state.services.gauges.render_metrics(),
    )
}

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations", summary = "This document",
    responses((status = 200, description = "OpenAPI 3.1, generated from the handlers and types")))]
async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.get().cloned().unwrap_or_default(),
    )
}
