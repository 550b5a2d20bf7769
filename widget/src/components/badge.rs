//! The status badge in the header.

use idv_types::IdvStatus;
use leptos::prelude::*;

use crate::i18n::{labels, t};

/// What the badge shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadgeState {
    Loading,
    Unavailable,
    NoContact,
    Status(IdvStatus),
}

impl BadgeState {
    pub fn class(self) -> &'static str {
        match self {
            Self::Loading | Self::Unavailable => "badge badge-loading",
            Self::NoContact | Self::Status(IdvStatus::NotVerified) => "badge badge-neutral",
            Self::Status(IdvStatus::Pending) => "badge badge-pending",
            Self::Status(IdvStatus::Verified) => "badge badge-verified",
            Self::Status(IdvStatus::Failed) => "badge badge-failed",
            Self::Status(IdvStatus::Expired | IdvStatus::Lapsed) => "badge badge-expired",
        }
    }

    /// The badge's text, in the page's language.
    pub fn label(self) -> &'static str {
        let t = t();
        match self {
            Self::Loading => t.badge_loading,
            Self::Unavailable => t.badge_unavailable,
            Self::NoContact => t.badge_no_contact,
            Self::Status(s) => labels::status(s),
        }
    }
}

/// The status badge. It keeps its size in every state, so nothing jumps.
#[component]
pub fn StatusBadge(#[prop(into)] state: Signal<BadgeState>) -> impl IntoView {
    view! {
        <span class=move || state.get().class() data-testid="idv-badge">
            {move || state.get().label()}
        </span>
    }
}
