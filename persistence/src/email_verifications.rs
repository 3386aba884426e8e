//! Single-use tokens proving a user controls their email address.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{email_verifications, users};
use crate::{DbConnection, StoreError, ids, time};

pub fn insert(
    conn: &mut DbConnection,
    user: Uuid,
    email: &str,
    token_hash: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(email_verifications::table)
        .values((
            email_verifications::token_hash.eq(token_hash),
            email_verifications::user_id.eq(ids::to_db(user)),
            email_verifications::email.eq(email),
            email_verifications::created_at.eq(time::to_db(now)),
            email_verifications::expires_at.eq(time::to_db(expires_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Spends a live token and marks its user's email verified, if the user
/// still has the address the token was sent to. Returns the user's id.
pub fn consume(conn: &mut DbConnection, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Uuid>, StoreError> {
    let now = time::to_db(now);
    let found: Option<(String, String)> = email_verifications::table
        .filter(email_verifications::token_hash.eq(token_hash))
        .filter(email_verifications::used_at.is_null())
        .filter(email_verifications::expires_at.gt(now))
        .select((email_verifications::user_id, email_verifications::email))
        .first(conn)
        .optional()?;
    let Some((user_id, email)) = found else { return Ok(None) };
    let spent = diesel::update(
        email_verifications::table
            .filter(email_verifications::token_hash.eq(token_hash))
            .filter(email_verifications::used_at.is_null()),
    )
    .set(email_verifications::used_at.eq(now))
    .execute(conn)?;
    let verified = diesel::update(users::table.find(&user_id).filter(users::email.eq(&email)))
        .set((users::email_verified.eq(true), users::updated_at.eq(now)))
        .execute(conn)?;
    if spent == 1 && verified == 1 { Ok(Some(ids::from_db(&user_id)?)) } else { Ok(None) }
}
