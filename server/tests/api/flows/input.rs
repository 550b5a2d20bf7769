//! Bad input, other tenants, the forwarder's events and noisy callbacks.

use std::time::Duration;

use idv_server::{services::Policy, sim::kosmos::KosmosFaults, webhook};
use serde_json::{json, Value};

use crate::both_worlds;
use crate::world::World;
use crate::{
    both,
    helpers::{assert_error, Db},
    world::{spawn_world_with, test_settings, ALIAS},
};

both_worlds!(bad_input_gets_precise_json_errors, bad_input);
async fn bad_input(w: World) {
    let path = w.url("/api/v1/contacts/11/verifications");
    let send = |body: Vec<u8>, ct: &'static str| {
        w.http
            .post(&path)
            .bearer_auth(&w.token)
            .header("content-type", ct)
            .body(body)
            .send()
    };
    assert_error(
        send(b"{not json".to_vec(), "application/json")
            .await
            .unwrap(),
        400,
        "bad_request",
    )
    .await;
    assert_error(
        send(vec![0xff, 0xfe, b'{'], "application/json")
            .await
            .unwrap(),
        400,
        "bad_request",
    )
    .await;
    // A body that parses but does not fit names the field at fault.
    for (body, fault) in [
        (r#"{"force": "yes"}"#, "force: invalid type"),
        (
            r#"{"document_types": ["passport", 7]}"#,
            "document_types[1]: invalid type",
        ),
    ] {
        let res = send(body.as_bytes().to_vec(), "application/json")
            .await
            .unwrap();
        let msg = assert_error(res, 422, "unprocessable").await;
        assert!(msg.contains(fault), "{msg}");
    }
    assert_error(
        send(br#"{"ial": "IAL9"}"#.to_vec(), "application/json")
            .await
            .unwrap(),
        422,
        "unprocessable",
    )
    .await;
    assert_error(
        send(b"force=1".to_vec(), "text/plain").await.unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes();
    assert_error(
        send(deep, "application/json").await.unwrap(),
        400,
        "bad_request",
    )
    .await;
    let huge = vec![b' '; 1024 * 1024];
    assert_error(
        send(huge, "application/json").await.unwrap(),
        413,
        "payload_too_large",
    )
    .await;
    let res = w
        .http
        .post(&path)
        .bearer_auth(&w.token)
        .header("idempotency-key", "x".repeat(500))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "bad_request").await;
    // A contact Freshsales does not have; a verification of nobody; a bad verification id.
    assert_error(w.get("/api/v1/contacts/999/status").await, 404, "not_found").await;
    assert_error(
        w.get("/api/v1/verifications/ver_nope").await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        w.get("/api/v1/verifications/..%2Fetc").await,
        400,
        "bad_request",
    )
    .await;
    assert_error(w.get("/api/v1/deals/abc/status").await, 400, "bad_request").await;
    // Install with a key Freshsales refuses: the admin reads why.
    let res = w
        .install("wrong", &json!({"account_url": w.account_url()}))
        .await;
    let msg = assert_error(res, 422, "unprocessable").await;
    assert!(msg.contains("Token token="), "{msg}");
    let res = w.install("k", &json!({"account_url": "ftp://acme"})).await;
    assert_error(res, 422, "unprocessable").await;
}

both_worlds!(another_tenants_sessions_are_invisible, cross_tenant);
async fn cross_tenant(w: World) {
    let v = w.start_idv(11).await;
    let other = idv_server::http::auth::generate_token();
    w.app
        .state
        .services
        .core
        .store()
        .insert_tenant(
            "other",
            "Other",
            &idv_server::http::auth::hash_token(&other),
        )
        .await
        .unwrap();
    let id = v.id.as_str();
    for (method, path) in [
        ("GET", format!("/api/v1/verifications/{id}")),
        ("POST", format!("/api/v1/verifications/{id}/cancel")),
        ("GET", "/api/v1/contacts/11/status".to_string()),
    ] {
        let req = if method == "GET" {
            w.http.get(w.url(&path))
        } else {
            w.http.post(w.url(&path))
        };
        let res = req.bearer_auth(&other).send().await.unwrap();
        assert_error(res, 404, "not_found").await;
    }
    let still = w.json(&format!("/api/v1/verifications/{id}")).await;
    assert_eq!(still["state"], "pending");
}

both!(
    forwarded_crm_events_are_signed_and_deduplicated,
    forwarder_events
);
async fn forwarder_events(db: Db) {
    let policy = Policy {
        auto_verify_on_create: true,
        ..Policy::default()
    };
    let Some(w) = spawn_world_with(db, test_settings(), policy).await else {
        return;
    };
    let key = crate::world::app_key(&w.token, "/hooks/freshworks");
    let body = serde_json::to_vec(
        &json!({"event": "onContactCreate", "account_url": w.account_url(),
        "data": {"contact": {"id": 12}}}),
    )
    .unwrap();
    let now = idv_server::clock::now_secs();
    let send = |key: Vec<u8>, id: &'static str| {
        let mut req = w
            .http
            .post(w.url("/hooks/freshworks"))
            .bearer_auth(&w.token)
            .header("content-type", "application/json");
        for (k, v) in webhook::headers(&key, id, now, &body) {
            req = req.header(k, v);
        }
        req.body(body.clone()).send()
    };
    assert_error(
        send(b"wrong".to_vec(), "evt-1").await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
    let res = send(key.clone(), "evt-1").await.unwrap();
    assert_eq!(res.status(), 200);
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["result"]["outcome"], "started", "{r}");
    let again: Value = send(key.clone(), "evt-1")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["duplicate"], true);
    let s = w.json("/api/v1/contacts/12/status").await;
    assert_eq!(s["status"], "pending");
    assert_eq!(s["current"]["requested_by"], "automation");
    // A new delivery of the same creation: acted on once, still one session.
    let third: Value = send(key, "evt-2").await.unwrap().json().await.unwrap();
    assert_eq!(third["result"]["outcome"], "already_seen");
    assert_eq!(w.ks.sessions().len(), 1);
}

both_worlds!(
    duplicated_and_reordered_callbacks_apply_once,
    noisy_callbacks
);
async fn noisy_callbacks(w: World) {
    w.ks.set_faults(KosmosFaults {
        duplicate_callbacks: 3,
        callback_jitter_ms: 150,
        ..Default::default()
    });
    let a = w.start_idv(11).await;
    let b = w.start_idv(12).await;
    w.customer(a.id.as_str(), "verified");
    w.customer(b.id.as_str(), "failed");
    w.until("/api/v1/contacts/11/status", |s| s["status"] == "verified")
        .await;
    w.until("/api/v1/contacts/12/status", |s| s["status"] == "failed")
        .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        w.app.services().core.metrics().results.get(),
        2,
        "each result applied once"
    );
    assert!(w.app.services().core.metrics().callbacks_duplicate.get() >= 1);
    // One result note per session, whatever the number of deliveries.
    w.until_crm("notes", |fs| {
        fs.with(ALIAS, |a| a.notes.len()).unwrap() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        w.fs.with(ALIAS, |a| a.notes.len()).unwrap(),
        2,
        "one note per session, telling its start and its result"
    );
}
