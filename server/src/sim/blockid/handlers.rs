//! The simulator's service endpoints: discovery, keys, document share, face comparison, UWL
//! sessions and messaging. Each authenticated call goes through [`BlockIdSim::admit`].

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use rand::RngCore;
use serde_json::{json, Value};

use super::{refuse, BlockIdSim, IdvOutcome, IdvState, Refusal, SimIdv, SimUwl, Sms, UwlReply};
use crate::adapters::blockid::{
    cipher::{KeyPair, SharedKey},
    wire::*,
};

/// Sets `Date` from the simulator's clock (so a skewed tenant looks skewed).
/// The account every enrolled customer of the simulated tenant holds their credential in.
pub const SIM_USER_ID: &str = "customer@example.com";

pub(super) async fn date_header(State(sim): State<BlockIdSim>, mut res: Response) -> Response {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let date = time::OffsetDateTime::from_unix_timestamp(sim.now_ms().div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .and_then(|d| HeaderValue::from_str(&d).ok());
    if let Some(d) = date {
        res.headers_mut().insert(header::DATE, d);
    }
    res
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    serde_json::from_slice(body)
        .map_err(|_| refuse(StatusCode::BAD_REQUEST, "invalid request body"))
}

/// An encrypted request body: `{"data": enc(json)}`.
fn open<T: serde::de::DeserializeOwned>(key: &SharedKey, body: &[u8]) -> Result<T, Refusal> {
    let sealed: Encrypted = parse(body)?;
    let plain = key
        .decrypt(&sealed.data)
        .map_err(|_| refuse(StatusCode::BAD_REQUEST, "data does not decrypt"))?;
    parse(&plain)
}

fn sealed(key: &SharedKey, v: &Value) -> Response {
    Json(Encrypted::seal(key, v)).into_response()
}

pub(super) async fn community_info(State(sim): State<BlockIdSim>, body: Bytes) -> Response {
    sim.count_discovery();
    let req: Value = match parse(&body) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    let t = &sim.tenant;
    let by_name = req.get("communityName").and_then(Value::as_str) == Some(&t.community);
    let by_id = req.get("communityId").and_then(Value::as_str) == Some(&t.community_id);
    if !(by_name || by_id) {
        return refuse(StatusCode::NOT_FOUND, "community not found").into_response();
    }
    Json(json!({
        "tenant": {"tenanttag": t.tag, "name": "Simulated Tenant", "id": t.tenant_id},
        "community": {"id": t.community_id, "name": t.community, "tenantid": t.tenant_id,
                      "publicKey": t.community_key.public_key_b64()},
    }))
    .into_response()
}

pub(super) async fn directory(State(sim): State<BlockIdSim>) -> Response {
    sim.count_discovery();
    let b = sim
        .inner
        .lock()
        .faults
        .foreign_services
        .clone()
        .unwrap_or_else(|| sim.base());
    let services = [
        SVC_LICENSES,
        SVC_DOCUVERIFY,
        SVC_SESSIONS,
        SVC_ADMINCONSOLE,
        "reports",
        "webhooks",
    ];
    let map: serde_json::Map<String, Value> = services
        .iter()
        .map(|s| (s.to_string(), json!(format!("{b}/{s}"))))
        .collect();
    Json(map).into_response()
}

pub(super) async fn docuverify_key(State(sim): State<BlockIdSim>) -> Response {
    sim.count_discovery();
    Json(json!({"publicKey": sim.tenant.docuverify.public_key_b64()})).into_response()
}

pub(super) async fn sessions_key(State(sim): State<BlockIdSim>) -> Response {
    sim.count_discovery();
    Json(json!({"publicKey": sim.tenant.sessions.public_key_b64()})).into_response()
}

pub(super) async fn idv_create(
    State(sim): State<BlockIdSim>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let created = async {
        let key = sim.admit(&h, &sim.tenant.docuverify).await?;
        let req: IdvCreate = open(&key, &body)?;
        sim.check_dvc(&req.dvc_id)?;
        let r = req.session_request;
        if r.community_name != sim.tenant.community {
            return Err(refuse(StatusCode::BAD_REQUEST, "unknown communityName"));
        }
        let kind = DocKind::ALL
            .into_iter()
            .find(|k| k.object() == r.document_type)
            .ok_or_else(|| refuse(StatusCode::BAD_REQUEST, "unsupported documentType"))?;
        if r.did.is_empty() || r.user_uid.is_empty() {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "userUID and did are required",
            ));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let face = || {
            let mut b = [0u8; 48];
            rand::thread_rng().fill_bytes(&mut b);
            STANDARD.encode(b)
        };
        // The customer presents their own document: in the names the session was started
        // with, or (a request without names) a sample holder's.
        let named = |n: Option<String>| n.filter(|n| !n.trim().is_empty());
        let holder = match (named(r.firstname), named(r.lastname)) {
            (None, None) => ("Jane".to_string(), "Sample".to_string()),
            (first, last) => (first.unwrap_or_default(), last.unwrap_or_default()),
        };
        let session = SimIdv {
            id: id.clone(),
            did: r.did,
            kind,
            created_ms: sim.now_ms(),
            state: IdvState::InProgress,
            holder,
            faces: (face(), face()),
        };
        sim.inner.lock().idv.insert(id.clone(), session);
        let url = format!("{}/capture/{id}", sim.base());
        Ok(Json(json!({"sessionId": id, "url": url})).into_response())
    };
    created.await.unwrap_or_else(IntoResponse::into_response)
}

