//! One adapter per vendor, each implementing a port of [`crate::ports`]. [`Adapters`] is the
//! production [`Connector`]: it builds a tenant's clients from its connection settings.

pub mod blockid;
pub mod freshchat;
pub mod freshdesk;
pub mod freshsales;
pub mod hubspot;
pub mod kosmos;
pub mod note_html;

use std::{sync::Arc, time::Duration};

use crate::ports::{
    Chat, ChatConnection, ChatWebhooks, Connector, Crm, CrmAuth, CrmAuthority, CrmConnection,
    CrmKind, CrmWebhooks, IdentityProvider, OAuthApp, ProviderConnection, ProviderSettings,
};

/// The clients of the real services (and of their simulator twins, at another base URL).
#[derive(Debug, Clone)]
pub struct Adapters {
    /// Timeout of every call to a provider or CRM.
    pub timeout: Duration,
    /// This backend's registration with a CRM's app platform (HubSpot), if the operator set it.
    pub oauth_app: Option<OAuthApp>,
}

impl Connector for Adapters {
    fn identity(&self, c: &ProviderConnection) -> Result<Arc<dyn IdentityProvider>, String> {
        match &c.settings {
            None => Ok(Arc::new(kosmos::KosmosClient::new(
                &c.base_url,
                c.key.clone(),
                self.timeout,
            ))),
            Some(ProviderSettings::Blockid {
                community,
                curve,
                result_path,
            }) => {
                let dvc_id = c.secret.clone().ok_or_else(|| {
                    "the BlockID connection has no dvcID: set IDV_BLOCKID_DVC_ID and run `server tenant add` again".to_string()
                })?;
                let mut cfg =
                    blockid::BlockIdConfig::new(&c.base_url, community, c.key.clone(), dvc_id);
                cfg.curve = curve.parse()?;
                if let Some(path) = result_path {
                    cfg.result_path = path.parse()?;
                }
                cfg.timeout = self.timeout;
                let client = blockid::BlockIdClient::new(cfg).map_err(|e| e.to_string())?;
                Ok(Arc::new(client))
            }
        }
    }

    fn crm(&self, c: &CrmConnection) -> Result<Arc<dyn Crm>, String> {
        match (c.kind, &c.auth) {
            (CrmKind::Freshsales, CrmAuth::ApiKey(key)) => Ok(Arc::new(
                freshsales::FreshsalesClient::new(&c.base_url, key.clone(), self.timeout),
            )),
            (CrmKind::Freshdesk, CrmAuth::ApiKey(key)) => Ok(Arc::new(
                freshdesk::FreshdeskClient::new(&c.base_url, key.clone(), self.timeout),
            )),
            (CrmKind::Hubspot, CrmAuth::OAuth(tokens)) => {
                let token = tokens.access_token.clone().ok_or_else(|| {
                    "the HubSpot account has no access token yet: it is renewed from its refresh token within a minute".to_string()
                })?;
                Ok(Arc::new(hubspot::crm::HubSpotCrm::new(
                    &c.base_url,
                    token,
                    self.timeout,
                )))
            }
            (CrmKind::Hubspot, CrmAuth::ApiKey(_)) => Err(
                "HubSpot is reached by OAuth, not an API key: an admin installs the app from the install link"
                    .into(),
            ),
            (kind, CrmAuth::OAuth(_)) => Err(format!(
                "{} is reached with an API key, not OAuth: install the app again with a key",
                kind.product()
            )),
        }
    }

    fn chat(&self, c: &ChatConnection) -> Arc<dyn Chat> {
        Arc::new(freshchat::FreshchatClient::new(
            &c.base_url,
            c.token.clone(),
            c.agent_id.clone(),
            self.timeout,
        ))
    }

    fn chat_webhooks(&self, public_key: &str) -> Result<Arc<dyn ChatWebhooks>, String> {
        Ok(Arc::new(freshchat::webhook::WebhookKey::from_pem(
            public_key,
        )?))
    }

    fn crm_base_url(
        &self,
        kind: CrmKind,
        account_url: &str,
        allow_any: bool,
    ) -> Result<String, String> {
        match kind {
            CrmKind::Freshsales => freshsales::api_base_for_account(account_url, allow_any),
            CrmKind::Freshdesk => freshdesk::api_base_for_account(account_url, allow_any),
            CrmKind::Hubspot => self
                .oauth_app
                .as_ref()
                .filter(|a| a.kind == CrmKind::Hubspot)
                .map(|a| a.api_url.trim_end_matches('/').to_string())
                .ok_or_else(|| "HubSpot is not set up on this backend: the operator sets IDV_HUBSPOT_CLIENT_ID and IDV_HUBSPOT_CLIENT_SECRET".to_string()),
        }
    }

    fn crm_webhooks(&self, kind: CrmKind) -> Result<Arc<dyn CrmWebhooks>, String> {
        match (&self.oauth_app, kind) {
            (Some(app), CrmKind::Hubspot) if app.kind == kind => Ok(Arc::new(
                hubspot::webhooks::HubSpotWebhooks::new(
                    app.client_secret.clone(),
                    app.app_id.clone(),
                ),
            )),
            (_, CrmKind::Hubspot) => Err("HubSpot is not set up on this backend: the operator sets IDV_HUBSPOT_CLIENT_ID and IDV_HUBSPOT_CLIENT_SECRET".into()),
            (_, other) => Err(format!("{}'s events reach this backend through the app's own forwarder", other.product())),
        }
    }

    fn crm_authority(&self, kind: CrmKind) -> Result<Arc<dyn CrmAuthority>, String> {
        match (&self.oauth_app, kind) {
            (Some(app), CrmKind::Hubspot) if app.kind == kind => Ok(Arc::new(
                hubspot::oauth::HubSpotAuthority::new(app.clone(), self.timeout),
            )),
            (_, CrmKind::Hubspot) => Err("HubSpot is not set up on this backend: the operator sets IDV_HUBSPOT_CLIENT_ID and IDV_HUBSPOT_CLIENT_SECRET".into()),
            (_, other) => Err(format!("{} is installed with an API key, not OAuth", other.product())),
        }
    }
}

/// A client for a vendor API: no redirects (a redirect would carry the API key and personal
/// data to another host), the given timeout.
pub(crate) fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a TLS client can be built")
}

/// The error without the URL (an IDV link is a bearer link and must not reach a log).
pub(crate) fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(u) = e.url() {
        s = s.replace(u.as_str(), "<url>");
    }
    s
}
