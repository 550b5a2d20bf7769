//! The 1Kosmos HTTP client for the `/v2` contract (see DESIGN.md, External contracts).

use std::time::Duration;

use idv_types::Delivery;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use crate::adapters::without_url;
use crate::ports::identity::{
    CreateIdv, CreateLiveId, IdentityProvider, Outcome, ProviderError, ProviderSession,
    ResultFields, SessionReport,
};

/// Header carrying the API key. UNCONFIRMED for the real service (it uses encrypted
/// `licensekey`/`requestid` headers per tenant): change it here.
pub const API_KEY_HEADER: &str = "x-api-key";

#[derive(Clone)]
pub struct KosmosClient {
    base: String,
    key: SecretString,
    http: reqwest::Client,
}

impl std::fmt::Debug for KosmosClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KosmosClient")
            .field("base", &self.base)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl KosmosClient {
    pub fn new(base: &str, key: SecretString, timeout: Duration) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            key,
            http: crate::adapters::http_client(timeout),
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<serde_json::Value, ProviderError> {
        let res = req
            .header(API_KEY_HEADER, self.key.expose_secret())
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    ProviderError::Timeout
                } else {
                    ProviderError::Unreachable(without_url(&e))
                }
            })?;
        let status = res.status();
        let retry_after = res
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let body = res.text().await.map_err(|e| {
            if e.is_timeout() {
                ProviderError::Timeout
            } else {
                ProviderError::Unreachable(without_url(&e))
            }
        })?;
        match status {
            s if s.is_success() => {
                serde_json::from_str(&body).map_err(|e| ProviderError::Protocol(e.to_string()))
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(ProviderError::Unauthorized),
            StatusCode::NOT_FOUND => Err(ProviderError::NotFound(String::new())),
            StatusCode::TOO_MANY_REQUESTS => {
                Err(ProviderError::RateLimited(retry_after.unwrap_or(30)))
            }
            s if s.is_server_error() => Err(ProviderError::Unavailable(s.as_u16())),
            _ => Err(ProviderError::Rejected(message_of(&body))),
        }
    }

    async fn get_session(&self, path: &str, id: &str) -> Result<SessionReport, ProviderError> {
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(ProviderError::NotFound(id.into()));
        }
        let v = self
            .send(self.http.get(format!("{}{path}/{id}", self.base)))
            .await
            .map_err(|e| match e {
                ProviderError::NotFound(_) => ProviderError::NotFound(id.into()),
                other => other,
            })?;
        let wire: WireSession =
            serde_json::from_value(v).map_err(|e| ProviderError::Protocol(e.to_string()))?;
        Ok(wire.normalise(path == "/v2/verify/sessions"))
    }
}

fn message_of(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| body.chars().take(200).collect())
}

/// A session as the wire carries it (both kinds).
#[derive(Debug, Deserialize)]
struct WireSession {
    session_id: String,
    status: String,
    #[serde(default)]
    result: Option<WireResult>,
}

#[derive(Debug, Deserialize, Default)]
struct WireResult {
    #[serde(default)]
    verification: Option<String>,
    #[serde(default)]
    ial: Option<String>,
    #[serde(default)]
    document_type: Option<String>,
    #[serde(default)]
    match_confidence: Option<f64>,
    #[serde(default)]
    credential_did: Option<String>,
    #[serde(default)]
    failure_reason: Option<String>,
}

impl WireSession {
    /// The verdict, failing closed: Verified only on an explicit `passed` with the result the
    /// product needs (for document proofing, the IAL and the document type); a missing, unknown
    /// or `review` verdict of a finished session is a failure with the provider's words, and an
    /// unknown status is never read as a pass.
    fn normalise(self, document_proofing: bool) -> SessionReport {
        let r = self.result.unwrap_or_default();
        let verdict = r.verification.as_deref().unwrap_or("");
        let outcome = match self.status.as_str() {
            "pending" | "in_progress" => Outcome::Pending,
            "completed" | "approved" if verdict == "passed" => {
                let complete = !document_proofing || (r.ial.is_some() && r.document_type.is_some());
                if complete {
                    Outcome::Verified(ResultFields {
                        ial: r.ial,
                        document_type: r.document_type,
                        match_confidence: r.match_confidence,
                        credential_did: r.credential_did,
                    })
                } else {
                    Outcome::Failed {
                        reason: "the provider passed the session without its IAL or document type"
                            .into(),
                    }
                }
            }
            "completed" | "approved" => Outcome::Failed {
                reason: r.failure_reason.unwrap_or_else(|| match verdict {
                    "failed" => "verification failed".into(),
                    "" => "the provider gave no verdict".into(),
                    other => format!("the provider's verdict is {other:?}, not a pass"),
                }),
            },
            "declined" | "denied" => Outcome::Failed {
                reason: r.failure_reason.unwrap_or_else(|| self.status.clone()),
            },
            "expired" | "abandoned" => Outcome::Expired,
            other => Outcome::Failed {
                reason: format!(
                    "the provider reports an unknown status {:?}",
                    other.chars().take(40).collect::<String>()
                ),
            },
        };
        SessionReport {
            session_id: self.session_id,
            outcome,
        }
    }
}

