//! The HubSpot client against its twin: the set-up it makes (group, properties with valid type
//! pairs, the session reference, the suppression list), contact and deal reads and writes as
//! HubSpot validates them, notes and tasks with association types read from the labels
//! endpoint, and each error an admin or the engine must tell apart.

use std::time::Duration;

use idv_server::{
    adapters::hubspot::{crm::HubSpotCrm, oauth::HubSpotAuthority},
    domain::setup::{field_gaps, CONTACT_FIELDS},
    ports::{
        crm::{Crm, CrmError, Record},
        CrmAuthority, CrmKind, OAuthApp,
    },
    sim::{
        hubspot::{HubSpotFaults, HubSpotSim, APP_ID},
        Served,
    },
    testkit::{HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, HUBSPOT_PORTAL},
};
use idv_types::StageId;
use secrecy::ExposeSecret;
use serde_json::{json, Map, Value};

async fn twin() -> (HubSpotSim, Served, HubSpotCrm) {
    let sim = HubSpotSim::new(HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, HUBSPOT_PORTAL);
    let served = Served::start(([127, 0, 0, 1], 0).into(), sim.router())
        .await
        .unwrap();
    let crm = HubSpotCrm::new(
        &served.url(),
        sim.issue_access_token().into(),
        Duration::from_secs(5),
    );
    (sim, served, crm)
}

/// The set-up as the engine's check makes it: what `prepare` makes, then every field.
async fn set_up(crm: &HubSpotCrm) -> Vec<String> {
    let made = crm.prepare().await.unwrap();
    for f in CONTACT_FIELDS {
        crm.create_contact_field(f).await.unwrap();
    }
    made
}

fn fields(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

#[tokio::test]
async fn the_set_up_is_made_once_with_types_views_and_lists_can_filter_on() {
    let (sim, _served, crm) = twin().await;
    let facts = crm.setup_facts().await.unwrap();
    assert_eq!(
        field_gaps(
            idv_types::SetupPart::ContactField,
            CONTACT_FIELDS,
            &facts.contact_fields
        )
        .len(),
        CONTACT_FIELDS.len(),
        "a new portal has none of the app's properties"
    );

    let made = set_up(&crm).await;
    assert_eq!(
        made,
        vec![
            "property group Identity Verification".to_string(),
            "contact property IDV Session Reference".into(),
            "list Identity not verified (exclude from marketing sends)".into(),
        ]
    );
    let facts = crm.setup_facts().await.unwrap();
    assert!(
        field_gaps(
            idv_types::SetupPart::ContactField,
            CONTACT_FIELDS,
            &facts.contact_fields
        )
        .is_empty(),
        "{:?}",
        facts.contact_fields
    );
    assert!(facts
        .stage_ids
        .contains(&StageId::new("closedwon").unwrap()));
    assert!(facts
        .stage_names
        .contains(&"Renewals · Renewal Due".to_string()));

    sim.with_records(|r| {
        let enrolled = r
            .properties
            .iter()
            .find(|p| p["name"] == "idv_liveid_enrolled")
            .unwrap();
        assert_eq!(enrolled["type"], "bool");
        assert_eq!(enrolled["fieldType"], "booleancheckbox");
        assert_eq!(enrolled["groupName"], "identity_verification");
        let list = &r.lists[0];
        assert_eq!(list["objectTypeId"], "0-1");
        assert_eq!(list["processingType"], "DYNAMIC");
        assert!(list.to_string().contains("idv_status"));
    });

    // A second check (the periodic one) makes nothing again and fails on nothing.
    assert!(set_up(&crm).await.is_empty());
    sim.with_records(|r| {
        assert_eq!(r.lists.len(), 1);
        assert_eq!(
            r.properties
                .iter()
                .filter(|p| p["groupName"] == "identity_verification")
                .count(),
            CONTACT_FIELDS.len() + 1
        );
    });
}

#[tokio::test]
async fn a_result_lands_on_the_contact_as_hubspot_validates_it() {
    let (sim, _served, crm) = twin().await;
    set_up(&crm).await;
    let id = sim.with_records(|r| {
        r.add_contact(&json!({"firstname": "Ada", "lastname": "Lovelace",
            "email": "ada@example.com", "mobilephone": "+44 20 7946 0018", "hubspot_owner_id": "77"}))
    });
    let c = crm.contact(id).await.unwrap();
    assert_eq!(c.first_name.as_deref(), Some("Ada"));
    assert_eq!(c.email.as_deref(), Some("ada@example.com"));
    assert_eq!(c.phone.as_deref(), Some("+442079460018"));
    assert_eq!(c.owner_id, Some(77));

    crm.write_verification_fields(
        id,
        &fields(&[
            ("cf_idv_status", json!("verified")),
            ("cf_idv_ial_level", json!("IAL2")),
            ("cf_idv_liveid_enrolled", json!("true")),
            ("cf_idv_verified_date", json!("2026-12-06")),
            ("cf_idv_match_confidence", json!(1234.0)),
            ("cf_idv_document_type", json!("passport")),
            ("cf_idv_credential_did", Value::Null),
        ]),
    )
    .await
    .unwrap();
    crm.record_history(
        None,
        &json!({"name": "IDV ses_1", "custom_field": {"cf_contact_id": id, "cf_session_id": "ses_1"}}),
    )
        .await
        .unwrap();
    sim.with_records(|r| {
        let p = &r.contacts[&id];
        assert_eq!(p["idv_status"], "verified");
        assert_eq!(p["idv_liveid_enrolled"], "true");
        assert_eq!(p["idv_verified_date"], "2026-12-06");
        assert_eq!(p["idv_match_confidence"], "1234");
        assert_eq!(p["idv_credential_did"], "");
        assert_eq!(p["idv_session_ref"], "ses_1");
    });

    // A value outside the options is HubSpot's VALIDATION_ERROR: permanent, said plainly.
    let e = crm
        .write_verification_fields(id, &fields(&[("cf_idv_status", json!("maybe"))]))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, CrmError::Unprocessable(m) if m.contains("idv_status")),
        "{e}"
    );
    // An admin's validation rule on the property refuses the write, and says where to look.
    sim.set_faults(HubSpotFaults {
        validation_rule: Some("idv_status".into()),
        ..Default::default()
    });
    let e = crm
        .write_verification_fields(id, &fields(&[("cf_idv_status", json!("failed"))]))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, CrmError::Unprocessable(m) if m.contains("validation rule")),
        "{e}"
    );
    sim.set_faults(HubSpotFaults::default());
    assert!(matches!(
        crm.contact(999_999).await,
        Err(CrmError::NotFound(_))
    ));
}

