//! A HubSpot twin: the OAuth authorize page (it grants at once, for the portal it holds), the
//! token endpoint with both grants (form-encoded only, lifetimes from `expires_in`),
//! introspection and revocation; the portal's CRM records ([`crm`]) reached with the access
//! tokens it gave; a webhook sender that signs its batches as HubSpot does; a workflow engine
//! ([`workflows`]); and the proxy of the cards' `hubspot.fetch` ([`fetch`]). Facts: `shared/reference/hubspot.md`
//! §1–§3 and §9.

pub mod crm;
pub mod fetch;
mod search;
mod webhooks;
pub mod workflows;

use std::{collections::HashMap, sync::Arc};

use axum::{
    extract::{Query, RawQuery, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Json, Router,
};
use parking_lot::Mutex;
use serde_json::json;

use crate::adapters::hubspot::platform;

/// The app's id in the twin's HubSpot (its webhooks' `appId`, its tokens' `app_id`).
pub const APP_ID: u64 = 7001;

/// Switches that make the twin misbehave.
#[derive(Debug, Clone, Default)]
pub struct HubSpotFaults {
    /// The token endpoint answers this status (a 5xx: HubSpot is down).
    pub token_status: Option<u16>,
    /// Each refresh gives a new refresh token and ends the old one.
    pub rotate_refresh: bool,
    /// The token answer leaves out `hub_id`.
    pub no_hub_id: bool,
    /// Every CRM call answers this status (a 5xx: HubSpot is down).
    pub crm_status: Option<u16>,
    /// An admin's validation rule refuses writes to this property (contacts and deals).
    pub validation_rule: Option<String>,
    /// The grant lacks the optional lists scope: list calls answer 403 `MISSING_SCOPES`.
    pub no_lists_scope: bool,
}

#[derive(Debug)]
struct SimState {
    client_id: String,
    client_secret: String,
    portal: u64,
    /// The access tokens' lifetime, in seconds (HubSpot: 1800).
    expires_in: u64,
    /// Code → the redirect URI it was given for (single use).
    codes: HashMap<String, String>,
    /// Refresh tokens still valid.
    refresh_tokens: Vec<String>,
    /// Access token → when it ends (epoch ms).
    access_tokens: HashMap<String, i64>,
    exchanges: u64,
    refreshes: u64,
    introspections: u64,
    revoked: Vec<String>,
    /// The scopes the last authorize request asked for.
    asked_scopes: Vec<String>,
    faults: HubSpotFaults,
    counter: u64,
    records: crm::Records,
    /// Workflow action executions by callback id: the backend's answer, and the completion.
    actions: std::collections::BTreeMap<String, workflows::Run>,
    /// The app's `permittedUrls.fetch` (none: any URL).
    permitted_fetch: Vec<String>,
}

/// The twin's handle: its state, shared with the server it serves.
#[derive(Debug, Clone)]
pub struct HubSpotSim {
    state: Arc<Mutex<SimState>>,
}

impl HubSpotSim {
    /// A twin for one app registration, holding one portal (account).
    pub fn new(client_id: &str, client_secret: &str, portal: u64) -> Self {
        Self {
            state: Arc::new(Mutex::new(SimState {
                client_id: client_id.into(),
                client_secret: client_secret.into(),
                portal,
                expires_in: 1800,
                codes: HashMap::new(),
                refresh_tokens: Vec::new(),
                access_tokens: HashMap::new(),
                exchanges: 0,
                introspections: 0,
                refreshes: 0,
                revoked: Vec::new(),
                asked_scopes: Vec::new(),
                faults: HubSpotFaults::default(),
                counter: 0,
                records: crm::Records::default(),
                actions: Default::default(),
                permitted_fetch: Vec::new(),
            })),
        }
    }

    pub fn set_faults(&self, faults: HubSpotFaults) {
        self.state.lock().faults = faults;
    }

    /// The lifetime the next access tokens get (seconds).
    pub fn set_expires_in(&self, secs: u64) {
        self.state.lock().expires_in = secs;
    }

    pub fn portal(&self) -> u64 {
        self.state.lock().portal
    }

    /// Codes traded for tokens.
    pub fn exchanges(&self) -> u64 {
        self.state.lock().exchanges
    }

    /// Tokens introspected.
    pub fn introspections(&self) -> u64 {
        self.state.lock().introspections
    }

    /// Refresh grants answered with a new access token.
    pub fn refreshes(&self) -> u64 {
        self.state.lock().refreshes
    }

    /// Refresh tokens revoked.
    pub fn revoked(&self) -> Vec<String> {
        self.state.lock().revoked.clone()
    }

    pub fn asked_scopes(&self) -> Vec<String> {
        self.state.lock().asked_scopes.clone()
    }

    /// Whether an access token is one the twin gave and still lasts.
    pub fn access_valid(&self, token: &str) -> bool {
        let now = crate::clock::now_ms();
        self.state
            .lock()
            .access_tokens
            .get(token)
            .is_some_and(|until| *until > now)
    }

    /// A grant made outside the browser flow (a portal that installed earlier): its
    /// refresh token.
    pub fn grant_refresh_token(&self) -> String {
        let mut s = self.state.lock();
        let token = next(&mut s, "refresh");
        s.refresh_tokens.push(token.clone());
        token
    }

    /// An admin uninstalls the app in HubSpot: every grant of the portal ends.
    pub fn uninstall_in_hubspot(&self) {
        let mut s = self.state.lock();
        s.refresh_tokens.clear();
        s.access_tokens.clear();
    }

    /// An access token for the portal, as an installed app holds one (for tests that call the
    /// CRM without the browser flow).
    pub fn issue_access_token(&self) -> String {
        let mut s = self.state.lock();
        let token = next(&mut s, "access");
        let until = crate::clock::now_ms() + (s.expires_in as i64) * 1000;
        s.access_tokens.insert(token.clone(), until);
        token
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/oauth/authorize", get(authorize))
            .route(&platform::token_path(), post(token))
            .route(&platform::revoke_path(), post(revoke))
            .route(&platform::introspect_path(), post(introspect))
            .route("/_twin/fetch", post(fetch::proxy))
            .route("/crm/{*path}", axum::routing::any(crm_call))
            .route(
                "/automation/actions/callbacks/{version}/{callback}/complete",
                post(workflows::complete),
            )
            .with_state(self.clone())
    }

    /// Reads or changes the portal's records (as its users would in HubSpot's UI).
    pub fn with_records<T>(&self, f: impl FnOnce(&mut crm::Records) -> T) -> T {
        f(&mut self.state.lock().records)
    }

    /// The CRM calls received so far.
    pub fn calls(&self) -> Vec<crm::Call> {
        self.state.lock().records.calls.clone()
    }
}

/// HubSpot's refusal of a call whose bearer token it never gave (or revoked), or whose token
/// has ended; `None` for a live token.
fn bearer_refusal(s: &SimState, headers: &HeaderMap) -> Option<(StatusCode, serde_json::Value)> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    match s.access_tokens.get(token) {
        None => Some(crm::error(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found",
        )),
        Some(until) if *until <= crate::clock::now_ms() => Some(crm::error(
            StatusCode::UNAUTHORIZED,
            "EXPIRED_AUTHENTICATION",
            "The OAuth token used to make this call expired",
        )),
        Some(_) => None,
    }
}

