//! Configuration from the environment (and the command line, which wins).

use std::{net::SocketAddr, path::PathBuf};

use clap::Args;

/// Settings shared by `serve` and `demo`.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "IDV_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// `sqlite://path?mode=rwc` (the embedded default) or `postgres://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/idv.db?mode=rwc"
    )]
    pub database_url: String,
    /// The Freshworks app folder holding the built widget.
    #[arg(long, env = "IDV_APP_DIR", default_value = "app")]
    pub app_dir: PathBuf,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "IDV_MAX_BODY", default_value_t = 64 * 1024)]
    pub max_body: usize,
}

impl Config {
    /// A configuration for tests and embedded use.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.into(),
            app_dir: PathBuf::from("app"),
            max_body: 64 * 1024,
        }
    }
}
