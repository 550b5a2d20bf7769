//! The twin's `hubspot.fetch`: HubSpot's proxy between a card and the app's backend. It takes
//! the card's call (a URL under the app's `permittedUrls.fetch`, a method, a JSON body, at
//! most an `Authorization` header), adds `appId`, `portalId`, `userId` and `userEmail` to the
//! URL, signs the request v2 and v3 with the app's client secret, waits up to the call's
//! timeout (15 s by default) and retries once on a 5xx. Facts: `shared/reference/hubspot-app.md`
//! §2 (the query's `portalId`, `userId`, `userEmail` are U).

use std::{collections::BTreeMap, time::Duration};

use axum::{extract::State, http::StatusCode, response::IntoResponse, Json};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{crm, HubSpotSim, APP_ID};
use crate::adapters::hubspot::signature;

/// What a card passes to `hubspot.fetch(url, options)`.
#[derive(Debug, Clone, Deserialize)]
pub struct CardFetch {
    pub url: String,
    #[serde(default = "get")]
    pub method: String,
    #[serde(default)]
    pub body: Option<Value>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Milliseconds (HubSpot: 15,000 unless the card says).
    #[serde(default)]
    pub timeout: Option<u64>,
}

fn get() -> String {
    "GET".into()
}

/// The rep the card runs for (HubSpot knows them; the card cannot choose).
#[derive(Debug, Clone, Deserialize)]
pub struct CardUser {
    pub id: u64,
    pub email: String,
}

/// The backend's answer as the card receives it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Fetched {
    pub status: u16,
    pub body: String,
}

/// Why the proxy refused a call before it reached the backend: HubSpot's error body.
pub type Refused = (StatusCode, Value);

impl HubSpotSim {
    /// The URL prefixes the app's `permittedUrls.fetch` lists (none set: any URL).
    pub fn permit_fetch(&self, prefixes: Vec<String>) {
        self.state.lock().permitted_fetch = prefixes;
    }

    /// Proxies one card call to the backend as HubSpot does.
    pub async fn card_fetch(&self, call: &CardFetch, user: &CardUser) -> Result<Fetched, Refused> {
        let refuse = |m: &str| crm::error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", m);
        if call
            .headers
            .keys()
            .any(|k| !k.eq_ignore_ascii_case("authorization"))
        {
            return Err(refuse(
                "Only 'Authorization' header is allowed from hubspot.fetch()",
            ));
        }
        let method = call.method.to_ascii_uppercase();
        if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
            return Err(refuse(&format!("method {method} is not supported")));
        }
        let (secret, portal, permitted) = {
            let s = self.state.lock();
            (s.client_secret.clone(), s.portal, s.permitted_fetch.clone())
        };
        if !permitted.is_empty() && !permitted.iter().any(|p| call.url.starts_with(p)) {
            return Err(refuse(&format!(
                "{} is not among the app's permittedUrls.fetch",
                call.url
            )));
        }
        let mut url = url::Url::parse(&call.url).map_err(|_| refuse("url is not a URL"))?;
        url.query_pairs_mut()
            .append_pair("appId", &APP_ID.to_string())
            .append_pair("portalId", &portal.to_string())
            .append_pair("userId", &user.id.to_string())
            .append_pair("userEmail", &user.email);
        let url = url.to_string();
        // A JSON body for every method but GET, compact as `JSON.stringify` writes it.
        let body = match (&call.body, method.as_str()) {
            (Some(b), m) if m != "GET" && !b.is_null() => {
                serde_json::to_vec(b).expect("a JSON value serialises")
            }
            _ => Vec::new(),
        };
        let timeout = Duration::from_millis(call.timeout.unwrap_or(15_000));
        let mut answer = self
            .send_signed(&secret, &method, &url, &body, call, timeout)
            .await;
        if matches!(&answer, Ok(f) if f.status >= 500) {
            answer = self
                .send_signed(&secret, &method, &url, &body, call, timeout)
                .await;
        }
        answer
    }

    async fn send_signed(
        &self,
        secret: &str,
        method: &str,
        url: &str,
        body: &[u8],
        call: &CardFetch,
        timeout: Duration,
    ) -> Result<Fetched, Refused> {
        let at = crate::clock::now_ms().to_string();
        let http = reqwest::Client::new();
        let mut req = http
            .request(method.parse().expect("a checked method"), url)
            .timeout(timeout)
            .header(
                "x-hubspot-signature",
                signature::sign_v2(secret, method, url, body),
            )
            .header("x-hubspot-signature-version", "v2")
            .header(
                "x-hubspot-signature-v3",
                signature::sign_v3(secret, method, url, body, &at),
            )
            .header("x-hubspot-request-timestamp", at);
        if let Some(auth) = call
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            req = req.header("authorization", auth.1);
        }
        if !body.is_empty() {
            req = req
                .header("content-type", "application/json")
                .body(body.to_vec());
        }
        match req.send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                let body = res.text().await.unwrap_or_default();
                Ok(Fetched { status, body })
            }
            Err(e) if e.is_timeout() => Err(crm::error(
                StatusCode::GATEWAY_TIMEOUT,
                "TIMEOUT",
                "the app's backend did not answer in time",
            )),
            Err(_) => Err(crm::error(
                StatusCode::BAD_GATEWAY,
                "BAD_GATEWAY",
                "the app's backend could not be reached",
            )),
        }
    }
}

/// `POST /_twin/fetch`: a card's call, with the rep it runs for (`user`), proxied as
/// `hubspot.fetch` does; answers `{status, body}` or the proxy's refusal.
#[derive(Debug, Deserialize)]
pub(super) struct ProxyCall {
    #[serde(flatten)]
    call: CardFetch,
    user: CardUser,
}

pub(super) async fn proxy(
    State(sim): State<HubSpotSim>,
    Json(p): Json<ProxyCall>,
) -> axum::response::Response {
    match sim.card_fetch(&p.call, &p.user).await {
        Ok(f) => Json(f).into_response(),
        Err((status, v)) => (status, Json(v)).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_call_names_its_url_and_defaults_to_get() {
        let c: CardFetch = serde_json::from_value(json!({"url": "https://x.example/a"})).unwrap();
        assert_eq!(c.method, "GET");
        assert!(c.headers.is_empty() && c.body.is_none() && c.timeout.is_none());
    }
}
