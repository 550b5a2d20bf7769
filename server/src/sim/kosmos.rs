//! The 1Kosmos simulator: `/v2` sessions API, the hosted pages "the customer" uses, and signed
//! callbacks (Standard Webhooks) with fault switches.

use std::{collections::HashMap, sync::Arc, time::Duration};

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{Html, IntoResponse, Response},
    routing::get,
    Form, Json, Router,
};
use parking_lot::Mutex;
use rand::Rng;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{
    adapters::kosmos::{API_KEY_HEADER, HOLDER_MATCH},
    clock,
    domain::{
        identity::{self, Holder},
        ids::new_id,
    },
    webhook,
};

/// Switches tests flip to make the simulator misbehave.
#[derive(Debug, Clone, Default)]
pub struct KosmosFaults {
    /// Send no callbacks at all.
    pub drop_callbacks: bool,
    /// Send each callback this many extra times.
    pub duplicate_callbacks: u32,
    /// Delay each callback by up to this many ms (random, so callbacks arrive out of order).
    pub callback_jitter_ms: u64,
    /// Sign callbacks with a wrong key.
    pub wrong_signing_key: bool,
    /// Share of session reads answered 503.
    pub read_error_rate: f64,
    /// Share of session reads that hang (the client times out).
    pub read_timeout_rate: f64,
    /// How long creating an IDV session takes.
    pub create_latency: Duration,
    /// Added to every session read.
    pub read_latency: Duration,
}

#[derive(Debug, Clone)]
pub struct SimSession {
    pub id: String,
    pub kind: &'static str,
    pub reference: String,
    pub status: String,
    pub result: Value,
    pub callback_url: Option<String>,
    pub expires_at_ms: i64,
    pub did: Option<String>,
    /// The create request as received (IDV: `ial`, `document_types`, `send_email`…).
    pub request: Value,
}

#[derive(Debug, Default)]
struct Inner {
    sessions: HashMap<String, SimSession>,
    faults: KosmosFaults,
    callbacks_sent: u64,
    creates_received: u64,
}

/// Shared simulator state (cheap to clone).
#[derive(Clone)]
pub struct KosmosSim {
    inner: Arc<Mutex<Inner>>,
    api_key: Arc<str>,
    signing_secret: Arc<[u8]>,
    public_base: Arc<Mutex<String>>,
    http: reqwest::Client,
}

impl std::fmt::Debug for KosmosSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KosmosSim").finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct Outcome {
    /// `verified`, `failed`, `abandoned` (IDV) or `approve`, `deny` (LiveID).
    pub outcome: String,
    #[serde(default)]
    pub document_type: Option<String>,
    #[serde(default)]
    pub confidence: Option<f64>,
    #[serde(default)]
    pub reason: Option<String>,
    /// IDV: the holder the presented document names; unset (or both blank), the customer
    /// presents their own: the names the session was started with.
    #[serde(default)]
    pub holder_first_name: Option<String>,
    #[serde(default)]
    pub holder_last_name: Option<String>,
    /// IDV: the document's date of birth (`YYYY-MM-DD`); unset, the session's.
    #[serde(default)]
    pub holder_date_of_birth: Option<String>,
    /// IDV: the assurance level reached (`IAL2` unless set).
    #[serde(default)]
    pub ial: Option<String>,
}

impl Outcome {
    /// The holder the presented document names: the one given, else the session's person.
    fn holder(&self, request: &Value) -> Holder {
        let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
        let expected = expected_holder(request);
        if blank(&self.holder_first_name) && blank(&self.holder_last_name) {
            return Holder {
                date_of_birth: self
                    .holder_date_of_birth
                    .clone()
                    .or(expected.date_of_birth.clone()),
                ..expected
            };
        }
        Holder {
            first_name: self.holder_first_name.clone(),
            last_name: self.holder_last_name.clone(),
            date_of_birth: self.holder_date_of_birth.clone().or(expected.date_of_birth),
        }
    }
}

