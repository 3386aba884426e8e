//! Roster's storage layer.
//!
//! **One code path for both backends.** Every query is written once against
//! [`DbConnection`], a `diesel::MultiConnection` enum over PostgreSQL and
//! SQLite, so a repository function cannot behave differently on the two
//! databases by accident. We chose this over backend-generic functions
//! because the generic bounds diesel needs for non-trivial queries are long
//! and leak into every caller, while the enum keeps signatures plain. The
//! price is the subset of SQL the enum supports: ids are UUIDs stored as
//! canonical text, times are naive UTC timestamps truncated to microseconds
//! (see [`time`]), and the few statements it cannot express (row locks,
//! batch upserts) `match` on the inner connection in one place each.
//!
//! Repositories are plain functions taking `&mut DbConnection`, one module
//! per aggregate; callers own transactions through [`write_transaction`].

/// A filter keeping rows (of `$account`, an account id column) of
/// accounts that are not waiting for their deletion: what stops an
/// account's tokens, links and reminders while it waits.
macro_rules! not_pending_deletion {
    ($account:expr) => {
        diesel::dsl::not(diesel::dsl::exists(
            crate::schema::account_deletions::table.filter(crate::schema::account_deletions::account_id.eq($account)),
        ))
    };
}
pub(crate) use not_pending_deletion;

pub mod access_reviews;
pub mod account_links;
pub mod accounts;
pub mod addresses;
pub mod api_keys;
pub mod audit;
pub mod authorization_changes;
pub mod contacts;
mod db;
pub mod directory;
pub mod domains;
pub mod erasure;
mod error;
pub mod groups;
pub mod idempotency;
pub mod ids;
pub mod imports;
pub mod invitations;
pub mod jobs;
pub mod join_links;
pub mod join_requests;
pub mod memberships;
pub mod notifications;
pub mod person_erasure;
pub mod personal_data;
pub mod rate_limits;
pub mod refresh_tokens;
pub mod roles;
pub mod schema;
pub mod scim_tokens;
pub mod search;
pub mod sessions;
pub mod sso;
pub mod time;
pub mod user_tokens;
pub mod users;
pub mod webhooks;

pub use db::{
    DatabaseUrl, DbConnection, DbPool, PooledConnection, checkpoint, connect, connect_pool, migrations_pending,
    run_migrations, write_transaction,
};
/// diesel's query error, for callers' `From` impls around [`write_transaction`].
pub use diesel::result::Error as QueryError;
pub use error::StoreError;
