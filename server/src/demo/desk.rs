//! The demo's Freshdesk side: a second installation of the app, in a simulated Freshdesk
//! account, with a ticket page (`/tickets/{id}`) whose sidebar holds the same widget. The agent
//! verifies the ticket's requester; the result lands in the requester's Freshdesk contact fields
//! and as a private note on the ticket.

use std::sync::Arc;

use anyhow::Context;
use axum::{extract::Path, response::Html};

use super::{pages::esc, CONTACTS};
use crate::{
    error::AppError,
    http::auth,
    services::{
        tenant::{self, CrmKind},
        Policy, Services,
    },
    sim::{freshdesk::FreshdeskSim, Served},
    store::Store,
};

pub const DESK_TENANT: &str = "demo-desk";
/// The simulated Freshdesk account's domain (`demohelp.freshdesk.com`).
pub const DESK_DOMAIN: &str = "demohelp";
const DESK_AGENT_KEY: &str = "demo-freshdesk-agent-key";
/// An admin's key: the app creates its contact fields with it.
const DESK_ADMIN_KEY: &str = "demo-freshdesk-admin-key";
/// The simulated Freshdesk's keys, as the demo's banner names them.
pub fn keys() -> String {
    format!("agent key {DESK_AGENT_KEY}, admin key {DESK_ADMIN_KEY}")
}

/// The simulated Freshdesk account's API.
pub fn api_url(served: &crate::sim::Served) -> String {
    format!("{}/d/{DESK_DOMAIN}/api/v2", served.url())
}

/// Freshdesk ids of the demo's people are their Freshsales ids plus this.
const DESK_ID_OFFSET: i64 = 2000;

/// A seeded ticket: id, subject, type, requester (a Freshsales demo contact id), description.
pub const TICKETS: &[(u64, &str, &str, i64, &str)] = &[
    (
        4001,
        "Please change the bank account for our invoices",
        "Account change",
        1003,
        "Hello, we moved banks. Please pay refunds to the new account from now on. Thanks, Alan",
    ),
    (
        4002,
        "New phone number for two-factor codes",
        "Account change",
        1004,
        "I lost my phone. Can you send my codes to my new number instead?",
    ),
    (
        4003,
        "Where is my invoice for October?",
        "Question",
        1001,
        "I cannot find last month's invoice in the portal.",
    ),
];

/// The Freshdesk contact id of a demo person.
pub fn desk_contact(freshsales_id: i64) -> u64 {
    (freshsales_id + DESK_ID_OFFSET) as u64
}

/// The simulated Freshdesk account, served on loopback.
pub struct DeskTwin {
    pub sim: FreshdeskSim,
    pub served: Served,
}

impl DeskTwin {
    pub async fn start() -> anyhow::Result<Self> {
        let sim = FreshdeskSim::new();
        sim.add_account(DESK_DOMAIN, DESK_AGENT_KEY, DESK_ADMIN_KEY, 1000);
        for c in CONTACTS {
            sim.seed_contact(
                DESK_DOMAIN,
                desk_contact(c.id),
                &format!("{} {}", c.first_name, c.last_name),
                c.email,
                c.phone,
            );
        }
        for (id, subject, kind, requester, _) in TICKETS {
            sim.seed_ticket(DESK_DOMAIN, *id, subject, desk_contact(*requester));
            sim.with(DESK_DOMAIN, |a| {
                if let Some(t) = a.tickets.get_mut(id) {
                    t["type"] = (*kind).into();
                }
            });
        }
        let served = Served::start(
            std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            sim.router(),
        )
        .await?;
        Ok(Self { sim, served })
    }

    /// The account's address, as Freshdesk's `endpoint_urls.freshdesk` would give it.
    pub fn account_url(&self) -> String {
        format!("{}/d/{DESK_DOMAIN}", self.served.url())
    }
}

/// Seeds (or refreshes) the demo's Freshdesk tenant; returns a fresh API token for it.
pub async fn seed(store: &Store) -> anyhow::Result<String> {
    let token = auth::generate_token();
    let hash = auth::hash_token(&token);
    if !store.rotate_token(DESK_TENANT, &hash).await? {
        store
            .insert_tenant(DESK_TENANT, "Demo Freshdesk account", &hash)
            .await?;
    }
    Ok(token)
}

