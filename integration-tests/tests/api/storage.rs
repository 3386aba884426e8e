//! Values must come back from either database exactly as written.

use chrono::{TimeZone, Utc};
use domain::{AccountName, Email, PersonName};
use integration_tests::{TestApp, on_both_backends};
use persistence::users::{self, NewUser};
use uuid::Uuid;

on_both_backends!(
    ids_and_timestamps_round_trip_exactly,
    api_times_are_rfc3339_utc_and_stable,
    recorded_events_share_the_fate_of_their_transaction,
);

async fn ids_and_timestamps_round_trip_exactly(app: TestApp) {
    let mut conn = app.db();
    let id = Uuid::parse_str("0193a4b2-7c1d-7e5f-8a9b-0c1d2e3f4a5b").unwrap();
    // Nanoseconds are truncated to microseconds on the way in, identically
    // on both backends; the read value equals the truncated written one.
    let written = Utc.with_ymd_and_hms(2026, 2, 28, 23, 59, 58).unwrap() + chrono::Duration::nanoseconds(123_456_789);
    let new = NewUser {
        id,
        email: &Email::parse("Round.Trip@Example.com").unwrap(),
        first_name: &PersonName::parse("Zoë").unwrap(),
        last_name: &PersonName::parse("Ñandú 名前").unwrap(),
        password_hash: None,
        email_verified: true,
        now: written,
    };
    let inserted = users::insert(&mut conn, new).unwrap();
    let read = users::find(&mut conn, id).unwrap().unwrap();
    assert_eq!(read, inserted);
    assert_eq!(read.id, id);
    assert_eq!(read.created_at.to_rfc3339(), "2026-02-28T23:59:58.123456+00:00");
    assert_eq!(read.last_name, "Ñandú 名前");
    assert!(read.email_verified);

    let account =
        persistence::accounts::create_with_owner(&mut conn, &AccountName::parse("Acme").unwrap(), "", id, written)
            .unwrap();
    let listed = persistence::accounts::list_for_member(&mut conn, id, None, 10).unwrap();
    assert_eq!(listed[0].account, account);
    assert_eq!(persistence::memberships::account_role_keys(&listed[0].assignments), ["owner"]);
}

async fn api_times_are_rfc3339_utc_and_stable(app: TestApp) {
    let user = app.sign_up("ada@example.com").await;
    let registered = app.get("/v1/me", Some(&user.access_token)).await.body;
    let created_at = registered["created_at"].as_str().unwrap();
    assert!(created_at.ends_with('Z'), "{created_at} is not UTC");
    let parsed = chrono::DateTime::parse_from_rfc3339(created_at).unwrap();
    assert_eq!(parsed.timestamp_subsec_nanos() % 1000, 0);
    assert_eq!(app.get("/v1/me", Some(&user.access_token)).await.body["created_at"], registered["created_at"]);
}

/// On PostgreSQL a write transaction holds its recorded events and writes
/// them with its last statement; SQLite writes them at once. Either way an
/// event is kept exactly when the (sub)transaction that recorded it is.
async fn recorded_events_share_the_fate_of_their_transaction(app: TestApp) {
    use diesel::prelude::*;
    use persistence::audit::{self, NewEvent};
    use persistence::schema::audit_pending;
    use persistence::{StoreError, write_transaction};

    let mut conn = app.db();
    let chain = format!("user:{}", Uuid::now_v7());
    let event = |action| NewEvent {
        chain: &chain,
        account_id: None,
        occurred_at: Utc::now(),
        action,
        actor_type: "system",
        actor_id: None,
        actor_name: "Roster",
        targets: "[]",
        target_ids: &[],
        changes: "{}",
        request_id: None,
        client_ip: None,
        user_agent: None,
    };
    write_transaction(&mut conn, |conn| {
        audit::record(conn, &[event("kept.first")])?;
        let failed = write_transaction(conn, |conn| {
            audit::record(conn, &[event("dropped.with.its.savepoint")])?;
            Err::<(), _>(StoreError::Conflict)
        });
        assert!(failed.is_err());
        write_transaction(conn, |conn| audit::record(conn, &[event("kept.second"), event("kept.third")]))?;
        Ok::<_, StoreError>(())
    })
    .unwrap();
    // More than a request records: written in batches before the commit.
    let many = ["many.1", "many.2", "many.3", "many.4", "many.5"];
    write_transaction(&mut conn, |conn| audit::record(conn, &many.map(event))).unwrap();
    let failed = write_transaction(&mut conn, |conn| {
        audit::record(conn, &[event("dropped.with.its.transaction")])?;
        Err::<(), _>(StoreError::Conflict)
    });
    assert!(failed.is_err());
    audit::record(&mut conn, &[event("kept.outside.any.transaction")]).unwrap();

    let mut expected = vec![
        "kept.first",
        "kept.second",
        "kept.third",
        "many.1",
        "many.2",
        "many.3",
        "many.4",
        "many.5",
        "kept.outside.any.transaction",
    ];
    // A write transaction on another connection inside one (PostgreSQL
    // only: SQLite's one writer at a time would wait for itself) keeps its
    // events apart, committed first.
    if matches!(&*conn, persistence::DbConnection::Pg(_)) {
        let mut other = app.db();
        write_transaction(&mut conn, |conn| {
            audit::record(conn, &[event("outer.before")])?;
            write_transaction(&mut other, |other| audit::record(other, &[event("other.connection")]))?;
            audit::record(conn, &[event("outer.after")])
        })
        .unwrap();
        expected.extend(["other.connection", "outer.before", "outer.after"]);
    }

    let recorded: Vec<String> = audit_pending::table
        .filter(audit_pending::chain.eq(&chain))
        .order(audit_pending::position.asc())
        .select(audit_pending::action)
        .load(&mut *conn)
        .unwrap();
    assert_eq!(recorded, expected);
}
