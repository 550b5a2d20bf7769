//! The ID check: the *Verify Identity* form, then the link while the customer has not finished
//! (contact page; deal page for the primary contact).

use idv_types::{
    Delivery, DocumentType, IdvStatus, Kind, SessionState, StartVerification, Verification,
};

use super::{watch::tone_of, Cmd, Failure, Focus, Load, Model, Record, Subject, Tone, Watch};
use crate::{
    i18n::{fill, labels, t},
    time,
};

/// The document types a rep can allow, in the form's order.
pub const DOCUMENTS: [DocumentType; 3] = DocumentType::ALL;

/// Assurance levels offered in the form (first is the default).
pub const IAL_LEVELS: [&str; 2] = ["IAL2", "IAL1"];

/// The *Verify Identity* form.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyForm {
    pub contact_id: u64,
    pub ial: String,
    /// Allowed document types, in [`DOCUMENTS`] order.
    pub documents: [bool; DOCUMENTS.len()],
    /// How the link reaches the customer, one of `deliveries`.
    pub delivery: Delivery,
    /// What this account's provider offers (`show` first).
    pub deliveries: Vec<Delivery>,
    /// Start a new session even though the contact is verified.
    pub force: bool,
    /// The request is in flight.
    pub busy: bool,
    pub error: Option<Failure>,
}

impl VerifyForm {
    pub fn new(contact_id: u64, force: bool, deliveries: Vec<Delivery>) -> Self {
        Self {
            contact_id,
            ial: IAL_LEVELS[0].into(),
            documents: [true; DOCUMENTS.len()],
            delivery: Delivery::Show,
            deliveries,
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
                .map(|(doc, _)| doc.as_str().to_string())
                .collect(),
            requested_by,
            force: self.force,
            delivery: (self.delivery != Delivery::Show).then_some(self.delivery),
            send_email: false,
            contact: None,
            ticket_id: None,
        }
    }
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

/// Which [`Verify`] variant is current, cheap to compare in the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyPhase {
    Closed,
    Form,
    Waiting,
}

impl Verify {
    pub fn phase(&self) -> VerifyPhase {
        match self {
            Self::Closed => VerifyPhase::Closed,
            Self::Form(_) => VerifyPhase::Form,
            Self::Waiting(_) => VerifyPhase::Waiting,
        }
    }
}

impl Model {
    /// `Msg::OpenVerify`.
    pub(super) fn open_verify(&mut self) {
        let Some(contact) = self.record().and_then(Record::contact) else {
            return;
        };
        if self.verify == Verify::Closed {
            let force = contact.status == IdvStatus::Verified;
            self.verify = Verify::Form(VerifyForm::new(
                contact.contact_id,
                force,
                contact.deliveries.clone(),
            ));
            self.focus(Focus::Form);
        }
    }

    /// `Msg::CloseVerify`.
    pub(super) fn close_verify(&mut self) {
        if matches!(&self.verify, Verify::Form(f) if !f.busy) {
            self.verify = Verify::Closed;
            self.focus(Focus::Actions);
        }
    }

    /// `Msg::SetIal`: only the levels offered.
    pub(super) fn set_ial(&mut self, ial: String) {
        if let Verify::Form(f) = &mut self.verify {
            if !f.busy && IAL_LEVELS.contains(&ial.as_str()) {
                f.ial = ial;
            }
        }
    }

    /// `Msg::ToggleDocument`.
    pub(super) fn toggle_document(&mut self, i: usize) {
        if let Verify::Form(f) = &mut self.verify {
            if let (false, Some(d)) = (f.busy, f.documents.get_mut(i)) {
                *d = !*d;
            }
        }
    }

    /// `Msg::SetDelivery`: only a delivery the account offers.
    pub(super) fn set_delivery(&mut self, delivery: Delivery) {
        if let Verify::Form(f) = &mut self.verify {
            if !f.busy && f.deliveries.contains(&delivery) {
                f.delivery = delivery;
            }
        }
    }

