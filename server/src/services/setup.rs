//! The CRM account's set-up for this app, checked at install, by `server check` and
//! periodically: what the app can create it creates (the history module); what it cannot (the
//! contact fields on Freshsales, a misspelled gated stage) it lists for an admin, by label and
//! type. Writes refused for a missing field wait (parked) until the set-up is complete.

use std::sync::Arc;

use idv_types::{SetupGap, SetupIssue, SetupPart, SetupReport};

use super::{
    core::{crm_unavailable, Core},
    tenant::TenantRow,
};
use crate::{
    clock,
    domain::setup::{field_gaps, stage_gaps, CONTACT_FIELDS, HISTORY_MODULE},
    error::Result,
    ports::CrmError,
};

/// Checks and records each account's CRM set-up.
#[derive(Clone, Debug)]
pub struct Setup {
    core: Arc<Core>,
}

impl Setup {
    pub fn new(core: Arc<Core>) -> Self {
        Self { core }
    }

    /// Recounts the installed tenants whose CRM set-up is incomplete (other replicas' changes
    /// show at the next [`Gauges::refresh_gauges`](super::gauges::Gauges::refresh_gauges)).
    pub async fn refresh_setup_gauge(&self) -> Result<()> {
        let n = self.core.store.incomplete_setup_count().await?;
        self.core.metrics.tenants_setup_incomplete.set(n);
        Ok(())
    }

    /// Reads the account's set-up, creates what the CRM's API lets the app create, records the
    /// result as the tenant's set-up state and, once complete, sends the writes that waited.
    pub async fn check_setup(&self, tenant: &TenantRow) -> Result<SetupReport> {
        let crm = self.core.tenants.crm_or_err(tenant)?;
        let facts = crm.setup_facts().await.map_err(crm_unavailable)?;
        let mut created = Vec::new();
        let mut gaps = Vec::new();

        // What the CRM keeps for the app besides fields and module (HubSpot's property group
        // comes before the properties in it).
        match crm.prepare().await {
            Ok(made) => created.extend(made),
            Err(e) => gaps.push(SetupGap::new(
                SetupPart::Preparation,
                format!("{} preparation", tenant.crm_kind.product()),
                "prepare",
                "the app's property group and list",
                format!("the app could not create them: {e}"),
                SetupIssue::not_created(e.to_string()),
            )),
        }

        // The history module: created by the app when it is missing (a CRM without custom
        // modules keeps the history in its notes instead).
        match facts.modules.iter().find(|(n, _)| n == HISTORY_MODULE.name) {
            _ if !crm.has_custom_modules() => {}
            Some((_, fields)) => gaps.extend(field_gaps(
                SetupPart::ModuleField,
                HISTORY_MODULE.fields,
                fields,
            )),
            None => match crm.create_module(&HISTORY_MODULE).await {
                Ok(()) => created.push(format!("custom module {}", HISTORY_MODULE.label)),
                Err(e) => gaps.push(SetupGap::new(
                    SetupPart::CustomModule,
                    HISTORY_MODULE.label,
                    HISTORY_MODULE.name,
                    format!(
                        "a custom module with {} fields",
                        HISTORY_MODULE.fields.len()
                    ),
                    format!("missing, and the app could not create it: {e}"),
                    SetupIssue::not_created(e.to_string()),
                )),
            },
        }

        // Contact fields: created where the CRM allows it, else listed for the admin.
        for gap in field_gaps(
            SetupPart::ContactField,
            CONTACT_FIELDS,
            &facts.contact_fields,
        ) {
            let spec = CONTACT_FIELDS.iter().find(|f| f.name == gap.name);
            let made = match (gap.problem.as_str(), spec) {
                ("missing", Some(spec)) => crm.create_contact_field(spec).await.is_ok(),
                _ => false,
            };
            if made {
                created.push(format!("{} {}", crm.field_noun(), gap.label));
            } else {
                gaps.push(gap);
            }
        }

        gaps.extend(stage_gaps(
            &tenant.policy.gated_stages,
            &facts.stage_names,
            &facts.stage_ids,
        ));
        let report = SetupReport {
            complete: gaps.is_empty(),
            checked_at: clock::rfc3339(clock::now_ms()),
            gaps,
            created,
            product: tenant.crm_kind.product().into(),
        };
        self.record_setup(&tenant.id, &report).await?;
        Ok(report)
    }

    /// Stores a report; a complete one releases the writes that waited for it.
    async fn record_setup(&self, tenant: &str, report: &SetupReport) -> Result<()> {
        let json = serde_json::to_string(report).unwrap_or_default();
        self.core
            .store
            .save_setup(tenant, &json, report.complete)
            .await?;
        self.refresh_setup_gauge().await?;
        if report.complete {
            let released = self
                .core
                .store
                .release_setup_waits(tenant, clock::now_ms())
                .await?;
            if released > 0 {
                tracing::info!(
                    released,
                    "the CRM set-up is complete; waiting writes go out"
                );
                self.core.wake_sync.notify_one();
            }
        } else {
            tracing::warn!(gaps = report.gaps.len(), "the CRM set-up is incomplete");
        }
        Ok(())
    }

    /// The tenant's set-up state while it is incomplete (what the widget shows as a banner).
    pub async fn setup_gaps(&self, tenant: &str) -> Result<Option<SetupReport>> {
        let Some((json, complete)) = self.core.store.setup_of(tenant).await? else {
            return Ok(None);
        };
        if complete {
            return Ok(None);
        }
        Ok(serde_json::from_str(&json).ok())
    }

    /// A write the CRM refused for a missing field or module: the set-up is incomplete. The
    /// refusal is kept as a gap until the next check reads the account again.
    pub(super) async fn setup_refused(&self, tenant: &TenantRow, e: &CrmError) -> Result<()> {
        let mut report = self.setup_gaps(&tenant.id).await?.unwrap_or(SetupReport {
            complete: false,
            checked_at: clock::rfc3339(clock::now_ms()),
            gaps: Vec::new(),
            created: Vec::new(),
            product: tenant.crm_kind.product().into(),
        });
        let problem = e.to_string();
        if !report.gaps.iter().any(|g| g.problem == problem) {
            report.gaps.push(SetupGap::new(
                SetupPart::CrmWrite,
                "a write of this app",
                "",
                "the fields and module listed by `server check`",
                problem,
                SetupIssue::write_refused(e.to_string()),
            ));
        }
        report.complete = false;
        let json = serde_json::to_string(&report).unwrap_or_default();
        self.core.store.save_setup(&tenant.id, &json, false).await?;
        self.refresh_setup_gauge().await
    }

    /// The periodic check: tenants whose set-up was incomplete are read again.
    pub async fn recheck_incomplete_setups(&self) -> Result<usize> {
        let mut complete = 0;
        for id in self.core.store.tenants_with_incomplete_setup().await? {
            let Some(t) = self.core.tenants.get(&id).await? else {
                continue;
            };
            match self.check_setup(&t).await {
                Ok(r) if r.complete => complete += 1,
                Ok(_) => {}
                Err(e) => tracing::warn!(tenant = %id, error = %e, "the set-up check failed"),
            }
        }
        Ok(complete)
    }
}
