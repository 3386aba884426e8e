use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::invitation::{EmailPolicy, InvitationPreferences, InvitationStatus, InvitationTtl, ReminderSchedule};
use domain::{AccountName, BuiltInRole};
use uuid::Uuid;

use crate::schema::{account_deletions, accounts, invitations, memberships, users};
use crate::users::{User, UserRow};
use crate::{DbConnection, StoreError, ids, memberships as membership_repo, time, write_transaction};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: Uuid,
    pub name: String,
    /// The plan's key; empty: the deployment's default plan.
    pub plan: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub emails: EmailSettings,
}

/// How an account speaks in its emails; `None` everywhere by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailSettings {
    /// The name its emails give it, in place of its name.
    pub display_name: Option<String>,
    /// Plain text its invitations carry, quoted, besides the product's words.
    pub invitation_message: Option<String>,
    /// The language (BCP 47) of its emails to people who chose none.
    pub locale: Option<String>,
}

impl Account {
    /// The account's name as its emails give it.
    pub fn name_in_emails(&self) -> &str {
        self.emails.display_name.as_deref().unwrap_or(&self.name)
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts)]
struct AccountRow {
    id: String,
    name: String,
    plan: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    email_display_name: Option<String>,
    invitation_message: Option<String>,
    email_locale: Option<String>,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;

    fn try_from(row: AccountRow) -> Result<Self, StoreError> {
        Ok(Account {
            id: ids::from_db(&row.id)?,
            name: row.name,
            plan: row.plan,
            created_at: time::from_db(row.created_at),
            updated_at: time::from_db(row.updated_at),
            emails: EmailSettings {
                display_name: row.email_display_name,
                invitation_message: row.invitation_message,
                locale: row.email_locale,
            },
        })
    }
}