fn next(s: &mut SimState, what: &str) -> String {
    s.counter += 1;
    format!("hs-{what}-{}-{:08x}", s.counter, rand::random::<u32>())
}

/// HubSpot's refusal of a form that does not carry this app's client id and secret.
fn client_refusal(s: &SimState, f: &HashMap<String, String>) -> Option<Response> {
    (f.get("client_id") != Some(&s.client_id) || f.get("client_secret") != Some(&s.client_secret))
        .then(|| {
            oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "BAD_CLIENT_ID",
                "unknown client_id or client_secret",
            )
        })
}

fn oauth_error(status: StatusCode, error: &str, legacy: &str, message: &str) -> Response {
    (
        status,
        Json(json!({
            "error": error,
            "error_description": message,
            "status": legacy,
            "message": message,
        })),
    )
        .into_response()
}

/// The admin grants at once; the browser goes back with a code and the state.
async fn authorize(
    State(sim): State<HubSpotSim>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut s = sim.state.lock();
    let (Some(client_id), Some(redirect), Some(scope)) =
        (q.get("client_id"), q.get("redirect_uri"), q.get("scope"))
    else {
        return (
            StatusCode::BAD_REQUEST,
            "client_id, redirect_uri and scope are required",
        )
            .into_response();
    };
    if *client_id != s.client_id {
        return (StatusCode::BAD_REQUEST, "unknown client_id").into_response();
    }
    s.asked_scopes = scope.split(' ').map(str::to_string).collect();
    if !s.asked_scopes.iter().any(|x| x == "oauth") {
        return (StatusCode::BAD_REQUEST, "the oauth scope is required").into_response();
    }
    let code = next(&mut s, "code");
    s.codes.insert(code.clone(), redirect.clone());
    let Ok(mut back) = url::Url::parse(redirect) else {
        return (StatusCode::BAD_REQUEST, "redirect_uri is not a URL").into_response();
    };
    back.query_pairs_mut().append_pair("code", &code);
    if let Some(state) = q.get("state") {
        back.query_pairs_mut().append_pair("state", state);
    }
    Redirect::to(back.as_str()).into_response()
}

