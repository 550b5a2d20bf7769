//! Operating it: dead writes replayed, the doctor, no plaintext secret at rest, the plan's rate limit.

use std::time::Duration;

use serde_json::json;

use crate::both_worlds;
use crate::world::World;
use crate::{
    both,
    helpers::Db,
    world::{spawn_world, test_settings, ALIAS, TENANT, WORKFLOW_SECRET},
};

both_worlds!(dead_writes_are_replayed, dead_rows);
async fn dead_rows(w: World) {
    let v = w.start_idv(11).await;
    w.fs.set_faults(idv_server::sim::freshsales::FsFaults {
        error_rate: 1.0,
        ..Default::default()
    });
    w.customer(v.id.as_str(), "verified");
    w.until("/api/v1/contacts/11/status", |s| s["status"] == "verified")
        .await;
    let engine = w.app.services().clone();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let dead = engine
            .outbox
            .sync_counts()
            .await
            .unwrap()
            .into_iter()
            .find(|(s, _)| s == "dead")
            .map_or(0, |x| x.1);
        if dead > 0
            && engine
                .outbox
                .sync_counts()
                .await
                .unwrap()
                .iter()
                .all(|(s, n)| s != "pending" || *n == 0)
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "rows never went dead");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The gauge follows the rows the worker changed (on the operator's address).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = w
            .http
            .get(format!("{}/metrics", w.app.ops_url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metrics.contains("idv_outbox_rows{state=\"dead\"} ")
            && !metrics.contains("idv_outbox_rows{state=\"dead\"} 0")
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the dead gauge never moved: {metrics}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    w.fs.set_faults(Default::default());
    assert!(engine.outbox.replay_dead(Some(TENANT)).await.unwrap() > 0);
    w.until_crm("the replayed write", |fs| {
        fs.contact(ALIAS, 11).unwrap()["custom_field"]["cf_idv_status"] == "verified"
    })
    .await;
}

both_worlds!(the_doctor_names_the_remedy, doctor);
async fn doctor(w: World) {
    use idv_server::services::tenant;
    let engine = w.app.services().clone();
    let report = |base: String, key: &'static str| {
        let engine = engine.clone();
        let store = w.app.state.services.core.store().clone();
        async move {
            tenant::set_connections(
                &store,
                engine.core.sealer(),
                TENANT,
                &tenant::Connections {
                    crm_base_url: Some(base),
                    crm_key: Some(key.into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            engine.core.tenants().forget(TENANT);
            let t = engine.core.tenants().get(TENANT).await.unwrap().unwrap();
            engine.doctor.doctor(&t).await
        }
    };
    let api = format!("{}/crm/sales/api", w.account_url());
    let good = report(api.clone(), crate::world::FS_KEY).await;
    assert!(
        good.iter().find(|c| c.name == "freshsales").unwrap().ok,
        "{good:?}"
    );
    assert!(
        good.iter().find(|c| c.name == "1kosmos").unwrap().ok,
        "{good:?}"
    );
    let bearer = report(api.clone(), "Bearer fs-key-acme").await;
    let c = bearer.iter().find(|c| c.name == "freshsales").unwrap();
    assert!(!c.ok && c.detail.contains("Token token="), "{c:?}");
    let alias = report(api.replace("/a/acme/", "/a/nope/"), crate::world::FS_KEY).await;
    let c = alias.iter().find(|c| c.name == "freshsales").unwrap();
    assert!(!c.ok && c.detail.contains("bundle alias"), "{c:?}");
    let down = report(
        "http://127.0.0.1:9/crm/sales/api".into(),
        crate::world::FS_KEY,
    )
    .await;
    let c = down.iter().find(|c| c.name == "freshsales").unwrap();
    assert!(!c.ok && c.detail.contains("reach"), "{c:?}");
}

/// The SQLite file (and its WAL) never holds a key, token, secret, email or hosted link.
#[tokio::test]
async fn no_plaintext_secret_or_personal_field_in_the_database_file() {
    let Some(w) = spawn_world(Db::Sqlite).await else {
        return;
    };
    let v = w.start_idv(11).await;
    let id = v.id.as_str();
    w.customer(id, "verified");
    w.until("/api/v1/contacts/11/status", |s| s["status"] == "verified")
        .await;
    w.until_crm("fields", |fs| {
        fs.contact(ALIAS, 11).unwrap()["custom_field"]["cf_idv_status"] == "verified"
    })
    .await;
    let did =
        w.ks.sessions()
            .into_iter()
            .find(|s| s.reference == id)
            .and_then(|s| s.result["credential_did"].as_str().map(str::to_string))
            .expect("the provider's credential");
    let file = w.db_file();
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.extend(std::fs::read(format!("{}-wal", file.display())).unwrap_or_default());
    let text = String::from_utf8_lossy(&bytes);
    for secret in [
        crate::world::FS_KEY,
        crate::world::KS_KEY,
        crate::world::KS_SECRET,
        WORKFLOW_SECRET,
        w.token.as_str(),
        "ada@example.com",
        "Lovelace",
        did.as_str(),
        v.hosted_url.as_deref().unwrap(),
    ] {
        assert!(
            !text.contains(secret),
            "{secret:?} is in the database file in plain text"
        );
    }
}

both_worlds!(a_burst_stays_under_the_plans_rate_limit, burst);
async fn burst(w: World) {
    use idv_server::services::tenant;
    let engine = w.app.services().clone();
    // A plan of 20 calls per (scaled) hour of one second; the simulator allows two more, for
    // the timing between the two clocks on a loaded machine.
    tenant::set_connections(
        w.app.state.services.core.store(),
        engine.core.sealer(),
        TENANT,
        &tenant::Connections {
            hourly_limit: Some(20),
            rate_window_secs: Some(1),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    engine.core.tenants().forget(TENANT);
    w.fs.with(ALIAS, |a| {
        a.hourly_limit = 22;
        a.hour = Duration::from_secs(1);
    });
    let t = engine.core.tenants().get(TENANT).await.unwrap().unwrap();
    for id in 100..160u64 {
        w.fs.seed_contact(
            ALIAS,
            id,
            "B",
            "Urst",
            &format!("b{id}@example.com"),
            "+1 415 555 0100",
        );
        w.app
            .state
            .services
            .core
            .store()
            .upsert_contact(TENANT, id as i64, false)
            .await
            .unwrap();
    }
    let started = std::time::Instant::now();
    {
        let mut tx = w.app.state.services.core.store().begin().await.unwrap();
        for id in 100..160i64 {
            engine
                .queue
                .queue_contact_writes(&mut tx, &t, id)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }
    engine.core.wake_sync();
    let deadline = started + Duration::from_secs(20);
    loop {
        let counts = engine.outbox.sync_counts().await.unwrap();
        if counts.iter().all(|(s, n)| s == "done" || *n == 0) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the burst did not drain: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let calls = w.fs.calls(ALIAS);
    assert_eq!(
        calls.iter().filter(|c| c.status == 429).count(),
        0,
        "no call over the limit"
    );
    assert_eq!(
        w.crm_calls("PUT", "/contacts/1"),
        60,
        "every record written once"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "60 calls at 20/s cannot take under 2 s"
    );
}

both_worlds!(a_reinstalled_key_reaches_every_replica, reinstalled_key);
async fn reinstalled_key(w: World) {
    // A second replica on the same database reads the tenant and builds its CRM client.
    let store = idv_server::Store::connect(&w.db_url).await.unwrap();
    let sealer = idv_server::crypto::Sealer::from_base64(&w.master_key.clone().into()).unwrap();
    let other = idv_server::wire_services(store, sealer, test_settings());
    let t = other.core.tenants().get(TENANT).await.unwrap().unwrap();
    assert!(other
        .core
        .tenants()
        .crm(&t)
        .unwrap()
        .contact(11)
        .await
        .is_ok());
    // The admin reinstalls through the first replica with a new key; the old key stops working.
    w.fs.with(ALIAS, |a| a.api_keys = vec!["fs-key-rotated".into()]);
    let res = w
        .install("fs-key-rotated", &json!({"account_url": w.account_url()}))
        .await;
    assert_eq!(res.status(), 200);
    // Once the other replica reads the tenant again, it writes with the new key.
    tokio::time::sleep(idv_server::services::tenants::TENANT_TTL + Duration::from_millis(100))
        .await;
    let t = other.core.tenants().get(TENANT).await.unwrap().unwrap();
    let read = other.core.tenants().crm(&t).unwrap().contact(11).await;
    assert!(
        read.is_ok(),
        "the other replica still uses the old key: {read:?}"
    );
}

both!(
    the_demo_refuses_to_seed_a_database_with_real_tenants,
    demo_keeps_to_its_own_database
);
async fn demo_keeps_to_its_own_database(db: Db) {
    let Some(url) = crate::helpers::fresh_database(db).await else {
        return;
    };
    let store = idv_server::Store::connect(&url).await.unwrap();
    // A fresh database takes the demo's seed, and takes it again on the next run.
    idv_server::demo::seed(&store).await.unwrap();
    idv_server::demo::seed(&store).await.unwrap();
    // Nor does trying the demo's HubSpot install link keep it from starting again.
    store
        .insert_tenant("hubspot-7310001", "HubSpot account 7310001", "hash-hs")
        .await
        .unwrap();
    idv_server::demo::seed(&store).await.unwrap();
    // A database holding a real tenant does not.
    store.insert_tenant("acme", "Acme", "hash").await.unwrap();
    let err = idv_server::demo::seed(&store)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("real tenants (acme)"), "{err}");
}

both_worlds!(
    an_expiry_that_fails_midway_loses_no_crm_write,
    expiry_in_one_transaction
);
async fn expiry_in_one_transaction(w: World) {
    let v = w.start_idv(11).await;
    let id = v.id.clone();
    w.customer(&id, "verified");
    w.until("/api/v1/contacts/11/status", |s| s["status"] == "verified")
        .await;
    let pool = w.app.services().core.store().pool().clone();
    let sql = |q: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query(q).execute(&pool).await.unwrap() }
    };
    // The verified result's writes are out first: a row claimed when the queue goes away
    // could not be finished and would wait out its lease.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let pending: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM sync_outbox WHERE state = 'pending'")
                .fetch_one(&pool)
                .await
                .unwrap();
        if pending == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the write-back queue never drained"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // The write-back queue is unavailable while the validity runs out…
    sql("ALTER TABLE sync_outbox RENAME TO sync_outbox_away").await;
    sqlx::query("UPDATE verifications SET valid_until = $1 WHERE id = $2")
        .bind(idv_server::clock::now_ms() - 1_000)
        .bind(&id)
        .execute(&pool)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // …so the session is not expired without its CRM write…
    let state: String = sqlx::query_scalar("SELECT state FROM verifications WHERE id = $1")
        .bind(&id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(state, "verified", "expired, but its CRM write was lost");
    // …and once the queue is back, it lapses and the CRM record says so.
    sql("ALTER TABLE sync_outbox_away RENAME TO sync_outbox").await;
    w.until("/api/v1/contacts/11/status", |s| s["status"] == "lapsed")
        .await;
    w.until_crm("lapsed on the record", |fs| {
        fs.contact(ALIAS, 11).unwrap()["custom_field"]["cf_idv_status"] == "lapsed"
    })
    .await;
}
