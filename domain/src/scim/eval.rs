//! Evaluates a filter against a resource as it is rendered (RFC 7644
//! §3.4.2.2): attribute names in any case; a multi-valued attribute
//! matches when one of its values does, a complex one by its `value`;
//! strings compare without case unless the attribute is case-exact, and
//! timestamps as instants.

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use super::filter::{AttrPath, CompareOp, Filter, Value};
use super::get;

/// The attributes whose strings compare with case (RFC 7643 `caseExact`):
/// ids Roster or the directory issued.
pub const CASE_EXACT: &[&str] = &["id", "externalId", "value"];

/// Whether `resource` is one that `filter` selects.
pub fn matches(filter: &Filter, resource: &Json, case_exact: &[&str]) -> bool {
    match filter {
        Filter::Present(path) => values_at(resource, path).into_iter().any(present),
        Filter::Compare(path, op, expected) => {
            let found = values_at(resource, path);
            let exact =
                case_exact.iter().any(|name| path.sub.as_deref().unwrap_or(&path.name).eq_ignore_ascii_case(name));
            match (op, expected) {
                (CompareOp::Eq, Value::Null) => !found.into_iter().any(present),
                (CompareOp::Ne, Value::Null) => found.into_iter().any(present),
                (CompareOp::Ne, _) if found.is_empty() => true,
                _ => found.into_iter().any(|actual| compare(actual, *op, expected, exact)),
            }
        }
        Filter::Not(inner) => !matches(inner, resource, case_exact),
        Filter::And(left, right) => matches(left, resource, case_exact) && matches(right, resource, case_exact),
        Filter::Or(left, right) => matches(left, resource, case_exact) || matches(right, resource, case_exact),
        Filter::ValuePath(path, inner) => {
            elements(resource, path).into_iter().any(|element| matches(inner, element, case_exact))
        }
    }
}

fn present(value: &Json) -> bool {
    match value {
        Json::Null => false,
        Json::String(text) => !text.is_empty(),
        Json::Array(items) => !items.is_empty(),
        Json::Object(fields) => !fields.is_empty(),
        _ => true,
    }
}

/// The attribute `path` names (an extension's under its URN), as stored.
fn attribute<'a>(resource: &'a Json, path: &AttrPath) -> Option<&'a Json> {
    let object = resource.as_object()?;
    match &path.urn {
        Some(urn) if !urn.to_ascii_lowercase().contains(":core:") => {
            get(object, urn)?.as_object().and_then(|extension| get(extension, &path.name))
        }
        _ => get(object, &path.name),
    }
}

/// The elements of a multi-valued attribute (a single value is one).
fn elements<'a>(resource: &'a Json, path: &AttrPath) -> Vec<&'a Json> {
    match attribute(resource, path) {
        Some(Json::Array(items)) => items.iter().collect(),
        Some(value) => vec![value],
        None => Vec::new(),
    }
}

/// The values a comparison looks at: the sub-attribute of each element,
/// or a complex element's `value`.
fn values_at<'a>(resource: &'a Json, path: &AttrPath) -> Vec<&'a Json> {
    let sub = |element: &'a Json, name: &str| element.as_object().and_then(|object| get(object, name));
    elements(resource, path)
        .into_iter()
        .filter_map(|element| match (&path.sub, element) {
            (Some(name), element) => sub(element, name),
            (None, Json::Object(_)) => sub(element, "value"),
            (None, element) => Some(element),
        })
        .collect()
}

fn instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|at| at.with_timezone(&Utc))
}

fn compare(actual: &Json, op: CompareOp, expected: &Value, exact: bool) -> bool {
    use std::cmp::Ordering;
    let ordered = |ordering: Ordering| match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    };
    match (actual, expected) {
        (Json::String(actual), Value::String(expected)) => {
            if let (Some(a), Some(b)) = (instant(actual), instant(expected)) {
                return ordered(a.cmp(&b));
            }
            let fold = |text: &str| if exact { text.to_owned() } else { text.to_lowercase() };
            let (actual, expected) = (fold(actual), fold(expected));
            match op {
                CompareOp::Co => actual.contains(&expected),
                CompareOp::Sw => actual.starts_with(&expected),
                CompareOp::Ew => actual.ends_with(&expected),
                _ => ordered(actual.cmp(&expected)),
            }
        }
        (Json::Bool(actual), Value::Bool(expected)) => match op {
            CompareOp::Eq => actual == expected,
            CompareOp::Ne => actual != expected,
            _ => false,
        },
        (Json::Number(actual), Value::Number(expected)) => {
            actual.as_f64().and_then(|a| a.partial_cmp(expected)).is_some_and(ordered)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::super::filter::parse;
    use super::*;

    fn user() -> Json {
        json!({
            "id": "0193-A", "externalId": "Ext-1", "userName": "Ada@Example.com", "active": true,
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
            "groups": [],
            "meta": {"lastModified": "2026-12-07T10:00:00.250Z", "version": "W/\"1\""},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"}
        })
    }

    fn selects(filter: &str) -> bool {
        matches(&parse(filter).unwrap(), &user(), CASE_EXACT)
    }

    #[test]
    fn what_directories_filter_by() {
        assert!(selects(r#"userName eq "ada@example.com""#));
        assert!(selects(r#"USERNAME Eq "ADA@EXAMPLE.COM""#));
        assert!(selects(r#"externalId eq "Ext-1""#));
        assert!(!selects(r#"externalId eq "ext-1""#));
        assert!(selects(r#"emails[type eq "work" and primary eq true]"#));
        assert!(selects(r#"emails co "@example.com""#));
        assert!(selects(r#"emails.value ew ".com""#));
        assert!(selects(r#"name.familyName sw "love""#));
        assert!(selects(r#"meta.lastModified gt "2026-12-07T10:00:00Z""#));
        assert!(!selects(r#"meta.lastModified gt "2026-12-07T11:00:01+01:00""#));
        assert!(selects(r#"active eq true and not (title pr)"#));
        assert!(selects(r#"title eq null and title ne "x""#));
        assert!(selects(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "sales""#));
        assert!(selects(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName pr"#));
        assert!(!selects(r#"groups pr"#));
        assert!(selects(r#"userName eq "nobody" or id eq "0193-A""#));
    }

    proptest! {
        /// `not` is the complement and `or` the union, whatever is compared.
        #[test]
        fn logic_is_boolean(value in "[a-zA-Z@.]{0,8}", op in prop::sample::select(vec!["eq", "ne", "co", "sw", "ew", "gt", "lt"])) {
            let leaf = format!(r#"userName {op} "{value}""#);
            let plain = selects(&leaf);
            prop_assert_eq!(selects(&format!("not ({leaf})")), !plain);
            prop_assert_eq!(selects(&format!(r#"({leaf}) or id eq "0193-A""#)), true);
            prop_assert_eq!(selects(&format!(r#"({leaf}) and id eq "0193-A""#)), plain);
        }
    }
}
