//! Users: registration, profile changes and proving an email address.

use chrono::Duration;
use domain::audit::AuditAction;
use domain::{Email, PersonName};
use persistence::user_tokens::{self, Purpose};
use persistence::users::{self, NewUser, ProfileChange, User};
use persistence::{DbConnection, StoreError, write_transaction};
use uuid::Uuid;

use super::audit::Event;
use super::{Actor, Ctx, Shared, family_error};
use crate::auth::secrets;
use crate::email::Message;
use crate::email::kinds::Link;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("verification token unknown, used or expired")]
    VerificationInvalid,
    #[error("the email is verified already")]
    AlreadyVerified,
    #[error(transparent)]
    Shared(Shared),
}
family_error!(UserError);

/// What someone registering gives, already parsed. The password is hashed
/// by the caller, off the request's thread.
pub struct Registration<'a> {
    pub email: &'a Email,
    pub first_name: &'a PersonName,
    pub last_name: &'a PersonName,
    pub password_hash: &'a str,
}

/// Creates an unverified user and emails them a link to verify the
/// address. When the address has a user already, its owner is emailed
/// instead and nothing else changes: the caller cannot tell the two apart,
/// so registering does not reveal who has an account.
pub fn register(conn: &mut DbConnection, ctx: &Ctx<'_>, new: Registration<'_>) -> Result<(), UserError> {
    write_transaction(conn, |conn| {
        // A savepoint, so that losing a race for the address leaves the
        // transaction usable for the owner's notice.
        let inserted = write_transaction(conn, |conn| insert(conn, ctx, &new, false));
        match inserted {
            Ok(user) => {
                send_verification(conn, ctx, &user)?;
                ctx.record(conn, registered(&user))?;
            }
            Err(StoreError::Conflict) => {
                crate::email::enqueue(conn, &Message::RegistrationAttempted.to(new.email.as_str()), ctx.now)?;
            }
            Err(other) => return Err(other.into()),
        }
        Ok(())
    })
}

/// The event of `user`'s registration, by themselves.
pub(crate) fn registered(user: &User) -> Event {
    Event::for_user(user.id, AuditAction::UserRegistered)
        .by(Actor::User(user.id))
        .target("user", user.id, &user.email)
        .set("email", &user.email)
        .set("first_name", &user.first_name)
        .set("last_name", &user.last_name)
}

/// Inserts a user; `verified` when the address was proven another way (an
/// invitation link reached it). [`StoreError::Conflict`]: the email is taken.
pub(crate) fn insert(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    new: &Registration<'_>,
    verified: bool,
) -> Result<User, StoreError> {
    let row = NewUser {
        id: Uuid::now_v7(),
        email: new.email,
        first_name: new.first_name,
        last_name: new.last_name,
        password_hash: Some(new.password_hash),
        email_verified: verified,
        now: ctx.now,
    };
    users::insert(conn, row)
}

/// Changes the names given; the others stay.
pub fn update_profile(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    user: Uuid,
    change: ProfileChange<'_>,
) -> Result<User, UserError> {
    write_transaction(conn, |conn| {
        let before = users::find(conn, user)?.ok_or(UserError::Shared(Shared::UserGone))?;
        let after = users::update_names(conn, user, change, ctx.now)?.ok_or(UserError::Shared(Shared::UserGone))?;
        let event = Event::for_user(user, AuditAction::UserProfileUpdated)
            .target("user", user, &after.email)
            .change("first_name", &before.first_name, &after.first_name)
            .change("last_name", &before.last_name, &after.last_name)
            .change("locale", &before.locale, &after.locale)
            .change("time_zone", &before.time_zone, &after.time_zone);
        ctx.record(conn, event)?;
        Ok(after)
    })
}

/// Spends a verification token: the user's email is verified.
pub fn verify_email(conn: &mut DbConnection, ctx: &Ctx<'_>, token: &str) -> Result<Uuid, UserError> {
    write_transaction(conn, |conn| {
        let holder = user_tokens::spend(conn, Purpose::VerifyEmail, &secrets::digest(token), ctx.now)?
            .ok_or(UserError::VerificationInvalid)?;
        // A link sent to an address the user has since moved away from
        // proves nothing about the new one.
        if !users::mark_verified(conn, holder.user_id, &holder.email, ctx.now)? {
            return Err(UserError::VerificationInvalid);
        }
        let (user, email) = (holder.user_id, holder.email);
        let event = Event::for_user(user, AuditAction::UserEmailVerified)
            .by(Actor::User(user))
            .target("user", user, email)
            .change("email_verified", false, true);
        ctx.record(conn, event)?;
        super::enrollment::enroll(conn, ctx, user)?;
        Ok(user)
    })
}

/// A new verification link, for a user who has not verified yet.
pub fn resend_verification(conn: &mut DbConnection, ctx: &Ctx<'_>, user: Uuid) -> Result<(), UserError> {
    write_transaction(conn, |conn| {
        let user = users::find(conn, user)?.ok_or(UserError::Shared(Shared::UserGone))?;
        if user.email_verified {
            return Err(UserError::AlreadyVerified);
        }
        send_verification(conn, ctx, &user)?;
        ctx.record(
            conn,
            Event::for_user(user.id, AuditAction::UserVerificationSent).target("user", user.id, &user.email),
        )?;
        Ok(())
    })
}

/// Queues an email with a single-use link proving the user owns the address.
fn send_verification(conn: &mut DbConnection, ctx: &Ctx<'_>, user: &User) -> Result<(), UserError> {
    let token = super::credentials::issue(conn, ctx, Purpose::VerifyEmail, user, &user.email, Duration::days(7))?;
    let url = ctx.link(&format!("/verify-email?token={}", token.expose()));
    crate::email::enqueue(conn, &Message::EmailVerification(Link { url }).to(&user.email), ctx.now)?;
    Ok(())
}
