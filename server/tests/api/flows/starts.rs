//! Starts that are cut short: a request dropped while the provider is asked, a row left without
//! a provider session by a crash, and a callback that names such a row by its reference.

use std::time::{Duration, Instant};

use idv_server::{adapters::kosmos::API_KEY_HEADER, clock, sim::kosmos::KosmosFaults, webhook};
use serde_json::{json, Value};

use crate::both_worlds;
use crate::world::{World, KS_KEY, KS_SECRET, TENANT};

/// A pending IDV row for contact 11 with no provider session, created `age_ms` ago.
async fn stuck_row(w: &World, id: &str, age_ms: i64) {
    let at = clock::now_ms() - age_ms;
    sqlx::query(
        "INSERT INTO verifications (id, tenant_id, contact_id, kind, state, created_at, updated_at) \
         VALUES ($1, $2, 11, 'idv', 'pending', $3, $3)",
    )
    .bind(id)
    .bind(TENANT)
    .bind(at)
    .execute(w.app.state.services.core.store().pool())
    .await
    .unwrap();
}

/// Starts IDV for contact 11 until `done` holds for the answer (bounded: 30 s).
async fn start_until(w: &World, what: &str, done: impl Fn(u16, &Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let res = w.post("/api/v1/contacts/11/verifications", json!({})).await;
        let status = res.status().as_u16();
        let v: Value = res.json().await.unwrap();
        assert!(status < 300, "a start was refused: {status} {v}");
        if done(status, &v) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {v}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

both_worlds!(
    a_start_dropped_mid_provider_call_ends_in_a_usable_session,
    dropped_start
);
async fn dropped_start(w: World) {
    w.ks.set_faults(KosmosFaults {
        create_latency: Duration::from_millis(1500),
        ..Default::default()
    });
    let request = tokio::spawn({
        let (http, url, token) = (
            w.http.clone(),
            w.url("/api/v1/contacts/11/verifications"),
            w.token.clone(),
        );
        async move {
            http.post(url)
                .bearer_auth(token)
                .json(&json!({}))
                .send()
                .await
        }
    });
    // The provider is being asked: the platform's proxy gives up now.
    let deadline = Instant::now() + Duration::from_secs(20);
    while w.ks.creates_received() == 0 {
        assert!(
            Instant::now() < deadline,
            "the start never reached the provider"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    request.abort();
    let _ = request.await;
    w.ks.set_faults(KosmosFaults::default());

    // The rep clicks again: the same session comes back, with its link.
    let v = start_until(&w, "a usable session", |_, v| {
        v["state"] == "pending" && v["hosted_url"].is_string()
    })
    .await;
    let sessions = w.ks.sessions();
    assert_eq!(sessions.len(), 1, "one provider session");
    assert_eq!(sessions[0].reference, v["id"].as_str().unwrap());
}

both_worlds!(
    a_session_left_without_a_provider_session_stops_blocking_new_starts,
    stuck_start
);
async fn stuck_start(w: World) {
    let stuck = "ver_00000000000000c0ffee";
    stuck_row(&w, stuck, 3_600_000).await;
    let v = start_until(&w, "a new session", |status, v| {
        status == 201 && v["id"] != stuck
    })
    .await;
    assert!(v["hosted_url"].is_string(), "{v}");
    let old = w.json(&format!("/api/v1/verifications/{stuck}")).await;
    assert_eq!(old["state"], "failed", "{old}");
}

both_worlds!(
    a_callback_finds_a_cut_short_start_by_its_reference,
    callback_by_reference
);
async fn callback_by_reference(w: World) {
    // The provider made the session, but the process died before recording it.
    let id = "ver_00000000000000beef01";
    stuck_row(&w, id, 0).await;
    let created: Value = w
        .http
        .post(format!("{}/v2/verify/sessions", w.twins.kosmos_url()))
        .header(API_KEY_HEADER, KS_KEY)
        // As the engine asks for it: with the CRM's names for the contact.
        .json(&json!({"reference": id, "ial": "IAL2",
                      "user": {"first_name": "Ada", "last_name": "Lovelace"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = created["session_id"].as_str().unwrap().to_string();
    w.customer(id, "verified");
    let body = serde_json::to_vec(&json!({
        "type": "verify.session.updated", "session_id": session, "reference": id,
    }))
    .unwrap();
    let mut req = w
        .http
        .post(w.url(&format!("/hooks/kosmos/{TENANT}")))
        .header("content-type", "application/json");
    for (k, v) in webhook::headers(KS_SECRET.as_bytes(), "cb-by-ref", clock::now_secs(), &body) {
        req = req.header(k, v);
    }
    let res = req.body(body).send().await.unwrap();
    assert_eq!(res.status(), 202);
    let v = w
        .until(&format!("/api/v1/verifications/{id}"), |v| {
            v["state"] != "pending"
        })
        .await;
    assert_eq!(v["state"], "verified", "{v}");
}
