//! The one place where times cross into the database.
//!
//! PostgreSQL keeps microseconds; SQLite keeps whatever text it is given and
//! compares it textually. Truncating to microseconds on the way in makes
//! both store the same value, so a time read back equals the time written
//! and comparisons against "now" agree on both backends.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

pub fn to_db(time: DateTime<Utc>) -> NaiveDateTime {
    time.trunc_subsecs(6).naive_utc()
}

pub fn from_db(time: NaiveDateTime) -> DateTime<Utc> {
    time.and_utc()
}
