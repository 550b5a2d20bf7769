//! The Freshdesk REST API v2 client (`https://{domain}.freshdesk.com/api/v2`, HTTP Basic with
//! the agent's API key): contacts, contact fields, ticket notes. Facts and what is UNCONFIRMED:
//! `../shared/reference/freshdesk-freshchat.md` §2.

mod crm;

pub use crm::freshdesk_type;

use std::time::Duration;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use crate::ports::CrmError;

/// The Basic credentials: the key as user name and a conventional password. UNCONFIRMED
/// whether Freshdesk also takes the key alone; `key:X` is what its own samples send.
pub const BASIC_PASSWORD: &str = "X";

/// The API root of a Freshdesk domain (`acme` or `acme.freshdesk.com`). Only Freshdesk's own
/// domains serve the API, not a custom CNAME.
pub fn api_base_for_domain(domain: &str) -> Result<String, String> {
    let d = domain
        .trim()
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .trim_end_matches(".freshdesk.com")
        .to_ascii_lowercase();
    let ok = !d.is_empty()
        && d.len() <= 63
        && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !d.starts_with('-');
    if !ok {
        return Err(format!(
            "{domain:?} is not a Freshdesk domain: use the name before .freshdesk.com"
        ));
    }
    Ok(format!("https://{d}.freshdesk.com/api/v2"))
}

/// The API root for the account address an admin installs from (`https://acme.freshdesk.com`).
/// `allow_any` takes any http(s) address and appends `/api/v2` (simulators on loopback).
pub fn api_base_for_account(account_url: &str, allow_any: bool) -> Result<String, String> {
    let bad = || {
        "account_url must be your Freshdesk address, e.g. https://acme.freshdesk.com (a custom domain does not serve the API)"
            .to_string()
    };
    let url = url::Url::parse(account_url.trim()).map_err(|_| bad())?;
    let host = url.host_str().ok_or_else(bad)?.to_ascii_lowercase();
    if url.query().is_some() || !url.username().is_empty() {
        return Err(bad());
    }
    if url.scheme() == "https" && url.port().is_none() && host.ends_with(".freshdesk.com") {
        return api_base_for_domain(&host).map_err(|_| bad());
    }
    // A Freshsales address is never a Freshdesk account, even where any address is allowed.
    if host.ends_with(".myfreshworks.com") || host.ends_with(".freshsales.io") {
        return Err(bad());
    }
    if allow_any && matches!(url.scheme(), "http" | "https") {
        return Ok(format!("{}/api/v2", url.as_str().trim_end_matches('/')));
    }
    Err(bad())
}

/// A contact field as `GET /contact_fields` lists it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ContactField {
    /// The API name to use in `custom_fields` (read, never built).
    pub name: String,
    #[serde(default)]
    pub label: String,
    /// `custom_text`, `custom_dropdown`, `custom_date`… (default fields have other types).
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub default: bool,
    #[serde(default)]
    pub choices: Value,
}

/// A Freshdesk contact as read.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Contact {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub mobile: Option<String>,
    #[serde(default)]
    pub custom_fields: serde_json::Map<String, Value>,
}

#[derive(Clone)]
pub struct FreshdeskClient {
    base: String,
    key: SecretString,
    http: reqwest::Client,
    /// The account's contact fields, read once per client (clients are rebuilt when a
    /// tenant's connection changes, and cached with the tenant's TTL).
    fields: std::sync::Arc<parking_lot::Mutex<Option<Vec<ContactField>>>>,
}

