//! Invitations. State changes are conditional updates (`… WHERE status =
//! 'pending' AND expires_at > now`), so that of two racing transitions
//! exactly one takes effect and the other sees zero rows changed.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::Email;
use domain::invitation::{InvitationClock, InvitationStatus};
use uuid::Uuid;

use crate::db::{insert_all, planned_per_call};
use crate::schema::{invitation_assignments, invitation_groups, invitations, roles, users};
use crate::users::{User, UserRow};
use crate::{DbConnection, StoreError, ids, search, time};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: Uuid,
    pub account_id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// What the invitee will hold on accepting.
    pub assignments: Vec<InvitedRole>,
    /// Groups the invitee joins without a role inside them.
    pub groups: Vec<Uuid>,
    pub invited_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub clock: InvitationClock,
    /// The language (BCP 47) the inviter chose for someone who chose none.
    pub locale: Option<String>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = invitations, treat_none_as_default_value = false)]
struct InvitationRow {
    id: String,
    account_id: String,
    email: String,
    first_name: String,
    last_name: String,
    status: String,
    token_hash: String,
    invited_by: Option<String>,
    created_at: NaiveDateTime,
    sent_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    reminders_sent: i32,
    decided_at: Option<NaiveDateTime>,
    next_reminder_at: Option<NaiveDateTime>,
    locale: Option<String>,
}

/// A role an invitation offers, account-wide or inside one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitedRole {
    pub role_id: Uuid,
    pub role_key: String,
    pub group_id: Option<Uuid>,
}

impl InvitedRole {
    fn from_row(role_id: &str, role_key: String, group_id: Option<&str>) -> Result<Self, StoreError> {
        Ok(InvitedRole { role_id: ids::from_db(role_id)?, role_key, group_id: group_id.map(ids::from_db).transpose()? })
    }
}

impl Invitation {
    /// Keys of the offered roles, sorted, each once.
    pub fn role_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.assignments.iter().map(|a| a.role_key.clone()).collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

impl InvitationRow {
    fn into_invitation(self, assignments: Vec<InvitedRole>, groups: Vec<Uuid>) -> Result<Invitation, StoreError> {
        Ok(Invitation {
            id: ids::from_db(&self.id)?,
            account_id: ids::from_db(&self.account_id)?,
            email: self.email,
            first_name: self.first_name,
            last_name: self.last_name,
            assignments,
            groups,
            invited_by: self.invited_by.as_deref().map(ids::from_db).transpose()?,
            created_at: time::from_db(self.created_at),
            decided_at: self.decided_at.map(time::from_db),
            clock: InvitationClock {
                status: InvitationStatus::parse(&self.status)
                    .map_err(|_| StoreError::Corrupt(format!("invitation status {:?}", self.status)))?,
                sent_at: time::from_db(self.sent_at),
                expires_at: time::from_db(self.expires_at),
                reminders_sent: u32::try_from(self.reminders_sent).unwrap_or(0),
            },
            locale: self.locale,
        })
    }
}

pub struct NewInvitation<'a> {
    pub account_id: Uuid,
    pub email: &'a Email,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub assignments: &'a [InvitedRole],
    pub groups: &'a [Uuid],
    pub invited_by: Uuid,
    pub token_hash: &'a str,
    pub clock: InvitationClock,
    pub next_reminder_at: Option<DateTime<Utc>>,
    pub locale: Option<&'a str>,
}

#[derive(Insertable)]
#[diesel(table_name = invitation_assignments, treat_none_as_default_value = false)]
struct AssignmentRow {
    id: String,
    invitation_id: String,
    role_id: String,
    group_id: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = invitation_groups, treat_none_as_default_value = false)]
struct GroupRow {
    invitation_id: String,
    group_id: String,
}

fn row_of(new: &NewInvitation<'_>) -> InvitationRow {
    InvitationRow {
        id: ids::to_db(Uuid::now_v7()),
        account_id: ids::to_db(new.account_id),
        email: new.email.as_str().to_owned(),
        first_name: new.first_name.to_owned(),
        last_name: new.last_name.to_owned(),
        status: InvitationStatus::Pending.key().to_owned(),
        token_hash: new.token_hash.to_owned(),
        invited_by: Some(ids::to_db(new.invited_by)),
        created_at: time::to_db(new.clock.sent_at),
        sent_at: time::to_db(new.clock.sent_at),
        expires_at: time::to_db(new.clock.expires_at),
        reminders_sent: 0,
        decided_at: None,
        next_reminder_at: new.next_reminder_at.map(time::to_db),
        locale: new.locale.map(str::to_owned),
    }
}

