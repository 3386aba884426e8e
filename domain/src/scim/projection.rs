//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5): which
//! attributes of a resource an answer carries. `id` and `schemas` are
//! always returned; names are case-insensitive and may carry a schema URN
//! or a sub-attribute.

use serde_json::{Map, Value};

use super::filter::{AttrPath, parse_path};
use super::{Refusal, ScimType};

const ALWAYS: [&str; 2] = ["id", "schemas"];

/// Attribute paths from a comma-separated list, as the query gives them.
pub fn parse_list(list: Option<&str>) -> Result<Vec<AttrPath>, Refusal> {
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| match parse_path(name) {
            Ok(path) if path.filter.is_none() => Ok(path.attr),
            _ => Err(Refusal::new(ScimType::InvalidValue, format!("{name:?} is not an attribute name"))),
        })
        .collect()
}

fn key_of<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a String> {
    object.keys().find(|key| key.eq_ignore_ascii_case(name))
}

/// `resource` with only the `attributes` asked for (when any are) and
/// without the `excluded` ones.
pub fn project(resource: Value, attributes: &[AttrPath], excluded: &[AttrPath]) -> Value {
    let Value::Object(mut object) = resource else { return resource };
    if !attributes.is_empty() {
        let mut kept = Map::new();
        for name in ALWAYS {
            if let Some(value) = object.remove(name) {
                kept.insert(name.to_owned(), value);
            }
        }
        for path in attributes {
            let Some(key) = key_of(&object, &path.name).cloned() else { continue };
            match &path.sub {
                None => {
                    if let Some(value) = object.get(&key) {
                        kept.insert(key, value.clone());
                    }
                }
                Some(sub) => {
                    let picked = pick_sub(&object[&key], sub);
                    merge(kept.entry(key).or_insert(Value::Null), picked);
                }
            }
        }
        object = kept;
    }
    for path in excluded {
        let Some(key) = key_of(&object, &path.name).cloned() else { continue };
        if ALWAYS.contains(&key.as_str()) {
            continue;
        }
        match &path.sub {
            None => {
                object.remove(&key);
            }
            Some(sub) => drop_sub(object.get_mut(&key), sub),
        }
    }
    Value::Object(object)
}

/// Only `sub` of a complex value (of each, in a multi-valued one).
fn pick_sub(value: &Value, sub: &str) -> Value {
    match value {
        Value::Object(fields) => {
            let mut picked = Map::new();
            if let Some(key) = key_of(fields, sub) {
                picked.insert(key.clone(), fields[key].clone());
            }
            Value::Object(picked)
        }
        Value::Array(items) => Value::Array(items.iter().map(|item| pick_sub(item, sub)).collect()),
        other => other.clone(),
    }
}

/// Adds what `picked` has to what `into` holds (two sub-attributes of one
/// attribute asked for).
fn merge(into: &mut Value, picked: Value) {
    match (into, picked) {
        (Value::Object(fields), Value::Object(more)) => fields.extend(more),
        (Value::Array(items), Value::Array(more)) => {
            for (item, extra) in items.iter_mut().zip(more) {
                merge(item, extra);
            }
        }
        (slot, picked) => *slot = picked,
    }
}

fn drop_sub(value: Option<&mut Value>, sub: &str) {
    match value {
        Some(Value::Object(fields)) => {
            if let Some(key) = key_of(fields, sub).cloned() {
                fields.remove(&key);
            }
        }
        Some(Value::Array(items)) => items.iter_mut().for_each(|item| drop_sub(Some(item), sub)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn user() -> Value {
        json!({
            "schemas": ["s"], "id": "1", "userName": "ada@example.com",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "ada@example.com", "type": "work"}],
            "meta": {"version": "v"}
        })
    }

    #[test]
    fn only_what_is_asked_with_id_and_schemas() {
        let asked = parse_list(Some("userName, NAME.familyName,emails.value")).unwrap();
        let projected = project(user(), &asked, &[]);
        assert_eq!(
            projected,
            json!({"schemas": ["s"], "id": "1", "userName": "ada@example.com",
                   "name": {"familyName": "Lovelace"}, "emails": [{"value": "ada@example.com"}]})
        );
    }

    #[test]
    fn excluded_attributes_go_but_never_the_id() {
        let excluded = parse_list(Some("members,id,name.givenName,meta")).unwrap();
        let projected = project(user(), &[], &excluded);
        assert_eq!(projected["id"], "1");
        assert_eq!(projected["name"], json!({"familyName": "Lovelace"}));
        assert!(projected.get("meta").is_none());
        assert!(parse_list(Some(r#"emails[type eq "work"]"#)).is_err());
    }
}
