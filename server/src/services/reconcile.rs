//! The periodic check: accounts whose set-up was incomplete are read again, and events the
//! serverless forwarder dropped (the backend was down, the platform gave up) are reconciled.
//!
//! For a tenant whose policy acts on new contacts or gated stages, the check reads the CRM's
//! lists of contacts (newest created first) and deals (newest updated first) and feeds each
//! record the backend has not seen into the same intake as a forwarded event: a contact whose
//! creation was acted on is recorded in the inbound-event table (by either path) and not acted
//! on again; a deal is fed when the stage it is in is not the one the backend last saw it in.
//!
//! Each list is read in sweeps: a sweep reads from the first page down to the records older
//! than its point (a few minutes before the previous sweep began, never before the install), at
//! most [`MAX_PAGES`] pages per check, each a Freshsales call counted against the tenant's API
//! budget. A sweep that does not finish in one check keeps its cursor and pages on at the next,
//! so no record is left behind however many were missed; the records that arrive meanwhile go
//! to the top of the list, where the next sweep reads them. Newest first is what keeps the
//! cursor true: a record created or updated (a deal the gate moved back) goes to the top, so
//! the unread part below the cursor only moves down (read again, acted on once); a record
//! deleted above it moves it up, which the page of overlap at each resume covers. A check that
//! leaves a sweep unfinished says so in the log (the tenant, the list, the page; never a record).

use std::sync::Arc;

use idv_types::StageId;

use super::{
    automation::{Automation, CrmEvent, StageRef},
    core::{crm_unavailable, Core},
    deals::Deals,
    limits::Limits,
    setup::Setup,
    tenant::TenantRow,
};
use crate::{
    clock,
    error::Result,
    ports::{crm::RecentPage, Crm},
    store::Sweep,
};

/// How far before the last sweep began each sweep reads (records indexed late, clocks that
/// differ).
pub const OVERLAP_MS: i64 = 5 * 60 * 1000;
/// Most list pages read per list and check (the rest waits for the next check).
pub const MAX_PAGES: u32 = 5;
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

/// A list the check reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Contacts,
    Deals,
}

impl List {
    fn name(self) -> &'static str {
        match self {
            Self::Contacts => "contacts",
            Self::Deals => "deals",
        }
    }
}

/// A record as a list shows it: its id, the time the list is sorted by, and a deal's stage.
struct Listed {
    id: u64,
    at_ms: i64,
    stage: Option<StageId>,
}

/// The periodic check of accounts and the events they missed.
#[derive(Clone, Debug)]
pub struct Reconcile {
    core: Arc<Core>,
    setup: Setup,
    automation: Automation,
    deals: Deals,
    limits: Limits,
}

impl Reconcile {
    pub fn new(
        core: Arc<Core>,
        setup: Setup,
        automation: Automation,
        deals: Deals,
        limits: Limits,
    ) -> Self {
        Self {
            core,
            setup,
            automation,
            deals,
            limits,
        }
    }

    /// The periodic check (the set-up worker runs it every `setup_recheck`).
    pub async fn periodic_check(&self) -> Result<Reconciled> {
        self.setup.recheck_incomplete_setups().await?;
        self.reconcile_missed_events().await
    }

