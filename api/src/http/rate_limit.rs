//! Counting requests against the configured rate limits, and the 429 that
//! answers one past its quota. What is limited, and by what, is listed once
//! in [`Bucket`].

use std::collections::HashMap;

use actix_web::http::header::HeaderName;

use chrono::{DateTime, Utc};
use domain::rate_limit::LONGEST_SIGN_IN_WAIT;
use domain::rate_limit::{Count, Quota, Verdict};
use persistence::{DbConnection, StoreError, rate_limits};
use sha2::{Digest, Sha256};

use crate::config::RateLimitSettings;
use crate::http::problem::ApiError;

/// The IETF fields a 429 carries (draft-ietf-httpapi-ratelimit-headers).
pub const RATE_LIMIT: HeaderName = HeaderName::from_static("ratelimit");
pub const RATE_LIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// A limited action and what it is counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// Sign-in attempts, by the email address given, from any address: a
    /// cap on guesses spread over many addresses, never longer than
    /// [`LONGEST_SIGN_IN_WAIT`].
    LoginEmail,
    /// Failed sign-ins, by the email address given and the client address
    /// (see [`Hit::pair`]); backs off.
    LoginGuess,
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
    /// Invitation emails, by the user who sends them (in every account).
    InvitationsBySender,
    /// Accounts created, by user.
    AccountsCreated,
    /// Joins through links, by client address.
    Joins,
    /// Single sign-ons started, by client address (each writes a pending
    /// sign-in and may call the provider).
    SsoStarts,
    /// Requests made with a partner API key, by key.
    ApiKey,
    /// Requests made by an account's directory (SCIM), by token.
    ScimToken,
}

impl Bucket {
    /// The name in `RateLimit-Policy` and in the stored key.
    pub fn name(self) -> &'static str {
        match self {
            Bucket::LoginEmail => "login-email",
            Bucket::LoginGuess => "login-email-ip",
            Bucket::LoginIp => "login-ip",
            Bucket::Register => "register",
            Bucket::PasswordResetEmail => "password-reset-email",
            Bucket::PasswordResetIp => "password-reset-ip",
            Bucket::VerificationResend => "verification-resend",
            Bucket::Invitations => "invitations",
            Bucket::InvitationsBySender => "invitations-sender",
            Bucket::AccountsCreated => "accounts-created",
            Bucket::Joins => "joins",
            Bucket::SsoStarts => "sso-starts",
            Bucket::ApiKey => "api-key",
            Bucket::ScimToken => "scim-token",
        }
    }

    fn quota(self, limits: &RateLimitSettings) -> Option<Quota> {
        match self {
            Bucket::LoginEmail => limits.login_per_email.0,
            Bucket::LoginGuess => limits.login_per_email_and_ip.0,
            Bucket::LoginIp => limits.login_per_ip.0,
            Bucket::Register => limits.register_per_ip.0,
            Bucket::PasswordResetEmail => limits.password_reset_per_email.0,
            Bucket::PasswordResetIp => limits.password_reset_per_ip.0,
            Bucket::VerificationResend => limits.verification_resend.0,
            Bucket::Invitations => limits.invitations_per_account.0,
            Bucket::InvitationsBySender => limits.invitations_per_sender.0,
            Bucket::AccountsCreated => limits.accounts_per_user.0,
            Bucket::Joins => limits.joins_per_ip.0,
            Bucket::SsoStarts => limits.sso_starts_per_ip.0,
            Bucket::ApiKey => limits.api_key.0,
            Bucket::ScimToken => limits.scim_token.0,
        }
    }

    /// How long hits past the quota may push the wait (password guessing
    /// from one address), or `None` when the wait is the window's end.
    fn backoff_cap(self) -> Option<chrono::Duration> {
        (self == Bucket::LoginGuess).then_some(LONGEST_SIGN_IN_WAIT)
    }

    /// The stored key: the bucket's name and a digest of each part of the
    /// subject, so that a prefix names every pair of one email.
    fn key(self, subject: &str) -> String {
        let mut key = String::from(self.name());
        for part in subject.split(PAIR_SEPARATOR) {
            key.push(':');
            key.push_str(&base16ct::lower::encode_string(&Sha256::digest(part.as_bytes())));
        }
        key
    }
}

