//! 1Kosmos BlockID: the real per-tenant wire format, as a second [`IdentityProvider`] adapter.
//!
//! A tenant has its own host (`acme.1kosmos.net`), a community, a licence key and, for document
//! verification, a dvcID. The client discovers the tenant's services (`/caas/sd`), fetches each
//! service's public key, and encrypts the `licensekey` and `requestid` headers (and request
//! bodies) with the ECDH key it shares with that service ([`cipher`]). Results are polled: there
//! is no completion webhook.
//!
//! [`IdentityProvider`]: crate::ports::IdentityProvider

pub mod cipher;
pub mod client;
pub mod verdict;
pub mod wire;

use std::{str::FromStr, time::Duration};

use secrecy::SecretString;

pub use cipher::Curve;
pub use client::BlockIdClient;

/// Which document-share result path a tenant answers on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResultPath {
    /// `/document_share_session/result` (the Java, PHP and older Node helpers).
    #[default]
    Legacy,
    /// `/v3/document_share_session/result` (the newer Node helper; adds `sessionResult`).
    V3,
}

impl ResultPath {
    pub fn path(self) -> &'static str {
        match self {
            Self::Legacy => wire::IDV_RESULT_PATH,
            Self::V3 => wire::IDV_RESULT_V3_PATH,
        }
    }
}

impl FromStr for ResultPath {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "legacy" | "v1" | wire::IDV_RESULT_PATH => Ok(Self::Legacy),
            "v3" | wire::IDV_RESULT_V3_PATH => Ok(Self::V3),
            other => Err(format!(
                "unknown result path {other:?}: use {} or {}",
                wire::IDV_RESULT_PATH,
                wire::IDV_RESULT_V3_PATH
            )),
        }
    }
}

/// One tenant's BlockID connection.
#[derive(Clone)]
pub struct BlockIdConfig {
    /// The tenant's DNS name (`acme.1kosmos.net`, called over https) or a base URL (the
    /// simulator's `http://127.0.0.1:port`).
    pub tenant: String,
    /// The community name (often `default`).
    pub community: String,
    pub licence_key: SecretString,
    /// The IDVerify key (not the licence key).
    pub dvc_id: SecretString,
    /// The tenant's curve (`EC_CURVE_NAME`): secp256k1 unless the tenant is FedRAMP.
    pub curve: Curve,
    pub result_path: ResultPath,
    /// `appid` of the `requestid` header.
    pub app_id: String,
    /// Per HTTP call.
    pub timeout: Duration,
    /// How long community info and the service directory are reused.
    pub discovery_ttl: Duration,
    /// How long a service's public key is reused (the helpers: 10 min to 24 h).
    pub key_ttl: Duration,
    /// Compare the document's face with the selfie (`/verify`) before calling a result verified.
    pub face_compare: bool,
    /// Text of the SMS 1Kosmos sends with the link when the request has a phone number; must
    /// hold `<link>` (and may hold `<tenantname>`). `None`: no SMS.
    pub sms_template: Option<String>,
}

impl std::fmt::Debug for BlockIdConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockIdConfig")
            .field("tenant", &self.tenant)
            .field("community", &self.community)
            .field("licence_key", &"[redacted]")
            .field("dvc_id", &"[redacted]")
            .field("curve", &self.curve)
            .field("result_path", &self.result_path)
            .finish_non_exhaustive()
    }
}

impl BlockIdConfig {
    /// A configuration with the defaults for everything but the tenant's own values.
    pub fn new(
        tenant: &str,
        community: &str,
        licence_key: SecretString,
        dvc_id: SecretString,
    ) -> Self {
        Self {
            tenant: tenant.trim().to_string(),
            community: community.trim().to_string(),
            licence_key,
            dvc_id,
            curve: Curve::default(),
            result_path: ResultPath::default(),
            app_id: "freshsales-idv".into(),
            timeout: Duration::from_secs(10),
            discovery_ttl: Duration::from_secs(10 * 60),
            key_ttl: Duration::from_secs(10 * 60),
            face_compare: true,
            sms_template: None,
        }
    }
}
