//! The widget page a HubSpot card opens in its iframe modal (`actions.openIframeModal`): the
//! Freshworks widget's own build, with a host script in place of the Freshworks client. The
//! page's URL carries a single-use ticket (minted by the card's signed call), traded here for
//! a half-hour session the widget sends as its bearer token.

use axum::{
    extract::{Query, State},
    http::header,
    response::{Html, IntoResponse, Response},
};
use idv_types::ApiError;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::{AppError, Result},
    AppState,
};

/// Where the widget's files are served from (its `index.html` names them relatively).
pub const ASSETS: &str = "/hubspot/v1/widget-assets";
/// The host script that stands in for the Freshworks client.
pub const HOST_SCRIPT: &str = "/hubspot/v1/widget-host.js";
/// Where HubSpot shows the modal (the page may be framed there only).
pub const FRAME_ANCESTORS: &str = "https://app.hubspot.com https://app-eu1.hubspot.com";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(page))
        .route(HOST_SCRIPT, axum::routing::get(host_script))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct Opened {
    /// The single-use ticket the card's `widget-links` call gave.
    ticket: Option<String>,
}

fn attr(s: &str) -> String {
    html_escape::encode_double_quoted_attribute(s).to_string()
}

#[utoipa::path(get, path = "/hubspot/v1/widget", tag = "hubspot",
    summary = "The widget page a HubSpot card opens in its modal",
    description = "Trades the URL's single-use ticket (a minute) for a half-hour session and answers the widget's \
        page with it; a used, ended or unknown ticket is refused. The page may be framed by HubSpot only.",
    params(Opened),
    responses((status = 200, description = "The widget's page", content_type = "text/html"),
        (status = 401, description = "The ticket was used already, has ended or is unknown", body = ApiError),
        (status = 404, description = "The widget is not built on this backend", body = ApiError)))]
async fn page(State(state): State<AppState>, Query(q): Query<Opened>) -> Result<Response> {
    let ticket = q.ticket.unwrap_or_default();
    let session = state
        .services
        .core
        .tenants()
        .trade_widget_ticket(&ticket)
        .await?;
    let dir = &state.services.core.settings().widget_dir;
    let html = tokio::fs::read_to_string(dir.join("index.html"))
        .await
        .map_err(|_| {
            AppError::NotFound("the widget is not built on this backend (cargo xtask pack)".into())
        })?;
    let (entity, id) = session.record.split_once(':').unwrap_or(("contact", "0"));
    let host = serde_json::json!({
        "token": session.token,
        "entity": entity,
        "id": id.parse::<u64>().unwrap_or(0),
        "expires_in": session.expires_in.as_secs(),
    });
    let nonce = hex::encode(rand::random::<[u8; 16]>());
    let html = html
        .replace("{{{appclient}}}", HOST_SCRIPT)
        .replace(
            "<script type=\"module\">",
            &format!("<script type=\"module\" nonce=\"{nonce}\">"),
        )
        .replacen(
            "<head>",
            &format!(
                "<head><base href=\"{ASSETS}/\"><meta name=\"idv-host\" content=\"{}\">",
                attr(&host.to_string())
            ),
            1,
        );
    let csp = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         base-uri 'self'; frame-ancestors {FRAME_ANCESTORS} {}",
        state.services.core.settings().public_base_url
    );
    Ok((
        [
            (header::CONTENT_SECURITY_POLICY, csp),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (header::REFERRER_POLICY, "no-referrer".to_string()),
        ],
        Html(html),
    )
        .into_response())
}

async fn host_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("host.js"),
    )
        .into_response()
}
