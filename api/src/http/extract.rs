//! Request extractors whose failures are problem documents.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::LazyLock;
use utoipa::ToSchema;

use crate::flows::Origin;
use crate::http::problem::{ApiError, FieldError};
use crate::telemetry::RequestId;

/// The configured body limit, registered beside actix's `PayloadConfig`
/// (which enforces it) so that the 413 problem can state it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON request body. Unlike `web::Json` it reports which field is wrong
/// (`errors[].field`), keeps every failure in the problem format, and holds
/// the body to the shape the contract publishes for `T` (see
/// [`check_shape`]).
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + ToSchema + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .mime_type()
            .ok()
            .flatten()
            .is_some_and(|mime| mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"));
        let body = body_of(req, payload, is_json, "application/json");
        Box::pin(async move { parse_body::<T>(&body.await?).map(JsonBody) })
    }
}

/// An `application/x-www-form-urlencoded` request body (what mail clients
/// send for a one-click unsubscribe), every failure a problem document.
pub struct FormBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for FormBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_form = req
            .mime_type()
            .ok()
            .flatten()
            .is_some_and(|mime| mime.essence_str() == "application/x-www-form-urlencoded");
        let body = body_of(req, payload, is_form, "application/x-www-form-urlencoded");
        Box::pin(async move {
            let bytes = body.await?;
            serde_urlencoded::from_bytes(&bytes)
                .map(FormBody)
                .map_err(|error| ApiError::MalformedBody(format!("Invalid form: {error}.")))
        })
    }
}

/// The body's bytes, once it is known to be of the `expected` media type
/// and within the configured limit.
fn body_of(
    req: &HttpRequest,
    payload: &mut Payload,
    of_expected_type: bool,
    expected: &'static str,
) -> impl Future<Output = Result<Bytes, ApiError>> + use<> {
    let limit = req.app_data::<BodyLimit>().map_or(0, |limit| limit.0);
    let body = Bytes::from_request(req, payload);
    async move {
        if !of_expected_type {
            return Err(ApiError::UnsupportedMediaType { expected });
        }
        body.await.map_err(|error| match error.as_error::<PayloadError>() {
            Some(PayloadError::Overflow) => ApiError::PayloadTooLarge { limit },
            _ => ApiError::MalformedBody("The request body could not be read.".into()),
        })
    }
}

/// JSON Schema's `integer` includes `3.0`; serde's integers do not. For
/// integer fields of request bodies: whole numbers however written.
/// A field sent, even as null (`Some(None)`), against one left out
/// (`None`, with `#[serde(default)]`): for fields that null clears.
pub fn present<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// Parses a field read with [`present`]: left out stays `None`, null
/// becomes `Some(None)` (clear it), a value is parsed.
pub fn parse_present<T, E>(
    field: Option<Option<String>>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<Option<T>>, E> {
    field.map(|value| value.as_deref().map(parse).transpose()).transpose()
}

pub mod whole {
    use serde::de::{Deserialize, Deserializer, Error};
    use serde_json::Number;

    fn whole<E: Error>(number: &Number) -> Result<i64, E> {
        number
            .as_i64()
            .or_else(|| number.as_f64().filter(|f| f.fract() == 0.0 && f.abs() <= 9e15).map(|f| f as i64))
            .ok_or_else(|| E::custom(format!("expected a whole number, found {number}")))
    }

    pub fn option<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
        Option::<Number>::deserialize(deserializer)?.as_ref().map(whole).transpose()
    }

    pub fn option_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<i64>>, D::Error> {
        let numbers = Option::<Vec<Number>>::deserialize(deserializer)?;
        numbers.map(|numbers| numbers.iter().map(whole).collect()).transpose()
    }
}

/// A request body of the type the contract names `T`: [`parse_json`] after
/// [`check_shape`].
pub fn parse_body<T: DeserializeOwned + ToSchema>(bytes: &[u8]) -> Result<T, ApiError> {
    let name = T::name();
    // Most bodies are an object of plain fields: nothing for the shape
    // check to judge but the top level and NULs, both seen in the bytes, so
    // one pass of serde does. Anything else, or a body serde refuses, takes
    // the full path below, which words the error.
    if FLAT_SCHEMAS.contains(name.as_ref())
        && is_object_without_nul(bytes)
        && let Ok(parsed) = serde_json::from_slice(bytes)
    {
        return Ok(parsed);
    }
    // Syntax first: serde would otherwise report a truncated array as a
    // type error before reaching its end.
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|error| ApiError::MalformedBody(format!("Invalid JSON: {}.", strip_position(&error.to_string()))))?;
    check_shape(&value, &name)?;
    parse_json(bytes)
}

