//! Access reviews, with no IO: reviewers decide per member to keep their
//! access, reduce it to a subset of what they held when the review began,
//! or remove them; nobody decides on their own access; what nobody decided
//! by the due date follows the account's policy.

use chrono::{DateTime, Duration, Utc};

use crate::InvalidValue;

/// One role a member holds: account-wide (`group_id` `None`) or in a group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct HeldAssignment {
    pub role: String,
    pub group_id: Option<uuid::Uuid>,
}

/// A reviewer's decision on one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Keep,
    /// Keep only these of the assignments held when the review began.
    Reduce(Vec<HeldAssignment>),
    /// Out of the account (a group review: out of the group).
    Remove,
}

impl Decision {
    pub fn key(&self) -> &'static str {
        match self {
            Decision::Keep => "keep",
            Decision::Reduce(_) => "reduce",
            Decision::Remove => "remove",
        }
    }
}

/// What happens to members nobody decided on by the due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UndecidedPolicy {
    /// They keep their access and are flagged in the report.
    #[default]
    KeepAndFlag,
    /// They lose it, as if a reviewer had chosen remove (owners excepted:
    /// an account is never left without its owners by a deadline).
    Revoke,
}

impl UndecidedPolicy {
    pub fn key(self) -> &'static str {
        match self {
            UndecidedPolicy::KeepAndFlag => "keep_and_flag",
            UndecidedPolicy::Revoke => "revoke",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        match raw {
            "keep_and_flag" => Ok(UndecidedPolicy::KeepAndFlag),
            "revoke" => Ok(UndecidedPolicy::Revoke),
            _ => Err(InvalidValue::new("unknown_policy", "Use keep_and_flag or revoke.")),
        }
    }
}

/// Why a decision was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionRefused {
    #[error("Nobody decides on their own access; another reviewer must.")]
    SelfReview,
    #[error("Only the review's reviewers decide.")]
    NotAReviewer,
    #[error("The review is completed; its decisions can no longer change.")]
    Closed,
    #[error("Reduce to some of the roles the member held when the review began; to take every role, remove them.")]
    NotASubset,
    #[error("Only owners take access away from owners.")]
    OwnerOnly,
}

impl DecisionRefused {
    pub fn code(&self) -> &'static str {
        match self {
            DecisionRefused::SelfReview => "self_review",
            DecisionRefused::NotAReviewer => "not_a_reviewer",
            DecisionRefused::Closed => "review_closed",
            DecisionRefused::NotASubset => "not_a_subset",
            DecisionRefused::OwnerOnly => "owner_only",
        }
    }
}

/// The facts a decision is judged on.
pub struct DecisionFacts<'a> {
    pub open: bool,
    pub reviewer_is_listed: bool,
    pub reviewer_is_subject: bool,
    /// The reviewer may take access away from owners (holds `ownership:transfer`).
    pub reviewer_may_demote_owners: bool,
    /// What the member held when the review began.
    pub snapshot: &'a [HeldAssignment],
    pub owner_role: &'a str,
}

pub fn check_decision(decision: &Decision, facts: &DecisionFacts<'_>) -> Result<(), DecisionRefused> {
    if !facts.open {
        return Err(DecisionRefused::Closed);
    }
    if !facts.reviewer_is_listed {
        return Err(DecisionRefused::NotAReviewer);
    }
    if facts.reviewer_is_subject {
        return Err(DecisionRefused::SelfReview);
    }
    if let Decision::Reduce(kept) = decision
        && (kept.is_empty() || kept.iter().any(|assignment| !facts.snapshot.contains(assignment)))
    {
        return Err(DecisionRefused::NotASubset);
    }
    let takes_ownership = removed(facts.snapshot, decision).iter().any(|a| a.role == facts.owner_role);
    if takes_ownership && !facts.reviewer_may_demote_owners {
        return Err(DecisionRefused::OwnerOnly);
    }
    Ok(())
}

