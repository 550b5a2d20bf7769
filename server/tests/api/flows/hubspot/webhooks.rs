//! HubSpot's signed webhook batches: verified, recorded once, each event to its service.

use idv_server::testkit::HUBSPOT_PORTAL;
use serde_json::{json, Value};

use super::*;
use crate::both_worlds;

both_worlds!(
    hubspot_webhook_batches_are_verified_recorded_once_and_a_privacy_deletion_erases_the_contact,
    webhooks
);
async fn webhooks(w: World) {
    install_with_lifetime(&w, 1800).await;
    let uri = w.url("/hubspot/v1/webhooks");
    let batch = json!([
        event(1, "contact.privacyDeletion", 11, HUBSPOT_PORTAL),
        event(2, "contact.creation", 12, HUBSPOT_PORTAL),
        event(3, "contact.creation", 13, 999),
        event(4, "company.creation", 5, HUBSPOT_PORTAL),
    ]);
    let res = post_batch(&w, &batch, &uri, now_ms(), &[]).await;
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["accepted"], 2, "{answer}");
    assert_eq!(
        answer["ignored"], 2,
        "another portal, another kind: {answer}"
    );
    // The erasure is acted on from the queue and audited; no write is queued for a contact
    // HubSpot no longer has.
    let store = w.app.state.services.core.store().pool();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let erased: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE tenant_id = $1 AND action = 'contact_forgotten' AND subject = 'contact:11'",
        )
        .bind(TENANT_ID)
        .fetch_one(store)
        .await
        .unwrap();
        if erased == 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never erased");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let queued: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sync_outbox WHERE tenant_id = $1 AND kind <> 'platform_event'",
    )
    .bind(TENANT_ID)
    .fetch_one(store)
    .await
    .unwrap();
    assert_eq!(queued, 0);

    // HubSpot sends it again (a retry): nothing is done twice.
    let res = post_batch(&w, &batch, &uri, now_ms(), &[]).await;
    let answer: Value = res.json().await.unwrap();
    assert_eq!(
        (answer["accepted"].clone(), answer["duplicates"].clone()),
        (json!(0), json!(2))
    );

    // Behind a proxy, HubSpot signed the public URL the proxy received.
    let proxied = json!([event(5, "contact.creation", 14, HUBSPOT_PORTAL)]);
    let res = post_batch(
        &w,
        &proxied,
        "https://idv.example.com/hubspot/v1/webhooks",
        now_ms(),
        &[
            ("x-forwarded-host", "idv.example.com"),
            ("x-forwarded-proto", "https"),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);

    // Forged, stale and unsigned batches are refused and change nothing.
    let fresh = json!([event(6, "contact.privacyDeletion", 12, HUBSPOT_PORTAL)]);
    let forged = post_batch(
        &w,
        &fresh,
        "https://elsewhere.example/hubspot/v1/webhooks",
        now_ms(),
        &[],
    )
    .await;
    assert_eq!(forged.status(), 401);
    let stale = post_batch(&w, &fresh, &uri, now_ms() - 6 * 60 * 1000, &[]).await;
    assert_eq!(stale.status(), 401);
    let unsigned = reqwest::Client::new()
        .post(&uri)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&fresh).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    let body: Value = unsigned.json().await.unwrap();
    assert!(body["message"].as_str().is_some(), "{body}");
    let erased_12: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'contact_forgotten' AND subject = 'contact:12'",
    )
    .fetch_one(store)
    .await
    .unwrap();
    assert_eq!(erased_12, 0);
    // Signed, but not a batch of events: a precise 400.
    let res = post_batch(&w, &json!({"eventId": 1}), &uri, now_ms(), &[]).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("JSON array"),
        "{body}"
    );
}
