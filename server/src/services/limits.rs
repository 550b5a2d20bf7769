//! What one account may spend: token buckets (governor's GCRA) on the starts of billable
//! sessions, per tenant and per contact, a cap on forced restarts, a chat bot's own buckets
//! (per conversation, and per tenant apart from the others), and request-path Freshsales reads
//! counted against the tenant's API budget, a chat's only within its share of it. Refusals are
//! 429 with `Retry-After`.
//!
//! Every bucket is a row of the shared store (`rate_buckets`), taken with one atomic update, so
//! N replicas admit what one does. Rows of contacts and conversations are keyed by a hash of
//! their id, never the id itself.

use std::{sync::Arc, time::Duration};

use sha2::{Digest, Sha256};

use super::{core::Core, tenant::TenantRow};
use crate::{
    error::{AppError, Result},
    ports::Crm,
    store::{BucketShape, BudgetShape},
};

/// `n` per `window`, all of them available at once.
fn bucket(n: u32, window: Duration) -> BudgetShape {
    let n = f64::from(n.max(1));
    let b = BucketShape {
        capacity: n,
        per_ms: n / window.as_millis().max(1) as f64,
    };
    BudgetShape { hour: b, minute: b }
}

/// The bucket row of `what` (a contact, a conversation) of `tenant`: a hash, so that the row
/// names no one.
fn key_of(kind: &str, tenant: &str, what: &str) -> String {
    let h = Sha256::digest(format!("{tenant}\u{0}{what}").as_bytes());
    format!("start:{kind}:{}", hex::encode(&h[..12]))
}

/// The start buckets of a contact, for its erasure.
pub(super) fn contact_keys(tenant: &str, contact: i64) -> Vec<String> {
    let id = contact.to_string();
    vec![
        key_of("contact", tenant, &id),
        key_of("forced", tenant, &id),
    ]
}

/// What a start is about to spend.
#[derive(Debug, Clone, Copy)]
pub enum Spend {
    /// A start for the tenant, before its contact is known (step-up reads the deal first).
    Tenant,
    /// A new session for a contact; `forced` when it replaces a pending one.
    Contact { contact: i64, forced: bool },
}

