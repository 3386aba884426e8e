//! Counting requests against the configured rate limits, and the 429 that
//! answers one past its quota. What is limited, and by what, is listed once
//! in [`Bucket`].

use std::collections::HashMap;

use actix_web::http::header::HeaderName;

use chrono::{DateTime, Utc};
use domain::rate_limit::{Count, Quota, Verdict};
use persistence::{DbConnection, rate_limits};
use sha2::{Digest, Sha256};

use crate::config::RateLimitSettings;
use crate::http::problem::ApiError;

/// The IETF fields a 429 carries (draft-ietf-httpapi-ratelimit-headers).
pub const RATE_LIMIT: HeaderName = HeaderName::from_static("ratelimit");
pub const RATE_LIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// A limited action and what it is counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// Failed sign-ins, by the email address given.
    LoginEmail,
    /// Sign-in attempts, by client address.
    LoginIp,
    /// Registrations, by client address.
    Register,
    /// Password reset emails, by the email address given.
    PasswordResetEmail,
    /// Password reset requests, by client address.
    PasswordResetIp,
    /// Verification and address-change emails, by user.
    VerificationResend,
    /// Invitation emails, by account.
    Invitations,
    /// Joins through links, by client address.
    Joins,
    /// Requests made with a partner API key, by key.
    ApiKey,
}

impl Bucket {
    /// The name in `RateLimit-Policy` and in the stored key.
    pub fn name(self) -> &'static str {
        match self {
            Bucket::LoginEmail => "login-email",
            Bucket::LoginIp => "login-ip",
            Bucket::Register => "register",
            Bucket::PasswordResetEmail => "password-reset-email",
            Bucket::PasswordResetIp => "password-reset-ip",
            Bucket::VerificationResend => "verification-resend",
            Bucket::Invitations => "invitations",
            Bucket::Joins => "joins",
            Bucket::ApiKey => "api-key",
        }
    }

    fn quota(self, limits: &RateLimitSettings) -> Option<Quota> {
        match self {
            Bucket::LoginEmail => limits.login_per_email.0,
            Bucket::LoginIp => limits.login_per_ip.0,
            Bucket::Register => limits.register_per_ip.0,
            Bucket::PasswordResetEmail => limits.password_reset_per_email.0,
            Bucket::PasswordResetIp => limits.password_reset_per_ip.0,
            Bucket::VerificationResend => limits.verification_resend.0,
            Bucket::Invitations => limits.invitations_per_account.0,
            Bucket::Joins => limits.joins_per_ip.0,
            Bucket::ApiKey => limits.api_key.0,
        }
    }

    /// Whether hits past the quota lengthen the wait (password guessing).
    fn backs_off(self) -> bool {
        self == Bucket::LoginEmail
    }

    fn key(self, subject: &str) -> String {
        let digest = base16ct::lower::encode_string(&Sha256::digest(subject.as_bytes()));
        format!("{}:{digest}", self.name())
    }
}

/// Hits to count against one bucket's quota.
#[derive(Debug, Clone)]
pub struct Hit {
    bucket: Bucket,
    /// What the bucket counts by; a request without one (no client
    /// address) is not counted.
    subject: Option<String>,
    amount: u32,
}

impl Bucket {
    /// One hit by `subject`.
    pub fn hit(self, subject: Option<impl Into<String>>) -> Hit {
        Hit { bucket: self, subject: subject.map(Into::into), amount: 1 }
    }
}

impl Hit {
    /// `amount` hits at once (a batch of invitations).
    pub fn times(self, amount: u32) -> Hit {
        Hit { amount, ..self }
    }
}

/// Counts each hit in turn; past a quota, the 429 to answer with.
pub fn count_all(
    conn: &mut DbConnection,
    limits: &RateLimitSettings,
    now: DateTime<Utc>,
    hits: &[Hit],
) -> Result<(), ApiError> {
    for hit in hits {
        if let Some(subject) = &hit.subject {
            count(conn, limits, now, hit.bucket, subject, hit.amount)?;
        }
    }
    Ok(())
}

fn count(
    conn: &mut DbConnection,
    limits: &RateLimitSettings,
    now: DateTime<Utc>,
    bucket: Bucket,
    subject: &str,
    amount: u32,
) -> Result<(), ApiError> {
    let Some(quota) = bucket.quota(limits) else { return Ok(()) };
    let key = bucket.key(subject);
    let counted = rate_limits::hit(conn, &key, now, quota.window, amount)?;
    match quota.judge(counted, now) {
        Verdict::Allowed { .. } => Ok(()),
        Verdict::Refused { retry_after } if !bucket.backs_off() => Err(refusal(bucket, quota, retry_after)),
        Verdict::Refused { .. } => {
            let wait = quota.backoff(counted.hits - quota.hits);
            rate_limits::postpone(conn, &key, now + wait - quota.window)?;
            Err(refusal(bucket, quota, wait))
        }
    }
}

/// Forgets `subject`'s count in `bucket`.
pub fn forgive(conn: &mut DbConnection, bucket: Bucket, subject: &str) -> Result<(), ApiError> {
    Ok(rate_limits::reset(conn, &bucket.key(subject))?)
}

fn refusal(bucket: Bucket, quota: Quota, retry_after: chrono::Duration) -> ApiError {
    ApiError::RateLimited {
        name: bucket.name(),
        policy: quota.policy_field(bucket.name()),
        limit: domain::rate_limit::limit_field(bucket.name(), 0, retry_after),
        retry_after: domain::rate_limit::seconds_up(retry_after),
    }
}

/// Counters kept in this instance's memory, for the bucket hit on every
/// request ([`Bucket::ApiKey`]): a database write per request would cost
/// more than the request itself. Each instance counts the requests it
/// serves, so behind N instances a key may make up to N times its quota.
#[derive(Debug, Default)]
pub struct LocalCounters(parking_lot::Mutex<HashMap<Bucket, HashMap<String, Count>>>);

/// Past this many counters in a bucket, those whose window ended are dropped.
const LOCAL_COUNTERS_TIDY_AT: usize = 10_000;

impl LocalCounters {
    /// Counts one hit by `subject`; past the quota, the 429 to answer with.
    pub fn count(
        &self,
        limits: &RateLimitSettings,
        now: DateTime<Utc>,
        bucket: Bucket,
        subject: &str,
    ) -> Result<(), ApiError> {
        let Some(quota) = bucket.quota(limits) else { return Ok(()) };
        let counted = {
            let mut buckets = self.0.lock();
            let counters = buckets.entry(bucket).or_default();
            match counters.get_mut(subject) {
                Some(counter) => {
                    *counter = Count::after(Some(*counter), now, quota.window, 1);
                    *counter
                }
                None => {
                    if counters.len() >= LOCAL_COUNTERS_TIDY_AT {
                        counters.retain(|_, count| !count.ended(now, quota.window));
                    }
                    let counter = Count::after(None, now, quota.window, 1);
                    counters.insert(subject.to_owned(), counter);
                    counter
                }
            }
        };
        match quota.judge(counted, now) {
            Verdict::Allowed { .. } => Ok(()),
            Verdict::Refused { retry_after } => Err(refusal(bucket, quota, retry_after)),
        }
    }
}
