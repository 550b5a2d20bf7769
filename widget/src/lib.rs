//! The Freshsales IDV widget.
//!
//! `App` finds the record it sits on through the Freshworks [`bridge`], picks the
//! [`transport`] (request templates inside Freshworks, gloo-net outside) and mounts [`Widget`].
//! The view state is the plain-Rust reducer in [`model`]; [`Driver`] runs its commands.

pub mod api;
pub mod bridge;
pub mod clock;
pub mod components;
pub mod i18n;
pub mod model;
pub mod qr;
pub mod time;
pub mod transport;
pub mod wire;

use std::{rc::Rc, time::Duration};

use leptos::{html, prelude::*, task::spawn_local};
use wasm_bindgen::{closure::Closure, JsCast};

pub use crate::components::{BadgeState, StatusBadge};
use crate::{
    api::Api,
    bridge::Bridge,
    components::{ContactBody, DealBody, ErrorBox, Skeleton},
    model::{Cmd, Focus, Model, Msg, Phase, Record, Subject},
};

/// What the commands need: the API and the Freshworks client.
struct Env {
    api: Api,
    bridge: Bridge,
}

/// Sends messages to the model and runs the commands it returns. `Copy`, so every event
/// handler can hold one.
#[derive(Clone, Copy)]
pub struct Driver {
    pub model: RwSignal<Model>,
    env: StoredValue<Env, LocalStorage>,
}

impl Driver {
    pub fn send(self, msg: Msg) {
        let Some(cmds) = self.model.try_update(|m| m.update(msg, clock::now())) else {
            return; // unmounted
        };
        for cmd in cmds {
            self.run(cmd);
        }
    }

    fn run(self, cmd: Cmd) {
        let Some(api) = self.env.try_with_value(|e| e.api.clone()) else {
            return;
        };
        match cmd {
            Cmd::Fetch(subject) => spawn_local(async move {
                self.send(match api.fetch(subject).await {
                    Ok(r) => Msg::Loaded(r),
                    Err(f) => Msg::LoadFailed(f),
                })
            }),
            Cmd::StartVerification {
                contact_id,
                idempotency_key,
                body,
            } => spawn_local(async move {
                self.send(
                    match api
                        .start_verification(contact_id, idempotency_key, &body)
                        .await
                    {
                        Ok(v) => Msg::VerifyStarted(v),
                        Err(f) => Msg::VerifyFailed(f),
                    },
                )
            }),
            Cmd::StartStepUp { deal_id, body } => spawn_local(async move {
                self.send(match api.start_step_up(deal_id, &body).await {
                    Ok(v) => Msg::StepUpStarted(v),
                    Err(f) => Msg::StepUpFailed(f),
                })
            }),
            Cmd::StartContactStepUp { contact_id, body } => spawn_local(async move {
                self.send(match api.start_contact_step_up(contact_id, &body).await {
                    Ok(v) => Msg::StepUpStarted(v),
                    Err(f) => Msg::StepUpFailed(f),
                })
            }),
            Cmd::Schedule { gen, delay_ms } => set_timeout(
                move || self.send(Msg::PollDue { gen }),
                Duration::from_millis(delay_ms.into()),
            ),
            Cmd::GetVerification { gen, id } => spawn_local(async move {
                self.send(match api.verification(id).await {
                    Ok(session) => Msg::Polled { gen, session },
                    Err(failure) => Msg::PollFailed { gen, failure },
                })
            }),
            Cmd::Cancel { id } => spawn_local(async move {
                self.send(match api.cancel(id.clone()).await {
                    Ok(v) => Msg::Canceled(v),
                    Err(failure) => Msg::CancelFailed { id, failure },
                })
            }),
            Cmd::Resend { id, body } => spawn_local(async move {
                self.send(match api.resend(id, &body).await {
                    Ok(answer) => Msg::Resent(answer),
                    Err(f) => Msg::ResendFailed(f),
                })
            }),
            Cmd::FetchAudit { contact_id } => spawn_local(async move {
                self.send(match api.contact_audit(contact_id).await {
                    Ok(page) => Msg::ActivityLoaded(page),
                    Err(f) => Msg::ActivityFailed(f),
                })
            }),
            Cmd::Toast {
                tone,
                title,
                message,
            } => {
                let _ = self.env.try_with_value(|e| {
                    e.bridge
                        .notify(tone.as_str(), &time::toast_title(title), &message)
                });
            }
        }
    }
}

