//! Inbound dedupe: webhook delivery ids already accepted (`inbound_events`) and the API's
//! idempotency keys (`idempotency_keys`).

use std::collections::HashSet;

use sqlx::Row;

use super::{padded, Backend, Conn, Store};
use crate::{clock, error::Result};

/// (tenant, delivery id) or (tenant, provider session) pairs.
type Keys = HashSet<(String, String)>;

/// The number of callback `i`'s parameter `k` in a batch's statement: `$1` is the batch's
/// time, then each callback has four, its tenant (0), delivery id (1), provider session (2) and
/// reference (3), bound in that order by [`with_callbacks`].
fn param(i: usize, k: usize) -> usize {
    4 * i + 2 + k
}

/// A batch's statement with its parameters (numbered by [`param`]).
fn with_callbacks<'q>(
    sql: &'q str,
    now: i64,
    rows: &'q [Callback<'q>],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut q = sqlx::query(sql).bind(now);
    for d in rows {
        q = q
            .bind(d.tenant)
            .bind(d.event_id)
            .bind(d.provider_session)
            .bind(d.reference);
    }
    q
}

/// The delivery ids a batch inserted (`kind` 'new') and the sessions it made due ('due'), from
/// its statements' `RETURNING` rows.
fn new_and_due(rows: Vec<sqlx::any::AnyRow>) -> (Keys, Keys) {
    let (mut new, mut due) = (Keys::new(), Keys::new());
    for r in rows {
        let key = (r.get("tenant_id"), r.get("key"));
        match r.get::<String, _>("kind").as_str() {
            "new" => new.insert(key),
            _ => due.insert(key),
        };
    }
    (new, due)
}

