//! Expiry and freshness: a verification that lapses gets a note, a task for the contact's owner
//! and (policy) a new session; a change of the contact's identity ends a valid verification
//! when the policy says so; a lapsed verification and an abandoned link read differently.

use idv_server::services::Policy;
use serde_json::{json, Value};

use crate::{
    both,
    helpers::Db,
    world::{spawn_world_with, test_settings, World, ALIAS},
};

/// Verifies contact 11 and returns the session id.
async fn verified(w: &World) -> String {
    let v = w.start_idv(11).await;
    let id = v.id.clone();
    w.customer(&id, "verified");
    w.until("/api/v1/contacts/11/status", |s| s["status"] == "verified")
        .await;
    id
}

fn text_of(v: &Value) -> &str {
    v["description"].as_str().unwrap_or("")
}

both!(
    a_lapsed_verification_gets_a_note_a_task_and_with_the_policy_a_new_session,
    lapse
);
async fn lapse(db: Db) {
    let policy = Policy {
        reverify_on_expiry: true,
        ..Policy::default()
    };
    let Some(w) = spawn_world_with(db, test_settings(), policy).await else {
        return;
    };
    w.fs.with(ALIAS, |a| {
        a.contacts.get_mut(&11).unwrap()["owner_id"] = json!(42)
    });
    let id = verified(&w).await;
    sqlx::query("UPDATE verifications SET valid_until = $1 WHERE id = $2")
        .bind(idv_server::clock::now_ms() - 1_000)
        .bind(&id)
        .execute(w.app.services().core.store().pool())
        .await
        .unwrap();
    // The expiry job lapses it and starts a new one, sent by the automation delivery.
    let status = w
        .until("/api/v1/contacts/11/status", |s| {
            s["status"] == "pending"
                && s["history"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|h| h["id"] == id.as_str() && h["state"] == "lapsed")
        })
        .await;
    assert_eq!(status["current"]["delivery"], "email", "{status}");
    assert_eq!(w.ks.sessions().len(), 2);
    w.until_crm("a lapse note and a task for the owner", |fs| {
        fs.with(ALIAS, |a| {
            a.notes
                .iter()
                .any(|n| text_of(n).contains(&id) && text_of(n).contains("lapsed"))
                && a.tasks
                    .iter()
                    .any(|t| t["title"] == "Identity verification lapsed" && t["owner_id"] == 42)
        })
        .unwrap()
    })
    .await;
}

both!(
    without_the_policy_a_lapsed_verification_starts_nothing_and_reads_lapsed_not_expired,
    lapse_without_reverify
);
async fn lapse_without_reverify(db: Db) {
    let Some(w) = spawn_world_with(db, test_settings(), Policy::default()).await else {
        return;
    };
    let id = verified(&w).await;
    sqlx::query("UPDATE verifications SET valid_until = $1 WHERE id = $2")
        .bind(idv_server::clock::now_ms() - 1_000)
        .bind(&id)
        .execute(w.app.services().core.store().pool())
        .await
        .unwrap();
    w.until_crm("the lapse task", |fs| {
        fs.with(ALIAS, |a| {
            a.tasks
                .iter()
                .any(|t| t["title"] == "Identity verification lapsed")
        })
        .unwrap()
    })
    .await;
    w.until_crm("lapsed on the record", |fs| {
        fs.contact(ALIAS, 11).unwrap()["custom_field"]["cf_idv_status"] == "lapsed"
    })
    .await;
    let s = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(s["status"], "lapsed", "{s}");
    assert!(s.get("current").is_none(), "nothing new started: {s}");
    assert_eq!(w.ks.sessions().len(), 1);
    // A link the customer never used is another state: expired.
    let v = w.start_idv(12).await;
    w.customer(v.id.as_str(), "abandoned");
    let s = w
        .until("/api/v1/contacts/12/status", |s| s["status"] == "expired")
        .await;
    assert_eq!(s["history"][0]["state"], "expired", "{s}");
}

/// The forwarder's `onContactUpdate` with `changes`.
fn contact_update(w: &World, changes: Value) -> Value {
    json!({"event": "onContactUpdate", "account_url": w.account_url(), "data": {"contact": {"id": 11},
        "changes": {"model_changes": changes}}})
}

