//! Credentials, below the HTTP layer: password hashing, signed access
//! tokens, opaque secrets and their digests, sealing of stored secrets and
//! the operator token's digest. Each has its own error type; `http` maps
//! them to problems and holds the extractors that read a caller from a
//! request ([`crate::http::caller`]). Sessions are a flow
//! ([`crate::flows::sessions`]).

pub mod jwt;
pub mod operator;
pub mod passwords;
pub mod sealing;
pub mod secrets;
