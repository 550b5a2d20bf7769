//! Deals: the cached stage and primary contact of each deal the widget or automation read, with
//! the stage it was in before (the deal's known history).

use super::{Conn, Store};
use crate::error::Result;

/// A deal as last read from the CRM or seen in an event (stage ids as the CRM spells them).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CachedDeal {
    pub stage: Option<String>,
    pub primary_contact: Option<i64>,
    pub fetched_at: i64,
    /// The stage before `stage`, when the backend saw the deal change stage.
    pub previous_stage: Option<String>,
}

/// Keeps the stage left as `previous_stage` when `stage` changes to another stage.
const SHIFT_STAGE: &str =
    "previous_stage = CASE WHEN deals.stage IS NOT NULL AND excluded.stage IS NOT NULL \
     AND deals.stage <> excluded.stage THEN deals.stage ELSE deals.previous_stage END";

impl Store {
    pub async fn cached_deal(&self, tenant: &str, deal: i64) -> Result<Option<CachedDeal>> {
        Ok(sqlx::query_as("SELECT stage, primary_contact, fetched_at, previous_stage FROM deals WHERE tenant_id = $1 AND deal_id = $2")
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
        stage: Option<&str>,
        primary_contact: Option<i64>,
        fetched_at: i64,
    ) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO deals (tenant_id, deal_id, stage, primary_contact, fetched_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, deal_id) DO UPDATE SET {SHIFT_STAGE}, stage = excluded.stage, \
             primary_contact = excluded.primary_contact, fetched_at = excluded.fetched_at",
        ))
        .bind(tenant)
        .bind(deal)
        .bind(stage)
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
        from: Option<&str>,
        to: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO deals (tenant_id, deal_id, stage, primary_contact, fetched_at, previous_stage) \
             VALUES ($1, $2, $3, NULL, 0, $4) \
             ON CONFLICT (tenant_id, deal_id) DO UPDATE SET stage = excluded.stage, \
             previous_stage = COALESCE(excluded.previous_stage, CASE WHEN deals.stage <> excluded.stage \
             THEN deals.stage ELSE deals.previous_stage END)",
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
        stage: &str,
        fetched_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE deals SET previous_stage = CASE WHEN stage IS NOT NULL AND stage <> $3 \
             THEN stage ELSE previous_stage END, stage = $3, fetched_at = $4 \
             WHERE tenant_id = $1 AND deal_id = $2",
        )
        .bind(tenant)
        .bind(deal)
        .bind(stage)
        .bind(fetched_at)
        .execute(self.raw())
        .await?;
        Ok(())
    }
}
