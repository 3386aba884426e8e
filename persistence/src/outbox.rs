//! The transactional outbox. Producers call [`enqueue`] inside the
//! transaction whose change causes the message, so the message exists
//! exactly when the change does. A worker claims due rows with a lease
//! ([`claim`]); a worker that dies mid-delivery loses its lease and the row
//! is delivered again later: delivery is at least once, and the row id is the
//! stable key receivers de-duplicate on.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamp};
use uuid::Uuid;

use crate::db::insert_all;
use crate::schema::outbox;
use crate::{DbConnection, StoreError, ids, time, write_transaction};

/// An email to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: Uuid,
    pub email: OutgoingEmail,
    pub attempts: i32,
}

#[derive(Insertable)]
#[diesel(table_name = outbox)]
struct NewMessageRow<'a> {
    id: String,
    kind: &'static str,
    recipient: &'a str,
    subject: &'a str,
    text_body: &'a str,
    html_body: &'a str,
    created_at: NaiveDateTime,
    available_at: NaiveDateTime,
}

pub fn enqueue(conn: &mut DbConnection, email: &OutgoingEmail, now: DateTime<Utc>) -> Result<(), StoreError> {
    enqueue_many(conn, std::slice::from_ref(email), now)
}

/// Queues many emails with a few multi-row statements.
pub fn enqueue_many(conn: &mut DbConnection, emails: &[OutgoingEmail], now: DateTime<Utc>) -> Result<(), StoreError> {
    let now = time::to_db(now);
    let rows: Vec<NewMessageRow<'_>> = emails
        .iter()
        .map(|email| NewMessageRow {
            id: ids::to_db(Uuid::now_v7()),
            kind: "email",
            recipient: &email.recipient,
            subject: &email.subject,
            text_body: &email.text_body,
            html_body: &email.html_body,
            created_at: now,
            available_at: now,
        })
        .collect();
    insert_all!(conn, outbox::table, rows)?;
    Ok(())
}

#[derive(QueryableByName)]
struct ClaimedRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    recipient: String,
    #[diesel(sql_type = Text)]
    subject: String,
    #[diesel(sql_type = Text)]
    text_body: String,
    #[diesel(sql_type = Text)]
    html_body: String,
    #[diesel(sql_type = Integer)]
    attempts: i32,
}

/// Claims up to `limit` due messages for `lease`: they are invisible to
/// other workers until then. On PostgreSQL rows locked by another
/// instance's claim are skipped rather than waited for; SQLite has a single
/// writer, and the write transaction serialises claims.
pub fn claim(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    lease: Duration,
    limit: i64,
) -> Result<Vec<OutboxMessage>, StoreError> {
    let row_lock = match conn {
        DbConnection::Pg(_) => "FOR UPDATE SKIP LOCKED",
        DbConnection::Sqlite(_) => "",
    };
    let statement = format!(
        "UPDATE outbox SET available_at = $1, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM outbox WHERE delivered_at IS NULL AND available_at <= $2 \
                      ORDER BY available_at LIMIT $3 {row_lock}) \
         RETURNING id, recipient, subject, text_body, html_body, attempts"
    );
    let rows: Vec<ClaimedRow> = write_transaction(conn, |conn| {
        diesel::sql_query(&statement)
            .bind::<Timestamp, NaiveDateTime>(time::to_db(now + lease))
            .bind::<Timestamp, NaiveDateTime>(time::to_db(now))
            .bind::<diesel::sql_types::BigInt, i64>(limit)
            .load(conn)
    })?;
    rows.into_iter()
        .map(|row| {
            Ok(OutboxMessage {
                id: ids::from_db(&row.id)?,
                email: OutgoingEmail {
                    recipient: row.recipient,
                    subject: row.subject,
                    text_body: row.text_body,
                    html_body: row.html_body,
                },
                attempts: row.attempts,
            })
        })
        .collect()
}

pub fn mark_delivered(conn: &mut DbConnection, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::update(outbox::table.find(ids::to_db(id)))
        .set((outbox::delivered_at.eq(time::to_db(now)), outbox::last_error.eq(None::<String>)))
        .execute(conn)?;
    Ok(())
}

pub fn mark_failed(conn: &mut DbConnection, id: Uuid, error: &str, retry_at: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::update(outbox::table.find(ids::to_db(id)))
        .set((outbox::available_at.eq(time::to_db(retry_at)), outbox::last_error.eq(error)))
        .execute(conn)?;
    Ok(())
}

/// Messages not yet delivered (for tests and operators).
pub fn undelivered_count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(outbox::table.filter(outbox::delivered_at.is_null()).count().get_result(conn)?)
}