/// The request schemas of the contract, as JSON Schema, by name.
static SCHEMAS: LazyLock<Value> = LazyLock::new(|| {
    let components =
        crate::http::openapi::document().components.map(|components| components.schemas).unwrap_or_default();
    serde_json::to_value(components).unwrap_or_default()
});

/// The request schemas whose properties are all plain values or arrays of
/// them (no object, reference or alternative at any depth): for those only
/// the top level can be an array where an object belongs.
static FLAT_SCHEMAS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let Some(schemas) = SCHEMAS.as_object() else { return HashSet::new() };
    schemas
        .iter()
        .filter(|(_, schema)| {
            schema.get("type").and_then(Value::as_str) == Some("object")
                && !has_structure_keywords(schema, &["$ref", "oneOf", "anyOf", "allOf"])
                && schema.get("additionalProperties").is_none_or(Value::is_boolean)
                && schema
                    .get("properties")
                    .and_then(Value::as_object)
                    .is_some_and(|properties| properties.values().all(|property| is_plain(property, 0)))
        })
        .map(|(name, _)| name.clone())
        .collect()
});

fn has_structure_keywords(schema: &Value, keywords: &[&str]) -> bool {
    keywords.iter().any(|keyword| schema.get(keyword).is_some())
}

/// A property schema of plain values: no object type, properties or
/// alternatives, references only to plain schemas, and items (if an array)
/// plain too. `depth` stops a cycle of references.
fn is_plain(schema: &Value, depth: usize) -> bool {
    if let Some(name) = schema.get("$ref").and_then(Value::as_str).and_then(|r| r.rsplit('/').next()) {
        return depth < 8 && SCHEMAS.get(name).is_some_and(|target| is_plain(target, depth + 1));
    }
    let object_typed = match schema.get("type") {
        Some(Value::String(one)) => one == "object",
        Some(Value::Array(many)) => many.iter().any(|t| t == "object"),
        _ => false,
    };
    !object_typed
        && !has_structure_keywords(schema, &["$ref", "oneOf", "anyOf", "allOf", "properties", "additionalProperties"])
        && schema.get("items").is_none_or(|items| is_plain(items, depth))
}

/// The body is a JSON object (its first character says so) with no
/// escaped NUL in it (JSON cannot hold a raw one).
fn is_object_without_nul(bytes: &[u8]) -> bool {
    bytes.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'{')
        && !bytes.windows(6).any(|window| window == b"\\u0000")
}

/// Holds a body to what serde alone does not: where the contract says
/// object, an array is refused (serde accepts `["a", "b"]` for a struct of
/// two fields), and no string may hold a NUL character (PostgreSQL cannot
/// store one, and no field of ours has a use for it).
pub fn check_shape(value: &Value, schema_name: &str) -> Result<(), ApiError> {
    let schema = SCHEMAS.get(schema_name).unwrap_or(&Value::Null);
    let mut path = Vec::new();
    match misfit(value, schema, &mut path) {
        None => Ok(()),
        Some(Misfit::NotAnObject) => Err(shape_error(&path, "invalid_type", "Send a JSON object here.")),
        Some(Misfit::Nul) => {
            Err(shape_error(&path, "invalid_characters", "Remove the NUL character (\\u0000) from this text."))
        }
    }
}

enum Misfit {
    NotAnObject,
    Nul,
}

fn shape_error(path: &[String], code: &str, message: &str) -> ApiError {
    let field = if path.is_empty() { "body".to_owned() } else { path.join(".") };
    ApiError::Validation(vec![FieldError { field, code: code.into(), message: message.into() }])
}

