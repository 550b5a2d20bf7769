//! Workflow actions that wait for a verification's result: each is completed once, with the
//! result or with a timeout before the platform's own expiry.

use super::{Conn, Store};
use crate::error::Result;

/// A waiting action whose platform expiry is near.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WaitingAction {
    pub tenant_id: String,
    pub callback_id: String,
    pub verification_id: String,
}

impl Store {
    /// Records that the action `callback` waits for `verification` until `expires_at`; a
    /// second record of the same callback (the platform's retry) keeps the first. Returns the
    /// verification the callback waits for.
    pub async fn wait_action(
        &self,
        tenant: &str,
        callback: &str,
        verification: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<String> {
        sqlx::query(
            "INSERT INTO waiting_actions (tenant_id, callback_id, verification_id, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, callback_id) DO NOTHING",
        )
        .bind(tenant)
        .bind(callback)
        .bind(verification)
        .bind(expires_at)
        .bind(now)
        .execute(self.writer().await?.raw())
        .await?;
        self.waiting_action(tenant, callback).await?.ok_or_else(|| {
            crate::error::AppError::Internal(anyhow::anyhow!("waiting action {callback} vanished"))
        })
    }

    /// The verification an action already waits for (a retry of its execution).
    pub async fn waiting_action(&self, tenant: &str, callback: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT verification_id FROM waiting_actions WHERE tenant_id = $1 AND callback_id = $2",
        )
        .bind(tenant)
        .bind(callback)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Actions still waiting whose expiry is before `horizon`.
    pub async fn actions_running_out(
        &self,
        horizon: i64,
        limit: i64,
    ) -> Result<Vec<WaitingAction>> {
        Ok(sqlx::query_as(super::periodic::ACTIONS_DUE_SQL)
            .bind(horizon)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }
}

impl dyn Conn + '_ {
    /// Marks the actions waiting for `verification` completed with `result`; returns their
    /// callback ids (none when another completion took them first).
    pub async fn complete_actions_of(
        &mut self,
        verification: &str,
        result: &str,
        now: i64,
    ) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "UPDATE waiting_actions SET completed_at = $1, result = $2 \
             WHERE verification_id = $3 AND completed_at IS NULL RETURNING callback_id",
        )
        .bind(now)
        .bind(result)
        .bind(verification)
        .fetch_all(self.raw())
        .await?)
    }

    /// Marks one action completed with `result`, if it still waits.
    pub async fn complete_action(
        &mut self,
        tenant: &str,
        callback: &str,
        result: &str,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE waiting_actions SET completed_at = $1, result = $2 \
             WHERE tenant_id = $3 AND callback_id = $4 AND completed_at IS NULL",
        )
        .bind(now)
        .bind(result)
        .bind(tenant)
        .bind(callback)
        .execute(self.raw())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
