use actix_web::{HttpResponse, post, web};
use chrono::Duration;
use domain::{Email, NewPassword, PersonName};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::flows::sessions::{self, Session, SessionPolicy};
use crate::flows::users::{self, Registration};
use crate::flows::{Actor, Origin};
use crate::http::caller::CurrentUser;
use crate::http::extract::JsonBody;
use crate::http::problem::{ApiError, ParseFields, Problem};
use crate::http::rate_limit::Bucket;
use crate::http::schemas::{
    any_text_schema, email_schema, new_password_schema, password_schema, person_name_schema, token_schema,
};
use crate::http::state::{AppState, RunFlow};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery", "first_name": "Ada", "last_name": "Lovelace"}))]
pub struct RegisterRequest {
    /// Sign-in email; stored trimmed and lower-cased.
    #[schema(schema_with = email_schema)]
    pub email: String,
    /// At least 10 characters, and not the email address.
    #[schema(schema_with = new_password_schema)]
    pub password: String,
    #[schema(schema_with = person_name_schema)]
    pub first_name: String,
    #[schema(schema_with = person_name_schema)]
    pub last_name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery"}))]
pub struct LoginRequest {
    /// The address signed up with; any text (an unknown or malformed one is
    /// answered like a wrong password), but no NUL character.
    #[schema(schema_with = any_text_schema)]
    pub email: String,
    #[schema(schema_with = password_schema)]
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "q3HkV1zJ0nqN4c5mV7Y0f9bXo2kQd8Wm1sTt6uRr3Ea"}))]
pub struct RefreshRequest {
    #[schema(schema_with = token_schema)]
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
    SessionPolicy { keys: &state.tokens, refresh_ttl: Duration::days(i64::from(state.settings.refresh_token_ttl_days)) }
}

/// What registering answers, whether or not the address had a user.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"email": "ada@example.com"}))]
pub struct RegistrationAccepted {
    /// The address as stored: trimmed and lower-cased.
    pub email: String,
}

/// Register a user with email and password.
///
/// The answer is the same whether or not the address has a user, so that
/// registering does not reveal who has an account: a new address gets a
/// user and a link to verify it (sign in with `login` at once), an address
/// with a user gets an email telling its owner that someone tried, and
/// nothing changes.
#[utoipa::path(
    tag = "auth", operation_id = "register", request_body = RegisterRequest,
    responses(
        (status = 429, description = "Too many attempts (`rate_limited`): wait the seconds in `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 202, description = "Registered, or the address's owner told; an email is on its way either way", body = RegistrationAccepted),
    )
)]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    origin: Origin,
    body: JsonBody<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let (email, password, first_name, last_name) = (
        ("email", Email::parse(&body.email)),
        ("password", NewPassword::parse(&body.password, &body.email)),
        ("first_name", PersonName::parse(&body.first_name)),
        ("last_name", PersonName::parse(&body.last_name)),
    )
        .parse_fields()?;
    state.limit(vec![Bucket::Register.hit(origin.client_ip.clone())]).await?;
    let password_hash = state.passwords.hash(password).await?;
    let accepted = RegistrationAccepted { email: email.as_str().to_owned() };
    state
        .flow(Actor::Anonymous, origin, move |conn, ctx| {
            let registration = Registration {
                email: &email,
                first_name: &first_name,
                last_name: &last_name,
                password_hash: &password_hash,
            };
            users::register(conn, ctx, registration)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(accepted))
}

