//! Who is calling: the extractors that read a signed-in user, an API key
//! or the operator from a request's `Authorization: Bearer …`, with the
//! credentials of [`crate::auth`].

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use uuid::Uuid;

use crate::http::problem::ApiError;
use crate::http::state::AppState;

/// The signed-in user, from a valid `Authorization: Bearer <access token>`.
/// The token is verified locally (signature, expiry, issuer, audience),
/// which is why access tokens live only minutes; one primary-key read makes
/// sure its user still exists, so that a token outliving its user is
/// refused by every endpoint alike rather than answered with empty lists.
#[derive(Debug, Clone, Copy)]
pub struct CurrentUser {
    pub id: Uuid,
    /// The session the token was issued in (`GET /v1/me/sessions` marks it
    /// current).
    pub session: Option<Uuid>,
    /// The account this session may not act in: it requires the user to
    /// sign in through its identity provider.
    pub sso_required: Option<crate::auth::jwt::SsoRequired>,
}

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = authenticate(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let user = user?;
            let state = state.ok_or_else(|| ApiError::internal("application state is not registered"))?;
            let id = user.id;
            match state.db(move |conn| Ok(persistence::users::exists(conn, id)?)).await? {
                true => Ok(user),
                false => Err(ApiError::Unauthenticated),
            }
        })
    }
}

/// The user an access token names, verified locally but not looked up:
/// for handlers that read the user anyway and answer 401 when it is gone,
/// so that their request makes one database round trip instead of two.
#[derive(Debug, Clone, Copy)]
pub struct TokenUser(pub CurrentUser);

impl FromRequest for TokenUser {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(authenticate(req).map(TokenUser))
    }
}

/// A signed-in user only: API keys are for account-scoped endpoints
/// ([`credential`]), so one presented here is refused like any bad token.
pub(crate) fn authenticate(req: &HttpRequest) -> Result<CurrentUser, ApiError> {
    match credential(req)? {
        Credential::User(user) => Ok(user),
        Credential::ApiKey(_) => Err(ApiError::Unauthenticated),
    }
}

/// What a request's `Authorization: Bearer …` presents.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A valid access token.
    User(CurrentUser),
    /// A well-formed API key, not yet looked up.
    ApiKey(PresentedKey),
}

/// An API key as presented: its digest (the key itself goes no further)
/// and where the request came from, for the key's allow-list.
#[derive(Clone)]
pub struct PresentedKey {
    pub digest: String,
    pub client_ip: Option<std::net::IpAddr>,
}

impl std::fmt::Debug for PresentedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentedKey").field("client_ip", &self.client_ip).finish_non_exhaustive()
    }
}

/// The token of `Authorization: Bearer <token>`, if the request has one.
pub(crate) fn bearer_token(req: &HttpRequest) -> Option<&str> {
    req.headers().get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()).and_then(|value| {
        let (scheme, token) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    })
}

/// Reads the bearer token: an API key (`roster_…`, refused here when its
/// checksum is wrong, without a database read) or an access token
/// (verified locally).
pub(crate) fn credential(req: &HttpRequest) -> Result<Credential, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state is not registered"))?;
    let token = bearer_token(req).ok_or(ApiError::Unauthenticated)?;
    if domain::api_key::looks_like_key(token) {
        domain::api_key::check(token).map_err(|_| ApiError::Unauthenticated)?;
        let client_ip = crate::http::extract::client_ip(req);
        return Ok(Credential::ApiKey(PresentedKey { digest: crate::auth::secrets::digest(token), client_ip }));
    }
    state
        .tokens
        .verify(token)
        .map(|bearer| {
            Credential::User(CurrentUser {
                id: bearer.user,
                session: bearer.session,
                sso_required: bearer.sso_required,
            })
        })
        .ok_or(ApiError::Unauthenticated)
}

/// A request that presented the operator token. Without a configured
/// digest every call is refused alike: the operator API is off.
#[derive(Debug, Clone, Copy)]
pub struct Operator;

impl FromRequest for Operator {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let configured =
            req.app_data::<web::Data<AppState>>().and_then(|state| state.settings.operator_token_sha256.clone());
        let presented = bearer_token(req);
        std::future::ready(match (configured, presented) {
            (Some(digest), Some(token)) if digest.matches(token) => Ok(Operator),
            _ => Err(ApiError::Unauthenticated),
        })
    }
}
