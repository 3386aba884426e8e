//! Join links. Every query but the token lookup is scoped to one account.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::join::{JoinLinkLimits, JoinLinkState};
use uuid::Uuid;

use crate::schema::join_links;
use crate::{DbConnection, StoreError, ids, time};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinLink {
    pub id: Uuid,
    pub account_id: Uuid,
    /// Joiners are added to this group on approval.
    pub group_id: Option<Uuid>,
    pub state: JoinLinkState,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = join_links, treat_none_as_default_value = false)]
struct LinkRow {
    id: String,
    account_id: String,
    token_hash: String,
    group_id: Option<String>,
    expires_at: Option<NaiveDateTime>,
    max_uses: Option<i32>,
    uses: i32,
    created_by: String,
    created_at: NaiveDateTime,
    rotated_at: Option<NaiveDateTime>,
    disabled_at: Option<NaiveDateTime>,
}

impl TryFrom<LinkRow> for JoinLink {
    type Error = StoreError;

    fn try_from(row: LinkRow) -> Result<Self, StoreError> {
        Ok(JoinLink {
            id: ids::from_db(&row.id)?,
            account_id: ids::from_db(&row.account_id)?,
            group_id: row.group_id.as_deref().map(ids::from_db).transpose()?,
            state: JoinLinkState {
                limits: JoinLinkLimits {
                    expires_at: row.expires_at.map(time::from_db),
                    max_uses: row.max_uses.and_then(|max| u32::try_from(max).ok()),
                },
                uses: u32::try_from(row.uses).unwrap_or(0),
                disabled_at: row.disabled_at.map(time::from_db),
            },
            created_by: ids::from_db(&row.created_by)?,
            created_at: time::from_db(row.created_at),
            rotated_at: row.rotated_at.map(time::from_db),
        })
    }
}

pub struct NewJoinLink<'a> {
    pub account_id: Uuid,
    pub group_id: Option<Uuid>,
    pub limits: JoinLinkLimits,
    pub token_hash: &'a str,
    pub created_by: Uuid,
}

pub fn create(conn: &mut DbConnection, new: NewJoinLink<'_>, now: DateTime<Utc>) -> Result<JoinLink, StoreError> {
    let row = LinkRow {
        id: ids::to_db(Uuid::now_v7()),
        account_id: ids::to_db(new.account_id),
        token_hash: new.token_hash.to_owned(),
        group_id: new.group_id.map(ids::to_db),
        expires_at: new.limits.expires_at.map(time::to_db),
        max_uses: new.limits.max_uses.map(|max| i32::try_from(max).unwrap_or(i32::MAX)),
        uses: 0,
        created_by: ids::to_db(new.created_by),
        created_at: time::to_db(now),
        rotated_at: None,
        disabled_at: None,
    };
    diesel::insert_into(join_links::table).values(&row).execute(conn)?;
    row.try_into()
}

pub fn find(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<Option<JoinLink>, StoreError> {
    join_links::table
        .filter(join_links::account_id.eq(ids::to_db(account)))
        .find(ids::to_db(id))
        .select(LinkRow::as_select())
        .first(conn)
        .optional()?
        .map(JoinLink::try_from)
        .transpose()
}

/// The link with this token; none of an account waiting for its deletion.
pub fn find_by_token_hash(conn: &mut DbConnection, token_hash: &str) -> Result<Option<JoinLink>, StoreError> {
    join_links::table
        .filter(join_links::token_hash.eq(token_hash))
        .filter(crate::not_pending_deletion!(join_links::account_id))
        .select(LinkRow::as_select())
        .first(conn)
        .optional()?
        .map(JoinLink::try_from)
        .transpose()
}

/// An account's links in creation order.
pub fn list(
    conn: &mut DbConnection,
    account: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<JoinLink>, StoreError> {
    let mut query = join_links::table
        .filter(join_links::account_id.eq(ids::to_db(account)))
        .select(LinkRow::as_select())
        .order(join_links::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(join_links::id.gt(ids::to_db(after)));
    }
    query.load(conn)?.into_iter().map(JoinLink::try_from).collect()
}

/// Counts one use of the link with this token if it is usable at `now`
/// ([`JoinLinkState::check_usable`] as one conditional update); false when
/// it is unknown or unusable. Of joins racing for the last use exactly one
/// wins: the others find `uses = max_uses`.
pub fn use_once(conn: &mut DbConnection, token_hash: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let now = time::to_db(now);
    let updated = diesel::update(
        join_links::table
            .filter(join_links::token_hash.eq(token_hash))
            .filter(join_links::disabled_at.is_null())
            .filter(join_links::expires_at.is_null().or(join_links::expires_at.gt(now)))
            .filter(join_links::max_uses.is_null().or(join_links::uses.lt(join_links::max_uses.assume_not_null()))),
    )
    .set(join_links::uses.eq(join_links::uses + 1))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Gives the link a new token; the old one stops working at once. False
/// when the link is disabled (or not the account's).
pub fn rotate(
    conn: &mut DbConnection,
    account: Uuid,
    id: Uuid,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let updated = diesel::update(
        join_links::table
            .filter(join_links::account_id.eq(ids::to_db(account)))
            .filter(join_links::id.eq(ids::to_db(id)))
            .filter(join_links::disabled_at.is_null()),
    )
    .set((join_links::token_hash.eq(token_hash), join_links::rotated_at.eq(time::to_db(now))))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Disables the link for good; disabling twice keeps the first time.
pub fn disable(conn: &mut DbConnection, account: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::update(
        join_links::table
            .filter(join_links::account_id.eq(ids::to_db(account)))
            .filter(join_links::id.eq(ids::to_db(id)))
            .filter(join_links::disabled_at.is_null()),
    )
    .set(join_links::disabled_at.eq(time::to_db(now)))
    .execute(conn)?;
    Ok(())
}
