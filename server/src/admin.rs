//! The `server` command's secret, key, limit and policy administration: `keys rotate`,
//! `tenant rotate-secret`, `tenant set-limits` and `tenant set-policy` (a module of the binary,
//! not of the library).

use std::io::Write;

use anyhow::Context;
use idv_server::{
    crypto::Sealer,
    http::auth,
    services::tenant,
    store::{Store, WebhookSecret},
};
use secrecy::SecretString;

use super::{engine, Db};

/// `server keys rotate`: every sealed value re-sealed under the new key, in one transaction.
pub async fn keys_rotate(
    out: &mut impl Write,
    new_key: &SecretString,
    db: &Db,
) -> anyhow::Result<()> {
    let old = Sealer::from_base64(&db.master_key)?;
    let new = Sealer::from_base64(new_key)?;
    if old.key_id() == new.key_id() {
        anyhow::bail!("the new master key is the old one: generate one with `server keygen`");
    }
    let store = Store::connect(&db.database_url).await?;
    let done = idv_server::services::keys::rotate(&store, &old, &new)
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    store.close().await;
    writeln!(
        out,
        "{} value(s) re-sealed under key {} ({} already were); restart the servers with the new IDV_MASTER_KEY",
        done.resealed,
        new.key_id(),
        done.already
    )?;
    Ok(())
}

/// `server tenant rotate-secret ID --workflow|--kosmos`: a new secret, the old one accepted
/// for the grace period.
pub async fn rotate_secret(
    out: &mut impl Write,
    id: &str,
    workflow: bool,
    new_kosmos_secret: Option<String>,
    grace_hours: u64,
    db: &Db,
) -> anyhow::Result<()> {
    let (which, secret, shown) = if workflow {
        (WebhookSecret::Workflow, auth::generate_token(), true)
    } else {
        match new_kosmos_secret.filter(|s| !s.trim().is_empty()) {
            Some(given) => (WebhookSecret::Kosmos, given.trim().to_string(), false),
            None => (
                WebhookSecret::Kosmos,
                idv_server::webhook::generate_secret(),
                true,
            ),
        }
    };
    let e = engine(db).await?;
    let grace = std::time::Duration::from_secs(grace_hours.saturating_mul(3600));
    tenant::rotate_webhook_secret(&e.store, &e.sealer, id, which, &secret, grace)
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    let (what, header) = match which {
        WebhookSecret::Workflow => ("webhook secret: ", "(workflow header X-IDV-Webhook-Secret)"),
        WebhookSecret::Kosmos => (
            "1Kosmos secret: ",
            "(register it with 1Kosmos for this tenant's callbacks)",
        ),
    };
    if shown {
        writeln!(out, "{what} {secret}   {header}")?;
    } else {
        writeln!(
            out,
            "1Kosmos secret:  set from IDV_NEW_KOSMOS_WEBHOOK_SECRET"
        )?;
    }
    writeln!(
        out,
        "The previous secret is accepted for {grace_hours} more hour(s)."
    )?;
    e.store.close().await;
    Ok(())
}

/// `server tenant set-limits ID`: per minute, per contact per hour, forced per contact per
/// hour (`None` keeps the current value).
pub async fn set_limits(
    out: &mut impl Write,
    id: &str,
    (per_minute, per_contact_hour, forced_per_hour): (Option<u32>, Option<u32>, Option<u32>),
    db: &Db,
) -> anyhow::Result<()> {
    let e = engine(db).await?;
    let t = e.tenant(id).await?.context(format!("no tenant {id}"))?;
    let mut limits = t.start_limits;
    limits.tenant_per_minute = per_minute.unwrap_or(limits.tenant_per_minute);
    limits.contact_per_hour = per_contact_hour.unwrap_or(limits.contact_per_hour);
    limits.forced_per_hour = forced_per_hour.unwrap_or(limits.forced_per_hour);
    tenant::set_start_limits(&e.store, id, &limits)
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    writeln!(
        out,
        "start limits of {id}: {} per minute, {} per contact per hour, {} forced restarts per contact per hour",
        limits.tenant_per_minute, limits.contact_per_hour, limits.forced_per_hour
    )?;
    e.store.close().await;
    Ok(())
}

/// `server tenant set-policy`: what the install form sets.
#[derive(clap::Args)]
pub struct PolicyArgs {
    id: String,
    /// Start IDV when a contact is created.
    #[arg(long, default_value_t = false)]
    auto_verify: bool,
    /// Comma-separated gated stage names or ids.
    #[arg(long, value_delimiter = ',')]
    gated: Vec<String>,
    /// Move a deal back when it enters a gated stage unverified.
    #[arg(long, default_value_t = false)]
    revert: bool,
    #[arg(long, default_value_t = 365)]
    validity_days: i64,
    /// How automation sends links: show, email or sms (default: email if the provider offers
    /// it, else show).
    #[arg(long, value_parser = ["show", "email", "sms"])]
    automation_delivery: Option<String>,
    /// Start a new verification when one lapses.
    #[arg(long, default_value_t = false)]
    reverify_on_expiry: bool,
    /// A change of the contact's name, email or phone ends a valid verification.
    #[arg(long, default_value_t = false)]
    invalidate_on_identity_change: bool,
    #[command(flatten)]
    db: Db,
}

pub async fn set_policy(out: &mut impl Write, a: PolicyArgs) -> anyhow::Result<()> {
    let e = engine(&a.db).await?;
    let policy = idv_server::services::Policy {
        auto_verify_on_create: a.auto_verify,
        gated_stages: a
            .gated
            .into_iter()
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
            .collect(),
        revert_on_gate: a.revert,
        validity_days: a.validity_days,
        automation_delivery: a
            .automation_delivery
            .as_deref()
            .and_then(idv_types::Delivery::parse),
        reverify_on_expiry: a.reverify_on_expiry,
        invalidate_on_identity_change: a.invalidate_on_identity_change,
        ..Default::default()
    };
    tenant::set_policy(&e.store, &a.id, &policy)
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    writeln!(out, "policy of {} set", a.id)?;
    e.store.close().await;
    Ok(())
}
