//! The full widget in the HubSpot card's modal: the card's signed call gets a single-use link;
//! the page trades its ticket once for a half-hour session, which reaches this account's API
//! and nothing else; a used, ended or forged ticket, or an ended session, opens nothing.

use idv_server::services::tenant::Policy;
use serde_json::{json, Value};

use super::*;
use crate::{both, helpers::Db, world::spawn_world_with};

/// A GET of the widget's API with a bearer token.
async fn api(w: &World, path: String, token: String) -> reqwest::Response {
    reqwest::Client::new()
        .get(w.url(&path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// A widget build as trunk writes it (its Freshworks client placeholder, a module script).
const INDEX: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
    <script src=\"{{{appclient}}}\"></script>\
    <script type=\"module\">import init from './idv-widget.js'; await init();</script>\
    </head><body></body></html>";

both!(
    the_cards_modal_opens_the_widget_in_the_card_users_language,
    modal_language
);
/// A world with HubSpot installed and one contact in it.
async fn installed(db: Db, settings: idv_server::services::Settings) -> Option<(World, u64)> {
    let w = spawn_world_with(db, settings, Policy::default()).await?;
    install_with_lifetime(&w, 1800).await;
    let contact = w
        .twins
        .hubspot
        .with_records(|r| r.add_contact(&json!({"firstname": "Ada", "email": "ada@example.com"})));
    Some((w, contact))
}

async fn modal_language(db: Db) {
    let Some((w, contact)) = installed(db, test_settings()).await else {
        return;
    };
    let path = format!("/hubspot/v1/card/widget-link?{CARD_QUERY}");
    let link = |locale: Value| json!({"object_type": "contacts", "object_id": contact.to_string(), "locale": locale});
    let res = card_post(&w, &path, &link(json!("pt-br"))).await;
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.unwrap();
    let url = answer["url"].as_str().unwrap();
    assert!(url.ends_with("&locale=pt-br"), "{url}");
    // Anything but a language tag stays out of the page's URL, with a reason.
    for bad in ["pt-br&ticket=x", "<script>", "x", "en-us-"] {
        let res = card_post(&w, &path, &link(json!(bad))).await;
        assert_eq!(res.status(), 422, "{bad}");
        let error: Value = res.json().await.unwrap();
        assert!(
            error["message"].as_str().unwrap().contains("locale"),
            "{bad}: {error}"
        );
    }
    let res = card_post(&w, &path, &link(json!(12))).await;
    assert_eq!(res.status(), 422);
}

both!(
    the_cards_modal_opens_the_widget_once_with_a_session_for_its_own_account,
    modal
);
async fn modal(db: Db) {
    let dir = std::env::temp_dir().join(format!("idv-widget-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), INDEX).unwrap();
    std::fs::write(
        dir.join("idv-widget.js"),
        "export default async function init() {}",
    )
    .unwrap();
    let mut settings = test_settings();
    settings.widget_dir = dir.clone();
    let Some((w, contact)) = installed(db, settings).await else {
        return;
    };

    // Unsigned, the link is refused; signed by HubSpot for the card, it is given.
    let path = format!("/hubspot/v1/card/widget-link?{CARD_QUERY}");
    let body = json!({"object_type": "contacts", "object_id": contact.to_string()});
    let unsigned = reqwest::Client::new()
        .post(w.url(&path))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    // A body that names another account is refused; the signed URL names it.
    let res = card_post(
        &w,
        &path,
        &json!({"object_type": "contacts", "object_id": "1", "portalId": 5}),
    )
    .await;
    assert_eq!(res.status().as_u16() / 100, 4);
    let res = card_post(&w, &path, &body).await;
    assert_eq!(res.status(), 200);
    let link: Value = res.json().await.unwrap();
    let url = link["url"].as_str().unwrap().to_string();
    assert!(url.contains("/hubspot/v1/widget?ticket=wtk_"), "{url}");
    assert_eq!(link["expires_in_secs"], 60);

    // The page: the widget's build with the host script, its session, HubSpot as the only
    // framer, scripts by nonce.
    let res = reqwest::get(&url).await.unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("frame-ancestors https://app.hubspot.com"),
        "{csp}"
    );
    assert!(csp.contains("'nonce-"), "{csp}");
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    let page = res.text().await.unwrap();
    assert!(
        page.contains("<script src=\"/hubspot/v1/widget-host.js\">"),
        "{page}"
    );
    assert!(
        page.contains("<base href=\"/hubspot/v1/widget-assets/\">"),
        "{page}"
    );
    let meta = page
        .split("name=\"idv-host\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    let host: Value = serde_json::from_str(&html_escape::decode_html_entities(meta)).unwrap();
    assert_eq!(host["entity"], "contact");
    assert_eq!(host["id"], contact);
    let session = host["token"].as_str().unwrap().to_string();
    assert!(session.starts_with("wst_"));
    let script = reqwest::get(w.url("/hubspot/v1/widget-host.js"))
        .await
        .unwrap();
    assert!(script.text().await.unwrap().contains("IDV_BACKEND"));
    let asset = reqwest::get(w.url("/hubspot/v1/widget-assets/idv-widget.js"))
        .await
        .unwrap();
    assert_eq!(asset.status(), 200);

    // The session reads this account's contact through the widget's API.
    let res = api(
        &w,
        format!("/api/v1/contacts/{contact}/status"),
        session.clone(),
    )
    .await;
    assert_eq!(res.status(), 200);
    let status: Value = res.json().await.unwrap();
    assert_eq!(status["contact_id"], contact);
    // The Freshsales tenant's contact 11 is not this account's: HubSpot has no contact 11.
    let res = api(&w, "/api/v1/contacts/11/status".into(), session.clone()).await;
    assert_ne!(res.status(), 200);

    // The link opens once; a forged ticket opens nothing.
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 401);
    let forged = w.url("/hubspot/v1/widget?ticket=wtk_00");
    assert_eq!(reqwest::get(&forged).await.unwrap().status(), 401);
    // A ticket not used within its minute, and a session past its half hour, are ended.
    let res = card_post(&w, &path, &body).await;
    let late: Value = res.json().await.unwrap();
    sqlx::query("UPDATE widget_passes SET expires_at = 1")
        .execute(w.app.state.services.core.store().pool())
        .await
        .unwrap();
    assert_eq!(
        reqwest::get(late["url"].as_str().unwrap())
            .await
            .unwrap()
            .status(),
        401
    );
    let res = api(&w, format!("/api/v1/contacts/{contact}/status"), session).await;
    assert_eq!(res.status(), 401);
    let _ = std::fs::remove_dir_all(&dir);
}

both!(
    the_modal_gets_the_widgets_files_compressed_and_keeps_a_builds_files,
    modal_assets
);
/// The modal's files: the build's brotli or gzip copy when the browser takes one, the file
/// itself otherwise; a file whose name carries the build's hash is kept for a year, a language
/// file is checked again at each open.
async fn modal_assets(db: Db) {
    let dir = std::env::temp_dir().join(format!("idv-widget-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(dir.join("locales")).unwrap();
    let wasm = "idv-widget-0123456789abcdef_bg.wasm";
    for (name, bytes) in [
        (wasm.to_string(), "the wasm".as_bytes()),
        (format!("{wasm}.br"), b"the wasm, brotli"),
        (format!("{wasm}.gz"), b"the wasm, gzip"),
        ("idv-widget-0123456789abcdef.js".into(), b"the script"),
        ("locales/de.json".into(), b"{}"),
        ("locales/de.json.br".into(), b"{}, brotli"),
    ] {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let mut settings = test_settings();
    settings.widget_dir = dir.clone();
    let Some(w) = spawn_world_with(db, settings, Policy::default()).await else {
        return;
    };
    let get = |file: &str, accept: Option<&str>| {
        let mut req =
            reqwest::Client::new().get(w.url(&format!("/hubspot/v1/widget-assets/{file}")));
        if let Some(accept) = accept {
            req = req.header("accept-encoding", accept);
        }
        req.send()
    };
    let header = |res: &reqwest::Response, name: &str| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let year = Some("public, max-age=31536000, immutable".to_string());

    let res = get(wasm, Some("gzip, deflate, br, zstd")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-encoding").as_deref(), Some("br"));
    assert_eq!(
        header(&res, "content-type").as_deref(),
        Some("application/wasm")
    );
    assert_eq!(header(&res, "cache-control"), year);
    assert!(
        header(&res, "vary").is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")),
        "{:?}",
        res.headers()
    );
    assert_eq!(res.text().await.unwrap(), "the wasm, brotli");

    let res = get(wasm, Some("gzip, deflate")).await.unwrap();
    assert_eq!(header(&res, "content-encoding").as_deref(), Some("gzip"));
    assert_eq!(res.text().await.unwrap(), "the wasm, gzip");

    let res = get(wasm, None).await.unwrap();
    assert_eq!(header(&res, "content-encoding"), None);
    assert_eq!(res.text().await.unwrap(), "the wasm");

    // A file without copies is sent as it is.
    let res = get("idv-widget-0123456789abcdef.js", Some("br"))
        .await
        .unwrap();
    assert_eq!(header(&res, "content-encoding"), None);
    assert_eq!(header(&res, "cache-control"), year);
    assert_eq!(res.text().await.unwrap(), "the script");

    // A language file keeps its name from build to build: checked again at each open.
    let res = get("locales/de.json", Some("br")).await.unwrap();
    assert_eq!(header(&res, "content-encoding").as_deref(), Some("br"));
    assert_eq!(header(&res, "cache-control").as_deref(), Some("no-cache"));
    assert_eq!(res.text().await.unwrap(), "{}, brotli");

    // What is not there is not kept.
    let res = get("idv-widget-fedcba9876543210_bg.wasm", Some("br"))
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(header(&res, "cache-control"), None);
    let _ = std::fs::remove_dir_all(&dir);
}
