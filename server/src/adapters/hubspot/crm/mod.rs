//! HubSpot's CRM API as the [`crate::ports::Crm`] port: contacts' `idv_*` properties in the
//! group *Identity Verification*, deals and their pipelines, associations (their type ids read
//! from the labels endpoint), notes, tasks and the marketing-suppression list. Every call
//! carries the tenant's OAuth access token (the tenant service renews it before it ends).
//! Facts: `shared/reference/hubspot.md` §3, §6–§8.

mod port;
pub mod properties;
mod search;

use std::{collections::HashMap, sync::Arc, time::Duration};

use parking_lot::Mutex;
use reqwest::{header::HeaderMap, Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use crate::{
    adapters::{http_client, without_url},
    ports::{crm::LimitSeen, CrmError},
};

/// A client for one HubSpot account (portal), with one access token.
#[derive(Clone)]
pub struct HubSpotCrm {
    base: String,
    token: SecretString,
    http: reqwest::Client,
    /// Association type ids read from the labels endpoint, by `(from, to)`.
    association_types: Arc<Mutex<HashMap<(&'static str, &'static str), u64>>>,
    /// What the last rate-limit headers said.
    last_limit: Arc<Mutex<Option<LimitSeen>>>,
}

impl std::fmt::Debug for HubSpotCrm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubSpotCrm")
            .field("base", &self.base)
            .field("token", &"[redacted]")
            .finish()
    }
}

/// HubSpot's error answer (C: every field optional).
#[derive(Debug, Default, Deserialize)]
struct ErrorAnswer {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    errors: Vec<ErrorDetail>,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: Option<String>,
}

impl ErrorAnswer {
    fn read(text: &str) -> Self {
        serde_json::from_str(text).unwrap_or_default()
    }

    fn message(&self) -> String {
        let mut parts: Vec<&str> = self.message.iter().map(String::as_str).collect();
        parts.extend(self.errors.iter().filter_map(|e| e.message.as_deref()));
        parts.dedup();
        let text = parts.join("; ");
        if text.is_empty() {
            "no message".into()
        } else {
            text.chars().take(400).collect()
        }
    }

    fn category(&self) -> &str {
        self.category.as_deref().unwrap_or("")
    }
}

/// The wait a 429 asks for: `Retry-After` if sent, else the rest of the interval HubSpot's
/// headers name, else its 10-second window.
fn retry_after(headers: &HeaderMap) -> u64 {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    number("retry-after")
        .or_else(|| number("x-hubspot-ratelimit-interval-milliseconds").map(|ms| ms.div_ceil(1000)))
        .unwrap_or(10)
        .max(1)
}

/// An error answer as a [`CrmError`] that says what to fix.
fn error_of(status: StatusCode, headers: &HeaderMap, text: &str, what: &str) -> CrmError {
    let answer = ErrorAnswer::read(text);
    let message = answer.message();
    match status.as_u16() {
        401 => CrmError::Unauthorized(format!(
            "HubSpot refused the access token for the {what} ({}): the app was uninstalled or \
             its grant ended; an admin installs it again from the install link",
            if answer.category().is_empty() {
                "HTTP 401"
            } else {
                answer.category()
            }
        )),
        403 => CrmError::Unauthorized(format!(
            "HubSpot refused the {what} for a scope the app was not granted ({message}): an \
             admin installs the app again and grants every scope it asks for"
        )),
        404 => CrmError::NotFound(format!("HubSpot has no {what}")),
        409 => CrmError::Unprocessable(format!("HubSpot: the {what} already exists ({message})")),
        429 => CrmError::RateLimited {
            retry_after_secs: retry_after(headers),
            message: format!("HubSpot's rate limit for this account is reached ({message})"),
        },
        s if s >= 500 => CrmError::Unavailable(format!(
            "HubSpot answered HTTP {s} to the {what}; retrying later"
        )),
        _ if answer.category() == "VALIDATION_ERROR" && missing_property(&message) => {
            CrmError::NotSetUp(format!(
                "HubSpot refused the {what}: {message}. The app's contact properties are \
                 missing: an admin runs the set-up check again (`server check`)"
            ))
        }
        _ if answer.category() == "VALIDATION_ERROR" => CrmError::Unprocessable(format!(
            "HubSpot refused the {what}: {message} (a value outside a property's options, or \
             one of the account's validation rules: an admin reads it in Settings → Properties)"
        )),
        s => CrmError::Unprocessable(format!("HubSpot refused the {what} (HTTP {s}): {message}")),
    }
}

/// Whether a validation message is about a property the account does not have.
fn missing_property(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("property") && (m.contains("does not exist") || m.contains("doesn't exist"))
}