/// The widget for one record. Tests mount it with a fake transport and a detached bridge.
#[component]
pub fn Widget(
    subject: Subject,
    api: Api,
    /// The Freshworks client (toasts, resize); `Bridge::detached()` outside.
    #[prop(optional)]
    bridge: Bridge,
    /// The Freshworks user's email, recorded as `requested_by`.
    user: Option<String>,
    /// What the contact page shows about its contact, sent with a start.
    #[prop(default = None)]
    contact: Option<idv_types::ContactData>,
    /// The help-desk ticket the widget sits on (its requester is the contact).
    #[prop(default = None)]
    ticket: Option<u64>,
    /// The record's status, read before the widget mounted; read by the widget if `None`.
    #[prop(default = None)]
    record: Option<Record>,
) -> impl IntoView {
    let mut initial = Model::new(subject, user);
    initial.contact_data = contact;
    initial.ticket = ticket;
    let model = RwSignal::new(initial);
    let d = Driver {
        model,
        env: StoredValue::new_local(Env {
            api,
            bridge: bridge.clone(),
        }),
    };
    match record {
        Some(record) => d.send(Msg::Loaded(record)),
        None => {
            d.send(Msg::Refresh);
            // The locale's formatters are built while the read is on its way (a timeout runs
            // after the request went out; see `i18n::prepare`).
            set_timeout(i18n::prepare, Duration::ZERO);
        }
    }

    // The step-up countdown's clock.
    if let Ok(ticker) = set_interval_with_handle(
        move || {
            if model.try_with_untracked(Model::needs_clock) == Some(true) {
                d.send(Msg::Tick);
            }
        },
        Duration::from_secs(1),
    ) {
        on_cleanup(move || ticker.clear());
    }

    let root = NodeRef::<html::Main>::new();
    // Focus follows user actions whose control disappears (see `Focus`).
    let focus = Memo::new(move |_| model.with(|m| m.focus));
    Effect::new(move |_| {
        let (_, target) = focus.get();
        if target != Focus::None {
            request_animation_frame(move || {
                if let Some(el) = root.get_untracked() {
                    components::focus_in(&el, target.key());
                }
            });
        }
    });
    watch_height(root, bridge);

    let phase = Memo::new(move |_| model.with(|m| m.phase()));
    let badge = Signal::derive(move || {
        model.with(|m| match m.phase() {
            Phase::Loading => BadgeState::Loading,
            Phase::Failed => BadgeState::Unavailable,
            Phase::Ready => m.status().map_or(BadgeState::NoContact, BadgeState::Status),
        })
    });
    let failure = Memo::new(move |_| {
        model.with(|m| match &m.load {
            model::Load::Failed(f) => Some(f.clone()),
            _ => None,
        })
    });
    let locale = i18n::locale();
    view! {
        <main
            class="idv"
            lang=locale.tag
            dir=locale.lang.dir()
            node_ref=root
            aria-busy=move || (phase.get() == Phase::Loading).to_string()
        >
            <p class="sr-only" role="status" aria-live="polite" aria-atomic="true" data-testid="idv-live">
                {move || model.with(|m| m.announcement.clone())}
            </p>
            <header class="idv-head">
                <h1>{match (subject, ticket) {
                    (Subject::Contact(_), Some(_)) => i18n::t().heading_requester,
                    _ => i18n::t().heading_identity,
                }}</h1>
                <StatusBadge state=badge />
            </header>
            {move || match phase.get() {
                Phase::Loading => view! { <Skeleton /> }.into_any(),
                Phase::Failed => failure
                    .get()
                    .map(|f| view! { <ErrorBox failure=f d=d /> })
                    .into_any(),
                Phase::Ready => match subject {
                    Subject::Contact(_) => view! { <ContactBody d=d /> }.into_any(),
                    Subject::Deal(_) => view! { <DealBody d=d /> }.into_any(),
                },
            }}
        </main>
    }
}

