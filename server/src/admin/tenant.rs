//! `server tenant`: an account's tenant, its connections, its API token and its secrets.

use std::io::Write;

use anyhow::Context;
use clap::{Args, Subcommand};
use idv_server::{
    crypto::Sealer,
    http::auth,
    services::{tenant, Settings},
    store::{Store, WebhookSecret},
    wire_services,
};

use super::{services, Db};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProviderKind {
    Kosmos,
    Blockid,
}

#[derive(Subcommand)]
pub enum TenantCmd {
    /// Create a tenant; prints its id, the app's API token and the workflow webhook secret.
    /// With `--id`, connect the identity provider of a tenant that exists (a HubSpot account
    /// that installed the app is `hubspot-{portal id}`); no API token is made then.
    Add(AddArgs),
    /// Uninstall the app from an account installed by OAuth (HubSpot): its grant is revoked
    /// at the platform, its tokens wiped; nothing starts or is written for it until an admin
    /// installs again.
    Uninstall {
        id: String,
        #[command(flatten)]
        hubspot: idv_server::config::HubSpotArgs,
        #[command(flatten)]
        db: Db,
    },
    /// List tenants.
    List {
        #[command(flatten)]
        db: Db,
    },
    /// Issue a new API token for a tenant (the old one stops working at once).
    RotateToken {
        id: String,
        #[command(flatten)]
        db: Db,
    },
    /// Issue a new webhook secret: the workflow header secret (`--workflow`) or the secret
    /// 1Kosmos signs callbacks with (`--kosmos`). The old one keeps working for `--grace-hours`.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["workflow", "kosmos"])))]
    RotateSecret {
        id: String,
        /// The Workflow Automator's `X-IDV-Webhook-Secret` (a new one is generated).
        #[arg(long)]
        workflow: bool,
        /// The 1Kosmos callback secret: `IDV_NEW_KOSMOS_WEBHOOK_SECRET` if 1Kosmos issued one,
        /// else a new `whsec_` secret is generated to register with 1Kosmos.
        #[arg(long)]
        kosmos: bool,
        #[arg(long, env = "IDV_NEW_KOSMOS_WEBHOOK_SECRET", hide_env_values = true)]
        new_kosmos_secret: Option<String>,
        /// How long the replaced secret is still accepted.
        #[arg(long, default_value_t = 24)]
        grace_hours: u64,
        #[command(flatten)]
        db: Db,
    },
    /// Set how many sessions a tenant may start (each is billable), and what a chat bot may
    /// spend apart from the others; unset options keep their current value. Refusals are 429
    /// with `Retry-After`.
    SetLimits(super::settings::LimitArgs),
    /// Set a tenant's policy (what the install form sets).
    SetPolicy(super::settings::PolicyArgs),
    /// Connect a tenant's Freshchat: the API address, the token (from an environment variable)
    /// and the webhook settings' public key; prints the bot's and the webhooks' URLs.
    Freshchat(super::settings::FreshchatArgs),
}

