//! Retention: how long each kind of row is kept (one place, [`Retention`]), the job that
//! deletes what is older, and the erasure of one person's data on request.

use std::{sync::Arc, time::Duration};

use serde_json::{Map, Value};

use super::{core::Core, queue, queue::Write};
use crate::{clock, domain::fields::field_names, error::Result};

/// Rows one run of the retention job deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deleted {
    pub inbound_events: u64,
    pub idempotency_keys: u64,
    pub audit_log: u64,
    pub verifications: u64,
    pub chat_conversations: u64,
    pub sent_once_writes: u64,
    /// Start-limit buckets idle for longer than their longest window (full again).
    pub start_buckets: u64,
    /// Widget tickets and sessions that have ended.
    pub widget_passes: u64,
}

/// Deletes what is past its keep-until, and erases a person on request.
#[derive(Clone, Debug)]
pub struct Retention {
    core: Arc<Core>,
}

impl Retention {
    pub fn new(core: Arc<Core>) -> Self {
        Self { core }
    }

    /// Deletes rows older than their retention.
    pub async fn retention_once(&self) -> Result<Deleted> {
        let r = &self.core.settings.retention;
        let now = clock::now_ms();
        let cutoff = |d: Duration| now - d.as_millis() as i64;
        let deleted = Deleted {
            inbound_events: self
                .core
                .store
                .delete_inbound_before(cutoff(r.inbound_events))
                .await?,
            idempotency_keys: self
                .core
                .store
                .delete_idempotency_before(cutoff(r.idempotency_keys))
                .await?,
            audit_log: self
                .core
                .store
                .delete_audit_before(cutoff(r.audit_log))
                .await?,
            verifications: self
                .core
                .store
                .delete_finished_verifications_before(cutoff(r.finished_verifications))
                .await?,
            chat_conversations: self
                .core
                .store
                .delete_chat_conversations_before(cutoff(r.chat_conversations))
                .await?,
            sent_once_writes: self
                .core
                .store
                .delete_sent_once_before(cutoff(r.sent_once_writes))
                .await?,
            start_buckets: self
                .core
                .store
                .drop_idle_start_buckets(cutoff(Duration::from_secs(2 * 3600)))
                .await?,
            widget_passes: self.core.store.delete_ended_passes(now).await?,
        };
        if deleted != Deleted::default() {
            tracing::info!(?deleted, "retention job");
        }
        // After the deletes, so the planner's statistics see what is left.
        self.core.store.optimize().await?;
        Ok(deleted)
    }

    /// Erases a person's data here and queues clearing their `cf_idv_*` fields in the CRM;
    /// returns how many sessions were erased.
    pub async fn forget_contact(&self, tenant: &str, contact: i64) -> Result<u64> {
        self.erase_contact(tenant, contact, true).await
    }

    /// Erases a person's data here after the CRM erased the contact itself (nothing is left
    /// there to clear); returns how many sessions were erased.
    pub async fn forget_erased_contact(&self, tenant: &str, contact: i64) -> Result<u64> {
        self.erase_contact(tenant, contact, false).await
    }

    async fn erase_contact(&self, tenant: &str, contact: i64, clear_crm: bool) -> Result<u64> {
        let mut tx = self.core.store.begin().await?;
        let erased = tx.forget_contact(tenant, contact).await?;
        tx.drop_buckets(&super::limits::contact_keys(tenant, contact))
            .await?;
        if clear_crm {
            let cleared: Map<String, Value> = field_names()
                .map(|f| (f.to_string(), Value::Null))
                .collect();
            queue::enqueue(
                &mut tx,
                &self.core.sealer,
                Duration::ZERO,
                tenant,
                &format!("contact:{contact}"),
                &Write::ContactFields {
                    contact_id: contact as u64,
                    fields: cleared,
                },
            )
            .await?;
        }
        let detail = if clear_crm {
            format!("{erased} sessions erased; CRM fields queued for clearing")
        } else {
            format!("{erased} sessions erased; the CRM erased the contact")
        };
        tx.audit(
            tenant,
            "contact_forgotten",
            &format!("contact:{contact}"),
            &detail,
        )
        .await?;
        tx.commit().await?;
        if clear_crm {
            self.core.wake_sync.notify_one();
        }
        Ok(erased)
    }
}
