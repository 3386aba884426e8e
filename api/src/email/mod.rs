//! Emails: what each says is data ([`kinds`]), queued as `email` jobs
//! inside the transaction that causes them ([`enqueue`]); the job runner
//! ([`crate::jobs`]) writes it in the reader's language from templates
//! ([`render`], [`words`]) and delivers it through a [`transport`].

pub mod kinds;
pub mod render;
pub mod transport;
pub mod words;

use chrono::{DateTime, Utc};
use persistence::{DbConnection, StoreError, jobs};
use serde::{Deserialize, Serialize};

pub use kinds::Message;

/// The job kind of an email.
pub const JOB_KIND: &str = "email";

/// An email to send: the payload of an `email` job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingEmail {
    pub recipient: String,
    pub message: Message,
    /// The language the sender chose for the reader (the invitation's, the
    /// account's), used when the reader has not chosen one themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// For emails a member may turn off: the signed one-click link that
    /// turns this kind off (`List-Unsubscribe`, RFC 8058).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe_url: Option<String>,
    /// A file made when the email is sent, so that the queue holds a
    /// reference, not the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
}

/// What an email attaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Attachment {
    /// An import's whole per-row report, as CSV (formula-escaped).
    ImportReport { import_id: uuid::Uuid },
}

impl OutgoingEmail {
    pub fn new(recipient: &str, message: Message) -> Self {
        Self { recipient: recipient.to_owned(), message, locale: None, unsubscribe_url: None, attachment: None }
    }

    pub fn with_attachment(self, attachment: Attachment) -> Self {
        Self { attachment: Some(attachment), ..self }
    }

    /// In `locale` unless the reader chose a language of their own.
    pub fn in_locale(self, locale: Option<&str>) -> Self {
        Self { locale: locale.map(str::to_owned), ..self }
    }
}

impl Message {
    /// This email, to `recipient`.
    pub fn to(self, recipient: &str) -> OutgoingEmail {
        OutgoingEmail::new(recipient, self)
    }
}

/// An email job as queued before emails were rendered at delivery: still
/// delivered as it was written, so an upgrade loses no queued email.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PreRenderedEmail {
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    #[serde(default)]
    pub unsubscribe_url: Option<String>,
}

/// What an `email` job's payload holds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum EmailJob {
    ToRender(OutgoingEmail),
    PreRendered(PreRenderedEmail),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_emails_of_both_shapes_are_read_back() {
        let email = OutgoingEmail::new("a@example.com", Message::PasswordChanged).in_locale(Some("de"));
        let json = payload(&email).unwrap();
        assert_eq!(serde_json::from_str::<EmailJob>(&json).unwrap(), EmailJob::ToRender(email));
        let old = r#"{"recipient":"a@example.com","subject":"Hi","text_body":"t","html_body":"h"}"#;
        assert!(
            matches!(serde_json::from_str::<EmailJob>(old).unwrap(), EmailJob::PreRendered(e) if e.subject == "Hi")
        );
    }
}
