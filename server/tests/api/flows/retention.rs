//! Retention: old rows go, a person can be forgotten, and uninstall wipes the sealed key.

use idv_server::clock;
use serde_json::json;
use sqlx::Row;

use crate::both_worlds;
use crate::world::{World, ALIAS, TENANT};

async fn count(w: &World, sql: &str) -> i64 {
    sqlx::query(sql)
        .bind(TENANT)
        .fetch_one(w.app.state.services.core.store().pool())
        .await
        .unwrap()
        .get(0)
}

async fn exec(w: &World, sql: &str, at: i64, id: &str) {
    sqlx::query(sql)
        .bind(TENANT)
        .bind(at)
        .bind(id)
        .execute(w.app.state.services.core.store().pool())
        .await
        .unwrap();
}

both_worlds!(
    the_retention_job_deletes_rows_past_their_retention_and_keeps_the_rest,
    retention_job
);
async fn retention_job(w: World) {
    let now = clock::now_ms();
    let year_ago = now - 366 * 24 * 3600 * 1000;
    let ages = [("old", year_ago * 2 - now), ("new", now - 1000)];
    for (tag, at) in ages {
        exec(&w, "INSERT INTO inbound_events (tenant_id, source, event_id, received_at) VALUES ($1, 'kosmos', $3, $2)", at, tag).await;
        exec(&w, "INSERT INTO idempotency_keys (tenant_id, key, verification_id, created_at) VALUES ($1, $3, 'ver_x', $2)", at, tag).await;
        exec(
            &w,
            "INSERT INTO audit_log (tenant_id, at, action, subject) VALUES ($1, $2, 'test', $3)",
            at,
            tag,
        )
        .await;
        exec(&w, "INSERT INTO verifications (id, tenant_id, contact_id, kind, state, created_at, updated_at, completed_at) \
                  VALUES ($3, $1, 12, 'idv', 'failed', $2, $2, $2)", at, &format!("ver_failed_{tag}")).await;
        exec(
            &w,
            "INSERT INTO chat_conversations (tenant_id, conversation_id, user_id, seen_at) \
                  VALUES ($1, $3, 'u-1', $2)",
            at,
            tag,
        )
        .await;
        exec(&w, "INSERT INTO verifications (id, tenant_id, contact_id, kind, state, created_at, updated_at, completed_at) \
                  VALUES ($3, $1, 12, 'stepup', 'verified', $2, $2, $2)", at, &format!("ver_ok_{tag}")).await;
        // A note sent once, the contact's desired state, and a task still to send.
        for (kind, state) in [
            ("note", "done"),
            ("contact_fields", "done"),
            ("task", "pending"),
        ] {
            sqlx::query(
                "INSERT INTO sync_outbox (tenant_id, record_key, kind, payload, state, next_attempt_at, updated_at) \
                 VALUES ($1, $2, $3, 'sealed', $4, $5, $5)",
            )
            .bind(TENANT)
            .bind(format!("{kind}:{tag}"))
            .bind(kind)
            .bind(state)
            .bind(at)
            .execute(w.app.state.services.core.store().pool())
            .await
            .unwrap();
        }
    }
    // Verified two years ago, lapsed yesterday: its contact still shows Expired, so it stays.
    exec(&w, "INSERT INTO verifications (id, tenant_id, contact_id, kind, state, created_at, updated_at, completed_at) \
              VALUES ($3, $1, 12, 'idv', 'expired', $2, $2 + 63158400000 - 86400000, $2)", year_ago * 2 - now, "ver_lapsed").await;
    let deleted = w.app.services().retention.retention_once().await.unwrap();
    assert_eq!(deleted.inbound_events, 1);
    assert_eq!(deleted.idempotency_keys, 1);
    assert!(deleted.audit_log >= 1);
    assert_eq!(deleted.verifications, 1, "only the old failed session");
    assert_eq!(deleted.chat_conversations, 1);
    assert_eq!(
        deleted.sent_once_writes, 1,
        "only the old note that was sent"
    );
    let left = |sql: &'static str| count(&w, sql);
    assert_eq!(
        left("SELECT COUNT(*) FROM inbound_events WHERE tenant_id = $1 AND event_id = 'new'").await,
        1
    );
    assert_eq!(
        left("SELECT COUNT(*) FROM inbound_events WHERE tenant_id = $1 AND event_id = 'old'").await,
        0
    );
    assert_eq!(
        left("SELECT COUNT(*) FROM idempotency_keys WHERE tenant_id = $1").await,
        1
    );
    assert_eq!(
        left("SELECT COUNT(*) FROM audit_log WHERE tenant_id = $1 AND subject = 'old'").await,
        0
    );
    assert_eq!(
        left("SELECT COUNT(*) FROM audit_log WHERE tenant_id = $1 AND subject = 'new'").await,
        1
    );
    assert_eq!(
        left("SELECT COUNT(*) FROM verifications WHERE tenant_id = $1 AND contact_id = 12").await,
        4,
        "the recent ones, the verified one and the one that lapsed yesterday stay"
    );
    assert_eq!(
        left("SELECT COUNT(*) FROM sync_outbox WHERE tenant_id = $1 AND record_key <> 'note:old'")
            .await,
        5,
        "the contact's state and the task not yet sent stay, however old"
    );
}

