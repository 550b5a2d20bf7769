//! The action bar (the other actions live in their panels).

use leptos::prelude::*;

use crate::{model::StepUp, Driver};

/// The buttons of the action bar.
#[component]
pub fn ActionBar(d: Driver) -> impl IntoView {
    let model = d.model;
    let actions = Memo::new(move |_| {
        model.with(|m| {
            m.actions()
                .into_iter()
                .filter(|a| a.in_action_bar())
                .collect::<Vec<_>>()
        })
    });
    let busy = Memo::new(move |_| {
        model.with(|m| m.refreshing || m.resending.is_some() || m.stepup == StepUp::Starting)
    });
    move || {
        let list = actions.get();
        (!list.is_empty()).then(|| {
            view! {
                <div class="actions">
                    {list
                        .into_iter()
                        .enumerate()
                        .map(|(i, a)| {
                            view! {
                                <button
                                    type="button"
                                    class=if i == 0 { "btn btn-primary" } else { "btn" }
                                    data-focus=(i == 0).then_some("actions")
                                    disabled=move || busy.get()
                                    on:click=move |_| {
                                        if let Some(msg) = a.msg() {
                                            d.send(msg)
                                        }
                                    }
                                >
                                    {a.label()}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
            }
        })
    }
}
