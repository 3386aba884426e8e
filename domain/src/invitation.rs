//! The invitation lifecycle: `pending → accepted | declined | revoked |
//! expired`, with resend reviving `pending` and `expired` invitations, and
//! the expiry and reminder arithmetic over an injected "now".

use chrono::{DateTime, Duration, Utc};

use crate::InvalidValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Declined,
    Revoked,
    Expired,
}

impl InvitationStatus {
    pub const ALL: &'static [InvitationStatus] = &[
        InvitationStatus::Pending,
        InvitationStatus::Accepted,
        InvitationStatus::Declined,
        InvitationStatus::Revoked,
        InvitationStatus::Expired,
    ];

    pub fn key(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Declined => "declined",
            InvitationStatus::Revoked => "revoked",
            InvitationStatus::Expired => "expired",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL.iter().copied().find(|status| status.key() == raw).ok_or_else(|| {
            InvalidValue::new("unknown_status", "Use one of pending, accepted, declined, revoked, expired.")
        })
    }

    /// Accepted, declined and revoked invitations never change again.
    pub fn is_final(self) -> bool {
        matches!(self, InvitationStatus::Accepted | InvitationStatus::Declined | InvitationStatus::Revoked)
    }
}

/// How long an invitation stays valid after it is (re)sent: 1 to 365 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvitationTtl(u16);

impl InvitationTtl {
    pub const DEFAULT_DAYS: u16 = 90;

    pub fn from_days(days: i64) -> Result<Self, InvalidValue> {
        match u16::try_from(days) {
            Ok(days @ 1..=365) => Ok(Self(days)),
            _ => Err(InvalidValue::new("out_of_range", "Invitations are valid for 1 to 365 days.")),
        }
    }

    pub fn days(self) -> u16 {
        self.0
    }

    pub fn duration(self) -> Duration {
        Duration::days(i64::from(self.0))
    }
}

impl Default for InvitationTtl {
    fn default() -> Self {
        Self(Self::DEFAULT_DAYS)
    }
}

/// Days after the last send on which a pending invitation is re-sent as a
/// reminder: each 1 to 365, once each, at most ten; kept in increasing
/// order whatever order they were given in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderSchedule(Vec<u16>);

impl ReminderSchedule {
    pub const DEFAULT_DAYS: [u16; 3] = [3, 14, 60];
    pub const MAX_REMINDERS: usize = 10;

    pub fn from_days(days: &[i64]) -> Result<Self, InvalidValue> {
        if days.len() > Self::MAX_REMINDERS {
            return Err(InvalidValue::new("too_many", "At most 10 reminders."));
        }
        let mut parsed: Vec<u16> = days
            .iter()
            .map(|day| u16::try_from(*day).ok().filter(|day| (1..=365).contains(day)))
            .collect::<Option<_>>()
            .ok_or_else(|| InvalidValue::new("out_of_range", "Reminder days are between 1 and 365."))?;
        parsed.sort_unstable();
        if parsed.windows(2).any(|pair| pair[0] == pair[1]) {
            return Err(InvalidValue::new("duplicate_day", "List each reminder day once."));
        }
        Ok(Self(parsed))
    }

    pub fn days(&self) -> &[u16] {
        &self.0
    }
}

impl Default for ReminderSchedule {
    fn default() -> Self {
        Self(Self::DEFAULT_DAYS.to_vec())
    }
}

/// What the lifecycle needs to know about one invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvitationClock {
    /// The stored status; a pending invitation past `expires_at` is expired
    /// whether or not the scheduler has recorded it yet.
    pub status: InvitationStatus,
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub reminders_sent: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionRefused {
    #[error("the invitation has expired")]
    Expired,
    #[error("the invitation is already {}", .0.key())]
    Final(InvitationStatus),
}

impl InvitationClock {
    pub fn new(sent_at: DateTime<Utc>, ttl: InvitationTtl) -> Self {
        Self { status: InvitationStatus::Pending, sent_at, expires_at: sent_at + ttl.duration(), reminders_sent: 0 }
    }

    pub fn status_at(&self, now: DateTime<Utc>) -> InvitationStatus {
        match self.status {
            InvitationStatus::Pending if now >= self.expires_at => InvitationStatus::Expired,
            status => status,
        }
    }

    /// Whether the invitee may still accept or decline it (and an
    /// administrator revoke it).
    pub fn check_open(&self, now: DateTime<Utc>) -> Result<(), TransitionRefused> {
        match self.status_at(now) {
            InvitationStatus::Pending => Ok(()),
            InvitationStatus::Expired => Err(TransitionRefused::Expired),
            status => Err(TransitionRefused::Final(status)),
        }
    }

