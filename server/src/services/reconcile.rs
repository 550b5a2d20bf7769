//! The periodic check: accounts whose set-up was incomplete are read again, and events the
//! serverless forwarder dropped (the backend was down, the platform gave up) are reconciled.
//!
//! For a tenant whose policy acts on new contacts or gated stages, the check reads from the CRM
//! the contacts created and the deals updated since the last point it reconciled (a few
//! minutes of overlap, never before the install) and feeds each one the backend has not seen
//! into the same intake as a forwarded event: a contact whose creation was acted on is recorded
//! in the inbound-event table (by either path) and not acted on again; a deal is fed when the
//! stage it is in is not the one the backend last saw it in. Each list page is a Freshsales call
//! counted against the tenant's API budget.

use super::{
    automation::{CrmEvent, StageRef},
    crm_unavailable, Engine, TenantRow,
};
use crate::{
    clock,
    error::{AppError, Result},
};

/// How far before the last reconciled point each check reads again (records indexed late,
/// clocks that differ).
pub const OVERLAP_MS: i64 = 5 * 60 * 1000;
/// Most list pages read per kind and check (the rest waits for the next check).
const MAX_PAGES: u32 = 5;
/// The `inbound_events` source of the deal stages fed by the check.
const DEAL_STAGE_SOURCE: &str = "deal_stage_seen";

/// What one check fed to the intake.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// New contacts acted on.
    pub contacts: usize,
    /// Deals that entered a gated stage, acted on.
    pub deals: usize,
}

/// A failure that a later check may not meet (the CRM or the provider was away, a budget
/// spent): the point does not move, so the next check reads the same span again.
fn passing(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Upstream(_)
            | AppError::Unavailable(_)
            | AppError::TooManyRequests(..)
            | AppError::Internal(_)
    )
}

impl Engine {
    /// The periodic check (the set-up worker runs it every `setup_recheck`).
    pub async fn periodic_check(&self) -> Result<Reconciled> {
        self.recheck_incomplete_setups().await?;
        self.reconcile_missed_events().await
    }

    /// Reconciles the missed contact and deal events of every installed tenant whose policy
    /// acts on them.
    pub async fn reconcile_missed_events(&self) -> Result<Reconciled> {
        let mut total = Reconciled::default();
        for (id, _, installed) in self.store.list_tenants().await? {
            if !installed {
                continue;
            }
            let Some(t) = self.tenant(&id).await? else {
                continue;
            };
            if !t.policy.auto_verify_on_create && t.policy.gated_stages.is_empty() {
                continue;
            }
            match self.reconcile_tenant(&t).await {
                Ok(r) => {
                    total.contacts += r.contacts;
                    total.deals += r.deals;
                }
                Err(e) => tracing::warn!(tenant = %id, error = %e, "missed events not reconciled"),
            }
        }
        Ok(total)
    }

    async fn reconcile_tenant(&self, t: &TenantRow) -> Result<Reconciled> {
        let Some(crm) = self.crm(t) else {
            return Ok(Reconciled::default());
        };
        let now = clock::now_ms();
        let Some((until, floor)) = self.store.reconcile_point(&t.id).await? else {
            // Installed before this check existed: start from now.
            self.store.start_reconciling(&t.id, now).await?;
            return Ok(Reconciled::default());
        };
        let since = (until - OVERLAP_MS).max(floor);
        let mut done = Reconciled::default();
        if t.policy.auto_verify_on_create {
            for page in 1..=MAX_PAGES {
                self.spend_crm_read(t).await?;
                let list = crm
                    .contacts_created_since(since, page)
                    .await
                    .map_err(crm_unavailable)?;
                for c in list.items.iter().filter(|c| c.created_at_ms >= floor) {
                    let event = CrmEvent::ContactCreated {
                        contact_id: c.id as i64,
                    };
                    match self.handle_event(t, &event).await {
                        Ok(h) if h.outcome == "started" => done.contacts += 1,
                        Ok(_) => {}
                        Err(e) if passing(&e) => return Err(e),
                        Err(e) => {
                            tracing::warn!(contact = c.id, error = %e, "a missed contact could not be acted on")
                        }
                    }
                }
                if !list.more {
                    break;
                }
            }
        }
        if !t.policy.gated_stages.is_empty() {
            let (_, gated) = self.stages(t).await?;
            for page in 1..=MAX_PAGES {
                self.spend_crm_read(t).await?;
                let list = crm
                    .deals_updated_since(since, page)
                    .await
                    .map_err(crm_unavailable)?;
                for d in &list.items {
                    let (Some(stage), deal) = (d.stage_id, d.id as i64) else {
                        continue;
                    };
                    let seen = self.store.cached_deal(&t.id, deal).await?;
                    if seen.and_then(|s| s.stage_id) == Some(stage as i64) {
                        continue;
                    }
                    if !gated.iter().any(|s| s.id == stage) {
                        // Where the deal is now: the stage a later gate moves it back to.
                        self.store
                            .saw_deal_stage(&t.id, deal, None, stage as i64)
                            .await?;
                        continue;
                    }
                    // Once per observed move, whichever replica's check sees it first.
                    let key = format!("deal:{deal}:stage:{stage}:at:{}", d.updated_at_ms);
                    if !self
                        .store
                        .record_delivery(&t.id, DEAL_STAGE_SOURCE, &key)
                        .await?
                    {
                        continue;
                    }
                    let event = CrmEvent::DealStageChanged {
                        deal_id: deal,
                        contact_id: None,
                        stage: Some(StageRef::Id(stage as i64)),
                        previous_stage_id: None,
                    };
                    match self.handle_event(t, &event).await {
                        Ok(h) if h.outcome == "started" => done.deals += 1,
                        Ok(_) => {}
                        Err(e) => {
                            self.store
                                .forget_delivery(&t.id, DEAL_STAGE_SOURCE, &key)
                                .await?;
                            if passing(&e) {
                                return Err(e);
                            }
                            tracing::warn!(deal, error = %e, "a missed deal move could not be acted on");
                        }
                    }
                }
                if !list.more {
                    break;
                }
            }
        }
        self.store.advance_reconciled(&t.id, now).await?;
        if done != Reconciled::default() {
            tracing::info!(
                contacts = done.contacts,
                deals = done.deals,
                "missed CRM events reconciled"
            );
        }
        Ok(done)
    }
}
