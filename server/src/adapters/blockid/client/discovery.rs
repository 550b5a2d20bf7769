//! Discovery for the BlockID client: community info and the service directory (cached for
//! `discovery_ttl`), and each service's public key (cached for `key_ttl`).

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use parking_lot::Mutex;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::BlockIdClient;
use crate::{
    adapters::blockid::{cipher::SharedKey, wire::*},
    ports::identity::ProviderError,
};

pub(super) struct Cached<T> {
    at: Instant,
    value: T,
}

/// The service directory: service name → base URL.
pub(super) type Directory = HashMap<String, String>;

impl BlockIdClient {
    /// Community info (cached): who the tenant is, and the community's key (for messaging).
    pub(super) async fn community(&self) -> Result<Arc<CommunityInfo>, ProviderError> {
        if let Some(c) = fresh(&self.community, self.cfg.discovery_ttl) {
            return Ok(c);
        }
        let body = serde_json::to_vec(&CommunityInfoRequest {
            dns: self.dns.clone(),
            community_name: self.cfg.community.clone(),
        })
        .unwrap_or_default();
        let url = format!("{}{COMMUNITY_INFO_PATH}", self.base);
        let a = self.call(Method::POST, &url, None, &[], Some(body)).await?;
        if a.status.is_server_error()
            || a.status.is_redirection()
            || a.status == StatusCode::TOO_MANY_REQUESTS
        {
            return Err(self.refusal(&a, "community", None));
        }
        let info = a
            .status
            .is_success()
            .then(|| serde_json::from_slice::<CommunityInfo>(&a.body).ok())
            .flatten()
            .ok_or_else(|| {
                ProviderError::Rejected(format!(
                    "1Kosmos tenant {} has no community {:?}: check the community name (often \
                     \"default\") and the tenant name",
                    self.dns, self.cfg.community
                ))
            })?;
        let info = Arc::new(info);
        *self.community.lock() = Some(Cached {
            at: Instant::now(),
            value: info.clone(),
        });
        Ok(info)
    }

    /// The service directory (cached); valid only with `licenses`.
    pub(super) async fn directory(&self) -> Result<Arc<Directory>, ProviderError> {
        if let Some(d) = fresh(&self.directory, self.cfg.discovery_ttl) {
            return Ok(d);
        }
        let url = format!("{}{SERVICE_DIRECTORY_PATH}", self.base);
        let a = self.call(Method::GET, &url, None, &[], None).await?;
        if !a.status.is_success() {
            return Err(self.refusal(&a, "service directory", None));
        }
        let map: HashMap<String, Value> = serde_json::from_slice(&a.body).unwrap_or_default();
        let dir: Directory = map
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.as_str()?.trim_end_matches('/').to_string())))
            .collect();
        if !dir.contains_key(SVC_LICENSES) {
            return Err(ProviderError::Rejected(format!(
                "{} answered without a 1Kosmos service directory: check that it is a BlockID \
                 tenant",
                self.dns
            )));
        }
        let dir = Arc::new(dir);
        *self.directory.lock() = Some(Cached {
            at: Instant::now(),
            value: dir.clone(),
        });
        Ok(dir)
    }

    pub(super) async fn service(&self, name: &str) -> Result<String, ProviderError> {
        let dir = self.directory().await?;
        let url = dir.get(name).ok_or_else(|| {
            ProviderError::Protocol(format!("the tenant's service directory has no {name}"))
        })?;
        // A tenant called over https never sends us to plain http.
        let ok = url.starts_with("https://")
            || (url.starts_with("http://") && self.base.starts_with("http://"));
        if !ok {
            return Err(ProviderError::Protocol(format!(
                "the tenant's {name} service is not an https URL"
            )));
        }
        // Nor to a host outside the tenant's 1Kosmos domain: the calls carry the licence key.
        let host = url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_default();
        if !within_tenant_domain(&self.dns, &host) {
            return Err(ProviderError::Protocol(format!(
                "the tenant's {name} service is on {host:?}, outside the 1Kosmos domain of \
                 {}: refused",
                self.dns
            )));
        }
        Ok(url.clone())
    }

    /// A service's base URL and the key we share with it (its public key cached).
    pub(super) async fn shared_with(
        &self,
        name: &str,
    ) -> Result<(String, SharedKey), ProviderError> {
        let base = self.service(name).await?;
        let cached = self
            .service_keys
            .lock()
            .get(&base)
            .filter(|c| c.at.elapsed() < self.cfg.key_ttl)
            .map(|c| c.value.clone());
        let public = match cached {
            Some(p) => p,
            None => {
                let url = format!("{base}{PUBLIC_KEYS_PATH}");
                let a = self.call(Method::GET, &url, None, &[], None).await?;
                if !a.status.is_success() {
                    return Err(self.refusal(&a, name, None));
                }
                let p: Arc<str> = serde_json::from_slice::<PublicKeyAnswer>(&a.body)
                    .map_err(|_| {
                        ProviderError::Protocol(format!("the {name} service sent no public key"))
                    })?
                    .public_key
                    .into();
                self.service_keys.lock().insert(
                    base.clone(),
                    Cached {
                        at: Instant::now(),
                        value: p.clone(),
                    },
                );
                p
            }
        };
        let key = self.keys.shared_key(&public).map_err(|e| {
            self.forget_key(name);
            ProviderError::Protocol(format!(
                "the {name} service's public key cannot be used ({e}): check the tenant's curve \
                 (this server uses {})",
                self.cfg.curve
            ))
        })?;
        Ok((base, key))
    }

    /// Drops a service's cached key (it may have been rotated).
    pub(super) fn forget_key(&self, name: &str) {
        let base = self
            .directory
            .lock()
            .as_ref()
            .and_then(|d| d.value.get(name).cloned());
        if let Some(b) = base {
            self.service_keys.lock().remove(&b);
        }
    }
}

