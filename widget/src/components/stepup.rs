//! The step-up panel: QR code, countdown, result.

use idv_types::{SessionState, Verification};
use leptos::prelude::*;

use super::{
    history::{session_class, session_label},
    qr::Qr,
};
use crate::{
    model::{Action, Msg, StepUp, StepUpPhase},
    time, Driver,
};

#[component]
pub(super) fn StepUpResult(
    session: Verification,
    #[prop(optional)] previous: bool,
) -> impl IntoView {
    let state = session.state;
    let title = match (previous, state) {
        (true, _) => "Last step-up: ",
        (false, SessionState::Verified) => "Step-up passed: ",
        (false, SessionState::Failed) => "Step-up failed: ",
        (false, SessionState::Expired) => "Step-up expired: ",
        (false, _) => "Step-up: ",
    };
    let when = session
        .completed_at
        .as_deref()
        .unwrap_or(&session.created_at)
        .to_string();
    let detail = match state {
        SessionState::Verified => "the customer matched their enrolment.".to_string(),
        SessionState::Expired => "the customer did not answer in time.".to_string(),
        SessionState::Canceled => "canceled.".to_string(),
        _ => session
            .failure_reason
            .clone()
            .unwrap_or_else(|| "the customer was not matched.".into()),
    };
    view! {
        <div class=format!("result result-{}", state.as_str()) data-testid="idv-stepup-result">
            <span class=session_class(state)>{session_label(state)}</span>
            <p>
                <strong>{title}</strong>
                {if previous { String::new() } else { detail }}
                {previous.then(|| time::short_date(&when))}
            </p>
        </div>
    }
}

/// Step-up: QR code, countdown, result.
#[component]
pub fn StepUpPanel(d: Driver) -> impl IntoView {
    let model = d.model;
    let phase = Memo::new(move |_| model.with(|m| m.stepup.phase()));
    move || match phase.get() {
        StepUpPhase::Idle => ().into_any(),
        StepUpPhase::Starting => view! {
            <p class="progress">
                <span class="spinner" aria-hidden="true"></span>
                "Starting the step-up…"
            </p>
        }
        .into_any(),
        StepUpPhase::Active => view! { <StepUpActive d=d /> }.into_any(),
        StepUpPhase::Done => model
            .with_untracked(|m| match &m.stepup {
                StepUp::Done(v) => Some(v.clone()),
                _ => None,
            })
            .map(|v| view! { <StepUpResult session=v /> })
            .into_any(),
        StepUpPhase::NotEnrolled => {
            let msg = model.with_untracked(|m| match &m.stepup {
                StepUp::NotEnrolled(s) => s.clone(),
                _ => String::new(),
            });
            view! {
                <div class="notice" role="alert" data-testid="idv-not-enrolled">
                    <p><strong>"No LiveID enrolment. "</strong>{msg}</p>
                    <p>"Verify the contact's identity first: the ID check enrols them for LiveID."</p>
                </div>
            }
            .into_any()
        }
        StepUpPhase::Failed => model
            .with_untracked(|m| match &m.stepup {
                StepUp::Failed(f) => Some(f.message.clone()),
                _ => None,
            })
            .map(|msg| view! { <p class="error" role="alert">{msg}</p> })
            .into_any(),
    }
}

#[component]
fn StepUpActive(d: Driver) -> impl IntoView {
    let model = d.model;
    let payload = Memo::new(move |_| {
        model.with(|m| match &m.stepup {
            StepUp::Active { watch, .. } => watch.session.qr_payload.clone(),
            _ => None,
        })
    });
    let left = Memo::new(move |_| model.with(|m| m.stepup_seconds_left().unwrap_or(0)));
    let cancelling = Memo::new(move |_| {
        model.with(|m| matches!(&m.stepup, StepUp::Active { watch, .. } if watch.cancelling))
    });
    let trouble = Memo::new(move |_| {
        model.with(|m| match &m.stepup {
            StepUp::Active { watch, .. } => watch.trouble.clone(),
            _ => None,
        })
    });
    view! {
        <section class="panel" data-testid="idv-stepup" aria-labelledby="idv-stepup-h">
            <h2 id="idv-stepup-h" tabindex="-1" data-focus="session">"Step-Up Auth"</h2>
            <p class="muted">
                "Ask the customer to scan this code with their 1Kosmos app, or to approve the push on their phone."
            </p>
            <Qr text=payload label="QR code for the LiveID step-up" />
            <p class="timer">
                <span class="spinner" aria-hidden="true"></span>
                <span role="timer" data-testid="idv-countdown" aria-label=move || time::countdown_words(left.get())>
                    {move || time::countdown(left.get())}
                </span>
                " left"
            </p>
            {move || trouble.get().map(|t| view! { <p class="hint">{t}</p> })}
            <button
                type="button"
                class="btn btn-link"
                disabled=move || cancelling.get()
                on:click=move |_| d.send(Msg::CancelStepUp)
            >
                {move || if cancelling.get() { "Canceling…" } else { Action::CancelStepUp.label() }}
            </button>
        </section>
    }
}
