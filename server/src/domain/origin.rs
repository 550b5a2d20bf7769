//! Who started a session: the backend's automation, a widget's request or a chat bot.

/// Who started a session, as far as the backend can know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The backend's own automation (an event, a workflow, a policy): the contact's owner
    /// gets a task saying how the link went out.
    Automation,
    /// The deal gate's automation: the deal gets the note and the task.
    Gate,
    /// A request of the widget: the user it names is its claim, not a verified identity (the
    /// platform's request templates carry the account's token, not the user's).
    Widget,
    /// A chat bot's call (Freshchat's Freddy): the customer is in the conversation, where the
    /// result is posted.
    Chat,
}

impl Origin {
    /// The stored spelling (`verifications.origin`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Automation | Self::Gate => "automation",
            Self::Widget => "widget",
            Self::Chat => "chat",
        }
    }

    /// The origin a stored spelling names (`widget` for anything else).
    pub fn from_stored(s: &str) -> Self {
        match s {
            "automation" => Self::Automation,
            "chat" => Self::Chat,
            _ => Self::Widget,
        }
    }

    /// Who acted, as an audit line's facts say it: the widget user's email as the widget reports
    /// it, else `automation`, `chat` or `widget` (codes the widget words in the rep's language).
    pub fn by(self, requested_by: Option<&str>) -> String {
        match (self, requested_by) {
            (Self::Automation | Self::Gate, _) => "automation".into(),
            (Self::Chat, _) => "chat".into(),
            (Self::Widget, Some(who)) => who.into(),
            (Self::Widget, None) => "widget".into(),
        }
    }

    /// The actor as notes and the audit log name it.
    pub fn actor(self, requested_by: Option<&str>) -> String {
        match (self, requested_by) {
            (Self::Automation | Self::Gate, _) => "automation".into(),
            (Self::Chat, _) => "the chat bot".into(),
            (Self::Widget, Some(who)) => format!("{who} (as the widget reports)"),
            (Self::Widget, None) => "a user of the widget".into(),
        }
    }
}
