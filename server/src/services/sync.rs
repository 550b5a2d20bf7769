//! CRM write-back. Never inline in a request: a durable desired-state row per remote record is
//! upserted with a version in the transaction that changed the state; workers claim due rows
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL), send the latest version, and mark it done only on
//! success. Retries follow a schedule with jitter and honour `Retry-After`; a per-tenant token
//! bucket keeps under the plan's limits; exhausted rows go dead until replayed.

use std::{sync::Arc, time::Duration};

use rand::Rng;

use super::{
    core::{uid, Core},
    deliveries::Deliveries,
    limits::{budget_shape, Limits},
    queue::{outbox_row, Write},
    setup::Setup,
};
use crate::{
    clock,
    crypto::at,
    error::{AppError, Result},
    ports::{chat::UserProperty, ChatError, CrmError, Record},
    store::Claimed,
};

fn target(kind: &str, id: u64) -> Record {
    match kind {
        "deal" => Record::Deal(id),
        "ticket" => Record::Ticket(id),
        _ => Record::Contact(id),
    }
}

enum Sent {
    Done(Option<u64>),
    Failed(CrmError),
}

/// Sends the queued CRM writes.
#[derive(Clone, Debug)]
pub struct Outbox {
    core: Arc<Core>,
    limits: Limits,
    setup: Setup,
    deliveries: Deliveries,
}

impl Outbox {
    pub fn new(core: Arc<Core>, limits: Limits, setup: Setup, deliveries: Deliveries) -> Self {
        Self {
            core,
            limits,
            setup,
            deliveries,
        }
    }

    /// Claims due rows one at a time and sends them (at most 32 per call); returns how many
    /// rows were handled. Each claim has its own lease and token, so a slow send never lets
    /// another replica take the rows queued behind it.
    pub async fn sync_once(&self) -> Result<usize> {
        let token = uid("claim");
        let mut n = 0;
        while n < 32 {
            let now = clock::now_ms();
            let lease = now + self.sync_lease().as_millis() as i64;
            let Some(row) = self.core.store.claim_outbox_row(&token, lease, now).await? else {
                break;
            };
            n += 1;
            self.send_row(row).await?;
        }
        Ok(n)
    }

    /// A claim's lease: the setting, and never less than two HTTP timeouts.
    fn sync_lease(&self) -> Duration {
        self.core
            .settings
            .sync_lease
            .max(self.core.settings.http_timeout * 2)
    }

