//! Every problem a test meets is one the contract promises: the answer's
//! status is documented for its operation and its `code` is among those the
//! response enumerates. Checked on every [`crate::TestApp::request`], so
//! each test of a refusal also tests the contract's list of refusals.

use std::sync::LazyLock;

use reqwest::Method;
use serde_json::Value;

use crate::Reply;

static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
    let json = api::openapi::document().to_json().expect("the contract serialises");
    serde_json::from_str(&json).expect("the contract is JSON")
});

/// The operation `method` on `path` (a concrete path, maybe with a query)
/// is: the documented template that matches it with the most literal
/// segments.
fn operation(method: &Method, path: &str) -> Option<&'static Value> {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    let paths = DOCUMENT["paths"].as_object()?;
    let matching = paths.iter().filter_map(|(template, item)| {
        let parts: Vec<&str> = template.split('/').collect();
        if parts.len() != segments.len() {
            return None;
        }
        let mut literal = 0;
        for (part, segment) in parts.iter().zip(&segments) {
            if part.starts_with('{') {
                continue;
            }
            if part != segment {
                return None;
            }
            literal += 1;
        }
        Some((literal, item))
    });
    let (_, item) = matching.max_by_key(|(literal, _)| *literal)?;
    item.get(method.as_str().to_lowercase())
}

/// The problem codes the response enumerates, if it does.
fn enumerated_codes(response: &'static Value) -> Option<Vec<&'static str>> {
    let response = match response["$ref"].as_str() {
        Some(reference) => &DOCUMENT["components"]["responses"][reference.rsplit('/').next()?],
        None => response,
    };
    let schema = &response["content"]["application/problem+json"]["schema"];
    let codes = schema["allOf"].as_array()?.iter().find_map(|part| part["properties"]["code"]["enum"].as_array())?;
    Some(codes.iter().filter_map(Value::as_str).collect())
}

/// Fails when `reply`, a problem answered to `method` on `path`, has a
/// status or a code the contract does not list for the operation.
#[track_caller]
pub fn check_problem(method: &Method, path: &str, reply: &Reply) {
    let is_problem = reply.headers.get("content-type").is_some_and(|v| v.as_bytes() == b"application/problem+json");
    let Some(operation) = operation(method, path).filter(|_| is_problem) else { return };
    let id = operation["operationId"].as_str().unwrap_or_default();
    let status = reply.status.as_u16().to_string();
    let Some(response) = operation["responses"].get(&status) else {
        panic!("{id} answered {status}, which its contract does not list: {}", reply.body);
    };
    let code = reply.body["code"].as_str().unwrap_or_default();
    if let Some(codes) = enumerated_codes(response) {
        assert!(codes.contains(&code), "{id} answered {status} `{code}`, which its contract does not list ({codes:?})");
    }
}