#[async_trait::async_trait]
impl IdentityProvider for KosmosClient {
    async fn create_idv(&self, req: &CreateIdv) -> Result<ProviderSession, ProviderError> {
        // Not retried: 1Kosmos has no idempotency key, so a retried create makes a second session.
        let body = json!({
            "reference": req.reference,
            "user": {
                "first_name": req.first_name, "last_name": req.last_name,
                "email": req.email, "phone": req.phone,
            },
            "ial": req.ial,
            "document_types": req.document_types,
            "callback_url": req.callback_url,
            "send_email": req.delivery == Delivery::Email,
        });
        let v = self
            .send(
                self.http
                    .post(format!("{}/v2/verify/sessions", self.base))
                    .json(&body),
            )
            .await?;
        serde_json::from_value(v).map_err(|e| ProviderError::Protocol(e.to_string()))
    }

    async fn get_idv(&self, session_id: &str) -> Result<SessionReport, ProviderError> {
        self.get_session("/v2/verify/sessions", session_id).await
    }

    async fn create_liveid(&self, req: &CreateLiveId) -> Result<ProviderSession, ProviderError> {
        let v = self
            .send(
                self.http
                    .post(format!("{}/v2/auth/liveid", self.base))
                    .json(req),
            )
            .await?;
        serde_json::from_value(v).map_err(|e| ProviderError::Protocol(e.to_string()))
    }

    async fn get_liveid(&self, session_id: &str) -> Result<SessionReport, ProviderError> {
        self.get_session("/v2/auth/liveid", session_id).await
    }

    async fn check(&self) -> Result<String, ProviderError> {
        let v = self
            .send(self.http.get(format!("{}/v2/account", self.base)))
            .await?;
        Ok(v.get("tenant")
            .and_then(|t| t.as_str())
            .unwrap_or("1Kosmos tenant")
            .to_string())
    }

    /// The design contract's `send_email` has 1Kosmos email the link.
    fn deliveries(&self) -> Vec<Delivery> {
        vec![Delivery::Show, Delivery::Email]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(status: &str, result: serde_json::Value, document_proofing: bool) -> Outcome {
        let wire: WireSession = serde_json::from_value(json!({
            "session_id": "s1", "status": status, "result": result,
        }))
        .unwrap();
        wire.normalise(document_proofing).outcome
    }

    #[test]
    fn only_an_explicit_pass_with_the_needed_result_is_verified() {
        let full = json!({"verification": "passed", "ial": "IAL2", "document_type": "passport"});
        assert!(matches!(
            read("completed", full, true),
            Outcome::Verified(_)
        ));
        let liveid = json!({"verification": "passed", "match_confidence": 0.99});
        assert!(matches!(
            read("approved", liveid, false),
            Outcome::Verified(_)
        ));
        for result in [
            json!({}),
            json!({"verification": "review", "ial": "IAL2", "document_type": "passport"}),
            json!({"verification": "PASSED", "ial": "IAL2", "document_type": "passport"}),
            json!({"verification": "passed"}),
            json!({"verification": "passed", "ial": "IAL2"}),
            json!({"ial": "IAL2", "document_type": "passport"}),
        ] {
            let outcome = read("completed", result.clone(), true);
            assert!(
                matches!(outcome, Outcome::Failed { .. }),
                "{result} must not verify: {outcome:?}"
            );
        }
        assert!(matches!(
            read("reviewing", json!({"verification": "passed"}), false),
            Outcome::Failed { .. }
        ));
        assert_eq!(read("in_progress", json!({}), true), Outcome::Pending);
        assert_eq!(read("abandoned", json!({}), true), Outcome::Expired);
    }
}
