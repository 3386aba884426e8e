//! The audit log's vocabulary and its tamper evidence. Every change is
//! recorded as an event with a stable dotted action; each event carries the
//! SHA-256 of its chain's previous event, so that changing, removing or
//! reordering any event breaks every link after it.
//!
//! What an event says about people (names, emails, addresses) is kept
//! beside the chain, which covers only a salted digest of it: erasing a
//! person rewrites that part and forgets its salt, and every chain still
//! verifies.

use std::fmt;

use sha2::{Digest, Sha256};

macro_rules! actions {
    ($($variant:ident => $key:literal, $description:literal;)+) => {
        /// What happened. Keys are part of the public API (filters, webhook
        /// event types) and never change.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum AuditAction {
            $($variant,)+
        }

        impl AuditAction {
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant,)+];

            pub fn key(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $key,)+
                }
            }

            pub fn description(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $description,)+
                }
            }
        }
    };
}

actions! {
    AccountCreated => "account.created", "An account was created; its creator became the owner.";
    AccountRenamed => "account.renamed", "The account was renamed.";
    AccountPlanChanged => "account.plan_changed", "The account was put on another plan.";
    AccountPreferencesUpdated => "account.preferences_updated", "The account's invitation preferences changed.";
    AccountDeletionRequested => "account.deletion_requested", "An owner deleted the account: it waits out its grace period, restorable, then is erased.";
    AccountRestored => "account.restored", "An owner restored the account while its deletion waited.";
    AccountErased => "account.erased", "The account was erased after its grace period; its audit log stays, sealed, for the retention period.";
    AccountEmailSettingsUpdated => "account.email_settings_updated", "How the account's emails name it, what its invitations say, or their language changed.";
    AccountNotificationDefaultsUpdated => "account.notification_defaults_updated", "The emails members get unless they chose otherwise changed.";
    AccountOwnershipTransferred => "account.ownership_transferred", "An owner made another member an owner.";
    AccountLinkRequested => "account.link_requested", "An owner of a parent account asked to link a child account.";
    AccountLinkAccepted => "account.link_accepted", "An owner of the child account accepted the link.";
    AccountUnlinked => "account.unlinked", "A link between a parent and a child account ended (or its request was withdrawn or declined).";
    AccessReviewStarted => "access_review.started", "An access review began, by a member or the account's schedule.";
    AccessReviewDecided => "access_review.decided", "A reviewer decided on a member's access.";
    AccessReviewCompleted => "access_review.completed", "An access review was completed and its decisions applied.";
    AccessReviewSettingsUpdated => "access_review.settings_updated", "The account's access review policy or schedule changed.";
    AddressCreated => "address.created", "An address of the account was added.";
    AddressUpdated => "address.updated", "An address of the account changed.";
    AddressDeleted => "address.deleted", "An address of the account was removed.";
    ContactCreated => "contact.created", "A contact of the account was added.";
    DomainAdded => "domain.added", "An email domain was claimed for the account, to be verified.";
    DomainVerified => "domain.verified", "An email domain of the account was verified by its DNS record.";
    DomainRemoved => "domain.removed", "An email domain was removed from the account.";
    AccountSsoPolicyUpdated => "account.sso_policy_updated", "Whether the account requires single sign-on, or its break-glass owner, changed.";
    ScimTokenCreated => "scim_token.created", "A token for the account's directory (SCIM) was made.";
    ScimTokenRevoked => "scim_token.revoked", "A token for the account's directory (SCIM) was revoked.";
    DirectorySettingsUpdated => "directory.settings_updated", "The roles people the account's directory adds start with changed.";
    SsoConnectionCreated => "sso_connection.created", "An OpenID provider was connected for single sign-on.";
    SsoConnectionUpdated => "sso_connection.updated", "A single sign-on connection changed (its secret is never recorded).";
    SsoConnectionDeleted => "sso_connection.deleted", "A single sign-on connection was removed.";
    DomainEnrollmentUpdated => "domain.enrollment_updated", "Who with an email at a domain comes in by themselves, or what they receive, changed.";
    DomainUnverified => "domain.unverified", "An email domain's DNS record stayed missing for 3 days: it is no longer verified.";
    ContactUpdated => "contact.updated", "A contact of the account changed.";
    ContactDeleted => "contact.deleted", "A contact of the account was removed.";
    UserRegistered => "user.registered", "Someone registered.";
    UserProfileUpdated => "user.profile_updated", "A user changed their names.";
    UserEmailVerified => "user.email_verified", "A user proved their email address.";
    UserVerificationSent => "user.verification_sent", "A user asked for a new verification email.";
    UserPasswordChanged => "user.password_changed", "A user changed their password.";
    UserPasswordResetRequested => "user.password_reset_requested", "A password reset link was emailed.";
    UserPasswordReset => "user.password_reset", "A user set a new password through a reset link.";
    UserEmailChangeRequested => "user.email_change_requested", "A user asked to move to a new email address.";
    UserEmailChanged => "user.email_changed", "A user confirmed their new email address.";
    UserErased => "user.erased", "A user erased themselves: their memberships ended, and what named them now reads as a pseudonym.";
    SessionStarted => "session.started", "A user signed in.";
    SessionRefreshed => "session.refreshed", "A session's tokens were exchanged for new ones.";
    SessionEnded => "session.ended", "A user signed out, or ended one of their sessions.";
    InvitationCreated => "invitation.created", "Someone was invited.";
    InvitationResent => "invitation.resent", "An invitation was sent again with a new link.";
    InvitationReminded => "invitation.reminded", "A reminder of a pending invitation was sent.";
    InvitationRevoked => "invitation.revoked", "An invitation was revoked.";
    InvitationAccepted => "invitation.accepted", "An invitation was accepted.";
    InvitationDeclined => "invitation.declined", "An invitation was declined.";
    InvitationExpired => "invitation.expired", "An invitation expired.";
    MemberJoined => "member.joined", "Someone became a member (by invitation or approved join request).";
    MemberRemoved => "member.removed", "A member was removed.";
    MemberSuspended => "member.suspended", "A member was suspended: refused everywhere in the account, roles kept on record.";
    MemberReactivated => "member.reactivated", "A suspended member was restored, with what they had.";
    MemberLeft => "member.left", "A member left the account.";
    MemberLinkedRolesUpdated => "member.linked_roles_updated", "The roles a member holds in every linked account changed.";
    MemberNotificationPreferencesUpdated => "member.notification_preferences_updated", "A member chose which emails they get (or followed an unsubscribe link).";
    MemberRolesUpdated => "member.roles_updated", "A member's roles changed.";
    MemberDirectoryProfileUpdated => "member.directory_profile_updated", "What the account's directory says about a member changed (its id for them, the names it sent).";
    RoleCreated => "role.created", "A custom role was defined.";
    RoleUpdated => "role.updated", "A custom role changed.";
    RoleDeleted => "role.deleted", "A custom role was deleted.";
    GroupCreated => "group.created", "A group was created.";
    GroupUpdated => "group.updated", "A group was renamed or described.";
    GroupDeleted => "group.deleted", "A group was deleted.";
    GroupRolesUpdated => "group.roles_updated", "The roles a group gives the people in it changed.";
    GroupMemberAdded => "group.member_added", "A member was put into a group.";
    GroupMemberRemoved => "group.member_removed", "A member was taken out of a group.";
    ImportCreated => "import.created", "A spreadsheet was uploaded for import.";
    ImportCompleted => "import.completed", "A spreadsheet import finished.";
    JoinLinkCreated => "join_link.created", "A join link was published.";
    JoinLinkRotated => "join_link.rotated", "A join link was replaced by a new URL.";
    JoinLinkDisabled => "join_link.disabled", "A join link was disabled.";
    JoinRequestCreated => "join_request.created", "Someone asked to join, through a link or their suggested accounts (or by automatic enrollment with no seat left).";
    JoinRequestApproved => "join_request.approved", "A join request was approved.";
    JoinRequestDenied => "join_request.denied", "A join request was denied.";
    JoinRequestWithdrawn => "join_request.withdrawn", "A join request was withdrawn.";
    WebhookCreated => "webhook.created", "A webhook endpoint was added.";
    WebhookUpdated => "webhook.updated", "A webhook endpoint changed.";
    WebhookDeleted => "webhook.deleted", "A webhook endpoint was deleted.";
    WebhookSecretRotated => "webhook.secret_rotated", "A webhook endpoint's signing secret was replaced.";
    WebhookDisabled => "webhook.disabled", "A webhook endpoint was disabled after failing, or by its receiver.";
    WebhookRedelivered => "webhook.redelivered", "A webhook delivery was sent again on request.";
    PartnerCreated => "partner.created", "An authorized partner was added.";
    PartnerDeleted => "partner.deleted", "An authorized partner was removed, and its API keys with it.";
    ApiKeyCreated => "api_key.created", "An API key was granted to a partner.";
    ApiKeyRotated => "api_key.rotated", "An API key's secret was replaced.";
    ApiKeyRevoked => "api_key.revoked", "An API key was revoked.";
}

