//! What one account may spend: token buckets (governor's GCRA) on the starts of billable
//! sessions, per tenant and per contact, a cap on forced restarts, and request-path Freshsales
//! reads counted against the tenant's API budget. Refusals are 429 with `Retry-After`.
//!
//! The buckets live in this process: with N replicas an account gets at most N times its limits.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use governor::{clock::Clock, DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};
use serde::{Deserialize, Serialize};

use super::{tenant::TenantRow, Engine};
use crate::error::{AppError, Result};

/// A tenant's start limits (`server tenant set-limits`; these defaults otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StartLimits {
    /// New sessions (Verify Identity, step-up, automation) per tenant per minute.
    pub tenant_per_minute: u32,
    /// New sessions per contact per hour.
    pub contact_per_hour: u32,
    /// Forced restarts (`force`) per contact per hour.
    pub forced_per_hour: u32,
}

impl Default for StartLimits {
    fn default() -> Self {
        Self {
            tenant_per_minute: 60,
            contact_per_hour: 10,
            forced_per_hour: 3,
        }
    }
}

impl StartLimits {
    /// Checks an operator's choice.
    pub fn validate(&self) -> Result<()> {
        let ok = |n: u32| (1..=100_000).contains(&n);
        if !(ok(self.tenant_per_minute) && ok(self.contact_per_hour) && ok(self.forced_per_hour)) {
            return Err(AppError::Unprocessable(
                "every start limit must be between 1 and 100000".into(),
            ));
        }
        Ok(())
    }
}

/// `n` per `window`, all of them available at once.
fn quota(n: u32, window: Duration) -> Quota {
    let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(window / n.get())
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(n)
}

/// One tenant's buckets, for the limits they were built with.
struct Buckets {
    limits: StartLimits,
    tenant: DefaultDirectRateLimiter,
    contacts: DefaultKeyedRateLimiter<i64>,
    forced: DefaultKeyedRateLimiter<i64>,
}

impl Buckets {
    fn new(limits: StartLimits) -> Self {
        Self {
            limits,
            tenant: governor::RateLimiter::direct(quota(
                limits.tenant_per_minute,
                Duration::from_secs(60),
            )),
            contacts: governor::RateLimiter::keyed(quota(
                limits.contact_per_hour,
                Duration::from_secs(3600),
            )),
            forced: governor::RateLimiter::keyed(quota(
                limits.forced_per_hour,
                Duration::from_secs(3600),
            )),
        }
    }
}

/// What a start is about to spend.
#[derive(Debug, Clone, Copy)]
pub enum Spend {
    /// A start for the tenant, before its contact is known (step-up reads the deal first).
    Tenant,
    /// A new session for a contact; `forced` when it replaces a pending one.
    Contact { contact: i64, forced: bool },
}

/// The start buckets of every tenant seen by this process.
pub struct StartLimiter {
    tenants: moka::sync::Cache<String, Arc<Buckets>>,
}

impl Default for StartLimiter {
    fn default() -> Self {
        Self {
            tenants: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(Duration::from_secs(2 * 3600))
                .build(),
        }
    }
}

impl std::fmt::Debug for StartLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StartLimiter")
    }
}

fn limited(message: String, wait: Duration) -> AppError {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    AppError::TooManyRequests(message, secs.max(1))
}

impl StartLimiter {
    fn buckets(&self, tenant: &str, limits: StartLimits) -> Arc<Buckets> {
        match self.tenants.get(tenant) {
            Some(b) if b.limits == limits => b,
            _ => {
                let b = Arc::new(Buckets::new(limits));
                self.tenants.insert(tenant.to_string(), b.clone());
                b
            }
        }
    }

