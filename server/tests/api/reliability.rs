//! The reliability suite: callbacks in bulk (duplicated, shuffled, forged, stale), a faulty
//! Freshsales, crashes mid-load, two replicas on one PostgreSQL database, hostile input, and no
//! secret or personal field in the database or the logs.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures_util::{stream, StreamExt};
use idv_server::{
    clock,
    services::{Policy, Settings},
    sim::{
        freshsales::FsFaults,
        kosmos::{KosmosFaults, Outcome},
    },
    webhook,
};
use rand::{seq::SliceRandom, Rng};
use serde_json::{json, Value};
use sqlx::Row;

use crate::{
    both,
    helpers::Db,
    world::{spawn_world, spawn_world_with, test_settings, World, ALIAS, KS_SECRET, TENANT},
};

/// Seeds `n` more contacts (ids from 1000) in the simulated Freshsales.
fn seed_contacts(w: &World, n: u64) -> Vec<u64> {
    (0..n)
        .map(|i| {
            let id = 1000 + i;
            w.fs.seed_contact(
                ALIAS,
                id,
                "Test",
                &format!("Person{i}"),
                &format!("p{i}@example.com"),
                "+1 415 555 0100",
            );
            id
        })
        .collect()
}

/// Starts IDV for every contact, `parallel` at a time; returns (contact, verification id).
async fn start_all(w: &World, contacts: &[u64], parallel: usize) -> Vec<(u64, String)> {
    stream::iter(contacts.iter().copied())
        .map(|c| async move {
            let v = w.start_idv(c).await;
            (c, v["id"].as_str().unwrap().to_string())
        })
        .buffer_unordered(parallel)
        .collect()
        .await
}

/// One signed (or deliberately bad) provider callback.
#[derive(Clone)]
struct Delivery {
    id: String,
    ts: i64,
    key: &'static [u8],
    body: Vec<u8>,
    /// Expected to be refused (forged or stale).
    bad: bool,
}

