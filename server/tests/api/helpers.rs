//! `spawn_app()`: the backend on port 0 with a fresh database (SQLite file or PostgreSQL).

use std::net::SocketAddr;

use idv_server::{
    build_router,
    crypto::Sealer,
    http::auth,
    services::Settings,
    store::{NewVerification, Store},
    AppState, Config, Server,
};
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

pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub store: Store,
    /// The first tenant and its token.
    pub tenant: String,
    pub token: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
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

pub async fn spawn_app(db: Db) -> Option<TestApp> {
    if std::env::var("TEST_LOG").is_ok() {
        idv_server::telemetry::init();
    }
    let url = fresh_database(db).await?;
    let config = Config::for_database(url);
    let store = Store::connect(&config.database_url).await.expect("store");
    let token = auth::generate_token();
    let tenant = "tenant_a".to_string();
    store
        .insert_tenant(&tenant, "Tenant A", &auth::hash_token(&token))
        .await
        .unwrap();
    let sealer = Sealer::from_base64(&Sealer::generate_key().into()).unwrap();
    let services = std::sync::Arc::new(idv_server::wire_services(
        store.clone(),
        sealer,
        Settings::default(),
    ));
    let router = build_router(AppState::new(services), &config, Default::default());
    let server = Server::bind(config.bind, router).await.unwrap();
    let addr = server.local_addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    Some(TestApp {
        addr,
        http: reqwest::Client::new(),
        store,
        tenant,
        token,
        shutdown: Some(tx),
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// GET with this app's tenant token.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    /// Adds a second tenant and returns its token.
    pub async fn add_tenant(&self, id: &str) -> String {
        let token = auth::generate_token();
        self.store
            .insert_tenant(id, id, &auth::hash_token(&token))
            .await
            .unwrap();
        token
    }

    pub async fn add_verification(
        &self,
        tenant: &str,
        contact: i64,
        kind: &'static str,
        state: &'static str,
        valid_until: Option<i64>,
    ) {
        let id: u64 = rand::thread_rng().gen();
        let verified = state == "verified";
        self.store
            .insert_verification(&NewVerification {
                id: format!("ver_{id:016x}"),
                tenant_id: tenant.into(),
                contact_id: contact,
                kind,
                state,
                ial_level: verified.then(|| "IAL2".into()),
                document_type: verified.then(|| "passport".into()),
                match_confidence: verified.then_some(0.93),
                completed_at: (state != "pending").then(idv_server::clock::now_ms),
                valid_until,
                failure: None,
            })
            .await
            .unwrap();
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
