//! Verify Identity on a tenant whose 1Kosmos is the real BlockID platform (its twin): the same
//! product loop, on the BlockID adapter chosen per tenant.

use std::time::Duration;

use idv_server::{
    adapters::blockid::Curve,
    services::{
        tenant::{self, ProviderSettings},
        Policy, Settings,
    },
    sim::blockid::{BlockIdSim, IdvOutcome},
};
use sqlx::Row;

use crate::{
    both,
    helpers::Db,
    world::{spawn_world_with, test_settings, World, ALIAS, TENANT},
};

const LICENCE: &str = "blockid-licence";
const DVC_ID: &str = "blockid-dvc";

/// Points the world's tenant at a BlockID twin.
async fn on_blockid(w: &World, url: &str) {
    let engine = w.app.engine();
    tenant::set_connections(
        &engine.store,
        &engine.sealer,
        TENANT,
        &tenant::Connections {
            kosmos_base_url: Some(url.into()),
            kosmos_key: Some(LICENCE.into()),
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
    engine.forget_clients(TENANT);
}

async fn provider_session(w: &World, verification: &str) -> String {
    sqlx::query("SELECT provider_session_id FROM verifications WHERE id = $1")
        .bind(verification)
        .fetch_one(w.app.engine().store.pool())
        .await
        .unwrap()
        .get::<Option<String>, _>(0)
        .expect("the session reached the provider")
}

both!(
    verify_identity_on_blockid_lands_on_the_crm_record,
    verify_on_blockid
);
async fn verify_on_blockid(db: Db) {
    // BlockID has no completion webhook: results come by polling.
    let settings = Settings {
        idv_poll: vec![Duration::from_millis(100)],
        ..test_settings()
    };
    let Some(w) = spawn_world_with(db, settings, Policy::default()).await else {
        return;
    };
    let sim = BlockIdSim::new(LICENCE, DVC_ID, "default", Curve::P256);
    let served = sim
        .start(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    on_blockid(&w, &served.url()).await;

    let v = w.start_idv(11).await;
    assert_eq!(v["state"], "pending");
    assert!(
        v["hosted_url"].as_str().is_some_and(|u| !u.is_empty()),
        "{v}"
    );
    let session = provider_session(&w, v["id"].as_str().unwrap()).await;
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
    served.stop().await;
}
