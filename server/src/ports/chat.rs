//! The chat port: what the services need from a customer-messaging product (Freshchat is the
//! first adapter) to tell a customer in a conversation how their verification went.

/// A chat user's property (`idv_status` → `verified`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProperty {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// The token is wrong, was regenerated, or lacks rights.
    #[error("{0}")]
    Unauthorized(String),
    /// No such conversation or user.
    #[error("{0}")]
    NotFound(String),
    /// The chat product refused this request: retrying the same request will not help. A
    /// refused message post may still have been delivered (see [`ChatError::may_have_happened`]).
    #[error("{0}")]
    Rejected(String),
    #[error("{message}")]
    RateLimited {
        retry_after_secs: u64,
        message: String,
    },
    /// The request never reached the chat product (unreachable, refused connection): nothing
    /// happened, retrying is safe.
    #[error("{0}")]
    Unreachable(String),
    /// The request was sent but its outcome is unknown (a timeout, a 5xx, an answer that
    /// cannot be read): it may have been carried out.
    #[error("{0}")]
    Uncertain(String),
}

impl ChatError {
    /// The wait the chat product asked for, if any.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// Whether a write that failed this way may still have been carried out ("maybe sent"):
    /// a message post is then not repeated blindly.
    pub fn may_have_happened(&self) -> bool {
        matches!(self, Self::Uncertain(_) | Self::Rejected(_))
    }

    /// Retrying the same request later cannot succeed.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::NotFound(_) | Self::Rejected(_))
    }
}

/// What the services need from a chat product.
#[async_trait::async_trait]
pub trait Chat: Send + Sync + std::fmt::Debug {
    /// The product and where it is, for operators (`Freshchat at https://…`).
    fn describe(&self) -> String;
    /// Posts a text message into a conversation; returns the message's id when the answer
    /// names one. An error after the request was sent may hide a delivered message
    /// ([`ChatError::may_have_happened`]).
    async fn post_message(
        &self,
        conversation_id: &str,
        text: &str,
    ) -> Result<Option<String>, ChatError>;
    /// Whether the conversation's latest messages include one containing `marker` (to tell
    /// whether an earlier, uncertain post went through).
    async fn has_message(&self, conversation_id: &str, marker: &str) -> Result<bool, ChatError>;
    /// Sets properties of a chat user (others are left as they are).
    async fn set_user_properties(
        &self,
        user_id: &str,
        properties: &[UserProperty],
    ) -> Result<(), ChatError>;
    /// A read-only call that proves the host and token (for `server check`).
    async fn check(&self) -> Result<(), ChatError>;
}

/// An event of the chat product's webhooks, in our words: ids and kinds only (a message's text
/// is never kept).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChatEvent {
    /// `message_create`, `conversation_assignment`, `conversation_resolution`, …
    pub action: String,
    /// Unique per event (the message's id), to recognise a repeated delivery.
    pub key: String,
    pub conversation_id: Option<String>,
    /// The conversation's chat user, when the event names one.
    pub user_id: Option<String>,
    pub channel_id: Option<String>,
    /// Who acted: `user`, `agent` or `system`.
    pub actor_type: Option<String>,
    /// The kinds of the message's parts (`text`, `image`…).
    pub parts: Vec<String>,
    /// A private note between agents.
    pub private: bool,
    /// When the chat product says the event happened (Unix ms), if the body says it in a form
    /// that can be read; a delivery is refused without it (its freshness cannot be checked).
    pub at_ms: Option<i64>,
}

/// The chat product's signed webhooks for one account (its public key).
pub trait ChatWebhooks: Send + Sync + std::fmt::Debug {
    /// Checks a delivery's signature (the header's value, if any) over its raw body; the
    /// reason when refused.
    fn verify(&self, signature: Option<&str>, body: &[u8]) -> Result<(), String>;
    /// Reads a verified delivery.
    fn read(&self, body: &[u8]) -> Result<ChatEvent, String>;
}
