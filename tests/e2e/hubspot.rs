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
    // The backend sent the widget's wasm compressed (the build's copy), and the browser read
    // it: the widget above runs on it.
    let wasm = c
        .execute(
            "return performance.getEntriesByType('resource')\
               .filter(e => e.name.endsWith('.wasm'))\
               .map(e => [e.encodedBodySize, e.decodedBodySize]);",
            vec![],
        )
        .await?;
    let (sent, read) = (wasm[0][0].as_f64().unwrap(), wasm[0][1].as_f64().unwrap());
    assert!(
        read > 100_000.0 && sent < read / 2.0,
        "the wasm came {sent} bytes for {read}"
    );
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

/// The customer passes on the (simulated) 1Kosmos page of the newest pending verification.
async fn customer_passes(
    demo: &idv_server::demo::RunningDemo,
    c: &fantoccini::Client,
) -> anyhow::Result<()> {
    let session = demo
        .kosmos
        .sessions()
        .into_iter()
        .filter(|s| s.kind == "idv" && s.status == "pending")
        .max_by_key(|s| s.expires_at_ms)
        .ok_or_else(|| anyhow::anyhow!("no pending verification at the provider"))?;
    c.goto(&format!("{}/hosted/verify/{}", demo.kosmos_url, session.id))
        .await?;
    wait_for(c, "[data-testid=approve]").await?.click().await?;
    wait_for(c, "[data-testid=session-state]").await?;
    Ok(())
}

/// Reloads `page` until `ready` holds for it (the write-back and the card catch up).
async fn until_page(
    c: &fantoccini::Client,
    page: &str,
    what: &str,
    ready: impl Fn(&str) -> bool,
) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        c.goto(page).await?;
        wait_for(c, "[data-testid=idv-badge], [data-testid=idv-gate]").await?;
        let source = c.source().await?;
        if ready(&source) {
            return Ok(());
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "never {what}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn a_rep_verifies_from_the_hubspot_card_steps_up_on_a_deal_and_a_workflow_waits(
) -> anyhow::Result<()> {
    if !enabled() {
        return Ok(());
    }
    let demo = start_demo().await?;
    let url = demo.url();
    install(&url).await?;
    let (deal, contact, other) = demo.hubspot.with_records(|r| {
        let (deal, people) = r.deal_contacts.iter().next().expect("the demo's deal");
        let other = r.contacts.keys().find(|c| !people.contains(c)).copied();
        (*deal, people[0], other.expect("another contact"))
    });
    let browser = Browser::start(1280, 900).await?;
    let c = &browser.client;

    // A rep whose HubSpot speaks German reads the card in German.
    c.goto(&format!("{url}/hubspot/contacts/{other}?locale=de-de"))
        .await?;
    let badge = wait_for(c, "#hubspot-card [data-testid=idv-badge]").await?;
    assert_eq!(badge.text().await?.trim(), "Nicht verifiziert");
    assert_eq!(
        wait_for(c, "#hubspot-card [data-testid=idv-verify]")
            .await?
            .text()
            .await?
            .trim(),
        "Identität prüfen"
    );
    browser.screenshot("hubspot-card-0-german.png").await?;

    // The contact's record in HubSpot: the app's card in the sidebar, not verified yet.
    let page = format!("{url}/hubspot/contacts/{contact}");
    c.goto(&page).await?;
    let badge = wait_for(c, "#hubspot-card [data-testid=idv-badge]").await?;
    assert_eq!(badge.text().await?.trim(), "Not verified");
    browser.screenshot("hubspot-card-1-contact.png").await?;

    // Verify Identity, the link sent by email.
    wait_for(c, "[data-testid=idv-verify]")
        .await?
        .click()
        .await?;
    wait_for(
        c,
        "[data-testid=idv-delivery] select, select[data-testid=idv-delivery]",
    )
    .await?
    .select_by_value("email")
    .await?;
    wait_for(c, "[data-testid=idv-send]").await?.click().await?;
    wait_for(c, "[data-testid=idv-pending]").await?;
    browser.screenshot("hubspot-card-2-pending.png").await?;

    // The customer passes; the card and the contact's properties say so.
    customer_passes(&demo, c).await?;
    until_page(
        c,
        &page,
        "verified on the card and the properties",
        |html| {
            html.contains(">Verified<")
                && html.contains("data-testid=\"prop-idv_status\">verified<")
        },
    )
    .await?;
    browser.screenshot("hubspot-card-3-verified.png").await?;

    // On the deal, Step-Up Auth opens the details in HubSpot's modal: the QR code and its
    // countdown.
    c.goto(&format!("{url}/hubspot/deals/{deal}")).await?;
    wait_for(c, "#hubspot-card [data-testid=idv-gate]").await?;
    wait_for(c, "#hubspot-card [data-testid=idv-stepup]")
        .await?
        .click()
        .await?;
    let frame = wait_for(c, "[data-testid=hs-modal-frame]").await?;
    frame.enter_frame().await?;
    wait_for(c, "[data-testid=idv-stepup] [data-testid=idv-qr] svg").await?;
    let countdown = wait_for(c, "[data-testid=idv-countdown]")
        .await?
        .text()
        .await?;
    assert!(
        countdown.contains(':'),
        "a countdown like 1:29: {countdown:?}"
    );
    c.enter_parent_frame().await?;
    browser.screenshot("hubspot-card-4-deal-stepup.png").await?;
    wait_for(c, "[data-testid=hs-modal-close]")
        .await?
        .click()
        .await?;

    // A workflow enrols another contact: the action waits (BLOCK) and resumes with the result.
    let other_page = format!("{url}/hubspot/contacts/{other}");
    c.goto(&other_page).await?;
    wait_for(c, "[data-testid=enrol]").await?.click().await?;
    browser
        .screenshot("hubspot-card-5-workflow-enrolled.png")
        .await?;
    wait_for(c, "[data-testid=workflow-waiting]").await?;
    customer_passes(&demo, c).await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        c.goto(&other_page).await?;
        if let Ok(result) = c
            .find(fantoccini::Locator::Css("[data-testid=workflow-result]"))
            .await
        {
            assert_eq!(result.text().await?, "verified");
            break;
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the workflow never resumed"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    c.execute(
        "document.querySelector('[data-testid=workflow]').scrollIntoView()",
        vec![],
    )
    .await?;
    browser
        .screenshot("hubspot-card-6-workflow-resumed.png")
        .await?;
    browser.close().await?;
    demo.stop().await
}
