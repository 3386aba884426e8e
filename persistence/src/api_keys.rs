//! Authorized partners of an account and the API keys granted to them. Key
//! secrets arrive as SHA-256 digests: this module never sees one in the
//! clear.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{api_key_secrets, api_keys, partners, users};
use crate::{DbConnection, StoreError, ids, time};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    pub id: Uuid,
    pub account_id: Uuid,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = partners)]
struct PartnerRow {
    id: String,
    account_id: String,
    name: String,
    description: String,
    created_at: NaiveDateTime,
}

impl PartnerRow {
    fn into_partner(self) -> Result<Partner, StoreError> {
        Ok(Partner {
            id: ids::from_db(&self.id)?,
            account_id: ids::from_db(&self.account_id)?,
            name: self.name,
            description: self.description,
            created_at: time::from_db(self.created_at),
        })
    }
}

/// Creates a partner; `None` when the account has one of that name
/// (compared case-insensitively).
pub fn create_partner(
    conn: &mut DbConnection,
    account: Uuid,
    name: &str,
    description: &str,
    now: DateTime<Utc>,
) -> Result<Option<Partner>, StoreError> {
    let account_id = ids::to_db(account);
    let name_key = name.to_lowercase();
    let taken = partners::table
        .filter(partners::account_id.eq(&account_id))
        .filter(partners::name_key.eq(&name_key))
        .select(partners::id)
        .first::<String>(conn)
        .optional()?;
    if taken.is_some() {
        return Ok(None);
    }
    let id = Uuid::now_v7();
    diesel::insert_into(partners::table)
        .values((
            partners::id.eq(ids::to_db(id)),
            partners::account_id.eq(&account_id),
            partners::name.eq(name),
            partners::name_key.eq(&name_key),
            partners::description.eq(description),
            partners::created_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
    find_partner(conn, account, id)
}

pub fn find_partner(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<Option<Partner>, StoreError> {
    partners::table
        .filter(partners::account_id.eq(ids::to_db(account)))
        .filter(partners::id.eq(ids::to_db(id)))
        .select(PartnerRow::as_select())
        .first(conn)
        .optional()?
        .map(PartnerRow::into_partner)
        .transpose()
}

/// An account's partners, oldest first, after the partner `after`.
pub fn list_partners(
    conn: &mut DbConnection,
    account: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Partner>, StoreError> {
    let mut query = partners::table
        .filter(partners::account_id.eq(ids::to_db(account)))
        .order(partners::id.asc())
        .limit(limit)
        .select(PartnerRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(partners::id.gt(ids::to_db(after)));
    }
    query.load(conn)?.into_iter().map(PartnerRow::into_partner).collect()
}

/// Deletes a partner and, with it, its keys. Whether it existed.
pub fn delete_partner(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<bool, StoreError> {
    let partner = ids::to_db(id);
    let account_id = ids::to_db(account);
    let keys = api_keys::table.filter(api_keys::partner_id.eq(&partner)).select(api_keys::id);
    diesel::delete(api_key_secrets::table.filter(api_key_secrets::key_id.eq_any(keys))).execute(conn)?;
    diesel::delete(api_keys::table.filter(api_keys::partner_id.eq(&partner))).execute(conn)?;
    let deleted =
        diesel::delete(partners::table.filter(partners::account_id.eq(&account_id)).filter(partners::id.eq(&partner)))
            .execute(conn)?;
    Ok(deleted > 0)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: Uuid,
    pub account_id: Uuid,
    pub partner_id: Uuid,
    pub partner_name: String,
    pub name: String,
    pub permissions: Vec<String>,
    pub group_id: Option<Uuid>,
    pub allowed_ips: Vec<String>,
    pub created_by: Uuid,
    /// The creator's email, for lists.
    pub created_by_email: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_ip: Option<String>,
    /// What lists show of the current secret (`roster_Ab12Cd`).
    pub shown: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = api_keys)]
struct KeyRow {
    id: String,
    account_id: String,
    partner_id: String,
    name: String,
    permissions: String,
    group_id: Option<String>,
    allowed_ips: String,
    created_by: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
    last_used_at: Option<NaiveDateTime>,
    last_used_ip: Option<String>,
}

impl KeyRow {
    fn into_key(self, partner_name: String, created_by_email: String, shown: String) -> Result<ApiKey, StoreError> {
        let words = |text: &str| text.split_whitespace().map(str::to_owned).collect();
        Ok(ApiKey {
            id: ids::from_db(&self.id)?,
            account_id: ids::from_db(&self.account_id)?,
            partner_id: ids::from_db(&self.partner_id)?,
            partner_name,
            name: self.name,
            permissions: words(&self.permissions),
            group_id: self.group_id.as_deref().map(ids::from_db).transpose()?,
            allowed_ips: words(&self.allowed_ips),
            created_by: ids::from_db(&self.created_by)?,
            created_by_email,
            created_at: time::from_db(self.created_at),
            expires_at: time::from_db(self.expires_at),
            revoked_at: self.revoked_at.map(time::from_db),
            last_used_at: self.last_used_at.map(time::from_db),
            last_used_ip: self.last_used_ip,
            shown,
        })
    }
}

pub struct NewKey<'a> {
    pub account_id: Uuid,
    pub partner_id: Uuid,
    pub name: &'a str,
    pub permissions: &'a [String],
    pub group_id: Option<Uuid>,
    pub allowed_ips: &'a [String],
    pub created_by: Uuid,
    pub expires_at: DateTime<Utc>,
    pub digest: &'a str,
    pub shown: &'a str,
    pub now: DateTime<Utc>,
}

pub fn create_key(conn: &mut DbConnection, new: NewKey<'_>) -> Result<ApiKey, StoreError> {
    let id = Uuid::now_v7();
    let now = time::to_db(new.now);
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::id.eq(ids::to_db(id)),
            api_keys::account_id.eq(ids::to_db(new.account_id)),
            api_keys::partner_id.eq(ids::to_db(new.partner_id)),
            api_keys::name.eq(new.name),
            api_keys::permissions.eq(new.permissions.join(" ")),
            api_keys::group_id.eq(new.group_id.map(ids::to_db)),
            api_keys::allowed_ips.eq(new.allowed_ips.join(" ")),
            api_keys::created_by.eq(ids::to_db(new.created_by)),
            api_keys::created_at.eq(now),
            api_keys::expires_at.eq(time::to_db(new.expires_at)),
        ))
        .execute(conn)?;
    add_secret(conn, id, new.digest, new.shown, new.now)?;
    find_key(conn, new.account_id, id)?.ok_or_else(|| StoreError::Corrupt("a key vanished".into()))
}

fn add_secret(
    conn: &mut DbConnection,
    key: Uuid,
    digest: &str,
    shown: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(api_key_secrets::table)
        .values((
            api_key_secrets::digest.eq(digest),
            api_key_secrets::key_id.eq(ids::to_db(key)),
            api_key_secrets::shown.eq(shown),
            api_key_secrets::created_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

fn load(conn: &mut DbConnection, rows: Vec<KeyRow>) -> Result<Vec<ApiKey>, StoreError> {
    let key_ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
    // The newest secret of each key is the one shown.
    let secrets: Vec<(String, String)> = api_key_secrets::table
        .filter(api_key_secrets::key_id.eq_any(&key_ids))
        .order((api_key_secrets::key_id, api_key_secrets::created_at.asc()))
        .select((api_key_secrets::key_id, api_key_secrets::shown))
        .load(conn)?;
    let creator_ids: Vec<&str> = rows.iter().map(|row| row.created_by.as_str()).collect();
    let emails: Vec<(String, String)> =
        users::table.filter(users::id.eq_any(&creator_ids)).select((users::id, users::email)).load(conn)?;
    let partner_ids: Vec<&str> = rows.iter().map(|row| row.partner_id.as_str()).collect();
    let names: Vec<(String, String)> =
        partners::table.filter(partners::id.eq_any(&partner_ids)).select((partners::id, partners::name)).load(conn)?;
    let lookup = |pairs: &[(String, String)], id: &str| {
        pairs.iter().rev().find(|(key, _)| key == id).map(|(_, value)| value.clone()).unwrap_or_default()
    };
    rows.into_iter()
        .map(|row| {
            let (partner, email, shown) =
                (lookup(&names, &row.partner_id), lookup(&emails, &row.created_by), lookup(&secrets, &row.id));
            row.into_key(partner, email, shown)
        })
        .collect()
}

pub fn find_key(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<Option<ApiKey>, StoreError> {
    let rows = api_keys::table
        .filter(api_keys::account_id.eq(ids::to_db(account)))
        .filter(api_keys::id.eq(ids::to_db(id)))
        .select(KeyRow::as_select())
        .load(conn)?;
    Ok(load(conn, rows)?.pop())
}

/// A key by id, whatever its account (the audit log's actor names).
pub fn find_any(conn: &mut DbConnection, id: Uuid) -> Result<Option<ApiKey>, StoreError> {
    let rows = api_keys::table.filter(api_keys::id.eq(ids::to_db(id))).select(KeyRow::as_select()).load(conn)?;
    Ok(load(conn, rows)?.pop())
}

/// An account's keys, oldest first, revoked and expired ones included,
/// after the key `after`.
pub fn list_keys(
    conn: &mut DbConnection,
    account: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<ApiKey>, StoreError> {
    let mut query = api_keys::table
        .filter(api_keys::account_id.eq(ids::to_db(account)))
        .order(api_keys::id.asc())
        .limit(limit)
        .select(KeyRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(api_keys::id.gt(ids::to_db(after)));
    }
    let rows = query.load(conn)?;
    load(conn, rows)
}

/// A key as found by one of its secrets.
#[derive(Debug, Clone)]
pub struct KeyForSecret {
    pub key: ApiKey,
    /// Until when that secret works; `None`: the current secret.
    pub secret_valid_until: Option<DateTime<Utc>>,
}

/// The key a presented secret's digest belongs to, with the end of that
/// secret's validity (a rotated-out secret works until its overlap ends;
/// `None`: the current secret). Whether the secret, or the key itself, is
/// still good is the caller's to judge, so that it can keep the answer.
pub fn by_digest(conn: &mut DbConnection, digest: &str) -> Result<Option<KeyForSecret>, StoreError> {
    let secret: Option<(String, Option<chrono::NaiveDateTime>)> = api_key_secrets::table
        .filter(api_key_secrets::digest.eq(digest))
        .select((api_key_secrets::key_id, api_key_secrets::valid_until))
        .first(conn)
        .optional()?;
    let Some((key_id, valid_until)) = secret else { return Ok(None) };
    let rows = api_keys::table.filter(api_keys::id.eq(key_id)).select(KeyRow::as_select()).load(conn)?;
    Ok(load(conn, rows)?.pop().map(|key| KeyForSecret { key, secret_valid_until: valid_until.map(time::from_db) }))
}

/// Revokes a key. Whether it was active.
pub fn revoke(conn: &mut DbConnection, account: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let changed = diesel::update(
        api_keys::table
            .filter(api_keys::account_id.eq(ids::to_db(account)))
            .filter(api_keys::id.eq(ids::to_db(id)))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(time::to_db(now)))
    .execute(conn)?;
    Ok(changed > 0)
}

/// Gives a key a new secret; the old ones keep working until
/// `old_valid_until` (now: at once).
pub fn rotate(
    conn: &mut DbConnection,
    key: Uuid,
    digest: &str,
    shown: &str,
    now: DateTime<Utc>,
    old_valid_until: DateTime<Utc>,
) -> Result<(), StoreError> {
    let key_id = ids::to_db(key);
    let until = time::to_db(old_valid_until);
    // Secrets already ending sooner keep their end.
    diesel::update(
        api_key_secrets::table
            .filter(api_key_secrets::key_id.eq(&key_id))
            .filter(api_key_secrets::valid_until.is_null().or(api_key_secrets::valid_until.gt(until))),
    )
    .set(api_key_secrets::valid_until.eq(until))
    .execute(conn)?;
    add_secret(conn, key, digest, shown, now)
}

/// Records a use, at most once a minute per key (a write per request would
/// make every call a write).
pub fn touch(conn: &mut DbConnection, key: Uuid, ip: Option<&str>, now: DateTime<Utc>) -> Result<(), StoreError> {
    let stale = time::to_db(now - chrono::Duration::minutes(1));
    diesel::update(
        api_keys::table
            .filter(api_keys::id.eq(ids::to_db(key)))
            .filter(api_keys::last_used_at.is_null().or(api_keys::last_used_at.lt(stale))),
    )
    .set((api_keys::last_used_at.eq(time::to_db(now)), api_keys::last_used_ip.eq(ip)))
    .execute(conn)?;
    Ok(())
}