impl HubSpotCrm {
    pub fn new(base: &str, token: SecretString, timeout: Duration) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            token,
            http: http_client(timeout),
            association_types: Arc::default(),
            last_limit: Arc::default(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// One call: the answer's status and body, or the error an admin can act on.
    async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<(StatusCode, Value), CrmError> {
        let mut req = self
            .http
            .request(method, format!("{}{path_and_query}", self.base))
            .bearer_auth(self.token.expose_secret())
            .header("accept", "application/json");
        if let Some(b) = body {
            req = req.json(b);
        }
        let unreachable = |e: reqwest::Error| {
            if e.is_timeout() {
                CrmError::Unavailable(format!("HubSpot did not answer the {what} in time"))
            } else {
                CrmError::Unavailable(format!(
                    "HubSpot could not be reached for the {what}: {}",
                    without_url(&e)
                ))
            }
        };
        let res = req.send().await.map_err(unreachable)?;
        let status = res.status();
        let headers = res.headers().clone();
        self.note_limits(&headers);
        let text = res.text().await.map_err(unreachable)?;
        if !status.is_success() {
            return Err(error_of(status, &headers, &text, what));
        }
        if text.trim().is_empty() {
            return Ok((status, Value::Null));
        }
        serde_json::from_str(&text)
            .map(|v| (status, v))
            .map_err(|e| CrmError::Protocol(format!("HubSpot's answer to the {what}: {e}")))
    }

    fn note_limits(&self, headers: &HeaderMap) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
        };
        if let (Some(left), Some(interval)) = (
            number("x-hubspot-ratelimit-remaining"),
            number("x-hubspot-ratelimit-interval-milliseconds"),
        ) {
            *self.last_limit.lock() = Some(LimitSeen {
                remaining: left,
                interval_ms: interval,
                at_ms: crate::clock::now_ms(),
            });
        }
    }

    /// The answer's value at `key`, read as `T`.
    fn read<T: for<'de> Deserialize<'de>>(v: &Value, key: &str, what: &str) -> Result<T, CrmError> {
        let inner = v.get(key).cloned().unwrap_or(Value::Null);
        serde_json::from_value(inner).map_err(|e| {
            CrmError::Protocol(format!("HubSpot's answer to the {what}: `{key}`: {e}"))
        })
    }

    /// The type id HubSpot gives associations from `from` to `to` (its own, unlabelled one),
    /// read once from the labels endpoint.
    async fn association_type(
        &self,
        from: &'static str,
        to: &'static str,
    ) -> Result<u64, CrmError> {
        if let Some(id) = self.association_types.lock().get(&(from, to)) {
            return Ok(*id);
        }
        #[derive(Deserialize)]
        struct Label {
            #[serde(default)]
            category: Option<String>,
            #[serde(rename = "typeId")]
            type_id: u64,
            #[serde(default)]
            label: Option<String>,
        }
        let what = format!("association labels from {from} to {to}");
        let (_, v) = self
            .call(
                Method::GET,
                &super::platform::association_labels_path(from, to),
                None,
                &what,
            )
            .await?;
        let labels: Vec<Label> = Self::read(&v, "results", &what)?;
        let id = labels
            .iter()
            .find(|l| l.category.as_deref() == Some("HUBSPOT_DEFINED") && l.label.is_none())
            .or_else(|| {
                labels
                    .iter()
                    .find(|l| l.category.as_deref() == Some("HUBSPOT_DEFINED"))
            })
            .map(|l| l.type_id)
            .ok_or_else(|| CrmError::Protocol(format!("HubSpot lists no {what}")))?;
        self.association_types.lock().insert((from, to), id);
        Ok(id)
    }
}

/// An id HubSpot sends as a string (`"51"`), read as the port's number.
fn numeric_id(v: &Value, what: &str) -> Result<u64, CrmError> {
    match v.get("id") {
        Some(Value::String(s)) => s.parse().ok(),
        Some(Value::Number(n)) => n.as_u64(),
        _ => None,
    }
    .ok_or_else(|| CrmError::Protocol(format!("HubSpot's {what} has no numeric id")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn each_error_says_what_to_fix() {
        let none = HeaderMap::new();
        let e = error_of(
            StatusCode::UNAUTHORIZED,
            &none,
            r#"{"category":"EXPIRED_AUTHENTICATION"}"#,
            "contact 5",
        );
        assert!(
            matches!(&e, CrmError::Unauthorized(m) if m.contains("EXPIRED_AUTHENTICATION") && m.contains("installs it again")),
            "{e}"
        );
        let e = error_of(
            StatusCode::FORBIDDEN,
            &none,
            r#"{"category":"MISSING_SCOPES","message":"This app hasn't been granted all required scopes"}"#,
            "list",
        );
        assert!(
            matches!(&e, CrmError::Unauthorized(m) if m.contains("scope")),
            "{e}"
        );
        let e = error_of(
            StatusCode::BAD_REQUEST,
            &none,
            r#"{"category":"VALIDATION_ERROR","message":"Property values were not valid","errors":[{"message":"Property \"idv_status\" does not exist"}]}"#,
            "contact 5",
        );
        assert!(matches!(e, CrmError::NotSetUp(_)), "{e}");
        let e = error_of(
            StatusCode::BAD_REQUEST,
            &none,
            r#"{"category":"VALIDATION_ERROR","message":"idv_status: \"maybe\" was not one of the allowed options"}"#,
            "contact 5",
        );
        assert!(
            matches!(&e, CrmError::Unprocessable(m) if m.contains("validation rules")),
            "{e}"
        );
        assert!(e.is_permanent());
        let e = error_of(
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("x-hubspot-ratelimit-interval-milliseconds", "10000")]),
            r#"{"category":"RATE_LIMITS"}"#,
            "note",
        );
        assert_eq!(e.retry_after(), Some(10));
        let e = error_of(
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("retry-after", "3")]),
            "",
            "note",
        );
        assert_eq!(e.retry_after(), Some(3));
        assert!(matches!(
            error_of(StatusCode::BAD_GATEWAY, &none, "", "deal 1"),
            CrmError::Unavailable(_)
        ));
        assert!(matches!(
            error_of(StatusCode::NOT_FOUND, &none, "", "deal 1"),
            CrmError::NotFound(_)
        ));
        assert!(matches!(
            error_of(StatusCode::CONFLICT, &none, "{}", "property"),
            CrmError::Unprocessable(_)
        ));
    }
}
