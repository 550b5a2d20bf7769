//! Freshsales (Freshworks CRM) REST client: `Authorization: Token token={key}` (not Bearer),
//! custom fields under `custom_field` with `cf_` keys. Every error maps to a message an admin
//! can act on.

mod crm;
mod setup;
mod views;

use std::time::Duration;

pub use crate::domain::phone::{normalise_phone, PhoneError};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
pub use setup::CONTACT_FIELDS_BY_API;
pub use views::{ALL_CONTACTS_VIEW, ALL_DEALS_VIEW};

use crate::ports::crm::ContactUpsert;

/// The API root for a bundle alias. Hosted accounts live at `{alias}.myfreshworks.com`.
pub fn base_url_for_alias(alias: &str) -> String {
    format!("https://{alias}.myfreshworks.com/crm/sales/api")
}

/// The Freshsales API root for an account URL, if the URL is acceptable.
pub fn api_base_for_account(account_url: &str, allow_any: bool) -> Result<String, String> {
    let bad = || {
        "account_url must be your Freshsales address, e.g. https://acme.myfreshworks.com"
            .to_string()
    };
    let url = url::Url::parse(account_url.trim()).map_err(|_| bad())?;
    let host = url.host_str().ok_or_else(bad)?.to_ascii_lowercase();
    let hosted = url.scheme() == "https"
        && (host.ends_with(".myfreshworks.com") || host.ends_with(".freshsales.io"))
        && url.port().is_none();
    let simulated = allow_any && matches!(url.scheme(), "http" | "https");
    if !(hosted || simulated) || url.query().is_some() || !url.username().is_empty() {
        return Err(bad());
    }
    Ok(format!(
        "{}/crm/sales/api",
        url.as_str().trim_end_matches('/')
    ))
}

/// The custom module holding one record per verification session.
/// UNCONFIRMED: the admin creates it; its API name is set here.
pub const HISTORY_MODULE: &str = crate::domain::setup::HISTORY_MODULE.name;

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum FsError {
    #[error("Freshsales refused the API key (HTTP {0}): the key is wrong or lacks rights (the header is Token token=…, not Bearer)")]
    Unauthorized(u16),
    #[error("Freshsales has no {0}")]
    NotFound(String),
    #[error("Freshsales rejected the request: {0}")]
    Unprocessable(String),
    #[error("Freshsales rate limit reached; retry after {0} s")]
    RateLimited(u64),
    #[error("Freshsales answered HTTP {0}; retrying later")]
    Unavailable(u16),
    #[error("Freshsales did not answer in time")]
    Timeout,
    #[error("Freshsales could not be reached: {0}")]
    Unreachable(String),
    #[error("Freshsales sent an answer we cannot read: {0}")]
    Protocol(String),
}

impl FsError {
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RateLimited(_) | Self::Unavailable(_) | Self::Timeout | Self::Unreachable(_)
        )
    }

    /// The wait the server asked for, if any.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited(s) => Some(*s),
            _ => None,
        }
    }
}

/// A contact as the engine needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub id: u64,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub mobile_number: Option<String>,
    #[serde(default)]
    pub work_number: Option<String>,
    #[serde(default)]
    pub custom_field: Map<String, Value>,
    #[serde(default)]
    pub owner_id: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deal {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub deal_stage_id: Option<u64>,
    /// The first is the primary contact. UNCONFIRMED field name; see `primary_contact`.
    #[serde(default)]
    pub contact_ids: Vec<u64>,
}

impl Deal {
    pub fn primary_contact(&self) -> Option<u64> {
        self.contact_ids.first().copied()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DealStage {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub position: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    #[serde(default)]
    pub label: Option<String>,
    /// The field's type (`dropdown`, `date`, `number`, `text`…).
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub choices: Vec<Choice>,
}

/// A dropdown choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
}

/// A note or task target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Contact(u64),
    Deal(u64),
}

impl Target {
    fn parts(self) -> (&'static str, u64) {
        match self {
            Self::Contact(id) => ("Contact", id),
            Self::Deal(id) => ("Deal", id),
        }
    }
}

/// The contact of an upsert, and whether the upsert created it (201) or found it (200).
#[derive(Debug, Clone, PartialEq)]
pub struct UpsertAnswer {
    pub contact: Contact,
    pub created: bool,
}

/// The contact field marketing consent goes in, and its values. UNCONFIRMED (a vendor's
/// integration guide, not Freshworks' documentation): `subscription_status` with `subscribed`
/// or `unsubscribed`.
pub const SUBSCRIPTION_FIELD: &str = "subscription_status";

