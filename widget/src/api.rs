//! Typed calls to the backend over whichever [`Transport`] the page has.

use crate::i18n::{fill, labels, t};
use std::{cell::RefCell, rc::Rc};

use idv_types::{
    ApiError, AuditPage, ContactStatus, DealStatus, ResendAnswer, ResendLink, StartStepUp,
    StartVerification, Verification,
};
use serde::de::DeserializeOwned;

use crate::{
    model::{Failure, Record, Subject},
    time::CallWindow,
    transport::{Call, Endpoint, Reply, Transport},
    wire,
};

/// The widget's backend API. Cheap to clone; clones share the call budget.
#[derive(Clone)]
pub struct Api {
    transport: Rc<dyn Transport>,
    window: Rc<RefCell<CallWindow>>,
}

impl Api {
    pub fn new(transport: Rc<dyn Transport>) -> Self {
        Self {
            transport,
            window: Rc::default(),
        }
    }

    async fn send<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        body: Option<String>,
    ) -> Result<T, Failure> {
        if self.transport.is_metered() {
            // Stay under the platform's per-minute template budget: wait for a slot.
            loop {
                let wait = self.window.borrow_mut().admit(crate::clock::now());
                match wait {
                    None => break,
                    Some(ms) => sleep(ms).await,
                }
            }
        }
        let reply = self
            .transport
            .send(Call { endpoint, body })
            .await
            .map_err(Failure::network)?;
        parse(reply)
    }

    pub async fn fetch(&self, subject: Subject) -> Result<Record, Failure> {
        match subject {
            Subject::Contact(contact_id) => self
                .send::<ContactStatus>(Endpoint::ContactStatus { contact_id }, None)
                .await
                .map(|c| Record::Contact(Box::new(c))),
            Subject::Deal(deal_id) => self
                .send::<DealStatus>(Endpoint::DealStatus { deal_id }, None)
                .await
                .map(|d| Record::Deal(Box::new(d))),
        }
    }

    pub async fn start_verification(
        &self,
        contact_id: u64,
        idempotency_key: String,
        body: &StartVerification,
    ) -> Result<Verification, Failure> {
        let endpoint = Endpoint::StartVerification {
            contact_id,
            idempotency_key,
        };
        self.send(endpoint, Some(wire::encode(body))).await
    }

    pub async fn start_step_up(
        &self,
        deal_id: u64,
        body: &StartStepUp,
    ) -> Result<Verification, Failure> {
        let endpoint = Endpoint::StartStepUp { deal_id };
        self.send(endpoint, Some(wire::encode(body))).await
    }

    pub async fn start_contact_step_up(
        &self,
        contact_id: u64,
        body: &StartStepUp,
    ) -> Result<Verification, Failure> {
        let endpoint = Endpoint::StartContactStepUp { contact_id };
        self.send(endpoint, Some(wire::encode(body))).await
    }

    /// The newest page of a contact's audit trail.
    pub async fn contact_audit(&self, contact_id: u64) -> Result<AuditPage, Failure> {
        self.send(Endpoint::ContactAudit { contact_id }, None).await
    }

    pub async fn verification(&self, id: String) -> Result<Verification, Failure> {
        self.send(
            Endpoint::Verification {
                verification_id: id,
            },
            None,
        )
        .await
    }

    pub async fn cancel(&self, id: String) -> Result<Verification, Failure> {
        self.send(
            Endpoint::CancelVerification {
                verification_id: id,
            },
            Some("{}".into()),
        )
        .await
    }

    /// Sends a link that expired unused or was not delivered again.
    pub async fn resend(&self, id: String, body: &ResendLink) -> Result<ResendAnswer, Failure> {
        let endpoint = Endpoint::ResendVerification {
            verification_id: id,
        };
        self.send(endpoint, Some(wire::encode(body))).await
    }
}

/// A 2xx answer's JSON, or the backend's `{error, message}` as a [`Failure`].
fn parse<T: DeserializeOwned>(reply: Reply) -> Result<T, Failure> {
    if (200..300).contains(&reply.status) {
        return wire::decode(&reply.body).ok_or_else(|| Failure {
            status: reply.status,
            code: "bad_answer".into(),
            message: t().error_bad_answer.into(),
        });
    }
    Err(match wire::decode::<ApiError>(&reply.body) {
        Some(e) => Failure {
            status: reply.status,
            message: labels::api_error(&e.error, &e.message),
            code: e.error,
        },
        None => Failure {
            status: reply.status,
            code: "http".into(),
            message: match reply.status {
                401 | 403 => t().error_refused.into(),
                404 => t().error_not_found.into(),
                429 => t().error_too_many.into(),
                s => fill(t().error_http, &[("code", &s.to_string())]),
            },
        },
    })
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                &resolve,
                ms.min(i32::MAX as u32) as i32,
            );
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
