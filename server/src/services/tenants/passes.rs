//! Passes to the widget page a HubSpot card opens in its modal. The card's call is signed by
//! HubSpot for a signed-in user of the account; it gets a ticket (single use, a minute) in the
//! page's URL. The page trades the ticket once for a session (half an hour) that the widget
//! sends as its bearer token, for the account's API only. A URL that leaks (a log, a referrer)
//! is then worth nothing: used, or ended.

use std::time::Duration;

use super::Tenants;
use crate::{
    clock,
    crypto::hash_token as hash,
    error::{AppError, Result},
    services::tenant::TenantRow,
};

/// How long a ticket may wait to be traded.
pub const TICKET_LIFE: Duration = Duration::from_secs(60);
/// How long a widget session lasts.
pub const SESSION_LIFE: Duration = Duration::from_secs(30 * 60);
/// The prefix of a session's secret (tells it from an account's API token).
pub const SESSION_PREFIX: &str = "wst_";
const TICKET_PREFIX: &str = "wtk_";

fn secret(prefix: &str) -> String {
    format!("{prefix}{}", hex::encode(rand::random::<[u8; 32]>()))
}

/// A ticket traded for a session: the account, the record the card was on, the session.
#[derive(Debug, Clone)]
pub struct WidgetSession {
    pub tenant: TenantRow,
    /// `contact:12` or `deal:5`.
    pub record: String,
    pub token: String,
    pub expires_in: Duration,
}

impl Tenants {
    /// A ticket to the widget page for `record` (`contact:12`, `deal:5`) of an installed tenant.
    pub async fn mint_widget_ticket(&self, tenant: &TenantRow, record: &str) -> Result<String> {
        let ticket = secret(TICKET_PREFIX);
        let now = clock::now_ms();
        self.store
            .add_pass(
                &hash(&ticket),
                &tenant.id,
                "ticket",
                record,
                now + TICKET_LIFE.as_millis() as i64,
                now,
            )
            .await?;
        Ok(ticket)
    }

    /// Trades a ticket for a session, once; a used, ended or unknown ticket is refused.
    pub async fn trade_widget_ticket(&self, ticket: &str) -> Result<WidgetSession> {
        let refused = || {
            AppError::Unauthorized(
                "this link to the widget was used already or has ended: open it again from the card"
                    .into(),
            )
        };
        if !ticket.starts_with(TICKET_PREFIX) || ticket.len() > 100 {
            return Err(refused());
        }
        let now = clock::now_ms();
        let pass = self
            .store
            .use_ticket(&hash(ticket), now)
            .await?
            .ok_or_else(refused)?;
        let tenant = self
            .get(&pass.tenant_id)
            .await?
            .filter(|t| t.installed)
            .ok_or_else(refused)?;
        let token = secret(SESSION_PREFIX);
        self.store
            .add_pass(
                &hash(&token),
                &tenant.id,
                "session",
                &pass.record,
                now + SESSION_LIFE.as_millis() as i64,
                now,
            )
            .await?;
        Ok(WidgetSession {
            tenant,
            record: pass.record,
            token,
            expires_in: SESSION_LIFE,
        })
    }

    /// The installed tenant a widget session belongs to, while it lasts.
    pub async fn by_widget_session(&self, token: &str) -> Result<Option<TenantRow>> {
        if !token.starts_with(SESSION_PREFIX) {
            return Ok(None);
        }
        let Some(pass) = self
            .store
            .session_pass(&hash(token), clock::now_ms())
            .await?
        else {
            return Ok(None);
        };
        Ok(self.get(&pass.tenant_id).await?.filter(|t| t.installed))
    }
}
