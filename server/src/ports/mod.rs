//! What the services need from the outside world, in their own words. Adapters implement these
//! traits for one vendor each (`crate::adapters`); the services never name a vendor.

pub mod crm;
pub mod identity;

use std::sync::Arc;

use secrecy::SecretString;

pub use self::{
    crm::{Crm, CrmError, Record},
    identity::{IdentityProvider, ProviderError},
};

/// Where and how to reach one tenant's identity provider.
#[derive(Debug, Clone)]
pub struct ProviderConnection {
    pub base_url: String,
    pub key: SecretString,
}

/// Where and how to reach one tenant's CRM.
#[derive(Debug, Clone)]
pub struct CrmConnection {
    pub base_url: String,
    pub key: SecretString,
}

/// Builds the clients of a tenant's connections (`main` and the testkit pick the adapters).
pub trait Connector: Send + Sync + std::fmt::Debug {
    fn identity(&self, c: &ProviderConnection) -> Arc<dyn IdentityProvider>;
    fn crm(&self, c: &CrmConnection) -> Arc<dyn Crm>;
    /// The CRM's API root for the account address an admin gives at install, or what is wrong
    /// with that address. `allow_any` accepts any http(s) URL (simulators on loopback).
    fn crm_base_url(&self, account_url: &str, allow_any: bool) -> Result<String, String>;
}
