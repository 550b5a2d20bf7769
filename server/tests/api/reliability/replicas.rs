//! Two engines on one PostgreSQL database: write-back claims and the shared Freshsales budget.

use std::time::Duration;

use idv_server::{
    crypto::Sealer,
    services::{queue, Policy, Settings, Write},
    sim::freshsales::FsFaults,
    Config, Running, Store,
};
use sqlx::Row;

use crate::{
    helpers::Db,
    world::{spawn_world_with, test_settings, World, ALIAS, TENANT},
};

use super::eventually;

/// A second replica on the world's database and master key, with its own workers.
async fn second_replica(w: &World, settings: Settings) -> Running {
    let store = Store::connect(&w.db_url).await.unwrap();
    let sealer = Sealer::from_base64(&w.master_key.clone().into()).unwrap();
    Running::start_with(
        &Config::for_database(w.db_url.clone()),
        idv_server::wire_services(store, sealer, settings),
        Default::default(),
    )
    .await
    .unwrap()
}

async fn outbox_count(w: &World, sql: &str) -> i64 {
    sqlx::query(sql)
        .bind(TENANT)
        .fetch_one(w.app.state.services.core.store().pool())
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn two_replicas_and_a_slow_freshsales_post_each_note_and_task_once() {
    // Every send outlives the configured lease (300 ms): a note takes one 1.2 s call, a task
    // two (its contact's owner, then the task), longer than one HTTP timeout (2 s). What keeps
    // each claim alive through its send is the engine's floor: a lease of at least two HTTP
    // timeouts.
    let settings = Settings {
        sync_lease: Duration::from_millis(300),
        http_timeout: Duration::from_secs(2),
        ..test_settings()
    };
    let Some(w) = spawn_world_with(Db::Postgres, settings.clone(), Policy::default()).await else {
        return;
    };
    let second = second_replica(&w, settings).await;
    w.fs.set_faults(FsFaults {
        latency: Duration::from_millis(1200),
        ..Default::default()
    });
    let engine = w.app.services();
    let note = |text: String| Write::Note {
        target: "contact".into(),
        id: 11,
        text,
    };

    // A third claimant takes one row and freezes (a replica paused mid-send) past its lease.
    let mut tx = engine.core.store().begin().await.unwrap();
    queue::enqueue(
        &mut tx,
        engine.core.sealer(),
        Duration::from_secs(3600),
        TENANT,
        "note:replica:frozen",
        &note("replica note frozen".into()),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let now = idv_server::clock::now_ms();
    let frozen = engine
        .core
        .store()
        .claim_outbox_row("frozen-claimant", now + 300, now + 2 * 3_600_000)
        .await
        .unwrap()
        .expect("the frozen claimant's row");
    assert_eq!(frozen.record_key, "note:replica:frozen");

    let mut tx = engine.core.store().begin().await.unwrap();
    for i in 0..8 {
        queue::enqueue(
            &mut tx,
            engine.core.sealer(),
            Duration::ZERO,
            TENANT,
            &format!("note:replica:{i}"),
            &note(format!("replica note {i}")),
        )
        .await
        .unwrap();
    }
    for i in 0..4 {
        let task = Write::Task {
            target: "contact".into(),
            id: 11,
            title: format!("replica task {i}"),
            description: "follow up".into(),
            due_date: "2030-01-01T00:00:00Z".into(),
            owner_id: None,
            owner_of_contact: Some(11),
        };
        queue::enqueue(
            &mut tx,
            engine.core.sealer(),
            Duration::ZERO,
            TENANT,
            &format!("task:replica:{i}"),
            &task,
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    engine.core.wake_sync();
    second.services().core.wake_sync();

    let posted = || {
        w.fs.with(ALIAS, |a| {
            let notes: Vec<String> = a
                .notes
                .iter()
                .filter_map(|n| n["description"].as_str().map(str::to_string))
                .filter(|d| d.starts_with("replica note"))
                .collect();
            let tasks: Vec<String> = a
                .tasks
                .iter()
                .filter_map(|t| t["title"].as_str().map(str::to_string))
                .filter(|d| d.starts_with("replica task"))
                .collect();
            (notes, tasks)
        })
        .unwrap()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while outbox_count(
        &w,
        "SELECT COUNT(*) FROM sync_outbox WHERE tenant_id = $1 AND state = 'done' \
         AND (record_key LIKE 'note:replica:%' OR record_key LIKE 'task:replica:%')",
    )
    .await
        < 13
    {
        let (notes, tasks) = posted();
        assert!(
            std::time::Instant::now() < deadline,
            "the queue did not drain; posted so far: {notes:?} {tasks:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let any second send in flight land before counting.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (notes, tasks) = posted();
    assert_eq!(notes.len(), 9, "each note posted once: {notes:?}");
    assert_eq!(tasks.len(), 4, "each task posted once: {tasks:?}");
    // The frozen claimant's row went out once its lease ended, and that claim can no longer
    // finish it.
    assert!(notes.contains(&"replica note frozen".to_string()));
    assert!(
        !engine
            .core
            .store()
            .outbox_sent(&frozen, None, idv_server::clock::now_ms())
            .await
            .unwrap(),
        "a claim past its lease still finished the row"
    );
    let sent = (
        engine.core.metrics().sync_sent.get(),
        second.services().core.metrics().sync_sent.get(),
    );
    assert!(sent.0 > 0 && sent.1 > 0, "both replicas sent: {sent:?}");
    second.stop().await.unwrap();
}

#[tokio::test]
async fn two_replicas_together_stay_within_one_tenants_freshsales_budget() {
    let Some(w) = spawn_world_with(Db::Postgres, test_settings(), Policy::default()).await else {
        return;
    };
    let second = second_replica(&w, test_settings()).await;
    // The account answers 429 past 20 calls in any 4 s; the tenant's budget is 16 per 4 s.
    w.fs.with(ALIAS, |a| {
        a.hourly_limit = 20;
        a.hour = Duration::from_secs(4);
    })
    .unwrap();
    sqlx::query("UPDATE tenants SET hourly_limit = 16, rate_window_secs = 4 WHERE id = $1")
        .bind(TENANT)
        .execute(w.app.state.services.core.store().pool())
        .await
        .unwrap();
    w.app.services().core.tenants().forget(TENANT);
    second.services().core.tenants().forget(TENANT);
    let before = w.fs.calls(ALIAS).len();

    let engine = w.app.services();
    let mut tx = engine.core.store().begin().await.unwrap();
    for i in 0..40 {
        let note = Write::Note {
            target: "contact".into(),
            id: 11,
            text: format!("budget note {i}"),
        };
        queue::enqueue(
            &mut tx,
            engine.core.sealer(),
            Duration::ZERO,
            TENANT,
            &format!("note:budget:{i}"),
            &note,
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    engine.core.wake_sync();
    second.services().core.wake_sync();

    eventually("every budget note sent", 120, || {
        w.fs.with(ALIAS, |a| {
            a.notes
                .iter()
                .filter(|n| {
                    n["description"]
                        .as_str()
                        .is_some_and(|d| d.starts_with("budget note"))
                })
                .count()
        })
        .unwrap()
            >= 40
    })
    .await;
    let calls = w.fs.calls(ALIAS);
    let limited = calls[before..].iter().filter(|c| c.status == 429).count();
    assert_eq!(
        limited, 0,
        "the replicas together overspent the tenant's budget ({limited} calls answered 429)"
    );
    // A replica counts a send once the CRM's answer is back, a moment after the CRM has it.
    let sent = || {
        (
            w.app.services().core.metrics().sync_sent.get(),
            second.services().core.metrics().sync_sent.get(),
        )
    };
    eventually("every note counted as sent", 20, || {
        let (a, b) = sent();
        a + b >= 40
    })
    .await;
    let sent = sent();
    assert!(
        sent.0 > 0 && sent.1 > 0,
        "both replicas sent from one queue, each within the shared budget: {sent:?}"
    );
    second.stop().await.unwrap();
}

#[tokio::test]
async fn two_replicas_together_admit_one_tenants_start_limit() {
    let Some(w) = spawn_world_with(Db::Postgres, test_settings(), Policy::default()).await else {
        return;
    };
    let second = second_replica(&w, test_settings()).await;
    let limits = idv_server::services::tenant::StartLimits {
        tenant_per_minute: 2,
        ..crate::world::generous_start_limits()
    };
    idv_server::services::tenant::set_start_limits(w.app.services().core.store(), TENANT, &limits)
        .await
        .unwrap();
    w.app.services().core.tenants().forget(TENANT);
    second.services().core.tenants().forget(TENANT);
    w.fs.seed_contact(
        ALIAS,
        13,
        "Katherine",
        "Johnson",
        "katherine@example.com",
        "+1 757 555 0113",
    );
    let start = |base: String, contact: u64| {
        w.http
            .post(format!("{base}/api/v1/contacts/{contact}/verifications"))
            .bearer_auth(&w.token)
            .json(&serde_json::json!({}))
            .send()
    };
    // Two starts on one replica spend the account's minute; the other replica knows it.
    assert_eq!(start(w.app.url(), 11).await.unwrap().status(), 201);
    assert_eq!(start(second.url(), 12).await.unwrap().status(), 201);
    let res = start(second.url(), 13).await.unwrap();
    assert_eq!(res.status(), 429, "{}", res.text().await.unwrap());
    let res = start(w.app.url(), 13).await.unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(w.ks.sessions().len(), 2);
    second.stop().await.unwrap();
}
