//! Deals: the cached stage and primary contact of each deal the widget or automation read, with
//! the stage it was in before (the deal's known history).

use super::{Conn, Store};
use crate::error::Result;

/// A deal as last read from the CRM or seen in an event.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct CachedDeal {
    pub stage_id: Option<i64>,
    pub primary_contact: Option<i64>,
    pub fetched_at: i64,
    /// The stage before `stage_id`, when the backend saw the deal change stage.
    pub previous_stage_id: Option<i64>,
}

/// Keeps the stage left as `previous_stage_id` when `stage_id` changes to another stage.
const SHIFT_STAGE: &str =
    "previous_stage_id = CASE WHEN deals.stage_id IS NOT NULL AND excluded.stage_id IS NOT NULL \
     AND deals.stage_id <> excluded.stage_id THEN deals.stage_id ELSE deals.previous_stage_id END";

impl Store {
    pub async fn cached_deal(&self, tenant: &str, deal: i64) -> Result<Option<CachedDeal>> {
        Ok(sqlx::query_as("SELECT stage_id, primary_contact, fetched_at, previous_stage_id FROM deals WHERE tenant_id = $1 AND deal_id = $2")
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
        sqlx::query(&format!(
            "INSERT INTO deals (tenant_id, deal_id, stage_id, primary_contact, fetched_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, deal_id) DO UPDATE SET {SHIFT_STAGE}, stage_id = excluded.stage_id, \
             primary_contact = excluded.primary_contact, fetched_at = excluded.fetched_at",
        ))
        .bind(tenant)
        .bind(deal)
        .bind(stage_id)
        .bind(primary_contact)
        .bind(fetched_at)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(())
    }

    /// Records a stage change the platform reported (`from` → `to`), keeping the cached primary
    /// contact and leaving the row due for a read (a new row is never fresh).
    pub async fn saw_deal_stage(
        &self,
        tenant: &str,
        deal: i64,
        from: Option<i64>,
        to: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO deals (tenant_id, deal_id, stage_id, primary_contact, fetched_at, previous_stage_id) \
             VALUES ($1, $2, $3, NULL, 0, $4) \
             ON CONFLICT (tenant_id, deal_id) DO UPDATE SET stage_id = excluded.stage_id, \
             previous_stage_id = COALESCE(excluded.previous_stage_id, CASE WHEN deals.stage_id <> excluded.stage_id \
             THEN deals.stage_id ELSE deals.previous_stage_id END)",
        )
        .bind(tenant)
        .bind(deal)
        .bind(to)
        .bind(from.filter(|f| *f != to))
        .execute(self.writer().await?.raw())
        .await?;
        Ok(())
    }
}

impl dyn Conn + '_ {
    /// Sets the cached deal's stage (the widget then shows where the deal is being moved); the
    /// stage it leaves becomes its previous stage.
    pub async fn set_cached_deal_stage(
        &mut self,
        tenant: &str,
        deal: i64,
        stage_id: i64,
        fetched_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE deals SET previous_stage_id = CASE WHEN stage_id IS NOT NULL AND stage_id <> $3 \
             THEN stage_id ELSE previous_stage_id END, stage_id = $3, fetched_at = $4 \
             WHERE tenant_id = $1 AND deal_id = $2",
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
