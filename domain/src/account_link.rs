//! Linked accounts with no IO: a parent (a global account) and its children
//! (regional accounts), one level deep. An owner of the parent asks, an
//! owner of the child accepts, either side ends it. A parent member's
//! account-wide role can be extended to every child; what it grants there is
//! what it grants in the parent, except what only owners hold.

use crate::{BuiltInRole, Permission, PermissionSet, RoleKind};

/// Where a link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStatus {
    /// Asked by the parent, not yet accepted by the child.
    Pending,
    Active,
}

impl LinkStatus {
    pub fn key(self) -> &'static str {
        match self {
            LinkStatus::Pending => "pending",
            LinkStatus::Active => "active",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [LinkStatus::Pending, LinkStatus::Active].into_iter().find(|status| status.key() == raw)
    }
}

/// What is known about the two accounts of a link being asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkFacts {
    pub same_account: bool,
    /// The would-be child already has a parent (or a pending request).
    pub child_has_parent: bool,
    /// The would-be child has children of its own.
    pub child_has_children: bool,
    /// The would-be parent is itself some account's child.
    pub parent_has_parent: bool,
}

/// Why a link cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefused {
    #[error("An account cannot be linked to itself.")]
    SelfLink,
    #[error("That account is already linked to a parent account (or asked to be); it can have only one.")]
    ChildAlreadyLinked,
    #[error("That account has linked accounts of its own; links are one level deep.")]
    ChildIsParent,
    #[error("This account is linked under a parent account; links are one level deep.")]
    ParentIsChild,
}

impl LinkRefused {
    pub fn code(self) -> &'static str {
        match self {
            LinkRefused::SelfLink => "self_link",
            LinkRefused::ChildAlreadyLinked => "account_already_linked",
            LinkRefused::ChildIsParent | LinkRefused::ParentIsChild => "link_too_deep",
        }
    }
}

/// Whether a parent may ask to link the child: never itself, one parent per
/// child, one level deep.
pub fn check_link(facts: LinkFacts) -> Result<(), LinkRefused> {
    if facts.same_account {
        return Err(LinkRefused::SelfLink);
    }
    if facts.child_has_parent {
        return Err(LinkRefused::ChildAlreadyLinked);
    }
    if facts.child_has_children {
        return Err(LinkRefused::ChildIsParent);
    }
    if facts.parent_has_parent {
        return Err(LinkRefused::ParentIsChild);
    }
    Ok(())
}

/// Owner cannot be extended to linked accounts: a child's owners stay the
/// only ones who may delete it, hand it over or unlink it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The role {0:?} cannot apply in linked accounts: a child's owners are its own.")]
pub struct NotInheritable(pub String);

pub fn check_inheritable(key: &str, kind: &RoleKind) -> Result<(), NotInheritable> {
    match kind {
        RoleKind::BuiltIn(BuiltInRole::Owner) => Err(NotInheritable(key.to_owned())),
        _ => Ok(()),
    }
}

/// What a role extended from the parent grants in a child: what it grants
/// in the parent without what only owners hold.
pub fn inherited_permissions(granted: &PermissionSet) -> PermissionSet {
    granted.keys().filter(|key| !Permission::is_owner_only_key(key)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_one_level_deep_with_one_parent() {
        assert_eq!(check_link(LinkFacts::default()), Ok(()));
        let refused = |facts| check_link(facts).unwrap_err().code();
        assert_eq!(refused(LinkFacts { same_account: true, ..LinkFacts::default() }), "self_link");
        assert_eq!(refused(LinkFacts { child_has_parent: true, ..LinkFacts::default() }), "account_already_linked");
        assert_eq!(refused(LinkFacts { child_has_children: true, ..LinkFacts::default() }), "link_too_deep");
        assert_eq!(refused(LinkFacts { parent_has_parent: true, ..LinkFacts::default() }), "link_too_deep");
        assert_eq!(LinkStatus::parse("active"), Some(LinkStatus::Active));
        assert_eq!(LinkStatus::parse("gone"), None);
    }

    #[test]
    fn owner_is_not_inherited_and_nothing_owner_only_is() {
        assert!(check_inheritable("owner", &RoleKind::BuiltIn(BuiltInRole::Owner)).is_err());
        assert!(check_inheritable("administrator", &RoleKind::BuiltIn(BuiltInRole::Administrator)).is_ok());
        let granted: PermissionSet = ["members:read", "account:delete", "linked_accounts:manage"].into_iter().collect();
        let kept = inherited_permissions(&granted);
        assert!(kept.contains(Permission::MembersRead));
        assert!(!kept.contains(Permission::AccountDelete) && !kept.contains(Permission::LinkedAccountsManage));
    }
}
