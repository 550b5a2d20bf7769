//! A tenant's connections are typed per product and stored under names that say what they
//! hold; values sealed before the columns were renamed still open, and OAuth tokens are sealed
//! like every other secret.

use std::borrow::Cow;

use idv_server::{
    crypto::{at, Sealer},
    ports::CrmAuth,
    services::{keys, tenant},
    Store,
};
use secrecy::ExposeSecret;

use crate::both;
use crate::helpers::{fresh_database, Db};

/// The first migration that renamed the tenant's connection columns.
const RENAMED_AT: i64 = 20261212000100;
/// The migration that moved deal stages to text.
const STAGES_AS_TEXT_AT: i64 = 20261212000300;

fn sealer() -> Sealer {
    Sealer::from_base64(&Sealer::generate_key().into()).unwrap()
}

/// Applies the migrations before `version` only: a database as an earlier release left it.
async fn database_before(db: Db, version: i64) -> Option<(String, sqlx::AnyPool)> {
    let url = fresh_database(db).await?;
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    let all = match db {
        Db::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Db::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    let before: Vec<_> = all
        .iter()
        .filter(|m| m.version < version)
        .cloned()
        .collect();
    let mut old = sqlx::migrate::Migrator::DEFAULT;
    old.migrations = Cow::Owned(before);
    old.run(&pool).await.unwrap();
    Some((url, pool))
}

both!(
    a_tenant_connected_before_the_columns_were_renamed_reads_the_same_connections_after_the_migration,
    renamed
);
async fn renamed(db: Db) {
    let Some((url, pool)) = database_before(db, RENAMED_AT).await else {
        return;
    };
    let s = sealer();
    let seal = |column: &'static str, v: &str| s.seal(at("tenants", column, "acme"), v);
    sqlx::query(
        "INSERT INTO tenants (id, name, token_hash, created_at, crm_kind, \
         freshsales_base_url, freshsales_key_sealed, kosmos_base_url, kosmos_key_sealed, \
         kosmos_webhook_secret_sealed, freshchat_api_url, freshchat_token_sealed, \
         freshchat_public_key, freshchat_agent_id) \
         VALUES ('acme', 'Acme', 'hash', 1, 'freshdesk', $1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind("https://acme.freshdesk.com/api/v2")
    .bind(seal("freshsales_key_sealed", "desk-key"))
    .bind("https://kosmos.example")
    .bind(seal("kosmos_key_sealed", "kosmos-key"))
    .bind(seal("kosmos_webhook_secret_sealed", "hook-secret"))
    .bind("https://acme.freshchat.com/v2")
    .bind(seal("freshchat_token_sealed", "chat-token"))
    .bind("-----BEGIN PUBLIC KEY-----")
    .bind("agent-7")
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    // The new release migrates the database and reads the tenant.
    let store = Store::connect(&url).await.unwrap();
    let t = tenant::load(&store, &s, "acme").await.unwrap().unwrap();
    let crm = t
        .crm
        .as_ref()
        .expect("the CRM connection survives the rename");
    assert_eq!(crm.kind, tenant::CrmKind::Freshdesk);
    assert_eq!(crm.base_url, "https://acme.freshdesk.com/api/v2");
    assert_eq!(t.crm_key().unwrap().expose_secret(), "desk-key");
    let provider = t.provider.as_ref().expect("the provider connection too");
    assert_eq!(provider.base_url, "https://kosmos.example");
    assert_eq!(provider.key.expose_secret(), "kosmos-key");
    assert_eq!(
        t.provider_webhook_secret.as_ref().unwrap().expose_secret(),
        "hook-secret"
    );
    let chat = t.chat.as_ref().expect("the chat connection too");
    assert_eq!(chat.base_url, "https://acme.freshchat.com/v2");
    assert_eq!(chat.token.expose_secret(), "chat-token");
    assert_eq!(chat.agent_id.as_deref(), Some("agent-7"));
    assert_eq!(
        t.chat_webhook_key.as_deref(),
        Some("-----BEGIN PUBLIC KEY-----")
    );

    // And `server keys rotate` re-seals them where they now live.
    let new = sealer();
    let done = keys::rotate(&store, &s, &new).await.unwrap();
    assert_eq!(done.resealed, 4, "{done:?}");
    let t = tenant::load(&store, &new, "acme").await.unwrap().unwrap();
    assert_eq!(t.crm_key().unwrap().expose_secret(), "desk-key");
    assert_eq!(t.chat.as_ref().unwrap().token.expose_secret(), "chat-token");
    assert!(tenant::load(&store, &s, "acme")
        .await
        .unwrap()
        .unwrap()
        .crm
        .is_none());
}

both!(
    an_account_reached_by_oauth_keeps_its_tokens_sealed_reads_them_back_and_loses_them_at_uninstall,
    oauth
);
async fn oauth(db: Db) {
    let Some(url) = fresh_database(db).await else {
        return;
    };
    let store = Store::connect(&url).await.unwrap();
    let s = sealer();
    store
        .insert_tenant("portal-1", "Portal", "hash")
        .await
        .unwrap();
    let expires = 1_900_000_000_000;
    let connected = tenant::set_connections(
        &store,
        &s,
        "portal-1",
        &tenant::Connections {
            crm_base_url: Some("https://api.example.test".into()),
            crm_oauth: Some(tenant::OAuthGrant {
                refresh_token: "refresh-1".into(),
                access_token: "access-1".into(),
                expires_at_ms: expires,
            }),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(connected);
    let t = tenant::load(&store, &s, "portal-1").await.unwrap().unwrap();
    let Some(CrmAuth::OAuth(tokens)) = t.crm.as_ref().map(|c| &c.auth) else {
        panic!("an OAuth connection: {t:?}");
    };
    assert_eq!(tokens.refresh_token.expose_secret(), "refresh-1");
    assert_eq!(
        tokens.access_token.as_ref().unwrap().expose_secret(),
        "access-1"
    );
    assert_eq!(tokens.expires_at_ms, Some(expires));
    assert!(t.crm_key().is_none(), "no API key is made up for it");
    // Neither token is stored readable.
    let (refresh, access): (String, String) = sqlx::query_as(
        "SELECT crm_refresh_token_sealed, crm_access_token_sealed FROM tenants WHERE id = 'portal-1'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert!(!refresh.contains("refresh-1") && !access.contains("access-1"));
    // Uninstalling wipes them with the rest of the account's keys.
    store.wipe_tenant_keys("portal-1").await.unwrap();
    let t = tenant::load(&store, &s, "portal-1").await.unwrap().unwrap();
    assert!(t.crm.is_none(), "{t:?}");
}

both!(
    a_deals_stages_stored_as_numbers_read_the_same_after_they_move_to_text,
    stages_as_text
);
async fn stages_as_text(db: Db) {
    let Some((url, pool)) = database_before(db, STAGES_AS_TEXT_AT).await else {
        return;
    };
    sqlx::query(
        "INSERT INTO tenants (id, name, token_hash, created_at) VALUES ('acme', 'Acme', 'h', 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO deals (tenant_id, deal_id, stage_id, primary_contact, fetched_at, previous_stage_id) \
         VALUES ('acme', 501, 203, 11, 5, 202)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let store = Store::connect(&url).await.unwrap();
    let deal = store.cached_deal("acme", 501).await.unwrap().unwrap();
    assert_eq!(deal.stage.as_deref(), Some("203"));
    assert_eq!(deal.previous_stage.as_deref(), Some("202"));
    assert_eq!(deal.primary_contact, Some(11));
    // A word id (HubSpot's) is kept as the CRM spells it, and the stage it left with it.
    store
        .saw_deal_stage("acme", 501, None, "closedwon")
        .await
        .unwrap();
    let deal = store.cached_deal("acme", 501).await.unwrap().unwrap();
    assert_eq!(deal.stage.as_deref(), Some("closedwon"));
    assert_eq!(deal.previous_stage.as_deref(), Some("203"));
}
