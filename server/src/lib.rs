//! Freshsales IDV backend.
//!
//! `build_router` assembles the HTTP surface; [`Server`] binds it (port 0 in tests) and runs it
//! until a shutdown signal. `main.rs` only parses the command line and calls in here.

pub mod api;
pub mod auth;
pub mod clock;
pub mod config;
pub mod demo;
pub mod error;
pub mod freshsales;
pub mod kosmos;
pub mod sim;
pub mod store;
pub mod telemetry;
pub mod webhook;

use std::{future::Future, net::SocketAddr, time::Duration};

use axum::{middleware, Router};
use tokio::net::TcpListener;
use tower_http::{limit::RequestBodyLimitLayer, timeout::TimeoutLayer, trace::TraceLayer};

pub use config::Config;
pub use store::Store;

/// The NIST SP 800-63 revision our IAL values refer to (800-63-4 renumbers the levels).
pub const NIST_REVISION: &str = "800-63-3";

/// Shared state handed to every handler.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
}

/// The backend's routes with the common layers applied. `extra` lets the demo add its pages.
pub fn build_router(state: AppState, config: &Config, extra: Router<AppState>) -> Router {
    api::routes()
        .merge(extra)
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(middleware::from_fn(api::json_errors))
        .layer(RequestBodyLimitLayer::new(config.max_body))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// A bound, not yet running, HTTP server.
pub struct Server {
    listener: TcpListener,
    router: Router,
}

impl Server {
    pub async fn bind(addr: SocketAddr, router: Router) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        Ok(Self { listener, router })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await?;
        Ok(())
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
