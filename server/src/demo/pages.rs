//! The demo's pages: a Freshsales-like contact and deal page with the real widget in an iframe.

use std::{path::PathBuf, sync::Arc};

use axum::{
    extract::{Path, State},
    http::header,
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
    Router,
};
use tower_http::services::ServeDir;

use crate::{
    error::AppError,
    sim::{freshdesk::FreshdeskSim, freshsales::FreshsalesSim},
    AppState,
};

use super::*;

/// The API tokens the widget uses on the demo's pages: one per installation.
pub struct Tokens {
    pub freshsales: String,
    pub freshdesk: String,
}

struct DemoState {
    tokens: Tokens,
    app_dir: PathBuf,
    freshsales: FreshsalesSim,
}

/// The demo's pages, merged into the backend's router.
pub fn routes(
    tokens: Tokens,
    app_dir: PathBuf,
    freshsales: FreshsalesSim,
    freshdesk: FreshdeskSim,
) -> Router<AppState> {
    let demo = Arc::new(DemoState {
        tokens,
        app_dir: app_dir.clone(),
        freshsales,
    });
    let ticket = {
        let desk = Arc::new(freshdesk);
        move |id: Path<String>| desk::ticket_page(desk.clone(), id)
    };
    let contact = {
        let demo = demo.clone();
        move |id: Path<String>| contact_page(demo.clone(), id)
    };
    let deal = {
        let demo = demo.clone();
        move |id: Path<String>| deal_page(demo.clone(), id)
    };
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
        .route("/contacts/{id}", get(contact))
        .route("/deals/{id}", get(deal).post(move_deal))
        .route("/tickets/{id}", get(ticket))
        .route("/app/index.html", get(index))
        .route("/demo/fwclient.js", get(fwclient))
        .route(
            "/demo/page.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    include_str!("page.js"),
                )
            }),
        )
        .route(
            "/demo/demo.css",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
                    include_str!("demo.css"),
                )
            }),
        )
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
    let js = include_str!("fwclient.js")
        .replace(
            "\"__TOKEN__\"",
            &serde_json::to_string(&demo.tokens.freshsales).unwrap_or_default(),
        )
        .replace(
            "\"__DESK_TOKEN__\"",
            &serde_json::to_string(&demo.tokens.freshdesk).unwrap_or_default(),
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
    demo: Arc<DemoState>,
    Path(id): Path<String>,
) -> Result<Html<String>, AppError> {
    let id = crate::http::extract::parse_record_id("contact", &id)?;
    let contact = CONTACTS
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| AppError::NotFound(format!("no demo contact {id}")))?;
    let fields = demo
        .freshsales
        .contact(DEMO_ALIAS, id as u64)
        .and_then(|c| c.get("custom_field").cloned())
        .unwrap_or_default();
    Ok(Html(render_contact_page(contact, &fields)))
}

#[derive(serde::Deserialize)]
struct MoveTo {
    stage: u64,
}

/// The rep drags the deal to another stage: Freshsales records it and tells the app
/// (`onDealUpdate`), which applies the gate.
async fn move_deal(
    State(state): State<AppState>,
    Path(id): Path<String>,
    axum::Form(to): axum::Form<MoveTo>,
) -> Result<Response, AppError> {
    let id = crate::http::extract::parse_record_id("deal", &id)?;
    let tenant = state
        .services
        .core
        .tenants()
        .get(DEMO_TENANT)
        .await?
        .ok_or_else(|| AppError::NotFound("no demo tenant".into()))?;
    let crm = state
        .services
        .core
        .tenants()
        .crm(&tenant)
        .ok_or_else(|| AppError::NotFound("the demo tenant has no CRM".into()))?;
    let before = crm
        .deal(id as u64)
        .await
        .map_err(|e| AppError::Upstream(e.to_string()))?;
    let stage = idv_types::StageId::from(to.stage);
    crm.move_deal(id as u64, &stage)
        .await
        .map_err(|e| AppError::Unprocessable(e.to_string()))?;
    let event = crate::services::automation::CrmEvent::DealStageChanged {
        deal_id: id,
        contact_id: None,
        stage: Some(crate::services::automation::StageRef::Id(stage)),
        previous_stage_id: before.stage_id,
    };
    let handled = state
        .services
        .automation
        .handle_event(&tenant, &event)
        .await?;
    Ok(Redirect::to(&format!("/deals/{id}?gate={}", handled.outcome)).into_response())
}