async fn idv_result(sim: BlockIdSim, h: HeaderMap, body: Bytes, v3: bool) -> Response {
    let answer = async {
        let key = sim.admit(&h, &sim.tenant.docuverify).await?;
        let req: IdvResultRequest = open(&key, &body)?;
        sim.check_dvc(&req.dvc_id)?;
        let v = sim
            .idv_answer(&req.session_id, v3)
            .ok_or_else(|| refuse(StatusCode::NOT_FOUND, "session not found"))?;
        Ok::<_, Refusal>(sealed(&key, &v))
    };
    answer.await.unwrap_or_else(IntoResponse::into_response)
}

pub(super) async fn idv_result_legacy(
    State(sim): State<BlockIdSim>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    idv_result(sim, h, body, false).await
}

pub(super) async fn idv_result_v3(
    State(sim): State<BlockIdSim>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    idv_result(sim, h, body, true).await
}

pub(super) async fn verify(State(sim): State<BlockIdSim>, h: HeaderMap, body: Bytes) -> Response {
    let answer = async {
        let key = sim.admit(&h, &sim.tenant.docuverify).await?;
        let req: VerifyRequest = open(&key, &body)?;
        sim.check_dvc(&req.dvc_id)?;
        if req.verifications.iter().all(|v| v != FACE_COMPARE.kind) {
            return Err(refuse(StatusCode::BAD_REQUEST, "unsupported verification"));
        }
        let (doc, selfie) = (&req.document.image1.0, &req.document.image2.0);
        let g = sim.inner.lock();
        let session = g
            .idv
            .values()
            .find(|s| &s.faces.0 == doc && &s.faces.1 == selfie);
        let (verified, confidence) = match session.map(|s| &s.state) {
            Some(IdvState::Done(IdvOutcome::Success)) => (true, 0.97),
            _ => (false, 0.12),
        };
        let f = &FACE_COMPARE;
        let mut cert = serde_json::Map::new();
        cert.insert(f.kind_field.into(), json!(f.kind));
        cert.insert(f.verdict.into(), json!(verified));
        cert.insert(f.score.into(), json!(confidence));
        let mut v =
            json!({"docId": req.document.id, "docType": req.document.kind, "status": "SUCCESS"});
        v[f.list] = json!([cert]);
        Ok(sealed(&key, &v))
    };
    answer.await.unwrap_or_else(IntoResponse::into_response)
}

