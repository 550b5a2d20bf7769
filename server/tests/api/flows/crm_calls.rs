//! Freshsales calls per verification: the start reads the contact once (whatever record data
//! the page sends: the CRM's record is what is verified), and the start and the result share one
//! note.

use std::time::Duration;

use idv_server::services::{Policy, Settings};
use serde_json::{json, Value};

use crate::both_worlds;
use crate::world::World;
use crate::{
    both,
    helpers::{assert_error, Db},
    world::{spawn_world_with, test_settings, ALIAS},
};

both!(
    a_verification_costs_at_most_four_crm_calls_one_of_them_the_contact_s_read,
    four_calls
);
async fn four_calls(db: Db) {
    // The customer finishes within the write-back's coalescing window (as in the bench), so
    // the pending and the verified status are one write; on a loaded machine 50 ms is not that.
    let settings = Settings {
        coalesce: Duration::from_secs(1),
        ..test_settings()
    };
    let Some(w) = spawn_world_with(db, settings, Policy::default()).await else {
        return;
    };
    let before = w.fs.calls(ALIAS).len();
    let res = w
        .post(
            "/api/v1/contacts/12/verifications",
            json!({
                "requested_by": "rep@acme.example",
                "contact": {
                    "first_name": " Grace ",
                    "last_name": "Hopper",
                    "email": "grace@example.com",
                    "phone": "+1 415 555 0132"
                }
            }),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let v: Value = res.json().await.unwrap();
    w.customer(v["id"].as_str().unwrap(), "verified");
    w.until("/api/v1/contacts/12/status", |s| s["status"] == "verified")
        .await;
    w.until_crm("fields, history record and the note", |fs| {
        fs.with(ALIAS, |a| {
            a.contacts[&12]["custom_field"]["cf_idv_status"] == "verified"
                && a.notes.len() == 1
                && a.modules
                    .values()
                    .flat_map(|m| m.values())
                    .any(|r| r["custom_field"]["cf_state"] == "verified")
        })
        .unwrap()
    })
    .await;
    // Anything still in flight lands before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let calls: Vec<String> = w.fs.calls(ALIAS)[before..]
        .iter()
        .map(|c| format!("{} {} {}", c.method, c.path, c.status))
        .collect();
    assert!(calls.len() <= 4, "at most 4 Freshsales calls: {calls:#?}");
    // The page's record data does not spare the read: who is verified is the CRM's record.
    assert_eq!(w.crm_calls("GET", "/contacts/12"), 1, "{calls:#?}");
    // The one note carries the result and the start.
    let note =
        w.fs.with(ALIAS, |a| {
            a.notes[0]["description"].as_str().unwrap().to_string()
        })
        .unwrap();
    assert!(note.starts_with("Identity verified (IAL2"), "{note}");
    assert!(
        note.contains("by rep@acme.example (as the widget reports), link shown in the app."),
        "{note}"
    );
    assert!(note.contains(v["id"].as_str().unwrap()), "{note}");

    // Without record data, the same one read.
    w.start_idv(11).await;
    assert_eq!(w.crm_calls("GET", "/contacts/11"), 1);
}

both_worlds!(
    record_data_that_is_too_long_or_malformed_is_refused_precisely,
    bad_record_data
);
async fn bad_record_data(w: World) {
    for (contact, says) in [
        (json!({"first_name": "x".repeat(256)}), "contact.first_name"),
        (json!({"email": "not an address"}), "contact.email"),
        (
            json!({"email": "a@b.co", "last_name": "x\u{0}y"}),
            "contact.last_name",
        ),
        (
            json!({"email": "a@b.co", "phone": "1".repeat(65)}),
            "contact.phone",
        ),
        (json!({"email": 42}), "expected a string"),
    ] {
        let res = w
            .post(
                "/api/v1/contacts/12/verifications",
                json!({ "contact": contact }),
            )
            .await;
        let msg = assert_error(res, 422, "unprocessable").await;
        assert!(msg.contains(says), "{contact}: {msg}");
    }
    assert!(w.ks.sessions().is_empty(), "nothing was started");
    // Record data that names nobody is no record data: the CRM is read.
    let res = w
        .post(
            "/api/v1/contacts/12/verifications",
            json!({"contact": {"phone": "+1 415 555 0132"}}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(w.crm_calls("GET", "/contacts/12"), 1);
}