/// The person an IDV session request names (see [`HOLDER_MATCH`]).
fn expected_holder(request: &Value) -> Holder {
    let f = &HOLDER_MATCH;
    let user = request.get(f.user);
    let text = |k: &str| {
        user.and_then(|u| u.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Holder {
        first_name: text(f.first_name),
        last_name: text(f.last_name),
        date_of_birth: text(f.date_of_birth),
    }
}

impl KosmosSim {
    pub fn new(api_key: &str, signing_secret: &[u8]) -> Self {
        Self {
            inner: Arc::default(),
            api_key: api_key.into(),
            signing_secret: signing_secret.into(),
            public_base: Arc::new(Mutex::new(String::new())),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("reqwest client"),
        }
    }

    /// Where the hosted pages are reachable (set once the simulator is bound).
    pub fn set_public_base(&self, base: &str) {
        *self.public_base.lock() = base.trim_end_matches('/').to_string();
    }

    pub fn set_faults(&self, faults: KosmosFaults) {
        self.inner.lock().faults = faults;
    }

    pub fn session(&self, id: &str) -> Option<SimSession> {
        self.inner.lock().sessions.get(id).cloned()
    }

    pub fn sessions(&self) -> Vec<SimSession> {
        self.inner.lock().sessions.values().cloned().collect()
    }

    /// IDV session creations received (counted on arrival, before any latency).
    pub fn creates_received(&self) -> u64 {
        self.inner.lock().creates_received
    }

    pub fn callbacks_sent(&self) -> u64 {
        self.inner.lock().callbacks_sent
    }

    /// Issues a LiveID enrolment (as proofing does) so step-ups can be tested directly.
    pub fn enrol(&self) -> String {
        format!("did:1kosmos:{}", new_id("u"))
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/v2/account", get(account))
            .route("/v2/verify/sessions", axum::routing::post(create_idv))
            .route("/v2/verify/sessions/{id}", get(read_idv))
            .route("/v2/auth/liveid", axum::routing::post(create_liveid))
            .route("/v2/auth/liveid/{id}", get(read_liveid))
            .route("/hosted/verify/{id}", get(hosted_page).post(hosted_submit))
            .route("/hosted/liveid/{id}", get(hosted_page).post(hosted_submit))
            .with_state(self.clone())
    }

    fn authorised(&self, h: &HeaderMap) -> Result<(), Unauthorised> {
        match h.get(API_KEY_HEADER).and_then(|v| v.to_str().ok()) {
            Some(k) if k == &*self.api_key => Ok(()),
            _ => Err(Unauthorised),
        }
    }

    /// Sets a session's outcome as the customer would, then sends the callback.
    pub fn complete(&self, id: &str, o: &Outcome) -> Result<(), String> {
        let event = {
            let mut g = self.inner.lock();
            let s = g.sessions.get_mut(id).ok_or("no such session")?;
            expire_if_due(s);
            if s.status != "pending" {
                return Err(format!("this session is already {}", s.status));
            }
            match (s.kind, o.outcome.as_str()) {
                ("idv", "verified") => {
                    s.status = "completed".into();
                    let did = format!("did:1kosmos:{}", new_id("u"));
                    s.result = json!({
                        "verification": "passed",
                        "ial": o.ial.clone().filter(|i| !i.is_empty()).unwrap_or_else(|| "IAL2".into()),
                        "document_type": o.document_type.clone().unwrap_or_else(|| "passport".into()),
                        "match_confidence": o.confidence.unwrap_or(0.97),
                        "liveness": "passed", "credential_did": did,
                    });
                    // The provider compares the document's holder with the person the session
                    // was started for (no person named: no comparison).
                    let holder = o.holder(&s.request);
                    if let Some(m) = identity::compare(&expected_holder(&s.request), &holder) {
                        s.result[HOLDER_MATCH.result] = json!(m.as_str());
                    }
                }
                ("idv", "failed") => {
                    s.status = "completed".into();
                    s.result = json!({"verification": "failed",
                        "failure_reason": o.reason.clone().unwrap_or_else(|| "document could not be verified".into())});
                }
                ("idv", "abandoned") => s.status = "abandoned".into(),
                ("liveid", "approve") => {
                    s.status = "approved".into();
                    s.result = json!({"verification": "passed", "match_confidence": o.confidence.unwrap_or(0.99),
                        "credential_did": s.did});
                }
                ("liveid", "deny") => {
                    s.status = "denied".into();
                    s.result = json!({"verification": "failed", "failure_reason": "the customer denied the request"});
                }
                (k, other) => return Err(format!("{other} is not an outcome of a {k} session")),
            }
            callback_of(s)
        };
        if let Some(e) = event {
            self.send_callback(e);
        }
        Ok(())
    }

    /// Delivers one callback per the fault switches (in the background).
    fn send_callback(&self, (url, body): (String, Value)) {
        let faults = {
            let mut g = self.inner.lock();
            g.callbacks_sent += 1;
            g.faults.clone()
        };
        if faults.drop_callbacks {
            return;
        }
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let id = new_id("msg");
        for _ in 0..=faults.duplicate_callbacks {
            let jitter = if faults.callback_jitter_ms > 0 {
                rand::thread_rng().gen_range(0..faults.callback_jitter_ms)
            } else {
                0
            };
            let key: Vec<u8> = if faults.wrong_signing_key {
                b"not-the-key".to_vec()
            } else {
                self.signing_secret.to_vec()
            };
            let (http, url, body, id) = (self.http.clone(), url.clone(), body.clone(), id.clone());
            tokio::spawn(async move {
                if jitter > 0 {
                    tokio::time::sleep(Duration::from_millis(jitter)).await;
                }
                let ts = clock::now_secs();
                let mut req = http.post(&url).header("content-type", "application/json");
                for (k, v) in webhook::headers(&key, &id, ts, &body) {
                    req = req.header(k, v);
                }
                if let Err(e) = req.body(body).send().await {
                    tracing::debug!(error = %crate::adapters::without_url(&e), "simulated callback not delivered");
                }
            });
        }
    }

    fn read(&self, id: &str, kind: &str) -> Response {
        let (event, answer) = {
            let mut g = self.inner.lock();
            let Some(s) = g.sessions.get_mut(id).filter(|s| s.kind == kind) else {
                return (
                    StatusCode::NOT_FOUND,
                    Json(json!({"message": "no such session"})),
                )
                    .into_response();
            };
            let was = s.status.clone();
            expire_if_due(s);
            let event = (was != s.status).then(|| callback_of(s)).flatten();
            (event, Json(wire(s)).into_response())
        };
        if let Some(e) = event {
            self.send_callback(e);
        }
        answer
    }

    async fn fault_on_read(&self) -> Option<Response> {
        let f = self.inner.lock().faults.clone();
        if !f.read_latency.is_zero() {
            tokio::time::sleep(f.read_latency).await;
        }
        let roll: f64 = rand::thread_rng().gen();
        if roll < f.read_timeout_rate {
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        if roll < f.read_timeout_rate + f.read_error_rate {
            return Some(
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(json!({"message": "try later"})),
                )
                    .into_response(),
            );
        }
        None
    }
}

/// The simulator's 401.
struct Unauthorised;

impl IntoResponse for Unauthorised {
    fn into_response(self) -> Response {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "invalid API key"})),
        )
            .into_response()
    }
}

