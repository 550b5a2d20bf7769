//! Who may change a tenant: install and uninstall only from the app's serverless code (signed),
//! on the account first installed.

use serde_json::{json, Value};
use sqlx::Row;

use std::time::Duration;

use idv_server::{services::Policy, sim::freshsales::FsFaults};

use crate::both_worlds;
use crate::{
    both,
    helpers::Db,
    world::{spawn_world_with, test_settings, World, ALIAS, FS_KEY, TENANT},
};

/// The tenant's stored policy and whether it is installed.
async fn tenant_state(w: &World) -> (String, i64) {
    let row = sqlx::query("SELECT policy, installed FROM tenants WHERE id = $1")
        .bind(TENANT)
        .fetch_one(w.app.state.services.core.store().pool())
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

async fn error_of(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(ct.starts_with("application/json"), "{status} as {ct}");
    (status, res.json().await.unwrap())
}

both_worlds!(
    an_install_with_only_the_api_token_is_refused_and_changes_nothing,
    unsigned_install
);
async fn unsigned_install(w: World) {
    let before = tenant_state(&w).await;
    // What a rep can send through the widget's templates: the token, a body of their choice.
    let res = w
        .http
        .post(w.url("/api/v1/install"))
        .bearer_auth(&w.token)
        .header("x-freshsales-api-key", FS_KEY)
        .json(&json!({"account_url": w.account_url(), "policy": {"gated_stages": [], "revert_on_gate": false}}))
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(res).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "forbidden");
    let res = w
        .http
        .post(w.url("/api/v1/uninstall"))
        .bearer_auth(&w.token)
        .json(&json!({"account_url": w.account_url()}))
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(res).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(tenant_state(&w).await, before, "nothing changed");
}

