//! The backend's tunables: every schedule, lease and period the services run by, with its
//! default written once.

use std::time::Duration;

/// Tunables (tests shrink them).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Public base URL of this backend, for provider callbacks (`{base}/hooks/kosmos/{tenant}`).
    pub public_base_url: String,
    /// The folder of the built widget (its `index.html`), served to the page a HubSpot card
    /// opens in its modal.
    pub widget_dir: std::path::PathBuf,
    /// CRM write retry delays (the row goes dead after the last).
    pub retry_schedule: Vec<Duration>,
    /// How long a desired-state write waits for more changes before it is sent.
    pub coalesce: Duration,
    /// Poll delays for pending IDV sessions (the last repeats).
    pub idv_poll: Vec<Duration>,
    /// Poll delay for pending step-ups (they live 60–120 s).
    pub stepup_poll: Duration,
    /// LiveID session lifetime asked of the provider.
    pub stepup_ttl_secs: u32,
    /// Timeout of calls to 1Kosmos and Freshsales.
    pub http_timeout: Duration,
    /// How often the workers look for due work when not woken.
    pub tick: Duration,
    /// How long a claimed write-back row is reserved for its claimant (kept above
    /// `http_timeout`: a send that outlives it may be repeated by another replica).
    pub sync_lease: Duration,
    /// A pending session whose provider session was not recorded by then (the start was cut
    /// short by a crash) is failed, so it no longer blocks a new start. Never less than three
    /// HTTP timeouts.
    pub start_deadline: Duration,
    /// How long past its provider session's expiry a pending session still waits for the
    /// provider's answer (a provider that keeps failing reads); then it reads expired locally,
    /// its polling stops and the contact may start again.
    pub pending_grace: Duration,
    /// The longest a pending session whose expiry the provider never gave may wait.
    pub max_pending: Duration,
    /// How long each kind of row is kept (the retention job deletes older ones).
    pub retention: RetentionPeriods,
    /// How often an account whose set-up was incomplete is read again (its waiting writes go
    /// out once it is complete).
    pub setup_recheck: Duration,
    /// This backend's registration with a CRM's app platform (HubSpot), if the operator set it.
    pub oauth_app: Option<crate::ports::OAuthApp>,
    /// An OAuth access token is refreshed this long before it ends.
    pub token_refresh_margin: Duration,
    /// Accept any http(s) account URL at install (simulators on loopback). Off in production:
    /// only `https://*.myfreshworks.com` and `https://*.freshsales.io` are accepted.
    pub allow_any_account_url: bool,
}

/// This backend's public address unless configured (`IDV_PUBLIC_URL`).
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

impl Default for Settings {
    fn default() -> Self {
        let s = Duration::from_secs;
        Self {
            public_base_url: DEFAULT_PUBLIC_URL.into(),
            widget_dir: "app".into(),
            retry_schedule: vec![
                s(1),
                s(5),
                s(30),
                s(120),
                s(600),
                s(1800),
                s(3600),
                s(3 * 3600),
            ],
            coalesce: Duration::from_secs(2),
            idv_poll: vec![s(15), s(30), s(60), s(120), s(300)],
            stepup_poll: s(2),
            stepup_ttl_secs: 90,
            http_timeout: s(10),
            tick: Duration::from_millis(500),
            sync_lease: s(60),
            start_deadline: s(120),
            pending_grace: s(15 * 60),
            max_pending: s(8 * 24 * 3600),
            retention: RetentionPeriods::default(),
            setup_recheck: s(600),
            oauth_app: None,
            token_refresh_margin: s(300),
            allow_any_account_url: false,
        }
    }
}

impl Settings {
    /// How long a pending IDV session waits before its `attempt`-th poll (the last delay
    /// repeats).
    pub fn idv_poll_delay(&self, attempt: i64) -> Duration {
        let s = &self.idv_poll;
        s.get(attempt as usize)
            .or(s.last())
            .copied()
            .unwrap_or(Duration::from_secs(60))
    }
}

/// How long rows are kept before the retention job deletes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPeriods {
    /// Inbound webhook delivery ids (dedupe only needs the senders' retry window).
    pub inbound_events: Duration,
    /// The API's idempotency keys (a client retries within minutes).
    pub idempotency_keys: Duration,
    /// Audit lines.
    pub audit_log: Duration,
    /// Sessions that ended without a valid result (failed, expired, canceled).
    pub finished_verifications: Duration,
    /// Which user a chat conversation belongs to, counted from its last webhook.
    pub chat_conversations: Duration,
    /// The queue's rows of writes that happen once (notes, tasks, messages, completions,
    /// platform events), counted from their sending.
    pub sent_once_writes: Duration,
    /// How often the job runs.
    pub every: Duration,
}

impl Default for RetentionPeriods {
    fn default() -> Self {
        let days = |d: u64| Duration::from_secs(d * 24 * 3600);
        Self {
            inbound_events: days(7),
            idempotency_keys: days(2),
            audit_log: days(400),
            finished_verifications: days(400),
            chat_conversations: days(30),
            sent_once_writes: days(7),
            every: Duration::from_secs(3600),
        }
    }
}
