//! Who is calling: password hashing, signed access tokens, opaque refresh
//! tokens and the extractor that turns a bearer token into a user id.

mod current_user;
pub mod jwt;
pub mod passwords;
pub mod secrets;
pub mod session;

pub use current_user::CurrentUser;
pub(crate) use current_user::authenticate;
