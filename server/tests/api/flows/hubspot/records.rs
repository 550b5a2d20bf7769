//! HubSpot's records through the app: the install makes the properties, their group and the
//! suppression list; a contact created in HubSpot is verified through the signed webhook and
//! its result lands on its properties with a note; a deal moved into a gated stage is moved
//! back with a note and a task for its owner.

use std::time::{Duration, Instant};

use idv_server::services::tenant::{self, Policy};
use serde_json::{json, Value};

use super::*;
use crate::both_worlds;

/// Waits until the twin's records hold what `check` wants (bounded: 15 s).
pub async fn until_hubspot(
    w: &World,
    what: &str,
    check: impl Fn(&idv_server::sim::hubspot::crm::Records) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !w.twins.hubspot.with_records(|r| check(r)) {
        if Instant::now() > deadline {
            let refused: Vec<_> = w
                .twins
                .hubspot
                .calls()
                .into_iter()
                .filter(|c| c.status >= 300)
                .collect();
            let contacts = w
                .twins
                .hubspot
                .with_records(|r| format!("{:?}", r.contacts));
            panic!(
                "timed out waiting for {what}; HubSpot refused {refused:?}; contacts {contacts}"
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether a note or task is associated with record `id`.
fn on(engagement: &Value, id: u64) -> bool {
    engagement["associations"][0]["to"]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        == Some(id)
}

/// A policy that verifies every new contact.
fn verifying_new_contacts() -> Policy {
    Policy {
        auto_verify_on_create: true,
        ..Default::default()
    }
}

/// An installed portal with the provider connected and this policy.
pub async fn ready(w: &World, policy: Policy) {
    install_with_lifetime(w, 1800).await;
    let out = connect_provider(w, TENANT_ID);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    tenant::set_policy(w.app.state.services.core.store(), TENANT_ID, &policy)
        .await
        .unwrap();
    // HubSpot's budget for the account (110 calls per 10 s, a burst of 11) is the subject of
    // the budget tests; here a check's reads, the card's and the write-back's must never wait
    // on it, however fast the test runs (a spent budget makes a check skip the account).
    sqlx::query("UPDATE tenants SET hourly_limit = 1000000 WHERE id = $1")
        .bind(TENANT_ID)
        .execute(w.store().pool())
        .await
        .unwrap();
    w.app.services().core.tenants().forget(TENANT_ID);
}

/// The card's view of a contact, once the backend has started a verification for it.
async fn current_verification(w: &World, contact: u64) -> String {
    let path = format!("/hubspot/v1/card/contacts/{contact}?{CARD_QUERY}");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let res = card_call(w, "GET", &path, None, now_ms(), |u| u).await;
        if res.status() == 200 {
            let v: Value = res.json().await.unwrap();
            if let Some(id) = v["current"]["id"].as_str() {
                return id.to_string();
            }
        }
        assert!(Instant::now() < deadline, "no verification for {contact}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

both_worlds!(
    a_contact_created_in_hubspot_is_verified_and_the_result_lands_on_its_properties,
    verified
);
async fn verified(w: World) {
    ready(&w, verifying_new_contacts()).await;
    // The install made what the app writes into, in the account.
    w.twins.hubspot.with_records(|r| {
        assert!(r
            .groups
            .iter()
            .any(|g| g["label"] == "Identity Verification"));
        for name in [
            "idv_status",
            "idv_verified_date",
            "idv_session_ref",
            "idv_liveid_enrolled",
        ] {
            assert!(r.properties.iter().any(|p| p["name"] == name), "{name}");
        }
        assert_eq!(r.lists.len(), 1, "the marketing-suppression list");
    });

    let hs = &w.twins.hubspot;
    let contact = hs.with_records(|r| {
        r.add_contact(
            &json!({"firstname": "Grace", "lastname": "Hopper", "email": "grace@example.com"}),
        )
    });
    let hook = w.url("/hubspot/v1/webhooks");
    let status = hs
        .send_events(
            &hook,
            &[hs.event("contact.creation", contact, json!({}))],
            3,
        )
        .await;
    assert_eq!(status, 200);

    let reference = current_verification(&w, contact).await;
    until_hubspot(&w, "the pending status on the contact", |r| {
        r.contacts[&contact].get("idv_status") == Some(&json!("pending"))
    })
    .await;
    w.customer(&reference, "verified");
    until_hubspot(&w, "the result on the contact", |r| {
        r.contacts[&contact].get("idv_status") == Some(&json!("verified"))
            && r.contacts[&contact].get("idv_session_ref") == Some(&json!(reference))
    })
    .await;
    // The note goes out as a write of its own, after the properties.
    until_hubspot(&w, "the result's note on the contact", |r| {
        r.notes.iter().any(|n| {
            on(n, contact)
                && n["properties"]["hs_note_body"]
                    .as_str()
                    .is_some_and(|b| b.to_lowercase().contains("verified"))
        })
    })
    .await;
    w.twins.hubspot.with_records(|r| {
        let p = &r.contacts[&contact];
        assert_eq!(p["idv_ial_level"], "IAL2");
        assert_eq!(p["idv_document_type"], "drivers_license");
        assert_eq!(p["idv_match_confidence"], "94");
        let today = &idv_server::clock::rfc3339(now_ms())[..10];
        assert_eq!(p["idv_verified_date"], today);
        let notes: Vec<&Value> = r.notes.iter().filter(|n| on(n, contact)).collect();
        assert!(
            notes.iter().any(|n| n["properties"]["hs_note_body"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("verified")),
            "{notes:?}"
        );
        // A note carries the outcome, never the person's data.
        assert!(notes
            .iter()
            .all(|n| !n.to_string().contains("grace@example.com")));
    });
}

both_worlds!(
    a_new_contact_announced_while_hubspot_fails_is_answered_at_once_and_verified_when_it_recovers,
    announced_during_an_outage
);
async fn announced_during_an_outage(w: World) {
    ready(&w, verifying_new_contacts()).await;
    let hs = &w.twins.hubspot;
    let contact = hs.with_records(|r| {
        r.add_contact(
            &json!({"firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com"}),
        )
    });
    hs.set_faults(idv_server::sim::hubspot::HubSpotFaults {
        crm_status: Some(503),
        ..Default::default()
    });
    // HubSpot gives up on a webhook after its retries: the event must be taken at once.
    let status = hs
        .send_events(
            &w.url("/hubspot/v1/webhooks"),
            &[hs.event("contact.creation", contact, json!({}))],
            1,
        )
        .await;
    assert_eq!(status, 200, "answered at once, whatever HubSpot's CRM does");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !hs.calls().iter().any(|c| c.status == 503) {
        assert!(Instant::now() < deadline, "the event was never acted on");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    hs.set_faults(Default::default());
    // The queue tries again on its own: the contact gets its verification.
    current_verification(&w, contact).await;
    until_hubspot(&w, "the pending status on the contact", |r| {
        r.contacts[&contact].get("idv_status") == Some(&json!("pending"))
    })
    .await;
}

both_worlds!(
    a_deal_moved_into_a_gated_stage_in_hubspot_is_moved_back_with_a_note_and_a_task,
    gated
);
async fn gated(w: World) {
    ready(
        &w,
        Policy {
            gated_stages: vec!["contractsent".into()],
            revert_on_gate: true,
            ..Default::default()
        },
    )
    .await;
    let hs = &w.twins.hubspot;
    let (contact, deal) = hs.with_records(|r| {
        let c = r.add_contact(
            &json!({"firstname": "Alan", "lastname": "Turing", "hubspot_owner_id": "77"}),
        );
        (c, r.add_deal("Enigma", "presentationscheduled", &[c]))
    });
    // The rep opens the deal: the backend reads where it is.
    let path = format!("/hubspot/v1/card/deals/{deal}?{CARD_QUERY}");
    let res = card_call(&w, "GET", &path, None, now_ms(), |u| u).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    // Someone drags it into the gated stage; HubSpot says so.
    hs.with_records(|r| {
        r.deals
            .get_mut(&deal)
            .unwrap()
            .insert("dealstage".into(), json!("contractsent"))
    });
    let event = hs.event(
        "deal.propertyChange",
        deal,
        json!({"propertyName": "dealstage", "propertyValue": "contractsent"}),
    );
    assert_eq!(
        hs.send_events(&w.url("/hubspot/v1/webhooks"), &[event], 3)
            .await,
        200
    );
    until_hubspot(&w, "the deal moved back", |r| {
        r.deals[&deal]["dealstage"] == "presentationscheduled"
    })
    .await;
    until_hubspot(&w, "a note and a task on the deal", |r| {
        let on_deal = |v: &Value| on(v, deal);
        r.notes.iter().any(on_deal) && r.tasks.iter().any(on_deal)
    })
    .await;
    hs.with_records(|r| {
        let task = r.tasks.iter().find(|t| on(t, deal)).unwrap();
        assert_eq!(task["properties"]["hubspot_owner_id"], "77", "{task}");
        assert_eq!(r.deals[&deal]["pipeline"], "default");
    });
    let _ = contact;
}

both_worlds!(
    a_contact_and_a_stage_change_whose_webhooks_never_came_are_caught_by_the_periodic_check,
    missed
);
async fn missed(w: World) {
    ready(
        &w,
        Policy {
            auto_verify_on_create: true,
            gated_stages: vec!["contractsent".into()],
            revert_on_gate: true,
            ..Default::default()
        },
    )
    .await;
    let hs = &w.twins.hubspot;
    let deal = hs.with_records(|r| {
        let c = r.add_contact(
            &json!({"firstname": "Alan", "lastname": "Turing", "email": "alan@example.com"}),
        );
        r.add_deal("Enigma", "presentationscheduled", &[c])
    });
    // The rep has seen the deal where it was; the first check acts on Alan, created after
    // the install (his webhook never came either).
    let path = format!("/hubspot/v1/card/deals/{deal}?{CARD_QUERY}");
    assert_eq!(
        card_call(&w, "GET", &path, None, now_ms(), |u| u)
            .await
            .status(),
        200
    );
    let engine = w.app.services().clone();
    let first = engine.reconcile.periodic_check().await.unwrap();
    assert_eq!((first.contacts, first.deals), (1, 0), "{first:?}");
    let sessions_for = |email: &str| {
        w.ks.sessions()
            .iter()
            .filter(|s| s.request.pointer("/user/email").and_then(Value::as_str) == Some(email))
            .count()
    };
    assert_eq!(sessions_for("alan@example.com"), 1);

    // HubSpot's webhooks for a new contact and a stage change are lost.
    let newcomer = hs.with_records(|r| {
        r.add_contact(
            &json!({"firstname": "Joan", "lastname": "Clarke", "email": "joan@example.com"}),
        )
    });
    hs.with_records(|r| {
        r.deals
            .get_mut(&deal)
            .unwrap()
            .insert("dealstage".into(), json!("contractsent"))
    });
    let done = engine.reconcile.periodic_check().await.unwrap();
    assert_eq!((done.contacts, done.deals), (1, 1), "{done:?}");
    assert_eq!(sessions_for("joan@example.com"), 1);
    assert_eq!(
        sessions_for("alan@example.com"),
        1,
        "his pending one serves the gate"
    );
    until_hubspot(&w, "the deal moved back", |r| {
        r.deals[&deal]["dealstage"] == "presentationscheduled"
    })
    .await;
    until_hubspot(&w, "the newcomer's pending status", |r| {
        r.contacts[&newcomer].get("idv_status") == Some(&json!("pending"))
    })
    .await;
    // Read once: the next check finds nothing new.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let again = engine.reconcile.periodic_check().await.unwrap();
    assert_eq!((again.contacts, again.deals), (0, 0));
}
