//! The 1Kosmos HTTP client for the `/v2` contract (see DESIGN.md, External contracts).

use std::time::Duration;

use idv_types::{Delivery, IdentityMatch};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::adapters::without_url;
use crate::domain::reasons::{printable, Failure};

/// The provider's own words about a failure, at most 200 characters.
fn bounded(words: &str) -> String {
    words.chars().take(200).collect()
}
use crate::ports::identity::{
    CreateIdv, CreateLiveId, IdentityProvider, Outcome, ProviderError, ProviderSession,
    ResultFields, SessionReport,
};

/// Header carrying the API key. UNCONFIRMED for the real service (it uses encrypted
/// `licensekey`/`requestid` headers per tenant): change it here.
pub const API_KEY_HEADER: &str = "x-api-key";

/// How the design contract binds a session to a person: the names the document must show go
/// out in the session request, and the provider's comparison comes back in the result.
/// UNCONFIRMED: the 1Kosmos Freshsales design sends the person's names in `user` but names no
/// field for the comparison (`../shared/reference/idv-peers.md` §1.5; Veriff's `person` in the
/// session request, §2, is the nearest model). Every name is here, so that client and simulator
/// change together.
pub struct HolderMatchFields {
    /// The object of the session request that names the person.
    pub user: &'static str,
    pub first_name: &'static str,
    pub last_name: &'static str,
    /// `YYYY-MM-DD`, sent only where the CRM has one.
    pub date_of_birth: &'static str,
    /// The field of a session's `result` with the provider's comparison of the document's
    /// holder with `user`: `match`, `partial` or `mismatch`.
    pub result: &'static str,
}

pub const HOLDER_MATCH: HolderMatchFields = HolderMatchFields {
    user: "user",
    first_name: "first_name",
    last_name: "last_name",
    date_of_birth: "date_of_birth",
    result: "holder_match",
};

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
        let holder_match = v
            .get("result")
            .and_then(|r| r.get(HOLDER_MATCH.result))
            .and_then(Value::as_str)
            .and_then(IdentityMatch::parse);
        let mut wire: WireSession =
            serde_json::from_value(v).map_err(|e| ProviderError::Protocol(e.to_string()))?;
        wire.identity_match = holder_match;
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
    /// Read from [`HOLDER_MATCH`]`.result` of the result.
    #[serde(skip)]
    identity_match: Option<IdentityMatch>,
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
                        identity_match: self.identity_match,
                        holder: None,
                    })
                } else {
                    Outcome::failed(
                        Failure::NoResult,
                        Some("passed without its IAL or document type"),
                    )
                }
            }
            // The contract names no reason codes: the provider's words (bounded; every reader
            // shows them as text) go with an unknown reason, for support.
            "completed" | "approved" => match (r.failure_reason, verdict) {
                (Some(words), _) => Outcome::failed(Failure::Unknown, Some(&bounded(&words))),
                (None, "") => Outcome::failed(Failure::NoResult, None),
                (None, other) => Outcome::failed(
                    Failure::Unknown,
                    Some(&printable(&format!("verdict {other}"))),
                ),
            },
            "declined" | "denied" => Outcome::failed(
                Failure::Declined,
                r.failure_reason.as_deref().map(bounded).as_deref(),
            ),
            "expired" | "abandoned" => Outcome::Expired,
            other => Outcome::failed(
                Failure::Unknown,
                Some(&printable(&format!("status {other}"))),
            ),
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
        let f = &HOLDER_MATCH;
        let mut user = Map::new();
        user.insert(f.first_name.into(), json!(req.first_name));
        user.insert(f.last_name.into(), json!(req.last_name));
        if let Some(dob) = &req.date_of_birth {
            user.insert(f.date_of_birth.into(), json!(dob));
        }
        user.insert("email".into(), json!(req.email));
        user.insert("phone".into(), json!(req.phone));
        let mut body = json!({
            "reference": req.reference,
            "ial": req.ial,
            "document_types": req.document_types,
            "callback_url": req.callback_url,
            "send_email": req.delivery == Delivery::Email,
        });
        body[f.user] = Value::Object(user);
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
        let mut wire: WireSession = serde_json::from_value(json!({
            "session_id": "s1", "status": status, "result": result,
        }))
        .unwrap();
        wire.identity_match = result
            .get(HOLDER_MATCH.result)
            .and_then(Value::as_str)
            .and_then(IdentityMatch::parse);
        wire.normalise(document_proofing).outcome
    }

    #[test]
    fn the_provider_s_holder_match_is_read_and_an_unknown_one_is_none() {
        let pass = |m: &str| {
            json!({"verification": "passed", "ial": "IAL2", "document_type": "passport",
                   HOLDER_MATCH.result: m})
        };
        for (said, read_as) in [
            ("match", Some(IdentityMatch::Match)),
            ("partial", Some(IdentityMatch::Partial)),
            ("mismatch", Some(IdentityMatch::Mismatch)),
            ("MATCH", None),
            ("review", None),
        ] {
            let Outcome::Verified(f) = read("completed", pass(said), true) else {
                panic!("a pass reads as a pass; the engine judges the match");
            };
            assert_eq!(f.identity_match, read_as, "{said}");
        }
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

    /// Every failure this wire format can report has an entry of the reason table; the
    /// provider's own words (it names no codes) go with an unknown reason, for support.
    #[test]
    fn every_failure_of_the_design_contract_has_a_reason_and_a_next_step() {
        let why = |status: &str, result: Value| match read(status, result, true) {
            Outcome::Failed { why, reason } => (why, reason),
            other => panic!("{status} must fail: {other:?}"),
        };
        let cases = [
            (
                "completed",
                json!({"verification": "passed"}),
                Failure::NoResult,
            ),
            ("completed", json!({}), Failure::NoResult),
            (
                "completed",
                json!({"verification": "failed"}),
                Failure::Unknown,
            ),
            (
                "completed",
                json!({"verification": "review"}),
                Failure::Unknown,
            ),
            (
                "completed",
                json!({"verification": "failed", "failure_reason": "document <b>expired</b>"}),
                Failure::Unknown,
            ),
            ("declined", json!({}), Failure::Declined),
            (
                "denied",
                json!({"failure_reason": "the customer denied the request"}),
                Failure::Declined,
            ),
            ("reviewing", json!({}), Failure::Unknown),
        ];
        for (status, result, expected) in cases {
            let (got, reason) = why(status, result.clone());
            assert_eq!(got, expected, "{status} {result}");
            assert!(reason.contains("Next step: "), "{reason}");
        }
        let (_, reason) = why(
            "completed",
            json!({"verification": "failed", "failure_reason": "document expired"}),
        );
        assert_eq!(
            reason,
            "The customer could not be verified (document expired). Next step: send a new link; \
             if it fails again, contact support."
        );
    }
}
