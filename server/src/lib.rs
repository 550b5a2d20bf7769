//! Freshsales IDV backend.
//!
//! `build_router` assembles the HTTP surface; [`Server`] binds it (port 0 in tests) and runs it
//! until a shutdown signal. `main.rs` only parses the command line and calls in here.

pub mod adapters;
pub mod clock;
pub mod config;
pub mod crypto;
#[cfg(feature = "twins")]
pub mod demo;
pub mod domain;
pub mod error;
pub mod http;
pub mod ports;
pub mod services;
#[cfg(feature = "twins")]
pub mod sim;
pub mod store;
pub mod telemetry;
#[cfg(feature = "twins")]
pub mod testkit;
pub mod webhook;

use std::{future::Future, net::SocketAddr, sync::Arc};

use axum::Router;
use tokio::net::TcpListener;

pub use config::Config;
use services::{Services, Settings};
pub use store::Store;
use tokio_util::sync::CancellationToken;

pub use domain::status::NIST_REVISION;

/// Shared state handed to every handler.
#[derive(Clone, Debug)]
pub struct AppState {
    pub services: Arc<Services>,
}

impl AppState {
    pub fn new(services: Arc<Services>) -> Self {
        Self { services }
    }
}

/// A backend process: store, services, workers and HTTP server, running until stopped.
pub struct Running {
    pub addr: SocketAddr,
    /// The operator's address (`/metrics`).
    pub ops_addr: SocketAddr,
    pub state: AppState,
    cancel: CancellationToken,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    ops: tokio::task::JoinHandle<anyhow::Result<()>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Connects the store, wires the services, starts the workers (unless `config.no_workers`)
    /// and serves `build_router(…, extra)` on `config.bind` (port 0 in tests).
    pub async fn start(
        config: &Config,
        sealer: crypto::Sealer,
        settings: Settings,
        extra: Router<AppState>,
    ) -> anyhow::Result<Self> {
        let store = Store::connect(&config.database_url).await?;
        Self::start_with(config, wire_services(store, sealer, settings), extra).await
    }

