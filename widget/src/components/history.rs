//! Past sessions, and the labels of a session's state and kind.

use idv_types::{IdentityMatch, Kind, SessionState, Verification};
use leptos::prelude::*;

use crate::time;

/// History rows shown before *Show all*.
const SHOWN_AT_FIRST: usize = 5;

pub(super) fn session_label(s: SessionState) -> &'static str {
    match s {
        SessionState::Pending => "Pending",
        SessionState::Verified => "Verified",
        SessionState::Failed => "Failed",
        // The link ran out unused, versus a verification whose validity ended.
        SessionState::Expired => "Expired unused",
        SessionState::Canceled => "Canceled",
        SessionState::Lapsed => "Validity lapsed",
    }
}

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

fn kind_label(k: Kind) -> &'static str {
    match k {
        Kind::Idv => "ID check",
        Kind::Stepup => "Step-up",
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
                let reason = v.failure_reason.clone();
                // A partial match is verified, and says so; a mismatch's reason tells it.
                let partial = (v.identity_match == Some(IdentityMatch::Partial))
                    .then(|| IdentityMatch::Partial.label());
                view! {
                    <li>
                        <span class=session_class(v.state)>{session_label(v.state)}</span>
                        <span class="what">{kind_label(v.kind)}</span>
                        <span class="muted when">{time::short_date(&v.created_at)}</span>
                        {partial.map(|p| view! { <span class="note">"Name on ID: " {p}</span> })}
                        {reason.map(|r| view! { <span class="why">{r}</span> })}
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <section class="history" data-testid="idv-history">
            <h2>"History"</h2>
            {if total == 0 {
                view! { <p class="muted">"No verifications yet."</p> }.into_any()
            } else {
                view! {
                    <ol>{rows}</ol>
                    {move || (total > SHOWN_AT_FIRST && !all.get()).then(|| view! {
                        <button type="button" class="btn btn-link" on:click=move |_| all.set(true)>
                            "Show all " {total}
                        </button>
                    })}
                }
                .into_any()
            }}
        </section>
    }
}
