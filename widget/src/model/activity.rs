//! The contact's activity (its audit trail: who started what, how the link went out, results,
//! Freshsales writes) in the history panel, loaded when the rep opens it.

use idv_types::AuditPage;

use super::{Cmd, Failure, Model, Subject};

/// The activity list of the history panel.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Activity {
    #[default]
    Hidden,
    Loading,
    Shown(AuditPage),
    Failed(Failure),
}

impl Model {
    /// `Msg::ShowActivity`: on a contact page, load the trail (again, after a failure).
    pub(super) fn show_activity(&mut self, cmds: &mut Vec<Cmd>) {
        if let (Subject::Contact(contact_id), false) =
            (self.subject, self.activity == Activity::Loading)
        {
            self.activity = Activity::Loading;
            cmds.push(Cmd::FetchAudit { contact_id });
        }
    }

    pub(super) fn hide_activity(&mut self) {
        self.activity = Activity::Hidden;
    }

    /// The record was reloaded (a session ended): an open list follows.
    pub(super) fn refresh_activity(&mut self, cmds: &mut Vec<Cmd>) {
        if let (Subject::Contact(contact_id), Activity::Shown(_)) = (self.subject, &self.activity) {
            cmds.push(Cmd::FetchAudit { contact_id });
        }
    }

    pub(super) fn activity_loaded(&mut self, page: AuditPage) {
        if matches!(self.activity, Activity::Loading | Activity::Shown(_)) {
            self.activity = Activity::Shown(page);
        }
    }

    /// The lines shown, newest first.
    pub fn activity_rows(&self) -> &[idv_types::AuditEntry] {
        match &self.activity {
            Activity::Shown(page) => &page.entries,
            _ => &[],
        }
    }

    pub(super) fn activity_failed(&mut self, failure: Failure) {
        if self.activity == Activity::Loading {
            self.activity = Activity::Failed(failure);
        }
    }
}

#[cfg(test)]
mod tests {
    use idv_types::{AuditEntry, AuditPage, IdvStatus};

    use crate::model::{
        fixtures::{contact, failure, loaded_contact, loaded_deal, T0},
        Activity, Cmd, Msg, Record,
    };

    fn page() -> AuditPage {
        AuditPage {
            entries: vec![AuditEntry {
                at: "2026-11-22T10:00:00Z".into(),
                action: "start_idv".into(),
                session_id: Some("ver_1".into()),
                record: None,
                detail: "contact 7 IAL2 by rep@example.com (as the widget reports), link by email"
                    .into(),
                facts: Some(idv_types::AuditFacts {
                    by: Some("rep@example.com".into()),
                    ial: Some("IAL2".into()),
                    delivery: Some("email".into()),
                    ..Default::default()
                }),
            }],
            next_before: None,
        }
    }

    #[test]
    fn the_activity_loads_when_opened_and_follows_reloads() {
        let mut m = loaded_contact(IdvStatus::Verified);
        assert_eq!(m.activity, Activity::Hidden);
        let cmds = m.update(Msg::ShowActivity, T0);
        assert_eq!(cmds, [Cmd::FetchAudit { contact_id: 7 }]);
        assert!(m.update(Msg::ShowActivity, T0).is_empty(), "one at a time");
        m.update(Msg::ActivityLoaded(page()), T0);
        assert_eq!(m.activity, Activity::Shown(page()));
        assert_eq!(
            crate::i18n::labels::audit_action(&m.activity_rows()[0].action),
            "Verification started"
        );
        // A reload of the record (a session ended) reloads the open list.
        let cmds = m.update(
            Msg::Loaded(Record::Contact(Box::new(contact(IdvStatus::Verified)))),
            T0,
        );
        assert!(cmds.contains(&Cmd::FetchAudit { contact_id: 7 }));
        m.update(Msg::HideActivity, T0);
        assert_eq!(m.activity, Activity::Hidden);
        // A late answer after closing changes nothing.
        m.update(Msg::ActivityLoaded(page()), T0);
        assert_eq!(m.activity, Activity::Hidden);
    }

    #[test]
    fn a_failed_load_is_shown_and_retried_and_deals_have_none() {
        let mut m = loaded_contact(IdvStatus::Verified);
        m.update(Msg::ShowActivity, T0);
        m.update(Msg::ActivityFailed(failure(503, "unavailable")), T0);
        assert!(matches!(m.activity, Activity::Failed(_)));
        assert_eq!(
            m.update(Msg::ShowActivity, T0),
            [Cmd::FetchAudit { contact_id: 7 }]
        );
        let mut d = loaded_deal(None);
        assert!(d.update(Msg::ShowActivity, T0).is_empty());
    }
}
