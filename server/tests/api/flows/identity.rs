//! "Verified" means the CRM contact is the person who passed: a start sends the link to the
//! CRM record's addresses and asks the provider for the CRM's names, whatever the request says
//! about the contact; a contact the CRM does not know starts nothing; a document in another
//! name is a `mismatch` and never verified; a result below the level asked for is not verified.

use idv_server::{
    services::{tenant::MismatchPolicy, Policy},
    sim::{
        blockid::{BlockIdFaults, IdvOutcome},
        kosmos::Outcome,
    },
};
use serde_json::{json, Value};
use sqlx::Row;

use crate::both_worlds;
use crate::{
    both,
    flows::blockid::blockid_world,
    helpers::{assert_error, Db},
    world::{spawn_world_with, test_settings, World, ALIAS},
};

/// What an attacker's page data says about contact 11 (Ada Lovelace in the CRM).
fn someone_else() -> Value {
    json!({
        "first_name": "Mallory",
        "last_name": "Attacker",
        "email": "mallory@evil.example",
        "phone": "+1 202 555 0199"
    })
}

/// "The customer" finishes the hosted flow with a pass, showing the document `o` describes.
fn pass(w: &World, verification: &str, o: Outcome) {
    let id = w.provider_session(verification);
    let o = Outcome {
        outcome: "verified".into(),
        document_type: Some("passport".into()),
        confidence: Some(0.96),
        ..o
    };
    w.ks.complete(&id, &o).unwrap();
}

/// A document in another person's name.
fn in_the_name_of(first: &str, last: &str) -> Outcome {
    Outcome {
        holder_first_name: Some(first.into()),
        holder_last_name: Some(last.into()),
        ..Default::default()
    }
}

async fn finished(w: &World, id: &str) -> Value {
    w.until(&format!("/api/v1/verifications/{id}"), |v| {
        v["state"] != "pending"
    })
    .await
}

/// The contact's fields in the simulated Freshsales, once the write-back wrote `status`.
async fn crm_fields_once(w: &World, contact: u64, status: &str) -> Value {
    w.until_crm(&format!("cf_idv_status {status}"), |fs| {
        fs.contact(ALIAS, contact).unwrap()["custom_field"]["cf_idv_status"] == status
    })
    .await;
    w.fs.contact(ALIAS, contact).unwrap()["custom_field"].clone()
}

