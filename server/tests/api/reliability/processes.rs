//! The backend as processes: SIGKILL mid-load, and two replicas on one PostgreSQL database.

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use futures_util::{stream, StreamExt};
use idv_server::{clock, sim::kosmos::KosmosFaults};
use serde_json::json;
use sqlx::Row;

use crate::{
    helpers::Db,
    world::{spawn_world, test_settings, ALIAS, KS_SECRET, TENANT},
};

use super::*;

/// The backend as a child process on a file database, killed with SIGKILL mid-load.
struct Child {
    proc: std::process::Child,
    url: String,
}

fn spawn_server(db_url: &str, key: &str) -> Child {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let proc = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("serve")
        .env("DATABASE_URL", db_url)
        .env("IDV_MASTER_KEY", key)
        .env("IDV_BIND", format!("127.0.0.1:{port}"))
        .env("IDV_OPS_BIND", "127.0.0.1:0")
        .env("IDV_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    Child {
        proc,
        url: format!("http://127.0.0.1:{port}"),
    }
}

async fn wait_ready(http: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http
        .get(format!("{url}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn sigkill_mid_load_loses_no_accepted_callback() {
    // The in-process world provides the simulators and a tenant in a SQLite file; the backend
    // under test is a separate process on that file, killed and restarted.
    let Some(w) = spawn_world(Db::Sqlite).await else {
        return;
    };
    w.ks.set_faults(KosmosFaults {
        drop_callbacks: true,
        ..Default::default()
    });
    let contacts = seed_contacts(&w, 60);
    let sessions = start_all(&w, &contacts, 8).await;
    for (_, v) in &sessions {
        w.customer(v, "verified");
    }
    let providers: Vec<String> = sessions
        .iter()
        .map(|(_, v)| w.provider_session(v))
        .collect();
    // Stop the in-process workers from touching the sessions: the child does the work.
    sqlx::query("UPDATE verifications SET next_poll_at = $1")
        .bind(i64::MAX / 2)
        .execute(w.app.state.store.pool())
        .await
        .unwrap();

    let mut accepted: HashSet<String> = HashSet::new();
    let mut n = 0usize;
    for round in 0..4 {
        let mut child = spawn_server(&w.db_url, &w.master_key);
        wait_ready(&w.http, &child.url).await;
        let url = format!("{}/hooks/kosmos/{TENANT}", child.url);
        let killer = tokio::spawn({
            let pid = child.proc.id();
            async move {
                tokio::time::sleep(Duration::from_millis(400 + 150 * round)).await;
                let _ = std::process::Command::new("kill")
                    .args(["-9", &pid.to_string()])
                    .status();
            }
        });
        // Fire callbacks until the process dies.
        loop {
            let batch: Vec<Delivery> = (0..16)
                .map(|_| {
                    n += 1;
                    let session = &providers[n % providers.len()];
                    Delivery {
                        id: format!("crash-{n}"),
                        ts: clock::now_secs(),
                        key: KS_SECRET.as_bytes(),
                        body: serde_json::to_vec(
                            &json!({"type": "verify.session.updated", "session_id": session}),
                        )
                        .unwrap(),
                        bad: false,
                    }
                })
                .collect();
            let codes: Vec<(String, u16)> = stream::iter(batch)
                .map(|d| {
                    let (http, url) = (w.http.clone(), url.clone());
                    async move { (d.id.clone(), deliver(&http, &url, &d).await) }
                })
                .buffer_unordered(16)
                .collect()
                .await;
            let dead = codes.iter().any(|(_, c)| *c == 0);
            accepted.extend(
                codes
                    .into_iter()
                    .filter(|(_, c)| matches!(c, 200 | 202))
                    .map(|(id, _)| id),
            );
            if dead {
                break;
            }
        }
        killer.await.unwrap();
        let _ = child.proc.wait();
    }
    assert!(
        accepted.len() > 100,
        "the load got through between crashes ({})",
        accepted.len()
    );
    // Restart once more and let it finish.
    let mut child = spawn_server(&w.db_url, &w.master_key);
    wait_ready(&w.http, &child.url).await;
    let stored: HashSet<String> = sqlx::query(
        "SELECT event_id FROM inbound_events WHERE tenant_id = $1 AND source = 'kosmos'",
    )
    .bind(TENANT)
    .fetch_all(w.app.state.store.pool())
    .await
    .unwrap()
    .into_iter()
    .map(|r| r.get(0))
    .collect();
    let lost: Vec<&String> = accepted.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} accepted callbacks were lost, e.g. {:?}",
        lost.len(),
        lost.first()
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = states(&w).await;
        if sessions
            .iter()
            .all(|(_, v)| s.get(v).map(String::as_str) == Some("verified"))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "sessions hinted before the crashes did not resolve"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let applied: i64 =
        sqlx::query("SELECT COUNT(*) FROM audit_log WHERE tenant_id = $1 AND action = 'result'")
            .bind(TENANT)
            .fetch_one(w.app.state.store.pool())
            .await
            .unwrap()
            .get(0);
    assert_eq!(
        applied,
        sessions.len() as i64,
        "each result applied exactly once"
    );
    let _ = child.proc.kill();
    let _ = child.proc.wait();
}

#[tokio::test]
async fn two_replicas_on_one_postgres_process_each_row_once() {
    use idv_server::{crypto::Sealer, Config, Running, Store};
    let Some(w) = spawn_world(Db::Postgres).await else {
        return;
    };
    w.ks.set_faults(KosmosFaults {
        drop_callbacks: true,
        ..Default::default()
    });
    // A second replica on the same database and master key, with its own workers.
    let store = Store::connect(&w.db_url).await.unwrap();
    let sealer = Sealer::from_base64(&w.master_key.clone().into()).unwrap();
    let mut settings = test_settings();
    settings.idv_poll = vec![Duration::from_millis(100)];
    let second = Running::start_with(
        &Config::for_database(w.db_url.clone()),
        idv_server::wire_engine(store, sealer, settings),
        Default::default(),
    )
    .await
    .unwrap();
    let contacts = seed_contacts(&w, 80);
    let sessions = start_all(&w, &contacts, 8).await;
    for (_, v) in &sessions {
        w.customer(
            v,
            if v.len() % 2 == 0 {
                "verified"
            } else {
                "failed"
            },
        );
    }
    // Hints through both replicas.
    let now = clock::now_secs();
    for (i, (_, v)) in sessions.iter().enumerate() {
        let base = if i % 2 == 0 {
            w.app.url()
        } else {
            second.url()
        };
        let d = Delivery {
            id: format!("r-{i}"),
            ts: now,
            key: KS_SECRET.as_bytes(),
            body: serde_json::to_vec(
                &json!({"type": "verify.session.updated", "session_id": w.provider_session(v)}),
            )
            .unwrap(),
            bad: false,
        };
        assert_eq!(
            deliver(&w.http, &format!("{base}/hooks/kosmos/{TENANT}"), &d).await,
            202
        );
    }
    eventually("every CRM write", 60, || {
        w.fs.with(ALIAS, |a| {
            a.notes.len() >= sessions.len()
                && a.modules.values().map(|m| m.len()).sum::<usize>() >= sessions.len()
        })
        .unwrap()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (notes, records) =
        w.fs.with(ALIAS, |a| {
            (
                a.notes.len(),
                a.modules.values().map(|m| m.len()).sum::<usize>(),
            )
        })
        .unwrap();
    assert_eq!(notes, sessions.len(), "no note sent twice");
    assert_eq!(records, sessions.len(), "no history record created twice");
    let results = w.app.engine().metrics.results.get() + second.engine().metrics.results.get();
    assert_eq!(
        results,
        sessions.len() as u64,
        "each result applied by exactly one replica"
    );
    second.stop().await.unwrap();
}
