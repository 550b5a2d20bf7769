//! HubSpot: the CRM's records, the app's OAuth grant and token refresh, the request signatures HubSpot sends
//! (webhooks, `hubspot.fetch`, workflow actions).

pub mod crm;
pub mod oauth;
pub mod platform;
pub mod signature;
pub mod webhooks;
