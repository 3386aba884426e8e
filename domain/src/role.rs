use crate::permission::{Permission, PermissionSet};

/// The roles every account has. Their permissions are defined here rather
/// than stored, so that a permission added to the catalogue reaches every
/// owner and administrator without a data migration.
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

    pub fn permissions(self) -> PermissionSet {
        match self {
            BuiltInRole::Owner => Permission::ALL.iter().copied().collect(),
            BuiltInRole::Administrator => Permission::ALL
                .iter()
                .copied()
                .filter(|p| !matches!(p, Permission::AccountDelete | Permission::OwnershipTransfer))
                .collect(),
        }
    }
}

/// A member's effective permissions: the union over the roles they hold.
/// Keys of roles this version does not know grant nothing.
pub fn effective_permissions<'a>(role_keys: impl IntoIterator<Item = &'a str>) -> PermissionSet {
    role_keys
        .into_iter()
        .filter_map(BuiltInRole::from_key)
        .flat_map(|role| role.permissions().iter().collect::<Vec<_>>())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn owner_holds_everything_and_administrator_all_but_ownership() {
        let owner = BuiltInRole::Owner.permissions();
        let admin = BuiltInRole::Administrator.permissions();
        assert!(Permission::ALL.iter().all(|p| owner.contains(*p)));
        assert!(owner.is_superset(&admin));
        assert!(!admin.contains(Permission::OwnershipTransfer));
        assert!(!admin.contains(Permission::AccountDelete));
        assert!(admin.contains(Permission::RolesManage));
    }

    #[test]
    fn no_roles_means_no_permissions() {
        assert_eq!(effective_permissions([]), PermissionSet::default());
        assert_eq!(effective_permissions(["no-such-role"]), PermissionSet::default());
    }

    proptest! {
        #[test]
        fn effective_permissions_are_the_union_of_roles(picks in proptest::collection::vec(0usize..2, 0..4)) {
            let keys: Vec<&str> = picks.iter().map(|i| BuiltInRole::ALL[*i].key()).collect();
            let effective = effective_permissions(keys.iter().copied());
            for permission in Permission::ALL {
                let expected = picks.iter().any(|i| BuiltInRole::ALL[*i].permissions().contains(*permission));
                prop_assert_eq!(effective.contains(*permission), expected);
            }
        }
    }
}

/// Owners are removed only by someone who may make owners: otherwise an
/// administrator could take the account from its owners.
pub fn may_remove(remover: &PermissionSet, target_roles: &[BuiltInRole]) -> bool {
    !target_roles.contains(&BuiltInRole::Owner) || remover.contains(Permission::OwnershipTransfer)
}

/// No escalation: a grantor may hand out a role only if they already hold
/// every permission it carries.
pub fn may_grant(grantor: &PermissionSet, role: BuiltInRole) -> bool {
    grantor.is_superset(&role.permissions())
}

#[cfg(test)]
mod escalation_tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn only_owners_remove_owners() {
        let admin = BuiltInRole::Administrator.permissions();
        assert!(!may_remove(&admin, &[BuiltInRole::Owner]));
        assert!(may_remove(&admin, &[BuiltInRole::Administrator]));
        assert!(may_remove(&BuiltInRole::Owner.permissions(), &[BuiltInRole::Owner]));
        assert!(may_remove(&PermissionSet::default(), &[]));
    }

    #[test]
    fn administrators_cannot_create_owners() {
        let admin = BuiltInRole::Administrator.permissions();
        assert!(may_grant(&admin, BuiltInRole::Administrator));
        assert!(!may_grant(&admin, BuiltInRole::Owner));
        assert!(may_grant(&BuiltInRole::Owner.permissions(), BuiltInRole::Owner));
    }

    proptest! {
        #[test]
        fn granting_never_adds_permissions_the_grantor_lacks(picks in proptest::collection::vec(0usize..2, 0..3), role in 0usize..2) {
            let grantor = effective_permissions(picks.iter().map(|i| BuiltInRole::ALL[*i].key()));
            let role = BuiltInRole::ALL[role];
            if may_grant(&grantor, role) {
                prop_assert!(role.permissions().iter().all(|p| grantor.contains(p)));
            }
        }
    }
}