/// Connects the Freshdesk tenant to its twin (as an install from Freshdesk does) and to the
/// demo's 1Kosmos, then checks its set-up (the admin key creates the contact fields).
pub async fn connect(
    services: &Services,
    twin: &DeskTwin,
    provider: tenant::Connections,
) -> anyhow::Result<()> {
    let store = services.core.store();
    tenant::set_connections(
        store,
        services.core.sealer(),
        DESK_TENANT,
        &tenant::Connections {
            crm_base_url: Some(format!("{}/api/v2", twin.account_url())),
            crm_key: Some(DESK_ADMIN_KEY.into()),
            crm_kind: Some(CrmKind::Freshdesk),
            hourly_limit: Some(1000),
            ..provider
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("connecting the Freshdesk tenant: {e}"))?;
    tenant::set_policy(
        store,
        DESK_TENANT,
        &Policy {
            verify_new_tickets: true,
            ticket_types: vec!["Account change".into()],
            fresh_minutes: 30,
            ..Policy::default()
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("the Freshdesk tenant's policy: {e}"))?;
    tenant::set_installed(store, DESK_TENANT, true)
        .await
        .map_err(|e| anyhow::anyhow!("installing the Freshdesk tenant: {e}"))?;
    services.core.tenants().forget(DESK_TENANT);
    let t = services
        .core
        .tenants()
        .get(DESK_TENANT)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .context("the Freshdesk tenant vanished")?;
    services
        .setup
        .check_setup(&t)
        .await
        .map_err(|e| anyhow::anyhow!("the Freshdesk set-up: {e}"))?;
    Ok(())
}

/// `/tickets/{id}`: the ticket, its requester, the private notes, the requester's fields, and
/// the widget in the sidebar.
pub async fn ticket_page(
    sim: Arc<FreshdeskSim>,
    Path(id): Path<String>,
) -> Result<Html<String>, AppError> {
    let id = crate::http::extract::parse_record_id("ticket", &id)? as u64;
    let (_, subject, kind, requester, description) = TICKETS
        .iter()
        .find(|t| t.0 == id)
        .ok_or_else(|| AppError::NotFound(format!("no demo ticket {id}")))?;
    let person = CONTACTS
        .iter()
        .find(|c| c.id == *requester)
        .ok_or_else(|| AppError::NotFound("the ticket's requester is gone".into()))?;
    let contact = sim
        .contact(DESK_DOMAIN, desk_contact(*requester))
        .unwrap_or_default();
    let labels: Vec<(String, String)> = sim
        .with(DESK_DOMAIN, |a| {
            a.custom_fields
                .iter()
                .filter_map(|f| {
                    Some((
                        f["name"].as_str()?.to_string(),
                        f["label"].as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let crm: String = labels
        .iter()
        .map(|(name, label)| {
            let v = match contact["custom_fields"].get(name) {
                None | Some(serde_json::Value::Null) => "—".to_string(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            format!(
                "<dt>{}</dt><dd data-field=\"{}\">{}</dd>",
                esc(label),
                esc(name),
                esc(&v)
            )
        })
        .collect();
    let notes: String = sim
        .notes(DESK_DOMAIN)
        .into_iter()
        .filter(|n| n["ticket_id"].as_u64() == Some(id))
        .map(|n| {
            format!(
                "<div class=\"note\"><small>Private note</small>{}</div>",
                esc(&plain(n["body"].as_str().unwrap_or("")))
            )
        })
        .collect();
    let list: String = TICKETS
        .iter()
        .map(|(tid, subject, kind, ..)| {
            format!(
                r##"<a class="row{}" href="/tickets/{tid}"><span class="avatar">#</span><span>{}<small>#{tid} · {}</small></span></a>"##,
                if *tid == id { " active" } else { "" },
                esc(subject),
                esc(kind)
            )
        })
        .collect();
    Ok(Html(
        include_str!("ticket.html")
            .replace("{{list}}", &list)
            .replace("{{id}}", &id.to_string())
            .replace("{{subject}}", &esc(subject))
            .replace("{{type}}", &esc(kind))
            .replace("{{initial}}", &esc(&person.first_name[..1]))
            .replace(
                "{{requester}}",
                &esc(&format!("{} {}", person.first_name, person.last_name)),
            )
            .replace("{{requester_id}}", &desk_contact(*requester).to_string())
            .replace("{{email}}", &esc(person.email))
            .replace("{{description}}", &esc(description))
            .replace("{{notes}}", &notes)
            .replace("{{crm}}", &crm),
    ))
}

/// A note's HTML body as text (Freshdesk shows it rendered; the demo shows its words).
fn plain(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    html_escape::decode_html_entities(text.trim()).into_owned()
}
