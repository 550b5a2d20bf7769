//! The twin's workflow engine: it POSTs an action's execution request to the action URL,
//! signed v2 and v3 with the app's client secret, keeps a `BLOCK`ed execution waiting, and
//! takes its completion (`POST /automation/actions/callbacks/{version}/{callbackId}/complete`,
//! 204) with `outputFields` as strings and `typedOutputs`, once. Facts:
//! `shared/reference/hubspot.md` §5.

use axum::{
    extract::{Path, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Value};

use super::{crm, HubSpotSim};
use crate::adapters::hubspot::{platform::API_VERSION, signature};

/// One execution of the action.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// The record enrolled: its type (`CONTACT`, `DEAL`) and id.
    pub object: (String, u64),
    /// The backend's answer (`outputFields`).
    pub answer: Value,
    /// Whether the backend answered `BLOCK`.
    pub blocked: bool,
    /// The completion the backend sent, if any.
    pub completion: Option<Value>,
    /// Completions refused (a second one).
    pub refused: u32,
}

impl HubSpotSim {
    /// Enrols a record in the workflow: POSTs the execution to `url` (signed v2 and v3) and
    /// returns the callback id, the status and the answer. `callback` reuses an execution's
    /// id (HubSpot's retry).
    pub async fn execute_action(
        &self,
        url: &str,
        object_type: &str,
        object_id: u64,
        inputs: Value,
        callback: Option<&str>,
    ) -> (String, u16, Value) {
        let (secret, body, callback_id) = {
            let mut s = self.state.lock();
            s.counter += 1;
            let callback_id = callback
                .map(str::to_string)
                .unwrap_or_else(|| format!("ap-{}-{}-1-0", s.portal, 900 + s.counter));
            let body = json!({
                "callbackId": callback_id,
                "origin": {"portalId": s.portal, "actionDefinitionId": 1001, "actionDefinitionVersion": 1,
                    "extensionDefinitionId": 1001, "extensionDefinitionVersionId": 1},
                "context": {"source": "WORKFLOWS", "workflowId": 77},
                "object": {"objectId": object_id, "objectType": object_type},
                "inputFields": inputs,
            });
            (s.client_secret.clone(), body, callback_id)
        };
        let bytes = serde_json::to_vec(&body).expect("the request serialises");
        let at = crate::clock::now_ms().to_string();
        let res = reqwest::Client::new()
            .post(url)
            .header(header::CONTENT_TYPE, "application/json")
            .header(
                "x-hubspot-signature",
                signature::sign_v2(&secret, "POST", url, &bytes),
            )
            .header("x-hubspot-signature-version", "v2")
            .header(
                "x-hubspot-signature-v3",
                signature::sign_v3(&secret, "POST", url, &bytes, &at),
            )
            .header("x-hubspot-request-timestamp", at)
            .body(bytes)
            .send()
            .await
            .expect("the backend answers");
        let status = res.status().as_u16();
        let answer: Value = res.json().await.unwrap_or(Value::Null);
        let blocked = answer["outputFields"]["hs_execution_state"] == "BLOCK";
        if status == 200 {
            let mut s = self.state.lock();
            let run = s.actions.entry(callback_id.clone()).or_default();
            run.object = (object_type.to_string(), object_id);
            run.answer = answer.clone();
            run.blocked |= blocked;
        }
        (callback_id, status, answer)
    }

    /// The executions so far, by callback id.
    pub fn action_runs(&self) -> Vec<(String, Run)> {
        self.state
            .lock()
            .actions
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// `POST /automation/actions/callbacks/{version}/{callbackId}/complete`.
pub(super) async fn complete(
    State(sim): State<HubSpotSim>,
    Path((version, callback)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut s = sim.state.lock();
    let refuse = |status: StatusCode, category: &str, message: &str| {
        let (status, v) = crm::error(status, category, message);
        (status, Json(v)).into_response()
    };
    if version != API_VERSION {
        return refuse(StatusCode::NOT_FOUND, "NOT_FOUND", "no such API version");
    }
    if let Some((status, v)) = super::bearer_refusal(&s, &headers) {
        return (status, Json(v)).into_response();
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "Invalid input JSON",
        );
    };
    let strings = v["outputFields"]
        .as_object()
        .is_some_and(|o| o.values().all(Value::is_string));
    if !strings || !v["typedOutputs"].is_object() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "outputFields (string values) and typedOutputs are required",
        );
    }
    let Some(run) = s.actions.get_mut(&callback).filter(|r| r.blocked) else {
        return refuse(
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            "no blocked execution with this callbackId",
        );
    };
    if run.completion.is_some() {
        run.refused += 1;
        return refuse(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "this execution is already completed",
        );
    }
    run.completion = Some(v);
    StatusCode::NO_CONTENT.into_response()
}
