//! Changing how one signs in: password change and reset, email change.

use actix_web::{HttpResponse, post, web};
use domain::{Email, NewPassword};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::flows::credentials as flows;
use crate::flows::{Actor, Origin};
use crate::http::caller::CurrentUser;
use crate::http::extract::JsonBody;
use crate::http::problem::{ApiError, ParseFields, Problem};
use crate::http::rate_limit::Bucket;
use crate::http::routes::me::UserProfile;
use crate::http::schemas::{email_schema, new_password_schema, password_schema, token_schema};
use crate::http::state::{AppState, RunFlow};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "correct horse battery", "new_password": "battery staple horse correct"}))]
pub struct ChangePasswordRequest {
    #[schema(schema_with = password_schema)]
    pub current_password: String,
    /// At least 10 characters, and not the email address.
    #[schema(schema_with = new_password_schema)]
    pub new_password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com"}))]
pub struct PasswordResetRequest {
    /// The address the account signs in with.
    #[schema(schema_with = email_schema)]
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "Xq1vB7nM3kL9pR2sT5wY8zA0cD4fG6hJ1eI3oU5yT7r", "new_password": "battery staple horse correct"}))]
pub struct PasswordResetConfirmation {
    /// The token from the reset email's link.
    #[schema(schema_with = token_schema)]
    pub token: String,
    /// At least 10 characters, and not the email address.
    #[schema(schema_with = new_password_schema)]
    pub new_password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada.lovelace@example.org", "current_password": "correct horse battery"}))]
pub struct EmailChangeRequest {
    /// The new address; a link sent there confirms it.
    #[schema(schema_with = email_schema)]
    pub email: String,
    #[schema(schema_with = password_schema)]
    pub current_password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "Xq1vB7nM3kL9pR2sT5wY8zA0cD4fG6hJ1eI3oU5yT7r"}))]
pub struct EmailChangeConfirmation {
    /// The token from the confirmation email's link.
    #[schema(schema_with = token_schema)]
    pub token: String,
}

/// Checks the signed-in user's current password; a wrong one counts as a
/// failed sign-in (and is limited like one). Returns their email.
pub(crate) async fn prove_password(
    state: &web::Data<AppState>,
    me: CurrentUser,
    origin: &Origin,
    password: String,
) -> Result<String, ApiError> {
    let user =
        state.db(move |conn| Ok(persistence::users::find(conn, me.id)?)).await?.ok_or(ApiError::Unauthenticated)?;
    let client_ip = origin.client_ip.as_deref();
    state.limit(AppState::sign_in_hits(&user.email, client_ip)).await?;
    if !state.passwords.verify(password, user.password_hash.clone()).await? {
        return Err(ApiError::PasswordIncorrect);
    }
    state.signed_in(&user.email, client_ip).await?;
    Ok(user.email)
}

/// Change the signed-in user's password.
///
/// Needs the current password. Every other session of the user ends (this
/// one stays), and the user is emailed that the password changed.
#[utoipa::path(
    tag = "me", operation_id = "change_password", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "The password changed; other sessions ended"),
        (status = 403, description = "The current password is wrong (`current_password_incorrect`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts (`rate_limited`): wait the seconds in `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    me: CurrentUser,
    origin: Origin,
    body: JsonBody<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let ChangePasswordRequest { current_password, new_password } = body.0;
    let email = prove_password(&state, me, &origin, current_password).await?;
    let (password,) = (("new_password", NewPassword::parse(&new_password, &email)),).parse_fields()?;
    let hash = state.passwords.hash(password).await?;
    state
        .flow(Actor::User(me.id), origin, move |conn, ctx| flows::change_password(conn, ctx, me.id, &hash, me.session))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ask for a password reset link.
///
/// The answer is the same whether or not the address has an account; if it
/// has, a link valid for one hour is emailed to it.
#[utoipa::path(
    tag = "auth", operation_id = "request_password_reset", request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If the address has an account, a reset link is on its way"),
        (status = 429, description = "Too many attempts (`rate_limited`): wait the seconds in `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/password-reset")]
