//! Callback intake with group commit: concurrent verified callbacks are recorded (dedupe row and
//! hint) by one writer, many per transaction, and each is answered only after its transaction
//! committed. A crash before the commit answers nobody, so nothing acknowledged is ever lost,
//! and one commit serves a whole batch.

use std::sync::Arc;

use super::{batch::Batcher, core::Core};
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

/// Records verified provider callbacks, many per transaction.
#[derive(Clone, Debug)]
pub struct Intake {
    writer: Batcher<Delivery, Recorded>,
}

impl Intake {
    pub fn new(core: Arc<Core>) -> Self {
        let store = core.store.clone();
        Self {
            writer: Batcher::new(BATCH, move |batch: Vec<Delivery>| {
                let store = store.clone();
                async move { record(&store, &batch).await.map_err(|e| e.to_string()) }
            }),
        }
    }

    /// Records a verified provider callback; answers once it is durable.
    pub async fn record_callback(&self, d: Delivery) -> Result<Recorded> {
        self.writer
            .call(d)
            .await
            .map_err(|e| crate::error::AppError::Unavailable(anyhow::anyhow!(e)))
    }
}

/// Records a batch in one transaction (two statements whatever its size: see
/// [`Store::record_callbacks`]).
async fn record(store: &Store, batch: &[Delivery]) -> Result<Vec<Recorded>> {
    let callbacks: Vec<Callback<'_>> = batch
        .iter()
        .map(|d| Callback {
            tenant: &d.tenant,
            event_id: &d.event_id,
            provider_session: &d.provider_session,
            reference: d.reference.as_deref(),
        })
        .collect();
    store.record_callbacks(&callbacks).await
}
