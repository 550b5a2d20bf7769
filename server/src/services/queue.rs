//! What goes into the outbox: the CRM writes a use case queues in its own transaction (the
//! contact's fields, the history record, a workflow action's completion, automation's task),
//! each a [`Write`] with the key that coalesces it.

use std::{sync::Arc, time::Duration};

use idv_types::{Delivery, Kind, SessionState, Verification};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{
    core::{contact_row, read_row, Core, VerRow},
    tenant::TenantRow,
};
use crate::{
    clock,
    crypto::{at, Sealer},
    domain::outputs::{outputs_of, result_text},
    error::Result,
    ports::{chat::UserProperty, AccountEvent},
    store::{Conn, Enqueue},
};

/// One remote write, as stored (sealed) in the outbox.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Write {
    ContactFields {
        contact_id: u64,
        fields: Map<String, Value>,
    },
    History {
        verification_id: String,
        record: Value,
    },
    Note {
        target: String,
        id: u64,
        text: String,
    },
    Task {
        target: String,
        id: u64,
        title: String,
        description: String,
        due_date: String,
        /// The CRM user the task is for (the contact's owner), when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner_id: Option<u64>,
        /// Assign the task to this contact's owner, read when the task is sent (a worker
        /// that queues a task reads nothing from the CRM in its transaction).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner_of_contact: Option<u64>,
    },
    DealStage {
        deal_id: u64,
        stage_id: idv_types::StageId,
    },
    /// A message into a chat conversation (at most once: see [`Outbox::send_chat`]).
    ChatMessage {
        conversation_id: String,
        text: String,
        /// Text the message contains, to find it in the conversation.
        marker: String,
    },
    /// Properties of a chat user (name, value).
    ChatUserProperties {
        user_id: String,
        properties: Vec<(String, String)>,
    },
    /// Completes a workflow action that waited for a result (at most once).
    CompleteAction {
        callback_id: String,
        outputs: Map<String, Value>,
    },
    /// An event a CRM platform announced, acted on here rather than while the platform waits
    /// for its answer (see `deliveries.rs`); retried like a write when acting fails for a
    /// passing reason.
    Event { event: AccountEvent },
}

impl Write {
    fn kind(&self) -> &'static str {
        match self {
            Self::ContactFields { .. } => "contact_fields",
            Self::History { .. } => "history",
            Self::Note { .. } => "note",
            Self::Task { .. } => "task",
            Self::DealStage { .. } => "deal_stage",
            Self::ChatMessage { .. } => "chat_message",
            Self::ChatUserProperties { .. } => "chat_properties",
            Self::CompleteAction { .. } => "action_completion",
            Self::Event { .. } => "platform_event",
        }
    }

    /// Desired-state writes replace their previous version; notes, tasks and messages happen
    /// once.
    fn coalesces(&self) -> bool {
        !matches!(
            self,
            Self::Note { .. }
                | Self::Task { .. }
                | Self::ChatMessage { .. }
                | Self::CompleteAction { .. }
                | Self::Event { .. }
        )
    }

    /// A write to the chat product, not the CRM (it spends no CRM budget).
    pub fn is_chat(&self) -> bool {
        matches!(
            self,
            Self::ChatMessage { .. } | Self::ChatUserProperties { .. }
        )
    }
}

/// Upserts a write inside the caller's transaction (`tx`), sealed with `sealer`; a new row is
/// due after `coalesce`. `key` names the remote record.
pub async fn enqueue(
    tx: &mut dyn Conn,
    sealer: &Sealer,
    coalesce: Duration,
    tenant: &str,
    key: &str,
    write: &Write,
) -> Result<()> {
    let now = clock::now_ms();
    let row = outbox_row(tenant, key);
    let payload = sealer.seal(
        at("sync_outbox", "payload", &row),
        &serde_json::to_string(write).expect("serialisable"),
    );
    let due = now + coalesce.as_millis() as i64;
    tx.enqueue(&Enqueue {
        tenant,
        record_key: key,
        kind: write.kind(),
        payload: &payload,
        coalesces: write.coalesces(),
        next_attempt_at: due,
        now,
    })
    .await
}