/// Between the parts of a pair subject; no email or address contains it.
const PAIR_SEPARATOR: char = '\n';

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

    /// One hit by `first` and `second` together (an email from one client
    /// address); a missing second part counts as one unknown address.
    pub fn pair(bucket: Bucket, first: &str, second: Option<&str>) -> Hit {
        bucket.hit(Some(format!("{first}{PAIR_SEPARATOR}{}", second.unwrap_or("-"))))
    }

    fn key(&self) -> Option<String> {
        self.subject.as_deref().map(|subject| self.bucket.key(subject))
    }
}

/// A hit past its quota: the 429 to answer with, and the key to remember.
#[derive(Debug)]
pub struct Refusal {
    key: String,
    bucket: Bucket,
    quota: Quota,
    until: DateTime<Utc>,
}

impl Refusal {
    fn answer(&self, now: DateTime<Utc>) -> ApiError {
        refusal(self.bucket, self.quota, self.until - now)
    }
}

/// Counts each hit in turn until one is past its quota.
pub fn count_all(
    conn: &mut DbConnection,
    limits: &RateLimitSettings,
    now: DateTime<Utc>,
    hits: &[Hit],
) -> Result<Result<(), Refusal>, StoreError> {
    for hit in hits {
        let (Some(key), Some(quota)) = (hit.key(), hit.bucket.quota(limits)) else { continue };
        let counted = rate_limits::hit(conn, &key, now, quota.window, hit.amount)?;
        let until = match (quota.judge(counted, now), hit.bucket.backoff_cap()) {
            (Verdict::Allowed { .. }, _) => continue,
            (Verdict::Refused { retry_after }, None) => now + retry_after,
            (Verdict::Refused { .. }, Some(cap)) => {
                let wait = quota.backoff(counted.hits - quota.hits, cap);
                rate_limits::postpone(conn, &key, now + wait - quota.window)?;
                now + wait
            }
        };
        return Ok(Err(Refusal { key, bucket: hit.bucket, quota, until }));
    }
    Ok(Ok(()))
}

/// Forgets `hit`'s count.
pub fn forgive(conn: &mut DbConnection, hit: &Hit) -> Result<(), StoreError> {
    match hit.key() {
        Some(key) => rate_limits::reset(conn, &key),
        None => Ok(()),
    }
}

/// Takes `hit` back from its count.
pub fn refund(conn: &mut DbConnection, hit: &Hit) -> Result<(), StoreError> {
    match hit.key() {
        Some(key) => rate_limits::refund_one(conn, &key),
        None => Ok(()),
    }
}

/// Forgets every pair count in `bucket` whose first part is `first` (every
/// address an email was guessed from).
pub fn forgive_pairs(conn: &mut DbConnection, bucket: Bucket, first: &str) -> Result<(), StoreError> {
    rate_limits::reset_prefix(conn, &format!("{}:", bucket.key(first)))
}

fn refusal(bucket: Bucket, quota: Quota, retry_after: chrono::Duration) -> ApiError {
    ApiError::RateLimited {
        name: bucket.name(),
        policy: quota.policy_field(bucket.name()),
        limit: domain::rate_limit::limit_field(bucket.name(), 0, retry_after),
        retry_after: domain::rate_limit::seconds_up(retry_after),
    }
}

/// Refusals this instance answered lately, so that a flood of requests past
/// a quota is answered from memory instead of writing a counter each: the
/// database still counts every hit that could be allowed, so instances keep
/// counting together, and a refusal is believed for at most
/// [`REFUSALS_REMEMBERED_FOR`] before the database is asked again (a count
/// forgiven on another instance lifts it by then; a back-off grows by then).
#[derive(Debug, Default)]
pub struct RecentRefusals(parking_lot::Mutex<HashMap<String, RememberedRefusal>>);

#[derive(Debug)]
struct RememberedRefusal {
    refusal: Refusal,
    ask_again_at: DateTime<Utc>,
}

/// How long a refusal is answered from memory.
pub const REFUSALS_REMEMBERED_FOR: chrono::Duration = chrono::Duration::seconds(1);

/// Past this many remembered refusals, those that lapsed are dropped.
const RECENT_REFUSALS_TIDY_AT: usize = 10_000;

