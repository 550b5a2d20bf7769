//! Simulators of 1Kosmos, Freshsales, Freshdesk and Freshchat: real HTTP servers on loopback,
//! faithful to the contracts the clients speak, with fault switches. The demo and every test use
//! them; in production the same clients point at the real services.

pub mod blockid;
pub mod freshchat;
pub mod freshdesk;
pub mod freshsales;
pub mod hubspot;
pub mod kosmos;

use std::net::SocketAddr;

use axum::Router;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

/// A simulator served on its own port.
pub struct Served {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Served {
    pub async fn start(addr: SocketAddr, router: Router) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        Self::on(listener, router)
    }

    pub fn on(listener: TcpListener, router: Router) -> anyhow::Result<Self> {
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Self {
            addr,
            stop: Some(tx),
            task,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}
