//! PATCH requests (RFC 7644 §3.5.2): a list of operations, each applied in
//! order, all or none.

use serde_json::Value;

use super::filter::{self, PatchPath};
use super::{Refusal, ScimType, get};

pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The most operations one request may carry.
pub const MAX_OPERATIONS: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Remove,
    Replace,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub kind: OpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

/// The operations of a PATCH body. `op` in any case (`"Replace"`, as
/// Entra ID sends it); `remove` needs a path (`noTarget`), `add` and
/// `replace` a value.
pub fn parse(body: &Value) -> Result<Vec<PatchOp>, Refusal> {
    let syntax = |detail: &str| Refusal::new(ScimType::InvalidSyntax, detail);
    let object = body.as_object().ok_or_else(|| syntax("a PATCH body is a JSON object"))?;
    let operations = get(object, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| syntax("a PATCH body has an Operations array"))?;
    if operations.is_empty() || operations.len() > MAX_OPERATIONS {
        return Err(syntax(&format!("a PATCH has 1 to {MAX_OPERATIONS} operations")));
    }
    operations.iter().map(operation).collect()
}

fn operation(raw: &Value) -> Result<PatchOp, Refusal> {
    let syntax = |detail: &str| Refusal::new(ScimType::InvalidSyntax, detail);
    let object = raw.as_object().ok_or_else(|| syntax("each operation is a JSON object"))?;
    let op = get(object, "op").and_then(Value::as_str).unwrap_or_default();
    let kind = match op.to_ascii_lowercase().as_str() {
        "add" => OpKind::Add,
        "remove" => OpKind::Remove,
        "replace" => OpKind::Replace,
        _ => return Err(syntax("op is add, remove or replace")),
    };
    let path = match get(object, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.trim().is_empty() => None,
        Some(Value::String(text)) => Some(
            filter::parse_path(text.trim()).map_err(|e| Refusal::new(ScimType::InvalidPath, format!("path: {e}")))?,
        ),
        Some(_) => return Err(Refusal::new(ScimType::InvalidPath, "path is a string")),
    };
    let value = get(object, "value").cloned();
    match (kind, &path, &value) {
        (OpKind::Remove, None, _) => Err(Refusal::new(ScimType::NoTarget, "remove needs a path")),
        (OpKind::Add | OpKind::Replace, _, None) => {
            Err(Refusal::new(ScimType::InvalidValue, "add and replace need a value"))
        }
        (OpKind::Add | OpKind::Replace, None, Some(value)) if !value.is_object() => {
            Err(Refusal::new(ScimType::InvalidValue, "without a path, the value is an object of attributes"))
        }
        _ => Ok(PatchOp { kind, path, value }),
    }
}

/// An operation without a path, one per attribute of its value: `{"op":
/// "replace", "value": {"active": false}}` is `active` set to false.
pub fn per_attribute(op: &PatchOp) -> Result<Vec<(PatchPath, &Value)>, Refusal> {
    let Some(Value::Object(attributes)) = &op.value else { return Ok(Vec::new()) };
    attributes
        .iter()
        .map(|(name, value)| {
            let path = filter::parse_path(name)
                .map_err(|e| Refusal::new(ScimType::InvalidPath, format!("attribute {name:?}: {e}")))?;
            Ok((path, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn entra_and_okta_operations_parse() {
        let entra = json!({
            "schemas": [PATCH_SCHEMA],
            "Operations": [
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "ada@example.com"},
                {"op": "Remove", "path": "members", "value": [{"value": "1"}]}
            ]
        });
        let ops = parse(&entra).unwrap();
        assert_eq!(ops.iter().map(|op| op.kind).collect::<Vec<_>>(), [OpKind::Replace, OpKind::Add, OpKind::Remove]);
        assert_eq!(ops[1].path.as_ref().unwrap().sub(), Some("value"));
        let okta = json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "value": {"active": false}}]});
        let ops = parse(&okta).unwrap();
        let attributes = per_attribute(&ops[0]).unwrap();
        assert_eq!(attributes.len(), 1);
        assert!(attributes[0].0.attr.matches("active", None));
    }

    #[test]
    fn malformed_operations_say_what_is_wrong() {
        let kind = |body: Value| parse(&body).unwrap_err().scim_type;
        assert_eq!(kind(json!([])), ScimType::InvalidSyntax);
        assert_eq!(kind(json!({"Operations": []})), ScimType::InvalidSyntax);
        assert_eq!(kind(json!({"Operations": [{"op": "move", "path": "a"}]})), ScimType::InvalidSyntax);
        assert_eq!(kind(json!({"Operations": [{"op": "remove"}]})), ScimType::NoTarget);
        assert_eq!(kind(json!({"Operations": [{"op": "add", "path": "a"}]})), ScimType::InvalidValue);
        assert_eq!(kind(json!({"Operations": [{"op": "add", "value": 3}]})), ScimType::InvalidValue);
        assert_eq!(kind(json!({"Operations": [{"op": "add", "path": "a[", "value": 1}]})), ScimType::InvalidPath);
    }
}