#[tokio::test]
async fn a_write_to_a_portal_without_the_properties_waits_for_the_set_up() {
    let (sim, _served, crm) = twin().await;
    let id = sim.with_records(|r| r.add_contact(&json!({"firstname": "Ada"})));
    let e = crm
        .write_verification_fields(id, &fields(&[("cf_idv_status", json!("verified"))]))
        .await
        .unwrap_err();
    assert!(matches!(e, CrmError::NotSetUp(_)), "{e}");
}

#[tokio::test]
async fn notes_tasks_and_deals_use_the_accounts_association_types_and_pipelines() {
    let (sim, _served, crm) = twin().await;
    let (contact, deal) = sim.with_records(|r| {
        let c = r.add_contact(&json!({"firstname": "Ada"}));
        let d = r.add_deal("Renewal", "1034112", &[c]);
        (c, d)
    });
    crm.add_note(Record::Contact(contact), "<b>Verified</b> & done")
        .await
        .unwrap();
    crm.add_task(
        Record::Deal(deal),
        "Re-verify",
        "why",
        "2026-12-07T09:00:00Z",
        Some(77),
    )
    .await
    .unwrap();
    sim.with_records(|r| {
        let note = &r.notes[0];
        assert_eq!(
            note["properties"]["hs_note_body"],
            "&lt;b&gt;Verified&lt;/b&gt; &amp; done"
        );
        assert_eq!(
            note["associations"][0]["types"][0]["associationTypeId"],
            202
        );
        assert_eq!(note["associations"][0]["to"]["id"], contact.to_string());
        let task = &r.tasks[0];
        assert_eq!(
            task["associations"][0]["types"][0]["associationTypeId"],
            216
        );
        assert_eq!(task["properties"]["hubspot_owner_id"], "77");
        assert_eq!(task["properties"]["hs_task_status"], "NOT_STARTED");
    });
    let labels = sim
        .calls()
        .iter()
        .filter(|c| c.path.ends_with("/labels"))
        .count();
    crm.add_note(Record::Contact(contact), "again")
        .await
        .unwrap();
    assert_eq!(
        sim.calls()
            .iter()
            .filter(|c| c.path.ends_with("/labels"))
            .count(),
        labels,
        "association types are read once per client"
    );

    let d = crm.deal(deal).await.unwrap();
    assert_eq!(d.stage_id, StageId::new("1034112"));
    assert_eq!(d.contact_ids, vec![contact]);
    assert_eq!(d.primary_contact, Some(contact));
    // Back to a stage of another pipeline: `pipeline` goes with `dealstage`.
    crm.move_deal(deal, &StageId::new("closedwon").unwrap())
        .await
        .unwrap();
    sim.with_records(|r| {
        assert_eq!(r.deals[&deal]["dealstage"], "closedwon");
        assert_eq!(r.deals[&deal]["pipeline"], "default");
    });
    crm.move_deal(deal, &StageId::new("1034113").unwrap())
        .await
        .unwrap();
    sim.with_records(|r| assert_eq!(r.deals[&deal]["pipeline"], "75e28846"));
    assert!(matches!(
        crm.move_deal(deal, &StageId::new("nowhere").unwrap()).await,
        Err(CrmError::Unprocessable(_))
    ));
}

