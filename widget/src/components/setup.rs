//! The banner of an account that is not set up for the app: what an admin must still create.

use leptos::prelude::*;

use crate::{
    i18n::{fill, labels, t},
    model::Record,
    Driver,
};

/// Shown while the CRM account lacks fields, a module or a gated stage the app needs.
#[component]
pub fn SetupBanner(d: Driver) -> impl IntoView {
    let setup = Memo::new(move |_| {
        d.model
            .with(|m| m.record().and_then(Record::setup).cloned())
            .filter(|s| !s.complete)
    });
    move || {
        setup.get().map(|s| {
            let items = s
                .gaps
                .into_iter()
                .map(|g| {
                    let w = labels::setup_gap(&g);
                    let about = w.about.map(|a| format!(" ({a})"));
                    view! {
                        <li>
                            <strong>{w.name}</strong>
                            {about} ": " {w.problem}
                        </li>
                    }
                })
                .collect_view();
            let title = fill(t().setup_title, &[("product", &s.product)]);
            let body = fill(t().setup_body, &[("product", &s.product)]);
            view! {
                <section class="banner warn" role="status" data-testid="setup-banner">
                    <h2>{title}</h2>
                    <p>{body}</p>
                    <ul>{items}</ul>
                </section>
            }
        })
    }
}
