//! Join links and join requests. A link is usable while it is enabled,
//! unexpired and has uses left; each join request filed through it uses
//! one. A request is `pending` until an administrator approves or denies it
//! or the requester withdraws it; those three are final.

use chrono::{DateTime, Utc};

use crate::InvalidValue;

/// At most this many uses per link.
pub const MAX_USES_LIMIT: u32 = 100_000;

/// The limits an administrator sets on a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinLinkLimits {
    pub expires_at: Option<DateTime<Utc>>,
    pub max_uses: Option<u32>,
}

impl JoinLinkLimits {
    pub fn parse(
        expires_at: Option<DateTime<Utc>>,
        max_uses: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Self, Vec<(&'static str, InvalidValue)>> {
        let mut errors = Vec::new();
        if expires_at.is_some_and(|at| at <= now) {
            errors.push(("expires_at", InvalidValue::new("in_the_past", "Choose an expiry time in the future.")));
        }
        let max_uses = match max_uses {
            None => None,
            Some(uses) => match u32::try_from(uses) {
                Ok(uses @ 1..=MAX_USES_LIMIT) => Some(uses),
                _ => {
                    errors.push((
                        "max_uses",
                        InvalidValue::new("out_of_range", format!("max_uses must be between 1 and {MAX_USES_LIMIT}.")),
                    ));
                    None
                }
            },
        };
        if errors.is_empty() { Ok(Self { expires_at, max_uses }) } else { Err(errors) }
    }
}

/// Why a link cannot be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkUnusable {
    Disabled,
    Expired,
    UsedUp,
}

impl LinkUnusable {
    pub fn code(self) -> &'static str {
        match self {
            LinkUnusable::Disabled => "join_link_disabled",
            LinkUnusable::Expired => "join_link_expired",
            LinkUnusable::UsedUp => "join_link_used_up",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            LinkUnusable::Disabled => "This join link was disabled; ask the account's administrators for a new one.",
            LinkUnusable::Expired => "This join link has expired; ask the account's administrators for a new one.",
            LinkUnusable::UsedUp => "This join link has been used as often as allowed; ask for a new one.",
        }
    }
}

/// A link's state, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinLinkState {
    pub limits: JoinLinkLimits,
    pub uses: u32,
    pub disabled_at: Option<DateTime<Utc>>,
}

impl JoinLinkState {
    /// Whether one more person may join through the link at `now`. The
    /// store applies the same rule in its conditional update, which is what
    /// keeps parallel joins within `max_uses`.
    pub fn check_usable(&self, now: DateTime<Utc>) -> Result<(), LinkUnusable> {
        if self.disabled_at.is_some() {
            return Err(LinkUnusable::Disabled);
        }
        if self.limits.expires_at.is_some_and(|at| at <= now) {
            return Err(LinkUnusable::Expired);
        }
        if self.limits.max_uses.is_some_and(|max| self.uses >= max) {
            return Err(LinkUnusable::UsedUp);
        }
        Ok(())
    }

    /// `active`, or why not.
    pub fn status_at(&self, now: DateTime<Utc>) -> &'static str {
        match self.check_usable(now) {
            Ok(()) => "active",
            Err(LinkUnusable::Disabled) => "disabled",
            Err(LinkUnusable::Expired) => "expired",
            Err(LinkUnusable::UsedUp) => "used_up",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JoinRequestStatus {
    Pending,
    Approved,
    Denied,
    Withdrawn,
}

impl JoinRequestStatus {
    pub const ALL: &'static [JoinRequestStatus] = &[
        JoinRequestStatus::Pending,
        JoinRequestStatus::Approved,
        JoinRequestStatus::Denied,
        JoinRequestStatus::Withdrawn,
    ];

    pub fn key(self) -> &'static str {
        match self {
            JoinRequestStatus::Pending => "pending",
            JoinRequestStatus::Approved => "approved",
            JoinRequestStatus::Denied => "denied",
            JoinRequestStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .iter()
            .copied()
            .find(|status| status.key() == raw)
            .ok_or_else(|| InvalidValue::new("unknown_status", "Use one of pending, approved, denied, withdrawn."))
    }

    /// Moving from `self` to `to`: only a pending request moves, and only
    /// to a final status. The refusal names the status it already has.
    pub fn decide(self, to: JoinRequestStatus) -> Result<JoinRequestStatus, JoinRequestStatus> {
        match (self, to) {
            (JoinRequestStatus::Pending, JoinRequestStatus::Pending) => Err(self),
            (JoinRequestStatus::Pending, to) => Ok(to),
            (current, _) => Err(current),
        }
    }

    /// The conflict code for acting on a request that is already `self`.
    pub fn conflict_code(self) -> &'static str {
        match self {
            JoinRequestStatus::Pending => "join_request_pending",
            JoinRequestStatus::Approved => "join_request_approved",
            JoinRequestStatus::Denied => "join_request_denied",
            JoinRequestStatus::Withdrawn => "join_request_withdrawn",
        }
    }
}

