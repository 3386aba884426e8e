//! Refresh tokens, stored only as SHA-256 digests and grouped in families:
//! each use replaces a token by a successor in the same family, and a reused
//! (already replaced) token revokes the family, ending a stolen session.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::refresh_tokens;
use crate::{DbConnection, StoreError, ids, time};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub family_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
struct RefreshTokenRow {
    id: String,
    user_id: String,
    family_id: String,
    token_hash: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

impl TryFrom<RefreshTokenRow> for RefreshToken {
    type Error = StoreError;

    fn try_from(row: RefreshTokenRow) -> Result<Self, StoreError> {
        Ok(RefreshToken {
            id: ids::from_db(&row.id)?,
            user_id: ids::from_db(&row.user_id)?,
            family_id: ids::from_db(&row.family_id)?,
            expires_at: time::from_db(row.expires_at),
            used_at: row.used_at.map(time::from_db),
            revoked_at: row.revoked_at.map(time::from_db),
        })
    }
}

pub struct NewRefreshToken<'a> {
    pub user_id: Uuid,
    pub family_id: Uuid,
    pub token_hash: &'a str,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub fn insert(conn: &mut DbConnection, new: NewRefreshToken<'_>) -> Result<(), StoreError> {
    let row = RefreshTokenRow {
        id: ids::to_db(Uuid::new_v4()),
        user_id: ids::to_db(new.user_id),
        family_id: ids::to_db(new.family_id),
        token_hash: new.token_hash.to_owned(),
        created_at: time::to_db(new.now),
        expires_at: time::to_db(new.expires_at),
        used_at: None,
        revoked_at: None,
    };
    diesel::insert_into(refresh_tokens::table).values(&row).execute(conn)?;
    Ok(())
}

pub fn find_by_hash(conn: &mut DbConnection, token_hash: &str) -> Result<Option<RefreshToken>, StoreError> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .optional()?
        .map(RefreshToken::try_from)
        .transpose()
}

/// Marks a live token used. Returns false when it was already used or
/// revoked, so two concurrent refreshes cannot both succeed.
pub fn mark_used(conn: &mut DbConnection, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let updated = diesel::update(
        refresh_tokens::table
            .find(ids::to_db(id))
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(time::to_db(now)))
    .execute(conn)?;
    Ok(updated == 1)
}
