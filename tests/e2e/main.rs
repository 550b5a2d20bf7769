//! The demo in real headless Chromium.

use std::time::Duration;

use fantoccini::Locator;
use idv_e2e::{enabled, read_qr, start_demo, Browser};

mod hubspot;
mod languages;
mod weight;

/// The contact page shows the record and the widget's badge for it, in the sidebar iframe.
#[tokio::test]
async fn contact_page_shows_the_status_badge_in_the_sidebar() -> anyhow::Result<()> {
    if !enabled() {
        return Ok(());
    }
    let demo = start_demo().await?;
    let browser = Browser::start(1280, 800).await?;
    let c = &browser.client;

    for (id, name, badge_class, text) in [
        (1001, "Ada Lovelace", "badge-verified", "Verified"),
        (1002, "Grace Hopper", "badge-pending", "Pending"),
        (1003, "Alan Turing", "badge-neutral", "Not verified"),
    ] {
        c.goto(&format!("{}/contacts/{id}", demo.url())).await?;
        let heading = c.find(Locator::Css("[data-testid=contact-name]")).await?;
        assert_eq!(heading.text().await?, name);
        c.clone().enter_frame(0).await?;
        let badge = c
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(&format!(
                "[data-testid=idv-badge].{badge_class}"
            )))
            .await?;
        assert_eq!(badge.text().await?, text);
        if id == 1001 {
            let facts = c.find(Locator::Css("dl.facts")).await?.text().await?;
            assert!(facts.contains("Passport"), "{facts}");
            assert!(facts.contains("IAL2"), "{facts}");
        }
        c.clone().enter_parent_frame().await?;
        browser.screenshot(&format!("contact-{id}.png")).await?;
    }
    browser.close().await?;

    // The widget alone at a Freshsales sidebar's width.
    let narrow = Browser::start(320, 560).await?;
    narrow
        .client
        .goto(&format!(
            "{}/app/index.html?entity=contact&id=1001",
            demo.url()
        ))
        .await?;
    narrow
        .client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("[data-testid=idv-badge].badge-verified"))
        .await?;
    narrow.screenshot("widget-320.png").await?;
    let width = narrow.viewport_width().await?;
    assert!(width <= 320, "the page is seen {width} px wide, not at 320");
    let sticking_out = narrow.overflowing().await?;
    assert!(
        sticking_out.is_empty(),
        "at 320 px the widget must fit its sidebar: {sticking_out:#?}"
    );
    // The widest state: the link panel with its link and QR code.
    narrow
        .client
        .goto(&format!(
            "{}/app/index.html?entity=contact&id=1003",
            demo.url()
        ))
        .await?;
    wait_for(&narrow.client, ".actions .btn-primary")
        .await?
        .click()
        .await?;
    wait_for(&narrow.client, "[data-testid=idv-form] button[type=submit]")
        .await?
        .click()
        .await?;
    wait_for(&narrow.client, "[data-testid=idv-qr] svg").await?;
    narrow.screenshot("widget-320-link.png").await?;
    let sticking_out = narrow.overflowing().await?;
    assert!(
        sticking_out.is_empty(),
        "at 320 px the link panel must fit its sidebar: {sticking_out:#?}"
    );
    narrow.close().await?;
    demo.stop().await
}

/// Waits (bounded) for an element inside the current frame.
async fn wait_for(
    c: &fantoccini::Client,
    css: &str,
) -> anyhow::Result<fantoccini::elements::Element> {
    Ok(c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await?)
}

