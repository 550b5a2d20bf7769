//! The contact's activity in the history panel: who started what, how the link went out, the
//! results and the Freshsales writes (the backend's audit trail), shown when the rep asks.

use leptos::prelude::*;

use crate::{
    i18n::{self, labels, t},
    model::{Activity, Msg},
    Driver,
};

/// *Show activity*, then the lines newest first.
#[component]
pub fn ActivityList(d: Driver) -> impl IntoView {
    let model = d.model;
    let activity = Memo::new(move |_| model.with(|m| m.activity.clone()));
    let open = move || !matches!(activity.get(), Activity::Hidden);
    view! {
        <section class="history activity" data-testid="idv-activity" aria-live="polite">
            <button
                type="button"
                class="btn btn-link"
                aria-expanded=move || open().to_string()
                on:click=move |_| d.send(if open() { Msg::HideActivity } else { Msg::ShowActivity })
            >
                {move || if open() { t().activity_hide } else { t().activity_show }}
            </button>
            {move || match activity.get() {
                Activity::Hidden => ().into_any(),
                Activity::Loading => view! {
                    <p class="progress"><span class="spinner" aria-hidden="true"></span>{t().activity_loading}</p>
                }
                .into_any(),
                Activity::Failed(f) => view! {
                    <p class="error" role="alert">{f.message}</p>
                }
                .into_any(),
                Activity::Shown(page) if page.entries.is_empty() => {
                    view! { <p class="muted">{t().activity_empty}</p> }.into_any()
                }
                Activity::Shown(page) => {
                    let rows = page
                        .entries
                        .into_iter()
                        .map(|e| {
                            let label = labels::audit_action(&e.action).to_string();
                            let record = e.record.as_deref().map(|r| format!(" ({})", labels::record(r)));
                            view! {
                                <li>
                                    <span class="what">{label}{record}</span>
                                    <span class="muted when">{i18n::date(&e.at)}</span>
                                    {(!e.detail.is_empty()).then(|| view! { <span class="why">{labels::activity_detail(&e)}</span> })}
                                </li>
                            }
                        })
                        .collect_view();
                    view! { <ol>{rows}</ol> }.into_any()
                }
            }}
        </section>
    }
}
