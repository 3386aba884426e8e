use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::{AccountName, BuiltInRole};
use uuid::Uuid;

use crate::schema::{accounts, memberships};
use crate::{DbConnection, StoreError, ids, memberships as membership_repo, time, write_transaction};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts)]
struct AccountRow {
    id: String,
    name: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;

    fn try_from(row: AccountRow) -> Result<Self, StoreError> {
        Ok(Account {
            id: ids::from_db(&row.id)?,
            name: row.name,
            created_at: time::from_db(row.created_at),
            updated_at: time::from_db(row.updated_at),
        })
    }
}

/// Creates the account and makes `owner` its first owner, in one transaction.
pub fn create_with_owner(
    conn: &mut DbConnection,
    name: &AccountName,
    owner: Uuid,
    now: DateTime<Utc>,
) -> Result<Account, StoreError> {
    let row = AccountRow {
        id: ids::to_db(Uuid::now_v7()),
        name: name.as_str().to_owned(),
        created_at: time::to_db(now),
        updated_at: time::to_db(now),
    };
    write_transaction(conn, |conn| {
        diesel::insert_into(accounts::table).values(&row).execute(conn)?;
        let account = Account::try_from(row)?;
        membership_repo::add(conn, account.id, owner, &[BuiltInRole::Owner], now)?;
        Ok(account)
    })
}

pub fn find(conn: &mut DbConnection, id: Uuid) -> Result<Option<Account>, StoreError> {
    accounts::table
        .find(ids::to_db(id))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?
        .map(Account::try_from)
        .transpose()
}

pub fn rename(
    conn: &mut DbConnection,
    id: Uuid,
    name: &AccountName,
    now: DateTime<Utc>,
) -> Result<Option<Account>, StoreError> {
    let updated = diesel::update(accounts::table.find(ids::to_db(id)))
        .set((accounts::name.eq(name.as_str()), accounts::updated_at.eq(time::to_db(now))))
        .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find(conn, id)
}

/// An account seen by one of its members, with the roles they hold there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberAccount {
    pub account: Account,
    pub role_keys: Vec<String>,
}

/// The accounts `user` belongs to, in id order (ids are time-ordered
/// UUIDv7, so this is creation order), after the cursor `after`.
pub fn list_for_member(
    conn: &mut DbConnection,
    user: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<MemberAccount>, StoreError> {
    let mut query = memberships::table
        .inner_join(accounts::table)
        .filter(memberships::user_id.eq(ids::to_db(user)))
        .select((memberships::id, AccountRow::as_select()))
        .order(accounts::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(accounts::id.gt(ids::to_db(after)));
    }
    let rows: Vec<(String, AccountRow)> = query.load(conn)?;
    let membership_ids: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    let mut roles = membership_repo::role_keys_of(conn, &membership_ids)?;
    rows.into_iter()
        .map(|(membership_id, row)| {
            Ok(MemberAccount { account: row.try_into()?, role_keys: roles.remove(&membership_id).unwrap_or_default() })
        })
        .collect()
}