/// A rep verifies a contact; the customer passes on the hosted page; the badge flips and the
/// Freshsales record gets its fields.
#[tokio::test]
async fn verify_identity_from_click_to_crm_fields() -> anyhow::Result<()> {
    if !enabled() {
        return Ok(());
    }
    let demo = start_demo().await?;
    let browser = Browser::start(1280, 800).await?;
    let c = &browser.client;
    let page = format!("{}/contacts/1003", demo.url());
    c.goto(&page).await?;
    c.clone().enter_frame(0).await?;
    wait_for(c, "[data-testid=idv-badge].badge-neutral").await?;
    let open = wait_for(c, ".actions .btn-primary").await?;
    assert_eq!(open.text().await?, "Verify Identity");
    open.click().await?;
    wait_for(c, "[data-testid=idv-form] button[type=submit]")
        .await?
        .click()
        .await?;
    let link = wait_for(c, "[data-testid=idv-link-panel] input.link").await?;
    wait_for(c, "[data-testid=idv-qr] svg").await?;
    let hosted = link.prop("value").await?.unwrap_or_default();
    assert!(hosted.contains("/hosted/verify/"), "{hosted}");
    // A phone that scans the code opens the same link.
    let scanned = read_qr(&wait_for(c, "[data-testid=idv-qr]").await?, "verify-qr.png").await?;
    assert_eq!(scanned, hosted, "the QR code carries the link");
    wait_for(c, "[data-testid=idv-badge].badge-pending").await?;
    c.clone().enter_parent_frame().await?;
    browser.screenshot("verify-1-link.png").await?;

    // The customer, on the (simulated) 1Kosmos page.
    c.goto(&hosted).await?;
    wait_for(c, "[data-testid=approve]").await?.click().await?;
    let done = wait_for(c, "[data-testid=session-state]")
        .await?
        .text()
        .await?;
    assert!(done.contains("completed"), "{done}");
    browser.screenshot("verify-2-customer.png").await?;

    // Back on the contact: verified, and the record in Freshsales carries the fields.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let cf = demo
            .freshsales
            .contact(idv_server::demo::DEMO_ALIAS, 1003)
            .unwrap_or_default();
        if cf["custom_field"]["cf_idv_status"] == "verified" {
            assert_eq!(cf["custom_field"]["cf_idv_document_type"], "passport");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the CRM never got the fields: {cf}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    c.goto(&page).await?;
    let field = wait_for(c, "[data-field=cf_idv_status]")
        .await?
        .text()
        .await?;
    assert_eq!(field, "verified");
    c.clone().enter_frame(0).await?;
    wait_for(c, "[data-testid=idv-badge].badge-verified").await?;
    let facts = wait_for(c, "dl.facts").await?.text().await?;
    assert!(
        facts.contains("Passport") && facts.contains("IAL2"),
        "{facts}"
    );
    c.clone().enter_parent_frame().await?;
    browser.screenshot("verify-3-verified.png").await?;
    browser.close().await?;
    demo.stop().await
}

/// On a deal, a step-up for the enrolled primary contact: QR code and countdown, the customer
/// approves in the LiveID page, the result shows on the deal.
#[tokio::test]
async fn step_up_on_a_deal() -> anyhow::Result<()> {
    if !enabled() {
        return Ok(());
    }
    let demo = start_demo().await?;
    let browser = Browser::start(1280, 800).await?;
    let c = &browser.client;
    let page = format!("{}/deals/2001", demo.url());
    c.goto(&page).await?;
    assert_eq!(
        wait_for(c, "[data-testid=deal-stage]")
            .await?
            .text()
            .await?,
        "Proposal"
    );
    c.clone().enter_frame(0).await?;
    wait_for(c, "[data-testid=idv-gate]").await?;
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::XPath("//button[normalize-space()='Step-Up Auth']"))
        .await?
        .click()
        .await?;
    wait_for(c, "[data-testid=idv-stepup] [data-testid=idv-qr] svg").await?;
    let session = demo
        .kosmos
        .sessions()
        .into_iter()
        .find(|s| s.kind == "liveid" && s.status == "pending")
        .expect("a pending LiveID session");
    // The phone's LiveID app reads the session's own payload from the code.
    let scanned = read_qr(
        &wait_for(c, "[data-testid=idv-stepup] [data-testid=idv-qr]").await?,
        "stepup-qr.png",
    )
    .await?;
    assert_eq!(
        scanned,
        format!("{}/hosted/liveid/{}", demo.kosmos_url, session.id),
        "the QR code carries the LiveID session"
    );
    // The countdown shows the time left (the twin's session lives 90 s) and falls.
    let seconds = |text: String| -> u64 {
        let (m, s) = text
            .trim()
            .split_once(':')
            .unwrap_or_else(|| panic!("a countdown like 1:29, got {text:?}"));
        m.parse::<u64>().expect("minutes") * 60 + s.parse::<u64>().expect("seconds")
    };
    let first = seconds(
        wait_for(c, "[data-testid=idv-countdown]")
            .await?
            .text()
            .await?,
    );
    // (A second of rounding either way: the widget rounds the time left up.)
    assert!(
        (55..=91).contains(&first),
        "{first} s left of a 90 s session"
    );
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let later = seconds(
        wait_for(c, "[data-testid=idv-countdown]")
            .await?
            .text()
            .await?,
    );
    assert!(
        later < first && first - later <= 4,
        "2.5 s later the countdown fell from {first} s to {later} s"
    );
    c.clone().enter_parent_frame().await?;
    browser.screenshot("stepup-1-qr.png").await?;

    c.goto(&format!("{}/hosted/liveid/{}", demo.kosmos_url, session.id))
        .await?;
    wait_for(c, "[data-testid=approve]").await?.click().await?;
    wait_for(c, "[data-testid=session-state]").await?;

    c.goto(&page).await?;
    c.clone().enter_frame(0).await?;
    let result = wait_for(c, "[data-testid=idv-stepup-result].result-verified").await?;
    assert!(
        result.text().await?.contains("step-up"),
        "{}",
        result.text().await?
    );
    c.clone().enter_parent_frame().await?;
    browser.screenshot("stepup-2-passed.png").await?;
    browser.close().await?;
    demo.stop().await
}

