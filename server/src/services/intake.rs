//! Callback intake with group commit: concurrent verified callbacks are recorded (dedupe row and
//! hint) by one writer, many per transaction, and each is answered only after its transaction
//! committed. A crash before the commit answers nobody, so nothing acknowledged is ever lost,
//! and one commit serves a whole batch.

use std::sync::OnceLock;

use tokio::sync::{mpsc, oneshot};

use super::Engine;
use crate::{clock, error::Result, store::Store};

/// Most callbacks one transaction records (two bind parameters each, well under every
/// engine's limit).
const BATCH: usize = 128;

/// What became of a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// New: recorded, and `due` says whether it made a pending session due for a read.
    Accepted { due: bool },
    /// This delivery id was recorded before.
    Duplicate,
}

/// One callback to record.
#[derive(Debug)]
pub struct Delivery {
    pub tenant: String,
    pub event_id: String,
    pub provider_session: String,
}

type Job = (
    Delivery,
    oneshot::Sender<std::result::Result<Recorded, String>>,
);

/// The writer's queue (started on first use, ends when the engine is dropped).
#[derive(Debug, Default)]
pub struct Intake {
    queue: OnceLock<mpsc::Sender<Job>>,
}

impl Engine {
    /// Records a verified provider callback; answers once it is durable.
    pub async fn record_callback(&self, d: Delivery) -> Result<Recorded> {
        let queue = self.intake.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(4 * BATCH);
            tokio::spawn(writer(self.store.clone(), rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        queue.send((d, reply)).await.map_err(|_| {
            crate::error::AppError::Unavailable(anyhow::anyhow!("the intake writer stopped"))
        })?;
        match answer.await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(crate::error::AppError::Unavailable(anyhow::anyhow!(e))),
            Err(_) => Err(crate::error::AppError::Unavailable(anyhow::anyhow!(
                "the intake writer stopped"
            ))),
        }
    }
}

async fn writer(store: Store, mut rx: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        match record(&store, &batch).await {
            Ok(outcomes) => {
                for ((_, reply), o) in batch.drain(..).zip(outcomes) {
                    let _ = reply.send(Ok(o));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, size = batch.len(), "callback batch not recorded");
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

/// Two statements per batch, whatever its size: one multi-row insert of the delivery ids
/// (`RETURNING` the new ones) and one update of the sessions they hint at.
async fn record(store: &Store, batch: &[Job]) -> Result<Vec<Recorded>> {
    use std::collections::HashSet;

    use sqlx::Row;

    let now = clock::now_ms();
    let mut tx = store.begin().await?;
    let mut sql = String::from(
        "INSERT INTO inbound_events (tenant_id, source, event_id, received_at) VALUES ",
    );
    for i in 0..batch.len() {
        let sep = if i == 0 { "" } else { ", " };
        sql.push_str(&format!(
            "{sep}(${}, 'kosmos', ${}, $1)",
            2 * i + 2,
            2 * i + 3
        ));
    }
    sql.push_str(
        " ON CONFLICT (tenant_id, source, event_id) DO NOTHING RETURNING tenant_id, event_id",
    );
    let mut q = sqlx::query(&sql).bind(now);
    for (d, _) in batch {
        q = q.bind(&d.tenant).bind(&d.event_id);
    }
    let mut new: HashSet<(String, String)> = q
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    // The first job of each new id is accepted; a twin in the same batch is a duplicate.
    let accepted: Vec<bool> = batch
        .iter()
        .map(|(d, _)| new.remove(&(d.tenant.clone(), d.event_id.clone())))
        .collect();
    let hinted: Vec<&Delivery> = batch
        .iter()
        .zip(&accepted)
        .filter(|(_, a)| **a)
        .map(|((d, _), _)| d)
        .collect();
    let mut due: HashSet<(String, String)> = HashSet::new();
    if !hinted.is_empty() {
        let mut sql = String::from(
            "UPDATE verifications SET next_poll_at = $1 WHERE state = 'pending' AND (",
        );
        for i in 0..hinted.len() {
            let sep = if i == 0 { "" } else { " OR " };
            sql.push_str(&format!(
                "{sep}(tenant_id = ${} AND provider_session_id = ${})",
                2 * i + 2,
                2 * i + 3
            ));
        }
        sql.push_str(") RETURNING tenant_id, provider_session_id");
        let mut q = sqlx::query(&sql).bind(now);
        for d in &hinted {
            q = q.bind(&d.tenant).bind(&d.provider_session);
        }
        due = q
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    }
    tx.commit().await?;
    Ok(batch
        .iter()
        .zip(accepted)
        .map(|((d, _), a)| {
            if a {
                Recorded::Accepted {
                    due: due.contains(&(d.tenant.clone(), d.provider_session.clone())),
                }
            } else {
                Recorded::Duplicate
            }
        })
        .collect())
}
