//! The company's contacts, scoped to one account on every query.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::contact::ContactKind;
use uuid::Uuid;

use crate::schema::contacts;
use crate::{DbConnection, StoreError, ids, time};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: Uuid,
    pub account_id: Uuid,
    pub kind: ContactKind,
    pub name: String,
    pub email: String,
    /// E.164.
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a contact says, as written.
pub struct ContactFields<'a> {
    pub kind: ContactKind,
    pub name: &'a str,
    pub email: &'a str,
    pub phone: Option<&'a str>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = contacts)]
struct ContactRow {
    id: String,
    account_id: String,
    kind: String,
    name: String,
    email: String,
    phone: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<ContactRow> for Contact {
    type Error = StoreError;

    fn try_from(row: ContactRow) -> Result<Self, StoreError> {
        Ok(Contact {
            id: ids::from_db(&row.id)?,
            account_id: ids::from_db(&row.account_id)?,
            kind: ContactKind::parse(&row.kind).map_err(|e| StoreError::Corrupt(format!("contact {}: {e}", row.id)))?,
            name: row.name,
            email: row.email,
            phone: row.phone,
            created_at: time::from_db(row.created_at),
            updated_at: time::from_db(row.updated_at),
        })
    }
}

/// Adds a contact. [`StoreError::Conflict`] when it would be a second
/// primary contact.
pub fn insert(
    conn: &mut DbConnection,
    account: Uuid,
    fields: &ContactFields<'_>,
    now: DateTime<Utc>,
) -> Result<Contact, StoreError> {
    let id = Uuid::now_v7();
    diesel::insert_into(contacts::table)
        .values((
            contacts::id.eq(ids::to_db(id)),
            contacts::account_id.eq(ids::to_db(account)),
            contacts::kind.eq(fields.kind.key()),
            contacts::name.eq(fields.name),
            contacts::email.eq(fields.email),
            contacts::phone.eq(fields.phone),
            contacts::created_at.eq(time::to_db(now)),
            contacts::updated_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
    find(conn, account, id)?.ok_or_else(|| StoreError::Corrupt(format!("contact {id} vanished while written")))
}

pub fn find(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<Option<Contact>, StoreError> {
    let row: Option<ContactRow> = contacts::table
        .find(ids::to_db(id))
        .filter(contacts::account_id.eq(ids::to_db(account)))
        .select(ContactRow::as_select())
        .first(conn)
        .optional()?;
    row.map(Contact::try_from).transpose()
}

/// The account's contacts, oldest first.
pub fn list(conn: &mut DbConnection, account: Uuid) -> Result<Vec<Contact>, StoreError> {
    let rows: Vec<ContactRow> = contacts::table
        .filter(contacts::account_id.eq(ids::to_db(account)))
        .order(contacts::id.asc())
        .select(ContactRow::as_select())
        .load(conn)?;
    rows.into_iter().map(Contact::try_from).collect()
}

/// Whether the account has a primary contact other than `except`.
pub fn primary_exists(conn: &mut DbConnection, account: Uuid, except: Option<Uuid>) -> Result<bool, StoreError> {
    let found: Option<String> = contacts::table
        .filter(contacts::account_id.eq(ids::to_db(account)))
        .filter(contacts::kind.eq(ContactKind::Primary.key()))
        .select(contacts::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some_and(|id| except.is_none_or(|except| id != ids::to_db(except))))
}

/// Rewrites a contact. [`StoreError::Conflict`] when it would be a second
/// primary contact.
pub fn update(
    conn: &mut DbConnection,
    account: Uuid,
    id: Uuid,
    fields: &ContactFields<'_>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed =
        diesel::update(contacts::table.find(ids::to_db(id)).filter(contacts::account_id.eq(ids::to_db(account))))
            .set((
                contacts::kind.eq(fields.kind.key()),
                contacts::name.eq(fields.name),
                contacts::email.eq(fields.email),
                contacts::phone.eq(fields.phone),
                contacts::updated_at.eq(time::to_db(now)),
            ))
            .execute(conn)?;
    Ok(changed > 0)
}

pub fn delete(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<bool, StoreError> {
    let deleted =
        diesel::delete(contacts::table.find(ids::to_db(id)).filter(contacts::account_id.eq(ids::to_db(account))))
            .execute(conn)?;
    Ok(deleted > 0)
}