fn expire_if_due(s: &mut SimSession) {
    if s.status == "pending" && clock::now_ms() > s.expires_at_ms {
        s.status = "expired".into();
    }
}

fn wire(s: &SimSession) -> Value {
    json!({
        "session_id": s.id, "reference": s.reference, "status": s.status,
        "result": s.result, "expires_at": clock::rfc3339(s.expires_at_ms),
    })
}

fn callback_of(s: &SimSession) -> Option<(String, Value)> {
    let url = s.callback_url.clone()?;
    let kind = if s.kind == "idv" {
        "verify.session.updated"
    } else {
        "liveid.session.updated"
    };
    Some((
        url,
        json!({"type": kind, "session_id": s.id, "reference": s.reference, "status": s.status}),
    ))
}

async fn account(State(sim): State<KosmosSim>, h: HeaderMap) -> Response {
    if let Err(r) = sim.authorised(&h) {
        return r.into_response();
    }
    Json(json!({"tenant": "simulated-tenant", "community": "default"})).into_response()
}

fn bad(msg: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({"message": msg})),
    )
        .into_response()
}

async fn create_idv(
    State(sim): State<KosmosSim>,
    h: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    if let Err(r) = sim.authorised(&h) {
        return r.into_response();
    }
    let latency = {
        let mut g = sim.inner.lock();
        g.creates_received += 1;
        g.faults.create_latency
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let Some(Json(b)) = body else {
        return bad("the body must be JSON");
    };
    let Some(reference) = b.get("reference").and_then(Value::as_str) else {
        return bad("reference is required");
    };
    if !matches!(b.get("ial").and_then(Value::as_str), Some("IAL1" | "IAL2")) {
        return bad("ial must be IAL1 or IAL2");
    }
    let id = new_id("ks");
    let expires = clock::now_ms() + 24 * 3600 * 1000;
    let url = format!("{}/hosted/verify/{id}", sim.public_base.lock());
    sim.inner.lock().sessions.insert(
        id.clone(),
        SimSession {
            id: id.clone(),
            kind: "idv",
            reference: reference.into(),
            status: "pending".into(),
            result: Value::Null,
            callback_url: b
                .get("callback_url")
                .and_then(Value::as_str)
                .map(str::to_string),
            expires_at_ms: expires,
            did: None,
            request: b.clone(),
        },
    );
    (StatusCode::CREATED, Json(json!({
        "session_id": id, "url": url, "status": "pending", "expires_at": clock::rfc3339(expires),
    }))).into_response()
}

async fn create_liveid(
    State(sim): State<KosmosSim>,
    h: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    if let Err(r) = sim.authorised(&h) {
        return r.into_response();
    }
    let Some(Json(b)) = body else {
        return bad("the body must be JSON");
    };
    let Some(reference) = b.get("reference").and_then(Value::as_str) else {
        return bad("reference is required");
    };
    let Some(did) = b
        .get("did")
        .and_then(Value::as_str)
        .filter(|d| d.starts_with("did:"))
    else {
        return bad("did of an enrolled user is required");
    };
    let ttl = b
        .get("ttl_seconds")
        .and_then(Value::as_u64)
        .unwrap_or(90)
        .clamp(60, 120);
    let id = new_id("ls");
    let expires = clock::now_ms() + ttl as i64 * 1000;
    let qr = format!("{}/hosted/liveid/{id}", sim.public_base.lock());
    sim.inner.lock().sessions.insert(
        id.clone(),
        SimSession {
            id: id.clone(),
            kind: "liveid",
            reference: reference.into(),
            status: "pending".into(),
            result: Value::Null,
            callback_url: b
                .get("callback_url")
                .and_then(Value::as_str)
                .map(str::to_string),
            expires_at_ms: expires,
            did: Some(did.into()),
            request: b.clone(),
        },
    );
    (StatusCode::CREATED, Json(json!({
        "session_id": id, "qr_payload": qr, "push_sent": true, "expires_at": clock::rfc3339(expires),
    }))).into_response()
}

async fn read_idv(State(sim): State<KosmosSim>, h: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = sim.authorised(&h) {
        return r.into_response();
    }
    if let Some(r) = sim.fault_on_read().await {
        return r;
    }
    sim.read(&id, "idv")
}

async fn read_liveid(
    State(sim): State<KosmosSim>,
    h: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = sim.authorised(&h) {
        return r.into_response();
    }
    if let Some(r) = sim.fault_on_read().await {
        return r;
    }
    sim.read(&id, "liveid")
}

async fn hosted_page(State(sim): State<KosmosSim>, Path(id): Path<String>) -> Response {
    let Some(mut s) = sim.session(&id) else {
        return (
            StatusCode::NOT_FOUND,
            Html(page(
                "Link not valid",
                "<p>This verification link is not valid.</p>",
            )),
        )
            .into_response();
    };
    expire_if_due(&mut s);
    let body = if s.status != "pending" {
        format!("<p class=done data-testid=session-state>This session is <b>{}</b>. You can close this page.</p>", s.status)
    } else if s.kind == "idv" {
        let expected = expected_holder(&s.request);
        let attr = |v: Option<String>| {
            html_escape::encode_double_quoted_attribute(&v.unwrap_or_default()).into_owned()
        };
        format!(
            r#"<p>Acme Corp asks you to verify your identity with a photo ID and a selfie.</p>
<form method=post><fieldset><legend>Simulated result</legend>
<label>Document <select name=document_type><option value=passport>Passport</option><option value=drivers_license>Driver's licence</option><option value=national_id>National ID</option></select></label>
<label>Name on the document <input name=holder_first_name value="{first}" size=12 data-testid=holder-first> <input name=holder_last_name value="{last}" size=14 data-testid=holder-last></label>
<label>Assurance reached <select name=ial data-testid=ial><option value=IAL2>IAL2</option><option value=IAL1>IAL1</option></select></label>
<label>Match confidence <input name=confidence value=0.97 size=5></label>
<button name=outcome value=verified data-testid=approve>Submit ID and selfie (pass)</button>
<button name=outcome value=failed class=secondary data-testid=fail>Fail the check</button>
<button name=outcome value=abandoned class=secondary data-testid=abandon>Abandon</button></fieldset></form>"#,
            first = attr(expected.first_name),
            last = attr(expected.last_name),
        )
    } else {
        let left = (s.expires_at_ms - clock::now_ms()).max(0) / 1000;
        format!(
            r#"<p>Approve the sign-in request in your 1Kosmos app. It expires in {left} s.</p>
<form method=post><button name=outcome value=approve data-testid=approve>Approve with LiveID</button>
<button name=outcome value=deny class=secondary data-testid=deny>Deny</button></form>"#
        )
    };
    Html(page("1Kosmos verification (simulated)", &body)).into_response()
}

async fn hosted_submit(
    State(sim): State<KosmosSim>,
    Path(id): Path<String>,
    Form(o): Form<Outcome>,
) -> Response {
    match sim.complete(&id, &o) {
        Ok(()) => hosted_page(State(sim), Path(id)).await,
        Err(e) => (
            StatusCode::CONFLICT,
            Html(page(
                "Not possible",
                &format!("<p>{}</p>", html_escape::encode_text(&e)),
            )),
        )
            .into_response(),
    }
}

fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content="width=device-width,initial-scale=1"><title>{title}</title>
<style>body{{font:15px/1.5 system-ui,sans-serif;max-width:480px;margin:40px auto;padding:0 16px;color:#1b2733}}
h1{{font-size:20px}} .brand{{color:#5b2ee0;font-weight:700}} fieldset{{border:1px solid #dde3ea;border-radius:8px;padding:14px}}
label{{display:block;margin:8px 0}} button{{margin:10px 8px 0 0;padding:9px 14px;border-radius:6px;border:0;background:#5b2ee0;color:#fff;font-weight:600;cursor:pointer}}
button.secondary{{background:#eef0f4;color:#1b2733}}</style></head>
<body><p class=brand>1Kosmos · simulated</p><h1>{title}</h1>{body}</body></html>"#
    )
}