#[tokio::test]
async fn each_refusal_is_told_apart() {
    let (sim, served, crm) = twin().await;
    // A token HubSpot never gave (or an uninstalled app's).
    let stranger = HubSpotCrm::new(
        &served.url(),
        "nope".to_string().into(),
        Duration::from_secs(5),
    );
    assert!(matches!(
        stranger.contact(1).await,
        Err(CrmError::Unauthorized(_))
    ));
    // HubSpot down: passing.
    sim.set_faults(HubSpotFaults {
        crm_status: Some(503),
        ..Default::default()
    });
    let e = crm.stages().await.unwrap_err();
    assert!(
        matches!(e, CrmError::Unavailable(_)) && !e.is_permanent(),
        "{e}"
    );
    // The lists scope not granted: the rest of the set-up is made, the list is left out.
    sim.set_faults(HubSpotFaults {
        no_lists_scope: true,
        ..Default::default()
    });
    let made = crm.prepare().await.unwrap();
    assert_eq!(made.len(), 2, "{made:?}");
    sim.set_faults(HubSpotFaults::default());
    // Past the portal's limit: 429 with the wait HubSpot's headers give.
    sim.with_records(|r| r.limit = (3, Duration::from_secs(10)));
    let mut last = Ok(Vec::new());
    for _ in 0..4 {
        last = crm.stages().await;
    }
    match last {
        Err(CrmError::RateLimited {
            retry_after_secs, ..
        }) => assert_eq!(retry_after_secs, 10),
        other => panic!("a 429: {other:?}"),
    }
    let seen = crm.limit_seen().expect("the headers were read");
    assert_eq!((seen.remaining, seen.interval_ms), (0, 10_000));
    let now = idv_server::clock::now_ms();
    assert_eq!(seen.spent_until(now), Some(seen.at_ms + 10_000));
    assert_eq!(
        seen.spent_until(seen.at_ms + 10_000),
        None,
        "the interval passed"
    );
}

/// A code as HubSpot's authorize page gives one after the admin grants access.
async fn granted_code(authority: &HubSpotAuthority, redirect: &str) -> String {
    let url = authority.authorize_url(redirect, "s1");
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap();
    let back = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    let code = back.query_pairs().find(|(k, _)| k == "code").unwrap().1;
    code.into_owned()
}

#[tokio::test]
async fn the_grant_names_its_account_refreshes_and_is_revoked() {
    let (sim, served, _) = twin().await;
    let app = OAuthApp {
        kind: CrmKind::Hubspot,
        client_id: HUBSPOT_CLIENT_ID.into(),
        client_secret: HUBSPOT_CLIENT_SECRET.to_string().into(),
        app_id: Some(APP_ID.to_string()),
        api_url: served.url(),
        authorize_url: format!("{}/oauth/authorize", served.url()),
    };
    let authority = HubSpotAuthority::new(app.clone(), Duration::from_secs(5));
    let redirect = "https://idv.example.com/hubspot/v1/oauth/callback";

    // The token answer names the account.
    let code = granted_code(&authority, redirect).await;
    let grant = authority.exchange(&code, redirect).await.unwrap();
    assert_eq!(grant.account.as_deref(), Some(&*HUBSPOT_PORTAL.to_string()));
    assert_eq!(grant.expires_in, Duration::from_secs(1800));
    assert_eq!(sim.introspections(), 0, "no call it did not need");
    // A code is spent once.
    match authority.exchange(&code, redirect).await {
        Err(CrmError::Unauthorized(m)) => assert!(m.contains("installs the app again"), "{m}"),
        other => panic!("a spent code: {other:?}"),
    }

    // When it does not, the token is introspected for it.
    sim.set_faults(HubSpotFaults {
        no_hub_id: true,
        ..Default::default()
    });
    let code = granted_code(&authority, redirect).await;
    let grant = authority.exchange(&code, redirect).await.unwrap();
    assert_eq!(grant.account.as_deref(), Some(&*HUBSPOT_PORTAL.to_string()));
    assert_eq!(sim.introspections(), 1);
    sim.set_faults(HubSpotFaults::default());

    // Refreshed: a new access token the CRM takes.
    let renewed = authority.refresh(&grant.refresh_token).await.unwrap();
    assert!(sim.access_valid(renewed.access_token.expose_secret()));
    // Revoked at uninstall: the refresh token no longer works.
    authority.revoke(&grant.refresh_token).await.unwrap();
    assert_eq!(
        sim.revoked(),
        vec![grant.refresh_token.expose_secret().to_string()]
    );
    assert!(matches!(
        authority.refresh(&grant.refresh_token).await,
        Err(CrmError::Unauthorized(_))
    ));

    // The app's secret is wrong: the operator is told which setting to check.
    let wrong = HubSpotAuthority::new(
        OAuthApp {
            client_secret: "not-the-secret".to_string().into(),
            ..app
        },
        Duration::from_secs(5),
    );
    let code = granted_code(&wrong, redirect).await;
    match wrong.exchange(&code, redirect).await {
        Err(CrmError::Unauthorized(m)) => assert!(m.contains("IDV_HUBSPOT_CLIENT_SECRET"), "{m}"),
        other => panic!("a wrong secret: {other:?}"),
    }
}
