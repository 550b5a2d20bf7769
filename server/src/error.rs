//! The crate's one error type. Client errors say precisely what was wrong; `crate::http::error`
//! turns each into its status and JSON body (internal errors logged once, answered generically,
//! so no SQL or secret ever reaches a client).

/// Result alias used across the crate.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but not allowed to do this (e.g. an install not signed by the app).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Unprocessable(String),
    /// Step-up asked for a contact without a LiveID enrolment: the widget offers Verify Identity.
    #[error("{0}")]
    NotEnrolled(String),
    /// A limit of the account was reached: the message says which; retry after the seconds.
    #[error("{0}")]
    TooManyRequests(String, u64),
    /// 1Kosmos or Freshsales could not be reached or refused for a passing reason.
    #[error("{0}")]
    Upstream(String),
    #[error("database unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Self::Unavailable(e.into())
            }
            other => Self::Internal(other.into()),
        }
    }
}

impl AppError {
    /// The HTTP status this error is answered with.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::MethodNotAllowed(_) => 405,
            Self::Conflict(_) => 409,
            Self::PayloadTooLarge(_) => 413,
            Self::Unsupported(_) => 415,
            Self::Unprocessable(_) => 422,
            Self::NotEnrolled(_) => 409,
            Self::TooManyRequests(..) => 429,
            Self::Upstream(_) => 502,
            Self::Unavailable(_) => 503,
            Self::Internal(_) => 500,
        }
    }

    /// A failure that may pass (a service out of reach, a limit, the database): worth trying
    /// again later, unlike a refusal.
    pub fn is_passing(&self) -> bool {
        matches!(
            self,
            Self::Upstream(_)
                | Self::Unavailable(_)
                | Self::Internal(_)
                | Self::TooManyRequests(..)
        )
    }

    /// The machine-readable `error` of the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::Unsupported(_) => "unsupported_media_type",
            Self::Unprocessable(_) => "unprocessable",
            Self::NotEnrolled(_) => "not_enrolled",
            Self::TooManyRequests(..) => "rate_limited",
            Self::Upstream(_) => "upstream_unavailable",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }
}
