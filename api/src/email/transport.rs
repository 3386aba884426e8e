use std::path::PathBuf;

use lettre::message::{Mailbox, MultiPart, header::HeaderName, header::HeaderValue};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use persistence::outbox::OutboxMessage;

/// Where emails are delivered.
#[derive(Clone)]
pub enum EmailTransport {
    /// `file://DIR`: one `.eml` file per email.
    File(AsyncFileTransport<Tokio1Executor>),
    /// `smtp://…` or `smtps://…`, as understood by lettre.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl EmailTransport {
    pub fn from_url(url: &str) -> Result<Self, String> {
        if let Some(dir) = url.strip_prefix("file://") {
            let dir = PathBuf::from(dir);
            std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            Ok(Self::File(AsyncFileTransport::new(dir)))
        } else if url.starts_with("smtp://") || url.starts_with("smtps://") {
            AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map(|builder| Self::Smtp(builder.build()))
                .map_err(|e| format!("invalid email transport URL: {e}"))
        } else {
            Err("the email transport must be file://DIR, smtp://… or smtps://…".into())
        }
    }

    /// Sends one outbox message. The outbox id travels as `Message-ID` and
    /// `X-Roster-Outbox-Id`, the key for de-duplicating redeliveries.
    pub async fn send(&self, from: &Mailbox, message: &OutboxMessage) -> Result<(), String> {
        let to: Mailbox = message.email.recipient.parse().map_err(|e| format!("bad recipient: {e}"))?;
        let host = from.email.domain();
        let mut email = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(&message.email.subject)
            .message_id(Some(format!("<{}@{host}>", message.id)))
            .multipart(MultiPart::alternative_plain_html(
                message.email.text_body.clone(),
                message.email.html_body.clone(),
            ))
            .map_err(|e| format!("cannot build email: {e}"))?;
        email
            .headers_mut()
            .insert_raw(HeaderValue::new(HeaderName::new_from_ascii_str("X-Roster-Outbox-Id"), message.id.to_string()));
        match self {
            Self::File(transport) => transport.send(email).await.map(drop).map_err(|e| e.to_string()),
            Self::Smtp(transport) => transport.send(email).await.map(drop).map_err(|e| e.to_string()),
        }
    }
}
