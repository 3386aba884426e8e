//! What an account-scoped operation requires of its caller. Each route
//! declares one [`Requirement`] beside its handler; the guard enforces it
//! and the contract publishes it (`x-authorization`), so the two cannot
//! drift apart.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::plan::Feature;
use crate::{Catalogue, HeldRole, Permission};

/// Where the permission must be held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Account-wide.
    Account,
    /// Account-wide, or inside the group the path names (`{group_id}`).
    Group,
    /// Account-wide, or inside a group the member the path names
    /// (`{user_id}`) belongs to.
    MemberGroups,
    /// Account-wide or inside any group; the operation then checks each
    /// change where it applies.
    AnyGroup,
}

/// An operation's requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Requirement {
    /// `None`: any member of the account.
    pub permission: Option<Permission>,
    pub scope: Scope,
    /// A member acting about themselves (the operation's `user_id` is the
    /// caller's) needs no permission.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub self_allowed: bool,
    /// The plan feature the operation belongs to: without it in the
    /// account's plan, the answer is `plan_upgrade_required`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<Feature>,
}

impl Requirement {
    /// Any member of the account.
    pub const fn member() -> Self {
        Self { permission: None, scope: Scope::Account, self_allowed: false, feature: None }
    }

    pub const fn account(permission: Permission) -> Self {
        Self { permission: Some(permission), scope: Scope::Account, self_allowed: false, feature: None }
    }

    pub const fn in_group(permission: Permission) -> Self {
        Self { permission: Some(permission), scope: Scope::Group, self_allowed: false, feature: None }
    }

    pub const fn in_member_groups(permission: Permission) -> Self {
        Self { permission: Some(permission), scope: Scope::MemberGroups, self_allowed: false, feature: None }
    }

    pub const fn in_any_group(permission: Permission) -> Self {
        Self { permission: Some(permission), scope: Scope::AnyGroup, self_allowed: false, feature: None }
    }

    /// The same, for an operation of a plan feature.
    pub const fn needs(self, feature: Feature) -> Self {
        Self { feature: Some(feature), ..self }
    }

    /// The same, but a member acting about themselves needs nothing.
    pub const fn or_self(self) -> Self {
        Self { self_allowed: true, ..self }
    }

    /// Whether a member holding `roles` may call the operation on `target`.
    pub fn allows(&self, catalogue: &Catalogue, roles: &[HeldRole], target: &Target) -> bool {
        let Some(permission) = self.permission else { return true };
        if self.self_allowed && target.is_self {
            return true;
        }
        let key = permission.key();
        match self.scope {
            Scope::Account => catalogue.holds(roles, None, key),
            Scope::Group => catalogue.holds(roles, target.group, key),
            Scope::MemberGroups => {
                catalogue.holds(roles, None, key)
                    || target.member_groups.iter().any(|group| catalogue.holds(roles, Some(*group), key))
            }
            Scope::AnyGroup => roles.iter().any(|role| catalogue.holds(std::slice::from_ref(role), role.group, key)),
        }
    }
}

/// What an operation is about, as far as its requirement cares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// The group the path names.
    pub group: Option<Uuid>,
    /// The groups of the member the path names.
    pub member_groups: Vec<Uuid>,
    /// The operation is about the caller themselves.
    pub is_self: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BuiltInRole, RoleKind};

    fn admin_in(group: Option<Uuid>) -> Vec<HeldRole> {
        vec![HeldRole { key: "administrator".into(), kind: RoleKind::BuiltIn(BuiltInRole::Administrator), group }]
    }

    #[test]
    fn each_scope_admits_exactly_its_holders() {
        let catalogue = Catalogue::roster_only();
        let (inside, outside) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let group_admin = admin_in(Some(inside));
        let read = Permission::MembersRead;
        let at = |group: Option<Uuid>, member_groups: Vec<Uuid>| Target { group, member_groups, is_self: false };

        assert!(!Requirement::account(read).allows(&catalogue, &group_admin, &at(Some(inside), vec![inside])));
        assert!(Requirement::account(read).allows(&catalogue, &admin_in(None), &at(None, vec![])));
        assert!(Requirement::in_group(read).allows(&catalogue, &group_admin, &at(Some(inside), vec![])));
        assert!(!Requirement::in_group(read).allows(&catalogue, &group_admin, &at(Some(outside), vec![])));
        assert!(Requirement::in_member_groups(read).allows(&catalogue, &group_admin, &at(None, vec![outside, inside])));
        assert!(!Requirement::in_member_groups(read).allows(&catalogue, &group_admin, &at(None, vec![outside])));
        assert!(Requirement::in_any_group(read).allows(&catalogue, &group_admin, &at(None, vec![])));
        assert!(!Requirement::in_any_group(read).allows(&catalogue, &[], &at(None, vec![])));
        assert!(Requirement::member().allows(&catalogue, &[], &Target::default()));
        let about_me = Target { is_self: true, ..Target::default() };
        assert!(!Requirement::account(read).allows(&catalogue, &[], &about_me));
        assert!(Requirement::account(read).or_self().allows(&catalogue, &[], &about_me));
    }

    #[test]
    fn requirements_are_published_as_plain_json() {
        let published = serde_json::to_value(Requirement::in_group(Permission::GroupsManage)).unwrap();
        assert_eq!(published, serde_json::json!({"permission": "groups:manage", "scope": "group"}));
        let back: Requirement = serde_json::from_value(published).unwrap();
        assert_eq!(back, Requirement::in_group(Permission::GroupsManage));
        let mine = serde_json::to_value(Requirement::account(Permission::MembersRead).or_self()).unwrap();
        assert_eq!(mine["self_allowed"], true);
        assert_eq!(serde_json::to_value(Requirement::member()).unwrap()["permission"], serde_json::Value::Null);
    }
}
