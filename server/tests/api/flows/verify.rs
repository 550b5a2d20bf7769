//! Verify Identity to the CRM record: results by callback and by polling, idempotent starts, forged callbacks, coalesced writes.

use std::time::Duration;

use idv_server::{
    ports::identity::{Outcome, ResultFields, SessionReport},
    services::Policy,
    sim::kosmos::KosmosFaults,
    webhook,
};
use serde_json::{json, Value};

use crate::both_worlds;
use crate::world::World;
use crate::{
    both,
    helpers::{assert_error, Db},
    world::{spawn_world_with, test_settings, ALIAS, TENANT},
};

both_worlds!(verify_identity_lands_on_the_crm_record, verify_identity);
async fn verify_identity(w: World) {
    let status = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(status["status"], "not_verified");

    let v = w.start_idv(11).await;
    assert_eq!(v.state.as_str(), "pending");
    let link = v.hosted_url.as_deref().unwrap();
    assert!(link.contains("/hosted/verify/"), "{link}");
    let pending = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["current"]["id"], v.id);

    // The customer passes; the signed callback makes the engine read the session.
    w.customer(v.id.as_str(), "verified");
    let done = w
        .until("/api/v1/contacts/11/status", |s| s["status"] == "verified")
        .await;
    assert_eq!(done["ial"]["level"], "IAL2");
    assert_eq!(done["document_type"], "drivers_license");
    assert_eq!(done["liveid_enrolled"], true);
    assert!(done["current"].is_null());
    assert_eq!(done["history"][0]["state"], "verified");

    // The record in Freshsales gets the fields, the history module a record, the contact one
    // note that tells the start and the result.
    w.until_crm("contact fields", |fs| {
        fs.contact(ALIAS, 11).unwrap()["custom_field"]["cf_idv_status"] == "verified"
    })
    .await;
    let cf = w.fs.contact(ALIAS, 11).unwrap()["custom_field"].clone();
    assert_eq!(cf["cf_idv_ial_level"], "IAL2");
    assert_eq!(cf["cf_idv_document_type"], "drivers_license");
    assert_eq!(cf["cf_idv_liveid_enrolled"], "true");
    assert_eq!(cf["cf_idv_match_confidence"], 94.0);
    // The credential DID stays in the backend unless the admin asked to publish it.
    assert!(cf["cf_idv_credential_did"].is_null(), "{cf}");
    w.until_crm("the result note", |fs| {
        fs.with(ALIAS, |a| a.notes.len()).unwrap() == 1
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
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].starts_with("Identity verified (IAL2"), "{notes:?}");
    assert!(
        notes[0].contains("by a user of the widget, link shown in the app."),
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

both_worlds!(a_second_start_returns_the_same_session, idempotent_start);
async fn idempotent_start(w: World) {
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

both_worlds!(
    forged_and_replayed_callbacks_change_nothing,
    forged_callbacks
);
async fn forged_callbacks(w: World) {
    // The provider's own callbacks are lost: only the deliveries below can make the engine
    // read the session (the poller waits ten minutes).
    w.ks.set_faults(KosmosFaults {
        drop_callbacks: true,
        ..Default::default()
    });
    let v = w.start_idv(11).await;
    let id = v.id.as_str();
    let session = w.provider_session(id);
    let hook = w.url(&format!("/hooks/kosmos/{TENANT}"));
    let body = serde_json::to_vec(
        &json!({"type": "verify.session.updated", "session_id": session, "status": "completed"}),
    )
    .unwrap();
    let now = idv_server::clock::now_secs();
    let send = |key: &[u8], msg: &str, ts: i64, body: &[u8]| {
        let mut req = w
            .http
            .post(&hook)
            .header("content-type", "application/json");
        for (k, v) in webhook::headers(key, msg, ts, body) {
            req = req.header(k, v);
        }
        req.body(body.to_vec()).send()
    };
    let reads = || w.app.services().core.metrics().provider_reads.get();
    // A correctly signed callback that says "completed" while the provider says pending: the
    // engine reads the session, and pending it stays (a callback is a hint, not the result).
    let ok = send(b"ks-webhook-secret", "m1", now, &body).await.unwrap();
    assert_eq!(ok.status(), 202);
    crate::reliability::eventually("the hinted read", 10, || reads() >= 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let s = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(s["status"], "pending", "the provider says pending: {s}");

    // Now the customer passes; the provider's callback is lost. A forged, stale, unsigned or
    // replayed delivery that got through would make the engine read the session and apply
    // "verified": each is refused, and the contact stays pending.
    w.customer(id, "verified");
    let before = reads();
    assert_error(
        send(b"not-the-secret", "m2", now, &body).await.unwrap(),
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        send(b"ks-webhook-secret", "m3", now - 3600, &body)
            .await
            .unwrap(),
        401,
        "unauthorized",
    )
    .await;
    let unsigned = w.http.post(&hook).body(body.clone()).send().await.unwrap();
    assert_error(unsigned, 401, "unauthorized").await;
    let replay = send(b"ks-webhook-secret", "m1", now, &body).await.unwrap();
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.json::<Value>().await.unwrap()["duplicate"], true);
    // Malformed body under a good signature: 400; unknown tenant: 404.
    for bad in [
        &b"not json"[..],
        br#"{"type": "verify.session.updated"}"#,
        b"[]",
    ] {
        let res = send(b"ks-webhook-secret", "m4", now, bad).await.unwrap();
        assert_error(res, 400, "bad_request").await;
    }
    let res = w
        .http
        .post(w.url("/hooks/kosmos/nobody"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_error(res, 404, "not_found").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(reads(), before, "no refused delivery made the engine read");
    let s = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(s["status"], "pending", "{s}");

    // The same body with a new id and a good signature is the hint that works.
    let ok = send(b"ks-webhook-secret", "m5", now, &body).await.unwrap();
    assert_eq!(ok.status(), 202);
    w.until("/api/v1/contacts/11/status", |s| s["status"] == "verified")
        .await;
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
    let id = v.id.as_str();
    let engine = w.app.services();
    // The session as a reader saw it while it was pending.
    let seen_pending = engine.core.verification(TENANT, id).await.unwrap().unwrap();
    w.customer(id, "failed");
    let s = w
        .until("/api/v1/contacts/11/status", |s| s["status"] == "failed")
        .await;
    // The design contract names no reason codes: the provider's words, for support, with the
    // next step.
    assert_eq!(
        s["history"][0]["failure_reason"],
        "The customer could not be verified (document expired). Next step: send a new link; if \
         it fails again, contact support."
    );
    assert_eq!(s["history"][0]["failure_code"], "unknown");
    // That reader's late report says verified: it is recorded as late and moves nothing.
    let tenant = engine.core.tenants().get(TENANT).await.unwrap().unwrap();
    let late = SessionReport {
        session_id: seen_pending.provider_session_id.clone().unwrap_or_default(),
        outcome: Outcome::Verified(ResultFields {
            ial: Some("IAL2".into()),
            document_type: Some("passport".into()),
            match_confidence: Some(0.99),
            credential_did: Some("did:1kosmos:late".into()),
            identity_match: Some(idv_types::IdentityMatch::Match),
            holder: None,
        }),
    };
    let applied = engine
        .results
        .apply_report(&tenant, &seen_pending, &late)
        .await
        .unwrap();
    assert!(!applied, "a late report is not applied");
    let again = w.json(&format!("/api/v1/verifications/{id}")).await;
    assert_eq!(again["state"], "failed", "{again}");
    let status = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(status["status"], "failed", "{status}");
    let audit = w.json("/api/v1/contacts/11/audit").await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["session_id"] == id)
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "result").count(),
        1,
        "{actions:?}"
    );
    assert!(actions.contains(&"late_report_ignored"), "{actions:?}");
}

both_worlds!(
    a_valid_verification_is_not_hidden_by_a_failed_retry,
    valid_verification_wins
);
async fn valid_verification_wins(w: World) {
    let v = w.start_idv(11).await;
    w.customer(v.id.as_str(), "verified");
    w.until("/api/v1/contacts/11/status", |s| s["status"] == "verified")
        .await;
    // A forced re-verification that the customer fails…
    let res = w
        .post("/api/v1/contacts/11/verifications", json!({"force": true}))
        .await;
    assert_eq!(res.status(), 201);
    let again: Value = res.json().await.unwrap();
    w.customer(again["id"].as_str().unwrap(), "failed");
    w.until("/api/v1/contacts/11/status", |s| {
        s["history"][0]["state"] == "failed"
    })
    .await;
    // …leaves the contact verified until the first verification lapses.
    let status = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(status["status"], "verified", "{status}");
    assert_eq!(status["ial"]["level"], "IAL2");
}

both_worlds!(
    a_user_named_by_the_widget_is_labelled_as_its_claim,
    claimed_actor
);
async fn claimed_actor(w: World) {
    // The widget can name anyone, "automation" included: the note says whose word it is.
    let res = w
        .post(
            "/api/v1/contacts/11/verifications",
            json!({"requested_by": "automation"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.unwrap();
    w.customer(v["id"].as_str().unwrap(), "verified");
    w.until_crm("the result note", |fs| {
        fs.with(ALIAS, |a| a.notes.len()).unwrap() == 1
    })
    .await;
    let note = w.fs.with(ALIAS, |a| a.notes[0].to_string()).unwrap();
    assert!(
        note.contains("by automation (as the widget reports)"),
        "{note}"
    );
}

both_worlds!(
    markup_from_the_rep_or_the_provider_arrives_in_the_crm_note_as_text,
    note_markup
);
async fn note_markup(w: World) {
    let by = "<img src=x onerror=alert(1)>";
    let res = w
        .post(
            "/api/v1/contacts/11/verifications",
            json!({"requested_by": by}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.unwrap();
    let id = v["id"].as_str().unwrap();
    w.ks.complete(
        &w.provider_session(id),
        &idv_server::sim::kosmos::Outcome {
            outcome: "failed".into(),
            reason: Some("<script>steal()</script> & more".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let note = |fs: &idv_server::sim::freshsales::FreshsalesSim| {
        fs.with(ALIAS, |a| {
            a.notes
                .iter()
                .map(|n| n["description"].as_str().unwrap_or("").to_string())
                .find(|d| d.contains(id))
        })
        .unwrap()
    };
    w.until_crm("the result's note", |fs| {
        note(fs).is_some_and(|d| d.contains("failed"))
    })
    .await;
    let text = note(&w.fs).unwrap();
    assert!(
        !text.contains("<img") && !text.contains("<script"),
        "{text}"
    );
    assert!(
        text.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{text}"
    );
    assert!(
        text.contains("&lt;script&gt;steal()&lt;/script&gt; &amp; more"),
        "{text}"
    );
}

both!(
    the_credential_did_reaches_the_crm_only_when_the_admin_publishes_it,
    did_published
);
async fn did_published(db: Db) {
    let policy = Policy {
        publish_credential_did: true,
        ..Policy::default()
    };
    let Some(w) = spawn_world_with(db, test_settings(), policy).await else {
        return;
    };
    let v = w.start_idv(11).await;
    let id = v.id.as_str();
    w.customer(id, "verified");
    let did =
        w.ks.sessions()
            .into_iter()
            .find(|s| s.reference == id)
            .and_then(|s| s.result["credential_did"].as_str().map(str::to_string))
            .expect("the provider's credential");
    w.until_crm("the DID in its field", |fs| {
        fs.contact(ALIAS, 11).unwrap()["custom_field"]["cf_idv_credential_did"] == did.as_str()
    })
    .await;
}
