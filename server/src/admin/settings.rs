//! `server tenant set-limits`, `set-policy` and `freshchat`: what an account may start, what it
//! does on its own, and its chat connection.

use std::io::Write;

use anyhow::Context;
use idv_server::services::tenant;

use super::{services, Db};

/// `server tenant set-limits ID`: how many sessions a tenant may start (each is billable), and
/// what a chat bot may spend apart from the others; unset options keep their current value.
/// Refusals are 429 with `Retry-After`.
#[derive(clap::Args)]
pub struct LimitArgs {
    id: String,
    /// New sessions per tenant per minute (default 60).
    #[arg(long)]
    per_minute: Option<u32>,
    /// New sessions per contact per hour (default 10).
    #[arg(long)]
    per_contact_hour: Option<u32>,
    /// Forced restarts per contact per hour (default 3).
    #[arg(long)]
    forced_per_hour: Option<u32>,
    /// A chat bot's starts per conversation per hour (default 5).
    #[arg(long)]
    chat_per_conversation_hour: Option<u32>,
    /// A chat bot's starts per tenant per minute, apart from the other starts (default 10).
    #[arg(long)]
    chat_per_minute: Option<u32>,
    /// The share of the tenant's Freshsales budget a chat bot may spend, in percent (default 20).
    #[arg(long)]
    chat_crm_percent: Option<u32>,
    #[command(flatten)]
    db: Db,
}

pub async fn set_limits(out: &mut impl Write, a: LimitArgs) -> anyhow::Result<()> {
    let e = services(&a.db).await?;
    let id = &a.id;
    let t = e
        .core
        .tenants()
        .get(id)
        .await?
        .context(format!("no tenant {id}"))?;
    let mut limits = t.start_limits;
    let set = |v: &mut u32, given: Option<u32>| *v = given.unwrap_or(*v);
    set(&mut limits.tenant_per_minute, a.per_minute);
    set(&mut limits.contact_per_hour, a.per_contact_hour);
    set(&mut limits.forced_per_hour, a.forced_per_hour);
    set(
        &mut limits.chat_conversation_per_hour,
        a.chat_per_conversation_hour,
    );
    set(&mut limits.chat_per_minute, a.chat_per_minute);
    set(&mut limits.chat_crm_percent, a.chat_crm_percent);
    tenant::set_start_limits(e.core.store(), id, &limits)
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    writeln!(
        out,
        "start limits of {id}: {} per minute, {} per contact per hour, {} forced restarts per contact per hour; \
         chat bot: {} per conversation per hour, {} per minute, {}% of the Freshsales budget",
        limits.tenant_per_minute,
        limits.contact_per_hour,
        limits.forced_per_hour,
        limits.chat_conversation_per_hour,
        limits.chat_per_minute,
        limits.chat_crm_percent
    )?;
    e.core.store().close().await;
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
    /// When the ID names someone other than the contact: fail the verification, or hold it for
    /// review (not verified either way; the contact's owner gets a task).
    #[arg(long, value_parser = ["fail", "review"], default_value = "fail")]
    identity_mismatch: String,
    #[command(flatten)]
    db: Db,
}

pub async fn set_policy(out: &mut impl Write, a: PolicyArgs) -> anyhow::Result<()> {
    let e = services(&a.db).await?;
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
        identity_mismatch: tenant::MismatchPolicy::parse(&a.identity_mismatch).unwrap_or_default(),
        ..Default::default()
    };
    tenant::set_policy(e.core.store(), &a.id, &policy)
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    writeln!(out, "policy of {} set", a.id)?;
    e.core.store().close().await;
    Ok(())
}

