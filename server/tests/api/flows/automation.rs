//! Automation: Workflow Automator webhooks as first-class triggers (their own authority, start
//! inputs, the editor's test call), the hook's hardening (claimed stages and contacts checked,
//! replays deduplicated), and links that reach the customer from automation.

use std::time::Duration;

use idv_server::services::Policy;
use serde_json::{json, Value};

use crate::{
    both,
    helpers::{assert_error, Db},
    world::{spawn_world_with, test_settings, World, ALIAS, TENANT, WORKFLOW_SECRET},
};

/// Calls the workflow webhook with the right secret (and a delivery id, when given).
async fn call(w: &World, body: &Value, delivery: Option<&str>) -> reqwest::Response {
    let mut req = w
        .http
        .post(w.url(&format!("/hooks/freshsales/{TENANT}")))
        .header("x-idv-webhook-secret", WORKFLOW_SECRET);
    if let Some(id) = delivery {
        req = req.header("x-idv-delivery-id", id);
    }
    req.json(body).send().await.unwrap()
}

async fn ok(res: reqwest::Response) -> Value {
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn gate_policy() -> Policy {
    Policy {
        revert_on_gate: true,
        ..Policy::default()
    }
}

/// The provider's create request for one of our verification ids.
fn provider_request(w: &World, reference: &str) -> Value {
    w.ks.sessions()
        .into_iter()
        .find(|s| s.reference == reference)
        .expect("the provider has the session")
        .request
}

both!(
    a_workflow_starts_a_verification_with_its_inputs_while_the_auto_verify_box_is_off,
    workflow_contact_created
);
async fn workflow_contact_created(db: Db) {
    // The policy's box is off: the app's own event does nothing…
    let Some(w) = spawn_world_with(db, test_settings(), Policy::default()).await else {
        return;
    };
    let res = w
        .post_signed(
            "/hooks/freshworks",
            &[],
            &json!({"event": "onContactCreate", "account_url": w.account_url(), "data": {"contact": {"id": 11}}}),
        )
        .await;
    assert_eq!(ok(res).await["result"]["outcome"], "policy_off");
    assert!(w.ks.sessions().is_empty());
    // …a workflow is its own opt-in, with its own inputs.
    let body = json!({"event": "contact_created", "contact_id": "11", "ial": "IAL1",
        "document_types": "passport", "delivery": "show"});
    let r = ok(call(&w, &body, None).await).await;
    assert_eq!(r["result"]["outcome"], "started", "{r}");
    assert_eq!(r["state"], "pending", "{r}");
    let id = r["verification_id"].as_str().unwrap();
    let sent = provider_request(&w, id);
    assert_eq!(sent["ial"], "IAL1");
    assert_eq!(sent["document_types"], json!(["passport"]));
    assert_eq!(sent["send_email"], false);
    let status = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(status["current"]["id"], id);
    assert_eq!(status["current"]["delivery"], "show");
    // Again with force: a new session replaces the pending one.
    let again = json!({"event": "contact_created", "contact_id": 11, "force": true});
    let r2 = ok(call(&w, &again, None).await).await;
    assert_eq!(r2["result"]["outcome"], "started", "{r2}");
    assert_ne!(r2["verification_id"], r["verification_id"]);
    assert_eq!(w.ks.sessions().len(), 2);
}

both!(
    a_workflow_gates_a_deal_with_its_inputs_and_moves_it_back_to_the_stage_last_seen,
    workflow_deal_gate
);
async fn workflow_deal_gate(db: Db) {
    // No gated stages in the policy: the workflow's own conditions are the gate.
    let Some(w) = spawn_world_with(db, test_settings(), gate_policy()).await else {
        return;
    };
    // The backend sees the deal in Qualified (202)…
    let deal = w.json("/api/v1/deals/501/status").await;
    assert_eq!(deal["stage"]["id"], 202, "{deal}");
    // …then the rep moves it to Negotiation (204) and the workflow fires, naming no previous stage.
    w.fs.with(ALIAS, |a| {
        a.deals.get_mut(&501).unwrap()["deal_stage_id"] = json!(204)
    });
    let body = json!({"event": "deal_stage_changed", "deal_id": 501, "stage": "{{x}}"});
    let test = ok(call(&w, &body, None).await).await;
    assert_eq!(test["test"], true, "{test}");
    let body = json!({"event": "deal_stage_changed", "deal_id": 501, "stage": "Negotiation",
        "ial": "IAL2", "document_types": ["passport", "national_id"]});
    let r = ok(call(&w, &body, None).await).await;
    assert_eq!(r["result"]["outcome"], "started", "{r}");
    assert_eq!(r["result"]["deal_moved_back"], true, "{r}");
    let sent = provider_request(&w, r["verification_id"].as_str().unwrap());
    assert_eq!(sent["ial"], "IAL2");
    assert_eq!(sent["document_types"], json!(["passport", "national_id"]));
    w.until_crm("the deal back in Qualified with a note and a task", |fs| {
        fs.with(ALIAS, |a| {
            a.deals[&501]["deal_stage_id"] == 202
                && a.tasks.iter().any(|t| t["targetable_id"] == 501)
                && a.notes.iter().any(|n| n["targetable_id"] == 501)
        })
        .unwrap()
    })
    .await;
}

both!(
    a_workflow_input_that_cannot_be_used_gets_a_precise_422,
    workflow_bad_inputs
);
async fn workflow_bad_inputs(db: Db) {
    let Some(w) = spawn_world_with(db, test_settings(), gate_policy()).await else {
        return;
    };
    let cases = [
        (
            json!({"event": "contact_created", "contact_id": 11, "ial": "IAL3"}),
            "ial",
        ),
        (
            json!({"event": "contact_created", "contact_id": 11, "document_types": ["selfie"]}),
            "selfie",
        ),
        (
            json!({"event": "contact_created", "contact_id": 11, "force": "maybe"}),
            "force",
        ),
        // The design contract's 1Kosmos emails links but does not text them.
        (
            json!({"event": "contact_created", "contact_id": 11, "delivery": "sms"}),
            "show, email",
        ),
        (
            json!({"event": "deal_stage_changed", "deal_id": 501, "stage": "Negotiaton"}),
            "Negotiaton",
        ),
        (
            json!({"event": "deal_stage_changed", "deal_id": 501, "stage": "Negotiation", "previous_stage_id": 9999}),
            "previous_stage_id 9999",
        ),
        (
            json!({"event": "contact_deleted", "contact_id": 11}),
            "unknown event",
        ),
    ];
    for (body, says) in cases {
        let msg = assert_error(call(&w, &body, None).await, 422, "unprocessable").await;
        assert!(msg.contains(says), "{body}: {msg}");
    }
    assert!(w.ks.sessions().is_empty(), "nothing started");
}

both!(
    the_workflow_editors_test_call_is_answered_and_starts_nothing,
    workflow_test_call
);
async fn workflow_test_call(db: Db) {
    let Some(w) = spawn_world_with(db, test_settings(), gate_policy()).await else {
        return;
    };
    let body =
        json!({"event": "contact_created", "contact_id": "{{contact.id}}", "delivery": "email"});
    let r = ok(call(&w, &body, None).await).await;
    assert_eq!(r["test"], true, "{r}");
    let msg = r["message"].as_str().unwrap();
    assert!(msg.contains("URL and secret are right"), "{msg}");
    assert!(msg.contains("emailed to the contact"), "{msg}");
    assert_eq!(r["would"]["delivery"], "email");
    // An explicit test flag with real ids: the same answer.
    let r = ok(call(
        &w,
        &json!({"event": "deal_stage_changed", "deal_id": 501, "test": true}),
        None,
    )
    .await)
    .await;
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("move the deal back"),
        "{r}"
    );
    // A wrong secret is still refused.
    let res = w
        .http
        .post(w.url(&format!("/hooks/freshsales/{TENANT}")))
        .header("x-idv-webhook-secret", "guess")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "unauthorized").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(w.ks.sessions().is_empty(), "a test starts nothing");
    assert_eq!(w.fs.with(ALIAS, |a| a.tasks.len() + a.notes.len()), Some(0));
}

