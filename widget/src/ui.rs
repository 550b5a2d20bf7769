//! Components. They render slices of the [`Model`] (through memos, so a clock tick re-renders
//! only the countdown) and turn clicks into [`Msg`]s for the [`Driver`].

use idv_types::{ContactStatus, DealStatus, IdvStatus, Kind, SessionState, Verification};
use leptos::{html, prelude::*};
use wasm_bindgen::JsCast;

use crate::{
    bridge,
    model::{Action, Failure, Msg, Record, StepUp, Verify, Watch, DOCUMENTS},
    time, Driver,
};

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
            Self::Status(IdvStatus::Expired) => "badge badge-expired",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Loading => "Loading…",
            Self::Unavailable => "Unavailable",
            Self::NoContact => "No contact",
            Self::Status(s) => s.label(),
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

pub fn document_label(doc: &str) -> String {
    DOCUMENTS
        .iter()
        .find(|(code, _)| *code == doc)
        .map_or_else(|| doc.replace('_', " "), |(_, label)| (*label).to_string())
}

fn session_label(s: SessionState) -> &'static str {
    match s {
        SessionState::Pending => "Pending",
        SessionState::Verified => "Verified",
        SessionState::Failed => "Failed",
        SessionState::Expired => "Expired",
        SessionState::Canceled => "Canceled",
    }
}

fn session_class(s: SessionState) -> &'static str {
    match s {
        SessionState::Pending => "chip chip-pending",
        SessionState::Verified => "chip chip-verified",
        SessionState::Failed => "chip chip-failed",
        SessionState::Expired | SessionState::Canceled => "chip chip-expired",
    }
}

fn kind_label(k: Kind) -> &'static str {
    match k {
        Kind::Idv => "ID check",
        Kind::Stepup => "Step-up",
    }
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
    let busy = Memo::new(move |_| model.with(|m| m.refreshing || m.stepup == StepUp::Starting));
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

#[component]
fn Qr(#[prop(into)] text: Signal<Option<String>>, label: &'static str) -> impl IntoView {
    let svg = Memo::new(move |_| text.get().and_then(|t| crate::qr::svg(&t)));
    view! {
        <div class="qr" role="img" aria-label=label data-testid="idv-qr" inner_html=move || svg.get().unwrap_or_default()></div>
    }
}

fn watch_of(v: &Verify) -> Option<Watch> {
    match v {
        Verify::Waiting(w) => Some(w.clone()),
        _ => None,
    }
}

/// The Verify Identity form, or the link while the customer has not finished.
#[component]
pub fn VerifyPanel(d: Driver) -> impl IntoView {
    let model = d.model;
    let kind = Memo::new(move |_| {
        model.with(|m| match m.verify {
            Verify::Closed => 0u8,
            Verify::Form(_) => 1,
            Verify::Waiting(_) => 2,
        })
    });
    move || match kind.get() {
        1 => view! { <VerifyForm d=d /> }.into_any(),
        2 => view! { <LinkPanel d=d /> }.into_any(),
        _ => ().into_any(),
    }
}

#[component]
fn VerifyForm(d: Driver) -> impl IntoView {
    let model = d.model;
    let form = Memo::new(move |_| {
        model.with(|m| match &m.verify {
            Verify::Form(f) => Some(f.clone()),
            _ => None,
        })
    });
    let field = move |f: fn(&crate::model::VerifyForm) -> bool| {
        move || form.with(|o| o.as_ref().is_some_and(f))
    };
    let busy = field(|f| f.busy);
    let valid = field(|f| f.is_valid());
    let doc_boxes = DOCUMENTS
        .iter()
        .enumerate()
        .map(|(i, (_, label))| {
            let checked = move || form.with(|o| o.as_ref().is_some_and(|f| f.documents[i]));
            view! {
                <label class="check">
                    <input
                        type="checkbox"
                        prop:checked=checked
                        disabled=busy
                        on:change=move |_| d.send(Msg::ToggleDocument(i))
                    />
                    {*label}
                </label>
            }
        })
        .collect_view();
    view! {
        <form
            class="panel"
            data-testid="idv-form"
            on:submit=move |ev| {
                ev.prevent_default();
                d.send(Msg::SubmitVerify { idempotency_key: bridge::random_key() });
            }
        >
            <h2>"Verify Identity"</h2>
            <label class="field">
                <span>"Assurance level"</span>
                <select
                    data-focus="form"
                    disabled=busy
                    prop:value=move || form.with(|o| o.as_ref().map(|f| f.ial.clone()).unwrap_or_default())
                    on:change=move |ev| d.send(Msg::SetIal(event_target_value(&ev)))
                >
                    <option value="IAL2">"IAL2: document and selfie"</option>
                    <option value="IAL1">"IAL1: basic"</option>
                </select>
            </label>
            <fieldset>
                <legend>"Accepted documents"</legend>
                {doc_boxes}
            </fieldset>
            <label class="check">
                <input
                    type="checkbox"
                    prop:checked=field(|f| f.send_email)
                    disabled=busy
                    on:change=move |ev| d.send(Msg::SetSendEmail(event_target_checked(&ev)))
                />
                "Email the link to the contact"
            </label>
            {move || (!valid()).then(|| view! { <p class="hint">"Choose at least one document."</p> })}
            {move || {
                form.with(|o| o.as_ref().and_then(|f| f.error.clone()))
                    .map(|e| view! { <p class="error" role="alert">{e.message}</p> })
            }}
            <div class="actions">
                <button type="submit" class="btn btn-primary" disabled=move || busy() || !valid()>
                    {move || if busy() { "Creating link…" } else { Action::CreateLink.label() }}
                </button>
                <button type="button" class="btn" disabled=busy on:click=move |_| d.send(Msg::CloseVerify)>
                    {Action::CloseForm.label()}
                </button>
            </div>
        </form>
    }
}

