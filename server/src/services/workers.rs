//! The background workers: poller and expiry, CRM write-back, the periodic check (set-up
//! re-check and missed CRM events), retention.

use tokio_util::sync::CancellationToken;

use super::wiring::Services;

/// Runs the poller, expiry job and CRM sync worker until `cancel` fires.
pub fn spawn(services: &Services, cancel: CancellationToken) -> Vec<tokio::task::JoinHandle<()>> {
    let poller = {
        let e = services.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            loop {
                let busy = match e.poller.poll_once().await {
                    Ok(n) => n > 0,
                    Err(err) => {
                        tracing::warn!(error = %err, "poller");
                        false
                    }
                };
                if let Err(err) = e.expiry.expire_once().await {
                    tracing::warn!(error = %err, "expiry job");
                }
                if let Err(err) = e.expiry.sweep_unstarted_once().await {
                    tracing::warn!(error = %err, "unstarted sessions sweep");
                }
                if let Err(err) = e.expiry.expire_abandoned_once().await {
                    tracing::warn!(error = %err, "abandoned sessions sweep");
                }
                if let Err(err) = e.actions.time_out_actions_once().await {
                    tracing::warn!(error = %err, "waiting workflow actions sweep");
                }
                if busy {
                    continue;
                }
                tokio::select! {
                    () = cancel.cancelled() => break,
                    () = e.core.wake_poll.notified() => {},
                    () = tokio::time::sleep(e.core.settings.tick) => {},
                }
            }
        })
    };
    let syncer = {
        let e = services.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            // The gauges follow the rows this worker changes (and what woke it).
            let mut stale = true;
            let mut refreshed = std::time::Instant::now();
            loop {
                // OAuth access tokens are renewed before the writes that need them (only
                // a backend registered as an OAuth app has any to renew).
                if e.core.settings.oauth_app.is_some() {
                    let lease = e.core.settings.http_timeout * 3;
                    if let Err(err) = e
                        .core
                        .tenants
                        .refresh_due_tokens(e.core.settings.token_refresh_margin, lease)
                        .await
                    {
                        tracing::warn!(error = %err, "CRM token refresh");
                    }
                }
                let busy = match e.outbox.sync_once().await {
                    Ok(n) => n > 0,
                    Err(err) => {
                        tracing::warn!(error = %err, "sync worker");
                        false
                    }
                };
                if busy || stale || refreshed.elapsed() >= super::gauges::GAUGE_REFRESH {
                    if let Err(err) = e.gauges.refresh_gauges().await {
                        tracing::warn!(error = %err, "metrics gauges");
                    }
                    refreshed = std::time::Instant::now();
                }
                stale = busy;
                if busy {
                    continue;
                }
                tokio::select! {
                    () = cancel.cancelled() => break,
                    () = e.core.wake_sync.notified() => stale = true,
                    () = tokio::time::sleep(e.core.settings.tick) => {},
                }
            }
        })
    };
    let setup = {
        let e = services.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = cancel.cancelled() => break,
                    () = tokio::time::sleep(e.core.settings.setup_recheck) => {},
                }
                if let Err(err) = e.reconcile.periodic_check().await {
                    tracing::warn!(error = %err, "periodic check");
                }
            }
        })
    };
    let retention = {
        let e = services.clone();
        tokio::spawn(async move {
            loop {
                if let Err(err) = e.retention.retention_once().await {
                    tracing::warn!(error = %err, "retention job");
                }
                tokio::select! {
                    () = cancel.cancelled() => break,
                    () = tokio::time::sleep(e.core.settings.retention.every) => {},
                }
            }
        })
    };
    vec![poller, syncer, setup, retention]
}