/// `server tenant add`'s arguments.
#[derive(Args)]
pub struct AddArgs {
    /// A name for the operator's eyes, e.g. the account's domain.
    pub name: String,
    /// An existing tenant to connect instead of a new one.
    #[arg(long)]
    pub id: Option<String>,
    /// The 1Kosmos wire format: `blockid` (the real platform) or `kosmos` (the design
    /// contract's `/v2/verify/sessions`).
    #[arg(long, value_enum, default_value = "kosmos")]
    pub provider: ProviderKind,
    /// Design contract: the 1Kosmos API base URL for this tenant.
    #[arg(long, required_if_eq("provider", "kosmos"))]
    pub kosmos_url: Option<String>,
    /// Design contract: the 1Kosmos API key (from the environment, out of shell history).
    #[arg(long, env = "IDV_KOSMOS_API_KEY", hide_env_values = true)]
    pub kosmos_key: Option<String>,
    /// BlockID: the tenant's host, e.g. `acme.1kosmos.net`.
    #[arg(long, required_if_eq("provider", "blockid"))]
    pub kosmos_dns: Option<String>,
    /// BlockID: the community.
    #[arg(long, default_value = "default")]
    pub community: String,
    /// BlockID: the tenant's curve, `secp256k1` or `prime256v1` (FedRAMP tenants).
    #[arg(long, default_value = "secp256k1")]
    pub curve: String,
    /// BlockID: the document-share result path, `legacy` or `v3`.
    #[arg(long, default_value = "legacy")]
    pub result_path: String,
    /// BlockID: the licence key.
    #[arg(long, env = "IDV_BLOCKID_LICENSE_KEY", hide_env_values = true)]
    pub licence_key: Option<String>,
    /// BlockID: the dvcID (IDVerify key) for document verification.
    #[arg(long, env = "IDV_BLOCKID_DVC_ID", hide_env_values = true)]
    pub dvc_id: Option<String>,
    /// Secret 1Kosmos signs callbacks with.
    #[arg(long, env = "IDV_KOSMOS_WEBHOOK_SECRET", hide_env_values = true)]
    pub kosmos_webhook_secret: Option<String>,
    /// The CRM's API calls per hour (a Freshsales plan's 1000, 2000 or 5000). A new tenant
    /// without it gets 1000; a tenant connected earlier (a HubSpot install, 110 per 10 s)
    /// keeps its own.
    #[arg(long)]
    pub hourly_limit: Option<i64>,
    #[command(flatten)]
    pub db: Db,
}

pub async fn run(out: &mut impl Write, cmd: TenantCmd) -> anyhow::Result<()> {
    match cmd {
        TenantCmd::Add(args) => add(out, args).await,
        TenantCmd::Uninstall { id, hubspot, db } => uninstall(out, &id, hubspot, &db).await,
        TenantCmd::List { db } => list(out, &db).await,
        TenantCmd::RotateToken { id, db } => rotate_token(out, &id, &db).await,
        TenantCmd::RotateSecret {
            id,
            workflow,
            kosmos: _,
            new_kosmos_secret,
            grace_hours,
            db,
        } => rotate_secret(out, &id, workflow, new_kosmos_secret, grace_hours, &db).await,
        TenantCmd::SetLimits(args) => super::settings::set_limits(out, args).await,
        TenantCmd::SetPolicy(args) => super::settings::set_policy(out, args).await,
        TenantCmd::Freshchat(args) => super::settings::freshchat(out, args).await,
    }
}

/// `server tenant add`: a new tenant (or the provider of one that exists), its API token and
/// workflow secret shown once.
async fn add(out: &mut impl Write, args: AddArgs) -> anyhow::Result<()> {
    let AddArgs {
        name,
        id: existing,
        provider,
        kosmos_url,
        kosmos_key,
        kosmos_dns,
        community,
        curve,
        result_path,
        licence_key,
        dvc_id,
        kosmos_webhook_secret,
        hourly_limit,
        db,
    } = args;
    let (kosmos_url, kosmos_key, provider_settings, provider_secret) = match provider {
        ProviderKind::Kosmos => (kosmos_url, kosmos_key, None, None),
        ProviderKind::Blockid => {
            let licence = licence_key
                .context("the BlockID licence key is missing: set IDV_BLOCKID_LICENSE_KEY")?;
            let dvc = dvc_id.context("the BlockID dvcID is missing: set IDV_BLOCKID_DVC_ID")?;
            let settings = tenant::ProviderSettings::Blockid {
                community,
                curve,
                result_path: Some(result_path),
            };
            (kosmos_dns, Some(licence), Some(settings), Some(dvc))
        }
    };
    let e = services(&db).await?;
    let automator = auth::generate_token();
    let (id, token) = match existing {
        Some(id) => {
            if e.core.store().tenant_record(&id).await?.is_none() {
                anyhow::bail!("no tenant {id}: `server tenant list` shows them");
            }
            (id, None)
        }
        None => {
            let id = format!("t{}", &auth::hash_token(&auth::generate_token())[..12]);
            let token = auth::generate_token();
            e.core
                .store()
                .insert_tenant(&id, &name, &auth::hash_token(&token))
                .await?;
            (id, Some(token))
        }
    };
    tenant::set_connections(
        e.core.store(),
        e.core.sealer(),
        &id,
        &tenant::Connections {
            provider_base_url: kosmos_url,
            provider_key: kosmos_key,
            provider_webhook_secret: kosmos_webhook_secret,
            automator_secret: Some(automator.clone()),
            hourly_limit,
            provider_settings,
            provider_secret,
            ..Default::default()
        },
    )
    .await?;
    // Say at once when the provider settings cannot make a client (a wrong curve…).
    if let Some(t) = e.core.tenants().get(&id).await? {
        if let Err(err) = e.core.tenants().provider(&t) {
            writeln!(out, "warning:         {err}")?;
        }
    }
    writeln!(out, "tenant id:       {id}")?;
    if let Some(token) = token {
        writeln!(
            out,
            "API token:       {token}   (install form: Backend API token)"
        )?;
    }
    writeln!(
        out,
        "webhook secret:  {automator}   (workflow header X-IDV-Webhook-Secret)"
    )?;
    writeln!(
        out,
        "These are shown once; only their hashes or sealed forms are stored."
    )?;
    e.core.store().close().await;
    Ok(())
}

