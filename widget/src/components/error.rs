//! Errors: the failed load with its Retry button, and the note over stale data.

use leptos::prelude::*;

use crate::{
    model::{Action, Failure, Msg},
    Driver,
};

/// An error with a Retry button.
#[component]
pub fn ErrorBox(failure: Failure, d: Driver) -> impl IntoView {
    view! {
        <div class="error" role="alert" data-testid="idv-error">
            <p>{failure.message}</p>
            <button type="button" class="btn" data-testid="idv-retry" on:click=move |_| d.send(Msg::Refresh)>
                {Action::Retry.label()}
            </button>
        </div>
    }
}

/// A refresh failed: the error above the data still shown.
#[component]
pub(super) fn StaleNote(d: Driver) -> impl IntoView {
    let stale = Memo::new(move |_| d.model.with(|m| m.stale.clone()));
    move || stale.get().map(|f| view! { <ErrorBox failure=f d=d /> })
}
