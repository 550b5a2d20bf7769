//! The use cases, each an owner of its own: starting sessions, applying what the provider says
//! (polling is the truth; callbacks are hints), deriving contact status, queueing and sending
//! the CRM write-back, automation, chat, retention. Each owner holds the shared [`Core`] and
//! the owners it calls; [`Services`] wires them once, for `main`, the testkit and the demo.

pub mod actions;
pub mod audit;
pub mod automation;
pub mod batch;
pub mod chat;
pub mod core;
pub mod deals;
pub mod deliveries;
pub mod doctor;
pub mod events;
pub mod expiry;
pub mod gauges;
pub mod identity;
pub mod install;
pub mod intake;
pub mod keys;
pub mod limits;
pub mod metrics;
pub mod poller;
pub mod queue;
pub mod reconcile;
pub mod resend;
pub mod results;
pub mod retention;
pub mod settings;
pub mod setup;
pub mod start;
pub mod status;
pub mod stepup;
pub mod sync;
pub mod tenant;
pub mod tenants;
pub mod wiring;
pub mod workers;
pub mod workflow;

pub use self::{
    core::{contact_row, Core, VerRow},
    deals::DealInfo,
    metrics::Metrics,
    queue::Write,
    settings::{RetentionPeriods, Settings, DEFAULT_PUBLIC_URL},
    tenant::{Policy, TenantRow},
    tenants::Tenants,
    wiring::Services,
};
pub use crate::domain::origin::Origin;
