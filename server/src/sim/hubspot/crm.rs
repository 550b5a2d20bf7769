//! The twin's CRM: contact properties and their groups (valid `type`/`fieldType` pairs, 409 on
//! a duplicate), contacts and deals whose writes are validated as HubSpot validates them
//! (`VALIDATION_ERROR` for an unknown property, an enumeration value outside its options, a
//! date that is not a midnight-UTC date, a number with separators), pipelines, associations with
//! their labels, notes, tasks and lists; every call needs a live access token and counts against
//! the portal's 110 requests per 10 s (429 `RATE_LIMITS` past it), with HubSpot's rate-limit
//! headers. Facts: `shared/reference/hubspot.md` §3, §6–§9.

use std::{
    collections::{BTreeMap, VecDeque},
    time::{Duration, Instant},
};

use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Map, Value};

use crate::adapters::hubspot::platform::API_VERSION;

/// One call the twin's CRM received.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub body: Value,
}

/// A portal's records.
#[derive(Debug)]
pub struct Records {
    pub groups: Vec<Value>,
    /// Contact property definitions: HubSpot's defaults and those an app created.
    pub properties: Vec<Value>,
    /// Contact id → its properties.
    pub contacts: BTreeMap<u64, Map<String, Value>>,
    pub deals: BTreeMap<u64, Map<String, Value>>,
    /// Deal id → its contacts.
    pub deal_contacts: BTreeMap<u64, Vec<u64>>,
    pub pipelines: Vec<Value>,
    pub notes: Vec<Value>,
    pub tasks: Vec<Value>,
    pub lists: Vec<Value>,
    pub calls: Vec<Call>,
    /// Requests per interval (HubSpot: 110 per 10 s for an OAuth app).
    pub limit: (usize, Duration),
    window: VecDeque<Instant>,
    next_id: u64,
}

/// Association type ids as HubSpot's labels endpoint gives them (third-party figures, §6).
const ASSOCIATION_TYPES: &[(&str, &str, u64)] = &[
    ("deals", "contacts", 3),
    ("contacts", "deals", 4),
    ("notes", "contacts", 202),
    ("notes", "deals", 214),
    ("tasks", "contacts", 204),
    ("tasks", "deals", 216),
];

/// The `type` → `fieldType`s HubSpot accepts with it (§3: the pair is enforced).
const TYPE_PAIRS: &[(&str, &[&str])] = &[
    (
        "enumeration",
        &["select", "radio", "checkbox", "booleancheckbox"],
    ),
    ("bool", &["booleancheckbox"]),
    ("date", &["date"]),
    ("datetime", &["date"]),
    ("number", &["number", "calculation_equation"]),
    ("string", &["text", "textarea", "phonenumber", "file"]),
];

impl Default for Records {
    fn default() -> Self {
        let default_property = |name: &str, kind: &str, field: &str| {
            json!({"name": name, "label": name, "type": kind, "fieldType": field,
                "groupName": "contactinformation", "options": []})
        };
        let stages = |ids: &[(&str, &str)]| -> Vec<Value> {
            ids.iter()
                .enumerate()
                .map(|(i, (id, label))| json!({"id": id, "label": label, "displayOrder": i}))
                .collect()
        };
        Self {
            groups: vec![json!({"name": "contactinformation", "label": "Contact information"})],
            properties: [
                ("firstname", "string", "text"),
                ("lastname", "string", "text"),
                ("email", "string", "text"),
                ("phone", "string", "phonenumber"),
                ("mobilephone", "string", "phonenumber"),
                ("hubspot_owner_id", "enumeration", "select"),
                ("createdate", "datetime", "date"),
            ]
            .iter()
            .map(|(n, t, f)| default_property(n, t, f))
            .collect(),
            contacts: BTreeMap::new(),
            deals: BTreeMap::new(),
            deal_contacts: BTreeMap::new(),
            pipelines: vec![
                json!({"id": "default", "label": "Sales Pipeline", "displayOrder": 0, "stages": stages(&[
                    ("appointmentscheduled", "Appointment Scheduled"),
                    ("qualifiedtobuy", "Qualified To Buy"),
                    ("presentationscheduled", "Presentation Scheduled"),
                    ("decisionmakerboughtin", "Decision Maker Bought-In"),
                    ("contractsent", "Contract Sent"),
                    ("closedwon", "Closed Won"),
                    ("closedlost", "Closed Lost"),
                ])}),
                json!({"id": "75e28846", "label": "Renewals", "displayOrder": 1, "stages": stages(&[
                    ("1034112", "Renewal Due"),
                    ("1034113", "Renewal Signed"),
                ])}),
            ],
            notes: Vec::new(),
            tasks: Vec::new(),
            lists: Vec::new(),
            calls: Vec::new(),
            limit: (110, Duration::from_secs(10)),
            window: VecDeque::new(),
            next_id: 1000,
        }
    }
}

