//! Freshchat as the chat port.

use super::FreshchatClient;
use crate::ports::chat::{Chat, ChatError, UserProperty};

#[async_trait::async_trait]
impl Chat for FreshchatClient {
    fn describe(&self) -> String {
        format!("Freshchat at {}", self.base())
    }

    async fn post_message(
        &self,
        conversation_id: &str,
        text: &str,
    ) -> Result<Option<String>, ChatError> {
        self.send_message(conversation_id, text).await
    }

    async fn has_message(&self, conversation_id: &str, marker: &str) -> Result<bool, ChatError> {
        Ok(self
            .recent_texts(conversation_id)
            .await?
            .iter()
            .any(|t| t.contains(marker)))
    }

    async fn set_user_properties(
        &self,
        user_id: &str,
        properties: &[UserProperty],
    ) -> Result<(), ChatError> {
        self.update_user_properties(user_id, properties).await
    }

    async fn check(&self) -> Result<(), ChatError> {
        self.channels().await.map(|_| ())
    }
}
