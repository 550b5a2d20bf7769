//! *Resend link*: one click sends the contact's link again, by the delivery it was sent with,
//! when the latest verification's link expired unused (not a verification whose validity
//! lapsed: that one needs a new verification) or could not be delivered.

use idv_types::{Delivery, Kind, ResendAnswer, ResendLink, SessionState, Verification};

use super::{Cmd, Failure, Focus, Model, Subject, Tone, Verify};
use crate::i18n::{fill, t};

impl Model {
    /// The session a *Resend link* click sends again: the link being watched when it could not
    /// be delivered, else the contact's latest ID check when its link expired unused.
    pub fn resendable(&self) -> Option<&Verification> {
        match &self.verify {
            Verify::Waiting(w) => Some(&w.session).filter(|s| {
                s.delivery_error.is_some() && s.delivery.is_some_and(|d| d != Delivery::Show)
            }),
            Verify::Closed => {
                let contact = self.record()?.contact()?;
                if contact.current.is_some() {
                    return None;
                }
                contact
                    .history
                    .iter()
                    .find(|v| v.kind == Kind::Idv)
                    .filter(|v| v.state == SessionState::Expired)
            }
            Verify::Form(_) => None,
        }
    }

    /// `Msg::ResendLink`: one request at a time.
    pub(super) fn resend_link(&mut self, cmds: &mut Vec<Cmd>) {
        if self.resending.is_some() {
            return;
        }
        let Some(v) = self.resendable() else {
            return;
        };
        let (id, contact_id) = (v.id.clone(), v.contact_id);
        // The page's record data describes this contact only on its own page.
        let contact = if self.subject == Subject::Contact(contact_id) {
            self.contact_data.clone()
        } else {
            None
        };
        self.resending = Some(id.clone());
        cmds.push(Cmd::Resend {
            id,
            body: ResendLink {
                requested_by: self.user.clone(),
                contact,
            },
        });
        self.announce(t().resending);
    }

    /// `Msg::Resent`: the link is out again (the same session or a new one): watch it.
    pub(super) fn resent(&mut self, answer: ResendAnswer, cmds: &mut Vec<Cmd>) {
        self.resending = None;
        let session = answer.verification;
        if session.state == SessionState::Pending {
            self.mark_pending(&session);
            self.watch_idv(session, cmds);
            self.focus(Focus::Copy);
        }
        cmds.push(Cmd::Toast {
            tone: Tone::Success,
            title: t().resent_title,
            message: answer.message.clone(),
        });
        self.announce(answer.message);
        self.refresh(cmds);
    }

    /// `Msg::ResendFailed`: say why; the button stays.
    pub(super) fn resend_failed(&mut self, failure: Failure, cmds: &mut Vec<Cmd>) {
        self.resending = None;
        cmds.push(Cmd::Toast {
            tone: Tone::Danger,
            title: t().resend_failed_title,
            message: failure.message.clone(),
        });
        self.announce(fill(t().resend_failed, &[("message", &failure.message)]));
    }
}

#[cfg(test)]
mod tests {
    use idv_types::{Delivery, IdvStatus, Kind, ResendAnswer, SessionState};

    use crate::model::{
        fixtures::{contact, failure, session, toasts, T0},
        Action, Cmd, Model, Msg, Record, Subject, Verify,
    };

    /// A contact whose latest ID check's link (sent by email) expired unused.
    fn expired_link() -> Model {
        let mut old = session("ver_old", Kind::Idv, SessionState::Expired);
        old.delivery = Some(Delivery::Email);
        let mut c = contact(IdvStatus::Expired);
        c.history = vec![old];
        let mut m = Model::new(Subject::Contact(7), Some("rep@example.com".into()));
        m.update(Msg::Refresh, T0);
        m.update(Msg::Loaded(Record::Contact(Box::new(c))), T0);
        m
    }

    #[test]
    fn an_expired_link_is_resent_with_one_click_and_the_new_link_is_watched() {
        let mut m = expired_link();
        assert_eq!(m.actions(), [Action::VerifyIdentity, Action::ResendLink]);
        let cmds = m.update(Msg::ResendLink, T0);
        let [Cmd::Resend { id, body }] = cmds.as_slice() else {
            panic!("{cmds:?}")
        };
        assert_eq!(id, "ver_old");
        assert_eq!(body.requested_by.as_deref(), Some("rep@example.com"));
        // A double click sends nothing more.
        assert!(m.update(Msg::ResendLink, T0).is_empty());

        let mut new = session("ver_new", Kind::Idv, SessionState::Pending);
        new.delivery = Some(Delivery::Email);
        let cmds = m.update(
            Msg::Resent(ResendAnswer {
                verification: new,
                new_session: true,
                message: "The link had expired, so a new verification was started.".into(),
            }),
            T0,
        );
        assert_eq!(toasts(&cmds), 1);
        assert!(cmds.contains(&Cmd::Fetch(Subject::Contact(7))));
        assert!(matches!(&m.verify, Verify::Waiting(w) if w.session.id == "ver_new"));
        assert_eq!(m.status(), Some(IdvStatus::Pending));
        assert!(m.announcement.contains("new verification"));
        assert!(!m.actions().contains(&Action::ResendLink));
    }

    #[test]
    fn a_lapsed_verification_or_a_failed_one_offers_no_resend() {
        for state in [
            SessionState::Lapsed,
            SessionState::Failed,
            SessionState::Verified,
        ] {
            let mut c = contact(IdvStatus::Lapsed);
            c.history = vec![session("v", Kind::Idv, state)];
            let mut m = Model::new(Subject::Contact(7), None);
            m.update(Msg::Loaded(Record::Contact(Box::new(c))), T0);
            assert!(m.resendable().is_none(), "{state:?}");
            assert!(m.update(Msg::ResendLink, T0).is_empty());
        }
        // An older expired link behind a newer verification is not the latest.
        let mut c = contact(IdvStatus::Failed);
        c.history = vec![
            session("newer", Kind::Idv, SessionState::Failed),
            session("older", Kind::Idv, SessionState::Expired),
        ];
        let mut m = Model::new(Subject::Contact(7), None);
        m.update(Msg::Loaded(Record::Contact(Box::new(c))), T0);
        assert!(m.resendable().is_none());
    }

    #[test]
    fn an_undelivered_link_offers_resend_and_a_refusal_is_reported() {
        let mut m = crate::model::fixtures::loaded_contact(IdvStatus::NotVerified);
        let mut pending = session("ver_1", Kind::Idv, SessionState::Pending);
        pending.delivery = Some(Delivery::Email);
        pending.delivery_error = Some("the mailbox bounced".into());
        m.update(Msg::OpenVerify, T0);
        m.update(
            Msg::SubmitVerify {
                idempotency_key: "k".into(),
            },
            T0,
        );
        m.update(Msg::VerifyStarted(pending), T0);
        assert!(m.actions().contains(&Action::ResendLink));
        let cmds = m.update(Msg::ResendLink, T0);
        assert!(matches!(cmds.as_slice(), [Cmd::Resend { id, .. }] if id == "ver_1"));
        let cmds = m.update(Msg::ResendFailed(failure(429, "rate_limited")), T0);
        assert_eq!(toasts(&cmds), 1);
        assert!(m.resending.is_none());
        assert!(m.announcement.contains("not sent again"));
        // The button is back for another try.
        assert_eq!(m.update(Msg::ResendLink, T0).len(), 1);
    }
}
