//! The product loop through the engine: Verify Identity, results by callback and by polling,
//! CRM write-back, step-up, automation, chat bots, and the bad input each endpoint refuses.

mod audit;
mod automation;
mod blockid;
mod coalescing;
mod contact_stepup;
mod crm_calls;
mod deals;
mod erasure;
mod expiry;
mod freshchat;
mod freshchat_trust;
mod freshdesk;
mod hubspot;
mod identity;
mod input;
mod install;
mod operations;
mod reconcile;
mod resend;
mod retention;
mod setup;
mod starts;
mod status_reads;
mod verify;
