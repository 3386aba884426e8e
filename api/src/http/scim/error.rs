//! SCIM errors (RFC 7644 §3.12): `application/scim+json`, the Error
//! schema, `status` as a string and, for bad requests, a `scimType`. The
//! JSON API's errors map here once, so a refusal means the same on both.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use domain::scim::{Refusal, ScimType};
use serde_json::json;

use super::SCIM_JSON;
use crate::flows::Precondition;
use crate::flows::directory::DirectoryError;
use crate::http::problem::ApiError;

pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

#[derive(Debug)]
pub struct ScimError {
    status: StatusCode,
    scim_type: Option<ScimType>,
    detail: String,
    /// The JSON API's error it stands for, when it does (its headers).
    api: Option<ApiError>,
}

impl ScimError {
    pub fn new(status: StatusCode, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        ScimError { status, scim_type, detail: detail.into(), api: None }
    }

    pub fn not_found() -> Self {
        ScimError::new(StatusCode::NOT_FOUND, None, "No such resource in this account.")
    }
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.detail)
    }
}

impl From<Refusal> for ScimError {
    fn from(refusal: Refusal) -> Self {
        let status = match refusal.scim_type {
            ScimType::Uniqueness => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        };
        ScimError::new(status, Some(refusal.scim_type), refusal.detail)
    }
}

impl From<ApiError> for ScimError {
    fn from(error: ApiError) -> Self {
        let scim_type = match &error {
            ApiError::Validation(_) => Some(ScimType::InvalidValue),
            ApiError::MalformedBody(_) => Some(ScimType::InvalidSyntax),
            _ => None,
        };
        let problem = error.problem();
        let detail = match &error {
            ApiError::Validation(errors) => {
                errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join(" ")
            }
            _ => problem.detail,
        };
        let status = if let ApiError::Validation(_) = error { StatusCode::BAD_REQUEST } else { error.status_code() };
        ScimError { status, scim_type, detail, api: Some(error) }
    }
}

impl From<DirectoryError> for ScimError {
    fn from(error: DirectoryError) -> Self {
        match error {
            DirectoryError::Refused(refusal) => refusal.into(),
            DirectoryError::Taken(detail) => ScimError::new(StatusCode::CONFLICT, Some(ScimType::Uniqueness), detail),
            DirectoryError::LastOwner(last) => ScimError::new(
                StatusCode::BAD_REQUEST,
                Some(ScimType::Mutability),
                format!("{last}; transfer ownership first"),
            ),
            DirectoryError::Precondition(Precondition::Failed) => ScimError::new(
                StatusCode::PRECONDITION_FAILED,
                None,
                "The resource changed since the version in If-Match: read it again.",
            ),
            DirectoryError::Precondition(Precondition::Required) => {
                ScimError::new(StatusCode::PRECONDITION_REQUIRED, None, "Send If-Match.")
            }
            DirectoryError::Shared(shared) => ApiError::from(shared).into(),
            other => ApiError::from(other).into(),
        }
    }
}

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        match &self.api {
            // The JSON API's response logs what went wrong inside (the body
            // here says nothing of it) and carries the headers to keep.
            Some(api) => {
                for (name, value) in api.error_response().headers() {
                    if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                        response.append_header((name.clone(), value.clone()));
                    }
                }
            }
            None if self.status == StatusCode::UNAUTHORIZED => {
                response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            None => {}
        }
        let mut body =
            json!({"schemas": [ERROR_SCHEMA], "status": self.status.as_u16().to_string(), "detail": self.detail});
        if let Some(kind) = self.scim_type {
            body["scimType"] = json!(kind.key());
        }
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON))).body(body.to_string())
    }
}
