//! The permission catalogue: Roster's own permissions plus the application
//! permissions and template roles a deployment declares, validated once at
//! start-up so that every role and check afterwards speaks of known keys.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::InvalidValue;
use crate::permission::{Permission, PermissionSet, check_key};
use crate::role::BuiltInRole;

/// One permission as published in `GET /v1/permissions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueEntry {
    pub key: String,
    pub description: String,
    /// Holding it amounts to administering the account.
    pub administrator_equivalent: bool,
    /// Declared by the deployment for its own product, not used by Roster.
    pub application: bool,
}

/// A role every account has, defined by the deployment (Developer, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRole {
    pub key: String,
    pub name: String,
    pub description: String,
    pub permissions: PermissionSet,
}

/// The deployment's declarations, as written in its permissions file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueDefinition {
    #[serde(default)]
    pub permissions: Vec<PermissionDefinition>,
    #[serde(default)]
    pub roles: Vec<RoleDefinition>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionDefinition {
    pub key: String,
    pub description: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleDefinition {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    entries: Vec<CatalogueEntry>,
    templates: Vec<TemplateRole>,
}

/// Checks a role key: lower-case letters, digits, `_` and `-`, 1 to 64.
pub fn check_role_key(key: &str) -> Result<(), InvalidValue> {
    let valid = (1..=64).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(InvalidValue::new(
            "invalid_role_key",
            format!("{key:?} is not a role key: use lower-case letters, digits, _ and -."),
        ))
    }
}

impl Catalogue {
    /// Roster's permissions alone, no application permissions or templates.
    pub fn roster_only() -> Self {
        Self::new(CatalogueDefinition::default()).unwrap_or_else(|_| unreachable!("the empty definition is valid"))
    }

    pub fn new(definition: CatalogueDefinition) -> Result<Self, InvalidValue> {
        let mut entries: Vec<CatalogueEntry> = Permission::ALL
            .iter()
            .map(|p| CatalogueEntry {
                key: p.key().to_owned(),
                description: p.description().to_owned(),
                administrator_equivalent: p.is_administrator_equivalent(),
                application: false,
            })
            .collect();
        let mut keys: BTreeSet<String> = entries.iter().map(|e| e.key.clone()).collect();
        for permission in definition.permissions {
            check_key(&permission.key)?;
            if !keys.insert(permission.key.clone()) {
                return Err(InvalidValue::new(
                    "duplicate_permission",
                    format!("Permission {:?} is declared twice or is Roster's own.", permission.key),
                ));
            }
            entries.push(CatalogueEntry {
                key: permission.key,
                description: permission.description,
                administrator_equivalent: false,
                application: true,
            });
        }
        let mut templates = Vec::new();
        let mut role_keys: BTreeSet<String> = BuiltInRole::ALL.iter().map(|r| r.key().to_owned()).collect();
        for role in definition.roles {
            check_role_key(&role.key)?;
            if !role_keys.insert(role.key.clone()) {
                return Err(InvalidValue::new(
                    "duplicate_role",
                    format!("Role {:?} is declared twice or is built in.", role.key),
                ));
            }
            if let Some(unknown) = role.permissions.iter().find(|key| !keys.contains(*key)) {
                return Err(InvalidValue::new(
                    "unknown_permission",
                    format!("Role {:?} grants the undeclared permission {unknown:?}.", role.key),
                ));
            }
            templates.push(TemplateRole {
                key: role.key,
                name: role.name,
                description: role.description,
                permissions: role.permissions.into_iter().collect(),
            });
        }
        Ok(Self { entries, templates })
    }

    pub fn entries(&self) -> &[CatalogueEntry] {
        &self.entries
    }

    pub fn templates(&self) -> &[TemplateRole] {
        &self.templates
    }

    pub fn template(&self, key: &str) -> Option<&TemplateRole> {
        self.templates.iter().find(|template| template.key == key)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.entries.iter().any(|entry| entry.key == key)
    }

    /// Every permission: what an owner holds.
    pub fn all(&self) -> PermissionSet {
        self.entries.iter().map(|entry| entry.key.clone()).collect()
    }

    pub fn built_in(&self, role: BuiltInRole) -> PermissionSet {
        match role {
            BuiltInRole::Owner => self.all(),
            BuiltInRole::Administrator => self
                .entries
                .iter()
                .filter(|entry| !Permission::is_owner_only_key(&entry.key))
                .map(|entry| entry.key.clone())
                .collect(),
        }
    }

    /// What a held role grants. Keys the catalogue no longer declares grant
    /// nothing, so removing an application permission from the file revokes
    /// it everywhere.
    pub fn role_permissions(&self, role: &HeldRole) -> PermissionSet {
        match &role.kind {
            RoleKind::BuiltIn(built_in) => self.built_in(*built_in),
            RoleKind::Template => self.template(&role.key).map(|t| t.permissions.clone()).unwrap_or_default(),
            RoleKind::Custom(stored) => stored.keys().filter(|key| self.contains(key)).collect(),
        }
    }

    /// Whether the roles that apply in `scope` grant `key`: the same answer
    /// as `effective(..).contains_key(key)` without building the set.
    pub fn holds(&self, roles: &[HeldRole], scope: Option<uuid::Uuid>, key: &str) -> bool {
        if !self.contains(key) {
            return false;
        }
        roles.iter().filter(|role| role.group.is_none() || role.group == scope).any(|role| match &role.kind {
            RoleKind::BuiltIn(BuiltInRole::Owner) => true,
            RoleKind::BuiltIn(BuiltInRole::Administrator) => !Permission::is_owner_only_key(key),
            RoleKind::Template => self.template(&role.key).is_some_and(|t| t.permissions.contains_key(key)),
            RoleKind::Custom(stored) => stored.contains_key(key),
        })
    }

