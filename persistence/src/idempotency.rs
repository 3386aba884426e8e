//! Stored responses for `Idempotency-Key`. A key is claimed with an insert
//! (the primary key makes one of two racing requests lose), completed with
//! the response, or released when the request failed on the server's side
//! so that a retry runs it again.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::idempotency_keys;
use crate::{DbConnection, StoreError, ids, time};

/// How long a key is remembered.
pub const RETENTION: Duration = Duration::hours(24);
/// A claim older than this whose request never completed (the process died
/// mid-request) may be taken over by a retry.
pub const ABANDONED_AFTER: Duration = Duration::minutes(1);

/// A response as it was first sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: String,
}

/// What to do with a request carrying a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First time: carry it out, then [`complete`] or [`release`].
    Proceed,
    /// Answer with the first response.
    Replay(StoredResponse),
    /// The same key came with a different request.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
struct KeyRow {
    fingerprint: String,
    created_at: NaiveDateTime,
    status: Option<i32>,
    content_type: Option<String>,
    location: Option<String>,
    body: Option<String>,
}

pub fn claim(
    conn: &mut DbConnection,
    user: Uuid,
    key: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<Claim, StoreError> {
    // No transaction: the insert alone decides between racing requests,
    // and a failed insert would abort a PostgreSQL transaction.
    let user = ids::to_db(user);
    let scoped =
        || idempotency_keys::table.filter(idempotency_keys::user_id.eq(&user)).filter(idempotency_keys::key.eq(key));
    let existing: Option<KeyRow> = scoped().select(KeyRow::as_select()).first(conn).optional()?;
    if let Some(row) = existing {
        let age = now - time::from_db(row.created_at);
        let forgotten = age > RETENTION || (row.status.is_none() && age > ABANDONED_AFTER);
        if !forgotten {
            if row.fingerprint != fingerprint {
                return Ok(Claim::Mismatch);
            }
            return Ok(match (row.status, row.body) {
                (Some(status), Some(body)) => Claim::Replay(StoredResponse {
                    status: u16::try_from(status).unwrap_or(500),
                    content_type: row.content_type,
                    location: row.location,
                    body,
                }),
                _ => Claim::InProgress,
            });
        }
        diesel::delete(scoped()).execute(conn)?;
    }
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(&user),
            idempotency_keys::key.eq(key),
            idempotency_keys::fingerprint.eq(fingerprint),
            idempotency_keys::created_at.eq(time::to_db(now)),
        ))
        .execute(conn);
    match inserted.map_err(StoreError::from) {
        Ok(_) => Ok(Claim::Proceed),
        // Another request claimed the key between our read and insert.
        Err(StoreError::Conflict) => Ok(Claim::InProgress),
        Err(other) => Err(other),
    }
}

pub fn complete(conn: &mut DbConnection, user: Uuid, key: &str, response: &StoredResponse) -> Result<(), StoreError> {
    diesel::update(
        idempotency_keys::table
            .filter(idempotency_keys::user_id.eq(ids::to_db(user)))
            .filter(idempotency_keys::key.eq(key)),
    )
    .set((
        idempotency_keys::status.eq(i32::from(response.status)),
        idempotency_keys::content_type.eq(&response.content_type),
        idempotency_keys::location.eq(&response.location),
        idempotency_keys::body.eq(&response.body),
    ))
    .execute(conn)?;
    Ok(())
}

pub fn release(conn: &mut DbConnection, user: Uuid, key: &str) -> Result<(), StoreError> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::user_id.eq(ids::to_db(user)))
            .filter(idempotency_keys::key.eq(key))
            .filter(idempotency_keys::status.is_null()),
    )
    .execute(conn)?;
    Ok(())
}

/// Forgets keys past [`RETENTION`].
pub fn purge_expired(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(time::to_db(now - RETENTION))))
        .execute(conn)?)
}
