//! The reliability suite: callbacks in bulk (duplicated, shuffled, forged, stale), a faulty
//! Freshsales, crashes mid-load, two replicas on one PostgreSQL database, hostile input, and no
//! secret or personal field in the database or the logs.

mod bulk;
mod faults;
mod hostile;
mod plans;
mod processes;
mod replicas;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures_util::{stream, StreamExt};
use idv_server::webhook;
use serde_json::Value;
use sqlx::Row;

use crate::world::{World, ALIAS, TENANT};

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
            (c, v.id.clone())
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
    deliver_answer(http, url, d).await.0
}

/// Delivers `d`; returns the status (0 if the server could not be reached) and, for a 2xx,
/// whether the server saw the delivery as a duplicate.
async fn deliver_answer(http: &reqwest::Client, url: &str, d: &Delivery) -> (u16, Option<bool>) {
    let mut req = http.post(url).header("content-type", "application/json");
    for (k, v) in webhook::headers(d.key, &d.id, d.ts, &d.body) {
        req = req.header(k, v);
    }
    let Ok(res) = req.body(d.body.clone()).send().await else {
        return (0, None);
    };
    let status = res.status().as_u16();
    let duplicate = if res.status().is_success() {
        res.json::<Value>()
            .await
            .ok()
            .and_then(|v| v["duplicate"].as_bool())
    } else {
        None
    };
    (status, duplicate)
}

/// Waits (bounded) until `check` holds.
pub(crate) async fn eventually(what: &str, secs: u64, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn states(w: &World) -> HashMap<String, String> {
    sqlx::query("SELECT id, state FROM verifications WHERE tenant_id = $1")
        .bind(TENANT)
        .fetch_all(w.app.state.services.core.store().pool())
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// Captures every log line of this test process (debug level) for the secrets check.
pub(crate) fn capture_logs() -> Arc<Mutex<Vec<u8>>> {
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

async fn eventually_eq(w: &World, contact: u64, want: &str, first: Value) {
    if first == want {
        return;
    }
    eventually(&format!("contact {contact} shows {want}"), 30, || {
        w.fs.contact(ALIAS, contact).unwrap()["custom_field"]["cf_idv_status"] == want
    })
    .await;
}
