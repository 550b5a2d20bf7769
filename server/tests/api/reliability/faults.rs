//! A Freshsales failing often: every write lands, dead rows replay, no note twice.

use std::time::{Duration, Instant};

use idv_server::sim::{freshsales::FsFaults, kosmos::KosmosFaults};
use serde_json::{json, Value};

use crate::{
    both,
    helpers::Db,
    world::{spawn_world_with, test_settings, ALIAS, TENANT},
};

use super::*;

both!(
    every_write_lands_through_a_faulty_freshsales,
    faulty_freshsales
);
async fn faulty_freshsales(db: Db) {
    // This run fails often, and failures are what get logged: its log lines are checked for
    // secrets and personal data below.
    let logs = capture_logs();
    let settings = idv_server::services::Settings {
        http_timeout: Duration::from_millis(500),
        retry_schedule: vec![Duration::from_millis(50); 3],
        // Failed provider reads are retried soon.
        idv_poll: vec![Duration::from_millis(200)],
        ..test_settings()
    };
    let Some(w) = spawn_world_with(db, settings, Default::default()).await else {
        return;
    };
    let contacts = seed_contacts(&w, 40);
    w.fs.set_faults(FsFaults {
        error_rate: 0.30,
        rate_429: 0.10,
        timeout_rate: 0.05,
        hang: Duration::from_secs(2),
        ..Default::default()
    });
    // 1Kosmos fails reads too.
    w.ks.set_faults(KosmosFaults {
        read_error_rate: 0.3,
        ..Default::default()
    });
    // Starting reads the contact from Freshsales: retry a start the faults refused.
    let mut sessions = Vec::new();
    for c in &contacts {
        loop {
            let res = w
                .post(&format!("/api/v1/contacts/{c}/verifications"), json!({}))
                .await;
            if res.status().is_success() {
                let v: Value = res.json().await.unwrap();
                sessions.push((*c, v["id"].as_str().unwrap().to_string()));
                break;
            }
            // After a 429 from Freshsales the tenant's budget pauses, for requests too.
            if res.status() == 429 {
                assert!(res.headers().contains_key("retry-after"));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            assert_eq!(
                res.status(),
                502,
                "an unavailable Freshsales is a 502, not a 500"
            );
        }
    }
    for (_, v) in &sessions {
        w.customer(v, "verified");
    }
    // Some rows exhaust the short schedule and go dead; `server sync replay` puts them back.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut replays = 0;
    loop {
        let done = contacts.iter().all(|c| {
            w.fs.contact(ALIAS, *c).unwrap()["custom_field"]["cf_idv_status"] == "verified"
        }) && w.fs.with(ALIAS, |a| a.notes.len()).unwrap() >= contacts.len();
        if done {
            break;
        }
        assert!(Instant::now() < deadline, "writes did not all land");
        let counts = w.app.services().outbox.sync_counts().await.unwrap();
        let dead = counts.iter().find(|(s, _)| s == "dead").map_or(0, |x| x.1);
        let pending = counts
            .iter()
            .find(|(s, _)| s == "pending")
            .map_or(0, |x| x.1);
        if dead > 0 && pending == 0 {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
                .args(["sync", "replay", "--tenant", TENANT])
                .env("DATABASE_URL", &w.db_url)
                .env("IDV_MASTER_KEY", &w.master_key)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(String::from_utf8_lossy(&out.stdout).contains("queued again"));
            replays += 1;
            w.app.services().core.wake_sync();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    w.fs.set_faults(Default::default());
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Exactly one result note per session, whatever the retries.
    let notes = w.fs.with(ALIAS, |a| a.notes.len()).unwrap();
    assert_eq!(
        notes,
        contacts.len(),
        "retries never duplicate a note (replays: {replays})"
    );
    // The failures were logged, and no log line holds a secret or a person's data.
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    assert!(
        text.contains("provider read failed"),
        "the capture holds the failures' log lines ({} bytes)",
        text.len()
    );
    let mut secrets = vec![
        crate::world::FS_KEY.to_string(),
        crate::world::KS_KEY.to_string(),
        crate::world::KS_SECRET.to_string(),
        crate::world::WORKFLOW_SECRET.to_string(),
        w.token.clone(),
        w.master_key.clone(),
    ];
    for i in 0..contacts.len() {
        secrets.push(format!("p{i}@example.com"));
        secrets.push(format!("Person{i}"));
    }
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "{s:?} appears in a log line");
    }
}