pub fn subscription_status(consent: bool) -> &'static str {
    if consent {
        "subscribed"
    } else {
        "unsubscribed"
    }
}

#[derive(Clone)]
pub struct FreshsalesClient {
    base: String,
    key: SecretString,
    http: reqwest::Client,
    /// The ids of the list views read so far (`contacts`, `deals` → the view of all records).
    views: std::sync::Arc<parking_lot::Mutex<std::collections::HashMap<&'static str, u64>>>,
}

impl std::fmt::Debug for FreshsalesClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreshsalesClient")
            .field("base", &self.base)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl FreshsalesClient {
    pub fn new(base: &str, key: SecretString, timeout: Duration) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            key,
            http: crate::adapters::http_client(timeout),
            views: Default::default(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        what: &str,
    ) -> Result<Value, FsError> {
        self.exchange(method, path, body, what)
            .await
            .map(|(_, v)| v)
    }

    /// One call: the answer's status and body, or the error an admin can act on.
    async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        what: &str,
    ) -> Result<(StatusCode, Value), FsError> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(
                "Authorization",
                format!("Token token={}", self.key.expose_secret()),
            )
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.map_err(|e| {
            if e.is_timeout() {
                FsError::Timeout
            } else {
                FsError::Unreachable(crate::adapters::without_url(&e))
            }
        })?;
        let status = res.status();
        let retry_after = retry_after(res.headers());
        let text = res.text().await.map_err(|e| {
            if e.is_timeout() {
                FsError::Timeout
            } else {
                FsError::Unreachable(crate::adapters::without_url(&e))
            }
        })?;
        match status {
            s if s.is_success() => {
                if text.trim().is_empty() {
                    Ok((s, Value::Null))
                } else {
                    serde_json::from_str(&text)
                        .map(|v| (s, v))
                        .map_err(|e| FsError::Protocol(e.to_string()))
                }
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                Err(FsError::Unauthorized(status.as_u16()))
            }
            StatusCode::NOT_FOUND => Err(FsError::NotFound(what.to_string())),
            StatusCode::TOO_MANY_REQUESTS => Err(FsError::RateLimited(retry_after.unwrap_or(60))),
            s if s.is_server_error() => Err(FsError::Unavailable(s.as_u16())),
            _ => Err(FsError::Unprocessable(error_message(&text))),
        }
    }

    fn field<T: for<'de> Deserialize<'de>>(v: Value, key: &str) -> Result<T, FsError> {
        let inner = v
            .get(key)
            .cloned()
            .ok_or_else(|| FsError::Protocol(format!("no `{key}` in the answer")))?;
        serde_json::from_value(inner).map_err(|e| FsError::Protocol(e.to_string()))
    }

    pub async fn view_contact(&self, id: u64) -> Result<Contact, FsError> {
        let v = self
            .call(
                Method::GET,
                &format!("/contacts/{id}"),
                None,
                &format!("contact {id}"),
            )
            .await?;
        Self::field(v, "contact")
    }

    /// Writes custom fields (`cf_…` keys) on a contact.
    pub async fn update_contact_fields(
        &self,
        id: u64,
        fields: &Map<String, Value>,
    ) -> Result<(), FsError> {
        let body = json!({ "contact": { "custom_field": fields } });
        self.call(
            Method::PUT,
            &format!("/contacts/{id}"),
            Some(body),
            &format!("contact {id}"),
        )
        .await?;
        Ok(())
    }

    /// `POST /contacts/upsert` matched on `emails`: finds the contact with this email and sets
    /// the given fields, or creates it (201; both names needed, else 422). The body's shape is
    /// `{"unique_identifier": {"emails": …}, "contact": {…}}`; the created contact takes the
    /// email of the identifier (UNCONFIRMED: no `email` is sent in `contact`, so an existing
    /// contact's primary email is never changed).
    pub async fn upsert_contact(
        &self,
        email: &str,
        fields: &ContactUpsert,
    ) -> Result<UpsertAnswer, FsError> {
        let mut contact = Map::new();
        for (key, value) in [
            ("first_name", &fields.first_name),
            ("last_name", &fields.last_name),
            ("mobile_number", &fields.phone),
        ] {
            if let Some(v) = value {
                contact.insert(key.into(), json!(v));
            }
        }
        if let Some(consent) = fields.marketing_consent {
            contact.insert(
                SUBSCRIPTION_FIELD.into(),
                json!(subscription_status(consent)),
            );
        }
        let body = json!({ "unique_identifier": { "emails": email }, "contact": contact });
        let (status, v) = self
            .exchange(Method::POST, "/contacts/upsert", Some(body), "contact")
            .await?;
        Ok(UpsertAnswer {
            contact: Self::field(v, "contact")?,
            created: status == StatusCode::CREATED,
        })
    }

    pub async fn view_deal(&self, id: u64) -> Result<Deal, FsError> {
        let v = self
            .call(
                Method::GET,
                &format!("/deals/{id}"),
                None,
                &format!("deal {id}"),
            )
            .await?;
        Self::field(v, "deal")
    }

    pub async fn update_deal_stage(&self, id: u64, stage_id: u64) -> Result<(), FsError> {
        let body = json!({ "deal": { "deal_stage_id": stage_id } });
        self.call(
            Method::PUT,
            &format!("/deals/{id}"),
            Some(body),
            &format!("deal {id}"),
        )
        .await?;
        Ok(())
    }

    pub async fn deal_stages(&self) -> Result<Vec<DealStage>, FsError> {
        let v = self
            .call(
                Method::GET,
                "/selector/deal_stages",
                None,
                "deal stage list",
            )
            .await?;
        Self::field(v, "deal_stages")
    }

    pub async fn create_note(&self, target: Target, description: &str) -> Result<u64, FsError> {
        let (t, id) = target.parts();
        let body = json!({ "note": { "description": crate::adapters::note_html::escape(description), "targetable_type": t, "targetable_id": id } });
        let v = self
            .call(Method::POST, "/notes", Some(body), "note")
            .await?;
        id_of(&v, "note")
    }

    pub async fn create_task(
        &self,
        target: Target,
        title: &str,
        description: &str,
        due_date: &str,
        owner: Option<u64>,
    ) -> Result<u64, FsError> {
        let (t, id) = target.parts();
        let mut body = json!({ "task": {
            "title": title, "description": description, "due_date": due_date,
            "targetable_type": t, "targetable_id": id,
        } });
        if let Some(owner) = owner {
            body["task"]["owner_id"] = json!(owner);
        }
        let v = self
            .call(Method::POST, "/tasks", Some(body), "task")
            .await?;
        id_of(&v, "task")
    }

    pub async fn create_module_record(&self, module: &str, record: &Value) -> Result<u64, FsError> {
        let body = json!({ module: record });
        let v = self
            .call(
                Method::POST,
                &format!("/custom_module/{module}"),
                Some(body),
                &format!("custom module {module}"),
            )
            .await?;
        id_of(&v, module)
    }

    pub async fn update_module_record(
        &self,
        module: &str,
        id: u64,
        record: &Value,
    ) -> Result<(), FsError> {
        let body = json!({ module: record });
        self.call(
            Method::PUT,
            &format!("/custom_module/{module}/{id}"),
            Some(body),
            &format!("{module} record {id}"),
        )
        .await?;
        Ok(())
    }

    pub async fn contact_fields(&self) -> Result<Vec<Field>, FsError> {
        let v = self
            .call(
                Method::GET,
                "/settings/contacts/fields",
                None,
                "API root (is the bundle alias right?)",
            )
            .await?;
        Self::field(v, "fields")
    }
}

