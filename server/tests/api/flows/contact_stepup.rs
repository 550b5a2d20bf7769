//! Step-Up Auth on the contact page: a LiveID session for an enrolled contact, no deal needed.

use std::time::Duration;

use idv_server::services::Policy;
use serde_json::{json, Value};

use crate::{
    both,
    helpers::{assert_error, Db},
    world::{spawn_world_with, test_settings, ALIAS},
};

both!(
    step_up_on_the_contact_page_for_an_enrolled_contact,
    contact_step_up
);
async fn contact_step_up(db: Db) {
    let settings = idv_server::services::Settings {
        stepup_poll: Duration::from_millis(100),
        ..test_settings()
    };
    let Some(w) = spawn_world_with(db, settings, Policy::default()).await else {
        return;
    };
    // Not enrolled yet: 409 with the code the widget turns into "verify first".
    let res = w.post("/api/v1/contacts/11/step-up", json!({})).await;
    let msg = assert_error(res, 409, "not_enrolled").await;
    assert!(msg.contains("Verify Identity"), "{msg}");
    // Bad input is a precise 4xx.
    let res = w.post("/api/v1/contacts/0/step-up", json!({})).await;
    assert_error(res, 400, "bad_request").await;
    let res = w
        .post(
            "/api/v1/contacts/11/step-up",
            json!({"requested_by": "x".repeat(300)}),
        )
        .await;
    assert_eq!(res.status(), 422);

    let v = w.start_idv(11).await;
    w.customer(v.id.as_str(), "verified");
    w.until("/api/v1/contacts/11/status", |s| {
        s["liveid_enrolled"] == true
    })
    .await;
    let notes_before = w.fs.with(ALIAS, |a| a.notes.len()).unwrap();

    let res = w
        .post(
            "/api/v1/contacts/11/step-up",
            json!({"requested_by": "rep@acme.example"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let s: Value = res.json().await.unwrap();
    assert_eq!(s["kind"], "stepup");
    assert_eq!(s["state"], "pending");
    assert_eq!(s["contact_id"], 11);
    assert!(s["deal_id"].is_null(), "{s}");
    assert!(s["qr_payload"]
        .as_str()
        .unwrap()
        .contains("/hosted/liveid/"));
    assert!(s["session_expires_at"].is_string());
    // Asked again while it runs: the same session, 200.
    let again = w.post("/api/v1/contacts/11/step-up", json!({})).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], s["id"]);
    // A deal's step-up for the same contact is a session of its own.
    let deal = w.post("/api/v1/deals/501/step-up", json!({})).await;
    assert_eq!(deal.status(), 201);
    let deal: Value = deal.json().await.unwrap();
    assert_ne!(deal["id"], s["id"]);

    w.customer(s["id"].as_str().unwrap(), "approve");
    let contact = w
        .until("/api/v1/contacts/11/status", |c| {
            c["last_stepup_at"].is_string()
        })
        .await;
    let row = contact["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == s["id"])
        .expect("the step-up is in the contact's history")
        .clone();
    assert_eq!(row["state"], "verified");
    // The result lands on the contact as a note.
    w.until_crm("the step-up note on the contact", |fs| {
        fs.with(ALIAS, |a| {
            a.notes.len() > notes_before
                && a.notes.iter().any(|n| {
                    n["targetable_id"] == 11
                        && n["description"]
                            .as_str()
                            .is_some_and(|d| d.starts_with("LiveID step-up passed"))
                })
        })
        .unwrap()
    })
    .await;
}