/// HubSpot's error body (§3: `status`, `message`, `correlationId`, `category`, `errors`).
pub fn error(status: StatusCode, category: &str, message: &str) -> (StatusCode, Value) {
    (
        status,
        json!({"status": "error", "message": message, "category": category,
            "correlationId": format!("{:08x}-twin", rand::random::<u32>()),
            "errors": [{"message": message}]}),
    )
}

fn validation(message: String) -> (StatusCode, Value) {
    error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", &message)
}

fn not_found(what: &str) -> (StatusCode, Value) {
    error(
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
        &format!("{what} not found"),
    )
}

impl Records {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Counts a call against the interval's budget: `Err` with the rate-limit headers' values
    /// when spent; else the requests left.
    pub(super) fn spend(&mut self) -> Result<usize, usize> {
        let now = Instant::now();
        let (max, interval) = self.limit;
        while self.window.front().is_some_and(|t| now - *t >= interval) {
            self.window.pop_front();
        }
        if self.window.len() >= max {
            return Err(0);
        }
        self.window.push_back(now);
        Ok(max - self.window.len())
    }

    /// Sets the portal's limit (`max` requests per `interval`), its count starting afresh.
    pub fn set_limit(&mut self, max: usize, interval: Duration) {
        self.limit = (max, interval);
        self.window.clear();
    }

    pub(super) fn limit_headers(&self, left: usize) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-hubspot-ratelimit-max", self.limit.0.into());
        h.insert("x-hubspot-ratelimit-remaining", left.into());
        h.insert(
            "x-hubspot-ratelimit-interval-milliseconds",
            (self.limit.1.as_millis() as u64).into(),
        );
        h
    }

    /// Adds a contact (as a form or an import would) and returns its id.
    pub fn add_contact(&mut self, props: &Value) -> u64 {
        let id = self.id();
        let mut p = props.as_object().cloned().unwrap_or_default();
        p.insert("hs_object_id".into(), json!(id.to_string()));
        p.insert(
            "createdate".into(),
            json!(crate::clock::rfc3339(crate::clock::now_ms())),
        );
        self.contacts.insert(id, p);
        id
    }

    /// Adds a deal in `stage` with its contacts.
    pub fn add_deal(&mut self, name: &str, stage: &str, contacts: &[u64]) -> u64 {
        let id = self.id();
        let pipeline = self.pipeline_of(stage).unwrap_or_else(|| "default".into());
        let mut p = Map::new();
        p.insert("dealname".into(), json!(name));
        p.insert("dealstage".into(), json!(stage));
        p.insert("pipeline".into(), json!(pipeline));
        p.insert(
            "hs_lastmodifieddate".into(),
            json!(crate::clock::rfc3339(crate::clock::now_ms())),
        );
        self.deals.insert(id, p);
        self.deal_contacts.insert(id, contacts.to_vec());
        id
    }

    fn pipeline_of(&self, stage: &str) -> Option<String> {
        self.pipelines.iter().find_map(|p| {
            p["stages"]
                .as_array()?
                .iter()
                .any(|s| s["id"] == stage)
                .then(|| p["id"].as_str().unwrap_or_default().to_string())
        })
    }

    fn property(&self, name: &str) -> Option<&Value> {
        self.properties.iter().find(|p| p["name"] == name)
    }

    /// HubSpot's checks of a contact write: each property exists, each value fits its type.
    fn check_contact_values(&self, props: &Map<String, Value>) -> Result<(), (StatusCode, Value)> {
        for (name, value) in props {
            let Some(def) = self.property(name) else {
                return Err(validation(format!("Property \"{name}\" does not exist")));
            };
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => String::new(),
                _ => return Err(validation(format!("{name}: a property value is a string"))),
            };
            if text.is_empty() {
                continue; // clears the value
            }
            let kind = def["type"].as_str().unwrap_or_default();
            let ok = match kind {
                "enumeration" | "bool" => def["options"]
                    .as_array()
                    .is_some_and(|o| o.iter().any(|o| o["value"] == text.as_str())),
                "date" => valid_date(&text),
                "number" => !text.contains(',') && text.parse::<f64>().is_ok(),
                _ => true,
            };
            if !ok {
                return Err(validation(format!(
                    "Property values were not valid: {name}: {text:?} is not a valid {kind} value"
                )));
            }
        }
        Ok(())
    }
}