fn id_of(v: &Value, key: &str) -> Result<u64, FsError> {
    v.get(key)
        .and_then(|o| o.get("id"))
        .and_then(Value::as_u64)
        .ok_or_else(|| FsError::Protocol(format!("no {key}.id in the answer")))
}

/// `Retry-After` seconds, else the rate-limit reset header. UNCONFIRMED header names.
fn retry_after(h: &reqwest::header::HeaderMap) -> Option<u64> {
    let num = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    num("retry-after").or_else(|| num("x-ratelimit-reset"))
}

/// Freshsales' error body: `{"errors":{"code":422,"message":["…"]}}` (other shapes UNCONFIRMED).
fn error_message(body: &str) -> String {
    let v: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(_) => return body.chars().take(200).collect(),
    };
    let msg = v.pointer("/errors/message").or_else(|| v.get("message"));
    match msg {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("; "),
        Some(Value::String(s)) => s.clone(),
        _ => body.chars().take(200).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_freshsales_error_bodies() {
        assert_eq!(
            error_message(
                r#"{"errors":{"code":422,"message":["First name is required","Last name is required"]}}"#
            ),
            "First name is required; Last name is required"
        );
        assert_eq!(error_message(r#"{"message":"nope"}"#), "nope");
        assert_eq!(error_message("plain"), "plain");
    }
}
