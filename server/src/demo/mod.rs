//! `server demo`: the offline product loop on one machine.
//!
//! Seeds a tenant with contacts, then serves a page that looks like a Freshsales contact record
//! with the real widget (from the Freshworks `app/` folder) in its sidebar iframe. A small
//! stand-in for the Freshworks client (`/demo/fwclient.js`) replaces `{{{appclient}}}`.

use std::{path::PathBuf, sync::Arc};

use anyhow::Context;
use axum::{
    extract::{Path, State},
    http::header,
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
    Router,
};
use tower_http::services::ServeDir;

use crate::{
    auth, build_router, clock,
    error::AppError,
    shutdown_signal,
    store::{NewVerification, Store},
    AppState, Config, Server,
};

pub const DEMO_TENANT: &str = "demo";

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
];

/// Seeds (or refreshes) the demo tenant and returns a fresh API token for it.
pub async fn seed(store: &Store) -> anyhow::Result<String> {
    let token = auth::generate_token();
    let hash = auth::hash_token(&token);
    if store.rotate_token(DEMO_TENANT, &hash).await? {
        return Ok(token);
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
        (1002, "pending", None, 0, None),
        (1004, "failed", None, -2, None),
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
            })
            .await?;
    }
    Ok(token)
}

struct DemoState {
    token: String,
    app_dir: PathBuf,
}

/// The demo's pages, merged into the backend's router.
pub fn routes(token: String, app_dir: PathBuf) -> Router<AppState> {
    let demo = Arc::new(DemoState {
        token,
        app_dir: app_dir.clone(),
    });
    let index = {
        let demo = demo.clone();
        move || widget_index(demo.clone())
    };
    let fwclient = {
        let demo = demo.clone();
        move || fw_client(demo.clone())
    };
    Router::new()
        .route(
            "/",
            get(|| async { Redirect::to(&format!("/contacts/{}", CONTACTS[0].id)) }),
        )
        .route("/contacts/{id}", get(contact_page))
        .route("/app/index.html", get(index))
        .route("/demo/fwclient.js", get(fwclient))
        .nest_service(
            "/app",
            ServeDir::new(app_dir).append_index_html_on_directories(false),
        )
}

async fn widget_index(demo: Arc<DemoState>) -> Result<Response, AppError> {
    let path = demo.app_dir.join("index.html");
    let html = tokio::fs::read_to_string(&path).await.map_err(|_| {
        AppError::NotFound(format!(
            "{} is missing: build the widget first (cargo xtask demo does)",
            path.display()
        ))
    })?;
    let html = html.replace("{{{appclient}}}", "/demo/fwclient.js");
    Ok(([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

async fn fw_client(demo: Arc<DemoState>) -> Response {
    let js = include_str!("fwclient.js").replace(
        "\"__TOKEN__\"",
        &serde_json::to_string(&demo.token).unwrap_or_default(),
    );
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        js,
    )
        .into_response()
}

async fn contact_page(
    Path(id): Path<String>,
    State(_): State<AppState>,
) -> Result<Html<String>, AppError> {
    let id = crate::api::parse_record_id("contact", &id)?;
    let contact = CONTACTS
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| AppError::NotFound(format!("no demo contact {id}")))?;
    Ok(Html(render_contact_page(contact)))
}

fn esc(s: &str) -> String {
    html_escape::encode_text(s).into_owned()
}

fn render_contact_page(c: &DemoContact) -> String {
    let list: String = CONTACTS
        .iter()
        .map(|o| {
            format!(
                r#"<a class="row{}" href="/contacts/{}"><span class="avatar">{}</span><span>{} {}<small>{}</small></span></a>"#,
                if o.id == c.id { " active" } else { "" },
                o.id,
                esc(&o.first_name[..1]),
                esc(o.first_name),
                esc(o.last_name),
                esc(o.company)
            )
        })
        .collect();
    include_str!("contact.html")
        .replace("{{list}}", &list)
        .replace("{{id}}", &c.id.to_string())
        .replace("{{initial}}", &esc(&c.first_name[..1]))
        .replace(
            "{{name}}",
            &esc(&format!("{} {}", c.first_name, c.last_name)),
        )
        .replace("{{job_title}}", &esc(c.job_title))
        .replace("{{company}}", &esc(c.company))
        .replace("{{email}}", &esc(c.email))
        .replace("{{phone}}", &esc(c.phone))
}

/// A running demo (used by `run` and by the end-to-end tests).
pub struct RunningDemo {
    pub addr: std::net::SocketAddr,
    pub token: String,
    pub store: Store,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningDemo {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and waits for in-flight requests.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.await.context("demo task")??;
        self.store.close().await;
        Ok(())
    }
}

/// Migrates, seeds and starts serving the demo on `config.bind`.
pub async fn start(config: Config) -> anyhow::Result<RunningDemo> {
    let store = Store::connect(&config.database_url).await?;
    let token = seed(&store).await.context("seeding the demo tenant")?;
    let state = AppState {
        store: store.clone(),
    };
    let router = build_router(
        state,
        &config,
        routes(token.clone(), config.app_dir.clone()),
    );
    let server = Server::bind(config.bind, router).await?;
    let addr = server.local_addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    Ok(RunningDemo {
        addr,
        token,
        store,
        shutdown: Some(tx),
        task,
    })
}

/// `server demo`: serve until Ctrl-C.
pub async fn run(config: Config) -> anyhow::Result<()> {
    if !config.app_dir.join("index.html").exists() {
        tracing::warn!(
            app_dir = %config.app_dir.display(),
            "the widget is not built; run `cargo xtask demo` to build it"
        );
    }
    let demo = start(config).await?;
    eprintln!(
        "\n  Freshsales IDV demo: {}/\n  (Ctrl-C stops it)\n",
        demo.url()
    );
    shutdown_signal().await;
    demo.stop().await
}
