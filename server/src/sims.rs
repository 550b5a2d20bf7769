//! `server sim …`: one simulator alone on loopback, for trying a client by hand (a module of
//! the binary, built with the `twins` feature only).

use std::{io::Write, net::SocketAddr};

use idv_server::{
    shutdown_signal,
    sim::{
        blockid::BlockIdSim, freshchat::FreshchatSim, freshdesk::FreshdeskSim,
        freshsales::FreshsalesSim, hubspot::HubSpotSim, kosmos::KosmosSim, Served,
    },
    testkit::{HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, HUBSPOT_PORTAL},
};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum SimKind {
    /// 1Kosmos, the design contract.
    Kosmos,
    /// 1Kosmos BlockID (secp256k1; licence `demo-blockid-licence`, dvcID `demo-blockid-dvc`).
    Blockid,
    Freshsales,
    Freshdesk,
    /// Freshchat (token `demo-freshchat-token`; prints the webhook key).
    Freshchat,
    /// HubSpot (OAuth, CRM, workflow callbacks; prints an access token for its portal).
    Hubspot,
}

/// Serves one simulator until Ctrl-C.
pub async fn run(out: &mut impl Write, which: SimKind, bind: SocketAddr) -> anyhow::Result<()> {
    let served = match which {
        SimKind::Blockid => {
            let sim = BlockIdSim::new(
                "demo-blockid-licence",
                "demo-blockid-dvc",
                "default",
                idv_server::adapters::blockid::Curve::Secp256k1,
            );
            let s = sim.start(bind).await?;
            writeln!(
                out,
                "1Kosmos BlockID simulator: {} (community default, secp256k1, licence \
                 demo-blockid-licence, dvcID demo-blockid-dvc)",
                s.url()
            )?;
            s
        }
        SimKind::Freshdesk => {
            let sim = FreshdeskSim::new();
            sim.add_account("demo", "demo-agent-key", "demo-admin-key", 200);
            let s = Served::start(bind, sim.router()).await?;
            writeln!(
                out,
                "Freshdesk simulator: {}/d/demo/api/v2 (agent key demo-agent-key, admin key demo-admin-key)",
                s.url()
            )?;
            s
        }
        SimKind::Freshsales => {
            let sim = FreshsalesSim::new();
            sim.add_account("demo", "demo-freshsales-key", 1000);
            let s = Served::start(bind, sim.router()).await?;
            writeln!(
                out,
                "Freshsales simulator: {}/a/demo/crm/sales/api (key demo-freshsales-key)",
                s.url()
            )?;
            s
        }
        SimKind::Kosmos => {
            let sim = KosmosSim::new("demo-kosmos-key", b"demo-kosmos-webhook-secret");
            let s = Served::start(bind, sim.router()).await?;
            sim.set_public_base(&s.url());
            writeln!(
                out,
                "1Kosmos simulator: {} (x-api-key demo-kosmos-key)",
                s.url()
            )?;
            s
        }
        SimKind::Freshchat => {
            let sim = FreshchatSim::new("demo-freshchat-token");
            sim.seed_user("demo-user", "Jane", "jane@example.com");
            sim.seed_conversation("demo-conversation", "demo-user", "channel-1");
            let s = Served::start(bind, sim.router()).await?;
            writeln!(
                out,
                "Freshchat simulator: {}/v2 (token demo-freshchat-token, agent agent-1, user \
                 demo-user in conversation demo-conversation); its webhook key:\n{}",
                s.url(),
                sim.public_key_pem().trim_end()
            )?;
            s
        }
        SimKind::Hubspot => {
            let sim = HubSpotSim::new(HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, HUBSPOT_PORTAL);
            let s = Served::start(bind, sim.router()).await?;
            writeln!(
                out,
                "HubSpot simulator: {} (client id {HUBSPOT_CLIENT_ID}, client secret \
                 {HUBSPOT_CLIENT_SECRET}, portal {HUBSPOT_PORTAL}, authorize at {}/oauth/authorize); \
                 an access token for its CRM: {}",
                s.url(),
                s.url(),
                sim.issue_access_token()
            )?;
            s
        }
    };
    out.flush()?;
    shutdown_signal().await;
    served.stop().await;
    Ok(())
}