    /// `Msg::SubmitVerify`: one request per form, and only a valid one.
    pub(super) fn submit_verify(&mut self, idempotency_key: String, cmds: &mut Vec<Cmd>) {
        let user = self.user.clone();
        let subject = self.subject;
        let page = self.contact_data.clone();
        let ticket = self.ticket;
        if let Verify::Form(f) = &mut self.verify {
            if !f.busy && f.is_valid() {
                f.busy = true;
                f.error = None;
                let mut body = f.request(user);
                // The page's record data describes this contact only on its own page (a
                // ticket's page shows its requester).
                if subject == Subject::Contact(f.contact_id) {
                    body.contact = page;
                    body.ticket_id = ticket;
                }
                cmds.push(Cmd::StartVerification {
                    contact_id: f.contact_id,
                    idempotency_key,
                    body,
                });
            }
        }
    }

    /// `Msg::VerifyStarted`: the link is out; watch it.
    pub(super) fn verify_started(&mut self, session: Verification, cmds: &mut Vec<Cmd>) {
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
        self.mark_pending(&session);
        let asked = match &self.verify {
            Verify::Form(f) => f.delivery,
            _ => Delivery::Show,
        };
        let announcement = match (session.delivery.unwrap_or(asked), &session.delivery_error) {
            (_, Some(_)) => t().link_ready_not_sent,
            (Delivery::Email, None) => t().link_ready_emailed,
            (Delivery::Sms, None) => t().link_ready_texted,
            _ => t().link_ready,
        };
        self.watch_idv(session, cmds);
        self.announce(announcement);
        self.focus(Focus::Copy);
    }

    /// The badge turns Pending at once, without another request.
    pub(super) fn mark_pending(&mut self, session: &Verification) {
        if let Load::Ready(record) = &mut self.load {
            if let Some(c) = record
                .contact_mut()
                .filter(|c| c.contact_id == session.contact_id)
            {
                c.status = IdvStatus::Pending;
                c.current = Some(session.clone());
            }
        }
    }

    /// `Msg::VerifyFailed`: back to the form, with the error.
    pub(super) fn verify_failed(&mut self, failure: Failure, cmds: &mut Vec<Cmd>) {
        if let Verify::Form(f) = &mut self.verify {
            f.busy = false;
            f.error = Some(failure.clone());
            cmds.push(Cmd::Toast {
                tone: Tone::Danger,
                title: t().verify_not_started_title,
                message: failure.message.clone(),
            });
            self.announce(fill(
                t().verify_not_started,
                &[("message", &failure.message)],
            ));
        }
    }

    /// `Msg::CancelVerify`.
    pub(super) fn cancel_verify(&mut self, cmds: &mut Vec<Cmd>) {
        if let Verify::Waiting(w) = &mut self.verify {
            cmds.extend(w.cancel());
        }
    }

    /// A pending ID check on a loaded record: watch it (unless it is the one already watched).
    pub(super) fn resume_idv(&mut self, record: &Record, cmds: &mut Vec<Cmd>) {
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
    }

    pub(super) fn watch_idv(&mut self, session: Verification, cmds: &mut Vec<Cmd>) {
        let gen = self.gen();
        self.verify = Verify::Waiting(Watch::new(session, gen));
        cmds.push(Cmd::Schedule {
            gen,
            delay_ms: time::idv_poll_delay(0),
        });
    }

    /// A poll of the link's session answered: poll again later, or report the outcome.
    pub(super) fn verify_polled(&mut self, session: Verification, cmds: &mut Vec<Cmd>) {
        let Verify::Waiting(w) = &mut self.verify else {
            return;
        };
        if session.state == SessionState::Pending {
            w.still_pending(session);
            cmds.push(Cmd::Schedule {
                gen: w.gen,
                delay_ms: time::idv_poll_delay(w.attempt),
            });
        } else {
            let state = session.state;
            self.verify = Verify::Closed;
            let word = labels::state_word(state);
            self.announce(fill(t().verification_ended_announced, &[("state", word)]));
            cmds.push(Cmd::Toast {
                tone: tone_of(state),
                title: t().verification_title,
                message: fill(t().verification_ended, &[("state", word)]),
            });
            self.refresh(cmds);
        }
    }