    pub async fn start_with(
        config: &Config,
        services: Services,
        extra: Router<AppState>,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.bind))?;
        Self::serve(listener, config, services, extra).await
    }

    /// As [`Running::start_with`], on a listener the caller bound (to know its address first).
    pub async fn serve(
        listener: TcpListener,
        config: &Config,
        services: Services,
        extra: Router<AppState>,
    ) -> anyhow::Result<Self> {
        let ops_listener = TcpListener::bind(config.ops_bind).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on the operator's address {}: {e}",
                config.ops_bind
            )
        })?;
        let state = AppState::new(Arc::new(services));
        let cancel = CancellationToken::new();
        let workers = if config.no_workers {
            Vec::new()
        } else {
            services::workers::spawn(&state.services, cancel.clone())
        };
        let server = Server::new(listener, build_router(state.clone(), config, extra))
            .with_limits(config.conn_limits());
        let addr = server.local_addr();
        let ops = Server::new(ops_listener, http::ops::ops_router(state.clone())).with_limits(
            ConnLimits {
                max_connections: 64,
                max_per_peer: 0,
                ..config.conn_limits()
            },
        );
        let ops_addr = ops.local_addr();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (ops_tx, ops_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(server.run(async {
            let _ = rx.await;
            let _ = ops_tx.send(());
        }));
        let ops = tokio::spawn(ops.run(async {
            let _ = ops_rx.await;
        }));
        Ok(Self {
            addr,
            ops_addr,
            ops,
            state,
            cancel,
            shutdown: Some(tx),
            server,
            workers,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The operator's address as a URL (`{ops_url}/metrics`).
    pub fn ops_url(&self) -> String {
        format!("http://{}", self.ops_addr)
    }

    pub fn services(&self) -> &Arc<Services> {
        &self.state.services
    }

    /// Stops accepting requests, lets in-flight ones finish, stops the workers, closes the pool.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let served = (&mut self.server).await;
        let _ = (&mut self.ops).await;
        self.cancel.cancel();
        for w in self.workers.drain(..) {
            let _ = w.await;
        }
        self.state.services.core.store().close().await;
        served??;
        Ok(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The services wired to the production adapters (the real 1Kosmos and Freshsales clients; the
/// simulators' base URLs make the same clients talk to the twins).
pub fn wire_services(store: Store, sealer: crypto::Sealer, settings: Settings) -> Services {
    let connector = std::sync::Arc::new(adapters::Adapters {
        timeout: settings.http_timeout,
        oauth_app: settings.oauth_app.clone(),
    });
    Services::new(services::Core::new(store, sealer, settings, connector))
}

/// The backend's routes with the common layers applied (see [`http::router`]).
pub fn build_router(state: AppState, config: &Config, extra: Router<AppState>) -> Router {
    http::router(state, config, extra)
}

/// What one HTTP server admits: how long a client may take to send a request's headers, and
/// how many connections it holds at once, in all and from one peer address (one more is
/// answered 503 and closed at once, so one client cannot take every slot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    pub header_read_timeout: std::time::Duration,
    pub max_connections: usize,
    /// Connections one peer address may hold at once; 0 for no cap of its own (behind a
    /// proxy every connection comes from the proxy's address).
    pub max_per_peer: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: std::time::Duration::from_secs(10),
            max_connections: 1024,
            max_per_peer: 0,
        }
    }
}

/// The connections each peer address holds, for [`ConnLimits::max_per_peer`].
#[derive(Debug, Default, Clone)]
struct PeerSlots(Arc<parking_lot::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>);

/// One connection's hold on its peer's count; released when dropped.
struct PeerSlot {
    slots: PeerSlots,
    peer: std::net::IpAddr,
}

impl PeerSlots {
    /// A slot for `peer`, unless it holds `cap` already (`cap` 0: no cap).
    fn try_take(&self, peer: std::net::IpAddr, cap: usize) -> Option<PeerSlot> {
        let mut held = self.0.lock();
        let n = held.entry(peer).or_default();
        if cap != 0 && *n >= cap {
            return None;
        }
        *n += 1;
        Some(PeerSlot {
            slots: self.clone(),
            peer,
        })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut held = self.slots.0.lock();
        if let Some(n) = held.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.peer);
            }
        }
    }
}

/// A bound, not yet running, HTTP server.
pub struct Server {
    listener: TcpListener,
    router: Router,
    limits: ConnLimits,
}

/// The answer to a connection over the cap, written before it is closed.
fn over_capacity() -> Vec<u8> {
    let body = r#"{"error":"unavailable","message":"the server is at its connection limit; retry shortly"}"#;
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\n\
         retry-after: 1\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

impl Server {
    pub async fn bind(addr: SocketAddr, router: Router) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        Ok(Self::new(listener, router))
    }

    /// A server on a listener the caller bound, with the default [`ConnLimits`].
    pub fn new(listener: TcpListener, router: Router) -> Self {
        Self {
            listener,
            router,
            limits: ConnLimits::default(),
        }
    }

    pub fn with_limits(mut self, limits: ConnLimits) -> Self {
        self.limits = limits;
        self
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish. A connection that
    /// has not sent a request's headers within the header-read timeout is closed (slow clients
    /// cannot hold connections open), and connections over the cap are refused at once.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        use hyper_util::{
            rt::{TokioIo, TokioTimer},
            server::graceful::GracefulShutdown,
            service::TowerToHyperService,
        };
        let Self {
            listener,
            router,
            limits,
        } = self;
        let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
        let peers = PeerSlots::default();
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout);
        let graceful = GracefulShutdown::new();
        let refusal = over_capacity();
        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: wait instead of spinning.
                        tracing::warn!(error = %e, "accepting a connection");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let Some(peer_slot) = peers.try_take(peer.ip(), limits.max_per_peer) else {
                let _ = stream.try_write(&refusal);
                continue;
            };
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                let _ = stream.try_write(&refusal);
                continue;
            };
            let _ = stream.set_nodelay(true);
            let service = TowerToHyperService::new(router.clone());
            let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                let _ = conn.await;
                drop(slot);
                drop(peer_slot);
            });
        }
        drop(listener);
        graceful.shutdown().await;
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
