//! The record the widget sits on (a contact or a deal), and loading it.

use idv_types::{ContactData, ContactStatus, DealStatus, IdvStatus};

use super::{history::sort_newest_first, Cmd, Failure, Model, Tone};
use crate::i18n::{fill, labels, t};

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
    /// The account's set-up while it is incomplete (a deal's own, else its primary contact's).
    pub fn setup(&self) -> Option<&idv_types::SetupReport> {
        match self {
            Self::Contact(c) => c.setup.as_ref(),
            Self::Deal(d) => d
                .setup
                .as_ref()
                .or_else(|| d.primary_contact.as_ref()?.setup.as_ref()),
        }
    }

    /// The contact whose status the badge shows (a deal's primary contact).
    pub fn contact(&self) -> Option<&ContactStatus> {
        match self {
            Self::Contact(c) => Some(c),
            Self::Deal(d) => d.primary_contact.as_ref(),
        }
    }

    pub(super) fn contact_mut(&mut self) -> Option<&mut ContactStatus> {
        match self {
            Self::Contact(c) => Some(c),
            Self::Deal(d) => d.primary_contact.as_mut(),
        }
    }
}

/// The page's record data as a start may carry it: trimmed, empty values left out; `None` when
/// nothing is left or a value is longer than the backend accepts (the backend then reads the
/// contact from the CRM itself).
pub fn page_contact(raw: ContactData) -> Option<ContactData> {
    fn clean(v: Option<String>, max: usize) -> Result<Option<String>, ()> {
        match v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
            Some(s) if s.chars().count() > max || s.chars().any(char::is_control) => Err(()),
            other => Ok(other),
        }
    }
    let data = ContactData {
        first_name: clean(raw.first_name, 255).ok()?,
        last_name: clean(raw.last_name, 255).ok()?,
        email: clean(raw.email, 254).ok()?,
        phone: clean(raw.phone, 64).ok()?,
    };
    let named = data.first_name.is_some() || data.last_name.is_some();
    (named || data.email.is_some()).then_some(data)
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

impl Model {
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

    /// `Msg::Refresh`, and after a session ended.
    pub(super) fn refresh(&mut self, cmds: &mut Vec<Cmd>) {
        match self.load {
            Load::Ready(_) => self.refreshing = true,
            _ => self.load = Load::Loading,
        }
        cmds.push(Cmd::Fetch(self.subject));
    }

    /// `Msg::Loaded`: shows the record and picks up a session still running on it.
    pub(super) fn loaded(&mut self, mut record: Record, cmds: &mut Vec<Cmd>) {
        self.refreshing = false;
        self.stale = None;
        if let Record::Contact(c) = &mut record {
            sort_newest_first(&mut c.history);
        }
        let before = self.status();
        self.resume_idv(&record, cmds);
        self.resume_stepup(&record, cmds);
        self.refresh_activity(cmds);
        self.load = Load::Ready(record);
        let after = self.status();
        if let (Some(a), true) = (after, before.is_some() && before != after) {
            self.announce(fill(t().status_announced, &[("status", labels::status(a))]));
        }
    }

    /// `Msg::LoadFailed`: an error in place of the record, or a stale note above it.
    pub(super) fn load_failed(&mut self, failure: Failure, cmds: &mut Vec<Cmd>) {
        self.refreshing = false;
        cmds.push(Cmd::Toast {
            tone: Tone::Danger,
            title: t().status_unavailable_title,
            message: failure.message.clone(),
        });
        self.announce(fill(
            t().status_not_loaded,
            &[("message", &failure.message)],
        ));
        if matches!(self.load, Load::Ready(_)) {
            self.stale = Some(failure);
        } else {
            self.load = Load::Failed(failure);
        }
    }
}

#[cfg(test)]
mod tests {
    use idv_types::IdvStatus;

    use crate::model::{
        fixtures::{contact, failure, loaded_contact, toasts, T0},
        Action, Cmd, Model, Msg, Phase, Record, Subject,
    };

    #[test]
    fn the_page_s_contact_data_is_trimmed_or_left_out() {
        use idv_types::ContactData;

        use crate::model::page_contact;
        let raw = ContactData {
            first_name: Some(" Ada ".into()),
            last_name: Some("Lovelace".into()),
            email: Some("ada@example.com".into()),
            phone: Some("   ".into()),
        };
        let clean = page_contact(raw.clone()).unwrap();
        assert_eq!(clean.first_name.as_deref(), Some("Ada"));
        assert_eq!(clean.phone, None);
        // Nothing that names the person: the backend reads the CRM instead.
        assert_eq!(
            page_contact(ContactData {
                phone: Some("+1 415 555 0100".into()),
                ..ContactData::default()
            }),
            None
        );
        // Too long, or with control characters: left out as a whole.
        let long = ContactData {
            last_name: Some("x".repeat(256)),
            ..raw.clone()
        };
        assert_eq!(page_contact(long), None);
        let odd = ContactData {
            email: Some("ada@exa\u{7}mple.com".into()),
            ..raw
        };
        assert_eq!(page_contact(odd), None);
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
}
