//! What one account may spend: token buckets (governor's GCRA) on the starts of billable
//! sessions, per tenant and per contact, a cap on forced restarts, a chat bot's own buckets
//! (per conversation, and per tenant apart from the others), and request-path Freshsales reads
//! counted against the tenant's API budget, a chat's only within its share of it. Refusals are
//! 429 with `Retry-After`.
//!
//! The buckets live in this process: with N replicas an account gets at most N times its limits.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use governor::{clock::Clock, DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};
use serde::{Deserialize, Serialize};

use super::{tenant::TenantRow, Engine};
use crate::{
    error::{AppError, Result},
    store::{BucketShape, BudgetShape},
};

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
    /// A chat bot's starts per conversation per hour (each may read the CRM; retries count).
    pub chat_conversation_per_hour: u32,
    /// A chat bot's starts per tenant per minute, apart from the other starts: an anonymous
    /// chat cannot spend what reps and automation need.
    pub chat_per_minute: u32,
    /// The share of the tenant's Freshsales budget a chat bot's calls may spend, in percent;
    /// the rest is kept for write-back and reps.
    pub chat_crm_percent: u32,
}

impl Default for StartLimits {
    fn default() -> Self {
        Self {
            tenant_per_minute: 60,
            contact_per_hour: 10,
            forced_per_hour: 3,
            chat_conversation_per_hour: 5,
            chat_per_minute: 10,
            chat_crm_percent: 20,
        }
    }
}

impl StartLimits {
    /// Checks an operator's choice.
    pub fn validate(&self) -> Result<()> {
        let ok = |n: u32| (1..=100_000).contains(&n);
        if ![
            self.tenant_per_minute,
            self.contact_per_hour,
            self.forced_per_hour,
            self.chat_conversation_per_hour,
            self.chat_per_minute,
        ]
        .into_iter()
        .all(ok)
        {
            return Err(AppError::Unprocessable(
                "every start limit must be between 1 and 100000".into(),
            ));
        }
        if !(1..=100).contains(&self.chat_crm_percent) {
            return Err(AppError::Unprocessable(
                "the chat's share of the Freshsales budget must be between 1 and 100 percent"
                    .into(),
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
    chat: DefaultDirectRateLimiter,
    conversations: DefaultKeyedRateLimiter<String>,
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
            chat: governor::RateLimiter::direct(quota(
                limits.chat_per_minute,
                Duration::from_secs(60),
            )),
            conversations: governor::RateLimiter::keyed(quota(
                limits.chat_conversation_per_hour,
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

impl StartLimiter {
    /// Takes a token of a chat bot's call in `conversation`: the conversation's, then the
    /// tenant's chat bucket (apart from the buckets reps and automation spend), or says when
    /// to retry (429).
    pub fn check_chat(&self, tenant: &str, limits: StartLimits, conversation: &str) -> Result<()> {
        let b = self.buckets(tenant, limits);
        let clock = governor::clock::DefaultClock::default();
        if b.conversations.len() > 50_000 {
            b.conversations.retain_recent();
        }
        b.conversations
            .check_key(&conversation.to_string())
            .map_err(|n| {
                limited(
                    format!(
                        "this conversation asked for {} verifications in the last hour, the chat's limit per conversation; retry later",
                        limits.chat_conversation_per_hour
                    ),
                    n.wait_time_from(clock.now()),
                )
            })?;
        b.chat.check().map_err(|n| {
            limited(
                format!(
                    "the chat bot asked for {} verifications in the last minute, this account's limit for the chat; retry later",
                    limits.chat_per_minute
                ),
                n.wait_time_from(clock.now()),
            )
        })
    }
}

/// The chat's share of a tenant's Freshsales budget: `percent` of each bucket (at least one
/// call), kept in a bucket row of its own.
fn chat_share(shape: BudgetShape, percent: u32) -> BudgetShape {
    let part = f64::from(percent.clamp(1, 100)) / 100.0;
    let scale = |b: BucketShape| BucketShape {
        capacity: (b.capacity * part).max(1.0),
        per_ms: b.per_ms * part,
    };
    BudgetShape {
        hour: scale(shape.hour),
        minute: scale(shape.minute),
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

    /// Takes a token of a chat bot's call in `conversation` (429 with `Retry-After` when spent).
    pub(super) fn spend_chat_start(&self, tenant: &TenantRow, conversation: &str) -> Result<()> {
        let checked = self
            .start_limiter
            .check_chat(&tenant.id, tenant.start_limits, conversation);
        if checked.is_err() {
            self.metrics.starts_limited.inc();
        }
        checked
    }

    /// Counts one Freshsales call of a chat bot's request against the chat's share of the
    /// tenant's API budget, then against the budget itself: an anonymous chat cannot spend
    /// what write-back and reps need (429 with `Retry-After` when spent).
    pub(super) async fn spend_chat_crm_read(&self, tenant: &TenantRow) -> Result<()> {
        let shape = super::sync::budget_shape(tenant.hourly_limit, tenant.rate_window_secs);
        let share = chat_share(shape, tenant.start_limits.chat_crm_percent);
        let now = crate::clock::now_ms();
        let key = format!("chat:{}", tenant.id);
        if let Err(wait_ms) = self.store.take_budget(&key, &share, now).await? {
            return Err(limited(
                "the chat's share of this account's Freshsales API budget is spent for now; retry later"
                    .into(),
                Duration::from_millis(wait_ms.max(1) as u64),
            ));
        }
        self.spend_crm_read(tenant).await
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
            ..StartLimits::default()
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
    fn a_chats_conversations_have_their_own_buckets_and_the_chat_one_apart_from_reps() {
        let l = StartLimiter::default();
        let lim = StartLimits {
            tenant_per_minute: 1,
            chat_conversation_per_hour: 2,
            chat_per_minute: 3,
            ..StartLimits::default()
        };
        l.check_chat("t", lim, "c-1").unwrap();
        l.check_chat("t", lim, "c-1").unwrap();
        let secs = retry_after(l.check_chat("t", lim, "c-1"));
        assert!(
            secs > 60,
            "a conversation's token comes back in 30 minutes: {secs}"
        );
        l.check_chat("t", lim, "c-2").unwrap();
        assert!(retry_after(l.check_chat("t", lim, "c-3")) <= 20);
        // Reps' bucket was not touched by the chat.
        l.check("t", lim, Spend::Tenant).unwrap();
    }

    #[test]
    fn the_chats_share_of_the_budget_is_its_percent_of_each_bucket() {
        let shape = crate::services::sync::budget_shape(100, 3600);
        let share = chat_share(shape, 20);
        assert!((share.hour.capacity - 2.0).abs() < 1e-9, "{share:?}");
        assert!((share.hour.per_ms - shape.hour.per_ms * 0.2).abs() < 1e-12);
        assert!((share.minute.capacity - shape.minute.capacity * 0.2).abs() < 1e-9);
        // A tiny plan still lets the chat make a call.
        let tiny = crate::services::sync::budget_shape(1, 3600);
        assert!((chat_share(tiny, 1).hour.capacity - 1.0).abs() < 1e-9);
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
        let chat = |percent| StartLimits {
            chat_crm_percent: percent,
            ..StartLimits::default()
        };
        assert!(chat(0).validate().is_err());
        assert!(chat(101).validate().is_err());
        assert!(chat(100).validate().is_ok());
    }
}
