//! How a user signs in, changed: a new password (knowing the old one, or
//! through an emailed reset link) and a new email address (confirmed from
//! the new address, with the old one told). Passwords are hashed by the
//! caller, off the database thread; every change is one transaction with
//! its emails and audit events, and a new password ends other sessions.

use chrono::Duration;
use domain::Email;
use domain::audit::AuditAction;
use persistence::user_tokens::{self, Holder, NewToken, Purpose};
use persistence::users::{self, User};
use persistence::{DbConnection, StoreError, write_transaction};
use uuid::Uuid;

use super::audit::Event;
use super::sessions;
use super::{Actor, Ctx, Shared, family_error};
use crate::auth::secrets::{self, OpaqueToken};
use crate::email::kinds::{EmailChanged, Link};
use crate::email::{self, Message};

/// How long a password reset link works.
pub const RESET_LINK_LIFETIME: Duration = Duration::hours(1);
/// How long a link confirming a new address works.
pub const EMAIL_CHANGE_LINK_LIFETIME: Duration = Duration::days(1);

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("password reset token unknown, used or expired")]
    ResetInvalid,
    #[error("email change token unknown, used or expired")]
    EmailChangeInvalid,
    #[error("a user with this email exists")]
    EmailTaken,
    #[error("the new email is the current one")]
    EmailUnchanged,
    #[error(transparent)]
    Shared(Shared),
}
family_error!(CredentialError);

fn user_event(user: &User, action: AuditAction) -> Event {
    Event::for_user(user.id, action).target("user", user.id, &user.email)
}

/// Sets a new password for a user who proved the old one, and ends their
/// sessions but `current`. Returns how many ended.
pub fn change_password(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    user: Uuid,
    new_hash: &str,
    current: Option<Uuid>,
) -> Result<usize, CredentialError> {
    write_transaction(conn, |conn| {
        let found = users::find(conn, user)?.ok_or(Shared::UserGone)?;
        users::set_password(conn, user, new_hash, ctx.now)?;
        let ended = sessions::end_all_but(conn, ctx, user, current)?;
        email::enqueue(conn, &Message::PasswordChanged.to(&found.email), ctx.now)?;
        ctx.record(conn, user_event(&found, AuditAction::UserPasswordChanged))?;
        Ok(ended)
    })
}

/// Emails a reset link if `email` belongs to someone. Nothing tells the
/// caller whether it did.
pub fn request_reset(conn: &mut DbConnection, ctx: &Ctx<'_>, email: &Email) -> Result<(), CredentialError> {
    write_transaction(conn, |conn| {
        let Some(user) = users::find_by_email(conn, email)? else { return Ok(()) };
        let token = issue(conn, ctx, Purpose::ResetPassword, &user, &user.email, RESET_LINK_LIFETIME)?;
        let url = ctx.link(&format!("/reset-password?token={}", token.expose()));
        email::enqueue(conn, &Message::PasswordReset(Link { url }).to(&user.email), ctx.now)?;
        ctx.record(conn, user_event(&user, AuditAction::UserPasswordResetRequested))?;
        Ok(())
    })
}

/// Whose reset link this is, without using it up: the new password is
/// checked against their address before it is hashed.
pub fn reset_holder(conn: &mut DbConnection, ctx: &Ctx<'_>, token: &str) -> Result<Holder, CredentialError> {
    user_tokens::find_live(conn, Purpose::ResetPassword, &secrets::digest(token), ctx.now)?
        .ok_or(CredentialError::ResetInvalid)
}