impl std::fmt::Debug for FreshdeskClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreshdeskClient")
            .field("base", &self.base)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl FreshdeskClient {
    pub fn new(base: &str, key: SecretString, timeout: Duration) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            key,
            http: crate::adapters::http_client(timeout),
            fields: Default::default(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// One call; errors mapped to what an operator or agent can act on.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Value, CrmError> {
        let basic = STANDARD.encode(format!("{}:{BASIC_PASSWORD}", self.key.expose_secret()));
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", format!("Basic {basic}"))
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req.json(b);
        }
        let unreachable = |e: reqwest::Error| {
            if e.is_timeout() {
                CrmError::Unavailable("Freshdesk did not answer in time".into())
            } else {
                CrmError::Unavailable(format!(
                    "Freshdesk could not be reached: {}",
                    crate::adapters::without_url(&e)
                ))
            }
        };
        let res = req.send().await.map_err(unreachable)?;
        let status = res.status();
        let retry_after = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let text = res.text().await.map_err(unreachable)?;
        let message = error_message(&text);
        match status {
            s if s.is_success() => {
                if text.trim().is_empty() {
                    Ok(Value::Null)
                } else {
                    serde_json::from_str(&text).map_err(|e| {
                        CrmError::Protocol(format!("Freshdesk sent an answer we cannot read: {e}"))
                    })
                }
            }
            StatusCode::UNAUTHORIZED => Err(CrmError::Unauthorized(
                "Freshdesk refused the API key (401): use an agent's API key from Profile settings"
                    .into(),
            )),
            StatusCode::FORBIDDEN => Err(CrmError::Unauthorized(format!(
                "Freshdesk refused this call for the key's agent (403: {message}); the agent needs \
                 admin rights for contact fields, or the feature is off"
            ))),
            StatusCode::NOT_FOUND => Err(CrmError::NotFound(format!(
                "Freshdesk has no {what} (404): check the id, or the domain if every call fails"
            ))),
            StatusCode::TOO_MANY_REQUESTS => Err(CrmError::RateLimited {
                retry_after_secs: retry_after.unwrap_or(60),
                message: format!(
                    "Freshdesk's rate limit is reached; retry after {} s",
                    retry_after.unwrap_or(60)
                ),
            }),
            s if s.is_server_error() => Err(CrmError::Unavailable(format!(
                "Freshdesk answered {}; retrying later",
                s.as_u16()
            ))),
            s => Err(CrmError::Unprocessable(format!(
                "Freshdesk refused the {what} ({}): {message}",
                s.as_u16()
            ))),
        }
    }

    pub async fn view_contact(&self, id: u64) -> Result<Contact, CrmError> {
        let v = self
            .call(
                Method::GET,
                &format!("/contacts/{id}"),
                None,
                &format!("contact {id}"),
            )
            .await?;
        serde_json::from_value(v)
            .map_err(|e| CrmError::Protocol(format!("a Freshdesk contact we cannot read: {e}")))
    }

    /// The account's contact fields (read once per client, again after [`Self::forget_fields`]).
    pub async fn contact_fields(&self) -> Result<Vec<ContactField>, CrmError> {
        if let Some(f) = self.fields.lock().clone() {
            return Ok(f);
        }
        let read = self.read_contact_fields().await?;
        *self.fields.lock() = Some(read.clone());
        Ok(read)
    }

    /// Reads the fields again on next use (after creating one).
    pub fn forget_fields(&self) {
        *self.fields.lock() = None;
    }

    async fn read_contact_fields(&self) -> Result<Vec<ContactField>, CrmError> {
        let v = self
            .call(Method::GET, "/contact_fields", None, "contact fields")
            .await?;
        serde_json::from_value(v).map_err(|e| {
            CrmError::Protocol(format!("Freshdesk contact fields we cannot read: {e}"))
        })
    }

    /// `PUT /contacts/{id}` with `custom_fields` (flat body, no wrapper).
    pub async fn update_custom_fields(
        &self,
        id: u64,
        fields: &serde_json::Map<String, Value>,
    ) -> Result<(), CrmError> {
        let body = serde_json::json!({ "custom_fields": fields });
        self.call(
            Method::PUT,
            &format!("/contacts/{id}"),
            Some(&body),
            &format!("contact {id}"),
        )
        .await?;
        Ok(())
    }

    /// `GET /tickets/{id}`: the ticket's `requester_id`.
    pub async fn ticket_requester(&self, id: u64) -> Result<u64, CrmError> {
        let v = self
            .call(
                Method::GET,
                &format!("/tickets/{id}"),
                None,
                &format!("ticket {id}"),
            )
            .await?;
        v.get("requester_id")
            .and_then(Value::as_u64)
            .ok_or_else(|| CrmError::Protocol(format!("ticket {id} has no requester_id")))
    }

    /// A private note on a ticket (visible to agents only).
    pub async fn add_private_note(&self, ticket: u64, text: &str) -> Result<u64, CrmError> {
        let body = serde_json::json!({ "body": super::note_html::escape(text), "private": true });
        let v = self
            .call(
                Method::POST,
                &format!("/tickets/{ticket}/notes"),
                Some(&body),
                &format!("ticket {ticket}"),
            )
            .await?;
        v.get("id")
            .and_then(Value::as_u64)
            .ok_or_else(|| CrmError::Protocol("the new note has no id".into()))
    }

    /// `POST /admin/contact_fields` (needs an admin's key).
    pub async fn post_contact_field(&self, body: &Value) -> Result<(), CrmError> {
        self.call(
            Method::POST,
            "/admin/contact_fields",
            Some(body),
            "contact field",
        )
        .await?;
        Ok(())
    }
}

