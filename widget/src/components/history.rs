//! Past sessions, and the labels of a session's state and kind.

use idv_types::{IdentityMatch, SessionState, Verification};
use leptos::prelude::*;

use crate::i18n::{self, count, labels, t};

/// History rows shown before *Show all*.
const SHOWN_AT_FIRST: usize = 5;

pub(super) fn session_class(s: SessionState) -> &'static str {
    match s {
        SessionState::Pending => "chip chip-pending",
        SessionState::Verified => "chip chip-verified",
        SessionState::Failed => "chip chip-failed",
        SessionState::Expired | SessionState::Canceled | SessionState::Lapsed => {
            "chip chip-expired"
        }
    }
}

/// Past sessions, newest first; five at a time.
#[component]
pub fn History(items: Vec<Verification>) -> impl IntoView {
    let all = RwSignal::new(false);
    let total = items.len();
    let rows = move || {
        let shown = if all.get() {
            total
        } else {
            total.min(SHOWN_AT_FIRST)
        };
        items
            .iter()
            .take(shown)
            .map(|v| {
                let reason =
                    labels::failure(v.failure_code.as_deref(), v.failure_reason.as_deref());
                // A partial match is verified, and says so; a mismatch's reason tells it.
                let partial = (v.identity_match == Some(IdentityMatch::Partial))
                    .then(|| labels::identity_match(IdentityMatch::Partial));
                view! {
                    <li>
                        <span class=session_class(v.state)>{labels::session(v.state)}</span>
                        <span class="what">{labels::kind(v.kind)}</span>
                        <span class="muted when">{i18n::date(&v.created_at)}</span>
                        {partial.map(|p| view! { <span class="note">{t().fact_name_on_id}": " {p}</span> })}
                        {reason.map(|r| view! { <span class="why">{r}</span> })}
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <section class="history" data-testid="idv-history">
            <h2>{t().history_heading}</h2>
            {if total == 0 {
                view! { <p class="muted">{t().history_empty}</p> }.into_any()
            } else {
                view! {
                    <ol>{rows}</ol>
                    {move || (total > SHOWN_AT_FIRST && !all.get()).then(|| view! {
                        <button type="button" class="btn btn-link" on:click=move |_| all.set(true)>
                            {count(&t().show_all, total as u32)}
                        </button>
                    })}
                }
                .into_any()
            }}
        </section>
    }
}