#[component]
fn LinkPanel(d: Driver) -> impl IntoView {
    let model = d.model;
    let watch = Memo::new(move |_| model.with(|m| watch_of(&m.verify)));
    let url =
        Memo::new(move |_| watch.with(|w| w.as_ref().and_then(|w| w.session.hosted_url.clone())));
    let expires = Memo::new(move |_| {
        watch.with(|w| {
            w.as_ref().and_then(|w| {
                w.session
                    .session_expires_at
                    .as_deref()
                    .map(time::short_date)
            })
        })
    });
    let cancelling = move || watch.with(|w| w.as_ref().is_some_and(|w| w.cancelling));
    let trouble = move || watch.with(|w| w.as_ref().and_then(|w| w.trouble.clone()));
    let copied = RwSignal::new(false);
    let input = NodeRef::<html::Input>::new();
    let copy = move |_| {
        let text = url.get_untracked().unwrap_or_default();
        let el: Option<wasm_bindgen::JsValue> = input.get_untracked().map(Into::into);
        leptos::task::spawn_local(async move {
            let ok = bridge::copy_text(&text, el.as_ref()).await;
            let _ = copied.try_set(ok);
            let note = if ok {
                "Link copied."
            } else {
                "Copying is blocked here: select the link and copy it."
            };
            d.model.try_update(|m| m.announcement = note.into());
        });
    };
    view! {
        <section class="panel" data-testid="idv-link-panel" aria-labelledby="idv-link-h">
            <h2 id="idv-link-h" tabindex="-1" data-focus="session">"Verification link"</h2>
            <p class="muted">
                "The customer opens this link, or scans the code, to show a document and take a selfie. "
                "Share it with them only."
            </p>
            <div class="linkrow">
                <input
                    class="link"
                    type="text"
                    readonly=true
                    aria-label="Verification link"
                    node_ref=input
                    prop:value=move || url.get().unwrap_or_default()
                    on:focus=move |ev| {
                        if let Some(t) = ev.target() {
                            let _ = bridge::call(&t.into(), "select", &[]);
                        }
                    }
                />
                <button type="button" class="btn" data-focus="copy" data-testid="idv-copy" on:click=copy>
                    {move || if copied.get() { "Copied" } else { Action::CopyLink.label() }}
                </button>
            </div>
            <Qr text=url label="QR code of the verification link" />
            <p class="progress" data-testid="idv-progress">
                <span class="spinner" aria-hidden="true"></span>
                "Waiting for the customer. The status updates by itself."
            </p>
            {move || expires.get().map(|e| view! { <p class="muted small">"Link valid until " {e}</p> })}
            {move || trouble().map(|t| view! { <p class="hint">{t}</p> })}
            <button
                type="button"
                class="btn btn-link"
                disabled=cancelling
                on:click=move |_| d.send(Msg::CancelVerify)
            >
                {move || if cancelling() { "Canceling…" } else { Action::CancelVerification.label() }}
            </button>
        </section>
    }
}

