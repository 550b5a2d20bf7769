//! The Verify Identity form, then the link while the customer has not finished.

use idv_types::Delivery;
use leptos::{html, prelude::*};

use super::qr::Qr;
use crate::{
    bridge,
    i18n::{self, fill, labels, t},
    model::{Action, Msg, Verify, VerifyPhase, Watch, DOCUMENTS},
    Driver,
};

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
    let phase = Memo::new(move |_| model.with(|m| m.verify.phase()));
    move || match phase.get() {
        VerifyPhase::Closed => ().into_any(),
        VerifyPhase::Form => view! { <VerifyForm d=d /> }.into_any(),
        VerifyPhase::Waiting => view! { <LinkPanel d=d /> }.into_any(),
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
        .map(|(i, code)| {
            let checked = move || form.with(|o| o.as_ref().is_some_and(|f| f.documents[i]));
            view! {
                <label class="check">
                    <input
                        type="checkbox"
                        prop:checked=checked
                        disabled=busy
                        on:change=move |_| d.send(Msg::ToggleDocument(i))
                    />
                    {labels::document(code.as_str())}
                </label>
            }
        })
        .collect_view();
    let offered = Memo::new(move |_| {
        form.with(|o| o.as_ref().map(|f| f.deliveries.clone()).unwrap_or_default())
    });
    let delivery_radios = move || {
        offered
            .get()
            .into_iter()
            .map(|choice| {
                let checked =
                    move || form.with(|o| o.as_ref().is_some_and(|f| f.delivery == choice));
                view! {
                    <label class="check">
                        <input
                            type="radio"
                            name="idv-delivery"
                            value=choice.as_str()
                            prop:checked=checked
                            disabled=busy
                            on:change=move |_| d.send(Msg::SetDelivery(choice))
                        />
                        {labels::delivery(choice)}
                    </label>
                }
            })
            .collect_view()
    };
    view! {
        <form
            class="panel"
            data-testid="idv-form"
            on:submit=move |ev| {
                ev.prevent_default();
                d.send(Msg::SubmitVerify { idempotency_key: bridge::random_key() });
            }
        >
            <h2>{t().verify_heading}</h2>
            <label class="field">
                <span>{t().assurance_level}</span>
                <select
                    data-focus="form"
                    disabled=busy
                    prop:value=move || form.with(|o| o.as_ref().map(|f| f.ial.clone()).unwrap_or_default())
                    on:change=move |ev| d.send(Msg::SetIal(event_target_value(&ev)))
                >
                    <option value="IAL2">{t().ial2_option}</option>
                    <option value="IAL1">{t().ial1_option}</option>
                </select>
            </label>
            <fieldset>
                <legend>{t().accepted_documents}</legend>
                {doc_boxes}
            </fieldset>
            {move || (offered.with(Vec::len) > 1).then(|| view! {
                <fieldset data-testid="idv-delivery">
                    <legend>{t().send_the_link}</legend>
                    {delivery_radios}
                </fieldset>
            })}
            {move || (!valid()).then(|| view! { <p class="hint">{t().choose_document}</p> })}
            {move || {
                form.with(|o| o.as_ref().and_then(|f| f.error.clone()))
                    .map(|e| view! { <p class="error" role="alert">{e.message}</p> })
            }}
            <div class="actions">
                <button type="submit" class="btn btn-primary" disabled=move || busy() || !valid()>
                    {move || if busy() { t().creating_link } else { Action::CreateLink.label() }}
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
            w.as_ref()
                .and_then(|w| w.session.session_expires_at.as_deref().map(i18n::date))
        })
    });
    let sent = Memo::new(move |_| {
        watch.with(|w| {
            w.as_ref().map(|w| {
                (
                    w.session.delivery.unwrap_or_default(),
                    w.session.delivery_error.clone(),
                )
            })
        })
    });
    let delivery_note = move || {
        sent.get().and_then(|(how, error)| match (how, error) {
            (_, Some(e)) => Some(
                view! {
                    <p class="error" role="alert" data-testid="idv-delivery-error">
                        {fill(t().link_not_sent, &[("error", &e)])}
                    </p>
                }
                .into_any(),
            ),
            (Delivery::Email, None) => Some(
                view! { <p class="muted" data-testid="idv-delivered">{t().link_emailed}</p> }
                    .into_any(),
            ),
            (Delivery::Sms, None) => Some(
                view! { <p class="muted" data-testid="idv-delivered">{t().link_texted}</p> }
                    .into_any(),
            ),
            (Delivery::Show, None) => None,
        })
    };
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
                t().link_copied
            } else {
                t().copy_blocked
            };
            d.model.try_update(|m| m.announcement = note.into());
        });
    };
    view! {
        <section class="panel" data-testid="idv-link-panel" aria-labelledby="idv-link-h">
            <h2 id="idv-link-h" tabindex="-1" data-focus="session">{t().link_heading}</h2>
            <p class="muted">{t().link_instructions}</p>
            {delivery_note}
            <div class="linkrow">
                <input
                    class="link"
                    type="text"
                    readonly=true
                    aria-label=t().link_heading
                    node_ref=input
                    prop:value=move || url.get().unwrap_or_default()
                    on:focus=move |ev| {
                        if let Some(t) = ev.target() {
                            let _ = bridge::call(&t.into(), "select", &[]);
                        }
                    }
                />
                <button type="button" class="btn" data-focus="copy" data-testid="idv-copy" on:click=copy>
                    {move || if copied.get() { t().copied } else { Action::CopyLink.label() }}
                </button>
            </div>
            <Qr text=url label=t().qr_link />
            <p class="progress" data-testid="idv-progress">
                <span class="spinner" aria-hidden="true"></span>
                {t().waiting}
            </p>
            {move || expires.get().map(|e| view! { <p class="muted small">{fill(t().link_valid_until, &[("date", &e)])}</p> })}
            {move || trouble().map(|t| view! { <p class="hint">{t}</p> })}
            <button
                type="button"
                class="btn btn-link"
                disabled=cancelling
                on:click=move |_| d.send(Msg::CancelVerify)
            >
                {move || if cancelling() { t().canceling } else { Action::CancelVerification.label() }}
            </button>
        </section>
    }
}
