//! On a help-desk ticket: whether the requester verified recently enough for account changes.

use leptos::prelude::*;

use crate::{
    model::{freshness, Freshness, Record},
    Driver,
};

/// One line under the facts, on accounts with a freshness window (Freshdesk).
#[component]
pub fn FreshNote(d: Driver) -> impl IntoView {
    let fresh = Memo::new(move |_| {
        d.model.with(|m| match m.record() {
            Some(Record::Contact(c)) => freshness(c, m.now),
            _ => None,
        })
    });
    move || {
        fresh.get().map(|f| {
            let (class, icon) = match f {
                Freshness::Fresh { .. } => ("fresh ok", "✓"),
                Freshness::Stale { .. } => ("fresh warn", "!"),
            };
            view! {
                <p class=class role="note" data-testid="idv-fresh">
                    <span aria-hidden="true">{icon}" "</span>
                    {f.sentence()}
                </p>
            }
        })
    }
}
