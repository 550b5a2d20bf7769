//! Accounts that authorise the app by OAuth (HubSpot): the grant an admin gives at install
//! makes or updates the account's tenant, and its access token is refreshed before it ends,
//! by one replica at a time.

use std::time::Duration;

use secrecy::ExposeSecret;

use super::Tenants;
use crate::{
    clock,
    error::{AppError, Result},
    ports::{CrmAuth, CrmError, CrmKind, Grant},
    services::tenant::{self, Connections, OAuthGrant},
};

/// What an admin's grant installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorised {
    pub tenant_id: String,
    /// The CRM account (HubSpot's portal id).
    pub account: String,
    /// Whether the tenant is new.
    pub created: bool,
    /// What the operator must still connect before verifications start.
    pub missing: Vec<String>,
}

impl Tenants {
    /// The page an admin grants the app access on; `state` must come back with the code.
    pub fn authorize_url(&self, kind: CrmKind, redirect_uri: &str, state: &str) -> Result<String> {
        let authority = self
            .connector
            .crm_authority(kind)
            .map_err(AppError::Unprocessable)?;
        Ok(authority.authorize_url(redirect_uri, state))
    }

    /// Trades an admin's grant for tokens and installs the app on the account it names: its
    /// tenant (`{product}-{account}`) is made if new, connected with the tokens (sealed) and
    /// pinned to that account.
    pub async fn authorise(
        &self,
        kind: CrmKind,
        code: &str,
        redirect_uri: &str,
    ) -> Result<Authorised> {
        let authority = self
            .connector
            .crm_authority(kind)
            .map_err(AppError::Unprocessable)?;
        let grant = authority
            .exchange(code, redirect_uri)
            .await
            .map_err(|e| match e {
                CrmError::Unauthorized(m) | CrmError::Unprocessable(m) => {
                    AppError::Unprocessable(format!("{} did not grant access: {m}", kind.product()))
                }
                other => AppError::Upstream(other.to_string()),
            })?;
        let account = grant
            .account
            .clone()
            .filter(|a| !a.is_empty() && a.len() <= 32 && a.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                AppError::Upstream(format!(
                    "{}'s token answer names no account (hub_id)",
                    kind.product()
                ))
            })?;
        let tenant_id = super::account_tenant(kind, &account);
        let created = self.ensure_tenant(&tenant_id, kind, &account).await?;
        let base_url = self
            .connector
            .crm_base_url(kind, "", false)
            .map_err(AppError::Unprocessable)?;
        let connected = tenant::set_connections(
            &self.store,
            &self.sealer,
            &tenant_id,
            &Connections {
                crm_kind: Some(kind),
                crm_base_url: Some(base_url),
                crm_oauth: Some(oauth_grant(&grant)),
                pin_account: Some(format!("{}:{account}", kind.as_str())),
                // A new account starts with the platform's own limit; the operator's later
                // choice stays.
                hourly_limit: created.then(|| authority.rate_limit().0),
                rate_window_secs: created.then(|| authority.rate_limit().1),
                ..Default::default()
            },
        )
        .await?;
        if !connected {
            return Err(AppError::Forbidden(format!(
                "tenant {tenant_id} belongs to another account"
            )));
        }
        // Missed events are read back to here at most, never before the app was installed.
        self.store
            .start_reconciling(&tenant_id, clock::now_ms())
            .await?;
        tenant::set_installed(&self.store, &tenant_id, true).await?;
        let mut tx = self.store.begin().await?;
        tx.audit(
            &tenant_id,
            "install",
            &tenant_id,
            &format!("{} account {account}, authorised by OAuth", kind.product()),
        )
        .await?;
        tx.commit().await?;
        self.forget(&tenant_id);
        let t = self
            .get(&tenant_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("tenant {tenant_id} vanished")))?;
        let mut missing = Vec::new();
        if t.provider.is_none() {
            missing.push(format!(
                "the identity provider: the operator connects 1Kosmos with `server tenant add --id {tenant_id} …`"
            ));
        }
        tracing::info!(tenant = %tenant_id, created, "authorised by OAuth");
        Ok(Authorised {
            tenant_id,
            account,
            created,
            missing,
        })
    }

    /// Makes the tenant of an account authorised for the first time. It has no widget token
    /// (the card's calls are signed by the platform): its token hash is random bytes that no
    /// token hashes to, until the operator rotates one.
    async fn ensure_tenant(&self, id: &str, kind: CrmKind, account: &str) -> Result<bool> {
        if self.store.tenant_record(id).await?.is_some() {
            return Ok(false);
        }
        let no_token = hex::encode(rand::random::<[u8; 32]>());
        let name = format!("{} account {account}", kind.product());
        match self.store.insert_tenant(id, &name, &no_token).await {
            Ok(()) => Ok(true),
            // Two grants for a new account at once: the other made it.
            Err(_) if self.store.tenant_record(id).await?.is_some() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Refreshes every OAuth access token that ends within `margin`, each by one replica: the
    /// one whose lease (`lease` long) on it is taken first. Returns how many were refreshed.
    pub async fn refresh_due_tokens(&self, margin: Duration, lease: Duration) -> Result<usize> {
        let now = clock::now_ms();
        let due = self
            .store
            .crm_tokens_due(now + margin.as_millis() as i64, now)
            .await?;
        let mut refreshed = 0;
        for (id, seen) in due {
            let until = now + lease.as_millis() as i64;
            if !self
                .store
                .claim_token_refresh(&id, seen, now, until)
                .await?
            {
                continue;
            }
            match self.refresh_one(&id).await {
                Ok(()) => refreshed += 1,
                // The lease stays until it ends: the next try waits that long.
                Err(e) => tracing::warn!(tenant = %id, error = %e, "CRM token refresh"),
            }
        }
        Ok(refreshed)
    }

    async fn refresh_one(&self, id: &str) -> Result<()> {
        let Some(t) = tenant::load(&self.store, &self.sealer, id).await? else {
            return Ok(());
        };
        let Some((kind, CrmAuth::OAuth(tokens))) = t.crm.as_ref().map(|c| (c.kind, &c.auth)) else {
            return Ok(());
        };
        let authority = self
            .connector
            .crm_authority(kind)
            .map_err(AppError::Unprocessable)?;
        let grant = match authority.refresh(&tokens.refresh_token).await {
            Ok(grant) => grant,
            // The platform no longer knows the grant: an admin uninstalled the app there (or
            // removed its access). The account stops here too.
            Err(CrmError::Unauthorized(m)) => {
                self.end_install(
                    id,
                    &format!(
                        "{} refused the refresh token ({m}): the app was uninstalled there",
                        kind.product()
                    ),
                    false,
                )
                .await?;
                return Err(AppError::Unauthorized(m));
            }
            Err(e) => return Err(AppError::Upstream(e.to_string())),
        };
        tenant::set_connections(
            &self.store,
            &self.sealer,
            id,
            &Connections {
                crm_oauth: Some(oauth_grant(&grant)),
                ..Default::default()
            },
        )
        .await?;
        self.store.release_token_refresh(id).await?;
        self.forget(id);
        Ok(())
    }
}

impl Tenants {
    /// Ends an account's OAuth install: with `revoke`, the grant is revoked at the platform
    /// first (the operator's uninstall); the tenant is marked uninstalled and its tokens
    /// wiped, so nothing is started or written for it until an admin installs again.
    pub async fn end_install(&self, id: &str, why: &str, revoke: bool) -> Result<()> {
        let t = tenant::load(&self.store, &self.sealer, id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no tenant {id}")))?;
        if revoke {
            if let Some((kind, CrmAuth::OAuth(tokens))) = t.crm.as_ref().map(|c| (c.kind, &c.auth))
            {
                let authority = self
                    .connector
                    .crm_authority(kind)
                    .map_err(AppError::Unprocessable)?;
                authority
                    .revoke(&tokens.refresh_token)
                    .await
                    .map_err(|e| AppError::Upstream(format!("the grant was not revoked: {e}")))?;
            }
        }
        tenant::set_installed(&self.store, id, false).await?;
        self.store.wipe_tenant_keys(id).await?;
        self.store.release_token_refresh(id).await?;
        self.store
            .acquire()
            .await?
            .audit(id, "uninstall", id, why)
            .await?;
        self.forget(id);
        tracing::warn!(tenant = %id, reason = %why, "install ended");
        Ok(())
    }
}

/// The tokens of a grant as stored, the access token's end from the lifetime the server gave.
fn oauth_grant(g: &Grant) -> OAuthGrant {
    OAuthGrant {
        refresh_token: g.refresh_token.expose_secret().to_string(),
        access_token: g.access_token.expose_secret().to_string(),
        expires_at_ms: clock::now_ms() + g.expires_in.as_millis() as i64,
    }
}
