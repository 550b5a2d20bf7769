//! `server`: the Freshsales IDV backend's command line.

use std::io::Write as _;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
#[cfg(feature = "twins")]
use idv_server::demo;
use idv_server::{
    crypto::Sealer,
    http::auth,
    services::{audit, tenant, Services, Settings},
    shutdown_signal,
    store::AuditQuery,
    telemetry, wire_services, Config, Running, Store,
};
use secrecy::SecretString;

mod admin;
#[cfg(feature = "twins")]
mod sims;

#[derive(Parser)]
#[command(name = "server", version, about = "Freshsales IDV backend")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the widget API and webhooks, and run the workers.
    Serve(Config),
    /// Run the offline demo: simulators, seeded tenant, Freshsales-like pages with the widget.
    #[cfg(feature = "twins")]
    Demo {
        #[command(flatten)]
        config: Config,
        /// Which 1Kosmos wire format the demo tenant speaks.
        #[arg(long, value_enum, default_value = "kosmos")]
        provider: demo::DemoProvider,
    },
    /// Apply database migrations and exit.
    Migrate(Config),
    /// Print a new master key for IDV_MASTER_KEY.
    Keygen,
    /// Master keys: re-seal every sealed value under a new one.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Manage tenants (one per Freshsales account).
    #[command(subcommand)]
    Tenant(TenantCmd),
    /// Inspect and replay the CRM write-back queue.
    #[command(subcommand)]
    Sync(SyncCmd),
    /// A person's data: `forget` erases it here and queues clearing their CRM fields.
    #[command(subcommand)]
    Contact(ContactCmd),
    /// Print the audit trail, oldest first: who started what, which delivery, results, CRM
    /// writes (time, tenant, action, subject, detail; tab-separated).
    Audit {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// Only lines about this contact (its sessions, and CRM writes for it).
        #[arg(long)]
        contact: Option<i64>,
        /// From this time on: RFC 3339 (2026-12-01T09:00:00Z) or a duration back (30m, 12h, 7d).
        #[arg(long)]
        since: Option<String>,
        /// At most this many lines (the newest that match).
        #[arg(long, default_value_t = 10_000)]
        limit: i64,
        #[arg(long, env = "DATABASE_URL", default_value = idv_server::config::DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Try each tenant's Freshsales and 1Kosmos credentials (read-only) and print remedies.
    Check {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, env = "IDV_PUBLIC_URL", default_value = idv_server::config::DEFAULT_PUBLIC_URL)]
        public_url: String,
        #[command(flatten)]
        db: Db,
    },
    /// Run one simulator alone on loopback (for manual testing).
    #[cfg(feature = "twins")]
    Sim {
        #[arg(value_enum)]
        which: sims::SimKind,
        #[arg(long, default_value = "127.0.0.1:9100")]
        bind: std::net::SocketAddr,
    },
}

