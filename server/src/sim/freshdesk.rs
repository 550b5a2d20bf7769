//! The Freshdesk simulator: accounts by domain (`/d/{domain}/api/v2/…`), agents' API keys over
//! HTTP Basic (`key:X`), contacts with custom fields, contact fields (standard and custom, the
//! custom ones creatable by an admin key), tickets with their requester, notes; a per-minute
//! rate limit with 429 + `Retry-After`; fault switches; a log of the calls received.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    extract::{Path, State},
    http::{HeaderMap, Method, StatusCode},
    response::{IntoResponse, Response},
    Json, Router,
};
use base64::{engine::general_purpose::STANDARD, Engine as _};
use parking_lot::Mutex;
use rand::Rng;
use serde_json::{json, Value};

#[derive(Debug, Clone, Default)]
pub struct FdFaults {
    /// Share of calls answered 503.
    pub error_rate: f64,
    /// Share of calls answered 429 with `Retry-After: 1`.
    pub rate_429: f64,
}

/// One simulated Freshdesk account.
#[derive(Debug, Default)]
pub struct FdAccount {
    /// Agents' API keys; `admin` keys may create contact fields.
    pub agent_keys: Vec<String>,
    pub admin_keys: Vec<String>,
    pub per_minute: usize,
    pub contacts: BTreeMap<u64, Value>,
    /// Custom contact fields (`{name, label, type, choices, default: false}`).
    pub custom_fields: Vec<Value>,
    pub tickets: BTreeMap<u64, Value>,
    pub notes: Vec<Value>,
    /// `(method, path, status)` of each call.
    pub calls: Vec<(String, String, u16)>,
    /// The account's number, the tail of its custom fields' API names.
    pub account_id: u64,
    window: VecDeque<Instant>,
    next_id: u64,
}

/// Shared simulator state (cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct FreshdeskSim {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    accounts: BTreeMap<String, FdAccount>,
    faults: FdFaults,
}

fn err(status: StatusCode, description: &str, errors: Value) -> (StatusCode, Value) {
    (
        status,
        json!({ "description": description, "errors": errors }),
    )
}

impl FreshdeskSim {
    pub fn new() -> Self {
        Self::default()
    }

    /// An account with one agent key and one admin key.
    pub fn add_account(&self, domain: &str, agent_key: &str, admin_key: &str, per_minute: usize) {
        let mut g = self.inner.lock();
        let account_id = 81_234 + g.accounts.len() as u64;
        g.accounts.insert(
            domain.into(),
            FdAccount {
                agent_keys: vec![agent_key.into(), admin_key.into()],
                admin_keys: vec![admin_key.into()],
                per_minute,
                account_id,
                next_id: 9000,
                ..Default::default()
            },
        );
    }

    pub fn set_faults(&self, f: FdFaults) {
        self.inner.lock().faults = f;
    }

    pub fn with<R>(&self, domain: &str, f: impl FnOnce(&mut FdAccount) -> R) -> Option<R> {
        self.inner.lock().accounts.get_mut(domain).map(f)
    }

    pub fn seed_contact(&self, domain: &str, id: u64, name: &str, email: &str, mobile: &str) {
        self.with(domain, |a| {
            a.contacts.insert(
                id,
                json!({"id": id, "name": name, "email": email, "mobile": mobile,
                       "phone": null, "custom_fields": {}}),
            );
        });
    }

    pub fn seed_ticket(&self, domain: &str, id: u64, subject: &str, requester: u64) {
        self.with(domain, |a| {
            a.tickets.insert(
                id,
                json!({"id": id, "subject": subject, "requester_id": requester, "status": 2}),
            );
        });
    }

    /// A custom contact field as an admin creates it in the settings (API name
    /// `cf_<label>_<account id>`).
    pub fn add_custom_field(&self, domain: &str, label: &str, kind: &str, choices: &[&str]) {
        self.with(domain, |a| create_field(a, label, kind, choices));
    }

    pub fn contact(&self, domain: &str, id: u64) -> Option<Value> {
        self.with(domain, |a| a.contacts.get(&id).cloned())
            .flatten()
    }

    pub fn notes(&self, domain: &str) -> Vec<Value> {
        self.with(domain, |a| a.notes.clone()).unwrap_or_default()
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/d/{domain}/api/v2/{*path}", axum::routing::any(handle))
            .with_state(self.clone())
    }
}

/// The API name Freshdesk gives a new custom field: `cf_`, the label in snake case and the
/// account's number (as the `cf_<name>_<accountid>` keys of its event payloads), so never one
/// of our own keys: a client must read the names from `GET /contact_fields`.
fn create_field(a: &mut FdAccount, label: &str, kind: &str, choices: &[&str]) -> Value {
    let name = format!(
        "cf_{}_{}",
        label
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect::<String>(),
        a.account_id
    );
    a.next_id += 1;
    let field = json!({
        "id": a.next_id, "name": name, "label": label, "type": kind, "default": false,
        "choices": choices,
    });
    a.custom_fields.push(field.clone());
    field
}

fn standard_fields() -> Vec<Value> {
    ["name", "email", "phone", "mobile", "company_name"]
        .iter()
        .map(|n| json!({"name": n, "label": n, "type": format!("default_{n}"), "default": true}))
        .collect()
}

