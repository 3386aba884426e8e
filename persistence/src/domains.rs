//! The email domains accounts claim and verify, scoped to one account on
//! every query but the one that asks who verified a domain.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use domain::email_domain::Enrollment;

use crate::schema::{account_domain_groups, account_domain_roles, account_domains, roles};
use crate::{DbConnection, StoreError, ids, time};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountDomain {
    pub id: Uuid,
    pub account_id: Uuid,
    /// Canonical (`domain::email_domain::EmailDomain`).
    pub domain: String,
    /// The random part of the TXT record to publish.
    pub token: String,
    pub verified_at: Option<DateTime<Utc>>,
    /// Since when a verified domain's record has been missing.
    pub missing_since: Option<DateTime<Utc>>,
    /// When the record was last looked up.
    pub checked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Who with an email at the domain comes in by themselves, once it is
    /// verified.
    pub enrollment: Enrollment,
}

/// What a person enrolled through a domain receives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnrollmentDefaults {
    /// Account-wide roles, as (id, key), by key.
    pub roles: Vec<(Uuid, String)>,
    pub groups: Vec<Uuid>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = account_domains)]
struct DomainRow {
    id: String,
    account_id: String,
    domain: String,
    token: String,
    verified_at: Option<NaiveDateTime>,
    missing_since: Option<NaiveDateTime>,
    checked_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    enrollment: String,
}

impl TryFrom<DomainRow> for AccountDomain {
    type Error = StoreError;

    fn try_from(row: DomainRow) -> Result<Self, StoreError> {
        Ok(AccountDomain {
            id: ids::from_db(&row.id)?,
            account_id: ids::from_db(&row.account_id)?,
            domain: row.domain,
            token: row.token,
            verified_at: row.verified_at.map(time::from_db),
            missing_since: row.missing_since.map(time::from_db),
            checked_at: row.checked_at.map(time::from_db),
            created_at: time::from_db(row.created_at),
            enrollment: Enrollment::parse(&row.enrollment)
                .map_err(|_| StoreError::Corrupt(format!("domain {}: enrollment {:?}", row.id, row.enrollment)))?,
        })
    }
}