    async fn send_row(&self, row: Claimed) -> Result<()> {
        let Some(tenant) = self.core.tenants.get(&row.tenant).await? else {
            return self.finish_dead(&row, "the tenant no longer exists").await;
        };
        let place = outbox_row(&row.tenant, &row.record_key);
        let opened = self
            .core
            .sealer
            .open(at("sync_outbox", "payload", &place), &row.payload);
        let write: Write = match opened.ok().and_then(|p| {
            use secrecy::ExposeSecret;
            serde_json::from_str(p.expose_secret()).ok()
        }) {
            Some(w) => w,
            None => {
                return self
                    .finish_dead(&row, "the queued write could not be read")
                    .await
            }
        };
        if write.is_chat() {
            return self.send_chat(&tenant, &row, &write).await;
        }
        if let Write::Event { event } = &write {
            let acted = self.deliveries.act_on_event(&tenant, event).await;
            return self.finish_event(&row, acted).await;
        }
        let Some(crm) = self.core.tenants.crm(&tenant) else {
            let e = CrmError::Unauthorized("no CRM connection configured".into());
            return self.finish_failure(&row, &e, &e.to_string()).await;
        };
        self.limits.heed_crm_limit(&tenant.id, crm.as_ref()).await?;
        let shape = budget_shape(tenant.hourly_limit, tenant.rate_window_secs);
        let now = clock::now_ms();
        if let Err(wait) = self.core.store.take_budget(&tenant.id, &shape, now).await? {
            self.core.store.outbox_defer(&row, now + wait + 1).await?;
            return Ok(());
        }
        self.core.metrics.fs_calls.inc();
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
                owner_id,
                owner_of_contact,
            } => {
                let owner = match (owner_id, owner_of_contact) {
                    (Some(o), _) => Ok(Some(*o)),
                    (None, Some(c)) => crm.contact(*c).await.map(|p| p.owner_id),
                    (None, None) => Ok(None),
                };
                match owner {
                    Ok(owner) => crm
                        .add_task(target(t, *id), title, description, due_date, owner)
                        .await
                        .map(Some),
                    Err(e) => Err(e),
                }
            }
            Write::DealStage { deal_id, stage_id } => {
                crm.move_deal(*deal_id, stage_id).await.map(|_| None)
            }
            Write::CompleteAction {
                callback_id,
                outputs,
            } => crm
                .complete_workflow_action(callback_id, outputs)
                .await
                .map(|_| None),
            // Sent by `send_chat` and acted on by `act_on_event` above; never to the CRM.
            Write::ChatMessage { .. } | Write::ChatUserProperties { .. } | Write::Event { .. } => {
                Err(CrmError::Protocol("not a CRM write".into()))
            }
        };
        let sent = match sent {
            Ok(id) => Sent::Done(id),
            Err(e) => Sent::Failed(e),
        };
        match sent {
            Sent::Done(remote) => {
                self.core.metrics.sync_sent.inc();
                let mine = self
                    .core
                    .store
                    .outbox_sent(&row, remote.map(|r| r as i64), clock::now_ms())
                    .await?;
                if !mine {
                    tracing::warn!(
                        row = row.id,
                        "a write-back claim ran out before the send finished"
                    );
                    return Ok(());
                }
                self.core
                    .store
                    .audit_outbox_row(row.id, "crm_write", "")
                    .await
            }
            Sent::Failed(e @ CrmError::NotSetUp(_)) => {
                // Not the write's fault: the account lacks a field or module. It waits.
                tracing::warn!(row = row.id, kind = %row.kind, "a CRM write waits for the account's set-up");
                self.setup.setup_refused(&tenant, &e).await?;
                self.core
                    .store
                    .outbox_park_for_setup(&row, &e.to_string(), clock::now_ms())
                    .await?;
                Ok(())
            }
            Sent::Failed(e) => {
                if let Some(secs) = e.retry_after() {
                    self.core.metrics.fs_429.inc();
                    self.core
                        .store
                        .pause_budget(&tenant.id, clock::now_ms() + secs as i64 * 1000)
                        .await?;
                }
                self.finish_failure(&row, &e, &e.to_string()).await
            }
        }
    }

    /// Sends a write to the chat product. A message is posted at most once as far as the
    /// backend can tell: when an earlier attempt may have posted it (it failed after the
    /// request was sent, or its claimant stopped before recording the send), the conversation
    /// is read first and a message found there is not posted again; a message the chat
    /// product refused may still have been delivered, so it is not retried but left dead for
    /// the operator to check.
    async fn send_chat(
        &self,
        tenant: &super::tenant::TenantRow,
        row: &Claimed,
        write: &Write,
    ) -> Result<()> {
        let Some(chat) = self.core.tenants.chat(tenant) else {
            return self
                .finish_dead(
                    row,
                    "this account has no Freshchat connection: set it with `server tenant \
                     freshchat`, then `server sync replay`",
                )
                .await;
        };
        let sent = match write {
            Write::ChatMessage {
                conversation_id,
                text,
                marker,
            } => {
                let doubt = row.attempts > 0 || row.claims > 1;
                let already = if doubt {
                    chat.has_message(conversation_id, marker).await
                } else {
                    Ok(false)
                };
                match already {
                    Ok(true) => Ok("found in the conversation, not posted again"),
                    Ok(false) => chat
                        .post_message(conversation_id, text)
                        .await
                        .map(|_| "posted"),
                    Err(e) => Err(e),
                }
            }
            Write::ChatUserProperties {
                user_id,
                properties,
            } => {
                let properties: Vec<UserProperty> = properties
                    .iter()
                    .map(|(name, value)| UserProperty {
                        name: name.clone(),
                        value: value.clone(),
                    })
                    .collect();
                chat.set_user_properties(user_id, &properties)
                    .await
                    .map(|()| "properties set")
            }
            _ => return self.finish_dead(row, "not a chat write").await,
        };
        match sent {
            Ok(detail) => {
                if self
                    .core
                    .store
                    .outbox_sent(row, None, clock::now_ms())
                    .await?
                {
                    self.core
                        .store
                        .audit_outbox_row(row.id, "chat_write", detail)
                        .await?;
                }
                Ok(())
            }
            Err(e) => {
                let message = matches!(write, Write::ChatMessage { .. });
                let permanent =
                    e.is_permanent() || (message && matches!(e, ChatError::Rejected(_)));
                let text = if message && e.may_have_happened() {
                    format!(
                        "{e}; the message may still have been delivered: look at the \
                         conversation before `server sync replay`"
                    )
                } else {
                    e.to_string()
                };
                tracing::warn!(row = row.id, kind = %row.kind, "a chat write failed");
                self.retry_or_give_up(row, permanent, e.retry_after(), &text)
                    .await
            }
        }
    }

    /// Ends a queued event's row: done, retried on a passing failure (a service out of reach,
    /// a limit), dead when the action was refused for good.
    async fn finish_event(&self, row: &Claimed, acted: Result<()>) -> Result<()> {
        match acted {
            Ok(()) => self
                .core
                .store
                .outbox_sent(row, None, clock::now_ms())
                .await
                .map(drop),
            Err(e) => {
                let retry_after = match &e {
                    AppError::TooManyRequests(_, secs) => Some(*secs),
                    _ => None,
                };
                tracing::warn!(row = row.id, error = %e, "acting on a platform event failed");
                self.retry_or_give_up(row, !e.is_passing(), retry_after, &e.to_string())
                    .await
            }
        }
    }

    async fn finish_failure(&self, row: &Claimed, e: &CrmError, message: &str) -> Result<()> {
        self.retry_or_give_up(row, e.is_permanent(), e.retry_after(), message)
            .await
    }

    /// Schedules a failed row's next attempt (at least `retry_after` seconds away), or gives
    /// it up when the failure is permanent or the schedule is spent.
    async fn retry_or_give_up(
        &self,
        row: &Claimed,
        permanent: bool,
        retry_after: Option<u64>,
        message: &str,
    ) -> Result<()> {
        let attempt = row.attempts as usize;
        let schedule = &self.core.settings.retry_schedule;
        if permanent || attempt >= schedule.len() {
            tracing::warn!(row = row.id, kind = %row.kind, error = %message, "CRM write gave up; `server sync replay` retries it");
            return self.finish_dead(row, message).await;
        }
        let base = schedule[attempt].as_millis() as f64;
        let jittered = base * rand::thread_rng().gen_range(0.8..1.2);
        let floor = retry_after.map(|s| s as f64 * 1000.0).unwrap_or(0.0);
        let delay = jittered.max(floor) as i64;
        self.core
            .store
            .outbox_retry(row, clock::now_ms() + delay, message, clock::now_ms())
            .await?;
        Ok(())
    }

    async fn finish_dead(&self, row: &Claimed, message: &str) -> Result<()> {
        if !self
            .core
            .store
            .outbox_dead(row, message, clock::now_ms())
            .await?
        {
            return Ok(());
        }
        self.core
            .store
            .audit_outbox_row(row.id, "crm_write_dead", message)
            .await
    }

    /// Puts dead rows back in the queue; returns how many.
    pub async fn replay_dead(&self, tenant: Option<&str>) -> Result<u64> {
        let now = clock::now_ms();
        let done = self.core.store.outbox_replay(tenant, now).await?;
        self.core.wake_sync.notify_one();
        Ok(done)
    }

    /// Rows by state, for the CLI and `/metrics`.
    pub async fn sync_counts(&self) -> Result<Vec<(String, i64)>> {
        self.core.store.outbox_counts().await
    }

    /// Dead rows with their last error (no payloads: they hold personal data).
    pub async fn dead_rows(&self) -> Result<Vec<(String, String, String, String)>> {
        self.core.store.dead_outbox_rows().await
    }
}
