//! `server demo`: the offline product loop on one machine.
//!
//! Seeds a tenant with contacts, then serves a page that looks like a Freshsales contact record
//! with the real widget (from the Freshworks `app/` folder) in its sidebar iframe. A small
//! stand-in for the Freshworks client (`/demo/fwclient.js`) replaces `{{{appclient}}}`.

use std::{path::PathBuf, sync::Arc};

use anyhow::Context;

use secrecy::SecretString;

use crate::{
    adapters::blockid::Curve,
    clock,
    crypto::Sealer,
    domain::reasons::Failure,
    http::auth,
    services::tenant::ProviderSettings,
    services::{tenant, Policy, Services, Settings},
    shutdown_signal,
    sim::{blockid::BlockIdSim, freshsales::FreshsalesSim, kosmos::KosmosSim, Served},
    store::{NewVerification, Store},
    testkit::{Backend, TwinKeys, Twins},
    Config, Running,
};

mod desk;
mod hubspot;
mod pages;
pub use desk::{desk_contact, DESK_DOMAIN, DESK_TENANT, TICKETS};
use pages::routes;

pub const DEMO_TENANT: &str = "demo";
/// The demo's own database, used when `DATABASE_URL` is left at the production default.
pub const DEMO_DATABASE_URL: &str = "sqlite://data/demo.db?mode=rwc";
/// The simulated Freshsales account's bundle alias and its user's API key.
pub const DEMO_ALIAS: &str = "demo";
const DEMO_FS_KEY: &str = "demo-freshsales-key";
const DEMO_KOSMOS_KEY: &str = "demo-kosmos-key";
const DEMO_KOSMOS_SECRET: &str = "demo-kosmos-webhook-secret";
const DEMO_BLOCKID_LICENCE: &str = "demo-blockid-licence";
/// The demo tenant's Workflow Automator secret.
const DEMO_WORKFLOW_SECRET: &str = "demo-workflow-secret";
const DEMO_BLOCKID_DVC: &str = "demo-blockid-dvc";

/// Which 1Kosmos wire format the demo tenant speaks (each to its own simulator twin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DemoProvider {
    /// The 1Kosmos design contract (`/v2/verify/sessions`, callbacks).
    #[default]
    Kosmos,
    /// The real BlockID platform: discovery, ECDH-encrypted calls, polled results, SMS.
    Blockid,
}

/// The BlockID twin of a demo on that provider.
struct BlockIdTwin {
    sim: BlockIdSim,
    served: Served,
}

/// A seeded deal: id, name, amount, stage id, primary contact.
pub const DEALS: &[(u64, &str, u64, u64, u64)] = &[
    (
        2001,
        "Analytical Engines: enterprise plan",
        48_000,
        203,
        1001,
    ),
    (2002, "Compiler Works: renewal", 12_500, 202, 1002),
    (2003, "Bletchley Analytics: pilot", 6_000, 201, 1003),
];

/// A seeded contact, as the simulated Freshsales record shows it.
#[derive(Debug, Clone, Copy)]
pub struct DemoContact {
    pub id: i64,
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub company: &'static str,
    pub job_title: &'static str,
}

pub const CONTACTS: &[DemoContact] = &[
    DemoContact {
        id: 1001,
        first_name: "Ada",
        last_name: "Lovelace",
        email: "ada@analytical.example",
        phone: "+44 20 7946 0018",
        company: "Analytical Engines Ltd",
        job_title: "Head of Engineering",
    },
    DemoContact {
        id: 1002,
        first_name: "Grace",
        last_name: "Hopper",
        email: "grace@cobol.example",
        phone: "+1 415 555 0132",
        company: "Compiler Works",
        job_title: "CTO",
    },
    DemoContact {
        id: 1003,
        first_name: "Alan",
        last_name: "Turing",
        email: "alan@bletchley.example",
        phone: "+44 1908 640404",
        company: "Bletchley Analytics",
        job_title: "Founder",
    },
    DemoContact {
        id: 1004,
        first_name: "Katherine",
        last_name: "Johnson",
        email: "katherine@orbit.example",
        phone: "+1 757 555 0199",
        company: "Orbit Dynamics",
        job_title: "VP Research",
    },
    DemoContact {
        id: 1005,
        first_name: "Edsger",
        last_name: "Dijkstra",
        email: "edsger@paths.example",
        phone: "+31 20 555 0147",
        company: "Shortest Paths BV",
        job_title: "Procurement Lead",
    },
    DemoContact {
        id: 1006,
        first_name: "Margaret",
        last_name: "Hamilton",
        email: "margaret@apollo.example",
        phone: "+1 617 555 0169",
        company: "Apollo Guidance",
        job_title: "Director of Software",
    },
];