/// At most this many characters in a requester's message or a denial reason.
pub const MAX_NOTE_CHARS: usize = 1_000;

/// A requester's message or an approver's reason: trimmed, bounded, no
/// control characters but line breaks.
pub fn parse_note(raw: Option<&str>) -> Result<String, InvalidValue> {
    crate::text::parse_free_text(raw.unwrap_or(""), MAX_NOTE_CHARS)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use proptest::prelude::*;

    use super::*;

    fn state(expires_in: Option<i64>, max_uses: Option<u32>, uses: u32, disabled: bool) -> JoinLinkState {
        let now = Utc::now();
        JoinLinkState {
            limits: JoinLinkLimits { expires_at: expires_in.map(|s| now + Duration::seconds(s)), max_uses },
            uses,
            disabled_at: disabled.then_some(now),
        }
    }

    #[test]
    fn a_link_is_usable_until_disabled_expired_or_used_up() {
        let now = Utc::now();
        assert_eq!(state(None, None, 1_000, false).check_usable(now), Ok(()));
        assert_eq!(state(Some(60), Some(2), 1, false).check_usable(now), Ok(()));
        assert_eq!(state(Some(60), Some(2), 2, false).check_usable(now), Err(LinkUnusable::UsedUp));
        assert_eq!(state(Some(-1), None, 0, false).check_usable(now), Err(LinkUnusable::Expired));
        assert_eq!(state(Some(-1), Some(1), 1, true).check_usable(now), Err(LinkUnusable::Disabled));
        assert_eq!(state(None, Some(1), 1, false).status_at(now), "used_up");
    }

    #[test]
    fn limits_refuse_the_past_and_silly_counts() {
        let now = Utc::now();
        assert!(JoinLinkLimits::parse(None, None, now).is_ok());
        let errors = JoinLinkLimits::parse(Some(now), Some(0), now).unwrap_err();
        assert_eq!(errors.iter().map(|(field, _)| *field).collect::<Vec<_>>(), ["expires_at", "max_uses"]);
        assert!(JoinLinkLimits::parse(None, Some(i64::from(MAX_USES_LIMIT) + 1), now).is_err());
    }

    #[test]
    fn notes_are_trimmed_and_bounded() {
        assert_eq!(parse_note(Some("  hello\nthere ")).unwrap(), "hello\nthere");
        assert_eq!(parse_note(None).unwrap(), "");
        assert_eq!(parse_note(Some(&"x".repeat(MAX_NOTE_CHARS + 1))).unwrap_err().code, "too_long");
        assert_eq!(parse_note(Some("a\u{0}b")).unwrap_err().code, "invalid_characters");
    }

    fn any_status() -> impl Strategy<Value = JoinRequestStatus> {
        proptest::sample::select(JoinRequestStatus::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn only_pending_requests_move_and_only_to_final_states(from in any_status(), to in any_status()) {
            match from.decide(to) {
                Ok(next) => {
                    prop_assert_eq!(from, JoinRequestStatus::Pending);
                    prop_assert_ne!(next, JoinRequestStatus::Pending);
                }
                Err(current) => prop_assert_eq!(current, from),
            }
        }

        #[test]
        fn uses_never_exceed_max(max in 1u32..50, attempts in 0u32..100) {
            let mut link = state(None, Some(max), 0, false);
            let now = Utc::now();
            for _ in 0..attempts {
                if link.check_usable(now).is_ok() {
                    link.uses += 1;
                }
            }
            prop_assert!(link.uses <= max);
            prop_assert_eq!(link.uses, attempts.min(max));
        }
    }
}