/// The first place where `value` does not fit `schema`, leaving its path in
/// `path`. Only objects and NULs are judged: everything else is serde's.
fn misfit(value: &Value, schema: &Value, path: &mut Vec<String>) -> Option<Misfit> {
    if let Some(name) = schema.get("$ref").and_then(Value::as_str).and_then(|r| r.rsplit('/').next()) {
        return misfit(value, SCHEMAS.get(name).unwrap_or(&Value::Null), path);
    }
    for alternatives in ["oneOf", "anyOf"] {
        if let Some(schemas) = schema.get(alternatives).and_then(Value::as_array) {
            let mut first = None;
            for candidate in schemas {
                let mut candidate_path = path.clone();
                match misfit(value, candidate, &mut candidate_path) {
                    None => return None,
                    Some(found) if first.is_none() => first = Some((found, candidate_path)),
                    Some(_) => {}
                }
            }
            return first.map(|(found, found_path)| {
                *path = found_path;
                found
            });
        }
    }
    if let Some(schemas) = schema.get("allOf").and_then(Value::as_array) {
        return schemas.iter().find_map(|part| misfit(value, part, path));
    }
    let types = match schema.get("type") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    match value {
        Value::String(text) if text.contains('\0') => Some(Misfit::Nul),
        Value::Object(fields) => fields.iter().find_map(|(name, field)| {
            path.push(name.clone());
            let schema = schema.get("properties").and_then(|properties| properties.get(name)).unwrap_or(&Value::Null);
            let found = misfit(field, schema, path);
            if found.is_none() {
                path.pop();
            }
            found
        }),
        Value::Null if types.contains(&"null") => None,
        _ if types.contains(&"object") => Some(Misfit::NotAnObject),
        Value::Array(items) => items.iter().enumerate().find_map(|(index, item)| {
            path.push(index.to_string());
            let found = misfit(item, schema.get("items").unwrap_or(&Value::Null), path);
            if found.is_none() {
                path.pop();
            }
            found
        }),
        _ => None,
    }
}

/// Syntax errors are 400 (not JSON at all); JSON of the wrong shape is 422
/// with the path of the offending field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Syntax first, without allocating: serde would otherwise report a
    // truncated array as a type error before reaching its end.
    if let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        return Err(ApiError::MalformedBody(format!("Invalid JSON: {}.", strip_position(&error.to_string()))));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let inner = error.inner();
        if inner.is_syntax() || inner.is_eof() || inner.is_io() {
            return ApiError::MalformedBody(format!("Invalid JSON: {inner}."));
        }
        let path = error.path().to_string();
        let message = strip_position(&inner.to_string());
        let (field, code) = match message.strip_prefix("missing field `") {
            Some(rest) => (join_path(&path, rest.trim_end_matches('`')), "required"),
            None if message.starts_with("unknown field") => (path, "unknown_field"),
            None => (path, "invalid_type"),
        };
        ApiError::Validation(vec![FieldError { field, code: code.into(), message }])
    })
}

fn join_path(parent: &str, field: &str) -> String {
    if parent == "." || parent.is_empty() { field.to_owned() } else { format!("{parent}.{field}") }
}

/// serde_json appends "at line 1 column 9"; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

impl FromRequest for Origin {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    /// Where the request came from, for the audit log: its id, the peer's
    /// address and the user agent (at most 512 characters).
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request_id = req.extensions().get::<RequestId>().map(|id| id.0.clone());
        let client_ip = client_ip(req).map(|address| address.to_string());
        let user_agent = req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|agent| agent.chars().take(512).collect());
        std::future::ready(Ok(Origin { request_id, client_ip, user_agent }))
    }
}

/// The client's address: the peer's, unless the peer is a trusted proxy
/// (`ROSTER_TRUSTED_PROXIES`), in which case the nearest address in
/// `X-Forwarded-For` that is not itself a trusted proxy. Entries left of it
/// could have been written by anyone and are not read.
pub fn client_ip(req: &HttpRequest) -> Option<std::net::IpAddr> {
    let peer = req.peer_addr()?.ip();
    let Some(state) = req.app_data::<web::Data<crate::http::state::AppState>>() else { return Some(peer) };
    let trusted = &state.settings.trusted_proxies;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded = req.headers().get_all("x-forwarded-for").filter_map(|value| value.to_str().ok());
    let hops: Vec<&str> = forwarded.flat_map(|value| value.split(',')).map(str::trim).collect();
    for hop in hops.iter().rev() {
        match hop.parse::<std::net::IpAddr>() {
            Ok(address) if trusted.contains(&address) => continue,
            Ok(address) => return Some(address),
            // A malformed entry: whatever is left of it is untrustworthy.
            Err(_) => break,
        }
    }
    Some(peer)
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error, _| ApiError::InvalidPath(error.to_string()).into())
}

