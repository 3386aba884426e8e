//! The HTTP part: the route table and its handlers, the extractors and the
//! account guard, problem+json mapping, the OpenAPI document and the
//! middleware (request ids, idempotency, CORS, response headers). Handlers parse input into domain
//! types, call one flow and map its result.

pub mod access;
pub mod caller;
pub mod cors;
pub mod docs;
pub mod edge;
pub mod extract;
pub mod headers;
pub mod idempotency;
pub mod methods;
pub mod openapi;
pub mod pagination;
pub mod problem;
pub mod rate_limit;
pub mod routes;
pub mod schemas;
pub mod scim;
pub mod spreadsheet;
pub mod state;