/// The assignments a decision takes away: of those held when the review
/// began, the ones not kept. Roles given since are not the review's to
/// take.
pub fn removed(snapshot: &[HeldAssignment], decision: &Decision) -> Vec<HeldAssignment> {
    match decision {
        Decision::Keep => Vec::new(),
        Decision::Reduce(kept) => snapshot.iter().filter(|a| !kept.contains(a)).cloned().collect(),
        Decision::Remove => snapshot.to_vec(),
    }
}

/// What completing does with one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Kept,
    Reduced,
    Removed,
    /// Undecided and kept by the policy: flagged for the next review.
    KeptFlagged,
    /// Undecided and removed by the policy.
    Revoked,
}

impl Outcome {
    pub fn key(&self) -> &'static str {
        match self {
            Outcome::Kept => "kept",
            Outcome::Reduced => "reduced",
            Outcome::Removed => "removed",
            Outcome::KeptFlagged => "kept_flagged",
            Outcome::Revoked => "revoked",
        }
    }
}

/// The outcome for one member: their decision, or for the undecided the
/// policy (owners are never revoked by a deadline).
pub fn outcome(decision: Option<&Decision>, policy: UndecidedPolicy, is_owner: bool) -> Outcome {
    match (decision, policy) {
        (Some(Decision::Keep), _) => Outcome::Kept,
        (Some(Decision::Reduce(_)), _) => Outcome::Reduced,
        (Some(Decision::Remove), _) => Outcome::Removed,
        (None, UndecidedPolicy::Revoke) if !is_owner => Outcome::Revoked,
        (None, _) => Outcome::KeptFlagged,
    }
}

/// How long before the due date reviewers are reminded.
pub const REMIND_BEFORE: Duration = Duration::days(3);
/// How often reviewers of an overdue review are reminded.
pub const REMIND_OVERDUE_EVERY: Duration = Duration::days(7);

/// When reviewers are first reminded: some days before the due date, or at
/// it when the review began closer to it than that.
pub fn first_reminder(started: DateTime<Utc>, due: DateTime<Utc>) -> DateTime<Utc> {
    (due - REMIND_BEFORE).max(started).min(due)
}

/// Days between the due date and the start, for reviews that a schedule
/// starts: 1 to 365.
pub fn check_due_in_days(days: i64) -> Result<u16, InvalidValue> {
    u16::try_from(days)
        .ok()
        .filter(|d| (1..=365).contains(d))
        .ok_or_else(|| InvalidValue::new("out_of_range", "Give 1 to 365 days."))
}

/// Days between reviews a schedule starts: 7 to 3650 (ten years).
pub fn check_every_days(days: i64) -> Result<u16, InvalidValue> {
    u16::try_from(days)
        .ok()
        .filter(|d| (7..=3650).contains(d))
        .ok_or_else(|| InvalidValue::new("out_of_range", "Give 7 to 3650 days."))
}

