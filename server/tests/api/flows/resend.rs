//! Resend a link with one click: an expired link starts a new session by the same delivery (the
//! design contract cannot send a session's link again); an SMS that did not go out is texted
//! again on the same BlockID session (no second billable session). Only the contact's latest
//! link that expired unused or went undelivered can be resent; the start limits apply; each
//! resend is in the contact's audit trail.

use idv_server::{
    services::{tenant, Policy},
    sim::blockid::BlockIdFaults,
};
use serde_json::{json, Value};

use crate::both_worlds;
use crate::world::World;
use crate::{
    both,
    flows::blockid::blockid_world,
    helpers::{assert_error, Db},
    world::TENANT,
};

async fn resend(w: &crate::world::World, id: &str) -> reqwest::Response {
    w.post(&format!("/api/v1/verifications/{id}/resend"), json!({}))
        .await
}

both_worlds!(
    an_expired_link_is_resent_by_the_same_delivery_as_a_new_session,
    expired_link
);
async fn expired_link(w: World) {
    let res = w
        .post(
            "/api/v1/contacts/11/verifications",
            json!({"delivery": "email"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let old: Value = res.json().await.unwrap();
    let old_id = old["id"].as_str().unwrap();

    // Pending and delivered: the customer can still use it; nothing to resend.
    let msg = assert_error(resend(&w, old_id).await, 409, "conflict").await;
    assert!(msg.contains("can still use it"), "{msg}");

    w.customer(old_id, "abandoned");
    w.until("/api/v1/contacts/11/status", |s| s["status"] == "expired")
        .await;

    let res = resend(&w, old_id).await;
    assert_eq!(res.status(), 201, "a new session");
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["new_session"], true, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("expired"),
        "{answer}"
    );
    let new = &answer["verification"];
    let new_id = new["id"].as_str().unwrap();
    assert_ne!(new_id, old_id);
    assert_eq!(new["state"], "pending");
    assert_eq!(new["delivery"], "email", "the same delivery: {new}");
    assert!(new["hosted_url"].as_str().is_some());
    // 1Kosmos was asked to email the new link.
    let provider =
        w.ks.sessions()
            .into_iter()
            .find(|s| s.reference == new_id)
            .unwrap();
    assert_eq!(
        provider.request["send_email"], true,
        "{:?}",
        provider.request
    );
    assert_eq!(w.ks.sessions().len(), 2);
    let status = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(status["status"], "pending", "{status}");
    assert_eq!(status["current"]["id"], new_id);

    // The old link is no longer the latest; the new one is pending and was delivered.
    let msg = assert_error(resend(&w, old_id).await, 409, "conflict").await;
    assert!(msg.contains("newer verification"), "{msg}");
    assert_error(resend(&w, new_id).await, 409, "conflict").await;
    assert_error(resend(&w, "ver_unknown").await, 404, "not_found").await;
    let res = w
        .post(
            &format!("/api/v1/verifications/{old_id}/resend"),
            json!({"requested_by": "x".repeat(300)}),
        )
        .await;
    assert_error(res, 422, "unprocessable").await;

    let trail = w.json("/api/v1/contacts/11/audit").await;
    let resends: Vec<&Value> = trail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "resend_link")
        .collect();
    assert_eq!(resends.len(), 1, "{trail}");
    assert!(
        resends[0]["detail"].as_str().unwrap().contains(new_id),
        "{trail}"
    );
}

both_worlds!(
    a_resend_counts_against_the_contact_s_start_limit,
    resend_limited
);
async fn resend_limited(w: World) {
    tenant::set_start_limits(
        w.app.services().core.store(),
        TENANT,
        &tenant::StartLimits {
            tenant_per_minute: 100,
            contact_per_hour: 2,
            forced_per_hour: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    w.app.services().core.tenants().forget(TENANT);
    let first = w.start_idv(12).await;
    w.customer(first.id.as_str(), "abandoned");
    w.until("/api/v1/contacts/12/status", |s| s["status"] == "expired")
        .await;
    let res = resend(&w, first.id.as_str()).await;
    assert_eq!(res.status(), 201);
    let second: Value = res.json().await.unwrap();
    let second_id = second["verification"]["id"].as_str().unwrap().to_string();
    w.customer(&second_id, "abandoned");
    w.until("/api/v1/contacts/12/status", |s| {
        s["history"][0]["state"] == "expired"
    })
    .await;
    // The contact's third session within the hour: refused, with when to retry.
    let res = resend(&w, &second_id).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
    assert_error(res, 429, "rate_limited").await;
    assert_eq!(w.ks.sessions().len(), 2, "no session was started");
}

both!(
    an_undelivered_sms_is_texted_again_on_the_same_session,
    undelivered_sms
);
async fn undelivered_sms(db: Db) {
    let Some((w, sim, served)) = blockid_world(db, Policy::default()).await else {
        return;
    };
    sim.set_faults(BlockIdFaults {
        sms_down: true,
        ..Default::default()
    });
    let res = w
        .post(
            "/api/v1/contacts/11/verifications",
            json!({"delivery": "sms"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.unwrap();
    let id = v["id"].as_str().unwrap();
    assert!(v["delivery_error"].as_str().is_some(), "{v}");
    let link = v["hosted_url"].as_str().unwrap().to_string();
    assert!(sim.sms_outbox().is_empty());

    // Still down: the resend says so, and the session keeps saying its link was not sent.
    let res = resend(&w, id).await;
    assert_error(res, 502, "upstream_unavailable").await;
    let still: Value = w.json(&format!("/api/v1/verifications/{id}")).await;
    assert!(
        still["delivery_error"].as_str().unwrap().contains("again"),
        "{still}"
    );

    sim.set_faults(BlockIdFaults::default());
    let res = resend(&w, id).await;
    assert_eq!(res.status(), 200, "the same session");
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["new_session"], false, "{answer}");
    assert_eq!(answer["verification"]["id"], id);
    assert!(answer["verification"].get("delivery_error").is_none());
    let sms = sim.sms_outbox();
    assert_eq!(sms.len(), 1);
    assert!(
        sms[0].text.contains(&link),
        "the same link: {:?}",
        sms[0].text
    );
    assert_eq!(sms[0].to, "+442079460018");
    // Delivered now: nothing more to resend.
    assert_error(resend(&w, id).await, 409, "conflict").await;
    served.stop().await;
}
