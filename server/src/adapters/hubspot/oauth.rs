//! HubSpot's OAuth 2 server as the [`CrmAuthority`] port: the authorize page, the token
//! endpoint (code and refresh grants, form-encoded), introspection (which account a grant is
//! for, when the token answer does not say) and revocation.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::platform;
use crate::domain::app_contract::contract;
use crate::{
    adapters::{http_client, without_url},
    ports::{CrmAuthority, CrmError, Grant, OAuthApp},
};

/// This app's registration with HubSpot, and a client to reach it.
#[derive(Debug, Clone)]
pub struct HubSpotAuthority {
    app: OAuthApp,
    http: reqwest::Client,
}

/// The token endpoint's answer (C: `access_token`, `refresh_token`, `expires_in`; the current
/// SDK model adds `hub_id`).
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    refresh_token: String,
    expires_in: u64,
    #[serde(default)]
    hub_id: Option<serde_json::Value>,
}

/// The introspect endpoint's answer: whether the token is live, and its account.
#[derive(Deserialize)]
struct Introspection {
    #[serde(default)]
    active: bool,
    #[serde(default)]
    hub_id: Option<serde_json::Value>,
}

/// An account id as HubSpot writes it: a number, or a string of one.
fn account_of(hub_id: Option<serde_json::Value>) -> Option<String> {
    hub_id.and_then(|h| match h {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) if !s.is_empty() => Some(s),
        _ => None,
    })
}

/// An OAuth error (RFC 6749 `error`, `error_description`; HubSpot's legacy `status`,
/// `message`).
#[derive(Deserialize, Default)]
struct OAuthError {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl HubSpotAuthority {
    pub fn new(app: OAuthApp, timeout: Duration) -> Self {
        Self {
            app,
            http: http_client(timeout),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.api_url.trim_end_matches('/'))
    }

    async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Result<String, CrmError> {
        let res = self
            .http
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .map_err(|e| {
                CrmError::Unavailable(format!("HubSpot is unreachable: {}", without_url(&e)))
            })?;
        let status = res.status();
        let retry_after = res
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = res.text().await.map_err(|e| {
            CrmError::Unavailable(format!("HubSpot's answer was cut: {}", without_url(&e)))
        })?;
        if status.is_success() {
            return Ok(body);
        }
        let err: OAuthError = serde_json::from_str(&body).unwrap_or_default();
        let why = [err.error, err.status, err.error_description.or(err.message)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(": ");
        Err(match status.as_u16() {
            400 if why.contains("invalid_grant") || why.contains("BAD_") => CrmError::Unauthorized(format!(
                "HubSpot refused the grant ({why}): an admin installs the app again"
            )),
            400 => CrmError::Unprocessable(format!("HubSpot refused the token request ({why})")),
            401 | 403 => CrmError::Unauthorized(format!(
                "HubSpot refused this app's client id or secret ({why}): check IDV_HUBSPOT_CLIENT_ID and IDV_HUBSPOT_CLIENT_SECRET"
            )),
            429 => CrmError::RateLimited {
                retry_after_secs: retry_after.unwrap_or(10),
                message: "HubSpot's token endpoint asks to slow down".into(),
            },
            code => CrmError::Unavailable(format!("HubSpot's token endpoint answered {code}")),
        })
    }

    fn grant(body: &str, given_refresh: Option<&SecretString>) -> Result<Grant, CrmError> {
        let t: TokenAnswer = serde_json::from_str(body).map_err(|e| {
            CrmError::Protocol(format!("HubSpot's token answer is unreadable: {e}"))
        })?;
        if t.access_token.is_empty() || t.expires_in == 0 {
            return Err(CrmError::Protocol(
                "HubSpot's token answer has no access token or lifetime".into(),
            ));
        }
        let refresh_token = match (t.refresh_token.is_empty(), given_refresh) {
            (false, _) => SecretString::from(t.refresh_token),
            (true, Some(given)) => given.clone(),
            (true, None) => {
                return Err(CrmError::Protocol(
                    "HubSpot's token answer has no refresh token".into(),
                ))
            }
        };
        Ok(Grant {
            access_token: SecretString::from(t.access_token),
            refresh_token,
            expires_in: Duration::from_secs(t.expires_in),
            account: account_of(t.hub_id),
        })
    }

    /// The account a live access token is for, as the introspect endpoint says.
    async fn introspect(&self, access_token: &SecretString) -> Result<Option<String>, CrmError> {
        let body = self
            .post_form(
                &platform::introspect_path(),
                &[
                    ("client_id", &self.app.client_id),
                    ("client_secret", self.app.client_secret.expose_secret()),
                    ("token", access_token.expose_secret()),
                    ("token_type_hint", "access_token"),
                ],
            )
            .await?;
        let answer: Introspection = serde_json::from_str(&body).map_err(|e| {
            CrmError::Protocol(format!("HubSpot's introspect answer is unreadable: {e}"))
        })?;
        if !answer.active {
            return Err(CrmError::Unauthorized(
                "HubSpot says the token it just gave is not active: an admin installs the app again".into(),
            ));
        }
        Ok(account_of(answer.hub_id))
    }
}

#[async_trait::async_trait]
impl CrmAuthority for HubSpotAuthority {
    fn authorize_url(&self, redirect_uri: &str, state: &str) -> String {
        let scopes = &contract().scopes;
        let mut url = match url::Url::parse(&self.app.authorize_url) {
            Ok(u) => u,
            Err(_) => return self.app.authorize_url.clone(),
        };
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client_id", &self.app.client_id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("scope", &scopes.required.join(" "));
            if !scopes.optional.is_empty() {
                q.append_pair("optional_scope", &scopes.optional.join(" "));
            }
            q.append_pair("state", state);
        }
        url.into()
    }

    async fn exchange(&self, code: &str, redirect_uri: &str) -> Result<Grant, CrmError> {
        let body = self
            .post_form(
                &platform::token_path(),
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", &self.app.client_id),
                    ("client_secret", self.app.client_secret.expose_secret()),
                    ("redirect_uri", redirect_uri),
                    ("code", code),
                ],
            )
            .await?;
        let mut grant = Self::grant(&body, None)?;
        // Which account granted: the token answer says (`hub_id`), else introspection does.
        if grant.account.is_none() {
            grant.account = self.introspect(&grant.access_token).await?;
        }
        Ok(grant)
    }

    async fn refresh(&self, refresh_token: &SecretString) -> Result<Grant, CrmError> {
        let body = self
            .post_form(
                &platform::token_path(),
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", &self.app.client_id),
                    ("client_secret", self.app.client_secret.expose_secret()),
                    ("refresh_token", refresh_token.expose_secret()),
                ],
            )
            .await?;
        Self::grant(&body, Some(refresh_token))
    }

    fn rate_limit(&self) -> (i64, i64) {
        platform::RATE_LIMIT
    }

    async fn revoke(&self, refresh_token: &SecretString) -> Result<(), CrmError> {
        self.post_form(
            &platform::revoke_path(),
            &[
                ("client_id", &self.app.client_id),
                ("client_secret", self.app.client_secret.expose_secret()),
                ("token", refresh_token.expose_secret()),
                ("token_type_hint", "refresh_token"),
            ],
        )
        .await
        .map(|_| ())
    }
}
