//! Single-use tokens emailed to a user, stored only as SHA-256 digests:
//! proving an address, resetting a password, moving to a new address.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::user_tokens;
use crate::{DbConnection, StoreError, ids, time};

/// What a token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Prove control of `email`.
    VerifyEmail,
    /// Set a new password.
    ResetPassword,
    /// Make `email` the user's address.
    ChangeEmail,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
            Purpose::ChangeEmail => "change_email",
        }
    }
}

/// A live token's user and the address it was sent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub user_id: Uuid,
    pub email: String,
}

pub struct NewToken<'a> {
    pub purpose: Purpose,
    pub user: Uuid,
    pub email: &'a str,
    pub token_hash: &'a str,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub fn insert(conn: &mut DbConnection, new: NewToken<'_>) -> Result<(), StoreError> {
    diesel::insert_into(user_tokens::table)
        .values((
            user_tokens::token_hash.eq(new.token_hash),
            user_tokens::purpose.eq(new.purpose.as_str()),
            user_tokens::user_id.eq(ids::to_db(new.user)),
            user_tokens::email.eq(new.email),
            user_tokens::created_at.eq(time::to_db(new.now)),
            user_tokens::expires_at.eq(time::to_db(new.expires_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The holder of a live (unused, unexpired) token, without spending it.
pub fn find_live(
    conn: &mut DbConnection,
    purpose: Purpose,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Holder>, StoreError> {
    let found: Option<(String, String)> = user_tokens::table
        .filter(user_tokens::token_hash.eq(token_hash))
        .filter(user_tokens::purpose.eq(purpose.as_str()))
        .filter(user_tokens::used_at.is_null())
        .filter(user_tokens::expires_at.gt(time::to_db(now)))
        .select((user_tokens::user_id, user_tokens::email))
        .first(conn)
        .optional()?;
    found.map(|(user_id, email)| Ok(Holder { user_id: ids::from_db(&user_id)?, email })).transpose()
}

/// Spends a live token: `None` when it is unknown, used, expired or for
/// another purpose. A conditional update, so that of two racing uses one
/// wins.
pub fn spend(
    conn: &mut DbConnection,
    purpose: Purpose,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Holder>, StoreError> {
    let Some(holder) = find_live(conn, purpose, token_hash, now)? else { return Ok(None) };
    let spent = diesel::update(
        user_tokens::table.filter(user_tokens::token_hash.eq(token_hash)).filter(user_tokens::used_at.is_null()),
    )
    .set(user_tokens::used_at.eq(time::to_db(now)))
    .execute(conn)?;
    Ok((spent == 1).then_some(holder))
}

/// Spends every live token of `user` for `purpose`: once a password is
/// reset, older reset links must not work.
pub fn spend_all(conn: &mut DbConnection, purpose: Purpose, user: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::update(
        user_tokens::table
            .filter(user_tokens::user_id.eq(ids::to_db(user)))
            .filter(user_tokens::purpose.eq(purpose.as_str()))
            .filter(user_tokens::used_at.is_null()),
    )
    .set(user_tokens::used_at.eq(time::to_db(now)))
    .execute(conn)?;
    Ok(())
}
