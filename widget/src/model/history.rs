//! Past sessions of a contact.

use idv_types::Verification;

use crate::time;

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
    use idv_types::{IdvStatus, Kind, SessionState};

    use crate::model::{
        fixtures::{contact, session, T0},
        Model, Msg, Record, Subject,
    };

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
}