/// The rep moves an unverified contact's deal into a gated stage: a verification starts, the
/// deal gets a note and a task, and it moves back to its stage.
#[tokio::test]
async fn a_gated_stage_sends_the_deal_back() -> anyhow::Result<()> {
    if !enabled() {
        return Ok(());
    }
    let demo = start_demo().await?;
    let browser = Browser::start(1280, 800).await?;
    let c = &browser.client;
    c.goto(&format!("{}/deals/2003", demo.url())).await?;
    assert_eq!(
        wait_for(c, "[data-testid=deal-stage]")
            .await?
            .text()
            .await?,
        "New"
    );
    wait_for(c, "button[data-stage=Negotiation]")
        .await?
        .click()
        .await?;
    let alias = idv_server::demo::DEMO_ALIAS;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let back = demo.freshsales.deal(alias, 2003).unwrap_or_default()["deal_stage_id"] == 201;
        // The deal's own note and task (the seeded lapsed verification has its own task).
        let on_deal = |items: &[serde_json::Value]| {
            items
                .iter()
                .filter(|i| i["targetable_type"] == "Deal" && i["targetable_id"] == 2003)
                .count()
        };
        let (notes, tasks) = demo
            .freshsales
            .with(alias, |a| (on_deal(&a.notes), on_deal(&a.tasks)))
            .unwrap_or_default();
        if back && tasks == 1 && notes >= 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the gate did not act: moved back {back}, {tasks} task(s) and {notes} note(s) on the deal"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    c.goto(&format!("{}/deals/2003", demo.url())).await?;
    assert_eq!(
        wait_for(c, "[data-testid=deal-stage]")
            .await?
            .text()
            .await?,
        "New"
    );
    c.clone().enter_frame(0).await?;
    wait_for(c, "[data-testid=idv-badge].badge-pending").await?;
    let gate = wait_for(c, "[data-testid=idv-gate]").await?.text().await?;
    assert!(gate.contains("New") && gate.contains("not gated"), "{gate}");
    c.clone().enter_parent_frame().await?;
    browser.screenshot("gate-1-moved-back.png").await?;
    browser.close().await?;
    demo.stop().await
}

/// Freshdesk: an agent verifies a ticket's requester from the ticket sidebar; the requester's
/// Freshdesk fields and a private note on the ticket carry the result, and the sidebar says the
/// caller is fresh enough for account changes.
#[tokio::test]
async fn a_ticket_requester_verified_from_the_freshdesk_sidebar() -> anyhow::Result<()> {
    if !enabled() {
        return Ok(());
    }
    let demo = start_demo().await?;
    let browser = Browser::start(1280, 800).await?;
    let c = &browser.client;
    let page = format!("{}/tickets/4001", demo.url());
    c.goto(&page).await?;
    let requester = wait_for(c, "[data-testid=requester-name]")
        .await?
        .text()
        .await?;
    assert_eq!(requester, "Alan Turing");
    c.clone().enter_frame(0).await?;
    wait_for(c, "[data-testid=idv-badge].badge-neutral").await?;
    let title = wait_for(c, ".idv-head h1").await?.text().await?;
    assert_eq!(title, "Requester identity");
    let fresh = wait_for(c, "[data-testid=idv-fresh]").await?.text().await?;
    assert!(
        fresh.contains("Not verified in the last 30 minutes"),
        "{fresh}"
    );
    c.clone().enter_parent_frame().await?;
    browser.screenshot("ticket-1-unverified.png").await?;

    c.clone().enter_frame(0).await?;
    wait_for(c, ".actions .btn-primary").await?.click().await?;
    wait_for(c, "[data-testid=idv-form] button[type=submit]")
        .await?
        .click()
        .await?;
    let link = wait_for(c, "[data-testid=idv-link-panel] input.link").await?;
    let hosted = link.prop("value").await?.unwrap_or_default();
    assert!(hosted.contains("/hosted/verify/"), "{hosted}");
    c.clone().enter_parent_frame().await?;

    // The caller, on the (simulated) 1Kosmos page.
    c.goto(&hosted).await?;
    wait_for(c, "[data-testid=approve]").await?.click().await?;
    wait_for(c, "[data-testid=session-state]").await?;

    // The ticket gets its private note, the requester's Freshdesk record its fields.
    let requester_id = idv_server::demo::desk_contact(1003);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let fields = demo
            .freshdesk
            .contact(idv_server::demo::DESK_DOMAIN, requester_id)
            .unwrap_or_default()["custom_fields"]
            .clone();
        let noted = demo
            .freshdesk
            .notes(idv_server::demo::DESK_DOMAIN)
            .iter()
            .any(|n| n["ticket_id"] == 4001 && n["private"] == true);
        if noted
            && fields
                .as_object()
                .is_some_and(|f| f.values().any(|v| v == "verified"))
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "Freshdesk never got the result: {fields}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    c.goto(&page).await?;
    let notes = wait_for(c, "[data-testid=ticket-notes] .note")
        .await?
        .text()
        .await?;
    assert!(notes.contains("verified"), "{notes}");
    c.clone().enter_frame(0).await?;
    wait_for(c, "[data-testid=idv-badge].badge-verified").await?;
    let fresh = wait_for(c, "[data-testid=idv-fresh].ok")
        .await?
        .text()
        .await?;
    assert!(
        fresh.contains("fresh enough for account changes"),
        "{fresh}"
    );
    c.clone().enter_parent_frame().await?;
    browser.screenshot("ticket-2-verified.png").await?;
    browser.close().await?;
    demo.stop().await
}

