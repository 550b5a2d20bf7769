//! The deal gate: a deal entered a gated stage → its primary contact must be verified. If not,
//! start a verification, put a note and a task on the deal, and (policy) move the deal back to
//! the stage the backend last saw it in. A sender's claims are checked: a claimed previous
//! stage must be a stage of the account's pipelines and agree with the deal's known history; a
//! claimed contact is used only if it is on the deal.

use idv_types::StageId;

use super::Automation;
use crate::{
    clock,
    domain::origin::Origin,
    error::{AppError, Result},
    services::{
        events::{Authority, CrmEvent, Handled, StageRef, StartOptions},
        queue,
        queue::Write,
        tenant::TenantRow,
        workflow::WorkflowCall,
    },
};

/// A deal's entry into a stage, as a sender reported it.
pub struct Entry<'a> {
    pub deal: i64,
    /// The contact the sender names (used only if it is on the deal).
    pub contact: Option<i64>,
    pub stage: Option<&'a StageRef>,
    /// The stage the sender says the deal left (a workflow's input; never trusted as is).
    pub claimed_previous: Option<StageId>,
    pub authority: Authority,
    /// A repeat of a call already handled: act only if the deal is in the stage now.
    pub recheck: bool,
}

impl Automation {
    /// A workflow's deal call that repeats one already handled (its delivery id, or the same
    /// body within the repeat window). A deal moved into the gated stage again sends the very
    /// same body, so the gate is checked again and acts if the deal is in the stage now. That
    /// is idempotent: the pending verification is reused and its note and task are written
    /// once; only the move back is made again. `None` for a call about no deal.
    pub async fn recheck_workflow_gate(
        &self,
        tenant: &TenantRow,
        call: &WorkflowCall,
    ) -> Result<Option<Handled>> {
        let CrmEvent::DealStageChanged {
            deal_id,
            contact_id,
            stage,
            previous_stage_id,
        } = &call.event
        else {
            return Ok(None);
        };
        if !tenant.installed {
            return Ok(Some(Handled::just("uninstalled")));
        }
        self.sessions.workflow_delivery(tenant, &call.options)?;
        let entry = Entry {
            deal: *deal_id,
            contact: *contact_id,
            stage: stage.as_ref(),
            claimed_previous: previous_stage_id.clone(),
            authority: Authority::Workflow,
            recheck: true,
        };
        self.deal_entered_stage(tenant, &entry, &call.options)
            .await
            .map(Some)
    }

