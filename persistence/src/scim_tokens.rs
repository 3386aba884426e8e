//! The tokens an account's directory provisions it with over SCIM: stored
//! as digests, scoped to one account on every query but the lookup by
//! digest that authenticates a request.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::scim_tokens;
use crate::{DbConnection, StoreError, ids, time};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimToken {
    pub id: Uuid,
    pub account_id: Uuid,
    pub name: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = scim_tokens)]
struct TokenRow {
    id: String,
    account_id: String,
    name: String,
    created_by: Option<String>,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

impl TryFrom<TokenRow> for ScimToken {
    type Error = StoreError;

    fn try_from(row: TokenRow) -> Result<Self, StoreError> {
        Ok(ScimToken {
            id: ids::from_db(&row.id)?,
            account_id: ids::from_db(&row.account_id)?,
            name: row.name,
            created_by: row.created_by.as_deref().map(ids::from_db).transpose()?,
            created_at: time::from_db(row.created_at),
            last_used_at: row.last_used_at.map(time::from_db),
            revoked_at: row.revoked_at.map(time::from_db),
        })
    }
}

pub fn insert(
    conn: &mut DbConnection,
    account: Uuid,
    name: &str,
    digest: &str,
    created_by: Uuid,
    now: DateTime<Utc>,
) -> Result<ScimToken, StoreError> {
    let id = Uuid::now_v7();
    diesel::insert_into(scim_tokens::table)
        .values((
            scim_tokens::id.eq(ids::to_db(id)),
            scim_tokens::account_id.eq(ids::to_db(account)),
            scim_tokens::name.eq(name),
            scim_tokens::token_digest.eq(digest),
            scim_tokens::created_by.eq(ids::to_db(created_by)),
            scim_tokens::created_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
    find(conn, account, id)?.ok_or_else(|| StoreError::Corrupt(format!("scim token {id} vanished while written")))
}

pub fn find(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<Option<ScimToken>, StoreError> {
    let row: Option<TokenRow> = scim_tokens::table
        .find(ids::to_db(id))
        .filter(scim_tokens::account_id.eq(ids::to_db(account)))
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?;
    row.map(ScimToken::try_from).transpose()
}

/// Token `id`, of whichever account (naming an audit event's actor).
pub fn find_any(conn: &mut DbConnection, id: Uuid) -> Result<Option<ScimToken>, StoreError> {
    let row: Option<TokenRow> =
        scim_tokens::table.find(ids::to_db(id)).select(TokenRow::as_select()).first(conn).optional()?;
    row.map(ScimToken::try_from).transpose()
}

/// The account's tokens, oldest first, revoked ones included.
pub fn list(conn: &mut DbConnection, account: Uuid) -> Result<Vec<ScimToken>, StoreError> {
    let rows: Vec<TokenRow> = scim_tokens::table
        .filter(scim_tokens::account_id.eq(ids::to_db(account)))
        .order(scim_tokens::id.asc())
        .select(TokenRow::as_select())
        .load(conn)?;
    rows.into_iter().map(ScimToken::try_from).collect()
}

/// The live token with this digest and its account's plan, in one read
/// (every SCIM request asks both); none while the account waits for its
/// deletion.
pub fn live_with_plan(conn: &mut DbConnection, digest: &str) -> Result<Option<(ScimToken, String)>, StoreError> {
    let row: Option<(TokenRow, String)> = scim_tokens::table
        .inner_join(crate::schema::accounts::table)
        .filter(scim_tokens::token_digest.eq(digest))
        .filter(scim_tokens::revoked_at.is_null())
        .filter(crate::not_pending_deletion!(scim_tokens::account_id))
        .select((TokenRow::as_select(), crate::schema::accounts::plan))
        .first(conn)
        .optional()?;
    row.map(|(token, plan)| Ok((ScimToken::try_from(token)?, plan))).transpose()
}

/// Revokes the account's token `id`; whether it was live.
pub fn revoke(conn: &mut DbConnection, account: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let revoked = diesel::update(
        scim_tokens::table
            .find(ids::to_db(id))
            .filter(scim_tokens::account_id.eq(ids::to_db(account)))
            .filter(scim_tokens::revoked_at.is_null()),
    )
    .set(scim_tokens::revoked_at.eq(time::to_db(now)))
    .execute(conn)?;
    Ok(revoked > 0)
}

/// Records a use of token `id`.
pub fn touch(conn: &mut DbConnection, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::update(scim_tokens::table.find(ids::to_db(id)))
        .set(scim_tokens::last_used_at.eq(time::to_db(now)))
        .execute(conn)?;
    Ok(())
}
