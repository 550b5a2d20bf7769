//! The buttons the widget offers, and which are offered in which state.

use idv_types::{IdvStatus, SessionState};

use super::{Load, Model, Msg, Record, StepUp, Verify};

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
    /// Send a link that expired unused or was not delivered again.
    ResendLink,
    StepUp,
    RestartStepUp,
    CancelStepUp,
}

impl Action {
    /// The button's text, in the page's language.
    pub fn label(self) -> &'static str {
        let t = crate::i18n::t();
        match self {
            Self::Retry => t.action_retry,
            Self::VerifyIdentity => t.action_verify,
            Self::VerifyAgain => t.action_verify_again,
            Self::VerifyPrimaryContact => t.action_verify_primary,
            Self::CreateLink => t.action_create_link,
            Self::CloseForm => t.action_back,
            Self::CopyLink => t.action_copy,
            Self::CancelVerification => t.action_cancel_verification,
            Self::ResendLink => t.action_resend,
            Self::StepUp => t.action_stepup,
            Self::RestartStepUp => t.action_restart_stepup,
            Self::CancelStepUp => t.action_cancel_stepup,
        }
    }

    /// The main action bar (the rest live in their panels).
    pub fn in_action_bar(self) -> bool {
        matches!(
            self,
            Self::VerifyIdentity
                | Self::VerifyAgain
                | Self::VerifyPrimaryContact
                | Self::ResendLink
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
            Self::ResendLink => Msg::ResendLink,
            Self::StepUp | Self::RestartStepUp => Msg::StartStepUp,
            Self::CancelStepUp => Msg::CancelStepUp,
            Self::CreateLink | Self::CopyLink => return None,
        })
    }
}

impl Model {
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
            self.push_stepup_action(&mut out);
            let offer_verify = matches!(self.stepup, StepUp::NotEnrolled(_))
                || (deal.gated && !deal.gate_satisfied);
            if offer_verify && self.verify == Verify::Closed {
                out.push(Action::VerifyPrimaryContact);
            }
            if self.verify == Verify::Closed && self.resendable().is_some() {
                out.push(Action::ResendLink);
            }
        } else {
            if self.verify == Verify::Closed {
                let verified = contact.is_some_and(|c| c.status == IdvStatus::Verified);
                out.push(if verified {
                    Action::VerifyAgain
                } else {
                    Action::VerifyIdentity
                });
                if self.resendable().is_some() {
                    out.push(Action::ResendLink);
                }
            }
            // Both buttons in the contact sidebar: Step-Up Auth for an enrolled contact.
            if self.can_step_up() {
                self.push_stepup_action(&mut out);
            }
        }
        match &self.verify {
            Verify::Closed => {}
            Verify::Form(_) => out.extend([Action::CreateLink, Action::CloseForm]),
            Verify::Waiting(w) => {
                if w.session.hosted_url.is_some() {
                    out.push(Action::CopyLink);
                }
                if self.resendable().is_some() {
                    out.push(Action::ResendLink);
                }
                out.push(Action::CancelVerification);
            }
        }
        out
    }

    /// The step-up button for the step-up's state.
    fn push_stepup_action(&self, out: &mut Vec<Action>) {
        match &self.stepup {
            StepUp::Idle | StepUp::Failed(_) => out.push(Action::StepUp),
            StepUp::Done(v) if v.state == SessionState::Verified => out.push(Action::StepUp),
            StepUp::Done(_) => out.push(Action::RestartStepUp),
            StepUp::Active { .. } => out.push(Action::CancelStepUp),
            StepUp::Starting | StepUp::NotEnrolled(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use idv_types::IdvStatus;

    use crate::model::{
        fixtures::{loaded_contact, loaded_deal, T0},
        Action, Msg,
    };

    #[test]
    fn contact_actions_follow_the_status() {
        for (status, action) in [
            (IdvStatus::NotVerified, Action::VerifyIdentity),
            (IdvStatus::Failed, Action::VerifyIdentity),
            (IdvStatus::Expired, Action::VerifyIdentity),
            (IdvStatus::Lapsed, Action::VerifyIdentity),
            (IdvStatus::Verified, Action::VerifyAgain),
        ] {
            assert_eq!(loaded_contact(status).actions(), [action], "{status:?}");
        }
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
            ResendLink,
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