/// Records many invitations with a few multi-row statements, returning
/// their ids in order. [`StoreError::Conflict`] when any email already has a
/// pending invitation to the account. Call inside a transaction.
pub fn insert_many(conn: &mut DbConnection, news: &[NewInvitation<'_>]) -> Result<Vec<Uuid>, StoreError> {
    insert_rows(conn, news)?.iter().map(|row| ids::from_db(&row.id)).collect()
}

fn insert_rows(conn: &mut DbConnection, news: &[NewInvitation<'_>]) -> Result<Vec<InvitationRow>, StoreError> {
    let rows: Vec<InvitationRow> = news.iter().map(row_of).collect();
    let mut assignments = Vec::new();
    let mut groups = Vec::new();
    for (row, new) in rows.iter().zip(news) {
        for assignment in new.assignments {
            assignments.push(AssignmentRow {
                id: ids::to_db(Uuid::now_v7()),
                invitation_id: row.id.clone(),
                role_id: ids::to_db(assignment.role_id),
                group_id: assignment.group_id.map(ids::to_db),
            });
        }
        for group in new.groups {
            groups.push(GroupRow { invitation_id: row.id.clone(), group_id: ids::to_db(*group) });
        }
    }
    insert_all!(conn, invitations::table, rows)?;
    insert_all!(conn, invitation_assignments::table, assignments)?;
    insert_all!(conn, invitation_groups::table, groups)?;
    Ok(rows)
}

/// Records an invitation. [`StoreError::Conflict`] when the email already
/// has a pending invitation to the account. Call inside a transaction: the
/// roles are separate rows.
pub fn insert(conn: &mut DbConnection, new: NewInvitation<'_>) -> Result<Invitation, StoreError> {
    let row = insert_rows(conn, std::slice::from_ref(&new))?
        .pop()
        .ok_or_else(|| StoreError::Corrupt("no invitation inserted".into()))?;
    let mut assignments = new.assignments.to_vec();
    assignments.sort_by(|a, b| a.role_key.cmp(&b.role_key));
    row.into_invitation(assignments, new.groups.to_vec())
}

/// Where the invitations of `emails` to `account` stand, read once for a
/// batch of them.
pub struct PendingAmong {
    /// The emails with a pending invitation still open.
    pub open: HashSet<String>,
    /// The pending invitations whose window had closed, now recorded as
    /// expired so that they no longer block new ones.
    pub lapsed: Vec<Lapsed>,
}

/// Reads the pending invitations of `emails` to `account` and records the
/// lapsed ones as expired.
pub fn settle_pending_among(
    conn: &mut DbConnection,
    account: Uuid,
    emails: &[&str],
    now: DateTime<Utc>,
) -> Result<PendingAmong, StoreError> {
    let now = time::to_db(now);
    let (open, lapsed): (Vec<PendingRow>, Vec<PendingRow>) =
        pending_by_email(conn, account, emails)?.into_iter().partition(|pending| pending.expires_at > now);
    let open = open.into_iter().map(|pending| pending.email).collect();
    let lapsed: Vec<String> = lapsed.into_iter().map(|pending| pending.id).collect();
    if lapsed.is_empty() {
        return Ok(PendingAmong { open, lapsed: Vec::new() });
    }
    let rows: Vec<(String, String, String)> = diesel::update(
        invitations::table
            .filter(invitations::id.eq_any(&lapsed))
            .filter(invitations::status.eq(InvitationStatus::Pending.key()))
            .filter(invitations::expires_at.le(now)),
    )
    .set((
        invitations::status.eq(InvitationStatus::Expired.key()),
        invitations::decided_at.eq(now),
        invitations::next_reminder_at.eq(None::<NaiveDateTime>),
    ))
    .returning((invitations::id, invitations::account_id, invitations::email))
    .get_results(conn)?;
    Ok(PendingAmong { open, lapsed: Lapsed::from_rows(rows)? })
}

#[derive(QueryableByName, Queryable)]
struct PendingRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    email: String,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    expires_at: NaiveDateTime,
}

/// The pending invitations (lapsed or not) of `emails` to `account`.
///
/// On PostgreSQL each email is looked up on its own in the index of pending
/// invitations. Written as `email = ANY(…)`, or as a plain `LATERAL` join
/// (which the planner flattens into the same thing), the plan went by the
/// statistics of the moment: during a large import they call the account
/// small, so PostgreSQL read every pending invitation of the account and
/// filtered them against the list — 6 ms per 500-row batch at 50,000
/// pending and 18–26 ms at 100,000, growing with every batch (measured).
/// `OFFSET 0` keeps the subquery from being flattened, so each email is one
/// descent of `invitations_one_pending_idx` (0.1 ms for the batch) whatever
/// the statistics say.
fn pending_by_email(conn: &mut DbConnection, account: Uuid, emails: &[&str]) -> Result<Vec<PendingRow>, StoreError> {
    let account = ids::to_db(account);
    Ok(match conn {
        DbConnection::Pg(pg) => diesel::sql_query(
            "SELECT pending.id, pending.email, pending.expires_at FROM unnest($1::text[]) AS asked(email) \
             CROSS JOIN LATERAL (SELECT id, email, expires_at FROM invitations \
             WHERE account_id = $2 AND email = asked.email AND status = 'pending' OFFSET 0) AS pending",
        )
        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(emails)
        .bind::<diesel::sql_types::Text, _>(&account)
        .load(pg)?,
        DbConnection::Sqlite(_) => invitations::table
            .filter(invitations::account_id.eq(&account))
            .filter(invitations::email.eq_any(emails))
            .filter(invitations::status.eq(InvitationStatus::Pending.key()))
            .select((invitations::id, invitations::email, invitations::expires_at))
            .load(conn)?,
    })
}

/// An invitation just recorded as expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lapsed {
    pub id: Uuid,
    pub account_id: Uuid,
    pub email: String,
}

