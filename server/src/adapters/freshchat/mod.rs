//! The Freshchat API v2 client: `Authorization: Bearer <token>` (one token per account, made by
//! an account admin in Admin settings → APIs for chat), errors `{code, status, message}`, the
//! API host stored per tenant. Messages into a conversation, custom properties of a user, and
//! the RSA-signed webhooks ([`webhook`]). Facts and what is UNCONFIRMED:
//! `../shared/reference/freshdesk-freshchat.md` §3; the request bodies that are not confirmed
//! are built in one place each ([`message_body`], [`properties_body`]).

mod chat;
pub mod webhook;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use crate::ports::chat::{ChatError, UserProperty};

/// The API root for an address an operator gives: `https://{account}.freshchat.com[/v2]`, a
/// regional `https://api[.eu|.in|.au].freshchat.com[/v2]`, or a Freshsales Suite host
/// `https://{alias}.myfreshworks.com/…` with its full API path (that path is UNCONFIRMED, so it
/// must be given). Loopback http(s) addresses are accepted for simulators.
pub fn api_base(address: &str) -> Result<String, String> {
    let bad = |why: &str| {
        format!(
            "{why}: give the Freshchat API address, e.g. https://acme.freshchat.com/v2 or \
             https://api.eu.freshchat.com/v2"
        )
    };
    let url = url::Url::parse(address.trim()).map_err(|_| bad("not a URL"))?;
    let host = url
        .host_str()
        .ok_or_else(|| bad("no host"))?
        .to_ascii_lowercase();
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(bad("no query, fragment or user name"));
    }
    let loopback = matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]")
        && matches!(url.scheme(), "http" | "https");
    let path = url.path().trim_end_matches('/');
    if loopback {
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        return Ok(format!("{}://{host}{port}{path}", url.scheme()));
    }
    if url.scheme() != "https" || url.port().is_some() {
        return Err(bad("only https on the default port"));
    }
    if host.ends_with(".freshchat.com") {
        let path = if path.is_empty() { "/v2" } else { path };
        return Ok(format!("https://{host}{path}"));
    }
    if host.ends_with(".myfreshworks.com") {
        if path.is_empty() {
            return Err(bad(
                "a myfreshworks.com host needs the full API path of your account",
            ));
        }
        return Ok(format!("https://{host}{path}"));
    }
    Err(bad(
        "not a Freshchat host (*.freshchat.com or *.myfreshworks.com)",
    ))
}

/// The body of `POST /conversations/{id}/messages`: one text part, posted by the given agent,
/// else by the system. UNCONFIRMED beyond third-party code: `message_parts` with
/// `text.content`, `actor_type` `agent` with an `actor_id`, `message_type` `normal`; an
/// `actor_type` of `system` without an id is not seen in any source.
pub fn message_body(text: &str, agent_id: Option<&str>) -> Value {
    let mut body = json!({
        "message_parts": [{ "text": { "content": text } }],
        "message_type": "normal",
    });
    match agent_id {
        Some(agent) => {
            body["actor_type"] = json!("agent");
            body["actor_id"] = json!(agent);
        }
        None => body["actor_type"] = json!("system"),
    }
    body
}

/// The body of `PUT /users/{id}` that sets custom properties. UNCONFIRMED (a generated spec):
/// `properties: [{name, value}]`, others left as they are; whether a property must first be
/// created by an admin is unknown too.
pub fn properties_body(properties: &[UserProperty]) -> Value {
    json!({
        "properties": properties
            .iter()
            .map(|p| json!({ "name": p.name, "value": p.value }))
            .collect::<Vec<_>>(),
    })
}

/// Whether an id can go into a path as it is (Freshchat's ids are UUIDs).
pub fn is_plain_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[derive(Clone)]
pub struct FreshchatClient {
    base: String,
    token: SecretString,
    agent_id: Option<String>,
    http: reqwest::Client,
}

impl std::fmt::Debug for FreshchatClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreshchatClient")
            .field("base", &self.base)
            .field("token", &"[redacted]")
            .finish()
    }
}

