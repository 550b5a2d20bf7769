//! Watching a pending session: the polls and the cancel, for either flow.
//!
//! A watch belongs to the Verify Identity link ([`Verify::Waiting`]) or to the running step-up
//! ([`StepUp::Active`]). Its generation number routes the answers; those of an older watch are
//! dropped.

use idv_types::{SessionState, Verification};

use super::{Cmd, Failure, Model, StepUp, Tone, Verify};
use crate::i18n::{fill, t};

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

impl Watch {
    pub(super) fn new(session: Verification, gen: u32) -> Self {
        Self {
            session,
            gen,
            attempt: 0,
            cancelling: false,
            trouble: None,
        }
    }

    /// The cancel request, unless one is already out.
    pub(super) fn cancel(&mut self) -> Option<Cmd> {
        if self.cancelling {
            return None;
        }
        self.cancelling = true;
        Some(Cmd::Cancel {
            id: self.session.id.clone(),
        })
    }

    /// A poll found the session still pending.
    pub(super) fn still_pending(&mut self, session: Verification) {
        self.attempt += 1;
        self.trouble = None;
        self.session = session;
    }

    /// A poll failed; polling goes on.
    pub(super) fn poll_failed(&mut self, note: String) {
        self.attempt += 1;
        self.trouble = Some(note);
    }

    fn cancel_failed(&mut self, id: &str, note: &str) {
        if self.session.id == id {
            self.cancelling = false;
            self.trouble = Some(note.to_string());
        }
    }
}

/// The flow a watch belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Verify,
    StepUp,
}

/// The toast for a finished session.
pub(super) fn tone_of(s: SessionState) -> Tone {
    match s {
        SessionState::Verified => Tone::Success,
        SessionState::Failed => Tone::Danger,
        _ => Tone::Warning,
    }
}

impl Model {
    /// The current watch with this generation, and its flow.
    fn watch(&self, gen: u32) -> Option<(Flow, &Watch)> {
        match (&self.verify, &self.stepup) {
            (Verify::Waiting(w), _) if w.gen == gen => Some((Flow::Verify, w)),
            (_, StepUp::Active { watch, .. }) if watch.gen == gen => Some((Flow::StepUp, watch)),
            _ => None,
        }
    }

    fn flow(&self, gen: u32) -> Option<Flow> {
        self.watch(gen).map(|(flow, _)| flow)
    }

    /// `Msg::PollDue`: ask for the session, if its watch is still current.
    pub(super) fn poll_due(&mut self, gen: u32, cmds: &mut Vec<Cmd>) {
        if let Some((_, w)) = self.watch(gen) {
            cmds.push(Cmd::GetVerification {
                gen,
                id: w.session.id.clone(),
            });
        }
    }

    /// `Msg::Polled`.
    pub(super) fn polled(&mut self, gen: u32, session: Verification, cmds: &mut Vec<Cmd>) {
        match self.flow(gen) {
            Some(Flow::Verify) => self.verify_polled(session, cmds),
            Some(Flow::StepUp) => self.stepup_polled(session, cmds),
            None => {}
        }
    }

    /// `Msg::PollFailed`.
    pub(super) fn poll_failed(&mut self, gen: u32, failure: Failure, cmds: &mut Vec<Cmd>) {
        let note = fill(t().connection_trouble, &[("message", &failure.message)]);
        match self.flow(gen) {
            Some(Flow::Verify) => self.verify_poll_failed(note, cmds),
            Some(Flow::StepUp) => self.stepup_poll_failed(note, cmds),
            None => {}
        }
    }

    /// `Msg::Canceled`.
    pub(super) fn canceled(&mut self, session: Verification, cmds: &mut Vec<Cmd>) {
        self.verify_canceled(&session, cmds);
        self.stepup_canceled(session);
    }

    /// `Msg::CancelFailed`: the watch goes on, with a note.
    pub(super) fn cancel_failed(&mut self, id: &str, failure: Failure, cmds: &mut Vec<Cmd>) {
        let note = fill(t().cancel_failed, &[("message", &failure.message)]);
        if let Verify::Waiting(w) = &mut self.verify {
            w.cancel_failed(id, &note);
        }
        if let StepUp::Active { watch, .. } = &mut self.stepup {
            watch.cancel_failed(id, &note);
        }
        cmds.push(Cmd::Toast {
            tone: Tone::Danger,
            title: t().cancel_failed_title,
            message: failure.message,
        });
        self.announce(note);
    }
}

#[cfg(test)]
mod tests {
    use idv_types::{IdvStatus, Kind, SessionState};

    use crate::model::{
        fixtures::{contact, failure, session, toasts, T0},
        Cmd, Model, Msg, Record, Subject, Verify,
    };

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
}