fn limited(message: String, wait: Duration) -> AppError {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    AppError::TooManyRequests(message, secs.max(1))
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

/// A tenant's budget as two token buckets: the plan's hourly limit over its window, and 400 per
/// minute (1/60 of the window). A sliding window of `limit` calls admits at most
/// capacity + refill·window calls: keep that sum at the limit (10 % burst, 90 % steady refill).
/// The buckets live in the database, so every replica spends from the same budget.
pub fn budget_shape(hourly: i64, window_secs: i64) -> BudgetShape {
    let bucket = |limit: f64, window_ms: f64| {
        let capacity = (limit * 0.1).max(1.0);
        BucketShape {
            capacity,
            per_ms: (limit - capacity).max(0.1) / window_ms,
        }
    };
    let window_ms = window_secs.max(1) as f64 * 1000.0;
    BudgetShape {
        hour: bucket(hourly as f64, window_ms),
        minute: bucket(400.0, window_ms / 60.0),
    }
}

/// Spends an account's buckets and its CRM budget.
#[derive(Clone, Debug)]
pub struct Limits {
    core: Arc<Core>,
}

impl Limits {
    pub fn new(core: Arc<Core>) -> Self {
        Self { core }
    }

    /// Takes a token from the shared bucket `key` of shape `shape`, or refuses with `message`
    /// and when to retry (429).
    async fn take(&self, key: &str, shape: BudgetShape, message: String) -> Result<()> {
        match self
            .core
            .store
            .take_budget(key, &shape, crate::clock::now_ms())
            .await?
        {
            Ok(()) => Ok(()),
            Err(wait_ms) => {
                self.core.metrics.starts_limited.inc();
                Err(limited(
                    message,
                    Duration::from_millis(wait_ms.max(1) as u64),
                ))
            }
        }
    }

    /// Takes a start token of `tenant` for `spend` (429 with `Retry-After` when spent).
    pub(super) async fn spend_start(&self, tenant: &TenantRow, spend: Spend) -> Result<()> {
        let limits = tenant.start_limits;
        match spend {
            Spend::Tenant => {
                self.take(
                    &format!("start:tenant:{}", tenant.id),
                    bucket(limits.tenant_per_minute, Duration::from_secs(60)),
                    format!(
                        "this account started {} verifications in the last minute, its limit; retry later",
                        limits.tenant_per_minute
                    ),
                )
                .await
            }
            Spend::Contact { contact, forced } => {
                let id = contact.to_string();
                if forced {
                    self.take(
                        &key_of("forced", &tenant.id, &id),
                        bucket(limits.forced_per_hour, Duration::from_secs(3600)),
                        format!(
                            "contact {contact} was restarted {} times in the last hour, the limit for forced restarts; retry later",
                            limits.forced_per_hour
                        ),
                    )
                    .await?;
                }
                self.take(
                    &key_of("contact", &tenant.id, &id),
                    bucket(limits.contact_per_hour, Duration::from_secs(3600)),
                    format!(
                        "contact {contact} had {} verifications started in the last hour, its limit; retry later",
                        limits.contact_per_hour
                    ),
                )
                .await
            }
        }
    }

    /// Takes a token of a chat bot's call in `conversation`: the conversation's, then the
    /// tenant's chat bucket (apart from the buckets reps and automation spend), or says when to
    /// retry (429 with `Retry-After`).
    pub(super) async fn spend_chat_start(
        &self,
        tenant: &TenantRow,
        conversation: &str,
    ) -> Result<()> {
        let limits = tenant.start_limits;
        self.take(
            &key_of("conversation", &tenant.id, conversation),
            bucket(limits.chat_conversation_per_hour, Duration::from_secs(3600)),
            format!(
                "this conversation asked for {} verifications in the last hour, the chat's limit per conversation; retry later",
                limits.chat_conversation_per_hour
            ),
        )
        .await?;
        self.take(
            &format!("start:chat:{}", tenant.id),
            bucket(limits.chat_per_minute, Duration::from_secs(60)),
            format!(
                "the chat bot asked for {} verifications in the last minute, this account's limit for the chat; retry later",
                limits.chat_per_minute
            ),
        )
        .await
    }

    /// Counts one Freshsales call of a chat bot's request against the chat's share of the
    /// tenant's API budget, then against the budget itself: an anonymous chat cannot spend
    /// what write-back and reps need (429 with `Retry-After` when spent).
    pub(super) async fn spend_chat_crm_read(&self, tenant: &TenantRow) -> Result<()> {
        let shape = budget_shape(tenant.hourly_limit, tenant.rate_window_secs);
        let share = chat_share(shape, tenant.start_limits.chat_crm_percent);
        let now = crate::clock::now_ms();
        let key = format!("chat:{}", tenant.id);
        if let Err(wait_ms) = self.core.store.take_budget(&key, &share, now).await? {
            return Err(limited(
                format!(
                    "the chat's share of this account's {} API budget is spent for now; retry later",
                    tenant.crm_kind.product()
                ),
                Duration::from_millis(wait_ms.max(1) as u64),
            ));
        }
        self.spend_crm_read(tenant).await
    }

    /// When the CRM's own answers said its limit is spent (HubSpot counts every caller of the
    /// account's app, replicas included), the tenant's shared budget pauses until the CRM's
    /// interval ends: every replica waits instead of being refused.
    pub(super) async fn heed_crm_limit(&self, tenant: &str, crm: &dyn Crm) -> Result<()> {
        if let Some(until) = crm
            .limit_seen()
            .and_then(|seen| seen.spent_until(crate::clock::now_ms()))
        {
            self.core.store.pause_budget(tenant, until).await?;
        }
        Ok(())
    }

    /// Counts one CRM call made while answering a request against the tenant's API budget, the
    /// one the write-back worker keeps to (429 with `Retry-After` when spent).
    pub(super) async fn spend_crm_read(&self, tenant: &TenantRow) -> Result<()> {
        if let Some(crm) = self.core.tenants.crm(tenant) {
            self.heed_crm_limit(&tenant.id, crm.as_ref()).await?;
        }
        let shape = budget_shape(tenant.hourly_limit, tenant.rate_window_secs);
        let now = crate::clock::now_ms();
        match self.core.store.take_budget(&tenant.id, &shape, now).await? {
            Ok(()) => Ok(()),
            Err(wait_ms) => Err(limited(
                format!(
                    "this account's {} API budget is spent for now; retry later",
                    tenant.crm_kind.product()
                ),
                Duration::from_millis(wait_ms.max(1) as u64),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::tenant::StartLimits;
    use crate::store::BudgetRow;

    fn limits(tenant: u32, contact: u32, forced: u32) -> StartLimits {
        StartLimits {
            tenant_per_minute: tenant,
            contact_per_hour: contact,
            forced_per_hour: forced,
            ..StartLimits::default()
        }
    }

    #[test]
    fn rows_of_contacts_and_conversations_name_no_one() {
        let k = key_of("contact", "acme", "8800");
        assert!(!k.contains("8800") && !k.contains("acme"), "{k}");
        assert_eq!(k, key_of("contact", "acme", "8800"));
        assert_ne!(k, key_of("contact", "other", "8800"));
        assert_ne!(k, key_of("forced", "acme", "8800"));
    }

    #[test]
    fn the_chats_share_of_the_budget_is_its_percent_of_each_bucket() {
        let shape = budget_shape(100, 3600);
        let share = chat_share(shape, 20);
        assert!((share.hour.capacity - 2.0).abs() < 1e-9, "{share:?}");
        assert!((share.hour.per_ms - shape.hour.per_ms * 0.2).abs() < 1e-12);
        assert!((share.minute.capacity - shape.minute.capacity * 0.2).abs() < 1e-9);
        // A tiny plan still lets the chat make a call.
        let tiny = budget_shape(1, 3600);
        assert!((chat_share(tiny, 1).hour.capacity - 1.0).abs() < 1e-9);
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

    #[test]
    fn the_budget_never_admits_more_than_the_limit_per_window() {
        let shape = budget_shape(100, 3600);
        assert_eq!(shape.hour.capacity, 10.0, "the burst is 10 % of the limit");
        // What remains of the window refills at most the other 90 %.
        assert!((shape.hour.per_ms * 3_600_000.0 - 90.0).abs() < 1e-6);
        assert!((shape.minute.capacity - 40.0).abs() < 1e-9);
    }

    #[test]
    fn an_empty_bucket_or_a_pause_after_429_says_how_long_to_wait() {
        let shape = budget_shape(1000, 3600);
        let full = BudgetRow {
            hour_tokens: 100.0,
            minute_tokens: 40.0,
            updated_at: 0,
            paused_until: 0,
        };
        assert_eq!(full.wait_ms(&shape, 0), 0);
        let paused = BudgetRow {
            paused_until: 5_000,
            ..full
        };
        assert_eq!(paused.wait_ms(&shape, 1_000), 4_000);
        let empty = BudgetRow {
            hour_tokens: 0.0,
            ..full
        };
        let wait = empty.wait_ms(&shape, 0);
        assert!(
            wait > 3_000 && wait < 5_000,
            "one token refills in ~4 s: {wait}"
        );
    }
}
