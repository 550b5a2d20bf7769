//! Deals: Step-Up Auth and gated stages.

use std::time::Duration;

use idv_server::services::Policy;
use serde_json::{json, Value};

use crate::{
    both,
    helpers::{assert_error, Db},
    world::{spawn_world_with, test_settings, ALIAS, TENANT, WORKFLOW_SECRET},
};

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
    w.customer(v.id.as_str(), "verified");
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
    // The same call again (a retry, a replay): a duplicate that starts and moves nothing.
    let res = w
        .http
        .post(&hook)
        .header("x-idv-webhook-secret", WORKFLOW_SECRET)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["duplicate"], true);
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

both!(no_request_goes_below_the_accounts_minimum_ial, minimum_ial);
async fn minimum_ial(db: Db) {
    let policy = Policy {
        min_ial: idv_types::IalLevel::IAL2,
        ..Policy::default()
    };
    let Some(w) = spawn_world_with(db, test_settings(), policy).await else {
        return;
    };
    let res = w
        .post("/api/v1/contacts/11/verifications", json!({"ial": "IAL1"}))
        .await;
    assert_error(res, 422, "unprocessable").await;
    let res = w
        .post("/api/v1/contacts/11/verifications", json!({"ial": "IAL2"}))
        .await;
    assert_eq!(res.status(), 201);
    // A policy whose default is below its minimum is refused.
    let bad = json!({"account_url": w.account_url(), "policy": {"default_ial": "IAL1", "min_ial": "IAL2"}});
    let res = w.install(crate::world::FS_KEY, &bad).await;
    assert_error(res, 422, "unprocessable").await;
}

both!(
    a_deal_moved_into_a_gated_stage_again_with_the_same_workflow_body_is_gated_again,
    gated_again
);
async fn gated_again(db: Db) {
    let policy = Policy {
        gated_stages: vec!["Negotiation".into()],
        revert_on_gate: true,
        ..Policy::default()
    };
    let Some(w) = spawn_world_with(db, test_settings(), policy).await else {
        return;
    };
    let hook = w.url(&format!("/hooks/freshsales/{TENANT}"));
    let fire = || async {
        let res = w
            .http
            .post(&hook)
            .header("x-idv-webhook-secret", WORKFLOW_SECRET)
            .json(&json!({"event": "deal_stage_changed", "deal_id": 501, "stage": "Negotiation"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json::<Value>().await.unwrap()
    };
    let into_negotiation = || {
        w.fs.with(ALIAS, |a| {
            a.deals.get_mut(&501).unwrap()["deal_stage_id"] = json!(204)
        })
    };
    let back_in_qualified = |what: &'static str| {
        w.until_crm(what, |fs| {
            fs.with(ALIAS, |a| a.deals[&501]["deal_stage_id"] == 202)
                .unwrap()
        })
    };
    // The backend sees the deal in Qualified; the rep moves it to Negotiation: gated.
    w.json("/api/v1/deals/501/status").await;
    into_negotiation();
    let first = fire().await;
    assert_eq!(first["result"]["deal_moved_back"], true, "{first}");
    let session = first["verification_id"].clone();
    back_in_qualified("the deal moved back the first time").await;

    // The rep moves it in again at once, and the workflow sends the very same body.
    into_negotiation();
    let again = fire().await;
    assert_eq!(again["result"]["deal_moved_back"], true, "{again}");
    assert_eq!(
        again["result"]["verification_id"], session,
        "the pending verification is the one the first entry started: {again}"
    );
    back_in_qualified("the deal moved back the second time").await;
    assert_eq!(w.crm_calls("PUT", "/deals/501"), 2, "moved back twice");
    assert_eq!(
        w.ks.sessions().len(),
        1,
        "one verification for both entries"
    );

    // A retry of that call once the deal is back out of the stage moves and starts nothing.
    let retry = fire().await;
    assert_eq!(retry["duplicate"], true, "{retry}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(w.crm_calls("PUT", "/deals/501"), 2);
    assert_eq!(w.ks.sessions().len(), 1);
    assert_eq!(
        w.fs.with(ALIAS, |a| a
            .tasks
            .iter()
            .filter(|t| t["targetable_id"] == 501)
            .count()),
        Some(1),
        "the gate's task is not repeated for the same verification"
    );
}
