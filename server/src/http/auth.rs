//! Tenant authentication: `Authorization: Bearer <token>`, token stored only as its SHA-256.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, RawPathParams, Request},
    http::{request::Parts, HeaderMap},
};
use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::{
    clock,
    error::{AppError, Result},
    services::TenantRow,
    webhook, AppState,
};

/// The header a workflow (and a chat bot) sends the tenant's webhook secret in.
pub const AUTOMATOR_SECRET_HEADER: &str = "x-idv-webhook-secret";

/// Longest token accepted before it is even hashed.
const MAX_TOKEN_LEN: usize = 256;

/// A new random API token for a tenant (shown once, stored hashed).
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("idv_{}", hex::encode(bytes))
}

pub use crate::crypto::hash_token;

/// What a request from the app's serverless code is for. Each is signed with a key of its own,
/// so a signed request can be replayed only to the endpoint it was made for (a forwarded event
/// is not an uninstall).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Install,
    Uninstall,
    Event,
}

impl Purpose {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Install => "install",
            Self::Uninstall => "uninstall",
            Self::Event => "event",
        }
    }
}

/// The key the serverless code signs a `purpose`'s requests with: the UTF-8 bytes of
/// `{token's SHA-256 hex}:{purpose}` (the backend keeps only the hash; `server.js` derives the
/// same).
pub fn signing_key(token_hash: &str, purpose: Purpose) -> Vec<u8> {
    format!("{token_hash}:{}", purpose.as_str()).into_bytes()
}

/// The tenant a request's Bearer token belongs to.
#[derive(Debug, Clone)]
pub struct AuthTenant(pub TenantRow);

impl FromRequestParts<AppState> for AuthTenant {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token = bearer_token(parts)?;
        // The widget page a HubSpot card opened holds a session of its own, not the API token.
        if token.starts_with(crate::services::tenants::SESSION_PREFIX) {
            return state
                .services
                .core
                .tenants()
                .by_widget_session(token)
                .await?
                .map(Self)
                .ok_or_else(|| {
                    AppError::Unauthorized(
                        "the widget's session has ended: open the widget again from the card"
                            .into(),
                    )
                });
        }
        let hash = hash_token(token);
        let row = state
            .services
            .core
            .tenants()
            .by_token_hash(&hash)
            .await?
            .ok_or_else(|| AppError::Unauthorized("the API token is not recognised".into()))?;
        // The lookup is by hash; compare once more in constant time so no timing path
        // depends on how much of the hash matched.
        if !bool::from(row.token_hash.as_bytes().ct_eq(hash.as_bytes())) {
            return Err(AppError::Unauthorized(
                "the API token is not recognised".into(),
            ));
        }
        Ok(Self(row))
    }
}

/// The tenant a hook's path names (`{tenant}`), through the tenants' cache: a malformed or
/// unknown id is a 404.
#[derive(Debug, Clone)]
pub struct PathTenant(pub TenantRow);

impl FromRequestParts<AppState> for PathTenant {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| AppError::BadRequest(format!("path: {e}")))?;
        let id = params
            .iter()
            .find(|(k, _)| *k == "tenant")
            .map(|(_, v)| v.to_string())
            .ok_or_else(|| AppError::NotFound("no such tenant".into()))?;
        super::extract::check_tenant_id(&id)?;
        tracing::Span::current().record("tenant", id.as_str());
        let row = state
            .services
            .core
            .tenants()
            .get(&id)
            .await?
            .ok_or_else(|| AppError::NotFound("no such tenant".into()))?;
        Ok(Self(row))
    }
}

/// A [`PathTenant`] whose workflow webhook secret the request carries
/// (`X-IDV-Webhook-Secret`, the one before the last rotation during its grace): a Workflow
/// Automator's or a chat bot's call.
#[derive(Debug, Clone)]
pub struct AutomatorTenant(pub TenantRow);

impl FromRequestParts<AppState> for AutomatorTenant {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let PathTenant(row) = PathTenant::from_request_parts(parts, state).await?;
        check_automator_secret(&row, &parts.headers)?;
        Ok(Self(row))
    }
}

/// A provider callback to the tenant its path names, its Standard Webhooks signature verified
/// with the tenant's provider webhook secret (or the one before the last rotation, during its
/// grace). A refusal is counted in `/metrics`.
#[derive(Debug)]
pub struct SignedCallback {
    pub tenant: TenantRow,
    /// The delivery's own id (`webhook-id`), for deduplication.
    pub delivery_id: String,
    pub body: Bytes,
}

