//! `server`: the Freshsales IDV backend's command line.

use clap::{Parser, Subcommand};
use idv_server::{build_router, demo, shutdown_signal, telemetry, AppState, Config, Server, Store};

#[derive(Parser)]
#[command(name = "server", version, about = "Freshsales IDV backend")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the widget API and webhooks.
    Serve(Config),
    /// Run the offline demo: seeded tenant, Freshsales-like page with the widget.
    Demo(Config),
    /// Apply database migrations and exit.
    Migrate(Config),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    match Cli::parse().command {
        Command::Serve(config) => {
            let store = Store::connect(&config.database_url).await?;
            let router = build_router(
                AppState {
                    store: store.clone(),
                },
                &config,
                Default::default(),
            );
            let server = Server::bind(config.bind, router).await?;
            tracing::info!(addr = %server.local_addr(), "listening");
            server.run(shutdown_signal()).await?;
            store.close().await;
        }
        Command::Demo(config) => demo::run(config).await?,
        Command::Migrate(config) => {
            let store = Store::connect(&config.database_url).await?;
            store.close().await;
            eprintln!("migrations applied");
        }
    }
    Ok(())
}
