//! The facts about a contact beside the badge, and their placeholder while loading.

use idv_types::{ContactStatus, IdvStatus};
use leptos::prelude::*;

use crate::{model::DOCUMENTS, time};

/// The label of a document type code (`drivers_license` → *Driver's licence*).
pub fn document_label(doc: &str) -> String {
    DOCUMENTS
        .iter()
        .find(|(code, _)| *code == doc)
        .map_or_else(|| doc.replace('_', " "), |(_, label)| (*label).to_string())
}

/// The facts beside the badge; only those known are listed.
#[component]
pub fn Facts(contact: ContactStatus) -> impl IntoView {
    let c = contact;
    let rows: Vec<(&'static str, String)> = [
        (
            "Assurance",
            c.ial.as_ref().map(|a| {
                let mut s = a.level.clone();
                s.push_str(" (NIST ");
                s.push_str(&a.revision);
                s.push(')');
                s
            }),
        ),
        ("Document", c.document_type.as_deref().map(document_label)),
        // Whether the name on the ID is the contact's (a mismatch is never verified).
        (
            "Name on ID",
            c.identity_match.map(|m| m.label().to_string()),
        ),
        ("Match", c.match_confidence.map(time::percent)),
        ("Verified", c.verified_at.as_deref().map(time::short_date)),
        ("Valid until", c.expires_at.as_deref().map(time::short_date)),
        (
            "LiveID",
            Some(
                if c.liveid_enrolled {
                    "Enrolled"
                } else {
                    "Not enrolled"
                }
                .to_string(),
            ),
        ),
        (
            "Last step-up",
            Some(
                c.last_stepup_at
                    .as_deref()
                    .map_or_else(|| "Never".into(), time::short_date),
            ),
        ),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let empty = c.status == IdvStatus::NotVerified && c.history.is_empty();
    view! {
        {empty.then(|| view! { <p class="muted lead">"No identity check yet for this contact."</p> })}
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
        <p class="sr-only">"Loading the identity status…"</p>
    }
}