both_worlds!(
    a_start_whose_page_data_names_another_person_sends_the_crm_s_names_and_address,
    page_data_is_a_hint
);
async fn page_data_is_a_hint(w: World) {
    let res = w
        .post(
            "/api/v1/contacts/11/verifications",
            json!({"delivery": "email", "contact": someone_else()}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let v: Value = res.json().await.unwrap();
    let session =
        w.ks.sessions()
            .into_iter()
            .find(|s| s.reference == v["id"])
            .unwrap();
    let user = &session.request["user"];
    // The link goes to the CRM's address, and the provider checks the CRM's names.
    assert_eq!(user["email"], "ada@example.com", "{user}");
    assert_eq!(user["first_name"], "Ada", "{user}");
    assert_eq!(user["last_name"], "Lovelace", "{user}");
    assert_eq!(user["phone"], "+442079460018", "{user}");
    assert_eq!(session.request["send_email"], true);
    let sent = session.request.to_string();
    assert!(
        !sent.contains("Mallory") && !sent.contains("evil"),
        "{sent}"
    );
    // The audit line says the request's data differed, naming only the fields.
    let audit = w.json("/api/v1/contacts/11/audit").await;
    let start = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "start_idv")
        .expect("the start is audited");
    let detail = start["detail"].as_str().unwrap();
    assert!(
        detail.contains("differed from the CRM's (first_name, last_name, email, phone)"),
        "{detail}"
    );
    assert!(!detail.contains("Mallory"), "{detail}");
}

both!(
    a_resent_link_goes_to_the_crm_s_phone_not_the_request_s,
    resend_to_the_crm
);
async fn resend_to_the_crm(db: Db) {
    let Some((w, sim, served)) = blockid_world(db, Policy::default()).await else {
        return;
    };
    sim.set_faults(BlockIdFaults {
        sms_down: true,
        ..Default::default()
    });
    let res = w
        .post(
            "/api/v1/contacts/11/verifications",
            json!({"delivery": "sms", "contact": someone_else()}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let v: Value = res.json().await.unwrap();
    sim.set_faults(BlockIdFaults::default());
    let res = w
        .post(
            &format!("/api/v1/verifications/{}/resend", v["id"].as_str().unwrap()),
            json!({"contact": someone_else()}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let sms = sim.sms_outbox();
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0].to, "+442079460018", "the CRM's phone");
    served.stop().await;
}

both_worlds!(
    a_start_for_a_contact_the_crm_does_not_know_is_404_and_creates_nothing,
    unknown_contact
);
async fn unknown_contact(w: World) {
    let pool = w.app.state.services.core.store().pool();
    let count = |table: &'static str| async move {
        sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(pool)
            .await
            .unwrap()
            .get::<i64, _>(0)
    };
    let tables = [
        "verifications",
        "contacts",
        "sync_outbox",
        "idempotency_keys",
    ];
    let mut before = Vec::new();
    for t in tables {
        before.push(count(t).await);
    }
    for body in [json!({"contact": someone_else()}), json!({})] {
        let res = w.post("/api/v1/contacts/999/verifications", body).await;
        let msg = assert_error(res, 404, "not_found").await;
        assert!(msg.contains("999"), "{msg}");
    }
    assert!(w.ks.sessions().is_empty(), "no provider session");
    assert_eq!(w.ks.creates_received(), 0, "nothing billed");
    for (t, n) in tables.into_iter().zip(before) {
        assert_eq!(count(t).await, n, "{t}: nothing created");
    }
    assert_eq!(count("verifications").await, 0);
}

both_worlds!(
    a_document_in_another_name_ends_mismatch_and_is_never_written_as_verified,
    another_name
);
async fn another_name(w: World) {
    let v = w.start_idv(11).await;
    let id = v.id.as_str();
    pass(&w, id, in_the_name_of("Mallory", "Attacker"));
    let done = finished(&w, id).await;
    assert_eq!(done["state"], "failed", "{done}");
    assert_eq!(done["identity_match"], "mismatch", "{done}");
    assert!(
        done["failure_reason"]
            .as_str()
            .unwrap()
            .contains("does not match the contact's name"),
        "{done}"
    );
    assert_eq!(done["failure_code"], "name_mismatch", "{done}");
    let status = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(status["status"], "failed", "{status}");
    assert_eq!(status["liveid_enrolled"], false, "no enrolment from it");
    let cf = crm_fields_once(&w, 11, "failed").await;
    assert_eq!(cf["cf_idv_liveid_enrolled"], "false", "{cf}");
    assert!(cf["cf_idv_credential_did"].is_null(), "{cf}");
    assert!(cf["cf_idv_verified_date"].is_null(), "{cf}");
}

both_worlds!(
    matching_names_are_verified_with_match_and_extra_middle_names_with_partial,
    matching_names
);
async fn matching_names(w: World) {
    // The customer shows their own document (the names the session was started with), in
    // capitals as documents print them.
    let v = w.start_idv(11).await;
    let id = v.id.as_str();
    pass(&w, id, in_the_name_of("ADA", "LOVELACE"));
    let done = finished(&w, id).await;
    assert_eq!(done["state"], "verified", "{done}");
    assert_eq!(done["identity_match"], "match", "{done}");
    assert_eq!(done["requested_ial"], "IAL2", "{done}");
    let status = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(status["identity_match"], "match", "{status}");
    crm_fields_once(&w, 11, "verified").await;

    let v = w.start_idv(12).await;
    let id = v.id.as_str();
    pass(&w, id, in_the_name_of("Grace Brewster", "Hopper"));
    let done = finished(&w, id).await;
    assert_eq!(done["state"], "verified", "{done}");
    assert_eq!(done["identity_match"], "partial", "{done}");
    w.until_crm("the note of the partial match", |fs| {
        fs.with(ALIAS, |a| {
            a.notes.iter().any(|n| {
                n["description"]
                    .as_str()
                    .is_some_and(|d| d.contains("matches the contact's in part"))
            })
        })
        .unwrap()
    })
    .await;
}

both_worlds!(
    a_date_of_birth_in_the_crm_goes_to_the_provider_and_must_match,
    date_of_birth
);
async fn date_of_birth(w: World) {
    w.fs.with(ALIAS, |a| {
        a.contacts.get_mut(&12).unwrap()["custom_field"]["cf_date_of_birth"] = json!("1906-12-09")
    })
    .unwrap();
    let v = w.start_idv(12).await;
    let id = v.id.as_str();
    let session = w.ks.session(&w.provider_session(id)).unwrap();
    assert_eq!(session.request["user"]["date_of_birth"], "1906-12-09");
    pass(
        &w,
        id,
        Outcome {
            holder_date_of_birth: Some("1907-01-01".into()),
            ..Default::default()
        },
    );
    let done = finished(&w, id).await;
    assert_eq!(done["state"], "failed", "{done}");
    assert_eq!(done["identity_match"], "mismatch", "{done}");
}

both_worlds!(
    an_ial1_answer_to_an_ial2_request_is_not_verified,
    ial_below_request
);
async fn ial_below_request(w: World) {
    let res = w
        .post("/api/v1/contacts/11/verifications", json!({"ial": "IAL2"}))
        .await;
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.unwrap();
    let id = v["id"].as_str().unwrap();
    assert_eq!(v["requested_ial"], "IAL2", "{v}");
    pass(
        &w,
        id,
        Outcome {
            ial: Some("IAL1".into()),
            ..Default::default()
        },
    );
    let done = finished(&w, id).await;
    assert_eq!(done["state"], "failed", "{done}");
    assert!(
        done["failure_reason"]
            .as_str()
            .unwrap()
            .contains("only to IAL1, below the IAL2 required"),
        "{done}"
    );
    crm_fields_once(&w, 11, "failed").await;
}

both!(
    with_the_review_policy_a_mismatch_is_held_for_review_and_the_owner_gets_a_task,
    held_for_review
);
async fn held_for_review(db: Db) {
    let policy = Policy {
        identity_mismatch: MismatchPolicy::Review,
        ..Policy::default()
    };
    let Some(w) = spawn_world_with(db, test_settings(), policy).await else {
        return;
    };
    let v = w.start_idv(11).await;
    let id = v.id.as_str();
    pass(&w, id, in_the_name_of("Mallory", "Attacker"));
    let done = finished(&w, id).await;
    assert_eq!(done["state"], "failed", "not verified: {done}");
    assert_eq!(done["identity_match"], "mismatch");
    assert!(
        done["failure_reason"]
            .as_str()
            .unwrap()
            .starts_with("Held for review"),
        "{done}"
    );
    crm_fields_once(&w, 11, "failed").await;
    w.until_crm("the review task", |fs| {
        fs.with(ALIAS, |a| {
            a.tasks
                .iter()
                .any(|t| t["title"] == "Review an identity mismatch")
        })
        .unwrap()
    })
    .await;
}

both!(
    on_blockid_the_document_s_holder_is_compared_with_the_crm_contact,
    blockid_holder
);
async fn blockid_holder(db: Db) {
    let Some((w, sim, served)) = blockid_world(db, Policy::default()).await else {
        return;
    };
    let session_of = |id: &str| {
        let pool = w.app.state.services.core.store().pool().clone();
        let id = id.to_string();
        async move {
            sqlx::query("SELECT provider_session_id FROM verifications WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
                .get::<Option<String>, _>(0)
                .unwrap()
        }
    };
    // Another person's document: mismatch, never verified.
    let v = w.start_idv(11).await;
    let id = v.id.as_str();
    let session = session_of(id).await;
    assert_eq!(
        sim.idv_session(&session).unwrap().holder,
        ("Ada".to_string(), "Lovelace".to_string()),
        "the session request carries the CRM's names"
    );
    sim.present_document(&session, "Mallory", "Attacker")
        .unwrap();
    sim.complete_idv(&session, IdvOutcome::Success).unwrap();
    let done = finished(&w, id).await;
    assert_eq!(done["state"], "failed", "{done}");
    assert_eq!(done["identity_match"], "mismatch", "{done}");
    crm_fields_once(&w, 11, "failed").await;
    // Nothing of the document is kept: no name in any verification column.
    let row = sqlx::query("SELECT * FROM verifications WHERE id = $1")
        .bind(id)
        .fetch_one(w.app.state.services.core.store().pool())
        .await
        .unwrap();
    for i in 0..row.len() {
        if let Ok(Some(text)) = row.try_get::<Option<String>, _>(i) {
            assert!(!text.contains("Mallory"), "column {i}: {text}");
        }
    }
    // Their own document: verified, match.
    let v = w.start_idv(12).await;
    let id = v.id.as_str();
    sim.complete_idv(&session_of(id).await, IdvOutcome::Success)
        .unwrap();
    let done = finished(&w, id).await;
    assert_eq!(done["state"], "verified", "{done}");
    assert_eq!(done["identity_match"], "match", "{done}");
    served.stop().await;
}
