//! Browser tests of the widget's components (headless Chromium via wasm-bindgen-test-runner).
#![cfg(target_arch = "wasm32")]

use idv_types::IdvStatus;
use idv_widget::StatusBadge;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Leptos applies signal changes asynchronously: yield to the browser before asserting.
async fn tick() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

fn fresh_root() -> web_sys::HtmlElement {
    let doc = web_sys::window().unwrap().document().unwrap();
    let root: web_sys::HtmlElement = doc.create_element("section").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&root).unwrap();
    root
}

#[wasm_bindgen_test]
async fn badge_shows_every_state_and_announces_changes() {
    let root = fresh_root();
    let status = RwSignal::new(None::<IdvStatus>);
    let _handle = leptos::mount::mount_to(
        root.clone(),
        move || view! { <StatusBadge status=status /> },
    );
    tick().await;
    let badge = root
        .query_selector("[data-testid=idv-badge]")
        .unwrap()
        .unwrap();
    assert_eq!(badge.text_content().unwrap(), "Loading…");
    assert_eq!(badge.get_attribute("aria-live").as_deref(), Some("polite"));

    for (state, text, class) in [
        (IdvStatus::NotVerified, "Not verified", "badge-neutral"),
        (IdvStatus::Pending, "Pending", "badge-pending"),
        (IdvStatus::Verified, "Verified", "badge-verified"),
        (IdvStatus::Failed, "Failed", "badge-failed"),
        (IdvStatus::Expired, "Expired", "badge-expired"),
    ] {
        status.set(Some(state));
        tick().await;
        assert_eq!(badge.text_content().unwrap(), text);
        assert!(
            badge.class_list().contains(class),
            "{state:?} should have {class}"
        );
    }
}