/// Tells Freshworks the widget's height whenever it changes (`client.instance.resize`).
fn watch_height(root: NodeRef<html::Main>, bridge: Bridge) {
    if bridge.client().is_none() {
        return;
    }
    Effect::new(move |_| {
        let Some(el) = root.get() else { return };
        let last = std::cell::Cell::new(0u32);
        let bridge = bridge.clone();
        let target = el.clone();
        let cb = Closure::<dyn FnMut()>::new(move || {
            let h = target.offset_height().max(0) as u32;
            if h != last.get() {
                last.set(h);
                bridge.resize(h);
            }
        });
        if let Ok(observer) = web_sys::ResizeObserver::new(cb.as_ref().unchecked_ref()) {
            observer.observe(&el);
        }
        // The widget lives as long as the page.
        cb.forget();
    });
}

/// Everything the widget needs from the page.
#[derive(Clone)]
struct Setup {
    subject: Subject,
    api: Api,
    bridge: Bridge,
    user: Option<String>,
    contact: Option<idv_types::ContactData>,
    ticket: Option<u64>,
    record: Option<Record>,
}

async fn setup() -> Result<Setup, String> {
    let bridge = Bridge::init().await;
    let user = bridge.user().await;
    speak(user.language.as_deref());
    // The record and the backend are known without the language's file: the status read, the
    // file (a page in another language than English) and the contact's fields are read at
    // once, and the browser builds the locale's date and number formatters meanwhile.
    let page = bridge.page().await;
    let api = transport::pick(bridge.client()).map(|t| Api::new(Rc::from(t)));
    let status = async {
        match (&page, &api) {
            (Ok((subject, _)), Ok(api)) => api.fetch(*subject).await.ok(),
            _ => None,
        }
    };
    let contact = async {
        match page {
            Ok((Subject::Contact(_), _)) => bridge.contact_data().await,
            _ => None,
        }
    };
    let language = i18n::catalogue::load(i18n::locale().lang);
    // Runs once the reads below went out.
    set_timeout(i18n::prepare, Duration::ZERO);
    let (record, contact, ()) = futures::future::join3(status, contact, language).await;
    // What went wrong is said once the language's file was read: asked again.
    let (subject, ticket) = match page {
        Ok(page) => page,
        Err(_) => bridge.page().await?,
    };
    let api = match api {
        Ok(api) => api,
        Err(_) => Api::new(Rc::from(transport::pick(bridge.client())?)),
    };
    Ok(Setup {
        subject,
        api,
        bridge,
        user: user.email,
        contact,
        ticket,
        record,
    })
}

/// Chooses the page's language: the host's locale parameter (the HubSpot card's user), the
/// Freshworks user's language, the browser's languages, else English.
fn speak(user_language: Option<&str>) {
    let page = bridge::page_locale();
    let browser = bridge::browser_languages();
    let locale = i18n::Locale::choose(
        page.as_deref()
            .into_iter()
            .chain(user_language)
            .chain(browser.iter().map(String::as_str)),
    );
    bridge::mark_document(&locale.tag, locale.lang.dir());
    i18n::set(locale);
}

/// The whole page: connects to Freshworks (or the stand-in), then shows [`Widget`].
#[component]
pub fn App() -> impl IntoView {
    // The page's and the browser's language at once; the Freshworks user's once it is known.
    speak(None);
    let ready = RwSignal::new_local(None::<Result<Setup, String>>);
    spawn_local(async move {
        let s = setup().await;
        ready.set(Some(s));
    });
    move || {
        match ready.get() {
        Some(Ok(s)) => view! {
            <Widget subject=s.subject api=s.api bridge=s.bridge user=s.user contact=s.contact ticket=s.ticket record=s.record />
        }
        .into_any(),
        Some(Err(e)) => view! {
            <main class="idv">
                <header class="idv-head">
                    <h1>{i18n::t().heading_identity}</h1>
                    <StatusBadge state=BadgeState::Unavailable />
                </header>
                <div class="error" role="alert"><p>{e}</p></div>
            </main>
        }
        .into_any(),
        None => view! {
            <main class="idv" aria-busy="true">
                <header class="idv-head">
                    <h1>{i18n::t().heading_identity}</h1>
                    <StatusBadge state=BadgeState::Loading />
                </header>
                <Skeleton />
            </main>
        }
        .into_any(),
    }
    }
}
