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

/// No escalation: a grantor may hand out a role only if they already hold
/// every permission it carries.
pub fn may_grant(grantor: &PermissionSet, role_permissions: &PermissionSet) -> bool {
    grantor.is_superset(role_permissions)
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
        assert!(may_grant(&admin, &admin));
        assert!(!may_grant(&admin, &owner));
        assert!(may_grant(&owner, &owner));
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
            if may_grant(&grantor, &role) {
                prop_assert!(grantor.missing_from(&role).is_empty());
            } else {
                prop_assert!(!grantor.missing_from(&role).is_empty());
            }
        }

        #[test]
        fn a_chain_of_grants_never_exceeds_its_origin(origin in any_set(), first in any_set(), second in any_set()) {
            // Whoever received a role can pass on only what they received.
            if may_grant(&origin, &first) && may_grant(&first, &second) {
                prop_assert!(origin.is_superset(&second));
            }
        }
    }
}