/// Seeds (or refreshes) the demo tenant and returns a fresh API token for it. Returns whether
/// the tenant was new.
pub async fn seed(store: &Store) -> anyhow::Result<(String, bool)> {
    // The demo's tenants and their public keys belong in a database of their own (the
    // simulated HubSpot portal's tenant appears once its install link was tried).
    let hubspot = crate::services::tenants::account_tenant(
        crate::ports::CrmKind::Hubspot,
        &crate::testkit::HUBSPOT_PORTAL.to_string(),
    );
    let real: Vec<String> = store
        .list_tenants()
        .await?
        .into_iter()
        .map(|(id, _, _)| id)
        .filter(|id| id != DEMO_TENANT && id != DESK_TENANT && *id != hubspot)
        .collect();
    if !real.is_empty() {
        anyhow::bail!(
            "this database holds real tenants ({}); the demo seeds only a database of its own: \
             leave DATABASE_URL unset (the demo uses {DEMO_DATABASE_URL}) or point it at another file",
            real.join(", ")
        );
    }
    let token = auth::generate_token();
    let hash = auth::hash_token(&token);
    if store.rotate_token(DEMO_TENANT, &hash).await? {
        return Ok((token, false));
    }
    store
        .insert_tenant(DEMO_TENANT, "Demo Freshsales account", &hash)
        .await?;
    let now = clock::now_ms();
    for c in CONTACTS {
        store
            .upsert_contact(DEMO_TENANT, c.id, c.id == 1001)
            .await?;
    }
    let seeded = [
        (
            1001,
            "verified",
            Some(("IAL2", "passport", 0.97)),
            -30,
            Some(335),
        ),
        // Katherine's ID had expired: the widget says so and what to do next.
        (1004, "failed", None, -2, None),
        // A link Margaret never opened: it expired (the widget offers to resend it).
        (1006, "expired", None, -3, None),
        (
            1005,
            "verified",
            Some(("IAL2", "drivers_license", 0.91)),
            -400,
            Some(-35),
        ),
    ];
    for (i, (contact, state, result, days_ago, valid_days)) in seeded.into_iter().enumerate() {
        let at = now + days_ago * clock::DAY_MS;
        store
            .insert_verification(&NewVerification {
                id: format!("ver_demo_{i}"),
                tenant_id: DEMO_TENANT.into(),
                contact_id: contact,
                kind: "idv",
                state,
                ial_level: result.map(|r| r.0.to_string()),
                document_type: result.map(|r| r.1.to_string()),
                match_confidence: result.map(|r| r.2),
                completed_at: (state != "pending").then_some(at),
                valid_until: valid_days.map(|d| now + d * clock::DAY_MS),
                failure: (state == "failed").then_some((Failure::DocumentExpired, Some("IDV0011"))),
            })
            .await?;
    }
    Ok((token, true))
}

/// A running demo (used by `run` and by the end-to-end tests).
pub struct RunningDemo {
    pub addr: std::net::SocketAddr,
    pub token: String,
    pub store: Store,
    pub freshsales: FreshsalesSim,
    pub kosmos: KosmosSim,
    /// The simulated 1Kosmos the tenant talks to (either twin).
    pub kosmos_url: String,
    /// The BlockID twin, when the demo runs on BlockID.
    pub blockid: Option<BlockIdSim>,
    /// The simulated Freshdesk account of the demo's Freshdesk installation.
    pub freshdesk: crate::sim::freshdesk::FreshdeskSim,
    /// The simulated HubSpot portal (its records, its OAuth server).
    pub hubspot: crate::sim::hubspot::HubSpotSim,
    app: Running,
    twins: Twins,
    blockid_served: Option<Served>,
    desk_served: Served,
}

impl RunningDemo {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What the operator reads at start: the pages, and every twin's address and key, so a
    /// client can be pointed at any of them.
    pub fn banner(&self, wire: &str) -> String {
        let url = self.url();
        let keys = &self.twins.keys;
        let kosmos = match &self.blockid {
            Some(_) => format!(
                "{} (tenant host; licence {DEMO_BLOCKID_LICENCE}, dvcID {DEMO_BLOCKID_DVC})",
                self.kosmos_url
            ),
            None => format!("{} (x-api-key {})", self.kosmos_url, keys.kosmos_key),
        };
        format!(
            "\n  Freshsales IDV demo: {url}/\n  \
             contacts: {url}/contacts/1001   deals: {url}/deals/2001   Freshdesk tickets: {url}/tickets/4001\n\n  \
             simulated 1Kosmos ({wire}): {kosmos}\n  \
             simulated Freshsales: {} (key {})\n  \
             simulated Freshdesk: {} ({})\n  \
             simulated Freshchat: {} (token {})\n  \
             simulated HubSpot: {} (client id {}, portal {}; install at {url}/hubspot/v1/install)\n  \
             HubSpot portal pages (the app's cards): {url}/hubspot/contacts/{}\n  \
             workflow webhook secret: {}\n\n  (Ctrl-C stops it)\n",
            self.twins.freshsales_api(),
            keys.freshsales_key,
            desk::api_url(&self.desk_served),
            desk::keys(),
            self.twins.freshchat_api(),
            crate::testkit::FRESHCHAT_TOKEN,
            self.twins.hubspot_app().api_url,
            crate::testkit::HUBSPOT_CLIENT_ID,
            crate::testkit::HUBSPOT_PORTAL,
            self.hubspot.with_records(|r| r.contacts.keys().next().copied().unwrap_or(0)),
            DEMO_WORKFLOW_SECRET,
        )
    }

