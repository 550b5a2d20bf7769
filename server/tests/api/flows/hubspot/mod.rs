//! A HubSpot account installs the app by OAuth and works through it: the admin's grant becomes
//! a tenant with its tokens sealed, signed webhooks start verifications, results land on the
//! contact's properties, gated deals are moved back, and the card's signed calls are answered
//! for the account HubSpot signed for only.

mod actions;
mod card;
mod install;
mod records;
mod webhooks;
mod widget;

use idv_server::{
    ports::CrmAuth,
    services::tenant::{self, TenantRow},
};
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::world::{test_settings, World};

const TENANT_ID: &str = "hubspot-7310001";

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn location(res: &reqwest::Response) -> url::Url {
    let to = res.headers()["location"].to_str().unwrap();
    url::Url::parse(to).unwrap()
}

pub fn query(u: &url::Url, key: &str) -> Option<String> {
    u.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// The admin opens the install link: the backend's redirect, the state cookie it set, and
/// where HubSpot (the twin, granting at once) sends the browser back.
pub async fn begin(w: &World) -> (url::Url, String, url::Url) {
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
pub async fn finish(back: &url::Url, cookie: Option<&str>) -> reqwest::Response {
    let mut req = no_redirects().get(back.clone());
    if let Some(c) = cookie {
        req = req.header("cookie", c.split(';').next().unwrap());
    }
    req.send().await.unwrap()
}

pub async fn hubspot_tenant(w: &World) -> Option<TenantRow> {
    tenant::load(
        w.app.state.services.core.store(),
        w.app.services().core.sealer(),
        TENANT_ID,
    )
    .await
    .unwrap()
}

pub fn access_token(t: &TenantRow) -> (String, i64) {
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

pub fn now_ms() -> i64 {
    idv_server::clock::now_ms()
}

pub async fn install_with_lifetime(w: &World, secs: u64) {
    w.twins.hubspot.set_expires_in(secs);
    let (_, cookie, back) = begin(w).await;
    assert_eq!(finish(&back, Some(&cookie)).await.status(), 200);
    w.twins.hubspot.set_expires_in(1800);
}

/// A second replica on the same database, registered as the same HubSpot app.
pub async fn other_replica(w: &World) -> idv_server::services::Services {
    let store = idv_server::Store::connect(&w.db_url).await.unwrap();
    let sealer = idv_server::crypto::Sealer::from_base64(&w.master_key.clone().into()).unwrap();
    let mut settings = test_settings();
    settings.oauth_app = Some(w.twins.hubspot_app());
    idv_server::wire_services(store, sealer, settings)
}

/// Posts a batch signed v3 for `signed_uri` (HubSpot's view of the URL) at `at`.
pub async fn post_batch(
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

pub fn event(id: u64, kind: &str, object: u64, portal: u64) -> Value {
    json!({"eventId": id, "subscriptionId": 9, "portalId": portal, "appId": 7001,
        "occurredAt": 1_700_000_000_000_i64 + id as i64, "subscriptionType": kind,
        "attemptNumber": 0, "objectId": object, "changeSource": "CRM"})
}

/// A `hubspot.fetch` call as HubSpot's proxy makes it: the query it appends, signed v3.
pub async fn card_call(
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
pub async fn card_post(w: &World, path_and_query: &str, body: &Value) -> reqwest::Response {
    card_call(w, "POST", path_and_query, Some(body), now_ms(), |u| u).await
}

pub const CARD_QUERY: &str = "appId=7001&portalId=7310001&userId=42&userEmail=rep%40example.com";

/// The operator connects the identity provider to a tenant (`server tenant add --id …`).
pub fn connect_provider(w: &World, id: &str) -> std::process::Output {
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
        .env("IDV_KOSMOS_WEBHOOK_SECRET", crate::world::KS_SECRET)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}