/// Uses a reset link: the new password replaces the old, every reset link
/// of the user stops working and every session ends. Returns the user.
pub fn reset_password(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    token: &str,
    new_hash: &str,
) -> Result<User, CredentialError> {
    write_transaction(conn, |conn| {
        let holder = user_tokens::spend(conn, Purpose::ResetPassword, &secrets::digest(token), ctx.now)?
            .ok_or(CredentialError::ResetInvalid)?;
        let user = users::find(conn, holder.user_id)?.ok_or(CredentialError::ResetInvalid)?;
        users::set_password(conn, user.id, new_hash, ctx.now)?;
        user_tokens::spend_all(conn, Purpose::ResetPassword, user.id, ctx.now)?;
        sessions::end_all_but(conn, ctx, user.id, None)?;
        email::enqueue(conn, &Message::PasswordChanged.to(&user.email), ctx.now)?;
        ctx.record(conn, user_event(&user, AuditAction::UserPasswordReset).by(Actor::User(user.id)))?;
        Ok(user)
    })
}

/// Sends a confirmation link to `new_email`; the address changes only when
/// it is followed. When another user signs in with `new_email`, that user is
/// told instead and the caller gets the same answer, so that the request
/// does not reveal who has an account.
pub fn request_email_change(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    user: Uuid,
    new_email: &Email,
) -> Result<(), CredentialError> {
    write_transaction(conn, |conn| {
        let found = users::find(conn, user)?.ok_or(Shared::UserGone)?;
        if found.email == new_email.as_str() {
            return Err(CredentialError::EmailUnchanged);
        }
        let message = if users::find_by_email(conn, new_email)?.is_some() {
            Message::EmailChangeAttempted.to(new_email.as_str())
        } else {
            let token = issue(conn, ctx, Purpose::ChangeEmail, &found, new_email.as_str(), EMAIL_CHANGE_LINK_LIFETIME)?;
            let url = ctx.link(&format!("/confirm-email-change?token={}", token.expose()));
            Message::EmailChange(Link { url }).to(new_email.as_str())
        };
        email::enqueue(conn, &message, ctx.now)?;
        ctx.record(
            conn,
            user_event(&found, AuditAction::UserEmailChangeRequested).set("new_email", new_email.as_str()),
        )?;
        Ok(())
    })
}

/// Follows a confirmation link: the user signs in with the new address
/// from now on, and the old address is told.
pub fn confirm_email_change(conn: &mut DbConnection, ctx: &Ctx<'_>, token: &str) -> Result<User, CredentialError> {
    write_transaction(conn, |conn| {
        let holder = user_tokens::spend(conn, Purpose::ChangeEmail, &secrets::digest(token), ctx.now)?
            .ok_or(CredentialError::EmailChangeInvalid)?;
        let before = users::find(conn, holder.user_id)?.ok_or(CredentialError::EmailChangeInvalid)?;
        let new_email = Email::parse(&holder.email).map_err(|_| CredentialError::EmailChangeInvalid)?;
        users::change_email(conn, before.id, &new_email, ctx.now).map_err(|error| match error {
            StoreError::Conflict => CredentialError::EmailTaken,
            other => other.into(),
        })?;
        let after = users::find(conn, before.id)?.ok_or(CredentialError::EmailChangeInvalid)?;
        email::enqueue(
            conn,
            &Message::EmailChanged(EmailChanged { new_email: after.email.clone() }).to(&before.email),
            ctx.now,
        )?;
        let event = Event::for_user(after.id, AuditAction::UserEmailChanged)
            .by(Actor::User(after.id))
            .target("user", after.id, &after.email)
            .change("email", &before.email, &after.email);
        ctx.record(conn, event)?;
        Ok(after)
    })
}

/// A new single-use token for `purpose`, sent to `email`.
pub(crate) fn issue(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    purpose: Purpose,
    user: &User,
    email: &str,
    lifetime: Duration,
) -> Result<OpaqueToken, StoreError> {
    let token = OpaqueToken::generate();
    let new = NewToken {
        purpose,
        user: user.id,
        email,
        token_hash: &token.digest(),
        now: ctx.now,
        expires_at: ctx.now + lifetime,
    };
    user_tokens::insert(conn, new)?;
    Ok(token)
}
