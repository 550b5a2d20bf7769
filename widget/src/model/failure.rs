//! Why a request did not give what was asked.

/// Why a request did not give what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// HTTP status; 0 when the backend could not be reached.
    pub status: u16,
    /// The backend's error code (`not_enrolled`, `not_found`, …), or `network` / `http`.
    pub code: String,
    /// A sentence a person can act on.
    pub message: String,
}

impl Failure {
    pub fn network(message: impl Into<String>) -> Self {
        Self {
            status: 0,
            code: "network".into(),
            message: message.into(),
        }
    }

    pub fn is_not_enrolled(&self) -> bool {
        self.code == "not_enrolled"
    }
}
