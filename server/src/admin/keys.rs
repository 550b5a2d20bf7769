//! `server keys rotate`: every sealed value re-sealed under a new master key.

use std::io::Write;

use clap::Subcommand;
use idv_server::{crypto::Sealer, store::Store};
use secrecy::SecretString;

use super::Db;

#[derive(Subcommand)]
pub enum KeysCmd {
    /// Re-seal every sealed value (tenant secrets, links, credential DIDs, queued writes) under
    /// a new master key, in one transaction. The old key is IDV_MASTER_KEY; stop the servers
    /// first and restart them with the new key.
    Rotate {
        /// The new master key (`server keygen`); better from the environment.
        #[arg(long, env = "IDV_NEW_MASTER_KEY", hide_env_values = true)]
        new_key: SecretString,
        #[command(flatten)]
        db: Db,
    },
}

pub async fn run(out: &mut impl Write, cmd: KeysCmd) -> anyhow::Result<()> {
    match cmd {
        KeysCmd::Rotate { new_key, db } => rotate(out, &new_key, &db).await,
    }
}

/// `server keys rotate`: every sealed value re-sealed under the new key, in one transaction.
async fn rotate(out: &mut impl Write, new_key: &SecretString, db: &Db) -> anyhow::Result<()> {
    let old = Sealer::from_base64(&db.master_key)?;
    let new = Sealer::from_base64(new_key)?;
    if old.key_id() == new.key_id() {
        anyhow::bail!("the new master key is the old one: generate one with `server keygen`");
    }
    let store = Store::connect(&db.database_url).await?;
    let done = idv_server::services::keys::rotate(&store, &old, &new)
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    store.close().await;
    writeln!(
        out,
        "{} value(s) re-sealed under key {} ({} already were); restart the servers with the new IDV_MASTER_KEY",
        done.resealed,
        new.key_id(),
        done.already
    )?;
    Ok(())
}
