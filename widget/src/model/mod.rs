//! What the widget shows and which requests it makes, as a reducer over plain data.
//!
//! `Model::update(msg, now)` changes the state and returns the commands to run (requests, timers,
//! toasts). The components only render the model and run the commands, so every rule here has a
//! native test: loading → loaded / error → retry, the polling schedules, the step-up countdown,
//! and which actions are offered in which state.
//!
//! This file holds the state, the messages, the commands and the dispatch; each concern has its
//! own file, with its tests:
//!
//! - `record.rs`: the record the widget sits on (contact or deal), loading and refreshing it;
//! - `actions.rs`: the buttons offered in each state;
//! - `verify.rs`: the *Verify Identity* form and the link the customer opens;
//! - `resend.rs`: *Resend link* for a link that expired unused or was not delivered;
//! - `stepup.rs`: the LiveID step-up (on a deal, or on an enrolled contact), with its countdown;
//! - `watch.rs`: polling and canceling a pending session (shared by both flows);
//! - `failure.rs`: why a request did not give what was asked;
//! - `history.rs`: past sessions, newest first;
//! - `fresh.rs`: on a help-desk ticket, whether the requester verified recently enough;
//! - `activity.rs`: the contact's audit trail in the history panel.

mod actions;
mod activity;
mod failure;
mod fresh;
mod history;
mod record;
mod resend;
mod stepup;
mod verify;
mod watch;

#[cfg(test)]
mod fixtures;

use idv_types::{
    ContactData, ResendAnswer, ResendLink, StartStepUp, StartVerification, Verification,
};

pub use self::{
    actions::Action,
    activity::Activity,
    failure::Failure,
    fresh::{freshness, Freshness},
    history::sort_newest_first,
    record::{page_contact, Load, Phase, Record, Subject},
    stepup::{StepUp, StepUpPhase, DEFAULT_STEPUP_MS, STEPUP_GRACE_MS},
    verify::{Verify, VerifyForm, VerifyPhase, DOCUMENTS, IAL_LEVELS},
    watch::Watch,
};

/// Where the keyboard focus should go after a user action (the old control may be gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    None,
    /// The first field of the Verify Identity form.
    Form,
    /// The Copy button of a fresh link.
    Copy,
    /// The heading of the session panel.
    Session,
    /// The first button of the action bar.
    Actions,
}

impl Focus {
    /// The `data-focus` attribute value of the element that takes the focus.
    pub fn key(self) -> &'static str {
        match self {
            Self::None => "",
            Self::Form => "form",
            Self::Copy => "copy",
            Self::Session => "session",
            Self::Actions => "actions",
        }
    }
}

/// Everything that can happen to the widget.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// First load, Retry, or a refresh after a session ended.
    Refresh,
    Loaded(Record),
    LoadFailed(Failure),
    OpenVerify,
    CloseVerify,
    SetIal(String),
    ToggleDocument(usize),
    SetDelivery(idv_types::Delivery),
    SubmitVerify {
        idempotency_key: String,
    },
    VerifyStarted(Verification),
    VerifyFailed(Failure),
    CancelVerify,
    /// *Resend link* (see `resend.rs`).
    ResendLink,
    Resent(ResendAnswer),
    ResendFailed(Failure),
    StartStepUp,
    StepUpStarted(Verification),
    StepUpFailed(Failure),
    CancelStepUp,
    Canceled(Verification),
    CancelFailed {
        id: String,
        failure: Failure,
    },
    /// A poll timer fired.
    PollDue {
        gen: u32,
    },
    Polled {
        gen: u32,
        session: Verification,
    },
    PollFailed {
        gen: u32,
        failure: Failure,
    },
    /// The clock moved (every second while a step-up runs).
    Tick,
    /// The history panel's activity list (the contact's audit trail).
    ShowActivity,
    HideActivity,
    ActivityLoaded(idv_types::AuditPage),
    ActivityFailed(Failure),
}

/// Toast kinds of `client.interface.trigger("showNotify")`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Success,
    Warning,
    Danger,
}

impl Tone {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Warning => "warning",
            Self::Danger => "danger",
        }
    }
}

/// Work for the component to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    Fetch(Subject),
    StartVerification {
        contact_id: u64,
        idempotency_key: String,
        body: StartVerification,
    },
    StartStepUp {
        deal_id: u64,
        body: StartStepUp,
    },
    /// Step-up on the contact page (an enrolled contact).
    StartContactStepUp {
        contact_id: u64,
        body: StartStepUp,
    },
    /// Send `Msg::PollDue { gen }` after `delay_ms`.
    Schedule {
        gen: u32,
        delay_ms: u32,
    },
    GetVerification {
        gen: u32,
        id: String,
    },
    Cancel {
        id: String,
    },
    /// Send the link of session `id` again.
    Resend {
        id: String,
        body: ResendLink,
    },
    FetchAudit {
        contact_id: u64,
    },
    Toast {
        tone: Tone,
        title: &'static str,
        message: String,
    },
}