    /// A resend starts a new validity window and reminder cycle; allowed
    /// while pending and after expiry, never after a final state.
    pub fn resend(&self, now: DateTime<Utc>, ttl: InvitationTtl) -> Result<Self, TransitionRefused> {
        match self.status_at(now) {
            InvitationStatus::Pending | InvitationStatus::Expired => Ok(Self::new(now, ttl)),
            status => Err(TransitionRefused::Final(status)),
        }
    }

    /// The time the next reminder is due, if one is left before expiry.
    pub fn next_reminder_at(&self, schedule: &ReminderSchedule) -> Option<DateTime<Utc>> {
        if self.status != InvitationStatus::Pending {
            return None;
        }
        let day = schedule.days().get(usize::try_from(self.reminders_sent).ok()?)?;
        let at = self.sent_at + Duration::days(i64::from(*day));
        (at < self.expires_at).then_some(at)
    }

    pub fn reminder_due(&self, schedule: &ReminderSchedule, now: DateTime<Utc>) -> bool {
        self.status_at(now) == InvitationStatus::Pending && self.next_reminder_at(schedule).is_some_and(|at| at <= now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
    }

    fn days(n: i64) -> Duration {
        Duration::days(n)
    }

    #[test]
    fn defaults_are_ninety_days_and_three_reminders() {
        let invitation = InvitationClock::new(t0(), InvitationTtl::default());
        assert_eq!(invitation.expires_at, t0() + days(90));
        assert_eq!(ReminderSchedule::default().days(), [3, 14, 60]);
    }

    #[test]
    fn expires_exactly_at_the_end_of_its_window() {
        let invitation = InvitationClock::new(t0(), InvitationTtl::default());
        assert_eq!(invitation.status_at(t0() + days(90) - Duration::seconds(1)), InvitationStatus::Pending);
        assert_eq!(invitation.status_at(t0() + days(90)), InvitationStatus::Expired);
        assert_eq!(invitation.check_open(t0() + days(91)), Err(TransitionRefused::Expired));
    }

    #[test]
    fn resend_revives_an_expired_invitation_but_not_a_final_one() {
        let invitation = InvitationClock::new(t0(), InvitationTtl::default());
        let later = t0() + days(100);
        let revived = invitation.resend(later, InvitationTtl::default()).unwrap();
        assert_eq!(revived.status_at(later), InvitationStatus::Pending);
        assert_eq!(revived.expires_at, later + days(90));
        let accepted = InvitationClock { status: InvitationStatus::Accepted, ..invitation };
        assert_eq!(
            accepted.resend(later, InvitationTtl::default()),
            Err(TransitionRefused::Final(InvitationStatus::Accepted))
        );
    }

    #[test]
    fn reminders_follow_the_schedule_and_stop() {
        let schedule = ReminderSchedule::default();
        let mut invitation = InvitationClock::new(t0(), InvitationTtl::default());
        assert!(!invitation.reminder_due(&schedule, t0() + days(3) - Duration::seconds(1)));
        assert!(invitation.reminder_due(&schedule, t0() + days(3)));
        invitation.reminders_sent = 1;
        assert!(!invitation.reminder_due(&schedule, t0() + days(13)));
        assert!(invitation.reminder_due(&schedule, t0() + days(14)));
        invitation.reminders_sent = 3;
        assert!(!invitation.reminder_due(&schedule, t0() + days(89)));
        let revoked = InvitationClock { status: InvitationStatus::Revoked, reminders_sent: 0, ..invitation };
        assert!(!revoked.reminder_due(&schedule, t0() + days(3)));
    }

    #[test]
    fn no_reminder_after_expiry() {
        let short = InvitationClock::new(t0(), InvitationTtl::from_days(10).unwrap());
        let schedule = ReminderSchedule::default();
        short.reminder_due(&schedule, t0() + days(3));
        let after_first = InvitationClock { reminders_sent: 1, ..short };
        assert_eq!(after_first.next_reminder_at(&schedule), None, "day 14 is after the 10-day expiry");
    }

    #[test]
    fn settings_are_validated() {
        assert!(InvitationTtl::from_days(0).is_err());
        assert!(InvitationTtl::from_days(366).is_err());
        assert!(InvitationTtl::from_days(365).is_ok());
        assert!(ReminderSchedule::from_days(&[3, 3]).is_err());
        assert_eq!(ReminderSchedule::from_days(&[14, 3]).unwrap().days(), [3, 14], "kept in order");
        assert!(ReminderSchedule::from_days(&[0]).is_err());
        assert!(ReminderSchedule::from_days(&[1; 11]).is_err());
        assert_eq!(ReminderSchedule::from_days(&[]).unwrap().days(), [] as [u16; 0]);
    }

    fn any_status() -> impl Strategy<Value = InvitationStatus> {
        proptest::sample::select(InvitationStatus::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn final_states_never_change(status in any_status(), offset in 0i64..400, ttl in 1i64..=365) {
            let invitation = InvitationClock { status, ..InvitationClock::new(t0(), InvitationTtl::from_days(ttl).unwrap()) };
            let now = t0() + days(offset);
            if status.is_final() {
                prop_assert_eq!(invitation.status_at(now), status);
                prop_assert!(invitation.check_open(now).is_err());
                prop_assert!(invitation.resend(now, InvitationTtl::default()).is_err());
                prop_assert!(!invitation.reminder_due(&ReminderSchedule::default(), now));
            }
        }

        #[test]
        fn open_exactly_while_pending_and_unexpired(offset_minutes in 0i64..(400 * 24 * 60), ttl in 1i64..=365) {
            let invitation = InvitationClock::new(t0(), InvitationTtl::from_days(ttl).unwrap());
            let now = t0() + Duration::minutes(offset_minutes);
            prop_assert_eq!(invitation.check_open(now).is_ok(), now < t0() + days(ttl));
        }

        #[test]
        fn a_resend_is_always_open_for_its_whole_window(offset in 0i64..400, ttl in 1i64..=365, later in 0i64..365) {
            let ttl = InvitationTtl::from_days(ttl).unwrap();
            let invitation = InvitationClock::new(t0(), ttl);
            let resent_at = t0() + days(offset);
            let resent = invitation.resend(resent_at, ttl).unwrap();
            prop_assert_eq!(resent.reminders_sent, 0);
            prop_assert_eq!(resent.check_open(resent_at + days(later)).is_ok(), later < i64::from(ttl.days()));
        }

        #[test]
        fn reminders_are_due_in_order_and_never_after_expiry(sent in 0u32..4, offset in 0i64..120) {
            let invitation = InvitationClock { reminders_sent: sent, ..InvitationClock::new(t0(), InvitationTtl::default()) };
            let now = t0() + days(offset);
            if invitation.reminder_due(&ReminderSchedule::default(), now) {
                prop_assert!(now < invitation.expires_at);
                let day = ReminderSchedule::DEFAULT_DAYS[sent as usize];
                prop_assert!(now >= t0() + days(i64::from(day)));
            }
        }
    }
}

/// Who an account may invite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmailPolicy {
    /// Anyone.
    #[default]
    Any,
    /// Only people who have no Roster user yet.
    NewUsersOnly,
}

impl EmailPolicy {
    pub fn key(self) -> &'static str {
        match self {
            EmailPolicy::Any => "any",
            EmailPolicy::NewUsersOnly => "new_users_only",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        match raw {
            "any" => Ok(EmailPolicy::Any),
            "new_users_only" => Ok(EmailPolicy::NewUsersOnly),
            _ => Err(InvalidValue::new("unknown_policy", "Use any or new_users_only.")),
        }
    }

    /// Whether someone may be invited, knowing whether a user with their
    /// email already exists.
    pub fn allows(self, user_exists: bool) -> bool {
        match self {
            EmailPolicy::Any => true,
            EmailPolicy::NewUsersOnly => !user_exists,
        }
    }
}

/// An account's invitation settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvitationPreferences {
    pub ttl: InvitationTtl,
    pub reminders: ReminderSchedule,
    pub email_policy: EmailPolicy,
    /// Only emails at the account's verified domains may be invited or
    /// join through a link.
    pub restricted_to_domains: bool,
}

#[cfg(test)]
mod policy_tests {
    use super::*;

    #[test]
    fn new_users_only_refuses_existing_users() {
        assert!(EmailPolicy::Any.allows(true));
        assert!(EmailPolicy::NewUsersOnly.allows(false));
        assert!(!EmailPolicy::NewUsersOnly.allows(true));
        assert_eq!(EmailPolicy::parse("new_users_only").unwrap(), EmailPolicy::NewUsersOnly);
        assert!(EmailPolicy::parse("some").is_err());
    }
}
