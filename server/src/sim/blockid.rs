//! The 1Kosmos BlockID simulator: the twin of [`crate::adapters::blockid`]. One loopback server
//! plays the tenant (community info, service directory) and its services (`docuverify`,
//! `sessions`, `adminconsole` under path prefixes), each with its own key pair. Every
//! authenticated call must carry a `licensekey` and a fresh `requestid` encrypted for that
//! service; the hosted capture page and the LiveID approval page play "the customer".

mod handlers;
mod pages;
pub use handlers::SIM_USER_ID;

use std::{collections::HashMap, net::SocketAddr, str::FromStr, sync::Arc, time::Duration};

use axum::{
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post, put},
    Json, Router,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use parking_lot::Mutex;
use rand::Rng;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use super::Served;
use crate::{
    adapters::blockid::{
        cipher::{Curve, KeyPair, SharedKey},
        wire::{self, *},
    },
    clock,
};

/// Switches tests flip to make the simulator misbehave (on authenticated service calls).
#[derive(Debug, Clone, Default)]
pub struct BlockIdFaults {
    /// Share of calls answered 503.
    pub error_rate: f64,
    /// Share of calls that hang for 30 s (the client times out).
    pub timeout_rate: f64,
    /// How far the simulator's clock is from the process clock (a tenant with clock skew).
    pub clock_skew_ms: i64,
    /// The messaging service refuses every SMS (a carrier outage): 503.
    pub sms_down: bool,
    /// The service directory names this base URL for every service (a directory that points
    /// outside the tenant's domain).
    pub foreign_services: Option<String>,
}

/// What "the customer" does on the capture page.
#[derive(Debug, Clone, PartialEq)]
pub enum IdvOutcome {
    Success,
    /// The document is fine but the selfie is someone else.
    FaceMismatch,
    /// One of the reason codes IDV0001–IDV0015.
    Reason(String),
    Expired,
    Abandoned,
}

impl FromStr for IdvOutcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "success" => Ok(Self::Success),
            "face_mismatch" => Ok(Self::FaceMismatch),
            "expired" => Ok(Self::Expired),
            "abandoned" => Ok(Self::Abandoned),
            code if wire::reason(code).is_some() => Ok(Self::Reason(code.to_ascii_uppercase())),
            other => Err(format!("{other} is not an outcome")),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum IdvState {
    InProgress,
    Done(IdvOutcome),
}

#[derive(Debug, Clone)]
pub struct SimIdv {
    pub id: String,
    pub did: String,
    pub kind: DocKind,
    pub created_ms: i64,
    pub state: IdvState,
    /// The holder's first and last name on the document the customer presents: the names the
    /// session was started with (their own document), or another person's
    /// ([`BlockIdSim::present_document`]).
    pub holder: (String, String),
    /// Stand-ins for the document's face and the selfie (random bytes, base64).
    faces: (String, String),
}

/// What the customer's BlockID app answers to a UWL session.
#[derive(Debug, Clone, PartialEq)]
pub enum UwlReply {
    Approve {
        did: String,
    },
    /// Answered, but without authorising: no `did`.
    Deny,
    /// What an app posted to `/session/{id}/authenticate`: its encrypted `data` and its
    /// `publicKey`, handed to the poller as they came.
    Posted {
        data: String,
        public_key: String,
    },
}

#[derive(Debug, Clone)]
pub struct SimUwl {
    pub id: String,
    pub created_ms: i64,
    pub reply: Option<UwlReply>,
    /// The public key of the client that created it (the app encrypts its answer to it).
    client_public: String,
    /// The create's `metadata` (beside `origin`), shown back in `sessionInfo`.
    pub metadata: Option<serde_json::Value>,
}

impl SimUwl {
    /// The public key of the session's creator, which the app encrypts its answer to.
    pub fn creator_public_key(&self) -> &str {
        &self.client_public
    }
}

/// An SMS "sent" through messaging.
#[derive(Debug, Clone, PartialEq)]
pub struct Sms {
    /// `+{isd}{number}`.
    pub to: String,
    pub text: String,
}

