use actix_web::{HttpResponse, post, web};
use chrono::Duration;
use domain::{Email, NewPassword, PersonName};
use persistence::StoreError;
use persistence::users::{self, NewUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::passwords;
use crate::auth::session::{self, Session, SessionPolicy};
use crate::error::{ApiError, ParseFields, Problem};
use crate::extract::JsonBody;
use crate::routes::me::UserProfile;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery", "first_name": "Ada", "last_name": "Lovelace"}))]
pub struct RegisterRequest {
    /// Sign-in email; stored trimmed and lower-cased.
    pub email: String,
    /// At least 10 characters, and not the email address.
    pub password: String,
    pub first_name: String,
    pub last_name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery"}))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "q3HkV1zJ0nqN4c5mV7Y0f9bXo2kQd8Wm1sTt6uRr3Ea"}))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl",
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_token": "q3HkV1zJ0nqN4c5mV7Y0f9bXo2kQd8Wm1sTt6uRr3Ea"
}))]
pub struct TokenResponse {
    /// JWT to send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u32,
    /// Opaque token for `POST /v1/auth/refresh`; single use.
    pub refresh_token: String,
}

impl From<Session> for TokenResponse {
    fn from(session: Session) -> Self {
        TokenResponse {
            access_token: session.access.token,
            token_type: "Bearer",
            expires_in: session.access.expires_in,
            refresh_token: session.refresh.expose().to_owned(),
        }
    }
}

fn policy(state: &AppState) -> SessionPolicy<'_> {
    SessionPolicy {
        keys: &state.tokens,
        refresh_ttl: Duration::days(i64::from(state.settings.refresh_token_ttl_days)),
        now: state.clock.now(),
    }
}

/// Register a user with email and password.
#[utoipa::path(
    tag = "auth", operation_id = "register", request_body = RegisterRequest,
    responses(
        (status = 201, description = "The user was created; sign in with `login`", body = UserProfile),
        (status = 409, description = "A user with this email exists (`email_taken`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/register")]
pub async fn register(state: web::Data<AppState>, body: JsonBody<RegisterRequest>) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let (email, password, first_name, last_name) = (
        ("email", Email::parse(&body.email)),
        ("password", NewPassword::parse(&body.password, &body.email)),
        ("first_name", PersonName::parse(&body.first_name)),
        ("last_name", PersonName::parse(&body.last_name)),
    )
        .parse_fields()?;
    let password_hash = web::block(move || passwords::hash(&password)).await??;
    let now = state.clock.now();
    let user = state
        .db(move |conn| {
            let new = NewUser {
                id: Uuid::now_v7(),
                email: &email,
                first_name: &first_name,
                last_name: &last_name,
                password_hash: Some(&password_hash),
                email_verified: false,
                now,
            };
            users::insert(conn, new).map_err(|error| match error {
                StoreError::Conflict => ApiError::Conflict {
                    code: "email_taken",
                    detail: "A user with this email already exists; sign in instead.".into(),
                },
                other => other.into(),
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(UserProfile::from(user)))
}

/// Sign in with email and password.
///
/// A wrong password and an unknown email give the same 401
/// (`invalid_credentials`) and take the same time.
#[utoipa::path(
    tag = "auth", operation_id = "login", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Wrong email or password (`invalid_credentials`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(state: web::Data<AppState>, body: JsonBody<LoginRequest>) -> Result<HttpResponse, ApiError> {
    let LoginRequest { email, password } = body.0;
    // An email that cannot exist still pays for a hash verification.
    let user = match Email::parse(&email) {
        Ok(email) => state.db(move |conn| Ok(users::find_by_email(conn, &email)?)).await?,
        Err(_) => None,
    };
    let stored_hash = user.as_ref().and_then(|user| user.password_hash.clone());
    let verified = web::block(move || passwords::verify(&password, stored_hash.as_deref())).await?;
    let user = user.filter(|_| verified).ok_or(ApiError::InvalidCredentials)?;
    let state_for_db = state.clone();
    let session = state.db(move |conn| session::start(conn, &policy(&state_for_db), user.id)).await?;
    Ok(HttpResponse::Ok().json(TokenResponse::from(session)))
}

/// Exchange a refresh token for new tokens.
///
/// The presented refresh token is spent. Presenting a spent token again
/// revokes every token descended from the same sign-in.
#[utoipa::path(
    tag = "auth", operation_id = "refresh", request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens; the old refresh token no longer works", body = TokenResponse),
        (status = 401, description = "Unknown, expired, revoked or reused refresh token (`invalid_refresh_token`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(state: web::Data<AppState>, body: JsonBody<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    let presented = body.0.refresh_token;
    let state_for_db = state.clone();
    let session = state.db(move |conn| session::rotate(conn, &policy(&state_for_db), &presented)).await?;
    Ok(HttpResponse::Ok().json(TokenResponse::from(session)))
}

/// Sign out: revoke the refresh token and every token of its session.
#[utoipa::path(
    tag = "auth", operation_id = "logout", request_body = RefreshRequest,
    responses((status = 204, description = "Signed out (also when the token was unknown)"))
)]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, body: JsonBody<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    let presented = body.0.refresh_token;
    let now = state.clock.now();
    state.db(move |conn| session::end(conn, &presented, now)).await?;
    Ok(HttpResponse::NoContent().finish())
}