#[derive(Args)]
pub(crate) struct Db {
    #[arg(long, env = "DATABASE_URL", default_value = idv_server::config::DEFAULT_DATABASE_URL)]
    database_url: String,
    #[arg(long, env = "IDV_MASTER_KEY", hide_env_values = true)]
    master_key: SecretString,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ProviderKind {
    Kosmos,
    Blockid,
}

#[derive(Subcommand)]
enum TenantCmd {
    /// Create a tenant; prints its id, the app's API token and the workflow webhook secret.
    /// With `--id`, connect the identity provider of a tenant that exists (a HubSpot account
    /// that installed the app is `hubspot-{portal id}`); no API token is made then.
    Add {
        /// A name for the operator's eyes, e.g. the account's domain.
        name: String,
        /// An existing tenant to connect instead of a new one.
        #[arg(long)]
        id: Option<String>,
        /// The 1Kosmos wire format: `blockid` (the real platform) or `kosmos` (the design
        /// contract's `/v2/verify/sessions`).
        #[arg(long, value_enum, default_value = "kosmos")]
        provider: ProviderKind,
        /// Design contract: the 1Kosmos API base URL for this tenant.
        #[arg(long, required_if_eq("provider", "kosmos"))]
        kosmos_url: Option<String>,
        /// Design contract: the 1Kosmos API key (from the environment, out of shell history).
        #[arg(long, env = "IDV_KOSMOS_API_KEY", hide_env_values = true)]
        kosmos_key: Option<String>,
        /// BlockID: the tenant's host, e.g. `acme.1kosmos.net`.
        #[arg(long, required_if_eq("provider", "blockid"))]
        kosmos_dns: Option<String>,
        /// BlockID: the community.
        #[arg(long, default_value = "default")]
        community: String,
        /// BlockID: the tenant's curve, `secp256k1` or `prime256v1` (FedRAMP tenants).
        #[arg(long, default_value = "secp256k1")]
        curve: String,
        /// BlockID: the document-share result path, `legacy` or `v3`.
        #[arg(long, default_value = "legacy")]
        result_path: String,
        /// BlockID: the licence key.
        #[arg(long, env = "IDV_BLOCKID_LICENSE_KEY", hide_env_values = true)]
        licence_key: Option<String>,
        /// BlockID: the dvcID (IDVerify key) for document verification.
        #[arg(long, env = "IDV_BLOCKID_DVC_ID", hide_env_values = true)]
        dvc_id: Option<String>,
        /// Secret 1Kosmos signs callbacks with.
        #[arg(long, env = "IDV_KOSMOS_WEBHOOK_SECRET", hide_env_values = true)]
        kosmos_webhook_secret: Option<String>,
        /// The CRM's API calls per hour (a Freshsales plan's 1000, 2000 or 5000). A new tenant
        /// without it gets 1000; a tenant connected earlier (a HubSpot install, 110 per 10 s)
        /// keeps its own.
        #[arg(long)]
        hourly_limit: Option<i64>,
        #[command(flatten)]
        db: Db,
    },
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
    SetLimits(admin::LimitArgs),
    /// Set a tenant's policy (what the install form sets).
    SetPolicy(admin::PolicyArgs),
    /// Connect a tenant's Freshchat: the API address, the token (from an environment variable)
    /// and the webhook settings' public key; prints the bot's and the webhooks' URLs.
    Freshchat(admin::FreshchatArgs),
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Re-seal every sealed value (tenant secrets, links, credential DIDs, queued writes) under
    /// a new master key, in one transaction. The old key is IDV_MASTER_KEY; stop the servers
    /// first and restart them with the new key.
    Rotate {
        /// The new master key (`server keygen`); better from the environment.
        #[arg(long, env = "IDV_NEW_MASTER_KEY", hide_env_values = true)]
        new_key: SecretString,
        #[command(flatten)]
        db: Db,
    },
}

#[derive(Subcommand)]
enum SyncCmd {
    /// Rows by state, and the dead rows with their last error.
    Status {
        #[command(flatten)]
        db: Db,
    },
    /// Put dead rows back in the queue (all tenants, or one).
    Replay {
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        db: Db,
    },
}

#[derive(Subcommand)]
enum ContactCmd {
    /// Erase a contact's sessions, links and audit lines here, and queue clearing their
    /// `cf_idv_*` fields in Freshsales (a running `server serve` sends it).
    Forget {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        contact: i64,
        #[command(flatten)]
        db: Db,
    },
}

async fn services(db: &Db) -> anyhow::Result<Services> {
    let store = Store::connect(&db.database_url).await?;
    let sealer = Sealer::from_base64(&db.master_key)?;
    Ok(wire_services(store, sealer, Settings::default()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let mut out = std::io::stdout().lock();
    match Cli::parse().command {
        Command::Serve(config) => {
            let key = config.master_key.clone().context(
                "IDV_MASTER_KEY is not set: generate one with `server keygen` and keep it safe",
            )?;
            let settings = config.settings();
            let running = Running::start(
                &config,
                Sealer::from_base64(&key)?,
                settings,
                Default::default(),
            )
            .await?;
            tracing::info!(addr = %running.addr, "listening");
            if idv_server::clock::is_moved() {
                tracing::warn!(
                    now = %idv_server::clock::rfc3339(idv_server::clock::now_ms()),
                    "the clock is moved by {}", idv_server::clock::OFFSET_ENV
                );
            }
            shutdown_signal().await;
            running.stop().await?;
        }
        #[cfg(feature = "twins")]
        Command::Demo { config, provider } => demo::run(config, provider).await?,
        Command::Migrate(config) => {
            let store = Store::connect(&config.database_url).await?;
            store.close().await;
            writeln!(out, "migrations applied")?;
        }
        Command::Keygen => writeln!(out, "{}", Sealer::generate_key())?,
        Command::Keys(KeysCmd::Rotate { new_key, db }) => {
            admin::keys_rotate(&mut out, &new_key, &db).await?
        }
        Command::Tenant(TenantCmd::Add {
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
        }) => {
            let (kosmos_url, kosmos_key, provider_settings, provider_secret) = match provider {
                ProviderKind::Kosmos => (kosmos_url, kosmos_key, None, None),
                ProviderKind::Blockid => {
                    let licence = licence_key.context(
                        "the BlockID licence key is missing: set IDV_BLOCKID_LICENSE_KEY",
                    )?;
                    let dvc =
                        dvc_id.context("the BlockID dvcID is missing: set IDV_BLOCKID_DVC_ID")?;
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
        }
        Command::Tenant(TenantCmd::Uninstall { id, hubspot, db }) => {
            let store = Store::connect(&db.database_url).await?;
            let sealer = Sealer::from_base64(&db.master_key)?;
            let settings = Settings {
                oauth_app: hubspot.app(),
                ..Settings::default()
            };
            let e = wire_services(store, sealer, settings);
            e.core
                .tenants()
                .end_install(&id, "by the operator (`server tenant uninstall`)", true)
                .await?;
            writeln!(out, "{id}: uninstalled; its grant is revoked")?;
            e.core.store().close().await;
        }
        Command::Tenant(TenantCmd::List { db }) => {
            let e = services(&db).await?;
            for (id, name, installed) in tenant::list(e.core.store()).await? {
                let state = if installed {
                    "installed"
                } else {
                    "uninstalled"
                };
                writeln!(out, "{id}\t{state}\t{name}")?;
            }
            e.core.store().close().await;
        }
        Command::Tenant(TenantCmd::RotateToken { id, db }) => {
            let e = services(&db).await?;
            let token = auth::generate_token();
            if !e
                .core
                .store()
                .rotate_token(&id, &auth::hash_token(&token))
                .await?
            {
                anyhow::bail!("no tenant {id}");
            }
            writeln!(
                out,
                "API token:       {token}   (update the app's install form)"
            )?;
            e.core.store().close().await;
        }
        Command::Tenant(TenantCmd::RotateSecret {
            id,
            workflow,
            kosmos: _,
            new_kosmos_secret,
            grace_hours,
            db,
        }) => {
            admin::rotate_secret(&mut out, &id, workflow, new_kosmos_secret, grace_hours, &db)
                .await?
        }
        Command::Tenant(TenantCmd::SetLimits(args)) => admin::set_limits(&mut out, args).await?,
        Command::Tenant(TenantCmd::SetPolicy(args)) => admin::set_policy(&mut out, args).await?,
        Command::Tenant(TenantCmd::Freshchat(args)) => admin::freshchat(&mut out, args).await?,
        Command::Check {
            tenant: only,
            public_url,
            db,
        } => {
            let store = Store::connect(&db.database_url).await?;
            let sealer = Sealer::from_base64(&db.master_key)?;
            let e = wire_services(
                store,
                sealer,
                Settings {
                    public_base_url: public_url.trim_end_matches('/').to_string(),
                    ..Settings::default()
                },
            );
            let mut failed = 0;
            for (id, name, _) in tenant::list(e.core.store()).await? {
                if only.as_ref().is_some_and(|o| *o != id) {
                    continue;
                }
                let Some(t) = e.core.tenants().get(&id).await? else {
                    continue;
                };
                writeln!(out, "{id} ({name})")?;
                for c in e.doctor.doctor(&t).await {
                    failed += usize::from(!c.ok);
                    writeln!(out, "  {c}")?;
                }
            }
            e.core.store().close().await;
            if failed > 0 {
                anyhow::bail!("{failed} check(s) failed");
            }
        }
        #[cfg(feature = "twins")]
        Command::Sim { which, bind } => sims::run(&mut out, which, bind).await?,
        Command::Sync(SyncCmd::Status { db }) => {
            let e = services(&db).await?;
            for (state, n) in e.outbox.sync_counts().await? {
                writeln!(out, "{state}\t{n}")?;
            }
            for (tenant, key, kind, error) in e.outbox.dead_rows().await? {
                writeln!(out, "dead\t{tenant}\t{key}\t{kind}\t{error}")?;
            }
            e.core.store().close().await;
        }
        Command::Contact(ContactCmd::Forget {
            tenant,
            contact,
            db,
        }) => {
            let e = services(&db).await?;
            if e.core.tenants().get(&tenant).await?.is_none() {
                anyhow::bail!("no tenant {tenant}");
            }
            let n = e.retention.forget_contact(&tenant, contact).await?;
            writeln!(
                out,
                "contact {contact}: {n} session(s) erased; clearing its CRM fields is queued"
            )?;
            e.core.store().close().await;
        }
        Command::Audit {
            tenant,
            contact,
            since,
            limit,
            database_url,
        } => {
            let since = since
                .map(|s| audit::parse_since(&s, idv_server::clock::now_ms()))
                .transpose()
                .map_err(anyhow::Error::msg)?;
            anyhow::ensure!(limit > 0, "--limit must be at least 1");
            let store = Store::connect(&database_url).await?;
            let q = AuditQuery {
                tenant: tenant.as_deref(),
                contact,
                since,
                before: None,
                limit,
            };
            for line in audit::cli_lines(&store, &q).await? {
                writeln!(out, "{line}")?;
            }
            store.close().await;
        }
        Command::Sync(SyncCmd::Replay { tenant, db }) => {
            let e = services(&db).await?;
            let n = e.outbox.replay_dead(tenant.as_deref()).await?;
            writeln!(
                out,
                "{n} dead row(s) queued again; a running `server serve` sends them"
            )?;
            e.core.store().close().await;
        }
    }
    Ok(())
}
