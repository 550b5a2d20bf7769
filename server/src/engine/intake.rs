//! Callback intake with group commit: concurrent verified callbacks are recorded (dedupe row and
//! hint) by one writer, many per transaction, and each is answered only after its transaction
//! committed. A crash before the commit answers nobody, so nothing acknowledged is ever lost,
//! and one commit serves a whole batch.

use std::sync::OnceLock;

use tokio::sync::{mpsc, oneshot};

use super::Engine;
use crate::{clock, error::Result, store::Store};

/// Most callbacks one transaction records.
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

async fn record(store: &Store, batch: &[Job]) -> Result<Vec<Recorded>> {
    let now = clock::now_ms();
    let mut tx = store.begin().await?;
    let mut out = Vec::with_capacity(batch.len());
    for (d, _) in batch {
        let first = sqlx::query(
            "INSERT INTO inbound_events (tenant_id, source, event_id, received_at) VALUES ($1, 'kosmos', $2, $3) \
             ON CONFLICT (tenant_id, source, event_id) DO NOTHING",
        )
        .bind(&d.tenant)
        .bind(&d.event_id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !first {
            out.push(Recorded::Duplicate);
            continue;
        }
        // The hint: make the session due for a read now.
        let due = sqlx::query(
            "UPDATE verifications SET next_poll_at = $3 WHERE tenant_id = $1 AND provider_session_id = $2 AND state = 'pending'",
        )
        .bind(&d.tenant)
        .bind(&d.provider_session)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        out.push(Recorded::Accepted { due });
    }
    tx.commit().await?;
    Ok(out)
}
