//! Ten changes to a contact cost one CRM write.

use std::time::Duration;

use idv_server::services::Policy;
use serde_json::json;

use crate::{
    both,
    helpers::Db,
    world::{spawn_world_with, test_settings, ALIAS},
};

both!(ten_changes_cost_one_contact_write, coalescing);
async fn coalescing(db: Db) {
    let settings = idv_server::services::Settings {
        coalesce: Duration::from_secs(5),
        ..test_settings()
    };
    let Some(w) = spawn_world_with(db, settings, Policy::default()).await else {
        return;
    };
    // Ten starts and cancels in quick succession: each changes the contact's fields.
    for _ in 0..5 {
        let v = w.start_idv(12).await;
        let res = w
            .post(
                &format!("/api/v1/verifications/{}/cancel", v.id.as_str()),
                json!({}),
            )
            .await;
        assert_eq!(res.status(), 200);
    }
    w.until_crm("the contact write", |fs| {
        fs.with(ALIAS, |a| {
            a.calls
                .iter()
                .any(|c| c.method == "PUT" && c.path.ends_with("/contacts/12"))
        })
        .unwrap()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        w.crm_calls("PUT", "/contacts/12"),
        1,
        "ten changes, one PUT"
    );
}
