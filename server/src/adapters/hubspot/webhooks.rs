//! HubSpot's webhooks as the [`CrmWebhooks`] port: a JSON array of events, signed v3 (and v1,
//! which CRM-object webhooks carry too). Facts: `shared/reference/hubspot.md` §2.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::signature::{self, Headers, Signed, Version};
use crate::ports::{AccountEvent, CrmWebhooks, HookError, PlatformEvent, SignedRequest};

/// The most events one batch may hold (HubSpot's batch size is UNCONFIRMED; often quoted 100).
pub const MAX_EVENTS: usize = 1000;

/// Reads the batches HubSpot signs with this app's client secret.
#[derive(Debug, Clone)]
pub struct HubSpotWebhooks {
    secret: SecretString,
    /// This app's id: events for another app are refused.
    app_id: Option<String>,
}

impl HubSpotWebhooks {
    pub fn new(secret: SecretString, app_id: Option<String>) -> Self {
        Self { secret, app_id }
    }
}

/// One event as HubSpot sends it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    event_id: u64,
    subscription_id: u64,
    portal_id: u64,
    #[serde(default)]
    app_id: Option<u64>,
    occurred_at: i64,
    subscription_type: String,
    object_id: u64,
    #[serde(default)]
    property_name: Option<String>,
    #[serde(default)]
    property_value: Option<String>,
    /// Generic `object.*` events: `0-1` contact, `0-3` deal.
    #[serde(default)]
    object_type_id: Option<String>,
}

fn header<'a>(h: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

impl HubSpotWebhooks {
    /// Checks the request's signature over any of its candidate URIs with the versions
    /// `accept` lets stand.
    fn verify(
        &self,
        req: &SignedRequest<'_>,
        now_ms: i64,
        accept: &[Version],
    ) -> Result<(), HookError> {
        let headers = Headers {
            v3: header(req.headers, "x-hubspot-signature-v3"),
            timestamp: header(req.headers, "x-hubspot-request-timestamp"),
            legacy: header(req.headers, "x-hubspot-signature"),
            legacy_version: header(req.headers, "x-hubspot-signature-version"),
        };
        let secret = self.secret.expose_secret();
        let mut last = signature::SignatureError::Missing;
        let verified = req.uris.iter().any(|uri| {
            let signed = Signed {
                method: req.method,
                uri,
                body: req.body,
                headers,
            };
            match signature::verify(secret, &signed, now_ms, accept) {
                Ok(_) => true,
                Err(e) => {
                    last = e;
                    false
                }
            }
        });
        if verified {
            Ok(())
        } else {
            Err(HookError::Unsigned(last.to_string()))
        }
    }
}

impl CrmWebhooks for HubSpotWebhooks {
    fn verify_call(&self, req: &SignedRequest<'_>, now_ms: i64) -> Result<(), HookError> {
        // `hubspot.fetch` sends v3 beside v2; only v3 carries a time, so a call without it (a
        // recorded call replayed with its v3 headers stripped) is refused.
        self.verify(req, now_ms, &[Version::V3])
    }

    fn verify_action(&self, req: &SignedRequest<'_>, now_ms: i64) -> Result<(), HookError> {
        // Workflow actions are signed v3 where HubSpot sends it, else v2 (C: the legacy guide
        // says v2). A v2 request carries no time: a replay finds the same callback id, which
        // starts nothing new.
        self.verify(req, now_ms, &[Version::V3, Version::V2])
    }

