//! The LiveID step-up, on a deal (its primary contact) or on an enrolled contact's own page:
//! start, countdown, polls, outcome.

use idv_types::{Kind, SessionState, StartStepUp, Verification};

use super::{watch::tone_of, Cmd, Failure, Focus, Model, Record, Subject, Tone, Watch};
use crate::{
    i18n::{fill, labels, t},
    time,
};

/// Lifetime assumed for a LiveID session whose answer has no expiry.
pub const DEFAULT_STEPUP_MS: f64 = 90_000.0;
/// How long past its deadline a step-up is still polled, for the provider's last word.
pub const STEPUP_GRACE_MS: f64 = 10_000.0;

/// The step-up flow (deal page, or the page of a contact enrolled in LiveID).
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

/// Which [`StepUp`] variant is current, cheap to compare in the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepUpPhase {
    Idle,
    Starting,
    Active,
    Done,
    NotEnrolled,
    Failed,
}

impl StepUp {
    pub fn phase(&self) -> StepUpPhase {
        match self {
            Self::Idle => StepUpPhase::Idle,
            Self::Starting => StepUpPhase::Starting,
            Self::Active { .. } => StepUpPhase::Active,
            Self::Done(_) => StepUpPhase::Done,
            Self::NotEnrolled(_) => StepUpPhase::NotEnrolled,
            Self::Failed(_) => StepUpPhase::Failed,
        }
    }
}

/// The watched session, marked expired (its deadline and grace are over).
fn expired(watch: &Watch) -> Verification {
    let mut s = watch.session.clone();
    s.state = SessionState::Expired;
    s
}

impl Model {
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

    /// Whether Step-Up Auth can be offered: on a deal with a primary contact, or on the page of
    /// a contact enrolled in LiveID.
    pub(super) fn can_step_up(&self) -> bool {
        match self.record() {
            Some(Record::Deal(d)) => d.primary_contact.is_some(),
            Some(Record::Contact(c)) => c.liveid_enrolled,
            None => false,
        }
    }

    /// `Msg::StartStepUp`: on a deal with a primary contact or an enrolled contact, unless one
    /// is running.
    pub(super) fn start_stepup(&mut self, cmds: &mut Vec<Cmd>) {
        let idle = !matches!(self.stepup, StepUp::Starting | StepUp::Active { .. });
        if !idle || !self.can_step_up() {
            return;
        }
        let body = StartStepUp {
            requested_by: self.user.clone(),
        };
        self.stepup = StepUp::Starting;
        cmds.push(match self.subject {
            Subject::Deal(deal_id) => Cmd::StartStepUp { deal_id, body },
            Subject::Contact(contact_id) => Cmd::StartContactStepUp { contact_id, body },
        });
    }

    /// `Msg::StepUpStarted`: the countdown starts from the answer's arrival.
    pub(super) fn stepup_started(&mut self, session: Verification, cmds: &mut Vec<Cmd>) {
        if self.stepup == StepUp::Starting {
            let deadline = time::session_deadline(
                &session.created_at,
                session.session_expires_at.as_deref(),
                self.now,
                true,
                DEFAULT_STEPUP_MS,
            );
            self.watch_stepup(session, deadline, cmds);
            self.announce(t().stepup_started);
            self.focus(Focus::Session);
        }
    }

    /// `Msg::StepUpFailed`: not enrolled (offer Verify Identity) or another error.
    pub(super) fn stepup_failed(&mut self, failure: Failure, cmds: &mut Vec<Cmd>) {
        if self.stepup != StepUp::Starting {
            return;
        }
        if failure.is_not_enrolled() {
            self.announce(t().stepup_not_enrolled_announced);
            self.stepup = StepUp::NotEnrolled(failure.message);
            self.focus(Focus::Actions);
        } else {
            cmds.push(Cmd::Toast {
                tone: Tone::Danger,
                title: t().stepup_not_started_title,
                message: failure.message.clone(),
            });
            self.announce(fill(
                t().stepup_not_started,
                &[("message", &failure.message)],
            ));
            self.stepup = StepUp::Failed(failure);
        }
    }

