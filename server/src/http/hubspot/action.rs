//! The workflow action "Trigger 1Kosmos Verification": HubSpot's signed execution request
//! (v3 where sent, else v2), answered at once, or with `BLOCK` until the result completes the
//! callback. Facts: `shared/reference/hubspot.md` §5 and `hubspot-app.md` §5.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, Uri},
    Json,
};
use idv_types::ApiError;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::verified;
use crate::{
    error::{AppError, Result},
    ports::CrmKind,
    services::{
        actions::{ActionAnswer, ActionCall, ActionObject},
        workflow::read_options,
    },
    AppState,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(execute))
}

/// HubSpot's execution request (C: `callbackId`, `origin.portalId`, `object`, `inputFields`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Execution {
    callback_id: String,
    origin: Origin,
    object: Object,
    #[serde(default)]
    input_fields: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Origin {
    portal_id: Value,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Object {
    object_id: Value,
    object_type: String,
}

fn positive(v: &Value, what: &str) -> Result<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n| *n > 0)
    .ok_or_else(|| AppError::BadRequest(format!("{what} must be a positive integer")))
}

/// The action's answer: `outputFields` with the control key `hs_execution_state`.
fn answer(a: ActionAnswer) -> Value {
    let (mut outputs, state, wait) = match a {
        ActionAnswer::Done(o) => (o, "SUCCESS", None),
        ActionAnswer::Wait {
            outputs,
            for_at_most,
        } => (outputs, "BLOCK", Some(for_at_most)),
    };
    outputs.insert("hs_execution_state".into(), json!(state));
    if let Some(d) = wait {
        // ISO 8601, in whole hours (C: `hs_expiration_duration`, e.g. `P1WT1H`).
        outputs.insert(
            "hs_expiration_duration".into(),
            json!(format!("PT{}H", d.as_secs().div_ceil(3600))),
        );
    }
    json!({ "outputFields": outputs })
}

#[utoipa::path(post, path = "/hubspot/v1/workflow-actions/verify", tag = "hubspot",
    summary = "HubSpot's workflow action: start a verification, and wait for its result if asked",
    description = "Signed by HubSpot (v3 within 5 minutes, else v2) with the app's client secret. Starts or finds the \
        enrolled contact's verification (a deal's primary contact) through the same start as every automation, with \
        the action's inputs (`ial`, `document_types`, `delivery`). With `wait_for_result` `true` it answers `BLOCK` \
        with `hs_expiration_duration`, and completes HubSpot's callback when the result arrives (`idv_result` \
        verified, failed or expired) or, shortly before HubSpot's expiry, with `timeout`. A retry of the same \
        execution (its `callbackId`) starts nothing new.",
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "`outputFields` with `hs_execution_state` SUCCESS or BLOCK", body = Object),
        (status = 400, description = "Not an execution request", body = ApiError),
        (status = 401, description = "Unsigned or forged", body = ApiError),
        (status = 403, description = "The account has not installed the app", body = ApiError),
        (status = 422, description = "An input the action does not take, or a contact that cannot be verified", body = ApiError)))]
async fn execute(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>> {
    verified(&state, &method, &uri, &headers, &body, |hooks, req, now| {
        hooks.verify_action(req, now)
    })?;
    let ex: Execution = serde_json::from_slice(&body).map_err(|e| {
        AppError::BadRequest(format!("the body is not HubSpot's execution request: {e}"))
    })?;
    if ex.callback_id.is_empty() || ex.callback_id.len() > 200 {
        return Err(AppError::BadRequest(
            "callbackId must be 1 to 200 characters".into(),
        ));
    }
    let portal = positive(&ex.origin.portal_id, "origin.portalId")?;
    let id = positive(&ex.object.object_id, "object.objectId")?;
    let object = match ex.object.object_type.to_ascii_uppercase().as_str() {
        "CONTACT" => ActionObject::Contact(id),
        "DEAL" => ActionObject::Deal(id),
        other => {
            return Err(AppError::Unprocessable(format!(
                "the action runs on contacts and deals, not {}",
                other.chars().take(40).collect::<String>()
            )))
        }
    };
    let inputs = Value::Object(ex.input_fields);
    let options = read_options(&inputs).map_err(AppError::Unprocessable)?;
    let wait = match inputs.get("wait_for_result") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.is_empty() || s.eq_ignore_ascii_case("false") => false,
        Some(other) => {
            return Err(AppError::Unprocessable(format!(
                "wait_for_result must be true or false, not {}",
                other.to_string().chars().take(40).collect::<String>()
            )))
        }
    };
    let tenant = state
        .services
        .core
        .tenants()
        .installed_account(CrmKind::Hubspot, &portal.to_string())
        .await?;
    let done = state
        .services
        .actions
        .run_workflow_action(
            &tenant,
            &ActionCall {
                callback_id: ex.callback_id,
                object,
                options,
                wait,
            },
        )
        .await?;
    Ok(Json(answer(done)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_wait_is_block_with_an_iso_duration() {
        let v = answer(ActionAnswer::Wait {
            outputs: Map::new(),
            for_at_most: Duration::from_secs(25 * 3600 - 5),
        });
        assert_eq!(v["outputFields"]["hs_execution_state"], "BLOCK");
        assert_eq!(v["outputFields"]["hs_expiration_duration"], "PT25H");
        let v = answer(ActionAnswer::Done(Map::new()));
        assert_eq!(v["outputFields"]["hs_execution_state"], "SUCCESS");
        assert!(v["outputFields"].get("hs_expiration_duration").is_none());
    }
}
