//! A SCIM User (RFC 7643 §4.1) as Roster keeps what a directory writes:
//! `userName` is the person's email, names, `displayName`, `externalId`
//! and `active`. `emails` mirrors `userName` and `groups` is Roster's, so
//! both are read-only here; other attributes (title, phone numbers, the
//! enterprise extension, …) are not kept and are ignored when written.

use serde_json::Value;

use super::filter::PatchPath;
use super::patch::{self, OpKind, PatchOp};
use super::{Refusal, ScimType, boolean, get, in_core, text};
use crate::{Email, PersonName};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAttributes {
    /// The person's email: Roster's users are known by it.
    pub user_name: Email,
    pub external_id: Option<String>,
    pub given_name: Option<PersonName>,
    pub family_name: Option<PersonName>,
    pub display_name: Option<String>,
    pub active: bool,
}

fn invalid(detail: impl Into<String>) -> Refusal {
    Refusal::new(ScimType::InvalidValue, detail)
}

fn user_name(value: &Value) -> Result<Email, Refusal> {
    let raw = value.as_str().ok_or_else(|| invalid("userName is a string"))?;
    Email::parse(raw).map_err(|_| invalid("userName is the person's email address, like ada@example.com"))
}

fn person_name(attribute: &str, value: &Value) -> Result<Option<PersonName>, Refusal> {
    text(attribute, value)?
        .map(|raw| PersonName::parse(&raw).map_err(|e| invalid(format!("{attribute}: {}", e.message))))
        .transpose()
}

fn display_name(value: &Value) -> Result<Option<String>, Refusal> {
    let name = text("displayName", value)?;
    if name.as_deref().is_some_and(|name| name.chars().any(char::is_control)) {
        return Err(invalid("displayName cannot contain control characters"));
    }
    Ok(name)
}

fn external_id(value: &Value) -> Result<Option<String>, Refusal> {
    let id = text("externalId", value)?;
    if id.as_deref().is_some_and(|id| id.chars().any(char::is_control)) {
        return Err(invalid("externalId cannot contain control characters"));
    }
    Ok(id)
}

impl UserAttributes {
    /// A user as a POST or PUT body describes it: `userName` is required,
    /// `active` is true unless it says otherwise, and what Roster does not
    /// keep is ignored.
    pub fn from_resource(body: &Value) -> Result<Self, Refusal> {
        let object =
            body.as_object().ok_or_else(|| Refusal::new(ScimType::InvalidSyntax, "a User is a JSON object"))?;
        let name = get(object, "userName").ok_or_else(|| invalid("userName is required"))?;
        let mut user = UserAttributes {
            user_name: user_name(name)?,
            external_id: None,
            given_name: None,
            family_name: None,
            display_name: None,
            active: true,
        };
        for (key, value) in object {
            // Keys that are no attribute path are nothing Roster keeps.
            if let Ok(path) = super::filter::parse_path(key) {
                user.apply(OpKind::Replace, &path, Some(value))?;
            }
        }
        Ok(user)
    }

    /// This user with a PATCH's operations applied in order; the first
    /// refused operation refuses them all.
    pub fn patched(&self, ops: &[PatchOp]) -> Result<Self, Refusal> {
        let mut user = self.clone();
        for op in ops {
            match &op.path {
                Some(path) => user.apply(op.kind, path, op.value.as_ref())?,
                None => {
                    for (path, value) in patch::per_attribute(op)? {
                        user.apply(op.kind, &path, Some(value))?;
                    }
                }
            }
        }
        Ok(user)
    }

    /// Refuses changing what a directory may set only when it creates the
    /// user: `userName` is the person's email, which they change
    /// themselves (RFC 7643's `immutable`).
    pub fn check_replaces(&self, before: &UserAttributes) -> Result<(), Refusal> {
        if self.user_name != before.user_name {
            return Err(Refusal::new(
                ScimType::Mutability,
                "userName is the person's email here and cannot be changed by the directory",
            ));
        }
        Ok(())
    }