pub async fn request_password_reset(
    state: web::Data<AppState>,
    origin: Origin,
    body: JsonBody<PasswordResetRequest>,
) -> Result<HttpResponse, ApiError> {
    let (email,) = (("email", Email::parse(&body.0.email)),).parse_fields()?;
    state
        .limit(vec![
            Bucket::PasswordResetIp.hit(origin.client_ip.clone()),
            Bucket::PasswordResetEmail.hit(Some(email.as_str())),
        ])
        .await?;
    state.flow(Actor::Anonymous, origin, move |conn, ctx| flows::request_reset(conn, ctx, &email)).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Set a new password with the token from a reset email.
///
/// The link works once; every session of the user ends, and failed
/// sign-ins counted against the address are forgiven.
#[utoipa::path(
    tag = "auth", operation_id = "reset_password", request_body = PasswordResetConfirmation,
    responses(
        (status = 204, description = "The password changed; every session ended"),
        (status = 409, description = "Unknown, used or expired link (`password_reset_invalid`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/password-reset/confirm")]
pub async fn reset_password(
    state: web::Data<AppState>,
    origin: Origin,
    body: JsonBody<PasswordResetConfirmation>,
) -> Result<HttpResponse, ApiError> {
    let PasswordResetConfirmation { token, new_password } = body.0;
    let presented = token.clone();
    let holder = state
        .flow(Actor::Anonymous, origin.clone(), move |conn, ctx| flows::reset_holder(conn, ctx, &presented))
        .await?;
    let (password,) = (("new_password", NewPassword::parse(&new_password, &holder.email)),).parse_fields()?;
    let hash = state.passwords.hash(password).await?;
    let user =
        state.flow(Actor::Anonymous, origin, move |conn, ctx| flows::reset_password(conn, ctx, &token, &hash)).await?;
    state.forgive_sign_ins(user.email).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Move the signed-in user to a new email address.
///
/// Needs the current password. A link valid for one day goes to the new
/// address; the address changes when it is followed. When another user
/// signs in with that address, its owner is told instead, and the answer is
/// the same, so that the request does not reveal who has an account.
#[utoipa::path(
    tag = "me", operation_id = "request_email_change", security(("bearer" = [])), request_body = EmailChangeRequest,
    responses(
        (status = 202, description = "An email is on its way to the new address: a confirmation link, or, when the address has a user, a notice to its owner"),
        (status = 403, description = "The current password is wrong (`current_password_incorrect`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts (`rate_limited`): wait the seconds in `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/email")]
pub async fn request_email_change(
    state: web::Data<AppState>,
    me: CurrentUser,
    origin: Origin,
    body: JsonBody<EmailChangeRequest>,
) -> Result<HttpResponse, ApiError> {
    let EmailChangeRequest { email, current_password } = body.0;
    let (email,) = (("email", Email::parse(&email)),).parse_fields()?;
    prove_password(&state, me, &origin, current_password).await?;
    state.limit(vec![Bucket::VerificationResend.hit(Some(me.id.to_string()))]).await?;
    state
        .flow(Actor::User(me.id), origin, move |conn, ctx| flows::request_email_change(conn, ctx, me.id, &email))
        .await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Confirm a new email address with the token from the confirmation email.
///
/// The account signs in with the new address from now on; the old address
/// is told.
#[utoipa::path(
    tag = "auth", operation_id = "confirm_email_change", request_body = EmailChangeConfirmation,
    responses(
        (status = 200, description = "The profile, with its new address", body = UserProfile),
        (status = 409, description = "Unknown, used or expired link (`email_change_invalid`), or the address was taken meanwhile (`email_taken`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/email-change/confirm")]
pub async fn confirm_email_change(
    state: web::Data<AppState>,
    origin: Origin,
    body: JsonBody<EmailChangeConfirmation>,
) -> Result<HttpResponse, ApiError> {
    let token = body.0.token;
    let user =
        state.flow(Actor::Anonymous, origin, move |conn, ctx| flows::confirm_email_change(conn, ctx, &token)).await?;
    Ok(HttpResponse::Ok().json(UserProfile::from(user)))
}
