//! Rate limits: a quota of hits per fixed window, counted per key (an
//! email, a client address, an account) in the database, so that every
//! instance sharing it counts together. This module is the arithmetic; the
//! counting is `persistence::rate_limits`.
//!
//! Answers carry the IETF `RateLimit-Policy` and `RateLimit` fields
//! (draft-ietf-httpapi-ratelimit-headers): `"login-email";q=10;w=900` and
//! `"login-email";r=0;t=412`.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

/// The longest window a quota may have, and the longest back-off: a counter
/// whose window started longer ago than this has ended whatever its quota.
pub const MAX_WINDOW: Duration = Duration::days(1);

/// The longest a sign-in limit may make anyone wait, the real person
/// included: an attacker who can make the right password wait longer can
/// lock its owner out.
pub const LONGEST_SIGN_IN_WAIT: Duration = Duration::minutes(15);

/// At most `hits` per `window` (of at most [`MAX_WINDOW`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub hits: u32,
    pub window: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("write a quota as HITS/WINDOW with a unit (s, m, h or d), e.g. 10/15m, or `off`")]
pub struct InvalidQuota;

/// A quota, or no limit at all (`off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(pub Option<Quota>);

impl FromStr for Limit {
    type Err = InvalidQuota;

    fn from_str(text: &str) -> Result<Self, InvalidQuota> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(Limit(None));
        }
        let (hits, window) = text.split_once('/').ok_or(InvalidQuota)?;
        let hits: u32 = hits.trim().parse().map_err(|_| InvalidQuota)?;
        let window = window.trim();
        let unit_at = window.len().checked_sub(1).ok_or(InvalidQuota)?;
        let (amount, unit) = window.split_at(unit_at);
        let amount: i64 = if amount.is_empty() { 1 } else { amount.parse().map_err(|_| InvalidQuota)? };
        let seconds = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            _ => return Err(InvalidQuota),
        };
        let window =
            amount.checked_mul(seconds).filter(|s| (1..=MAX_WINDOW.num_seconds()).contains(s)).ok_or(InvalidQuota)?;
        if hits == 0 {
            return Err(InvalidQuota);
        }
        Ok(Limit(Some(Quota { hits, window: Duration::seconds(window) })))
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("off"),
            Some(quota) => write!(f, "{}/{}s", quota.hits, quota.window.num_seconds()),
        }
    }
}

/// A key's count in its current window, as the store returns it after
/// counting one more hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub window_start: DateTime<Utc>,
    pub hits: u32,
}

impl Count {
    /// The count after `amount` more hits at `now`: a window that ended
    /// (`window` after its start) begins again with these hits. What the
    /// store's upsert does, for counters kept in memory.
    pub fn after(previous: Option<Count>, now: DateTime<Utc>, window: Duration, amount: u32) -> Count {
        match previous {
            Some(count) if count.window_start > now - window => {
                Count { window_start: count.window_start, hits: count.hits.saturating_add(amount) }
            }
            _ => Count { window_start: now, hits: amount },
        }
    }

    /// Whether the window has ended by `now`, so the count no longer matters.
    pub fn ended(&self, now: DateTime<Utc>, window: Duration) -> bool {
        self.window_start <= now - window
    }
}

/// What a counted hit gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed { remaining: u32, reset_after: Duration },
    Refused { retry_after: Duration },
}

impl Quota {
    /// Whether the hit just counted is within the quota.
    pub fn judge(&self, count: Count, now: DateTime<Utc>) -> Verdict {
        let reset_after = (count.window_start + self.window - now).max(Duration::seconds(1));
        if count.hits <= self.hits {
            Verdict::Allowed { remaining: self.hits - count.hits, reset_after }
        } else {
            Verdict::Refused { retry_after: reset_after }
        }
    }

    /// How long a key stays refused after the `excess`-th hit past the
    /// quota, for limits that back off: one window, then doubling with each
    /// further refused hit, up to `longest`. Someone guessing passwords
    /// slows to a crawl; someone who mistyped a few times waits one window.
    pub fn backoff(&self, excess: u32, longest: Duration) -> Duration {
        let doublings = excess.saturating_sub(1).min(16);
        (self.window * 2i32.pow(doublings)).min(longest.max(self.window)).min(MAX_WINDOW)
    }

    /// The `RateLimit-Policy` value of this quota under `name`.
    pub fn policy_field(&self, name: &str) -> String {
        format!("\"{name}\";q={};w={}", self.hits, self.window.num_seconds())
    }
}

/// Whole seconds, rounded up: a client that waits this long is through.
pub fn seconds_up(duration: Duration) -> i64 {
    let millis = duration.num_milliseconds().max(0);
    (millis + 999) / 1000
}