impl FromRequest<AppState> for SignedCallback {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self> {
        let (PathTenant(tenant), headers, body) = with_body(req, state).await?;
        let refused = |e: AppError| {
            state.services.core.metrics().callbacks_rejected.inc();
            e
        };
        use secrecy::ExposeSecret;
        let Some(secret) = &tenant.provider_webhook_secret else {
            return Err(refused(AppError::Unauthorized(
                "this tenant has no 1Kosmos webhook secret configured".into(),
            )));
        };
        let keys: Vec<Vec<u8>> = std::iter::once(secret)
            .chain(tenant.provider_webhook_secret_previous.as_ref())
            .map(|s| webhook::secret_bytes(s.expose_secret()))
            .collect();
        let keys: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        let verified = webhook::verify(&keys, &headers, &body, clock::now_secs()).map_err(|e| {
            refused(
                e.answer(|m| AppError::Unauthorized(format!("callback signature refused: {m}"))),
            )
        })?;
        Ok(Self {
            tenant,
            delivery_id: verified.id,
            body,
        })
    }
}

/// An event of the app's serverless forwarder: its Bearer tenant, and a Standard Webhooks
/// signature made with the key derived from that tenant's token for events only.
#[derive(Debug)]
pub struct SignedEvent {
    pub tenant: TenantRow,
    /// The delivery's own id (`webhook-id`), for deduplication.
    pub delivery_id: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl FromRequest<AppState> for SignedEvent {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self> {
        let (AuthTenant(tenant), headers, body) = with_body(req, state).await?;
        // The backend keeps only the token's hash: the forwarder signs with a key derived
        // from it.
        let key = signing_key(&tenant.token_hash, Purpose::Event);
        let verified = webhook::verify(&[key.as_slice()], &headers, &body, clock::now_secs())
            .map_err(|e| {
                e.answer(|m| AppError::Unauthorized(format!("event signature refused: {m}")))
            })?;
        Ok(Self {
            tenant,
            delivery_id: verified.id,
            headers,
            body,
        })
    }
}

/// Who the request's parts say sent it (`T`), its headers, and its body within the router's
/// limit (413 past it).
async fn with_body<T>(req: Request, state: &AppState) -> Result<(T, HeaderMap, Bytes)>
where
    T: FromRequestParts<AppState, Rejection = AppError>,
{
    let (mut parts, body) = req.into_parts();
    let who = T::from_request_parts(&mut parts, state).await?;
    // Reading the body needs no headers: they are taken, not copied, on every delivery.
    let headers = std::mem::take(&mut parts.headers);
    let body = Bytes::from_request(Request::from_parts(parts, body), state)
        .await
        .map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge("the request body is too large".into())
            } else {
                AppError::BadRequest(format!("the request body could not be read: {e}"))
            }
        })?;
    Ok((who, headers, body))
}

fn check_automator_secret(row: &TenantRow, headers: &HeaderMap) -> Result<()> {
    use secrecy::ExposeSecret;
    let Some(expected) = &row.automator_secret else {
        return Err(AppError::Unauthorized(
            "this tenant has no workflow webhook secret; the operator sets one with `server tenant add`".into(),
        ));
    };
    let given = headers
        .get(AUTOMATOR_SECRET_HEADER)
        .ok_or_else(|| AppError::Unauthorized("missing X-IDV-Webhook-Secret header".into()))?
        .as_bytes();
    // The secret before the last rotation is still accepted while its grace period lasts.
    let matches = std::iter::once(expected)
        .chain(row.automator_secret_previous.as_ref())
        .fold(subtle::Choice::from(0), |any, s| {
            any | given.ct_eq(s.expose_secret().as_bytes())
        });
    if !bool::from(matches) {
        return Err(AppError::Unauthorized(
            "the X-IDV-Webhook-Secret header is wrong".into(),
        ));
    }
    Ok(())
}

fn bearer_token(parts: &Parts) -> Result<&str> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            AppError::Unauthorized(
                "missing Authorization header; send Authorization: Bearer <token>".into(),
            )
        })?
        .to_str()
        .map_err(|_| AppError::Unauthorized("the Authorization header is not ASCII".into()))?;
    let token = value
        .strip_prefix("Bearer ")
        .ok_or_else(|| {
            AppError::Unauthorized("the Authorization header must be: Bearer <token>".into())
        })?
        .trim();
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(AppError::Unauthorized(
            "the API token is not recognised".into(),
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hash_deterministically() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(a.starts_with("idv_") && a.len() == 68);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), hash_token(&b));
        assert!(!hash_token(&a).contains(&a[4..]));
        let h = hash_token(&a);
        assert_ne!(
            signing_key(&h, Purpose::Event),
            signing_key(&h, Purpose::Uninstall)
        );
    }
}
