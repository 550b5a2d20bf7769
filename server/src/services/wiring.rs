//! The use cases wired once: each owner built with the shared [`Core`] and the owners it
//! calls, in the order they depend on each other (a lower one never needs a higher one).

use std::sync::Arc;

use super::{
    actions, audit, automation, chat, core::Core, deals, deliveries, doctor, expiry, gauges,
    identity, install, intake, limits, poller, queue, reconcile, resend, results, retention, setup,
    start, status, stepup, sync,
};

/// Every use case, wired once: plain data, each field an owner with its own file or folder.
#[derive(Clone, Debug)]
pub struct Services {
    pub core: Arc<Core>,
    pub limits: limits::Limits,
    pub setup: setup::Setup,
    pub status: status::Status,
    pub deals: deals::Deals,
    pub sessions: start::Sessions,
    pub stepups: stepup::StepUps,
    pub resends: resend::Resends,
    pub results: results::Results,
    pub queue: queue::Queue,
    pub poller: poller::Poller,
    pub expiry: expiry::Expiry,
    pub automation: automation::Automation,
    pub actions: actions::Actions,
    pub deliveries: deliveries::Deliveries,
    pub outbox: sync::Outbox,
    pub accounts: install::Accounts,
    pub doctor: doctor::Doctor,
    pub reconcile: reconcile::Reconcile,
    pub retention: retention::Retention,
    pub audit: audit::Audit,
    pub chat: chat::Chat,
    pub gauges: gauges::Gauges,
}

impl Services {
    /// The use cases over the shared `core`.
    pub fn new(core: Core) -> Self {
        let core = Arc::new(core);
        let limits = limits::Limits::new(core.clone());
        let setup = setup::Setup::new(core.clone());
        let status = status::Status::new(core.clone(), limits.clone(), setup.clone());
        let deals = deals::Deals::new(core.clone(), limits.clone(), setup.clone(), status.clone());
        let identity = identity::Identity::new(core.clone(), limits.clone());
        let queue = queue::Queue::new(core.clone());
        let sessions = start::Sessions::new(
            core.clone(),
            limits.clone(),
            identity.clone(),
            queue.clone(),
        );
        let results = results::Results::new(core.clone(), identity.clone(), queue.clone());
        let poller = poller::Poller::new(core.clone(), results.clone());
        let expiry = expiry::Expiry::new(
            core.clone(),
            queue.clone(),
            results.clone(),
            sessions.clone(),
        );
        let automation = automation::Automation::new(
            core.clone(),
            sessions.clone(),
            deals.clone(),
            status.clone(),
            expiry.clone(),
        );
        let accounts = install::Accounts::new(core.clone(), setup.clone());
        let retention = retention::Retention::new(core.clone());
        let deliveries = deliveries::Deliveries::new(
            core.clone(),
            automation.clone(),
            accounts.clone(),
            retention.clone(),
            intake::Intake::new(core.clone()),
        );
        Self {
            stepups: stepup::StepUps::new(core.clone(), limits.clone(), deals.clone()),
            resends: resend::Resends::new(core.clone(), limits.clone(), identity, sessions.clone()),
            actions: actions::Actions::new(
                core.clone(),
                sessions.clone(),
                deals.clone(),
                queue.clone(),
            ),
            outbox: sync::Outbox::new(
                core.clone(),
                limits.clone(),
                setup.clone(),
                deliveries.clone(),
            ),
            doctor: doctor::Doctor::new(core.clone(), setup.clone()),
            reconcile: reconcile::Reconcile::new(
                core.clone(),
                setup.clone(),
                automation.clone(),
                deals.clone(),
                limits.clone(),
            ),
            audit: audit::Audit::new(core.clone()),
            chat: chat::Chat::new(core.clone(), limits.clone(), sessions.clone()),
            gauges: gauges::Gauges::new(core.clone(), setup.clone()),
            core,
            limits,
            setup,
            status,
            deals,
            sessions,
            results,
            queue,
            poller,
            expiry,
            automation,
            deliveries,
            accounts,
            retention,
        }
    }
}