/// The widget's whole state.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub subject: Subject,
    pub load: Load,
    /// A refresh is in flight (the data on screen stays).
    pub refreshing: bool,
    /// A refresh failed: the data on screen is old.
    pub stale: Option<Failure>,
    pub verify: Verify,
    pub stepup: StepUp,
    /// The contact's activity in the history panel.
    pub activity: Activity,
    /// The clock at the last message.
    pub now: f64,
    /// The latest status change, for the `aria-live` region.
    pub announcement: String,
    /// The Freshworks user's email (`requested_by`).
    pub user: Option<String>,
    /// What the contact page already shows about its contact (name, email, phone), sent with a
    /// start so the backend need not read the contact from the CRM. See [`page_contact`].
    pub contact_data: Option<ContactData>,
    /// The help-desk ticket the widget sits on (Freshdesk): a start names it, so the result is
    /// noted on the ticket.
    pub ticket: Option<u64>,
    /// The session whose link is being sent again (one request at a time).
    pub resending: Option<String>,
    /// Bumped with each focus request, so asking twice for the same place still moves focus.
    pub focus: (u32, Focus),
    next_gen: u32,
}

impl Model {
    pub fn new(subject: Subject, user: Option<String>) -> Self {
        Self {
            subject,
            load: Load::Loading,
            refreshing: false,
            stale: None,
            verify: Verify::Closed,
            stepup: StepUp::Idle,
            activity: Activity::Hidden,
            now: 0.0,
            announcement: String::new(),
            user,
            contact_data: None,
            ticket: None,
            resending: None,
            focus: (0, Focus::None),
            next_gen: 1,
        }
    }

    /// Applies one message; returns the work it asks for.
    pub fn update(&mut self, msg: Msg, now: f64) -> Vec<Cmd> {
        self.now = now;
        let mut cmds = Vec::new();
        let out = &mut cmds;
        match msg {
            // The record (record.rs).
            Msg::Refresh => self.refresh(out),
            Msg::Loaded(record) => self.loaded(record, out),
            Msg::LoadFailed(failure) => self.load_failed(failure, out),
            // Verify Identity (verify.rs).
            Msg::OpenVerify => self.open_verify(),
            Msg::CloseVerify => self.close_verify(),
            Msg::SetIal(ial) => self.set_ial(ial),
            Msg::ToggleDocument(i) => self.toggle_document(i),
            Msg::SetDelivery(d) => self.set_delivery(d),
            Msg::SubmitVerify { idempotency_key } => self.submit_verify(idempotency_key, out),
            Msg::VerifyStarted(session) => self.verify_started(session, out),
            Msg::VerifyFailed(failure) => self.verify_failed(failure, out),
            Msg::CancelVerify => self.cancel_verify(out),
            // Resend link (resend.rs).
            Msg::ResendLink => self.resend_link(out),
            Msg::Resent(answer) => self.resent(answer, out),
            Msg::ResendFailed(failure) => self.resend_failed(failure, out),
            // Step-up (stepup.rs).
            Msg::StartStepUp => self.start_stepup(out),
            Msg::StepUpStarted(session) => self.stepup_started(session, out),
            Msg::StepUpFailed(failure) => self.stepup_failed(failure, out),
            Msg::CancelStepUp => self.cancel_stepup(out),
            Msg::Tick => self.tick(out),
            // Either flow's pending session (watch.rs).
            Msg::Canceled(session) => self.canceled(session, out),
            Msg::CancelFailed { id, failure } => self.cancel_failed(&id, failure, out),
            Msg::PollDue { gen } => self.poll_due(gen, out),
            Msg::Polled { gen, session } => self.polled(gen, session, out),
            Msg::PollFailed { gen, failure } => self.poll_failed(gen, failure, out),
            // The activity list (activity.rs).
            Msg::ShowActivity => self.show_activity(out),
            Msg::HideActivity => self.hide_activity(),
            Msg::ActivityLoaded(page) => self.activity_loaded(page),
            Msg::ActivityFailed(failure) => self.activity_failed(failure),
        }
        cmds
    }

    /// A new poll generation.
    fn gen(&mut self) -> u32 {
        let g = self.next_gen;
        self.next_gen += 1;
        g
    }

    fn focus(&mut self, f: Focus) {
        self.focus = (self.focus.0 + 1, f);
    }

    fn announce(&mut self, text: impl Into<String>) {
        self.announcement = text.into();
    }
}
