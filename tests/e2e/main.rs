//! The demo in real headless Chromium.

use std::time::Duration;

use fantoccini::Locator;
use idv_e2e::{enabled, start_demo, Browser};

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
    narrow.close().await?;
    demo.stop().await
}
