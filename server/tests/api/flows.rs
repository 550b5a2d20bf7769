//! The product loop through the engine: Verify Identity, results by callback and by polling,
//! CRM write-back, step-up, automation, and the bad input each endpoint refuses.

use std::time::Duration;

use idv_server::{services::Policy, sim::kosmos::KosmosFaults, webhook};
use serde_json::{json, Value};

use crate::{
    both,
    helpers::{assert_error, Db},
    world::{spawn_world, spawn_world_with, test_settings, ALIAS, TENANT, WORKFLOW_SECRET},
};

both!(verify_identity_lands_on_the_crm_record, verify_identity);
async fn verify_identity(db: Db) {
    let Some(w) = spawn_world(db).await else {
        return;
    };
    let status = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(status["status"], "not_verified");

    let v = w.start_idv(11).await;
    assert_eq!(v["state"], "pending");
    let link = v["hosted_url"].as_str().unwrap();
    assert!(link.contains("/hosted/verify/"), "{link}");
    let pending = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["current"]["id"], v["id"]);

    // The customer passes; the signed callback makes the engine read the session.
    w.customer(v["id"].as_str().unwrap(), "verified");
    let done = w
        .until("/api/v1/contacts/11/status", |s| s["status"] == "verified")
        .await;
    assert_eq!(done["ial"]["level"], "IAL2");
    assert_eq!(done["document_type"], "drivers_license");
    assert_eq!(done["liveid_enrolled"], true);
    assert!(done["current"].is_null());
    assert_eq!(done["history"][0]["state"], "verified");

    // The record in Freshsales gets the fields, the history module a record, the contact notes.
    w.until_crm("contact fields", |fs| {
        fs.contact(ALIAS, 11).unwrap()["custom_field"]["cf_idv_status"] == "verified"
    })
    .await;
    let cf = w.fs.contact(ALIAS, 11).unwrap()["custom_field"].clone();
    assert_eq!(cf["cf_idv_ial_level"], "IAL2");
    assert_eq!(cf["cf_idv_document_type"], "drivers_license");
    assert_eq!(cf["cf_idv_liveid_enrolled"], true);
    assert_eq!(cf["cf_idv_match_confidence"], 94.0);
    assert!(cf["cf_idv_credential_did"]
        .as_str()
        .unwrap()
        .starts_with("did:"));
    w.until_crm("two notes", |fs| {
        fs.with(ALIAS, |a| a.notes.len()).unwrap() == 2
    })
    .await;
    let notes: Vec<String> =
        w.fs.with(ALIAS, |a| {
            a.notes
                .iter()
                .map(|n| n["description"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("Identity verified (IAL2")),
        "{notes:?}"
    );
    w.until_crm("history record", |fs| {
        fs.with(ALIAS, |a| {
            a.modules
                .values()
                .flat_map(|m| m.values())
                .any(|r| r["custom_field"]["cf_state"] == "verified")
        })
        .unwrap()
    })
    .await;
}

both!(a_second_start_returns_the_same_session, idempotent_start);
async fn idempotent_start(db: Db) {
    let Some(w) = spawn_world(db).await else {
        return;
    };
    let start = |key: &'static str| {
        w.http
            .post(w.url("/api/v1/contacts/12/verifications"))
            .bearer_auth(&w.token)
            .header("idempotency-key", key)
            .json(&json!({"ial": "IAL2", "document_types": ["passport"], "requested_by": "rep@acme.example"}))
            .send()
    };
    let (a, b) = tokio::join!(start("k-1"), start("k-1"));
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut codes = [a.status().as_u16(), b.status().as_u16()];
    codes.sort();
    assert_eq!(
        codes,
        [200, 201],
        "one creates, the other gets the same session"
    );
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_eq!(a["id"], b["id"]);
    // Another key while one is pending: the pending one, not a second session.
    let c = start("k-2").await.unwrap();
    assert_eq!(c.status(), 200);
    assert_eq!(c.json::<Value>().await.unwrap()["id"], a["id"]);
    assert_eq!(w.ks.sessions().len(), 1, "the provider saw one session");
    // `force` supersedes it.
    let res = w
        .post("/api/v1/contacts/12/verifications", json!({"force": true}))
        .await;
    assert_eq!(res.status(), 201);
    let forced: Value = res.json().await.unwrap();
    assert_ne!(forced["id"], a["id"]);
    let old = w
        .json(&format!(
            "/api/v1/verifications/{}",
            a["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(old["state"], "canceled");
}

both!(
    forged_and_replayed_callbacks_change_nothing,
    forged_callbacks
);
async fn forged_callbacks(db: Db) {
    let Some(w) = spawn_world(db).await else {
        return;
    };
    let v = w.start_idv(11).await;
    let id = v["id"].as_str().unwrap();
    let session = w.provider_session(id);
    let hook = w.url(&format!("/hooks/kosmos/{TENANT}"));
    let body = serde_json::to_vec(
        &json!({"type": "verify.session.updated", "session_id": session, "status": "completed"}),
    )
    .unwrap();
    let now = idv_server::clock::now_secs();
    let send = |key: &[u8], msg: &str, ts: i64| {
        let mut req = w
            .http
            .post(&hook)
            .header("content-type", "application/json");
        for (k, v) in webhook::headers(key, msg, ts, &body) {
            req = req.header(k, v);
        }
        req.body(body.clone()).send()
    };
    // Wrong key, stale timestamp, no signature at all: 401, nothing applied.
    assert_error(
        send(b"not-the-secret", "m1", now).await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        send(b"ks-webhook-secret", "m2", now - 3600).await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
    let unsigned = w.http.post(&hook).body(body.clone()).send().await.unwrap();
    assert_error(unsigned, 401, "unauthorized").await;
    // A correctly signed callback for a session still pending at the provider: read, still pending.
    let ok = send(b"ks-webhook-secret", "m3", now).await.unwrap();
    assert_eq!(ok.status(), 202);
    let dup = send(b"ks-webhook-secret", "m3", now).await.unwrap();
    assert_eq!(dup.status(), 200);
    assert_eq!(dup.json::<Value>().await.unwrap()["duplicate"], true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(
        s["status"], "pending",
        "the provider says pending, so pending it stays"
    );
    // Unknown tenant: 404; malformed body under a good signature: 400.
    let res = w
        .http
        .post(w.url("/hooks/kosmos/nobody"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_error(res, 404, "not_found").await;
}

both!(lost_callbacks_are_resolved_by_polling, polling_is_truth);
async fn polling_is_truth(db: Db) {
    let settings = idv_server::services::Settings {
        idv_poll: vec![Duration::from_millis(100)],
        ..test_settings()
    };
    let Some(w) = spawn_world_with(db, settings, Policy::default()).await else {
        return;
    };
    w.ks.set_faults(KosmosFaults {
        drop_callbacks: true,
        read_error_rate: 0.3,
        ..Default::default()
    });
    let v = w.start_idv(11).await;
    w.customer(v["id"].as_str().unwrap(), "failed");
    let s = w
        .until("/api/v1/contacts/11/status", |s| s["status"] == "failed")
        .await;
    assert_eq!(s["history"][0]["failure_reason"], "document expired");
    // A late verified report cannot move a terminal state: the provider still says failed.
    let again = w
        .json(&format!(
            "/api/v1/verifications/{}",
            v["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(again["state"], "failed");
}

both!(step_up_needs_an_enrolled_contact, step_up);
async fn step_up(db: Db) {
    let settings = idv_server::services::Settings {
        stepup_poll: Duration::from_millis(100),
        ..test_settings()
    };
    let Some(w) = spawn_world_with(db, settings, Policy::default()).await else {
        return;
    };
    let res = w.post("/api/v1/deals/501/step-up", json!({})).await;
    let msg = assert_error(res, 409, "not_enrolled").await;
    assert!(msg.contains("Verify Identity"), "{msg}");

    let v = w.start_idv(11).await;
    w.customer(v["id"].as_str().unwrap(), "verified");
    w.until("/api/v1/contacts/11/status", |s| {
        s["liveid_enrolled"] == true
    })
    .await;

    let res = w
        .post(
            "/api/v1/deals/501/step-up",
            json!({"requested_by": "rep@acme.example"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let s: Value = res.json().await.unwrap();
    assert_eq!(s["kind"], "stepup");
    assert!(s["qr_payload"]
        .as_str()
        .unwrap()
        .contains("/hosted/liveid/"));
    assert!(s["session_expires_at"].is_string());
    w.customer(s["id"].as_str().unwrap(), "approve");
    let deal = w
        .until("/api/v1/deals/501/status", |d| {
            d["stepup"]["state"] == "verified"
        })
        .await;
    assert_eq!(deal["primary_contact"]["contact_id"], 11);
    assert!(deal["primary_contact"]["last_stepup_at"].is_string());
}

both!(
    a_gated_stage_starts_verification_and_moves_the_deal_back,
    gated_stage
);
async fn gated_stage(db: Db) {
    let policy = Policy {
        gated_stages: vec!["Negotiation".into()],
        revert_on_gate: true,
        ..Policy::default()
    };
    let Some(w) = spawn_world_with(db, test_settings(), policy).await else {
        return;
    };
    let hook = w.url(&format!("/hooks/freshsales/{TENANT}"));
    // No secret, wrong secret: 401.
    let body = json!({"event": "deal_stage_changed", "deal_id": 501, "stage": "Negotiation", "previous_stage_id": 202});
    let res = w.http.post(&hook).json(&body).send().await.unwrap();
    assert_error(res, 401, "unauthorized").await;
    let res = w
        .http
        .post(&hook)
        .header("x-idv-webhook-secret", "guess")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "unauthorized").await;

    w.fs.with(ALIAS, |a| {
        a.deals.get_mut(&501).unwrap()["deal_stage_id"] = json!(204)
    });
    let res = w
        .http
        .post(&hook)
        .header("x-idv-webhook-secret", WORKFLOW_SECRET)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["result"]["outcome"], "started");
    assert_eq!(r["result"]["deal_moved_back"], true);
    w.until_crm("deal moved back, note and task", |fs| {
        fs.with(ALIAS, |a| {
            a.deals[&501]["deal_stage_id"] == 202
                && !a.tasks.is_empty()
                && a.notes.iter().any(|n| {
                    n["description"]
                        .as_str()
                        .unwrap_or("")
                        .contains("Negotiation")
                })
        })
        .unwrap()
    })
    .await;
    // The same event again: no second session, no second task.
    let res = w
        .http
        .post(&hook)
        .header("x-idv-webhook-secret", WORKFLOW_SECRET)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.json::<Value>().await.unwrap()["result"]["outcome"],
        "started"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(w.ks.sessions().len(), 1);
    assert_eq!(w.fs.with(ALIAS, |a| a.tasks.len()).unwrap(), 1);
    // A stage that is not gated does nothing.
    let other = json!({"event": "deal_stage_changed", "deal_id": 501, "stage": "Proposal"});
    let res = w
        .http
        .post(&hook)
        .header("x-idv-webhook-secret", WORKFLOW_SECRET)
        .json(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.json::<Value>().await.unwrap()["result"]["outcome"],
        "not_gated"
    );
}

both!(ten_changes_cost_one_contact_write, coalescing);
async fn coalescing(db: Db) {
    let settings = idv_server::services::Settings {
        coalesce: Duration::from_secs(5),
        ..test_settings()
    };
    let Some(w) = spawn_world_with(db, settings, Policy::default()).await else {
        return;
    };
    // Ten starts and cancels in quick succession: each changes the contact's fields.
    for _ in 0..5 {
        let v = w.start_idv(12).await;
        let res = w
            .post(
                &format!("/api/v1/verifications/{}/cancel", v["id"].as_str().unwrap()),
                json!({}),
            )
            .await;
        assert_eq!(res.status(), 200);
    }
    w.until_crm("the contact write", |fs| {
        fs.with(ALIAS, |a| {
            a.calls
                .iter()
                .any(|c| c.method == "PUT" && c.path.ends_with("/contacts/12"))
        })
        .unwrap()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        w.crm_calls("PUT", "/contacts/12"),
        1,
        "ten changes, one PUT"
    );
}

both!(bad_input_gets_precise_json_errors, bad_input);
async fn bad_input(db: Db) {
    let Some(w) = spawn_world(db).await else {
        return;
    };
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
    assert_error(
        send(br#"{"force": "yes"}"#.to_vec(), "application/json")
            .await
            .unwrap(),
        422,
        "unprocessable",
    )
    .await;
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
        .http
        .post(w.url("/api/v1/install"))
        .bearer_auth(&w.token)
        .header("x-freshsales-api-key", "wrong")
        .json(&json!({"account_url": w.account_url()}))
        .send()
        .await
        .unwrap();
    let msg = assert_error(res, 422, "unprocessable").await;
    assert!(msg.contains("Token token="), "{msg}");
    let res = w
        .http
        .post(w.url("/api/v1/install"))
        .bearer_auth(&w.token)
        .header("x-freshsales-api-key", "k")
        .json(&json!({"account_url": "ftp://acme"}))
        .send()
        .await
        .unwrap();
    assert_error(res, 422, "unprocessable").await;
}

both!(another_tenants_sessions_are_invisible, cross_tenant);
async fn cross_tenant(db: Db) {
    let Some(w) = spawn_world(db).await else {
        return;
    };
    let v = w.start_idv(11).await;
    let other = idv_server::http::auth::generate_token();
    w.app
        .state
        .store
        .insert_tenant(
            "other",
            "Other",
            &idv_server::http::auth::hash_token(&other),
        )
        .await
        .unwrap();
    let id = v["id"].as_str().unwrap();
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
    let key = idv_server::http::auth::hash_token(&w.token);
    let body = serde_json::to_vec(
        &json!({"event": "onContactCreate", "account_url": w.account_url(),
        "data": {"contact": {"id": 12}}}),
    )
    .unwrap();
    let now = idv_server::clock::now_secs();
    let send = |key: String, id: &'static str| {
        let mut req = w
            .http
            .post(w.url("/hooks/freshworks"))
            .bearer_auth(&w.token)
            .header("content-type", "application/json");
        for (k, v) in webhook::headers(key.as_bytes(), id, now, &body) {
            req = req.header(k, v);
        }
        req.body(body.clone()).send()
    };
    assert_error(
        send("wrong".into(), "evt-1").await.unwrap(),
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
    // A new delivery of the same creation: still one session.
    let third: Value = send(key, "evt-2").await.unwrap().json().await.unwrap();
    assert_eq!(third["result"]["outcome"], "already_pending_or_valid");
    assert_eq!(w.ks.sessions().len(), 1);
}

both!(
    duplicated_and_reordered_callbacks_apply_once,
    noisy_callbacks
);
async fn noisy_callbacks(db: Db) {
    let Some(w) = spawn_world(db).await else {
        return;
    };
    w.ks.set_faults(KosmosFaults {
        duplicate_callbacks: 3,
        callback_jitter_ms: 150,
        ..Default::default()
    });
    let a = w.start_idv(11).await;
    let b = w.start_idv(12).await;
    w.customer(a["id"].as_str().unwrap(), "verified");
    w.customer(b["id"].as_str().unwrap(), "failed");
    w.until("/api/v1/contacts/11/status", |s| s["status"] == "verified")
        .await;
    w.until("/api/v1/contacts/12/status", |s| s["status"] == "failed")
        .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        w.app.engine().metrics.results.get(),
        2,
        "each result applied once"
    );
    assert!(w.app.engine().metrics.callbacks_duplicate.get() >= 1);
    // One result note per session, whatever the number of deliveries.
    w.until_crm("notes", |fs| {
        fs.with(ALIAS, |a| a.notes.len()).unwrap() >= 4
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        w.fs.with(ALIAS, |a| a.notes.len()).unwrap(),
        4,
        "two starts, two results"
    );
}

both!(dead_writes_are_replayed, dead_rows);
async fn dead_rows(db: Db) {
    let Some(w) = spawn_world(db).await else {
        return;
    };
    let v = w.start_idv(11).await;
    w.fs.set_faults(idv_server::sim::freshsales::FsFaults {
        error_rate: 1.0,
        ..Default::default()
    });
    w.customer(v["id"].as_str().unwrap(), "verified");
    w.until("/api/v1/contacts/11/status", |s| s["status"] == "verified")
        .await;
    let engine = w.app.engine().clone();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let dead = engine
            .sync_counts()
            .await
            .unwrap()
            .into_iter()
            .find(|(s, _)| s == "dead")
            .map_or(0, |x| x.1);
        if dead > 0
            && engine
                .sync_counts()
                .await
                .unwrap()
                .iter()
                .all(|(s, n)| s != "pending" || *n == 0)
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "rows never went dead");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let metrics = w
        .http
        .get(w.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !metrics.contains("idv_outbox_rows{state=\"dead\"} 0"),
        "{metrics}"
    );
    w.fs.set_faults(Default::default());
    assert!(engine.replay_dead(Some(TENANT)).await.unwrap() > 0);
    w.until_crm("the replayed write", |fs| {
        fs.contact(ALIAS, 11).unwrap()["custom_field"]["cf_idv_status"] == "verified"
    })
    .await;
}

both!(the_doctor_names_the_remedy, doctor);
async fn doctor(db: Db) {
    use idv_server::services::tenant;
    let Some(w) = spawn_world(db).await else {
        return;
    };
    let engine = w.app.engine().clone();
    let report = |base: String, key: &'static str| {
        let engine = engine.clone();
        let store = w.app.state.store.clone();
        async move {
            tenant::set_connections(
                &store,
                &engine.sealer,
                TENANT,
                &tenant::Connections {
                    freshsales_base_url: Some(base),
                    freshsales_key: Some(key.into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            engine.forget_clients(TENANT);
            let t = engine.tenant(TENANT).await.unwrap().unwrap();
            engine.doctor(&t).await
        }
    };
    let api = format!("{}/crm/sales/api", w.account_url());
    let good = report(api.clone(), crate::world::FS_KEY).await;
    assert!(
        good.iter().find(|c| c.name == "freshsales").unwrap().ok,
        "{good:?}"
    );
    assert!(
        good.iter().find(|c| c.name == "1kosmos").unwrap().ok,
        "{good:?}"
    );
    let bearer = report(api.clone(), "Bearer fs-key-acme").await;
    let c = bearer.iter().find(|c| c.name == "freshsales").unwrap();
    assert!(!c.ok && c.detail.contains("Token token="), "{c:?}");
    let alias = report(api.replace("/a/acme/", "/a/nope/"), crate::world::FS_KEY).await;
    let c = alias.iter().find(|c| c.name == "freshsales").unwrap();
    assert!(!c.ok && c.detail.contains("bundle alias"), "{c:?}");
    let down = report(
        "http://127.0.0.1:9/crm/sales/api".into(),
        crate::world::FS_KEY,
    )
    .await;
    let c = down.iter().find(|c| c.name == "freshsales").unwrap();
    assert!(!c.ok && c.detail.contains("reach"), "{c:?}");
}

/// The SQLite file (and its WAL) never holds a key, token, secret, email or hosted link.
#[tokio::test]
async fn no_plaintext_secret_or_personal_field_in_the_database_file() {
    let Some(w) = spawn_world(Db::Sqlite).await else {
        return;
    };
    let v = w.start_idv(11).await;
    w.customer(v["id"].as_str().unwrap(), "verified");
    w.until("/api/v1/contacts/11/status", |s| s["status"] == "verified")
        .await;
    w.until_crm("fields", |fs| {
        fs.contact(ALIAS, 11).unwrap()["custom_field"]["cf_idv_status"] == "verified"
    })
    .await;
    let did = w.fs.contact(ALIAS, 11).unwrap()["custom_field"]["cf_idv_credential_did"]
        .as_str()
        .unwrap()
        .to_string();
    let file = w.db_file();
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.extend(std::fs::read(format!("{}-wal", file.display())).unwrap_or_default());
    let text = String::from_utf8_lossy(&bytes);
    for secret in [
        crate::world::FS_KEY,
        crate::world::KS_KEY,
        crate::world::KS_SECRET,
        WORKFLOW_SECRET,
        w.token.as_str(),
        "ada@example.com",
        "Lovelace",
        did.as_str(),
        v["hosted_url"].as_str().unwrap(),
    ] {
        assert!(
            !text.contains(secret),
            "{secret:?} is in the database file in plain text"
        );
    }
}

both!(a_burst_stays_under_the_plans_rate_limit, burst);
async fn burst(db: Db) {
    use idv_server::services::tenant;
    let Some(w) = spawn_world(db).await else {
        return;
    };
    let engine = w.app.engine().clone();
    // A plan of 20 calls per (scaled) hour of one second; the simulator allows two more, for
    // the timing between the two clocks on a loaded machine.
    tenant::set_connections(
        &w.app.state.store,
        &engine.sealer,
        TENANT,
        &tenant::Connections {
            hourly_limit: Some(20),
            rate_window_secs: Some(1),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    engine.forget_clients(TENANT);
    w.fs.with(ALIAS, |a| {
        a.hourly_limit = 22;
        a.hour = Duration::from_secs(1);
    });
    let t = engine.tenant(TENANT).await.unwrap().unwrap();
    for id in 100..160u64 {
        w.fs.seed_contact(
            ALIAS,
            id,
            "B",
            "Urst",
            &format!("b{id}@example.com"),
            "+1 415 555 0100",
        );
        w.app
            .state
            .store
            .upsert_contact(TENANT, id as i64, false)
            .await
            .unwrap();
    }
    let started = std::time::Instant::now();
    {
        let mut tx = w.app.state.store.begin().await.unwrap();
        for id in 100..160i64 {
            engine.queue_contact_writes(&mut tx, &t, id).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    engine.wake_sync.notify_one();
    let deadline = started + Duration::from_secs(20);
    loop {
        let counts = engine.sync_counts().await.unwrap();
        if counts.iter().all(|(s, n)| s == "done" || *n == 0) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the burst did not drain: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let calls = w.fs.calls(ALIAS);
    assert_eq!(
        calls.iter().filter(|c| c.status == 429).count(),
        0,
        "no call over the limit"
    );
    assert_eq!(
        w.crm_calls("PUT", "/contacts/1"),
        60,
        "every record written once"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "60 calls at 20/s cannot take under 2 s"
    );
}
