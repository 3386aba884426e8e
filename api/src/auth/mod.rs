//! Who is calling: password hashing, signed access tokens, opaque secrets
//! and the extractor that turns a bearer token into a user id. Sessions are
//! a flow ([`crate::flows::sessions`]).

mod current_user;
pub mod jwt;
pub mod operator;
pub mod passwords;
pub mod sealing;
pub mod secrets;

pub use current_user::CurrentUser;
pub(crate) use current_user::{Credential, authenticate, bearer_token, credential};