/// Claims `domain` for `account`. [`StoreError::Conflict`] when the
/// account has claimed it already.
pub fn insert(
    conn: &mut DbConnection,
    account: Uuid,
    domain: &str,
    token: &str,
    now: DateTime<Utc>,
) -> Result<AccountDomain, StoreError> {
    let id = Uuid::now_v7();
    diesel::insert_into(account_domains::table)
        .values((
            account_domains::id.eq(ids::to_db(id)),
            account_domains::account_id.eq(ids::to_db(account)),
            account_domains::domain.eq(domain),
            account_domains::token.eq(token),
            account_domains::created_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
    find(conn, account, id)?.ok_or_else(|| StoreError::Corrupt(format!("domain {id} vanished while written")))
}

pub fn find(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<Option<AccountDomain>, StoreError> {
    let row: Option<DomainRow> = account_domains::table
        .find(ids::to_db(id))
        .filter(account_domains::account_id.eq(ids::to_db(account)))
        .select(DomainRow::as_select())
        .first(conn)
        .optional()?;
    row.map(AccountDomain::try_from).transpose()
}

/// The account's domains, oldest first.
pub fn list(conn: &mut DbConnection, account: Uuid) -> Result<Vec<AccountDomain>, StoreError> {
    let rows: Vec<DomainRow> = account_domains::table
        .filter(account_domains::account_id.eq(ids::to_db(account)))
        .order(account_domains::id.asc())
        .select(DomainRow::as_select())
        .load(conn)?;
    rows.into_iter().map(AccountDomain::try_from).collect()
}

/// The account that verified `domain`, if one did.
pub fn verified_by(conn: &mut DbConnection, domain: &str) -> Result<Option<Uuid>, StoreError> {
    Ok(verified_claim(conn, domain)?.map(|claimed| claimed.account_id))
}

/// The verified claim of `domain`, whichever account made it (one at most).
pub fn verified_claim(conn: &mut DbConnection, domain: &str) -> Result<Option<AccountDomain>, StoreError> {
    let row: Option<DomainRow> = account_domains::table
        .filter(account_domains::domain.eq(domain))
        .filter(account_domains::verified_at.is_not_null())
        .select(DomainRow::as_select())
        .first(conn)
        .optional()?;
    row.map(AccountDomain::try_from).transpose()
}

/// The account's verified domains (canonical names).
pub fn verified_names(conn: &mut DbConnection, account: Uuid) -> Result<Vec<String>, StoreError> {
    Ok(account_domains::table
        .filter(account_domains::account_id.eq(ids::to_db(account)))
        .filter(account_domains::verified_at.is_not_null())
        .select(account_domains::domain)
        .load(conn)?)
}

/// What people enrolled through domain `id` receive.
pub fn enrollment_defaults(conn: &mut DbConnection, id: Uuid) -> Result<EnrollmentDefaults, StoreError> {
    let roles: Vec<(String, String)> = account_domain_roles::table
        .inner_join(roles::table)
        .filter(account_domain_roles::domain_id.eq(ids::to_db(id)))
        .order(roles::key.asc())
        .select((roles::id, roles::key))
        .load(conn)?;
    let groups: Vec<String> = account_domain_groups::table
        .filter(account_domain_groups::domain_id.eq(ids::to_db(id)))
        .order(account_domain_groups::group_id.asc())
        .select(account_domain_groups::group_id)
        .load(conn)?;
    Ok(EnrollmentDefaults {
        roles: roles.into_iter().map(|(id, key)| Ok((ids::from_db(&id)?, key))).collect::<Result<_, StoreError>>()?,
        groups: groups.iter().map(|id| ids::from_db(id)).collect::<Result<_, _>>()?,
    })
}

/// Sets how people come in through the account's domain `id` and what they
/// receive (the role and group ids are the account's, checked by the
/// caller). Whether the domain exists.
pub fn set_enrollment(
    conn: &mut DbConnection,
    account: Uuid,
    id: Uuid,
    enrollment: Enrollment,
    roles: &[Uuid],
    groups: &[Uuid],
) -> Result<bool, StoreError> {
    let updated = diesel::update(
        account_domains::table.find(ids::to_db(id)).filter(account_domains::account_id.eq(ids::to_db(account))),
    )
    .set(account_domains::enrollment.eq(enrollment.key()))
    .execute(conn)?;
    if updated == 0 {
        return Ok(false);
    }
    let domain = ids::to_db(id);
    diesel::delete(account_domain_roles::table.filter(account_domain_roles::domain_id.eq(&domain))).execute(conn)?;
    diesel::delete(account_domain_groups::table.filter(account_domain_groups::domain_id.eq(&domain))).execute(conn)?;
    // One row at a time: batch inserts are not available through the
    // multi-backend connection.
    for role in roles {
        diesel::insert_into(account_domain_roles::table)
            .values((account_domain_roles::domain_id.eq(&domain), account_domain_roles::role_id.eq(ids::to_db(*role))))
            .execute(conn)?;
    }
    for group in groups {
        diesel::insert_into(account_domain_groups::table)
            .values((
                account_domain_groups::domain_id.eq(&domain),
                account_domain_groups::group_id.eq(ids::to_db(*group)),
            ))
            .execute(conn)?;
    }
    Ok(true)
}

/// Records a lookup of the domain's record at `now`: found, the domain is
/// verified (from `now`, if it was not) and nothing is missing;
/// [`StoreError::Conflict`] when another account verified the domain first.
pub fn record_found(conn: &mut DbConnection, account: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    let mine = account_domains::table.find(ids::to_db(id)).filter(account_domains::account_id.eq(ids::to_db(account)));
    diesel::update(mine.clone().filter(account_domains::verified_at.is_null()))
        .set(account_domains::verified_at.eq(time::to_db(now)))
        .execute(conn)?;
    diesel::update(mine)
        .set((
            account_domains::missing_since.eq(None::<NaiveDateTime>),
            account_domains::checked_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Verified domains, of every account, last checked before `checked_before`
/// (or never since verified), at most `limit`, longest unchecked first.
pub fn due_for_recheck(
    conn: &mut DbConnection,
    checked_before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<AccountDomain>, StoreError> {
    let rows: Vec<DomainRow> = account_domains::table
        .filter(account_domains::verified_at.is_not_null())
        .filter(account_domains::checked_at.lt(time::to_db(checked_before)))
        .order(account_domains::checked_at.asc())
        .limit(limit)
        .select(DomainRow::as_select())
        .load(conn)?;
    rows.into_iter().map(AccountDomain::try_from).collect()
}

/// Records a lookup at `now` that did not find the verified domain's
/// record, missing since `since`.
pub fn record_missing(
    conn: &mut DbConnection,
    account: Uuid,
    id: Uuid,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(
        account_domains::table.find(ids::to_db(id)).filter(account_domains::account_id.eq(ids::to_db(account))),
    )
    .set((account_domains::missing_since.eq(time::to_db(since)), account_domains::checked_at.eq(time::to_db(now))))
    .execute(conn)?;
    Ok(())
}

/// The domain is no longer verified (its record stayed missing).
pub fn unverify(conn: &mut DbConnection, account: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::update(
        account_domains::table.find(ids::to_db(id)).filter(account_domains::account_id.eq(ids::to_db(account))),
    )
    .set((
        account_domains::verified_at.eq(None::<NaiveDateTime>),
        account_domains::missing_since.eq(None::<NaiveDateTime>),
        account_domains::checked_at.eq(time::to_db(now)),
    ))
    .execute(conn)?;
    Ok(())
}

/// Removes the account's claim; whether there was one.
pub fn delete(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<bool, StoreError> {
    let deleted = diesel::delete(
        account_domains::table.find(ids::to_db(id)).filter(account_domains::account_id.eq(ids::to_db(account))),
    )
    .execute(conn)?;
    Ok(deleted > 0)
}
