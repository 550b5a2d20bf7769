//! The workflow action "Trigger 1Kosmos Verification": HubSpot's signed execution starts the
//! enrolled contact's verification; with "wait for the result" it answers `BLOCK` and the
//! callback is completed once with the result, or with `timeout` before HubSpot's expiry.

use std::time::Duration;

use idv_server::services::tenant::Policy;
use serde_json::{json, Value};

use super::{
    records::{ready, until_hubspot},
    *,
};
use crate::both_worlds;

fn url(w: &World) -> String {
    w.url("/hubspot/v1/workflow-actions/verify")
}

/// The completion HubSpot received for a callback, once there is one (bounded: 15 s).
async fn completion(w: &World, callback: &str) -> Value {
    for _ in 0..300 {
        let run = w
            .twins
            .hubspot
            .action_runs()
            .into_iter()
            .find(|(id, _)| id == callback)
            .map(|(_, r)| r);
        if let Some(done) = run.and_then(|r| r.completion) {
            return done;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("callback {callback} was never completed");
}

both_worlds!(
    the_workflow_action_waits_for_the_result_and_hubspot_is_told_it_once,
    waits
);
async fn waits(w: World) {
    ready(&w, Policy::default()).await;
    let hs = &w.twins.hubspot;
    let contact = hs.with_records(|r| {
        r.add_contact(
            &json!({"firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com"}),
        )
    });
    let inputs = json!({"ial": "IAL2", "document_types": "passport,drivers_license",
        "delivery": "email", "wait_for_result": "true"});
    let (callback, status, answer) = hs
        .execute_action(&url(&w), "CONTACT", contact, inputs.clone(), None)
        .await;
    assert_eq!(status, 200, "{answer}");
    let out = &answer["outputFields"];
    assert_eq!(out["hs_execution_state"], "BLOCK", "{answer}");
    assert_eq!(out["idv_result"], "started");
    let wait = out["hs_expiration_duration"].as_str().unwrap();
    assert!(wait.starts_with("PT") && wait.ends_with('H'), "{wait}");

    // HubSpot retries the same execution: the same verification, nothing started again.
    let (_, status, again) = hs
        .execute_action(&url(&w), "CONTACT", contact, inputs, Some(&callback))
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["outputFields"]["hs_execution_state"], "BLOCK");
    assert_eq!(w.ks.sessions().len(), 1, "one session at the provider");
    let reference = w.ks.sessions()[0].reference.clone();

    w.customer(&reference, "verified");
    let done = completion(&w, &callback).await;
    let out = &done["outputFields"];
    assert_eq!(out["idv_result"], "verified", "{done}");
    assert_eq!(out["idv_status"], "verified");
    assert_eq!(out["idv_ial_level"], "IAL2");
    assert_eq!(
        out["idv_verified_date"],
        &idv_server::clock::rfc3339(now_ms())[..10]
    );
    assert_eq!(done["typedOutputs"], json!({}));
    // The result landed on the contact too; the callback was completed once.
    until_hubspot(&w, "the result on the contact", |r| {
        r.contacts[&contact].get("idv_status") == Some(&json!("verified"))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let runs = hs.action_runs();
    assert_eq!(runs.iter().filter(|(id, _)| *id == callback).count(), 1);
    assert_eq!(runs[0].1.refused, 0, "completed once");

    // A contact already verified: the action goes on at once with the result.
    let (_, _, answer) = hs
        .execute_action(
            &url(&w),
            "CONTACT",
            contact,
            json!({"wait_for_result": "true"}),
            None,
        )
        .await;
    assert_eq!(answer["outputFields"]["hs_execution_state"], "SUCCESS");
    assert_eq!(answer["outputFields"]["idv_result"], "verified");
}

both_worlds!(
    a_wait_hubspot_would_time_out_is_completed_with_timeout_first,
    times_out
);
async fn times_out(w: World) {
    ready(&w, Policy::default()).await;
    let hs = &w.twins.hubspot;
    let (contact, deal) = hs.with_records(|r| {
        let c = r.add_contact(
            &json!({"firstname": "Alan", "lastname": "Turing", "email": "alan@example.com"}),
        );
        (c, r.add_deal("Bombe", "qualifiedtobuy", &[c]))
    });
    // Enrolled from a deal: its contact is verified.
    let (callback, status, answer) = hs
        .execute_action(
            &url(&w),
            "DEAL",
            deal,
            json!({"wait_for_result": "true"}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["outputFields"]["hs_execution_state"], "BLOCK");
    // HubSpot's expiry draws near (the clock of the wait, moved on).
    sqlx::query("UPDATE waiting_actions SET expires_at = $1")
        .bind(now_ms() + 60_000)
        .execute(w.app.state.services.core.store().pool())
        .await
        .unwrap();
    // The sweep (the workers' own, or this call) completes it with `timeout`.
    w.app
        .services()
        .actions
        .time_out_actions_once()
        .await
        .unwrap();
    let done = completion(&w, &callback).await;
    assert_eq!(done["outputFields"]["idv_result"], "timeout", "{done}");
    // The customer finishes later: the contact is verified, the action is not completed again.
    let reference = w.ks.sessions()[0].reference.clone();
    w.customer(&reference, "verified");
    until_hubspot(&w, "the result on the contact", |r| {
        r.contacts[&contact].get("idv_status") == Some(&json!("verified"))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let run = hs
        .action_runs()
        .into_iter()
        .find(|(id, _)| *id == callback)
        .unwrap()
        .1;
    assert_eq!(run.refused, 0, "never completed twice");
    let told: String = sqlx::query_scalar("SELECT result FROM waiting_actions")
        .fetch_one(w.app.state.services.core.store().pool())
        .await
        .unwrap();
    assert_eq!(told, "timeout", "what HubSpot was told stays on record");
    assert_eq!(
        run.completion.unwrap()["outputFields"]["idv_result"],
        "timeout"
    );
}

both_worlds!(a_forged_or_foreign_execution_starts_nothing, forged);
async fn forged(w: World) {
    ready(&w, Policy::default()).await;
    let contact = w
        .twins
        .hubspot
        .with_records(|r| r.add_contact(&json!({"firstname": "Eve", "email": "eve@example.com"})));
    let body = |portal: u64| {
        serde_json::to_vec(
            &json!({"callbackId": "ap-1", "origin": {"portalId": portal},
            "object": {"objectId": contact, "objectType": "CONTACT"}, "inputFields": {}}),
        )
        .unwrap()
    };
    let post = |bytes: Vec<u8>, sig: String, version: &str| {
        reqwest::Client::new()
            .post(url(&w))
            .header("content-type", "application/json")
            .header("x-hubspot-signature", sig)
            .header("x-hubspot-signature-version", version.to_string())
            .body(bytes)
            .send()
    };
    let secret = idv_server::testkit::HUBSPOT_CLIENT_SECRET;
    let sign = |bytes: &[u8], key: &str| {
        idv_server::adapters::hubspot::signature::sign_v2(key, "POST", &url(&w), bytes)
    };
    // Signed with another secret, unsigned, or signed v1 (which covers no URL): refused.
    let b = body(idv_server::testkit::HUBSPOT_PORTAL);
    assert_eq!(
        post(b.clone(), sign(&b, "not-the-secret"), "v2")
            .await
            .unwrap()
            .status(),
        401
    );
    let v1 = idv_server::adapters::hubspot::signature::sign_v1(secret, &b);
    assert_eq!(post(b.clone(), v1, "v1").await.unwrap().status(), 401);
    // Signed by HubSpot for an account that has not installed the app.
    let other = body(5);
    assert_eq!(
        post(other.clone(), sign(&other, secret), "v2")
            .await
            .unwrap()
            .status(),
        403
    );
    // Signed, but not an execution request: a precise 400.
    let junk = b"{\"callbackId\": 1}".to_vec();
    let res = post(junk.clone(), sign(&junk, secret), "v2").await.unwrap();
    assert_eq!(res.status(), 400);
    let msg: Value = res.json().await.unwrap();
    assert!(msg["message"].as_str().is_some(), "{msg}");
    assert!(w.ks.sessions().is_empty(), "nothing was started");
    // The v2 form HubSpot documents for actions is taken.
    let res = post(b.clone(), sign(&b, secret), "v2").await.unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(w.ks.sessions().len(), 1);
}
