//! A CRM's OAuth 2 authorisation server: where an admin grants this app access to an account,
//! and where the app trades a code or a refresh token for an access token (HubSpot).

use std::time::Duration;

use secrecy::SecretString;

use super::{CrmError, CrmKind};

/// How this backend is registered with a CRM's app platform (the operator's settings).
#[derive(Clone)]
pub struct OAuthApp {
    /// The product the app is registered with.
    pub kind: CrmKind,
    pub client_id: String,
    /// Also the key of the platform's request signatures.
    pub client_secret: SecretString,
    /// The app's id (the platform adds it to the requests it signs).
    pub app_id: Option<String>,
    /// The API root (token endpoint and CRM calls), e.g. `https://api.hubapi.com`.
    pub api_url: String,
    /// The page an admin grants access on, e.g. `https://app.hubspot.com/oauth/authorize`.
    pub authorize_url: String,
}

impl std::fmt::Debug for OAuthApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthApp")
            .field("kind", &self.kind)
            .field("client_id", &self.client_id)
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

/// What a code or a refresh token was traded for.
#[derive(Debug, Clone)]
pub struct Grant {
    pub access_token: SecretString,
    /// The refresh token to use next (the one given, unless the server rotated it).
    pub refresh_token: SecretString,
    /// How long the access token lasts, as the server said (never assumed).
    pub expires_in: Duration,
    /// The account the grant is for (HubSpot's `hub_id`), when the server says.
    pub account: Option<String>,
}

/// A CRM's authorisation server, as this app's registration reaches it.
#[async_trait::async_trait]
pub trait CrmAuthority: Send + Sync + std::fmt::Debug {
    /// The page that asks an admin to grant this app access; `state` comes back with the code.
    fn authorize_url(&self, redirect_uri: &str, state: &str) -> String;
    /// Trades the code of a grant for tokens.
    async fn exchange(&self, code: &str, redirect_uri: &str) -> Result<Grant, CrmError>;
    /// Trades a refresh token for a new access token.
    async fn refresh(&self, refresh_token: &SecretString) -> Result<Grant, CrmError>;
    /// The requests an installed account's API allows the app per interval of seconds: the
    /// budget a newly authorised tenant starts with.
    fn rate_limit(&self) -> (i64, i64);
    /// Ends a grant (the app is uninstalled).
    async fn revoke(&self, refresh_token: &SecretString) -> Result<(), CrmError>;
}