/// `POST /oauth/2026-03/token`: form-encoded only, never the query.
async fn token(
    State(sim): State<HubSpotSim>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let form_typed = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let (Ok(Form(f)), true, None) = (form, form_typed, query.filter(|q| !q.is_empty())) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "BAD_REQUEST",
            "every parameter goes in a form-encoded body",
        );
    };
    let mut s = sim.state.lock();
    if let Some(code) = s.faults.token_status {
        return (
            StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY),
            "token endpoint down",
        )
            .into_response();
    }
    if let Some(refused) = client_refusal(&s, &f) {
        return refused;
    }
    let field = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let refresh = match field("grant_type") {
        "authorization_code" => {
            match s.codes.remove(field("code")) {
                Some(redirect) if redirect == field("redirect_uri") => {}
                Some(_) => {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "BAD_REDIRECT_URI",
                        "redirect_uri does not match the authorize request",
                    )
                }
                None => {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "BAD_AUTH_CODE",
                        "the code is unknown, expired or used",
                    )
                }
            }
            s.exchanges += 1;
            let token = next(&mut s, "refresh");
            s.refresh_tokens.push(token.clone());
            token
        }
        "refresh_token" => {
            let given = field("refresh_token").to_string();
            if !s.refresh_tokens.contains(&given) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "BAD_REFRESH_TOKEN",
                    "missing or unknown refresh token",
                );
            }
            s.refreshes += 1;
            if s.faults.rotate_refresh {
                s.refresh_tokens.retain(|t| *t != given);
                let token = next(&mut s, "refresh");
                s.refresh_tokens.push(token.clone());
                token
            } else {
                given
            }
        }
        other => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "BAD_GRANT_TYPE",
                &format!("grant_type {other:?} is not supported"),
            )
        }
    };
    let access = next(&mut s, "access");
    let until = crate::clock::now_ms() + (s.expires_in as i64) * 1000;
    s.access_tokens.insert(access.clone(), until);
    let mut answer = json!({
        "access_token": access,
        "refresh_token": refresh,
        "expires_in": s.expires_in,
        "token_type": "bearer",
        "user_id": 4242,
        "scopes": s.asked_scopes,
        "token_use": "access_token",
    });
    if !s.faults.no_hub_id {
        answer["hub_id"] = json!(s.portal);
    }
    Json(answer).into_response()
}