    /// A poll of the link's session failed: try again later.
    pub(super) fn verify_poll_failed(&mut self, note: String, cmds: &mut Vec<Cmd>) {
        if let Verify::Waiting(w) = &mut self.verify {
            w.poll_failed(note);
            cmds.push(Cmd::Schedule {
                gen: w.gen,
                delay_ms: time::idv_poll_delay(w.attempt),
            });
        }
    }

    /// The link's session was canceled.
    pub(super) fn verify_canceled(&mut self, session: &Verification, cmds: &mut Vec<Cmd>) {
        if matches!(&self.verify, Verify::Waiting(w) if w.session.id == session.id) {
            self.verify = Verify::Closed;
            self.announce(t().verification_canceled);
            self.focus(Focus::Actions);
            self.refresh(cmds);
        }
    }
}

#[cfg(test)]
mod tests {
    use idv_types::{Delivery, IdvStatus, Kind, SessionState, StartVerification};

    use crate::model::{
        fixtures::{contact, failure, loaded_contact, session, toasts, T0},
        Action, Cmd, Focus, Msg, Record, Subject, Verify,
    };

    #[test]
    fn a_start_on_the_contact_page_carries_the_page_s_record_data() {
        let data = idv_types::ContactData {
            first_name: Some("Ada".into()),
            email: Some("ada@example.com".into()),
            ..Default::default()
        };
        let mut m = loaded_contact(IdvStatus::NotVerified);
        m.contact_data = Some(data.clone());
        m.update(Msg::OpenVerify, T0);
        let cmds = m.update(
            Msg::SubmitVerify {
                idempotency_key: "k1".into(),
            },
            T0,
        );
        let [Cmd::StartVerification { body, .. }] = cmds.as_slice() else {
            panic!("{cmds:?}")
        };
        assert_eq!(body.contact.as_ref(), Some(&data));

        // On a deal page the page's data is the deal's, not the primary contact's.
        let mut m = crate::model::fixtures::loaded_deal(Some(contact(IdvStatus::NotVerified)));
        m.contact_data = Some(data);
        m.update(Msg::OpenVerify, T0);
        let cmds = m.update(
            Msg::SubmitVerify {
                idempotency_key: "k2".into(),
            },
            T0,
        );
        let [Cmd::StartVerification { body, .. }] = cmds.as_slice() else {
            panic!("{cmds:?}")
        };
        assert_eq!(body.contact, None);
    }

    #[test]
    fn a_start_on_a_ticket_names_the_ticket_so_its_result_is_noted_there() {
        let mut m = loaded_contact(IdvStatus::NotVerified);
        m.ticket = Some(500);
        m.update(Msg::OpenVerify, T0);
        let cmds = m.update(
            Msg::SubmitVerify {
                idempotency_key: "k1".into(),
            },
            T0,
        );
        let [Cmd::StartVerification {
            contact_id, body, ..
        }] = cmds.as_slice()
        else {
            panic!("{cmds:?}")
        };
        assert_eq!((*contact_id, body.ticket_id), (7, Some(500)));
        // Without a ticket (a contact page) none is named.
        let mut m = loaded_contact(IdvStatus::NotVerified);
        m.update(Msg::OpenVerify, T0);
        let cmds = m.update(
            Msg::SubmitVerify {
                idempotency_key: "k2".into(),
            },
            T0,
        );
        let [Cmd::StartVerification { body, .. }] = cmds.as_slice() else {
            panic!("{cmds:?}")
        };
        assert_eq!(body.ticket_id, None);
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
        m.update(Msg::SetDelivery(Delivery::Sms), T0); // not offered by this account: ignored
        assert!(matches!(&m.verify, Verify::Form(f) if f.delivery == Delivery::Show));
        m.update(Msg::SetDelivery(Delivery::Email), T0);
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
                    delivery: Some(Delivery::Email),
                    send_email: false,
                    contact: None,
                    ticket_id: None,
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
}
