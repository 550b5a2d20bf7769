//! Missed events: the serverless forwarder drops events while the backend is down. The periodic
//! check reads the contacts created and the deals updated since its last point from Freshsales
//! and acts on each one the backend has not seen, exactly once, as a forwarded event would have.

use std::time::Duration;

use idv_server::services::Policy;
use serde_json::{json, Value};

use crate::{
    both,
    helpers::Db,
    world::{spawn_world_with, test_settings, World, ALIAS},
};

/// The provider sessions made for the person with `email`.
fn sessions_for(w: &World, email: &str) -> usize {
    w.ks.sessions()
        .iter()
        .filter(|s| s.request.pointer("/user/email").and_then(Value::as_str) == Some(email))
        .count()
}

fn on_deal(w: &World, kind: &str) -> usize {
    w.fs.with(ALIAS, |a| {
        let list = if kind == "note" { &a.notes } else { &a.tasks };
        list.iter()
            .filter(|n| n["targetable_type"] == "Deal" && n["targetable_id"] == 501)
            .count()
    })
    .unwrap()
}

both!(
    missed_events_are_reconciled_on_the_periodic_check,
    missed_events
);
async fn missed_events(db: Db) {
    let policy = Policy {
        auto_verify_on_create: true,
        gated_stages: vec!["Negotiation".into()],
        revert_on_gate: true,
        ..Policy::default()
    };
    let Some(w) = spawn_world_with(db, test_settings(), policy).await else {
        return;
    };
    let engine = w.app.services().clone();
    // The rep's widget has shown the deal in Qualified (202).
    let deal = w.json("/api/v1/deals/501/status").await;
    assert_eq!(deal["stage"]["id"], 202, "{deal}");

    // The backend is down: a contact is created and the deal moves into a gated stage, and the
    // forwarder's events for both are lost.
    w.fs.seed_contact(
        ALIAS,
        13,
        "Alan",
        "Turing",
        "alan@example.com",
        "+44 20 7946 0999",
    );
    w.fs.move_deal(ALIAS, 501, 204);
    assert_eq!(w.ks.sessions().len(), 0);

    let done = engine.reconcile.periodic_check().await.unwrap();
    assert_eq!((done.contacts, done.deals), (1, 1), "{done:?}");

    // The new contact has its verification, sent by the automation's delivery.
    let status = w.json("/api/v1/contacts/13/status").await;
    assert_eq!(status["status"], "pending", "{status}");
    assert_eq!(sessions_for(&w, "alan@example.com"), 1);
    // The deal gate acted: its primary contact's verification, a note and a task on the deal,
    // and the deal moved back to the stage the backend last saw.
    let primary = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(primary["status"], "pending", "{primary}");
    w.until_crm("the deal moved back", |fs| {
        fs.deal(ALIAS, 501).unwrap()["deal_stage_id"] == 202
    })
    .await;
    w.until_crm("the gate's note and task", |_| {
        on_deal(&w, "note") == 1 && on_deal(&w, "task") == 1
    })
    .await;
    // Contacts that existed before the install are not the check's business.
    assert_eq!(sessions_for(&w, "grace@example.com"), 0);

    // The next checks find nothing new: exactly once.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let again = engine.reconcile.periodic_check().await.unwrap();
    assert_eq!((again.contacts, again.deals), (0, 0), "{again:?}");
    assert_eq!(w.ks.sessions().len(), 2);
    assert_eq!((on_deal(&w, "note"), on_deal(&w, "task")), (1, 1));
    assert_eq!(w.fs.deal(ALIAS, 501).unwrap()["deal_stage_id"], 202);
}