    /// `Msg::CancelStepUp`.
    pub(super) fn cancel_stepup(&mut self, cmds: &mut Vec<Cmd>) {
        if let StepUp::Active { watch, .. } = &mut self.stepup {
            cmds.extend(watch.cancel());
        }
    }

    /// `Msg::Tick`: past its deadline and grace, the step-up has expired.
    pub(super) fn tick(&mut self, cmds: &mut Vec<Cmd>) {
        if let StepUp::Active { watch, deadline } = &self.stepup {
            if self.now > deadline + STEPUP_GRACE_MS {
                let s = expired(watch);
                self.stepup_finished(s, cmds);
            }
        }
    }

    /// A running step-up found on a reopened deal or contact page: resume it, unless long
    /// expired. On a contact page only the step-ups asked for there (no deal) count.
    pub(super) fn resume_stepup(&mut self, record: &Record, cmds: &mut Vec<Cmd>) {
        let running = match record {
            Record::Deal(deal) => deal.stepup.as_ref(),
            Record::Contact(c) => c
                .history
                .iter()
                .find(|v| v.kind == Kind::Stepup && v.deal_id.is_none()),
        };
        if let Some(v) = running.filter(|v| v.state == SessionState::Pending) {
            let watched =
                matches!(&self.stepup, StepUp::Active { watch, .. } if watch.session.id == v.id);
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

    fn watch_stepup(&mut self, session: Verification, deadline: f64, cmds: &mut Vec<Cmd>) {
        let gen = self.gen();
        self.stepup = StepUp::Active {
            watch: Watch::new(session, gen),
            deadline,
        };
        cmds.push(Cmd::Schedule {
            gen,
            delay_ms: time::STEPUP_POLL_MS,
        });
    }

    /// A poll of the step-up answered: poll again briskly, or report the outcome.
    pub(super) fn stepup_polled(&mut self, session: Verification, cmds: &mut Vec<Cmd>) {
        let StepUp::Active { watch, deadline } = &mut self.stepup else {
            return;
        };
        if session.state == SessionState::Pending {
            watch.still_pending(session);
            if self.now > *deadline + STEPUP_GRACE_MS {
                let s = expired(watch);
                self.stepup_finished(s, cmds);
            } else {
                cmds.push(Cmd::Schedule {
                    gen: watch.gen,
                    delay_ms: time::STEPUP_POLL_MS,
                });
            }
        } else {
            self.stepup_finished(session, cmds);
        }
    }

    /// A poll of the step-up failed: retry soon, unless its time is over.
    pub(super) fn stepup_poll_failed(&mut self, note: String, cmds: &mut Vec<Cmd>) {
        let StepUp::Active { watch, deadline } = &mut self.stepup else {
            return;
        };
        watch.poll_failed(note);
        if self.now > *deadline + STEPUP_GRACE_MS {
            let s = expired(watch);
            self.stepup_finished(s, cmds);
        } else {
            cmds.push(Cmd::Schedule {
                gen: watch.gen,
                delay_ms: time::STEPUP_RETRY_MS,
            });
        }
    }

    /// The step-up's session was canceled.
    pub(super) fn stepup_canceled(&mut self, session: Verification) {
        if matches!(&self.stepup, StepUp::Active { watch, .. } if watch.session.id == session.id) {
            self.announce(t().stepup_canceled_announced);
            self.stepup = StepUp::Done(session);
            self.focus(Focus::Actions);
        }
    }

    fn stepup_finished(&mut self, session: Verification, cmds: &mut Vec<Cmd>) {
        let state = session.state;
        let word = labels::state_word(state);
        self.announce(fill(t().stepup_ended_announced, &[("state", word)]));
        cmds.push(Cmd::Toast {
            tone: tone_of(state),
            title: t().stepup_title,
            message: fill(t().stepup_ended, &[("state", word)]),
        });
        self.stepup = StepUp::Done(session);
        if state == SessionState::Verified {
            // The (primary) contact's last step-up date changed.
            self.refresh(cmds);
        }
    }
}

#[cfg(test)]
mod tests {
    use idv_types::{IdvStatus, Kind, SessionState, StartStepUp};

    use crate::model::{
        fixtures::{contact, deal, failure, loaded_contact, loaded_deal, session, toasts, T0},
        Action, Cmd, Focus, Model, Msg, Record, StepUp, Subject, Verify,
    };

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
    fn an_enrolled_contact_page_offers_step_up_beside_verify_identity() {
        // Not enrolled: no Step-Up Auth, and the message changes nothing.
        let mut m = loaded_contact(IdvStatus::Verified);
        assert_eq!(m.actions(), [Action::VerifyAgain]);
        assert!(m.update(Msg::StartStepUp, T0).is_empty());

        let mut c = contact(IdvStatus::Verified);
        c.liveid_enrolled = true;
        let mut m = Model::new(Subject::Contact(7), Some("rep@example.com".into()));
        m.update(Msg::Loaded(Record::Contact(Box::new(c))), T0);
        assert_eq!(m.actions(), [Action::VerifyAgain, Action::StepUp]);
        assert_eq!(
            m.update(Msg::StartStepUp, T0),
            [Cmd::StartContactStepUp {
                contact_id: 7,
                body: StartStepUp {
                    requested_by: Some("rep@example.com".into())
                }
            }]
        );
        assert_eq!(m.actions(), [Action::VerifyAgain]);
        let cmds = m.update(
            Msg::StepUpStarted(session("s1", Kind::Stepup, SessionState::Pending)),
            T0,
        );
        let Cmd::Schedule { gen, .. } = cmds[0] else {
            panic!("{cmds:?}")
        };
        assert_eq!(m.stepup_seconds_left(), Some(90));
        assert_eq!(m.actions(), [Action::VerifyAgain, Action::CancelStepUp]);
        let cmds = m.update(
            Msg::Polled {
                gen,
                session: session("s1", Kind::Stepup, SessionState::Verified),
            },
            T0 + 4_000.0,
        );
        assert!(cmds.contains(&Cmd::Fetch(Subject::Contact(7))));
        assert_eq!(m.announcement, "Step-up verified.");
        assert_eq!(m.actions(), [Action::VerifyAgain, Action::StepUp]);
    }

    #[test]
    fn a_contact_step_up_refused_as_not_enrolled_offers_verify_identity() {
        let mut c = contact(IdvStatus::Expired);
        c.liveid_enrolled = true;
        let mut m = Model::new(Subject::Contact(7), None);
        m.update(Msg::Loaded(Record::Contact(Box::new(c))), T0);
        m.update(Msg::StartStepUp, T0);
        m.update(Msg::StepUpFailed(failure(409, "not_enrolled")), T0);
        assert!(matches!(m.stepup, StepUp::NotEnrolled(_)));
        assert_eq!(m.actions(), [Action::VerifyIdentity]);
    }

    #[test]
    fn a_running_contact_step_up_is_resumed_but_not_a_deal_s() {
        let mut c = contact(IdvStatus::Verified);
        c.liveid_enrolled = true;
        let mut on_deal = session("d1", Kind::Stepup, SessionState::Pending);
        on_deal.deal_id = Some(3);
        c.history = vec![on_deal];
        let mut m = Model::new(Subject::Contact(7), None);
        assert!(m
            .update(Msg::Loaded(Record::Contact(Box::new(c.clone()))), T0)
            .is_empty());
        assert_eq!(m.stepup, StepUp::Idle);
        c.history = vec![session("c1", Kind::Stepup, SessionState::Pending)];
        let mut m = Model::new(Subject::Contact(7), None);
        let cmds = m.update(Msg::Loaded(Record::Contact(Box::new(c))), T0 + 30_000.0);
        assert!(matches!(cmds.as_slice(), [Cmd::Schedule { .. }]));
        assert_eq!(m.stepup_seconds_left(), Some(60));
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
}
