//! HubSpot's platform as this app uses it: the API version and the hosts, each in one place.
//! Facts: `shared/reference/hubspot.md` §0–§1 (C = confirmed there, U = unconfirmed).

/// The date-versioned API this app speaks (C: v1–v4 give way to date versions; OAuth v1 is
/// deprecated on 2027-02-16).
pub const API_VERSION: &str = "2026-03";

/// The API root: token endpoint and CRM calls (C).
pub const DEFAULT_API_URL: &str = "https://api.hubapi.com";

/// Where an admin grants the app access (C).
pub const DEFAULT_AUTHORIZE_URL: &str = "https://app.hubspot.com/oauth/authorize";

/// The token endpoint under the API root; every parameter in a form-encoded body (C).
pub fn token_path() -> String {
    format!("/oauth/{API_VERSION}/token")
}

/// The revoke endpoint (C). Its body is not documented in the facts (U): it is sent the way
/// the introspect endpoint takes one (`token`, `token_type_hint`, the client's id and secret).
pub fn revoke_path() -> String {
    format!("/oauth/{API_VERSION}/token/revoke")
}
