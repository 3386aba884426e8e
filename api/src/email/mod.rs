//! Emails: rendered from [`templates`], queued as `email` jobs inside the
//! transaction that causes them ([`enqueue`]), and delivered by the job
//! runner ([`crate::jobs`]) through a [`transport`].

pub mod templates;
pub mod transport;

use chrono::{DateTime, Utc};
use persistence::{DbConnection, StoreError, jobs};
use serde::{Deserialize, Serialize};

/// The job kind of an email.
pub const JOB_KIND: &str = "email";

/// An email to send: the payload of an `email` job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingEmail {
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    /// For emails a member may turn off: the signed one-click link that
    /// turns this kind off (`List-Unsubscribe`, RFC 8058).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe_url: Option<String>,
}

fn payload(email: &OutgoingEmail) -> Result<String, StoreError> {
    serde_json::to_string(email).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Queues an email in the caller's transaction.
pub fn enqueue(conn: &mut DbConnection, email: &OutgoingEmail, now: DateTime<Utc>) -> Result<(), StoreError> {
    jobs::enqueue(conn, JOB_KIND, &payload(email)?, now).map(drop)
}

/// Queues many emails with a few multi-row statements.
pub fn enqueue_many(conn: &mut DbConnection, emails: &[OutgoingEmail], now: DateTime<Utc>) -> Result<(), StoreError> {
    let payloads = emails.iter().map(payload).collect::<Result<Vec<_>, _>>()?;
    jobs::enqueue_many(conn, JOB_KIND, &payloads, now)
}
