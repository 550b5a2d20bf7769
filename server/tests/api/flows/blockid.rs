//! Verify Identity on a tenant whose 1Kosmos is the real BlockID platform (its twin): the same
//! product loop, on the BlockID adapter chosen per tenant.

use std::time::Duration;

use idv_server::adapters::blockid::wire::LiveIdHandle;
use idv_server::{
    adapters::blockid::Curve,
    services::{
        tenant::{self, ProviderSettings},
        Policy, Settings,
    },
    sim::{
        blockid::{BlockIdSim, IdvOutcome, UwlReply},
        Served,
    },
};
use serde_json::{json, Value};
use sqlx::Row;

use crate::{
    both,
    helpers::{assert_error, Db},
    reliability::capture_logs,
    world::{spawn_world_with, test_settings, World, ALIAS, TENANT, WORKFLOW_SECRET},
};

const LICENCE: &str = "blockid-licence";
const DVC_ID: &str = "blockid-dvc";

/// Points the world's tenant at a BlockID twin.
async fn on_blockid(w: &World, url: &str) {
    let engine = w.app.services();
    tenant::set_connections(
        engine.core.store(),
        engine.core.sealer(),
        TENANT,
        &tenant::Connections {
            provider_base_url: Some(url.into()),
            provider_key: Some(LICENCE.into()),
            provider_settings: Some(ProviderSettings::Blockid {
                community: "default".into(),
                curve: "prime256v1".into(),
                result_path: Some("v3".into()),
            }),
            provider_secret: Some(DVC_ID.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    engine.core.tenants().forget(TENANT);
}

async fn provider_session(w: &World, verification: &str) -> String {
    sqlx::query("SELECT provider_session_id FROM verifications WHERE id = $1")
        .bind(verification)
        .fetch_one(w.app.services().core.store().pool())
        .await
        .unwrap()
        .get::<Option<String>, _>(0)
        .expect("the session reached the provider")
}

/// A world whose tenant speaks BlockID to a twin of its own.
pub(super) async fn blockid_world(db: Db, policy: Policy) -> Option<(World, BlockIdSim, Served)> {
    // BlockID has no completion webhook: results come by polling.
    let settings = Settings {
        idv_poll: vec![Duration::from_millis(100)],
        stepup_poll: Duration::from_millis(100),
        ..test_settings()
    };
    let w = spawn_world_with(db, settings, policy).await?;
    let sim = BlockIdSim::new(LICENCE, DVC_ID, "default", Curve::P256);
    let served = sim
        .start(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    on_blockid(&w, &served.url()).await;
    Some((w, sim, served))
}

both!(
    verify_identity_on_blockid_lands_on_the_crm_record,
    verify_on_blockid
);
async fn verify_on_blockid(db: Db) {
    let Some((w, sim, served)) = blockid_world(db, Policy::default()).await else {
        return;
    };

    let v = w.start_idv(11).await;
    assert_eq!(v.state.as_str(), "pending");
    assert!(
        v.hosted_url.as_deref().is_some_and(|u| !u.is_empty()),
        "{v:?}"
    );
    let session = provider_session(&w, v.id.as_str()).await;
    sim.complete_idv(&session, IdvOutcome::Success).unwrap();
    let done = w
        .until("/api/v1/contacts/11/status", |s| s["status"] == "verified")
        .await;
    assert_eq!(done["ial"]["level"], "IAL2");
    w.until_crm("contact fields", |fs| {
        fs.contact(ALIAS, 11).unwrap()["custom_field"]["cf_idv_status"] == "verified"
    })
    .await;

    // A reason code fails with the plain next step, never Verified.
    let res = w
        .post("/api/v1/contacts/12/verifications", serde_json::json!({}))
        .await;
    assert_eq!(res.status(), 201);
    let v: serde_json::Value = res.json().await.unwrap();
    let session = provider_session(&w, v["id"].as_str().unwrap()).await;
    sim.complete_idv(&session, IdvOutcome::Reason("IDV0003".into()))
        .unwrap();
    let failed = w
        .until("/api/v1/contacts/12/status", |s| s["status"] == "failed")
        .await;
    let reason = failed["history"][0]["failure_reason"]
        .as_str()
        .unwrap_or("");
    assert!(reason.contains("Next step"), "{failed}");
    // The widget and the card word the reason in the rep's language by its code.
    assert_eq!(
        failed["history"][0]["failure_code"], "front_only",
        "{failed}"
    );
    served.stop().await;
}

both!(
    a_link_asked_by_sms_reaches_the_contacts_phone_through_blockid,
    sms_delivery
);
async fn sms_delivery(db: Db) {
    let Some((w, sim, served)) = blockid_world(db, Policy::default()).await else {
        return;
    };
    // The widget offers what this account's provider can do.
    let status = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(status["deliveries"], json!(["show", "sms"]), "{status}");

    // BlockID does not email links: a precise refusal, nothing started.
    let res = w
        .post(
            "/api/v1/contacts/11/verifications",
            json!({"delivery": "email"}),
        )
        .await;
    let msg = assert_error(res, 422, "unprocessable").await;
    assert!(msg.contains("show, sms"), "{msg}");
    // A contact without an international number cannot be texted.
    let res = w
        .post(
            "/api/v1/contacts/12/verifications",
            json!({"delivery": "sms"}),
        )
        .await;
    let msg = assert_error(res, 422, "unprocessable").await;
    assert!(msg.contains("E.164"), "{msg}");
    assert!(sim.sms_outbox().is_empty());

    let res = w
        .post(
            "/api/v1/contacts/11/verifications",
            json!({"delivery": "sms"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["delivery"], "sms", "{v}");
    assert!(v.get("delivery_error").is_none(), "{v}");
    let link = v["hosted_url"].as_str().unwrap();
    let sms = sim.sms_outbox();
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0].to, "+442079460018");
    assert!(sms[0].text.contains(link), "{:?}", sms[0].text);
    served.stop().await;
}

both!(
    step_up_and_the_deal_gate_work_on_blockid,
    stepup_and_gate_on_blockid
);
async fn stepup_and_gate_on_blockid(db: Db) {
    let policy = Policy {
        gated_stages: vec!["Negotiation".into()],
        revert_on_gate: true,
        ..Policy::default()
    };
    let Some((w, sim, served)) = blockid_world(db, policy).await else {
        return;
    };
    let hook = w.url(&format!("/hooks/freshsales/{TENANT}"));
    let gate = json!({"event": "deal_stage_changed", "deal_id": 501, "stage": "Negotiation", "previous_stage_id": 202});
    // Each call its own delivery id: the second is a new stage entry, not a replay.
    let send_gate = |delivery: &'static str| {
        let (w, hook, gate) = (&w, &hook, &gate);
        async move {
            let res = w
                .http
                .post(hook)
                .header("x-idv-webhook-secret", WORKFLOW_SECRET)
                .header("x-idv-delivery-id", delivery)
                .json(gate)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.unwrap()
        }
    };
    // An unverified primary contact: the gate starts a BlockID session.
    let first = send_gate("entry-1").await;
    assert_eq!(first["result"]["outcome"], "started", "{first}");
    let id = first["result"]["verification_id"].as_str().unwrap();
    let session = provider_session(&w, id).await;
    assert!(
        sim.idv_session(&session).is_some(),
        "the session is BlockID's"
    );
    sim.complete_idv(&session, IdvOutcome::Success).unwrap();
    let verified = w
        .until("/api/v1/contacts/11/status", |s| {
            s["status"] == "verified" && s["liveid_enrolled"] == true
        })
        .await;
    assert_eq!(verified["ial"]["level"], "IAL2");
    // The same stage again is satisfied by the BlockID result.
    let again = send_gate("entry-2").await;
    assert_eq!(again["result"]["outcome"], "gate_satisfied", "{again}");

    // Step-Up Auth: a UWL session the customer's BlockID app approves.
    let res = w.post("/api/v1/deals/501/step-up", json!({})).await;
    assert_eq!(res.status(), 201);
    let s: Value = res.json().await.unwrap();
    assert!(
        s["qr_payload"].as_str().is_some_and(|q| !q.is_empty()),
        "{s}"
    );
    let handle = provider_session(&w, s["id"].as_str().unwrap()).await;
    let uwl = LiveIdHandle::parse(&handle)
        .expect("a UWL handle")
        .session_id;
    let did = sim
        .enrolled()
        .pop()
        .expect("the verified person is enrolled");
    sim.answer_uwl(&uwl, UwlReply::Approve { did }).unwrap();
    let deal = w
        .until("/api/v1/deals/501/status", |d| {
            d["stepup"]["state"] == "verified"
        })
        .await;
    assert!(deal["primary_contact"]["last_stepup_at"].is_string());

    // A second step-up that the app answers without authorising is not verified.
    let res = w.post("/api/v1/deals/501/step-up", json!({})).await;
    assert_eq!(res.status(), 201);
    let s: Value = res.json().await.unwrap();
    assert_eq!(s["state"], "pending", "{s}");
    let handle = provider_session(&w, s["id"].as_str().unwrap()).await;
    let uwl = LiveIdHandle::parse(&handle).unwrap().session_id;
    sim.answer_uwl(&uwl, UwlReply::Deny).unwrap();
    let denied = w
        .until("/api/v1/deals/501/status", |d| {
            d["stepup"]["id"] == s["id"] && d["stepup"]["state"] != "pending"
        })
        .await;
    assert_eq!(denied["stepup"]["state"], "failed", "{denied}");
    served.stop().await;
}

both!(
    no_image_from_blockid_reaches_the_database_a_log_line_or_freshsales,
    no_images_kept
);
async fn no_images_kept(db: Db) {
    let logs = capture_logs();
    let Some((w, sim, served)) = blockid_world(db, Policy::default()).await else {
        return;
    };
    let v = w.start_idv(11).await;
    let session = provider_session(&w, v.id.as_str()).await;
    sim.complete_idv(&session, IdvOutcome::Success).unwrap();
    w.until("/api/v1/contacts/11/status", |s| s["status"] == "verified")
        .await;
    w.until_crm("contact fields", |fs| {
        fs.contact(ALIAS, 11).unwrap()["custom_field"]["cf_idv_status"] == "verified"
    })
    .await;
    let images = sim.images_handed_out();
    assert!(
        images.len() >= 4,
        "the result carried the document and faces"
    );

    let stored = everything_stored(&w).await;
    let crm =
        w.fs.with(ALIAS, |a| {
            format!(
                "{:?} {:?} {:?} {:?} {:?}",
                a.contacts, a.notes, a.tasks, a.deals, a.modules
            )
        })
        .unwrap();
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    for (place, text) in [
        ("the database", &stored),
        ("Freshsales", &crm),
        ("the logs", &logged),
    ] {
        for image in &images {
            // Any 24-character run of an image is enough to call it leaked.
            assert!(
                !text.contains(&image[..24]),
                "an image from the provider reached {place}"
            );
        }
        // Nor the document's own data, which the product does not keep.
        for personal in ["D1234567", "19900101", "20310101"] {
            assert!(!text.contains(personal), "{personal} reached {place}");
        }
    }
    served.stop().await;
}

/// Every row of every table, as text (SQLite: the file and its WAL).
async fn everything_stored(w: &World) -> String {
    let store = w.app.services().core.store();
    if !w.db_url.starts_with("postgres") {
        let file = w.db_file();
        let mut bytes = std::fs::read(&file).unwrap();
        bytes.extend(std::fs::read(format!("{}-wal", file.display())).unwrap_or_default());
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    let tables: Vec<String> = sqlx::query(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
    .into_iter()
    .map(|r| r.get::<String, _>(0))
    .collect();
    assert!(tables.iter().any(|t| t == "verifications"));
    let mut all = String::new();
    for t in tables {
        for r in sqlx::query(&format!("SELECT row_to_json(x)::text FROM \"{t}\" x"))
            .fetch_all(store.pool())
            .await
            .unwrap()
        {
            all.push_str(&r.get::<String, _>(0));
            all.push('\n');
        }
    }
    all
}