    /// Takes a token for `spend`, or says when to retry (429).
    pub fn check(&self, tenant: &str, limits: StartLimits, spend: Spend) -> Result<()> {
        let b = self.buckets(tenant, limits);
        let clock = governor::clock::DefaultClock::default();
        match spend {
            Spend::Tenant => b.tenant.check().map_err(|n| {
                limited(
                    format!(
                        "this account started {} verifications in the last minute, its limit; retry later",
                        limits.tenant_per_minute
                    ),
                    n.wait_time_from(clock.now()),
                )
            }),
            Spend::Contact { contact, forced } => {
                if b.contacts.len() > 50_000 {
                    b.contacts.retain_recent();
                    b.forced.retain_recent();
                }
                if forced {
                    b.forced.check_key(&contact).map_err(|n| {
                        limited(
                            format!(
                                "contact {contact} was restarted {} times in the last hour, the limit for forced restarts; retry later",
                                limits.forced_per_hour
                            ),
                            n.wait_time_from(clock.now()),
                        )
                    })?;
                }
                b.contacts.check_key(&contact).map_err(|n| {
                    limited(
                        format!(
                            "contact {contact} had {} verifications started in the last hour, its limit; retry later",
                            limits.contact_per_hour
                        ),
                        n.wait_time_from(clock.now()),
                    )
                })
            }
        }
    }
}

impl Engine {
    /// Takes a start token of `tenant` for `spend` (429 with `Retry-After` when spent).
    pub(super) fn spend_start(&self, tenant: &TenantRow, spend: Spend) -> Result<()> {
        let checked = self
            .start_limiter
            .check(&tenant.id, tenant.start_limits, spend);
        if checked.is_err() {
            self.metrics.starts_limited.inc();
        }
        checked
    }

    /// Counts one Freshsales call made while answering a request against the tenant's API
    /// budget, the one the write-back worker keeps to (429 with `Retry-After` when spent).
    pub(super) async fn spend_crm_read(&self, tenant: &TenantRow) -> Result<()> {
        let shape = super::sync::budget_shape(tenant.hourly_limit, tenant.rate_window_secs);
        let now = crate::clock::now_ms();
        match self.store.take_budget(&tenant.id, &shape, now).await? {
            Ok(()) => Ok(()),
            Err(wait_ms) => Err(limited(
                "this account's Freshsales API budget is spent for now; retry later".into(),
                Duration::from_millis(wait_ms.max(1) as u64),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(tenant: u32, contact: u32, forced: u32) -> StartLimits {
        StartLimits {
            tenant_per_minute: tenant,
            contact_per_hour: contact,
            forced_per_hour: forced,
        }
    }

    fn retry_after(r: Result<()>) -> u64 {
        match r {
            Err(AppError::TooManyRequests(_, secs)) => secs,
            other => panic!("expected a 429, got {other:?}"),
        }
    }

    #[test]
    fn the_tenant_bucket_admits_its_limit_per_minute_then_says_when_to_retry() {
        let l = StartLimiter::default();
        let lim = limits(3, 100, 100);
        for _ in 0..3 {
            l.check("t", lim, Spend::Tenant).unwrap();
        }
        let secs = retry_after(l.check("t", lim, Spend::Tenant));
        assert!(
            (1..=20).contains(&secs),
            "one token comes back in 20 s: {secs}"
        );
        // Another tenant has its own bucket.
        l.check("other", lim, Spend::Tenant).unwrap();
    }

    #[test]
    fn contacts_have_their_own_buckets_and_forced_restarts_a_smaller_one() {
        let l = StartLimiter::default();
        let lim = limits(100, 3, 1);
        let start = |contact, forced| l.check("t", lim, Spend::Contact { contact, forced });
        start(1, false).unwrap();
        start(1, true).unwrap();
        let secs = retry_after(start(1, true));
        assert!(secs > 60, "a forced restart comes back in an hour: {secs}");
        start(1, false).unwrap();
        assert!(retry_after(start(1, false)) > 60);
        start(2, false).unwrap();
    }

    #[test]
    fn changed_limits_apply_at_once() {
        let l = StartLimiter::default();
        l.check("t", limits(1, 10, 3), Spend::Tenant).unwrap();
        assert!(l.check("t", limits(1, 10, 3), Spend::Tenant).is_err());
        l.check("t", limits(5, 10, 3), Spend::Tenant).unwrap();
    }

    #[test]
    fn limits_out_of_range_are_refused() {
        assert!(StartLimits::default().validate().is_ok());
        assert!(limits(0, 10, 3).validate().is_err());
        assert!(limits(10, 10, 200_000).validate().is_err());
    }
}
