//! The Freshchat simulator: one account under `/v2/…` with its API token (`Authorization:
//! Bearer`; regenerating it invalidates the old one, as in Freshchat), agents, users with custom
//! properties, conversations with their messages; errors `{code, status, message}`; a
//! per-minute rate limit with 429 + `Retry-After`; fault switches (503s, 429s, and message posts
//! that are stored and then answered 500: the "maybe sent" case); a log of the calls; and a
//! webhook sender that signs the raw body with the account's RSA key (SHA256withRSA, PKCS#1
//! v1.5), whose public key the tenant is given as an admin copies it from the settings.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, Method, StatusCode},
    response::{IntoResponse, Response},
    Json, Router,
};
use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
use parking_lot::Mutex;
use rand::Rng;
use rsa::{
    pkcs1v15::SigningKey,
    pkcs8::{DecodePrivateKey, EncodePublicKey},
    sha2::Sha256,
    signature::{SignatureEncoding, Signer},
    RsaPrivateKey,
};
use serde_json::{json, Value};

/// The twin's signing key (a key made for the simulator, never used anywhere else).
const TWIN_KEY: &str = include_str!("freshchat/twin_key.pem");

#[derive(Debug, Clone, Default)]
pub struct FcFaults {
    /// Share of calls answered 503.
    pub error_rate: f64,
    /// Share of calls answered 429 with `Retry-After: 1`.
    pub rate_429: f64,
    /// Share of message posts stored and then answered 500 (the sender cannot tell).
    pub lost_answer_rate: f64,
}

/// One conversation.
#[derive(Debug, Clone, Default)]
pub struct Conversation {
    pub id: String,
    pub channel_id: String,
    pub user_id: String,
    /// Oldest first: `{id, message_parts, actor_type, actor_id, message_type, created_time}`.
    pub messages: Vec<Value>,
}

/// The simulated account.
#[derive(Debug, Default)]
pub struct FcAccount {
    pub tokens: Vec<String>,
    pub per_minute: usize,
    pub agents: Vec<String>,
    /// `{id, first_name, email, properties: [{name, value}]}`.
    pub users: BTreeMap<String, Value>,
    pub conversations: BTreeMap<String, Conversation>,
    /// `(method, path, status)` of each call.
    pub calls: Vec<(String, String, u16)>,
    window: VecDeque<Instant>,
}

#[derive(Debug, Default)]
struct Inner {
    account: FcAccount,
    faults: FcFaults,
}

/// Shared simulator state (cheap to clone).
#[derive(Clone)]
pub struct FreshchatSim {
    inner: Arc<Mutex<Inner>>,
    signer: Arc<SigningKey<Sha256>>,
    public_pem: String,
}

impl std::fmt::Debug for FreshchatSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreshchatSim").finish_non_exhaustive()
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn err(status: StatusCode, code: &str, message: &str) -> (StatusCode, Value) {
    (
        status,
        json!({ "code": code, "status": status.as_u16(), "message": message }),
    )
}

impl FreshchatSim {
    /// An account whose API token is `token`, with one agent (`agent-1`).
    pub fn new(token: &str) -> Self {
        let private = RsaPrivateKey::from_pkcs8_pem(TWIN_KEY).expect("the twin's key reads");
        let public_pem = private
            .to_public_key()
            .to_public_key_pem(Default::default())
            .expect("a public key encodes");
        let sim = Self {
            inner: Default::default(),
            signer: Arc::new(SigningKey::new(private)),
            public_pem,
        };
        sim.with(|a| {
            a.tokens = vec![token.into()];
            a.per_minute = 1000;
            a.agents = vec!["agent-1".into()];
        });
        sim
    }

    /// The public key of the webhook settings, as an admin copies it (PEM).
    pub fn public_key_pem(&self) -> String {
        self.public_pem.clone()
    }

    /// Regenerates the API token: the old one stops working.
    pub fn regenerate_token(&self, token: &str) {
        self.with(|a| a.tokens = vec![token.into()]);
    }

    pub fn set_faults(&self, f: FcFaults) {
        self.inner.lock().faults = f;
    }

    /// Runs `f` on the account (seeding and inspection).
    pub fn with<R>(&self, f: impl FnOnce(&mut FcAccount) -> R) -> R {
        f(&mut self.inner.lock().account)
    }

    pub fn seed_user(&self, id: &str, first_name: &str, email: &str) {
        self.with(|a| {
            a.users.insert(
                id.into(),
                json!({"id": id, "first_name": first_name, "email": email, "properties": []}),
            )
        });
    }

    pub fn seed_conversation(&self, id: &str, user_id: &str, channel_id: &str) {
        self.with(|a| {
            a.conversations.insert(
                id.into(),
                Conversation {
                    id: id.into(),
                    channel_id: channel_id.into(),
                    user_id: user_id.into(),
                    messages: Vec::new(),
                },
            )
        });
    }

    pub fn user(&self, id: &str) -> Option<Value> {
        self.with(|a| a.users.get(id).cloned())
    }

