//! The audit trail, readable: a contact's lines for the widget's history panel (tenant-scoped,
//! paginated, no links or personal data), and `server audit` on a SQLite file.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::both_worlds;
use crate::{
    helpers::{assert_error, Db},
    world::{spawn_world, World, ALIAS},
};

/// Verifies contact 11 (link by email, started by a named rep) and waits until its CRM writes
/// are in the audit trail; returns the session.
async fn verified_with_writes(w: &World) -> Value {
    let res = w
        .post(
            "/api/v1/contacts/11/verifications",
            json!({"requested_by": "rep@acme.example", "delivery": "email"}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let v: Value = res.json().await.unwrap();
    w.customer(v["id"].as_str().unwrap(), "verified");
    w.until("/api/v1/contacts/11/status", |s| s["status"] == "verified")
        .await;
    w.until("/api/v1/contacts/11/audit", |page| {
        let records: Vec<&str> = page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "crm_write")
            .filter_map(|e| e["record"].as_str())
            .collect();
        ["contact", "note", "history"]
            .iter()
            .all(|r| records.contains(r))
    })
    .await;
    v
}

both_worlds!(
    a_contact_s_audit_trail_tells_the_start_the_result_and_the_crm_writes,
    contact_audit
);
async fn contact_audit(w: World) {
    let v = verified_with_writes(&w).await;
    let id = v["id"].as_str().unwrap();
    // Another contact's session is not in contact 11's trail.
    let other = w.start_idv(12).await;

    let res = w.get("/api/v1/contacts/11/audit").await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let page: Value = serde_json::from_str(&text).unwrap();
    let entries = page["entries"].as_array().unwrap();
    let start = entries
        .iter()
        .find(|e| e["action"] == "start_idv")
        .expect("the start");
    assert_eq!(start["session_id"], id);
    let detail = start["detail"].as_str().unwrap();
    assert!(
        detail.contains("by rep@acme.example (as the widget reports), link by email"),
        "{detail}"
    );
    // The same as facts, which the widget words in the rep's language.
    assert_eq!(
        start["facts"],
        json!({"by": "rep@acme.example", "ial": "IAL2", "delivery": "email"})
    );
    assert!(entries
        .iter()
        .any(|e| e["action"] == "result" && e["session_id"] == id && e["detail"] == "verified"));
    let result = entries.iter().find(|e| e["action"] == "result").unwrap();
    assert_eq!(result["facts"], json!({"state": "verified"}));
    // A CRM write's line has no facts: its words are the CRM's.
    let write = entries.iter().find(|e| e["action"] == "crm_write").unwrap();
    assert!(write.get("facts").is_none(), "{write}");
    // Newest first.
    let ats: Vec<time::OffsetDateTime> = entries
        .iter()
        .map(|e| {
            let at = e["at"].as_str().unwrap();
            time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).unwrap()
        })
        .collect();
    // (Two writers that record at the same moment may commit in the other order: a line is
    // never more than a few milliseconds newer than the one above it.)
    assert!(
        ats.windows(2)
            .all(|p| p[0] >= p[1] - time::Duration::milliseconds(50)),
        "{ats:?}"
    );
    // Neither links nor the contact's personal data, nor another contact's session.
    let link = v["hosted_url"].as_str().unwrap();
    for secret in [
        link,
        "ada@example.com",
        "Lovelace",
        "+442079460018",
        "20 7946 0018",
        other.id.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }

    // Paginated: two at a time, every line once, down to the last page.
    let mut seen = Vec::new();
    let mut before: Option<u64> = None;
    loop {
        let path = match before {
            Some(b) => format!("/api/v1/contacts/11/audit?limit=2&before={b}"),
            None => "/api/v1/contacts/11/audit?limit=2".to_string(),
        };
        let page = w.json(&path).await;
        let got = page["entries"].as_array().unwrap();
        assert!(got.len() <= 2);
        seen.extend(got.iter().cloned());
        match page["next_before"].as_u64() {
            Some(b) => before = Some(b),
            None => break,
        }
        assert!(seen.len() < 100, "pagination never ends");
    }
    assert_eq!(&seen, entries, "the pages add up to the whole trail");

    // Bad queries are precise 400s.
    for q in [
        "limit=0",
        "limit=101",
        "limit=ten",
        "before=-1",
        "colour=blue",
    ] {
        let res = w.get(&format!("/api/v1/contacts/11/audit?{q}")).await;
        assert_error(res, 400, "bad_request").await;
    }
    let res = w.get("/api/v1/contacts/0/audit").await;
    assert_error(res, 400, "bad_request").await;
    // A contact this account never saw, and another account's view: 404.
    let res = w.get("/api/v1/contacts/999/audit").await;
    assert_error(res, 404, "not_found").await;
    let token = idv_server::http::auth::generate_token();
    w.app
        .state
        .services
        .core
        .store()
        .insert_tenant(
            "other",
            "Other",
            &idv_server::http::auth::hash_token(&token),
        )
        .await
        .unwrap();
    let res = w
        .http
        .get(w.url("/api/v1/contacts/11/audit"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_error(res, 404, "not_found").await;
    // Once the other account knows a contact 11 of its own, its trail is its own: empty.
    w.app
        .state
        .services
        .core
        .store()
        .upsert_contact_keep("other", 11)
        .await
        .unwrap();
    let res = w
        .http
        .get(w.url("/api/v1/contacts/11/audit"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let theirs: Value = res.json().await.unwrap();
    assert_eq!(theirs["entries"], json!([]), "{theirs}");
    assert!(theirs["next_before"].is_null(), "{theirs}");
    let res = w
        .http
        .get(w.url("/api/v1/contacts/11/audit"))
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "unauthorized").await;
}

fn server_audit(w: &World, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("audit")
        .args(args)
        .env("DATABASE_URL", &w.db_url)
        .env_remove("IDV_MASTER_KEY")
        .output()
        .unwrap()
}

#[tokio::test]
async fn server_audit_prints_the_trail_of_a_sqlite_file() {
    let w = spawn_world(Db::Sqlite).await.unwrap();
    let v = verified_with_writes(&w).await;
    let id = v["id"].as_str().unwrap();
    let other = w.start_idv(12).await;
    let other = other.id.as_str();

    let out = server_audit(
        &w,
        &["--tenant", "acme", "--contact", "11", "--since", "1h"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert!(
        lines.iter().all(|l| l.len() == 5 && l[1] == "acme"),
        "{text}"
    );
    let start = lines
        .iter()
        .position(|l| l[2] == "start_idv" && l[3] == id)
        .expect("the start");
    assert!(lines[start][4].contains("link by email"), "{text}");
    let result = lines
        .iter()
        .position(|l| l[2] == "result" && l[3] == id && l[4] == "verified")
        .expect("the result");
    assert!(start < result, "oldest first: {text}");
    for key in [
        "contact:11".to_string(),
        format!("note:{id}:verified"),
        format!("history:{id}"),
    ] {
        assert!(
            lines.iter().any(|l| l[2] == "crm_write" && l[3] == key),
            "{key}: {text}"
        );
    }
    assert!(!text.contains(other), "contact 12's session: {text}");
    assert!(!text.contains(v["hosted_url"].as_str().unwrap()));

    // The whole log holds both contacts and the install; a time ahead holds nothing.
    let all = server_audit(&w, &[]);
    let all = String::from_utf8(all.stdout).unwrap();
    assert!(
        all.contains(other) && all.contains(id) && all.contains("\tinstall\t"),
        "{all}"
    );
    let later = idv_server::clock::rfc3339(idv_server::clock::now_ms() + 3_600_000);
    let none = server_audit(&w, &["--since", &later]);
    assert!(none.status.success());
    assert!(
        none.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&none.stdout)
    );
    let none = server_audit(&w, &["--tenant", "nobody"]);
    assert!(none.stdout.is_empty());

    // A --since it cannot read says how to write one.
    let bad = server_audit(&w, &["--since", "yesterday"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("RFC 3339") && err.contains("12h"), "{err}");
}

/// A write the CRM refuses for good is in the trail as given up, with the CRM's reason.
#[tokio::test]
async fn a_dead_crm_write_is_an_audit_line() {
    let w = spawn_world(Db::Sqlite).await.unwrap();
    // The contact is gone from Freshsales before its fields are written.
    let v = w.start_idv(11).await;
    w.fs.with(ALIAS, |a| a.contacts.remove(&11));
    w.customer(v.id.as_str(), "verified");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = w.json("/api/v1/contacts/11/audit").await;
        let dead = page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "crm_write_dead" && e["record"] == "contact");
        if dead {
            break;
        }
        assert!(Instant::now() < deadline, "no dead write in {page}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
