//! The company's addresses, scoped to one account on every query.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::address::AddressKind;
use uuid::Uuid;

use crate::schema::addresses;
use crate::{DbConnection, StoreError, ids, time};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub id: Uuid,
    pub account_id: Uuid,
    pub kind: AddressKind,
    pub lines: Vec<String>,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an address says, as written.
pub struct AddressFields<'a> {
    pub kind: AddressKind,
    pub lines: &'a [String],
    pub city: &'a str,
    pub region: &'a str,
    pub postal_code: &'a str,
    pub country: &'a str,
    pub is_default: bool,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = addresses)]
struct AddressRow {
    id: String,
    account_id: String,
    kind: String,
    lines: String,
    city: String,
    region: String,
    postal_code: String,
    country: String,
    is_default: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<AddressRow> for Address {
    type Error = StoreError;

    fn try_from(row: AddressRow) -> Result<Self, StoreError> {
        Ok(Address {
            id: ids::from_db(&row.id)?,
            account_id: ids::from_db(&row.account_id)?,
            kind: AddressKind::parse(&row.kind).map_err(|e| StoreError::Corrupt(format!("address {}: {e}", row.id)))?,
            lines: row.lines.split('\n').map(str::to_owned).collect(),
            city: row.city,
            region: row.region,
            postal_code: row.postal_code,
            country: row.country,
            is_default: row.is_default,
            created_at: time::from_db(row.created_at),
            updated_at: time::from_db(row.updated_at),
        })
    }
}

/// Makes no address of `kind` the default, but `except`: before another
/// becomes it. Whether one was.
pub fn clear_default(
    conn: &mut DbConnection,
    account: Uuid,
    kind: AddressKind,
    except: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let except = except.map(ids::to_db).unwrap_or_default();
    let changed = diesel::update(
        addresses::table
            .filter(addresses::account_id.eq(ids::to_db(account)))
            .filter(addresses::kind.eq(kind.key()))
            .filter(addresses::is_default.eq(true))
            .filter(addresses::id.ne(except)),
    )
    .set((addresses::is_default.eq(false), addresses::updated_at.eq(time::to_db(now))))
    .execute(conn)?;
    Ok(changed > 0)
}

pub fn insert(
    conn: &mut DbConnection,
    account: Uuid,
    fields: &AddressFields<'_>,
    now: DateTime<Utc>,
) -> Result<Address, StoreError> {
    let id = Uuid::now_v7();
    diesel::insert_into(addresses::table)
        .values((
            addresses::id.eq(ids::to_db(id)),
            addresses::account_id.eq(ids::to_db(account)),
            addresses::kind.eq(fields.kind.key()),
            addresses::lines.eq(fields.lines.join("\n")),
            addresses::city.eq(fields.city),
            addresses::region.eq(fields.region),
            addresses::postal_code.eq(fields.postal_code),
            addresses::country.eq(fields.country),
            addresses::is_default.eq(fields.is_default),
            addresses::created_at.eq(time::to_db(now)),
            addresses::updated_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
    find(conn, account, id)?.ok_or_else(|| StoreError::Corrupt(format!("address {id} vanished while written")))
}

pub fn find(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<Option<Address>, StoreError> {
    let row: Option<AddressRow> = addresses::table
        .find(ids::to_db(id))
        .filter(addresses::account_id.eq(ids::to_db(account)))
        .select(AddressRow::as_select())
        .first(conn)
        .optional()?;
    row.map(Address::try_from).transpose()
}

/// The account's addresses, oldest first.
pub fn list(conn: &mut DbConnection, account: Uuid) -> Result<Vec<Address>, StoreError> {
    let rows: Vec<AddressRow> = addresses::table
        .filter(addresses::account_id.eq(ids::to_db(account)))
        .order(addresses::id.asc())
        .select(AddressRow::as_select())
        .load(conn)?;
    rows.into_iter().map(Address::try_from).collect()
}

pub fn update(
    conn: &mut DbConnection,
    account: Uuid,
    id: Uuid,
    fields: &AddressFields<'_>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed =
        diesel::update(addresses::table.find(ids::to_db(id)).filter(addresses::account_id.eq(ids::to_db(account))))
            .set((
                addresses::kind.eq(fields.kind.key()),
                addresses::lines.eq(fields.lines.join("\n")),
                addresses::city.eq(fields.city),
                addresses::region.eq(fields.region),
                addresses::postal_code.eq(fields.postal_code),
                addresses::country.eq(fields.country),
                addresses::is_default.eq(fields.is_default),
                addresses::updated_at.eq(time::to_db(now)),
            ))
            .execute(conn)?;
    Ok(changed > 0)
}

pub fn delete(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<bool, StoreError> {
    let deleted =
        diesel::delete(addresses::table.find(ids::to_db(id)).filter(addresses::account_id.eq(ids::to_db(account))))
            .execute(conn)?;
    Ok(deleted > 0)
}
