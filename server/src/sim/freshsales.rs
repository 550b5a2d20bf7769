//! The Freshsales simulator: accounts by bundle alias (`/a/{alias}/crm/sales/api/…`), users' API
//! keys (`Authorization: Token token=…`), contacts with custom fields, deals with stages, notes,
//! tasks and custom-module records; per-account rate limits (plan's hourly limit and 400/min)
//! with 429 + `Retry-After`; fault switches; and a log of the calls received, per account.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    extract::{Path, State},
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    Json, Router,
};
use parking_lot::Mutex;
use rand::Rng;
use serde_json::{json, Map, Value};

mod setup;
mod views;
pub use setup::def_of;

#[derive(Debug, Clone, Default)]
pub struct FsFaults {
    /// Share of calls answered 503.
    pub error_rate: f64,
    /// Share of calls answered 429 with `Retry-After: 1`.
    pub rate_429: f64,
    /// Share of calls that hang for `hang` (the client times out).
    pub timeout_rate: f64,
    pub hang: Duration,
    /// Added to every call.
    pub latency: Duration,
}

/// One call the simulator received.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub body: Value,
}

#[derive(Debug, Default)]
pub struct Account {
    pub hourly_limit: usize,
    /// The rate-limit "hour" (tests and benchmarks shrink it; the "minute" is 1/60 of it).
    pub hour: Duration,
    pub api_keys: Vec<String>,
    /// Most records a page of a list view holds, whatever `per_page` asks (tests shrink it).
    pub max_per_page: usize,
    pub contacts: BTreeMap<u64, Value>,
    pub deals: BTreeMap<u64, Value>,
    pub stages: Vec<Value>,
    pub notes: Vec<Value>,
    pub tasks: Vec<Value>,
    pub modules: HashMap<String, BTreeMap<u64, Value>>,
    /// Custom contact field definitions (`{name, label, type, choices}`).
    pub contact_fields: Vec<Value>,
    /// Custom module definitions by API name (`{name, label, fields}`).
    pub module_defs: BTreeMap<String, Value>,
    pub calls: Vec<Call>,
    window: VecDeque<Instant>,
    next_id: u64,
}

impl Account {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

#[derive(Debug, Default)]
struct Inner {
    accounts: HashMap<String, Account>,
    faults: FsFaults,
}

#[derive(Clone, Debug, Default)]
pub struct FreshsalesSim {
    inner: Arc<Mutex<Inner>>,
}

impl FreshsalesSim {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an account with one user's API key and the default pipeline's stages.
    pub fn add_account(&self, alias: &str, api_key: &str, hourly_limit: usize) {
        let stages = ["New", "Qualified", "Proposal", "Negotiation", "Won", "Lost"]
            .iter()
            .enumerate()
            .map(|(i, n)| json!({"id": 201 + i as u64, "name": n, "position": i + 1, "deal_pipeline_id": 1}))
            .collect();
        let mut account = Account {
            hourly_limit,
            hour: Duration::from_secs(3600),
            api_keys: vec![api_key.into()],
            max_per_page: 100,
            stages,
            next_id: 5000,
            ..Default::default()
        };
        setup::complete(&mut account);
        self.inner.lock().accounts.insert(alias.into(), account);
    }

    /// Removes what an admin would have created for this app: the `cf_idv_*` contact fields
    /// and every custom module (an account that never prepared for the app).
    pub fn unprovision(&self, alias: &str) {
        self.with(alias, |a| {
            a.contact_fields.clear();
            a.module_defs.clear();
        });
    }

    /// Creates a custom contact field as an admin does in the settings.
    pub fn add_contact_field(&self, alias: &str, def: Value) {
        self.with(alias, |a| a.contact_fields.push(def));
    }

    pub fn set_faults(&self, f: FsFaults) {
        self.inner.lock().faults = f;
    }

    /// Runs `f` on an account's state (seeding and inspection in tests and the demo).
    pub fn with<R>(&self, alias: &str, f: impl FnOnce(&mut Account) -> R) -> Option<R> {
        self.inner.lock().accounts.get_mut(alias).map(f)
    }

    pub fn seed_contact(
        &self,
        alias: &str,
        id: u64,
        first: &str,
        last: &str,
        email: &str,
        phone: &str,
    ) {
        let now = crate::clock::rfc3339(crate::clock::now_ms());
        self.with(alias, |a| {
            a.contacts.insert(
                id,
                json!({"id": id, "first_name": first, "last_name": last, "email": email,
                "mobile_number": phone, "custom_field": {}, "created_at": now, "updated_at": now}),
            );
        });
    }

