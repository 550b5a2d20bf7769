//! Process counters and gauges, served in the OpenMetrics text format at `/metrics` on the
//! operator's address (no labels that could carry personal data: counts only). A scrape reads
//! only these values: the gauges of the write-back queue and of pending sessions are refreshed
//! by the write-back worker as it changes rows (and every [`GAUGE_REFRESH`](super::gauges::GAUGE_REFRESH) when idle), from
//! indexed counts of the live rows, never a scan of the whole history. The count of tenants
//! whose CRM set-up is incomplete is refreshed whenever a set-up check, a refused write, an
//! install or an uninstall changes it (and with the other gauges).

use prometheus_client::{
    encoding::text::encode,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

type Labels = [(&'static str, &'static str); 1];
type KindState = [(&'static str, &'static str); 2];

/// What the operator watches.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Terminal results applied to sessions.
    pub results: Counter,
    /// Session reads from the identity provider.
    pub provider_reads: Counter,
    /// Provider callbacks accepted (signature good, not a duplicate).
    pub callbacks_accepted: Counter,
    /// Provider callbacks refused (bad signature, stale, unknown tenant).
    pub callbacks_rejected: Counter,
    /// Provider callbacks seen before (same `webhook-id`).
    pub callbacks_duplicate: Counter,
    /// Calls made to Freshsales by the write-back worker.
    pub fs_calls: Counter,
    /// Writes Freshsales accepted.
    pub sync_sent: Counter,
    /// 429 answers from Freshsales.
    pub fs_429: Counter,
    /// CRM events (serverless forwarder and Workflow Automator) accepted.
    pub events_accepted: Counter,
    /// Start requests refused by a tenant's or a contact's limit.
    pub starts_limited: Counter,
    /// HTTP answers by class: 2xx (and 1xx/3xx), 4xx, 5xx.
    pub http: Family<Labels, Counter>,
    /// Write-back rows by state (pending, dead).
    pub outbox_rows: Family<Labels, Gauge>,
    /// Sessions by kind and state (pending).
    pub sessions: Family<KindState, Gauge>,
    /// Installed tenants whose CRM set-up is incomplete (their admin must add fields).
    pub tenants_setup_incomplete: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("idv");
        let m = Self {
            results: Counter::default(),
            provider_reads: Counter::default(),
            callbacks_accepted: Counter::default(),
            callbacks_rejected: Counter::default(),
            callbacks_duplicate: Counter::default(),
            fs_calls: Counter::default(),
            sync_sent: Counter::default(),
            fs_429: Counter::default(),
            events_accepted: Counter::default(),
            starts_limited: Counter::default(),
            http: Family::default(),
            outbox_rows: Family::default(),
            sessions: Family::default(),
            tenants_setup_incomplete: Gauge::default(),
            registry: Registry::default(),
        };
        let counters: [(&str, &str, &Counter); 10] = [
            ("results", "Terminal session results applied.", &m.results),
            (
                "provider_reads",
                "Session reads from 1Kosmos.",
                &m.provider_reads,
            ),
            (
                "callbacks_accepted",
                "Provider callbacks accepted.",
                &m.callbacks_accepted,
            ),
            (
                "callbacks_rejected",
                "Provider callbacks refused (signature, age, tenant).",
                &m.callbacks_rejected,
            ),
            (
                "callbacks_duplicate",
                "Provider callbacks already seen.",
                &m.callbacks_duplicate,
            ),
            (
                "freshsales_calls",
                "Calls made to Freshsales by the write-back worker.",
                &m.fs_calls,
            ),
            (
                "freshsales_writes",
                "Writes Freshsales accepted.",
                &m.sync_sent,
            ),
            (
                "freshsales_429",
                "Rate-limit answers from Freshsales.",
                &m.fs_429,
            ),
            (
                "crm_events",
                "CRM events accepted (forwarder and workflows).",
                &m.events_accepted,
            ),
            (
                "starts_limited",
                "Start requests refused by a tenant's or a contact's limit.",
                &m.starts_limited,
            ),
        ];
        for (name, help, c) in counters {
            registry.register(name, help, c.clone());
        }
        registry.register(
            "http_requests",
            "HTTP answers by status class.",
            m.http.clone(),
        );
        registry.register(
            "outbox_rows",
            "CRM write-back rows by state.",
            m.outbox_rows.clone(),
        );
        registry.register(
            "sessions",
            "Verification sessions by kind and state.",
            m.sessions.clone(),
        );
        registry.register(
            "tenants_setup_incomplete",
            "Installed tenants whose CRM set-up is incomplete.",
            m.tenants_setup_incomplete.clone(),
        );
        for state in ["pending", "dead"] {
            let _ = m.outbox_rows.get_or_create(&[("state", state)]);
        }
        for class in ["2xx", "4xx", "5xx"] {
            let _ = m.http.get_or_create(&[("class", class)]);
        }
        Self { registry, ..m }
    }
}

impl Metrics {
    /// Counts one HTTP answer.
    pub fn answered(&self, status: u16) {
        let class = match status {
            500.. => "5xx",
            400..=499 => "4xx",
            _ => "2xx",
        };
        self.http.get_or_create(&[("class", class)]).inc();
    }

    /// Every metric in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String does not fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_every_outbox_state() {
        let m = Metrics::default();
        m.results.inc();
        m.results.inc();
        m.answered(404);
        m.outbox_rows.get_or_create(&[("state", "dead")]).set(3);
        m.sessions
            .get_or_create(&[("kind", "idv"), ("state", "pending")])
            .set(2);
        let text = m.render();
        assert!(
            text.contains("idv_http_requests_total{class=\"4xx\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("idv_sessions{kind=\"idv\",state=\"pending\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("idv_results_total 2\n"), "{text}");
        assert!(
            text.contains("idv_outbox_rows{state=\"dead\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("idv_outbox_rows{state=\"pending\"} 0\n"),
            "{text}"
        );
        m.tenants_setup_incomplete.set(2);
        assert!(
            m.render().contains("idv_tenants_setup_incomplete 2\n"),
            "{}",
            m.render()
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
