//! A forged signature costs the server nothing to refuse: a `webhook-signature` header too big
//! to check is answered 400 before any MAC, however many entries it carries.

use idv_server::webhook;
use serde_json::{json, Value};

use crate::both_worlds;
use crate::world::World;
use crate::world::{KS_SECRET, TENANT};

both_worlds!(
    a_callback_with_50000_signature_entries_and_a_64_kib_body_is_refused_as_malformed,
    amplification
);
async fn amplification(w: World) {
    let padding = "x".repeat(64 * 1024 - 200);
    let body = serde_json::to_vec(
        &json!({"type": "verify.session.updated", "session_id": "s1", "pad": padding}),
    )
    .unwrap();
    // Each entry decodes, so the old code computed one HMAC over the body per entry.
    let forged = vec!["v1,AA=="; 50_000].join(" ");
    let res = w
        .http
        .post(w.url(&format!("/hooks/kosmos/{TENANT}")))
        .header("content-type", "application/json")
        .header("webhook-id", "msg_amplify")
        .header(
            "webhook-timestamp",
            idv_server::clock::now_secs().to_string(),
        )
        .header("webhook-signature", forged)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"], "bad_request", "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("webhook-signature"),
        "{err}"
    );

    // A real signature among a rotation's few entries is still accepted.
    let ts = idv_server::clock::now_secs();
    let good = webhook::sign(KS_SECRET.as_bytes(), "msg_good", ts, &body);
    let res = w
        .http
        .post(w.url(&format!("/hooks/kosmos/{TENANT}")))
        .header("content-type", "application/json")
        .header("webhook-id", "msg_good")
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", format!("v1,AA== {good}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202, "{}", res.text().await.unwrap());
}
