//! The demo's HubSpot portal: the twin holds the demo's people and a deal, and the portal's
//! tenant is ready before an admin tries the install link (its identity provider connected,
//! new contacts verified, a gated stage); the install brings the OAuth grant and makes the
//! app's properties in the portal.

pub mod pages;

use super::CONTACTS;
use crate::{
    ports::CrmKind,
    services::{
        tenant::{self, Policy},
        tenants::account_tenant,
        Services,
    },
    sim::hubspot::HubSpotSim,
    testkit::HUBSPOT_PORTAL,
};

/// The demo's people and a deal in the portal, as its users would have entered them.
pub fn seed_portal(sim: &HubSpotSim) {
    sim.with_records(|r| {
        let mut last = 0;
        for c in CONTACTS {
            last = r.add_contact(&serde_json::json!({
                "firstname": c.first_name, "lastname": c.last_name, "email": c.email,
                "mobilephone": c.phone, "company": c.company, "jobtitle": c.job_title,
            }));
        }
        r.add_deal("Apollo guidance renewal", "presentationscheduled", &[last]);
    });
}

/// Makes the portal's tenant (if new) with the demo's provider and policy.
pub async fn connect(services: &Services, provider: tenant::Connections) -> anyhow::Result<()> {
    let id = account_tenant(CrmKind::Hubspot, &HUBSPOT_PORTAL.to_string());
    let store = services.core.store();
    if store.tenant_record(&id).await?.is_none() {
        // No widget token: HubSpot signs the card's calls.
        let no_token = hex::encode(rand::random::<[u8; 32]>());
        store
            .insert_tenant(&id, "Demo HubSpot portal", &no_token)
            .await?;
    }
    tenant::set_connections(
        store,
        services.core.sealer(),
        &id,
        &tenant::Connections {
            hourly_limit: Some(110),
            rate_window_secs: Some(10),
            ..provider
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("connecting the HubSpot tenant: {e}"))?;
    tenant::set_policy(
        store,
        &id,
        &Policy {
            auto_verify_on_create: true,
            gated_stages: vec!["contractsent".into()],
            revert_on_gate: true,
            ..Policy::default()
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("the HubSpot tenant's policy: {e}"))?;
    services.core.tenants().forget(&id);
    Ok(())
}
