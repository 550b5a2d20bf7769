//! `/metrics` is the operator's: served only on `IDV_OPS_BIND`, from counters and gauges that
//! a scrape reads without touching the database.

use crate::both_worlds;
use crate::world::World;

both_worlds!(
    metrics_are_served_on_the_operator_address_and_not_on_the_public_one,
    operator_only
);
async fn operator_only(w: World) {
    let public = w.http.get(w.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404, "the public address has no /metrics");
    assert_ne!(w.app.ops_addr.port(), w.app.addr.port());
    let ops = w
        .http
        .get(format!("{}/metrics", w.app.ops_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(ops.status(), 200);
    assert!(ops.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = ops.text().await.unwrap();
    for line in [
        "idv_results_total 0",
        "idv_outbox_rows{state=\"pending\"}",
        "idv_http_requests_total{class=\"4xx\"} 1",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
}

both_worlds!(
    a_metrics_scrape_answers_from_memory_without_the_database,
    no_query_per_scrape
);
async fn no_query_per_scrape(w: World) {
    let v = w.start_idv(11).await;
    assert_eq!(v.state.as_str(), "pending");
    // The gauges follow the rows: the pending session shows without a query per scrape.
    let url = format!("{}/metrics", w.app.ops_url());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let text = w.http.get(&url).send().await.unwrap().text().await.unwrap();
        if text.contains("idv_sessions{kind=\"idv\",state=\"pending\"} 1") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{text}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // With the database gone, a scrape still answers: it reads no rows.
    w.app.state.services.core.store().close().await;
    let res = w.http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("idv_results_total"));
}

both_worlds!(
    metrics_count_the_tenants_whose_setup_is_incomplete,
    incomplete_setups
);
async fn incomplete_setups(w: World) {
    use idv_server::{domain::setup::CONTACT_FIELDS, sim::freshsales::def_of};

    use crate::world::{ALIAS, FS_KEY};

    let url = format!("{}/metrics", w.app.ops_url());
    let scrape = || async { w.http.get(&url).send().await.unwrap().text().await.unwrap() };
    let text = scrape().await;
    assert!(text.contains("idv_tenants_setup_incomplete 0\n"), "{text}");

    // An install into an account that lacks the app's fields counts at once.
    w.fs.unprovision(ALIAS);
    let res = w
        .install(
            FS_KEY,
            &serde_json::json!({"account_url": w.account_url(), "policy": {}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let text = scrape().await;
    assert!(text.contains("idv_tenants_setup_incomplete 1\n"), "{text}");

    // The admin creates the fields; the periodic check finds the set-up complete.
    for f in CONTACT_FIELDS {
        w.fs.add_contact_field(ALIAS, def_of(f));
    }
    let engine = w.app.services().clone();
    assert_eq!(engine.setup.recheck_incomplete_setups().await.unwrap(), 1);
    let text = scrape().await;
    assert!(text.contains("idv_tenants_setup_incomplete 0\n"), "{text}");

    // Incomplete again, then the scrape answers from memory with the database gone.
    w.fs.unprovision(ALIAS);
    engine
        .setup
        .check_setup(
            &engine
                .core
                .tenants()
                .get(crate::world::TENANT)
                .await
                .unwrap()
                .unwrap(),
        )
        .await
        .unwrap();
    w.app.state.services.core.store().close().await;
    let text = scrape().await;
    assert!(text.contains("idv_tenants_setup_incomplete 1\n"), "{text}");
}