async fn deliver(http: &reqwest::Client, url: &str, d: &Delivery) -> u16 {
    let mut req = http.post(url).header("content-type", "application/json");
    for (k, v) in webhook::headers(d.key, &d.id, d.ts, &d.body) {
        req = req.header(k, v);
    }
    req.body(d.body.clone())
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// Waits (bounded) until `check` holds.
async fn eventually(what: &str, secs: u64, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn states(w: &World) -> HashMap<String, String> {
    sqlx::query("SELECT id, state FROM verifications WHERE tenant_id = $1")
        .bind(TENANT)
        .fetch_all(w.app.state.store.pool())
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// Captures every log line of this test process (debug level) for the secrets check.
fn capture_logs() -> Arc<Mutex<Vec<u8>>> {
    #[derive(Clone)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Arc::new(Mutex::new(Vec::new()));
    let sink = Sink(buf.clone());
    let _ = tracing_subscriber::fmt()
        .with_env_filter("debug")
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .try_init();
    buf
}

both!(
    ten_thousand_noisy_callbacks_end_in_the_providers_state,
    bulk_callbacks
);
async fn bulk_callbacks(db: Db) {
    let logs = capture_logs();
    // 500 starts, 16 at a time, each reading the contact: on a loaded 2-core machine a read
    // can take longer than the usual test timeout, which is not what this test is about.
    let settings = Settings {
        http_timeout: Duration::from_secs(15),
        ..test_settings()
    };
    let Some(w) = spawn_world_with(db, settings, Policy::default()).await else {
        return;
    };
    w.ks.set_faults(KosmosFaults {
        drop_callbacks: true,
        ..Default::default()
    });
    let contacts = seed_contacts(&w, 500);
    let sessions = start_all(&w, &contacts, 16).await;

    // The customers finish: the provider holds the truth.
    let mut truth = HashMap::new();
    let mut rng = rand::thread_rng();
    for (_, v) in &sessions {
        let provider = w.provider_session(v);
        let (outcome, want) = match rng.gen_range(0..3) {
            0 => ("failed", "failed"),
            1 => ("abandoned", "expired"),
            _ => ("verified", "verified"),
        };
        w.ks.complete(
            &provider,
            &Outcome {
                outcome: outcome.into(),
                document_type: None,
                confidence: None,
                reason: None,
            },
        )
        .unwrap();
        truth.insert(v.clone(), (provider, want));
    }

    // 10,000 deliveries: 30 % repeat an earlier id, 5 % forged, 5 % stale, all shuffled.
    let now = clock::now_secs();
    let providers: Vec<String> = truth.values().map(|(p, _)| p.clone()).collect();
    let mut deliveries: Vec<Delivery> = Vec::with_capacity(10_000);
    for i in 0..10_000usize {
        let session = &providers[i % providers.len()];
        let body = serde_json::to_vec(&json!({"type": "verify.session.updated", "session_id": session, "status": "completed"})).unwrap();
        let roll: f64 = rng.gen();
        let d = if roll < 0.05 {
            Delivery {
                id: format!("forged-{i}"),
                ts: now,
                key: b"forged-key",
                body,
                bad: true,
            }
        } else if roll < 0.10 {
            Delivery {
                id: format!("stale-{i}"),
                ts: now - 3600,
                key: KS_SECRET.as_bytes(),
                body,
                bad: true,
            }
        } else if roll < 0.40 && deliveries.iter().any(|d| !d.bad) {
            loop {
                let earlier = &deliveries[rng.gen_range(0..deliveries.len())];
                if !earlier.bad {
                    break earlier.clone();
                }
            }
        } else {
            Delivery {
                id: format!("msg-{i}"),
                ts: now,
                key: KS_SECRET.as_bytes(),
                body,
                bad: false,
            }
        };
        deliveries.push(d);
    }
    deliveries.shuffle(&mut rng);
    let url = w.url(&format!("/hooks/kosmos/{TENANT}"));
    let answers: Vec<(bool, u16)> = stream::iter(deliveries.iter())
        .map(|d| {
            let (http, url) = (w.http.clone(), url.clone());
            async move { (d.bad, deliver(&http, &url, d).await) }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    for (bad, code) in &answers {
        if *bad {
            assert_eq!(*code, 401, "forged and stale callbacks are refused");
        } else {
            assert!(
                matches!(code, 200 | 202),
                "good callbacks are accepted, got {code}"
            );
        }
    }

    // Every session ends in the provider's state, each result applied once.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let s = states(&w).await;
        if truth
            .iter()
            .all(|(v, (_, want))| s.get(v).map(String::as_str) == Some(*want))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "sessions did not all reach the provider's state"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // (The counter moves just after the commit the states above show.)
    eventually("500 results counted", 10, || {
        w.app.engine().metrics.results.get() >= 500
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        w.app.engine().metrics.results.get(),
        500,
        "each result applied once"
    );
    // The CRM got exactly one result note and one history record per session.
    eventually("every CRM write", 120, || {
        w.fs.with(ALIAS, |a| {
            a.notes.len() == 1000 && a.modules.values().map(|m| m.len()).sum::<usize>() == 500
        })
        .unwrap()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (notes, records) =
        w.fs.with(ALIAS, |a| {
            (
                a.notes.len(),
                a.modules.values().map(|m| m.len()).sum::<usize>(),
            )
        })
        .unwrap();
    assert_eq!(
        (notes, records),
        (1000, 500),
        "one start note and one result note per session, one history record"
    );
    // Each contact's last write carries the final status.
    for (v, (_, want)) in &truth {
        let contact = sessions.iter().find(|(_, id)| id == v).unwrap().0;
        let status = w.fs.contact(ALIAS, contact).unwrap()["custom_field"]["cf_idv_status"].clone();
        eventually_eq(&w, contact, want, status).await;
    }
    // Nothing secret or personal in the logs.
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    for s in [
        crate::world::FS_KEY,
        crate::world::KS_KEY,
        KS_SECRET,
        crate::world::WORKFLOW_SECRET,
        w.token.as_str(),
        "p1@example.com",
        "Person1",
    ] {
        assert!(!text.contains(s), "{s:?} appears in a log line");
    }
}

async fn eventually_eq(w: &World, contact: u64, want: &str, first: Value) {
    if first == want {
        return;
    }
    eventually(&format!("contact {contact} shows {want}"), 30, || {
        w.fs.contact(ALIAS, contact).unwrap()["custom_field"]["cf_idv_status"] == want
    })
    .await;
}

both!(
    every_write_lands_through_a_faulty_freshsales,
    faulty_freshsales
);
async fn faulty_freshsales(db: Db) {
    let settings = idv_server::services::Settings {
        http_timeout: Duration::from_millis(500),
        retry_schedule: vec![Duration::from_millis(50); 3],
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
        }) && w.fs.with(ALIAS, |a| a.notes.len()).unwrap() >= 2 * contacts.len();
        if done {
            break;
        }
        assert!(Instant::now() < deadline, "writes did not all land");
        let counts = w.app.engine().sync_counts().await.unwrap();
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
            w.app.engine().wake_sync.notify_one();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    w.fs.set_faults(Default::default());
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Exactly one result note per session, whatever the retries.
    let notes = w.fs.with(ALIAS, |a| a.notes.len()).unwrap();
    assert_eq!(
        notes,
        2 * contacts.len(),
        "retries never duplicate a note (replays: {replays})"
    );
}

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
            a.notes.len() >= 2 * sessions.len()
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
    assert_eq!(notes, 2 * sessions.len(), "no note sent twice");
    assert_eq!(records, sessions.len(), "no history record created twice");
    let results = w.app.engine().metrics.results.get() + second.engine().metrics.results.get();
    assert_eq!(
        results,
        sessions.len() as u64,
        "each result applied by exactly one replica"
    );
    second.stop().await.unwrap();
}

mod hostile_input {
    use proptest::prelude::*;

    use super::*;

    fn body() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            "\\PC{0,200}".prop_map(String::into_bytes),
            (1usize..3000).prop_map(|d| format!("{}{}", "[".repeat(d), "]".repeat(d)).into_bytes()),
            Just(br#"{"force": [], "ial": {"x": 1}, "document_types": "passport"}"#.to_vec()),
            Just(br#"{"event": "deal_stage_changed", "deal_id": 1e400, "stage": null}"#.to_vec()),
            Just(br#"{"account_url": "<script>alert(1)</script>"}"#.to_vec()),
        ]
    }

    fn id() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{1,30}",
            "\\PC{1,40}"
                .prop_map(|s| s.replace(['/', '?', '#'], ""))
                .prop_filter("non-empty", |s| !s.trim().is_empty()),
            Just("9".repeat(10_000)),
            Just("-1".into()),
            Just("%00".into()),
        ]
    }

    /// Every public endpoint, any body, any id: a JSON 4xx (or a 2xx), never a 5xx.
    #[test]
    fn no_endpoint_answers_hostile_input_with_a_5xx() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let w = rt.block_on(spawn_world(Db::Sqlite)).unwrap();
        let cfg = ProptestConfig {
            cases: 96,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        proptest!(cfg, |(body in body(), id in id(), route in 0usize..10, auth in 0usize..3)| {
            let enc: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
            let (method, path) = match route {
                0 => ("GET", format!("/api/v1/contacts/{enc}/status")),
                1 => ("POST", format!("/api/v1/contacts/{enc}/verifications")),
                2 => ("GET", format!("/api/v1/deals/{enc}/status")),
                3 => ("POST", format!("/api/v1/deals/{enc}/step-up")),
                4 => ("GET", format!("/api/v1/verifications/{enc}")),
                5 => ("POST", format!("/api/v1/verifications/{enc}/cancel")),
                6 => ("POST", "/api/v1/install".to_string()),
                7 => ("POST", format!("/hooks/kosmos/{enc}")),
                8 => ("POST", "/hooks/freshworks".to_string()),
                _ => ("POST", format!("/hooks/freshsales/{enc}")),
            };
            let (code, ct) = rt.block_on(async {
                let mut req = if method == "GET" { w.http.get(w.url(&path)) } else { w.http.post(w.url(&path)) };
                req = match auth {
                    0 => req.bearer_auth(&w.token),
                    1 => req.header("authorization", "Bearer nope"),
                    _ => req,
                };
                let res = req.header("content-type", "application/json").body(body.clone()).send().await.unwrap();
                let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap_or("").to_string()).unwrap_or_default();
                (res.status().as_u16(), ct)
            });
            prop_assert!(code < 500 || code == 502, "{method} {path} answered {code}");
            prop_assert!(ct.starts_with("application/json"), "{method} {path} answered {code} as {ct:?}");
        });
    }
}
