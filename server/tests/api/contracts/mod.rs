//! Contract tests: each client against its simulator, every success and error path an admin or
//! the engine must tell apart.

use std::time::{Duration, Instant};

use idv_server::{
    adapters::{
        freshsales::{FreshsalesClient, FsError, Target},
        kosmos::KosmosClient,
    },
    ports::{
        crm::ContactUpsert,
        identity::{CreateIdv, CreateLiveId, IdentityProvider, Outcome, ProviderError},
    },
    sim::{
        freshsales::{FreshsalesSim, FsFaults},
        kosmos::{KosmosFaults, KosmosSim, Outcome as SimOutcome},
        Served,
    },
};
use serde_json::json;

mod blockid;
mod freshchat;
mod freshdesk;
mod hubspot;
mod hubspot_sdk;

async fn freshsales(limit: usize) -> (FreshsalesSim, Served) {
    let sim = FreshsalesSim::new();
    sim.add_account("acme", "good-key", limit);
    sim.seed_contact(
        "acme",
        1,
        "Ada",
        "Lovelace",
        "ada@example.com",
        "+44 20 7946 0018",
    );
    sim.seed_deal("acme", 10, "Deal", 100, 201, &[1]);
    let served = Served::start(([127, 0, 0, 1], 0).into(), sim.router())
        .await
        .unwrap();
    (sim, served)
}

fn client(served: &Served, alias: &str, key: &str, timeout: Duration) -> FreshsalesClient {
    FreshsalesClient::new(
        &format!("{}/a/{alias}/crm/sales/api", served.url()),
        key.to_string().into(),
        timeout,
    )
}