#[derive(Debug, Default)]
struct Inner {
    idv: HashMap<String, SimIdv>,
    uwl: HashMap<String, SimUwl>,
    outbox: Vec<Sms>,
    faults: BlockIdFaults,
    /// `requestid` uuids seen recently (a replayed request is refused).
    seen: HashMap<String, i64>,
    /// DIDs of completed verifications (offered on the LiveID page).
    enrolled: Vec<String>,
    /// Calls to community info, the directory and the public keys (clients cache them).
    discovery_calls: u64,
    /// Every image (base64) handed out in a result, for tests that follow where they go.
    images: Vec<String>,
}

struct Tenant {
    licence: String,
    dvc_id: String,
    community: String,
    tag: String,
    tenant_id: String,
    community_id: String,
    docuverify: KeyPair,
    sessions: KeyPair,
    community_key: KeyPair,
}

/// Shared simulator state (cheap to clone).
#[derive(Clone)]
pub struct BlockIdSim {
    inner: Arc<Mutex<Inner>>,
    tenant: Arc<Tenant>,
    public_base: Arc<Mutex<String>>,
}

impl std::fmt::Debug for BlockIdSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockIdSim").finish_non_exhaustive()
    }
}

/// An error answer as the services give it: `{"code", "message"}`.
struct Refusal(StatusCode, &'static str);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = json!({"code": self.0.as_u16(), "message": self.1});
        (self.0, Json(body)).into_response()
    }
}

fn refuse(status: StatusCode, message: &'static str) -> Refusal {
    Refusal(status, message)
}

impl BlockIdSim {
    pub fn new(licence: &str, dvc_id: &str, community: &str, curve: Curve) -> Self {
        let id = |p: &str| format!("{p}{}", hex::encode(rand::thread_rng().gen::<[u8; 12]>()));
        Self {
            inner: Arc::default(),
            tenant: Arc::new(Tenant {
                licence: licence.into(),
                dvc_id: dvc_id.into(),
                community: community.into(),
                tag: "simulated".into(),
                tenant_id: id("t"),
                community_id: id("c"),
                docuverify: KeyPair::generate(curve),
                sessions: KeyPair::generate(curve),
                community_key: KeyPair::generate(curve),
            }),
            public_base: Arc::new(Mutex::new(String::new())),
        }
    }

