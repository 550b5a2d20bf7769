//! A HubSpot account installs the app by OAuth: the admin's grant becomes a tenant with its
//! tokens sealed, a forged install link is refused before its code is spent, and the access
//! token is refreshed before it ends, by one replica only.

use std::time::Duration;

use idv_server::{
    domain::app_contract::contract,
    ports::{CrmAuth, CrmKind},
    services::tenant::{self, TenantRow},
    sim::hubspot::HubSpotFaults,
    testkit::HUBSPOT_PORTAL,
};
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::{
    both_worlds,
    world::{test_settings, World},
};

const TENANT_ID: &str = "hubspot-7310001";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(res: &reqwest::Response) -> url::Url {
    let to = res.headers()["location"].to_str().unwrap();
    url::Url::parse(to).unwrap()
}

fn query(u: &url::Url, key: &str) -> Option<String> {
    u.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// The admin opens the install link: the backend's redirect, the state cookie it set, and
/// where HubSpot (the twin, granting at once) sends the browser back.
async fn begin(w: &World) -> (url::Url, String, url::Url) {
    let http = no_redirects();
    let res = http.get(w.url("/hubspot/v1/install")).send().await.unwrap();
    assert_eq!(res.status(), 302);
    let authorize = location(&res);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    let granted = http.get(authorize.clone()).send().await.unwrap();
    assert!(granted.status().is_redirection(), "the twin grants at once");
    let back = location(&granted);
    (authorize, cookie, back)
}

/// The browser comes back to the callback with its cookie.
async fn finish(back: &url::Url, cookie: Option<&str>) -> reqwest::Response {
    let mut req = no_redirects().get(back.clone());
    if let Some(c) = cookie {
        req = req.header("cookie", c.split(';').next().unwrap());
    }
    req.send().await.unwrap()
}

async fn hubspot_tenant(w: &World) -> Option<TenantRow> {
    tenant::load(&w.app.state.store, &w.app.engine().sealer, TENANT_ID)
        .await
        .unwrap()
}

fn access_token(t: &TenantRow) -> (String, i64) {
    let Some(CrmAuth::OAuth(tokens)) = t.crm.as_ref().map(|c| &c.auth) else {
        panic!("an OAuth connection: {t:?}");
    };
    (
        tokens
            .access_token
            .as_ref()
            .unwrap()
            .expose_secret()
            .to_string(),
        tokens.expires_at_ms.unwrap(),
    )
}

fn now_ms() -> i64 {
    idv_server::clock::now_ms()
}

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
    .fetch_one(w.app.state.store.pool())
    .await
    .unwrap();
    assert!(!access_sealed.contains(&access) && !refresh_sealed.contains("hs-refresh"));

    // The operator connects the identity provider to the account's tenant; no API token is
    // made for it (the card's calls are signed by HubSpot).
    let cli = |id: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .args([
                "tenant",
                "add",
                "HubSpot portal",
                "--id",
                id,
                "--kosmos-url",
            ])
            .arg(w.twins.kosmos_url())
            .env("DATABASE_URL", &w.db_url)
            .env("IDV_MASTER_KEY", &w.master_key)
            .env("IDV_KOSMOS_API_KEY", crate::world::KS_KEY)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
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
        .fetch_one(w.app.state.store.pool())
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

async fn install_with_lifetime(w: &World, secs: u64) {
    w.twins.hubspot.set_expires_in(secs);
    let (_, cookie, back) = begin(w).await;
    assert_eq!(finish(&back, Some(&cookie)).await.status(), 200);
    w.twins.hubspot.set_expires_in(1800);
}

/// A second replica on the same database, registered as the same HubSpot app.
async fn other_replica(w: &World) -> idv_server::services::Engine {
    let store = idv_server::Store::connect(&w.db_url).await.unwrap();
    let sealer = idv_server::crypto::Sealer::from_base64(&w.master_key.clone().into()).unwrap();
    let mut settings = test_settings();
    settings.oauth_app = Some(w.twins.hubspot_app());
    idv_server::wire_engine(store, sealer, settings)
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
        a.tenants.refresh_due_tokens(MARGIN, lease),
        b.tenants.refresh_due_tokens(MARGIN, lease)
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
        replica.tenants.forget(TENANT_ID);
        let t = replica.tenants.get(TENANT_ID).await.unwrap().unwrap();
        assert_eq!(access_token(&t).0, after);
    }
    // Far from its end, it is left alone.
    assert_eq!(
        a.tenants.refresh_due_tokens(MARGIN, lease).await.unwrap(),
        0
    );
    assert_eq!(w.twins.hubspot.refreshes(), 1);

    // Two replicas that both read the token as due before either took it: one lease only.
    install_with_lifetime(&w, 60).await;
    let now = now_ms();
    let horizon = now + MARGIN.as_millis() as i64;
    let seen_a = a.store.crm_tokens_due(horizon, now).await.unwrap();
    let seen_b = b.store.crm_tokens_due(horizon, now).await.unwrap();
    assert_eq!(seen_a, seen_b);
    let (id, ends) = seen_a.into_iter().next().expect("the token is due");
    let until = now + 30_000;
    let took_a = a
        .store
        .claim_token_refresh(&id, ends, now, until)
        .await
        .unwrap();
    let took_b = b
        .store
        .claim_token_refresh(&id, ends, now, until)
        .await
        .unwrap();
    assert!(took_a ^ took_b, "exactly one replica holds the refresh");
    // While the lease lasts, neither replica refreshes it again.
    assert_eq!(
        b.tenants.refresh_due_tokens(MARGIN, lease).await.unwrap(),
        0
    );
    assert_eq!(
        a.tenants.refresh_due_tokens(MARGIN, lease).await.unwrap(),
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
    let _ = replica.tenants.refresh_due_tokens(MARGIN, lease).await;
    assert_eq!(access_token(&hubspot_tenant(&w).await.unwrap()).0, before);
    // HubSpot is back and rotates refresh tokens: the next try, after the lease, succeeds and
    // keeps the refresh token HubSpot gave.
    w.twins.hubspot.set_faults(HubSpotFaults {
        rotate_refresh: true,
        ..Default::default()
    });
    let mut after = before.clone();
    for _ in 0..40 {
        let _ = replica.tenants.refresh_due_tokens(MARGIN, lease).await;
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

/// Posts a batch signed v3 for `signed_uri` (HubSpot's view of the URL) at `at`.
async fn post_batch(
    w: &World,
    events: &Value,
    signed_uri: &str,
    at: i64,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let body = serde_json::to_vec(events).unwrap();
    let sig = idv_server::adapters::hubspot::signature::sign_v3(
        idv_server::testkit::HUBSPOT_CLIENT_SECRET,
        "POST",
        signed_uri,
        &body,
        &at.to_string(),
    );
    let mut req = reqwest::Client::new()
        .post(w.url("/hubspot/v1/webhooks"))
        .header("content-type", "application/json")
        .header("x-hubspot-signature-v3", sig)
        .header("x-hubspot-request-timestamp", at.to_string());
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    req.body(body).send().await.unwrap()
}

fn event(id: u64, kind: &str, object: u64, portal: u64) -> Value {
    json!({"eventId": id, "subscriptionId": 9, "portalId": portal, "appId": 7001,
        "occurredAt": 1_700_000_000_000_i64 + id as i64, "subscriptionType": kind,
        "attemptNumber": 0, "objectId": object, "changeSource": "CRM"})
}

both_worlds!(
    hubspot_webhook_batches_are_verified_recorded_once_and_a_privacy_deletion_erases_the_contact,
    webhooks
);
async fn webhooks(w: World) {
    install_with_lifetime(&w, 1800).await;
    let uri = w.url("/hubspot/v1/webhooks");
    let batch = json!([
        event(1, "contact.privacyDeletion", 11, HUBSPOT_PORTAL),
        event(2, "contact.creation", 12, HUBSPOT_PORTAL),
        event(3, "contact.creation", 13, 999),
        event(4, "company.creation", 5, HUBSPOT_PORTAL),
    ]);
    let res = post_batch(&w, &batch, &uri, now_ms(), &[]).await;
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["accepted"], 2, "{answer}");
    assert_eq!(
        answer["ignored"], 2,
        "another portal, another kind: {answer}"
    );
    // The erasure is audited; nothing is queued for a contact HubSpot no longer has.
    let store = w.app.state.store.pool();
    let erased: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE tenant_id = $1 AND action = 'contact_forgotten' AND subject = 'contact:11'",
    )
    .bind(TENANT_ID)
    .fetch_one(store)
    .await
    .unwrap();
    assert_eq!(erased, 1);
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sync_outbox WHERE tenant_id = $1")
        .bind(TENANT_ID)
        .fetch_one(store)
        .await
        .unwrap();
    assert_eq!(queued, 0);

    // HubSpot sends it again (a retry): nothing is done twice.
    let res = post_batch(&w, &batch, &uri, now_ms(), &[]).await;
    let answer: Value = res.json().await.unwrap();
    assert_eq!(
        (answer["accepted"].clone(), answer["duplicates"].clone()),
        (json!(0), json!(2))
    );

    // Behind a proxy, HubSpot signed the public URL the proxy received.
    let proxied = json!([event(5, "contact.creation", 14, HUBSPOT_PORTAL)]);
    let res = post_batch(
        &w,
        &proxied,
        "https://idv.example.com/hubspot/v1/webhooks",
        now_ms(),
        &[
            ("x-forwarded-host", "idv.example.com"),
            ("x-forwarded-proto", "https"),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);

    // Forged, stale and unsigned batches are refused and change nothing.
    let fresh = json!([event(6, "contact.privacyDeletion", 12, HUBSPOT_PORTAL)]);
    let forged = post_batch(
        &w,
        &fresh,
        "https://elsewhere.example/hubspot/v1/webhooks",
        now_ms(),
        &[],
    )
    .await;
    assert_eq!(forged.status(), 401);
    let stale = post_batch(&w, &fresh, &uri, now_ms() - 6 * 60 * 1000, &[]).await;
    assert_eq!(stale.status(), 401);
    let unsigned = reqwest::Client::new()
        .post(&uri)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&fresh).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    let body: Value = unsigned.json().await.unwrap();
    assert!(body["message"].as_str().is_some(), "{body}");
    let erased_12: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'contact_forgotten' AND subject = 'contact:12'",
    )
    .fetch_one(store)
    .await
    .unwrap();
    assert_eq!(erased_12, 0);
    // Signed, but not a batch of events: a precise 400.
    let res = post_batch(&w, &json!({"eventId": 1}), &uri, now_ms(), &[]).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("JSON array"),
        "{body}"
    );
}