impl AuditAction {
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|action| action.key() == raw)
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The `prev_hash` of a chain's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of an event: SHA-256 over the previous event's hash and the
/// event's canonical content, hex.
pub fn link_hash(prev_hash: &str, content: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(content.as_bytes());
    base16ct::lower::encode_string(&hasher.finalize())
}

/// The digest of what an event says about people, as its chain covers it:
/// salted, so that it cannot be matched against a guessed name or email
/// once erasure has forgotten the salt.
pub fn personal_digest(salt: &str, content: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"audit-personal-data\n");
    hasher.update(salt.as_bytes());
    hasher.update(b"\n");
    hasher.update(content.as_bytes());
    base16ct::lower::encode_string(&hasher.finalize())
}

/// One stored event as the verifier sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub id: String,
    pub seq: i64,
    /// The canonical content, recomputed from the stored fields; `None`
    /// for an event sealed before personal data left the chain whose
    /// personal data was then erased: only its links can be checked.
    pub content: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// Where a chain starts: the genesis, or the last event purged by
/// retention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
}

impl Default for Anchor {
    fn default() -> Self {
        Anchor { seq: 0, hash: GENESIS.to_owned() }
    }
}

/// The two marks that bound a sealed chain. Each is signed over a text of
/// its own, so that a seal made for one cannot stand in for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Where retention left the chain's start (its [`Anchor`]).
    Start,
    /// The newest event the sealer put in the chain (its checkpoint).
    End,
}

