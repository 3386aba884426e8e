//! Roster's HTTP API: configuration, authentication, the account guard,
//! thin handlers and the problem+json edge. `startup::Application` is what
//! both the `roster` binary and the integration tests run.

pub mod access;
pub mod auth;
pub mod catalogue;
pub mod config;
pub mod email;
pub mod error;
pub mod extract;
pub mod groups;
pub mod idempotency;
pub mod import_worker;
pub mod imports;
pub mod invitations;
pub mod joins;
pub mod openapi;
pub mod roles;
pub mod routes;
pub mod scheduler;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use config::Settings;
pub use startup::Application;