both_worlds!(
    a_signed_install_and_uninstall_work_once_and_replays_are_refused,
    signed_install
);
async fn signed_install(w: World) {
    let policy = json!({"gated_stages": ["Won"], "revert_on_gate": true});
    let res = w
        .install(
            FS_KEY,
            &json!({"account_url": w.account_url(), "policy": policy}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let (stored, installed) = tenant_state(&w).await;
    assert!(stored.contains("Won"), "{stored}");
    assert_eq!(installed, 1);
    let audit: String = sqlx::query(
        "SELECT detail FROM audit_log WHERE tenant_id = $1 AND action = 'install' ORDER BY id DESC LIMIT 1",
    )
    .bind(TENANT)
    .fetch_one(w.app.state.services.core.store().pool())
    .await
    .unwrap()
    .get(0);
    assert!(audit.contains("signed serverless"), "{audit}");

    // The same signed request again (a replay) is refused.
    let body = serde_json::to_vec(&json!({"account_url": w.account_url()})).unwrap();
    let headers = idv_server::webhook::headers(
        &crate::world::app_key(&w.token, "/api/v1/uninstall"),
        "msg_replayed",
        idv_server::clock::now_secs(),
        &body,
    );
    let send = || {
        let mut req = w
            .http
            .post(w.url("/api/v1/uninstall"))
            .bearer_auth(&w.token)
            .header("content-type", "application/json");
        for (k, v) in &headers {
            req = req.header(*k, v);
        }
        req.body(body.clone()).send()
    };
    assert_eq!(send().await.unwrap().status(), 200);
    assert_eq!(tenant_state(&w).await.1, 0, "uninstalled");
    let (status, _) = error_of(send().await.unwrap()).await;
    assert_eq!(status, 409);
}

both_worlds!(an_install_for_another_account_url_is_refused, other_account);
async fn other_account(w: World) {
    let before = tenant_state(&w).await;
    let other = w.account_url().replace("/a/acme", "/a/other");
    let res = w
        .install(
            FS_KEY,
            &json!({"account_url": other, "policy": {"gated_stages": []}}),
        )
        .await;
    let (status, body) = error_of(res).await;
    assert_eq!(status, 403, "{body}");
    let res = w
        .post_signed("/api/v1/uninstall", &[], &json!({"account_url": other}))
        .await;
    let (status, _) = error_of(res).await;
    assert_eq!(status, 403);
    assert_eq!(tenant_state(&w).await, before, "nothing changed");
}

both_worlds!(
    every_switch_of_the_install_form_is_stored_and_a_bad_choice_is_refused,
    install_form_switches
);
async fn install_form_switches(w: World) {
    // What server.js sends from the install form (tests/serverless covers that side).
    let policy = json!({
        "auto_verify_on_create": true, "gated_stages": ["Negotiation"], "revert_on_gate": true,
        "validity_days": 180, "default_ial": "IAL2", "min_ial": "IAL2",
        "automation_delivery": "email", "reverify_on_expiry": true,
        "invalidate_on_identity_change": true, "identity_mismatch": "review",
        "publish_credential_did": true,
        // Freshdesk's switches (a Freshsales install leaves them at their defaults).
        "verify_new_tickets": false, "ticket_types": [], "ticket_group_ids": [],
        "fresh_minutes": 30,
    });
    let res = w
        .install(
            FS_KEY,
            &json!({"account_url": w.account_url(), "policy": policy}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let (stored, _) = tenant_state(&w).await;
    let stored: Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(stored, policy);

    // "provider default" arrives as null: the backend chooses.
    let mut default_delivery = policy.clone();
    default_delivery["automation_delivery"] = Value::Null;
    let res = w
        .install(
            FS_KEY,
            &json!({"account_url": w.account_url(), "policy": default_delivery}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (stored, _) = tenant_state(&w).await;
    assert_eq!(
        serde_json::from_str::<Value>(&stored).unwrap()["automation_delivery"],
        Value::Null
    );

    // A level above the one automation asks for: refused with what to fix, nothing stored.
    let mut bad = policy.clone();
    bad["default_ial"] = "IAL1".into();
    let res = w
        .install(
            FS_KEY,
            &json!({"account_url": w.account_url(), "policy": bad}),
        )
        .await;
    let (status, body) = error_of(res).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("min_ial"),
        "{body}"
    );
    let (stored, _) = tenant_state(&w).await;
    assert_eq!(
        serde_json::from_str::<Value>(&stored).unwrap()["default_ial"],
        "IAL2"
    );

    // A mismatch is failed or held for review: nothing else (never verified).
    let mut bad = policy.clone();
    bad["identity_mismatch"] = "ignore".into();
    let res = w
        .install(
            FS_KEY,
            &json!({"account_url": w.account_url(), "policy": bad}),
        )
        .await;
    let (status, body) = error_of(res).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("expected `fail` or `review`"),
        "{body}"
    );
    let (stored, _) = tenant_state(&w).await;
    assert_eq!(
        serde_json::from_str::<Value>(&stored).unwrap()["identity_mismatch"],
        "review"
    );
}

both_worlds!(
    after_uninstall_the_token_starts_resends_and_steps_up_nothing,
    uninstalled_token
);
async fn uninstalled_token(w: World) {
    // Ada verified (enrolled for step-up); Grace's emailed link expired unused.
    let ada = w.start_idv(11).await;
    w.customer(ada.id.as_str(), "verified");
    w.until("/api/v1/contacts/11/status", |s| {
        s["liveid_enrolled"] == true
    })
    .await;
    let res = w
        .post(
            "/api/v1/contacts/12/verifications",
            json!({"delivery": "email"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let old: Value = res.json().await.unwrap();
    let old_id = old["id"].as_str().unwrap();
    w.customer(old_id, "abandoned");
    w.until("/api/v1/contacts/12/status", |s| s["status"] == "expired")
        .await;
    let res = w
        .post_signed(
            "/api/v1/uninstall",
            &[],
            &json!({"account_url": w.account_url()}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let before = w.ks.sessions().len();

    // The widget's token still authenticates, and the page's data spares a CRM read: no resend,
    // start or step-up starts a billable session any more.
    let grace = json!({"first_name": "Grace", "last_name": "Hopper",
        "email": "grace@example.com", "phone": "+14155550132"});
    let calls = [
        (
            format!("/api/v1/verifications/{old_id}/resend"),
            json!({"contact": grace}),
        ),
        (
            "/api/v1/contacts/12/verifications".to_string(),
            json!({"delivery": "email", "contact": grace}),
        ),
        ("/api/v1/contacts/11/step-up".to_string(), json!({})),
        ("/api/v1/deals/501/step-up".to_string(), json!({})),
    ];
    for (path, body) in calls {
        let (status, answer) = error_of(w.post(&path, body).await).await;
        assert_eq!(status, 422, "{path}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains("uninstalled"),
            "{path}: {answer}"
        );
    }
    assert_eq!(
        w.ks.sessions().len(),
        before,
        "no session started after uninstall"
    );
}

both_worlds!(
    a_signed_event_replayed_to_install_or_uninstall_is_refused_and_changes_nothing,
    event_replayed_as_uninstall
);
async fn event_replayed_as_uninstall(w: World) {
    // A forwarded event as the serverless code signs it, captured on its way (its body holds the
    // account URL, like an uninstall's), sent to the uninstall and install endpoints instead.
    let body = serde_json::to_vec(
        &json!({"event": "onContactCreate", "account_url": w.account_url(),
        "data": {"contact": {"id": 12}}}),
    )
    .unwrap();
    let headers = idv_server::webhook::headers(
        &crate::world::app_key(&w.token, "/hooks/freshworks"),
        "msg_captured",
        idv_server::clock::now_secs(),
        &body,
    );
    for path in ["/api/v1/uninstall", "/api/v1/install"] {
        let mut req = w
            .http
            .post(w.url(path))
            .bearer_auth(&w.token)
            .header("content-type", "application/json")
            .header("x-freshsales-api-key", FS_KEY);
        for (k, v) in &headers {
            req = req.header(*k, v);
        }
        let (status, body) = error_of(req.body(body.clone()).send().await.unwrap()).await;
        assert_eq!(status, 403, "{path}: {body}");
    }
    assert_eq!(tenant_state(&w).await.1, 1, "still installed");
    // An uninstall signed as such but carrying more than the account is refused too.
    let res = w
        .post_signed(
            "/api/v1/uninstall",
            &[],
            &json!({"account_url": w.account_url(), "event": "onContactCreate"}),
        )
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert_eq!(tenant_state(&w).await.1, 1, "still installed");
}

both_worlds!(
    two_installs_racing_on_a_new_tenant_leave_it_pinned_and_connected_to_one_account,
    install_race
);
async fn install_race(w: World) {
    // A tenant not yet pinned; a second account the same twin serves; slow calls, so both
    // installs pass the early account check before either writes.
    sqlx::query("UPDATE tenants SET account_url = NULL WHERE id = $1")
        .bind(TENANT)
        .execute(w.app.state.services.core.store().pool())
        .await
        .unwrap();
    w.fs.add_account("other", "other-key", 1_000);
    let other = w.account_url().replace(&format!("/a/{ALIAS}"), "/a/other");
    w.fs.set_faults(FsFaults {
        latency: Duration::from_millis(300),
        ..Default::default()
    });
    let own = json!({"account_url": w.account_url()});
    let first = w.install(FS_KEY, &own);
    let second = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        w.install("other-key", &json!({"account_url": other})).await
    };
    let (first, second) = tokio::join!(first, second);
    assert_eq!(first.status(), 200);
    let (status, body) = error_of(second).await;
    assert_eq!(status, 403, "{body}");
    w.fs.set_faults(FsFaults::default());
    let row = sqlx::query("SELECT account_url, crm_base_url FROM tenants WHERE id = $1")
        .bind(TENANT)
        .fetch_one(w.app.state.services.core.store().pool())
        .await
        .unwrap();
    let (pinned, base): (String, String) = (row.get(0), row.get(1));
    assert_eq!(pinned, w.account_url().to_ascii_lowercase());
    assert!(
        base.contains(&format!("/a/{ALIAS}/")),
        "connected to {base}"
    );
}

both!(
    a_forwarded_event_of_another_account_or_of_none_acts_on_nothing,
    event_of_another_account
);
async fn event_of_another_account(db: Db) {
    let policy = Policy {
        auto_verify_on_create: true,
        ..Policy::default()
    };
    let Some(w) = spawn_world_with(db, test_settings(), policy).await else {
        return;
    };
    let other = w.account_url().replace(&format!("/a/{ALIAS}"), "/a/other");
    let event = |account: Option<&str>| {
        let mut e = json!({"event": "onContactCreate", "data": {"contact": {"id": 12}}});
        if let Some(a) = account {
            e["account_url"] = json!(a);
        }
        e
    };
    let res = w
        .post_signed("/hooks/freshworks", &[], &event(Some(&other)))
        .await;
    let (status, body) = error_of(res).await;
    assert_eq!(status, 403, "{body}");
    let res = w.post_signed("/hooks/freshworks", &[], &event(None)).await;
    let (status, body) = error_of(res).await;
    assert_eq!(status, 422, "{body}");
    assert!(w.ks.sessions().is_empty(), "nothing started");
    // The account's own event (its URL as the platform spells it) is acted on.
    let own = format!("{}/", w.account_url().to_ascii_uppercase());
    let res = w
        .post_signed("/hooks/freshworks", &[], &event(Some(&own)))
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(w.ks.sessions().len(), 1);
}