    fn apply(&mut self, kind: OpKind, path: &PatchPath, value: Option<&Value>) -> Result<(), Refusal> {
        if !in_core(path.attr.urn.as_deref(), USER_SCHEMA) {
            return Ok(());
        }
        let name = path.attr.name.to_ascii_lowercase();
        let sub = path.sub().map(str::to_ascii_lowercase);
        let kept = ["username", "externalid", "displayname", "active", "name"].contains(&name.as_str());
        if kept && path.filter.is_some() {
            return Err(Refusal::new(ScimType::InvalidPath, format!("{} is single-valued", path.attr.name)));
        }
        let removing = kind == OpKind::Remove;
        let value = if removing { &Value::Null } else { value.unwrap_or(&Value::Null) };
        match (name.as_str(), sub.as_deref()) {
            ("username", None) if removing => return Err(Refusal::new(ScimType::Mutability, "userName is required")),
            ("username", None) => self.user_name = user_name(value)?,
            ("externalid", None) => self.external_id = external_id(value)?,
            ("displayname", None) => self.display_name = display_name(value)?,
            ("active", None) if removing => return Err(invalid("active is true or false")),
            // A null `active` in a whole resource is "unchanged".
            ("active", None) if value.is_null() => {}
            ("active", None) => self.active = boolean(value).ok_or_else(|| invalid("active is true or false"))?,
            ("name", Some("givenname")) => self.given_name = person_name("name.givenName", value)?,
            ("name", Some("familyname")) => self.family_name = person_name("name.familyName", value)?,
            ("name", None) if removing || value.is_null() => (self.given_name, self.family_name) = (None, None),
            ("name", None) => {
                let parts = value.as_object().ok_or_else(|| invalid("name is an object"))?;
                for (part, part_value) in parts {
                    let sub = PatchPath {
                        attr: super::filter::AttrPath { urn: None, name: "name".into(), sub: Some(part.clone()) },
                        filter: None,
                        sub: None,
                    };
                    self.apply(kind, &sub, Some(part_value))?;
                }
            }
            // `name.formatted`, `emails` (userName's mirror), `groups`
            // (Roster's), `id`, `meta`, `schemas`, and everything else.
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn okta_user() -> Value {
        // Okta's "Create User" request (developer.okta.com, SCIM 2.0 guide).
        json!({
            "schemas": [USER_SCHEMA],
            "userName": "test.user@okta.local",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
            "displayName": "Test User",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq",
            "active": true
        })
    }

    #[test]
    fn an_okta_user_is_read_as_roster_keeps_it() {
        let user = UserAttributes::from_resource(&okta_user()).unwrap();
        assert_eq!(user.user_name.as_str(), "test.user@okta.local");
        assert_eq!(user.given_name.unwrap().as_str(), "Test");
        assert_eq!(user.family_name.unwrap().as_str(), "User");
        assert_eq!(user.display_name.as_deref(), Some("Test User"));
        assert_eq!(user.external_id.as_deref(), Some("00ujl29u0le5T6Aj10h7"));
        assert!(user.active);
    }

    #[test]
    fn an_entra_user_with_its_extension_and_string_booleans() {
        // Entra ID's "Create User" request (learn.microsoft.com, SCIM
        // provisioning tutorial), with `active` as Entra sometimes sends it.
        let entra = json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com",
            "active": "True",
            "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@contoso.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": [],
            ENTERPRISE_USER_SCHEMA: {"department": "Sales", "manager": {"value": "x"}}
        });
        let user = UserAttributes::from_resource(&entra).unwrap();
        assert!(user.user_name.as_str().starts_with("test_user_ab6490ee"));
        assert_eq!(user.family_name.unwrap().as_str(), "familyName");
        assert!(user.active);
    }

    #[test]
    fn entra_patches_with_capitalised_ops_value_paths_and_string_booleans() {
        let user = UserAttributes::from_resource(&okta_user()).unwrap();
        let body = json!({
            "schemas": [patch::PATCH_SCHEMA],
            "Operations": [
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
                {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Finance"},
                {"op": "Replace", "path": "active", "value": "False"}
            ]
        });
        let patched = user.patched(&patch::parse(&body).unwrap()).unwrap();
        assert_eq!(patched.family_name.unwrap().as_str(), "updatedFamilyName");
        assert!(!patched.active);
        assert_eq!(patched.user_name, user.user_name);
    }

    #[test]
    fn okta_patches_without_a_path() {
        let user = UserAttributes::from_resource(&okta_user()).unwrap();
        let body = json!({"schemas": [patch::PATCH_SCHEMA], "Operations": [
            {"op": "replace", "value": {"active": false, "name": {"givenName": "Ada"}, "name.familyName": "Lovelace"}}
        ]});
        let patched = user.patched(&patch::parse(&body).unwrap()).unwrap();
        assert!(!patched.active);
        assert_eq!(patched.given_name.unwrap().as_str(), "Ada");
        assert_eq!(patched.family_name.unwrap().as_str(), "Lovelace");
    }

    #[test]
    fn bad_values_and_changes_are_refused_by_kind() {
        let user = UserAttributes::from_resource(&okta_user()).unwrap();
        let kind = |operation: Value| {
            let ops = patch::parse(&json!({"Operations": [operation]})).unwrap();
            user.patched(&ops).unwrap_err().scim_type
        };
        assert_eq!(kind(json!({"op": "replace", "path": "active", "value": "maybe"})), ScimType::InvalidValue);
        assert_eq!(kind(json!({"op": "remove", "path": "userName"})), ScimType::Mutability);
        assert_eq!(kind(json!({"op": "replace", "path": "userName", "value": "not an email"})), ScimType::InvalidValue);
        assert_eq!(kind(json!({"op": "replace", "path": "name[x eq 1]", "value": "a"})), ScimType::InvalidPath);
        let renamed = json!({"Operations": [{"op": "replace", "path": "userName", "value": "other@okta.local"}]});
        let renamed = user.patched(&patch::parse(&renamed).unwrap()).unwrap();
        assert_eq!(renamed.check_replaces(&user).unwrap_err().scim_type, ScimType::Mutability);
        let missing = UserAttributes::from_resource(&json!({"name": {"givenName": "A"}})).unwrap_err();
        assert_eq!(missing.scim_type, ScimType::InvalidValue);
    }

    #[test]
    fn removing_names_and_the_external_id_clears_them() {
        let user = UserAttributes::from_resource(&okta_user()).unwrap();
        let body = json!({"Operations": [
            {"op": "remove", "path": "name.givenName"}, {"op": "remove", "path": "externalId"}
        ]});
        let patched = user.patched(&patch::parse(&body).unwrap()).unwrap();
        assert_eq!((patched.given_name, patched.external_id), (None, None));
        assert!(patched.family_name.is_some());
    }
}
