//! Webhook secrets rotate without a gap: `server tenant rotate-secret ID --workflow|--kosmos`
//! issues a new secret, and the one it replaces is accepted until its grace period ends.

use std::time::{Duration, Instant};

use idv_server::{services::tenant, store::WebhookSecret, webhook};
use serde_json::json;

use crate::both_worlds;
use crate::world::{World, KS_SECRET, TENANT, WORKFLOW_SECRET};

/// Posts a signed 1Kosmos callback for a fresh session; returns the status.
async fn callback(w: &World, key: &[u8], msg: &str, session: &str) -> u16 {
    let body = serde_json::to_vec(
        &json!({"type": "verify.session.updated", "session_id": session, "status": "completed"}),
    )
    .unwrap();
    let mut req = w
        .http
        .post(w.url(&format!("/hooks/kosmos/{TENANT}")))
        .header("content-type", "application/json");
    for (k, v) in webhook::headers(key, msg, idv_server::clock::now_secs(), &body) {
        req = req.header(k, v);
    }
    req.body(body).send().await.unwrap().status().as_u16()
}

/// Posts a workflow event with `secret`; returns the status.
async fn workflow(w: &World, secret: &str) -> u16 {
    w.http
        .post(w.url(&format!("/hooks/freshsales/{TENANT}")))
        .header("x-idv-webhook-secret", secret)
        .json(&json!({"event": "contact_created", "contact_id": 11}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Runs `server tenant rotate-secret` on the world's database; returns its standard output.
fn rotate_secret_cli(w: &World, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.args(["tenant", "rotate-secret", TENANT])
        .args(args)
        .env("DATABASE_URL", &w.db_url)
        .env("IDV_MASTER_KEY", &w.master_key)
        .env_remove("IDV_NEW_KOSMOS_WEBHOOK_SECRET")
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "rotate-secret failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Polls until `check` holds (the server rereads a tenant within seconds).
async fn eventually<F: std::future::Future<Output = bool>>(what: &str, check: impl Fn() -> F) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

both_worlds!(
    rotate_secret_workflow_issues_a_new_secret_and_keeps_the_old_one_for_the_grace_period,
    workflow_rotation
);
async fn workflow_rotation(w: World) {
    assert_eq!(workflow(&w, WORKFLOW_SECRET).await, 200);
    let out = rotate_secret_cli(&w, &["--workflow"], &[]);
    let new = out
        .lines()
        .find_map(|l| l.strip_prefix("webhook secret: "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("the new secret is printed: {out}"))
        .to_string();
    assert_ne!(new, WORKFLOW_SECRET);
    eventually("the new workflow secret is accepted", || async {
        workflow(&w, &new).await == 200
    })
    .await;
    assert_eq!(
        workflow(&w, WORKFLOW_SECRET).await,
        200,
        "the replaced secret still works during the grace period"
    );
    assert_eq!(workflow(&w, "guess").await, 401);

    // With no grace left, the replaced secret is refused.
    rotate_secret_cli(&w, &["--workflow", "--grace-hours", "0"], &[]);
    eventually("the replaced secret is refused", || async {
        workflow(&w, &new).await == 401
    })
    .await;
    assert_eq!(workflow(&w, WORKFLOW_SECRET).await, 401);
}

both_worlds!(
    kosmos_callbacks_signed_with_the_previous_secret_verify_until_the_grace_period_ends,
    kosmos_rotation
);
async fn kosmos_rotation(w: World) {
    let v = w.start_idv(11).await;
    let session = w.provider_session(v.id.as_str());
    let new_key = b"0123456789abcdef0123456789abcdef";
    let whsec = format!(
        "whsec_{}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, new_key)
    );
    let out = rotate_secret_cli(
        &w,
        &["--kosmos"],
        &[("IDV_NEW_KOSMOS_WEBHOOK_SECRET", whsec.as_str())],
    );
    assert!(!out.contains(&whsec), "a given secret is not echoed: {out}");
    eventually("callbacks signed with the new secret verify", || async {
        callback(
            &w,
            new_key,
            &format!("m-new-{}", rand::random::<u32>()),
            &session,
        )
        .await
            != 401
    })
    .await;
    assert_eq!(
        callback(&w, KS_SECRET.as_bytes(), "m-old-1", &session).await,
        202,
        "the previous secret verifies during the grace period"
    );
    assert_eq!(callback(&w, b"forged", "m-forged", &session).await, 401);

    // The grace period over, the previous secret no longer verifies.
    let engine = w.app.services();
    tenant::rotate_webhook_secret(
        engine.core.store(),
        engine.core.sealer(),
        TENANT,
        WebhookSecret::Provider,
        "ks-third-secret",
        Duration::ZERO,
    )
    .await
    .unwrap();
    engine.core.tenants().forget(TENANT);
    assert_eq!(callback(&w, new_key, "m-new-late", &session).await, 401);
    assert_eq!(
        callback(&w, b"ks-third-secret", "m-third", &session).await,
        202
    );
}