/// A date property's value: `YYYY-MM-DD`, or epoch ms at midnight UTC (§3).
fn valid_date(text: &str) -> bool {
    if let Ok(ms) = text.parse::<i64>() {
        return ms % 86_400_000 == 0;
    }
    time::Date::parse(
        text,
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .is_ok()
}

/// The API versions the twin answers: the date version this app speaks, and the legacy `v3`
/// and `v4` paths HubSpot still serves (the ones its SDKs call, with the version first).
const VERSIONS: &[&str] = &[API_VERSION, "v3", "v4"];

fn known(version: &str) -> bool {
    VERSIONS.contains(&version)
}

/// What a call did: its status and body.
pub(super) type Answer = (StatusCode, Value);

/// Answers one CRM call (the token and the budget are checked by the caller).
pub(super) fn route(
    r: &mut Records,
    method: &Method,
    path: &str,
    query: &str,
    body: &Value,
    rule: Option<&str>,
    lists_scope: bool,
) -> Answer {
    let mut segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    // A legacy path names its version first (`/crm/v3/objects/…`), a dated one second
    // (`/crm/objects/2026-03/…`): both are read in the dated order.
    if segs.len() > 1 && segs[0] != API_VERSION && known(segs[0]) {
        segs.swap(0, 1);
    }
    let answer = match (method.as_str(), segs.as_slice()) {
        ("GET", ["properties", ver, "contacts"]) if known(ver) => {
            (StatusCode::OK, json!({"results": r.properties}))
        }
        ("POST", ["properties", ver, "contacts"]) if known(ver) => create_property(r, body),
        ("GET", ["properties", ver, "contacts", "groups", name]) if known(ver) => {
            match r.groups.iter().find(|g| g["name"] == *name) {
                Some(g) => (StatusCode::OK, g.clone()),
                None => not_found("property group"),
            }
        }
        ("POST", ["properties", ver, "contacts", "groups"]) if known(ver) => {
            let name = body["name"].as_str().unwrap_or_default();
            if name.is_empty() || body["label"].as_str().is_none() {
                validation("a group needs a name and a label".into())
            } else if r.groups.iter().any(|g| g["name"] == name) {
                error(StatusCode::CONFLICT, "OBJECT_ALREADY_EXISTS", &format!("A property group named '{name}' already exists"))
            } else {
                r.groups.push(body.clone());
                (StatusCode::CREATED, body.clone())
            }
        }
        ("GET", ["objects", ver, "contacts", id]) if known(ver) => {
            match id.parse().ok().and_then(|id| r.contacts.get(&id).map(|c| (id, c))) {
                Some((id, c)) => (StatusCode::OK, object(id, c, query)),
                None => not_found("contact"),
            }
        }
        ("PATCH", ["objects", ver, "contacts", id]) if known(ver) => {
            let props = body["properties"].as_object().cloned().unwrap_or_default();
            let Some(id) = id.parse::<u64>().ok().filter(|id| r.contacts.contains_key(id)) else {
                return not_found("contact");
            };
            if let Some(rule) = rule.filter(|p| props.contains_key(*p)) {
                return validation(format!("A validation rule of this account refuses changes to {rule}"));
            }
            if let Err(e) = r.check_contact_values(&props) {
                return e;
            }
            let c = r.contacts.get_mut(&id).expect("checked");
            for (k, val) in props {
                c.insert(k, val);
            }
            (StatusCode::OK, object(id, &c.clone(), ""))
        }
        ("GET", ["objects", ver, "deals", id]) if known(ver) => {
            match id.parse().ok().and_then(|id| r.deals.get(&id).map(|d| (id, d))) {
                Some((id, d)) => (StatusCode::OK, object(id, d, query)),
                None => not_found("deal"),
            }
        }
        ("PATCH", ["objects", ver, "deals", id]) if known(ver) => patch_deal(r, id, body, rule),
        ("POST", ["objects", ver, object @ ("contacts" | "deals"), "search"]) if known(ver) => {
            let records = if *object == "contacts" { &r.contacts } else { &r.deals };
            match super::search::run(records, body) {
                Ok(found) => (StatusCode::OK, found),
                Err(why) => validation(why.into()),
            }
        }
        ("POST", ["objects", ver, kind @ ("notes" | "tasks")]) if known(ver) => {
            engagement(r, kind, body)
        }
        ("GET", ["pipelines", ver, "deals"]) if known(ver) => {
            (StatusCode::OK, json!({"results": r.pipelines}))
        }
        ("GET", ["associations", ver, from, to, "labels"]) if known(ver) => {
            let results: Vec<Value> = ASSOCIATION_TYPES
                .iter()
                .filter(|(f, t, _)| f == from && t == to)
                .map(|(_, _, id)| json!({"category": "HUBSPOT_DEFINED", "typeId": id, "label": null}))
                .collect();
            (StatusCode::OK, json!({"results": results}))
        }
        ("POST", ["associations", ver, "deals", "contacts", "batch", "read"]) if known(ver) => {
            let results: Vec<Value> = body["inputs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["id"].as_str()?.parse::<u64>().ok())
                .filter_map(|id| {
                    let to = r.deal_contacts.get(&id)?;
                    Some(json!({"from": {"id": id.to_string()}, "to": to.iter().map(|c| json!({
                        "toObjectId": c, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 3, "label": null}]
                    })).collect::<Vec<_>>()}))
                })
                .collect();
            (StatusCode::OK, json!({"status": "COMPLETE", "results": results}))
        }
        (_, ["lists", ..]) if !lists_scope => error(
            StatusCode::FORBIDDEN,
            "MISSING_SCOPES",
            "This app hasn't been granted all required scopes to make this call. It requires one of: crm.lists.write",
        ),
        ("GET", ["lists", ver, "object-type-id", object_type, "name", name]) if known(ver) => {
            let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
            match r.lists.iter().find(|l| l["name"] == name.as_ref() && l["objectTypeId"] == *object_type) {
                Some(l) => (StatusCode::OK, json!({"list": l})),
                None => not_found("list"),
            }
        }
        ("POST", ["lists", ver]) if known(ver) => create_list(r, body),
        _ => error(StatusCode::NOT_FOUND, "NOT_FOUND", &format!("no route {method} {path}")),
    };
    answer
}

