//! HTTP for the BlockID client: one call with the encrypted headers, answers read in full
//! (bounded), and failures turned into errors an operator can act on.

use reqwest::{header::HeaderMap, Method, StatusCode};
use serde::{de::DeserializeOwned, Serialize};

use super::BlockIdClient;
use crate::{
    adapters::{
        blockid::{cipher::SharedKey, wire::*},
        without_url,
    },
    clock,
    domain::reasons::printable,
    ports::identity::ProviderError,
};

/// Answers larger than this are refused (a result with images is a few MB).
const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;
/// A `Date` this far from our clock is reported as clock skew.
const SKEW_HINT_S: i64 = ALLOWED_TIME_SPAN_S / 2;

/// One HTTP answer, read in full.
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
}

impl BlockIdClient {
    /// One HTTP call; with a key, it carries the encrypted headers (a fresh uuid and ts).
    pub(super) async fn call(
        &self,
        method: Method,
        url: &str,
        key: Option<&SharedKey>,
        extra: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Answer, ProviderError> {
        let mut req = self
            .http
            .request(method, url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(k) = key {
            let headers = auth_headers(
                &self.keys,
                k,
                &self.cfg.licence_key,
                &self.cfg.app_id,
                clock::now_secs(),
            );
            for (name, value) in headers {
                req = req.header(name, value);
            }
        }
        for (name, value) in extra {
            req = req.header(*name, *value);
        }
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b);
        }
        let mut res = req.send().await.map_err(|e| self.transport(&e))?;
        let (status, headers) = (res.status(), res.headers().clone());
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| self.transport(&e))? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(ProviderError::Protocol("the answer is too large".into()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    fn transport(&self, e: &reqwest::Error) -> ProviderError {
        if e.is_timeout() {
            ProviderError::Timeout
        } else {
            ProviderError::Unreachable(format!(
                "tenant {}: {} (check the tenant name and that this server can reach it)",
                self.dns,
                without_url(e)
            ))
        }
    }

    /// How far the service's `Date` is from our clock, in seconds.
    fn skew_s(a: &Answer) -> Option<i64> {
        let date = a.headers.get(reqwest::header::DATE)?.to_str().ok()?;
        let fmt = time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        let at = time::PrimitiveDateTime::parse(date, &fmt)
            .ok()?
            .assume_utc();
        Some(at.unix_timestamp() - clock::now_secs())
    }

    /// The error for a non-success answer, in terms an operator can act on. UNCONFIRMED: which
    /// status and message the services give a bad licence, a bad dvcID or a stale `requestid`;
    /// a `Date` far from our clock is read as skew, then the message's words decide.
    pub(super) fn refusal(
        &self,
        a: &Answer,
        service: &str,
        session: Option<&str>,
    ) -> ProviderError {
        let message = message_of(a);
        let lower = message.to_ascii_lowercase();
        match a.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                self.forget_key(service);
                let skew = Self::skew_s(a).filter(|s| s.abs() > SKEW_HINT_S);
                if let Some(s) = skew {
                    ProviderError::Rejected(format!(
                        "1Kosmos refused the request: this server's clock is {s} s off the \
                         tenant's (requests older than {ALLOWED_TIME_SPAN_S} s are refused); fix \
                         the clock (NTP)"
                    ))
                } else if lower.contains("dvc") {
                    ProviderError::Rejected(format!(
                        "1Kosmos refused the dvcID ({message}): check the IDVerify key \
                         configured for tenant {} (it is not the licence key)",
                        self.dns
                    ))
                } else if ["expired", "stale", "timestamp", "clock"]
                    .iter()
                    .any(|w| lower.contains(w))
                {
                    ProviderError::Rejected(format!(
                        "1Kosmos refused the request as stale ({message}): check this server's \
                         clock (NTP)"
                    ))
                } else {
                    ProviderError::Rejected(format!(
                        "1Kosmos refused the licence key for tenant {} ({} {message}): check \
                         the licence key configured for this tenant",
                        self.dns,
                        a.status.as_u16()
                    ))
                }
            }
            StatusCode::NOT_FOUND => ProviderError::NotFound(session.unwrap_or("").to_string()),
            StatusCode::TOO_MANY_REQUESTS => ProviderError::RateLimited(
                a.headers
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(30),
            ),
            s if s.is_server_error() => ProviderError::Unavailable(s.as_u16()),
            s if s.is_redirection() => ProviderError::Rejected(format!(
                "the 1Kosmos {service} service answered a redirect ({}); redirects are not \
                 followed: check the tenant name",
                s.as_u16()
            )),
            _ if lower.contains("dvc") => ProviderError::Rejected(format!(
                "1Kosmos refused the dvcID ({message}): check the IDVerify key configured for \
                 tenant {}",
                self.dns
            )),
            s => ProviderError::Rejected(format!(
                "the 1Kosmos {service} service answered {}: {message}",
                s.as_u16()
            )),
        }
    }

    /// An authenticated JSON call to a service; a non-success answer becomes an error.
    pub(super) async fn send_to<B: Serialize>(
        &self,
        method: Method,
        service: &str,
        url: &str,
        key: &SharedKey,
        extra: &[(&str, &str)],
        body: Option<&B>,
    ) -> Result<Answer, ProviderError> {
        let body = body.map(|b| serde_json::to_vec(b).unwrap_or_default());
        let a = self.call(method, url, Some(key), extra, body).await?;
        if a.status.is_success() {
            Ok(a)
        } else {
            Err(self.refusal(&a, service, None))
        }
    }
}

/// The provider's `message` of a failed answer, made safe to show.
pub(super) fn message_of(a: &Answer) -> String {
    serde_json::from_slice::<ErrorAnswer>(&a.body)
        .ok()
        .and_then(|e| e.message)
        .map(|m| printable(&m))
        .unwrap_or_default()
}

/// A JSON error without the text it choked on (which may be personal data).
pub(super) fn json_error(e: serde_json::Error) -> ProviderError {
    ProviderError::Protocol(format!(
        "the answer is not the expected JSON ({:?} at line {} column {})",
        e.classify(),
        e.line(),
        e.column()
    ))
}

/// The JSON of an answer that is `{"data": "<encrypted>"}` or plain JSON.
pub(super) fn plaintext(key: &SharedKey, body: &[u8]) -> Result<Vec<u8>, ProviderError> {
    match serde_json::from_slice::<Encrypted>(body) {
        Ok(e) => key
            .decrypt(&e.data)
            .map_err(|e| ProviderError::Protocol(format!("the answer does not decrypt ({e})"))),
        Err(_) => Ok(body.to_vec()),
    }
}

/// Reads an answer that is `{"data": "<encrypted>"}` or plain JSON.
pub(super) fn open<T: DeserializeOwned>(key: &SharedKey, body: &[u8]) -> Result<T, ProviderError> {
    serde_json::from_slice(&plaintext(key, body)?).map_err(json_error)
}
