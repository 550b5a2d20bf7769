//! The HubSpot card's calls (`hubspot.fetch`, signed by HubSpot): the same reads and starts as
//! the widget's API, for the account and user HubSpot names in the signed URL's query
//! (`portalId`, `userId`, `userEmail`, `appId`), never in the body the card writes.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::{FromRequest, Path, Request, State},
    http::StatusCode,
    Json,
};
use idv_types::{
    ApiError, ContactStatus, DealStatus, Delivery, ResendAnswer, ResendLink, StartVerification,
    Verification,
};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::verified;
use crate::http::api::created;
use crate::{
    error::{AppError, Result},
    http::extract::{check_verification_id, parse_json, parse_record_id},
    ports::CrmKind,
    services::{tenant::TenantRow, Origin},
    AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(contact))
        .routes(routes!(deal))
        .routes(routes!(start_verification))
        .routes(routes!(contact_step_up))
        .routes(routes!(deal_step_up))
        .routes(routes!(resend))
        .routes(routes!(widget_link))
}

/// A call HubSpot signed for the card: the installed account it names, the user, the body.
pub struct CardCall {
    pub tenant: TenantRow,
    /// The HubSpot user (their email when HubSpot gives it, else their id), for the audit.
    pub user: Option<String>,
    pub headers: axum::http::HeaderMap,
    pub body: Bytes,
}

impl FromRequest<AppState> for CardCall {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self> {
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|e| AppError::BadRequest(format!("the body could not be read: {e}")))?;
        verified(
            state,
            &parts.method,
            &parts.uri,
            &parts.headers,
            &body,
            |hooks, req, now| hooks.verify_call(req, now),
        )?;
        // Signed, so HubSpot wrote these: the account and the user.
        let query: HashMap<String, String> =
            url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
                .into_owned()
                .collect();
        let portal = query
            .get("portalId")
            .filter(|p| !p.is_empty() && p.len() <= 20 && p.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                AppError::Unauthorized("the signed URL names no HubSpot account (portalId)".into())
            })?;
        let mine = state
            .services
            .core
            .settings()
            .oauth_app
            .as_ref()
            .and_then(|a| a.app_id.as_deref());
        if let (Some(mine), Some(theirs)) = (mine, query.get("appId")) {
            if mine != theirs {
                return Err(AppError::Forbidden(format!(
                    "the call is for HubSpot app {theirs}, not this one"
                )));
            }
        }
        let tenant = state
            .services
            .core
            .tenants()
            .installed_account(CrmKind::Hubspot, portal)
            .await?;
        let user = ["userEmail", "userId"]
            .iter()
            .find_map(|k| query.get(*k).filter(|v| !v.is_empty() && v.len() <= 254))
            .cloned();
        Ok(Self {
            tenant,
            user,
            headers: parts.headers,
            body,
        })
    }
}

/// What the card sends to start a verification (`hubspot.fetch` takes no custom header, so
/// the idempotency key is in the body).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CardStart {
    #[serde(default)]
    ial: Option<String>,
    #[serde(default)]
    document_types: Vec<String>,
    #[serde(default)]
    delivery: Option<Delivery>,
    #[serde(default)]
    force: bool,
    /// Repeats of a call with the same key (HubSpot retries once on a 5xx) return the same
    /// session.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 128)]
    idempotency_key: Option<String>,
}

/// A step-up or a resend from the card. A repeat returns the live session that already stands
/// (or the link already resent), so the key is only checked.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CardStepUp {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 128)]
    idempotency_key: Option<String>,
}

/// How the card's calls are refused before they reach a service.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // Read by the API document only.
enum CardRefusals {
    /// Not signed by HubSpot (or signed over another URL, or more than 5 minutes ago).
    #[response(status = 401)]
    Unsigned(ApiError),
    /// The HubSpot account it names has not installed the app, or the call is for another app.
    #[response(status = 403)]
    NotInstalled(ApiError),
}

fn key(k: Option<String>) -> Result<Option<String>> {
    match k {
        Some(k) if k.is_empty() || k.len() > 128 => Err(AppError::Unprocessable(
            "idempotency_key must be 1 to 128 characters".into(),
        )),
        other => Ok(other),
    }
}

#[utoipa::path(get, path = "/hubspot/v1/card/contacts/{id}", tag = "hubspot",
    summary = "The card: a contact's verification status",
    params(("id" = String, Path, description = "The HubSpot contact id", pattern = r"^[1-9][0-9]{0,17}$")),
    responses((status = 200, body = ContactStatus),
        CardRefusals))]