impl Lapsed {
    fn from_rows(rows: Vec<(String, String, String)>) -> Result<Vec<Lapsed>, StoreError> {
        rows.into_iter()
            .map(|(id, account, email)| {
                Ok(Lapsed { id: ids::from_db(&id)?, account_id: ids::from_db(&account)?, email })
            })
            .collect()
    }
}

/// Records as expired the pending invitations of `email` to `account` whose
/// window has closed, so that they no longer block a new invitation.
pub fn expire_lapsed_for(
    conn: &mut DbConnection,
    account: Uuid,
    email: &Email,
    now: DateTime<Utc>,
) -> Result<Vec<Lapsed>, StoreError> {
    Ok(settle_pending_among(conn, account, &[email.as_str()], now)?.lapsed)
}

fn with_roles(conn: &mut DbConnection, rows: Vec<InvitationRow>) -> Result<Vec<Invitation>, StoreError> {
    let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
    let found: Vec<(String, String, String, Option<String>)> = invitation_assignments::table
        .inner_join(roles::table)
        .filter(invitation_assignments::invitation_id.eq_any(&ids))
        .select((invitation_assignments::invitation_id, roles::id, roles::key, invitation_assignments::group_id))
        .order((invitation_assignments::invitation_id, roles::key))
        .load(conn)?;
    let joined: Vec<(String, String)> = invitation_groups::table
        .filter(invitation_groups::invitation_id.eq_any(&ids))
        .select((invitation_groups::invitation_id, invitation_groups::group_id))
        .order((invitation_groups::invitation_id, invitation_groups::group_id))
        .load(conn)?;
    let mut groups_of: HashMap<String, Vec<Uuid>> = HashMap::new();
    for (id, group) in joined {
        groups_of.entry(id).or_default().push(ids::from_db(&group)?);
    }
    let mut by_invitation: HashMap<String, Vec<InvitedRole>> = HashMap::new();
    for (id, role_id, role_key, group_id) in found {
        let invited = InvitedRole::from_row(&role_id, role_key, group_id.as_deref())?;
        by_invitation.entry(id).or_default().push(invited);
    }
    rows.into_iter()
        .map(|row| {
            let keys = by_invitation.remove(&row.id).unwrap_or_default();
            let groups = groups_of.remove(&row.id).unwrap_or_default();
            row.into_invitation(keys, groups)
        })
        .collect()
}

fn first_with_roles(conn: &mut DbConnection, row: Option<InvitationRow>) -> Result<Option<Invitation>, StoreError> {
    Ok(match row {
        Some(row) => with_roles(conn, vec![row])?.pop(),
        None => None,
    })
}