/// Refuses a query string whose percent-escapes do not decode to UTF-8
/// (`?q=%C0%AF%FF`): `web::Query` would decode it lossily and answer for
/// text nobody sent, where an undecodable body is refused.
pub async fn refuse_undecodable_query(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if percent_encoding::percent_decode_str(req.query_string()).decode_utf8().is_err() {
        let refusal = ApiError::InvalidQuery("The query string is not UTF-8 once percent-decoded.".into());
        return Ok(req.error_response(refusal).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _| ApiError::InvalidQuery(error.to_string()).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        email: String,
        age: u8,
    }

    fn fields(error: ApiError) -> Vec<(String, String)> {
        match error {
            ApiError::Validation(errors) => errors.into_iter().map(|e| (e.field, e.code)).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn syntax_errors_are_malformed_bodies() {
        assert!(matches!(parse_json::<Sample>(b"{\"email\": "), Err(ApiError::MalformedBody(_))));
        assert!(matches!(parse_json::<Sample>(b"not json"), Err(ApiError::MalformedBody(_))));
        assert!(matches!(parse_json::<Sample>(b"[1, 2"), Err(ApiError::MalformedBody(_))));
    }

    fn first_field(error: ApiError) -> (String, String) {
        fields(error).remove(0)
    }

    #[test]
    fn arrays_are_refused_where_the_contract_says_object() {
        use crate::http::routes::invitations::CreateInvitationsRequest;
        use crate::http::routes::me::UpdateMeRequest;
        let top = parse_body::<UpdateMeRequest>(br#"["Mallory", "Array"]"#).map(drop).unwrap_err();
        assert_eq!(first_field(top), ("body".into(), "invalid_type".into()));
        let nested =
            parse_body::<CreateInvitationsRequest>(br#"{"invitations": [["a@example.com"]]}"#).map(drop).unwrap_err();
        assert_eq!(first_field(nested), ("invitations.0".into(), "invalid_type".into()));
        assert!(parse_body::<UpdateMeRequest>(br#"{"first_name": "Ada", "last_name": null}"#).is_ok());
        assert!(parse_body::<CreateInvitationsRequest>(br#"{"invitations": [{"email": "a@example.com"}]}"#).is_ok());
    }

    #[test]
    fn nul_characters_are_refused_wherever_they_are() {
        use crate::http::routes::invitations::CreateInvitationsRequest;
        use crate::http::routes::me::UpdateMeRequest;
        let top = parse_body::<UpdateMeRequest>(br#"{"first_name": "Ada\u0000"}"#).map(drop).unwrap_err();
        assert_eq!(first_field(top), ("first_name".into(), "invalid_characters".into()));
        let nested = parse_body::<CreateInvitationsRequest>(
            br#"{"invitations": [{"email": "a@example.com", "roles": ["x", "y\u0000"]}]}"#,
        )
        .map(drop)
        .unwrap_err();
        assert_eq!(first_field(nested), ("invitations.0.roles.1".into(), "invalid_characters".into()));
        assert!(parse_body::<UpdateMeRequest>(br#"{"first_name": "a literal \\u0000"}"#).is_ok());
    }

    #[test]
    fn only_bodies_of_plain_fields_skip_the_shape_check() {
        use crate::http::routes::invitations::CreateInvitationsRequest;
        use crate::http::routes::me::UpdateMeRequest;
        use crate::http::routes::permissions::AuthorizationCheckRequest;
        assert!(FLAT_SCHEMAS.contains(AuthorizationCheckRequest::name().as_ref()));
        assert!(FLAT_SCHEMAS.contains(UpdateMeRequest::name().as_ref()));
        // Its items are objects: an array there must still be refused.
        assert!(!FLAT_SCHEMAS.contains(CreateInvitationsRequest::name().as_ref()));
        assert!(is_object_without_nul(b" {\"a\": [1]}"));
        assert!(!is_object_without_nul(b"[{\"a\": 1}]"));
        assert!(!is_object_without_nul(br#"{"a": "\u0000"}"#));
        let checked = br#"{"user_id": "01a24ec3-71b1-70d3-a083-6dd02155e932", "permissions": ["members:read"]}"#;
        let parsed = parse_body::<AuthorizationCheckRequest>(checked).unwrap();
        assert_eq!(parsed.permissions, ["members:read"]);
        let wrong = parse_body::<AuthorizationCheckRequest>(br#"{"user_id": "x", "permissions": []}"#).map(drop);
        assert_eq!(first_field(wrong.unwrap_err()), ("user_id".into(), "invalid_type".into()));
    }

    #[test]
    fn shape_errors_name_the_field() {
        let missing = parse_json::<Sample>(br#"{"age": 3}"#).unwrap_err();
        assert_eq!(fields(missing), [("email".into(), "required".into())]);
        let wrong_type = parse_json::<Sample>(br#"{"email": 5, "age": 3}"#).unwrap_err();
        assert_eq!(fields(wrong_type), [("email".into(), "invalid_type".into())]);
        let unknown = parse_json::<Sample>(br#"{"email": "a", "age": 3, "admin": true}"#).unwrap_err();
        assert_eq!(fields(unknown)[0].1, "unknown_field");
    }
}