    /// The union of the permissions of the roles that apply in `scope`:
    /// account-wide roles always, group-scoped roles only inside their group.
    pub fn effective(&self, roles: &[HeldRole], scope: Option<uuid::Uuid>) -> PermissionSet {
        let mut effective = PermissionSet::default();
        for role in roles.iter().filter(|role| role.group.is_none() || role.group == scope) {
            effective.extend(&self.role_permissions(role));
        }
        effective
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleKind {
    BuiltIn(BuiltInRole),
    Template,
    /// An account's own role, with the permissions stored for it.
    Custom(PermissionSet),
}

/// A role as one member holds it: account-wide, or inside one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldRole {
    pub key: String,
    pub kind: RoleKind,
    pub group: Option<uuid::Uuid>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn definition() -> CatalogueDefinition {
        CatalogueDefinition {
            permissions: vec![
                PermissionDefinition { key: "certifications:apply".into(), description: "Apply.".into() },
                PermissionDefinition { key: "badges:request".into(), description: "Request.".into() },
            ],
            roles: vec![RoleDefinition {
                key: "developer".into(),
                name: "Developer".into(),
                description: String::new(),
                permissions: vec!["certifications:apply".into(), "badges:request".into()],
            }],
        }
    }

    fn held(key: &str, kind: RoleKind, group: Option<uuid::Uuid>) -> HeldRole {
        HeldRole { key: key.into(), kind, group }
    }

    #[test]
    fn owners_and_administrators_hold_application_permissions() {
        let catalogue = Catalogue::new(definition()).unwrap();
        assert!(catalogue.built_in(BuiltInRole::Owner).contains_key("certifications:apply"));
        let admin = catalogue.built_in(BuiltInRole::Administrator);
        assert!(admin.contains_key("badges:request"));
        assert!(!admin.contains(Permission::OwnershipTransfer));
    }

    #[test]
    fn invalid_declarations_are_refused() {
        let mut duplicate = definition();
        duplicate.permissions.push(PermissionDefinition { key: "members:read".into(), description: String::new() });
        assert_eq!(Catalogue::new(duplicate).unwrap_err().code, "duplicate_permission");
        let mut unknown = definition();
        unknown.roles[0].permissions.push("rockets:launch".into());
        assert_eq!(Catalogue::new(unknown).unwrap_err().code, "unknown_permission");
        let mut built_in = definition();
        built_in.roles[0].key = "owner".into();
        assert_eq!(Catalogue::new(built_in).unwrap_err().code, "duplicate_role");
        let mut bad_key = definition();
        bad_key.permissions[0].key = "Certifications".into();
        assert!(Catalogue::new(bad_key).is_err());
    }

    #[test]
    fn group_roles_apply_only_inside_their_group() {
        let catalogue = Catalogue::new(definition()).unwrap();
        let (group, other) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        let roles = [held("administrator", RoleKind::BuiltIn(BuiltInRole::Administrator), Some(group))];
        assert!(catalogue.effective(&roles, None).is_empty());
        assert!(catalogue.effective(&roles, Some(other)).is_empty());
        assert!(catalogue.effective(&roles, Some(group)).contains(Permission::MembersManage));
    }

    #[test]
    fn undeclared_custom_permissions_grant_nothing() {
        let catalogue = Catalogue::new(definition()).unwrap();
        let stored: PermissionSet = ["badges:request", "retired:thing"].into_iter().collect();
        let granted = catalogue.role_permissions(&held("custom", RoleKind::Custom(stored), None));
        assert_eq!(granted.keys().collect::<Vec<_>>(), ["badges:request"]);
    }

    fn any_role() -> impl Strategy<Value = HeldRole> {
        let group =
            proptest::option::of(proptest::sample::select(vec![uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2)]));
        let kind = prop_oneof![
            Just(RoleKind::BuiltIn(BuiltInRole::Owner)),
            Just(RoleKind::BuiltIn(BuiltInRole::Administrator)),
            Just(RoleKind::Template),
            proptest::sample::subsequence(
                vec!["certifications:apply", "badges:request", "members:read", "roles:manage"],
                0..4
            )
            .prop_map(|keys| RoleKind::Custom(keys.into_iter().collect())),
        ];
        (kind, group).prop_map(|(kind, group)| HeldRole { key: "developer".into(), kind, group })
    }

    proptest! {
        #[test]
        fn effective_permissions_are_the_union_of_applicable_roles(roles in proptest::collection::vec(any_role(), 0..5), scope in proptest::option::of(Just(uuid::Uuid::from_u128(1)))) {
            let catalogue = Catalogue::new(definition()).unwrap();
            let effective = catalogue.effective(&roles, scope);
            for entry in catalogue.entries() {
                let expected = roles.iter()
                    .filter(|role| role.group.is_none() || role.group == scope)
                    .any(|role| catalogue.role_permissions(role).contains_key(&entry.key));
                prop_assert_eq!(effective.contains_key(&entry.key), expected);
            }
            for entry in catalogue.entries() {
                prop_assert_eq!(catalogue.holds(&roles, scope, &entry.key), effective.contains_key(&entry.key));
            }
            prop_assert!(!catalogue.holds(&roles, scope, "rockets:launch"));
            // Adding a scope never removes account-wide permissions.
            prop_assert!(catalogue.effective(&roles, scope).is_superset(&catalogue.effective(&roles, None)));
        }
    }
}