    pub fn services(&self) -> &Arc<Services> {
        self.app.services()
    }

    /// Stops serving, waits for in-flight requests and workers, stops the simulators.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.app.stop().await?;
        self.twins.stop().await;
        self.desk_served.stop().await;
        if let Some(served) = self.blockid_served {
            served.stop().await;
        }
        Ok(())
    }
}

/// The demo's master key: `IDV_MASTER_KEY`, else a key file beside the SQLite database (made on
/// first run), else a key for this run only.
fn demo_sealer(config: &Config) -> anyhow::Result<Sealer> {
    if let Some(k) = &config.master_key {
        return Ok(Sealer::from_base64(k)?);
    }
    let file = config
        .database_url
        .strip_prefix("sqlite://")
        .and_then(|r| r.split('?').next())
        .filter(|p| !p.is_empty() && *p != ":memory:")
        .map(|p| PathBuf::from(p).with_extension("key"));
    let key = match &file {
        Some(f) if f.exists() => std::fs::read_to_string(f).context("reading the demo key")?,
        Some(f) => {
            let k = Sealer::generate_key();
            std::fs::write(f, &k).context("writing the demo key")?;
            k
        }
        None => Sealer::generate_key(),
    };
    Ok(Sealer::from_base64(&SecretString::from(key))?)
}

