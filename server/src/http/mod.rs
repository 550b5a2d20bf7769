//! The HTTP surface: the widget API, the inbound hooks and the operator's endpoints, merged by
//! [`router`] with the common layers. Handlers parse input with [`extract`], call one service
//! and answer; no SQL and no vendor client here.

pub mod api;
pub mod auth;
pub mod bodies;
pub mod chat;
pub mod error;
pub mod extract;
pub mod hooks;
pub mod hubspot;
pub mod ops;

use std::time::Duration;

use axum::{extract::State, http::StatusCode, middleware, response::IntoResponse, Router};
use tower_http::{limit::RequestBodyLimitLayer, timeout::TimeoutLayer, trace::TraceLayer};
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};
use utoipa_axum::router::OpenApiRouter;

use crate::{error::AppError, AppState, Config};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Freshsales IDV backend",
        description = "Identity verification for Freshworks: the widget API, the inbound hooks and the operator's endpoints. Every error is `ApiError` JSON."
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

/// The API token of `server tenant add`, sent by the platform's request templates.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every route with its description: one declaration makes both, so none can be missing.
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(ops::routes())
        .merge(api::routes())
        .merge(hooks::routes())
        .merge(chat::routes())
        .merge(hubspot::routes())
        .split_for_parts()
}

/// The backend's routes with the common layers applied. `extra` lets the demo add its pages.
pub fn router(state: AppState, config: &Config, extra: Router<AppState>) -> Router {
    let (routes, document) = routes();
    ops::DOCUMENT.get_or_init(|| document.to_pretty_json().unwrap_or_default());
    routes
        // The widget's files, for the page a HubSpot card opens in its modal.
        .nest_service(
            hubspot::widget::ASSETS,
            hubspot::widget::assets(&state.services.core.settings().widget_dir),
        )
        .merge(extra)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(RequestBodyLimitLayer::new(config.max_body))
        // Outside the limit layer, which answers an oversized Content-Length itself.
        .layer(middleware::from_fn(json_errors))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn_with_state(state.clone(), count_answers))
        .with_state(state)
}

/// JSON 404 for paths nobody serves.
async fn not_found(uri: axum::http::Uri) -> AppError {
    AppError::NotFound(format!("no route for {}", uri.path()))
}

/// JSON 405 for a known path with the wrong method.
async fn method_not_allowed(method: axum::http::Method) -> AppError {
    AppError::MethodNotAllowed(format!("{method} is not allowed on this path"))
}

/// Counts every answer by status class for `/metrics`.
async fn count_answers(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let res = next.run(req).await;
    state
        .services
        .core
        .metrics()
        .answered(res.status().as_u16());
    res
}

/// Maps the body-limit layer's bare 413 to the JSON error shape.
async fn json_errors(
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
