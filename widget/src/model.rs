//! What the widget shows and which requests it makes, as a reducer over plain data.
//!
//! `Model::update(msg, now)` changes the state and returns the commands to run (requests, timers,
//! toasts). The components only render the model and run the commands, so every rule here has a
//! native test: loading → loaded / error → retry, the polling schedules, the step-up countdown,
//! and which actions are offered in which state.

use idv_types::{
    ContactStatus, DealStatus, IdvStatus, Kind, SessionState, StartStepUp, StartVerification,
    Verification,
};

use crate::time;

/// The document types a rep can allow, with their labels.
pub const DOCUMENTS: [(&str, &str); 3] = [
    ("drivers_license", "Driver's licence"),
    ("passport", "Passport"),
    ("national_id", "National ID"),
];

/// Assurance levels offered in the form (first is the default).
pub const IAL_LEVELS: [&str; 2] = ["IAL2", "IAL1"];

/// Lifetime assumed for a LiveID session whose answer has no expiry.
pub const DEFAULT_STEPUP_MS: f64 = 90_000.0;
/// How long past its deadline a step-up is still polled, for the provider's last word.
pub const STEPUP_GRACE_MS: f64 = 10_000.0;

/// The record the widget sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Contact(u64),
    Deal(u64),
}

/// What the backend said about the subject.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Contact(Box<ContactStatus>),
    Deal(Box<DealStatus>),
}

impl Record {
    /// The contact whose status the badge shows (a deal's primary contact).
    pub fn contact(&self) -> Option<&ContactStatus> {
        match self {
            Self::Contact(c) => Some(c),
            Self::Deal(d) => d.primary_contact.as_ref(),
        }
    }

    fn contact_mut(&mut self) -> Option<&mut ContactStatus> {
        match self {
            Self::Contact(c) => Some(c),
            Self::Deal(d) => d.primary_contact.as_mut(),
        }
    }
}

/// Why a request did not give what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// HTTP status; 0 when the backend could not be reached.
    pub status: u16,
    /// The backend's error code (`not_enrolled`, `not_found`, …), or `network` / `http`.
    pub code: String,
    /// A sentence a person can act on.
    pub message: String,
}

impl Failure {
    pub fn network(message: impl Into<String>) -> Self {
        Self {
            status: 0,
            code: "network".into(),
            message: message.into(),
        }
    }

    pub fn is_not_enrolled(&self) -> bool {
        self.code == "not_enrolled"
    }
}

/// The load state of the record.
#[derive(Debug, Clone, PartialEq)]
pub enum Load {
    Loading,
    Ready(Record),
    Failed(Failure),
}

/// Coarse phase of [`Load`], cheap to compare in the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Loading,
    Ready,
    Failed,
}

/// The *Verify Identity* form.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyForm {
    pub contact_id: u64,
    pub ial: String,
    /// Allowed document types, in [`DOCUMENTS`] order.
    pub documents: [bool; 3],
    pub send_email: bool,
    /// Start a new session even though the contact is verified.
    pub force: bool,
    /// The request is in flight.
    pub busy: bool,
    pub error: Option<Failure>,
}

impl VerifyForm {
    pub fn new(contact_id: u64, force: bool) -> Self {
        Self {
            contact_id,
            ial: IAL_LEVELS[0].into(),
            documents: [true; 3],
            send_email: false,
            force,
            busy: false,
            error: None,
        }
    }

    /// At least one document type must be allowed.
    pub fn is_valid(&self) -> bool {
        self.documents.iter().any(|d| *d)
    }

    pub fn request(&self, requested_by: Option<String>) -> StartVerification {
        StartVerification {
            ial: Some(self.ial.clone()),
            document_types: DOCUMENTS
                .iter()
                .zip(self.documents)
                .filter(|(_, on)| *on)
                .map(|((code, _), _)| (*code).to_string())
                .collect(),
            requested_by,
            force: self.force,
            send_email: self.send_email,
        }
    }
}

/// A pending session being watched.
#[derive(Debug, Clone, PartialEq)]
pub struct Watch {
    pub session: Verification,
    /// Identifies this watch; answers to older polls are dropped.
    pub gen: u32,
    /// Polls made so far (for the backoff).
    pub attempt: u32,
    pub cancelling: bool,
    /// The last poll failed (shown quietly; polling goes on).
    pub trouble: Option<String>,
}

/// The ID-check flow (contact page; deal page for the primary contact).
#[derive(Debug, Clone, PartialEq)]
// One value per widget: boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Verify {
    Closed,
    Form(VerifyForm),
    /// A link is out and the customer has not finished.
    Waiting(Watch),
}

/// The step-up flow (deal page).
#[derive(Debug, Clone, PartialEq)]
pub enum StepUp {
    Idle,
    Starting,
    Active {
        watch: Watch,
        /// On the local clock, see [`time::session_deadline`].
        deadline: f64,
    },
    /// Verified, failed, expired or canceled.
    Done(Verification),
    /// The primary contact has no LiveID enrolment: offer Verify Identity.
    NotEnrolled(String),
    Failed(Failure),
}

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

/// Buttons the widget offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Retry,
    VerifyIdentity,
    VerifyAgain,
    /// Deal page: open Verify Identity for the primary contact.
    VerifyPrimaryContact,
    CreateLink,
    CloseForm,
    CopyLink,
    CancelVerification,
    StepUp,
    RestartStepUp,
    CancelStepUp,
}

