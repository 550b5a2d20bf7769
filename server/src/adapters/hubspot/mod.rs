//! HubSpot: the app's OAuth grant and token refresh, the request signatures HubSpot sends
//! (webhooks, `hubspot.fetch`, workflow actions).

pub mod oauth;
pub mod platform;
pub mod signature;
pub mod webhooks;
