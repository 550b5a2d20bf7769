//! The one seam between the widget and the backend.
//!
//! Inside Freshworks the only way out is a request template (`client.request.invokeTemplate`),
//! whose `Authorization` header the platform fills from a secure install parameter, so the
//! secret never reaches the browser. Outside it (the demo, tests) the same calls go over gloo-net
//! to `window.IDV_BACKEND.base` with a bearer token. Tests plug in their own [`Transport`].

use std::{future::Future, pin::Pin};

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

use crate::{bridge, time::path_segment};

// ---------------------------------------------------------------------------------------------
// REQUEST TEMPLATES. Every name here must be defined in config/requests.json and declared in
// manifest.json (`modules.common.requests`); the context keys are the `<%= context.… %>` used
// in each template's path and headers.
// ---------------------------------------------------------------------------------------------
/// `GET /api/v1/contacts/{contact_id}/status`, context `{contact_id}`.
pub const TEMPLATE_GET_CONTACT_STATUS: &str = "getContactStatus";
/// `POST /api/v1/contacts/{contact_id}/verifications`, context `{contact_id, idempotency_key}`.
pub const TEMPLATE_START_VERIFICATION: &str = "startVerification";
/// `GET /api/v1/deals/{deal_id}/status`, context `{deal_id}`.
pub const TEMPLATE_GET_DEAL_STATUS: &str = "getDealStatus";
/// `POST /api/v1/deals/{deal_id}/step-up`, context `{deal_id}`.
pub const TEMPLATE_START_STEP_UP: &str = "startStepUp";
/// `POST /api/v1/contacts/{contact_id}/step-up`, context `{contact_id}`.
pub const TEMPLATE_START_CONTACT_STEP_UP: &str = "startContactStepUp";
/// `GET /api/v1/contacts/{contact_id}/audit`, context `{contact_id}`.
pub const TEMPLATE_GET_CONTACT_AUDIT: &str = "getContactAudit";
/// `GET /api/v1/verifications/{verification_id}`, context `{verification_id}`.
pub const TEMPLATE_GET_VERIFICATION: &str = "getVerification";
/// `POST /api/v1/verifications/{verification_id}/cancel`, context `{verification_id}`.
pub const TEMPLATE_CANCEL_VERIFICATION: &str = "cancelVerification";
/// `POST /api/v1/verifications/{verification_id}/resend`, context `{verification_id}`.
pub const TEMPLATE_RESEND_VERIFICATION: &str = "resendVerification";

/// All request templates the widget invokes.
pub const TEMPLATES: &[&str] = &[
    TEMPLATE_GET_CONTACT_STATUS,
    TEMPLATE_START_VERIFICATION,
    TEMPLATE_GET_DEAL_STATUS,
    TEMPLATE_START_STEP_UP,
    TEMPLATE_START_CONTACT_STEP_UP,
    TEMPLATE_GET_CONTACT_AUDIT,
    TEMPLATE_GET_VERIFICATION,
    TEMPLATE_CANCEL_VERIFICATION,
    TEMPLATE_RESEND_VERIFICATION,
];
// ---------------------------------------------------------------------------------------------

/// One backend endpoint with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    ContactStatus {
        contact_id: u64,
    },
    StartVerification {
        contact_id: u64,
        idempotency_key: String,
    },
    DealStatus {
        deal_id: u64,
    },
    StartStepUp {
        deal_id: u64,
    },
    StartContactStepUp {
        contact_id: u64,
    },
    ContactAudit {
        contact_id: u64,
    },
    Verification {
        verification_id: String,
    },
    CancelVerification {
        verification_id: String,
    },
    ResendVerification {
        verification_id: String,
    },
}

