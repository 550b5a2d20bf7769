//! What the browser tests share: waiting for Leptos and for an element.

/// Leptos applies signal changes asynchronously: yield to the browser before asserting.
pub async fn tick() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 10)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

/// Waits (bounded) until `selector` matches inside `root`.
pub async fn find(root: &web_sys::HtmlElement, selector: &str) -> web_sys::Element {
    for _ in 0..200 {
        if let Some(e) = root.query_selector(selector).unwrap() {
            return e;
        }
        tick().await;
    }
    panic!("{selector} never appeared; page: {}", root.inner_html());
}
