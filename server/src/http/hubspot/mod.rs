//! HubSpot.
//!
//! - `/hubspot/v1/card/…`: the card's calls, signed by HubSpot (`card.rs`).
//! - `POST /hubspot/v1/webhooks`: HubSpot's signed batches of events (v3, or v1 on CRM-object
//!   webhooks), the signed URI rebuilt from the proxy's `X-Forwarded-*` headers or this
//!   backend's public URL; each event recorded once and queued, answered at once (the
//!   write-back workers act on the queue and retry what fails for a passing reason).
//!
//! The install: an admin opens `GET /hubspot/v1/install`, is sent to HubSpot's authorize
//! page with a `state` bound to their browser (a cookie), and comes back to
//! `GET /hubspot/v1/oauth/callback` with the grant's code; the page they land on says what is
//! installed and what the operator must still connect. A callback whose state is not the
//! browser's own is refused before its code is spent (a forged install link).

use axum::{
    body::Bytes,
    extract::{Query, State},
    http::{header, HeaderMap, Method, StatusCode, Uri},
    response::{Html, IntoResponse, Response},
    Json,
};
use base64::Engine as _;
use idv_types::{ApiError, SetupReport};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use utoipa_axum::{router::OpenApiRouter, routes};

mod action;
mod card;
pub mod widget;

use crate::{
    clock,
    domain::app_contract::contract,
    error::{AppError, Result},
    ports::{CrmKind, CrmWebhooks, HookError, SignedRequest},
    services::{deliveries::BatchAnswer, tenants::Authorised},
    AppState,
};

/// The cookie that binds an install's `state` to the browser that began it.
pub const STATE_COOKIE: &str = "idv_hubspot_state";

/// How long an admin has to grant access once the install began.
const STATE_MAX_AGE_SECS: u32 = 600;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(install))
        .routes(routes!(oauth_callback))
        .routes(routes!(webhooks))
        .merge(card::routes())
        .merge(action::routes())
        .merge(widget::routes())
}

#[utoipa::path(post, path = "/hubspot/v1/webhooks", tag = "hubspot",
    summary = "HubSpot's signed webhooks: a JSON array of events",
    description = "Verified with the app's client secret (v3 within 5 minutes, else v1), each event recorded once for \
        its account's tenant (`hubspot-{portalId}`) and queued; the answer comes at once and the events are acted on \
        from the queue (a failure that passes is retried there, not by HubSpot): `contact.privacyDeletion` erases the \
        contact here, `contact.creation` and a `dealstage` change run the account's automation. Accounts that have not \
        installed the app, and other kinds of event, are ignored; a repeat is a duplicate.",
    request_body(content = Vec<Object>, content_type = "application/json"),
    responses((status = 200, body = BatchAnswer),
        (status = 400, description = "Not a batch of HubSpot events", body = ApiError),
        (status = 401, description = "Unsigned, stale or forged", body = ApiError),
        (status = 422, description = "HubSpot is not set up on this backend", body = ApiError),
        (status = 503, description = "The database is out of reach: HubSpot retries", body = ApiError)))]
async fn webhooks(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<BatchAnswer>> {
    let events = verified(&state, &method, &uri, &headers, &body, |hooks, req, now| {
        hooks.read(req, now)
    })?;
    Ok(Json(
        state
            .services
            .deliveries
            .platform_events(CrmKind::Hubspot, events)
            .await?,
    ))
}

/// Checks a request HubSpot signed with the app's secret (`check` picks which signatures a
/// route takes) and returns what the check read: unsigned or forged is 401, signed but
/// unreadable 400.
pub(super) fn verified<T>(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    check: impl FnOnce(&dyn CrmWebhooks, &SignedRequest<'_>, i64) -> std::result::Result<T, HookError>,
) -> Result<T> {
    let hooks = state
        .services
        .core
        .tenants()
        .crm_webhooks(CrmKind::Hubspot)?;
    let uris = signed_uris(state, headers, uri);
    let req = SignedRequest {
        method: method.as_str(),
        uris: &uris,
        body,
        headers,
    };
    check(hooks.as_ref(), &req, clock::now_ms()).map_err(|e| match e {
        HookError::Unsigned(m) => AppError::Unauthorized(m),
        HookError::Malformed(m) => AppError::BadRequest(m),
    })
}

/// The URIs HubSpot may have signed for this request: as the proxy in front says it was
/// called, and under this backend's public URL.
fn signed_uris(state: &AppState, headers: &HeaderMap, uri: &Uri) -> Vec<String> {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let value = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let mut uris = Vec::with_capacity(2);
    if let Some(host) = value("x-forwarded-host") {
        let proto = value("x-forwarded-proto").unwrap_or("https");
        uris.push(format!("{proto}://{host}{path}"));
    }
    let public = format!("{}{path}", state.services.core.settings().public_base_url);
    if !uris.contains(&public) {
        uris.push(public);
    }
    uris
}

/// Where HubSpot sends the admin back: this backend's public URL and the project's path.
fn redirect_uri(state: &AppState) -> String {
    format!(
        "{}{}",
        state.services.core.settings().public_base_url,
        contract().paths.oauth_redirect
    )
}

fn state_cookie(state: &AppState, value: &str, max_age: u32) -> String {
    let secure = if state
        .services
        .core
        .settings()
        .public_base_url
        .starts_with("https://")
    {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{STATE_COOKIE}={value}; Path={}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
        contract().paths.oauth_redirect
    )
}

#[utoipa::path(get, path = "/hubspot/v1/install", tag = "hubspot",
    summary = "Install the app on a HubSpot account: to HubSpot's authorize page",
    description = "Redirects to HubSpot's authorize page with the app's client id, its scopes (from the HubSpot \
        project's contract) and a `state` that a cookie binds to this browser for 10 minutes.",
    responses((status = 302, description = "To HubSpot's authorize page"),
        (status = 422, description = "HubSpot is not set up on this backend", body = ApiError)))]