    /// Moves a deal to another stage as a user does in Freshsales (no app event is sent).
    pub fn move_deal(&self, alias: &str, id: u64, stage_id: u64) {
        let now = crate::clock::rfc3339(crate::clock::now_ms());
        self.with(alias, |a| {
            if let Some(d) = a.deals.get_mut(&id) {
                d["deal_stage_id"] = json!(stage_id);
                d["updated_at"] = json!(now);
            }
        });
    }

    pub fn seed_deal(
        &self,
        alias: &str,
        id: u64,
        name: &str,
        amount: u64,
        stage_id: u64,
        contact_ids: &[u64],
    ) {
        let now = crate::clock::rfc3339(crate::clock::now_ms());
        self.with(alias, |a| {
            a.deals.insert(
                id,
                json!({"id": id, "name": name, "amount": amount, "deal_stage_id": stage_id,
                "contact_ids": contact_ids, "created_at": now, "updated_at": now}),
            );
        });
    }

    pub fn contact(&self, alias: &str, id: u64) -> Option<Value> {
        self.with(alias, |a| a.contacts.get(&id).cloned()).flatten()
    }

    pub fn deal(&self, alias: &str, id: u64) -> Option<Value> {
        self.with(alias, |a| a.deals.get(&id).cloned()).flatten()
    }

    pub fn calls(&self, alias: &str) -> Vec<Call> {
        self.with(alias, |a| a.calls.clone()).unwrap_or_default()
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route(
                "/a/{alias}/crm/sales/api/{*path}",
                axum::routing::any(handle),
            )
            .with_state(self.clone())
    }
}

fn err(status: StatusCode, msg: &str) -> (StatusCode, Value) {
    (
        status,
        json!({"errors": {"code": status.as_u16(), "message": [msg]}}),
    )
}

async fn handle(
    State(sim): State<FreshsalesSim>,
    Path((alias, path)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let faults = sim.inner.lock().faults.clone();
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    let roll: f64 = rand::thread_rng().gen();
    if roll < faults.timeout_rate {
        tokio::time::sleep(faults.hang.max(Duration::from_secs(1))).await;
    }
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) => {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(err(StatusCode::BAD_REQUEST, "invalid JSON").1),
                )
                    .into_response()
            }
        }
    };
    let mut g = sim.inner.lock();
    let Some(account) = g.accounts.get_mut(&alias) else {
        // An unknown bundle alias: every call is a 404 (no account here).
        return (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found"}))).into_response();
    };
    let mut retry_after = None;
    let (status, answer) = 'call: {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let Some(key) = auth.strip_prefix("Token token=") else {
            break 'call err(
                StatusCode::UNAUTHORIZED,
                "Authorization must be: Token token=<API key>",
            );
        };
        if !account.api_keys.iter().any(|k| k == key) {
            break 'call err(StatusCode::UNAUTHORIZED, "Invalid API key");
        }
        // Rate limits: the plan's hourly limit and 400 per minute, per account.
        let now = Instant::now();
        let hour = account.hour;
        let minute = hour / 60;
        while account
            .window
            .front()
            .is_some_and(|t| now.duration_since(*t) > hour)
        {
            account.window.pop_front();
        }
        let last_minute = account
            .window
            .iter()
            .rev()
            .take_while(|t| now.duration_since(**t) < minute)
            .count();
        if account.window.len() >= account.hourly_limit || last_minute >= 400 {
            let oldest = if last_minute >= 400 {
                account.window[account.window.len() - last_minute]
            } else {
                account.window[0]
            };
            let span = if last_minute >= 400 { minute } else { hour };
            let wait = span
                .saturating_sub(now.duration_since(oldest))
                .as_secs()
                .max(1);
            retry_after = Some(wait);
            break 'call err(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded");
        }
        if roll >= faults.timeout_rate && roll < faults.timeout_rate + faults.rate_429 {
            retry_after = Some(1);
            break 'call err(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded");
        }
        if roll >= faults.timeout_rate + faults.rate_429
            && roll < faults.timeout_rate + faults.rate_429 + faults.error_rate
        {
            break 'call err(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable");
        }
        account.window.push_back(now);
        route(account, &method, &path, uri.query().unwrap_or(""), &body)
    };
    account.calls.push(Call {
        method: method.to_string(),
        path: uri.path().to_string(),
        status: status.as_u16(),
        body,
    });
    let mut res = (status, Json(answer)).into_response();
    if let Some(s) = retry_after {
        res.headers_mut().insert("retry-after", s.into());
    }
    res
}