/// `server tenant freshchat`: a tenant's Freshchat connection (options not given keep their
/// current value).
#[derive(clap::Args)]
pub struct FreshchatArgs {
    id: String,
    /// The API address, as Admin settings → APIs for chat shows it:
    /// https://ACCOUNT.freshchat.com/v2, or a regional https://api.eu.freshchat.com/v2.
    #[arg(long)]
    api_url: Option<String>,
    /// The name of the environment variable that holds the API token (kept out of the shell's
    /// history). An account has one token at a time: regenerating it needs this again.
    #[arg(long)]
    token_env: Option<String>,
    /// A file with the RSA public key of Admin settings → Webhooks (PEM).
    #[arg(long)]
    public_key_file: Option<std::path::PathBuf>,
    /// The agent the results are posted as in conversations (else as the system).
    #[arg(long)]
    agent_id: Option<String>,
    /// This backend's public address, for the URLs to give Freshchat.
    #[arg(long, env = "IDV_PUBLIC_URL", default_value = idv_server::config::DEFAULT_PUBLIC_URL)]
    public_url: String,
    #[command(flatten)]
    db: Db,
}

pub async fn freshchat(out: &mut impl Write, a: FreshchatArgs) -> anyhow::Result<()> {
    use idv_server::adapters::freshchat::{api_base, is_plain_id, webhook::WebhookKey};
    anyhow::ensure!(
        a.api_url.is_some()
            || a.token_env.is_some()
            || a.public_key_file.is_some()
            || a.agent_id.is_some(),
        "give at least one of --api-url, --token-env, --public-key-file, --agent-id"
    );
    let api_url = a
        .api_url
        .as_deref()
        .map(api_base)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let token = match &a.token_env {
        None => None,
        Some(var) => {
            let token = std::env::var(var)
                .with_context(|| format!("the environment variable {var} is not set"))?;
            let token = token.trim().to_string();
            anyhow::ensure!(
                !token.is_empty()
                    && token.len() <= 4096
                    && !token.chars().any(|c| c.is_whitespace() || c.is_control()),
                "{var} does not hold a Freshchat API token"
            );
            Some(token)
        }
    };
    let key = match &a.public_key_file {
        None => None,
        Some(path) => {
            let pem = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let parsed = WebhookKey::from_pem(&pem).map_err(anyhow::Error::msg)?;
            Some((pem.trim().to_string(), parsed))
        }
    };
    if let Some(agent) = &a.agent_id {
        anyhow::ensure!(
            is_plain_id(agent),
            "--agent-id must be a Freshchat agent id: letters, digits, - and _"
        );
    }
    let e = services(&a.db).await?;
    e.core
        .tenants()
        .get(&a.id)
        .await?
        .context(format!("no tenant {}", a.id))?;
    tenant::set_connections(
        e.core.store(),
        e.core.sealer(),
        &a.id,
        &tenant::Connections {
            chat_base_url: api_url.clone(),
            chat_token: token.clone(),
            chat_webhook_key: key.as_ref().map(|(pem, _)| pem.clone()),
            chat_agent_id: a.agent_id.clone(),
            ..Default::default()
        },
    )
    .await
    .map_err(|err| anyhow::anyhow!("{err}"))?;
    let id = &a.id;
    let base = a.public_url.trim_end_matches('/');
    writeln!(out, "Freshchat of {id} set:")?;
    if let Some(url) = &api_url {
        writeln!(out, "  API:          {url}")?;
    }
    if token.is_some() {
        writeln!(out, "  token:        sealed (never shown again)")?;
    }
    if let Some((_, k)) = &key {
        writeln!(
            out,
            "  webhook key:  RSA-{} (fingerprint {})",
            k.bits(),
            k.fingerprint()
        )?;
    }
    if let Some(agent) = &a.agent_id {
        writeln!(out, "  posts as:     agent {agent}")?;
    }
    writeln!(
        out,
        "Bot (API library): POST {base}/hooks/freshchat/{id} and \
         GET {base}/hooks/freshchat/{id}/verifications/<verification_id>, \
         header X-IDV-Webhook-Secret"
    )?;
    writeln!(
        out,
        "Webhooks (Admin settings → Webhooks): {base}/hooks/freshchat/{id}/events"
    )?;
    writeln!(out, "`server check --tenant {id}` tries the token.")?;
    e.core.store().close().await;
    Ok(())
}
