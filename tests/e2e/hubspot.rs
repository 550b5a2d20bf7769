//! The HubSpot side of the demo in real headless Chromium: an admin installs the app from the
//! install link, and a rep opens the full widget from a contact's card (its modal), starts a
//! verification, and the customer's pass lands on the HubSpot contact's properties.

use std::time::Duration;

use idv_e2e::{enabled, start_demo, Browser};
use idv_server::{adapters::hubspot::signature::sign_v3, testkit::HUBSPOT_CLIENT_SECRET};
use serde_json::{json, Value};

use super::wait_for;

const CARD_QUERY: &str = "appId=7001&portalId=7310001&userId=42&userEmail=rep%40demo.example";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_string()
}

/// The admin's install: the backend's redirect, HubSpot's grant (the twin grants at once), the
/// callback with the browser's state cookie.
async fn install(demo_url: &str) -> anyhow::Result<String> {
    let http = no_redirects();
    let res = http
        .get(format!("{demo_url}/hubspot/v1/install"))
        .send()
        .await?;
    let cookie = res.headers()["set-cookie"]
        .to_str()?
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let granted = http.get(location(&res)).send().await?;
    let back = location(&granted);
    let page = http.get(back).header("cookie", cookie).send().await?;
    anyhow::ensure!(
        page.status() == 200,
        "the install failed: {}",
        page.status()
    );
    Ok(page.text().await?)
}

/// A card call as `hubspot.fetch` makes it: signed v3 over the demo's URL (its public one).
async fn card_post(demo_url: &str, path: &str, body: &Value) -> anyhow::Result<Value> {
    let bytes = serde_json::to_vec(body)?;
    let at = idv_server::clock::now_ms().to_string();
    let sig = sign_v3(
        HUBSPOT_CLIENT_SECRET,
        "POST",
        &format!("{demo_url}{path}"),
        &bytes,
        &at,
    );
    let res = reqwest::Client::new()
        .post(format!("{demo_url}{path}"))
        .header("content-type", "application/json")
        .header("x-hubspot-signature-v3", sig)
        .header("x-hubspot-request-timestamp", at)
        .body(bytes)
        .send()
        .await?;
    let status = res.status();
    let answer: Value = res.json().await?;
    anyhow::ensure!(status.is_success(), "{path}: {status} {answer}");
    Ok(answer)
}

#[tokio::test]
async fn a_rep_verifies_a_hubspot_contact_from_the_cards_modal() -> anyhow::Result<()> {
    if !enabled() {
        return Ok(());
    }
    let demo = start_demo().await?;
    let url = demo.url();
    let page = install(&url).await?;
    assert!(
        page.contains("Installed on HubSpot account 7310001"),
        "{page}"
    );
    assert!(
        page.contains("property group Identity Verification"),
        "{page}"
    );

    // Grace Hopper, as the demo's portal holds her.
    let contact = demo
        .hubspot
        .with_records(|r| {
            r.contacts
                .iter()
                .find(|(_, p)| p.get("email") == Some(&json!("grace@cobol.example")))
                .map(|(id, _)| *id)
        })
        .expect("the demo's portal holds Grace");
    let link = card_post(
        &url,
        &format!("/hubspot/v1/card/widget-link?{CARD_QUERY}"),
        &json!({"object_type": "contacts", "object_id": contact.to_string()}),
    )
    .await?;
    let modal = link["url"].as_str().unwrap().to_string();

    // The modal's page, at a modal's size.
    let browser = Browser::start(640, 760).await?;
    let c = &browser.client;
    c.goto(&modal).await?;
    wait_for(c, "[data-testid=idv-badge]").await?;
    browser.screenshot("hubspot-modal-1-opened.png").await?;
    wait_for(c, ".actions .btn-primary").await?.click().await?;
    wait_for(c, "[data-testid=idv-form] button[type=submit]")
        .await?
        .click()
        .await?;
    let hosted = wait_for(c, "[data-testid=idv-link-panel] input.link")
        .await?
        .prop("value")
        .await?
        .unwrap_or_default();
    assert!(hosted.contains("/hosted/verify/"), "{hosted}");
    wait_for(c, "[data-testid=idv-badge].badge-pending").await?;
    browser.screenshot("hubspot-modal-2-link.png").await?;
    // The ticket in the modal's URL opened it once; it opens nothing again.
    assert_eq!(reqwest::get(&modal).await?.status(), 401);

    // The customer passes on the (simulated) 1Kosmos page.
    c.goto(&hosted).await?;
    wait_for(c, "[data-testid=approve]").await?.click().await?;
    wait_for(c, "[data-testid=session-state]").await?;

    // The result lands on the HubSpot contact's properties.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let status = demo
            .hubspot
            .with_records(|r| r.contacts[&contact].get("idv_status").cloned());
        if status == Some(json!("verified")) {
            break;
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the HubSpot contact never got its result: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A new modal shows the contact verified.
    let again = card_post(
        &url,
        &format!("/hubspot/v1/card/widget-link?{CARD_QUERY}"),
        &json!({"object_type": "contacts", "object_id": contact.to_string()}),
    )
    .await?;
    c.goto(again["url"].as_str().unwrap()).await?;
    wait_for(c, "[data-testid=idv-badge].badge-verified").await?;
    browser.screenshot("hubspot-modal-3-verified.png").await?;
    browser.close().await?;
    demo.stop().await
}