    /// A user's property, by name.
    pub fn property(&self, user: &str, name: &str) -> Option<String> {
        let u = self.user(user)?;
        u["properties"]
            .as_array()?
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["value"].as_str())
            .map(str::to_string)
    }

    /// The texts of a conversation's messages, oldest first, with who posted each.
    pub fn texts(&self, conversation: &str) -> Vec<(String, String)> {
        self.with(|a| {
            a.conversations
                .get(conversation)
                .map(|c| {
                    c.messages
                        .iter()
                        .map(|m| {
                            let text = m
                                .pointer("/message_parts/0/text/content")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .to_string();
                            let actor = m["actor_type"].as_str().unwrap_or("").to_string();
                            (actor, text)
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    /// `(method, path, status)` of each call received.
    pub fn calls(&self) -> Vec<(String, String, u16)> {
        self.with(|a| a.calls.clone())
    }

    /// The Base64 signature of a raw body, as `X-Freshchat-Signature` carries it.
    pub fn sign(&self, body: &[u8]) -> String {
        B64.encode(self.signer.sign(body).to_bytes())
    }

    /// The customer writes in a conversation: the message is stored, and the `message_create`
    /// webhook body Freshchat would send is returned (`older`: the older payload version, with
    /// `msg_parts` and `part_type`).
    pub fn user_writes(&self, conversation: &str, text: &str, older: bool) -> Value {
        let id = new_id();
        let (user, channel) = self.with(|a| {
            let c = a.conversations.get_mut(conversation);
            match c {
                Some(c) => {
                    c.messages.push(json!({
                        "id": id, "actor_type": "user", "actor_id": c.user_id,
                        "message_type": "normal", "message_parts": [{"text": {"content": text}}],
                        "created_time": crate::clock::rfc3339(crate::clock::now_ms()),
                    }));
                    (c.user_id.clone(), c.channel_id.clone())
                }
                None => (String::new(), String::new()),
            }
        });
        let parts = if older {
            json!({"msg_parts": [{"part_type": "text", "text": {"content": text}}]})
        } else {
            json!({"message_parts": [{"text": {"content": text}}]})
        };
        let mut message = json!({
            "id": id, "conversation_id": conversation, "channel_id": channel, "user_id": user,
            "actor_type": "user", "actor_id": user, "message_type": "normal",
            "app_id": "app-1", "created_time": crate::clock::rfc3339(crate::clock::now_ms()),
        });
        for (k, v) in parts.as_object().expect("an object") {
            message[k] = v.clone();
        }
        json!({
            "actor": {"actor_type": "user", "actor_id": user},
            "action": "message_create",
            "action_time": crate::clock::rfc3339(crate::clock::now_ms()),
            "data": {"message": message},
        })
    }

    /// Delivers a webhook body to `url` as Freshchat does: the raw bytes signed, with the
    /// payload version and retry count headers.
    pub async fn deliver(&self, url: &str, event: &Value) -> reqwest::Response {
        let body = serde_json::to_vec(event).expect("JSON");
        let signature = self.sign(&body);
        reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .header("x-freshchat-signature", signature)
            .header("x-freshchat-payload-version", "v1")
            .header("x-retry-count", "0")
            .body(body)
            .send()
            .await
            .expect("the backend answers")
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/v2/{*path}", axum::routing::any(handle))
            .with_state(self.clone())
    }
}

async fn handle(
    State(sim): State<FreshchatSim>,
    Path(path): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
    method: Method,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let faults = sim.inner.lock().faults.clone();
    let roll: f64 = rand::thread_rng().gen();
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) => {
                let (s, v) = err(StatusCode::BAD_REQUEST, "INVALID_JSON", "invalid JSON");
                return (s, Json(v)).into_response();
            }
        }
    };
    let mut g = sim.inner.lock();
    let a = &mut g.account;
    let mut retry_after = None;
    let (status, answer) = 'call: {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let Some(token) = auth.strip_prefix("Bearer ") else {
            break 'call err(
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                "Authorization must be: Bearer <token>",
            );
        };
        if !a.tokens.iter().any(|t| t == token) {
            break 'call err(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Invalid token");
        }
        let now = Instant::now();
        while a
            .window
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60))
        {
            a.window.pop_front();
        }
        if a.window.len() >= a.per_minute || roll < faults.rate_429 {
            retry_after = Some(1);
            break 'call err(
                StatusCode::TOO_MANY_REQUESTS,
                "TOO_MANY_REQUESTS",
                "Rate limit exceeded",
            );
        }
        if roll < faults.rate_429 + faults.error_rate {
            break 'call err(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "Service unavailable",
            );
        }
        a.window.push_back(now);
        let lost = rand::thread_rng().gen::<f64>() < faults.lost_answer_rate;
        route(a, &method, &path, &query, &body, lost)
    };
    a.calls
        .push((method.to_string(), format!("/v2/{path}"), status.as_u16()));
    drop(g);
    let mut res = (status, Json(answer)).into_response();
    if let Some(s) = retry_after {
        res.headers_mut().insert("retry-after", s.into());
    }
    res
}

