//! Configuration from the environment (and the command line, which wins).

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::Args;
use secrecy::SecretString;

pub use crate::services::DEFAULT_PUBLIC_URL;
use crate::{
    adapters::hubspot::platform,
    ports::{CrmKind, OAuthApp},
    services::Settings,
};

/// The production default database (the demo never uses it: see `demo::DEMO_DATABASE_URL`).
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/idv.db?mode=rwc";

/// Settings shared by `serve` and `demo`.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "IDV_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// The operator's address: `/metrics` (and `/healthz`, `/readyz`) are served only here.
    /// Keep it on loopback or a private network; port 0 picks a free port.
    #[arg(long, env = "IDV_OPS_BIND", default_value = "127.0.0.1:9090")]
    pub ops_bind: SocketAddr,
    /// `sqlite://path?mode=rwc` (the embedded default) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// The Freshworks app folder holding the built widget.
    #[arg(long, env = "IDV_APP_DIR", default_value = "app")]
    pub app_dir: PathBuf,
    /// The demo's stand-in HubSpot host for the app's cards (`cargo xtask demo` builds it).
    #[arg(
        long,
        env = "IDV_HUBSPOT_HOST_DIR",
        default_value = "target/hubspot-host"
    )]
    pub hubspot_host_dir: PathBuf,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "IDV_MAX_BODY", default_value_t = 64 * 1024)]
    pub max_body: usize,
    /// 32 bytes, base64: seals secrets at rest (`server keygen` makes one). `serve` needs it;
    /// the demo keeps its own next to its database.
    #[arg(long, env = "IDV_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<SecretString>,
    /// This backend's public base URL (provider callbacks go to `{url}/hooks/kosmos/{tenant}`).
    #[arg(long, env = "IDV_PUBLIC_URL", default_value = DEFAULT_PUBLIC_URL)]
    pub public_url: String,
    /// Run no background workers (poller, expiry, CRM write-back) in this process.
    #[arg(long, env = "IDV_NO_WORKERS", default_value_t = false)]
    pub no_workers: bool,
    /// Seconds a client has to send a request's headers before its connection is closed.
    #[arg(long, env = "IDV_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Connections served at once; more are answered 503 and closed.
    #[arg(long, env = "IDV_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Connections one client address may hold at once; 0 for no cap of its own (set it to 0,
    /// or to the proxy's share, behind a reverse proxy: every connection then comes from it).
    #[arg(long, env = "IDV_MAX_CONNECTIONS_PER_PEER", default_value_t = 64)]
    pub max_connections_per_peer: usize,
    #[command(flatten)]
    pub schedules: Schedules,
    #[command(flatten)]
    pub hubspot: HubSpotArgs,
}

/// This backend's HubSpot app (the developer project's client id and secret): set both to let
/// HubSpot accounts install the app by OAuth.
#[derive(Debug, Clone, Args)]
pub struct HubSpotArgs {
    #[arg(long, env = "IDV_HUBSPOT_CLIENT_ID")]
    pub hubspot_client_id: Option<String>,
    /// Also the key of HubSpot's request signatures.
    #[arg(long, env = "IDV_HUBSPOT_CLIENT_SECRET", hide_env_values = true)]
    pub hubspot_client_secret: Option<SecretString>,
    /// The app's id (HubSpot adds it to the requests it signs).
    #[arg(long, env = "IDV_HUBSPOT_APP_ID")]
    pub hubspot_app_id: Option<String>,
    #[arg(long, env = "IDV_HUBSPOT_API_URL", default_value = platform::DEFAULT_API_URL)]
    pub hubspot_api_url: String,
    #[arg(long, env = "IDV_HUBSPOT_AUTHORIZE_URL", default_value = platform::DEFAULT_AUTHORIZE_URL)]
    pub hubspot_authorize_url: String,
}