/// A `hubspot.fetch` call as HubSpot's proxy makes it: the query it appends, signed v3.
async fn card_call(
    w: &World,
    method: &str,
    path_and_query: &str,
    body: Option<&Value>,
    at: i64,
    tamper: impl FnOnce(String) -> String,
) -> reqwest::Response {
    let url = w.url(path_and_query);
    let bytes = body
        .map(|b| serde_json::to_vec(b).unwrap())
        .unwrap_or_default();
    let sig = idv_server::adapters::hubspot::signature::sign_v3(
        idv_server::testkit::HUBSPOT_CLIENT_SECRET,
        method,
        &url,
        &bytes,
        &at.to_string(),
    );
    let sent = tamper(url);
    let http = reqwest::Client::new();
    let mut req = if method == "GET" {
        http.get(&sent)
    } else {
        http.post(&sent)
            .header("content-type", "application/json")
            .body(bytes)
    };
    req = req
        .header("x-hubspot-signature-v3", sig)
        .header("x-hubspot-request-timestamp", at.to_string());
    req.send().await.unwrap()
}

/// A card's POST, signed now.
async fn card_post(w: &World, path_and_query: &str, body: &Value) -> reqwest::Response {
    card_call(w, "POST", path_and_query, Some(body), now_ms(), |u| u).await
}

