//! A SCIM Group (RFC 7643 §4.2) as Roster keeps it: a Roster group, named
//! by `displayName`, with the directory's `externalId` and its `members`
//! (each the SCIM id of a user). Member operations are what directories
//! send most: add, remove by value filter, remove listed values (Entra
//! ID), remove all, replace all.

use serde_json::Value;

use super::eval;
use super::filter::PatchPath;
use super::patch::{self, OpKind, PatchOp};
use super::{Refusal, ScimType, get, in_core, text};
use crate::GroupName;

pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupAttributes {
    pub display_name: GroupName,
    pub external_id: Option<String>,
    /// Member ids in the order given, each once.
    pub members: Vec<String>,
}

fn invalid(detail: impl Into<String>) -> Refusal {
    Refusal::new(ScimType::InvalidValue, detail)
}

fn display_name(value: &Value) -> Result<GroupName, Refusal> {
    let raw = value.as_str().ok_or_else(|| invalid("displayName is a string"))?;
    GroupName::parse(raw).map_err(|e| invalid(format!("displayName: {}", e.message)))
}

/// The member ids in a `members` value: an array of `{"value": id}` (or
/// one such object).
fn member_ids(value: &Value) -> Result<Vec<String>, Refusal> {
    let one = |member: &Value| {
        member
            .as_object()
            .and_then(|object| get(object, "value"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| invalid("each member is an object with a value"))
    };
    match value {
        Value::Array(members) => members.iter().map(one).collect(),
        Value::Null => Ok(Vec::new()),
        member => Ok(vec![one(member)?]),
    }
}

impl GroupAttributes {
    /// A group as a POST or PUT body describes it.
    pub fn from_resource(body: &Value) -> Result<Self, Refusal> {
        let object =
            body.as_object().ok_or_else(|| Refusal::new(ScimType::InvalidSyntax, "a Group is a JSON object"))?;
        let name = get(object, "displayName").ok_or_else(|| invalid("displayName is required"))?;
        let mut group = GroupAttributes { display_name: display_name(name)?, external_id: None, members: Vec::new() };
        for (key, value) in object {
            if let Ok(path) = super::filter::parse_path(key) {
                group.apply(OpKind::Replace, &path, Some(value))?;
            }
        }
        Ok(group)
    }

    /// This group with a PATCH's operations applied in order.
    pub fn patched(&self, ops: &[PatchOp]) -> Result<Self, Refusal> {
        let mut group = self.clone();
        for op in ops {
            match &op.path {
                Some(path) => group.apply(op.kind, path, op.value.as_ref())?,
                None => {
                    for (path, value) in patch::per_attribute(op)? {
                        group.apply(op.kind, &path, Some(value))?;
                    }
                }
            }
        }
        Ok(group)
    }

    fn add_members(&mut self, ids: Vec<String>) {
        for id in ids {
            if !self.members.contains(&id) {
                self.members.push(id);
            }
        }
    }

    fn apply(&mut self, kind: OpKind, path: &PatchPath, value: Option<&Value>) -> Result<(), Refusal> {
        if !in_core(path.attr.urn.as_deref(), GROUP_SCHEMA) {
            return Ok(());
        }
        let name = path.attr.name.to_ascii_lowercase();
        let value = value.unwrap_or(&Value::Null);
        match (name.as_str(), kind) {
            ("displayname", OpKind::Remove) => {
                return Err(Refusal::new(ScimType::Mutability, "displayName is required"));
            }
            ("displayname", _) => self.display_name = display_name(value)?,
            ("externalid", OpKind::Remove) => self.external_id = None,
            ("externalid", _) => self.external_id = text("externalId", value)?,
            ("members", _) if path.sub().is_some() => {
                return Err(Refusal::new(ScimType::InvalidPath, "members are added or removed whole"));
            }
            ("members", OpKind::Remove) => match &path.filter {
                Some(filter) => self
                    .members
                    .retain(|id| !eval::matches(filter, &serde_json::json!({"value": id}), eval::CASE_EXACT)),
                // Entra ID names the members to remove in the value;
                // without one, every member goes (RFC 7644 §3.5.2.2).
                None if !value.is_null() => {
                    let gone = member_ids(value)?;
                    self.members.retain(|id| !gone.contains(id));
                }
                None => self.members.clear(),
            },
            ("members", _) if path.filter.is_some() => {
                return Err(Refusal::new(ScimType::InvalidPath, "members are added or replaced without a filter"));
            }
            ("members", OpKind::Add) => self.add_members(member_ids(value)?),
            ("members", OpKind::Replace) => {
                self.members.clear();
                self.add_members(member_ids(value)?);
            }
            // `id`, `meta`, `schemas`, and what Roster does not keep.
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn group() -> GroupAttributes {
        let body = json!({
            "schemas": [GROUP_SCHEMA], "displayName": "Sales", "externalId": "8aa1a0c0",
            "members": [{"value": "u1"}, {"value": "u2"}, {"value": "u3"}]
        });
        GroupAttributes::from_resource(&body).unwrap()
    }

    fn patched(operations: Value) -> Result<GroupAttributes, Refusal> {
        group().patched(&patch::parse(&json!({"schemas": [patch::PATCH_SCHEMA], "Operations": operations})).unwrap())
    }

    #[test]
    fn a_group_is_read_with_its_members() {
        let group = group();
        assert_eq!(group.display_name.as_str(), "Sales");
        assert_eq!(group.members, ["u1", "u2", "u3"]);
    }

    #[test]
    fn members_are_added_and_removed_as_okta_and_entra_send_it() {
        // Okta: add, and remove through a value filter path.
        let okta = patched(json!([
            {"op": "add", "path": "members", "value": [{"value": "u4", "display": "d@x"}, {"value": "u1"}]},
            {"op": "remove", "path": "members[value eq \"u2\"]"}
        ]))
        .unwrap();
        assert_eq!(okta.members, ["u1", "u3", "u4"]);
        // Entra ID: capitalised ops, removal listing the values.
        let entra = patched(json!([{"op": "Remove", "path": "members", "value": [{"value": "u1"}, {"value": "u3"}]}]));
        assert_eq!(entra.unwrap().members, ["u2"]);
        // Every member, and a replacement of all.
        assert!(patched(json!([{"op": "remove", "path": "members"}])).unwrap().members.is_empty());
        let all = patched(json!([{"op": "replace", "path": "members", "value": [{"value": "u9"}]}])).unwrap();
        assert_eq!(all.members, ["u9"]);
    }

    #[test]
    fn renames_with_and_without_a_path() {
        let okta = patched(json!([{"op": "replace", "value": {"id": "g1", "displayName": "Sales EMEA"}}])).unwrap();
        assert_eq!(okta.display_name.as_str(), "Sales EMEA");
        let entra = patched(json!([{"op": "Replace", "path": "displayName", "value": "Sales APAC"}])).unwrap();
        assert_eq!(entra.display_name.as_str(), "Sales APAC");
        assert_eq!(entra.members, group().members);
    }

    #[test]
    fn refusals() {
        let kind = |ops: Value| patched(ops).unwrap_err().scim_type;
        assert_eq!(kind(json!([{"op": "remove", "path": "displayName"}])), ScimType::Mutability);
        assert_eq!(kind(json!([{"op": "add", "path": "members", "value": [{"nope": 1}]}])), ScimType::InvalidValue);
        assert_eq!(kind(json!([{"op": "replace", "path": "displayName", "value": ""}])), ScimType::InvalidValue);
        assert_eq!(kind(json!([{"op": "add", "path": "members.value", "value": "u1"}])), ScimType::InvalidPath);
        let missing = GroupAttributes::from_resource(&json!({"members": []})).unwrap_err();
        assert_eq!(missing.scim_type, ScimType::InvalidValue);
    }
}