/// One outcome per callback, in order: the first callback of each new delivery id is accepted
/// (due when its session was made due); a twin in the same batch, or an id seen before, is a
/// duplicate.
fn outcomes(batch: &[Callback<'_>], mut new: Keys, due: &Keys) -> Vec<Recorded> {
    batch
        .iter()
        .map(|d| {
            if new.remove(&(d.tenant.to_string(), d.event_id.to_string())) {
                Recorded::Accepted {
                    due: due.contains(&(d.tenant.to_string(), d.provider_session.to_string())),
                }
            } else {
                Recorded::Duplicate
            }
        })
        .collect()
}

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

    /// Records a batch of provider callbacks under one commit: the delivery ids inserted
    /// (`RETURNING` the new ones) and the pending sessions they hint at made due. One outcome
    /// per callback, in order. Each statement is written for the batch's size rounded up to a
    /// power of two (the last callback repeated: a repeat inserts and updates nothing more), so
    /// a connection prepares a few sizes once instead of one per size.
    pub async fn record_callbacks(&self, batch: &[Callback<'_>]) -> Result<Vec<Recorded>> {
        let now = clock::now_ms();
        let (new, due) = match self.backend {
            Backend::Postgres => self.record_callbacks_in_one_statement(batch, now).await?,
            Backend::Sqlite => self.record_callbacks_in_one_transaction(batch, now).await?,
        };
        Ok(outcomes(batch, new, &due))
    }

    /// PostgreSQL: the batch in one statement, so one round trip and one commit (its
    /// data-modifying `WITH` parts see the same snapshot and commit together). The delivery ids
    /// are inserted; the first callback of each new id hints at its pending session, or adopts
    /// the row its reference names when that row never learnt its provider's session.
    async fn record_callbacks_in_one_statement(
        &self,
        batch: &[Callback<'_>],
        now: i64,
    ) -> Result<(Keys, Keys)> {
        let rows = padded(batch);
        let mut sql = String::from(
            "WITH input (ord, tenant_id, event_id, session_id, reference) AS (VALUES ",
        );
        for i in 0..rows.len() {
            let sep = if i == 0 { "" } else { ", " };
            sql.push_str(&format!(
                "{sep}({i}, ${}::text, ${}::text, ${}::text, ${}::text)",
                param(i, 0),
                param(i, 1),
                param(i, 2),
                param(i, 3)
            ));
        }
        sql.push_str(
            "), ins AS (\
               INSERT INTO inbound_events (tenant_id, source, event_id, received_at) \
               SELECT tenant_id, 'kosmos', event_id, $1 FROM input \
               ON CONFLICT (tenant_id, source, event_id) DO NOTHING \
               RETURNING tenant_id, event_id), \
             hints AS (\
               SELECT DISTINCT ON (i.tenant_id, i.event_id) i.tenant_id, i.session_id, i.reference \
               FROM input i JOIN ins ON ins.tenant_id = i.tenant_id AND ins.event_id = i.event_id \
               ORDER BY i.tenant_id, i.event_id, i.ord), \
             hinted AS (\
               UPDATE verifications v SET next_poll_at = $1 FROM hints h \
               WHERE v.state = 'pending' AND v.tenant_id = h.tenant_id \
                 AND v.provider_session_id = h.session_id \
               RETURNING v.tenant_id, v.provider_session_id), \
             adopted AS (\
               UPDATE verifications v SET provider_session_id = h.session_id, next_poll_at = $1 \
               FROM hints h \
               WHERE h.reference IS NOT NULL AND v.tenant_id = h.tenant_id AND v.id = h.reference \
                 AND v.state = 'pending' AND v.provider_session_id IS NULL \
               RETURNING v.tenant_id, v.provider_session_id) \
             SELECT 'new' AS kind, tenant_id, event_id AS key FROM ins \
             UNION ALL SELECT 'due', tenant_id, provider_session_id FROM hinted \
             UNION ALL SELECT 'due', tenant_id, provider_session_id FROM adopted",
        );
        let q = with_callbacks(&sql, now, &rows);
        Ok(new_and_due(q.fetch_all(&self.pool).await?))
    }

    /// SQLite: the batch in one transaction sent as one script, so the connection's thread is
    /// asked once, not once per statement (each ask is a hand-over between threads, which
    /// costs more than the statements). The delivery ids are inserted; each callback whose id
    /// this batch inserted (stamped with the batch's time) hints at its pending session, or
    /// adopts the row its reference names when that row never learnt its provider's session.
    async fn record_callbacks_in_one_transaction(
        &self,
        batch: &[Callback<'_>],
        now: i64,
    ) -> Result<(Keys, Keys)> {
        let rows = padded(batch);
        let list = |each: &dyn Fn(usize) -> String, sep: &str| {
            (0..rows.len()).map(each).collect::<Vec<_>>().join(sep)
        };
        let accepted = |i: usize| {
            format!(
                "EXISTS (SELECT 1 FROM inbound_events e WHERE e.tenant_id = ${t} \
                 AND e.source = 'kosmos' AND e.event_id = ${e} AND e.received_at = $1)",
                t = param(i, 0),
                e = param(i, 1)
            )
        };
        let sql = format!(
            "BEGIN IMMEDIATE; \
             INSERT INTO inbound_events (tenant_id, source, event_id, received_at) VALUES {values} \
             ON CONFLICT (tenant_id, source, event_id) DO NOTHING \
             RETURNING 'new' AS kind, tenant_id, event_id AS key; \
             UPDATE verifications SET next_poll_at = $1 WHERE state = 'pending' AND ({hinted}) \
             RETURNING 'due' AS kind, tenant_id, provider_session_id AS key; \
             UPDATE verifications SET provider_session_id = CASE {adopted_session} END, \
             next_poll_at = $1 WHERE state = 'pending' AND provider_session_id IS NULL \
             AND ({adopted}) \
             RETURNING 'due' AS kind, tenant_id, provider_session_id AS key; \
             COMMIT;",
            values = list(
                &|i| format!("(${}, 'kosmos', ${}, $1)", param(i, 0), param(i, 1)),
                ", "
            ),
            hinted = list(
                &|i| format!(
                    "(tenant_id = ${} AND provider_session_id = ${} AND {})",
                    param(i, 0),
                    param(i, 2),
                    accepted(i)
                ),
                " OR "
            ),
            adopted_session = list(
                &|i| format!(
                    "WHEN tenant_id = ${} AND id = ${} THEN ${}",
                    param(i, 0),
                    param(i, 3),
                    param(i, 2)
                ),
                " "
            ),
            adopted = list(
                &|i| format!(
                    "(tenant_id = ${} AND id = ${} AND {})",
                    param(i, 0),
                    param(i, 3),
                    accepted(i)
                ),
                " OR "
            ),
        );
        let q = with_callbacks(&sql, now, &rows);
        let mut conn = self.writer().await?;
        let found = match q.fetch_all(conn.raw()).await {
            Ok(found) => found,
            Err(e) => {
                // A statement failed after `BEGIN`: the connection goes back to the pool with
                // no transaction open (this fails harmlessly when none is).
                let _ = sqlx::query("ROLLBACK").execute(conn.raw()).await;
                return Err(e.into());
            }
        };
        Ok(new_and_due(found))
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
