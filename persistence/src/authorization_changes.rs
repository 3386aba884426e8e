//! Which accounts' authorization decisions a committed transaction changed.
//!
//! Database triggers (migrations 28 and 29) name the account — and, for
//! one member's roles, the member — of every change that can alter a
//! decision — roles held, custom roles, groups, API keys, links
//! between accounts, plans — inside the transaction that makes it. The
//! outermost [`crate::write_transaction`] reads those names just before it
//! commits and, once committed, leaves them for its caller to collect with
//! [`take_committed`]: the instance that made a change forgets its cached
//! decisions at once. Other instances hear of it through a
//! [`ChangeListener`]: PostgreSQL's `NOTIFY`, or SQLite's change log.

use std::cell::RefCell;

use diesel::connection::SimpleConnection;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Text};
use uuid::Uuid;

use crate::db::{DatabaseUrl, DbConnection};
use crate::{StoreError, ids};

/// The channel the triggers notify, with the account id as the payload.
const CHANNEL: &str = "roster_authorization";

thread_local! {
    /// Accounts changed by transactions committed on this thread and not
    /// yet collected. A thread-local rather than a return value because
    /// every write goes through `write_transaction` and its callers should
    /// not each have to pass the list on: whoever owns the connection for a
    /// unit of work (a request's database hop, a job) collects it after.
    static COMMITTED: RefCell<Vec<Changed>> = const { RefCell::new(Vec::new()) };
}

/// What a change names: one member's roles in an account (their
/// membership, role assignments, groups, roles extended from a parent), or
/// what every member there may do (role definitions, links, plans, keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Changed {
    pub account: Uuid,
    /// `None`: the whole account.
    pub member: Option<Uuid>,
}

impl Changed {
    /// `account` or `account:user`, as the triggers write it; `None` for
    /// anything else.
    fn parse(subject: &str) -> Option<Changed> {
        let (account, member) = match subject.split_once(':') {
            Some((account, member)) => (account, Some(ids::from_db(member).ok()?)),
            None => (subject, None),
        };
        Some(Changed { account: ids::from_db(account).ok()?, member })
    }
}

/// What transactions committed on this thread changed since the last call
/// (possibly with repeats).
pub fn take_committed() -> Vec<Changed> {
    COMMITTED.with(|committed| std::mem::take(&mut *committed.borrow_mut()))
}

pub(crate) fn committed(changes: Vec<Changed>) {
    if !changes.is_empty() {
        COMMITTED.with(|committed| committed.borrow_mut().extend(changes));
    }
}

diesel::define_sql_function! {
    /// PostgreSQL's `current_setting(name, missing_ok)`.
    fn current_setting(name: Text, missing_ok: diesel::sql_types::Bool) -> diesel::sql_types::Nullable<Text>;
}

// SQLite's side of the triggers (migrations/sqlite only): the names the
// open transaction's triggers wrote, and the log other processes read.
diesel::table! {
    authorization_pending (subject) {
        subject -> Text,
    }
}

diesel::table! {
    authorization_log (seq) {
        seq -> BigInt,
        subject -> Text,
        logged_at -> Text,
    }
}

fn pending_subjects(conn: &mut diesel::SqliteConnection) -> QueryResult<Vec<String>> {
    authorization_pending::table.select(authorization_pending::subject).load(conn)
}

/// `logged_at` as SQLite's `strftime('%Y-%m-%d %H:%M:%f', 'now')` writes
/// it, which the log's pruning compares with.
fn sqlite_now() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

