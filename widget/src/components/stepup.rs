//! The step-up panel: QR code, countdown, result.

use idv_types::{SessionState, Verification};
use leptos::prelude::*;

use super::{history::session_class, qr::Qr};
use crate::{
    i18n::{self, labels, t},
    model::{Action, Msg, StepUp, StepUpPhase},
    time, Driver,
};

#[component]
pub(super) fn StepUpResult(
    session: Verification,
    #[prop(optional)] previous: bool,
) -> impl IntoView {
    let state = session.state;
    let t = t();
    let title = match (previous, state) {
        (true, _) => t.stepup_last,
        (false, SessionState::Verified) => t.stepup_passed,
        (false, SessionState::Failed) => t.stepup_failed,
        (false, SessionState::Expired) => t.stepup_expired,
        (false, _) => t.stepup_other,
    };
    let when = session
        .completed_at
        .as_deref()
        .unwrap_or(&session.created_at)
        .to_string();
    let detail = match state {
        SessionState::Verified => t.stepup_matched.to_string(),
        SessionState::Expired => t.stepup_no_answer.to_string(),
        SessionState::Canceled => t.stepup_canceled.to_string(),
        _ => labels::failure(
            session.failure_code.as_deref(),
            session.failure_reason.as_deref(),
        )
        .unwrap_or_else(|| t.stepup_not_matched.into()),
    };
    view! {
        <div class=format!("result result-{}", state.as_str()) data-testid="idv-stepup-result">
            <span class=session_class(state)>{labels::session(state)}</span>
            <p>
                <strong>{title}</strong>
                " "
                {if previous { String::new() } else { detail }}
                {previous.then(|| i18n::date(&when))}
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
                {t().stepup_starting}
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
                    <p><strong>{t().no_enrolment}</strong>" "{msg}</p>
                    <p>{t().no_enrolment_hint}</p>
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
    // The countdown sits where the language puts it (`{time} left`, `残り {time}`).
    let (before, after) = t().time_left.split_once("{time}").unwrap_or(("", ""));
    view! {
        <section class="panel" data-testid="idv-stepup" aria-labelledby="idv-stepup-h">
            <h2 id="idv-stepup-h" tabindex="-1" data-focus="session">{t().stepup_heading}</h2>
            <p class="muted">{t().stepup_instructions}</p>
            <Qr text=payload label=t().qr_stepup />
            <p class="timer">
                <span class="spinner" aria-hidden="true"></span>
                {before}
                <span role="timer" data-testid="idv-countdown" aria-label=move || i18n::countdown_words(left.get())>
                    {move || time::countdown(left.get())}
                </span>
                {after}
            </p>
            {move || trouble.get().map(|t| view! { <p class="hint">{t}</p> })}
            <button
                type="button"
                class="btn btn-link"
                disabled=move || cancelling.get()
                on:click=move |_| d.send(Msg::CancelStepUp)
            >
                {move || if cancelling.get() { t().canceling } else { Action::CancelStepUp.label() }}
            </button>
        </section>
    }
}
