//! Help desks: whether a ticket's requester verified recently enough for the agent to change
//! account details (the account's `fresh_minutes` policy).

use idv_types::{ContactStatus, IdvStatus};

use crate::{
    i18n::{count, fill, t},
    time,
};

/// What the ticket sidebar says about the requester's last verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Verified (or stepped up) `minutes_ago` minutes ago, within the `window`.
    Fresh { minutes_ago: u32, window: u32 },
    /// No verification within the `window`.
    Stale { window: u32 },
}

impl Freshness {
    /// The sentence the agent reads, in the page's language.
    pub fn sentence(self) -> String {
        let t = t();
        match self {
            Self::Fresh {
                minutes_ago,
                window,
            } => {
                let ago = match minutes_ago {
                    0 => t.fresh_just_now.to_string(),
                    n => count(&t.fresh_ago, n),
                };
                let within = count(&t.fresh_within, window);
                fill(t.fresh_ok, &[("ago", &ago), ("within", &within)])
            }
            Self::Stale { window } => count(&t.fresh_stale, window),
        }
    }
}

/// The requester's freshness at `now` (ms), where the account has a window (help desks only):
/// the later of a valid verification and a LiveID step-up counts.
pub fn freshness(status: &ContactStatus, now: f64) -> Option<Freshness> {
    let window = status.fresh_minutes?;
    let verified = (status.status == IdvStatus::Verified)
        .then(|| status.verified_at.as_deref().and_then(time::parse_rfc3339))
        .flatten();
    let stepped = status
        .last_stepup_at
        .as_deref()
        .and_then(time::parse_rfc3339);
    let last = verified
        .into_iter()
        .chain(stepped)
        .fold(None, |a: Option<f64>, t| Some(a.map_or(t, |a| a.max(t))));
    let minutes = last.map(|t| ((now - t).max(0.0) / 60_000.0).floor());
    Some(match minutes {
        Some(m) if m < f64::from(window) => Freshness::Fresh {
            minutes_ago: m as u32,
            window,
        },
        _ => Freshness::Stale { window },
    })
}

#[cfg(test)]
mod tests {
    use idv_types::IdvStatus;

    use super::*;
    use crate::model::fixtures::{contact, T0};

    /// `minutes_before` T0 (10:00:00Z), as the backend writes it.
    fn at(minutes_before: f64) -> String {
        let secs = (minutes_before * 60.0) as u32;
        let since_nine = 3600 - secs;
        format!(
            "2026-11-22T09:{:02}:{:02}Z",
            since_nine / 60,
            since_nine % 60
        )
    }

    #[test]
    fn only_a_help_desk_account_has_a_window() {
        let c = contact(IdvStatus::Verified);
        assert_eq!(freshness(&c, T0), None);
    }

    #[test]
    fn a_recent_verification_is_fresh_and_an_old_one_is_not() {
        let mut c = contact(IdvStatus::Verified);
        c.fresh_minutes = Some(30);
        c.verified_at = Some(at(12.5));
        assert_eq!(
            freshness(&c, T0),
            Some(Freshness::Fresh {
                minutes_ago: 12,
                window: 30
            })
        );
        c.verified_at = Some(at(45.0));
        assert_eq!(freshness(&c, T0), Some(Freshness::Stale { window: 30 }));
        assert!(Freshness::Stale { window: 30 }
            .sentence()
            .contains("before changing account details"));
    }

    #[test]
    fn a_recent_step_up_counts_and_a_lapsed_verification_does_not() {
        let mut c = contact(IdvStatus::Lapsed);
        c.fresh_minutes = Some(15);
        c.verified_at = Some(at(2.0));
        assert_eq!(freshness(&c, T0), Some(Freshness::Stale { window: 15 }));
        c.last_stepup_at = Some(at(3.0));
        assert_eq!(
            freshness(&c, T0),
            Some(Freshness::Fresh {
                minutes_ago: 3,
                window: 15
            })
        );
    }
}
