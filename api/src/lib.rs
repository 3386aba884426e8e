//! Roster's HTTP API and the `roster` binary, in three parts: [`http`]
//! (routes, extractors, problem mapping, OpenAPI, middleware), [`flows`]
//! (the use cases, one transaction each) and [`jobs`] (background work);
//! beside them configuration, authentication and email rendering.
//! `startup::Application` is what both the `roster` binary and the
//! integration tests run.

pub mod access_cache;
pub mod auth;
pub mod catalogue;
pub mod config;
pub mod dns;
pub mod email;
pub mod flows;
pub mod http;
pub mod jobs;
pub mod metrics;
pub mod oidc;
pub mod outbound;
pub mod personal_export;
pub mod plans;
pub mod startup;
pub mod telemetry;

pub use config::Settings;
pub use http::openapi;
pub use startup::Application;