/// The row of an outbox payload's seal: its tenant and record key (the row's unique key).
pub fn outbox_row(tenant: &str, record_key: &str) -> String {
    format!("{tenant}/{record_key}")
}

/// A link automation just had sent, for the owner's task and the contact's note.
pub struct LinkSent<'a> {
    pub id: &'a str,
    pub delivery: Delivery,
    pub delivery_error: Option<&'a str>,
    pub expires_at: Option<i64>,
    /// The contact's owner in the CRM.
    pub owner: Option<u64>,
    /// The help-desk ticket it was started from.
    pub ticket: Option<i64>,
}

/// Queues the writes a change of a verification or a contact calls for.
#[derive(Clone, Debug)]
pub struct Queue {
    core: Arc<Core>,
}

impl Queue {
    /// Queues, in the result's transaction, the message into the conversation the verification
    /// was started for and its user's properties; nothing for a session no bot started, and
    /// nowhere else.
    pub async fn queue_chat_result(
        &self,
        tx: &mut dyn Conn,
        tenant: &TenantRow,
        v: &VerRow,
        state: &str,
    ) -> Result<()> {
        let Some(own) = v.conversation_id.as_deref() else {
            return Ok(());
        };
        enqueue(
            tx,
            &self.core.sealer,
            self.core.settings.coalesce,
            &tenant.id,
            &format!("chat:{}:{own}:{state}", v.id),
            &Write::ChatMessage {
                conversation_id: own.to_string(),
                text: result_text(state, &v.id),
                marker: v.id.clone(),
            },
        )
        .await?;
        let links = tx.chat_sessions(&v.id).await?;
        let Some(user) = links
            .into_iter()
            .find(|l| l.conversation_id == own)
            .and_then(|l| l.user_id)
        else {
            return Ok(());
        };
        let mut properties = vec![UserProperty {
            name: "idv_status".into(),
            value: state.into(),
        }];
        if state == "verified" {
            properties.push(UserProperty {
                name: "idv_verified_at".into(),
                value: clock::rfc3339(clock::now_ms()),
            });
        }
        enqueue(
            tx,
            &self.core.sealer,
            self.core.settings.coalesce,
            &tenant.id,
            &format!("chat:{}:user:{user}", v.id),
            &Write::ChatUserProperties {
                user_id: user.clone(),
                properties: properties.into_iter().map(|p| (p.name, p.value)).collect(),
            },
        )
        .await
    }

    pub fn new(core: Arc<Core>) -> Self {
        Self { core }
    }

    /// Recomputes a contact's fields and upserts their desired state.
    pub async fn queue_contact_writes(
        &self,
        tx: &mut dyn Conn,
        tenant: &TenantRow,
        contact: i64,
    ) -> Result<()> {
        let status = tx.contact_status(&tenant.id, contact).await?;
        let Some(status) = status else { return Ok(()) };
        let sealed = tx.credential_sealed(&tenant.id, contact).await?;
        let row = contact_row(&tenant.id, contact);
        // The DID goes into the CRM only when the admin chose to publish it; otherwise the
        // field is cleared (a DID published before stays no longer).
        let did = self
            .core
            .sealer
            .open_opt(
                crate::crypto::at("contacts", "credential_did_sealed", &row),
                sealed.as_deref(),
            )
            .filter(|_| tenant.policy.publish_credential_did);
        let fields = crate::domain::fields::contact_fields(&status, did);
        enqueue(
            tx,
            &self.core.sealer,
            self.core.settings.coalesce,
            &tenant.id,
            &format!("contact:{contact}"),
            &Write::ContactFields {
                contact_id: contact as u64,
                fields,
            },
        )
        .await
    }