/// An invitation of `account`; invitations of other accounts are not found.
pub fn find(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<Option<Invitation>, StoreError> {
    let row = invitations::table
        .filter(invitations::account_id.eq(ids::to_db(account)))
        .find(ids::to_db(id))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()?;
    first_with_roles(conn, row)
}

/// The invitation a link's token opens, with what it offers and, when
/// `reader` is given, that user (if there is one), in one query: a row per
/// role and group offered. Accepting reads both on every link followed.
pub fn open_by_token_hash(
    conn: &mut DbConnection,
    token_hash: &str,
    reader: Option<Uuid>,
) -> Result<Option<(Invitation, Option<User>)>, StoreError> {
    type Offered = (InvitationRow, Option<(String, String, Option<String>)>, Option<String>, Option<UserRow>);
    let rows: Vec<Offered> = invitations::table
        .left_join(invitation_assignments::table.inner_join(roles::table))
        .left_join(invitation_groups::table)
        .left_join(users::table.on(users::id.nullable().eq(reader.map(ids::to_db))))
        .filter(invitations::token_hash.eq(token_hash))
        // An account waiting for its deletion invites nobody.
        .filter(crate::not_pending_deletion!(invitations::account_id))
        .select((
            InvitationRow::as_select(),
            (roles::id, roles::key, invitation_assignments::group_id).nullable(),
            invitation_groups::group_id.nullable(),
            Option::<UserRow>::as_select(),
        ))
        .load(conn)?;
    let mut rows = rows.into_iter();
    let Some((invitation, first_assignment, first_group, user)) = rows.next() else { return Ok(None) };
    let (mut assignments, mut groups) = (Vec::new(), Vec::new());
    let offered = std::iter::once((first_assignment, first_group)).chain(rows.map(|(_, a, g, _)| (a, g)));
    for (assignment, group) in offered {
        if let Some((role_id, role_key, group_id)) = assignment {
            assignments.push(InvitedRole::from_row(&role_id, role_key, group_id.as_deref())?);
        }
        if let Some(group) = group {
            groups.push(ids::from_db(&group)?);
        }
    }
    assignments.sort_by(|a, b| (&a.role_key, a.group_id).cmp(&(&b.role_key, b.group_id)));
    assignments.dedup();
    groups.sort();
    groups.dedup();
    Ok(Some((invitation.into_invitation(assignments, groups)?, user.map(User::try_from).transpose()?)))
}

#[derive(Debug, Default)]
pub struct ListFilter {
    pub status: Option<InvitationStatus>,
    /// Case-insensitive substring of the email or either name.
    pub query: Option<String>,
    pub after: Option<Uuid>,
    pub limit: i64,
}

/// An account's invitations in creation order (ids are UUIDv7), filtered.
/// "pending" and "expired" are judged against `now`, not only the stored
/// status, since the scheduler records expiry with some delay.
pub fn list(
    conn: &mut DbConnection,
    account: Uuid,
    filter: &ListFilter,
    now: DateTime<Utc>,
) -> Result<Vec<Invitation>, StoreError> {
    let now = time::to_db(now);
    let mut query = invitations::table
        .filter(invitations::account_id.eq(ids::to_db(account)))
        .select(InvitationRow::as_select())
        .order(invitations::id.asc())
        .limit(filter.limit)
        .into_boxed();
    let pending = InvitationStatus::Pending.key();
    query = match filter.status {
        Some(InvitationStatus::Pending) => {
            query.filter(invitations::status.eq(pending)).filter(invitations::expires_at.gt(now))
        }
        Some(InvitationStatus::Expired) => query.filter(
            invitations::status
                .eq(InvitationStatus::Expired.key())
                .or(invitations::status.eq(pending).and(invitations::expires_at.le(now))),
        ),
        Some(status) => query.filter(invitations::status.eq(status.key())),
        None => query,
    };
    if let Some(phrase) =
        filter.query.as_deref().filter(|_| matches!(conn, DbConnection::Sqlite(_))).and_then(search::fts_phrase)
    {
        // SQLite: the trigram index and its queue name the candidates; the
        // LIKE below keeps the result exactly PostgreSQL's.
        use crate::schema::{invitations_search, invitations_search_queue};
        let matching = invitations_search::table
            .filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>("invitations_search MATCH ")
                    .bind::<diesel::sql_types::Text, _>(phrase),
            )
            .select(invitations_search::invitation_id)
            .union_all(invitations_search_queue::table.select(invitations_search_queue::invitation_id));
        query = query.filter(invitations::id.eq_any(matching));
    }
    if let Some(pattern) = filter.query.as_deref().and_then(search::contains_pattern) {
        query = query.filter(planned_per_call());
        query = query.filter(
            invitations::email
                .like(pattern.clone())
                .escape(search::ESCAPE)
                .or(search::lower(invitations::first_name).like(pattern.clone()).escape(search::ESCAPE))
                .or(search::lower(invitations::last_name).like(pattern).escape(search::ESCAPE)),
        );
    }
    if let Some(after) = filter.after {
        query = query.filter(invitations::id.gt(ids::to_db(after)));
    }
    let rows = query.load(conn)?;
    with_roles(conn, rows)
}