async fn deal_page(demo: Arc<DemoState>, Path(id): Path<String>) -> Result<Html<String>, AppError> {
    let id = crate::http::extract::parse_record_id("deal", &id)?;
    let deal = demo
        .freshsales
        .deal(DEMO_ALIAS, id as u64)
        .ok_or_else(|| AppError::NotFound(format!("no demo deal {id}")))?;
    let stages = demo
        .freshsales
        .with(DEMO_ALIAS, |a| a.stages.clone())
        .unwrap_or_default();
    let stage_id = deal["deal_stage_id"].as_u64();
    let stage = stages
        .iter()
        .find(|s| s["id"].as_u64() == stage_id)
        .and_then(|s| s["name"].as_str())
        .unwrap_or("Unknown")
        .to_string();
    let contact = deal["contact_ids"][0]
        .as_u64()
        .and_then(|c| CONTACTS.iter().find(|x| x.id as u64 == c));
    let list: String = DEALS
        .iter()
        .map(|(did, name, ..)| {
            format!(
                r#"<a class="row{}" href="/deals/{did}"><span class="avatar">$</span><span>{}</span></a>"#,
                if *did == id as u64 { " active" } else { "" },
                esc(name)
            )
        })
        .collect();
    let pipeline: String = stages
        .iter()
        .map(|s| {
            let on = s["id"].as_u64() == stage_id;
            format!(
                r#"<li class="{}"><button name="stage" value="{}" data-stage="{}">{}</button></li>"#,
                if on { "on" } else { "" },
                s["id"].as_u64().unwrap_or(0),
                esc(s["name"].as_str().unwrap_or("")),
                esc(s["name"].as_str().unwrap_or(""))
            )
        })
        .collect();
    let who = contact.map_or_else(
        || "none".to_string(),
        |c| {
            format!(
                r#"<a href="/contacts/{}">{} {}</a>"#,
                c.id,
                esc(c.first_name),
                esc(c.last_name)
            )
        },
    );
    Ok(Html(
        include_str!("deal.html")
            .replace("{{list}}", &list)
            .replace("{{id}}", &id.to_string())
            .replace("{{name}}", &esc(deal["name"].as_str().unwrap_or("")))
            .replace(
                "{{amount}}",
                &format!("$ {}", deal["amount"].as_u64().unwrap_or(0)),
            )
            .replace("{{stage}}", &esc(&stage))
            .replace("{{pipeline}}", &pipeline)
            .replace("{{contact}}", &who),
    ))
}

pub(super) fn esc(s: &str) -> String {
    html_escape::encode_text(s).into_owned()
}

fn render_contact_page(c: &DemoContact, fields: &serde_json::Value) -> String {
    let crm: String = crate::domain::fields::field_names()
        .map(|f| {
            let v = match fields.get(f) {
                None | Some(serde_json::Value::Null) => "—".to_string(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            format!(
                "<dt><code>{}</code></dt><dd data-field=\"{}\">{}</dd>",
                esc(f),
                esc(f),
                esc(&v)
            )
        })
        .collect();
    let deals: String = DEALS
        .iter()
        .filter(|d| d.4 == c.id as u64)
        .map(|(id, name, ..)| format!(r#"<a href="/deals/{id}">{}</a>"#, esc(name)))
        .collect::<Vec<_>>()
        .join(", ");
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
        .replace("{{crm}}", &crm)
        .replace("{{deals}}", if deals.is_empty() { "none" } else { &deals })
}