async fn contact(
    State(state): State<AppState>,
    Path(id): Path<String>,
    call: CardCall,
) -> Result<Json<ContactStatus>> {
    let id = parse_record_id("contact", &id)?;
    Ok(Json(
        state
            .services
            .status
            .contact_status(&call.tenant, id)
            .await?,
    ))
}

#[utoipa::path(get, path = "/hubspot/v1/card/deals/{id}", tag = "hubspot",
    summary = "The card: a deal's gate and its primary contact's status",
    params(("id" = String, Path, description = "The HubSpot deal id", pattern = r"^[1-9][0-9]{0,17}$")),
    responses((status = 200, body = DealStatus),
        CardRefusals,
        (status = 422, description = "the deal cannot be read yet", body = ApiError)))]
async fn deal(
    State(state): State<AppState>,
    Path(id): Path<String>,
    call: CardCall,
) -> Result<Json<DealStatus>> {
    let id = parse_record_id("deal", &id)?;
    Ok(Json(
        state.services.deals.deal_status(&call.tenant, id).await?,
    ))
}

#[utoipa::path(post, path = "/hubspot/v1/card/contacts/{id}/verifications", tag = "hubspot",
    summary = "The card's Verify Identity",
    params(("id" = String, Path, description = "The HubSpot contact id", pattern = r"^[1-9][0-9]{0,17}$")),
    request_body(content = CardStart, description = "may be empty"),
    responses((status = 201, description = "a new session", body = Verification),
        (status = 200, description = "the pending or valid session that already stood", body = Verification),
        (status = 400, description = "a malformed body", body = ApiError),
        CardRefusals,
        (status = 422, description = "a choice the account does not offer, or the contact cannot be read yet", body = ApiError)))]
async fn start_verification(
    State(state): State<AppState>,
    Path(id): Path<String>,
    call: CardCall,
) -> Result<(StatusCode, Json<Verification>)> {
    let id = parse_record_id("contact", &id)?;
    let body: CardStart = parse_json(&call.headers, &call.body, true)?;
    let key = key(body.idempotency_key)?;
    let req = StartVerification {
        ial: body.ial,
        document_types: body.document_types,
        requested_by: call.user,
        force: body.force,
        delivery: body.delivery,
        ..Default::default()
    };
    let (v, new) = state
        .services
        .sessions
        .start_idv(&call.tenant, id, &req, key.as_deref(), Origin::Widget)
        .await?;
    Ok(created(v, new))
}

#[utoipa::path(post, path = "/hubspot/v1/card/contacts/{id}/step-up", tag = "hubspot",
    summary = "The card's Step-Up Auth for an enrolled contact",
    params(("id" = String, Path, description = "The HubSpot contact id", pattern = r"^[1-9][0-9]{0,17}$")),
    request_body(content = CardStepUp, description = "may be empty"),
    responses((status = 201, body = Verification), (status = 200, body = Verification),
        CardRefusals,
        (status = 409, description = "the contact is not enrolled in LiveID", body = ApiError)))]
async fn contact_step_up(
    State(state): State<AppState>,
    Path(id): Path<String>,
    call: CardCall,
) -> Result<(StatusCode, Json<Verification>)> {
    let id = parse_record_id("contact", &id)?;
    let body: CardStepUp = parse_json(&call.headers, &call.body, true)?;
    key(body.idempotency_key)?;
    let (v, new) = state
        .services
        .stepups
        .start_contact_stepup(&call.tenant, id, call.user.as_deref())
        .await?;
    Ok(created(v, new))
}

#[utoipa::path(post, path = "/hubspot/v1/card/deals/{id}/step-up", tag = "hubspot",
    summary = "The card's Step-Up Auth for a deal's primary contact",
    params(("id" = String, Path, description = "The HubSpot deal id", pattern = r"^[1-9][0-9]{0,17}$")),
    request_body(content = CardStepUp, description = "may be empty"),
    responses((status = 201, body = Verification), (status = 200, body = Verification),
        CardRefusals))]
async fn deal_step_up(
    State(state): State<AppState>,
    Path(id): Path<String>,
    call: CardCall,
) -> Result<(StatusCode, Json<Verification>)> {
    let id = parse_record_id("deal", &id)?;
    let body: CardStepUp = parse_json(&call.headers, &call.body, true)?;
    key(body.idempotency_key)?;
    let (v, new) = state
        .services
        .stepups
        .start_stepup(&call.tenant, id, call.user.as_deref())
        .await?;
    Ok(created(v, new))
}