fn num(s: &str) -> Option<u64> {
    s.parse().ok()
}

/// Fields a write never changes: the record's id and its timestamps.
const READ_ONLY: [&str; 3] = ["id", "created_at", "updated_at"];

/// Stamps an updated record, as Freshsales does on every update (list views sort by it).
fn touch(record: &mut Value) {
    record["updated_at"] = json!(crate::clock::rfc3339(crate::clock::now_ms()));
}

fn route(
    a: &mut Account,
    method: &Method,
    path: &str,
    query: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        ("GET", [kind @ ("contacts" | "deals"), "filters"]) => views::filters(kind),
        ("GET", [kind @ ("contacts" | "deals"), "view", id]) => views::view(a, kind, id, query),
        ("GET", ["contacts", id]) => match num(id).and_then(|id| a.contacts.get(&id)) {
            Some(c) => (StatusCode::OK, json!({"contact": c})),
            None => err(StatusCode::NOT_FOUND, "Contact not found"),
        },
        ("PUT", ["contacts", id]) => {
            let defs = a.contact_fields.clone();
            let Some(c) = num(id).and_then(|id| a.contacts.get_mut(&id)) else {
                return err(StatusCode::NOT_FOUND, "Contact not found");
            };
            let Some(update) = body.get("contact").and_then(Value::as_object) else {
                return err(StatusCode::BAD_REQUEST, "contact is required");
            };
            if let Some(cf) = update.get("custom_field").and_then(Value::as_object) {
                if let Some(refusal) = setup::check_custom_fields(&defs, cf) {
                    return refusal;
                }
                let target = c["custom_field"]
                    .as_object_mut()
                    .expect("seeded with a map");
                for (k, v) in cf {
                    target.insert(k.clone(), v.clone());
                }
            }
            for (k, v) in update
                .iter()
                .filter(|(k, _)| k.as_str() != "custom_field" && !READ_ONLY.contains(&k.as_str()))
            {
                c[k] = v.clone();
            }
            touch(c);
            (StatusCode::OK, json!({"contact": c}))
        }
        ("POST", ["contacts", "upsert"]) => {
            let Some(email) = body
                .pointer("/unique_identifier/emails")
                .and_then(Value::as_str)
            else {
                return err(
                    StatusCode::BAD_REQUEST,
                    "unique_identifier.emails is required",
                );
            };
            let fields = body
                .get("contact")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            if let Some(status) = fields.get("subscription_status") {
                if !matches!(status.as_str(), Some("subscribed" | "unsubscribed")) {
                    return err(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "subscription_status must be subscribed or unsubscribed",
                    );
                }
            }
            // Emails match whatever their case.
            let matches: Vec<u64> = a
                .contacts
                .iter()
                .filter(|(_, c)| {
                    c["email"]
                        .as_str()
                        .is_some_and(|e| e.eq_ignore_ascii_case(email))
                })
                .map(|(id, _)| *id)
                .collect();
            match matches.as_slice() {
                [] => {
                    let named = |k: &str| {
                        fields
                            .get(k)
                            .and_then(Value::as_str)
                            .is_some_and(|s| !s.is_empty())
                    };
                    if !named("first_name") || !named("last_name") {
                        return err(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "First name and last name are required to create a contact",
                        );
                    }
                    let id = a.id();
                    let mut c = Map::from_iter(fields);
                    c.insert("id".into(), json!(id));
                    c.insert("email".into(), json!(email));
                    c.entry("custom_field").or_insert(json!({}));
                    let now = crate::clock::rfc3339(crate::clock::now_ms());
                    c.insert("created_at".into(), json!(now));
                    c.insert("updated_at".into(), json!(now));
                    a.contacts.insert(id, Value::Object(c.clone()));
                    // A created contact answers 201, an updated one 200.
                    (StatusCode::CREATED, json!({"contact": c}))
                }
                [id] => {
                    let c = a.contacts.get_mut(id).expect("just found");
                    for (k, v) in fields
                        .into_iter()
                        .filter(|(k, _)| !READ_ONLY.contains(&k.as_str()))
                    {
                        c[k] = v;
                    }
                    touch(c);
                    (StatusCode::OK, json!({"contact": c}))
                }
                _ => err(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "More than one contact matches this email",
                ),
            }
        }
        ("GET", ["deals", id]) => match num(id).and_then(|id| a.deals.get(&id)) {
            Some(d) => (StatusCode::OK, json!({"deal": d})),
            None => err(StatusCode::NOT_FOUND, "Deal not found"),
        },
        ("PUT", ["deals", id]) => {
            let Some(update) = body.get("deal").and_then(Value::as_object) else {
                return err(StatusCode::BAD_REQUEST, "deal is required");
            };
            if let Some(s) = update.get("deal_stage_id") {
                if !s
                    .as_u64()
                    .is_some_and(|s| a.stages.iter().any(|st| st["id"] == s))
                {
                    return err(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "Deal stage does not exist",
                    );
                }
            }
            let Some(d) = num(id).and_then(|id| a.deals.get_mut(&id)) else {
                return err(StatusCode::NOT_FOUND, "Deal not found");
            };
            // Every field given is written, custom fields merged into the deal's own.
            for (k, v) in update
                .iter()
                .filter(|(k, _)| !READ_ONLY.contains(&k.as_str()))
            {
                match (k.as_str(), v.as_object()) {
                    ("custom_field", Some(cf)) => {
                        if !d["custom_field"].is_object() {
                            d["custom_field"] = json!({});
                        }
                        let target = d["custom_field"].as_object_mut().expect("just made");
                        for (k, v) in cf {
                            target.insert(k.clone(), v.clone());
                        }
                    }
                    _ => d[k] = v.clone(),
                }
            }
            touch(d);
            (StatusCode::OK, json!({"deal": d}))
        }
        ("GET", ["selector", "deal_stages"]) => (StatusCode::OK, json!({"deal_stages": a.stages})),
        ("GET", ["settings", "contacts", "fields"]) => {
            let mut fields: Vec<Value> = ["first_name", "last_name", "email", "mobile_number"]
                .iter()
                .map(|n| json!({"name": n, "label": n}))
                .collect();
            fields.extend(a.contact_fields.iter().cloned());
            (StatusCode::OK, json!({"fields": fields}))
        }
        ("GET", ["settings", "module_customizations"]) => setup::list_modules(a),
        ("POST", ["settings", "module_customizations"]) => setup::create_module(a, body),
        ("POST", ["notes"]) | ("POST", ["tasks"]) => {
            let key = if parts[0] == "notes" { "note" } else { "task" };
            let Some(mut item) = body.get(key).and_then(Value::as_object).cloned() else {
                return err(StatusCode::BAD_REQUEST, &format!("{key} is required"));
            };
            let ty = item
                .get("targetable_type")
                .and_then(Value::as_str)
                .unwrap_or("");
            let tid = item
                .get("targetable_id")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let exists = match ty {
                "Contact" => a.contacts.contains_key(&tid),
                "Deal" => a.deals.contains_key(&tid),
                _ => false,
            };
            if !exists {
                return err(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "targetable_type/targetable_id must name an existing record",
                );
            }
            let id = a.id();
            item.insert("id".into(), json!(id));
            if key == "note" {
                a.notes.push(Value::Object(item.clone()))
            } else {
                a.tasks.push(Value::Object(item.clone()))
            }
            (StatusCode::CREATED, json!({ key: item }))
        }
        ("POST", ["custom_module", module]) => {
            let Some(mut rec) = body.get(*module).and_then(Value::as_object).cloned() else {
                return err(StatusCode::BAD_REQUEST, &format!("{module} is required"));
            };
            if let Some(refusal) = setup::check_module_write(a, module, &Value::Object(rec.clone()))
            {
                return refusal;
            }
            let id = a.id();
            rec.insert("id".into(), json!(id));
            a.modules
                .entry(module.to_string())
                .or_default()
                .insert(id, Value::Object(rec.clone()));
            (StatusCode::CREATED, json!({ *module: rec }))
        }
        ("PUT", ["custom_module", module, id]) => {
            if let Some(refusal) = body
                .get(*module)
                .and_then(|r| setup::check_module_write(a, module, r))
            {
                return refusal;
            }
            let Some(rec) = num(id).and_then(|id| a.modules.get_mut(*module)?.get_mut(&id)) else {
                return err(StatusCode::NOT_FOUND, "Record not found");
            };
            if let Some(update) = body.get(*module).and_then(Value::as_object) {
                for (k, v) in update {
                    rec[k] = v.clone();
                }
            }
            (StatusCode::OK, json!({ *module: rec }))
        }
        _ => err(StatusCode::NOT_FOUND, "No such API"),
    }
}
