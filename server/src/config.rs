//! Configuration from the environment (and the command line, which wins).

use std::{net::SocketAddr, path::PathBuf};

use clap::Args;
use secrecy::SecretString;

/// The production default database (the demo never uses it: see `demo::DEMO_DATABASE_URL`).
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/idv.db?mode=rwc";

/// Settings shared by `serve` and `demo`.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "IDV_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// The operator's address: `/metrics` (and `/healthz`, `/readyz`) are served only here.
    /// Keep it on loopback or a private network; port 0 picks a free port.
    #[arg(long, env = "IDV_OPS_BIND", default_value = "127.0.0.1:9090")]
    pub ops_bind: SocketAddr,
    /// `sqlite://path?mode=rwc` (the embedded default) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// The Freshworks app folder holding the built widget.
    #[arg(long, env = "IDV_APP_DIR", default_value = "app")]
    pub app_dir: PathBuf,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "IDV_MAX_BODY", default_value_t = 64 * 1024)]
    pub max_body: usize,
    /// 32 bytes, base64: seals secrets at rest (`server keygen` makes one). `serve` needs it;
    /// the demo keeps its own next to its database.
    #[arg(long, env = "IDV_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<SecretString>,
    /// This backend's public base URL (provider callbacks go to `{url}/hooks/kosmos/{tenant}`).
    #[arg(long, env = "IDV_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub public_url: String,
    /// Run no background workers (poller, expiry, CRM write-back) in this process.
    #[arg(long, env = "IDV_NO_WORKERS", default_value_t = false)]
    pub no_workers: bool,
    /// Seconds a client has to send a request's headers before its connection is closed.
    #[arg(long, env = "IDV_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Connections served at once; more are answered 503 and closed.
    #[arg(long, env = "IDV_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Connections one client address may hold at once; 0 for no cap of its own (set it to 0,
    /// or to the proxy's share, behind a reverse proxy: every connection then comes from it).
    #[arg(long, env = "IDV_MAX_CONNECTIONS_PER_PEER", default_value_t = 64)]
    pub max_connections_per_peer: usize,
}

impl Config {
    /// A configuration for tests and embedded use.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            ops_bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.into(),
            app_dir: PathBuf::from("app"),
            max_body: 64 * 1024,
            master_key: None,
            public_url: "http://127.0.0.1:8080".into(),
            no_workers: false,
            header_timeout_secs: 10,
            max_connections: 1024,
            // Tests and benchmarks connect from one address by the hundred.
            max_connections_per_peer: 0,
        }
    }

    /// The HTTP server's header-read timeout and connection cap.
    pub fn conn_limits(&self) -> crate::ConnLimits {
        crate::ConnLimits {
            header_read_timeout: std::time::Duration::from_secs(self.header_timeout_secs.max(1)),
            max_connections: self.max_connections.max(1),
            max_per_peer: self.max_connections_per_peer,
        }
    }
}