/// A record as HubSpot returns it, with the properties the query asks for (all, if none).
fn object(id: u64, props: &Map<String, Value>, query: &str) -> Value {
    let asked: Option<Vec<String>> = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "properties")
        .map(|(_, v)| v.split(',').map(str::to_string).collect());
    let shown: Map<String, Value> = match asked {
        Some(names) => names
            .into_iter()
            .map(|n| {
                let v = props.get(&n).cloned().unwrap_or(Value::Null);
                (n, v)
            })
            .collect(),
        None => props.clone(),
    };
    json!({"id": id.to_string(), "properties": shown, "archived": false,
        "createdAt": "2026-11-01T00:00:00Z", "updatedAt": crate::clock::rfc3339(crate::clock::now_ms())})
}

fn create_property(r: &mut Records, body: &Value) -> Answer {
    let name = body["name"].as_str().unwrap_or_default();
    let kind = body["type"].as_str().unwrap_or_default();
    let field = body["fieldType"].as_str().unwrap_or_default();
    let group = body["groupName"].as_str().unwrap_or_default();
    if name.is_empty() || body["label"].as_str().is_none() || kind.is_empty() || field.is_empty() {
        return validation("name, label, type and fieldType are required".into());
    }
    if !TYPE_PAIRS
        .iter()
        .any(|(t, fields)| *t == kind && fields.contains(&field))
    {
        return validation(format!("type {kind} cannot have fieldType {field}"));
    }
    if !r.groups.iter().any(|g| g["name"] == group) {
        return validation(format!("property group {group:?} does not exist"));
    }
    if matches!(kind, "enumeration" | "bool")
        && body["options"].as_array().is_none_or(|o| o.is_empty())
    {
        return validation(format!("an {kind} property needs options"));
    }
    if r.property(name).is_some() {
        return error(
            StatusCode::CONFLICT,
            "OBJECT_ALREADY_EXISTS",
            &format!("A property named '{name}' already exists"),
        );
    }
    r.properties.push(body.clone());
    (StatusCode::CREATED, body.clone())
}

