//! Single sign-on: an account's OpenID connections, the provider
//! identities linked to users, the sign-ins waiting for the provider, and
//! the one-time codes handed to the frontend. Client secrets and PKCE
//! verifiers arrive and leave sealed; states and codes are stored as
//! digests.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::sso::{GroupRule, RoleMapping, SsoPolicy};
use uuid::Uuid;

use crate::schema::{accounts, role_assignments, sessions, sso_attempts, sso_connections, sso_grants, sso_identities};
use crate::{DbConnection, StoreError, ids, time};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub id: Uuid,
    pub account_id: Uuid,
    pub name: String,
    /// The provider's issuer URL, as discovery and ID tokens give it.
    pub issuer: String,
    pub client_id: String,
    pub client_secret_sealed: String,
    pub scopes: Vec<String>,
    pub email_claim: String,
    pub groups_claim: Option<String>,
    pub mapping: RoleMapping,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a connection is made of, as written.
pub struct ConnectionFields<'a> {
    pub name: &'a str,
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub client_secret_sealed: &'a str,
    pub scopes: &'a [String],
    pub email_claim: &'a str,
    pub groups_claim: Option<&'a str>,
    pub mapping: &'a RoleMapping,
    pub enabled: bool,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = sso_connections)]
struct ConnectionRow {
    id: String,
    account_id: String,
    name: String,
    issuer: String,
    client_id: String,
    client_secret: String,
    scopes: String,
    email_claim: String,
    groups_claim: Option<String>,
    group_rules: String,
    default_roles: String,
    enabled: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<ConnectionRow> for Connection {
    type Error = StoreError;

    fn try_from(row: ConnectionRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("sso connection {}: {what}", row.id));
        let rules: Vec<GroupRule> = serde_json::from_str(&row.group_rules).map_err(|_| corrupt("group_rules"))?;
        let default_roles: Vec<String> =
            serde_json::from_str(&row.default_roles).map_err(|_| corrupt("default_roles"))?;
        Ok(Connection {
            id: ids::from_db(&row.id)?,
            account_id: ids::from_db(&row.account_id)?,
            name: row.name,
            issuer: row.issuer,
            client_id: row.client_id,
            client_secret_sealed: row.client_secret,
            scopes: row.scopes.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            email_claim: row.email_claim,
            groups_claim: row.groups_claim,
            mapping: RoleMapping { rules, default_roles },
            enabled: row.enabled,
            created_at: time::from_db(row.created_at),
            updated_at: time::from_db(row.updated_at),
        })
    }
}

fn json(value: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(format!("cannot encode: {e}")))
}

/// The columns a connection's fields are written to, on insert and update.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = sso_connections, treat_none_as_null = true)]
struct ConnectionValues<'a> {
    name: &'a str,
    issuer: &'a str,
    client_id: &'a str,
    client_secret: &'a str,
    scopes: String,
    email_claim: &'a str,
    groups_claim: Option<&'a str>,
    group_rules: String,
    default_roles: String,
    enabled: bool,
    updated_at: NaiveDateTime,
}

impl<'a> ConnectionValues<'a> {
    fn of(fields: &'a ConnectionFields<'a>, now: DateTime<Utc>) -> Result<Self, StoreError> {
        Ok(ConnectionValues {
            name: fields.name,
            issuer: fields.issuer,
            client_id: fields.client_id,
            client_secret: fields.client_secret_sealed,
            scopes: fields.scopes.join(" "),
            email_claim: fields.email_claim,
            groups_claim: fields.groups_claim,
            group_rules: json(&fields.mapping.rules)?,
            default_roles: json(&fields.mapping.default_roles)?,
            enabled: fields.enabled,
            updated_at: time::to_db(now),
        })
    }
}

pub fn insert(
    conn: &mut DbConnection,
    account: Uuid,
    fields: &ConnectionFields<'_>,
    now: DateTime<Utc>,
) -> Result<Connection, StoreError> {
    let id = Uuid::now_v7();
    diesel::insert_into(sso_connections::table)
        .values((
            sso_connections::id.eq(ids::to_db(id)),
            sso_connections::account_id.eq(ids::to_db(account)),
            sso_connections::created_at.eq(time::to_db(now)),
            ConnectionValues::of(fields, now)?,
        ))
        .execute(conn)?;
    find(conn, account, id)?.ok_or_else(|| StoreError::Corrupt(format!("sso connection {id} vanished while written")))
}

/// Replaces every field of the account's connection `id`; whether it exists.
pub fn update(
    conn: &mut DbConnection,
    account: Uuid,
    id: Uuid,
    fields: &ConnectionFields<'_>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let updated = diesel::update(
        sso_connections::table.find(ids::to_db(id)).filter(sso_connections::account_id.eq(ids::to_db(account))),
    )
    .set(ConnectionValues::of(fields, now)?)
    .execute(conn)?;
    Ok(updated > 0)
}

