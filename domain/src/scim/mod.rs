//! SCIM 2.0 (RFC 7643 schema, RFC 7644 protocol), with no IO: the
//! resources a directory writes as Roster keeps them, PATCH operations
//! applied to them, and filters parsed and evaluated. What directories
//! really send is accepted: attribute names and operations in any case,
//! booleans as strings, attributes Roster does not keep (ignored, as
//! RFC 7643 §2.2 allows for attributes a provider does not support).

pub mod eval;
pub mod filter;
pub mod group;
pub mod patch;
pub mod projection;
pub mod user;

use serde_json::{Map, Value};

/// RFC 7644 §3.12's `scimType`: what kind of bad request a refusal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    InvalidFilter,
    TooMany,
    Uniqueness,
    Mutability,
    InvalidSyntax,
    InvalidPath,
    NoTarget,
    InvalidValue,
}

impl ScimType {
    pub fn key(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
        }
    }
}

/// A request refused for what it says, answered 400 with its `scimType`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Refusal {
    pub scim_type: ScimType,
    pub detail: String,
}

impl Refusal {
    pub fn new(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Refusal { scim_type, detail: detail.into() }
    }
}

impl From<filter::InvalidFilter> for Refusal {
    fn from(invalid: filter::InvalidFilter) -> Self {
        Refusal::new(ScimType::InvalidFilter, invalid.to_string())
    }
}

/// The value of `name` in `object`, whatever the case of its key
/// (attribute names are case-insensitive, RFC 7643 §2.1).
pub fn get<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).or_else(|| object.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// A boolean, or one written as a string (`"False"`, as Entra ID sends).
pub fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) if text.eq_ignore_ascii_case("true") => Some(true),
        Value::String(text) if text.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A string attribute's new value: text (trimmed; empty is none) or null.
fn text(attribute: &str, value: &Value) -> Result<Option<String>, Refusal> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) if text.trim().is_empty() => Ok(None),
        Value::String(text) if text.chars().count() <= MAX_TEXT => Ok(Some(text.trim().to_owned())),
        Value::String(_) => Err(Refusal::new(ScimType::InvalidValue, format!("{attribute} is longer than {MAX_TEXT}"))),
        _ => Err(Refusal::new(ScimType::InvalidValue, format!("{attribute} is a string"))),
    }
}

/// The longest string attribute kept.
pub const MAX_TEXT: usize = 256;

/// Whether `urn` (when there is one) is the core schema `core` names:
/// attributes of extensions Roster does not keep are ignored.
fn in_core(urn: Option<&str>, core: &str) -> bool {
    urn.is_none_or(|urn| urn.eq_ignore_ascii_case(core))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_match_in_any_case_and_booleans_may_be_strings() {
        let object = json!({"userName": "a", "ACTIVE": "False"});
        let object = object.as_object().unwrap();
        assert_eq!(get(object, "username"), Some(&json!("a")));
        assert_eq!(get(object, "active").and_then(boolean), Some(false));
        assert_eq!(boolean(&json!("yes")), None);
    }
}