impl Default for HubSpotArgs {
    fn default() -> Self {
        Self {
            hubspot_client_id: None,
            hubspot_client_secret: None,
            hubspot_app_id: None,
            hubspot_api_url: platform::DEFAULT_API_URL.into(),
            hubspot_authorize_url: platform::DEFAULT_AUTHORIZE_URL.into(),
        }
    }
}

impl HubSpotArgs {
    /// The app, when its client id and secret are both set.
    pub fn app(&self) -> Option<OAuthApp> {
        Some(OAuthApp {
            kind: CrmKind::Hubspot,
            client_id: self
                .hubspot_client_id
                .clone()
                .filter(|s| !s.trim().is_empty())?,
            client_secret: self.hubspot_client_secret.clone()?,
            app_id: self.hubspot_app_id.clone(),
            api_url: self.hubspot_api_url.trim_end_matches('/').to_string(),
            authorize_url: self.hubspot_authorize_url.clone(),
        })
    }
}

/// The services' schedules and leases, each unset one at its default (see
/// [`Settings::default`], where every default is written). Durations as `500ms`, `30s`, `2m`,
/// `1h`, `8d`; schedules as comma-separated durations.
#[derive(Debug, Clone, Default, Args)]
pub struct Schedules {
    /// CRM write retry delays; the write is dead after the last.
    #[arg(long, env = "IDV_RETRY_SCHEDULE", value_parser = parse_schedule)]
    pub retry_schedule: Option<Schedule>,
    /// Poll delays for pending IDV sessions (the last repeats).
    #[arg(long, env = "IDV_POLL_SCHEDULE", value_parser = parse_schedule)]
    pub poll_schedule: Option<Schedule>,
    /// Poll delay for pending step-ups.
    #[arg(long, env = "IDV_STEPUP_POLL", value_parser = parse_duration)]
    pub stepup_poll: Option<Duration>,
    /// How long a desired-state CRM write waits for more changes.
    #[arg(long, env = "IDV_COALESCE", value_parser = parse_duration)]
    pub coalesce: Option<Duration>,
    /// Timeout of calls to 1Kosmos and the CRMs.
    #[arg(long, env = "IDV_HTTP_TIMEOUT", value_parser = parse_duration)]
    pub http_timeout: Option<Duration>,
    /// How long a claimed write-back row is its claimant's (at least two HTTP timeouts).
    #[arg(long, env = "IDV_SYNC_LEASE", value_parser = parse_duration)]
    pub sync_lease: Option<Duration>,
    /// How long a start may take to reach the provider before its session is failed.
    #[arg(long, env = "IDV_START_DEADLINE", value_parser = parse_duration)]
    pub start_deadline: Option<Duration>,
    /// How long past its provider session's end a pending session waits for an answer.
    #[arg(long, env = "IDV_PENDING_GRACE", value_parser = parse_duration)]
    pub pending_grace: Option<Duration>,
    /// The longest a pending session whose end the provider never gave may wait.
    #[arg(long, env = "IDV_MAX_PENDING", value_parser = parse_duration)]
    pub max_pending: Option<Duration>,
    /// How often an account whose set-up was incomplete is read again.
    #[arg(long, env = "IDV_SETUP_RECHECK", value_parser = parse_duration)]
    pub setup_recheck: Option<Duration>,
}

/// A duration of 1 ms to 30 days.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim()).map_err(|e| format!("{s:?}: {e}"))?;
    if d.is_zero() || d > Duration::from_secs(30 * 24 * 3600) {
        return Err(format!("{s:?} must be between 1ms and 30 days"));
    }
    Ok(d)
}

/// A schedule of delays, as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule(pub Vec<Duration>);

/// One to 32 durations, comma-separated.
fn parse_schedule(s: &str) -> Result<Schedule, String> {
    let steps = s
        .split(',')
        .map(parse_duration)
        .collect::<Result<Vec<_>, _>>()?;
    if steps.is_empty() || steps.len() > 32 {
        return Err(format!("{s:?}: give 1 to 32 durations"));
    }
    Ok(Schedule(steps))
}

