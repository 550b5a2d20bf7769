//! A contact's status is read from memory, and a read after a write shows the write: whichever
//! replica wrote it, whatever kind of write it was, and when only time has passed. Concurrent
//! reads share one lookup of their stamps, which answers each read for its own contact only.

use std::time::Duration;

use idv_server::{clock, services::Services, store::Kept};
use idv_types::{ContactStatus, IdvStatus, SetupGap, SetupReport};

use crate::both_worlds;
use crate::world::{test_settings, World, TENANT};

/// A second replica of the backend on the same database, with its own memory.
async fn replica(w: &World) -> std::sync::Arc<Services> {
    let store = idv_server::Store::connect(&w.db_url).await.unwrap();
    let sealer = idv_server::crypto::Sealer::from_base64(&w.master_key.clone().into()).unwrap();
    std::sync::Arc::new(idv_server::wire_services(store, sealer, test_settings()))
}

/// The contact's status as the widget API answers it (its kept bytes while nothing changed),
/// checked against the status the services read for the card, the gate and the deal page.
async fn read(b: &Services, contact: i64) -> ContactStatus {
    let t = b.core.tenants().get(TENANT).await.unwrap().unwrap();
    let body = b.status.contact_status_json(&t, contact).await.unwrap();
    let answered: ContactStatus = serde_json::from_slice(&body).unwrap();
    let typed = b.status.contact_status(&t, contact).await.unwrap();
    assert_eq!(
        answered, typed,
        "the widget's answer is the services' status"
    );
    answered
}

async fn sql(w: &World, statement: &str) {
    sqlx::query(statement)
        .execute(w.app.state.services.core.store().pool())
        .await
        .unwrap();
}

both_worlds!(
    a_status_read_after_any_write_shows_it_on_every_replica,
    reads_after_writes
);
async fn reads_after_writes(w: World) {
    let b = replica(&w).await;
    // Replica B reads (and keeps) the contact's status; replica A (the app) writes.
    let first = read(&b, 11).await;
    assert_eq!(first.status, IdvStatus::NotVerified);
    assert_eq!(read(&b, 11).await, first, "a repeated read is the same");

    // A start.
    let started = w.start_idv(11).await;
    let id = started.id.clone();
    let pending = read(&b, 11).await;
    assert_eq!(pending.status, IdvStatus::Pending);
    assert_eq!(pending.current.as_ref().map(|c| c.id.as_str()), Some(&*id));

    // A result.
    w.customer(&id, "verified");
    w.until("/api/v1/contacts/11/status", |v| v["status"] == "verified")
        .await;
    let verified = read(&b, 11).await;
    assert_eq!(verified.status, IdvStatus::Verified);
    assert!(verified.current.is_none());

    // An enrolment written on its own.
    sql(
        &w,
        "UPDATE contacts SET liveid_enrolled = 1 WHERE tenant_id = 'acme' AND contact_id = 11",
    )
    .await;
    assert!(read(&b, 11).await.liveid_enrolled);

    // The set-up found incomplete by another replica's check.
    let report = SetupReport {
        complete: false,
        checked_at: clock::rfc3339(clock::now_ms()),
        gaps: vec![SetupGap {
            what: "contact field".into(),
            label: "IDV Status".into(),
            name: "cf_idv_status".into(),
            expected: "dropdown".into(),
            problem: "missing".into(),
            part: idv_types::SetupPart::ContactField,
            field_type: Some("dropdown".into()),
            choices: vec!["pending".into(), "verified".into()],
            issue: idv_types::SetupIssue::missing(),
        }],
        created: vec![],
        product: "Freshsales".into(),
    };
    sqlx::query("UPDATE tenants SET setup_complete = 0, setup_report = $1 WHERE id = $2")
        .bind(serde_json::to_string(&report).unwrap())
        .bind(TENANT)
        .execute(w.app.state.services.core.store().pool())
        .await
        .unwrap();
    assert_eq!(read(&b, 11).await.setup, Some(report));
    sql(
        &w,
        "UPDATE tenants SET setup_complete = 1, setup_report = NULL WHERE id = 'acme'",
    )
    .await;
    assert_eq!(read(&b, 11).await.setup, None);

    // The validity ends: the next read after it shows it (a kept read ends with it; the
    // expiry job also writes it down).
    let soon = clock::now_ms() + 1500;
    sql(
        &w,
        &format!("UPDATE verifications SET valid_until = {soon} WHERE id = '{id}'"),
    )
    .await;
    assert_eq!(read(&b, 11).await.status, IdvStatus::Verified);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_ne!(
        read(&b, 11).await.status,
        IdvStatus::Verified,
        "its validity ended"
    );

    // The contact forgotten: its sessions are gone from every replica's reads.
    w.app
        .services()
        .retention
        .forget_contact(TENANT, 11)
        .await
        .unwrap();
    let forgotten = read(&b, 11).await;
    assert!(forgotten.history.is_empty(), "{forgotten:?}");
    assert_eq!(forgotten.status, IdvStatus::NotVerified);
}

both_worlds!(
    one_lookup_of_stamps_answers_each_contact_asked_for_and_no_other,
    stamps_of_many
);
async fn stamps_of_many(w: World) {
    let services = &w.app.state.services;
    read(services, 11).await;
    read(services, 12).await;
    let store = services.core.store();
    let key = |tenant: &str, contact: i64| (tenant.to_string(), contact);
    // Five reads in one batch: three contacts, one of them twice, and two that are not the
    // account's (the lookup is padded to four with the last contact asked).
    let asked = [
        key(TENANT, 12),
        key(TENANT, 404),
        key(TENANT, 11),
        key("another", 11),
        key(TENANT, 12),
    ];
    let mut kept = Kept::default();
    let before = store.status_stamps(&mut kept, &asked).await.unwrap();
    assert_eq!(before.len(), asked.len(), "one answer per read, in order");
    assert!(before[0].is_some() && before[2].is_some());
    assert_eq!(before[1], None, "a contact the account never had");
    assert_eq!(before[3], None, "another account's contact");
    assert_eq!(before[0], before[4], "a contact asked twice");

    // A write to contact 12 moves 12's stamp and no other.
    sql(
        &w,
        "UPDATE contacts SET liveid_enrolled = 1 WHERE tenant_id = 'acme' AND contact_id = 12",
    )
    .await;
    let after = store.status_stamps(&mut kept, &asked).await.unwrap();
    assert_ne!(after[0], before[0], "12 was written");
    assert_eq!(after[0], after[4]);
    assert_eq!(after[2], before[2], "11 was not");
}
