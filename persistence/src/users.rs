use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::{Email, Locale, PersonName, TimeZone};
use uuid::Uuid;

use crate::db::planned_per_call;
use crate::schema::users;
use crate::{DbConnection, StoreError, ids, time};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub password_hash: Option<String>,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The language the user reads emails in (a BCP 47 tag), if they chose one.
    pub locale: Option<String>,
    /// Their IANA time zone, if they gave one: times in emails are theirs.
    pub time_zone: Option<String>,
}

pub struct NewUser<'a> {
    pub id: Uuid,
    pub email: &'a Email,
    pub first_name: &'a PersonName,
    pub last_name: &'a PersonName,
    pub password_hash: Option<&'a str>,
    pub email_verified: bool,
    pub now: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    id: String,
    email: String,
    first_name: String,
    last_name: String,
    password_hash: Option<String>,
    email_verified: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    locale: Option<String>,
    time_zone: Option<String>,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: ids::from_db(&row.id)?,
            email: row.email,
            first_name: row.first_name,
            last_name: row.last_name,
            password_hash: row.password_hash,
            email_verified: row.email_verified,
            created_at: time::from_db(row.created_at),
            updated_at: time::from_db(row.updated_at),
            locale: row.locale,
            time_zone: row.time_zone,
        })
    }
}

/// Creates a user; [`StoreError::Conflict`] when the email is taken.
pub fn insert(conn: &mut DbConnection, new: NewUser<'_>) -> Result<User, StoreError> {
    let now = time::to_db(new.now);
    let row = UserRow {
        id: ids::to_db(new.id),
        email: new.email.as_str().to_owned(),
        first_name: new.first_name.as_str().to_owned(),
        last_name: new.last_name.as_str().to_owned(),
        password_hash: new.password_hash.map(str::to_owned),
        email_verified: new.email_verified,
        created_at: now,
        updated_at: now,
        locale: None,
        time_zone: None,
    };
    diesel::insert_into(users::table).values(&row).execute(conn)?;
    row.try_into()
}

/// The user with `id`; `None` once they erased themselves.
pub fn find(conn: &mut DbConnection, id: Uuid) -> Result<Option<User>, StoreError> {
    users::table
        .find(ids::to_db(id))
        .filter(users::erased_at.is_null())
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(User::try_from)
        .transpose()
}

/// Whether the user still exists (a token can outlive its user, who may
/// have erased themselves).
pub fn exists(conn: &mut DbConnection, id: Uuid) -> Result<bool, StoreError> {
    let live = users::table.find(ids::to_db(id)).filter(users::erased_at.is_null());
    Ok(diesel::select(diesel::dsl::exists(live)).get_result(conn)?)
}

/// Emails are stored normalised, so equality here is case-insensitive.
pub fn find_by_email(conn: &mut DbConnection, email: &Email) -> Result<Option<User>, StoreError> {
    users::table
        .filter(users::email.eq(email.as_str()))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(User::try_from)
        .transpose()
}

/// The language and time zone a user reads in, as they chose them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Queryable)]
pub struct ReadingPreferences {
    pub locale: Option<String>,
    pub time_zone: Option<String>,
}

/// What the users with these `emails` (normalised) chose, by email; an
/// address no user has is left out.
pub fn reading_preferences_of(
    conn: &mut DbConnection,
    emails: &[&str],
) -> Result<std::collections::HashMap<String, ReadingPreferences>, StoreError> {
    if emails.is_empty() {
        return Ok(Default::default());
    }
    let found: Vec<(String, ReadingPreferences)> = users::table
        .filter(users::email.eq_any(emails))
        .select((users::email, (users::locale, users::time_zone)))
        .load(conn)?;
    Ok(found.into_iter().collect())
}

/// Of `emails` (normalised), those that belong to a user.
pub fn existing_among(
    conn: &mut DbConnection,
    emails: &[&str],
) -> Result<std::collections::HashSet<String>, StoreError> {
    let found: Vec<String> =
        users::table.filter(users::email.eq_any(emails)).filter(planned_per_call()).select(users::email).load(conn)?;
    Ok(found.into_iter().collect())
}

/// What a user changes about themselves; `None` keeps a value. The
/// language and time zone may also be cleared (`Some(None)`).
#[derive(Default)]
pub struct ProfileChange<'a> {
    pub first_name: Option<&'a PersonName>,
    pub last_name: Option<&'a PersonName>,
    pub locale: Option<Option<&'a Locale>>,
    pub time_zone: Option<Option<TimeZone>>,
}

#[derive(AsChangeset)]
#[diesel(table_name = users)]
struct ProfileChangeset<'a> {
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    locale: Option<Option<String>>,
    time_zone: Option<Option<&'static str>>,
    updated_at: NaiveDateTime,
}

pub fn update_names(
    conn: &mut DbConnection,
    id: Uuid,
    change: ProfileChange<'_>,
    now: DateTime<Utc>,
) -> Result<Option<User>, StoreError> {
    let changeset = ProfileChangeset {
        first_name: change.first_name.map(PersonName::as_str),
        last_name: change.last_name.map(PersonName::as_str),
        locale: change.locale.map(|locale| locale.map(ToString::to_string)),
        time_zone: change.time_zone.map(|zone| zone.map(|zone| zone.name())),
        updated_at: time::to_db(now),
    };
    let updated = diesel::update(users::table.find(ids::to_db(id))).set(&changeset).execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find(conn, id)
}

/// Marks the user's address verified, if it is still `email` (the address a
/// verification link was sent to). Whether it was.
pub fn mark_verified(conn: &mut DbConnection, id: Uuid, email: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let updated = diesel::update(users::table.find(ids::to_db(id)).filter(users::email.eq(email)))
        .set((users::email_verified.eq(true), users::updated_at.eq(time::to_db(now))))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Replaces the password hash. Whether the user exists.
pub fn set_password(conn: &mut DbConnection, id: Uuid, hash: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let updated = diesel::update(users::table.find(ids::to_db(id)))
        .set((users::password_hash.eq(hash), users::updated_at.eq(time::to_db(now))))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Moves the user to a new, proven address. [`StoreError::Conflict`]: it
/// belongs to someone else by now.
pub fn change_email(conn: &mut DbConnection, id: Uuid, email: &Email, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let updated = diesel::update(users::table.find(ids::to_db(id)))
        .set((users::email.eq(email.as_str()), users::email_verified.eq(true), users::updated_at.eq(time::to_db(now))))
        .execute(conn)?;
    Ok(updated == 1)
}
