//! The banner of an account that is not set up for the app: what an admin must still create.

use leptos::prelude::*;

use crate::{model::Record, Driver};

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
                    view! {
                        <li>
                            <strong>{g.label}</strong>
                            " (" {g.what} ", " {g.expected} "): " {g.problem}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <section class="banner warn" role="status" data-testid="setup-banner">
                    <h2>"This Freshsales account is not fully set up"</h2>
                    <p>
                        "Verification results cannot all be saved to Freshsales yet; they wait "
                        "and are saved once an admin has fixed the following. Ask your admin:"
                    </p>
                    <ul>{items}</ul>
                </section>
            }
        })
    }
}