#[tokio::test]
async fn freshsales_client_speaks_the_contract() {
    let (sim, served) = freshsales(1000).await;
    let fs = client(&served, "acme", "good-key", Duration::from_secs(2));
    // Reads and writes.
    let c = fs.view_contact(1).await.unwrap();
    assert_eq!(c.email.as_deref(), Some("ada@example.com"));
    let mut fields = serde_json::Map::new();
    fields.insert("cf_idv_status".into(), json!("verified"));
    fs.update_contact_fields(1, &fields).await.unwrap();
    assert_eq!(
        sim.contact("acme", 1).unwrap()["custom_field"]["cf_idv_status"],
        "verified"
    );
    let d = fs.view_deal(10).await.unwrap();
    assert_eq!((d.deal_stage_id, d.primary_contact()), (Some(201), Some(1)));
    // The periodic check's lists: the records of the views of all of them, newest first,
    // with the time each list is sorted by.
    let before = idv_server::clock::now_ms() - 60_000;
    let contacts = fs.contacts_page(1).await.unwrap();
    assert_eq!(contacts.items.iter().map(|c| c.id).collect::<Vec<_>>(), [1]);
    assert!(contacts.items[0].created_at_ms >= before);
    assert!(!contacts.more);
    fs.update_deal_stage(10, 202).await.unwrap();
    let deals = fs.deals_page(1).await.unwrap();
    assert_eq!(deals.items.len(), 1);
    assert_eq!(
        (deals.items[0].id, deals.items[0].stage_id.clone()),
        (10, Some(202.into()))
    );
    assert!(deals.items[0].updated_at_ms >= before);
    assert_eq!(sim.deal("acme", 10).unwrap()["deal_stage_id"], 202);
    assert_eq!(fs.deal_stages().await.unwrap().len(), 6);
    assert!(fs.create_note(Target::Contact(1), "hello").await.unwrap() > 0);
    assert!(
        fs.create_task(Target::Deal(10), "t", "d", "2026-12-01T00:00:00Z", Some(7))
            .await
            .unwrap()
            > 0
    );
    let rec = fs
        .create_module_record("cm_identity_verifications", &json!({"name": "IDV x"}))
        .await
        .unwrap();
    fs.update_module_record("cm_identity_verifications", rec, &json!({"name": "IDV y"}))
        .await
        .unwrap();
    assert!(fs
        .contact_fields()
        .await
        .unwrap()
        .iter()
        .any(|f| f.name == "cf_idv_status"));

    // Upsert matched on the email (whatever its case): found (200) with only the given fields
    // changed, or created (201) with both names; consent as the subscription status; 422s
    // explained.
    let found = fs
        .upsert_contact(
            "ADA@example.com",
            &ContactUpsert {
                marketing_consent: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!found.created);
    assert_eq!(found.contact.id, 1);
    assert_eq!(found.contact.first_name.as_deref(), Some("Ada"));
    assert_eq!(
        sim.contact("acme", 1).unwrap()["subscription_status"],
        "subscribed"
    );
    let created = fs
        .upsert_contact(
            "alan@example.com",
            &ContactUpsert {
                first_name: Some("Alan".into()),
                last_name: Some("Turing".into()),
                phone: Some("+442079460018".into()),
                marketing_consent: Some(false),
            },
        )
        .await
        .unwrap();
    assert!(created.created);
    let stored = sim.contact("acme", created.contact.id).unwrap();
    assert_eq!(stored["email"], "alan@example.com");
    assert_eq!(stored["mobile_number"], "+442079460018");
    assert_eq!(stored["subscription_status"], "unsubscribed");
    let e = fs
        .upsert_contact("new@example.com", &ContactUpsert::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, FsError::Unprocessable(m) if m.contains("First name")),
        "{e}"
    );

    // 404 on a record; a wrong alias; a Bearer-style or wrong key.
    assert!(matches!(
        fs.view_contact(999).await,
        Err(FsError::NotFound(_))
    ));
    let wrong_alias = client(&served, "nope", "good-key", Duration::from_secs(2));
    assert!(matches!(
        wrong_alias.contact_fields().await,
        Err(FsError::NotFound(_))
    ));
    let bearer = client(&served, "acme", "Bearer good-key", Duration::from_secs(2));
    let e = bearer.view_contact(1).await.unwrap_err();
    assert!(matches!(e, FsError::Unauthorized(401)));
    assert!(e.to_string().contains("Token token="), "{e}");

    // 5xx and timeouts are transient; the simulator's log shows what it received.
    sim.set_faults(FsFaults {
        error_rate: 1.0,
        ..Default::default()
    });
    let e = fs.view_contact(1).await.unwrap_err();
    assert!(matches!(e, FsError::Unavailable(503)) && e.is_transient());
    sim.set_faults(FsFaults {
        timeout_rate: 1.0,
        hang: Duration::from_secs(3),
        ..Default::default()
    });
    let quick = client(&served, "acme", "good-key", Duration::from_millis(300));
    let started = Instant::now();
    assert!(matches!(quick.view_contact(1).await, Err(FsError::Timeout)));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the client's timeout holds"
    );
    sim.set_faults(FsFaults::default());
    assert!(sim
        .calls("acme")
        .iter()
        .any(|c| c.method == "PUT" && c.status == 200));
}