/// The `RateLimit` value: what is left of `name`'s quota and when it resets.
pub fn limit_field(name: &str, remaining: u32, reset_after: Duration) -> String {
    format!("\"{name}\";r={remaining};t={}", seconds_up(reset_after))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn quota(text: &str) -> Quota {
        text.parse::<Limit>().unwrap().0.unwrap()
    }

    #[test]
    fn counts_add_up_within_a_window_and_start_again_after_it() {
        let start = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let window = Duration::minutes(1);
        let first = Count::after(None, start, window, 1);
        assert_eq!(first, Count { window_start: start, hits: 1 });
        let second = Count::after(Some(first), start + Duration::seconds(59), window, 2);
        assert_eq!(second, Count { window_start: start, hits: 3 });
        assert!(!second.ended(start + Duration::seconds(59), window));
        assert!(second.ended(start + window, window));
        let next = Count::after(Some(second), start + window, window, 1);
        assert_eq!(next, Count { window_start: start + window, hits: 1 });
    }

    #[test]
    fn quotas_read_as_hits_per_window() {
        assert_eq!(quota("10/15m"), Quota { hits: 10, window: Duration::minutes(15) });
        assert_eq!(quota("5/h"), Quota { hits: 5, window: Duration::hours(1) });
        assert_eq!(quota(" 100 / 30s "), Quota { hits: 100, window: Duration::seconds(30) });
        assert_eq!("off".parse::<Limit>(), Ok(Limit(None)));
        for bad in ["", "10", "10/", "10/15", "0/1m", "-1/1m", "10/15x", "10/0m", "10/2d", "x/1m"] {
            assert_eq!(bad.parse::<Limit>(), Err(InvalidQuota), "{bad:?} was accepted");
        }
    }

    #[test]
    fn the_hit_past_the_quota_is_refused_until_the_window_ends() {
        let quota = quota("3/1m");
        let start = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let now = start + Duration::seconds(20);
        let count = |hits| Count { window_start: start, hits };
        assert_eq!(quota.judge(count(1), now), Verdict::Allowed { remaining: 2, reset_after: Duration::seconds(40) });
        assert_eq!(quota.judge(count(3), now), Verdict::Allowed { remaining: 0, reset_after: Duration::seconds(40) });
        assert_eq!(quota.judge(count(4), now), Verdict::Refused { retry_after: Duration::seconds(40) });
    }

    #[test]
    fn headers_follow_the_ietf_draft() {
        let quota = quota("10/15m");
        assert_eq!(quota.policy_field("login-email"), "\"login-email\";q=10;w=900");
        assert_eq!(limit_field("login-email", 0, Duration::milliseconds(411_200)), "\"login-email\";r=0;t=412");
    }

    #[test]
    fn backoff_doubles_with_each_refused_hit_up_to_its_cap() {
        let slow = quota("10/15m");
        assert_eq!(slow.backoff(1, MAX_WINDOW), Duration::minutes(15));
        assert_eq!(slow.backoff(2, MAX_WINDOW), Duration::minutes(30));
        assert_eq!(slow.backoff(3, MAX_WINDOW), Duration::hours(1));
        assert_eq!(slow.backoff(8, MAX_WINDOW), Duration::days(1));
        assert_eq!(slow.backoff(1_000, MAX_WINDOW), Duration::days(1));
        let quick = quota("5/1m");
        assert_eq!(quick.backoff(3, LONGEST_SIGN_IN_WAIT), Duration::minutes(4));
        assert_eq!(quick.backoff(5, LONGEST_SIGN_IN_WAIT), LONGEST_SIGN_IN_WAIT);
        assert_eq!(quick.backoff(1_000, LONGEST_SIGN_IN_WAIT), LONGEST_SIGN_IN_WAIT);
        // A cap shorter than the window never shortens the window itself.
        assert_eq!(quota("3/1h").backoff(4, LONGEST_SIGN_IN_WAIT), Duration::hours(1));
    }

    proptest! {
        #[test]
        fn a_refusal_never_asks_for_less_than_a_second_or_more_than_the_window(
            hits in 1u32..50, counted in 1u32..100, elapsed in 0i64..1_000,
        ) {
            let quota = Quota { hits, window: Duration::seconds(600) };
            let start = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
            match quota.judge(Count { window_start: start, hits: counted }, start + Duration::seconds(elapsed)) {
                Verdict::Refused { retry_after } => {
                    prop_assert!(counted > hits);
                    prop_assert!(retry_after >= Duration::seconds(1) && retry_after <= quota.window);
                }
                Verdict::Allowed { remaining, .. } => prop_assert_eq!(remaining, hits - counted),
            }
        }
    }
}