    fn read(&self, req: &SignedRequest<'_>, now_ms: i64) -> Result<Vec<PlatformEvent>, HookError> {
        // CRM-object webhooks carry v1 beside v3.
        self.verify(req, now_ms, &[Version::V3, Version::V1])?;
        let events: Vec<Event> = serde_json::from_slice(req.body).map_err(|e| {
            HookError::Malformed(format!(
                "the body must be HubSpot's JSON array of events: {e}"
            ))
        })?;
        if events.is_empty() || events.len() > MAX_EVENTS {
            return Err(HookError::Malformed(format!(
                "a batch holds 1 to {MAX_EVENTS} events, this one {}",
                events.len()
            )));
        }
        events
            .into_iter()
            .map(|e| {
                if let (Some(mine), Some(theirs)) = (&self.app_id, e.app_id) {
                    if *mine != theirs.to_string() {
                        return Err(HookError::Malformed(format!(
                            "event {} is for app {theirs}, not this app",
                            e.event_id
                        )));
                    }
                }
                // HubSpot's eventId may repeat: the event is told by all four (hashed, so the
                // record of it names no contact).
                let id = hex::encode(Sha256::digest(format!(
                    "{}:{}:{}:{}",
                    e.subscription_id, e.object_id, e.occurred_at, e.event_id
                )));
                let event = match (e.subscription_type.as_str(), e.object_type_id.as_deref()) {
                    ("contact.creation", _) | ("object.creation", Some("0-1")) => {
                        Some(AccountEvent::ContactCreated {
                            contact_id: e.object_id,
                        })
                    }
                    ("contact.privacyDeletion", _) => Some(AccountEvent::ContactErased {
                        contact_id: e.object_id,
                    }),
                    ("deal.propertyChange", _) | ("object.propertyChange", Some("0-3"))
                        if e.property_name.as_deref() == Some("dealstage") =>
                    {
                        e.property_value
                            .filter(|v| !v.is_empty() && v.len() <= 100)
                            .map(|stage| AccountEvent::DealStageChanged {
                                deal_id: e.object_id,
                                stage,
                            })
                    }
                    _ => None,
                };
                Ok(PlatformEvent {
                    account: e.portal_id.to_string(),
                    id,
                    event,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";

    fn read(
        body: &[u8],
        headers: &[(&'static str, String)],
        now: i64,
    ) -> Result<Vec<PlatformEvent>, HookError> {
        let mut h = http::HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, v.parse().unwrap());
        }
        let uris = vec!["https://idv.example.com/hubspot/v1/webhooks".to_string()];
        HubSpotWebhooks::new(SECRET.to_string().into(), Some("54321".into())).read(
            &SignedRequest {
                method: "POST",
                uris: &uris,
                body,
                headers: &h,
            },
            now,
        )
    }

    #[test]
    fn hubspots_v1_vector_batch_is_read_as_a_created_contact() {
        // The fact file's v1 vector: the same secret, body and signature.
        let body = br#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
        let events = read(
            body,
            &[
                (
                    "x-hubspot-signature",
                    "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de".into(),
                ),
                ("x-hubspot-signature-version", "v1".into()),
            ],
            0,
        )
        .unwrap();
        assert_eq!(
            events,
            vec![PlatformEvent {
                account: "62515".into(),
                id: hex::encode(Sha256::digest("12345:123:1564113600000:1")),
                event: Some(AccountEvent::ContactCreated { contact_id: 123 }),
            }]
        );
        // One byte changed: refused.
        let mut forged = body.to_vec();
        forged[20] = b'9';
        assert!(matches!(
            read(
                &forged,
                &[
                    (
                        "x-hubspot-signature",
                        "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de".into()
                    ),
                    ("x-hubspot-signature-version", "v1".into())
                ],
                0
            ),
            Err(HookError::Unsigned(_))
        ));
    }

    #[test]
    fn v3_batches_map_stage_changes_and_erasures_and_refuse_other_apps() {
        let now = 1_700_000_000_000_i64;
        let sign = |body: &[u8]| {
            vec![
                (
                    "x-hubspot-signature-v3",
                    signature::sign_v3(
                        SECRET,
                        "POST",
                        "https://idv.example.com/hubspot/v1/webhooks",
                        body,
                        &now.to_string(),
                    ),
                ),
                ("x-hubspot-request-timestamp", now.to_string()),
            ]
        };
        let body = br#"[
          {"eventId":7,"subscriptionId":2,"portalId":99,"appId":54321,"occurredAt":5,"subscriptionType":"deal.propertyChange","objectId":501,"propertyName":"dealstage","propertyValue":"closedwon","attemptNumber":0},
          {"eventId":8,"subscriptionId":3,"portalId":99,"appId":54321,"occurredAt":6,"subscriptionType":"contact.privacyDeletion","objectId":11,"attemptNumber":1},
          {"eventId":9,"subscriptionId":4,"portalId":99,"appId":54321,"occurredAt":7,"subscriptionType":"deal.propertyChange","objectId":501,"propertyName":"amount","propertyValue":"10","attemptNumber":0}
        ]"#;
        let events = read(body, &sign(body), now).unwrap();
        let kinds: Vec<_> = events.iter().map(|e| e.event.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                Some(AccountEvent::DealStageChanged {
                    deal_id: 501,
                    stage: "closedwon".into()
                }),
                Some(AccountEvent::ContactErased { contact_id: 11 }),
                None,
            ]
        );
        let other = br#"[{"eventId":1,"subscriptionId":2,"portalId":99,"appId":1,"occurredAt":5,"subscriptionType":"contact.creation","objectId":1}]"#;
        assert!(matches!(
            read(other, &sign(other), now),
            Err(HookError::Malformed(_))
        ));
        let not_a_batch = br#"{"eventId":1}"#;
        assert!(matches!(
            read(not_a_batch, &sign(not_a_batch), now),
            Err(HookError::Malformed(_))
        ));
        // Replayed ten minutes later.
        assert!(matches!(
            read(body, &sign(body), now + 600_000),
            Err(HookError::Unsigned(_))
        ));
    }
}
