//! Sign-in sessions: an access token plus a refresh token that rotates on
//! every use. Presenting a refresh token that was already rotated means it
//! was copied, so the whole family is revoked and everyone holding it must
//! sign in again.

use chrono::{DateTime, Duration, Utc};
use persistence::refresh_tokens::{self, NewRefreshToken};
use persistence::{DbConnection, write_transaction};
use uuid::Uuid;

use super::jwt::{AccessToken, TokenKeys};
use super::secrets::{self, OpaqueToken};
use crate::error::ApiError;

pub struct Session {
    pub access: AccessToken,
    pub refresh: OpaqueToken,
}

pub struct SessionPolicy<'a> {
    pub keys: &'a TokenKeys,
    pub refresh_ttl: Duration,
    pub now: DateTime<Utc>,
}

/// Starts a new session (a new token family) for a user who just proved
/// who they are.
pub fn start(conn: &mut DbConnection, policy: &SessionPolicy<'_>, user: Uuid) -> Result<Session, ApiError> {
    issue(conn, policy, user, Uuid::new_v4())
}

enum Rotation {
    Rotated(Session),
    Refused,
}

/// Exchanges a refresh token for a new session in the same family.
pub fn rotate(conn: &mut DbConnection, policy: &SessionPolicy<'_>, presented: &str) -> Result<Session, ApiError> {
    let outcome = write_transaction(conn, |conn| {
        let Some(token) = refresh_tokens::find_by_hash(conn, &secrets::digest(presented))? else {
            return Ok(Rotation::Refused);
        };
        if token.revoked_at.is_some() || token.expires_at <= policy.now {
            return Ok(Rotation::Refused);
        }
        // A conditional update, so that of two concurrent uses one loses and
        // is treated as the reuse it is.
        if token.used_at.is_some() || !refresh_tokens::mark_used(conn, token.id, policy.now)? {
            refresh_tokens::revoke_family(conn, token.family_id, policy.now)?;
            tracing::warn!(user = %token.user_id, family = %token.family_id, "refresh token reused; session family revoked");
            return Ok(Rotation::Refused);
        }
        issue(conn, policy, token.user_id, token.family_id).map(Rotation::Rotated)
    })?;
    match outcome {
        Rotation::Rotated(session) => Ok(session),
        Rotation::Refused => Err(ApiError::InvalidRefreshToken),
    }
}

/// Ends the session the refresh token belongs to. Unknown tokens are
/// ignored: signing out twice is not an error.
pub fn end(conn: &mut DbConnection, presented: &str, now: DateTime<Utc>) -> Result<(), ApiError> {
    if let Some(token) = refresh_tokens::find_by_hash(conn, &secrets::digest(presented))? {
        refresh_tokens::revoke_family(conn, token.family_id, now)?;
    }
    Ok(())
}

fn issue(conn: &mut DbConnection, policy: &SessionPolicy<'_>, user: Uuid, family: Uuid) -> Result<Session, ApiError> {
    let refresh = OpaqueToken::generate();
    refresh_tokens::insert(
        conn,
        NewRefreshToken {
            user_id: user,
            family_id: family,
            token_hash: &refresh.digest(),
            now: policy.now,
            expires_at: policy.now + policy.refresh_ttl,
        },
    )?;
    let access = policy.keys.issue(user, policy.now).map_err(ApiError::internal)?;
    Ok(Session { access, refresh })
}