/// What the current transaction's triggers named so far. On SQLite the
/// list is a table, emptied here: there is one writer at a time, so its
/// rows are this transaction's.
pub(crate) fn pending(conn: &mut DbConnection) -> QueryResult<Vec<Changed>> {
    let named: Vec<String> = match conn {
        DbConnection::Pg(pg) => {
            // A function call, not `sql_query`, so that diesel keeps it prepared.
            let changed: Option<String> =
                diesel::select(current_setting("roster.authorization_changed", true)).get_result(pg)?;
            changed.unwrap_or_default().split_whitespace().map(str::to_owned).collect()
        }
        // In diesel's query language rather than SQL text, so that every
        // statement here stays prepared: this runs inside the write lock.
        DbConnection::Sqlite(sqlite) => {
            let subjects = pending_subjects(sqlite)?;
            if !subjects.is_empty() {
                // Kept for other processes on the same file ([`ChangeListener`]).
                let logged_at = sqlite_now();
                for subject in &subjects {
                    diesel::insert_into(authorization_log::table)
                        .values((authorization_log::subject.eq(subject), authorization_log::logged_at.eq(&logged_at)))
                        .execute(sqlite)?;
                }
                diesel::delete(authorization_pending::table).execute(sqlite)?;
            }
            subjects
        }
    };
    // What does not parse cannot name anything cached: skip it.
    Ok(named.iter().filter_map(|subject| Changed::parse(subject)).collect())
}

/// [`pending`] on PostgreSQL, asked in the same statement as `write` (an
/// `INSERT` into a table whose triggers name no change), which runs first:
/// one round trip for both.
pub(crate) fn pending_pg_after(
    pg: &mut diesel::PgConnection,
    write: Box<dyn QueryFragment<Pg> + '_>,
) -> QueryResult<Vec<Changed>> {
    let changed: Option<String> = WriteThenAsk(write).get_result(pg)?;
    Ok(changed.unwrap_or_default().split_whitespace().filter_map(Changed::parse).collect())
}

/// `WITH written AS (<write>) SELECT current_setting(…)`: PostgreSQL runs a
/// data-modifying `WITH` once, whether or not the query reads it, and the
/// setting is read as the earlier statements' triggers left it.
struct WriteThenAsk<'a>(Box<dyn QueryFragment<Pg> + 'a>);

impl QueryId for WriteThenAsk<'_> {
    type QueryId = ();
    // No static id: diesel's statement cache keys it by its text and keeps
    // it prepared, provided the write is one it would keep prepared.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for WriteThenAsk<'_> {
    type SqlType = diesel::sql_types::Nullable<Text>;
}

impl RunQueryDsl<diesel::PgConnection> for WriteThenAsk<'_> {}

impl QueryFragment<Pg> for WriteThenAsk<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH written AS (");
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(") SELECT current_setting('roster.authorization_changed', true)");
        Ok(())
    }
}

/// A dedicated connection through which an instance hears of changes
/// committed by others: on PostgreSQL, other instances' transactions, by
/// `LISTEN`; on SQLite, other processes on the same file (`roster` commands),
/// by reading `authorization_log` past what it has seen.
pub enum ChangeListener {
    Pg(diesel::PgConnection),
    Sqlite { conn: diesel::SqliteConnection, seen: i64 },
}

#[derive(QueryableByName)]
struct News {
    #[diesel(sql_type = BigInt)]
    newest: i64,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    left_over: bool,
}

#[derive(QueryableByName)]
struct Logged {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Text)]
    subject: String,
}

impl ChangeListener {
    /// Connects and starts listening. `name` becomes the PostgreSQL
    /// connection's `application_name`, so an operator can find it in
    /// `pg_stat_activity`.
    pub fn connect(url: &DatabaseUrl, name: &str) -> Result<Self, StoreError> {
        match url {
            DatabaseUrl::Postgres(url) => {
                let separator = if url.contains('?') { '&' } else { '?' };
                // Keepalives: a listener cut off without a word (a dead
                // network path) is noticed within seconds, not TCP's hours.
                let url = format!(
                    "{url}{separator}application_name={name}\
                     &keepalives=1&keepalives_idle=5&keepalives_interval=1&keepalives_count=3"
                );
                let mut conn = diesel::PgConnection::establish(&url).map_err(|e| StoreError::Connect(e.to_string()))?;
                conn.batch_execute(&format!("LISTEN {CHANNEL}"))?;
                Ok(Self::Pg(conn))
            }
            DatabaseUrl::Sqlite(_) => {
                // Opened like every other connection (busy timeout, WAL).
                let DbConnection::Sqlite(mut conn) = crate::db::connect(url)? else {
                    unreachable!("a sqlite:// URL opens a SQLite connection")
                };
                let newest: Logged =
                    diesel::sql_query("SELECT coalesce(max(seq), 0) AS seq, '' AS subject FROM authorization_log")
                        .get_result(&mut conn)?;
                Ok(Self::Sqlite { conn, seen: newest.seq })
            }
        }
    }

