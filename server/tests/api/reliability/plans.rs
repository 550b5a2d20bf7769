//! The periodic jobs (expiry, the sweeps of unstarted and abandoned sessions, retention, the
//! refresh of OAuth access tokens, the timeout of waiting workflow actions, and the claims of the
//! poller and the outbox) run every half second or so against tables that grow to millions of
//! rows: each finds its rows through an index, never by reading the whole table; so does the
//! lookup of the stamps every status read is checked against. Read from each engine's own
//! plan. (Reconciliation reads its tenant's row and sweep by primary key.)

use idv_server::store::periodic::*;
use sqlx::Row;

use crate::both_worlds;
use crate::world::World;

/// Each periodic statement, the table it must not scan, how many parameters it takes, and the
/// column whose range an index must bound (not merely a state that most rows share); `None`
/// where any index use will do (the abandoned sweep reads pending rows only, a few).
const STATEMENTS: &[(&str, &str, usize, Option<&str>)] = &[
    (EXPIRING_SQL, "verifications", 2, Some("valid_until")),
    (UNSTARTED_SQL, "verifications", 2, Some("created_at")),
    (ABANDONED_SQL, "verifications", 3, None),
    (DELETE_INBOUND_SQL, "inbound_events", 1, Some("received_at")),
    (
        DELETE_IDEMPOTENCY_SQL,
        "idempotency_keys",
        1,
        Some("created_at"),
    ),
    (DELETE_AUDIT_SQL, "audit_log", 1, Some("at")),
    (DELETE_SENT_ONCE_SQL, "sync_outbox", 1, Some("updated_at")),
    (DELETE_FINISHED_SQL, "verifications", 1, Some("updated_at")),
    (TOKENS_DUE_SQL, "tenants", 2, Some("crm_access_expires_at")),
    (ACTIONS_DUE_SQL, "waiting_actions", 2, Some("expires_at")),
];

/// A parameter's type, as the statement binds it.
#[derive(Clone, Copy)]
enum Param {
    Int,
    Text,
}

both_worlds!(no_periodic_job_reads_a_whole_table, periodic_plans);
async fn periodic_plans(w: World) {
    let sqlite = w.db_url.starts_with("sqlite");
    let mut conn = w
        .app
        .state
        .services
        .core
        .store()
        .pool()
        .acquire()
        .await
        .unwrap();
    // Tables this small are read whole when the planner knows how small they are; what matters
    // is whether an index could be used at all: PostgreSQL is told not to scan, SQLite plans
    // without the statistics of these few rows.
    let setup: &[&str] = if sqlite {
        &[
            "ANALYZE",
            "DELETE FROM sqlite_stat1",
            "ANALYZE sqlite_schema",
        ]
    } else {
        &["SET enable_seqscan = off"]
    };
    for sql in setup {
        sqlx::query(sql).execute(&mut *conn).await.unwrap();
    }
    // The claims, as the engine runs them (its row lock), with their own parameters: a lease
    // and a moment, and the outbox's claim token.
    let lock = w.app.state.services.core.store().backend().claim_lock();
    let polls = claim_polls_sql(lock, "id");
    let outbox = claim_outbox_sql(lock);
    let mut statements: Vec<(&str, &str, Vec<Param>, Option<&str>)> = STATEMENTS
        .iter()
        .map(|(sql, table, params, bound)| (*sql, *table, vec![Param::Int; *params], *bound))
        .collect();
    statements.push((
        &polls,
        "verifications",
        vec![Param::Int; 2],
        Some("next_poll_at"),
    ));
    statements.push((
        &outbox,
        "sync_outbox",
        vec![Param::Int, Param::Int, Param::Text],
        Some("next_attempt_at"),
    ));
    // Three reads' stamps in one lookup: one probe of the primary key each.
    let stamps = idv_server::store::status_stamps_sql(3);
    statements.push((
        &stamps,
        "contacts",
        [Param::Text, Param::Int].repeat(3),
        None,
    ));
    let mut full_scans = Vec::new();
    for (sql, table, params, bound) in &statements {
        let explain = if sqlite {
            format!("EXPLAIN QUERY PLAN {sql}")
        } else {
            format!("EXPLAIN {sql}")
        };
        let mut q = sqlx::query(&explain);
        for p in params {
            q = match p {
                Param::Int => q.bind(1_i64),
                Param::Text => q.bind("claim"),
            };
        }
        let plan: Vec<String> = q
            .fetch_all(&mut *conn)
            .await
            .unwrap()
            .iter()
            .map(|r| {
                if sqlite {
                    r.get::<String, _>("detail")
                } else {
                    r.get::<String, _>(0)
                }
            })
            .collect();
        let scans = plan.iter().any(|line| {
            if sqlite {
                line.trim() == format!("SCAN {table}")
            } else {
                line.contains(&format!("Seq Scan on {table}"))
            }
        });
        let indexed = |line: &String| {
            if sqlite {
                line.contains("USING") && bound.is_none_or(|c| line.contains(&format!("{c}<")))
            } else {
                (line.contains("Index") || line.contains("Bitmap"))
                    && bound.is_none_or(|c| line.contains("Index Cond") && line.contains(c))
            }
        };
        if scans || !plan.iter().any(indexed) {
            full_scans.push(format!("{sql}\n  {}", plan.join("\n  ")));
        }
    }
    if !sqlite {
        sqlx::query("RESET enable_seqscan")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    assert!(
        full_scans.is_empty(),
        "periodic statements that read a whole table, or more of it than their range:\n{}",
        full_scans.join("\n")
    );
}

/// SQLite plans a statement once, whatever values are bound to it: the server's SQLite is built
/// with the query planner stability guarantee (`LIBSQLITE3_FLAGS` in `.cargo/config.toml`).
/// Without it, once the tables have statistics, every statement comparing a bound value with an
/// indexed column (a status read's stamps, a callback's hint, the periodic claims) is compiled
/// again each time it runs.
#[tokio::test]
async fn sqlite_plans_each_statement_once_whatever_values_it_runs_with() {
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect("sqlite::memory:")
        .await
        .unwrap();
    let options: Vec<String> = sqlx::query("PRAGMA compile_options")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    assert!(
        options.iter().any(|o| o == "ENABLE_QPSG"),
        "SQLite is built without ENABLE_QPSG: {options:?}"
    );
}
