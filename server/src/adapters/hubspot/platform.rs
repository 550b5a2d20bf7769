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

/// The introspect endpoint: form fields `client_id`, `client_secret`, `token`,
/// `token_type_hint`; answers `active` and the token's metadata (C). That the metadata names
/// the account as `hub_id`, as the legacy `GET /oauth/v1/access-tokens/{token}` does, is U.
pub fn introspect_path() -> String {
    format!("/oauth/{API_VERSION}/token/introspect")
}

/// A value as one segment of a path (a list's name, a callback id).
pub fn segment(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A CRM object's collection (`contacts`, `deals`, `notes`, `tasks`) (C: §3, §7).
pub fn objects_path(object: &str) -> String {
    format!("/crm/objects/{API_VERSION}/{object}")
}

/// A CRM object's search (U: the path by the pattern of the others; HubSpot's search API
/// is not in the facts).
pub fn search_path(object: &str) -> String {
    format!("/crm/objects/{API_VERSION}/{object}/search")
}

/// A contact property's definitions, and where one is created (C: §3).
pub fn properties_path(object: &str) -> String {
    format!("/crm/properties/{API_VERSION}/{object}")
}

/// Where property groups are created (C for the path; the body is U: `name`, `label`,
/// `displayOrder`).
pub fn property_groups_path(object: &str) -> String {
    format!("/crm/properties/{API_VERSION}/{object}/groups")
}

/// A pipeline list with its stages (C: §6).
pub fn pipelines_path(object: &str) -> String {
    format!("/crm/pipelines/{API_VERSION}/{object}")
}

/// The association labels (with their type ids) from one object type to another: the type
/// ids are read here rather than fixed (third-party figures, U: note→contact 202).
pub fn association_labels_path(from: &str, to: &str) -> String {
    format!("/crm/associations/{API_VERSION}/{from}/{to}/labels")
}

/// The batch read of one object's associations to another (C: §6).
pub fn association_batch_read_path(from: &str, to: &str) -> String {
    format!("/crm/associations/{API_VERSION}/{from}/{to}/batch/read")
}

/// Where lists (segments) are created (C: §8; the v1 lists API is sunset).
pub fn lists_path() -> String {
    format!("/crm/lists/{API_VERSION}")
}

/// The object type id of contacts in the lists API (C: §8).
pub const CONTACTS_OBJECT_TYPE_ID: &str = "0-1";

/// The pipeline every account has (C: §6).
pub const DEFAULT_PIPELINE: &str = "default";

/// Requests an OAuth app may make per interval per installing account (C: 110 per 10 s; an
/// older figure was 100). The backend's budget for a new HubSpot tenant.
pub const RATE_LIMIT: (i64, i64) = (110, 10);

/// The property group this app's contact properties sit in (its name is ours to choose).
pub const PROPERTY_GROUP: (&str, &str) = ("identity_verification", "Identity Verification");

/// The name of the marketing-suppression list made at install.
pub const SUPPRESSION_LIST: &str = "Identity not verified (exclude from marketing sends)";

/// Where a blocked workflow action is completed (C: §5; answers 204).
pub fn action_callback_path(callback_id: &str) -> String {
    format!("/automation/actions/callbacks/{API_VERSION}/{callback_id}/complete")
}