    /// What was named since the last call (possibly with repeats). `Err`
    /// once the connection is lost: from then on changes may have been
    /// missed.
    pub fn changed(&mut self) -> Result<Vec<Changed>, StoreError> {
        let named: Vec<String> = match self {
            Self::Pg(conn) => {
                let mut named = Vec::new();
                for notification in conn.notifications_iter() {
                    named.push(notification?.payload);
                }
                named
            }
            Self::Sqlite { conn, seen } => {
                // One cheap statement when nothing happened, which is nearly always.
                let news: News = diesel::sql_query(
                    "SELECT coalesce((SELECT max(seq) FROM authorization_log), 0) AS newest, \
                            EXISTS (SELECT 1 FROM authorization_pending) AS left_over",
                )
                .get_result(conn)?;
                let mut named = Vec::new();
                if news.newest > *seen {
                    let rows: Vec<Logged> =
                        diesel::sql_query("SELECT seq, subject FROM authorization_log WHERE seq > $1 ORDER BY seq")
                            .bind::<BigInt, _>(*seen)
                            .load(conn)?;
                    *seen = rows.last().map_or(news.newest, |last| last.seq);
                    named.extend(rows.into_iter().map(|row| row.subject));
                }
                if news.left_over {
                    named.extend(sweep_pending(conn)?);
                }
                named
            }
        };
        Ok(named.iter().filter_map(|subject| Changed::parse(subject)).collect())
    }

    /// How often to look for changes: the bulk of how late an instance
    /// hears of one. PostgreSQL's look only reads what the socket holds;
    /// SQLite's is a query, and its other writers are the `roster`
    /// commands, rarely run.
    pub fn poll_interval(&self) -> std::time::Duration {
        match self {
            Self::Pg(_) => std::time::Duration::from_millis(2),
            Self::Sqlite { .. } => std::time::Duration::from_millis(10),
        }
    }

    /// A round trip: whether the server still answers.
    pub fn ping(&mut self) -> Result<(), StoreError> {
        match self {
            Self::Pg(conn) => Ok(conn.batch_execute("SELECT 1")?),
            Self::Sqlite { .. } => Ok(()),
        }
    }
}

/// Names left in SQLite's `authorization_pending` by writes made outside
/// [`crate::write_transaction`] (a statement of its own, a hand edit),
/// which nobody else collects: a transaction clears its own names before it
/// commits, so the names another connection can see are such leftovers.
fn sweep_pending(conn: &mut diesel::SqliteConnection) -> QueryResult<Vec<String>> {
    if pending_subjects(conn)?.is_empty() {
        return Ok(Vec::new());
    }
    conn.immediate_transaction(|conn| {
        let left = pending_subjects(conn)?;
        diesel::delete(authorization_pending::table).execute(conn)?;
        Ok(left)
    })
}

/// Deletes the part of SQLite's log of changes older than a day (by the
/// database's clock, as it was written): every listener has read it long
/// since. PostgreSQL keeps no log.
pub fn purge_log(conn: &mut DbConnection) -> Result<usize, StoreError> {
    match conn {
        DbConnection::Pg(_) => Ok(0),
        DbConnection::Sqlite(sqlite) => Ok(diesel::sql_query(
            "DELETE FROM authorization_log WHERE logged_at < strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 day')",
        )
        .execute(sqlite)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_name_an_account_or_a_member_in_it() {
        let (account, member) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(Changed::parse(&account.to_string()), Some(Changed { account, member: None }));
        assert_eq!(Changed::parse(&format!("{account}:{member}")), Some(Changed { account, member: Some(member) }));
        assert_eq!(Changed::parse("not-an-id"), None);
        assert_eq!(Changed::parse(&format!("{account}:")), None);
    }
}