/// Past sessions, newest first; five at a time.
#[component]
pub fn History(items: Vec<Verification>) -> impl IntoView {
    let all = RwSignal::new(false);
    let total = items.len();
    let rows = move || {
        let shown = if all.get() { total } else { total.min(5) };
        items
            .iter()
            .take(shown)
            .map(|v| {
                let reason = v.failure_reason.clone();
                view! {
                    <li>
                        <span class=session_class(v.state)>{session_label(v.state)}</span>
                        <span class="what">{kind_label(v.kind)}</span>
                        <span class="muted when">{time::short_date(&v.created_at)}</span>
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
                    {move || (total > 5 && !all.get()).then(|| view! {
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

/// The contact page.
#[component]
pub fn ContactBody(d: Driver) -> impl IntoView {
    let model = d.model;
    let contact = Memo::new(move |_| model.with(|m| m.record().and_then(Record::contact).cloned()));
    view! {
        <StaleNote d=d />
        {move || contact.get().map(|c| view! { <Facts contact=c /> })}
        <ActionBar d=d />
        <VerifyPanel d=d />
        {move || contact.get().map(|c| view! { <History items=c.history /> })}
    }
}

#[component]
fn StaleNote(d: Driver) -> impl IntoView {
    let stale = Memo::new(move |_| d.model.with(|m| m.stale.clone()));
    move || stale.get().map(|f| view! { <ErrorBox failure=f d=d /> })
}

/// Stage and gate of a deal.
#[component]
fn Gate(deal: DealStatus) -> impl IntoView {
    let (gate, class) = match (deal.gated, deal.gate_satisfied) {
        (false, _) => ("This stage is not gated", "gate-open"),
        (true, true) => ("Gate satisfied: contact verified", "gate-ok"),
        (true, false) => ("Gated: needs a verified contact", "gate-blocked"),
    };
    let gated: Vec<String> = deal.gated_stages.iter().map(|s| s.name.clone()).collect();
    view! {
        <dl class="facts" data-testid="idv-gate">
            <dt>"Stage"</dt>
            <dd>{deal.stage.map_or_else(|| "Unknown".to_string(), |s| s.name)}</dd>
            <dt>"Gate"</dt>
            <dd><span class=class>{gate}</span></dd>
            <dt>"Gated stages"</dt>
            <dd>{if gated.is_empty() { "None".to_string() } else { gated.join(", ") }}</dd>
        </dl>
    }
}

/// The deal page.
#[component]
pub fn DealBody(d: Driver) -> impl IntoView {
    let model = d.model;
    let deal = Memo::new(move |_| {
        model.with(|m| match m.record() {
            Some(Record::Deal(deal)) => Some(deal.clone()),
            _ => None,
        })
    });
    let primary =
        Memo::new(move |_| deal.with(|o| o.as_ref().and_then(|d| d.primary_contact.clone())));
    let last = Memo::new(move |_| {
        let idle = model.with(|m| m.stepup == StepUp::Idle);
        deal.with(|o| {
            o.as_ref()
                .and_then(|d| d.stepup.clone())
                .filter(|v| idle && v.state.is_terminal())
        })
    });
    view! {
        <StaleNote d=d />
        {move || deal.get().map(|deal| view! { <Gate deal=*deal /> })}
        <section class="contact-box">
            <h2>"Primary contact"</h2>
            {move || match primary.get() {
                Some(c) => {
                    let mut facts = c.clone();
                    facts.history.clear();
                    view! { <Facts contact=facts /> }.into_any()
                }
                None => view! { <p class="muted">"This deal has no primary contact."</p> }.into_any(),
            }}
        </section>
        <StepUpPanel d=d />
        {move || last.get().map(|v| view! { <StepUpResult session=v previous=true /> })}
        <ActionBar d=d />
        <VerifyPanel d=d />
    }
}

#[component]
fn StepUpResult(session: Verification, #[prop(optional)] previous: bool) -> impl IntoView {
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
    let kind = Memo::new(move |_| {
        model.with(|m| match &m.stepup {
            StepUp::Idle => 0u8,
            StepUp::Starting => 1,
            StepUp::Active { .. } => 2,
            StepUp::Done(_) => 3,
            StepUp::NotEnrolled(_) => 4,
            StepUp::Failed(_) => 5,
        })
    });
    move || {
        match kind.get() {
        1 => view! {
            <p class="progress"><span class="spinner" aria-hidden="true"></span>"Starting the step-up…"</p>
        }
        .into_any(),
        2 => view! { <StepUpActive d=d /> }.into_any(),
        3 => model
            .with_untracked(|m| match &m.stepup {
                StepUp::Done(v) => Some(v.clone()),
                _ => None,
            })
            .map(|v| view! { <StepUpResult session=v /> })
            .into_any(),
        4 => {
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
        5 => model
            .with_untracked(|m| match &m.stepup {
                StepUp::Failed(f) => Some(f.message.clone()),
                _ => None,
            })
            .map(|msg| view! { <p class="error" role="alert">{msg}</p> })
            .into_any(),
        _ => ().into_any(),
    }
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
