//! A QR code (the encoder is [`crate::qr`]).

use leptos::prelude::*;

/// The QR code of `text`, drawn as inline SVG.
#[component]
pub(super) fn Qr(#[prop(into)] text: Signal<Option<String>>, label: &'static str) -> impl IntoView {
    let svg = Memo::new(move |_| text.get().and_then(|t| crate::qr::svg(&t)));
    view! {
        <div class="qr" role="img" aria-label=label data-testid="idv-qr" inner_html=move || svg.get().unwrap_or_default()></div>
    }
}