fn patch_deal(r: &mut Records, id: &str, body: &Value, rule: Option<&str>) -> Answer {
    let props = body["properties"].as_object().cloned().unwrap_or_default();
    let Some(id) = id.parse::<u64>().ok().filter(|id| r.deals.contains_key(id)) else {
        return not_found("deal");
    };
    if let Some(rule) = rule.filter(|p| props.contains_key(*p)) {
        return validation(format!(
            "A validation rule of this account refuses changes to {rule}"
        ));
    }
    if let Some(stage) = props.get("dealstage").and_then(Value::as_str) {
        let Some(pipeline) = r.pipeline_of(stage) else {
            return validation(format!("{stage:?} is not a valid deal stage"));
        };
        // A stage outside the deal's pipeline needs `pipeline` too (§6).
        let current = r.deals[&id]["pipeline"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        let given = props
            .get("pipeline")
            .and_then(Value::as_str)
            .unwrap_or(&current);
        if given != pipeline {
            return validation(format!(
                "deal stage {stage:?} is not in pipeline {given:?}: set pipeline as well"
            ));
        }
    }
    let d = r.deals.get_mut(&id).expect("checked");
    for (k, val) in props {
        d.insert(k, val);
    }
    d.insert(
        "hs_lastmodifieddate".into(),
        json!(crate::clock::rfc3339(crate::clock::now_ms())),
    );
    (StatusCode::OK, object(id, &d.clone(), ""))
}

fn engagement(r: &mut Records, kind: &str, body: &Value) -> Answer {
    let props = &body["properties"];
    if props["hs_timestamp"].as_str().is_none_or(str::is_empty) {
        return validation("hs_timestamp is required".into());
    }
    if kind == "notes"
        && props["hs_note_body"]
            .as_str()
            .is_none_or(|b| b.len() > 65_536)
    {
        return validation("hs_note_body is required, at most 65536 characters".into());
    }
    if kind == "tasks" && props["hs_task_subject"].as_str().is_none() {
        return validation("hs_task_subject is required".into());
    }
    for a in body["associations"].as_array().into_iter().flatten() {
        let to = a["to"]["id"].as_str().and_then(|i| i.parse::<u64>().ok());
        let Some(t) = a["types"][0]["associationTypeId"].as_u64() else {
            return validation("an association needs its type".into());
        };
        let Some((_, object, _)) = ASSOCIATION_TYPES
            .iter()
            .find(|(f, _, id)| *f == kind && *id == t)
        else {
            return validation(format!("association type {t} does not exist for {kind}"));
        };
        let exists = match (*object, to) {
            ("contacts", Some(id)) => r.contacts.contains_key(&id),
            ("deals", Some(id)) => r.deals.contains_key(&id),
            _ => false,
        };
        if !exists {
            return validation(format!("the {object} record to associate does not exist"));
        }
    }
    let id = r.id();
    let mut stored = body.clone();
    stored["id"] = json!(id.to_string());
    match kind {
        "notes" => r.notes.push(stored.clone()),
        _ => r.tasks.push(stored.clone()),
    }
    (StatusCode::CREATED, stored)
}

fn create_list(r: &mut Records, body: &Value) -> Answer {
    let name = body["name"].as_str().unwrap_or_default();
    if name.is_empty() || body["objectTypeId"].as_str().is_none() {
        return validation("name and objectTypeId are required".into());
    }
    if !matches!(
        body["processingType"].as_str(),
        Some("DYNAMIC" | "MANUAL" | "SNAPSHOT")
    ) {
        return validation("processingType is DYNAMIC, MANUAL or SNAPSHOT".into());
    }
    if body["processingType"] == "DYNAMIC" && body["filterBranch"]["filterBranchType"] != "OR" {
        return validation("a dynamic list's filterBranch is an OR branch".into());
    }
    if r.lists.iter().any(|l| l["name"] == name) {
        return validation(format!("A list named '{name}' already exists"));
    }
    let id = r.id();
    let mut list = body.clone();
    list["listId"] = json!(id.to_string());
    r.lists.push(list.clone());
    (StatusCode::OK, json!({"list": list}))
}
