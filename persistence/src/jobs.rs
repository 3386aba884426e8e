//! The job queue: one table for all background work. Producers of side
//! effects (emails, webhooks) call [`enqueue`] inside the transaction whose
//! change causes them, so the job exists exactly when the change does — the
//! transactional outbox. A worker claims due jobs with a lease ([`claim`]);
//! a worker that dies mid-job loses its lease and the job runs again later:
//! work is done at least once, and the job id is the stable key receivers
//! de-duplicate on. Periodic jobs are rows with fixed ids that reschedule
//! themselves.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};
use uuid::Uuid;

use crate::db::insert_all;
use crate::schema::jobs;
use crate::{DbConnection, StoreError, ids, time, write_transaction};

#[derive(Insertable)]
#[diesel(table_name = jobs)]
#[diesel(treat_none_as_default_value = false)]
struct NewJobRow<'a> {
    id: String,
    kind: &'a str,
    payload: &'a str,
    created_at: NaiveDateTime,
    available_at: NaiveDateTime,
    attempts: i32,
    last_error: Option<String>,
    done_at: Option<NaiveDateTime>,
}

impl<'a> NewJobRow<'a> {
    /// A job due `now`, never tried.
    fn due(id: String, kind: &'a str, payload: &'a str, now: DateTime<Utc>) -> Self {
        let now = time::to_db(now);
        NewJobRow {
            id,
            kind,
            payload,
            created_at: now,
            available_at: now,
            attempts: 0,
            last_error: None,
            done_at: None,
        }
    }
}

/// Queues one job of `kind` with its JSON `payload`, due now. Returns its id.
pub fn enqueue(conn: &mut DbConnection, kind: &str, payload: &str, now: DateTime<Utc>) -> Result<String, StoreError> {
    let id = ids::to_db(Uuid::now_v7());
    enqueue_with_id(conn, &id, kind, payload, now)?;
    Ok(id)
}

/// Queues many jobs of one kind with a few multi-row statements.
pub fn enqueue_many(
    conn: &mut DbConnection,
    kind: &str,
    payloads: &[String],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let rows: Vec<NewJobRow<'_>> =
        payloads.iter().map(|payload| NewJobRow::due(ids::to_db(Uuid::now_v7()), kind, payload, now)).collect();
    insert_all!(conn, jobs::table, rows)?;
    Ok(())
}

/// Queues a job under a chosen id, unless one with that id exists (done or
/// not): for work that must exist once, such as one import's processing or
/// a periodic job.
pub fn enqueue_once(
    conn: &mut DbConnection,
    id: &str,
    kind: &str,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::sql_query(
        "INSERT INTO jobs (id, kind, payload, created_at, available_at, attempts) VALUES ($1, $2, $3, $4, $4, 0) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind::<Text, _>(id)
    .bind::<Text, _>(kind)
    .bind::<Text, _>(payload)
    .bind::<Timestamp, _>(time::to_db(now))
    .execute(conn)?;
    Ok(())
}

fn enqueue_with_id(
    conn: &mut DbConnection,
    id: &str,
    kind: &str,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(jobs::table).values(NewJobRow::due(id.to_owned(), kind, payload, now)).execute(conn)?;
    Ok(())
}

/// A job claimed for a lease.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct ClaimedJob {
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub payload: String,
    /// Runs so far, this one included.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

/// Claims up to `limit` due jobs of the given kinds for `lease`, oldest
/// first (ids are time-ordered, so jobs due at once run in the order they
/// were queued): they are invisible to other workers until then, and count
/// one more attempt. On
/// PostgreSQL rows locked by another instance's claim are skipped rather
/// than waited for; SQLite has a single writer, and the write transaction
/// serialises claims.
pub fn claim(
    conn: &mut DbConnection,
    kinds: &[&str],
    now: DateTime<Utc>,
    lease: Duration,
    limit: i64,
) -> Result<Vec<ClaimedJob>, StoreError> {
    let row_lock = match conn {
        DbConnection::Pg(_) => "FOR UPDATE SKIP LOCKED",
        DbConnection::Sqlite(_) => "",
    };
    // Placeholders appear in the order they are numbered: SQLite numbers
    // `$N` parameters by first appearance, not by N.
    let kind_list: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 3)).collect();
    let statement = format!(
        "UPDATE jobs SET available_at = $1, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM jobs WHERE done_at IS NULL AND available_at <= $2 AND kind IN ({}) \
                      ORDER BY available_at, id LIMIT ${} {row_lock}) \
         RETURNING id, kind, payload, attempts",
        kind_list.join(", "),
        kinds.len() + 3
    );
    // A read first: on SQLite an empty write transaction still takes the
    // database's only write lock, and idle lanes look often.
    let due = jobs::table
        .filter(jobs::done_at.is_null())
        .filter(jobs::available_at.le(time::to_db(now)))
        .filter(jobs::kind.eq_any(kinds))
        .select(jobs::id)
        .first::<String>(conn)
        .optional()?;
    if due.is_none() {
        return Ok(Vec::new());
    }
    write_transaction(conn, |conn| {
        let mut query = diesel::sql_query(&statement)
            .bind::<Timestamp, NaiveDateTime>(time::to_db(now + lease))
            .bind::<Timestamp, NaiveDateTime>(time::to_db(now))
            .into_boxed();
        for kind in kinds {
            query = query.bind::<Text, _>(*kind);
        }
        let mut claimed: Vec<ClaimedJob> = query.bind::<BigInt, i64>(limit).load(conn)?;
        // RETURNING follows no order: put the batch back in queue order.
        claimed.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(claimed)
    })
}