impl RecentRefusals {
    /// The refusal one of `hits` met lately and still meets at `now`; none
    /// when the database should be asked again.
    ///
    /// When a remembered refusal lapses, only the caller that notices asks
    /// the database; the others keep the remembered answer until that
    /// caller has the database's (at most one more [`REFUSALS_REMEMBERED_FOR`];
    /// an allowed hit forgets it at once). Otherwise every request of a
    /// flood would reach the database in the same instant each second and
    /// take every pooled connection, stalling everyone else's requests.
    pub fn recall(&self, hits: &[Hit], now: DateTime<Utc>) -> Option<ApiError> {
        if self.0.lock().is_empty() {
            return None;
        }
        let keys: Vec<String> = hits.iter().filter_map(Hit::key).collect();
        let mut remembered = self.0.lock();
        for key in &keys {
            let Some(entry) = remembered.get_mut(key).filter(|entry| entry.refusal.until > now) else { continue };
            if entry.ask_again_at > now {
                return Some(entry.refusal.answer(now));
            }
            entry.ask_again_at = now + REFUSALS_REMEMBERED_FOR;
            return None;
        }
        None
    }

    /// Remembers `refusal`; returns the 429 it answers at `now`.
    pub fn remember(&self, refusal: Refusal, now: DateTime<Utc>) -> ApiError {
        let answer = refusal.answer(now);
        let mut remembered = self.0.lock();
        if remembered.len() >= RECENT_REFUSALS_TIDY_AT {
            remembered.retain(|_, entry| entry.ask_again_at > now);
        }
        let ask_again_at = now + REFUSALS_REMEMBERED_FOR;
        remembered.insert(refusal.key.clone(), RememberedRefusal { refusal, ask_again_at });
        answer
    }

    /// Forgets what is remembered of `hit` (its count was forgiven here).
    pub fn forget(&self, hit: &Hit) {
        if let Some(key) = hit.key() {
            self.0.lock().remove(&key);
        }
    }

    /// Forgets every remembered pair of `bucket` whose first part is `first`.
    pub fn forget_pairs(&self, bucket: Bucket, first: &str) {
        let prefix = format!("{}:", bucket.key(first));
        self.0.lock().retain(|key, _| !key.starts_with(&prefix));
    }
}

/// Counters kept in this instance's memory, for the bucket hit on every
/// request ([`Bucket::ApiKey`], [`Bucket::ScimToken`]): a database write per request would cost
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

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    #[test]
    fn a_lapsed_refusal_sends_one_caller_to_the_database_not_the_whole_flood() {
        let t0 = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
        let hit = Bucket::LoginIp.hit(Some("203.0.113.7"));
        let quota = Quota { hits: 100, window: Duration::minutes(15) };
        let recent = RecentRefusals::default();
        assert!(recent.recall(std::slice::from_ref(&hit), t0).is_none(), "nothing remembered yet");
        let refusal =
            Refusal { key: hit.key().unwrap(), bucket: Bucket::LoginIp, quota, until: t0 + Duration::minutes(10) };
        recent.remember(refusal, t0);
        assert!(recent.recall(std::slice::from_ref(&hit), t0).is_some(), "answered from memory");

        let lapsed = t0 + REFUSALS_REMEMBERED_FOR;
        assert!(recent.recall(std::slice::from_ref(&hit), lapsed).is_none(), "the first to notice asks the database");
        for _ in 0..100 {
            assert!(recent.recall(std::slice::from_ref(&hit), lapsed).is_some(), "the rest wait for its answer");
        }
        recent.forget(&hit);
        assert!(recent.recall(std::slice::from_ref(&hit), lapsed).is_none(), "an allowed hit forgets the refusal");
    }

    #[test]
    fn a_refusal_past_its_end_is_not_recalled() {
        let t0 = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
        let hit = Bucket::LoginIp.hit(Some("203.0.113.7"));
        let quota = Quota { hits: 100, window: Duration::minutes(15) };
        let recent = RecentRefusals::default();
        let until = t0 + Duration::milliseconds(500);
        recent.remember(Refusal { key: hit.key().unwrap(), bucket: Bucket::LoginIp, quota, until }, t0);
        assert!(recent.recall(std::slice::from_ref(&hit), until).is_none());
    }
}
