use actix_web::{HttpResponse, post, web};
use chrono::Duration;
use domain::{Email, NewPassword, PersonName};
use persistence::StoreError;
use persistence::users::{self, NewUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::secrets::{self, OpaqueToken};
use crate::auth::session::{self, Session, SessionPolicy};
use crate::auth::{CurrentUser, passwords};
use crate::email::templates;
use crate::error::{ApiError, ParseFields, Problem};
use crate::extract::JsonBody;
use crate::routes::me::UserProfile;
use crate::state::AppState;
use persistence::{email_verifications, outbox};

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

pub fn session_policy(state: &AppState) -> SessionPolicy<'_> {
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
    let (now, public_url) = (state.clock.now(), state.settings.public_url.clone());
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
            persistence::write_transaction(conn, |conn| {
                let user = users::insert(conn, new).map_err(|error| match error {
                    StoreError::Conflict => ApiError::Conflict {
                        code: "email_taken",
                        detail: "A user with this email already exists; sign in instead.".into(),
                    },
                    other => other.into(),
                })?;
                send_verification(conn, &user, &public_url, now)?;
                Ok(user)
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
    let session = state.db(move |conn| session::start(conn, &session_policy(&state_for_db), user.id)).await?;
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
    let session = state.db(move |conn| session::rotate(conn, &session_policy(&state_for_db), &presented)).await?;
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

/// Queues an email with a single-use link proving the user owns the address.
fn send_verification(
    conn: &mut persistence::DbConnection,
    user: &users::User,
    public_url: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    let token = OpaqueToken::generate();
    email_verifications::insert(conn, user.id, &user.email, &token.digest(), now, now + Duration::days(7))?;
    let url = format!("{}/verify-email?token={}", public_url.trim_end_matches('/'), token.expose());
    outbox::enqueue(conn, &templates::email_verification(&user.email, &url), now)?;
    Ok(())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "Xq1vB7nM3kL9pR2sT5wY8zA0cD4fG6hJ1eI3oU5yT7r"}))]
pub struct VerifyEmailRequest {
    /// The token from the verification email.
    pub token: String,
}

/// Confirm an email address with the token from the verification email.
#[utoipa::path(
    tag = "auth", operation_id = "verify_email", request_body = VerifyEmailRequest,
    responses(
        (status = 204, description = "The email is verified"),
        (status = 409, description = "Unknown, used or expired token (`verification_invalid`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/verify-email")]
pub async fn verify_email(
    state: web::Data<AppState>,
    body: JsonBody<VerifyEmailRequest>,
) -> Result<HttpResponse, ApiError> {
    let (token, now) = (body.0.token, state.clock.now());
    let verified = state.db(move |conn| Ok(email_verifications::consume(conn, &secrets::digest(&token), now)?)).await?;
    match verified {
        Some(_) => Ok(HttpResponse::NoContent().finish()),
        None => Err(ApiError::Conflict {
            code: "verification_invalid",
            detail: "This verification link is unknown, used or expired; ask for a new one.".into(),
        }),
    }
}

/// Send a new verification email to the signed-in user.
#[utoipa::path(
    tag = "auth", operation_id = "resend_verification_email", security(("bearer" = [])),
    responses(
        (status = 202, description = "A new email is on its way"),
        (status = 409, description = "Already verified (`already_verified`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/verify-email/resend")]
pub async fn resend_verification_email(state: web::Data<AppState>, me: CurrentUser) -> Result<HttpResponse, ApiError> {
    let (now, public_url) = (state.clock.now(), state.settings.public_url.clone());
    state
        .db(move |conn| {
            let user = users::find(conn, me.id)?.ok_or(ApiError::Unauthenticated)?;
            if user.email_verified {
                return Err(ApiError::Conflict {
                    code: "already_verified",
                    detail: "Your email is already verified.".into(),
                });
            }
            persistence::write_transaction(conn, |conn| send_verification(conn, &user, &public_url, now))
        })
        .await?;
    Ok(HttpResponse::Accepted().finish())
}