pub fn find(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<Option<Connection>, StoreError> {
    Ok(find_any(conn, id)?.filter(|connection| connection.account_id == account))
}

/// A connection of any account: sign-in names one by id.
pub fn find_any(conn: &mut DbConnection, id: Uuid) -> Result<Option<Connection>, StoreError> {
    let row: Option<ConnectionRow> =
        sso_connections::table.find(ids::to_db(id)).select(ConnectionRow::as_select()).first(conn).optional()?;
    row.map(Connection::try_from).transpose()
}

/// The account's connections, oldest first.
pub fn list(conn: &mut DbConnection, account: Uuid) -> Result<Vec<Connection>, StoreError> {
    let rows: Vec<ConnectionRow> = sso_connections::table
        .filter(sso_connections::account_id.eq(ids::to_db(account)))
        .order(sso_connections::id.asc())
        .select(ConnectionRow::as_select())
        .load(conn)?;
    rows.into_iter().map(Connection::try_from).collect()
}

pub fn delete(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<bool, StoreError> {
    let deleted = diesel::delete(
        sso_connections::table.find(ids::to_db(id)).filter(sso_connections::account_id.eq(ids::to_db(account))),
    )
    .execute(conn)?;
    Ok(deleted > 0)
}

/// The user the provider's `subject` signed in as through `connection`
/// before, if any.
pub fn identity(conn: &mut DbConnection, connection: Uuid, subject: &str) -> Result<Option<Uuid>, StoreError> {
    let user: Option<String> = sso_identities::table
        .find((ids::to_db(connection), subject))
        .select(sso_identities::user_id)
        .first(conn)
        .optional()?;
    user.as_deref().map(ids::from_db).transpose()
}

/// Links `subject` at `connection` to `user` (once) and records the sign-in.
pub fn link_identity(
    conn: &mut DbConnection,
    connection: Uuid,
    subject: &str,
    user: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let key = (ids::to_db(connection), subject);
    let touched = diesel::update(sso_identities::table.find(key.clone()))
        .set(sso_identities::last_sign_in_at.eq(time::to_db(now)))
        .execute(conn)?;
    if touched == 0 {
        diesel::insert_into(sso_identities::table)
            .values((
                sso_identities::connection_id.eq(key.0),
                sso_identities::subject.eq(subject),
                sso_identities::user_id.eq(ids::to_db(user)),
                sso_identities::created_at.eq(time::to_db(now)),
                sso_identities::last_sign_in_at.eq(time::to_db(now)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A sign-in waiting for the provider's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub connection_id: Uuid,
    pub nonce: String,
    pub pkce_verifier_sealed: String,
    pub redirect_uri: String,
    pub expires_at: DateTime<Utc>,
}

pub fn insert_attempt(conn: &mut DbConnection, state_digest: &str, attempt: &Attempt) -> Result<(), StoreError> {
    diesel::insert_into(sso_attempts::table)
        .values((
            sso_attempts::state_digest.eq(state_digest),
            sso_attempts::connection_id.eq(ids::to_db(attempt.connection_id)),
            sso_attempts::nonce.eq(&attempt.nonce),
            sso_attempts::pkce_verifier.eq(&attempt.pkce_verifier_sealed),
            sso_attempts::redirect_uri.eq(&attempt.redirect_uri),
            sso_attempts::expires_at.eq(time::to_db(attempt.expires_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Takes the attempt whose state has this digest: it can be taken once,
/// and not after it expired (an expired one is removed all the same).
pub fn take_attempt(
    conn: &mut DbConnection,
    state_digest: &str,
    now: DateTime<Utc>,
) -> Result<Option<Attempt>, StoreError> {
    let row: Option<(String, String, String, String, NaiveDateTime)> = sso_attempts::table
        .find(state_digest)
        .select((
            sso_attempts::connection_id,
            sso_attempts::nonce,
            sso_attempts::pkce_verifier,
            sso_attempts::redirect_uri,
            sso_attempts::expires_at,
        ))
        .first(conn)
        .optional()?;
    let Some((connection, nonce, pkce_verifier_sealed, redirect_uri, expires_at)) = row else { return Ok(None) };
    // Of two callbacks racing with one state, one deletes the row.
    if diesel::delete(sso_attempts::table.find(state_digest)).execute(conn)? == 0 {
        return Ok(None);
    }
    let expires_at = time::from_db(expires_at);
    if expires_at <= now {
        return Ok(None);
    }
    Ok(Some(Attempt {
        connection_id: ids::from_db(&connection)?,
        nonce,
        pkce_verifier_sealed,
        redirect_uri,
        expires_at,
    }))
}

/// Removes attempts and codes that expired before `now`; how many.
pub fn purge_expired(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let now = time::to_db(now);
    let attempts = diesel::delete(sso_attempts::table.filter(sso_attempts::expires_at.le(now))).execute(conn)?;
    let grants = diesel::delete(sso_grants::table.filter(sso_grants::expires_at.le(now))).execute(conn)?;
    Ok(attempts + grants)
}

pub fn insert_grant(
    conn: &mut DbConnection,
    code_digest: &str,
    user: Uuid,
    connection: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(sso_grants::table)
        .values((
            sso_grants::code_digest.eq(code_digest),
            sso_grants::user_id.eq(ids::to_db(user)),
            sso_grants::connection_id.eq(ids::to_db(connection)),
            sso_grants::expires_at.eq(time::to_db(expires_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Takes the one-time code with this digest: (user, connection), once,
/// before it expires.
pub fn take_grant(
    conn: &mut DbConnection,
    code_digest: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Uuid, Uuid)>, StoreError> {
    let row: Option<(String, String, NaiveDateTime)> = sso_grants::table
        .find(code_digest)
        .select((sso_grants::user_id, sso_grants::connection_id, sso_grants::expires_at))
        .first(conn)
        .optional()?;
    let Some((user, connection, expires_at)) = row else { return Ok(None) };
    if diesel::delete(sso_grants::table.find(code_digest)).execute(conn)? == 0 || time::from_db(expires_at) <= now {
        return Ok(None);
    }
    Ok(Some((ids::from_db(&user)?, ids::from_db(&connection)?)))
}

/// What applying a connection's mapping changed of a membership's roles.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MappedChange {
    pub added: Vec<Uuid>,
    pub removed: Vec<Uuid>,
}

/// Makes the account-wide roles `connection` gave `membership` exactly
/// `roles`: those it gave and no longer gives are taken back, the missing
/// ones added (unless held already, from any source). Roles given by hand
/// are never touched.
pub fn apply_mapped_roles(
    conn: &mut DbConnection,
    membership: Uuid,
    connection: Uuid,
    roles: &[Uuid],
    now: DateTime<Utc>,
) -> Result<MappedChange, StoreError> {
    let mine = role_assignments::table
        .filter(role_assignments::membership_id.eq(ids::to_db(membership)))
        .filter(role_assignments::group_id.is_null());
    let held: Vec<(String, String, Option<String>)> = mine
        .select((role_assignments::id, role_assignments::role_id, role_assignments::sso_connection_id))
        .load(conn)?;
    let connection_db = ids::to_db(connection);
    let wanted: Vec<String> = roles.iter().map(|role| ids::to_db(*role)).collect();
    let mut change = MappedChange::default();
    for (id, role, source) in &held {
        if source.as_deref() == Some(connection_db.as_str()) && !wanted.contains(role) {
            diesel::delete(role_assignments::table.find(id)).execute(conn)?;
            change.removed.push(ids::from_db(role)?);
        }
    }
    for role in &wanted {
        if held.iter().any(|(_, held_role, _)| held_role == role) {
            continue;
        }
        diesel::insert_into(role_assignments::table)
            .values((
                role_assignments::id.eq(ids::to_db(Uuid::now_v7())),
                role_assignments::membership_id.eq(ids::to_db(membership)),
                role_assignments::role_id.eq(role),
                role_assignments::group_id.eq(None::<String>),
                role_assignments::created_at.eq(time::to_db(now)),
                role_assignments::sso_connection_id.eq(&connection_db),
            ))
            .execute(conn)?;
        change.added.push(ids::from_db(role)?);
    }
    Ok(change)
}

/// The account's single sign-on policy, if the account exists.
pub fn policy(conn: &mut DbConnection, account: Uuid) -> Result<Option<SsoPolicy>, StoreError> {
    let row: Option<(bool, Option<String>)> = accounts::table
        .find(ids::to_db(account))
        .select((accounts::sso_required, accounts::sso_break_glass_user_id))
        .first(conn)
        .optional()?;
    row.map(|(required, break_glass)| {
        Ok(SsoPolicy { required, break_glass_owner: break_glass.as_deref().map(ids::from_db).transpose()? })
    })
    .transpose()
}

pub fn set_policy(
    conn: &mut DbConnection,
    account: Uuid,
    policy: &SsoPolicy,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(accounts::table.find(ids::to_db(account)))
        .set((
            accounts::sso_required.eq(policy.required),
            accounts::sso_break_glass_user_id.eq(policy.break_glass_owner.map(ids::to_db)),
            accounts::updated_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The connection a session signed in through, if any.
pub fn connection_of_session(conn: &mut DbConnection, session: Uuid) -> Result<Option<Uuid>, StoreError> {
    let found: Option<Option<String>> =
        sessions::table.find(ids::to_db(session)).select(sessions::sso_connection_id).first(conn).optional()?;
    found.flatten().as_deref().map(ids::from_db).transpose()
}
