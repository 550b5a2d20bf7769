//! The operator's day to day: `server check` (each tenant's connections, read-only), `server
//! sync` (the write-back queue), `server contact forget` (a person's erasure) and `server audit`
//! (the trail).

use std::io::Write;

use clap::{Args, Subcommand};
use idv_server::{
    crypto::Sealer,
    services::{audit, tenant, Settings},
    store::AuditQuery,
    wire_services, Store,
};

use super::{services, Db};

/// `server check`'s arguments.
#[derive(Args)]
pub struct CheckArgs {
    /// Only this tenant.
    #[arg(long)]
    pub tenant: Option<String>,
    #[arg(long, env = "IDV_PUBLIC_URL", default_value = idv_server::config::DEFAULT_PUBLIC_URL)]
    pub public_url: String,
    #[command(flatten)]
    pub db: Db,
}

/// `server check`: each tenant's CRM and identity-provider connections tried, with remedies.
pub async fn check(out: &mut impl Write, args: CheckArgs) -> anyhow::Result<()> {
    let CheckArgs {
        tenant: only,
        public_url,
        db,
    } = args;
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
    Ok(())
}

#[derive(Subcommand)]
pub enum SyncCmd {
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

pub async fn sync(out: &mut impl Write, cmd: SyncCmd) -> anyhow::Result<()> {
    match cmd {
        SyncCmd::Status { db } => {
            let e = services(&db).await?;
            for (state, n) in e.outbox.sync_counts().await? {
                writeln!(out, "{state}\t{n}")?;
            }
            for (tenant, key, kind, error) in e.outbox.dead_rows().await? {
                writeln!(out, "dead\t{tenant}\t{key}\t{kind}\t{error}")?;
            }
            e.core.store().close().await;
        }
        SyncCmd::Replay { tenant, db } => {
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

#[derive(Subcommand)]
pub enum ContactCmd {
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

pub async fn contact(out: &mut impl Write, cmd: ContactCmd) -> anyhow::Result<()> {
    let ContactCmd::Forget {
        tenant,
        contact,
        db,
    } = cmd;
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
    Ok(())
}

/// `server audit`'s arguments.
#[derive(Args)]
pub struct AuditArgs {
    /// Only this tenant.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Only lines about this contact (its sessions, and CRM writes for it).
    #[arg(long)]
    pub contact: Option<i64>,
    /// From this time on: RFC 3339 (2026-12-01T09:00:00Z) or a duration back (30m, 12h, 7d).
    #[arg(long)]
    pub since: Option<String>,
    /// At most this many lines (the newest that match).
    #[arg(long, default_value_t = 10_000)]
    pub limit: i64,
    #[arg(long, env = "DATABASE_URL", default_value = idv_server::config::DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

/// `server audit`: the trail, oldest first, tab-separated.
pub async fn audit(out: &mut impl Write, args: AuditArgs) -> anyhow::Result<()> {
    let AuditArgs {
        tenant,
        contact,
        since,
        limit,
        database_url,
    } = args;
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
    Ok(())
}
