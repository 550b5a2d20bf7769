//! The database matrix (`both!`, `both_worlds!`), a fresh database per test, and the shape of an
//! error answer.

use std::net::SocketAddr;

use rand::Rng;

/// Which engine a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Runs a test body once per engine: `both!(name, body)` makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$body($crate::helpers::Db::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$body($crate::helpers::Db::Postgres).await
            }
        }
    };
}

/// Runs a test body once per engine, each in a world of twins of its own:
/// `both_worlds!(name, body)` with `async fn body(w: World)` makes `name::sqlite` and
/// `name::postgres` (the latter passes unrun where `spawn_world` finds no PostgreSQL).
#[macro_export]
macro_rules! both_worlds {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                if let Some(w) = $crate::world::spawn_world($crate::helpers::Db::Sqlite).await {
                    super::$body(w).await
                }
            }
            #[tokio::test]
            async fn postgres() {
                if let Some(w) = $crate::world::spawn_world($crate::helpers::Db::Postgres).await {
                    super::$body(w).await
                }
            }
        }
    };
}

/// The PostgreSQL server to create test databases on.
///
/// `DATABASE_URL` (postgres://…) wins; else 127.0.0.1:5432. A PostgreSQL test that runs without
/// a server fails: it never passes having done nothing. `cargo xtask test` leaves the PostgreSQL
/// tests out (counted as skipped) when no server answers and none is required.
pub fn pg_admin_url() -> String {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        if url.starts_with("postgres") {
            return url;
        }
    }
    let reachable = std::net::TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], 5432)),
        std::time::Duration::from_millis(300),
    )
    .is_ok();
    assert!(
        reachable,
        "no PostgreSQL server: set DATABASE_URL to a postgres:// URL or start one on \
         127.0.0.1:5432 (`cargo xtask test` skips the PostgreSQL tests visibly when none is required)"
    );
    "postgres://postgres@127.0.0.1:5432/postgres".into()
}

/// A fresh database URL for one test (never `None`: a PostgreSQL test without a server fails in
/// `pg_admin_url`; the `Option` keeps the call sites' `let Some(..) else` shape).
pub async fn fresh_database(db: Db) -> Option<String> {
    let suffix: u64 = rand::thread_rng().gen();
    match db {
        Db::Sqlite => {
            let dir = std::env::temp_dir().join("idv-tests");
            std::fs::create_dir_all(&dir).unwrap();
            Some(format!(
                "sqlite://{}?mode=rwc",
                dir.join(format!("{suffix:016x}.db")).display()
            ))
        }
        Db::Postgres => {
            let admin = pg_admin_url();
            let name = format!("idvtest_{suffix:016x}");
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("connecting to the PostgreSQL admin database");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("creating a test database");
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            Some(format!("{base}/{name}"))
        }
    }
}

/// Asserts a JSON error body with the given status and code; returns the message.
pub async fn assert_error(res: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(res.status().as_u16(), status, "status");
    assert!(
        res.headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap().starts_with("application/json")),
        "error bodies are JSON ({} {:?})",
        res.status(),
        res.headers()
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], code, "{body}");
    let message = body["message"].as_str().unwrap().to_string();
    assert!(!message.is_empty());
    message
}
