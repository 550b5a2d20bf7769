//! Erasure is complete or it is not erasure: after `contact forget`, no table of the schema
//! holds anything of the person but the record of the erasure itself. The tables are listed
//! from the database's own catalogue, so a table added later is covered without a change here;
//! sealed values are opened and read too.

use std::time::{Duration, Instant};

use idv_server::{
    crypto::{at, Sealer},
    services::Policy,
};
use serde_json::{json, Value};
use sqlx::{AnyPool, Row};

use crate::{
    both,
    helpers::Db,
    world::{spawn_world_with, test_settings, World, ALIAS, TENANT, WORKFLOW_SECRET},
};

/// Every table of the schema, from the catalogue.
async fn tables(pool: &AnyPool, sqlite: bool) -> Vec<String> {
    let sql = if sqlite {
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    } else {
        "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
    };
    sqlx::query_scalar(sql).fetch_all(pool).await.unwrap()
}

async fn columns(pool: &AnyPool, sqlite: bool, table: &str) -> Vec<String> {
    let sql = if sqlite {
        "SELECT name FROM pragma_table_info($1) ORDER BY cid"
    } else {
        "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
    };
    sqlx::query_scalar(sql)
        .bind(table)
        .fetch_all(pool)
        .await
        .unwrap()
}

/// Every row of every table, each value as text: `(table, [(column, value)])`.
async fn every_row(pool: &AnyPool, sqlite: bool) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    for table in tables(pool, sqlite).await {
        let cols = columns(pool, sqlite, &table).await;
        assert!(!cols.is_empty(), "table {table} has columns");
        // Binary values (a migration's checksum) as hex.
        let select = cols
            .iter()
            .map(|c| {
                if sqlite {
                    format!("CASE WHEN typeof(\"{c}\") = 'blob' THEN hex(\"{c}\") ELSE CAST(\"{c}\" AS TEXT) END")
                } else {
                    format!("CAST(\"{c}\" AS TEXT)")
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!("SELECT {select} FROM \"{table}\""))
            .fetch_all(pool)
            .await
            .unwrap();
        for row in rows {
            let values = cols
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let v: Option<String> = row.try_get(i).unwrap();
                    (c.clone(), v.unwrap_or_default())
                })
                .collect();
            out.push((table.clone(), values));
        }
    }
    out
}

