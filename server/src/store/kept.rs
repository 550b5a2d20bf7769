//! A connection kept out of the pool by a caller that asks one thing at a time, and often (the
//! status reads' lookup of their stamps). The pool checks a connection with a round trip before
//! lending it (PostgreSQL) and after it comes back (both engines); a kept connection skips
//! both. A read that fails on it is asked once more on a fresh connection, so a connection cut
//! under the server (a restart, a failover) fails no read; a statement that fails again is the
//! caller's error.

use sqlx::{any::AnyRow, AnyConnection};

use super::Store;
use crate::error::Result;

/// The kept connection, if one is open (the first read takes it from the pool).
#[derive(Debug, Default)]
pub struct Kept(Option<AnyConnection>);

/// A statement of the `Any` driver, with its parameters.
type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

impl Store {
    /// Runs `sql` (a statement without side effects), its parameters bound by `bind`, on the
    /// kept connection; replaces the connection and asks once more when it fails.
    pub async fn fetch_kept<'q>(
        &self,
        kept: &mut Kept,
        sql: &'q str,
        bind: impl Fn(AnyQuery<'q>) -> AnyQuery<'q>,
    ) -> Result<Vec<AnyRow>> {
        let mut retried = false;
        loop {
            let conn = match &mut kept.0 {
                Some(conn) => conn,
                empty => empty.insert(self.pool.acquire().await?.detach()),
            };
            match bind(sqlx::query(sql)).fetch_all(conn).await {
                Ok(rows) => return Ok(rows),
                Err(e) => {
                    kept.0 = None;
                    if retried {
                        return Err(e.into());
                    }
                    tracing::info!(error = %e, "a kept connection failed; reading on a new one");
                    retried = true;
                }
            }
        }
    }
}