impl Action {
    pub fn label(self) -> &'static str {
        match self {
            Self::Retry => "Retry",
            Self::VerifyIdentity => "Verify Identity",
            Self::VerifyAgain => "Verify again",
            Self::VerifyPrimaryContact => "Verify Identity of the contact",
            Self::CreateLink => "Create link",
            Self::CloseForm => "Back",
            Self::CopyLink => "Copy",
            Self::CancelVerification => "Cancel verification",
            Self::StepUp => "Step-Up Auth",
            Self::RestartStepUp => "Restart step-up",
            Self::CancelStepUp => "Cancel step-up",
        }
    }

    /// The main action bar (the rest live in their panels).
    pub fn in_action_bar(self) -> bool {
        matches!(
            self,
            Self::VerifyIdentity
                | Self::VerifyAgain
                | Self::VerifyPrimaryContact
                | Self::StepUp
                | Self::RestartStepUp
        )
    }

    /// The message a click sends (`CreateLink` needs a fresh key, `CopyLink` is local).
    pub fn msg(self) -> Option<Msg> {
        Some(match self {
            Self::Retry => Msg::Refresh,
            Self::VerifyIdentity | Self::VerifyAgain | Self::VerifyPrimaryContact => {
                Msg::OpenVerify
            }
            Self::CloseForm => Msg::CloseVerify,
            Self::CancelVerification => Msg::CancelVerify,
            Self::StepUp | Self::RestartStepUp => Msg::StartStepUp,
            Self::CancelStepUp => Msg::CancelStepUp,
            Self::CreateLink | Self::CopyLink => return None,
        })
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
    SetSendEmail(bool),
    SubmitVerify {
        idempotency_key: String,
    },
    VerifyStarted(Verification),
    VerifyFailed(Failure),
    CancelVerify,
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
    /// The clock at the last message.
    pub now: f64,
    /// The latest status change, for the `aria-live` region.
    pub announcement: String,
    /// The Freshworks user's email (`requested_by`).
    pub user: Option<String>,
    /// Bumped with each focus request, so asking twice for the same place still moves focus.
    pub focus: (u32, Focus),
    next_gen: u32,
}

fn session_state_label(s: SessionState) -> &'static str {
    match s {
        SessionState::Pending => "pending",
        SessionState::Verified => "verified",
        SessionState::Failed => "failed",
        SessionState::Expired => "expired",
        SessionState::Canceled => "canceled",
    }
}

