//! What the services need from the outside world, in their own words. Adapters implement these
//! traits for one vendor each (`crate::adapters`); the services never name a vendor.

pub mod chat;
pub mod crm;
pub mod crm_hooks;
pub mod identity;
pub mod oauth;

use std::sync::Arc;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

pub use self::{
    chat::{Chat, ChatError, ChatEvent, ChatWebhooks},
    crm::{Crm, CrmError, Record},
    crm_hooks::{AccountEvent, CrmWebhooks, HookError, PlatformEvent, SignedRequest},
    identity::{IdentityProvider, ProviderError},
    oauth::{CrmAuthority, Grant, OAuthApp},
};

/// A provider's wire format when it is not the 1Kosmos design contract, with its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProviderSettings {
    /// 1Kosmos BlockID: the tenant's community, curve (`secp256k1` or `prime256v1`) and the
    /// document-share result path (`legacy` or `v3`).
    Blockid {
        community: String,
        curve: String,
        #[serde(default)]
        result_path: Option<String>,
    },
}

/// Where and how to reach one tenant's identity provider.
#[derive(Debug, Clone)]
pub struct ProviderConnection {
    /// The design contract's base URL, or BlockID's tenant host (`acme.1kosmos.net`).
    pub base_url: String,
    /// The API key, or BlockID's licence key.
    pub key: SecretString,
    /// `None`: the design contract.
    pub settings: Option<ProviderSettings>,
    /// BlockID's dvcID.
    pub secret: Option<SecretString>,
}

/// Which CRM product a tenant's account is: the app is installed per product account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrmKind {
    /// Freshsales (contacts, deals, tasks, custom modules).
    #[default]
    Freshsales,
    /// Freshdesk (contacts and tickets; a ticket's requester is verified).
    Freshdesk,
    /// HubSpot (contacts, deals; the app is authorised by OAuth, not an API key).
    Hubspot,
}

impl CrmKind {
    /// The stored and wire spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Freshsales => "freshsales",
            Self::Freshdesk => "freshdesk",
            Self::Hubspot => "hubspot",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "freshsales" => Some(Self::Freshsales),
            "freshdesk" => Some(Self::Freshdesk),
            "hubspot" => Some(Self::Hubspot),
            _ => None,
        }
    }

    /// The product's name, for messages.
    pub const fn product(self) -> &'static str {
        match self {
            Self::Freshsales => "Freshsales",
            Self::Freshdesk => "Freshdesk",
            Self::Hubspot => "HubSpot",
        }
    }

    /// A help desk: its records have tickets, whose requesters are verified.
    pub const fn has_tickets(self) -> bool {
        matches!(self, Self::Freshdesk)
    }

    /// Tasks can be assigned to a record's owner.
    pub const fn has_tasks(self) -> bool {
        matches!(self, Self::Freshsales | Self::Hubspot)
    }

    /// A contact takes notes (Freshdesk notes belong to tickets only).
    pub const fn notes_on_contacts(self) -> bool {
        matches!(self, Self::Freshsales | Self::Hubspot)
    }

    /// The header the install's template carries the product's API key in; `None`: the
    /// product is installed by OAuth, not with a key.
    pub const fn install_key_header(self) -> Option<&'static str> {
        match self {
            Self::Freshsales => Some("x-freshsales-api-key"),
            Self::Freshdesk => Some("x-freshdesk-api-key"),
            Self::Hubspot => None,
        }
    }
}

/// Where and how to reach one tenant's CRM.
#[derive(Debug, Clone)]
pub struct CrmConnection {
    /// The product, whose API the client speaks.
    pub kind: CrmKind,
    /// The account's API root (Freshsales' bundle alias, Freshdesk's domain).
    pub base_url: String,
    pub auth: CrmAuth,
}

/// How the backend proves itself to a tenant's CRM.
#[derive(Debug, Clone)]
pub enum CrmAuth {
    /// An admin's API key (Freshsales, Freshdesk).
    ApiKey(SecretString),
    /// OAuth 2: the access token while it lasts, renewed with the refresh token.
    OAuth(OAuthTokens),
}

/// A CRM account's OAuth tokens (the access token and its end are `None` until first
/// refreshed).
#[derive(Debug, Clone)]
pub struct OAuthTokens {
    pub access_token: Option<SecretString>,
    /// When the access token stops working (epoch ms).
    pub expires_at_ms: Option<i64>,
    pub refresh_token: SecretString,
}

impl CrmConnection {
    /// A connection by API key.
    pub fn with_key(kind: CrmKind, base_url: impl Into<String>, key: SecretString) -> Self {
        Self {
            kind,
            base_url: base_url.into(),
            auth: CrmAuth::ApiKey(key),
        }
    }
}

/// Where and how to reach one tenant's chat product (Freshchat).
#[derive(Debug, Clone)]
pub struct ChatConnection {
    /// The API root, e.g. `https://acme.freshchat.com/v2`.
    pub base_url: String,
    pub token: SecretString,
    /// The agent results are posted as; `None`: as the system.
    pub agent_id: Option<String>,
}

/// Builds the clients of a tenant's connections (`main` and the testkit pick the adapters).
pub trait Connector: Send + Sync + std::fmt::Debug {
    /// The client of a provider connection, or what is wrong with its settings.
    fn identity(&self, c: &ProviderConnection) -> Result<Arc<dyn IdentityProvider>, String>;
    /// The client of a CRM connection, or why the connection cannot be used.
    fn crm(&self, c: &CrmConnection) -> Result<Arc<dyn Crm>, String>;
    fn chat(&self, c: &ChatConnection) -> Arc<dyn Chat>;
    /// The verifier of a chat account's signed webhooks, from the public key its settings
    /// show, or what is wrong with that key.
    fn chat_webhooks(&self, public_key: &str) -> Result<Arc<dyn ChatWebhooks>, String>;
    /// The CRM's API root for the account address an admin gives at install, or what is wrong
    /// with that address. `allow_any` accepts any http(s) URL (simulators on loopback).
    fn crm_base_url(
        &self,
        kind: CrmKind,
        account_url: &str,
        allow_any: bool,
    ) -> Result<String, String>;
    /// The authorisation server of a CRM installed by OAuth, as this backend is registered
    /// with it, or why there is none.
    fn crm_authority(&self, kind: CrmKind) -> Result<Arc<dyn CrmAuthority>, String>;
    /// The reader of a CRM platform's signed webhooks, as this backend is registered with it,
    /// or why there is none.
    fn crm_webhooks(&self, kind: CrmKind) -> Result<Arc<dyn CrmWebhooks>, String>;
}