async fn install(State(state): State<AppState>) -> Result<Response> {
    let nonce = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let url = state.services.core.tenants().authorize_url(
        CrmKind::Hubspot,
        &redirect_uri(&state),
        &nonce,
    )?;
    Ok((
        StatusCode::FOUND,
        [
            (header::LOCATION, url),
            (
                header::SET_COOKIE,
                state_cookie(&state, &nonce, STATE_MAX_AGE_SECS),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
    )
        .into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Callback {
    /// The grant's code.
    code: Option<String>,
    /// The state the install began with.
    state: Option<String>,
    /// Set when the admin refused or HubSpot could not grant.
    error: Option<String>,
    error_description: Option<String>,
}

#[utoipa::path(get, path = "/hubspot/v1/oauth/callback", tag = "hubspot",
    summary = "HubSpot sends the admin back with the grant's code",
    description = "The `state` must be the one this browser's install began with (its cookie); then the code is \
        traded for tokens, the account's tenant (`hubspot-{portal}`) is made or updated with them sealed, and the page \
        says what the operator must still connect.",
    params(Callback),
    responses((status = 200, description = "The app is installed (an HTML page)", content_type = "text/html"),
        (status = 400, description = "No code or state", body = ApiError),
        (status = 403, description = "The state is not this browser's", body = ApiError),
        (status = 422, description = "HubSpot did not grant access", body = ApiError),
        (status = 502, description = "HubSpot could not be reached", body = ApiError)))]
async fn oauth_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Result<Response> {
    if let Some(error) = q.error.as_deref() {
        let why = q.error_description.as_deref().unwrap_or(error);
        return Err(AppError::Unprocessable(format!(
            "HubSpot did not grant access ({}): install the app again",
            truncate(why, 200)
        )));
    }
    let (Some(code), Some(given)) = (q.code.as_deref(), q.state.as_deref()) else {
        return Err(AppError::BadRequest(
            "code and state are required: HubSpot sends them back after the admin grants access"
                .into(),
        ));
    };
    if code.is_empty() || code.len() > 512 {
        return Err(AppError::BadRequest(
            "code must be 1 to 512 characters".into(),
        ));
    }
    let bound = cookie(&headers, STATE_COOKIE).unwrap_or_default();
    if bound.is_empty() || !bool::from(bound.as_bytes().ct_eq(given.as_bytes())) {
        return Err(AppError::Forbidden(
            "this install was not begun in this browser, or took more than 10 minutes: open /hubspot/v1/install again"
                .into(),
        ));
    }
    let done = state
        .services
        .core
        .tenants()
        .authorise(CrmKind::Hubspot, code, &redirect_uri(&state))
        .await?;
    // The properties, their group and the list are made now; a check that cannot reach
    // HubSpot runs again with the periodic ones.
    let setup = match state.services.core.tenants().get(&done.tenant_id).await? {
        Some(t) => match state.services.setup.check_setup(&t).await {
            Ok(report) => Some(report),
            Err(e) => {
                tracing::warn!(error = %e, "the set-up check after a HubSpot install");
                None
            }
        },
        None => None,
    };
    Ok((
        [
            (header::SET_COOKIE, state_cookie(&state, "", 0)),
            (header::CACHE_CONTROL, "no-store".to_string()),
            // A page of text: no script, no frame, nothing loaded from elsewhere.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'".to_string(),
            ),
        ],
        Html(installed_page(&done, setup.as_ref())),
    )
        .into_response())
}

/// A cookie's value from the request's `Cookie` headers.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The page an admin lands on: what is installed, and what is still to do (a command between
/// backticks shown as code).
fn installed_page(done: &Authorised, setup: Option<&SetupReport>) -> String {
    let text = |s: &str| {
        s.split('`')
            .enumerate()
            .map(|(i, part)| {
                let part = html_escape::encode_text(part);
                if i % 2 == 1 {
                    format!("<code>{part}</code>")
                } else {
                    part.to_string()
                }
            })
            .collect::<String>()
    };
    let todo = if done.missing.is_empty() {
        "<p class=\"ok\">Everything is connected: reps can verify contacts from the card on contact and deal records.</p>".to_string()
    } else {
        let items: String = done
            .missing
            .iter()
            .map(|m| format!("<li>{}</li>", text(m)))
            .collect();
        format!("<p>Before verifications start, the operator of this backend connects:</p><ul>{items}</ul>")
    };
    let list = |items: Vec<String>| -> String {
        items
            .iter()
            .map(|m| format!("<li>{}</li>", text(m)))
            .collect()
    };
    let records = match setup {
        None => "<p>The app's contact properties are made at the next set-up check, within the hour.</p>".to_string(),
        Some(r) if r.gaps.is_empty() && r.created.is_empty() => "<p class=\"ok\">The app's contact properties were already in place.</p>".to_string(),
        Some(r) => {
            let mut out = String::new();
            if !r.created.is_empty() {
                out.push_str(&format!("<p>Made in your HubSpot account:</p><ul>{}</ul>", list(r.created.clone())));
            }
            if !r.gaps.is_empty() {
                out.push_str(&format!(
                    "<p>Still to do in HubSpot:</p><ul>{}</ul>",
                    list(r.gaps.iter().map(|g| format!("{} {:?} ({}): {}", g.what, g.label, g.expected, g.problem)).collect())
                ));
            }
            out
        }
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>1Kosmos Identity Verification: installed</title><style>{INSTALLED_CSS}</style></head>\
         <body><main><p class=\"brand\">1Kosmos Identity Verification</p>\
         <h1>Installed on HubSpot account {}</h1><p>The app's account on this backend is <code>{}</code>.</p>{records}{todo}\
         <p class=\"next\">You can close this page and return to HubSpot.</p></main></body></html>",
        text(&done.account),
        text(&done.tenant_id)
    )
}

/// The install page's look: the system font, one column, HubSpot-like colours.
const INSTALLED_CSS: &str = "body{margin:0;background:#f5f8fa;color:#33475b;\
    font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}\
    main{max-width:40rem;margin:3rem auto;padding:2rem;background:#fff;border:1px solid #cbd6e2;border-radius:8px}\
    .brand{margin:0;color:#516f90;font-size:.875rem;font-weight:600;text-transform:uppercase;letter-spacing:.04em}\
    h1{font-size:1.5rem;margin:.25rem 0 1rem}\
    code{background:#eaf0f6;padding:.1rem .3rem;border-radius:4px;font-size:.875em;overflow-wrap:anywhere}\
    li{margin:.5rem 0}.ok{color:#00a4bd;font-weight:600}.next{color:#516f90;font-size:.875rem;margin-top:2rem}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_routes_are_the_ones_the_project_registers() {
        let (router, doc) = OpenApiRouter::<AppState>::new()
            .merge(routes())
            .split_for_parts();
        drop(router);
        assert!(doc
            .paths
            .paths
            .contains_key(&contract().paths.oauth_redirect));
        assert!(doc.paths.paths.contains_key(&contract().paths.webhooks));
    }

    #[test]
    fn the_install_page_shows_commands_as_code_and_escapes_the_rest() {
        let page = installed_page(
            &Authorised {
                tenant_id: "hubspot-1".into(),
                account: "1".into(),
                created: true,
                missing: vec!["the provider: run `server tenant add --id hubspot-1 <x>`".into()],
            },
            None,
        );
        assert!(
            page.contains("<code>server tenant add --id hubspot-1 &lt;x&gt;</code>"),
            "{page}"
        );
        assert!(!page.contains('`'));
    }

    #[test]
    fn the_state_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            "a=1; idv_hubspot_state=abc".parse().unwrap(),
        );
        h.append(header::COOKIE, "b=2".parse().unwrap());
        assert_eq!(cookie(&h, STATE_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