const CARD_QUERY: &str = "appId=7001&portalId=7310001&userId=42&userEmail=rep%40example.com";

both_worlds!(
    the_card_reads_a_contact_for_the_account_hubspot_signed_for_and_nothing_else,
    card
);
async fn card(w: World) {
    install_with_lifetime(&w, 1800).await;
    // A contact the backend does not know is looked up in the CRM first; HubSpot's records
    // are not read yet, so the card is told precisely that it is not known.
    let unknown = format!("/hubspot/v1/card/contacts/12?{CARD_QUERY}");
    let res = card_call(&w, "GET", &unknown, None, now_ms(), |u| u).await;
    assert_eq!(res.status(), 404);
    // One the backend knows is read from its own records.
    w.app
        .state
        .store
        .upsert_contact(TENANT_ID, 11, false)
        .await
        .unwrap();
    let path = format!("/hubspot/v1/card/contacts/11?{CARD_QUERY}");
    let res = card_call(&w, "GET", &path, None, now_ms(), |u| u).await;
    let code = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(code, 200, "{text}");
    let status: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(status["contact_id"], 11);
    assert_eq!(status["status"], "not_verified");

    // Another account's id put into a signed URL: the signature no longer matches.
    let res = card_call(&w, "GET", &path, None, now_ms(), |u| {
        u.replace("portalId=7310001", "portalId=7310002")
    })
    .await;
    assert_eq!(res.status(), 401);
    // A recorded call replayed later, or with only the timeless v2 signature: refused.
    let res = card_call(&w, "GET", &path, None, now_ms() - 6 * 60 * 1000, |u| u).await;
    assert_eq!(res.status(), 401);
    let url = w.url(&path);
    let v2 = idv_server::adapters::hubspot::signature::sign_v2(
        idv_server::testkit::HUBSPOT_CLIENT_SECRET,
        "GET",
        &url,
        b"",
    );
    let res = reqwest::Client::new()
        .get(&url)
        .header("x-hubspot-signature", v2)
        .header("x-hubspot-signature-version", "v2")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // Signed by HubSpot, but for an account that has not installed the app, or another app.
    for query in [
        "appId=7001&portalId=5&userId=42",
        "appId=9&portalId=7310001&userId=42",
    ] {
        let path = format!("/hubspot/v1/card/contacts/11?{query}");
        let res = card_call(&w, "GET", &path, None, now_ms(), |u| u).await;
        assert_eq!(res.status(), 403, "{query}");
    }

    // The body never names the account or the user: a body that tries is refused.
    let start = format!("/hubspot/v1/card/contacts/11/verifications?{CARD_QUERY}");
    let res = card_call(
        &w,
        "POST",
        &start,
        Some(&json!({"portalId": 1, "idempotency_key": "k1"})),
        now_ms(),
        |u| u,
    )
    .await;
    assert_eq!(res.status().as_u16() / 100, 4);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("portalId"),
        "{body}"
    );
    // Another account's session (the Freshsales tenant's) cannot be resent from this card.
    let theirs = w.start_idv(11).await;
    let id = theirs["id"].as_str().unwrap();
    let resend = format!("/hubspot/v1/card/verifications/{id}/resend?{CARD_QUERY}");
    let res = card_post(&w, &resend, &json!({"idempotency_key": "r1"})).await;
    assert_eq!(res.status(), 404);
    // A well-formed start gets a precise answer (never a 500).
    let res = card_post(&w, &start, &json!({"idempotency_key": "k1"})).await;
    assert!(
        res.status().is_client_error() || res.status().is_success(),
        "{}",
        res.status()
    );
    let body: Value = res.json().await.unwrap();
    assert!(body.is_object(), "{body}");
}