both!(
    a_name_change_invalidates_a_verification_only_when_the_policy_says_so,
    identity_change
);
async fn identity_change(db: Db) {
    // Policy off: the verification stands.
    let Some(w) = spawn_world_with(db, test_settings(), Policy::default()).await else {
        return;
    };
    verified(&w).await;
    let res = w
        .post_signed(
            "/hooks/freshworks",
            &[],
            &contact_update(&w, json!({"first_name": ["Ada", "Augusta"]})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["result"]["outcome"], "policy_off", "{r}");
    assert_eq!(
        w.json("/api/v1/contacts/11/status").await["status"],
        "verified"
    );

    // Policy on: a change that is not the name, email or phone does nothing…
    let policy = json!({"invalidate_on_identity_change": true});
    let res = w
        .install(
            crate::world::FS_KEY,
            &json!({"account_url": w.account_url(), "policy": policy}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = w
        .post_signed(
            "/hooks/freshworks",
            &[],
            &contact_update(&w, json!({"job_title": ["CTO", "CEO"]})),
        )
        .await;
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["outcome"], "no_identity_change", "{r}");
    assert_eq!(
        w.json("/api/v1/contacts/11/status").await["status"],
        "verified"
    );
    // …a name change ends the verification, on the API and on the record.
    let res = w
        .post_signed(
            "/hooks/freshworks",
            &[],
            &contact_update(&w, json!({"last_name": ["Lovelace", "King"]})),
        )
        .await;
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["result"]["outcome"], "invalidated", "{r}");
    let s = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(s["status"], "lapsed", "{s}");
    assert!(
        s["history"][0]["failure_reason"]
            .as_str()
            .is_some_and(|r| r.contains("name changed")),
        "{s}"
    );
    w.until_crm("lapsed on the record, with a note", |fs| {
        fs.with(ALIAS, |a| {
            a.contacts[&11]["custom_field"]["cf_idv_status"] == "lapsed"
                && a.notes
                    .iter()
                    .any(|n| text_of(n).contains("no longer counts"))
        })
        .unwrap()
    })
    .await;
}

/// Sets a session's provider expiry (`None`: unknown) and its creation time.
async fn backdate(w: &World, id: &str, expires_at: Option<i64>, created_at: Option<i64>) {
    let pool = w.app.services().core.store().pool();
    sqlx::query("UPDATE verifications SET session_expires_at = $1 WHERE id = $2")
        .bind(expires_at)
        .bind(id)
        .execute(pool)
        .await
        .unwrap();
    if let Some(at) = created_at {
        sqlx::query("UPDATE verifications SET created_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(pool)
            .await
            .unwrap();
    }
}

both!(
    a_session_the_provider_never_answers_expires_locally_after_a_grace_and_frees_the_contact,
    provider_silent_past_the_end
);
async fn provider_silent_past_the_end(db: Db) {
    let settings = idv_server::services::Settings {
        idv_poll: vec![std::time::Duration::from_millis(50)],
        pending_grace: std::time::Duration::from_secs(60),
        ..test_settings()
    };
    let Some(w) = spawn_world_with(db, settings, Policy::default()).await else {
        return;
    };
    // Every read of the provider fails: no answer will ever come.
    w.ks.set_faults(idv_server::sim::kosmos::KosmosFaults {
        read_error_rate: 1.0,
        ..Default::default()
    });
    let v = w.start_idv(11).await;
    let id = v.id.clone();
    let now = idv_server::clock::now_ms();
    // Just past the session's end, a late answer may still come: it waits.
    backdate(&w, &id, Some(now - 1_000), None).await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let s = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(s["status"], "pending", "{s}");
    // Past the grace it reads expired, the CRM follows, and the contact can start again.
    backdate(&w, &id, Some(now - 61_000), None).await;
    let s = w
        .until("/api/v1/contacts/11/status", |s| s["status"] == "expired")
        .await;
    assert_eq!(s["history"][0]["id"], id.as_str(), "{s}");
    assert_eq!(s["history"][0]["state"], "expired", "{s}");
    w.until_crm("the expired state in the contact's field", |fs| {
        fs.contact(ALIAS, 11).unwrap()["custom_field"]["cf_idv_status"] == "expired"
    })
    .await;
    let again = w.start_idv(11).await;
    assert_ne!(again.id, id.as_str());
    assert_eq!(w.ks.sessions().len(), 2);
}

both!(
    a_step_up_with_no_known_end_stops_being_polled_after_the_longest_a_session_may_wait,
    stepup_without_an_end
);
async fn stepup_without_an_end(db: Db) {
    let settings = idv_server::services::Settings {
        stepup_poll: std::time::Duration::from_millis(50),
        ..test_settings()
    };
    let Some(w) = spawn_world_with(db, settings, Policy::default()).await else {
        return;
    };
    let v = verified(&w).await;
    assert!(!v.is_empty());
    w.ks.set_faults(idv_server::sim::kosmos::KosmosFaults {
        read_error_rate: 1.0,
        ..Default::default()
    });
    let res = w.post("/api/v1/deals/501/step-up", json!({})).await;
    assert_eq!(res.status(), 201);
    let s: Value = res.json().await.unwrap();
    let id = s["id"].as_str().unwrap().to_string();
    let nine_days_ago = idv_server::clock::now_ms() - 9 * 24 * 3600 * 1000;
    backdate(&w, &id, None, Some(nine_days_ago)).await;
    let deal = w
        .until("/api/v1/deals/501/status", |d| {
            d["stepup"]["state"] == "expired"
        })
        .await;
    assert_eq!(deal["stepup"]["id"], id.as_str(), "{deal}");
    // No more reads: the attempts counter stands still.
    let attempts = || async {
        sqlx::query_scalar::<_, i64>("SELECT poll_attempts FROM verifications WHERE id = $1")
            .bind(&id)
            .fetch_one(w.app.services().core.store().pool())
            .await
            .unwrap()
    };
    let before = attempts().await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(attempts().await, before);
}