impl FreshchatClient {
    pub fn new(
        base: &str,
        token: SecretString,
        agent_id: Option<String>,
        timeout: Duration,
    ) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            token,
            agent_id,
            http: crate::adapters::http_client(timeout),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// One call; every error says what to do about it, and whether the request may have been
    /// carried out.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Value, ChatError> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.token.expose_secret())
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.map_err(|e| {
            if e.is_connect() || e.is_builder() {
                ChatError::Unreachable(format!(
                    "Freshchat could not be reached: {}",
                    crate::adapters::without_url(&e)
                ))
            } else if e.is_timeout() {
                ChatError::Uncertain(
                    "Freshchat did not answer in time; the request may have been carried out"
                        .into(),
                )
            } else {
                ChatError::Uncertain(format!(
                    "the connection to Freshchat broke ({}); the request may have been carried out",
                    crate::adapters::without_url(&e)
                ))
            }
        })?;
        let status = res.status();
        let retry_after = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let text = res.text().await.map_err(|e| {
            ChatError::Uncertain(format!(
                "Freshchat's answer was cut short ({}); the request may have been carried out",
                crate::adapters::without_url(&e)
            ))
        })?;
        let reason = error_message(&text);
        match status {
            s if s.is_success() => Ok(serde_json::from_str(&text).unwrap_or(Value::Null)),
            s if s.is_redirection() => Err(ChatError::Rejected(format!(
                "Freshchat answered a redirect ({}): the API address is wrong; use the one of \
                 Admin settings → APIs for chat, e.g. https://acme.freshchat.com/v2",
                s.as_u16()
            ))),
            StatusCode::UNAUTHORIZED => Err(ChatError::Unauthorized(format!(
                "Freshchat refused the API token (401{reason}): it is wrong or was regenerated \
                 (an account has one token at a time, in Admin settings → APIs for chat); set \
                 the current one with `server tenant freshchat`"
            ))),
            StatusCode::FORBIDDEN => Err(ChatError::Unauthorized(format!(
                "Freshchat refused this call for the token (403{reason}): the token lacks \
                 access, or the account's plan has no API"
            ))),
            StatusCode::NOT_FOUND => Err(ChatError::NotFound(format!(
                "Freshchat has no {what} (404{reason}); if every call says so, the API address \
                 is wrong"
            ))),
            StatusCode::TOO_MANY_REQUESTS => {
                let secs = retry_after.unwrap_or(60);
                Err(ChatError::RateLimited {
                    retry_after_secs: secs,
                    message: format!("Freshchat's rate limit is reached; retry after {secs} s"),
                })
            }
            s if s.is_server_error() => Err(ChatError::Uncertain(format!(
                "Freshchat answered {}{reason}; the request may have been carried out",
                s.as_u16()
            ))),
            s => Err(ChatError::Rejected(format!(
                "Freshchat refused the {what} ({}{reason})",
                s.as_u16()
            ))),
        }
    }

    fn path_id<'a>(what: &str, id: &'a str) -> Result<&'a str, ChatError> {
        if is_plain_id(id) {
            Ok(id)
        } else {
            Err(ChatError::Rejected(format!(
                "a Freshchat {what} id is letters, digits, - and _ (at most 128)"
            )))
        }
    }

    /// Posts a text message into a conversation; the new message's id when the answer has one.
    pub async fn send_message(
        &self,
        conversation_id: &str,
        text: &str,
    ) -> Result<Option<String>, ChatError> {
        let id = Self::path_id("conversation", conversation_id)?;
        let body = message_body(text, self.agent_id.as_deref());
        let v = self
            .call(
                Method::POST,
                &format!("/conversations/{id}/messages"),
                Some(&body),
                &format!("conversation {id}"),
            )
            .await?;
        Ok(v.get("id").and_then(Value::as_str).map(str::to_string))
    }

    /// The texts of a conversation's latest messages (one page; the page's size and order
    /// are UNCONFIRMED, so it asks for 50).
    pub async fn recent_texts(&self, conversation_id: &str) -> Result<Vec<String>, ChatError> {
        let id = Self::path_id("conversation", conversation_id)?;
        let v = self
            .call(
                Method::GET,
                &format!("/conversations/{id}/messages?items_per_page=50"),
                None,
                &format!("conversation {id}"),
            )
            .await?;
        let Some(messages) = v.get("messages").and_then(Value::as_array) else {
            return Err(ChatError::Rejected(
                "Freshchat's list of messages has no `messages`: we cannot tell whether a \
                 message was posted"
                    .into(),
            ));
        };
        Ok(messages.iter().flat_map(webhook::text_parts).collect())
    }

    /// `PUT /users/{id}` with the properties ([`properties_body`]).
    pub async fn update_user_properties(
        &self,
        user_id: &str,
        properties: &[UserProperty],
    ) -> Result<(), ChatError> {
        let id = Self::path_id("user", user_id)?;
        self.call(
            Method::PUT,
            &format!("/users/{id}"),
            Some(&properties_body(properties)),
            &format!("user {id}"),
        )
        .await?;
        Ok(())
    }

    /// `GET /channels`: proves the address and the token, changes nothing.
    pub async fn channels(&self) -> Result<Value, ChatError> {
        self.call(Method::GET, "/channels", None, "channel list")
            .await
    }
}

/// Freshchat's error body `{code, status, message}`, as `": CODE message"` for a sentence
/// (empty when there is none).
fn error_message(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return String::new();
    };
    let code = match v.get("code") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let message = v
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .chars()
        .take(200)
        .collect::<String>();
    match (code.is_empty(), message.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(": {code}"),
        (true, false) => format!(": {message}"),
        (false, false) => format!(": {code} {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_addresses_are_freshchat_hosts_or_loopback() {
        assert_eq!(
            api_base("https://acme.freshchat.com").unwrap(),
            "https://acme.freshchat.com/v2"
        );
        assert_eq!(
            api_base("https://api.eu.freshchat.com/v2/").unwrap(),
            "https://api.eu.freshchat.com/v2"
        );
        assert_eq!(
            api_base("http://127.0.0.1:9100/v2").unwrap(),
            "http://127.0.0.1:9100/v2"
        );
        assert!(api_base("http://acme.freshchat.com/v2").is_err());
        assert!(api_base("https://evil.example.com/v2").is_err());
        assert!(api_base("https://acme.myfreshworks.com").is_err());
        assert!(api_base("https://u:p@acme.freshchat.com/v2").is_err());
        assert!(api_base("nonsense").is_err());
    }

    #[test]
    fn reads_freshchat_error_bodies() {
        assert_eq!(
            error_message(r#"{"code":"AGENT_NOT_FOUND","status":404,"message":"no agent"}"#),
            ": AGENT_NOT_FOUND no agent"
        );
        assert_eq!(error_message(r#"{"message":"nope"}"#), ": nope");
        assert_eq!(error_message("<html>"), "");
    }

    #[test]
    fn a_message_is_posted_by_the_agent_when_one_is_set() {
        let b = message_body("Identity verified.", Some("agent-1"));
        assert_eq!(b["actor_type"], "agent");
        assert_eq!(b["actor_id"], "agent-1");
        assert_eq!(
            b["message_parts"][0]["text"]["content"],
            "Identity verified."
        );
        assert_eq!(message_body("x", None)["actor_type"], "system");
    }
}
