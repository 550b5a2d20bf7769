//! HubSpot's own Node SDK (`@hubspot/api-client`, installed by the HubSpot project's checks)
//! against the HubSpot twin: properties and their type pairs, contact reads and validated
//! writes, pipelines, association labels and batch reads, notes, and the errors the SDK
//! surfaces (400 `VALIDATION_ERROR`, 404, 409, 401). If HubSpot's client reads the twin as it
//! reads HubSpot, the twin is a fair stand-in for the contract tests above.

use std::{path::PathBuf, time::Duration};

use idv_server::{
    sim::{hubspot::HubSpotSim, Served},
    testkit::{HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, HUBSPOT_PORTAL},
};
use serde_json::json;

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hubspot")
}

#[tokio::test]
async fn hubspots_own_sdk_reads_the_twin_as_it_reads_hubspot() {
    if !project().join("node_modules/@hubspot/api-client").is_dir() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the HubSpot SDK is not installed: `cargo xtask hubspot-check` installs hubspot/node_modules"
        );
        eprintln!("skipped: run `cargo xtask hubspot-check` first to install HubSpot's SDK");
        return;
    }
    let sim = HubSpotSim::new(HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, HUBSPOT_PORTAL);
    let served = Served::start(([127, 0, 0, 1], 0).into(), sim.router())
        .await
        .unwrap();
    let token = sim.issue_access_token();
    let (contact, deal) = sim.with_records(|r| {
        let c = r.add_contact(&json!({"firstname": "Ada", "email": "ada@example.com"}));
        (c, r.add_deal("Services", "qualifiedtobuy", &[c]))
    });
    let mut cmd = tokio::process::Command::new("node");
    cmd.current_dir(project())
        .arg("scripts/sdk-twin.mjs")
        .arg(served.url())
        .arg(&token)
        .arg(contact.to_string())
        .arg(deal.to_string())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("the SDK script finishes")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}\nthe twin answered: {:?}",
        String::from_utf8_lossy(&out.stderr),
        sim.calls()
            .iter()
            .map(|c| format!("{} {} {}", c.method, c.path, c.status))
            .collect::<Vec<_>>()
    );
    assert!(stdout.contains("\"ok\":true"), "{stdout}");
    // What the SDK wrote is in the twin.
    sim.with_records(|r| {
        assert!(r.groups.iter().any(|g| g["name"] == "sdk_check"));
        assert_eq!(r.contacts[&contact]["sdk_status"], "verified");
        assert_eq!(r.notes.len(), 1);
    });
    // It called the legacy paths HubSpot's SDK uses, and the twin answered each.
    let paths: Vec<String> = sim.calls().into_iter().map(|c| c.path).collect();
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("/crm/v3/objects/contacts/")),
        "{paths:?}"
    );
    assert!(
        paths.iter().any(|p| p.starts_with("/crm/v4/associations/")),
        "{paths:?}"
    );
}
