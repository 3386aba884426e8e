//! Black-box tests over HTTP. Each module lists its tests in
//! `on_both_backends!`, so every test runs on SQLite and on PostgreSQL.

// Tests fail loudly by design: an unwrap is an assertion here.
#![allow(clippy::unwrap_used)]

mod access_cache;
mod access_reviews;
mod accounts;
mod activity;
mod addresses;
mod api_keys;
mod audit;
mod auth;
mod authorization;
mod browsers;
mod contacts;
mod crash;
mod credentials;
mod deletion;
mod dns;
mod domains;
mod emails;
mod enrollment;
mod errors;
mod hardening;
mod idempotency;
mod imports;
mod invitations;
mod joins;
mod links;
mod matrix;
mod me;
mod notifications;
mod operations;
mod permissions;
mod plans;
mod rate_limits;
mod roles;
mod scim;
mod scim_tokens;
mod search;
mod sso;
mod storage;
mod suspension;
mod webhooks;