/// Freshdesk's error body: `{"description", "errors": [{"field", "message", "code"}]}`, or only
/// `description` / `message`.
fn error_message(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return body.chars().take(200).collect();
    };
    let details: Vec<String> = v
        .get("errors")
        .and_then(Value::as_array)
        .map(|errs| {
            errs.iter()
                .map(|e| {
                    let field = e.get("field").and_then(Value::as_str).unwrap_or("");
                    let msg = e
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("invalid");
                    if field.is_empty() {
                        msg.to_string()
                    } else {
                        format!("{field}: {msg}")
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let head = v
        .get("description")
        .or_else(|| v.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("");
    match (head.is_empty(), details.is_empty()) {
        (_, false) => format!("{head} ({})", details.join("; "))
            .trim()
            .to_string(),
        (false, true) => head.to_string(),
        (true, true) => body.chars().take(200).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_install_from_freshdesk_reaches_its_api_on_freshdesks_own_domain() {
        assert_eq!(
            api_base_for_account("https://Acme.freshdesk.com/", false).unwrap(),
            "https://acme.freshdesk.com/api/v2"
        );
        for bad in [
            "http://acme.freshdesk.com",
            "https://support.acme.com",
            "https://acme.freshdesk.com?x=1",
            "https://acme.myfreshworks.com",
        ] {
            assert!(api_base_for_account(bad, false).is_err(), "{bad}");
        }
        for freshsales in [
            "https://acme.myfreshworks.com",
            "https://acme.myfreshworks.com/crm/sales",
            "https://acme.freshsales.io",
        ] {
            assert!(
                api_base_for_account(freshsales, true).is_err(),
                "{freshsales}"
            );
        }
        assert_eq!(
            api_base_for_account("http://127.0.0.1:9/d/acme", true).unwrap(),
            "http://127.0.0.1:9/d/acme/api/v2"
        );
    }

    #[test]
    fn reads_freshdesk_error_bodies() {
        assert_eq!(
            error_message(
                r#"{"description":"Validation failed","errors":[{"field":"cf_idv_status","message":"Unexpected/invalid field in request","code":"invalid_field"}]}"#
            ),
            "Validation failed (cf_idv_status: Unexpected/invalid field in request)"
        );
        assert_eq!(error_message(r#"{"message":"nope"}"#), "nope");
        assert_eq!(error_message("plain"), "plain");
    }

    #[test]
    fn only_freshdesk_domains_are_api_hosts() {
        assert_eq!(
            api_base_for_domain("Acme").unwrap(),
            "https://acme.freshdesk.com/api/v2"
        );
        assert_eq!(
            api_base_for_domain("https://acme.freshdesk.com/").unwrap(),
            "https://acme.freshdesk.com/api/v2"
        );
        assert!(api_base_for_domain("support.acme.com").is_err());
        assert!(api_base_for_domain("").is_err());
    }
}
