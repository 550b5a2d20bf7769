//! Property-based hostile input on every endpoint: never a 5xx, always JSON.

use crate::{
    helpers::Db,
    world::{spawn_world, FS_KEY, KS_SECRET, TENANT, WORKFLOW_SECRET},
};

mod hostile_input {
    use proptest::prelude::*;

    use super::*;

    fn body() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            "\\PC{0,200}".prop_map(String::into_bytes),
            (1usize..3000).prop_map(|d| format!("{}{}", "[".repeat(d), "]".repeat(d)).into_bytes()),
            Just(br#"{"force": [], "ial": {"x": 1}, "document_types": "passport"}"#.to_vec()),
            Just(br#"{"event": "deal_stage_changed", "deal_id": 1e400, "stage": null}"#.to_vec()),
            Just(br#"{"account_url": "<script>alert(1)</script>"}"#.to_vec()),
            Just(br#"{"email": "a@b.co", "first_name": "\u0000", "marketing_consent": {}}"#.to_vec()),
            Just(br#"{"email": "x@example.com", "first_name": "A", "last_name": "B", "phone": "+999999999999999999"}"#.to_vec()),
        ]
    }

    fn id() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{1,30}",
            "\\PC{1,40}"
                .prop_map(|s| s.replace(['/', '?', '#'], ""))
                .prop_filter("non-empty", |s| !s.trim().is_empty()),
            Just("9".repeat(10_000)),
            Just("-1".into()),
            Just("%00".into()),
        ]
    }

    /// Every public endpoint, any body, any id: a JSON 4xx (or a 2xx), never a 5xx. Requests
    /// come with the caller's credentials, wrong ones, or none; signed ones (`auth` 3) carry a
    /// valid signature or secret for their route and name the real tenant, so that every
    /// endpoint's body parser sees the hostile body.
    #[test]
    fn no_endpoint_answers_hostile_input_with_a_5xx() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let w = rt.block_on(spawn_world(Db::Sqlite)).unwrap();
        let cfg = ProptestConfig {
            cases: 160,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        let signed_bodies = std::sync::atomic::AtomicUsize::new(0);
        proptest!(cfg, |(body in body(), id in id(), route in 0usize..15, auth in 0usize..4)| {
            let enc: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
            let signed = auth == 3;
            // Signed hooks name the real tenant: a made-up one would be refused first.
            let hook_tenant = if signed { TENANT.to_string() } else { enc.clone() };
            let (method, path) = match route {
                0 => ("GET", format!("/api/v1/contacts/{enc}/status")),
                1 => ("POST", format!("/api/v1/contacts/{enc}/verifications")),
                2 => ("GET", format!("/api/v1/deals/{enc}/status")),
                3 => ("POST", format!("/api/v1/deals/{enc}/step-up")),
                4 => ("GET", format!("/api/v1/verifications/{enc}")),
                5 => ("POST", format!("/api/v1/verifications/{enc}/cancel")),
                6 => ("POST", "/api/v1/install".to_string()),
                7 => ("POST", format!("/hooks/kosmos/{hook_tenant}")),
                8 => ("POST", "/hooks/freshworks".to_string()),
                9 => ("POST", format!("/api/v1/verifications/{enc}/resend")),
                10 => ("POST", format!("/hooks/freshsales/{hook_tenant}")),
                11 => ("POST", format!("/hooks/freshchat/{TENANT}")),
                12 => ("GET", format!("/hooks/freshchat/{TENANT}/verifications/{enc}")),
                13 => ("POST", format!("/hooks/freshchat/{TENANT}/events")),
                _ => ("POST", format!("/hooks/freshchat/{hook_tenant}/events")),
            };
            let (code, ct, text) = rt.block_on(async {
                let mut req = if method == "GET" { w.http.get(w.url(&path)) } else { w.http.post(w.url(&path)) };
                req = match auth {
                    0 => req
                        .bearer_auth(&w.token)
                        .header("x-idv-webhook-secret", WORKFLOW_SECRET)
                        .header("x-freshchat-signature", "AAAA"),
                    1 => req
                        .header("authorization", "Bearer nope")
                        .header("x-idv-webhook-secret", "nope"),
                    2 => req,
                    _ => {
                        // The route's own credentials: the token, the workflow secret, the
                        // admin's Freshsales key, Freshchat's RSA signature, and a Standard
                        // Webhooks signature keyed as the route expects.
                        let key = if route == 7 {
                            KS_SECRET.as_bytes().to_vec()
                        } else {
                            crate::world::app_key(&w.token, &path)
                        };
                        let msg = idv_server::domain::ids::new_id("msg");
                        let mut req = req
                            .bearer_auth(&w.token)
                            .header("x-idv-webhook-secret", WORKFLOW_SECRET)
                            .header("x-freshsales-api-key", FS_KEY)
                            .header("x-freshchat-signature", w.fc.sign(&body));
                        for (k, v) in idv_server::webhook::headers(&key, &msg, idv_server::clock::now_secs(), &body) {
                            req = req.header(k, v);
                        }
                        req
                    }
                };
                let res = req.header("content-type", "application/json").body(body.clone()).send().await.unwrap();
                let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap_or("").to_string()).unwrap_or_default();
                let code = res.status().as_u16();
                (code, ct, res.text().await.unwrap_or_default())
            });
            prop_assert!(code < 500 || code == 502, "{method} {path} answered {code}");
            prop_assert!(ct.starts_with("application/json"), "{method} {path} answered {code} as {ct:?}");
            if signed && method == "POST" {
                // The credentials were good: what answered was the body's parser (or later).
                // A 403 for a body naming another account than the tenant's is the body's answer.
            let door = code == 401 || (code == 403 && !text.contains("another account"));
            prop_assert!(!door, "signed {method} {path} was refused at the door: {code} {text}");
                signed_bodies.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
        assert!(
            signed_bodies.load(std::sync::atomic::Ordering::Relaxed) > 10,
            "too few signed hostile bodies reached the parsers"
        );
    }
}