    pub(super) async fn deal_entered_stage(
        &self,
        tenant: &TenantRow,
        e: &Entry<'_>,
        options: &StartOptions,
    ) -> Result<Handled> {
        let workflow = e.authority == Authority::Workflow;
        // A workflow is its own gate when the policy names no stages; the app's own events
        // gate only the policy's stages.
        if !workflow && tenant.policy.gated_stages.is_empty() {
            return Ok(Handled::just("not_gated"));
        }
        let (all, gated) = self.deals.stages(tenant).await?;
        let stage_named = |r: &StageRef| match r {
            StageRef::Id(id) => all.iter().find(|s| s.id == *id).cloned(),
            // A name, or a CRM's text id given where a name may stand.
            StageRef::Name(name) => all
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(name.trim()) || s.id.as_str() == name.trim())
                .cloned(),
        };
        if workflow {
            if let Some(r) = e.stage.filter(|r| stage_named(r).is_none()) {
                let named = match r {
                    StageRef::Id(id) => id.to_string(),
                    StageRef::Name(n) => format!("{n:?}"),
                };
                return Err(AppError::Unprocessable(format!(
                    "stage {named} is not a stage of this account's deal pipelines"
                )));
            }
            if let Some(p) = e
                .claimed_previous
                .as_ref()
                .filter(|p| !all.iter().any(|s| s.id == **p))
            {
                return Err(AppError::Unprocessable(format!(
                    "previous_stage_id {p} is not a stage of this account's deal pipelines"
                )));
            }
        }
        // A fresh read records where the deal is now; the stage the backend saw before stays
        // as its previous stage.
        let info = self.deals.deal_info(tenant, e.deal, true).await?;
        let entered = match e.stage {
            Some(r) => stage_named(r),
            None => info
                .stage
                .as_ref()
                .and_then(|id| all.iter().find(|s| s.id == *id).cloned()),
        };
        let is_gated = |s: &idv_types::Stage| {
            gated.contains(s) || (workflow && tenant.policy.gated_stages.is_empty())
        };
        let Some(entered) = entered.filter(is_gated) else {
            return Ok(Handled::just("not_gated"));
        };
        if e.recheck && info.stage.as_ref() != Some(&entered.id) {
            // A retry of a call whose deal has left the stage since: nothing to enforce.
            return Ok(Handled::just("not_in_stage"));
        }
        let mut ignored = Vec::new();
        let contact = match e.contact {
            Some(c) if info.contacts.contains(&c) => Some(c),
            Some(c) => {
                ignored.push(format!(
                    "contact_id {c} is not on deal {}; the deal's primary contact is used",
                    e.deal
                ));
                info.primary_contact
            }
            None => info.primary_contact,
        };
        let deal = e.deal;
        let Some(contact) = contact else {
            // Nobody to verify: say so on the deal, once per stage entry.
            let mut conn = self.core.store.writer().await?;
            queue::enqueue(&mut conn, &self.core.sealer, self.core.settings.coalesce, &tenant.id, &format!("note:gate:{deal}:{}:nocontact", entered.id), &Write::Note {
                target: "deal".into(),
                id: deal as u64,
                text: format!("Stage \"{}\" needs a verified primary contact, and this deal has no contact.", entered.name),
            })
            .await?;
            self.core.wake_sync.notify_one();
            return Ok(Handled {
                ignored,
                ..Handled::just("no_contact")
            });
        };
        let status = self.status.contact_status(tenant, contact).await?;
        let needed = options
            .ial
            .map_or(tenant.policy.minimum(), |l| l.max(tenant.policy.minimum()));
        if crate::domain::gate::meets(&status, needed) {
            return Ok(Handled {
                ignored,
                ..Handled::just("gate_satisfied")
            });
        }
        let revert_to = self
            .revert_target(
                tenant,
                deal,
                &entered.id,
                e.claimed_previous.as_ref(),
                &mut ignored,
            )
            .await?
            .filter(|_| tenant.policy.revert_on_gate && info.stage.as_ref() == Some(&entered.id));
        let (v, _new) = self
            .sessions
            .start_automatic(tenant, contact, options, Origin::Gate)
            .await?;
        let mut tx = self.core.store.begin().await?;
        let key = format!("gate:{deal}:{}:{}", entered.id, v.id);
        let moved = match &revert_to {
            Some(prev) => {
                queue::enqueue(
                    &mut tx,
                    &self.core.sealer,
                    self.core.settings.coalesce,
                    &tenant.id,
                    &format!("deal:{deal}:stage"),
                    &Write::DealStage {
                        deal_id: deal as u64,
                        stage_id: prev.clone(),
                    },
                )
                .await?;
                // The widget reads the cached deal: show the stage it is being moved back to.
                tx.set_cached_deal_stage(&tenant.id, deal, prev.as_str(), clock::now_ms())
                    .await?;
                " The deal was moved back to its previous stage until then."
            }
            None => "",
        };
        queue::enqueue(&mut tx, &self.core.sealer, self.core.settings.coalesce, &tenant.id, &format!("note:{key}"), &Write::Note {
            target: "deal".into(),
            id: deal as u64,
            text: format!(
                "Stage \"{}\" needs a verified primary contact. Identity verification started for contact {contact} (session {}).{moved}",
                entered.name, v.id
            ),
        })
        .await?;
        let due = clock::rfc3339(clock::now_ms() + clock::DAY_MS);
        queue::enqueue(&mut tx, &self.core.sealer, self.core.settings.coalesce, &tenant.id, &format!("task:{key}"), &Write::Task {
            target: "deal".into(),
            id: deal as u64,
            title: "Get the customer's identity verified".into(),
            description: format!(
                "The deal entered \"{}\", which needs a verified primary contact. Send the customer the verification link from the contact's Identity Verification panel in {}.",
                entered.name,
                tenant.crm_kind.product()
            ),
            due_date: due,
            owner_id: None,
            // The rep who owns the customer follows it up.
            owner_of_contact: Some(contact as u64),
        })
        .await?;
        tx.audit_facts(
            &tenant.id,
            "gate",
            &v.id,
            &format!("deal {deal} entered stage {}", entered.id),
            Some(&idv_types::AuditFacts {
                stage: Some(entered.id.to_string()),
                ..Default::default()
            }),
        )
        .await?;
        tx.commit().await?;
        self.core.wake_sync.notify_one();
        Ok(Handled {
            deal_moved_back: revert_to.is_some(),
            ignored,
            ..Handled::session("started", &v)
        })
    }

    /// Where a deal that entered `entered` goes back to: the stage the backend saw it in
    /// before; a sender's claim only when the backend knows nothing of the deal, and never a
    /// gated stage. A claim that disagrees is noted in `ignored`.
    async fn revert_target(
        &self,
        tenant: &TenantRow,
        deal: i64,
        entered: &StageId,
        claimed: Option<&StageId>,
        ignored: &mut Vec<String>,
    ) -> Result<Option<StageId>> {
        let known = self
            .core
            .store
            .cached_deal(&tenant.id, deal)
            .await?
            .filter(|h| h.stage.as_deref() == Some(entered.as_str()))
            .and_then(|h| h.previous_stage.and_then(StageId::new))
            .filter(|p| p != entered);
        let (_, gated) = self.deals.stages(tenant).await?;
        Ok(match (known, claimed) {
            (Some(k), Some(c)) if *c != k => {
                ignored.push(format!(
                    "previous_stage_id {c} is not the stage the deal was in before ({k}); it goes back to {k}"
                ));
                Some(k)
            }
            (Some(k), _) => Some(k),
            (None, Some(c)) if c != entered && !gated.iter().any(|s| s.id == *c) => Some(c.clone()),
            (None, Some(c)) => {
                ignored.push(format!(
                    "previous_stage_id {c} is the stage entered or another gated stage; the deal stays"
                ));
                None
            }
            (None, None) => None,
        })
    }
}