both!(
    a_callers_previous_stage_is_checked_against_the_deals_history,
    claimed_previous_stage
);
async fn claimed_previous_stage(db: Db) {
    let policy = Policy {
        gated_stages: vec!["Negotiation".into(), "Won".into()],
        ..gate_policy()
    };
    let Some(w) = spawn_world_with(db, test_settings(), policy).await else {
        return;
    };
    w.json("/api/v1/deals/501/status").await; // seen in Qualified (202)
    w.fs.with(ALIAS, |a| {
        a.deals.get_mut(&501).unwrap()["deal_stage_id"] = json!(204)
    });
    // The caller claims the deal came from Won (205): not what the backend saw.
    let body = json!({"event": "deal_stage_changed", "deal_id": 501, "stage": 204, "previous_stage_id": 205});
    let r = ok(call(&w, &body, None).await).await;
    assert_eq!(r["result"]["deal_moved_back"], true, "{r}");
    let ignored = r["result"]["ignored"].to_string();
    assert!(ignored.contains("previous_stage_id 205"), "{r}");
    w.until_crm("the deal back in the stage the backend saw", |fs| {
        fs.with(ALIAS, |a| a.deals[&501]["deal_stage_id"] == 202)
            .unwrap()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(w.fs.deal(ALIAS, 501).unwrap()["deal_stage_id"], 202);
}

both!(
    a_callers_contact_that_is_not_on_the_deal_is_ignored,
    claimed_contact
);
async fn claimed_contact(db: Db) {
    let policy = Policy {
        gated_stages: vec!["Negotiation".into()],
        ..gate_policy()
    };
    let Some(w) = spawn_world_with(db, test_settings(), policy).await else {
        return;
    };
    // Deal 501's only contact is 11; the caller names 12.
    let body = json!({"event": "deal_stage_changed", "deal_id": 501, "stage": "Negotiation", "contact_id": 12});
    let r = ok(call(&w, &body, None).await).await;
    assert_eq!(r["result"]["outcome"], "started", "{r}");
    assert!(
        r["result"]["ignored"].to_string().contains("contact_id 12"),
        "{r}"
    );
    let eleven = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(eleven["current"]["id"], r["verification_id"]);
    let twelve = w.json("/api/v1/contacts/12/status").await;
    assert_eq!(twelve["status"], "not_verified", "{twelve}");
}

both!(
    a_replayed_workflow_call_starts_and_moves_nothing_twice,
    replayed_call
);
async fn replayed_call(db: Db) {
    let policy = Policy {
        gated_stages: vec!["Negotiation".into()],
        ..gate_policy()
    };
    let Some(w) = spawn_world_with(db, test_settings(), policy).await else {
        return;
    };
    w.json("/api/v1/deals/501/status").await;
    w.fs.with(ALIAS, |a| {
        a.deals.get_mut(&501).unwrap()["deal_stage_id"] = json!(204)
    });
    let body = json!({"event": "deal_stage_changed", "deal_id": 501, "stage": "Negotiation"});
    let first = ok(call(&w, &body, Some("wf-1")).await).await;
    assert_eq!(first["duplicate"], false);
    assert_eq!(first["result"]["deal_moved_back"], true);
    // The same delivery id, even with another body: a duplicate.
    let other = json!({"event": "contact_created", "contact_id": 12});
    assert_eq!(
        ok(call(&w, &other, Some("wf-1")).await).await["duplicate"],
        true
    );
    // Without an id, the same body twice: the second is a duplicate.
    let plain = json!({"event": "contact_created", "contact_id": 11, "force": true});
    assert_eq!(ok(call(&w, &plain, None).await).await["duplicate"], false);
    assert_eq!(ok(call(&w, &plain, None).await).await["duplicate"], true);
    w.until_crm("the deal moved back", |fs| {
        fs.with(ALIAS, |a| a.deals[&501]["deal_stage_id"] == 202)
            .unwrap()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(w.ks.sessions().len(), 2, "one gate start, one forced start");
    assert_eq!(w.crm_calls("PUT", "/deals/501"), 1, "one move back");
    assert_eq!(
        w.fs.with(ALIAS, |a| a
            .tasks
            .iter()
            .filter(|t| t["targetable_id"] == 501)
            .count()),
        Some(1)
    );
    let twelve = w.json("/api/v1/contacts/12/status").await;
    assert_eq!(twelve["status"], "not_verified");
}

both!(
    a_contact_created_gets_the_link_by_the_automation_delivery_and_its_owner_a_task,
    automation_delivery
);
async fn automation_delivery(db: Db) {
    let policy = Policy {
        auto_verify_on_create: true,
        ..Policy::default()
    };
    let Some(w) = spawn_world_with(db, test_settings(), policy).await else {
        return;
    };
    w.fs.with(ALIAS, |a| {
        a.contacts.get_mut(&11).unwrap()["owner_id"] = json!(77)
    });
    let res = w
        .post_signed(
            "/hooks/freshworks",
            &[],
            &json!({"event": "onContactCreate", "account_url": w.account_url(), "data": {"contact": {"id": 11}}}),
        )
        .await;
    let r = ok(res).await;
    assert_eq!(r["result"]["outcome"], "started", "{r}");
    let id = r["result"]["verification_id"].as_str().unwrap();
    // The design contract's 1Kosmos offers email: the policy's default for automation.
    assert_eq!(provider_request(&w, id)["send_email"], true);
    let status = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(status["current"]["delivery"], "email", "{status}");
    w.until_crm("a task for the contact's owner", |fs| {
        fs.with(ALIAS, |a| {
            a.tasks.iter().any(|t| {
                t["owner_id"] == 77
                    && t["targetable_id"] == 11
                    && t["description"]
                        .as_str()
                        .is_some_and(|d| d.contains("emailed the link"))
            })
        })
        .unwrap()
    })
    .await;
    // A policy that asks for `show`: the link stays in the panel.
    let policy = json!({"auto_verify_on_create": true, "automation_delivery": "show"});
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
            &json!({"event": "onContactCreate", "account_url": w.account_url(), "data": {"contact": {"id": 12}}}),
        )
        .await;
    let r = ok(res).await;
    let id = r["result"]["verification_id"].as_str().unwrap();
    assert_eq!(provider_request(&w, id)["send_email"], false, "{r}");
}