pub(super) async fn uwl_create(
    State(sim): State<BlockIdSim>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let created = async {
        // The body of a UWL create is plain JSON; only the headers are encrypted.
        sim.admit(&h, &sim.tenant.sessions).await?;
        let req: UwlCreate = parse(&body)?;
        let t = &sim.tenant;
        if req.origin.tag != t.tag || req.origin.community_id != t.community_id {
            return Err(refuse(StatusCode::BAD_REQUEST, "unknown origin"));
        }
        if req.origin.auth_page != UWL_AUTH_PAGE {
            return Err(refuse(StatusCode::BAD_REQUEST, "invalid authPage"));
        }
        // The session's purpose goes beside `origin`; nested in it, the service drops it.
        if req.origin.metadata.is_some() {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "metadata belongs beside origin, not in it",
            ));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let client_public = h
            .get(H_PUBLIC_KEY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let now = sim.now_ms();
        let session = SimUwl {
            id: id.clone(),
            created_ms: now,
            reply: None,
            client_public,
            metadata: req.metadata.clone(),
        };
        sim.inner.lock().uwl.insert(id.clone(), session);
        let body = json!({"sessionId": id, "createdTS": now / 1000});
        Ok((StatusCode::CREATED, Json(body)).into_response())
    };
    created.await.unwrap_or_else(IntoResponse::into_response)
}

pub(super) async fn uwl_poll(
    State(sim): State<BlockIdSim>,
    h: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let answer = async {
        sim.admit(&h, &sim.tenant.sessions).await?;
        let now = sim.now_ms();
        let s = sim
            .uwl_session(&id)
            .filter(|s| now <= s.created_ms + i64::from(UWL_LIFETIME_S.1) * 1000)
            .ok_or_else(|| refuse(StatusCode::NOT_FOUND, "session not found"))?;
        let reply = s
            .reply
            .ok_or_else(|| refuse(StatusCode::NOT_FOUND, "no response yet"))?;
        // The app answers with its own key pair, encrypting to the creator's public key.
        let app = KeyPair::generate(sim.tenant.sessions.curve());
        let key = app
            .shared_key(&s.client_public)
            .map_err(|_| refuse(StatusCode::INTERNAL_SERVER_ERROR, "bad client key"))?;
        let session_info = json!({"createdTS": s.created_ms / 1000, "metadata": s.metadata});
        if let UwlReply::Posted { data, public_key } = reply {
            return Ok(Json(json!({
                "sessionId": s.id,
                "data": data,
                "publicKey": public_key,
                "sessionInfo": session_info,
            }))
            .into_response());
        }
        let (user, ial) = match reply {
            UwlReply::Posted { .. } => unreachable!("answered above"),
            UwlReply::Approve { did } => (
                json!({"did": did, "userid": SIM_USER_ID, "ial": "IAL2",
                       "profile": {"firstname": "Jane", "lastname": "Sample"}}),
                Some("IAL2"),
            ),
            UwlReply::Deny => (json!({"status": "denied"}), None),
        };
        Ok::<_, Refusal>(
            Json(json!({
                "sessionId": s.id,
                "data": key.encrypt(&serde_json::to_vec(&user).unwrap_or_default()),
                "publicKey": app.public_key_b64(),
                "ial": ial,
                "sessionInfo": session_info,
            }))
            .into_response(),
        )
    };
    answer.await.unwrap_or_else(IntoResponse::into_response)
}

