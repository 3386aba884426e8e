//! Emails: rendered from templates into outbox rows inside the transaction
//! that causes them, and delivered by [`worker`] through a [`transport`].

pub mod templates;
pub mod transport;
pub mod worker;
