//! Sessions: one per sign-in, named by the family id of the refresh tokens
//! it rotates through. Ending a session revokes its refresh tokens.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{refresh_tokens, sessions};
use crate::{DbConnection, StoreError, ids, time};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions)]
struct SessionRow {
    id: String,
    user_id: String,
    created_at: NaiveDateTime,
    last_used_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    user_agent: Option<String>,
    client_ip: Option<String>,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        Ok(Session {
            id: ids::from_db(&row.id)?,
            user_id: ids::from_db(&row.user_id)?,
            created_at: time::from_db(row.created_at),
            last_used_at: time::from_db(row.last_used_at),
            expires_at: time::from_db(row.expires_at),
            user_agent: row.user_agent,
            client_ip: row.client_ip,
        })
    }
}

pub struct NewSession<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<&'a str>,
    pub client_ip: Option<&'a str>,
    /// The single sign-on connection the user signed in through, if any.
    pub sso_connection_id: Option<Uuid>,
}

pub fn insert(conn: &mut DbConnection, new: NewSession<'_>) -> Result<(), StoreError> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(ids::to_db(new.id)),
            sessions::user_id.eq(ids::to_db(new.user_id)),
            sessions::created_at.eq(time::to_db(new.now)),
            sessions::last_used_at.eq(time::to_db(new.now)),
            sessions::expires_at.eq(time::to_db(new.expires_at)),
            sessions::user_agent.eq(new.user_agent),
            sessions::client_ip.eq(new.client_ip),
            sessions::sso_connection_id.eq(new.sso_connection_id.map(ids::to_db)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a refresh: used now, alive until the new refresh token expires.
pub fn touch(
    conn: &mut DbConnection,
    id: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(sessions::table.find(ids::to_db(id)))
        .set((sessions::last_used_at.eq(time::to_db(now)), sessions::expires_at.eq(time::to_db(expires_at))))
        .execute(conn)?;
    Ok(())
}

/// The user's sessions that can still be refreshed, newest first.
pub fn list_live(conn: &mut DbConnection, user: Uuid, now: DateTime<Utc>) -> Result<Vec<Session>, StoreError> {
    let rows: Vec<SessionRow> = sessions::table
        .filter(sessions::user_id.eq(ids::to_db(user)))
        .filter(sessions::ended_at.is_null())
        .filter(sessions::expires_at.gt(time::to_db(now)))
        .order((sessions::created_at.desc(), sessions::id.desc()))
        .select(SessionRow::as_select())
        .load(conn)?;
    rows.into_iter().map(Session::try_from).collect()
}

/// Ends the user's live sessions among `which` (every one when `None`)
/// except `keep`, revoking their refresh tokens. Returns the ended ids.
pub fn end(
    conn: &mut DbConnection,
    user: Uuid,
    which: Option<Uuid>,
    keep: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, StoreError> {
    let mut query = sessions::table
        .filter(sessions::user_id.eq(ids::to_db(user)))
        .filter(sessions::ended_at.is_null())
        .select(sessions::id)
        .into_boxed();
    if let Some(which) = which {
        query = query.filter(sessions::id.eq(ids::to_db(which)));
    }
    if let Some(keep) = keep {
        query = query.filter(sessions::id.ne(ids::to_db(keep)));
    }
    let ended: Vec<String> = query.load(conn)?;
    if ended.is_empty() {
        return Ok(Vec::new());
    }
    let now = time::to_db(now);
    for chunk in ended.chunks(crate::db::BATCH_ROWS) {
        diesel::update(sessions::table.filter(sessions::id.eq_any(chunk)))
            .set(sessions::ended_at.eq(now))
            .execute(conn)?;
        diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::family_id.eq_any(chunk))
                .filter(refresh_tokens::revoked_at.is_null()),
        )
        .set(refresh_tokens::revoked_at.eq(now))
        .execute(conn)?;
    }
    ended.iter().map(|id| ids::from_db(id)).collect()
}

/// Whether `session` of `user` began with a single sign-on at or after
/// `since`: a sign-in fresh enough to stand in for re-entering a password.
pub fn signed_in_through_sso_since(
    conn: &mut DbConnection,
    user: Uuid,
    session: Uuid,
    since: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let fresh = sessions::table
        .find(ids::to_db(session))
        .filter(sessions::user_id.eq(ids::to_db(user)))
        .filter(sessions::sso_connection_id.is_not_null())
        .filter(sessions::ended_at.is_null())
        .filter(sessions::created_at.ge(time::to_db(since)));
    Ok(diesel::select(diesel::dsl::exists(fresh)).get_result(conn)?)
}
