//! Callback intake with group commit: concurrent verified callbacks are recorded (dedupe row and
//! hint) by one writer, many per transaction, and each is answered only after its transaction
//! committed. A crash before the commit answers nobody, so nothing acknowledged is ever lost,
//! and one commit serves a whole batch.

use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, oneshot};

use super::core::Core;
pub use crate::store::Recorded;
use crate::{
    error::Result,
    store::{Callback, Store},
};

/// Most callbacks one transaction records (two bind parameters each, well under every
/// engine's limit).
const BATCH: usize = 128;

/// One callback to record.
#[derive(Debug)]
pub struct Delivery {
    pub tenant: String,
    pub event_id: String,
    pub provider_session: String,
    /// The verification id the callback names (`reference`), if any.
    pub reference: Option<String>,
}

type Job = (
    Delivery,
    oneshot::Sender<std::result::Result<Recorded, String>>,
);

/// Records verified provider callbacks, many per transaction.
#[derive(Clone, Debug)]
pub struct Intake {
    core: Arc<Core>,
    queue: Arc<OnceLock<mpsc::Sender<Job>>>,
}

impl Intake {
    pub fn new(core: Arc<Core>) -> Self {
        Self {
            core,
            queue: Arc::default(),
        }
    }

    /// Records a verified provider callback; answers once it is durable.
    pub async fn record_callback(&self, d: Delivery) -> Result<Recorded> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(4 * BATCH);
            tokio::spawn(writer(self.core.store.clone(), rx));
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

/// Records a batch in one transaction (two statements whatever its size: see
/// [`Store::record_callbacks`]).
async fn record(store: &Store, batch: &[Job]) -> Result<Vec<Recorded>> {
    let callbacks: Vec<Callback<'_>> = batch
        .iter()
        .map(|(d, _)| Callback {
            tenant: &d.tenant,
            event_id: &d.event_id,
            provider_session: &d.provider_session,
            reference: d.reference.as_deref(),
        })
        .collect();
    store.record_callbacks(&callbacks).await
}
