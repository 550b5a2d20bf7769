//! Storage: one code path over SQLite (the embedded default) and PostgreSQL.
//!
//! Queries go through sqlx's `Any` driver, written in the SQL both engines accept
//! (`$1` placeholders, `ON CONFLICT`, `RETURNING`); the few statements that differ ask
//! [`Store::backend`]. Each engine has its own migration folder because DDL types differ.
//!
//! Every SQL statement of the backend lives under this folder, one file per table or aggregate.
//! Statements that run on the pool are methods of [`Store`]; statements that run inside the
//! caller's transaction (or on one held connection) are methods of [`Conn`], reached through a
//! [`Tx`] from [`Store::begin`] or a [`Pooled`] connection from [`Store::acquire`].

mod actions;
mod audit;
mod budget;
mod chat;
mod contacts;
mod deals;
mod inbound;
mod kept;
mod outbox;
mod passes;
mod reconcile;
mod retention;
mod sealed_values;
mod setup;
mod tenants;
mod verifications;

pub mod periodic;

use std::{path::Path, str::FromStr, time::Duration};

use anyhow::Context;
use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    migrate::Migrator,
    AnyPool, Executor,
};

pub use self::{
    actions::WaitingAction,
    audit::{AuditQuery, AuditRow},
    budget::{BucketShape, BudgetRow, BudgetShape},
    chat::ChatSession,
    contacts::{status_stamps_sql, StatusStamp},
    deals::CachedDeal,
    inbound::{Callback, Recorded},
    kept::Kept,
    outbox::{Claimed, Enqueue},
    passes::Pass,
    reconcile::Sweep,
    sealed_values::{RowKey, SealedCell},
    tenants::{SealedColumn, SealedConnections, Tenant, TenantRecord, WebhookSecret},
    verifications::{
        Expired, Finish, NewVerification, PendingIdv, SessionStarted, VerificationRow,
    },
};
use crate::error::Result;

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Picks the engine from a connection URL.
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite: or postgres:")
        }
    }

    /// The row lock a claim takes: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so replicas claim
    /// different rows; nothing on SQLite, whose writers take turns anyway.
    pub fn claim_lock(self) -> &'static str {
        if self == Self::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        }
    }
}

/// The backend's database.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite takes one writer at a time; queueing writers here, in order, spares them the
    /// busy handler's sleeps (which otherwise make the tail latency).
    write_gate: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for sqlx::AnyConnection {}
    impl Sealed for sqlx::pool::PoolConnection<sqlx::Any> {}
    impl Sealed for sqlx::Transaction<'static, sqlx::Any> {}
    impl Sealed for super::Tx {}
    impl Sealed for super::Pooled {}
}

/// A connection the store's statements run on: a write transaction ([`Tx`]) or one pooled
/// connection ([`Pooled`]). The statements themselves are inherent methods of `dyn Conn`, in
/// the file of their table.
pub trait Conn: Send + sealed::Sealed {
    #[doc(hidden)]
    fn raw(&mut self) -> &mut sqlx::AnyConnection;
}

impl Conn for sqlx::AnyConnection {
    fn raw(&mut self) -> &mut sqlx::AnyConnection {
        self
    }
}

impl Conn for sqlx::pool::PoolConnection<sqlx::Any> {
    fn raw(&mut self) -> &mut sqlx::AnyConnection {
        self
    }
}

impl Conn for sqlx::Transaction<'static, sqlx::Any> {
    fn raw(&mut self) -> &mut sqlx::AnyConnection {
        self
    }
}

