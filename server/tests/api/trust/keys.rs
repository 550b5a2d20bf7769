//! Sealed values are bound to their place and name their key: `server keys rotate` re-seals
//! every one of them under a new master key, values sealed before key ids included.

use idv_server::{
    crypto::{at, Sealer},
    services::tenant,
    store::SealedCell,
};
use secrecy::ExposeSecret;
use serde_json::json;

use crate::both_worlds;
use crate::world::{World, FS_KEY, TENANT};

fn keys_rotate(w: &World, old: &str, new: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["keys", "rotate"])
        .env("DATABASE_URL", &w.db_url)
        .env("IDV_MASTER_KEY", old)
        .env("IDV_NEW_MASTER_KEY", new)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

async fn cells(w: &World) -> Vec<SealedCell> {
    let mut tx = w.app.state.services.core.store().begin().await.unwrap();
    tx.sealed_cells().await.unwrap()
}

both_worlds!(
    keys_rotate_reseals_every_sealed_value_and_the_old_key_no_longer_opens_them,
    rotation
);
async fn rotation(w: World) {
    let res = w
        .post(
            "/api/v1/contacts/11/verifications",
            json!({"requested_by": "rep@example.com"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let v: serde_json::Value = res.json().await.unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    w.until_crm("the contact's fields", |fs| {
        fs.contact(crate::world::ALIAS, 11).unwrap()["custom_field"]["cf_idv_status"] == "pending"
    })
    .await;
    // A value sealed before key ids existed (no key id, no place) still opens...
    let old = Sealer::from_base64(&w.master_key.clone().into()).unwrap();
    sqlx::query("UPDATE verifications SET requested_by_sealed = $1 WHERE id = $2")
        .bind(old.seal_v1("legacy@example.com"))
        .bind(&id)
        .execute(w.app.state.services.core.store().pool())
        .await
        .unwrap();
    let view = w.json(&format!("/api/v1/verifications/{id}")).await;
    assert_eq!(view["requested_by"], "legacy@example.com");

    let before = cells(&w).await;
    assert!(
        before.len() >= 6,
        "tenant secrets, links and queued writes: {}",
        before.len()
    );
    assert!(before
        .iter()
        .all(|c| old.open(at(c.table, c.seal, &c.row), &c.value).is_ok()));

    // A wrong old key changes nothing.
    let stranger = Sealer::generate_key();
    let new_key = Sealer::generate_key();
    let refused = keys_rotate(&w, &stranger, &new_key);
    assert!(!refused.status.success());
    let unchanged = cells(&w).await;
    assert_eq!(
        unchanged.iter().map(|c| &c.value).collect::<Vec<_>>(),
        before.iter().map(|c| &c.value).collect::<Vec<_>>()
    );

    let out = keys_rotate(&w, &w.master_key, &new_key);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        stdout.starts_with(&format!("{} value(s) re-sealed", before.len())),
        "{stdout}"
    );
    let new = Sealer::from_base64(&new_key.clone().into()).unwrap();
    let after = cells(&w).await;
    assert_eq!(after.len(), before.len());
    for c in &after {
        let place = at(c.table, c.seal, &c.row);
        assert!(
            new.is_current(&c.value),
            "{}.{} is under the new key",
            c.table,
            c.column
        );
        assert!(new.open(place, &c.value).is_ok());
        assert!(
            old.open(place, &c.value).is_err(),
            "the old key opens {}.{}",
            c.table,
            c.column
        );
    }
    // The data still reads, under the new key only.
    let t = tenant::load(w.app.state.services.core.store(), &new, TENANT)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.crm_key().unwrap().expose_secret(), FS_KEY);
    let t_old = tenant::load(w.app.state.services.core.store(), &old, TENANT)
        .await
        .unwrap()
        .unwrap();
    assert!(t_old.crm_key().is_none());
    // The pending session's CRM names (what a BlockID document is compared with) too.
    assert!(
        after
            .iter()
            .any(|c| c.column == "expected_holder_sealed" && c.row == id),
        "the pending session's expected holder is re-sealed"
    );
    let legacy = after
        .iter()
        .find(|c| c.column == "requested_by_sealed" && c.row == id)
        .unwrap();
    assert_eq!(
        new.open(
            at("verifications", "requested_by_sealed", &id),
            &legacy.value
        )
        .unwrap()
        .expose_secret(),
        "legacy@example.com"
    );
    // Run again with the new key as the old: nothing left to do.
    let again = keys_rotate(&w, &new_key, &Sealer::generate_key());
    assert!(again.status.success());
}

both_worlds!(
    a_sealed_secret_copied_to_another_tenant_row_does_not_open,
    copied_secret
);
async fn copied_secret(w: World) {
    let store = w.app.state.services.core.store();
    store
        .insert_tenant("other", "Other", "hash-other")
        .await
        .unwrap();
    sqlx::query(
        "UPDATE tenants SET crm_key_sealed = (SELECT crm_key_sealed FROM tenants WHERE id = $1), \
         crm_base_url = (SELECT crm_base_url FROM tenants WHERE id = $1) WHERE id = $2",
    )
    .bind(TENANT)
    .bind("other")
    .execute(store.pool())
    .await
    .unwrap();
    let sealer = w.app.services().core.sealer();
    let mine = tenant::load(store, sealer, TENANT).await.unwrap().unwrap();
    assert_eq!(mine.crm_key().unwrap().expose_secret(), FS_KEY);
    let copied = tenant::load(store, sealer, "other").await.unwrap().unwrap();
    assert!(
        copied.crm_key().is_none(),
        "a value sealed for one row opens for no other"
    );
}
