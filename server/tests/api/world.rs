//! `spawn_world()`: the backend with its workers on port 0 and a fresh database, wired to the
//! simulators (Freshsales, 1Kosmos and Freshchat) on loopback, with a tenant installed the way
//! the app's `onAppInstall` does it.

use std::time::{Duration, Instant};

use idv_server::{
    crypto::Sealer,
    http::auth,
    services::{tenant, Policy, Settings},
    sim::{
        freshchat::FreshchatSim,
        freshsales::FreshsalesSim,
        kosmos::{KosmosSim, Outcome},
    },
    testkit::{Backend, TwinKeys, Twins},
    Config, Running, Store,
};
use serde_json::{json, Value};

use crate::helpers::{fresh_database, Db};

pub const ALIAS: &str = "acme";
pub const FS_KEY: &str = "fs-key-acme";
pub const KS_KEY: &str = "ks-key";
pub const KS_SECRET: &str = "ks-webhook-secret";
pub const WORKFLOW_SECRET: &str = "wf-secret-acme";
pub const TENANT: &str = "acme";

pub struct World {
    pub app: Running,
    pub http: reqwest::Client,
    pub token: String,
    pub fs: FreshsalesSim,
    pub ks: KosmosSim,
    pub fc: FreshchatSim,
    pub db_url: String,
    pub master_key: String,
    pub twins: Twins,
}

/// Fast schedules so tests finish in seconds; `idv_poll` long unless a test wants polling.
pub fn test_settings() -> Settings {
    Settings {
        retry_schedule: vec![Duration::from_millis(20); 4],
        coalesce: Duration::from_millis(50),
        idv_poll: vec![Duration::from_secs(600)],
        stepup_poll: Duration::from_secs(600),
        tick: Duration::from_millis(25),
        http_timeout: Duration::from_secs(2),
        allow_any_account_url: true,
        // The tests refresh OAuth tokens themselves (the workers only once a token has ended).
        token_refresh_margin: Duration::ZERO,
        ..Settings::default()
    }
}

/// Start limits no ordinary test reaches.
pub fn generous_start_limits() -> tenant::StartLimits {
    tenant::StartLimits {
        tenant_per_minute: 100_000,
        contact_per_hour: 100_000,
        forced_per_hour: 100_000,
        chat_conversation_per_hour: 100_000,
        chat_per_minute: 100_000,
        ..Default::default()
    }
}

pub async fn spawn_world(db: Db) -> Option<World> {
    spawn_world_with(db, test_settings(), Policy::default()).await
}

pub async fn spawn_world_with(db: Db, settings: Settings, policy: Policy) -> Option<World> {
    spawn_world_on(db, settings, policy, true).await
}

/// A world whose backend serves requests but runs no workers (no poller, no write-back): the
/// work is left to another process on the same database.
pub async fn spawn_world_without_workers(db: Db) -> Option<World> {
    spawn_world_on(db, test_settings(), Policy::default(), false).await
}

