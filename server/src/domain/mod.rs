//! Pure types and rules, no I/O: ids, the CRM fields and their mapping, the contact-status rule,
//! whose document a verification saw (the identity-match rule), the deal gate, phone numbers in
//! E.164, and what the HubSpot project and the backend agree on. Everything here is testable without a database or a network.

pub mod app_contract;
pub mod fields;
pub mod gate;
pub mod identity;

pub mod ids;
pub mod origin;
pub mod outputs;
pub mod phone;
pub mod reasons;
pub mod setup;
pub mod status;
