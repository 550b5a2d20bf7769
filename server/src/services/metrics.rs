//! Process counters, served in the Prometheus text format at `/metrics` (no labels that could
//! carry personal data: counts only).

use std::sync::atomic::{AtomicU64, Ordering};

use super::Engine;
use crate::error::Result;

impl Engine {
    /// The `/metrics` page: the counters, the write-back queue and the sessions by state.
    pub async fn render_metrics(&self) -> Result<String> {
        let outbox = self.sync_counts().await?;
        let sessions = self.store.session_counts().await?;
        Ok(self.metrics.render(&outbox, &sessions))
    }
}

/// A monotonically increasing counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What the operator watches.
#[derive(Debug, Default)]
pub struct Metrics {
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
    /// HTTP answers by class: 2xx (and 1xx/3xx), 4xx, 5xx.
    pub http_ok: Counter,
    pub http_4xx: Counter,
    pub http_5xx: Counter,
}

impl Metrics {
    /// Counts one HTTP answer.
    pub fn answered(&self, status: u16) {
        match status {
            500.. => self.http_5xx.inc(),
            400..=499 => self.http_4xx.inc(),
            _ => self.http_ok.inc(),
        }
    }

    /// The counters plus the outbox and session gauges, as Prometheus text.
    pub fn render(&self, outbox: &[(String, i64)], sessions: &[(String, String, i64)]) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, c: &Counter| {
            out.push_str(&format!(
                "# HELP idv_{name} {help}\n# TYPE idv_{name} counter\nidv_{name} {}\n",
                c.get()
            ));
        };
        counter(
            "results_total",
            "Terminal session results applied.",
            &self.results,
        );
        counter(
            "provider_reads_total",
            "Session reads from 1Kosmos.",
            &self.provider_reads,
        );
        counter(
            "callbacks_accepted_total",
            "Provider callbacks accepted.",
            &self.callbacks_accepted,
        );
        counter(
            "callbacks_rejected_total",
            "Provider callbacks refused (signature, age, tenant).",
            &self.callbacks_rejected,
        );
        counter(
            "callbacks_duplicate_total",
            "Provider callbacks already seen.",
            &self.callbacks_duplicate,
        );
        counter(
            "freshsales_calls_total",
            "Calls made to Freshsales by the write-back worker.",
            &self.fs_calls,
        );
        counter(
            "freshsales_writes_total",
            "Writes Freshsales accepted.",
            &self.sync_sent,
        );
        counter(
            "freshsales_429_total",
            "Rate-limit answers from Freshsales.",
            &self.fs_429,
        );
        counter(
            "crm_events_total",
            "CRM events accepted (forwarder and workflows).",
            &self.events_accepted,
        );
        out.push_str("# HELP idv_http_requests_total HTTP answers by status class.\n# TYPE idv_http_requests_total counter\n");
        for (class, c) in [
            ("2xx", &self.http_ok),
            ("4xx", &self.http_4xx),
            ("5xx", &self.http_5xx),
        ] {
            out.push_str(&format!(
                "idv_http_requests_total{{class=\"{class}\"}} {}\n",
                c.get()
            ));
        }
        out.push_str("# HELP idv_sessions Verification sessions by kind and state.\n# TYPE idv_sessions gauge\n");
        for (kind, state, n) in sessions {
            out.push_str(&format!(
                "idv_sessions{{kind=\"{kind}\",state=\"{state}\"}} {n}\n"
            ));
        }
        out.push_str(
            "# HELP idv_outbox_rows CRM write-back rows by state.\n# TYPE idv_outbox_rows gauge\n",
        );
        for state in ["pending", "done", "dead"] {
            let n = outbox
                .iter()
                .find(|(s, _)| s == state)
                .map_or(0, |(_, n)| *n);
            out.push_str(&format!("idv_outbox_rows{{state=\"{state}\"}} {n}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_every_outbox_state() {
        let m = Metrics::default();
        m.results.inc();
        m.results.inc();
        m.answered(404);
        let text = m.render(
            &[("dead".into(), 3)],
            &[("idv".into(), "pending".into(), 2)],
        );
        assert!(text.contains("idv_http_requests_total{class=\"4xx\"} 1\n"));
        assert!(text.contains("idv_sessions{kind=\"idv\",state=\"pending\"} 2\n"));
        assert!(text.contains("idv_results_total 2\n"));
        assert!(text.contains("idv_outbox_rows{state=\"dead\"} 3\n"));
        assert!(text.contains("idv_outbox_rows{state=\"pending\"} 0\n"));
    }
}
