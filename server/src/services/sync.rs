//! CRM write-back. Never inline in a request: a durable desired-state row per remote record is
//! upserted with a version in the transaction that changed the state; workers claim due rows
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL), send the latest version, and mark it done only on
//! success. Retries follow a schedule with jitter and honour `Retry-After`; a per-tenant token
//! bucket keeps under the plan's limits; exhausted rows go dead until replayed.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use super::Engine;
use crate::{
    clock,
    crypto::Sealer,
    error::Result,
    ports::{CrmError, Record},
    store::{Claimed, Conn, Enqueue},
};
use parking_lot::Mutex;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One remote write, as stored (sealed) in the outbox.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Write {
    ContactFields {
        contact_id: u64,
        fields: Map<String, Value>,
    },
    History {
        verification_id: String,
        record: Value,
    },
    Note {
        target: String,
        id: u64,
        text: String,
    },
    Task {
        target: String,
        id: u64,
        title: String,
        description: String,
        due_date: String,
    },
    DealStage {
        deal_id: u64,
        stage_id: u64,
    },
}

impl Write {
    fn kind(&self) -> &'static str {
        match self {
            Self::ContactFields { .. } => "contact_fields",
            Self::History { .. } => "history",
            Self::Note { .. } => "note",
            Self::Task { .. } => "task",
            Self::DealStage { .. } => "deal_stage",
        }
    }

    /// Desired-state writes replace their previous version; notes and tasks happen once.
    fn coalesces(&self) -> bool {
        !matches!(self, Self::Note { .. } | Self::Task { .. })
    }
}

fn target(kind: &str, id: u64) -> Record {
    if kind == "deal" {
        Record::Deal(id)
    } else {
        Record::Contact(id)
    }
}

/// Upserts a write inside the caller's transaction (`tx`), sealed with `sealer`; a new row is
/// due after `coalesce`. `key` names the remote record.
pub async fn enqueue(
    tx: &mut dyn Conn,
    sealer: &Sealer,
    coalesce: Duration,
    tenant: &str,
    key: &str,
    write: &Write,
) -> Result<()> {
    let now = clock::now_ms();
    let payload = sealer.seal(&serde_json::to_string(write).expect("serialisable"));
    let due = now + coalesce.as_millis() as i64;
    tx.enqueue(&Enqueue {
        tenant,
        record_key: key,
        kind: write.kind(),
        payload: &payload,
        coalesces: write.coalesces(),
        next_attempt_at: due,
        now,
    })
    .await
}

/// A token bucket: `capacity` tokens, refilled at `per_sec`.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    capacity: f64,
    per_sec: f64,
    last: Instant,
}

impl Bucket {
    fn new(limit: f64, window: Duration) -> Self {
        // A sliding window of `limit` calls admits at most capacity + refill·window calls:
        // keep that sum at the limit (10 % burst, 90 % steady refill).
        let capacity = (limit * 0.1).max(1.0);
        Self {
            tokens: capacity,
            capacity,
            per_sec: (limit - capacity).max(0.1) / window.as_secs_f64(),
            last: Instant::now(),
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.per_sec)
            .min(self.capacity);
        self.last = now;
    }

    fn wait(&mut self) -> Duration {
        self.refill();
        if self.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.per_sec)
        }
    }
}

/// Per-tenant limits: the plan's hourly budget and 400 per minute, plus a pause after a 429.
#[derive(Debug)]
struct TenantLimits {
    hour: Bucket,
    minute: Bucket,
    paused_until: Option<Instant>,
    shape: (i64, i64),
}

/// The "minute" of a rate window: 1/60 of the plan's hour (an hour unless tests shrink it).
fn minute_of(window_secs: i64) -> Duration {
    Duration::from_secs_f64(window_secs.max(1) as f64 / 60.0)
}

#[derive(Debug, Default)]
pub struct RateLimiter {
    tenants: Mutex<HashMap<String, TenantLimits>>,
}

impl RateLimiter {
    /// Takes a token, or says how long to wait.
    pub fn take(
        &self,
        tenant: &str,
        hourly: i64,
        window_secs: i64,
    ) -> std::result::Result<(), Duration> {
        let mut g = self.tenants.lock();
        let shape = (hourly, window_secs);
        let t = g.entry(tenant.to_string()).or_insert_with(|| TenantLimits {
            hour: Bucket::new(
                hourly as f64,
                Duration::from_secs(window_secs.max(1) as u64),
            ),
            minute: Bucket::new(400.0, minute_of(window_secs)),
            paused_until: None,
            shape,
        });
        if t.shape != shape {
            t.hour = Bucket::new(
                hourly as f64,
                Duration::from_secs(window_secs.max(1) as u64),
            );
            t.shape = shape;
        }
        if let Some(until) = t.paused_until {
            let now = Instant::now();
            if until > now {
                return Err(until - now);
            }
            t.paused_until = None;
        }
        let wait = t.hour.wait().max(t.minute.wait());
        if wait > Duration::ZERO {
            return Err(wait);
        }
        t.hour.tokens -= 1.0;
        t.minute.tokens -= 1.0;
        Ok(())
    }

    /// After a 429: nobody sends for this tenant until `after` passes.
    pub fn pause(&self, tenant: &str, after: Duration) {
        if let Some(t) = self.tenants.lock().get_mut(tenant) {
            t.paused_until = Some(Instant::now() + after);
        }
    }
}

enum Sent {
    Done(Option<u64>),
    Failed(CrmError),
}