/// Starts the simulators, migrates and seeds, and serves the demo on `config.bind`.
pub async fn start(mut config: Config, provider: DemoProvider) -> anyhow::Result<RunningDemo> {
    if config.database_url == crate::config::DEFAULT_DATABASE_URL {
        config.database_url = DEMO_DATABASE_URL.into();
    }
    let keys = TwinKeys {
        alias: DEMO_ALIAS.into(),
        freshsales_key: DEMO_FS_KEY.into(),
        hourly_limit: 1000,
        kosmos_key: DEMO_KOSMOS_KEY.into(),
        kosmos_webhook_secret: DEMO_KOSMOS_SECRET.into(),
    };
    let twins = Twins::start(keys, |fs| {
        for c in CONTACTS {
            fs.seed_contact(
                DEMO_ALIAS,
                c.id as u64,
                c.first_name,
                c.last_name,
                c.email,
                c.phone,
            );
        }
        for (id, name, amount, stage, contact) in DEALS {
            fs.seed_deal(DEMO_ALIAS, *id, name, *amount, *stage, &[*contact]);
        }
    })
    .await?;
    let (freshsales, kosmos) = (twins.freshsales.clone(), twins.kosmos.clone());
    let blockid = match provider {
        DemoProvider::Kosmos => None,
        DemoProvider::Blockid => {
            let sim = BlockIdSim::new(
                DEMO_BLOCKID_LICENCE,
                DEMO_BLOCKID_DVC,
                "default",
                Curve::Secp256k1,
            );
            let served = sim
                .start(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
                .await?;
            Some(BlockIdTwin { sim, served })
        }
    };
    // The 1Kosmos connection of both tenants; with `crm`, the Freshsales one too.
    let provider_connection = |crm: bool| match &blockid {
        None => twins.connections(crm),
        Some(b) => tenant::Connections {
            provider_base_url: Some(b.served.url()),
            provider_key: Some(DEMO_BLOCKID_LICENCE.into()),
            provider_webhook_secret: None,
            provider_settings: Some(ProviderSettings::Blockid {
                community: "default".into(),
                curve: Curve::Secp256k1.to_string(),
                result_path: None,
            }),
            provider_secret: Some(DEMO_BLOCKID_DVC.into()),
            ..twins.connections(crm)
        },
    };
    let desk_twin = desk::DeskTwin::start().await?;

    let store = Store::connect(&config.database_url).await?;
    let (token, new) = seed(&store).await.context("seeding the demo tenant")?;
    let desk_token = desk::seed(&store)
        .await
        .context("seeding the demo's Freshdesk tenant")?;
    let extra = routes(
        pages::Tokens {
            freshsales: token.clone(),
            freshdesk: desk_token,
        },
        config.app_dir.clone(),
        freshsales.clone(),
        desk_twin.sim.clone(),
    )
    .merge(hubspot::pages::routes(
        twins.hubspot.clone(),
        config.hubspot_host_dir.clone(),
    ));
    let app = Backend {
        settings: Settings {
            allow_any_account_url: true,
            coalesce: std::time::Duration::from_millis(300),
            idv_poll: vec![
                std::time::Duration::from_secs(5),
                std::time::Duration::from_secs(15),
            ],
            // The demo's HubSpot app is registered with the HubSpot twin.
            oauth_app: Some(twins.hubspot_app()),
            // Any schedule the operator set (IDV_RETRY_SCHEDULE…) applies to the demo too.
            ..config.settings()
        },
        sealer: demo_sealer(&config)?,
        tenant: DEMO_TENANT.into(),
        connections: tenant::Connections {
            automator_secret: Some(DEMO_WORKFLOW_SECRET.into()),
            hourly_limit: Some(1000),
            ..provider_connection(true)
        },
        policy: Some(Policy {
            gated_stages: vec!["Negotiation".into(), "Won".into()],
            revert_on_gate: true,
            ..Policy::default()
        }),
        extra,
        config,
    }
    .serve(store.clone())
    .await?;
    let addr = app.addr;
    let services = app.services().clone();
    // Sessions left pending by an earlier run lived in that run's simulator, which is gone.
    sqlx::query("UPDATE verifications SET state = 'canceled', completed_at = $3, updated_at = $3 WHERE tenant_id IN ($1, $2) AND state = 'pending'")
        .bind(DEMO_TENANT)
        .bind(DESK_TENANT)
        .bind(clock::now_ms())
        .execute(store.pool())
        .await?;
    desk::connect(&services, &desk_twin, provider_connection(false)).await?;
    hubspot::connect(&services, provider_connection(false)).await?;
    hubspot::seed_portal(&twins.hubspot);
    if new || blockid.is_some() {
        // Ada is enrolled in LiveID (her seeded proofing issued a credential). BlockID's twin
        // knows only the people it enrolled itself, so she is enrolled there on each run.
        let did = match &blockid {
            Some(b) => b.sim.enrol(),
            None => kosmos.enrol(),
        };
        sqlx::query("UPDATE contacts SET liveid_enrolled = 1, credential_did_sealed = $2 WHERE tenant_id = $1 AND contact_id = 1001")
            .bind(DEMO_TENANT)
            .bind(services.core.sealer().seal(
                crate::crypto::at(
                    "contacts",
                    "credential_did_sealed",
                    &crate::services::contact_row(DEMO_TENANT, 1001),
                ),
                &did,
            ))
            .execute(store.pool())
            .await?;
    }
    // The simulated Freshsales starts empty each run: queue every known contact's fields.
    let t = services
        .core
        .tenants()
        .get(DEMO_TENANT)
        .await?
        .context("the demo tenant vanished")?;
    let mut conn = store.writer().await?;
    for c in CONTACTS {
        services
            .queue
            .queue_contact_writes(&mut conn, &t, c.id)
            .await
            .map_err(|e| anyhow::anyhow!("queueing the demo's fields: {e}"))?;
    }
    drop(conn);
    // Grace's verification is under way: a real session at the simulated provider.
    let req = idv_types::StartVerification {
        requested_by: Some("rep@demo.example".into()),
        ..Default::default()
    };
    app.services()
        .sessions
        .start_idv(&t, 1002, &req, None, crate::services::Origin::Widget)
        .await
        .map_err(|e| anyhow::anyhow!("starting the demo's pending verification: {e}"))?;
    Ok(RunningDemo {
        addr,
        token,
        store,
        kosmos_url: blockid
            .as_ref()
            .map_or_else(|| twins.kosmos_url(), |b| b.served.url()),
        freshsales,
        kosmos,
        app,
        hubspot: twins.hubspot.clone(),
        twins,
        blockid: blockid.as_ref().map(|b| b.sim.clone()),
        blockid_served: blockid.map(|b| b.served),
        freshdesk: desk_twin.sim,
        desk_served: desk_twin.served,
    })
}

/// `server demo`: serve until Ctrl-C.
pub async fn run(config: Config, provider: DemoProvider) -> anyhow::Result<()> {
    if !config.app_dir.join("index.html").exists() {
        tracing::warn!(
            app_dir = %config.app_dir.display(),
            "the widget is not built; run `cargo xtask demo` to build it"
        );
    }
    let demo = start(config, provider).await?;
    let wire = match provider {
        DemoProvider::Kosmos => "design contract",
        DemoProvider::Blockid => "BlockID",
    };
    eprintln!("{}", demo.banner(wire));
    shutdown_signal().await;
    demo.stop().await
}
