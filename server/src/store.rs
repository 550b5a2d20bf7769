//! Storage: one code path over SQLite (the embedded default) and PostgreSQL.
//!
//! Queries go through sqlx's `Any` driver, written in the SQL both engines accept
//! (`$1` placeholders, `ON CONFLICT`, `RETURNING`); the few statements that differ ask
//! [`Store::backend`]. Each engine has its own migration folder because DDL types differ.

use std::{path::Path, str::FromStr, time::Duration};

use anyhow::Context;
use idv_types::{ContactStatus, SessionState};
use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    migrate::Migrator,
    AnyPool, Executor, Row,
};

use crate::{
    clock,
    domain::status::{self, IdvFacts, NIST_REVISION},
    error::Result,
};

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

/// A write transaction (on SQLite, holding the process's write gate until it ends).
pub struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _gate: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

/// A tenant as the auth layer needs it.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub token_hash: String,
}

/// A verification row to insert.
#[derive(Debug, Clone)]
pub struct NewVerification {
    pub id: String,
    pub tenant_id: String,
    pub contact_id: i64,
    pub kind: &'static str,
    pub state: &'static str,
    pub ial_level: Option<String>,
    pub document_type: Option<String>,
    pub match_confidence: Option<f64>,
    pub completed_at: Option<i64>,
    pub valid_until: Option<i64>,
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
            });
        if backend == Backend::Sqlite {
            pool = pool.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
                         PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
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
    pub async fn begin(&self) -> Result<WriteTx> {
        let gate = self.write_gate().await;
        Ok(WriteTx {
            tx: self.pool.begin().await?,
            _gate: gate,
        })
    }

    /// The pool, for the engine's queries.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A cheap round trip, for `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn insert_tenant(&self, id: &str, name: &str, token_hash: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO tenants (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(name)
        .bind(token_hash)
        .bind(clock::now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Replaces a tenant's token hash; `false` if there is no such tenant.
    pub async fn rotate_token(&self, tenant_id: &str, token_hash: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE tenants SET token_hash = $1 WHERE id = $2")
            .bind(token_hash)
            .bind(tenant_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn tenant_by_token_hash(&self, token_hash: &str) -> Result<Option<Tenant>> {
        let row = sqlx::query("SELECT id, name, token_hash FROM tenants WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| Tenant {
            id: r.get(0),
            name: r.get(1),
            token_hash: r.get(2),
        }))
    }

    /// Records that a contact exists (idempotent).
    pub async fn upsert_contact(
        &self,
        tenant_id: &str,
        contact_id: i64,
        liveid_enrolled: bool,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO contacts (tenant_id, contact_id, liveid_enrolled, created_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, contact_id) DO UPDATE SET liveid_enrolled = excluded.liveid_enrolled",
        )
        .bind(tenant_id)
        .bind(contact_id)
        .bind(i64::from(liveid_enrolled))
        .bind(clock::now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn insert_verification(&self, v: &NewVerification) -> Result<()> {
        let now = clock::now_ms();
        sqlx::query(
            "INSERT INTO verifications (id, tenant_id, contact_id, kind, state, ial_level, ial_revision, \
             document_type, match_confidence_bp, created_at, updated_at, completed_at, valid_until) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12)",
        )
        .bind(&v.id)
        .bind(&v.tenant_id)
        .bind(v.contact_id)
        .bind(v.kind)
        .bind(v.state)
        .bind(v.ial_level.as_deref())
        .bind(v.ial_level.as_ref().map(|_| NIST_REVISION))
        .bind(v.document_type.as_deref())
        .bind(v.match_confidence.map(confidence_to_bp))
        .bind(now)
        .bind(v.completed_at)
        .bind(v.valid_until)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records that a contact exists, keeping its enrolment if already known.
    pub async fn upsert_contact_keep(&self, tenant_id: &str, contact_id: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO contacts (tenant_id, contact_id, liveid_enrolled, created_at) \
             VALUES ($1, $2, 0, $3) ON CONFLICT (tenant_id, contact_id) DO NOTHING",
        )
        .bind(tenant_id)
        .bind(contact_id)
        .bind(clock::now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether an inbound delivery id was recorded already (a read, no write lock).
    pub async fn delivery_seen(&self, tenant: &str, source: &str, id: &str) -> Result<bool> {
        let seen = sqlx::query(
            "SELECT 1 FROM inbound_events WHERE tenant_id = $1 AND source = $2 AND event_id = $3",
        )
        .bind(tenant)
        .bind(source)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(seen.is_some())
    }

    /// Records an inbound delivery id; `false` if it was seen before.
    pub async fn record_delivery(&self, tenant: &str, source: &str, id: &str) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO inbound_events (tenant_id, source, event_id, received_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, source, event_id) DO NOTHING",
        )
        .bind(tenant)
        .bind(source)
        .bind(id)
        .bind(clock::now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Forgets a delivery whose handling failed, so the sender's retry is not a duplicate.
    pub async fn forget_delivery(&self, tenant: &str, source: &str, id: &str) -> Result<()> {
        sqlx::query(
            "DELETE FROM inbound_events WHERE tenant_id = $1 AND source = $2 AND event_id = $3",
        )
        .bind(tenant)
        .bind(source)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Sessions by kind and state, for `/metrics`.
    pub async fn session_counts(&self) -> Result<Vec<(String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT kind, state, COUNT(*) FROM verifications GROUP BY kind, state ORDER BY kind, state",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    /// The contact's derived status, or `None` if this tenant has no such contact.
    pub async fn contact_status(
        &self,
        tenant_id: &str,
        contact_id: i64,
    ) -> Result<Option<ContactStatus>> {
        let mut conn = self.pool.acquire().await?;
        self.contact_status_on(&mut conn, tenant_id, contact_id)
            .await
    }

    /// [`Store::contact_status`] on a given connection (inside the caller's transaction).
    pub async fn contact_status_on(
        &self,
        conn: &mut sqlx::AnyConnection,
        tenant_id: &str,
        contact_id: i64,
    ) -> Result<Option<ContactStatus>> {
        let Some(contact) = sqlx::query(
            "SELECT liveid_enrolled FROM contacts WHERE tenant_id = $1 AND contact_id = $2",
        )
        .bind(tenant_id)
        .bind(contact_id)
        .fetch_optional(&mut *conn)
        .await?
        else {
            return Ok(None);
        };
        let liveid_enrolled: i64 = contact.get(0);
        // The rule (crate::domain::status) reads the latest IDV session that was not canceled.
        let idv = sqlx::query(
            "SELECT state, ial_level, ial_revision, document_type, match_confidence_bp, completed_at, valid_until \
             FROM verifications WHERE tenant_id = $1 AND contact_id = $2 AND kind = 'idv' AND state <> 'canceled' \
             ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(tenant_id)
        .bind(contact_id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| IdvFacts {
            state: SessionState::parse(&r.get::<String, _>(0)).unwrap_or(SessionState::Failed),
            ial_level: r.get(1),
            ial_revision: r.get(2),
            document_type: r.get(3),
            match_confidence: r.get::<Option<i64>, _>(4).map(bp_to_confidence),
            completed_at: r.get(5),
            valid_until: r.get(6),
        });
        let stepup = sqlx::query(
            "SELECT MAX(completed_at) FROM verifications \
             WHERE tenant_id = $1 AND contact_id = $2 AND kind = 'stepup' AND state = 'verified'",
        )
        .bind(tenant_id)
        .bind(contact_id)
        .fetch_one(&mut *conn)
        .await?
        .get::<Option<i64>, _>(0);
        Ok(Some(status::contact_status(
            contact_id as u64,
            liveid_enrolled != 0,
            idv.as_ref(),
            stepup,
            clock::now_ms(),
        )))
    }
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
}