pub(super) async fn sms(State(sim): State<BlockIdSim>, h: HeaderMap, body: Bytes) -> Response {
    let sent = async {
        sim.admit(&h, &sim.tenant.community_key).await?;
        let t = &sim.tenant;
        let req: SmsRequest = parse(&body)?;
        if req.tenant_id != t.tenant_id || req.community_id != t.community_id {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "unknown tenant or community",
            ));
        }
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(&req.sms_to) || !digits(&req.sms_isd_code) {
            return Err(refuse(StatusCode::BAD_REQUEST, "invalid phone number"));
        }
        let text = STANDARD
            .decode(&req.sms_template_b64)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| refuse(StatusCode::BAD_REQUEST, "invalid smsTemplateB64"))?;
        let to = format!("+{}{}", req.sms_isd_code, req.sms_to);
        let mut g = sim.inner.lock();
        if g.faults.sms_down {
            return Err(refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the SMS gateway is unavailable",
            ));
        }
        g.outbox.push(Sms { to, text });
        drop(g);
        let id = uuid::Uuid::new_v4().to_string();
        Ok(Json(json!({"messageId": id, "status": "scheduled"})).into_response())
    };
    sent.await.unwrap_or_else(IntoResponse::into_response)
}

/// `GET {sessions}/session/{id}`: the session as JSON (what 1Kosmos's helper reads with
/// `fetchSessionInfo`; its fields beyond the id are UNCONFIRMED), or for a browser the page
/// where "the customer" answers.
pub(super) async fn uwl_info(
    State(sim): State<BlockIdSim>,
    h: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let browser = h
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if browser {
        return super::pages::liveid(State(sim), Path(id)).await;
    }
    let Some(s) = sim.uwl_session(&id) else {
        return refuse(StatusCode::NOT_FOUND, "session not found").into_response();
    };
    Json(json!({
        "sessionId": s.id,
        "createdTS": s.created_ms / 1000,
        "expiresTS": s.created_ms / 1000 + i64::from(UWL_LIFETIME_S.1),
        "metadata": s.metadata,
        "answered": s.reply.is_some(),
    }))
    .into_response()
}

/// `POST {sessions}/session/{id}/authenticate`: the BlockID app's answer (the helper's
/// `authenticateSession`): `{data, publicKey, did, appid, ial?}`, `data` encrypted to the
/// session's creator with the app's key. A second answer, or one for an expired session, is
/// refused.
pub(super) async fn uwl_authenticate(
    State(sim): State<BlockIdSim>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "invalid body").into_response();
    };
    let field = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (data, public_key, did) = (field("data"), field("publicKey"), field("did"));
    if data.is_empty() || public_key.is_empty() || did.is_empty() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "data, publicKey and did are required",
        )
        .into_response();
    }
    match sim.answer_uwl(&id, UwlReply::Posted { data, public_key }) {
        Ok(()) => Json(json!({"sessionId": id, "status": "authenticated"})).into_response(),
        Err(_) => refuse(
            StatusCode::CONFLICT,
            "no such open session, or already answered",
        )
        .into_response(),
    }
}

/// `GET {adminconsole}/api/r1/community/{community}/userdid/{did}/userinfo`: the tenant's user
/// directory for a DID (encrypted under the community's key, with `X-TenantTag`): the accounts
/// that hold the credential; 404 for a DID nobody enrolled.
pub(super) async fn user_by_did(
    State(sim): State<BlockIdSim>,
    h: HeaderMap,
    Path((community, did)): Path<(String, String)>,
) -> Response {
    let answer = async {
        let key = sim.admit(&h, &sim.tenant.community_key).await?;
        let t = &sim.tenant;
        if h.get(H_TENANT_TAG).and_then(|v| v.to_str().ok()) != Some(t.tag.as_str()) {
            return Err(refuse(StatusCode::UNAUTHORIZED, "unknown tenant tag"));
        }
        if community != t.community {
            return Err(refuse(StatusCode::NOT_FOUND, "community not found"));
        }
        if !sim.enrolled().contains(&did) {
            return Err(refuse(StatusCode::NOT_FOUND, "user not found"));
        }
        Ok(sealed(
            &key,
            &json!({"did": did, "userIdList": [SIM_USER_ID], "status": "active"}),
        ))
    };
    answer.await.unwrap_or_else(IntoResponse::into_response)
}
