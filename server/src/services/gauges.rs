//! The gauges read from the database (the write-back queue's live rows, the pending sessions,
//! the accounts whose set-up is incomplete), refreshed by the write-back worker, and the page
//! `/metrics` serves.

use std::{sync::Arc, time::Duration};

use super::{core::Core, setup::Setup};
use crate::error::Result;

/// How often the gauges are refreshed when nothing changes.
pub const GAUGE_REFRESH: Duration = Duration::from_secs(15);

/// The gauges read from the database, and the metrics page.
#[derive(Clone, Debug)]
pub struct Gauges {
    core: Arc<Core>,
    setup: Setup,
}

impl Gauges {
    pub fn new(core: Arc<Core>, setup: Setup) -> Self {
        Self { core, setup }
    }

    /// Rereads the write-back queue's live rows and the pending sessions into the gauges.
    pub async fn refresh_gauges(&self) -> Result<()> {
        let outbox = self.core.store.outbox_live_counts().await?;
        for state in ["pending", "dead"] {
            let n = outbox
                .iter()
                .find(|(s, _)| s == state)
                .map_or(0, |(_, n)| *n);
            self.core
                .metrics
                .outbox_rows
                .get_or_create(&[("state", state)])
                .set(n);
        }
        self.setup.refresh_setup_gauge().await?;
        let sessions = self.core.store.pending_session_counts().await?;
        for kind in ["idv", "stepup"] {
            let n = sessions
                .iter()
                .find(|(k, _)| k == kind)
                .map_or(0, |(_, n)| *n);
            self.core
                .metrics
                .sessions
                .get_or_create(&[("kind", kind), ("state", "pending")])
                .set(n);
        }
        Ok(())
    }

    /// The `/metrics` page (no database access).
    pub fn render_metrics(&self) -> String {
        self.core.metrics.render()
    }
}