/// A due date must lie ahead, at most a year.
pub fn check_due(now: DateTime<Utc>, due: DateTime<Utc>) -> Result<(), InvalidValue> {
    if due <= now {
        return Err(InvalidValue::new("in_the_past", "Give a due date in the future."));
    }
    if due > now + Duration::days(365) {
        return Err(InvalidValue::new("too_far", "Give a due date within a year."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn held(role: &str) -> HeldAssignment {
        HeldAssignment { role: role.into(), group_id: None }
    }

    fn facts<'a>(snapshot: &'a [HeldAssignment]) -> DecisionFacts<'a> {
        DecisionFacts {
            open: true,
            reviewer_is_listed: true,
            reviewer_is_subject: false,
            reviewer_may_demote_owners: false,
            snapshot,
            owner_role: "owner",
        }
    }

    #[test]
    fn nobody_reviews_themselves_and_only_listed_reviewers_decide() {
        let snapshot = [held("support")];
        let own = DecisionFacts { reviewer_is_subject: true, ..facts(&snapshot) };
        assert_eq!(check_decision(&Decision::Keep, &own), Err(DecisionRefused::SelfReview));
        let stranger = DecisionFacts { reviewer_is_listed: false, ..facts(&snapshot) };
        assert_eq!(check_decision(&Decision::Keep, &stranger), Err(DecisionRefused::NotAReviewer));
        let closed = DecisionFacts { open: false, ..facts(&snapshot) };
        assert_eq!(check_decision(&Decision::Keep, &closed), Err(DecisionRefused::Closed));
        assert_eq!(check_decision(&Decision::Remove, &facts(&snapshot)), Ok(()));
    }

    #[test]
    fn reducing_keeps_a_non_empty_subset_and_owners_fall_only_to_owners() {
        let snapshot = [held("owner"), held("support")];
        let to_support = Decision::Reduce(vec![held("support")]);
        assert_eq!(check_decision(&to_support, &facts(&snapshot)), Err(DecisionRefused::OwnerOnly));
        let owner = DecisionFacts { reviewer_may_demote_owners: true, ..facts(&snapshot) };
        assert_eq!(check_decision(&to_support, &owner), Ok(()));
        assert_eq!(check_decision(&Decision::Reduce(vec![]), &owner), Err(DecisionRefused::NotASubset));
        let other = Decision::Reduce(vec![held("billing")]);
        assert_eq!(check_decision(&other, &owner), Err(DecisionRefused::NotASubset));
        assert_eq!(check_decision(&Decision::Reduce(vec![held("owner")]), &facts(&snapshot)), Ok(()));
    }

    #[test]
    fn the_undecided_follow_the_policy_but_owners_are_never_revoked() {
        assert_eq!(outcome(None, UndecidedPolicy::KeepAndFlag, false), Outcome::KeptFlagged);
        assert_eq!(outcome(None, UndecidedPolicy::Revoke, false), Outcome::Revoked);
        assert_eq!(outcome(None, UndecidedPolicy::Revoke, true), Outcome::KeptFlagged);
        assert_eq!(outcome(Some(&Decision::Keep), UndecidedPolicy::Revoke, false), Outcome::Kept);
        assert_eq!(UndecidedPolicy::default(), UndecidedPolicy::KeepAndFlag);
        assert_eq!(UndecidedPolicy::parse("revoke"), Ok(UndecidedPolicy::Revoke));
        assert!(UndecidedPolicy::parse("ignore").is_err());
    }

    #[test]
    fn the_first_reminder_comes_before_the_due_date_but_not_before_the_start() {
        let start = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(first_reminder(start, start + Duration::days(14)), start + Duration::days(11));
        assert_eq!(first_reminder(start, start + Duration::days(1)), start);
        assert!(check_due(start, start).is_err());
        assert!(check_due(start, start + Duration::days(366)).is_err());
        assert!(check_due(start, start + Duration::days(30)).is_ok());
    }

    fn assignments() -> impl Strategy<Value = Vec<HeldAssignment>> {
        proptest::collection::btree_set("[a-e]", 0..5).prop_map(|roles| roles.iter().map(|r| held(r)).collect())
    }

    proptest! {
        #[test]
        fn what_is_removed_and_kept_partition_the_snapshot(snapshot in assignments(), mask in any::<u8>()) {
            let kept: Vec<_> = snapshot.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, a)| a.clone()).collect();
            let gone = removed(&snapshot, &Decision::Reduce(kept.clone()));
            prop_assert_eq!(gone.len() + kept.len(), snapshot.len());
            prop_assert!(gone.iter().all(|a| !kept.contains(a) && snapshot.contains(a)));
            prop_assert_eq!(removed(&snapshot, &Decision::Remove), snapshot.clone());
            prop_assert!(removed(&snapshot, &Decision::Keep).is_empty());
        }
    }
}
