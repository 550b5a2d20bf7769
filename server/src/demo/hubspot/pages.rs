//! The demo's HubSpot portal pages: contact and deal records as HubSpot lays them out, with the
//! app's real cards in the sidebar (drawn by the stand-in host that `cargo xtask demo` builds
//! from `hubspot/`), their `hubspot.fetch` calls signed by the twin as HubSpot signs them, the
//! contact's `idv_*` properties, the deal's stage, and a workflow that runs the app's action.

use std::path::PathBuf;

use axum::{
    extract::{Path, Query, State},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tower_http::services::ServeDir;

use super::super::pages::esc;
use crate::{
    domain::app_contract::contract,
    error::AppError,
    ports::CrmKind,
    services::tenants::account_tenant,
    sim::hubspot::{
        fetch::{CardFetch, CardUser},
        HubSpotSim,
    },
    testkit::HUBSPOT_PORTAL,
    AppState,
};

/// The rep the demo's cards run for.
const DEMO_REP: (u64, &str) = (42, "rep@demo.example");

/// The portal's time zone, as HubSpot gives it to a card.
const PORTAL_TIMEZONE: &str = "America/New_York";

/// The properties HubSpot shows for a contact, before the app's own.
const ABOUT: &[(&str, &str)] = &[
    ("email", "Email"),
    ("mobilephone", "Mobile phone number"),
    ("company", "Company name"),
    ("jobtitle", "Job title"),
];

/// The HubSpot pages, merged into the demo's router.
pub fn routes(sim: HubSpotSim, host_dir: PathBuf) -> Router<AppState> {
    let page = {
        let sim = sim.clone();
        move |state: State<AppState>, path: Path<(String, String)>, q: Query<PageQuery>| {
            record_page(state, sim.clone(), path, q)
        }
    };
    let stage = {
        let sim = sim.clone();
        move |state: State<AppState>, id: Path<String>, form: Form<StageForm>| {
            move_stage(state, sim.clone(), id, form)
        }
    };
    let enrol = {
        let sim = sim.clone();
        move |state: State<AppState>, path: Path<(String, String)>, form: Form<EnrolForm>| {
            enrol(state, sim.clone(), path, form)
        }
    };
    let fetch = move |call: Json<CardFetch>| card_fetch(sim.clone(), call);
    Router::new()
        .route("/hubspot/{objects}/{id}", get(page))
        .route("/hubspot/deals/{id}/stage", post(stage))
        .route("/hubspot/{objects}/{id}/workflow", post(enrol))
        .route("/demo/hubspot/fetch", post(fetch))
        .nest_service("/demo/hubspot/host", ServeDir::new(host_dir))
}

#[derive(Deserialize)]
struct PageQuery {
    /// The rep's HubSpot language (the card reads it from its context).
    locale: Option<String>,
    /// What the app answered a workflow's action with, when it refused it.
    refused: Option<String>,
}

/// `hubspot.fetch` from a card on these pages: the twin proxies it as HubSpot does, for the
/// demo's rep.
async fn card_fetch(sim: HubSpotSim, Json(call): Json<CardFetch>) -> Response {
    let rep = CardUser {
        id: DEMO_REP.0,
        email: DEMO_REP.1.into(),
    };
    match sim.card_fetch(&call, &rep).await {
        Ok(answer) => Json(answer).into_response(),
        Err((status, body)) => (status, Json(body)).into_response(),
    }
}

/// Which record a page shows.
enum Object {
    Contact(u64),
    Deal(u64),
}

fn record_id(id: &str) -> Result<u64, AppError> {
    id.parse()
        .map_err(|_| AppError::BadRequest(format!("{id:?} is not a record id")))
}

fn object(objects: &str, id: &str) -> Result<Object, AppError> {
    let id = record_id(id)?;
    match objects {
        "contacts" => Ok(Object::Contact(id)),
        "deals" => Ok(Object::Deal(id)),
        other => Err(AppError::NotFound(format!(
            "the demo's HubSpot portal shows contacts and deals, not {other:?}"
        ))),
    }
}

async fn record_page(
    State(state): State<AppState>,
    sim: HubSpotSim,
    Path((objects, id)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, AppError> {
    let object = object(&objects, &id)?;
    let installed = installed(&state).await?;
    let (contacts, deals, stages) =
        sim.with_records(|r| (r.contacts.clone(), r.deals.clone(), r.pipelines.clone()));
    let nav = nav(&contacts, &deals, &object);
    let runs: Vec<_> = sim
        .action_runs()
        .into_iter()
        .filter(|(_, run)| match &object {
            Object::Contact(id) => run.object == ("CONTACT".to_string(), *id),
            Object::Deal(id) => run.object == ("DEAL".to_string(), *id),
        })
        .collect();
    let (title, card, type_id, record_id, main) = match object {
        Object::Contact(id) => {
            let p = contacts
                .get(&id)
                .ok_or_else(|| AppError::NotFound(format!("no contact {id} in the portal")))?;
            let name = full_name(p);
            let about: String = ABOUT
                .iter()
                .map(|(k, label)| {
                    format!("<dt>{label}</dt><dd>{}</dd>", esc(text(p.get(*k)).as_str()))
                })
                .collect();
            let main = format!(
                "<header class=\"rec\"><span class=\"avatar\">{}</span><div><h1 data-testid=\"record-name\">{}</h1><p>{}</p></div></header>\
                 <section class=\"panel\"><h2>About this contact</h2><dl>{about}<dt>Record ID</dt><dd>{id}</dd></dl></section>\
                 <section class=\"panel\" data-testid=\"hs-idv-properties\"><h2>Identity Verification <small>(the app's contact properties; reload to refresh)</small></h2><dl>{}</dl></section>\
                 {}",
                esc(&name.chars().next().unwrap_or('?').to_string()),
                esc(&name),
                esc(&text(p.get("email"))),
                idv_properties(p),
                workflow_panel("contacts", id, &runs),
            );
            (name, "contact", "0-1", id, main)
        }
        Object::Deal(id) => {
            let p = deals
                .get(&id)
                .ok_or_else(|| AppError::NotFound(format!("no deal {id} in the portal")))?;
            let name = text(p.get("dealname"));
            let stage = text(p.get("dealstage"));
            let options: String = stages
                .iter()
                .flat_map(|pl| pl["stages"].as_array().cloned().unwrap_or_default())
                .map(|s| {
                    let sid = s["id"].as_str().unwrap_or_default().to_string();
                    format!(
                        "<option value=\"{}\"{}>{}</option>",
                        esc(&sid),
                        if sid == stage { " selected" } else { "" },
                        esc(s["label"].as_str().unwrap_or_default())
                    )
                })
                .collect();
            let people: String = sim
                .with_records(|r| r.deal_contacts.get(&id).cloned().unwrap_or_default())
                .iter()
                .map(|c| {
                    let n = contacts.get(c).map(full_name).unwrap_or_default();
                    format!("<li><a href=\"/hubspot/contacts/{c}\">{}</a></li>", esc(&n))
                })
                .collect();
            let main = format!(
                "<header class=\"rec\"><span class=\"avatar deal\">$</span><div><h1 data-testid=\"record-name\">{}</h1><p>Deal</p></div></header>\
                 <section class=\"panel\"><h2>Deal stage</h2>\
                 <form method=\"post\" action=\"/hubspot/deals/{id}/stage\" class=\"stage\">\
                 <select name=\"stage\" data-testid=\"deal-stage\" aria-label=\"Deal stage\">{options}</select>\
                 <button type=\"submit\" data-testid=\"move-deal\">Move the deal</button></form>\
                 <p class=\"hint\">HubSpot tells the app of a stage change by webhook; a gated stage sends the deal back until its contact is verified.</p></section>\
                 <section class=\"panel\"><h2>Contacts</h2><ul>{people}</ul></section>{}",
                esc(&name),
                workflow_panel("deals", id, &runs),
            );
            (name, "deal", "0-3", id, main)
        }
    };
    let host = json!({
        "card": card,
        "fetchProxy": "/demo/hubspot/fetch",
        "backendOrigin": state.services.core.settings().public_base_url,
        "context": {
            "location": "crm.record.sidebar",
            "crm": {"objectId": record_id, "objectTypeId": type_id},
            "portal": {"id": HUBSPOT_PORTAL, "timezone": PORTAL_TIMEZONE},
            "user": {"id": DEMO_REP.0, "email": DEMO_REP.1,
                "locale": q.locale.as_deref().unwrap_or("en-us")},
        },
    });
    let banner = if let Some(why) = &q.refused {
        format!(
            "<div class=\"banner\" data-testid=\"workflow-refused\">The app refused the workflow's action: {}</div>",
            esc(why)
        )
    } else if installed {
        String::new()
    } else {
        "<div class=\"banner\" data-testid=\"install-banner\">The app is not installed in this portal yet. \
         <a href=\"/hubspot/v1/install\">Install it</a> (the portal's admin grants access; the simulated HubSpot grants at once).</div>"
            .to_string()
    };
    Ok(Html(
        include_str!("record.html")
            .replace("{{title}}", &esc(&title))
            .replace("{{nav}}", &nav)
            .replace("{{banner}}", &banner)
            .replace("{{main}}", &main)
            // In a script element: `</` is written so it cannot close the element.
            .replace("{{host}}", &host.to_string().replace("</", "<\\/")),
    ))
}

/// Whether the portal's admin has installed the app (its tenant holds HubSpot's grant).
async fn installed(state: &AppState) -> Result<bool, AppError> {
    let id = account_tenant(CrmKind::Hubspot, &HUBSPOT_PORTAL.to_string());
    Ok(match state.services.core.tenants().get(&id).await? {
        Some(t) => state.services.core.tenants().crm(&t).is_some(),
        None => false,
    })
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn full_name(p: &Map<String, Value>) -> String {
    let name = format!("{} {}", text(p.get("firstname")), text(p.get("lastname")));
    match name.trim() {
        "" => text(p.get("email")),
        n => n.to_string(),
    }
}

/// The app's properties on a contact, each with its internal name (as an admin sees them).
fn idv_properties(p: &Map<String, Value>) -> String {
    let mut names: Vec<&String> = p.keys().filter(|k| k.starts_with("idv_")).collect();
    names.sort();
    if names.is_empty() {
        return "<dt>—</dt><dd>No value yet</dd>".into();
    }
    names
        .into_iter()
        .map(|k| {
            format!(
                "<dt><code>{}</code></dt><dd data-testid=\"prop-{}\">{}</dd>",
                esc(k),
                esc(k),
                esc(&text(p.get(k)))
            )
        })
        .collect()
}

fn nav(
    contacts: &std::collections::BTreeMap<u64, Map<String, Value>>,
    deals: &std::collections::BTreeMap<u64, Map<String, Value>>,
    on: &Object,
) -> String {
    let item = |href: String, label: String, here: bool| {
        format!(
            "<li><a href=\"{href}\"{}>{}</a></li>",
            if here { " aria-current=\"page\"" } else { "" },
            esc(&label)
        )
    };
    let people: String = contacts
        .iter()
        .map(|(id, p)| {
            item(
                format!("/hubspot/contacts/{id}"),
                full_name(p),
                matches!(on, Object::Contact(c) if c == id),
            )
        })
        .collect();
    let deals: String = deals
        .iter()
        .map(|(id, p)| {
            item(
                format!("/hubspot/deals/{id}"),
                text(p.get("dealname")),
                matches!(on, Object::Deal(d) if d == id),
            )
        })
        .collect();
    format!("<h2>Contacts</h2><ul>{people}</ul><h2>Deals</h2><ul>{deals}</ul>")
}

/// The workflow that runs the app's action for this record, and its runs so far.
fn workflow_panel(
    objects: &str,
    id: u64,
    runs: &[(String, crate::sim::hubspot::workflows::Run)],
) -> String {
    let rows: String = runs
        .iter()
        .map(|(callback, run)| {
            let state = match (&run.completion, run.blocked) {
                (Some(done), _) => {
                    let out = &done["outputFields"];
                    format!(
                        "resumed: <code>idv_result</code> = <strong data-testid=\"workflow-result\">{}</strong>, <code>idv_status</code> = {}",
                        esc(&text(out.get("idv_result"))),
                        esc(&text(out.get("idv_status")))
                    )
                }
                (None, true) => "<span data-testid=\"workflow-waiting\">waiting for the result (BLOCK)</span>".to_string(),
                (None, false) => format!(
                    "continued at once: <code>idv_result</code> = {}",
                    esc(&text(run.answer["outputFields"].get("idv_result")))
                ),
            };
            format!("<li><code>{}</code>: {state}</li>", esc(callback))
        })
        .collect();
    let rows = if rows.is_empty() {
        "<li>No run yet.</li>".to_string()
    } else {
        rows
    };
    format!(
        "<section class=\"panel\" data-testid=\"workflow\"><h2>Workflow: {}</h2>\
         <p class=\"hint\">Enrols this record in a workflow whose action is <em>{}</em>, waiting for the result before the next step.</p>\
         <form method=\"post\" action=\"/hubspot/{objects}/{id}/workflow\">\
         <label>Link delivery <select name=\"delivery\"><option value=\"email\">Email</option><option value=\"sms\">SMS</option></select></label>\
         <button type=\"submit\" data-testid=\"enrol\">Enrol in the workflow</button></form><ul>{rows}</ul></section>",
        esc("Verify before the contract goes out"),
        esc("Trigger 1Kosmos Verification"),
    )
}

#[derive(Deserialize)]
struct StageForm {
    stage: String,
}

/// A rep moves the deal: HubSpot records the stage and sends its webhook.
async fn move_stage(
    State(state): State<AppState>,
    sim: HubSpotSim,
    Path(id): Path<String>,
    Form(f): Form<StageForm>,
) -> Result<Response, AppError> {
    let id = record_id(&id)?;
    let known = sim.with_records(|r| {
        r.deals.get_mut(&id).map(|d| {
            d.insert("dealstage".into(), json!(f.stage));
        })
    });
    if known.is_none() {
        return Err(AppError::NotFound(format!("no deal {id} in the portal")));
    }
    let event = sim.event(
        "deal.propertyChange",
        id,
        json!({"propertyName": "dealstage", "propertyValue": f.stage}),
    );
    let hook = format!(
        "{}{}",
        state.services.core.settings().public_base_url,
        contract().paths.webhooks
    );
    let status = sim.send_events(&hook, &[event], 3).await;
    if status != 200 {
        tracing::warn!(status, "the demo's webhook was not taken");
    }
    Ok(Redirect::to(&format!("/hubspot/deals/{id}")).into_response())
}

#[derive(Deserialize)]
struct EnrolForm {
    delivery: String,
}

/// A record enrolled in the workflow: HubSpot's workflow engine runs the app's action.
async fn enrol(
    State(state): State<AppState>,
    sim: HubSpotSim,
    Path((objects, id)): Path<(String, String)>,
    Form(f): Form<EnrolForm>,
) -> Result<Response, AppError> {
    let (object_type, id) = match object(&objects, &id)? {
        Object::Contact(id) => ("CONTACT", id),
        Object::Deal(id) => ("DEAL", id),
    };
    let delivery = if f.delivery == "sms" { "sms" } else { "email" };
    let url = format!(
        "{}{}",
        state.services.core.settings().public_base_url,
        contract().paths.workflow_action
    );
    let inputs = json!({"ial": "IAL2", "document_types": "passport,drivers_license,national_id",
        "delivery": delivery, "wait_for_result": "true"});
    let (_, status, answer) = sim
        .execute_action(&url, object_type, id, inputs, None)
        .await;
    let back = format!("/hubspot/{objects}/{id}");
    if status != 200 {
        let why = answer["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("HTTP {status}"));
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("refused", &why)
            .finish();
        return Ok(Redirect::to(&format!("{back}?{query}")).into_response());
    }
    Ok(Redirect::to(&back).into_response())
}