/// A cached value if still fresh.
fn fresh<T: Clone>(slot: &Mutex<Option<Cached<T>>>, ttl: Duration) -> Option<T> {
    slot.lock()
        .as_ref()
        .filter(|c| c.at.elapsed() < ttl)
        .map(|c| c.value.clone())
}

/// Whether a service `host` from the tenant's directory belongs to the tenant `dns`: the same
/// host, or a host under the domain the tenant's name sits in (`acme.1kosmos.net` →
/// `*.1kosmos.net`). An IP address or a one-label host matches only itself. Which hosts a real
/// directory names is UNCONFIRMED beyond the tenant's own; this is the one place to widen.
pub(super) fn within_tenant_domain(dns: &str, host: &str) -> bool {
    let dns = dns.to_ascii_lowercase();
    if host.is_empty() {
        return false;
    }
    if host == dns {
        return true;
    }
    if dns.parse::<std::net::IpAddr>().is_ok() || host.parse::<std::net::IpAddr>().is_ok() {
        return false;
    }
    match dns.split_once('.') {
        Some((_, parent)) if parent.contains('.') => {
            host == parent || host.ends_with(&format!(".{parent}"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::within_tenant_domain;

    #[test]
    fn services_stay_within_the_tenants_domain() {
        for (dns, host, ok) in [
            ("acme.1kosmos.net", "acme.1kosmos.net", true),
            ("acme.1kosmos.net", "sessions.1kosmos.net", true),
            ("acme.1kosmos.net", "1kosmos.net", true),
            ("acme.1kosmos.net", "evil.example", false),
            ("acme.1kosmos.net", "1kosmos.net.evil.example", false),
            ("acme.1kosmos.net", "evil1kosmos.net", false),
            ("acme.1kosmos.net", "", false),
            ("127.0.0.1", "127.0.0.1", true),
            ("127.0.0.1", "127.0.0.2", false),
            ("localhost", "evil.localhost", false),
        ] {
            assert_eq!(within_tenant_domain(dns, host), ok, "{dns} → {host}");
        }
    }
}
