//! Users: registration, profile changes and proving an email address.

use chrono::Duration;
use domain::audit::AuditAction;
use domain::{Email, PersonName};
use persistence::person_erasure::{self, PendingErasure};
use persistence::user_tokens::{self, Purpose};
use persistence::users::{self, NewUser, ProfileChange, User};
use persistence::{DbConnection, StoreError, accounts, invitations, memberships, write_transaction};
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
    /// Erasing oneself while the last owner of these accounts (id, name).
    #[error("the last owner of {} account(s)", .0.len())]
    LastOwnerOf(Vec<(Uuid, String)>),
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

/// How long a single sign-on stands in for re-entering a password.
pub const FRESH_SIGN_IN: Duration = Duration::minutes(10);

/// Erases `user` (GDPR article 17), who proved who they are: refused while
/// they are the last owner of an account; otherwise each membership ends
/// as their leaving (with its audit event), and everything that names them
/// goes or reads as a pseudonym ([`person_erasure`]); the sealer takes them
/// out of the audit log moments later, once these events are sealed.
pub fn erase(conn: &mut DbConnection, ctx: &Ctx<'_>, user: Uuid) -> Result<(), UserError> {
    write_transaction(conn, |conn| {
        let found = users::find(conn, user)?.ok_or(Shared::UserGone)?;
        let mut held = Vec::new();
        let mut sole = Vec::new();
        for account in memberships::accounts_of(conn, user)? {
            // Owner counts and the deletes below see one state.
            accounts::lock(conn, account)?;
            let Some(membership) = memberships::find(conn, account, user)? else { continue };
            if membership.is_owner() && memberships::owner_count(conn, account)? <= 1 {
                sole.push((account, accounts::find(conn, account)?.map(|found| found.name).unwrap_or_default()));
            }
            held.push(membership);
        }
        if !sole.is_empty() {
            return Err(UserError::LastOwnerOf(sole));
        }
        for membership in &held {
            memberships::delete(conn, membership.id)?;
            let revoked = invitations::revoke_pending_for(conn, membership.account_id, &found.email, ctx.now)?;
            let event = Event::in_account(membership.account_id, AuditAction::MemberLeft)
                .target("user", user, &found.email)
                .unset("assignments", super::members::assignments_of(membership))
                .change("pending_invitations_revoked", 0, revoked);
            ctx.record(conn, event)?;
        }
        let emails = person_erasure::emails_of(conn, user, &found.email)?;
        let erasure = PendingErasure {
            user_id: user,
            ids: person_erasure::ids_of(conn, user, &emails)?,
            names: [super::audit::user_name(&found), found.first_name.clone(), found.last_name.clone()]
                .into_iter()
                .filter(|name| !name.trim().is_empty())
                .collect(),
            emails,
            pseudonym: format!("erased user {user}"),
            pseudonym_email: format!("erased-{}@erased.invalid", user.simple()),
        };
        ctx.record(conn, Event::for_user(user, AuditAction::UserErased).target("user", user, &erasure.pseudonym))?;
        person_erasure::forget(conn, &erasure, ctx.now)?;
        Ok(())
    })
}