impl Config {
    /// A configuration for tests and embedded use.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            ops_bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.into(),
            app_dir: PathBuf::from("app"),
            hubspot_host_dir: PathBuf::from("target/hubspot-host"),
            max_body: 64 * 1024,
            master_key: None,
            public_url: DEFAULT_PUBLIC_URL.into(),
            no_workers: false,
            header_timeout_secs: 10,
            max_connections: 1024,
            // Tests and benchmarks connect from one address by the hundred.
            max_connections_per_peer: 0,
            schedules: Schedules::default(),
            hubspot: HubSpotArgs::default(),
        }
    }

    /// The services' settings: the defaults, with this configuration's public URL and every
    /// schedule it sets.
    pub fn settings(&self) -> Settings {
        let s = &self.schedules;
        let d = Settings::default();
        Settings {
            public_base_url: self.public_url.trim_end_matches('/').to_string(),
            widget_dir: self.app_dir.clone(),
            retry_schedule: s.retry_schedule.clone().map_or(d.retry_schedule, |x| x.0),
            idv_poll: s.poll_schedule.clone().map_or(d.idv_poll, |x| x.0),
            stepup_poll: s.stepup_poll.unwrap_or(d.stepup_poll),
            coalesce: s.coalesce.unwrap_or(d.coalesce),
            http_timeout: s.http_timeout.unwrap_or(d.http_timeout),
            sync_lease: s.sync_lease.unwrap_or(d.sync_lease),
            start_deadline: s.start_deadline.unwrap_or(d.start_deadline),
            pending_grace: s.pending_grace.unwrap_or(d.pending_grace),
            max_pending: s.max_pending.unwrap_or(d.max_pending),
            setup_recheck: s.setup_recheck.unwrap_or(d.setup_recheck),
            oauth_app: self.hubspot.app(),
            ..d
        }
    }

    /// The HTTP server's header-read timeout and connection cap.
    pub fn conn_limits(&self) -> crate::ConnLimits {
        crate::ConnLimits {
            header_read_timeout: std::time::Duration::from_secs(self.header_timeout_secs.max(1)),
            max_connections: self.max_connections.max(1),
            max_per_peer: self.max_connections_per_peer,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        config: Config,
    }

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        Cli::try_parse_from(std::iter::once("server").chain(args.iter().copied())).map(|c| c.config)
    }

    #[test]
    fn unset_schedules_keep_their_defaults_and_set_ones_apply() {
        let d = Settings::default();
        let c = parse(&[]).unwrap();
        let s = c.settings();
        assert_eq!(
            (s.retry_schedule, s.idv_poll),
            (d.retry_schedule, d.idv_poll)
        );
        assert_eq!(s.public_base_url, DEFAULT_PUBLIC_URL);
        let c = parse(&[
            "--retry-schedule",
            "500ms, 5s,1m",
            "--pending-grace",
            "20m",
            "--public-url",
            "https://idv.example.com/",
        ])
        .unwrap();
        let s = c.settings();
        assert_eq!(
            s.retry_schedule,
            vec![
                Duration::from_millis(500),
                Duration::from_secs(5),
                Duration::from_secs(60)
            ]
        );
        assert_eq!(s.pending_grace, Duration::from_secs(20 * 60));
        assert_eq!(s.public_base_url, "https://idv.example.com");
    }

    #[test]
    fn a_schedule_that_cannot_work_is_refused_with_its_reason() {
        for bad in [
            ["--retry-schedule", ""],
            ["--retry-schedule", "1s,,2s"],
            ["--http-timeout", "0s"],
            ["--max-pending", "400d"],
            ["--stepup-poll", "soon"],
        ] {
            let e = parse(&bad)
                .err()
                .unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert!(e.to_string().contains(bad[0]), "{bad:?}: {e}");
        }
    }
}
