//! The `server` command's administration, one home per command family (a module of the
//! binary, not of the library): `tenant` (an account's connections, tokens and secrets),
//! `settings` (its limits, policy and chat connection), `keys` (the master key), `ops` (the
//! checks, the write-back queue, a person's erasure, the audit trail).

pub mod keys;
pub mod ops;
pub mod settings;
pub mod tenant;

use clap::Args;
use idv_server::{crypto::Sealer, services::Services, services::Settings, wire_services, Store};
use secrecy::SecretString;

/// Where the backend's database is, and the master key its secrets are sealed with.
#[derive(Args)]
pub struct Db {
    #[arg(long, env = "DATABASE_URL", default_value = idv_server::config::DEFAULT_DATABASE_URL)]
    pub database_url: String,
    #[arg(long, env = "IDV_MASTER_KEY", hide_env_values = true)]
    pub master_key: SecretString,
}

/// The services over the database, as a command reads and changes it.
pub async fn services(db: &Db) -> anyhow::Result<Services> {
    let store = Store::connect(&db.database_url).await?;
    let sealer = Sealer::from_base64(&db.master_key)?;
    Ok(wire_services(store, sealer, Settings::default()))
}
