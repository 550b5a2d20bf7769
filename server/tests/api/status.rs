//! `GET /api/v1/contacts/{id}/status`, `/healthz`, `/readyz` and bad input on them.

use idv_server::clock::{now_ms, DAY_MS};
use serde_json::Value;

use crate::{
    both_worlds,
    helpers::assert_error,
    world::{World, TENANT},
};

both_worlds!(health_and_readiness_answer, health_and_readiness);
async fn health_and_readiness(app: World) {
    let res = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "ready");
}

both_worlds!(a_verified_contact_reports_its_result, verified_contact);
async fn verified_contact(app: World) {
    app.store().upsert_contact(TENANT, 42, true).await.unwrap();
    app.add_verification(TENANT, 42, "idv", "verified", Some(now_ms() + 30 * DAY_MS))
        .await;
    app.add_verification(TENANT, 42, "stepup", "verified", None)
        .await;

    let res = app.get("/api/v1/contacts/42/status").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["contact_id"], 42);
    assert_eq!(body["status"], "verified");
    assert_eq!(body["ial"]["level"], "IAL2");
    assert_eq!(body["ial"]["revision"], "800-63-3");
    assert_eq!(body["document_type"], "passport");
    assert_eq!(body["liveid_enrolled"], true);
    assert!(body["expires_at"].as_str().unwrap().starts_with("20"));
    assert!(body["last_stepup_at"].is_string());
}

both_worlds!(
    status_is_derived_from_the_latest_idv_session,
    derived_status
);
async fn derived_status(app: World) {
    let status = |id: i64| {
        let app = &app;
        async move {
            let body: Value = app
                .get(&format!("/api/v1/contacts/{id}/status"))
                .await
                .json()
                .await
                .unwrap();
            body["status"].as_str().unwrap().to_string()
        }
    };
    for id in 1..=5 {
        app.store().upsert_contact(TENANT, id, false).await.unwrap();
    }
    assert_eq!(status(1).await, "not_verified");

    app.add_verification(TENANT, 2, "idv", "pending", None)
        .await;
    assert_eq!(status(2).await, "pending");

    app.add_verification(TENANT, 3, "idv", "failed", None).await;
    assert_eq!(status(3).await, "failed");

    // Verified, but its validity ran out: lapsed even before the expiry job runs.
    app.add_verification(TENANT, 4, "idv", "verified", Some(now_ms() - 1))
        .await;
    assert_eq!(status(4).await, "lapsed");

    // A canceled session leaves the previous verdict standing; a step-up does not count as IDV.
    app.add_verification(TENANT, 5, "idv", "failed", None).await;
    app.add_verification(TENANT, 5, "idv", "canceled", None)
        .await;
    app.add_verification(TENANT, 5, "stepup", "verified", None)
        .await;
    assert_eq!(status(5).await, "failed");
}

both_worlds!(requests_without_a_valid_token_get_401, unauthorized);
async fn unauthorized(app: World) {
    app.store().upsert_contact(TENANT, 42, false).await.unwrap();
    let url = app.url("/api/v1/contacts/42/status");

    let res = app.http.get(&url).send().await.unwrap();
    let msg = assert_error(res, 401, "unauthorized").await;
    assert!(msg.contains("Bearer"), "{msg}");

    let res = app
        .http
        .get(&url)
        .bearer_auth("idv_wrong")
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "unauthorized").await;

    // Freshsales' own header style is a common mistake; say what is expected.
    let res = app
        .http
        .get(&url)
        .header("Authorization", format!("Token token={}", app.token))
        .send()
        .await
        .unwrap();
    let msg = assert_error(res, 401, "unauthorized").await;
    assert!(msg.contains("Bearer <token>"), "{msg}");

    let res = app
        .http
        .get(&url)
        .bearer_auth("x".repeat(5000))
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "unauthorized").await;
}

both_worlds!(malformed_ids_get_400, malformed_ids);
async fn malformed_ids(app: World) {
    for id in [
        "abc",
        "-5",
        "0",
        "1.5",
        "%F0%9F%92%A9",
        "99999999999999999999",
    ] {
        let res = app.get(&format!("/api/v1/contacts/{id}/status")).await;
        assert_error(res, 400, "bad_request").await;
    }
    let huge = "7".repeat(10_000);
    let res = app.get(&format!("/api/v1/contacts/{huge}/status")).await;
    let msg = assert_error(res, 400, "bad_request").await;
    assert!(
        msg.len() < 200,
        "the error must not echo the id back: {} bytes",
        msg.len()
    );
}

both_worlds!(unknown_and_foreign_contacts_get_404, not_found);
async fn not_found(app: World) {
    let res = app.get("/api/v1/contacts/77/status").await;
    assert_error(res, 404, "not_found").await;

    // Tenant B's contact is invisible to tenant A's token, and the other way round.
    let token_b = app.add_tenant("tenant_b").await;
    app.store()
        .upsert_contact("tenant_b", 88, false)
        .await
        .unwrap();
    app.add_verification("tenant_b", 88, "idv", "verified", None)
        .await;
    let res = app.get("/api/v1/contacts/88/status").await;
    assert_error(res, 404, "not_found").await;
    let res = app
        .http
        .get(app.url("/api/v1/contacts/88/status"))
        .bearer_auth(&token_b)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

both_worlds!(unknown_routes_and_methods_answer_json, routes);
async fn routes(app: World) {
    let res = app.get("/api/v1/nope").await;
    assert_error(res, 404, "not_found").await;
    let res = app
        .http
        .delete(app.url("/api/v1/contacts/1/status"))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_error(res, 405, "method_not_allowed").await;
}
