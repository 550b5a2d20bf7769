//! `server`: the Freshsales IDV backend's command line.

use std::io::Write as _;

use anyhow::Context;
use clap::{Parser, Subcommand};
#[cfg(feature = "twins")]
use idv_server::demo;
use idv_server::{crypto::Sealer, shutdown_signal, telemetry, Config, Running, Store};

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
    Keys(admin::keys::KeysCmd),
    /// Manage tenants (one per Freshsales account).
    #[command(subcommand)]
    Tenant(admin::tenant::TenantCmd),
    /// Inspect and replay the CRM write-back queue.
    #[command(subcommand)]
    Sync(admin::ops::SyncCmd),
    /// A person's data: `forget` erases it here and queues clearing their CRM fields.
    #[command(subcommand)]
    Contact(admin::ops::ContactCmd),
    /// Print the audit trail, oldest first: who started what, which delivery, results, CRM
    /// writes (time, tenant, action, subject, detail; tab-separated).
    Audit(admin::ops::AuditArgs),
    /// Try each tenant's Freshsales and 1Kosmos credentials (read-only) and print remedies.
    Check(admin::ops::CheckArgs),
    /// Run one simulator alone on loopback (for manual testing).
    #[cfg(feature = "twins")]
    Sim {
        #[arg(value_enum)]
        which: sims::SimKind,
        #[arg(long, default_value = "127.0.0.1:9100")]
        bind: std::net::SocketAddr,
    },
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
        Command::Keys(cmd) => admin::keys::run(&mut out, cmd).await?,
        Command::Tenant(cmd) => admin::tenant::run(&mut out, cmd).await?,
        Command::Check(args) => admin::ops::check(&mut out, args).await?,
        Command::Sync(cmd) => admin::ops::sync(&mut out, cmd).await?,
        Command::Contact(cmd) => admin::ops::contact(&mut out, cmd).await?,
        Command::Audit(args) => admin::ops::audit(&mut out, args).await?,
        #[cfg(feature = "twins")]
        Command::Sim { which, bind } => sims::run(&mut out, which, bind).await?,
    }
    Ok(())
}