async fn spawn_world_on(
    db: Db,
    settings: Settings,
    policy: Policy,
    workers: bool,
) -> Option<World> {
    // `TEST_LOG=1` shows the backend's log (`RUST_LOG` picks what) while a test runs.
    if std::env::var("TEST_LOG").is_ok() {
        idv_server::telemetry::init();
    }
    let db_url = fresh_database(db).await?;
    let keys = TwinKeys {
        alias: ALIAS.into(),
        freshsales_key: FS_KEY.into(),
        hourly_limit: 1_000_000,
        kosmos_key: KS_KEY.into(),
        kosmos_webhook_secret: KS_SECRET.into(),
    };
    let twins = Twins::start(keys, |fs| {
        // Plenty of budget in a one-minute "hour": the rate-limit tests set their own.
        fs.with(ALIAS, |a| a.hour = Duration::from_secs(60));
        fs.seed_contact(
            ALIAS,
            11,
            "Ada",
            "Lovelace",
            "ada@example.com",
            "+44 20 7946 0018",
        );
        fs.seed_contact(
            ALIAS,
            12,
            "Grace",
            "Hopper",
            "grace@example.com",
            "(415) 555-0132",
        );
        fs.seed_deal(ALIAS, 501, "Acme expansion", 9000, 202, &[11]);
    })
    .await
    .unwrap();

    // The backend is registered as a HubSpot app with the HubSpot twin.
    let mut settings = settings;
    settings
        .oauth_app
        .get_or_insert_with(|| twins.hubspot_app());
    let store = Store::connect(&db_url).await.unwrap();
    let token = auth::generate_token();
    store
        .insert_tenant(TENANT, "Acme", &auth::hash_token(&token))
        .await
        .unwrap();
    let master_key = Sealer::generate_key();
    let sealer = Sealer::from_base64(&master_key.clone().into()).unwrap();
    // Freshsales comes with the install below, as in production.
    let connections = tenant::Connections {
        automator_secret: Some(WORKFLOW_SECRET.into()),
        hourly_limit: Some(1_000_000),
        rate_window_secs: Some(60),
        ..twins.connections(false)
    };
    let app = Backend {
        config: Config {
            no_workers: !workers,
            ..Config::for_database(db_url.clone())
        },
        settings,
        sealer,
        tenant: TENANT.into(),
        connections,
        policy: None,
        extra: Default::default(),
    }
    .serve(store)
    .await
    .unwrap();
    // Tests start many sessions; the limit tests set their own.
    tenant::set_start_limits(
        app.state.services.core.store(),
        TENANT,
        &generous_start_limits(),
    )
    .await
    .unwrap();
    app.services().core.tenants().forget(TENANT);
    let world = World {
        app,
        http: reqwest::Client::new(),
        token,
        fs: twins.freshsales.clone(),
        ks: twins.kosmos.clone(),
        fc: twins.freshchat.clone(),
        db_url: db_url.clone(),
        master_key,
        twins,
    };
    // Install as the serverless onAppInstall does.
    let res = world
        .install(
            FS_KEY,
            &json!({"account_url": world.account_url(), "policy": policy}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    Some(world)
}

impl World {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.url())
    }

    /// The SQLite file of this world's database.
    pub fn db_file(&self) -> std::path::PathBuf {
        let rest = self
            .db_url
            .strip_prefix("sqlite://")
            .expect("a SQLite world");
        rest.split('?').next().unwrap().into()
    }

    pub fn account_url(&self) -> String {
        self.twins.account_url()
    }

    /// Posts to `path` as the app's serverless code does: the token, and the body signed with
    /// the token's hash (a fresh delivery id each time).
    pub async fn post_signed(
        &self,
        path: &str,
        extra: &[(&str, &str)],
        body: &Value,
    ) -> reqwest::Response {
        self.post_signed_as(&self.token, path, extra, body).await
    }

    /// [`World::post_signed`] for the tenant of another API `token`, signed for the purpose
    /// of `path` as the serverless code signs it.
    pub async fn post_signed_as(
        &self,
        token: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: &Value,
    ) -> reqwest::Response {
        let body = serde_json::to_vec(body).unwrap();
        let id = idv_server::domain::ids::new_id("msg");
        let mut req = self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .header("content-type", "application/json");
        for (k, v) in idv_server::webhook::headers(
            &app_key(token, path),
            &id,
            idv_server::clock::now_secs(),
            &body,
        ) {
            req = req.header(k, v);
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        req.body(body).send().await.unwrap()
    }

    /// The serverless onAppInstall: signed, with the admin's Freshsales API key.
    pub async fn install(&self, key: &str, body: &Value) -> reqwest::Response {
        self.post_signed("/api/v1/install", &[("x-freshsales-api-key", key)], body)
            .await
    }

    /// The backend's database, for a test that sets a scene directly.
    pub fn store(&self) -> &Store {
        self.app.services().core.store()
    }

    /// Adds a second tenant (no connections) and returns its token.
    pub async fn add_tenant(&self, id: &str) -> String {
        let token = auth::generate_token();
        self.store()
            .insert_tenant(id, id, &auth::hash_token(&token))
            .await
            .unwrap();
        token
    }

    /// Records a finished or pending session of `kind` for a contact, as if it had run.
    pub async fn add_verification(
        &self,
        tenant: &str,
        contact: i64,
        kind: &'static str,
        state: &'static str,
        valid_until: Option<i64>,
    ) {
        use rand::Rng;
        let id: u64 = rand::thread_rng().gen();
        let verified = state == "verified";
        self.store()
            .insert_verification(&idv_server::store::NewVerification {
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

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn json(&self, path: &str) -> Value {
        let res = self.get(path).await;
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.json().await.unwrap()
    }

    /// Starts IDV for a contact and returns the session as the widget sees it.
    /// A client that honours a 429's `Retry-After` (the account's Freshsales budget is shared
    /// with the write-back worker), for at most a minute.
    pub async fn start_idv(&self, contact: u64) -> idv_types::Verification {
        let deadline = Instant::now() + Duration::from_secs(60);
        let res = loop {
            let res = self
                .post(
                    &format!("/api/v1/contacts/{contact}/verifications"),
                    json!({}),
                )
                .await;
            if res.status() != 429 || Instant::now() > deadline {
                break res;
            }
            let wait = res
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                .unwrap_or(1);
            tokio::time::sleep(Duration::from_secs(wait.min(5))).await;
        };
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        res.json().await.unwrap()
    }

    /// The simulated provider's session for one of our verification ids.
    pub fn provider_session(&self, reference: &str) -> String {
        self.ks
            .sessions()
            .into_iter()
            .find(|s| s.reference == reference)
            .expect("the provider has the session")
            .id
    }

    /// "The customer" finishes the hosted flow.
    pub fn customer(&self, reference: &str, outcome: &str) {
        let id = self.provider_session(reference);
        self.ks
            .complete(
                &id,
                &Outcome {
                    outcome: outcome.into(),
                    document_type: Some("drivers_license".into()),
                    confidence: Some(0.94),
                    reason: Some("document expired".into()),
                    ..Default::default()
                },
            )
            .unwrap();
    }

    /// Polls `path` until `check` holds (bounded: 10 s).
    pub async fn until(&self, path: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let v = self.json(path).await;
            if check(&v) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting on {path}: {v}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits until the simulated Freshsales holds what `check` wants (bounded: 10 s).
    pub async fn until_crm(&self, what: &str, check: impl Fn(&FreshsalesSim) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !check(&self.fs) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Calls the simulated Freshsales received, by method and path prefix.
    pub fn crm_calls(&self, method: &str, path: &str) -> usize {
        self.fs
            .calls(ALIAS)
            .iter()
            .filter(|c| {
                let p = c
                    .path
                    .trim_start_matches(&format!("/a/{ALIAS}/crm/sales/api"));
                c.method == method && p.starts_with(path) && c.status < 300
            })
            .count()
    }
}

/// The key the app's serverless code signs a request to `path` with, for the tenant of `token`.
pub fn app_key(token: &str, path: &str) -> Vec<u8> {
    let purpose = match path {
        "/api/v1/install" => auth::Purpose::Install,
        "/api/v1/uninstall" => auth::Purpose::Uninstall,
        _ => auth::Purpose::Event,
    };
    auth::signing_key(&auth::hash_token(token), purpose)
}
