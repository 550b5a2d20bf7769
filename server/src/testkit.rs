//! The one builder of a world of twins, shared by the demo, the integration tests and the
//! benchmarks: the simulators of Freshsales, 1Kosmos and Freshchat on loopback ([`Twins`]), and
//! a backend serving on a database with one tenant connected to them ([`Backend`]). Built only
//! with the `twins` feature.

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;

use crate::{
    crypto::Sealer,
    ports::{CrmKind, OAuthApp},
    services::{
        tenant::{self, Connections},
        Policy, Settings,
    },
    sim::{
        freshchat::FreshchatSim, freshsales::FreshsalesSim, hubspot::HubSpotSim, kosmos::KosmosSim,
        Served,
    },
    AppState, Config, Running, Store,
};

/// The credentials the twins accept.
#[derive(Debug, Clone)]
pub struct TwinKeys {
    /// The simulated Freshsales account's bundle alias and its user's API key.
    pub alias: String,
    pub freshsales_key: String,
    /// The Freshsales plan's calls per hour.
    pub hourly_limit: usize,
    pub kosmos_key: String,
    pub kosmos_webhook_secret: String,
}

/// The API token of the simulated Freshchat account.
pub const FRESHCHAT_TOKEN: &str = "fc-token";

/// The HubSpot app registration the HubSpot twin knows, and the portal it holds.
pub const HUBSPOT_CLIENT_ID: &str = "hs-client-id";
pub const HUBSPOT_CLIENT_SECRET: &str = "hs-client-secret";
pub const HUBSPOT_PORTAL: u64 = 7_310_001;

/// The simulators of Freshsales, 1Kosmos, Freshchat and HubSpot, served on loopback.
pub struct Twins {
    pub keys: TwinKeys,
    pub freshsales: FreshsalesSim,
    pub kosmos: KosmosSim,
    pub freshchat: FreshchatSim,
    pub hubspot: HubSpotSim,
    freshsales_served: Served,
    kosmos_served: Served,
    freshchat_served: Served,
    hubspot_served: Served,
}

impl Twins {
    /// Starts both simulators; `seed` fills the Freshsales account before it serves.
    pub async fn start(keys: TwinKeys, seed: impl FnOnce(&FreshsalesSim)) -> anyhow::Result<Self> {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let freshsales = FreshsalesSim::new();
        freshsales.add_account(&keys.alias, &keys.freshsales_key, keys.hourly_limit);
        seed(&freshsales);
        let freshsales_served = Served::start(loopback, freshsales.router()).await?;
        let kosmos = KosmosSim::new(&keys.kosmos_key, keys.kosmos_webhook_secret.as_bytes());
        let kosmos_served = Served::start(loopback, kosmos.router()).await?;
        kosmos.set_public_base(&kosmos_served.url());
        let freshchat = FreshchatSim::new(FRESHCHAT_TOKEN);
        let freshchat_served = Served::start(loopback, freshchat.router()).await?;
        let hubspot = HubSpotSim::new(HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, HUBSPOT_PORTAL);
        let hubspot_served = Served::start(loopback, hubspot.router()).await?;
        Ok(Self {
            keys,
            freshsales,
            kosmos,
            freshchat,
            hubspot,
            freshsales_served,
            kosmos_served,
            freshchat_served,
            hubspot_served,
        })
    }

    /// This backend's HubSpot app, registered with the HubSpot twin.
    pub fn hubspot_app(&self) -> OAuthApp {
        OAuthApp {
            kind: CrmKind::Hubspot,
            client_id: HUBSPOT_CLIENT_ID.into(),
            client_secret: HUBSPOT_CLIENT_SECRET.to_string().into(),
            app_id: Some("7001".into()),
            api_url: self.hubspot_served.url(),
            authorize_url: format!("{}/oauth/authorize", self.hubspot_served.url()),
        }
    }

    /// The Freshchat account's API root.
    pub fn freshchat_api(&self) -> String {
        format!("{}/v2", self.freshchat_served.url())
    }

    /// The Freshsales account's address, as an admin types it at install.
    pub fn account_url(&self) -> String {
        format!("{}/a/{}", self.freshsales_served.url(), self.keys.alias)
    }

    /// The Freshsales API root of the account.
    pub fn freshsales_api(&self) -> String {
        format!("{}/crm/sales/api", self.account_url())
    }

    pub fn kosmos_url(&self) -> String {
        self.kosmos_served.url()
    }

    /// The tenant's connections to these twins (Freshchat with its token and webhook key);
    /// with `crm`, Freshsales too (else the app's install sets it, as in production).
    pub fn connections(&self, crm: bool) -> Connections {
        Connections {
            crm_base_url: crm.then(|| self.freshsales_api()),
            crm_key: crm.then(|| self.keys.freshsales_key.clone()),
            provider_base_url: Some(self.kosmos_url()),
            provider_key: Some(self.keys.kosmos_key.clone()),
            provider_webhook_secret: Some(self.keys.kosmos_webhook_secret.clone()),
            chat_base_url: Some(self.freshchat_api()),
            chat_token: Some(FRESHCHAT_TOKEN.into()),
            chat_webhook_key: Some(self.freshchat.public_key_pem()),
            ..Default::default()
        }
    }

    pub async fn stop(self) {
        self.freshsales_served.stop().await;
        self.kosmos_served.stop().await;
        self.freshchat_served.stop().await;
        self.hubspot_served.stop().await;
    }
}

/// A backend on one database, its tenant connected as given.
pub struct Backend {
    pub config: Config,
    pub settings: Settings,
    pub sealer: Sealer,
    pub tenant: String,
    pub connections: Connections,
    pub policy: Option<Policy>,
    /// Routes the demo adds (its pages).
    pub extra: Router<AppState>,
}

impl Backend {
    /// Binds `config.bind` (its address becomes the callback base), connects the tenant and
    /// serves with the workers running. The tenant row must exist (see `Store::insert_tenant`).
    pub async fn serve(self, store: Store) -> anyhow::Result<Running> {
        let listener = tokio::net::TcpListener::bind(self.config.bind)
            .await
            .with_context(|| format!("cannot listen on {}", self.config.bind))?;
        let mut settings = self.settings;
        settings.public_base_url = format!("http://{}", listener.local_addr()?);
        let services = crate::wire_services(store.clone(), self.sealer, settings);
        tenant::set_connections(
            &store,
            services.core.sealer(),
            &self.tenant,
            &self.connections,
        )
        .await
        .map_err(|e| anyhow::anyhow!("connecting the tenant: {e}"))?;
        if let Some(policy) = &self.policy {
            tenant::set_policy(&store, &self.tenant, policy)
                .await
                .map_err(|e| anyhow::anyhow!("setting the policy: {e}"))?;
        }
        Running::serve(listener, &self.config, services, self.extra).await
    }
}