impl Endpoint {
    /// The request template for this endpoint.
    pub fn template(&self) -> &'static str {
        match self {
            Self::ContactStatus { .. } => TEMPLATE_GET_CONTACT_STATUS,
            Self::StartVerification { .. } => TEMPLATE_START_VERIFICATION,
            Self::DealStatus { .. } => TEMPLATE_GET_DEAL_STATUS,
            Self::StartStepUp { .. } => TEMPLATE_START_STEP_UP,
            Self::StartContactStepUp { .. } => TEMPLATE_START_CONTACT_STEP_UP,
            Self::ContactAudit { .. } => TEMPLATE_GET_CONTACT_AUDIT,
            Self::Verification { .. } => TEMPLATE_GET_VERIFICATION,
            Self::CancelVerification { .. } => TEMPLATE_CANCEL_VERIFICATION,
            Self::ResendVerification { .. } => TEMPLATE_RESEND_VERIFICATION,
        }
    }

    pub fn is_post(&self) -> bool {
        matches!(
            self,
            Self::StartVerification { .. }
                | Self::StartStepUp { .. }
                | Self::StartContactStepUp { .. }
                | Self::CancelVerification { .. }
                | Self::ResendVerification { .. }
        )
    }

    /// The path outside Freshworks.
    pub fn path(&self) -> String {
        let (prefix, id, suffix) = match self {
            Self::ContactStatus { contact_id } => ("contacts/", contact_id.to_string(), "/status"),
            Self::StartVerification { contact_id, .. } => {
                ("contacts/", contact_id.to_string(), "/verifications")
            }
            Self::DealStatus { deal_id } => ("deals/", deal_id.to_string(), "/status"),
            Self::StartStepUp { deal_id } => ("deals/", deal_id.to_string(), "/step-up"),
            Self::StartContactStepUp { contact_id } => {
                ("contacts/", contact_id.to_string(), "/step-up")
            }
            Self::ContactAudit { contact_id } => ("contacts/", contact_id.to_string(), "/audit"),
            Self::Verification { verification_id } => {
                ("verifications/", path_segment(verification_id), "")
            }
            Self::CancelVerification { verification_id } => {
                ("verifications/", path_segment(verification_id), "/cancel")
            }
            Self::ResendVerification { verification_id } => {
                ("verifications/", path_segment(verification_id), "/resend")
            }
        };
        let mut p = String::from("/api/v1/");
        p.push_str(prefix);
        p.push_str(&id);
        p.push_str(suffix);
        p
    }

    /// The template's `context`.
    pub fn context(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::ContactStatus { contact_id }
            | Self::StartContactStepUp { contact_id }
            | Self::ContactAudit { contact_id } => {
                vec![("contact_id", contact_id.to_string())]
            }
            Self::StartVerification {
                contact_id,
                idempotency_key,
            } => vec![
                ("contact_id", contact_id.to_string()),
                ("idempotency_key", idempotency_key.clone()),
            ],
            Self::DealStatus { deal_id } | Self::StartStepUp { deal_id } => {
                vec![("deal_id", deal_id.to_string())]
            }
            Self::Verification { verification_id }
            | Self::CancelVerification { verification_id }
            | Self::ResendVerification { verification_id } => {
                vec![("verification_id", verification_id.clone())]
            }
        }
    }

    /// The `Idempotency-Key` header outside Freshworks.
    pub fn idempotency_key(&self) -> Option<&str> {
        match self {
            Self::StartVerification {
                idempotency_key, ..
            } => Some(idempotency_key),
            _ => None,
        }
    }
}

/// A request: an endpoint and, for POSTs, a JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub endpoint: Endpoint,
    pub body: Option<String>,
}

/// An HTTP answer of any status, body as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

/// What a transport returns: `Err` only when no HTTP answer came back.
pub type Sent = Pin<Box<dyn Future<Output = Result<Reply, String>>>>;

/// The seam.
pub trait Transport {
    fn send(&self, call: Call) -> Sent;
    /// Whether calls count against the platform's per-minute template budget.
    fn is_metered(&self) -> bool {
        false
    }
}

/// Freshworks request templates.
pub struct Templates {
    client: JsValue,
}

impl Templates {
    pub fn new(client: JsValue) -> Self {
        Self { client }
    }
}

impl Transport for Templates {
    fn send(&self, call: Call) -> Sent {
        let client = self.client.clone();
        Box::pin(async move {
            let request = bridge::get(&client, "request").ok_or("client.request is missing")?;
            let context = Object::new();
            for (k, v) in call.endpoint.context() {
                let _ = Reflect::set(&context, &k.into(), &v.into());
            }
            let options = Object::new();
            let _ = Reflect::set(&options, &"context".into(), &context);
            if let Some(body) = &call.body {
                let _ = Reflect::set(&options, &"body".into(), &body.into());
            }
            let args = [call.endpoint.template().into(), options.into()];
            match bridge::call_promise_raw(&request, "invokeTemplate", &args).await {
                Ok(ok) => Ok(template_reply(&ok).unwrap_or(Reply {
                    status: 200,
                    body: response_text(&ok),
                })),
                // The platform rejects non-2xx answers with `{status, response}`.
                Err(err) => template_reply(&err).ok_or_else(|| bridge::describe(err)),
            }
        })
    }

    fn is_metered(&self) -> bool {
        true
    }
}

/// `{status, response}` of a template answer; `None` without a usable status.
fn template_reply(v: &JsValue) -> Option<Reply> {
    let status = bridge::get(v, "status")?.as_f64()?;
    if !(100.0..600.0).contains(&status) {
        return None;
    }
    Some(Reply {
        status: status as u16,
        body: response_text(v),
    })
}

fn response_text(v: &JsValue) -> String {
    match bridge::get(v, "response") {
        Some(r) => r.as_string().unwrap_or_else(|| {
            js_sys::JSON::stringify(&r)
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_default()
        }),
        None => String::new(),
    }
}

/// gloo-net straight to the backend (outside Freshworks).
pub struct Direct {
    base: String,
    token: String,
}

impl Direct {
    pub fn new(base: String, token: String) -> Self {
        Self { base, token }
    }
}

