//! What a hook's delivery does once its sender is authenticated: recorded once (a repeat is
//! answered as a duplicate and acts on nothing), acted on, and forgotten again if acting failed
//! so the sender's retry is not mistaken for a repeat. One call per hook; the answer is typed.
//! A platform's batch of events (HubSpot) is queued instead and answered at once: the platform
//! gives up on a slow endpoint, and the queue retries on its own.

use std::sync::Arc;

use idv_types::SessionState;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{
    automation,
    automation::Automation,
    core::Core,
    events::{CrmEvent, Handled, StageRef},
    install::Accounts,
    intake::{Delivery, Intake, Recorded},
    retention::Retention,
    tenant::TenantRow,
    workflow::WorkflowCall,
};
use crate::{
    clock,
    error::{AppError, Result},
    ports::{AccountEvent, CrmKind, PlatformEvent},
};

/// A workflow call without an id repeats an earlier one if its body is the same within this.
const REPEAT_WINDOW_MS: i64 = 2 * 60 * 1000;

/// A hook's 2xx answer.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HookAnswer {
    pub accepted: bool,
    /// Whether this delivery was seen before (and so acted on nothing new).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<bool>,
    /// What an event that needs nothing was (`no_stage_change`, `no_identity_change`), or what
    /// a chat event did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub state: Option<SessionState>,
    /// What the event did.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub result: Option<Handled>,
}

impl HookAnswer {
    fn new() -> Self {
        Self {
            accepted: true,
            duplicate: None,
            outcome: None,
            verification_id: None,
            state: None,
            result: None,
        }
    }

    /// A repeat of a delivery seen before.
    pub fn duplicate() -> Self {
        Self {
            duplicate: Some(true),
            ..Self::new()
        }
    }

    /// A first delivery, with what it did (`outcome`, for a chat event).
    pub fn fresh(outcome: Option<String>) -> Self {
        Self {
            duplicate: Some(false),
            outcome,
            ..Self::new()
        }
    }

    /// Whether the delivery was new.
    pub fn is_fresh(&self) -> bool {
        self.duplicate != Some(true)
    }
}

/// What became of a batch of a CRM platform's events (HubSpot's webhooks).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BatchAnswer {
    /// Events queued to be acted on.
    pub accepted: usize,
    /// Events seen before (acted on nothing new).
    pub duplicates: usize,
    /// Events of accounts that have not installed the app, or of kinds this app does not act on.
    pub ignored: usize,
}

/// How a workflow call is told from its repeats.
#[derive(Debug, Clone)]
pub enum WorkflowDelivery {
    /// The sender's own id (`X-IDV-Delivery-Id`).
    Id(String),
    /// No id: the same body within two minutes is a repeat.
    Body(Vec<u8>),
}

/// Takes in the hooks' deliveries once their senders are authenticated.
#[derive(Clone, Debug)]
pub struct Deliveries {
    core: Arc<Core>,
    automation: Automation,
    accounts: Accounts,
    retention: Retention,
    intake: Intake,
}

impl Deliveries {
    pub fn new(
        core: Arc<Core>,
        automation: Automation,
        accounts: Accounts,
        retention: Retention,
        intake: Intake,
    ) -> Self {
        Self {
            core,
            automation,
            accounts,
            retention,
            intake,
        }
    }

    /// A 1Kosmos callback (signature verified, `event_id` its `webhook-id`): recorded once with
    /// its hint to read the session now.
    pub async fn callback(
        &self,
        tenant: &TenantRow,
        event_id: &str,
        provider_session: &str,
        reference: Option<String>,
    ) -> Result<HookAnswer> {
        // Recorded with the hint in one transaction, shared with the callbacks arriving
        // meanwhile; answered only once it committed. A delivery seen before is found by the
        // same insert (no read of its own per callback: a repeat is rare, every callback pays
        // for the read).
        let recorded = self
            .intake
            .record_callback(Delivery {
                tenant: tenant.id.clone(),
                event_id: event_id.to_string(),
                provider_session: provider_session.to_string(),
                // Our own ids only: anything else cannot name a row.
                reference: reference.filter(|r| {
                    r.len() <= 64 && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                }),
            })
            .await?;
        let Recorded::Accepted { due } = recorded else {
            self.core.metrics.callbacks_duplicate.inc();
            return Ok(HookAnswer::duplicate());
        };
        self.core.metrics.callbacks_accepted.inc();
        if due {
            self.core.wake_poll.notify_one();
        }
        Ok(HookAnswer::fresh(None))
    }

    /// An event the app's serverless code forwarded (signature verified, `event_id` its
    /// `webhook-id`): of this tenant's account, recorded once, acted on.
    pub async fn forwarded_event(
        &self,
        tenant: &TenantRow,
        event_id: &str,
        body: &Value,
    ) -> Result<HookAnswer> {
        self.accounts
            .check_event_account(&tenant.id, body.get("account_url").and_then(Value::as_str))
            .await?;
        let event = automation::from_forwarder(body).map_err(AppError::Unprocessable)?;
        if !self
            .core
            .store
            .record_delivery(&tenant.id, "freshworks", event_id)
            .await?
        {
            return Ok(HookAnswer::duplicate());
        }
        let Some(event) = event else {
            let outcome = if body.get("event").and_then(Value::as_str) == Some("onContactUpdate") {
                "no_identity_change"
            } else {
                "no_stage_change"
            };
            return Ok(HookAnswer {
                outcome: Some(outcome.into()),
                ..HookAnswer::new()
            });
        };
        let handled = self
            .acted(
                tenant,
                "freshworks",
                event_id,
                self.automation.handle_event(tenant, &event).await,
            )
            .await?;
        Ok(HookAnswer {
            result: Some(handled),
            ..HookAnswer::new()
        })
    }

