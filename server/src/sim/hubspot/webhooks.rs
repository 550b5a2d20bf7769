//! The twin's webhook sender: batches of events, signed as HubSpot signs them, sent again on a
//! 5xx.

use axum::http::header;
use serde_json::json;

use super::HubSpotSim;

impl HubSpotSim {
    /// Posts a batch of events to `url` as HubSpot's webhook sender does: a JSON array signed
    /// v3 (and v1) with the app's client secret, sent again (`attemptNumber` + 1) on a 5xx or
    /// no answer, at most `attempts` times. Returns the last status (0: never answered).
    pub async fn send_events(&self, url: &str, events: &[serde_json::Value], attempts: u32) -> u16 {
        let secret = self.state.lock().client_secret.clone();
        let http = reqwest::Client::new();
        let mut last = 0;
        for attempt in 0..attempts.max(1) {
            let batch: Vec<serde_json::Value> = events
                .iter()
                .map(|e| {
                    let mut e = e.clone();
                    e["attemptNumber"] = json!(attempt);
                    e
                })
                .collect();
            let body = serde_json::to_vec(&batch).expect("events serialise");
            let at = crate::clock::now_ms().to_string();
            let v3 = crate::adapters::hubspot::signature::sign_v3(&secret, "POST", url, &body, &at);
            let v1 = crate::adapters::hubspot::signature::sign_v1(&secret, &body);
            let sent = http
                .post(url)
                .header(header::CONTENT_TYPE, "application/json")
                .header("x-hubspot-signature-v3", v3)
                .header("x-hubspot-signature", v1)
                .header("x-hubspot-signature-version", "v1")
                .header("x-hubspot-request-timestamp", at)
                .body(body)
                .send()
                .await;
            match sent {
                Ok(res) if !res.status().is_server_error() => return res.status().as_u16(),
                Ok(res) => last = res.status().as_u16(),
                Err(_) => last = 0,
            }
        }
        last
    }

    /// A webhook event of this portal, as HubSpot's sender writes one.
    pub fn event(&self, kind: &str, object: u64, extra: serde_json::Value) -> serde_json::Value {
        let mut s = self.state.lock();
        let id = {
            s.counter += 1;
            s.counter
        };
        let mut e = json!({
            "eventId": id, "subscriptionId": 9, "portalId": s.portal, "appId": super::APP_ID,
            "occurredAt": crate::clock::now_ms(), "subscriptionType": kind,
            "attemptNumber": 0, "objectId": object, "changeSource": "CRM",
        });
        if let (Some(e), Some(x)) = (e.as_object_mut(), extra.as_object()) {
            e.extend(x.clone());
        }
        e
    }
}
