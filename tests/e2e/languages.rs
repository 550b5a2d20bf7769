//! The widget in the rep's language, in real headless Chromium.

use fantoccini::Locator;
use idv_e2e::{enabled, start_demo, Browser};

use super::wait_for;

/// The widget in the rep's language at a Freshsales sidebar's width: Spanish, German, Japanese
/// and Arabic (right to left) fit 320 px in their widest states, and the Freshworks user's
/// language reaches the widget on the contact page.
#[tokio::test]
async fn the_widget_speaks_the_reps_language_and_fits_the_sidebar() -> anyhow::Result<()> {
    if !enabled() {
        return Ok(());
    }
    let demo = start_demo().await?;
    let narrow = Browser::start(320, 640).await?;
    let c = &narrow.client;
    for (locale, badge, verify, dir, expired_id, shown_link) in [
        (
            "es-MX",
            "Verificado",
            "Verificar identidad",
            "ltr",
            "El ID está caducado.",
            "enlace mostrado en el widget",
        ),
        (
            "de",
            "Verifiziert",
            "Identität prüfen",
            "ltr",
            "Der Ausweis ist abgelaufen.",
            "Link im Widget angezeigt",
        ),
        (
            "ja-JP",
            "確認済み",
            "本人確認を開始",
            "ltr",
            "書類の有効期限が切れています。",
            "リンクはウィジェットに表示",
        ),
        (
            "ar",
            "تم التحقق",
            "التحقق من الهوية",
            "rtl",
            "انتهت صلاحية المستند.",
            "الرابط معروض في الأداة",
        ),
    ] {
        let page = |id: u32| {
            format!(
                "{}/app/index.html?entity=contact&id={id}&locale={locale}",
                demo.url()
            )
        };
        c.goto(&page(1001)).await?;
        let shown = wait_for(c, "[data-testid=idv-badge].badge-verified").await?;
        assert_eq!(shown.text().await?, badge, "{locale}");
        let main = c.find(Locator::Css("main.idv")).await?;
        assert_eq!(main.attr("dir").await?.as_deref(), Some(dir), "{locale}");
        narrow
            .screenshot(&format!("lang-{locale}-verified.png"))
            .await?;
        // The demo's check finished a month ago: its history line gives the day its facts
        // give.
        let facts = c
            .find(Locator::Css("[data-testid=idv-facts]"))
            .await?
            .text()
            .await?;
        let day = c
            .find(Locator::Css("[data-testid=idv-history] .when"))
            .await?
            .text()
            .await?;
        assert!(
            facts.contains(&day),
            "{locale}: the history's day {day} is not among the facts: {facts}"
        );
        // The page does not wait for its language's file to ask for the status: both reads are
        // on their way at once (the status read starts before the file's answer ended).
        {
            let overlap = c
                .execute(
                    r#"const r = performance.getEntriesByType('resource');
                       const file = r.find(e => e.name.includes('/locales/'));
                       const status = r.find(e => e.name.endsWith('/status'));
                       return [file ? file.responseEnd : null, status ? status.startTime : null];"#,
                    vec![],
                )
                .await?;
            let (file_end, status_start) = (overlap[0].as_f64(), overlap[1].as_f64());
            assert!(
                matches!((file_end, status_start), (Some(end), Some(start)) if start < end),
                "{locale}: the status read waited for the language's file (file answered at \
                 {file_end:?} ms, status asked at {status_start:?} ms)"
            );
        }
        let sticking_out = narrow.overflowing().await?;
        assert!(
            sticking_out.is_empty(),
            "{locale} at 320 px: {sticking_out:#?}"
        );
        // A failed check says why and what to do next, in the rep's language.
        c.goto(&page(1004)).await?;
        wait_for(c, "[data-testid=idv-badge].badge-failed").await?;
        let history = wait_for(c, "[data-testid=idv-history] .why").await?;
        let why = history.text().await?;
        assert!(why.starts_with(expired_id), "{locale}: {why}");
        narrow
            .screenshot(&format!("lang-{locale}-failed.png"))
            .await?;
        let sticking_out = narrow.overflowing().await?;
        assert!(
            sticking_out.is_empty(),
            "{locale} failed at 320 px: {sticking_out:#?}"
        );
        // The form, then the link panel: the longest texts.
        c.goto(&page(1003)).await?;
        let open = wait_for(c, ".actions .btn-primary").await?;
        assert_eq!(open.text().await?, verify, "{locale}");
        open.click().await?;
        wait_for(c, "[data-testid=idv-form]").await?;
        narrow
            .screenshot(&format!("lang-{locale}-form.png"))
            .await?;
        let sticking_out = narrow.overflowing().await?;
        assert!(
            sticking_out.is_empty(),
            "{locale} form at 320 px: {sticking_out:#?}"
        );
        wait_for(c, "[data-testid=idv-form] button[type=submit]")
            .await?
            .click()
            .await?;
        wait_for(c, "[data-testid=idv-qr] svg").await?;
        narrow
            .screenshot(&format!("lang-{locale}-link.png"))
            .await?;
        let sticking_out = narrow.overflowing().await?;
        assert!(
            sticking_out.is_empty(),
            "{locale} link at 320 px: {sticking_out:#?}"
        );
        // Cancel, so the next language starts from the same contact.
        wait_for(c, "[data-testid=idv-link-panel] .btn-link")
            .await?
            .click()
            .await?;
        wait_for(c, "[data-testid=idv-badge].badge-neutral").await?;
        // The activity says who started it and how the link went out, in the rep's language.
        wait_for(c, "[data-testid=idv-activity] > button")
            .await?
            .click()
            .await?;
        let line = wait_for(c, "[data-testid=idv-activity] li .why").await?;
        let activity = c
            .find(Locator::Css("[data-testid=idv-activity]"))
            .await?
            .text()
            .await?;
        assert!(
            activity.contains(shown_link) && !activity.contains("link by"),
            "{locale}: {activity}"
        );
        drop(line);
        narrow
            .screenshot(&format!("lang-{locale}-activity.png"))
            .await?;
        let sticking_out = narrow.overflowing().await?;
        assert!(
            sticking_out.is_empty(),
            "{locale} activity at 320 px: {sticking_out:#?}"
        );
    }
    narrow.close().await?;

    // On the contact page the language comes from the Freshworks user's profile.
    let browser = Browser::start(1280, 800).await?;
    let c = &browser.client;
    c.goto(&format!("{}/contacts/1001?locale=pt-BR", demo.url()))
        .await?;
    c.clone().enter_frame(0).await?;
    let badge = wait_for(c, "[data-testid=idv-badge].badge-verified").await?;
    assert_eq!(badge.text().await?, "Verificado");
    let facts = c.find(Locator::Css("dl.facts")).await?.text().await?;
    assert!(facts.contains("Passaporte"), "{facts}");
    c.clone().enter_parent_frame().await?;
    browser.screenshot("lang-pt-BR-contact.png").await?;
    browser.close().await?;
    demo.stop().await
}