fn tone_of(s: SessionState) -> Tone {
    match s {
        SessionState::Verified => Tone::Success,
        SessionState::Failed => Tone::Danger,
        _ => Tone::Warning,
    }
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
            now: 0.0,
            announcement: String::new(),
            user,
            focus: (0, Focus::None),
            next_gen: 1,
        }
    }

    pub fn phase(&self) -> Phase {
        match self.load {
            Load::Loading => Phase::Loading,
            Load::Ready(_) => Phase::Ready,
            Load::Failed(_) => Phase::Failed,
        }
    }

    pub fn record(&self) -> Option<&Record> {
        match &self.load {
            Load::Ready(r) => Some(r),
            _ => None,
        }
    }

    /// The badge's status: `None` while loading or when there is no contact to show.
    pub fn status(&self) -> Option<IdvStatus> {
        self.record()?.contact().map(|c| c.status)
    }

    /// Seconds left on the running step-up.
    pub fn stepup_seconds_left(&self) -> Option<u32> {
        match &self.stepup {
            StepUp::Active { deadline, .. } => Some(time::seconds_left(*deadline, self.now)),
            _ => None,
        }
    }

    /// Whether the clock should tick (a step-up is running).
    pub fn needs_clock(&self) -> bool {
        matches!(self.stepup, StepUp::Active { .. })
    }

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

    fn deal_id(&self) -> Option<u64> {
        match self.subject {
            Subject::Deal(id) => Some(id),
            Subject::Contact(_) => None,
        }
    }

    /// The actions offered now, in display order.
    pub fn actions(&self) -> Vec<Action> {
        let mut out = Vec::new();
        let record = match &self.load {
            Load::Loading => return out,
            Load::Failed(_) => {
                out.push(Action::Retry);
                return out;
            }
            Load::Ready(r) => r,
        };
        if self.stale.is_some() {
            out.push(Action::Retry);
        }
        let contact = record.contact();
        if let Record::Deal(deal) = record {
            if contact.is_none() {
                return out;
            }
            match &self.stepup {
                StepUp::Idle | StepUp::Failed(_) => out.push(Action::StepUp),
                StepUp::Done(v) if v.state == SessionState::Verified => out.push(Action::StepUp),
                StepUp::Done(_) => out.push(Action::RestartStepUp),
                StepUp::Active { .. } => out.push(Action::CancelStepUp),
                StepUp::Starting | StepUp::NotEnrolled(_) => {}
            }
            let offer_verify = matches!(self.stepup, StepUp::NotEnrolled(_))
                || (deal.gated && !deal.gate_satisfied);
            if offer_verify && self.verify == Verify::Closed {
                out.push(Action::VerifyPrimaryContact);
            }
        } else if self.verify == Verify::Closed {
            let verified = contact.is_some_and(|c| c.status == IdvStatus::Verified);
            out.push(if verified {
                Action::VerifyAgain
            } else {
                Action::VerifyIdentity
            });
        }
        match &self.verify {
            Verify::Closed => {}
            Verify::Form(_) => out.extend([Action::CreateLink, Action::CloseForm]),
            Verify::Waiting(w) => {
                if w.session.hosted_url.is_some() {
                    out.push(Action::CopyLink);
                }
                out.push(Action::CancelVerification);
            }
        }
        out
    }

    /// Applies one message; returns the work it asks for.
    pub fn update(&mut self, msg: Msg, now: f64) -> Vec<Cmd> {
        self.now = now;
        let mut cmds = Vec::new();
        match msg {
            Msg::Refresh => self.refresh(&mut cmds),
            Msg::Loaded(record) => self.loaded(record, &mut cmds),
            Msg::LoadFailed(failure) => {
                self.refreshing = false;
                cmds.push(Cmd::Toast {
                    tone: Tone::Danger,
                    title: "Identity status unavailable",
                    message: failure.message.clone(),
                });
                self.announce(format!("Could not load the status: {}", failure.message));
                if matches!(self.load, Load::Ready(_)) {
                    self.stale = Some(failure);
                } else {
                    self.load = Load::Failed(failure);
                }
            }
            Msg::OpenVerify => {
                let Some(contact) = self.record().and_then(Record::contact) else {
                    return cmds;
                };
                if self.verify == Verify::Closed {
                    let force = contact.status == IdvStatus::Verified;
                    self.verify = Verify::Form(VerifyForm::new(contact.contact_id, force));
                    self.focus(Focus::Form);
                }
            }
            Msg::CloseVerify => {
                if matches!(&self.verify, Verify::Form(f) if !f.busy) {
                    self.verify = Verify::Closed;
                    self.focus(Focus::Actions);
                }
            }
            Msg::SetIal(ial) => {
                if let Verify::Form(f) = &mut self.verify {
                    if !f.busy && IAL_LEVELS.contains(&ial.as_str()) {
                        f.ial = ial;
                    }
                }
            }
            Msg::ToggleDocument(i) => {
                if let Verify::Form(f) = &mut self.verify {
                    if let (false, Some(d)) = (f.busy, f.documents.get_mut(i)) {
                        *d = !*d;
                    }
                }
            }
            Msg::SetSendEmail(on) => {
                if let Verify::Form(f) = &mut self.verify {
                    if !f.busy {
                        f.send_email = on;
                    }
                }
            }
            Msg::SubmitVerify { idempotency_key } => {
                let user = self.user.clone();
                if let Verify::Form(f) = &mut self.verify {
                    if !f.busy && f.is_valid() {
                        f.busy = true;
                        f.error = None;
                        cmds.push(Cmd::StartVerification {
                            contact_id: f.contact_id,
                            idempotency_key,
                            body: f.request(user),
                        });
                    }
                }
            }
            Msg::VerifyStarted(session) => self.verify_started(session, &mut cmds),
            Msg::VerifyFailed(failure) => {
                if let Verify::Form(f) = &mut self.verify {
                    f.busy = false;
                    f.error = Some(failure.clone());
                    cmds.push(Cmd::Toast {
                        tone: Tone::Danger,
                        title: "Verification not started",
                        message: failure.message.clone(),
                    });
                    self.announce(format!("Verification not started: {}", failure.message));
                }
            }
            Msg::CancelVerify => {
                if let Verify::Waiting(w) = &mut self.verify {
                    if !w.cancelling {
                        w.cancelling = true;
                        cmds.push(Cmd::Cancel {
                            id: w.session.id.clone(),
                        });
                    }
                }
            }
            Msg::StartStepUp => {
                let ready = self.record().and_then(Record::contact).is_some();
                let idle = !matches!(self.stepup, StepUp::Starting | StepUp::Active { .. });
                if let (Some(deal_id), true, true) = (self.deal_id(), ready, idle) {
                    self.stepup = StepUp::Starting;
                    cmds.push(Cmd::StartStepUp {
                        deal_id,
                        body: StartStepUp {
                            requested_by: self.user.clone(),
                        },
                    });
                }
            }
            Msg::StepUpStarted(session) => {
                if self.stepup == StepUp::Starting {
                    let deadline = time::session_deadline(
                        &session.created_at,
                        session.session_expires_at.as_deref(),
                        now,
                        true,
                        DEFAULT_STEPUP_MS,
                    );
                    self.watch_stepup(session, deadline, &mut cmds);
                    self.announce(
                        "Step-up started. Ask the customer to scan the QR code with the 1Kosmos app.",
                    );
                    self.focus(Focus::Session);
                }
            }
            Msg::StepUpFailed(failure) => {
                if self.stepup == StepUp::Starting {
                    if failure.is_not_enrolled() {
                        self.announce(
                            "The contact has no LiveID enrolment. Verify their identity first.",
                        );
                        self.stepup = StepUp::NotEnrolled(failure.message);
                        self.focus(Focus::Actions);
                    } else {
                        cmds.push(Cmd::Toast {
                            tone: Tone::Danger,
                            title: "Step-up not started",
                            message: failure.message.clone(),
                        });
                        self.announce(format!("Step-up not started: {}", failure.message));
                        self.stepup = StepUp::Failed(failure);
                    }
                }
            }
            Msg::CancelStepUp => {
                if let StepUp::Active { watch, .. } = &mut self.stepup {
                    if !watch.cancelling {
                        watch.cancelling = true;
                        cmds.push(Cmd::Cancel {
                            id: watch.session.id.clone(),
                        });
                    }
                }
            }
            Msg::Canceled(session) => {
                if matches!(&self.verify, Verify::Waiting(w) if w.session.id == session.id) {
                    self.verify = Verify::Closed;
                    self.announce("Verification canceled.");
                    self.focus(Focus::Actions);
                    self.refresh(&mut cmds);
                }
                if matches!(&self.stepup, StepUp::Active { watch, .. } if watch.session.id == session.id)
                {
                    self.announce("Step-up canceled.");
                    self.stepup = StepUp::Done(session);
                    self.focus(Focus::Actions);
                }
            }
            Msg::CancelFailed { id, failure } => {
                let note = format!("Could not cancel: {}", failure.message);
                if let Verify::Waiting(w) = &mut self.verify {
                    if w.session.id == id {
                        w.cancelling = false;
                        w.trouble = Some(note.clone());
                    }
                }
                if let StepUp::Active { watch, .. } = &mut self.stepup {
                    if watch.session.id == id {
                        watch.cancelling = false;
                        watch.trouble = Some(note.clone());
                    }
                }
                cmds.push(Cmd::Toast {
                    tone: Tone::Danger,
                    title: "Not canceled",
                    message: failure.message,
                });
                self.announce(note);
            }
            Msg::PollDue { gen } => {
                if let Some(w) = self.watch(gen) {
                    cmds.push(Cmd::GetVerification {
                        gen,
                        id: w.session.id.clone(),
                    });
                }
            }
            Msg::Polled { gen, session } => self.polled(gen, session, &mut cmds),
            Msg::PollFailed { gen, failure } => self.poll_failed(gen, failure, &mut cmds),
            Msg::Tick => {
                if let StepUp::Active { watch, deadline } = &self.stepup {
                    if now > deadline + STEPUP_GRACE_MS {
                        let mut s = watch.session.clone();
                        s.state = SessionState::Expired;
                        self.stepup_finished(s, &mut cmds);
                    }
                }
            }
        }
        cmds
    }

    fn watch(&self, gen: u32) -> Option<&Watch> {
        match (&self.verify, &self.stepup) {
            (Verify::Waiting(w), _) if w.gen == gen => Some(w),
            (_, StepUp::Active { watch, .. }) if watch.gen == gen => Some(watch),
            _ => None,
        }
    }

    fn refresh(&mut self, cmds: &mut Vec<Cmd>) {
        match self.load {
            Load::Ready(_) => self.refreshing = true,
            _ => self.load = Load::Loading,
        }
        cmds.push(Cmd::Fetch(self.subject));
    }

    fn loaded(&mut self, mut record: Record, cmds: &mut Vec<Cmd>) {
        self.refreshing = false;
        self.stale = None;
        if let Record::Contact(c) = &mut record {
            sort_newest_first(&mut c.history);
        }
        let before = self.status();
        // A pending ID check: watch it (unless it is the one already watched).
        let pending = record
            .contact()
            .and_then(|c| c.current.as_ref())
            .filter(|v| v.state == SessionState::Pending && v.kind == Kind::Idv)
            .cloned();
        match (pending, &self.verify) {
            (Some(v), Verify::Waiting(w)) if w.session.id == v.id => {}
            (Some(v), Verify::Closed | Verify::Waiting(_)) => self.watch_idv(v, cmds),
            (None, Verify::Waiting(_)) => self.verify = Verify::Closed,
            _ => {}
        }
        // A running step-up found on a reopened deal page.
        if let Record::Deal(deal) = &record {
            if let Some(v) = deal
                .stepup
                .as_ref()
                .filter(|v| v.state == SessionState::Pending)
            {
                let watched = matches!(&self.stepup, StepUp::Active { watch, .. } if watch.session.id == v.id);
                let busy = self.stepup == StepUp::Starting;
                let deadline = time::session_deadline(
                    &v.created_at,
                    v.session_expires_at.as_deref(),
                    self.now,
                    false,
                    DEFAULT_STEPUP_MS,
                );
                if !watched && !busy && self.now < deadline + STEPUP_GRACE_MS {
                    self.watch_stepup(v.clone(), deadline, cmds);
                }
            }
        }
        self.load = Load::Ready(record);
        let after = self.status();
        if let (Some(a), true) = (after, before.is_some() && before != after) {
            self.announce(format!("Identity status: {}", a.label()));
        }
    }

    fn watch_idv(&mut self, session: Verification, cmds: &mut Vec<Cmd>) {
        let gen = self.gen();
        self.verify = Verify::Waiting(Watch {
            session,
            gen,
            attempt: 0,
            cancelling: false,
            trouble: None,
        });
        cmds.push(Cmd::Schedule {
            gen,
            delay_ms: time::idv_poll_delay(0),
        });
    }

    fn watch_stepup(&mut self, session: Verification, deadline: f64, cmds: &mut Vec<Cmd>) {
        let gen = self.gen();
        self.stepup = StepUp::Active {
            watch: Watch {
                session,
                gen,
                attempt: 0,
                cancelling: false,
                trouble: None,
            },
            deadline,
        };
        cmds.push(Cmd::Schedule {
            gen,
            delay_ms: time::STEPUP_POLL_MS,
        });
    }

    fn verify_started(&mut self, session: Verification, cmds: &mut Vec<Cmd>) {
        if !matches!(&self.verify, Verify::Form(f) if f.busy) {
            return;
        }
        if session.state != SessionState::Pending {
            // An earlier session with the same key, already finished.
            self.verify = Verify::Closed;
            self.focus(Focus::Actions);
            self.refresh(cmds);
            return;
        }
        // The badge turns Pending at once, without another request.
        if let Load::Ready(record) = &mut self.load {
            if let Some(c) = record
                .contact_mut()
                .filter(|c| c.contact_id == session.contact_id)
            {
                c.status = IdvStatus::Pending;
                c.current = Some(session.clone());
            }
        }
        let emailed = matches!(&self.verify, Verify::Form(f) if f.send_email);
        self.watch_idv(session, cmds);
        self.announce(if emailed {
            "Verification link ready and emailed to the contact. Status: Pending."
        } else {
            "Verification link ready. Status: Pending."
        });
        self.focus(Focus::Copy);
    }

    fn polled(&mut self, gen: u32, session: Verification, cmds: &mut Vec<Cmd>) {
        if let Verify::Waiting(w) = &mut self.verify {
            if w.gen == gen {
                if session.state == SessionState::Pending {
                    w.attempt += 1;
                    w.trouble = None;
                    w.session = session;
                    cmds.push(Cmd::Schedule {
                        gen,
                        delay_ms: time::idv_poll_delay(w.attempt),
                    });
                } else {
                    let state = session.state;
                    self.verify = Verify::Closed;
                    self.announce(format!(
                        "Identity verification {}.",
                        session_state_label(state)
                    ));
                    cmds.push(Cmd::Toast {
                        tone: tone_of(state),
                        title: "Identity verification",
                        message: format!("The verification is {}.", session_state_label(state)),
                    });
                    self.refresh(cmds);
                }
                return;
            }
        }
        if let StepUp::Active { watch, deadline } = &mut self.stepup {
            if watch.gen == gen {
                if session.state == SessionState::Pending {
                    watch.attempt += 1;
                    watch.trouble = None;
                    watch.session = session;
                    if self.now > *deadline + STEPUP_GRACE_MS {
                        let mut s = watch.session.clone();
                        s.state = SessionState::Expired;
                        self.stepup_finished(s, cmds);
                    } else {
                        cmds.push(Cmd::Schedule {
                            gen,
                            delay_ms: time::STEPUP_POLL_MS,
                        });
                    }
                } else {
                    self.stepup_finished(session, cmds);
                }
            }
        }
    }

    fn stepup_finished(&mut self, session: Verification, cmds: &mut Vec<Cmd>) {
        let state = session.state;
        self.announce(format!("Step-up {}.", session_state_label(state)));
        cmds.push(Cmd::Toast {
            tone: tone_of(state),
            title: "Step-up",
            message: format!("The step-up is {}.", session_state_label(state)),
        });
        self.stepup = StepUp::Done(session);
        if state == SessionState::Verified {
            // The primary contact's last step-up date changed.
            self.refresh(cmds);
        }
    }

    fn poll_failed(&mut self, gen: u32, failure: Failure, cmds: &mut Vec<Cmd>) {
        let note = format!("Connection trouble, still checking ({})", failure.message);
        if let Verify::Waiting(w) = &mut self.verify {
            if w.gen == gen {
                w.attempt += 1;
                w.trouble = Some(note);
                cmds.push(Cmd::Schedule {
                    gen,
                    delay_ms: time::idv_poll_delay(w.attempt),
                });
                return;
            }
        }
        if let StepUp::Active { watch, deadline } = &mut self.stepup {
            if watch.gen == gen {
                watch.attempt += 1;
                watch.trouble = Some(note);
                if self.now > *deadline + STEPUP_GRACE_MS {
                    let mut s = watch.session.clone();
                    s.state = SessionState::Expired;
                    self.stepup_finished(s, cmds);
                } else {
                    cmds.push(Cmd::Schedule {
                        gen,
                        delay_ms: time::STEPUP_RETRY_MS,
                    });
                }
            }
        }
    }
}

