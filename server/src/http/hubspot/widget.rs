//! The widget page a HubSpot card opens in its iframe modal (`actions.openIframeModal`): the
//! Freshworks widget's own build, with a host script in place of the Freshworks client. The
//! page's URL carries a single-use ticket (minted by the card's signed call), traded here for
//! a half-hour session the widget sends as its bearer token. Its files are sent compressed
//! and kept by the browser as long as their names say they are the same build ([`assets`]).

use std::path::Path;

use axum::{
    extract::{Query, Request, State},
    http::{header, HeaderValue},
    middleware::Next,
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

/// The widget's files under [`ASSETS`]: each sent as the build's brotli or gzip copy when the
/// browser takes one (`cargo xtask build-widget` writes them beside the files; without them
/// the file itself), kept for a year when its name carries the build's hash (a new build has
/// new names) and checked again at each open otherwise (the language files).
pub fn assets(dir: &Path) -> axum::Router {
    axum::Router::new()
        .fallback_service(
            tower_http::services::ServeDir::new(dir)
                .precompressed_br()
                .precompressed_gzip()
                .append_index_html_on_directories(false),
        )
        .layer(axum::middleware::from_fn(cache_control))
}

/// How long the browser keeps an answer of [`assets`], and that it differs by encoding.
async fn cache_control(req: Request, next: Next) -> Response {
    let kept = if carries_build_hash(req.uri().path()) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut res = next.run(req).await;
    if res.status().is_success() || res.status() == axum::http::StatusCode::NOT_MODIFIED {
        let headers = res.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(kept));
        // The body depends on what the browser takes: a shared cache must keep one per kind.
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    res
}

/// Whether a path names a file of one build only: trunk puts the content's hash (16 hex
/// digits after a `-`) in the names of the script, the wasm, the style sheet and the snippets'
/// folder.
fn carries_build_hash(path: &str) -> bool {
    path.split('-').skip(1).any(|part| {
        let hex = part.bytes().take_while(u8::is_ascii_hexdigit).count();
        hex == 16 && matches!(part.as_bytes().get(16), Some(b'.' | b'_' | b'/'))
    })
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

#[cfg(test)]
mod tests {
    use super::carries_build_hash;

    #[test]
    fn only_the_names_trunk_hashes_are_kept_for_a_year() {
        for hashed in [
            "/idv-widget-47aee96fc305c417.js",
            "/idv-widget-47aee96fc305c417_bg.wasm",
            "/style-c12d32b816e272bd.css",
            "/snippets/idv-widget-47aee96fc305c417/inline0.js",
        ] {
            assert!(carries_build_hash(hashed), "{hashed}");
        }
        for fresh in [
            "/locales/de.json",
            "/index.html",
            "/idv-widget.js",
            "/idv-widget-47aee96fc305c41.js",
            "/idv-widget-47aee96fc305c4170.js",
            "/style-c12d32b816e272bz.css",
        ] {
            assert!(!carries_build_hash(fresh), "{fresh}");
        }
    }
}
