//! Who may become a member, and the rule that keeps every account owned.
//! The callers (batch invitations, spreadsheet rows, join approvals,
//! removals and role changes) gather the facts; the decisions are made here
//! and nowhere else.

use crate::invitation::EmailPolicy;

/// What is known about a person someone wants to bring into an account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Candidate {
    pub is_member: bool,
    pub has_pending_invitation: bool,
    /// A Roster user with this email exists.
    pub has_user: bool,
    /// The account takes only emails at its verified domains, and this
    /// one is at none of them.
    pub outside_allowed_domains: bool,
}

/// How a person is brought in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// By an invitation to their email (from a batch or a spreadsheet row),
    /// under the account's email policy.
    Invitation(EmailPolicy),
    /// By approving the join request they filed while signed in. The email
    /// policy governs whom the account emails invitations to; a join
    /// request comes from an existing user by construction.
    JoinRequest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionRefused {
    #[error("already a member of the account")]
    AlreadyMember,
    #[error("already has a pending invitation to the account")]
    AlreadyInvited,
    #[error("the account invites only people with no user yet")]
    EmailPolicyRefused,
    #[error("the account takes only emails at its verified domains")]
    EmailDomainNotAllowed,
}

/// Whether `candidate` may be brought in `through` this admission.
pub fn check_admission(candidate: &Candidate, through: Admission) -> Result<(), AdmissionRefused> {
    if candidate.is_member {
        return Err(AdmissionRefused::AlreadyMember);
    }
    if let Admission::Invitation(policy) = through {
        if candidate.has_pending_invitation {
            return Err(AdmissionRefused::AlreadyInvited);
        }
        if !policy.allows(candidate.has_user) {
            return Err(AdmissionRefused::EmailPolicyRefused);
        }
    }
    if candidate.outside_allowed_domains {
        return Err(AdmissionRefused::EmailDomainNotAllowed);
    }
    Ok(())
}

/// Whether a member may act in the account. A suspended member (by an
/// administrator or a directory) keeps their roles and groups on record and
/// their seat, and is refused everywhere in the account until restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MembershipStatus {
    #[default]
    Active,
    Suspended,
}

impl MembershipStatus {
    pub fn key(self) -> &'static str {
        match self {
            MembershipStatus::Active => "active",
            MembershipStatus::Suspended => "suspended",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [MembershipStatus::Active, MembershipStatus::Suspended].into_iter().find(|status| status.key() == raw)
    }
}

/// A change would leave the account without an owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the account's last owner cannot leave, be removed or be demoted")]
pub struct LastOwner;

/// The account keeps at least one owner: `owners` is how many it has now,
/// `losing_one` whether the change takes ownership from one of them.
pub fn check_owner_kept(owners: i64, losing_one: bool) -> Result<(), LastOwner> {
    if losing_one && owners <= 1 { Err(LastOwner) } else { Ok(()) }
}

/// How stale a member's recorded last activity may get before a request
/// writes it again: a write per member every few minutes, not per request.
pub const ACTIVITY_RESOLUTION: chrono::Duration = chrono::Duration::minutes(5);

/// Whether a request at `now` should record the member's activity.
pub fn activity_stale(
    last_active_at: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    last_active_at.is_none_or(|at| now - at >= ACTIVITY_RESOLUTION)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn activity_is_written_at_most_every_few_minutes() {
        let now = chrono::Utc::now();
        assert!(activity_stale(None, now));
        assert!(!activity_stale(Some(now - chrono::Duration::minutes(4)), now));
        assert!(activity_stale(Some(now - ACTIVITY_RESOLUTION), now));
        // A clock that went backwards does not write every request.
        assert!(!activity_stale(Some(now + chrono::Duration::minutes(1)), now));
    }

    #[test]
    fn members_are_never_admitted_twice() {
        let member = Candidate { is_member: true, ..Candidate::default() };
        for through in [Admission::Invitation(EmailPolicy::Any), Admission::JoinRequest] {
            assert_eq!(check_admission(&member, through), Err(AdmissionRefused::AlreadyMember));
        }
    }

    #[test]
    fn invitations_follow_the_pending_rule_and_the_email_policy() {
        let pending = Candidate { has_pending_invitation: true, ..Candidate::default() };
        assert_eq!(
            check_admission(&pending, Admission::Invitation(EmailPolicy::Any)),
            Err(AdmissionRefused::AlreadyInvited)
        );
        let user = Candidate { has_user: true, ..Candidate::default() };
        assert_eq!(check_admission(&user, Admission::Invitation(EmailPolicy::Any)), Ok(()));
        assert_eq!(
            check_admission(&user, Admission::Invitation(EmailPolicy::NewUsersOnly)),
            Err(AdmissionRefused::EmailPolicyRefused)
        );
        assert_eq!(check_admission(&user, Admission::JoinRequest), Ok(()));
    }

    #[test]
    fn accounts_restricted_to_their_domains_take_no_one_from_elsewhere() {
        let outsider = Candidate { outside_allowed_domains: true, ..Candidate::default() };
        for through in [Admission::Invitation(EmailPolicy::Any), Admission::JoinRequest] {
            assert_eq!(check_admission(&outsider, through), Err(AdmissionRefused::EmailDomainNotAllowed));
        }
        // Being a member already is the more useful thing to say.
        let member = Candidate { is_member: true, ..outsider };
        assert_eq!(check_admission(&member, Admission::JoinRequest), Err(AdmissionRefused::AlreadyMember));
    }

    proptest! {
        #[test]
        fn an_account_never_loses_its_last_owner(owners in 0i64..5, losing_one: bool) {
            let after = if losing_one { owners - 1 } else { owners };
            if check_owner_kept(owners, losing_one).is_ok() && owners >= 1 {
                prop_assert!(after >= 1);
            }
        }
    }
}
