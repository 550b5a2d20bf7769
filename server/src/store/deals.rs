//! Deals: the cached stage and primary contact of each deal the widget or automation read.

use super::{Conn, Store};
use crate::error::Result;

/// A deal as last read from the CRM.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct CachedDeal {
    pub stage_id: Option<i64>,
    pub primary_contact: Option<i64>,
    pub fetched_at: i64,
}

impl Store {
    pub async fn cached_deal(&self, tenant: &str, deal: i64) -> Result<Option<CachedDeal>> {
        Ok(sqlx::query_as("SELECT stage_id, primary_contact, fetched_at FROM deals WHERE tenant_id = $1 AND deal_id = $2")
            .bind(tenant)
            .bind(deal)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Records what the CRM said about a deal.
    pub async fn upsert_deal(
        &self,
        tenant: &str,
        deal: i64,
        stage_id: Option<i64>,
        primary_contact: Option<i64>,
        fetched_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO deals (tenant_id, deal_id, stage_id, primary_contact, fetched_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, deal_id) DO UPDATE SET stage_id = excluded.stage_id, primary_contact = excluded.primary_contact, fetched_at = excluded.fetched_at",
        )
        .bind(tenant)
        .bind(deal)
        .bind(stage_id)
        .bind(primary_contact)
        .bind(fetched_at)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(())
    }
}

impl dyn Conn + '_ {
    /// Sets the cached deal's stage (the widget then shows where the deal is being moved).
    pub async fn set_cached_deal_stage(
        &mut self,
        tenant: &str,
        deal: i64,
        stage_id: i64,
        fetched_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE deals SET stage_id = $3, fetched_at = $4 WHERE tenant_id = $1 AND deal_id = $2",
        )
        .bind(tenant)
        .bind(deal)
        .bind(stage_id)
        .bind(fetched_at)
        .execute(self.raw())
        .await?;
        Ok(())
    }
}
