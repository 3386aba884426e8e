//! Values must come back from either database exactly as written.

use chrono::{TimeZone, Utc};
use domain::{AccountName, Email, PersonName};
use integration_tests::{TestApp, on_both_backends};
use persistence::users::{self, NewUser};
use uuid::Uuid;

on_both_backends!(ids_and_timestamps_round_trip_exactly, api_times_are_rfc3339_utc_and_stable);

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