    /// Reconciles the missed contact and deal events of every installed tenant whose policy
    /// acts on them.
    pub async fn reconcile_missed_events(&self) -> Result<Reconciled> {
        let mut total = Reconciled::default();
        for (id, _, installed) in self.core.store.list_tenants().await? {
            if !installed {
                continue;
            }
            let Some(t) = self.core.tenants.get(&id).await? else {
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
        let Some(crm) = self.core.tenants.crm(t) else {
            return Ok(Reconciled::default());
        };
        let now = clock::now_ms();
        let Some((until, floor)) = self.core.store.reconcile_point(&t.id).await? else {
            // Installed before this check existed: start from now.
            self.core.store.start_reconciling(&t.id, now).await?;
            return Ok(Reconciled::default());
        };
        // Where a list without a sweep of its own starts: a little before the last check.
        let first = Sweep {
            since_ms: (until - OVERLAP_MS).max(floor),
            started_at: None,
            page: 1,
        };
        let mut done = Reconciled::default();
        for (list, wanted) in [
            (List::Contacts, t.policy.auto_verify_on_create),
            (List::Deals, !t.policy.gated_stages.is_empty()),
        ] {
            if !wanted {
                // A list the policy does not act on now starts afresh from the tenant's point
                // when it does again (never from a sweep left long ago).
                self.core
                    .store
                    .drop_reconcile_sweep(&t.id, list.name())
                    .await?;
                continue;
            }
            let acted = self.sweep(t, &*crm, list, &first, floor).await?;
            match list {
                List::Contacts => done.contacts = acted,
                List::Deals => done.deals = acted,
            }
        }
        self.core.store.advance_reconciled(&t.id, now).await?;
        if done != Reconciled::default() {
            tracing::info!(
                contacts = done.contacts,
                deals = done.deals,
                "missed CRM events reconciled"
            );
        }
        Ok(done)
    }

    /// Reads on in `list`'s sweep, at most [`MAX_PAGES`] pages, acting on each record at or
    /// after the sweep's point; returns how many were acted on. The cursor is saved whatever
    /// happens: after a passing failure the next check reads the page that failed again.
    async fn sweep(
        &self,
        t: &TenantRow,
        crm: &dyn Crm,
        list: List,
        first: &Sweep,
        floor: i64,
    ) -> Result<usize> {
        let saved = self.core.store.reconcile_sweep(&t.id, list.name()).await?;
        let mut sweep = saved.unwrap_or_else(|| first.clone());
        sweep.since_ms = sweep.since_ms.max(floor);
        if sweep.page <= 1 {
            sweep.page = 1;
            sweep.started_at = Some(clock::now_ms());
        } else {
            // Resumed with a page of overlap: records deleted above the cursor since the last
            // check moved the unread ones up by as many places. (Records that arrived meanwhile
            // push them down: read again, and acted on once.)
            sweep.page -= 1;
        }
        let mut acted = 0;
        for _ in 0..MAX_PAGES {
            // Saved after a passing failure: the next check's page of overlap is this page.
            let again = Sweep {
                page: sweep.page + 1,
                ..sweep.clone()
            };
            let listed = match self.list_page(t, crm, list, sweep.page).await {
                Ok(l) => l,
                Err(e) => {
                    self.core
                        .store
                        .save_reconcile_sweep(&t.id, list.name(), &again)
                        .await?;
                    return Err(e);
                }
            };
            let mut reached_point = false;
            for r in &listed.items {
                if r.at_ms < sweep.since_ms {
                    // Sorted newest first: everything from here on is older still.
                    reached_point = true;
                    break;
                }
                match self.reconcile_record(t, list, r).await {
                    Ok(true) => acted += 1,
                    Ok(false) => {}
                    Err(e) => {
                        self.core
                            .store
                            .save_reconcile_sweep(&t.id, list.name(), &again)
                            .await?;
                        return Err(e);
                    }
                }
            }
            if reached_point || !listed.more {
                // The sweep is done; the next one reads back to a little before it began.
                let began = sweep.started_at.unwrap_or(sweep.since_ms);
                let next = Sweep {
                    since_ms: (began - OVERLAP_MS).max(floor),
                    started_at: None,
                    page: 1,
                };
                self.core
                    .store
                    .save_reconcile_sweep(&t.id, list.name(), &next)
                    .await?;
                return Ok(acted);
            }
            sweep.page += 1;
        }
        self.core
            .store
            .save_reconcile_sweep(&t.id, list.name(), &sweep)
            .await?;
        let behind_ms = clock::now_ms() - sweep.started_at.unwrap_or(sweep.since_ms);
        tracing::warn!(
            tenant = %t.id,
            list = list.name(),
            next_page = sweep.page,
            behind_secs = behind_ms / 1000,
            "reconciliation is behind: more records than one check reads; the next check pages on"
        );
        Ok(acted)
    }

    /// One page of `list`, newest first (one Freshsales call from the tenant's budget).
    async fn list_page(
        &self,
        t: &TenantRow,
        crm: &dyn Crm,
        list: List,
        page: u32,
    ) -> Result<RecentPage<Listed>> {
        self.limits.spend_crm_read(t).await?;
        let listed = match list {
            List::Contacts => {
                let p = crm.recent_contacts(page).await.map_err(crm_unavailable)?;
                RecentPage {
                    items: p
                        .items
                        .into_iter()
                        .map(|c| Listed {
                            id: c.id,
                            at_ms: c.created_at_ms,
                            stage: None,
                        })
                        .collect(),
                    more: p.more,
                }
            }
            List::Deals => {
                let p = crm.recent_deals(page).await.map_err(crm_unavailable)?;
                RecentPage {
                    items: p
                        .items
                        .into_iter()
                        .map(|d| Listed {
                            id: d.id,
                            at_ms: d.updated_at_ms,
                            stage: d.stage_id,
                        })
                        .collect(),
                    more: p.more,
                }
            }
        };
        Ok(listed)
    }

    /// Acts on one listed record the backend may have missed; `true` if it was acted on. A
    /// passing failure is returned; any other is logged and the sweep goes on.
    async fn reconcile_record(&self, t: &TenantRow, list: List, r: &Listed) -> Result<bool> {
        match list {
            List::Contacts => {
                let event = CrmEvent::ContactCreated {
                    contact_id: r.id as i64,
                };
                match self.automation.handle_event(t, &event).await {
                    Ok(h) => Ok(h.outcome == "started"),
                    Err(e) if e.is_passing() => Err(e),
                    Err(e) => {
                        tracing::warn!(contact = r.id, error = %e, "a missed contact could not be acted on");
                        Ok(false)
                    }
                }
            }
            List::Deals => self.reconcile_deal(t, r).await,
        }
    }

    async fn reconcile_deal(&self, t: &TenantRow, d: &Listed) -> Result<bool> {
        let (Some(stage), deal) = (d.stage.clone(), d.id as i64) else {
            return Ok(false);
        };
        let seen = self.core.store.cached_deal(&t.id, deal).await?;
        if seen.and_then(|s| s.stage).as_deref() == Some(stage.as_str()) {
            return Ok(false);
        }
        let (_, gated) = self.deals.stages(t).await?;
        if !gated.iter().any(|s| s.id == stage) {
            // Where the deal is now: the stage a later gate moves it back to.
            self.core
                .store
                .saw_deal_stage(&t.id, deal, None, stage.as_str())
                .await?;
            return Ok(false);
        }
        // Once per observed move, whichever replica's check sees it first.
        let key = format!("deal:{deal}:stage:{stage}:at:{}", d.at_ms);
        if !self
            .core
            .store
            .record_delivery(&t.id, DEAL_STAGE_SOURCE, &key)
            .await?
        {
            return Ok(false);
        }
        let event = CrmEvent::DealStageChanged {
            deal_id: deal,
            contact_id: None,
            stage: Some(StageRef::Id(stage)),
            previous_stage_id: None,
        };
        match self.automation.handle_event(t, &event).await {
            Ok(h) => Ok(h.outcome == "started"),
            Err(e) => {
                self.core
                    .store
                    .forget_delivery(&t.id, DEAL_STAGE_SOURCE, &key)
                    .await?;
                if e.is_passing() {
                    return Err(e);
                }
                tracing::warn!(deal, error = %e, "a missed deal move could not be acted on");
                Ok(false)
            }
        }
    }
}