/// Whether `text` holds `id` as a whole number (not inside a longer one).
fn names_number(text: &str, id: u64) -> bool {
    let id = id.to_string();
    text.match_indices(&id).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + id.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

both!(
    forgetting_a_contact_leaves_nothing_of_them_in_any_table_but_the_erasure_record,
    nothing_left
);
async fn nothing_left(db: Db) {
    let policy = Policy {
        auto_verify_on_create: true,
        ..Policy::default()
    };
    let Some(w) = spawn_world_with(db, test_settings(), policy).await else {
        return;
    };
    let sqlite = w.db_url.starts_with("sqlite");
    let pool = w.app.state.services.core.store().pool().clone();
    // The person leaves traces everywhere the product goes: a chat (whose conversation and chat
    // user are linked), a contact the bot creates (with a note about the phone it left out),
    // the forwarded creation event, a deal whose primary contact they are, a verification with
    // its history, notes and chat messages written back, and the audit lines of all of that.
    let (user, conversation, email) = ("u-zed-4711", "c-zed-4711", "zed.sample@example.com");
    w.fc.seed_user(user, "Zed", email);
    w.fc.seed_conversation(conversation, user, "channel-1");
    let event =
        w.fc.user_writes(conversation, "I need to verify my account", false);
    let res =
        w.fc.deliver(&w.url(&format!("/hooks/freshchat/{TENANT}/events")), &event)
            .await;
    assert_eq!(res.status(), 200);
    let res = w
        .http
        .post(w.url(&format!("/hooks/freshchat/{TENANT}")))
        .header("x-idv-webhook-secret", WORKFLOW_SECRET)
        .json(
            &json!({"email": email, "first_name": "Zed", "last_name": "Sample",
            "phone": "call me", "conversation_id": conversation}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["phone_left_out"], true, "{answer}");
    let contact = answer["contact_id"].as_u64().unwrap();
    let vid = answer["verification_id"].as_str().unwrap().to_string();
    let res = w
        .post_signed(
            "/hooks/freshworks",
            &[],
            &json!({"event": "onContactCreate", "account_url": w.account_url(),
                "data": {"contact": {"id": contact}}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    w.fs.seed_deal(ALIAS, 8800, "Zed's renewal", 100, 202, &[contact]);
    let deal = w.json("/api/v1/deals/8800/status").await;
    assert_eq!(deal["stage"]["id"], 202, "{deal}");
    let session = w.provider_session(&vid);
    w.customer(&vid, "verified");
    let deadline = Instant::now() + Duration::from_secs(10);
    while w.fc.property(user, "idv_status").as_deref() != Some("verified")
        || w.fs.contact(ALIAS, contact).unwrap()["custom_field"]["cf_idv_status"] != "verified"
    {
        assert!(Instant::now() < deadline, "the result written back");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // Everything queued has gone out.
    w.until_crm("the note about the phone", |fs| {
        fs.with(ALIAS, |a| {
            a.notes
                .iter()
                .any(|n| n["targetable_id"] == contact && n["targetable_type"] == "Contact")
        })
        .unwrap()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let erased_at = idv_server::clock::now_ms();
    let erased = w
        .app
        .services()
        .retention
        .forget_contact(TENANT, contact as i64)
        .await
        .unwrap();
    // Two sessions: the chat's own (bound to its conversation, never adopted by another start)
    // and the one the creation event started for the contact.
    assert_eq!(erased, 2);
    w.until_crm("the CRM fields cleared", |fs| {
        fs.contact(ALIAS, contact).unwrap()["custom_field"]["cf_idv_status"].is_null()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let names = [
        vid.as_str(),
        &session,
        user,
        conversation,
        email,
        "Zed",
        "Sample",
    ];
    let holds = |text: &str| names_number(text, contact) || names.iter().any(|n| text.contains(n));
    let erasure_key = format!("contact:{contact}");
    let mut left = Vec::new();
    for (table, values) in every_row(&pool, sqlite).await {
        let get = |c: &str| {
            values
                .iter()
                .find(|(k, _)| k == c)
                .map(|(_, v)| v.as_str())
                .unwrap_or("")
        };
        if !values.iter().any(|(_, v)| holds(v)) {
            continue;
        }
        // The erasure record: its audit line, and the write that clears the CRM fields (and
        // the audit line of its sending).
        let erasure = match table.as_str() {
            "audit_log" => {
                get("subject") == erasure_key
                    && (get("action") == "contact_forgotten"
                        || (get("action") == "crm_write"
                            && get("at").parse::<i64>().unwrap() >= erased_at))
            }
            "sync_outbox" => get("record_key") == erasure_key,
            _ => false,
        };
        if !erasure {
            left.push(format!("{table}: {values:?}"));
        }
    }
    // Sealed values are read opened.
    let sealer = Sealer::from_base64(&w.master_key.clone().into()).unwrap();
    let mut tx = w.app.state.services.core.store().begin().await.unwrap();
    let cells = tx.sealed_cells().await.unwrap();
    drop(tx);
    for cell in cells {
        use secrecy::ExposeSecret;
        let opened = sealer
            .open(at(cell.table, cell.seal, &cell.row), &cell.value)
            .unwrap();
        let text = opened.expose_secret();
        if !holds(text) {
            continue;
        }
        let clearing = cell.row == format!("{TENANT}/{erasure_key}")
            && serde_json::from_str::<Value>(text).is_ok_and(|v| {
                v["kind"] == "contact_fields"
                    && v["fields"]
                        .as_object()
                        .is_some_and(|f| !f.is_empty() && f.values().all(Value::is_null))
            });
        if !clearing {
            left.push(format!("{}.{} (sealed): {text}", cell.table, cell.column));
        }
    }
    assert!(
        left.is_empty(),
        "after the erasure, rows still hold the person:\n{}",
        left.join("\n")
    );
    // The erasure record itself is there.
    let record: i64 = sqlx::query(
        "SELECT COUNT(*) FROM audit_log WHERE tenant_id = $1 AND action = 'contact_forgotten' AND subject = $2",
    )
    .bind(TENANT)
    .bind(&erasure_key)
    .fetch_one(&pool)
    .await
    .unwrap()
    .get(0);
    assert_eq!(record, 1);
    check_not_started_again(&w, contact).await;
}

/// The creation event of an erased contact, delivered again (the forwarder's retry, or the
/// periodic check reading the contact once more), starts nothing.
async fn check_not_started_again(w: &World, contact: u64) {
    let before = w.ks.sessions().len();
    let res = w
        .post_signed(
            "/hooks/freshworks",
            &[],
            &json!({"event": "onContactCreate", "account_url": w.account_url(),
                "data": {"contact": {"id": contact}}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_ne!(body["result"]["outcome"], "started", "{body}");
    w.app.services().reconcile.periodic_check().await.unwrap();
    assert_eq!(
        w.ks.sessions().len(),
        before,
        "no new session for the erased person"
    );
}