/// A write transaction (on SQLite, holding the process's write gate until it ends). Dropped
/// without [`Tx::commit`], it rolls back.
pub struct Tx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _gate: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl Conn for Tx {
    fn raw(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

impl std::ops::Deref for Tx {
    type Target = dyn Conn;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// One connection from the pool, outside any transaction: each statement commits on its own.
/// From [`Store::writer`] it holds the SQLite write gate until dropped.
pub struct Pooled {
    conn: sqlx::pool::PoolConnection<sqlx::Any>,
    _gate: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Conn for Pooled {
    fn raw(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.conn
    }
}

impl std::ops::Deref for Pooled {
    type Target = dyn Conn;
    fn deref(&self) -> &Self::Target {
        &self.conn
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.conn
    }
}

impl Store {
    /// Connects (creating the SQLite file and its folder if needed) and applies migrations.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        if backend == Backend::Sqlite {
            if let Some(dir) = sqlite_file(url).and_then(|p| p.parent().map(Path::to_path_buf)) {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(&dir)
                        .with_context(|| format!("creating database folder {}", dir.display()))?;
                }
            }
        }
        let options = AnyConnectOptions::from_str(url).context("parsing DATABASE_URL")?;
        let mut pool = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(5))
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            // A PostgreSQL connection can be lost (a restart, a proxy): it is checked before
            // each use. SQLite's are files in this process: the check would only cost a round
            // trip to the connection's thread before every statement or transaction.
            .test_before_acquire(backend == Backend::Postgres);
        if backend == Backend::Sqlite {
            // FULL: an acknowledged commit (a callback answered 2xx, a started session)
            // survives a power loss, not only a crash of the process. Each connection keeps
            // 256 KiB of pages (SQLite's default is 2 MiB, eight connections: 16 MiB of a large
            // database held idle); the operating system caches the file as well, and at a
            // year's volume 256 KiB read and ingest as fast as 1 MiB did, 3.5 MB lighter at
            // rest (bench/RESULTS.md).
            pool = pool.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
                         PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; \
                         PRAGMA cache_size = -256; PRAGMA optimize = 0x10002;",
                    )
                    .await?;
                    Ok(())
                })
            });
        }
        let pool = pool
            .connect_with(options)
            .await
            .context("connecting to the database")?;
        let store = Self {
            pool,
            backend,
            write_gate: Default::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations for this engine.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATOR,
            Backend::Postgres => &POSTGRES_MIGRATOR,
        };
        migrator
            .run(&self.pool)
            .await
            .context("applying migrations")?;
        Ok(())
    }

    /// On SQLite, waits for this process's turn to write (hold the guard across the writes).
    pub async fn write_gate(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_gate.clone().lock_owned().await),
            Backend::Postgres => None,
        }
    }

    /// Begins a write transaction.
    pub async fn begin(&self) -> Result<Tx> {
        let gate = self.write_gate().await;
        Ok(Tx {
            tx: self.pool.begin().await?,
            _gate: gate,
        })
    }

    /// One connection for a few reads that each commit on their own (writes take
    /// [`Store::writer`]).
    pub async fn acquire(&self) -> Result<Pooled> {
        Ok(Pooled {
            conn: self.pool.acquire().await?,
            _gate: None,
        })
    }

    /// One connection for writes that each commit on their own, holding the SQLite write gate
    /// until it is dropped: every write of the process, in a transaction or not, takes its turn
    /// at the one gate.
    pub async fn writer(&self) -> Result<Pooled> {
        let gate = self.write_gate().await;
        Ok(Pooled {
            conn: self.pool.acquire().await?,
            _gate: gate,
        })
    }

    /// The pool, for tools and tests that run their own SQL.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Keeps the planner's statistics current: SQLite gathers none by itself (`PRAGMA
    /// optimize` analyzes what changed enough); PostgreSQL's autovacuum does it already.
    pub async fn optimize(&self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            let _gate = self.write_gate().await;
            sqlx::query("PRAGMA optimize").execute(&self.pool).await?;
        }
        Ok(())
    }

    /// A cheap round trip, for `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Whether a statement failed on a unique index (a concurrent insert won).
fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Match confidence is stored as integer basis points (exact on every engine).
pub fn confidence_to_bp(c: f64) -> i64 {
    (c.clamp(0.0, 1.0) * 10_000.0).round() as i64
}

pub fn bp_to_confidence(bp: i64) -> f64 {
    bp as f64 / 10_000.0
}

/// The file path inside a `sqlite:` URL, if it names a file.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

/// The items, the last repeated up to the next power of two (none for none): a statement
/// written for a batch's size is written for one of a few sizes instead, each prepared once per
/// connection, and a repeat asks or writes nothing more.
fn padded<T: Copy>(items: &[T]) -> Vec<T> {
    let Some(last) = items.last() else {
        return Vec::new();
    };
    let mut all = items.to_vec();
    all.resize(items.len().next_power_of_two(), *last);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_file("sqlite://data/idv.db?mode=rwc"),
            Some("data/idv.db".into())
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://x"), None);
    }

    #[test]
    fn backend_is_chosen_by_scheme() {
        assert_eq!(Backend::from_url("sqlite://a.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert!(Backend::from_url("mysql://x").is_err());
    }

    #[test]
    fn a_batch_is_padded_with_its_last_item_to_a_power_of_two() {
        assert_eq!(padded::<u8>(&[]), Vec::<u8>::new());
        assert_eq!(padded(&[7]), [7]);
        assert_eq!(padded(&[1, 2, 3]), [1, 2, 3, 3]);
        assert_eq!(padded(&[1, 2, 3, 4]), [1, 2, 3, 4]);
        assert_eq!(padded(&[1, 2, 3, 4, 5]), [1, 2, 3, 4, 5, 5, 5, 5]);
    }

    #[test]
    fn confidence_round_trips_through_basis_points() {
        assert_eq!(confidence_to_bp(0.9734), 9734);
        assert_eq!(confidence_to_bp(1.5), 10_000);
        assert!((bp_to_confidence(9734) - 0.9734).abs() < 1e-12);
    }
}