    pub async fn queue_history(&self, tx: &mut dyn Conn, tenant: &str, id: &str) -> Result<()> {
        let row = tx.verification_by_id(id).await?;
        let v = read_row(&self.core.sealer, row).row;
        // A workflow action that waited for this result is completed with it.
        self.queue_action_completions(tx, tenant, &v).await?;
        let record = json!({
            "name": format!("{} {}", if v.kind == Kind::Idv { "IDV" } else { "Step-up" }, v.id),
            "custom_field": {
                "cf_session_id": v.id,
                "cf_kind": v.kind.as_str(),
                "cf_state": v.state.as_str(),
                "cf_contact_id": v.contact_id,
                "cf_deal_id": v.deal_id,
                "cf_ial": v.ial.as_ref().map(|a| format!("{} ({})", a.level, a.revision)),
                "cf_document_type": v.document_type,
                "cf_match_confidence": v.match_confidence,
                "cf_started_at": v.created_at,
                "cf_completed_at": v.completed_at,
                "cf_failure_reason": v.failure_reason,
            }
        });
        enqueue(
            tx,
            &self.core.sealer,
            self.core.settings.coalesce,
            tenant,
            &format!("history:{id}"),
            &Write::History {
                verification_id: id.into(),
                record,
            },
        )
        .await
    }

    /// Queues, in the transaction that ended a verification, the completion of every action
    /// that waited for it.
    pub async fn queue_action_completions(
        &self,
        tx: &mut dyn Conn,
        tenant: &str,
        v: &Verification,
    ) -> Result<()> {
        if v.state == SessionState::Pending {
            return Ok(());
        }
        let outputs = outputs_of(v);
        let result = outputs["idv_result"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        for callback in tx
            .complete_actions_of(&v.id, &result, clock::now_ms())
            .await?
        {
            enqueue(
                tx,
                &self.core.sealer,
                self.core.settings.coalesce,
                tenant,
                &format!("action:{callback}"),
                &Write::CompleteAction {
                    callback_id: callback,
                    outputs: outputs.clone(),
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Queues, in the start's transaction, the owner's task for a start made by automation: how
    /// the link reaches the customer, and what to do if it does not. The task carries the start;
    /// the contact's one note comes with the result.
    pub async fn queue_automation_followup(
        &self,
        tx: &mut dyn Conn,
        tenant: &TenantRow,
        contact: i64,
        link: &LinkSent<'_>,
    ) -> Result<()> {
        let until = link
            .expires_at
            .map(|t| format!(" The link works until {}.", clock::rfc3339(t)))
            .unwrap_or_default();
        let id = link.id;
        let owner = link.owner;
        let ticket = link.ticket;
        let link = match (link.delivery, link.delivery_error) {
            (_, Some(e)) => format!(
                "1Kosmos could not send the link ({e}): copy it from the contact's IDV panel and send it yourself."
            ),
            (Delivery::Show, None) => {
                "The link was not sent: copy it from the contact's IDV panel and send it to the customer."
                    .to_string()
            }
            (Delivery::Email, None) => "1Kosmos emailed the link to the contact.".to_string(),
            (Delivery::Sms, None) => "1Kosmos texted the link to the contact's phone.".to_string(),
        };
        if !tenant.crm_kind.has_tasks() {
            // A help desk has no tasks: the agents read it on the ticket, privately.
            let Some(ticket) = ticket else { return Ok(()) };
            return enqueue(
                tx,
                &self.core.sealer,
                self.core.settings.coalesce,
                &tenant.id,
                &format!("note:{id}:started"),
                &Write::Note {
                    target: "ticket".into(),
                    id: ticket as u64,
                    text: format!(
                        "Identity verification requested for the requester (session {id}). {link}{until}"
                    ),
                },
            )
            .await;
        }
        enqueue(
            tx,
            &self.core.sealer,
            self.core.settings.coalesce,
            &tenant.id,
            &format!("task:{id}:owner"),
            &Write::Task {
                target: "contact".into(),
                id: contact as u64,
                title: "Identity verification requested".into(),
                description: format!(
                    "Automation started an identity verification (session {id}). {link}{until} Resend it from the IDV panel if the customer does not finish."
                ),
                due_date: clock::rfc3339(clock::now_ms() + clock::DAY_MS),
                owner_id: owner,
                owner_of_contact: None,
            },
        )
        .await
    }
}