/// The twin updates records as Freshsales does: every field a `PUT` gives is written, and the
/// record's `updated_at` moves (the periodic check reads deals sorted by it).
#[tokio::test]
async fn the_freshsales_twin_writes_every_field_given_and_stamps_each_update() {
    let (sim, served) = freshsales(1000).await;
    let fs = client(&served, "acme", "good-key", Duration::from_secs(2));
    let stamp = |v: &serde_json::Value| {
        let at = v["updated_at"].as_str().unwrap();
        time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).unwrap()
    };
    let (contact_before, deal_before) = (
        sim.contact("acme", 1).unwrap(),
        sim.deal("acme", 10).unwrap(),
    );
    tokio::time::sleep(Duration::from_millis(5)).await;

    let mut fields = serde_json::Map::new();
    fields.insert("cf_idv_status".into(), json!("verified"));
    fs.update_contact_fields(1, &fields).await.unwrap();
    let contact = sim.contact("acme", 1).unwrap();
    assert!(
        stamp(&contact) > stamp(&contact_before),
        "a contact's update moves its updated_at: {contact}"
    );
    assert_eq!(contact["created_at"], contact_before["created_at"]);

    let put = reqwest::Client::new()
        .put(format!("{}/a/acme/crm/sales/api/deals/10", served.url()))
        .header("authorization", "Token token=good-key")
        .json(&json!({"deal": {"name": "Bigger deal", "amount": 250, "deal_stage_id": 203,
            "custom_field": {"cf_region": "EMEA"}, "id": 99, "created_at": "2000-01-01T00:00:00Z"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let deal = sim.deal("acme", 10).unwrap();
    assert_eq!(
        (&deal["name"], &deal["amount"], &deal["deal_stage_id"]),
        (&json!("Bigger deal"), &json!(250), &json!(203)),
        "every field given is written, not only the stage: {deal}"
    );
    assert_eq!(deal["custom_field"]["cf_region"], "EMEA");
    assert_eq!(
        (&deal["id"], &deal["created_at"]),
        (&json!(10), &deal_before["created_at"]),
        "the id and the creation time are the record's own"
    );
    assert!(stamp(&deal) > stamp(&deal_before), "{deal}");

    // A change of another field than the stage moves updated_at too.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let before = stamp(&deal);
    fs.update_deal_stage(10, 203).await.unwrap();
    assert!(stamp(&sim.deal("acme", 10).unwrap()) > before);
    // An unknown stage changes nothing.
    let e = fs.update_deal_stage(10, 999).await.unwrap_err();
    assert!(matches!(e, FsError::Unprocessable(_)), "{e}");
    assert_eq!(sim.deal("acme", 10).unwrap()["deal_stage_id"], 203);

    // An upsert that finds the contact is an update as well.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let before = stamp(&sim.contact("acme", 1).unwrap());
    fs.upsert_contact(
        "ada@example.com",
        &ContactUpsert {
            marketing_consent: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(stamp(&sim.contact("acme", 1).unwrap()) > before);
}

#[tokio::test]
async fn freshsales_rate_limits_say_how_long_to_wait() {
    let (sim, served) = freshsales(3).await;
    let fs = client(&served, "acme", "good-key", Duration::from_secs(2));
    for _ in 0..3 {
        fs.view_contact(1).await.unwrap();
    }
    let e = fs.view_contact(1).await.unwrap_err();
    let wait = e.retry_after().expect("a 429 carries the wait");
    assert!(matches!(e, FsError::RateLimited(_)));
    assert!(
        (3000..=3600).contains(&wait),
        "the hourly window's remainder, got {wait}"
    );
    // The per-minute limit (400) has its own, shorter wait.
    let (sim2, served2) = freshsales(100_000).await;
    sim2.with("acme", |a| a.hour = Duration::from_secs(3600));
    let fs2 = client(&served2, "acme", "good-key", Duration::from_secs(2));
    let mut limited = None;
    for _ in 0..401 {
        if let Err(e) = fs2.view_contact(1).await {
            limited = Some(e);
            break;
        }
    }
    let e = limited.expect("the 401st call in a minute is refused");
    assert!(e.retry_after().is_some_and(|w| w <= 60), "{e}");
    assert_eq!(
        sim.calls("acme").iter().filter(|c| c.status == 429).count(),
        1
    );
}

#[tokio::test]
async fn kosmos_client_speaks_the_contract() {
    let sim = KosmosSim::new("ks-key", b"secret");
    let served = Served::start(([127, 0, 0, 1], 0).into(), sim.router())
        .await
        .unwrap();
    sim.set_public_base(&served.url());
    let ks = KosmosClient::new(
        &served.url(),
        "ks-key".to_string().into(),
        Duration::from_millis(500),
    );
    assert!(ks.check().await.is_ok());
    let created = ks
        .create_idv(&CreateIdv {
            reference: "ver_1".into(),
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            date_of_birth: None,
            email: Some("ada@example.com".into()),
            phone: Some("+442079460018".into()),
            ial: "IAL2".into(),
            document_types: vec!["passport".into()],
            callback_url: None,
            delivery: Default::default(),
        })
        .await
        .unwrap();
    assert!(created.url.as_deref().unwrap().contains("/hosted/verify/"));
    assert_eq!(
        ks.get_idv(&created.session_id).await.unwrap().outcome,
        Outcome::Pending
    );
    sim.complete(
        &created.session_id,
        &SimOutcome {
            outcome: "verified".into(),
            document_type: Some("national_id".into()),
            confidence: Some(0.91),
            reason: None,
            ..Default::default()
        },
    )
    .unwrap();
    let Outcome::Verified(f) = ks.get_idv(&created.session_id).await.unwrap().outcome else {
        panic!("verified expected");
    };
    assert_eq!(f.ial.as_deref(), Some("IAL2"));
    assert_eq!(f.document_type.as_deref(), Some("national_id"));
    assert_eq!(f.match_confidence, Some(0.91));
    // The provider compared the document's holder with the person the session named.
    assert_eq!(f.identity_match, Some(idv_types::IdentityMatch::Match));
    let did = f.credential_did.unwrap();

    // LiveID for the enrolled person; denial is a failure with a reason.
    let live = ks
        .create_liveid(&CreateLiveId {
            reference: "ver_2".into(),
            did,
            callback_url: None,
            ttl_seconds: 300,
        })
        .await
        .unwrap();
    assert!(live
        .qr_payload
        .as_deref()
        .unwrap()
        .contains("/hosted/liveid/"));
    sim.complete(
        &live.session_id,
        &SimOutcome {
            outcome: "deny".into(),
            document_type: None,
            confidence: None,
            reason: None,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(matches!(
        ks.get_liveid(&live.session_id).await.unwrap().outcome,
        Outcome::Failed { .. }
    ));

    // Errors: wrong key, unknown session, rejected request, 5xx, timeout.
    let wrong = KosmosClient::new(
        &served.url(),
        "nope".to_string().into(),
        Duration::from_secs(1),
    );
    assert!(matches!(
        wrong.check().await,
        Err(ProviderError::Unauthorized)
    ));
    assert!(matches!(
        ks.get_idv("ks_missing").await,
        Err(ProviderError::NotFound(_))
    ));
    let bad = ks
        .create_liveid(&CreateLiveId {
            reference: "r".into(),
            did: "not-a-did".into(),
            callback_url: None,
            ttl_seconds: 90,
        })
        .await;
    assert!(matches!(bad, Err(ProviderError::Rejected(_))), "{bad:?}");
    sim.set_faults(KosmosFaults {
        read_error_rate: 1.0,
        ..Default::default()
    });
    let e = ks.get_idv(&created.session_id).await.unwrap_err();
    assert!(e.is_transient(), "{e}");
    sim.set_faults(KosmosFaults {
        read_timeout_rate: 1.0,
        ..Default::default()
    });
    assert!(matches!(
        ks.get_idv(&created.session_id).await,
        Err(ProviderError::Timeout)
    ));
    let down = KosmosClient::new(
        "http://127.0.0.1:9",
        "k".to_string().into(),
        Duration::from_secs(1),
    );
    assert!(matches!(
        down.check().await,
        Err(ProviderError::Unreachable(_))
    ));
}

/// A redirect must not carry the API key and personal data to another host: the Freshsales
/// and 1Kosmos clients answer it as an error and never call the target.
#[tokio::test]
async fn no_client_follows_a_redirect() {
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    };
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let target = axum::Router::new().fallback(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        async { "{}" }
    });
    let target = Served::start(([127, 0, 0, 1], 0).into(), target)
        .await
        .unwrap();
    let to = target.url();
    let redirector = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let location = format!("{to}{}", uri.path());
        async move {
            (
                axum::http::StatusCode::TEMPORARY_REDIRECT,
                [(axum::http::header::LOCATION, location)],
            )
        }
    });
    let redirector = Served::start(([127, 0, 0, 1], 0).into(), redirector)
        .await
        .unwrap();
    let fs = FreshsalesClient::new(
        &redirector.url(),
        "key".to_string().into(),
        Duration::from_secs(2),
    );
    assert!(fs.view_contact(1).await.is_err());
    let ks = KosmosClient::new(
        &redirector.url(),
        "key".to_string().into(),
        Duration::from_secs(2),
    );
    assert!(ks.get_idv("ks_1").await.is_err());
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a client followed the redirect"
    );
}
