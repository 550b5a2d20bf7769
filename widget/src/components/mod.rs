//! Components. They render slices of the [`Model`](crate::model::Model) (through memos, so a
//! clock tick re-renders only the countdown) and turn clicks into [`Msg`](crate::model::Msg)s for
//! the [`Driver`](crate::Driver).
//!
//! One file per part of the widget:
//!
//! - `badge.rs`: the status badge;
//! - `facts.rs`: what is known about the contact, and the loading placeholder;
//! - `fresh.rs`: on a ticket, whether the requester verified recently enough;
//! - `error.rs`: a failed load, and the note over stale data;
//! - `actions.rs`: the action bar;
//! - `contact.rs` and `deal.rs`: the two pages;
//! - `verify.rs`: the Verify Identity form and the link;
//! - `stepup.rs`: the step-up panel;
//! - `history.rs`: past sessions;
//! - `activity.rs`: the contact's activity (audit trail), on demand;
//! - `qr.rs`: a QR code.

mod actions;
mod activity;
mod badge;
mod contact;
mod deal;
mod error;
mod facts;
mod fresh;
mod history;
mod qr;
mod setup;
mod stepup;
mod verify;

use wasm_bindgen::JsCast;

pub use self::{
    actions::ActionBar,
    activity::ActivityList,
    badge::{BadgeState, StatusBadge},
    contact::ContactBody,
    deal::DealBody,
    error::ErrorBox,
    facts::{Facts, Skeleton},
    fresh::FreshNote,
    history::History,
    setup::SetupBanner,
    stepup::StepUpPanel,
    verify::VerifyPanel,
};
use self::{error::StaleNote, stepup::StepUpResult};

/// Moves the keyboard focus to the element marked `data-focus=key` inside `root`.
pub fn focus_in(root: &web_sys::Element, key: &str) {
    let mut sel = String::from("[data-focus=\"");
    sel.push_str(key);
    sel.push_str("\"]");
    if let Ok(Some(el)) = root.query_selector(&sel) {
        if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
            let _ = el.focus();
        }
    }
}