/// A message's parts: each a text with content or an image with a URL.
fn valid_parts(parts: Option<&Value>) -> bool {
    parts.and_then(Value::as_array).is_some_and(|ps| {
        !ps.is_empty()
            && ps.iter().all(|p| {
                p.pointer("/text/content")
                    .and_then(Value::as_str)
                    .is_some_and(|t| !t.is_empty())
                    || p.pointer("/image/url").and_then(Value::as_str).is_some()
            })
    })
}

fn route(
    a: &mut FcAccount,
    method: &Method,
    path: &str,
    query: &BTreeMap<String, String>,
    body: &Value,
    lost_answer: bool,
) -> (StatusCode, Value) {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        ("POST", ["conversations", id, "messages"]) => {
            let agents = a.agents.clone();
            let Some(c) = a.conversations.get_mut(*id) else {
                return err(
                    StatusCode::NOT_FOUND,
                    "CONVERSATION_NOT_FOUND",
                    "Conversation not found",
                );
            };
            if !valid_parts(body.get("message_parts")) {
                return err(
                    StatusCode::BAD_REQUEST,
                    "INVALID_MESSAGE_PARTS",
                    "message_parts must hold a text with content or an image with a url",
                );
            }
            let actor_type = body["actor_type"].as_str().unwrap_or("");
            let actor_id = body["actor_id"].as_str().unwrap_or("");
            match actor_type {
                "agent" if !agents.iter().any(|g| g == actor_id) => {
                    return err(StatusCode::NOT_FOUND, "AGENT_NOT_FOUND", "Agent not found")
                }
                "user" if actor_id != c.user_id => {
                    return err(
                        StatusCode::BAD_REQUEST,
                        "INVALID_ACTOR",
                        "The user is not a member of the conversation",
                    )
                }
                "agent" | "user" | "system" => {}
                _ => {
                    return err(
                        StatusCode::BAD_REQUEST,
                        "INVALID_ACTOR",
                        "actor_type must be agent, user or system",
                    )
                }
            }
            let message = json!({
                "id": new_id(), "conversation_id": c.id, "actor_type": actor_type,
                "actor_id": actor_id, "message_parts": body["message_parts"],
                "message_type": body["message_type"].as_str().unwrap_or("normal"),
                "created_time": crate::clock::rfc3339(crate::clock::now_ms()),
            });
            c.messages.push(message.clone());
            if lost_answer {
                return err(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_ERROR",
                    "Something went wrong",
                );
            }
            (StatusCode::OK, message)
        }
        ("GET", ["conversations", id, "messages"]) => {
            let Some(c) = a.conversations.get(*id) else {
                return err(
                    StatusCode::NOT_FOUND,
                    "CONVERSATION_NOT_FOUND",
                    "Conversation not found",
                );
            };
            let per_page = query
                .get("items_per_page")
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(10)
                .clamp(1, 50);
            // Newest first.
            let messages: Vec<Value> = c.messages.iter().rev().take(per_page).cloned().collect();
            (StatusCode::OK, json!({ "messages": messages }))
        }
        ("GET", ["conversations", id]) => match a.conversations.get(*id) {
            Some(c) => (
                StatusCode::OK,
                json!({"conversation_id": c.id, "channel_id": c.channel_id,
                       "users": [{"id": c.user_id}], "status": "new"}),
            ),
            None => err(
                StatusCode::NOT_FOUND,
                "CONVERSATION_NOT_FOUND",
                "Conversation not found",
            ),
        },
        ("GET", ["users", id]) => match a.users.get(*id) {
            Some(u) => (StatusCode::OK, u.clone()),
            None => err(StatusCode::NOT_FOUND, "USER_NOT_FOUND", "User not found"),
        },
        ("PUT", ["users", id]) => {
            let Some(u) = a.users.get_mut(*id) else {
                return err(StatusCode::NOT_FOUND, "USER_NOT_FOUND", "User not found");
            };
            if let Some(props) = body.get("properties") {
                let Some(props) = props.as_array().filter(|ps| {
                    ps.iter()
                        .all(|p| p["name"].is_string() && p["value"].is_string())
                }) else {
                    return err(
                        StatusCode::BAD_REQUEST,
                        "INVALID_PROPERTIES",
                        "properties must be a list of {name, value} strings",
                    );
                };
                let have = u["properties"].as_array_mut().expect("seeded with a list");
                for p in props {
                    match have.iter_mut().find(|h| h["name"] == p["name"]) {
                        Some(h) => h["value"] = p["value"].clone(),
                        None => have.push(p.clone()),
                    }
                }
            }
            for key in ["first_name", "last_name", "email", "phone"] {
                if let Some(v) = body.get(key).filter(|v| v.is_string()) {
                    u[key] = v.clone();
                }
            }
            (StatusCode::OK, u.clone())
        }
        ("GET", ["channels"]) => (
            StatusCode::OK,
            json!({"channels": [{"id": "channel-1", "name": "Inbox", "enabled": true}]}),
        ),
        _ => err(StatusCode::NOT_FOUND, "NOT_FOUND", "No such API"),
    }
}
