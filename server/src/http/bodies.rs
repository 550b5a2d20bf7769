//! The documented shapes of the hook bodies that are read leniently (numbers as strings, empty
//! values as absent, a workflow editor's `{{placeholders}}`): what a sender must send, for the
//! API document. The services' readers (`chat::from_bot`, `workflow::from_workflow`) enforce
//! them; `tests/api/openapi.rs` holds the two together.

#![allow(dead_code)]

use utoipa::ToSchema;

/// `POST /hooks/freshchat/{tenant}`: a chat bot starts a verification.
#[derive(ToSchema)]
#[schema(as = BotStartRequest)]
pub struct BotStart {
    /// Finds (or names, for a new contact) the Freshsales contact; never proves who is in the chat.
    #[schema(min_length = 1, max_length = 254, example = "jane@example.com")]
    email: String,
    /// Both names are needed to create a contact.
    first_name: Option<String>,
    last_name: Option<String>,
    /// Read as E.164; left out (with a note) when it does not read as one.
    phone: Option<String>,
    /// For a contact created here only.
    marketing_consent: Option<bool>,
    /// Required unless Freshchat's webhooks reported the conversation of `user_id`.
    #[schema(max_length = 128)]
    conversation_id: Option<String>,
    #[schema(max_length = 128)]
    user_id: Option<String>,
    delivery: Option<LinkDelivery>,
}

/// How the customer gets the link.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
enum LinkDelivery {
    Show,
    Email,
    Sms,
}

/// What a Workflow Automator Trigger Webhook reports.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
enum WorkflowEvent {
    ContactCreated,
    DealStageChanged,
}

/// `POST /hooks/freshsales/{tenant}`: a JSON object with `event`; ids as numbers or strings.
#[derive(ToSchema)]
#[schema(as = WorkflowRequest)]
pub struct Workflow {
    event: WorkflowEvent,
    /// Required for `contact_created`; for a deal, its contact (else the deal's primary one).
    #[schema(value_type = Option<Object>, example = 11)]
    contact_id: Option<serde_json::Value>,
    /// Required for `deal_stage_changed`.
    #[schema(value_type = Option<Object>, example = 501)]
    deal_id: Option<serde_json::Value>,
    /// The stage entered (its name or id).
    #[schema(value_type = Option<Object>)]
    stage: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    previous_stage_id: Option<serde_json::Value>,
    #[schema(value_type = Option<String>, example = "IAL2")]
    ial: Option<String>,
    /// A list, or a comma-separated string.
    #[schema(value_type = Option<Object>)]
    document_types: Option<serde_json::Value>,
    delivery: Option<LinkDelivery>,
    force: Option<bool>,
    /// The editor's test call: starts nothing.
    test: Option<bool>,
}