both!(
    a_contact_the_forwarder_delivered_is_not_acted_on_again_by_the_check,
    forwarded_once
);
async fn forwarded_once(db: Db) {
    let policy = Policy {
        auto_verify_on_create: true,
        ..Policy::default()
    };
    let Some(w) = spawn_world_with(db, test_settings(), policy).await else {
        return;
    };
    w.fs.seed_contact(
        ALIAS,
        14,
        "Ada",
        "Byron",
        "byron@example.com",
        "+44 20 7946 0777",
    );
    let res = w
        .post_signed(
            "/hooks/freshworks",
            &[],
            &json!({"event": "onContactCreate", "account_url": w.account_url(), "data": {"contact": {"id": 14}}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["result"]["outcome"], "started", "{body}");
    let id = body["result"]["verification_id"]
        .as_str()
        .unwrap()
        .to_string();
    // The customer fails; a second automatic start would now make a new session.
    w.customer(&id, "failed");
    w.until("/api/v1/contacts/14/status", |s| s["status"] == "failed")
        .await;

    let done = w.app.services().reconcile.periodic_check().await.unwrap();
    assert_eq!(done.contacts, 0, "{done:?}");
    assert_eq!(w.ks.sessions().len(), 1, "the contact was acted on once");
}

both!(
    more_missed_records_than_one_check_reads_are_each_acted_on_once_over_several_checks,
    backlog
);
async fn backlog(db: Db) {
    const CONTACTS: u64 = 60;
    const DEALS: u64 = 40;
    let policy = Policy {
        auto_verify_on_create: true,
        gated_stages: vec!["Negotiation".into()],
        revert_on_gate: true,
        ..Policy::default()
    };
    let Some(w) = spawn_world_with(db, test_settings(), policy).await else {
        return;
    };
    let engine = w.app.services().clone();
    // Pages of 5: one check (5 pages a list) reads 25 contacts and 25 deals.
    w.fs.with(ALIAS, |a| a.max_per_page = 5);
    let deals: Vec<u64> = (0..DEALS).map(|i| 7000 + i).collect();
    for &d in &deals {
        w.fs.seed_deal(ALIAS, d, "Renewal", 100, 202, &[11]);
        // The rep's widget has shown each deal in Qualified (202).
        let seen = w.json(&format!("/api/v1/deals/{d}/status")).await;
        assert_eq!(seen["stage"]["id"], 202, "{seen}");
    }
    // The backend is down: contacts are created and every deal moves into the gated stage,
    // and the forwarder's events for all of them are lost.
    let email = |i: u64| format!("missed{i}@example.com");
    for i in 0..CONTACTS {
        w.fs.seed_contact(
            ALIAS,
            3000 + i,
            "Missed",
            &format!("Person{i}"),
            &email(i),
            &format!("+44 20 7946 {:04}", 1000 + i),
        );
    }
    for &d in &deals {
        w.fs.move_deal(ALIAS, d, 204);
    }

    let first = engine.reconcile.periodic_check().await.unwrap();
    assert!(
        first.contacts < CONTACTS as usize && first.deals < DEALS as usize,
        "one check reads only part of them: {first:?}"
    );
    let (mut contacts, mut dealt) = (first.contacts, first.deals);
    let mut checks = 1;
    while contacts < CONTACTS as usize || dealt < DEALS as usize {
        assert!(
            checks < 10,
            "after {checks} checks only {contacts} contacts and {dealt} deals were acted on"
        );
        let done = engine.reconcile.periodic_check().await.unwrap();
        contacts += done.contacts;
        dealt += done.deals;
        checks += 1;
    }
    assert_eq!(
        (contacts, dealt),
        (CONTACTS as usize, DEALS as usize),
        "none twice"
    );

    // Each contact has its one verification; each deal its gate: a note, a task, moved back.
    for i in 0..CONTACTS {
        assert_eq!(sessions_for(&w, &email(i)), 1, "{}", email(i));
    }
    let on = |kind: &str, deal: u64| {
        w.fs.with(ALIAS, |a| {
            let list = if kind == "note" { &a.notes } else { &a.tasks };
            list.iter()
                .filter(|n| n["targetable_type"] == "Deal" && n["targetable_id"] == deal)
                .count()
        })
        .unwrap()
    };
    w.until_crm(
        "every deal's note and task, and every deal moved back",
        |fs| {
            deals.iter().all(|&d| {
                on("note", d) >= 1
                    && on("task", d) >= 1
                    && fs.deal(ALIAS, d).unwrap()["deal_stage_id"] == 202
            })
        },
    )
    .await;
    // Later checks (the next sweeps read the same records again) act on nothing.
    for _ in 0..4 {
        let again = engine.reconcile.periodic_check().await.unwrap();
        assert_eq!((again.contacts, again.deals), (0, 0), "{again:?}");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    for &d in &deals {
        assert_eq!((on("note", d), on("task", d)), (1, 1), "deal {d}");
        assert_eq!(w.fs.deal(ALIAS, d).unwrap()["deal_stage_id"], 202);
    }
    assert_eq!(
        w.ks.sessions().len(),
        CONTACTS as usize + 1,
        "one per new contact, and the deals' primary contact's"
    );
}