both_worlds!(
    forgetting_a_contact_erases_their_data_and_clears_their_crm_fields,
    forget_contact
);
async fn forget_contact(w: World) {
    let v = w.start_idv(11).await;
    let id = v.id.clone();
    w.customer(&id, "verified");
    w.until_crm("contact 11 verified in the CRM", |fs| {
        fs.contact(ALIAS, 11).unwrap()["custom_field"]["cf_idv_status"] == "verified"
    })
    .await;
    let other = w.start_idv(12).await;
    // A chat bot's link to the conversation goes with the session.
    exec(&w, "INSERT INTO chat_sessions (verification_id, conversation_id, tenant_id, user_id, created_at) \
              VALUES ($3, 'c-1', $1, 'u-1', $2)", clock::now_ms(), &id).await;

    let erased = w
        .app
        .services()
        .retention
        .forget_contact(TENANT, 11)
        .await
        .unwrap();
    assert_eq!(erased, 1);
    assert_eq!(
        count(
            &w,
            "SELECT COUNT(*) FROM chat_sessions WHERE tenant_id = $1"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &w,
            "SELECT COUNT(*) FROM verifications WHERE tenant_id = $1 AND contact_id = 11"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &w,
            "SELECT COUNT(*) FROM contacts WHERE tenant_id = $1 AND contact_id = 11"
        )
        .await,
        0
    );
    let named: i64 =
        sqlx::query("SELECT COUNT(*) FROM audit_log WHERE tenant_id = $1 AND subject = $2")
            .bind(TENANT)
            .bind(&id)
            .fetch_one(w.app.state.services.core.store().pool())
            .await
            .unwrap()
            .get(0);
    assert_eq!(named, 0, "no audit line names the erased session");
    let res = w.get(&format!("/api/v1/verifications/{id}")).await;
    assert_eq!(res.status(), 404);
    w.until_crm("contact 11's IDV fields cleared", |fs| {
        let c = fs.contact(ALIAS, 11).unwrap();
        [
            "cf_idv_status",
            "cf_idv_ial_level",
            "cf_idv_verified_date",
            "cf_idv_credential_did",
        ]
        .iter()
        .all(|f| c["custom_field"][f].is_null())
    })
    .await;
    // Another person's data is untouched.
    let still = w
        .json(&format!("/api/v1/verifications/{}", other.id.as_str()))
        .await;
    assert_eq!(still["state"], "pending");
}

both_worlds!(uninstall_wipes_the_tenants_sealed_key, uninstall_wipes);
async fn uninstall_wipes(w: World) {
    w.start_idv(11).await;
    let sealed = "SELECT COUNT(*) FROM tenants WHERE id = $1 AND crm_key_sealed IS NOT NULL";
    assert_eq!(count(&w, sealed).await, 1);
    let res = w
        .post_signed(
            "/api/v1/uninstall",
            &[],
            &json!({"account_url": w.account_url()}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(count(&w, sealed).await, 0, "the Freshsales key is wiped");
    assert_eq!(
        count(&w, "SELECT COUNT(*) FROM verifications WHERE tenant_id = $1 AND hosted_url_sealed IS NOT NULL").await,
        0,
        "no sealed link is left"
    );
    assert_eq!(
        count(&w, "SELECT COUNT(*) FROM verifications WHERE tenant_id = $1 AND expected_holder_sealed IS NOT NULL").await,
        0,
        "no CRM name kept for a pending session is left"
    );
}