impl Engine {
    /// Claims due rows and sends them; returns how many rows were handled.
    pub async fn sync_once(&self) -> Result<usize> {
        let now = clock::now_ms();
        let lease = now + 60_000;
        let claimed = self.store.claim_outbox(lease, now).await?;
        let n = claimed.len();
        for row in claimed {
            self.send_row(row).await?;
        }
        Ok(n)
    }

    async fn send_row(&self, row: Claimed) -> Result<()> {
        let Some(tenant) = self.tenant(&row.tenant).await? else {
            return self
                .finish_dead(row.id, "the tenant no longer exists")
                .await;
        };
        if let Err(wait) =
            self.limiter
                .take(&tenant.id, tenant.hourly_limit, tenant.rate_window_secs)
        {
            self.store
                .outbox_defer(row.id, clock::now_ms() + wait.as_millis() as i64 + 1)
                .await?;
            return Ok(());
        }
        let write: Write = match self.sealer.open(&row.payload).ok().and_then(|p| {
            use secrecy::ExposeSecret;
            serde_json::from_str(p.expose_secret()).ok()
        }) {
            Some(w) => w,
            None => {
                return self
                    .finish_dead(row.id, "the queued write could not be read")
                    .await
            }
        };
        let Some(crm) = self.crm(&tenant) else {
            let e = CrmError::Unauthorized("no CRM connection configured".into());
            return self.finish_failure(&row, &e, &e.to_string()).await;
        };
        self.metrics.fs_calls.inc();
        let sent = match &write {
            Write::ContactFields { contact_id, fields } => crm
                .write_verification_fields(*contact_id, fields)
                .await
                .map(|_| None),
            Write::History { record, .. } => {
                crm.record_history(row.remote_id.map(|id| id as u64), record)
                    .await
            }
            Write::Note {
                target: t,
                id,
                text,
            } => crm.add_note(target(t, *id), text).await.map(Some),
            Write::Task {
                target: t,
                id,
                title,
                description,
                due_date,
            } => crm
                .add_task(target(t, *id), title, description, due_date)
                .await
                .map(Some),
            Write::DealStage { deal_id, stage_id } => {
                crm.move_deal(*deal_id, *stage_id).await.map(|_| None)
            }
        };
        let sent = match sent {
            Ok(id) => Sent::Done(id),
            Err(e) => Sent::Failed(e),
        };
        match sent {
            Sent::Done(remote) => {
                self.metrics.sync_sent.inc();
                self.store
                    .outbox_sent(
                        row.id,
                        row.version,
                        remote.map(|r| r as i64),
                        clock::now_ms(),
                    )
                    .await?;
                self.store.audit_outbox_row(row.id, "crm_write", "").await
            }
            Sent::Failed(e) => {
                if let Some(secs) = e.retry_after() {
                    self.metrics.fs_429.inc();
                    self.limiter.pause(&tenant.id, Duration::from_secs(secs));
                }
                self.finish_failure(&row, &e, &e.to_string()).await
            }
        }
    }

    async fn finish_failure(&self, row: &Claimed, e: &CrmError, message: &str) -> Result<()> {
        let permanent = e.is_permanent();
        let attempt = row.attempts as usize;
        let schedule = &self.settings.retry_schedule;
        if permanent || attempt >= schedule.len() {
            tracing::warn!(row = row.id, kind = %row.kind, error = %message, "CRM write gave up; `server sync replay` retries it");
            return self.finish_dead(row.id, message).await;
        }
        let base = schedule[attempt].as_millis() as f64;
        let jittered = base * rand::thread_rng().gen_range(0.8..1.2);
        let floor = e.retry_after().map(|s| s as f64 * 1000.0).unwrap_or(0.0);
        let delay = jittered.max(floor) as i64;
        self.store
            .outbox_retry(row.id, clock::now_ms() + delay, message, clock::now_ms())
            .await
    }

    async fn finish_dead(&self, id: i64, message: &str) -> Result<()> {
        self.store.outbox_dead(id, message, clock::now_ms()).await?;
        self.store
            .audit_outbox_row(id, "crm_write_dead", message)
            .await
    }

    /// Puts dead rows back in the queue; returns how many.
    pub async fn replay_dead(&self, tenant: Option<&str>) -> Result<u64> {
        let now = clock::now_ms();
        let done = self.store.outbox_replay(tenant, now).await?;
        self.wake_sync.notify_one();
        Ok(done)
    }

    /// Rows by state, for the CLI and `/metrics`.
    pub async fn sync_counts(&self) -> Result<Vec<(String, i64)>> {
        self.store.outbox_counts().await
    }

    /// Dead rows with their last error (no payloads: they hold personal data).
    pub async fn dead_rows(&self) -> Result<Vec<(String, String, String, String)>> {
        self.store.dead_outbox_rows().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_never_admits_more_than_the_limit_per_window() {
        let mut b = Bucket::new(100.0, Duration::from_secs(3600));
        let mut admitted = 0;
        while b.wait() == Duration::ZERO {
            b.tokens -= 1.0;
            admitted += 1;
        }
        assert_eq!(admitted, 10, "the burst is 10 % of the limit");
        // What remains of the window refills at most the other 90 %.
        assert!((b.per_sec * 3600.0 - 90.0).abs() < 1e-6);
    }

    #[test]
    fn a_pause_after_429_blocks_the_tenant() {
        let l = RateLimiter::default();
        assert!(l.take("t", 1000, 3600).is_ok());
        l.pause("t", Duration::from_secs(5));
        let wait = l.take("t", 1000, 3600).unwrap_err();
        assert!(wait > Duration::from_secs(4));
        assert!(l.take("other", 1000, 3600).is_ok());
    }
}
