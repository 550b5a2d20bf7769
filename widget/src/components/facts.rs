//! The facts about a contact beside the badge, and their placeholder while loading.

use idv_types::{ContactStatus, IdvStatus};
use leptos::prelude::*;

use crate::i18n::{self, labels, t};

/// The facts beside the badge; only those known are listed.
#[component]
pub fn Facts(contact: ContactStatus) -> impl IntoView {
    let c = contact;
    let t = t();
    let rows: Vec<(&'static str, String)> = [
        (
            t.fact_assurance,
            c.ial.as_ref().map(|a| {
                let mut s = a.level.clone();
                s.push_str(" (NIST ");
                s.push_str(&a.revision);
                s.push(')');
                s
            }),
        ),
        (
            t.fact_document,
            c.document_type.as_deref().map(labels::document),
        ),
        // Whether the name on the ID is the contact's (a mismatch is never verified).
        (
            t.fact_name_on_id,
            c.identity_match
                .map(|m| labels::identity_match(m).to_string()),
        ),
        (t.fact_match, c.match_confidence.map(i18n::percent)),
        (t.fact_verified, c.verified_at.as_deref().map(i18n::date)),
        (t.fact_valid_until, c.expires_at.as_deref().map(i18n::date)),
        (
            t.fact_liveid,
            Some(
                if c.liveid_enrolled {
                    t.liveid_enrolled
                } else {
                    t.liveid_not_enrolled
                }
                .to_string(),
            ),
        ),
        (
            t.fact_last_stepup,
            Some(
                c.last_stepup_at
                    .as_deref()
                    .map_or_else(|| t.never.into(), i18n::date),
            ),
        ),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let empty = c.status == IdvStatus::NotVerified && c.history.is_empty();
    view! {
        {empty.then(|| view! { <p class="muted lead">{t.no_check_yet}</p> })}
        <dl class="facts" data-testid="idv-facts">
            {rows.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
        </dl>
    }
}

/// Placeholder with the shape of the facts, while loading.
#[component]
pub fn Skeleton() -> impl IntoView {
    view! {
        <div class="skeleton" aria-hidden="true">
            <span></span><span></span><span></span><span></span><span></span>
        </div>
        <p class="sr-only">{t().loading_status}</p>
    }
}