/// `server tenant uninstall`: an OAuth account's grant revoked, its tokens wiped.
async fn uninstall(
    out: &mut impl Write,
    id: &str,
    hubspot: idv_server::config::HubSpotArgs,
    db: &Db,
) -> anyhow::Result<()> {
    let store = Store::connect(&db.database_url).await?;
    let sealer = Sealer::from_base64(&db.master_key)?;
    let settings = Settings {
        oauth_app: hubspot.app(),
        ..Settings::default()
    };
    let e = wire_services(store, sealer, settings);
    e.core
        .tenants()
        .end_install(id, "by the operator (`server tenant uninstall`)", true)
        .await?;
    writeln!(out, "{id}: uninstalled; its grant is revoked")?;
    e.core.store().close().await;
    Ok(())
}

async fn list(out: &mut impl Write, db: &Db) -> anyhow::Result<()> {
    let e = services(db).await?;
    for (id, name, installed) in tenant::list(e.core.store()).await? {
        let state = if installed {
            "installed"
        } else {
            "uninstalled"
        };
        writeln!(out, "{id}\t{state}\t{name}")?;
    }
    e.core.store().close().await;
    Ok(())
}

/// `server tenant rotate-token`: a new API token; the old one stops working at once.
async fn rotate_token(out: &mut impl Write, id: &str, db: &Db) -> anyhow::Result<()> {
    let e = services(db).await?;
    let token = auth::generate_token();
    if !e
        .core
        .store()
        .rotate_token(id, &auth::hash_token(&token))
        .await?
    {
        anyhow::bail!("no tenant {id}");
    }
    writeln!(
        out,
        "API token:       {token}   (update the app's install form)"
    )?;
    e.core.store().close().await;
    Ok(())
}

/// `server tenant rotate-secret ID --workflow|--kosmos`: a new secret, the old one accepted
/// for the grace period.
async fn rotate_secret(
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
            Some(given) => (WebhookSecret::Provider, given.trim().to_string(), false),
            None => (
                WebhookSecret::Provider,
                idv_server::webhook::generate_secret(),
                true,
            ),
        }
    };
    let e = services(db).await?;
    let grace = std::time::Duration::from_secs(grace_hours.saturating_mul(3600));
    tenant::rotate_webhook_secret(e.core.store(), e.core.sealer(), id, which, &secret, grace)
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    let (what, header) = match which {
        WebhookSecret::Workflow => ("webhook secret: ", "(workflow header X-IDV-Webhook-Secret)"),
        WebhookSecret::Provider => (
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
    e.core.store().close().await;
    Ok(())
}
