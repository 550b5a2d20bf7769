//! SQLite durability: `synchronous = FULL` on every connection the server opens, and every
//! write taking its turn at the one write gate. PostgreSQL's connections lost under the server
//! are replaced before a request uses them. A batch of callbacks that fails half-way leaves
//! nothing behind.

use std::time::Duration;

use idv_server::{
    store::{Callback, Recorded},
    Store,
};

use crate::{
    helpers::{fresh_database, Db},
    world::spawn_world,
};

#[tokio::test]
async fn sqlite_pool_of_the_server_commits_with_synchronous_full() {
    let Some(w) = spawn_world(Db::Sqlite).await else {
        return;
    };
    let pool = w.app.state.services.core.store().pool().clone();
    // Hold several connections at once, so more than the first one is checked.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut conn = pool.acquire().await.unwrap();
        let mode: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(
            mode, 2,
            "PRAGMA synchronous is FULL (2) on every connection"
        );
        held.push(conn);
    }
}

#[tokio::test]
async fn sqlite_writes_outside_transactions_wait_for_the_write_gate() {
    let url = fresh_database(Db::Sqlite).await.unwrap();
    let store = Store::connect(&url).await.unwrap();
    store.insert_tenant("t1", "T1", "hash-1").await.unwrap();
    let gate = store.write_gate().await.expect("SQLite has a write gate");
    let writes = {
        let store = store.clone();
        tokio::spawn(async move {
            store.rotate_token("t1", "hash-2").await.unwrap();
            store.upsert_contact("t1", 7, false).await.unwrap();
            store
                .record_delivery("t1", "kosmos", "msg-1")
                .await
                .unwrap();
        })
    };
    // While another writer holds the gate, none of these writes may run.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !writes.is_finished(),
        "a write ran while another writer held the gate"
    );
    let token: String = sqlx::query_scalar("SELECT token_hash FROM tenants WHERE id = 't1'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(token, "hash-1");
    drop(gate);
    tokio::time::timeout(Duration::from_secs(30), writes)
        .await
        .expect("the writes run once the gate is free")
        .unwrap();
    assert!(store
        .tenant_by_token_hash("hash-2")
        .await
        .unwrap()
        .is_some());
}

/// A PostgreSQL connection can be cut under the server (a restart, a failover, a proxy's idle
/// timeout): the pool finds a lost one and opens another before a request uses it, and the
/// status reads' kept connection is replaced and its lookup asked again, so no read fails for
/// it.
#[tokio::test]
async fn postgres_connections_cut_under_the_server_are_replaced_before_a_request_uses_them() {
    let Some(w) = spawn_world(Db::Postgres).await else {
        return;
    };
    let reads = || async {
        let answers =
            futures_util::future::join_all((0..8).map(|_| w.get("/api/v1/contacts/11/status")))
                .await;
        answers
            .iter()
            .map(|r| r.status().as_u16())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        reads().await,
        [200; 8],
        "the pool holds several connections"
    );
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&w.db_url)
        .await
        .unwrap();
    let cut: i64 = sqlx::query_scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(cut > 0, "the server's connections were cut");
    assert_eq!(
        reads().await,
        [200; 8],
        "each read found a working connection"
    );
}

/// The callbacks of a batch are recorded in one transaction sent as one script. When one of its
/// statements fails, the batch records nothing and the connection goes back to the pool with no
/// transaction left open: the next batches and writes on it commit.
#[tokio::test]
async fn a_batch_of_callbacks_that_fails_half_way_records_nothing_and_leaves_no_transaction_open() {
    for db in [Db::Sqlite, Db::Postgres] {
        let Some(url) = fresh_database(db).await else {
            continue;
        };
        let store = Store::connect(&url).await.unwrap();
        let (refuse, allow) = match db {
            Db::Sqlite => (
                vec![
                    "CREATE TRIGGER refuse BEFORE UPDATE ON verifications \
                     BEGIN SELECT RAISE(ABORT, 'refused'); END",
                ],
                "DROP TRIGGER refuse",
            ),
            Db::Postgres => (
                vec![
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN RAISE EXCEPTION 'refused'; END $$",
                    "CREATE TRIGGER refuse BEFORE UPDATE ON verifications \
                     FOR EACH ROW EXECUTE FUNCTION refuse()",
                ],
                "DROP TRIGGER refuse ON verifications",
            ),
        };
        store.insert_tenant("t1", "T1", "hash-1").await.unwrap();
        sqlx::query(
            "INSERT INTO verifications (id, tenant_id, contact_id, kind, state, provider_session_id, \
             created_at, updated_at, next_poll_at) \
             VALUES ('v1', 't1', 1, 'idv', 'pending', 'ps-1', 0, 0, 9000000000000)",
        )
        .execute(store.pool())
        .await
        .unwrap();
        for sql in &refuse {
            sqlx::query(sql).execute(store.pool()).await.unwrap();
        }
        let callback = |event_id| Callback {
            tenant: "t1",
            event_id,
            provider_session: "ps-1",
            reference: None,
        };
        // The insert of the delivery id runs, then the hint's update fails.
        assert!(
            store.record_callbacks(&[callback("e1")]).await.is_err(),
            "{db:?}: the batch fails"
        );
        let events: i64 = sqlx::query_scalar("SELECT count(*) FROM inbound_events")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(
            events, 0,
            "{db:?}: the failed batch recorded no delivery id"
        );
        sqlx::query(allow).execute(store.pool()).await.unwrap();
        // Sequential calls reuse the pool's idle connection, the one the failure used.
        for event_id in ["e1", "e2", "e3"] {
            assert_eq!(
                store.record_callbacks(&[callback(event_id)]).await.unwrap(),
                [Recorded::Accepted { due: true }],
                "{db:?}: {event_id} is recorded after the failure"
            );
        }
        let mut tx = store.begin().await.unwrap();
        assert!(tx.record_delivery("t1", "workflow", "w1").await.unwrap());
        tx.commit().await.unwrap();
        let events: i64 = sqlx::query_scalar("SELECT count(*) FROM inbound_events")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(events, 4, "{db:?}: every later write committed");
    }
}
