//! What one account may spend: new sessions per tenant and per contact, forced restarts, and
//! Freshsales reads made while answering requests; each refusal a 429 with `Retry-After`.

use idv_server::services::tenant::{self, StartLimits};
use serde_json::json;

use crate::both_worlds;
use crate::{
    helpers::assert_error,
    world::{World, ALIAS, TENANT},
};

async fn set_limits(w: &World, limits: StartLimits) {
    let engine = w.app.services();
    tenant::set_start_limits(engine.core.store(), TENANT, &limits)
        .await
        .unwrap();
    engine.core.tenants().forget(TENANT);
}

async fn start(w: &World, contact: u64, body: serde_json::Value) -> reqwest::Response {
    w.post(&format!("/api/v1/contacts/{contact}/verifications"), body)
        .await
}

/// Asserts a precise 429: JSON `rate_limited`, and a `Retry-After` in whole seconds.
async fn assert_limited(res: reqwest::Response) -> String {
    let retry: u64 = res
        .headers()
        .get("retry-after")
        .expect("a 429 says when to retry")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1, "Retry-After {retry}");
    assert_error(res, 429, "rate_limited").await
}

both_worlds!(
    starts_beyond_the_tenant_limit_per_minute_are_refused_with_retry_after,
    tenant_limit
);
async fn tenant_limit(w: World) {
    set_limits(
        &w,
        StartLimits {
            tenant_per_minute: 2,
            ..StartLimits::default()
        },
    )
    .await;
    // A third contact that exists, so only the limit can stop its start.
    w.fs.seed_contact(
        ALIAS,
        13,
        "Katherine",
        "Johnson",
        "katherine@example.com",
        "+1 757 555 0113",
    );
    assert_eq!(start(&w, 11, json!({})).await.status(), 201);
    assert_eq!(start(&w, 12, json!({})).await.status(), 201);
    // The session that stands is returned without spending anything.
    assert_eq!(start(&w, 11, json!({})).await.status(), 200);
    let message = assert_limited(start(&w, 13, json!({})).await).await;
    assert!(message.contains("this account"), "{message}");
    // Nothing was started at the provider for the refused request.
    assert_eq!(w.ks.creates_received(), 2);
    assert_eq!(w.ks.sessions().len(), 2);
    let status = w.json("/api/v1/contacts/13/status").await;
    assert_eq!(status["status"], "not_verified", "{status}");
}

both_worlds!(forced_restarts_per_contact_are_capped, forced_cap);
async fn forced_cap(w: World) {
    set_limits(
        &w,
        StartLimits {
            forced_per_hour: 1,
            ..StartLimits::default()
        },
    )
    .await;
    assert_eq!(start(&w, 11, json!({})).await.status(), 201);
    assert_eq!(start(&w, 11, json!({"force": true})).await.status(), 201);
    let message = assert_limited(start(&w, 11, json!({"force": true})).await).await;
    assert!(message.contains("forced restarts"), "{message}");
    // Another contact is not held back by this one.
    assert_eq!(start(&w, 12, json!({})).await.status(), 201);
}

both_worlds!(starts_per_contact_are_capped_per_hour, contact_cap);
async fn contact_cap(w: World) {
    set_limits(
        &w,
        StartLimits {
            contact_per_hour: 2,
            forced_per_hour: 10,
            ..StartLimits::default()
        },
    )
    .await;
    assert_eq!(start(&w, 11, json!({})).await.status(), 201);
    assert_eq!(start(&w, 11, json!({"force": true})).await.status(), 201);
    let message = assert_limited(start(&w, 11, json!({"force": true})).await).await;
    assert!(message.contains("contact 11"), "{message}");
    assert_eq!(start(&w, 12, json!({})).await.status(), 201);
}

both_worlds!(
    freshsales_reads_on_the_request_path_count_against_the_tenant_budget,
    crm_reads_budgeted
);
async fn crm_reads_budgeted(w: World) {
    // A plan of 20 calls an hour: a burst of 2, then one call every few minutes.
    let engine = w.app.services();
    tenant::set_connections(
        engine.core.store(),
        engine.core.sealer(),
        TENANT,
        &tenant::Connections {
            hourly_limit: Some(20),
            rate_window_secs: Some(3600),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    engine.core.tenants().forget(TENANT);
    let before = w.fs.calls(crate::world::ALIAS).len();
    let mut refused = None;
    // Contacts never seen before are each looked up in Freshsales.
    for contact in 100..120 {
        let res = w.get(&format!("/api/v1/contacts/{contact}/status")).await;
        if res.status() == 429 {
            refused = Some(res);
            break;
        }
    }
    let res = refused.expect("the status reads stop at the account's Freshsales budget");
    let message = assert_limited(res).await;
    assert!(message.contains("Freshsales"), "{message}");
    let calls = w.fs.calls(crate::world::ALIAS).len() - before;
    assert!(calls <= 3, "at most the burst reached Freshsales: {calls}");
}