impl Transport for Direct {
    fn send(&self, call: Call) -> Sent {
        let mut url = self.base.clone();
        url.push_str(&call.endpoint.path());
        let mut auth = String::from("Bearer ");
        auth.push_str(&self.token);
        Box::pin(async move {
            use gloo_net::http::Request;
            let unreachable = crate::i18n::t().error_unreachable;
            let mut rb = if call.endpoint.is_post() {
                Request::post(&url)
            } else {
                Request::get(&url)
            }
            .header("Authorization", &auth)
            .header("Accept", "application/json");
            if let Some(key) = call.endpoint.idempotency_key() {
                rb = rb.header("Idempotency-Key", key);
            }
            let request = match call.body {
                Some(body) => rb
                    .header("Content-Type", "application/json")
                    .body(body)
                    .map_err(|_| unreachable)?,
                None => rb.build().map_err(|_| unreachable)?,
            };
            let res = request.send().await.map_err(|_| unreachable)?;
            let status = res.status();
            let body = res.text().await.unwrap_or_default();
            Ok(Reply { status, body })
        })
    }
}

/// Chooses the transport: request templates when the Freshworks client can invoke them and no
/// direct backend is configured; gloo-net when `window.IDV_BACKEND` is set.
pub fn pick(client: Option<&JsValue>) -> Result<Box<dyn Transport>, String> {
    if let Some((base, token)) = bridge::direct_backend() {
        return Ok(Box::new(Direct::new(base, token)));
    }
    if let Some(client) = client {
        let can = bridge::get(client, "request")
            .and_then(|r| bridge::get(&r, "invokeTemplate"))
            .is_some_and(|f| f.is_function());
        if can {
            return Ok(Box::new(Templates::new(client.clone())));
        }
    }
    Err(crate::i18n::t().error_not_connected.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_has_its_template_path_and_context() {
        let key = "k-1".to_string();
        let cases = [
            (
                Endpoint::ContactStatus { contact_id: 1001 },
                "getContactStatus",
                false,
                "/api/v1/contacts/1001/status",
                vec![("contact_id", "1001")],
            ),
            (
                Endpoint::StartVerification {
                    contact_id: 1001,
                    idempotency_key: key.clone(),
                },
                "startVerification",
                true,
                "/api/v1/contacts/1001/verifications",
                vec![("contact_id", "1001"), ("idempotency_key", "k-1")],
            ),
            (
                Endpoint::DealStatus { deal_id: 5 },
                "getDealStatus",
                false,
                "/api/v1/deals/5/status",
                vec![("deal_id", "5")],
            ),
            (
                Endpoint::StartStepUp { deal_id: 5 },
                "startStepUp",
                true,
                "/api/v1/deals/5/step-up",
                vec![("deal_id", "5")],
            ),
            (
                Endpoint::StartContactStepUp { contact_id: 1001 },
                "startContactStepUp",
                true,
                "/api/v1/contacts/1001/step-up",
                vec![("contact_id", "1001")],
            ),
            (
                Endpoint::ContactAudit { contact_id: 1001 },
                "getContactAudit",
                false,
                "/api/v1/contacts/1001/audit",
                vec![("contact_id", "1001")],
            ),
            (
                Endpoint::Verification {
                    verification_id: "ver_1".into(),
                },
                "getVerification",
                false,
                "/api/v1/verifications/ver_1",
                vec![("verification_id", "ver_1")],
            ),
            (
                Endpoint::CancelVerification {
                    verification_id: "ver/1".into(),
                },
                "cancelVerification",
                true,
                "/api/v1/verifications/ver%2F1/cancel",
                vec![("verification_id", "ver/1")],
            ),
            (
                Endpoint::ResendVerification {
                    verification_id: "ver_2".into(),
                },
                "resendVerification",
                true,
                "/api/v1/verifications/ver_2/resend",
                vec![("verification_id", "ver_2")],
            ),
        ];
        let mut seen = vec![];
        for (ep, template, post, path, context) in cases {
            assert_eq!(ep.template(), template);
            assert!(TEMPLATES.contains(&template));
            assert_eq!(ep.is_post(), post, "{ep:?}");
            assert_eq!(ep.path(), path);
            let ctx: Vec<(&str, String)> = context
                .into_iter()
                .map(|(k, v)| (k, v.to_string()))
                .collect();
            assert_eq!(ep.context(), ctx);
            seen.push(template);
        }
        seen.sort_unstable();
        let mut all = TEMPLATES.to_vec();
        all.sort_unstable();
        assert_eq!(seen, all, "every template is used by exactly one endpoint");
        assert_eq!(
            Endpoint::StartVerification {
                contact_id: 1,
                idempotency_key: key
            }
            .idempotency_key(),
            Some("k-1")
        );
        assert_eq!(Endpoint::DealStatus { deal_id: 1 }.idempotency_key(), None);
    }
}