/// Creates the account and makes `owner` its first owner, in one transaction.
pub fn create_with_owner(
    conn: &mut DbConnection,
    name: &AccountName,
    plan: &str,
    owner: Uuid,
    now: DateTime<Utc>,
) -> Result<Account, StoreError> {
    let row = AccountRow {
        id: ids::to_db(Uuid::now_v7()),
        name: name.as_str().to_owned(),
        plan: plan.to_owned(),
        created_at: time::to_db(now),
        updated_at: time::to_db(now),
        email_display_name: None,
        invitation_message: None,
        email_locale: None,
    };
    write_transaction(conn, |conn| {
        diesel::insert_into(accounts::table).values(&row).execute(conn)?;
        let account = Account::try_from(row)?;
        let owner_role = crate::roles::built_in_id(conn, BuiltInRole::Owner)?;
        membership_repo::add(conn, account.id, owner, &[owner_role], now)?;
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

/// Several accounts by id, in id order; unknown ids are left out.
pub fn find_many(conn: &mut DbConnection, ids: &[Uuid]) -> Result<Vec<Account>, StoreError> {
    let wanted: Vec<String> = ids.iter().copied().map(crate::ids::to_db).collect();
    let rows: Vec<AccountRow> = accounts::table
        .filter(accounts::id.eq_any(wanted))
        .order(accounts::id.asc())
        .select(AccountRow::as_select())
        .load(conn)?;
    rows.into_iter().map(Account::try_from).collect()
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
    /// Every role held there, account-wide first.
    pub assignments: Vec<membership_repo::HeldAssignment>,
    /// The parent account, when the access here is inherited through a
    /// link (the roles are the parent's that apply in linked accounts).
    pub inherited_from: Option<Uuid>,
    /// Whether they may act there (inherited access is always active).
    pub status: domain::membership::MembershipStatus,
}

/// The accounts `user` belongs to or reaches through a parent account, in
/// id order (ids are time-ordered UUIDv7, so this is creation order), after
/// the cursor `after`. An account both ways is listed once, as a member.
pub fn list_for_member(
    conn: &mut DbConnection,
    user: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<MemberAccount>, StoreError> {
    let mut query = memberships::table
        .inner_join(accounts::table)
        .filter(memberships::user_id.eq(ids::to_db(user)))
        .select((memberships::id, memberships::status, AccountRow::as_select()))
        .order(accounts::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(accounts::id.gt(ids::to_db(after)));
    }
    let rows: Vec<(String, String, AccountRow)> = query.load(conn)?;
    let membership_ids: Vec<&str> = rows.iter().map(|(id, ..)| id.as_str()).collect();
    let mut roles = membership_repo::assignments_of(conn, &membership_ids)?;
    let mut found: Vec<MemberAccount> = rows
        .into_iter()
        .map(|(membership_id, status, row)| {
            let assignments = roles.remove(&membership_id).unwrap_or_default();
            let status = domain::membership::MembershipStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("membership {membership_id}: status {status:?}")))?;
            Ok(MemberAccount { account: row.try_into()?, assignments, inherited_from: None, status })
        })
        .collect::<Result<_, StoreError>>()?;
    for (account, parent, keys) in crate::account_links::inherited_accounts(conn, user, after, limit)? {
        if found.iter().all(|member| member.account.id != account.id) {
            let assignments =
                keys.into_iter().map(|role_key| membership_repo::HeldAssignment { role_key, group_id: None }).collect();
            found.push(MemberAccount {
                account,
                assignments,
                inherited_from: Some(parent),
                status: domain::membership::MembershipStatus::Active,
            });
        }
    }
    found.sort_by_key(|member| member.account.id);
    found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(found)
}

/// The account's invitation settings, as stored.
pub fn invitation_preferences(conn: &mut DbConnection, id: Uuid) -> Result<Option<InvitationPreferences>, StoreError> {
    let row: Option<PreferencesRow> =
        accounts::table.find(ids::to_db(id)).select(PREFERENCE_COLUMNS).first(conn).optional()?;
    row.map(|row| preferences_of(id, row)).transpose()
}

type PreferencesRow = (i32, String, String, bool);

const PREFERENCE_COLUMNS: (
    accounts::invitation_ttl_days,
    accounts::reminder_days,
    accounts::invitation_email_policy,
    accounts::invitations_restricted_to_domains,
) = (
    accounts::invitation_ttl_days,
    accounts::reminder_days,
    accounts::invitation_email_policy,
    accounts::invitations_restricted_to_domains,
);

fn preferences_of(
    id: Uuid,
    (ttl, reminders, policy, restricted_to_domains): PreferencesRow,
) -> Result<InvitationPreferences, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("account {id}: invalid {what}"));
    let days: Vec<i64> = reminders
        .split(',')
        .filter(|part| !part.is_empty())
        .map(|part| part.parse::<i64>().map_err(|_| corrupt("reminder_days")))
        .collect::<Result<_, _>>()?;
    Ok(InvitationPreferences {
        ttl: InvitationTtl::from_days(i64::from(ttl)).map_err(|_| corrupt("invitation_ttl_days"))?,
        reminders: ReminderSchedule::from_days(&days).map_err(|_| corrupt("reminder_days"))?,
        email_policy: EmailPolicy::parse(&policy).map_err(|_| corrupt("invitation_email_policy"))?,
        restricted_to_domains,
    })
}

/// What inviting one email to an account depends on: the account's
/// invitation settings, the sender, and where the email stands there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteeStanding {
    pub preferences: InvitationPreferences,
    /// `None` when the sender's user is gone.
    pub sender: Option<User>,
    pub has_user: bool,
    pub is_member: bool,
    /// A pending invitation still open.
    pub has_pending_invitation: bool,
    /// A pending invitation whose window has closed, not yet recorded as
    /// expired (it still holds the email's place: expire it first).
    pub has_lapsed_invitation: bool,
}

