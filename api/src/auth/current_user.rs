use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use uuid::Uuid;

use crate::http::problem::ApiError;
use crate::state::AppState;

/// The signed-in user, from a valid `Authorization: Bearer <access token>`.
/// Verification is local (signature, expiry, issuer, audience): no database
/// round trip, which is why access tokens live only minutes.
#[derive(Debug, Clone, Copy)]
pub struct CurrentUser {
    pub id: Uuid,
    /// The session the token was issued in (`GET /v1/me/sessions` marks it
    /// current).
    pub session: Option<Uuid>,
}

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

pub(crate) fn authenticate(req: &HttpRequest) -> Result<CurrentUser, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state is not registered"))?;
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .ok_or(ApiError::Unauthenticated)?;
    state
        .tokens
        .verify(token)
        .map(|bearer| CurrentUser { id: bearer.user, session: bearer.session })
        .ok_or(ApiError::Unauthenticated)
}
