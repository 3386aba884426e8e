//! Built-in roles and the rules about handing roles out and taking them
//! away. What a role grants is the catalogue's business
//! ([`crate::Catalogue::role_permissions`]).

use crate::permission::{Permission, PermissionSet};

/// The roles every account has, with permissions derived from the catalogue
/// rather than stored, so that a permission added to the catalogue reaches
/// every owner and administrator without a data migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BuiltInRole {
    Owner,
    Administrator,
}

impl BuiltInRole {
    pub const ALL: &'static [BuiltInRole] = &[BuiltInRole::Owner, BuiltInRole::Administrator];

    pub fn key(self) -> &'static str {
        match self {
            BuiltInRole::Owner => "owner",
            BuiltInRole::Administrator => "administrator",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|role| role.key() == key)
    }

    pub fn name(self) -> &'static str {
        match self {
            BuiltInRole::Owner => "Owner",
            BuiltInRole::Administrator => "Administrator",
        }
    }
}

/// The most roles one member holds (account-wide and in groups together),
/// however they get them: assignment, invitation, spreadsheet or join
/// approval.
pub const MAX_ROLES_PER_MEMBER: usize = 50;

/// More roles than [`MAX_ROLES_PER_MEMBER`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a member holds at most {MAX_ROLES_PER_MEMBER} roles")]
pub struct TooManyRoles;

pub fn check_role_count(count: usize) -> Result<(), TooManyRoles> {
    if count <= MAX_ROLES_PER_MEMBER { Ok(()) } else { Err(TooManyRoles) }
}

/// A grant refused for escalation: it carries `permission`, which the
/// grantor lacks where the grant would apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("granting needs {permission:?}, which the grantor does not hold where it would apply")]
pub struct GrantRefused {
    pub permission: String,
}

/// No escalation: a grantor may hand out a role (by assignment, invitation,
/// spreadsheet, join approval or role edit) only if they already hold every
/// permission it carries where it applies.
pub fn check_grant(grantor: &PermissionSet, offered: &PermissionSet) -> Result<(), GrantRefused> {
    match grantor.missing_from(offered).first() {
        None => Ok(()),
        Some(permission) => Err(GrantRefused { permission: (*permission).to_owned() }),
    }
}

/// Owners are removed or demoted only by someone who may make owners:
/// otherwise an administrator could take the account from its owners.
pub fn may_remove(remover: &PermissionSet, target_is_owner: bool) -> bool {
    !target_is_owner || remover.contains(Permission::OwnershipTransfer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Catalogue;
    use proptest::prelude::*;

    #[test]
    fn administrators_cannot_create_or_remove_owners() {
        let catalogue = Catalogue::roster_only();
        let admin = catalogue.built_in(BuiltInRole::Administrator);
        let owner = catalogue.built_in(BuiltInRole::Owner);
        assert!(check_grant(&admin, &admin).is_ok());
        assert_eq!(check_grant(&admin, &owner).unwrap_err().permission, "account:delete");
        assert!(check_grant(&owner, &owner).is_ok());
        assert!(!may_remove(&admin, true));
        assert!(may_remove(&admin, false));
        assert!(may_remove(&owner, true));
    }

    fn any_set() -> impl Strategy<Value = PermissionSet> {
        proptest::sample::subsequence(Permission::ALL.to_vec(), 0..Permission::ALL.len())
            .prop_map(|p| p.into_iter().collect())
    }

    proptest! {
        #[test]
        fn granting_never_adds_permissions_the_grantor_lacks(grantor in any_set(), role in any_set()) {
            match check_grant(&grantor, &role) {
                Ok(()) => prop_assert!(grantor.is_superset(&role)),
                Err(refused) => {
                    prop_assert!(role.contains_key(&refused.permission));
                    prop_assert!(!grantor.contains_key(&refused.permission));
                }
            }
        }

        #[test]
        fn a_chain_of_grants_never_exceeds_its_origin(origin in any_set(), first in any_set(), second in any_set()) {
            // Whoever received a role can pass on only what they received.
            if check_grant(&origin, &first).is_ok() && check_grant(&first, &second).is_ok() {
                prop_assert!(origin.is_superset(&second));
            }
        }

        #[test]
        fn the_role_cap_is_inclusive(count in 0usize..200) {
            prop_assert_eq!(check_role_count(count).is_ok(), count <= MAX_ROLES_PER_MEMBER);
        }
    }
}
