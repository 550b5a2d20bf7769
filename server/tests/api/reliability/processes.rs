//! The backend as processes: SIGKILL mid-load, and two replicas on one PostgreSQL database.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use futures_util::{stream, StreamExt};
use idv_server::{clock, sim::kosmos::KosmosFaults};
use serde_json::json;
use sqlx::Row;

use crate::{
    helpers::Db,
    world::{
        spawn_world, spawn_world_without_workers, test_settings, World, ALIAS, KS_SECRET, TENANT,
    },
};

use super::*;

/// The backend as a child process on a file database, killed with SIGKILL mid-load.
struct Child {
    proc: std::process::Child,
    url: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn_server(db_url: &str, key: &str) -> Child {
    spawn_server_with_ops(db_url, key, 0)
}

/// The backend as a process; its operator's address (`/metrics`) on `ops_port` (0: any).
fn spawn_server_with_ops(db_url: &str, key: &str, ops_port: u16) -> Child {
    let port = free_port();
    let proc = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("serve")
        .env("DATABASE_URL", db_url)
        .env("IDV_MASTER_KEY", key)
        .env("IDV_BIND", format!("127.0.0.1:{port}"))
        .env("IDV_OPS_BIND", format!("127.0.0.1:{ops_port}"))
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

/// One counter of a process's `/metrics`.
async fn metric(http: &reqwest::Client, ops_url: &str, name: &str) -> u64 {
    let text = http
        .get(format!("{ops_url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in the metrics:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

/// How many of `sessions` are still pending.
async fn still_pending(w: &World, sessions: &[(u64, String)]) -> usize {
    let s = states(w).await;
    sessions
        .iter()
        .filter(|(_, v)| s.get(v).map(String::as_str) == Some("pending"))
        .count()
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
    // The in-process world provides the simulators and a tenant in a SQLite file, and runs no
    // workers: the backend under test is a separate process on that file, killed and restarted,
    // and only it reads sessions and applies results.
    let Some(w) = spawn_world_without_workers(Db::Sqlite).await else {
        return;
    };
    // No callbacks from the provider, and slow reads: results are still being read when the
    // kills land.
    w.ks.set_faults(KosmosFaults {
        drop_callbacks: true,
        read_latency: Duration::from_millis(150),
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

    let mut accepted: HashSet<String> = HashSet::new();
    let mut n = 0usize;
    let mut pending_after_kill = Vec::new();
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
        pending_after_kill.push(still_pending(&w, &sessions).await);
    }
    assert!(
        accepted.len() > 100,
        "the load got through between crashes ({})",
        accepted.len()
    );
    // The kills landed while results were being read: most sessions were still pending after
    // the first, and many after the last.
    assert!(
        pending_after_kill[0] > sessions.len() / 2,
        "most sessions resolved before the first kill: pending after each kill {pending_after_kill:?}"
    );
    let left = *pending_after_kill.last().unwrap();
    assert!(
        left >= 10,
        "too few sessions left for the restarted process: pending after each kill {pending_after_kill:?}"
    );
    // Nothing runs on the database now: the restarted process alone must finish the work.
    let stored: HashSet<String> = sqlx::query(
        "SELECT event_id FROM inbound_events WHERE tenant_id = $1 AND source = 'kosmos'",
    )
    .bind(TENANT)
    .fetch_all(w.app.state.services.core.store().pool())
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
    let ops_port = free_port();
    let mut child = spawn_server_with_ops(&w.db_url, &w.master_key, ops_port);
    wait_ready(&w.http, &child.url).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if still_pending(&w, &sessions).await == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "sessions hinted before the crashes did not resolve after the restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let s = states(&w).await;
    assert!(
        sessions
            .iter()
            .all(|(_, v)| s.get(v).map(String::as_str) == Some("verified")),
        "every session ends verified"
    );
    let ops = format!("http://127.0.0.1:{ops_port}");
    assert_eq!(
        metric(&w.http, &ops, "idv_results_total").await,
        left as u64,
        "the restarted process applied the results left pending by the crashes"
    );
    let applied: i64 =
        sqlx::query("SELECT COUNT(*) FROM audit_log WHERE tenant_id = $1 AND action = 'result'")
            .bind(TENANT)
            .fetch_one(w.app.state.services.core.store().pool())
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
        idv_server::wire_services(store, sealer, settings),
        Default::default(),
    )
    .await
    .unwrap();
    let contacts = seed_contacts(&w, 80);
    let sessions = start_all(&w, &contacts, 8).await;
    // Half the customers pass, half fail.
    let mut want = HashMap::new();
    for (i, (_, v)) in sessions.iter().enumerate() {
        let outcome = if i % 2 == 0 { "verified" } else { "failed" };
        w.customer(v, outcome);
        want.insert(v.clone(), outcome);
    }
    // Each hint reaches both replicas at once: one records it, the other sees a duplicate.
    let now = clock::now_secs();
    let hooks = [
        format!("{}/hooks/kosmos/{TENANT}", w.app.url()),
        format!("{}/hooks/kosmos/{TENANT}", second.url()),
    ];
    for (i, (_, v)) in sessions.iter().enumerate() {
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
        let (a, b) = tokio::join!(
            deliver_answer(&w.http, &hooks[0], &d),
            deliver_answer(&w.http, &hooks[1], &d)
        );
        let mut answers = [a, b];
        answers.sort();
        assert_eq!(
            answers,
            [(200, Some(true)), (202, Some(false))],
            "{}: accepted by exactly one replica",
            d.id
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
    let s = states(&w).await;
    for (v, outcome) in &want {
        assert_eq!(s.get(v).map(String::as_str), Some(*outcome), "{v}");
    }
    let (a, b) = (w.app.services(), second.services());
    let results = (
        a.core.metrics().results.get(),
        b.core.metrics().results.get(),
    );
    assert_eq!(
        results.0 + results.1,
        sessions.len() as u64,
        "each result applied by exactly one replica"
    );
    assert!(
        results.0 > 0 && results.1 > 0,
        "both replicas applied results: {results:?}"
    );
    let accepted = (
        a.core.metrics().callbacks_accepted.get(),
        b.core.metrics().callbacks_accepted.get(),
    );
    assert!(
        accepted.0 > 0 && accepted.1 > 0,
        "both replicas recorded hints: {accepted:?}"
    );
    assert_eq!(accepted.0 + accepted.1, sessions.len() as u64);
    second.stop().await.unwrap();
}