/// Pending, unexpired invitations addressed to `email`, across accounts.
pub fn list_open_for_email(
    conn: &mut DbConnection,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Invitation>, StoreError> {
    let rows = invitations::table
        .filter(invitations::email.eq(email))
        .filter(invitations::status.eq(InvitationStatus::Pending.key()))
        .filter(invitations::expires_at.gt(time::to_db(now)))
        .select(InvitationRow::as_select())
        .order(invitations::id.asc())
        .load(conn)?;
    with_roles(conn, rows)
}

/// Moves a pending, unexpired invitation to a final status. Returns false
/// when it was no longer open (someone else decided first, or it expired).
pub fn decide(
    conn: &mut DbConnection,
    id: Uuid,
    outcome: InvitationStatus,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let now = time::to_db(now);
    let updated = diesel::update(
        invitations::table
            .find(ids::to_db(id))
            .filter(invitations::status.eq(InvitationStatus::Pending.key()))
            .filter(invitations::expires_at.gt(now)),
    )
    .set((invitations::status.eq(outcome.key()), invitations::decided_at.eq(now)))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Accepts the pending invitation `id` (of `account`) on behalf of `user`
/// and makes them a member there, holding nothing yet
/// ([`crate::memberships::grant_on_joining`]). `None` when the invitation is
/// no longer pending and open: another transition won. [`StoreError::Conflict`]
/// when `user` is a member already.
///
/// On PostgreSQL both writes travel as one statement (a data-modifying
/// `WITH`): this is the busiest write path, and every round trip costs the
/// database a wake-up (BENCHMARKS.md). SQLite, in process, has no round trips
/// to save.
pub fn accept(
    conn: &mut DbConnection,
    id: Uuid,
    account: Uuid,
    user: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, StoreError> {
    let DbConnection::Pg(pg) = conn else {
        if !decide(conn, id, InvitationStatus::Accepted, now)? {
            return Ok(None);
        }
        return crate::memberships::add(conn, account, user, &[], now).map(Some);
    };
    let membership = Uuid::now_v7();
    let statement = AcceptAndJoin {
        invitation: ids::to_db(id),
        membership: ids::to_db(membership),
        account: ids::to_db(account),
        user: ids::to_db(user),
        now: time::to_db(now),
    };
    let joined: Option<String> = statement.get_result(pg).optional()?;
    Ok(joined.map(|_| membership))
}

/// [`accept`]'s statement on PostgreSQL, which diesel's query builder cannot
/// say. Written as a query fragment rather than `sql_query` so that diesel
/// keeps it prepared (by its text) like its own statements, instead of
/// PostgreSQL parsing and planning it on every accept.
struct AcceptAndJoin {
    invitation: String,
    membership: String,
    account: String,
    user: String,
    now: NaiveDateTime,
}

impl diesel::query_builder::QueryId for AcceptAndJoin {
    type QueryId = ();
    // No static id: the statement cache keys it by its SQL text instead.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for AcceptAndJoin {
    type SqlType = diesel::sql_types::Text;
}

impl RunQueryDsl<diesel::PgConnection> for AcceptAndJoin {}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for AcceptAndJoin {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        use diesel::sql_types::{Text, Timestamp};
        out.push_sql("WITH decided AS (UPDATE invitations SET status = ");
        out.push_bind_param::<Text, str>(InvitationStatus::Accepted.key())?;
        out.push_sql(", decided_at = ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<Text, _>(&self.invitation)?;
        out.push_sql(" AND status = ");
        out.push_bind_param::<Text, str>(InvitationStatus::Pending.key())?;
        out.push_sql(" AND expires_at > ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(" RETURNING id) INSERT INTO memberships (id, account_id, user_id, created_at) SELECT ");
        out.push_bind_param::<Text, _>(&self.membership)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.account)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.user)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(" FROM decided RETURNING id");
        Ok(())
    }
}

/// Gives a pending or expired invitation a new token and window. Returns
/// false when it reached a final status meanwhile; [`StoreError::Conflict`]
/// when reviving it would make a second pending invitation for the email.
pub fn resend(
    conn: &mut DbConnection,
    id: Uuid,
    token_hash: &str,
    clock: InvitationClock,
    next_reminder_at: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    let updated = diesel::update(
        invitations::table
            .find(ids::to_db(id))
            .filter(invitations::status.eq_any([InvitationStatus::Pending.key(), InvitationStatus::Expired.key()])),
    )
    .set((
        invitations::status.eq(InvitationStatus::Pending.key()),
        invitations::token_hash.eq(token_hash),
        invitations::sent_at.eq(time::to_db(clock.sent_at)),
        invitations::expires_at.eq(time::to_db(clock.expires_at)),
        invitations::reminders_sent.eq(0),
        invitations::decided_at.eq(None::<NaiveDateTime>),
        invitations::next_reminder_at.eq(next_reminder_at.map(time::to_db)),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Revokes every pending invitation of `email` to `account` (on removal).
pub fn revoke_pending_for(
    conn: &mut DbConnection,
    account: Uuid,
    email: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        invitations::table
            .filter(invitations::account_id.eq(ids::to_db(account)))
            .filter(invitations::email.eq(email))
            .filter(invitations::status.eq(InvitationStatus::Pending.key())),
    )
    .set((invitations::status.eq(InvitationStatus::Revoked.key()), invitations::decided_at.eq(time::to_db(now))))
    .execute(conn)?)
}

/// Records expiry of every pending invitation whose window has closed.
/// Idempotent, so instances running it together do no harm.
pub fn expire_lapsed(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<Vec<Lapsed>, StoreError> {
    let now = time::to_db(now);
    let rows: Vec<(String, String, String)> = diesel::update(
        invitations::table
            .filter(invitations::status.eq(InvitationStatus::Pending.key()))
            .filter(invitations::expires_at.le(now)),
    )
    .set((
        invitations::status.eq(InvitationStatus::Expired.key()),
        invitations::decided_at.eq(now),
        invitations::next_reminder_at.eq(None::<NaiveDateTime>),
    ))
    .returning((invitations::id, invitations::account_id, invitations::email))
    .get_results(conn)?;
    Lapsed::from_rows(rows)
}

/// Pending, unexpired invitations whose next reminder is due.
pub fn due_reminders(conn: &mut DbConnection, now: DateTime<Utc>, limit: i64) -> Result<Vec<Invitation>, StoreError> {
    let now = time::to_db(now);
    let rows = invitations::table
        .filter(invitations::status.eq(InvitationStatus::Pending.key()))
        .filter(invitations::next_reminder_at.le(now))
        .filter(invitations::expires_at.gt(now))
        // An account waiting for its deletion reminds nobody.
        .filter(crate::not_pending_deletion!(invitations::account_id))
        .select(InvitationRow::as_select())
        .order(invitations::next_reminder_at.asc())
        .limit(limit)
        .load(conn)?;
    with_roles(conn, rows)
}

/// Records that reminder number `invitation.clock.reminders_sent + 1` went
/// out with a new link. Conditional on the reminder count read, so that of
/// several instances seeing the same due reminder exactly one sends it.
pub fn record_reminder(
    conn: &mut DbConnection,
    invitation: &Invitation,
    token_hash: &str,
    next_reminder_at: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    let seen = i32::try_from(invitation.clock.reminders_sent).unwrap_or(i32::MAX);
    let updated = diesel::update(
        invitations::table
            .find(ids::to_db(invitation.id))
            .filter(invitations::status.eq(InvitationStatus::Pending.key()))
            .filter(invitations::reminders_sent.eq(seen)),
    )
    .set((
        invitations::reminders_sent.eq(seen + 1),
        invitations::token_hash.eq(token_hash),
        invitations::next_reminder_at.eq(next_reminder_at.map(time::to_db)),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}
