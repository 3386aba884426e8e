//! Join requests. Decisions are conditional updates (`… WHERE status =
//! 'pending'`), so of two racing decisions exactly one takes effect.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::join::JoinRequestStatus;
use uuid::Uuid;

use crate::schema::{accounts, join_requests, users};
use crate::{DbConnection, StoreError, ids, time};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequest {
    pub id: Uuid,
    pub account_id: Uuid,
    pub account_name: String,
    pub requester: Requester,
    pub link_id: Option<Uuid>,
    pub group_id: Option<Uuid>,
    pub message: String,
    pub status: JoinRequestStatus,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<Uuid>,
    pub reason: Option<String>,
}

/// Who asks to join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requester {
    pub user_id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = join_requests, treat_none_as_default_value = false)]
struct RequestRow {
    id: String,
    account_id: String,
    user_id: String,
    link_id: Option<String>,
    group_id: Option<String>,
    message: String,
    status: String,
    created_at: NaiveDateTime,
    decided_at: Option<NaiveDateTime>,
    decided_by: Option<String>,
    reason: Option<String>,
}

type Joined = (RequestRow, String, String, String, String);

fn hydrate((row, account_name, email, first_name, last_name): Joined) -> Result<JoinRequest, StoreError> {
    Ok(JoinRequest {
        id: ids::from_db(&row.id)?,
        account_id: ids::from_db(&row.account_id)?,
        account_name,
        requester: Requester { user_id: ids::from_db(&row.user_id)?, email, first_name, last_name },
        link_id: row.link_id.as_deref().map(ids::from_db).transpose()?,
        group_id: row.group_id.as_deref().map(ids::from_db).transpose()?,
        message: row.message,
        status: JoinRequestStatus::parse(&row.status)
            .map_err(|_| StoreError::Corrupt(format!("join request status {:?}", row.status)))?,
        created_at: time::from_db(row.created_at),
        decided_at: row.decided_at.map(time::from_db),
        decided_by: row.decided_by.as_deref().map(ids::from_db).transpose()?,
        reason: row.reason,
    })
}

macro_rules! with_people {
    () => {
        join_requests::table.inner_join(users::table).inner_join(accounts::table).select((
            RequestRow::as_select(),
            accounts::name,
            users::email,
            users::first_name,
            users::last_name,
        ))
    };
}

pub struct NewJoinRequest<'a> {
    pub account_id: Uuid,
    pub user_id: Uuid,
    /// The join link used; none when the user asked from their suggested
    /// accounts (an account that verified their email's domain).
    pub link_id: Option<Uuid>,
    pub group_id: Option<Uuid>,
    pub message: &'a str,
}

/// Files a request. [`StoreError::Conflict`] when the user already has a
/// pending request to the account.
pub fn insert(conn: &mut DbConnection, new: NewJoinRequest<'_>, now: DateTime<Utc>) -> Result<JoinRequest, StoreError> {
    let id = Uuid::now_v7();
    let row = RequestRow {
        id: ids::to_db(id),
        account_id: ids::to_db(new.account_id),
        user_id: ids::to_db(new.user_id),
        link_id: new.link_id.map(ids::to_db),
        group_id: new.group_id.map(ids::to_db),
        message: new.message.to_owned(),
        status: JoinRequestStatus::Pending.key().to_owned(),
        created_at: time::to_db(now),
        decided_at: None,
        decided_by: None,
        reason: None,
    };
    diesel::insert_into(join_requests::table).values(&row).execute(conn)?;
    find_by_id(conn, id)?.ok_or_else(|| StoreError::Corrupt("the new join request is missing".into()))
}

fn find_by_id(conn: &mut DbConnection, id: Uuid) -> Result<Option<JoinRequest>, StoreError> {
    with_people!()
        .filter(join_requests::id.eq(ids::to_db(id)))
        .first::<Joined>(conn)
        .optional()?
        .map(hydrate)
        .transpose()
}

/// A request to `account`; requests to other accounts are not found.
pub fn find(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<Option<JoinRequest>, StoreError> {
    Ok(find_by_id(conn, id)?.filter(|request| request.account_id == account))
}

/// A request filed by `user`; other people's are not found.
pub fn find_for_user(conn: &mut DbConnection, user: Uuid, id: Uuid) -> Result<Option<JoinRequest>, StoreError> {
    Ok(find_by_id(conn, id)?.filter(|request| request.requester.user_id == user))
}

/// The id of `user`'s request to `account` that waits for a decision.
pub fn pending_of(conn: &mut DbConnection, account: Uuid, user: Uuid) -> Result<Option<Uuid>, StoreError> {
    let id: Option<String> = join_requests::table
        .filter(join_requests::account_id.eq(ids::to_db(account)))
        .filter(join_requests::user_id.eq(ids::to_db(user)))
        .filter(join_requests::status.eq(JoinRequestStatus::Pending.key()))
        .select(join_requests::id)
        .first(conn)
        .optional()?;
    id.as_deref().map(ids::from_db).transpose()
}

pub enum Scope {
    Account(Uuid),
    User(Uuid),
}

/// Requests to an account or by a user, in filing order.
pub fn list(
    conn: &mut DbConnection,
    scope: Scope,
    status: Option<JoinRequestStatus>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<JoinRequest>, StoreError> {
    let mut query = with_people!().order(join_requests::id.asc()).limit(limit).into_boxed();
    query = match scope {
        Scope::Account(account) => query.filter(join_requests::account_id.eq(ids::to_db(account))),
        Scope::User(user) => query.filter(join_requests::user_id.eq(ids::to_db(user))),
    };
    if let Some(status) = status {
        query = query.filter(join_requests::status.eq(status.key()));
    }
    if let Some(after) = after {
        query = query.filter(join_requests::id.gt(ids::to_db(after)));
    }
    query.load::<Joined>(conn)?.into_iter().map(hydrate).collect()
}

/// Moves a pending request to a final status; false when it was no longer
/// pending.
pub fn decide(
    conn: &mut DbConnection,
    id: Uuid,
    status: JoinRequestStatus,
    decided_by: Option<Uuid>,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let updated = diesel::update(
        join_requests::table
            .filter(join_requests::id.eq(ids::to_db(id)))
            .filter(join_requests::status.eq(JoinRequestStatus::Pending.key())),
    )
    .set((
        join_requests::status.eq(status.key()),
        join_requests::decided_at.eq(time::to_db(now)),
        join_requests::decided_by.eq(decided_by.map(ids::to_db)),
        join_requests::reason.eq(reason),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}
