//! Request extractors whose failures are problem documents.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// The configured body limit, registered beside actix's `PayloadConfig`
/// (which enforces it) so that the 413 problem can state it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON request body. Unlike `web::Json` it reports which field is wrong
/// (`errors[].field`) and keeps every failure in the problem format.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .mime_type()
            .ok()
            .flatten()
            .is_some_and(|mime| mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"));
        let limit = req.app_data::<BodyLimit>().map_or(0, |limit| limit.0);
        let body = Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::UnsupportedMediaType { expected: "application/json" });
            }
            let bytes = body.await.map_err(|error| match error.as_error::<PayloadError>() {
                Some(PayloadError::Overflow) => ApiError::PayloadTooLarge { limit },
                _ => ApiError::MalformedBody("The request body could not be read.".into()),
            })?;
            parse_json(&bytes).map(JsonBody)
        })
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

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error, _| ApiError::InvalidPath(error.to_string()).into())
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