    /// Binds `addr`, serves the router and sets the public base to the bound address.
    pub async fn start(&self, addr: SocketAddr) -> anyhow::Result<Served> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        self.set_public_base(&format!("http://{}", listener.local_addr()?));
        Served::on(listener, self.router())
    }

    pub fn set_public_base(&self, base: &str) {
        *self.public_base.lock() = base.trim_end_matches('/').to_string();
    }

    fn base(&self) -> String {
        self.public_base.lock().clone()
    }

    pub fn set_faults(&self, faults: BlockIdFaults) {
        self.inner.lock().faults = faults;
    }

    /// The simulator's clock (the process clock moved by the skew fault).
    pub fn now_ms(&self) -> i64 {
        clock::now_ms() + self.inner.lock().faults.clock_skew_ms
    }

    pub fn sms_outbox(&self) -> Vec<Sms> {
        self.inner.lock().outbox.clone()
    }

    pub fn idv_session(&self, id: &str) -> Option<SimIdv> {
        self.inner.lock().idv.get(id).cloned()
    }

    pub fn uwl_session(&self, id: &str) -> Option<SimUwl> {
        self.inner.lock().uwl.get(id).cloned()
    }

    /// How often community info, the directory and the public keys were fetched.
    pub fn discovery_calls(&self) -> u64 {
        self.inner.lock().discovery_calls
    }

    fn count_discovery(&self) {
        self.inner.lock().discovery_calls += 1;
    }

    /// Every document image and face (base64) this twin put into a result.
    pub fn images_handed_out(&self) -> Vec<String> {
        self.inner.lock().images.clone()
    }

    /// Enrols a person in LiveID as a finished proofing would, and returns their DID.
    pub fn enrol(&self) -> String {
        let did = uuid::Uuid::new_v4().to_string();
        self.inner.lock().enrolled.push(did.clone());
        did
    }

    pub fn enrolled(&self) -> Vec<String> {
        self.inner.lock().enrolled.clone()
    }

    /// Finishes a capture as the customer would.
    pub fn complete_idv(&self, id: &str, outcome: IdvOutcome) -> Result<(), String> {
        let mut g = self.inner.lock();
        let s = g.idv.get_mut(id).ok_or("no such session")?;
        if s.state != IdvState::InProgress {
            return Err("this session is already finished".into());
        }
        s.state = IdvState::Done(outcome.clone());
        let did = s.did.clone();
        if matches!(outcome, IdvOutcome::Success) {
            g.enrolled.push(did);
        }
        Ok(())
    }

    /// Makes the customer present a document in this holder's name (before finishing).
    pub fn present_document(&self, id: &str, first: &str, last: &str) -> Result<(), String> {
        let mut g = self.inner.lock();
        let s = g.idv.get_mut(id).ok_or("no such session")?;
        if s.state != IdvState::InProgress {
            return Err("this session is already finished".into());
        }
        s.holder = (first.trim().to_string(), last.trim().to_string());
        Ok(())
    }

    /// Answers a UWL session as the customer's app would.
    pub fn answer_uwl(&self, id: &str, reply: UwlReply) -> Result<(), String> {
        let now = self.now_ms();
        let mut g = self.inner.lock();
        let s = g.uwl.get_mut(id).ok_or("no such session")?;
        if now > s.created_ms + i64::from(UWL_LIFETIME_S.1) * 1000 {
            return Err("this session has expired".into());
        }
        if s.reply.is_some() {
            return Err("this session is already answered".into());
        }
        s.reply = Some(reply);
        Ok(())
    }

    pub fn router(&self) -> Router {
        // Each service under its own prefix, with the paths the client uses.
        let docu = |p: &str| format!("/{SVC_DOCUVERIFY}{p}");
        let sessions = |p: &str| format!("/{SVC_SESSIONS}{p}");
        Router::new()
            .route(COMMUNITY_INFO_PATH, post(handlers::community_info))
            .route(SERVICE_DIRECTORY_PATH, get(handlers::directory))
            .route(&docu(PUBLIC_KEYS_PATH), get(handlers::docuverify_key))
            .route(&sessions(PUBLIC_KEYS_PATH), get(handlers::sessions_key))
            .route(&docu(IDV_CREATE_PATH), post(handlers::idv_create))
            .route(&docu(IDV_RESULT_PATH), post(handlers::idv_result_legacy))
            .route(&docu(IDV_RESULT_V3_PATH), post(handlers::idv_result_v3))
            .route(&docu(VERIFY_PATH), post(handlers::verify))
            .route(&sessions(UWL_CREATE_PATH), put(handlers::uwl_create))
            .route(
                &sessions(&uwl_response_path("{id}")),
                get(handlers::uwl_poll),
            )
            .route(
                &format!("/{SVC_ADMINCONSOLE}{SMS_PATH}"),
                post(handlers::sms),
            )
            .route(
                &format!(
                    "/{SVC_ADMINCONSOLE}/api/r1/community/{{community}}/userdid/{{did}}/userinfo"
                ),
                get(handlers::user_by_did),
            )
            .route(
                "/capture/{id}",
                get(pages::capture).post(pages::capture_submit),
            )
            // What a UWL session's QR code leads to (see `wire::uwl_qr_payload`): the session
            // as JSON (the helper's `fetchSessionInfo`), or to a browser the demo's page where
            // "the customer" answers.
            .route(
                &sessions("/session/{id}"),
                get(handlers::uwl_info).post(pages::liveid_submit),
            )
            .route(
                &sessions("/session/{id}/authenticate"),
                post(handlers::uwl_authenticate),
            )
            .layer(axum::middleware::map_response_with_state(
                self.clone(),
                handlers::date_header,
            ))
            .with_state(self.clone())
    }

    /// Checks the encrypted headers for `service`'s key; returns the shared key.
    fn authenticate(&self, h: &HeaderMap, service: &KeyPair) -> Result<SharedKey, Refusal> {
        let header = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
        let unauthorised = |m: &'static str| refuse(StatusCode::UNAUTHORIZED, m);
        let key = service
            .shared_key(header(H_PUBLIC_KEY))
            .map_err(|_| unauthorised("invalid publickey"))?;
        let licence = key.decrypt(header(H_LICENSE_KEY)).unwrap_or_default();
        if !bool::from(licence.ct_eq(self.tenant.licence.as_bytes())) {
            return Err(unauthorised("invalid license key"));
        }
        let rid: RequestId = key
            .decrypt(header(H_REQUEST_ID))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| unauthorised("invalid requestid"))?;
        let now_s = self.now_ms().div_euclid(1000);
        if (now_s - rid.ts).abs() > ALLOWED_TIME_SPAN_S {
            return Err(unauthorised(
                "request expired: the requestid timestamp is out of range",
            ));
        }
        let mut g = self.inner.lock();
        g.seen
            .retain(|_, ts| now_s - *ts <= 2 * ALLOWED_TIME_SPAN_S);
        if g.seen.insert(rid.uuid, rid.ts).is_some() {
            return Err(unauthorised("duplicate requestid"));
        }
        Ok(key)
    }

    /// The fault switches: a 503, or a hang the client gives up on.
    async fn fault(&self) -> Option<Refusal> {
        let f = self.inner.lock().faults.clone();
        let roll: f64 = rand::thread_rng().gen();
        if roll < f.timeout_rate {
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        (roll < f.timeout_rate + f.error_rate)
            .then(|| refuse(StatusCode::SERVICE_UNAVAILABLE, "service unavailable"))
    }

    /// Authentication then faults, for every service call.
    async fn admit(&self, h: &HeaderMap, service: &KeyPair) -> Result<SharedKey, Refusal> {
        let key = self.authenticate(h, service)?;
        match self.fault().await {
            Some(r) => Err(r),
            None => Ok(key),
        }
    }

    fn check_dvc(&self, dvc: &str) -> Result<(), Refusal> {
        if dvc.is_empty() {
            return Err(refuse(StatusCode::BAD_REQUEST, "dvcID is required"));
        }
        if !bool::from(dvc.as_bytes().ct_eq(self.tenant.dvc_id.as_bytes())) {
            return Err(refuse(StatusCode::UNAUTHORIZED, "invalid dvcID"));
        }
        Ok(())
    }

    /// The document-share result as the service writes it (v3 adds `sessionResult`).
    fn idv_answer(&self, id: &str, v3: bool) -> Option<Value> {
        let now = self.now_ms();
        let mut g = self.inner.lock();
        let s = g.idv.get_mut(id)?;
        if s.state == IdvState::InProgress && now > s.created_ms + IDV_SESSION_LIFETIME_S * 1000 {
            s.state = IdvState::Done(IdvOutcome::Expired);
        }
        let finished = |result: &str| {
            if v3 {
                json!({"responseStatus": "SUCCESS", "sessionResult": result})
            } else {
                json!({"responseStatus": result})
            }
        };
        let mut handed_out = Vec::new();
        let mut blob = || {
            let b = STANDARD.encode(rand::thread_rng().gen::<[u8; 32]>());
            handed_out.push(b.clone());
            b
        };
        let answer = match &s.state {
            IdvState::InProgress => json!({"responseStatus": "INPROGRESS"}),
            IdvState::Done(IdvOutcome::Expired) => finished("EXPIRED"),
            IdvState::Done(IdvOutcome::Abandoned) => finished("ABANDONED"),
            IdvState::Done(IdvOutcome::Reason(code)) => {
                let mut v = finished("FAILED");
                v["responseStatus"] = json!("SUCCESS");
                v["errorInfo"] = json!({"reasonCode": code, "message": "verification failed"});
                v
            }
            IdvState::Done(IdvOutcome::Success | IdvOutcome::FaceMismatch) => {
                let mut v = finished("SUCCESS");
                v[RESULT_DID_FIELD] = json!(s.did);
                v[s.kind.object()] = json!({
                    "documentType": s.kind.verify_type().0.to_ascii_uppercase(),
                    "documentId": "D1234567", "firstName": s.holder.0, "lastName": s.holder.1,
                    "dob": "19900101", "doe": "20310101", "doi": "20210101",
                    "face": s.faces.0, "image": blob(), "imageBack": blob(),
                });
                v["liveid_object"] = json!({
                    "id": format!("liveid-{}", s.id), "type": "liveid", "proofedBy": "blockid",
                    "face": s.faces.1,
                });
                handed_out.extend([s.faces.0.clone(), s.faces.1.clone()]);
                v
            }
        };
        g.images.extend(handed_out);
        Some(answer)
    }
}