/// These jobs are done: one statement (and on PostgreSQL one commit) for
/// a lane's batch instead of one per job.
pub fn finish_all(conn: &mut DbConnection, ids: &[String], now: DateTime<Utc>) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(jobs::table.filter(jobs::id.eq_any(ids)))
        .set((jobs::done_at.eq(Some(time::to_db(now))), jobs::last_error.eq(None::<String>)))
        .execute(conn)?;
    Ok(())
}

/// The job has more to do (a periodic job, an import with rows left): it
/// runs again at `at`, with a clean record.
pub fn reschedule(conn: &mut DbConnection, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::update(jobs::table.find(id))
        .set((jobs::available_at.eq(time::to_db(at)), jobs::attempts.eq(0), jobs::last_error.eq(None::<String>)))
        .execute(conn)?;
    Ok(())
}

/// The run failed; it is tried again at `retry_at`.
pub fn fail(conn: &mut DbConnection, id: &str, error: &str, retry_at: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::update(jobs::table.find(id))
        .set((jobs::available_at.eq(time::to_db(retry_at)), jobs::last_error.eq(error)))
        .execute(conn)?;
    Ok(())
}

/// The job failed for good: it is done, with its last error kept.
pub fn give_up(conn: &mut DbConnection, id: &str, error: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::update(jobs::table.find(id))
        .set((jobs::done_at.eq(Some(time::to_db(now))), jobs::last_error.eq(error)))
        .execute(conn)?;
    Ok(())
}

/// Jobs of `kind` not yet done (for tests and operators).
pub fn pending_count(conn: &mut DbConnection, kind: &str) -> Result<i64, StoreError> {
    Ok(jobs::table.filter(jobs::kind.eq(kind)).filter(jobs::done_at.is_null()).count().get_result(conn)?)
}

/// Forgets jobs finished before `before`; returns how many.
pub fn purge_done_before(conn: &mut DbConnection, before: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(jobs::table.filter(jobs::done_at.lt(time::to_db(before)))).execute(conn)?)
}

/// How much work of one kind waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDepth {
    pub kind: String,
    /// Jobs not done yet, due or not.
    pub queued: i64,
    /// When the longest-waiting due job became due.
    pub oldest_due: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct QueueDepthRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    queued: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<Timestamp>)]
    oldest_due: Option<NaiveDateTime>,
}

/// The queue by kind, for monitoring.
pub fn queue_by_kind(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<Vec<QueueDepth>, StoreError> {
    let rows: Vec<QueueDepthRow> = diesel::sql_query(
        "SELECT kind, COUNT(*) AS queued, MIN(CASE WHEN available_at <= $1 THEN available_at END) AS oldest_due \
         FROM jobs WHERE done_at IS NULL GROUP BY kind ORDER BY kind",
    )
    .bind::<Timestamp, _>(time::to_db(now))
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| QueueDepth { kind: row.kind, queued: row.queued, oldest_due: row.oldest_due.map(time::from_db) })
        .collect())
}