/// [`InviteeStanding`] of `email` (normalised) in `account` at `now`, as
/// `sender` invites, in one query, since each invitation is sent in a
/// transaction of its own; `None` when there is no such account.
pub fn invitee_standing(
    conn: &mut DbConnection,
    account: Uuid,
    sender: Uuid,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Option<InviteeStanding>, StoreError> {
    let (id, now) = (ids::to_db(account), time::to_db(now));
    let pending = || {
        invitations::table
            .filter(invitations::account_id.eq(id.clone()))
            .filter(invitations::email.eq(email))
            .filter(invitations::status.eq(InvitationStatus::Pending.key()))
    };
    // An alias: `users` appears again in the invitee's subqueries.
    let sender_row = diesel::alias!(users as sender_row);
    let row: Option<(PreferencesRow, Option<UserRow>, bool, bool, bool, bool)> = accounts::table
        .left_join(sender_row.on(sender_row.field(users::id).eq(ids::to_db(sender))))
        .filter(accounts::id.eq(&id))
        .select((
            PREFERENCE_COLUMNS,
            sender_row
                .fields((
                    users::id,
                    users::email,
                    users::first_name,
                    users::last_name,
                    users::password_hash,
                    users::email_verified,
                    users::created_at,
                    users::updated_at,
                    users::locale,
                    users::time_zone,
                ))
                .nullable(),
            diesel::dsl::exists(users::table.filter(users::email.eq(email))),
            diesel::dsl::exists(
                memberships::table
                    .inner_join(users::table)
                    .filter(memberships::account_id.eq(id.clone()))
                    .filter(users::email.eq(email)),
            ),
            diesel::dsl::exists(pending().filter(invitations::expires_at.gt(now))),
            diesel::dsl::exists(pending().filter(invitations::expires_at.le(now))),
        ))
        .first(conn)
        .optional()?;
    row.map(|(preferences, sender, has_user, is_member, has_pending_invitation, has_lapsed_invitation)| {
        Ok(InviteeStanding {
            preferences: preferences_of(account, preferences)?,
            sender: sender.map(User::try_from).transpose()?,
            has_user,
            is_member,
            has_pending_invitation,
            has_lapsed_invitation,
        })
    })
    .transpose()
}

pub fn set_invitation_preferences(
    conn: &mut DbConnection,
    id: Uuid,
    preferences: &InvitationPreferences,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let reminder_days = preferences.reminders.days().iter().map(u16::to_string).collect::<Vec<_>>().join(",");
    diesel::update(accounts::table.find(ids::to_db(id)))
        .set((
            accounts::invitation_ttl_days.eq(i32::from(preferences.ttl.days())),
            accounts::reminder_days.eq(reminder_days),
            accounts::invitation_email_policy.eq(preferences.email_policy.key()),
            accounts::invitations_restricted_to_domains.eq(preferences.restricted_to_domains),
            accounts::updated_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Locks the account row until the transaction ends (PostgreSQL), so that
/// checks over the account's members and their writes are not interleaved
/// with another transaction's. SQLite's single writer already serialises.
/// Replaces how the account speaks in its emails. Whether it exists.
pub fn set_email_settings(
    conn: &mut DbConnection,
    id: Uuid,
    settings: &EmailSettings,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = diesel::update(accounts::table.find(ids::to_db(id)))
        .set((
            accounts::email_display_name.eq(settings.display_name.as_deref()),
            accounts::invitation_message.eq(settings.invitation_message.as_deref()),
            accounts::email_locale.eq(settings.locale.as_deref()),
            accounts::updated_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
    Ok(changed > 0)
}

/// Puts an account on a plan. Whether the account exists.
pub fn set_plan(conn: &mut DbConnection, id: Uuid, plan: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let changed = diesel::update(accounts::table.find(ids::to_db(id)))
        .set((accounts::plan.eq(plan), accounts::updated_at.eq(time::to_db(now))))
        .execute(conn)?;
    Ok(changed > 0)
}

/// The account's plan key (empty: the default), if the account exists.
pub fn plan_of(conn: &mut DbConnection, id: Uuid) -> Result<Option<String>, StoreError> {
    Ok(accounts::table.find(ids::to_db(id)).select(accounts::plan).first(conn).optional()?)
}

/// The account's plan and whether it waits for its deletion (`None`: no
/// such account): what every request to it is checked against.
pub fn standing(conn: &mut DbConnection, id: Uuid) -> Result<Option<(String, bool)>, StoreError> {
    let found: Option<(String, Option<String>)> = accounts::table
        .left_join(account_deletions::table)
        .filter(accounts::id.eq(ids::to_db(id)))
        .select((accounts::plan, account_deletions::account_id.nullable()))
        .first(conn)
        .optional()?;
    Ok(found.map(|(plan, deletion)| (plan, deletion.is_some())))
}

/// An account's deletion, while it waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDeletion {
    pub requested_by: Option<Uuid>,
    pub requested_at: DateTime<Utc>,
    pub erase_after: DateTime<Utc>,
}

pub fn pending_deletion(conn: &mut DbConnection, id: Uuid) -> Result<Option<PendingDeletion>, StoreError> {
    let found: Option<(Option<String>, NaiveDateTime, NaiveDateTime)> = account_deletions::table
        .find(ids::to_db(id))
        .select((account_deletions::requested_by, account_deletions::requested_at, account_deletions::erase_after))
        .first(conn)
        .optional()?;
    found
        .map(|(by, at, after)| {
            Ok(PendingDeletion {
                requested_by: by.as_deref().map(ids::from_db).transpose()?,
                requested_at: time::from_db(at),
                erase_after: time::from_db(after),
            })
        })
        .transpose()
}

/// Schedules the account's erasure at `erase_after`; whether it was not
/// scheduled already.
pub fn request_deletion(
    conn: &mut DbConnection,
    id: Uuid,
    by: Uuid,
    now: DateTime<Utc>,
    erase_after: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let inserted = diesel::insert_into(account_deletions::table)
        .values((
            account_deletions::account_id.eq(ids::to_db(id)),
            account_deletions::requested_by.eq(ids::to_db(by)),
            account_deletions::requested_at.eq(time::to_db(now)),
            account_deletions::erase_after.eq(time::to_db(erase_after)),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Calls the account's deletion off; whether it was waiting.
pub fn restore(conn: &mut DbConnection, id: Uuid) -> Result<bool, StoreError> {
    Ok(diesel::delete(account_deletions::table.find(ids::to_db(id))).execute(conn)? > 0)
}

/// Accounts whose grace period ended by `now`, the longest due first.
pub fn due_for_erasure(conn: &mut DbConnection, now: DateTime<Utc>, limit: i64) -> Result<Vec<Uuid>, StoreError> {
    let found: Vec<String> = account_deletions::table
        .filter(account_deletions::erase_after.le(time::to_db(now)))
        .order(account_deletions::erase_after.asc())
        .select(account_deletions::account_id)
        .limit(limit)
        .load(conn)?;
    found.iter().map(|id| ids::from_db(id)).collect()
}

/// Seats in use: members plus pending invitations.
pub fn seats_used(conn: &mut DbConnection, id: Uuid, now: DateTime<Utc>) -> Result<u64, StoreError> {
    use crate::schema::invitations;
    let account = ids::to_db(id);
    let members: i64 = memberships::table.filter(memberships::account_id.eq(&account)).count().get_result(conn)?;
    let pending: i64 = invitations::table
        .filter(invitations::account_id.eq(&account))
        .filter(invitations::status.eq(domain::invitation::InvitationStatus::Pending.key()))
        .filter(invitations::expires_at.gt(time::to_db(now)))
        .count()
        .get_result(conn)?;
    Ok(u64::try_from(members + pending).unwrap_or(0))
}

pub fn lock(conn: &mut DbConnection, id: Uuid) -> Result<(), StoreError> {
    if let DbConnection::Pg(pg) = conn {
        diesel::sql_query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::Text, _>(ids::to_db(id))
            .execute(pg)?;
    }
    Ok(())
}
