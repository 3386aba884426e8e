//! Rate-limit counters (see `domain::rate_limit`): one row per key, counted
//! with a single upsert so that concurrent hits, from any instance, are all
//! counted.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamp};
use domain::rate_limit::{Count, MAX_WINDOW};

use crate::schema::rate_limits;
use crate::{DbConnection, StoreError, time};

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = Timestamp)]
    window_start: NaiveDateTime,
    #[diesel(sql_type = Integer)]
    hits: i32,
}

/// Counts `amount` hits of `key`: a window that ended (`window` after its
/// start) begins again at `now` with these hits. Returns the count after.
/// (Parameters first appear in numeric order: SQLite numbers `$N` by first
/// appearance, not by N.)
pub fn hit(
    conn: &mut DbConnection,
    key: &str,
    now: DateTime<Utc>,
    window: Duration,
    amount: u32,
) -> Result<Count, StoreError> {
    let row: CountRow = diesel::sql_query(
        "INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET \
             window_start = CASE WHEN rate_limits.window_start <= $4 THEN $2 ELSE rate_limits.window_start END, \
             hits = CASE WHEN rate_limits.window_start <= $4 THEN $3 ELSE rate_limits.hits + $3 END \
         RETURNING window_start, hits",
    )
    .bind::<Text, _>(key)
    .bind::<Timestamp, _>(time::to_db(now))
    .bind::<Integer, _>(i32::try_from(amount).unwrap_or(i32::MAX))
    .bind::<Timestamp, _>(time::to_db(now - window))
    .get_result(conn)?;
    Ok(Count { window_start: time::from_db(row.window_start), hits: u32::try_from(row.hits).unwrap_or(u32::MAX) })
}

/// Moves the key's window to start at `window_start` (in the future for a
/// back-off): it stays refused until a window after that.
pub fn postpone(conn: &mut DbConnection, key: &str, window_start: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::update(rate_limits::table.find(key))
        .set(rate_limits::window_start.eq(time::to_db(window_start)))
        .execute(conn)?;
    Ok(())
}

/// Forgets the key's count (a sign-in succeeded; a password was reset).
pub fn reset(conn: &mut DbConnection, key: &str) -> Result<(), StoreError> {
    diesel::delete(rate_limits::table.find(key)).execute(conn)?;
    Ok(())
}

/// Takes one hit back from the key's count (an attempt that turned out to
/// be the real person's).
pub fn refund_one(conn: &mut DbConnection, key: &str) -> Result<(), StoreError> {
    diesel::update(rate_limits::table.find(key).filter(rate_limits::hits.gt(0)))
        .set(rate_limits::hits.eq(rate_limits::hits - 1))
        .execute(conn)?;
    Ok(())
}

/// Forgets every key that starts with `prefix` (which holds no `%` or `_`).
pub fn reset_prefix(conn: &mut DbConnection, prefix: &str) -> Result<(), StoreError> {
    debug_assert!(!prefix.contains(['%', '_']));
    diesel::delete(rate_limits::table.filter(rate_limits::key.like(format!("{prefix}%")))).execute(conn)?;
    Ok(())
}

/// Deletes counters that ended whatever their quota (windows started more
/// than [`MAX_WINDOW`] ago): the table stays as small as a day's traffic.
pub fn purge_ended(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let ended = rate_limits::window_start.lt(time::to_db(now - MAX_WINDOW));
    Ok(diesel::delete(rate_limits::table.filter(ended)).execute(conn)?)
}