impl Bound {
    /// What a seal of this bound signs.
    pub fn signed_text(self, chain: &str, seq: i64, hash: &str) -> String {
        let kind = match self {
            Bound::Start => "audit-anchor",
            Bound::End => "audit-checkpoint",
        };
        format!("{kind}\n{chain}\n{seq}\n{hash}")
    }
}

/// Seals bounds and checks their seals: only the deployment's key can
/// make a seal that holds, so someone with the database alone cannot move
/// a chain's bounds to hide what they removed.
pub trait BoundSigner {
    fn sign(&self, bound: Bound, chain: &str, seq: i64, hash: &str) -> Result<String, String>;
    fn holds(&self, bound: Bound, chain: &str, seq: i64, hash: &str, seal: &str) -> bool;
}

/// The first link of a chain that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {id} (#{seq}): {reason}")]
pub struct BrokenLink {
    pub id: String,
    pub seq: i64,
    pub reason: &'static str,
}

/// Walks one chain in `seq` order from its anchor: numbering without gaps,
/// each event pointing at the one before, each hash matching its content.
pub fn verify_chain(anchor: &Anchor, links: impl IntoIterator<Item = Link>) -> Result<i64, BrokenLink> {
    let (mut seq, mut hash) = (anchor.seq, anchor.hash.clone());
    for link in links {
        let broken = |reason| BrokenLink { id: link.id.clone(), seq: link.seq, reason };
        if link.seq != seq + 1 {
            return Err(broken("an event before it is missing"));
        }
        if link.prev_hash != hash {
            return Err(broken("it does not point at the event before it"));
        }
        if link.content.as_ref().is_some_and(|content| link_hash(&link.prev_hash, content) != link.hash) {
            return Err(broken("its content does not match its hash"));
        }
        (seq, hash) = (link.seq, link.hash);
    }
    Ok(seq - anchor.seq)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn chain(contents: &[String]) -> Vec<Link> {
        let mut prev = GENESIS.to_owned();
        contents
            .iter()
            .enumerate()
            .map(|(index, content)| {
                let hash = link_hash(&prev, content);
                let link = Link {
                    id: format!("e{index}"),
                    seq: index as i64 + 1,
                    content: Some(content.clone()),
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                link
            })
            .collect()
    }

    #[test]
    fn actions_are_unique_dotted_keys() {
        let keys: std::collections::BTreeSet<_> = AuditAction::ALL.iter().map(|a| a.key()).collect();
        assert_eq!(keys.len(), AuditAction::ALL.len());
        for action in AuditAction::ALL {
            assert!(action.key().contains('.'), "{action}");
            assert_eq!(AuditAction::parse(action.key()), Some(*action));
        }
    }

    #[test]
    fn a_seal_of_one_bound_cannot_stand_for_the_other() {
        let (start, end) = (Bound::Start.signed_text("c", 3, "h"), Bound::End.signed_text("c", 3, "h"));
        assert_ne!(start, end);
        assert_eq!(end, "audit-checkpoint\nc\n3\nh", "checkpoints sealed before anchors were keep holding");
    }

    #[test]
    fn a_chain_verifies_from_its_anchor() {
        let links = chain(&["a".into(), "b".into(), "c".into()]);
        assert_eq!(verify_chain(&Anchor::default(), links.clone()), Ok(3));
        let anchor = Anchor { seq: 1, hash: links[0].hash.clone() };
        assert_eq!(verify_chain(&anchor, links[1..].to_vec()), Ok(2), "purged up to #1");
    }

    #[test]
    fn an_erased_legacy_event_is_checked_by_its_links() {
        let mut links = chain(&["a".into(), "b".into(), "c".into()]);
        links[1].content = None;
        assert_eq!(verify_chain(&Anchor::default(), links.clone()), Ok(3));
        links[1].prev_hash = links[2].hash.clone();
        assert!(verify_chain(&Anchor::default(), links).is_err(), "its links still hold it in place");
    }

    #[test]
    fn a_personal_digest_depends_on_its_salt() {
        assert_ne!(personal_digest("s1", "ada@example.com"), personal_digest("s2", "ada@example.com"));
        assert_ne!(personal_digest("s1", "ada@example.com"), personal_digest("s1", "bob@example.com"));
    }

    proptest! {
        #[test]
        fn any_edit_removal_or_swap_is_found_at_its_place(
            contents in proptest::collection::vec("[a-z]{1,8}", 2..12),
            at in any::<proptest::sample::Index>(),
            edit in 0u8..3,
        ) {
            let mut links = chain(&contents);
            let index = at.index(links.len());
            match edit {
                0 => links[index].content.as_mut().unwrap().push('!'),
                1 => { links.remove(index); }
                _ => {
                    let other = (index + 1) % links.len();
                    links.swap(index, other);
                }
            }
            let broken = verify_chain(&Anchor::default(), links.clone());
            if edit == 1 && index == contents.len() - 1 {
                // Dropping the newest event leaves a shorter, valid chain; the
                // head kept beside the chain is what catches that.
                prop_assert!(broken.is_ok());
            } else {
                prop_assert!(broken.is_err());
            }
        }
    }
}
