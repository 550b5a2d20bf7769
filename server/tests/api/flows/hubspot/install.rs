//! Installing by OAuth: the grant becomes a tenant, a forged callback is refused before its
//! code is spent, and the access token is refreshed before it ends, by one replica only.

use std::time::Duration;

use idv_server::{
    domain::app_contract::contract,
    ports::{CrmAuth, CrmKind},
    sim::hubspot::HubSpotFaults,
    testkit::HUBSPOT_PORTAL,
};
use serde_json::{json, Value};

use super::*;
use crate::both_worlds;

both_worlds!(
    an_admin_installs_from_hubspot_and_the_account_becomes_a_tenant_with_its_tokens_sealed,
    installs
);
async fn installs(w: World) {
    let (authorize, cookie, back) = begin(&w).await;
    // HubSpot's authorize page gets the app, the scopes of the project and a state that the
    // browser's cookie holds.
    assert_eq!(
        query(&authorize, "client_id").as_deref(),
        Some("hs-client-id")
    );
    assert_eq!(
        query(&authorize, "redirect_uri").unwrap(),
        w.url(&contract().paths.oauth_redirect)
    );
    assert_eq!(w.twins.hubspot.asked_scopes(), contract().scopes.required);
    let state = query(&authorize, "state").unwrap();
    assert!(state.len() >= 32, "{state}");
    assert!(
        cookie.starts_with(&format!("idv_hubspot_state={state};")),
        "{cookie}"
    );
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    let res = finish(&back, Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(
        page.contains(&format!("Installed on HubSpot account {HUBSPOT_PORTAL}")),
        "{page}"
    );
    assert!(
        page.contains("identity provider"),
        "what the operator must connect: {page}"
    );
    // What the install made in the account, in HubSpot's words.
    for made in [
        "property group Identity Verification",
        "contact property IDV Status",
        "list Identity not verified",
    ] {
        assert!(page.contains(made), "{made}: {page}");
    }

    let t = hubspot_tenant(&w).await.expect("the account's tenant");
    assert_eq!(t.crm_kind, CrmKind::Hubspot);
    assert!(t.installed);
    let (access, ends) = access_token(&t);
    assert!(
        w.twins.hubspot.access_valid(&access),
        "the token HubSpot gave"
    );
    let lifetime = ends - now_ms();
    assert!(
        (1_700_000..=1_800_000).contains(&lifetime),
        "the lifetime HubSpot gave (1800 s), not an assumed one: {lifetime} ms"
    );
    assert_eq!(w.twins.hubspot.exchanges(), 1);
    // Nothing readable of the tokens is stored.
    let (refresh_sealed, access_sealed): (String, String) = sqlx::query_as(
        "SELECT crm_refresh_token_sealed, crm_access_token_sealed FROM tenants WHERE id = $1",
    )
    .bind(TENANT_ID)
    .fetch_one(w.app.state.services.core.store().pool())
    .await
    .unwrap();
    assert!(!access_sealed.contains(&access) && !refresh_sealed.contains("hs-refresh"));

    // The operator connects the identity provider to the account's tenant; no API token is
    // made for it (the card's calls are signed by HubSpot).
    let cli = |id: &str| connect_provider(&w, id);
    let out = cli(TENANT_ID);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains(TENANT_ID) && !printed.contains("API token"),
        "{printed}"
    );
    let t = hubspot_tenant(&w).await.unwrap();
    assert!(t.provider.is_some(), "the provider is connected");
    assert_eq!(
        access_token(&t).0,
        access,
        "the HubSpot grant is left as it was"
    );
    assert!(!cli("hubspot-1").status.success(), "no such tenant");

    // Installing again (a second admin) updates the same tenant with the new grant; nothing
    // is missing any more.
    let (_, cookie, back) = begin(&w).await;
    let res = finish(&back, Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Everything is connected"), "{page}");
    let again = hubspot_tenant(&w).await.unwrap();
    assert_ne!(access_token(&again).0, access, "the newer grant's token");
    let tenants: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants WHERE id LIKE 'hubspot-%'")
        .fetch_one(w.app.state.services.core.store().pool())
        .await
        .unwrap();
    assert_eq!(tenants, 1);
}

both_worlds!(
    a_callback_whose_state_is_not_the_browsers_own_is_refused_before_its_code_is_spent,
    forged
);
async fn forged(w: World) {
    // The attacker begins an install in their browser and stops at the callback; the victim
    // (an admin with an install of their own under way) is sent the attacker's callback link.
    let (_, _, attackers_link) = begin(&w).await;
    let (_, victims_cookie, _) = begin(&w).await;
    for cookie in [Some(victims_cookie.as_str()), None] {
        let res = finish(&attackers_link, cookie).await;
        assert_eq!(res.status(), 403);
        let body: Value = res.json().await.unwrap();
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("/hubspot/v1/install"),
            "{body}"
        );
    }
    assert_eq!(w.twins.hubspot.exchanges(), 0, "no code was traded");
    assert!(hubspot_tenant(&w).await.is_none());

    // A callback without its code, or with HubSpot's refusal, says so.
    let res = no_redirects()
        .get(w.url("/hubspot/v1/oauth/callback?state=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let res = no_redirects()
        .get(w.url(
            "/hubspot/v1/oauth/callback?error=access_denied&error_description=The+user+declined",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("The user declined"),
        "{body}"
    );

    // The Freshworks install cannot connect a HubSpot account with a key.
    let res = w
        .install(
            "some-key",
            &json!({"account_url": w.account_url(), "product": "hubspot"}),
        )
        .await;
    assert_eq!(res.status(), 422);
}

const MARGIN: Duration = Duration::from_secs(300);

both_worlds!(
    an_access_token_is_refreshed_before_it_ends_by_one_replica_only,
    refreshed_once
);
async fn refreshed_once(w: World) {
    // A token that ends in a minute: inside the five minutes before its end.
    install_with_lifetime(&w, 60).await;
    let before = access_token(&hubspot_tenant(&w).await.unwrap()).0;
    let (a, b) = (other_replica(&w).await, other_replica(&w).await);
    let lease = Duration::from_secs(30);
    let (ra, rb) = tokio::join!(
        a.core.tenants().refresh_due_tokens(MARGIN, lease),
        b.core.tenants().refresh_due_tokens(MARGIN, lease)
    );
    assert_eq!(ra.unwrap() + rb.unwrap(), 1);
    assert_eq!(
        w.twins.hubspot.refreshes(),
        1,
        "one refresh token spent once"
    );
    let (after, ends) = access_token(&hubspot_tenant(&w).await.unwrap());
    assert_ne!(after, before);
    assert!(w.twins.hubspot.access_valid(&after));
    assert!(
        ends - now_ms() > 1_700_000,
        "the new token's lifetime as HubSpot gave it"
    );
    // Both replicas read the new token (their caches were dropped or are short).
    for replica in [&a, &b] {
        replica.core.tenants().forget(TENANT_ID);
        let t = replica
            .core
            .tenants()
            .get(TENANT_ID)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(access_token(&t).0, after);
    }
    // Far from its end, it is left alone.
    assert_eq!(
        a.core
            .tenants()
            .refresh_due_tokens(MARGIN, lease)
            .await
            .unwrap(),
        0
    );
    assert_eq!(w.twins.hubspot.refreshes(), 1);

    // Two replicas that both read the token as due before either took it: one lease only.
    install_with_lifetime(&w, 60).await;
    let now = now_ms();
    let horizon = now + MARGIN.as_millis() as i64;
    let seen_a = a.core.store().crm_tokens_due(horizon, now).await.unwrap();
    let seen_b = b.core.store().crm_tokens_due(horizon, now).await.unwrap();
    assert_eq!(seen_a, seen_b);
    let (id, ends) = seen_a.into_iter().next().expect("the token is due");
    let until = now + 30_000;
    let took_a = a
        .core
        .store()
        .claim_token_refresh(&id, ends, now, until)
        .await
        .unwrap();
    let took_b = b
        .core
        .store()
        .claim_token_refresh(&id, ends, now, until)
        .await
        .unwrap();
    assert!(took_a ^ took_b, "exactly one replica holds the refresh");
    // While the lease lasts, neither replica refreshes it again.
    assert_eq!(
        b.core
            .tenants()
            .refresh_due_tokens(MARGIN, lease)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        a.core
            .tenants()
            .refresh_due_tokens(MARGIN, lease)
            .await
            .unwrap(),
        0
    );
    assert_eq!(w.twins.hubspot.refreshes(), 1);
}

both_worlds!(
    a_refresh_that_fails_keeps_the_old_token_and_is_tried_again_once_its_lease_ends,
    refresh_fails
);
async fn refresh_fails(w: World) {
    install_with_lifetime(&w, 60).await;
    let before = access_token(&hubspot_tenant(&w).await.unwrap()).0;
    let replica = other_replica(&w).await;
    let lease = Duration::from_millis(300);
    w.twins.hubspot.set_faults(HubSpotFaults {
        token_status: Some(503),
        ..Default::default()
    });
    let _ = replica
        .core
        .tenants()
        .refresh_due_tokens(MARGIN, lease)
        .await;
    assert_eq!(access_token(&hubspot_tenant(&w).await.unwrap()).0, before);
    // HubSpot is back and rotates refresh tokens: the next try, after the lease, succeeds and
    // keeps the refresh token HubSpot gave.
    w.twins.hubspot.set_faults(HubSpotFaults {
        rotate_refresh: true,
        ..Default::default()
    });
    let mut after = before.clone();
    for _ in 0..40 {
        let _ = replica
            .core
            .tenants()
            .refresh_due_tokens(MARGIN, lease)
            .await;
        after = access_token(&hubspot_tenant(&w).await.unwrap()).0;
        if after != before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_ne!(after, before, "refreshed once HubSpot answered again");
    assert!(w.twins.hubspot.access_valid(&after));
    let t = hubspot_tenant(&w).await.unwrap();
    let Some(CrmAuth::OAuth(tokens)) = t.crm.as_ref().map(|c| &c.auth) else {
        panic!()
    };
    // The rotated refresh token works: one more refresh goes through with it.
    let grant = idv_server::adapters::hubspot::oauth::HubSpotAuthority::new(
        w.twins.hubspot_app(),
        Duration::from_secs(2),
    );
    use idv_server::ports::CrmAuthority;
    assert!(grant.refresh(&tokens.refresh_token).await.is_ok());
}

both_worlds!(
    an_uninstall_revokes_the_grant_and_the_account_starts_nothing_after,
    uninstalled
);
async fn uninstalled(w: World) {
    install_with_lifetime(&w, 1800).await;
    let refresh = {
        let t = hubspot_tenant(&w).await.unwrap();
        let Some(CrmAuth::OAuth(tokens)) = t.crm.as_ref().map(|c| &c.auth) else {
            panic!()
        };
        tokens.refresh_token.expose_secret().to_string()
    };
    let app = w.twins.hubspot_app();
    // The command calls HubSpot (the twin, served by this test's runtime): it runs off the
    // runtime's thread.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.args(["tenant", "uninstall", TENANT_ID])
        .env("DATABASE_URL", &w.db_url)
        .env("IDV_MASTER_KEY", &w.master_key)
        .env("IDV_HUBSPOT_CLIENT_ID", &app.client_id)
        .env(
            "IDV_HUBSPOT_CLIENT_SECRET",
            idv_server::testkit::HUBSPOT_CLIENT_SECRET,
        )
        .env("IDV_HUBSPOT_API_URL", &app.api_url)
        .env("RUST_LOG", "warn");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        w.twins.hubspot.revoked(),
        vec![refresh],
        "the grant is revoked at HubSpot"
    );
    w.app.services().core.tenants().forget(TENANT_ID);
    let t = hubspot_tenant(&w).await.unwrap();
    assert!(!t.installed);
    assert!(
        !matches!(t.crm.as_ref().map(|c| &c.auth), Some(CrmAuth::OAuth(_))),
        "no token is kept: {:?}",
        t.crm.as_ref().map(|c| c.kind)
    );
    // A webhook that arrives after starts nothing.
    let hs = &w.twins.hubspot;
    let contact = hs
        .with_records(|r| r.add_contact(&json!({"firstname": "Ada", "email": "ada@example.com"})));
    let event = hs.event("contact.creation", contact, json!({}));
    hs.send_events(&w.url("/hubspot/v1/webhooks"), &[event], 1)
        .await;
    assert!(w.ks.sessions().is_empty());
}

both_worlds!(
    an_app_uninstalled_in_hubspot_is_uninstalled_here_at_its_next_refresh,
    uninstalled_there
);
async fn uninstalled_there(w: World) {
    install_with_lifetime(&w, 60).await;
    w.twins.hubspot.uninstall_in_hubspot();
    let replica = other_replica(&w).await;
    let _ = replica
        .core
        .tenants()
        .refresh_due_tokens(MARGIN, Duration::from_secs(30))
        .await;
    w.app.services().core.tenants().forget(TENANT_ID);
    let t = hubspot_tenant(&w).await.unwrap();
    assert!(!t.installed, "the account is uninstalled here too");
    let why: String = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE tenant_id = $1 AND action = 'uninstall'",
    )
    .bind(TENANT_ID)
    .fetch_one(w.app.state.services.core.store().pool())
    .await
    .unwrap();
    assert!(why.contains("uninstalled there"), "{why}");
    // Nothing is refreshed for it again.
    assert_eq!(
        replica
            .core
            .tenants()
            .refresh_due_tokens(MARGIN, Duration::from_secs(30))
            .await
            .unwrap(),
        0
    );
}