/// `POST /oauth/2026-03/token/introspect`: whether a token is live, with its account, app,
/// scopes and (an access token's) seconds left; an unknown, ended or revoked token is
/// `{"active": false}`.
async fn introspect(
    State(sim): State<HubSpotSim>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let mut s = sim.state.lock();
    if let Some(refused) = client_refusal(&s, &f) {
        return refused;
    }
    s.introspections += 1;
    let token = f.get("token").cloned().unwrap_or_default();
    let now = crate::clock::now_ms();
    let kind = match s.access_tokens.get(&token) {
        Some(until) if *until > now => Some(("access_token", Some((*until - now) / 1000))),
        _ if s.refresh_tokens.contains(&token) => Some(("refresh_token", None)),
        _ => None,
    };
    let Some((token_type, expires_in)) = kind else {
        return Json(json!({"active": false})).into_response();
    };
    let mut answer = json!({"active": true, "hub_id": s.portal, "app_id": APP_ID,
        "client_id": s.client_id, "scopes": s.asked_scopes, "token_type": token_type});
    if let Some(secs) = expires_in {
        answer["expires_in"] = json!(secs);
    }
    Json(answer).into_response()
}

/// `POST /oauth/2026-03/token/revoke`.
async fn revoke(State(sim): State<HubSpotSim>, Form(f): Form<HashMap<String, String>>) -> Response {
    let mut s = sim.state.lock();
    let token = f.get("token").cloned().unwrap_or_default();
    if let Some(refused) = client_refusal(&s, &f) {
        return refused;
    }
    s.refresh_tokens.retain(|t| *t != token);
    s.revoked.push(token);
    StatusCode::OK.into_response()
}

/// A call to the portal's CRM: a live access token (401 `EXPIRED_AUTHENTICATION` otherwise),
/// within the rate limit (429 `RATE_LIMITS`), with HubSpot's rate-limit headers.
async fn crm_call(
    State(sim): State<HubSpotSim>,
    axum::extract::Path(path): axum::extract::Path<String>,
    method: axum::http::Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut s = sim.state.lock();
    let json_body: serde_json::Value = if body.is_empty() {
        serde_json::Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                let (status, v) = crm::error(
                    StatusCode::BAD_REQUEST,
                    "VALIDATION_ERROR",
                    &format!("Invalid input JSON: {e}"),
                );
                return (status, Json(v)).into_response();
            }
        }
    };
    let (status, answer, limit) = match bearer_refusal(&s, &headers) {
        Some((st, v)) => (st, v, None),
        None => match s.records.spend() {
            Err(_) => {
                let (st, v) = crm::error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "RATE_LIMITS",
                    "You have reached your ten_secondly_rolling limit.",
                );
                (st, v, Some(0))
            }
            Ok(left) => match s.faults.crm_status {
                Some(code) => {
                    let st = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
                    let (st, v) = crm::error(st, "INTERNAL_ERROR", "internal error");
                    (st, v, Some(left))
                }
                None => {
                    let rule = s.faults.validation_rule.clone();
                    let lists = !s.faults.no_lists_scope;
                    let (st, v) = crm::route(
                        &mut s.records,
                        &method,
                        &path,
                        query.as_deref().unwrap_or(""),
                        &json_body,
                        rule.as_deref(),
                        lists,
                    );
                    (st, v, Some(left))
                }
            },
        },
    };
    s.records.calls.push(crm::Call {
        method: method.to_string(),
        path: format!("/crm/{path}"),
        status: status.as_u16(),
        body: json_body,
    });
    let headers = limit
        .map(|left| s.records.limit_headers(left))
        .unwrap_or_default();
    (status, headers, Json(answer)).into_response()
}
