//! Inbound dedupe: webhook delivery ids already accepted (`inbound_events`) and the API's
//! idempotency keys (`idempotency_keys`).

use std::collections::HashSet;

use sqlx::Row;

use super::{padded, Conn, Store};
use crate::{clock, error::Result};

/// One provider callback to record: its delivery id and the session it hints at.
#[derive(Debug, Clone, Copy)]
pub struct Callback<'a> {
    pub tenant: &'a str,
    pub event_id: &'a str,
    pub provider_session: &'a str,
    /// Our verification id, as the provider echoes it: a pending row whose provider session
    /// was never recorded (the start was cut short) is found by it.
    pub reference: Option<&'a str>,
}

/// What became of a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// New: recorded, and `due` says whether it made a pending session due for a read.
    Accepted { due: bool },
    /// This delivery id was recorded before.
    Duplicate,
}

impl Store {
    /// Records an inbound delivery id; `false` if it was seen before.
    pub async fn record_delivery(&self, tenant: &str, source: &str, id: &str) -> Result<bool> {
        self.writer()
            .await?
            .record_delivery(tenant, source, id)
            .await
    }

    /// Records an inbound delivery key unless it was recorded less than `window_ms` ago;
    /// `false` for such a repeat (an older record is renewed and counts as new).
    pub async fn record_delivery_within(
        &self,
        tenant: &str,
        source: &str,
        id: &str,
        now: i64,
        window_ms: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO inbound_events (tenant_id, source, event_id, received_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, source, event_id) DO UPDATE SET received_at = excluded.received_at \
             WHERE inbound_events.received_at <= $5",
        )
        .bind(tenant)
        .bind(source)
        .bind(id)
        .bind(now)
        .bind(now - window_ms)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Forgets a delivery whose handling failed, so the sender's retry is not a duplicate.
    pub async fn forget_delivery(&self, tenant: &str, source: &str, id: &str) -> Result<()> {
        sqlx::query(
            "DELETE FROM inbound_events WHERE tenant_id = $1 AND source = $2 AND event_id = $3",
        )
        .bind(tenant)
        .bind(source)
        .bind(id)
        .execute(self.writer().await?.raw())
        .await?;
        Ok(())
    }

    /// Records a batch of provider callbacks in one transaction, with two statements whatever
    /// its size: one multi-row insert of the delivery ids (`RETURNING` the new ones) and one
    /// update of the pending sessions they hint at. One outcome per callback, in order. Each
    /// statement is written for the batch's size rounded up to a power of two (the last
    /// callback repeated: a repeat inserts and updates nothing more), so a connection prepares
    /// a few sizes once instead of one per size.
    pub async fn record_callbacks(&self, batch: &[Callback<'_>]) -> Result<Vec<Recorded>> {
        let now = clock::now_ms();
        let mut tx = self.begin().await?;
        let mut sql = String::from(
            "INSERT INTO inbound_events (tenant_id, source, event_id, received_at) VALUES ",
        );
        let rows = padded(batch);
        for i in 0..rows.len() {
            let sep = if i == 0 { "" } else { ", " };
            sql.push_str(&format!(
                "{sep}(${}, 'kosmos', ${}, $1)",
                2 * i + 2,
                2 * i + 3
            ));
        }
        sql.push_str(
            " ON CONFLICT (tenant_id, source, event_id) DO NOTHING RETURNING tenant_id, event_id",
        );
        let mut q = sqlx::query(&sql).bind(now);
        for d in &rows {
            q = q.bind(d.tenant).bind(d.event_id);
        }
        let mut new: HashSet<(String, String)> = q
            .fetch_all(tx.raw())
            .await?
            .into_iter()
            .map(|r| (r.get("tenant_id"), r.get("event_id")))
            .collect();
        // The first callback of each new id is accepted; a twin in the same batch is a duplicate.
        let accepted: Vec<bool> = batch
            .iter()
            .map(|d| new.remove(&(d.tenant.to_string(), d.event_id.to_string())))
            .collect();
        let hinted: Vec<&Callback<'_>> = batch
            .iter()
            .zip(&accepted)
            .filter(|(_, a)| **a)
            .map(|(d, _)| d)
            .collect();
        let mut due: HashSet<(String, String)> = HashSet::new();
        if !hinted.is_empty() {
            let mut sql = String::from(
                "UPDATE verifications SET next_poll_at = $1 WHERE state = 'pending' AND (",
            );
            let hints = padded(&hinted);
            for i in 0..hints.len() {
                let sep = if i == 0 { "" } else { " OR " };
                sql.push_str(&format!(
                    "{sep}(tenant_id = ${} AND provider_session_id = ${})",
                    2 * i + 2,
                    2 * i + 3
                ));
            }
            sql.push_str(") RETURNING tenant_id, provider_session_id");
            let mut q = sqlx::query(&sql).bind(now);
            for d in &hints {
                q = q.bind(d.tenant).bind(d.provider_session);
            }
            due = q
                .fetch_all(tx.raw())
                .await?
                .into_iter()
                .map(|r| (r.get("tenant_id"), r.get("provider_session_id")))
                .collect();
            for d in hinted {
                let key = (d.tenant.to_string(), d.provider_session.to_string());
                let Some(reference) = d.reference else {
                    continue;
                };
                if due.contains(&key) {
                    continue;
                }
                // The provider's session for a row that never learnt it: adopt it, read it now
                // (the read, not this callback, decides the outcome).
                let adopted = sqlx::query(
                    "UPDATE verifications SET provider_session_id = $3, next_poll_at = $4 \
                     WHERE tenant_id = $1 AND id = $2 AND state = 'pending' AND provider_session_id IS NULL",
                )
                .bind(d.tenant)
                .bind(reference)
                .bind(d.provider_session)
                .bind(now)
                .execute(tx.raw())
                .await?;
                if adopted.rows_affected() == 1 {
                    due.insert(key);
                }
            }
        }
        tx.commit().await?;
        Ok(batch
            .iter()
            .zip(accepted)
            .map(|(d, a)| {
                if a {
                    Recorded::Accepted {
                        due: due.contains(&(d.tenant.to_string(), d.provider_session.to_string())),
                    }
                } else {
                    Recorded::Duplicate
                }
            })
            .collect())
    }

    /// The session an idempotency key reserved, if any.
    pub async fn idempotent_verification(&self, tenant: &str, key: &str) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT verification_id FROM idempotency_keys WHERE tenant_id = $1 AND key = $2",
        )
        .bind(tenant)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.get("verification_id")))
    }
}

impl dyn Conn + '_ {
    /// [`Store::record_delivery`] inside the caller's transaction.
    pub async fn record_delivery(&mut self, tenant: &str, source: &str, id: &str) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO inbound_events (tenant_id, source, event_id, received_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, source, event_id) DO NOTHING",
        )
        .bind(tenant)
        .bind(source)
        .bind(id)
        .bind(clock::now_ms())
        .execute(self.raw())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Reserves an idempotency key for a session; `false` if the key was taken.
    pub async fn reserve_idempotency_key(
        &mut self,
        tenant: &str,
        key: &str,
        verification_id: &str,
        now: i64,
    ) -> Result<bool> {
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (tenant_id, key, verification_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, key) DO NOTHING",
        )
        .bind(tenant)
        .bind(key)
        .bind(verification_id)
        .bind(now)
        .execute(self.raw())
        .await?;
        Ok(inserted.rows_affected() != 0)
    }
}