#[utoipa::path(post, path = "/hubspot/v1/card/verifications/{id}/resend", tag = "hubspot",
    summary = "The card's one-click resend of a link that expired unused or could not be delivered",
    params(("id" = String, Path, description = "A verification id", pattern = r"^[A-Za-z0-9_]{1,64}$")),
    request_body(content = CardStepUp, description = "may be empty"),
    responses((status = 200, description = "the same session's link went out again", body = ResendAnswer),
        (status = 201, description = "a new session was started and its link sent", body = ResendAnswer),
        CardRefusals,
        (status = 404, description = "no such session in this account", body = ApiError),
        (status = 409, description = "not a link that expired unused or went undelivered", body = ApiError)))]
async fn resend(
    State(state): State<AppState>,
    Path(id): Path<String>,
    call: CardCall,
) -> Result<(StatusCode, Json<ResendAnswer>)> {
    check_verification_id(&id)?;
    let body: CardStepUp = parse_json(&call.headers, &call.body, true)?;
    key(body.idempotency_key)?;
    let req = ResendLink {
        requested_by: call.user,
        contact: None,
    };
    let (answer, new) = state
        .services
        .resends
        .resend(&call.tenant, &id, &req)
        .await?;
    Ok(created(answer, new))
}

/// A link to the widget page for the card's modal.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
struct WidgetLink {
    /// The page, with a single-use ticket: open it at once (`actions.openIframeModal`).
    url: String,
    /// How long the ticket may wait to be used.
    expires_in_secs: u64,
}

/// The record the card's modal opens the widget on.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct WidgetFor {
    /// `contacts` or `deals`.
    object_type: String,
    /// The HubSpot record id.
    #[schema(pattern = r"^[1-9][0-9]{0,17}$")]
    object_id: String,
    /// The card user's locale (`context.user.locale`, e.g. `pt-br`): the widget speaks it.
    #[schema(
        pattern = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8}){0,4}$",
        max_length = 35
    )]
    #[serde(default)]
    locale: Option<String>,
}

/// A BCP 47 language tag as HubSpot writes a user's locale (`en-us`, `pt-br`, `es-419`):
/// only such a tag is put into the widget's URL.
fn language_tag(tag: &str) -> Result<&str> {
    let mut parts = tag.split(['-', '_']);
    let language = parts.next().unwrap_or_default();
    let well_formed = tag.len() <= 35
        && (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_alphabetic())
        && parts
            .all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if well_formed {
        Ok(tag)
    } else {
        Err(AppError::Unprocessable(
            "locale must be a language tag such as en-us or pt-br".into(),
        ))
    }
}

#[utoipa::path(post, path = "/hubspot/v1/card/widget-link", tag = "hubspot",
    summary = "The card's link to the full widget in a modal",
    description = "A single-use link (a minute) to the widget page for the record, in the card user's \
        language when `locale` names it; the page trades it for a half-hour session that reaches this account's API only.",
    request_body = WidgetFor,
    responses((status = 200, body = WidgetLink), CardRefusals,
        (status = 422, description = "Not a contact or deal id, or not a language tag", body = ApiError)))]
async fn widget_link(State(state): State<AppState>, call: CardCall) -> Result<Json<WidgetLink>> {
    let body: WidgetFor = parse_json(&call.headers, &call.body, false)?;
    let record = match body.object_type.as_str() {
        "contacts" => format!("contact:{}", parse_record_id("contact", &body.object_id)?),
        "deals" => format!("deal:{}", parse_record_id("deal", &body.object_id)?),
        other => {
            return Err(AppError::Unprocessable(format!(
                "object_type must be contacts or deals, not {}",
                other.chars().take(40).collect::<String>()
            )))
        }
    };
    let locale = body.locale.as_deref().map(language_tag).transpose()?;
    let ticket = state
        .services
        .core
        .tenants()
        .mint_widget_ticket(&call.tenant, &record)
        .await?;
    let mut url = format!(
        "{}/hubspot/v1/widget?ticket={ticket}",
        state.services.core.settings().public_base_url
    );
    if let Some(tag) = locale {
        url.push_str("&locale=");
        url.push_str(tag);
    }
    Ok(Json(WidgetLink {
        url,
        expires_in_secs: crate::services::tenants::TICKET_LIFE.as_secs(),
    }))
}