/// A link the customer never opened expired: the rep resends it with one click and the new
/// link shows at once.
#[tokio::test]
async fn an_expired_link_is_resent_with_one_click() -> anyhow::Result<()> {
    if !enabled() {
        return Ok(());
    }
    let demo = start_demo().await?;
    let browser = Browser::start(1280, 800).await?;
    let c = &browser.client;
    c.goto(&format!("{}/contacts/1006", demo.url())).await?;
    c.clone().enter_frame(0).await?;
    wait_for(c, "[data-testid=idv-badge].badge-expired").await?;
    let resend = c
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::XPath("//button[normalize-space()='Resend link']"))
        .await?;
    c.clone().enter_parent_frame().await?;
    browser.screenshot("resend-1-expired.png").await?;
    c.clone().enter_frame(0).await?;
    resend.click().await?;
    let link = wait_for(c, "[data-testid=idv-link-panel] input.link").await?;
    let hosted = link.prop("value").await?.unwrap_or_default();
    assert!(hosted.contains("/hosted/verify/"), "{hosted}");
    wait_for(c, "[data-testid=idv-badge].badge-pending").await?;
    c.clone().enter_parent_frame().await?;
    browser.screenshot("resend-2-new-link.png").await?;
    assert_eq!(
        demo.kosmos.creates_received(),
        2,
        "Grace's seeded session and the resend"
    );
    browser.close().await?;
    demo.stop().await
}

#[tokio::test]
async fn the_demo_banner_names_every_twin_with_a_key_that_works() -> anyhow::Result<()> {
    if !enabled() {
        return Ok(());
    }
    let demo = start_demo().await?;
    let banner = demo.banner("design contract");
    // The Freshsales twin: its API and key as printed are enough to read a contact.
    let line = banner
        .lines()
        .find(|l| l.contains("simulated Freshsales:"))
        .expect("the Freshsales twin is named");
    let api = line.split_whitespace().nth(2).expect("its address");
    let key = line
        .split("(key ")
        .nth(1)
        .and_then(|k| k.strip_suffix(')'))
        .expect("its key");
    let res = reqwest::Client::new()
        .get(format!("{api}/contacts/1001"))
        .header("authorization", format!("Token token={key}"))
        .send()
        .await?;
    assert_eq!(res.status(), 200, "{line}");
    for twin in [
        "simulated 1Kosmos (design contract): http",
        "x-api-key ",
        "simulated Freshdesk: http",
        "admin key ",
        "simulated Freshchat: http",
        "token ",
        "simulated HubSpot: http",
        "/hubspot/v1/install",
        "workflow webhook secret: ",
    ] {
        assert!(banner.contains(twin), "{twin:?} missing from:\n{banner}");
    }
    // The HubSpot install link it prints works: to the twin's authorize page and back.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let res = http
        .get(format!("{}/hubspot/v1/install", demo.url()))
        .send()
        .await?;
    assert_eq!(res.status(), 302);
    let cookie = res.headers()["set-cookie"]
        .to_str()?
        .split(';')
        .next()
        .unwrap_or("")
        .to_string();
    let authorize = res.headers()["location"].to_str()?.to_string();
    let granted = http.get(&authorize).send().await?;
    let back = granted.headers()["location"].to_str()?.to_string();
    let page = http
        .get(&back)
        .header("cookie", cookie)
        .send()
        .await?
        .text()
        .await?;
    assert!(page.contains("Installed on HubSpot account"), "{page}");
    demo.stop().await
}