async fn handle(
    State(sim): State<FreshdeskSim>,
    Path((domain, path)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let faults = sim.inner.lock().faults.clone();
    let roll: f64 = rand::thread_rng().gen();
    let mut g = sim.inner.lock();
    let Some(a) = g.accounts.get_mut(&domain) else {
        // A mistyped subdomain: a bodiless 404.
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut retry_after = None;
    let (status, answer) = 'call: {
        let key = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| STANDARD.decode(b).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .map(|s| s.split(':').next().unwrap_or("").to_string());
        let Some(key) = key.filter(|k| a.agent_keys.contains(k)) else {
            break 'call err(
                StatusCode::UNAUTHORIZED,
                "You have to be logged in to perform this action.",
                json!([]),
            );
        };
        let now = Instant::now();
        while a
            .window
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60))
        {
            a.window.pop_front();
        }
        if a.window.len() >= a.per_minute || roll < faults.rate_429 {
            let wait = a
                .window
                .front()
                .map(|t| {
                    60u64
                        .saturating_sub(now.duration_since(*t).as_secs())
                        .max(1)
                })
                .unwrap_or(1);
            retry_after = Some(if roll < faults.rate_429 { 1 } else { wait });
            break 'call (
                StatusCode::TOO_MANY_REQUESTS,
                json!({"message": "You have exceeded the limit of requests per minute"}),
            );
        }
        if roll >= faults.rate_429 && roll < faults.rate_429 + faults.error_rate {
            break 'call (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"message": "unavailable"}),
            );
        }
        a.window.push_back(now);
        let admin = a.admin_keys.contains(&key);
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        route(a, admin, &method, &path, &body)
    };
    a.calls
        .push((method.to_string(), path.clone(), status.as_u16()));
    let mut res = (status, Json(answer)).into_response();
    if let Some(s) = retry_after {
        res.headers_mut().insert("retry-after", s.into());
    }
    res
}

fn num(s: &str) -> Option<u64> {
    s.parse().ok()
}

fn route(
    a: &mut FdAccount,
    admin: bool,
    method: &Method,
    path: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            json!({"message": "Record not found"}),
        )
    };
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["contacts", id]) => match num(id).and_then(|id| a.contacts.get(&id)) {
            Some(c) => (StatusCode::OK, c.clone()),
            None => not_found(),
        },
        ("PUT", ["contacts", id]) => {
            let names: Vec<String> = a
                .custom_fields
                .iter()
                .filter_map(|f| f["name"].as_str().map(str::to_string))
                .collect();
            let Some(c) = num(id).and_then(|id| a.contacts.get_mut(&id)) else {
                return not_found();
            };
            if let Some(cf) = body.get("custom_fields").and_then(Value::as_object) {
                let bad: Vec<Value> = cf
                    .keys()
                    .filter(|k| !names.contains(k))
                    .map(|k| json!({"field": k, "message": "Unexpected/invalid field in request", "code": "invalid_field"}))
                    .collect();
                if !bad.is_empty() {
                    return err(StatusCode::BAD_REQUEST, "Validation failed", json!(bad));
                }
                for (k, v) in cf {
                    c["custom_fields"][k] = v.clone();
                }
            }
            (StatusCode::OK, c.clone())
        }
        ("GET", ["contact_fields"]) => {
            let mut all = standard_fields();
            all.extend(a.custom_fields.iter().cloned());
            (StatusCode::OK, json!(all))
        }
        ("POST", ["admin", "contact_fields"]) => {
            if !admin {
                return (
                    StatusCode::FORBIDDEN,
                    json!({"code": "access_denied", "message": "You are not authorized to perform this action."}),
                );
            }
            let (Some(label), Some(kind)) = (
                body.get("label").and_then(Value::as_str),
                body.get("type").and_then(Value::as_str),
            ) else {
                return err(
                    StatusCode::BAD_REQUEST,
                    "Validation failed",
                    json!([{"field": "label", "message": "It should be a/an String", "code": "missing_field"}]),
                );
            };
            let choices: Vec<String> = body
                .get("choices")
                .and_then(Value::as_array)
                .map(|cs| {
                    cs.iter()
                        .filter_map(|c| c.get("value").and_then(Value::as_str).map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let refs: Vec<&str> = choices.iter().map(String::as_str).collect();
            (StatusCode::CREATED, create_field(a, label, kind, &refs))
        }
        ("GET", ["tickets", id]) => match num(id).and_then(|id| a.tickets.get(&id)) {
            Some(t) => (StatusCode::OK, t.clone()),
            None => not_found(),
        },
        ("POST", ["tickets", id, "notes"]) => {
            let Some(ticket) = num(id).filter(|id| a.tickets.contains_key(id)) else {
                return not_found();
            };
            let Some(text) = body.get("body").and_then(Value::as_str) else {
                return err(
                    StatusCode::BAD_REQUEST,
                    "Validation failed",
                    json!([{"field": "body", "message": "Mandatory attribute missing", "code": "missing_field"}]),
                );
            };
            a.next_id += 1;
            let note = json!({
                "id": a.next_id, "ticket_id": ticket, "body": text,
                "private": body.get("private").and_then(Value::as_bool).unwrap_or(true),
                "incoming": false,
            });
            a.notes.push(note.clone());
            (StatusCode::CREATED, note)
        }
        _ => (StatusCode::NOT_FOUND, json!({"message": "No such API"})),
    }
}
