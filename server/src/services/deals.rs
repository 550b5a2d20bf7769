//! Deals: stage and primary contact, the pipeline's stages, the gate read model.

use std::sync::Arc;

use idv_types::{DealStatus, Stage, StageId};

use super::{
    core::{crm_unavailable, read_row, Core},
    limits::Limits,
    setup::Setup,
    status::Status,
    tenant::TenantRow,
};
use crate::{
    clock::{self},
    error::{AppError, Result},
    ports::CrmError,
};

/// Reads deals, their stages and their gate status.
#[derive(Clone, Debug)]
pub struct Deals {
    core: Arc<Core>,
    limits: Limits,
    setup: Setup,
    status: Status,
}

impl Deals {
    pub fn new(core: Arc<Core>, limits: Limits, setup: Setup, status: Status) -> Self {
        Self {
            core,
            limits,
            setup,
            status,
        }
    }

    /// A deal's stage and primary contact, cached for 30 s (the widget polls deal pages).
    pub async fn deal_info(&self, tenant: &TenantRow, deal: i64, fresh: bool) -> Result<DealInfo> {
        let now = clock::now_ms();
        if !fresh {
            if let Some(r) = self.core.store.cached_deal(&tenant.id, deal).await? {
                if now - r.fetched_at < 30_000 {
                    return Ok(DealInfo {
                        stage: r.stage.and_then(StageId::new),
                        primary_contact: r.primary_contact,
                        contacts: r.primary_contact.into_iter().collect(),
                    });
                }
            }
        }
        let crm = self.core.tenants.crm_or_err(tenant)?;
        self.limits.spend_crm_read(tenant).await?;
        let d = match crm.deal(deal as u64).await {
            Ok(d) => d,
            Err(CrmError::NotFound(_)) => {
                return Err(AppError::NotFound(format!(
                    "deal {deal} does not exist in the CRM"
                )))
            }
            Err(e) => return Err(crm_unavailable(e)),
        };
        let info = DealInfo {
            stage: d.stage_id,
            primary_contact: d.primary_contact.map(|c| c as i64),
            contacts: d.contact_ids.iter().map(|c| *c as i64).collect(),
        };
        self.core
            .store
            .upsert_deal(
                &tenant.id,
                deal,
                info.stage.as_ref().map(StageId::as_str),
                info.primary_contact,
                now,
            )
            .await?;
        Ok(info)
    }

    /// The tenant's stages, with the gated ones resolved from names or ids.
    pub async fn stages(&self, tenant: &TenantRow) -> Result<(Vec<Stage>, Vec<Stage>)> {
        let cached = self.core.tenants.cached_stages(&tenant.id);
        let all = match cached {
            Some(all) => all,
            None => {
                let crm = self.core.tenants.crm_or_err(tenant)?;
                self.limits.spend_crm_read(tenant).await?;
                let all: Vec<Stage> = crm
                    .stages()
                    .await
                    .map_err(crm_unavailable)?
                    .into_iter()
                    .map(|s| Stage {
                        id: s.id,
                        name: s.name,
                    })
                    .collect();
                self.core.tenants.keep_stages(&tenant.id, all.clone());
                all
            }
        };
        let gated = crate::domain::gate::gated_stages(&all, &tenant.policy.gated_stages);
        Ok((all, gated))
    }

    pub async fn deal_status(&self, tenant: &TenantRow, deal: i64) -> Result<DealStatus> {
        let info = self.deal_info(tenant, deal, false).await?;
        let (all, gated) = self.stages(tenant).await?;
        let stage = info
            .stage
            .and_then(|id| all.iter().find(|s| s.id == id).cloned());
        // The step-up first: a step-up shown as passed is then always in the contact's status.
        let stepup = self
            .core
            .store
            .latest_stepup(&tenant.id, deal)
            .await?
            .map(|r| read_row(&self.core.sealer, r).row);
        let primary = match info.primary_contact {
            Some(c) => Some(self.status.contact_status(tenant, c).await?),
            None => None,
        };
        let is_gated = stage.as_ref().is_some_and(|s| gated.contains(s));
        let gate_satisfied = crate::domain::gate::gate_satisfied(
            is_gated,
            primary.as_ref(),
            tenant.policy.minimum(),
        );
        // The primary contact's answer already carries the set-up state.
        let setup = match &primary {
            Some(p) => p.setup.clone(),
            None => self.setup.setup_gaps(&tenant.id).await?,
        };
        Ok(DealStatus {
            deal_id: deal as u64,
            stage,
            gated_stages: gated,
            gated: is_gated,
            gate_satisfied,
            primary_contact: primary,
            stepup,
            setup,
        })
    }
}

/// A deal's stage and contacts.
#[derive(Debug, Clone)]
pub struct DealInfo {
    pub stage: Option<StageId>,
    pub primary_contact: Option<i64>,
    /// Every contact on the deal as the CRM last said (only the primary one from the cache).
    pub contacts: Vec<i64>,
}
