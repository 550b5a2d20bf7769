//! Chat links (ids only): the conversation a bot started a verification for and its user
//! (`chat_sessions`), and the user of each conversation as the chat product's webhooks report
//! it (`chat_conversations`).

use super::{Conn, Store};
use crate::error::Result;

/// A conversation a verification's result goes to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChatSession {
    /// The conversation (empty on links made before a conversation was required).
    pub conversation_id: String,
    pub user_id: Option<String>,
}

impl dyn Conn + '_ {
    /// Links a verification to the conversation it was started for (and its user, if known);
    /// a repeated link keeps the user already known.
    pub async fn link_chat_session(
        &mut self,
        tenant: &str,
        verification: &str,
        conversation: &str,
        user: Option<&str>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO chat_sessions (verification_id, conversation_id, tenant_id, user_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (verification_id, conversation_id) \
             DO UPDATE SET user_id = COALESCE(excluded.user_id, chat_sessions.user_id)",
        )
        .bind(verification)
        .bind(conversation)
        .bind(tenant)
        .bind(user)
        .bind(now)
        .execute(self.raw())
        .await?;
        Ok(())
    }

    /// The links of a verification to conversations.
    pub async fn chat_sessions(&mut self, verification: &str) -> Result<Vec<ChatSession>> {
        Ok(sqlx::query_as(
            "SELECT conversation_id, user_id FROM chat_sessions WHERE verification_id = $1 \
             ORDER BY created_at, conversation_id",
        )
        .bind(verification)
        .fetch_all(self.raw())
        .await?)
    }
}

impl Store {
    /// Records a conversation's user as a webhook reported it, and gives it to the
    /// verifications started from that conversation that did not know it yet.
    pub async fn record_conversation_user(
        &self,
        tenant: &str,
        conversation: &str,
        user: &str,
        channel: Option<&str>,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO chat_conversations (tenant_id, conversation_id, user_id, channel_id, seen_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, conversation_id) DO UPDATE SET \
             user_id = excluded.user_id, channel_id = COALESCE(excluded.channel_id, chat_conversations.channel_id), \
             seen_at = excluded.seen_at",
        )
        .bind(tenant)
        .bind(conversation)
        .bind(user)
        .bind(channel)
        .bind(now)
        .execute(tx.raw())
        .await?;
        sqlx::query(
            "UPDATE chat_sessions SET user_id = $3 WHERE tenant_id = $1 AND conversation_id = $2 \
             AND user_id IS NULL",
        )
        .bind(tenant)
        .bind(conversation)
        .bind(user)
        .execute(tx.raw())
        .await?;
        tx.commit().await
    }

    /// The user of a conversation, as the webhooks last reported it.
    pub async fn conversation_user(
        &self,
        tenant: &str,
        conversation: &str,
    ) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT user_id FROM chat_conversations WHERE tenant_id = $1 AND conversation_id = $2",
        )
        .bind(tenant)
        .bind(conversation)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.0))
    }

    /// The conversation a user wrote in last, as the webhooks reported it.
    pub async fn latest_conversation_of(&self, tenant: &str, user: &str) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT conversation_id FROM chat_conversations WHERE tenant_id = $1 AND user_id = $2 \
             ORDER BY seen_at DESC, conversation_id LIMIT 1",
        )
        .bind(tenant)
        .bind(user)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.0))
    }

    /// Deletes conversation links last seen before `cutoff`; returns how many.
    pub async fn delete_chat_conversations_before(&self, cutoff: i64) -> Result<u64> {
        let _gate = self.write_gate().await;
        let done = sqlx::query("DELETE FROM chat_conversations WHERE seen_at < $1")
            .bind(cutoff)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
