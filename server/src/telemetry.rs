//! Tracing set-up.

use tracing_subscriber::{fmt, EnvFilter};

/// Installs a subscriber writing to stderr; `RUST_LOG` overrides the default filter.
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("idv_server=info,tower_http=info,sqlx=warn"));
    let _ = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
