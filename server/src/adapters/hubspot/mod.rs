//! HubSpot: the request signatures it sends (webhooks, `hubspot.fetch`, workflow actions).

pub mod signature;
