//! The account's set-up: an install into an account that lacks the app's fields says exactly
//! what an admin must create, the rep sees it, writes wait instead of dying, and land once the
//! admin has created them; a misspelled gated stage is reported at install.

use std::time::Duration;

use idv_server::{
    domain::setup::{CONTACT_FIELDS, HISTORY_MODULE},
    sim::freshsales::def_of,
};
use serde_json::{json, Value};

use crate::both_worlds;
use crate::world::{World, ALIAS, FS_KEY};

async fn reinstall(w: &World, policy: Value) -> Value {
    let res = w
        .install(
            FS_KEY,
            &json!({"account_url": w.account_url(), "policy": policy}),
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn dead_rows(counts: &[(String, i64)]) -> i64 {
    counts.iter().find(|(s, _)| s == "dead").map_or(0, |x| x.1)
}

both_worlds!(
    an_account_without_the_apps_fields_is_reported_and_its_writes_wait_for_them,
    writes_wait_for_setup
);
async fn writes_wait_for_setup(w: World) {
    w.fs.unprovision(ALIAS);
    let installed = reinstall(&w, json!({})).await;
    let setup = &installed["setup"];
    assert_eq!(setup["complete"], false, "{installed}");
    // The app created its history module itself; the contact fields are the admin's to make.
    assert_eq!(
        setup["created"],
        json!([format!("custom module {}", HISTORY_MODULE.label)])
    );
    assert!(w
        .fs
        .with(ALIAS, |a| a.module_defs.contains_key(HISTORY_MODULE.name))
        .unwrap());
    let gaps = setup["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), CONTACT_FIELDS.len(), "{setup}");
    assert_eq!(gaps[0]["label"], "IDV Status");
    assert_eq!(
        gaps[0]["expected"],
        "dropdown: pending, verified, failed, expired, lapsed"
    );
    assert_eq!(installed["missing_contact_fields"][0], "cf_idv_status");
    // The same as codes, for the widget and the card to word in the rep's language.
    assert_eq!(gaps[0]["part"], "contact_field");
    assert_eq!(gaps[0]["field_type"], "dropdown");
    assert_eq!(
        gaps[0]["choices"],
        json!(["pending", "verified", "failed", "expired", "lapsed"])
    );
    assert_eq!(gaps[0]["issue"], json!({"code": "missing"}));

    // The rep's widget carries the list (and asks them to see an admin).
    let status = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(status["setup"]["gaps"], setup["gaps"], "{status}");

    // A verification still runs; its contact write waits instead of going dead.
    let v = w.start_idv(11).await;
    w.customer(v.id.as_str(), "verified");
    w.until("/api/v1/contacts/11/status", |s| s["status"] == "verified")
        .await;
    let engine = w.app.services().clone();
    let store = engine.core.store().clone();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while store.setup_waits(crate::world::TENANT).await.unwrap() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the refused write never waited"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(dead_rows(&engine.outbox.sync_counts().await.unwrap()), 0);
    assert!(w.fs.contact(ALIAS, 11).unwrap()["custom_field"]
        .get("cf_idv_status")
        .is_none());

    // The admin creates the fields; the next check finds the set-up complete.
    for f in CONTACT_FIELDS {
        w.fs.add_contact_field(ALIAS, def_of(f));
    }
    assert_eq!(engine.setup.recheck_incomplete_setups().await.unwrap(), 1);
    w.until_crm("the waiting write", |fs| {
        fs.contact(ALIAS, 11).unwrap()["custom_field"]["cf_idv_status"] == "verified"
    })
    .await;
    let status = w.json("/api/v1/contacts/11/status").await;
    assert!(status.get("setup").is_none(), "{status}");
    assert_eq!(dead_rows(&engine.outbox.sync_counts().await.unwrap()), 0);
}

both_worlds!(
    a_misspelled_gated_stage_is_reported_at_install,
    misspelled_stage
);
async fn misspelled_stage(w: World) {
    let installed = reinstall(
        &w,
        json!({"gated_stages": ["Negotation", "Won"], "revert_on_gate": true}),
    )
    .await;
    let setup = &installed["setup"];
    assert_eq!(setup["complete"], false, "{installed}");
    let gaps = setup["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{setup}");
    assert_eq!(gaps[0]["what"], "deal stage");
    assert_eq!(gaps[0]["name"], "Negotation");
    assert!(
        gaps[0]["problem"]
            .as_str()
            .unwrap()
            .contains("did you mean \"Negotiation\""),
        "{setup}"
    );
    assert_eq!(gaps[0]["part"], "deal_stage");
    assert_eq!(
        gaps[0]["issue"],
        json!({"code": "no_stage", "similar": "Negotiation"})
    );
    let deal = w.json("/api/v1/deals/501/status").await;
    assert_eq!(deal["setup"]["gaps"], setup["gaps"]);
}
