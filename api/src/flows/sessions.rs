//! Sign-in sessions: an access token plus a refresh token that rotates on
//! every use. Presenting a refresh token that was already rotated means it
//! was copied, so the whole family is revoked and everyone holding it must
//! sign in again.

use chrono::Duration;
use domain::audit::AuditAction;
use persistence::refresh_tokens::{self, NewRefreshToken};
use persistence::sessions::{self, NewSession};
use persistence::{DbConnection, write_transaction};
use uuid::Uuid;

use super::audit::Event;
use super::{Actor, Ctx, Shared, family_error};
use crate::auth::jwt::{AccessToken, TokenKeys};
use crate::auth::secrets::{self, OpaqueToken};

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("refresh token invalid, expired or already used")]
    InvalidRefreshToken,
    #[error("no such live session of this user")]
    SessionUnknown,
    #[error("cannot sign an access token: {0}")]
    Signing(String),
    #[error(transparent)]
    Shared(Shared),
}
family_error!(SessionError);

pub struct Session {
    pub access: AccessToken,
    pub refresh: OpaqueToken,
}

/// How sessions are issued.
pub struct SessionPolicy<'a> {
    pub keys: &'a TokenKeys,
    pub refresh_ttl: Duration,
}

/// Starts a new session (a new token family) for a user who just proved
/// who they are with their password or an invitation.
pub fn start(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    policy: &SessionPolicy<'_>,
    user: Uuid,
) -> Result<Session, SessionError> {
    start_through(conn, ctx, policy, user, None)
}

/// Starts a new session for a user who just proved who they are, through
/// the single sign-on connection `sso` if they did so there.
pub fn start_through(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    policy: &SessionPolicy<'_>,
    user: Uuid,
    sso: Option<Uuid>,
) -> Result<Session, SessionError> {
    write_transaction(conn, |conn| {
        let family = Uuid::now_v7();
        let new = NewSession {
            id: family,
            user_id: user,
            now: ctx.now,
            expires_at: ctx.now + policy.refresh_ttl,
            user_agent: ctx.origin.user_agent.as_deref(),
            client_ip: ctx.origin.client_ip.as_deref(),
            sso_connection_id: sso,
        };
        sessions::insert(conn, new).map_err(|error| match error {
            persistence::StoreError::MissingReference => SessionError::Shared(Shared::UserGone),
            other => other.into(),
        })?;
        let session = issue(conn, ctx, policy, user, family)?;
        let mut started = about(user, family, AuditAction::SessionStarted);
        if let Some(connection) = sso {
            started = started.set("sso_connection_id", connection);
        }
        ctx.record(conn, started)?;
        super::enrollment::enroll(conn, ctx, user)?;
        Ok(session)
    })
}

/// Ends one of the user's sessions (it may be the current one).
pub fn end_one(conn: &mut DbConnection, ctx: &Ctx<'_>, user: Uuid, session: Uuid) -> Result<(), SessionError> {
    write_transaction(conn, |conn| {
        let ended = sessions::end(conn, user, Some(session), None, ctx.now)?;
        if ended.is_empty() {
            return Err(SessionError::SessionUnknown);
        }
        ctx.record(conn, about(user, session, AuditAction::SessionEnded))?;
        Ok(())
    })
}

/// Ends every session of the user but `keep`; returns how many ended. In
/// the caller's transaction, for flows that end sessions as part of a
/// bigger change (a new password).
pub(crate) fn end_all_but(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    user: Uuid,
    keep: Option<Uuid>,
) -> Result<usize, persistence::StoreError> {
    let ended = sessions::end(conn, user, None, keep, ctx.now)?;
    for session in &ended {
        ctx.record(conn, about(user, *session, AuditAction::SessionEnded))?;
    }
    Ok(ended.len())
}

/// Ends every session of the user but the current one.
pub fn end_others(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    user: Uuid,
    current: Option<Uuid>,
) -> Result<usize, SessionError> {
    write_transaction(conn, |conn| Ok(end_all_but(conn, ctx, user, current)?))
}

/// An event about one session (a refresh token family) of `user`, by them.
fn about(user: Uuid, family: Uuid, action: AuditAction) -> Event {
    Event::for_user(user, action).by(Actor::User(user)).target("session", family, "session")
}

enum Rotation {
    Rotated(Session),
    Refused,
}

/// Exchanges a refresh token for a new session in the same family.
pub fn rotate(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    policy: &SessionPolicy<'_>,
    presented: &str,
) -> Result<Session, SessionError> {
    let outcome = write_transaction(conn, |conn| -> Result<Rotation, SessionError> {
        let Some(token) = refresh_tokens::find_by_hash(conn, &secrets::digest(presented))? else {
            return Ok(Rotation::Refused);
        };
        if token.revoked_at.is_some() || token.expires_at <= ctx.now {
            return Ok(Rotation::Refused);
        }
        // A conditional update, so that of two concurrent uses one loses and
        // is treated as the reuse it is.
        if token.used_at.is_some() || !refresh_tokens::mark_used(conn, token.id, ctx.now)? {
            sessions::end(conn, token.user_id, Some(token.family_id), None, ctx.now)?;
            tracing::warn!(user = %token.user_id, family = %token.family_id, "refresh token reused; session family revoked");
            return Ok(Rotation::Refused);
        }
        let session = issue(conn, ctx, policy, token.user_id, token.family_id)?;
        sessions::touch(conn, token.family_id, ctx.now, ctx.now + policy.refresh_ttl)?;
        ctx.record(conn, about(token.user_id, token.family_id, AuditAction::SessionRefreshed))?;
        Ok(Rotation::Rotated(session))
    })?;
    match outcome {
        Rotation::Rotated(session) => Ok(session),
        Rotation::Refused => Err(SessionError::InvalidRefreshToken),
    }
}

/// Ends the session the refresh token belongs to. Unknown tokens are
/// ignored: signing out twice is not an error.
pub fn end(conn: &mut DbConnection, ctx: &Ctx<'_>, presented: &str) -> Result<(), SessionError> {
    write_transaction(conn, |conn| {
        if let Some(token) = refresh_tokens::find_by_hash(conn, &secrets::digest(presented))? {
            sessions::end(conn, token.user_id, Some(token.family_id), None, ctx.now)?;
            ctx.record(conn, about(token.user_id, token.family_id, AuditAction::SessionEnded))?;
        }
        Ok(())
    })
}

fn issue(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    policy: &SessionPolicy<'_>,
    user: Uuid,
    family: Uuid,
) -> Result<Session, SessionError> {
    let refresh = OpaqueToken::generate();
    refresh_tokens::insert(
        conn,
        NewRefreshToken {
            user_id: user,
            family_id: family,
            token_hash: &refresh.digest(),
            now: ctx.now,
            expires_at: ctx.now + policy.refresh_ttl,
        },
    )
    .map_err(|error| match error {
        persistence::StoreError::MissingReference => SessionError::Shared(Shared::UserGone),
        other => other.into(),
    })?;
    // Where this session may not act is decided when its tokens are issued:
    // a policy change applies at the next sign-in or refresh.
    let holder = persistence::users::find(conn, user)?.ok_or(SessionError::Shared(Shared::UserGone))?;
    let through = persistence::sso::connection_of_session(conn, family)?;
    let sso_required = super::sso::required_of(conn, &holder, through)?;
    let access = policy
        .keys
        .issue(user, Some(family), sso_required, ctx.now)
        .map_err(|e| SessionError::Signing(e.to_string()))?;
    Ok(Session { access, refresh })
}