/// History newest first (RFC 3339 strings in UTC sort as text; parsed when offsets differ).
pub fn sort_newest_first(history: &mut [Verification]) {
    history.sort_by(|a, b| {
        let ka = time::parse_rfc3339(&a.created_at).unwrap_or(0.0);
        let kb = time::parse_rfc3339(&b.created_at).unwrap_or(0.0);
        kb.total_cmp(&ka)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use idv_types::{Stage, StartVerification};

    const T0: f64 = 1_795_341_600_000.0; // 2026-11-22T10:00:00Z

    fn session(id: &str, kind: Kind, state: SessionState) -> Verification {
        Verification {
            id: id.into(),
            kind,
            state,
            contact_id: 7,
            deal_id: None,
            created_at: "2026-11-22T10:00:00Z".into(),
            completed_at: None,
            hosted_url: (kind == Kind::Idv).then(|| "https://verify.example/s/secret".into()),
            qr_payload: (kind == Kind::Stepup).then(|| "liveid:secret".into()),
            session_expires_at: Some("2026-11-22T10:01:30Z".into()),
            requested_by: None,
            failure_reason: None,
            ial: None,
            document_type: None,
            match_confidence: None,
        }
    }

    fn contact(status: IdvStatus) -> ContactStatus {
        ContactStatus {
            contact_id: 7,
            status,
            ial: None,
            liveid_enrolled: false,
            document_type: None,
            match_confidence: None,
            verified_at: None,
            expires_at: None,
            last_stepup_at: None,
            current: None,
            history: vec![],
        }
    }

    fn deal(primary: Option<ContactStatus>) -> DealStatus {
        DealStatus {
            deal_id: 3,
            stage: Some(Stage {
                id: 2,
                name: "Proposal".into(),
            }),
            gated_stages: vec![Stage {
                id: 2,
                name: "Proposal".into(),
            }],
            gated: true,
            gate_satisfied: false,
            primary_contact: primary,
            stepup: None,
        }
    }

    fn failure(status: u16, code: &str) -> Failure {
        Failure {
            status,
            code: code.into(),
            message: "nope".into(),
        }
    }

    fn loaded_contact(status: IdvStatus) -> Model {
        let mut m = Model::new(Subject::Contact(7), Some("rep@example.com".into()));
        m.update(Msg::Refresh, T0);
        m.update(Msg::Loaded(Record::Contact(Box::new(contact(status)))), T0);
        m
    }

    fn toasts(cmds: &[Cmd]) -> usize {
        cmds.iter()
            .filter(|c| matches!(c, Cmd::Toast { .. }))
            .count()
    }

    #[test]
    fn loading_then_error_then_retry_then_loaded() {
        let mut m = Model::new(Subject::Contact(7), None);
        assert_eq!(m.phase(), Phase::Loading);
        assert_eq!(
            m.update(Msg::Refresh, T0),
            [Cmd::Fetch(Subject::Contact(7))]
        );
        assert!(m.actions().is_empty());

        let cmds = m.update(Msg::LoadFailed(failure(503, "unavailable")), T0);
        assert_eq!(m.phase(), Phase::Failed);
        assert_eq!(toasts(&cmds), 1);
        assert_eq!(m.actions(), [Action::Retry]);
        assert!(m.announcement.contains("nope"));

        assert_eq!(
            m.update(Action::Retry.msg().unwrap(), T0),
            [Cmd::Fetch(Subject::Contact(7))]
        );
        assert_eq!(m.phase(), Phase::Loading);

        m.update(
            Msg::Loaded(Record::Contact(Box::new(contact(IdvStatus::Failed)))),
            T0,
        );
        assert_eq!(m.phase(), Phase::Ready);
        assert_eq!(m.status(), Some(IdvStatus::Failed));
        assert_eq!(m.actions(), [Action::VerifyIdentity]);
    }

    #[test]
    fn a_failed_refresh_keeps_the_data_and_offers_retry() {
        let mut m = loaded_contact(IdvStatus::Verified);
        m.update(Msg::Refresh, T0);
        assert!(m.refreshing);
        assert_eq!(m.phase(), Phase::Ready);
        m.update(Msg::LoadFailed(failure(0, "network")), T0);
        assert_eq!(m.phase(), Phase::Ready);
        assert!(m.stale.is_some());
        assert_eq!(m.actions(), [Action::Retry, Action::VerifyAgain]);
        m.update(Msg::Refresh, T0);
        m.update(
            Msg::Loaded(Record::Contact(Box::new(contact(IdvStatus::Verified)))),
            T0,
        );
        assert_eq!(m.stale, None);
        assert!(!m.refreshing);
    }

    #[test]
    fn contact_actions_follow_the_status() {
        for (status, action) in [
            (IdvStatus::NotVerified, Action::VerifyIdentity),
            (IdvStatus::Failed, Action::VerifyIdentity),
            (IdvStatus::Expired, Action::VerifyIdentity),
            (IdvStatus::Verified, Action::VerifyAgain),
        ] {
            assert_eq!(loaded_contact(status).actions(), [action], "{status:?}");
        }
    }

    #[test]
    fn verify_identity_from_form_to_link_to_verified() {
        let mut m = loaded_contact(IdvStatus::NotVerified);
        m.update(Msg::OpenVerify, T0);
        assert_eq!(m.focus.1, Focus::Form);
        assert_eq!(m.actions(), [Action::CreateLink, Action::CloseForm]);

        m.update(Msg::SetIal("IAL1".into()), T0);
        m.update(Msg::SetIal("IAL9".into()), T0); // ignored
        m.update(Msg::ToggleDocument(1), T0); // no passport
        m.update(Msg::SetSendEmail(true), T0);
        let cmds = m.update(
            Msg::SubmitVerify {
                idempotency_key: "k1".into(),
            },
            T0,
        );
        assert_eq!(
            cmds,
            [Cmd::StartVerification {
                contact_id: 7,
                idempotency_key: "k1".into(),
                body: StartVerification {
                    ial: Some("IAL1".into()),
                    document_types: vec!["drivers_license".into(), "national_id".into()],
                    requested_by: Some("rep@example.com".into()),
                    force: false,
                    send_email: true,
                },
            }]
        );
        // A double click sends nothing more.
        assert!(m
            .update(
                Msg::SubmitVerify {
                    idempotency_key: "k2".into()
                },
                T0
            )
            .is_empty());

        let cmds = m.update(
            Msg::VerifyStarted(session("v1", Kind::Idv, SessionState::Pending)),
            T0,
        );
        let Verify::Waiting(w) = &m.verify else {
            panic!("not waiting: {:?}", m.verify)
        };
        let gen = w.gen;
        assert_eq!(
            cmds,
            [Cmd::Schedule {
                gen,
                delay_ms: 3000
            }]
        );
        assert_eq!(m.status(), Some(IdvStatus::Pending));
        assert_eq!(m.focus.1, Focus::Copy);
        assert!(m.announcement.contains("emailed"));
        assert_eq!(m.actions(), [Action::CopyLink, Action::CancelVerification]);

        // Polls back off while the customer takes their time.
        let mut delays = vec![];
        for _ in 0..4 {
            assert_eq!(
                m.update(Msg::PollDue { gen }, T0),
                [Cmd::GetVerification {
                    gen,
                    id: "v1".into()
                }]
            );
            match m
                .update(
                    Msg::Polled {
                        gen,
                        session: session("v1", Kind::Idv, SessionState::Pending),
                    },
                    T0,
                )
                .as_slice()
            {
                [Cmd::Schedule { delay_ms, .. }] => delays.push(*delay_ms),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(delays, [4500, 6750, 10125, 15187]);

        // The customer finishes: the badge is refreshed and the change announced.
        let cmds = m.update(
            Msg::Polled {
                gen,
                session: session("v1", Kind::Idv, SessionState::Verified),
            },
            T0,
        );
        assert!(cmds.contains(&Cmd::Fetch(Subject::Contact(7))));
        assert_eq!(toasts(&cmds), 1);
        assert_eq!(m.verify, Verify::Closed);
        m.update(
            Msg::Loaded(Record::Contact(Box::new(contact(IdvStatus::Verified)))),
            T0,
        );
        assert_eq!(m.announcement, "Identity status: Verified");
        // A late answer to an old poll changes nothing.
        assert!(m
            .update(
                Msg::Polled {
                    gen,
                    session: session("v1", Kind::Idv, SessionState::Pending)
                },
                T0
            )
            .is_empty());
        assert!(m.update(Msg::PollDue { gen }, T0).is_empty());
    }

    #[test]
    fn the_form_needs_a_document_and_reports_errors() {
        let mut m = loaded_contact(IdvStatus::Expired);
        m.update(Msg::OpenVerify, T0);
        for i in 0..3 {
            m.update(Msg::ToggleDocument(i), T0);
        }
        assert!(m
            .update(
                Msg::SubmitVerify {
                    idempotency_key: "k".into()
                },
                T0
            )
            .is_empty());
        m.update(Msg::ToggleDocument(0), T0);
        assert_eq!(
            m.update(
                Msg::SubmitVerify {
                    idempotency_key: "k".into()
                },
                T0
            )
            .len(),
            1
        );
        let cmds = m.update(Msg::VerifyFailed(failure(422, "bad_request")), T0);
        assert_eq!(toasts(&cmds), 1);
        let Verify::Form(f) = &m.verify else { panic!() };
        assert!(!f.busy);
        assert_eq!(f.error.as_ref().map(|e| e.status), Some(422));
        m.update(Msg::CloseVerify, T0);
        assert_eq!(m.verify, Verify::Closed);
        assert_eq!(m.focus.1, Focus::Actions);
    }

    #[test]
    fn verify_again_forces_a_new_session() {
        let mut m = loaded_contact(IdvStatus::Verified);
        m.update(Msg::OpenVerify, T0);
        let Verify::Form(f) = &m.verify else { panic!() };
        assert!(f.force);
    }

    #[test]
    fn a_pending_session_found_on_load_is_watched_and_can_be_canceled() {
        let mut c = contact(IdvStatus::Pending);
        c.current = Some(session("v9", Kind::Idv, SessionState::Pending));
        let mut m = Model::new(Subject::Contact(7), None);
        m.update(Msg::Refresh, T0);
        let cmds = m.update(Msg::Loaded(Record::Contact(Box::new(c.clone()))), T0);
        let gen = match cmds.as_slice() {
            [Cmd::Schedule {
                gen,
                delay_ms: 3000,
            }] => *gen,
            other => panic!("{other:?}"),
        };
        // Reloading the same data does not start a second poll loop.
        assert!(m
            .update(Msg::Loaded(Record::Contact(Box::new(c))), T0)
            .is_empty());

        assert_eq!(
            m.update(Msg::CancelVerify, T0),
            [Cmd::Cancel { id: "v9".into() }]
        );
        assert!(m.update(Msg::CancelVerify, T0).is_empty());
        let cmds = m.update(
            Msg::Canceled(session("v9", Kind::Idv, SessionState::Canceled)),
            T0,
        );
        assert_eq!(cmds, [Cmd::Fetch(Subject::Contact(7))]);
        assert_eq!(m.verify, Verify::Closed);
        assert!(m.update(Msg::PollDue { gen }, T0).is_empty());
    }

    #[test]
    fn a_failed_cancel_resumes_and_polls_go_on_through_trouble() {
        let mut c = contact(IdvStatus::Pending);
        c.current = Some(session("v9", Kind::Idv, SessionState::Pending));
        let mut m = Model::new(Subject::Contact(7), None);
        let cmds = m.update(Msg::Loaded(Record::Contact(Box::new(c))), T0);
        let Cmd::Schedule { gen, .. } = cmds[0] else {
            panic!()
        };
        m.update(Msg::CancelVerify, T0);
        let cmds = m.update(
            Msg::CancelFailed {
                id: "v9".into(),
                failure: failure(500, "internal"),
            },
            T0,
        );
        assert_eq!(toasts(&cmds), 1);
        let Verify::Waiting(w) = &m.verify else {
            panic!()
        };
        assert!(!w.cancelling && w.trouble.is_some());

        let cmds = m.update(
            Msg::PollFailed {
                gen,
                failure: failure(429, "rate_limited"),
            },
            T0,
        );
        assert_eq!(
            cmds,
            [Cmd::Schedule {
                gen,
                delay_ms: 4500
            }]
        );
        assert_eq!(toasts(&cmds), 0);
    }

    fn loaded_deal(primary: Option<ContactStatus>) -> Model {
        let mut m = Model::new(Subject::Deal(3), Some("rep@example.com".into()));
        m.update(Msg::Refresh, T0);
        m.update(Msg::Loaded(Record::Deal(Box::new(deal(primary)))), T0);
        m
    }

    #[test]
    fn step_up_counts_down_polls_briskly_and_restarts_when_expired() {
        let mut m = loaded_deal(Some(contact(IdvStatus::Verified)));
        assert_eq!(m.actions(), [Action::StepUp, Action::VerifyPrimaryContact]);
        assert_eq!(
            m.update(Msg::StartStepUp, T0),
            [Cmd::StartStepUp {
                deal_id: 3,
                body: StartStepUp {
                    requested_by: Some("rep@example.com".into())
                }
            }]
        );
        assert!(m.update(Msg::StartStepUp, T0).is_empty());
        assert!(!m.actions().contains(&Action::StepUp));

        // Received at local time 1_000 (the local clock is far off): the 90 s lifetime counts.
        let cmds = m.update(
            Msg::StepUpStarted(session("s1", Kind::Stepup, SessionState::Pending)),
            1_000.0,
        );
        let gen = match cmds.as_slice() {
            [Cmd::Schedule {
                gen,
                delay_ms: 2000,
            }] => *gen,
            other => panic!("{other:?}"),
        };
        assert_eq!(m.stepup_seconds_left(), Some(90));
        assert!(m.needs_clock());
        assert_eq!(m.focus.1, Focus::Session);
        assert!(m.actions().contains(&Action::CancelStepUp));

        m.update(Msg::Tick, 26_000.0);
        assert_eq!(m.stepup_seconds_left(), Some(65));
        assert_eq!(
            crate::time::countdown(m.stepup_seconds_left().unwrap()),
            "1:05"
        );

        m.update(Msg::PollDue { gen }, 27_000.0);
        let cmds = m.update(
            Msg::Polled {
                gen,
                session: session("s1", Kind::Stepup, SessionState::Pending),
            },
            27_000.0,
        );
        assert_eq!(
            cmds,
            [Cmd::Schedule {
                gen,
                delay_ms: 2000
            }]
        );

        // Past the deadline the countdown shows 0:00; past the grace the session is over.
        m.update(Msg::Tick, 95_000.0);
        assert_eq!(m.stepup_seconds_left(), Some(0));
        let cmds = m.update(Msg::Tick, 102_000.0);
        assert_eq!(toasts(&cmds), 1);
        assert!(matches!(&m.stepup, StepUp::Done(v) if v.state == SessionState::Expired));
        assert!(!m.needs_clock());
        assert_eq!(m.actions()[0], Action::RestartStepUp);

        // One click restarts.
        assert_eq!(
            m.update(Action::RestartStepUp.msg().unwrap(), 103_000.0)
                .len(),
            1
        );
        assert_eq!(m.stepup, StepUp::Starting);
    }

    #[test]
    fn a_verified_step_up_refreshes_the_deal() {
        let mut m = loaded_deal(Some(contact(IdvStatus::Verified)));
        m.update(Msg::StartStepUp, T0);
        let cmds = m.update(
            Msg::StepUpStarted(session("s1", Kind::Stepup, SessionState::Pending)),
            T0,
        );
        let Cmd::Schedule { gen, .. } = cmds[0] else {
            panic!()
        };
        let cmds = m.update(
            Msg::Polled {
                gen,
                session: session("s1", Kind::Stepup, SessionState::Verified),
            },
            T0 + 4_000.0,
        );
        assert!(cmds.contains(&Cmd::Fetch(Subject::Deal(3))));
        assert_eq!(m.announcement, "Step-up verified.");
        assert_eq!(m.actions(), [Action::StepUp, Action::VerifyPrimaryContact]);
    }

    #[test]
    fn not_enrolled_offers_verify_identity_for_the_primary_contact() {
        let mut m = loaded_deal(Some(contact(IdvStatus::NotVerified)));
        m.update(Msg::StartStepUp, T0);
        let cmds = m.update(Msg::StepUpFailed(failure(409, "not_enrolled")), T0);
        assert_eq!(toasts(&cmds), 0);
        assert!(matches!(m.stepup, StepUp::NotEnrolled(_)));
        assert_eq!(m.actions(), [Action::VerifyPrimaryContact]);
        m.update(Msg::OpenVerify, T0);
        let Verify::Form(f) = &m.verify else { panic!() };
        assert_eq!(f.contact_id, 7);
        assert_eq!(m.actions(), [Action::CreateLink, Action::CloseForm]);
    }

    #[test]
    fn other_step_up_errors_are_reported_and_retryable() {
        let mut m = loaded_deal(Some(contact(IdvStatus::Verified)));
        m.update(Msg::StartStepUp, T0);
        let cmds = m.update(Msg::StepUpFailed(failure(502, "provider")), T0);
        assert_eq!(toasts(&cmds), 1);
        assert_eq!(m.actions()[0], Action::StepUp);
    }

    #[test]
    fn a_deal_without_contact_offers_nothing() {
        let mut m = loaded_deal(None);
        assert!(m.actions().is_empty());
        assert!(m.update(Msg::StartStepUp, T0).is_empty());
        assert!(m.update(Msg::OpenVerify, T0).is_empty());
        assert_eq!(m.status(), None);
    }

    #[test]
    fn a_running_step_up_is_resumed_on_a_reopened_deal_page() {
        let mut d = deal(Some(contact(IdvStatus::Verified)));
        d.stepup = Some(session("s7", Kind::Stepup, SessionState::Pending));
        let mut m = Model::new(Subject::Deal(3), None);
        // 30 s into the session (server expiry 10:01:30 on the local clock).
        let cmds = m.update(
            Msg::Loaded(Record::Deal(Box::new(d.clone()))),
            T0 + 30_000.0,
        );
        assert!(matches!(cmds.as_slice(), [Cmd::Schedule { .. }]));
        assert_eq!(m.stepup_seconds_left(), Some(60));
        // Long expired: shown as history, not resumed.
        let mut m = Model::new(Subject::Deal(3), None);
        assert!(m
            .update(Msg::Loaded(Record::Deal(Box::new(d))), T0 + 600_000.0)
            .is_empty());
        assert_eq!(m.stepup, StepUp::Idle);
    }

    #[test]
    fn history_is_newest_first() {
        let mut c = contact(IdvStatus::Verified);
        let mut old = session("a", Kind::Idv, SessionState::Failed);
        old.created_at = "2026-10-01T09:00:00Z".into();
        let mut new = session("b", Kind::Stepup, SessionState::Verified);
        new.created_at = "2026-11-01T09:00:00+01:00".into();
        c.history = vec![old, new];
        let mut m = Model::new(Subject::Contact(7), None);
        m.update(Msg::Loaded(Record::Contact(Box::new(c))), T0);
        let ids: Vec<_> = m
            .record()
            .unwrap()
            .contact()
            .unwrap()
            .history
            .iter()
            .map(|v| v.id.as_str())
            .collect();
        assert_eq!(ids, ["b", "a"]);
    }

    #[test]
    fn every_action_has_a_label_and_bar_actions_a_message() {
        use Action::*;
        for a in [
            Retry,
            VerifyIdentity,
            VerifyAgain,
            VerifyPrimaryContact,
            CreateLink,
            CloseForm,
            CopyLink,
            CancelVerification,
            StepUp,
            RestartStepUp,
            CancelStepUp,
        ] {
            assert!(!a.label().is_empty());
            if a.in_action_bar() {
                assert!(a.msg().is_some(), "{a:?}");
            }
        }
    }
}