    /// A Workflow Automator call (its secret checked): recorded once; a repeated deal call
    /// still has its gate checked again (idempotently), since the deal may have entered the
    /// stage again.
    pub async fn workflow_call(
        &self,
        tenant: &TenantRow,
        call: &WorkflowCall,
        delivery: WorkflowDelivery,
    ) -> Result<HookAnswer> {
        let (key, fresh) = match delivery {
            WorkflowDelivery::Id(id) => {
                let key = format!("id:{id}");
                let fresh = self
                    .core
                    .store
                    .record_delivery(&tenant.id, "workflow", &key)
                    .await?;
                (key, fresh)
            }
            WorkflowDelivery::Body(body) => {
                let key = format!("body:{}", hex::encode(Sha256::digest(&body)));
                let fresh = self
                    .core
                    .store
                    .record_delivery_within(
                        &tenant.id,
                        "workflow",
                        &key,
                        clock::now_ms(),
                        REPEAT_WINDOW_MS,
                    )
                    .await?;
                (key, fresh)
            }
        };
        if !fresh {
            return Ok(HookAnswer {
                result: self.automation.recheck_workflow_gate(tenant, call).await?,
                ..HookAnswer::duplicate()
            });
        }
        let handled = self
            .acted(
                tenant,
                "workflow",
                &key,
                self.automation.handle_workflow(tenant, call).await,
            )
            .await?;
        Ok(HookAnswer {
            verification_id: handled.verification_id.clone(),
            state: handled.state,
            result: Some(handled),
            ..HookAnswer::fresh(None)
        })
    }

    /// A signed install or uninstall seen for the first time (`false`: a replay).
    pub async fn first_app_request(&self, tenant: &str, id: &str) -> Result<bool> {
        self.core.store.record_delivery(tenant, "install", id).await
    }

    /// Whether the database answers (readiness).
    pub async fn ready(&self) -> Result<()> {
        self.core.store.ping().await
    }

    /// Passes on what acting on a recorded delivery gave; on failure, forgets the delivery so
    /// the sender's retry is not mistaken for a duplicate.
    async fn acted(
        &self,
        tenant: &TenantRow,
        source: &str,
        id: &str,
        outcome: Result<Handled>,
    ) -> Result<Handled> {
        if outcome.is_err() {
            self.core
                .store
                .forget_delivery(&tenant.id, source, id)
                .await?;
        }
        outcome
    }

    /// A CRM platform's batch of events (signature verified): each recorded once for its
    /// account's tenant and queued, so the platform has its answer at once; the sync workers
    /// act on the queue (`act_on_event`), retrying a passing failure on the write-back schedule.
    pub async fn platform_events(
        &self,
        kind: CrmKind,
        events: Vec<PlatformEvent>,
    ) -> Result<BatchAnswer> {
        let mut answer = BatchAnswer::default();
        for e in events {
            let Some(event) = e.event else {
                answer.ignored += 1;
                continue;
            };
            let tenant_id = super::tenants::account_tenant(kind, &e.account);
            let Some(t) = self
                .core
                .tenants
                .get(&tenant_id)
                .await?
                .filter(|t| t.installed)
            else {
                answer.ignored += 1;
                continue;
            };
            if self.queue_event(&t.id, kind, &e.id, event).await? {
                answer.accepted += 1;
            } else {
                answer.duplicates += 1;
            }
        }
        if answer.accepted > 0 {
            self.core.wake_sync.notify_one();
        }
        Ok(answer)
    }

    /// Records the event's delivery and queues it, in one transaction; `false` for a repeat
    /// (nothing queued).
    async fn queue_event(
        &self,
        tenant: &str,
        kind: CrmKind,
        id: &str,
        event: AccountEvent,
    ) -> Result<bool> {
        let mut tx = self.core.store.begin().await?;
        if !tx.record_delivery(tenant, kind.as_str(), id).await? {
            return Ok(false);
        }
        super::queue::enqueue(
            &mut *tx,
            &self.core.sealer,
            std::time::Duration::ZERO,
            tenant,
            &format!("event:{}:{id}", kind.as_str()),
            &super::queue::Write::Event { event },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Acts on a queued platform event for its tenant.
    pub(super) async fn act_on_event(&self, t: &TenantRow, event: &AccountEvent) -> Result<()> {
        match event {
            AccountEvent::ContactErased { contact_id } => self
                .retention
                .forget_erased_contact(&t.id, *contact_id as i64)
                .await
                .map(drop),
            AccountEvent::ContactCreated { contact_id } => self
                .automation
                .handle_event(
                    t,
                    &CrmEvent::ContactCreated {
                        contact_id: *contact_id as i64,
                    },
                )
                .await
                .map(drop),
            AccountEvent::DealStageChanged { deal_id, stage } => self
                .automation
                .handle_event(
                    t,
                    &CrmEvent::DealStageChanged {
                        deal_id: *deal_id as i64,
                        contact_id: None,
                        stage: idv_types::StageId::new(stage.clone()).map(StageRef::Id),
                        previous_stage_id: None,
                    },
                )
                .await
                .map(drop),
        }
    }
}