/// Sign in with email and password.
///
/// A wrong password and an unknown email give the same 401
/// (`invalid_credentials`) and take the same time.
#[utoipa::path(
    tag = "auth", operation_id = "login", request_body = LoginRequest,
    responses(
        (status = 429, description = "Too many attempts (`rate_limited`): wait the seconds in `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Wrong email or password (`invalid_credentials`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Right password, but the account that verified this email's domain requires its people to sign in through its identity provider (`sso_required`); `sso_start_url` says where", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    origin: Origin,
    body: JsonBody<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { email, password } = body.0;
    // Counted by the address as typed, whether or not anyone has it, so
    // that the answer says nothing about which addresses exist.
    let typed = email.trim().to_lowercase();
    state.limit(AppState::sign_in_hits(&typed, origin.client_ip.as_deref())).await?;
    // An email that cannot exist still pays for a hash verification.
    let user = match Email::parse(&email) {
        Ok(email) => state.db(move |conn| Ok(persistence::users::find_by_email(conn, &email)?)).await?,
        Err(_) => None,
    };
    let stored_hash = user.as_ref().and_then(|user| user.password_hash.clone());
    let verified = state.passwords.verify(password, stored_hash).await?;
    let user = user.filter(|_| verified).ok_or(ApiError::InvalidCredentials)?;
    state.signed_in(&typed, origin.client_ip.as_deref()).await?;
    let holder = user.clone();
    let required = state.db(move |conn| Ok(crate::flows::sso::required_of(conn, &holder, None)?)).await?;
    if let Some(required) = required {
        return Err(ApiError::SsoRequired {
            start_url: crate::flows::sso::start_url(&state.settings.public_url, required.connection),
        });
    }
    let shared = state.clone();
    let session = state
        .flow(Actor::User(user.id), origin, move |conn, ctx| {
            sessions::start(conn, ctx, &session_policy(&shared), user.id)
        })
        .await?;
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
pub async fn refresh(
    state: web::Data<AppState>,
    origin: Origin,
    body: JsonBody<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = body.0.refresh_token;
    let shared = state.clone();
    let session = state
        .flow(Actor::Anonymous, origin, move |conn, ctx| {
            sessions::rotate(conn, ctx, &session_policy(&shared), &presented)
        })
        .await?;
    Ok(HttpResponse::Ok().json(TokenResponse::from(session)))
}

/// Sign out: revoke the refresh token and every token of its session.
#[utoipa::path(
    tag = "auth", operation_id = "logout", request_body = RefreshRequest,
    responses((status = 204, description = "Signed out (also when the token was unknown)"))
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    origin: Origin,
    body: JsonBody<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = body.0.refresh_token;
    // Unknown tokens are fine (signing out twice is not an error), but
    // something that cannot be a token is a client bug worth reporting.
    if !crate::auth::secrets::is_well_formed(&presented) {
        return Err(ApiError::field("refresh_token", "invalid_format", "Send the refresh token exactly as received."));
    }
    state.flow(Actor::Anonymous, origin, move |conn, ctx| sessions::end(conn, ctx, &presented)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "Xq1vB7nM3kL9pR2sT5wY8zA0cD4fG6hJ1eI3oU5yT7r"}))]
pub struct VerifyEmailRequest {
    /// The token from the verification email.
    #[schema(schema_with = token_schema)]
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
    origin: Origin,
    body: JsonBody<VerifyEmailRequest>,
) -> Result<HttpResponse, ApiError> {
    let token = body.0.token;
    state.flow(Actor::Anonymous, origin, move |conn, ctx| users::verify_email(conn, ctx, &token)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Send a new verification email to the signed-in user.
#[utoipa::path(
    tag = "auth", operation_id = "resend_verification_email", security(("bearer" = [])),
    responses(
        (status = 429, description = "Too many attempts (`rate_limited`): wait the seconds in `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 202, description = "A new email is on its way"),
        (status = 409, description = "Already verified (`already_verified`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/verify-email/resend")]
pub async fn resend_verification_email(
    state: web::Data<AppState>,
    me: CurrentUser,
    origin: Origin,
) -> Result<HttpResponse, ApiError> {
    state.limit(vec![Bucket::VerificationResend.hit(Some(me.id.to_string()))]).await?;
    state.flow(Actor::User(me.id), origin, move |conn, ctx| users::resend_verification(conn, ctx, me.id)).await?;
    Ok(HttpResponse::Accepted().finish())
}
