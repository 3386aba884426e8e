use std::path::{Path, PathBuf};

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// An email as it is sent: rendered, addressed, perhaps with a file.
#[derive(Debug, Clone, Copy)]
pub struct Letter<'a> {
    pub recipient: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    pub unsubscribe_url: Option<&'a str>,
    pub attachment: Option<&'a FileAttachment>,
}

/// A file sent with an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileAttachment {
    pub file_name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Where emails are delivered.
#[derive(Clone)]
pub enum EmailTransport {
    /// `file://DIR`: one `<job id>.eml` file per email.
    File(PathBuf),
    /// `smtp://…` or `smtps://…`, as understood by lettre.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl EmailTransport {
    pub fn from_url(url: &str) -> Result<Self, String> {
        if let Some(dir) = url.strip_prefix("file://") {
            let dir = PathBuf::from(dir);
            std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            Ok(Self::File(dir))
        } else if url.starts_with("smtp://") || url.starts_with("smtps://") {
            AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map(|builder| Self::Smtp(builder.build()))
                .map_err(|e| format!("invalid email transport URL: {e}"))
        } else {
            Err("the email transport must be file://DIR, smtp://… or smtps://…".into())
        }
    }

    /// Sends one email job. The job id travels as `Message-ID` and
    /// `X-Roster-Outbox-Id`, the key for de-duplicating redeliveries.
    pub async fn send(&self, from: &Mailbox, id: &str, letter: Letter<'_>) -> Result<(), String> {
        let to: Mailbox = letter.recipient.parse().map_err(|e| format!("bad recipient: {e}"))?;
        let host = from.email.domain();
        let body = MultiPart::alternative_plain_html(letter.text.to_owned(), letter.html.to_owned());
        let body = match letter.attachment {
            None => body,
            Some(file) => {
                let content_type =
                    ContentType::parse(file.content_type).map_err(|e| format!("bad content type: {e}"))?;
                MultiPart::mixed()
                    .multipart(body)
                    .singlepart(Attachment::new(file.file_name.clone()).body(file.bytes.clone(), content_type))
            }
        };
        let mut message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(letter.subject)
            .message_id(Some(format!("<{id}@{host}>")))
            .multipart(body)
            .map_err(|e| format!("cannot build email: {e}"))?;
        message
            .headers_mut()
            .insert_raw(HeaderValue::new(HeaderName::new_from_ascii_str("X-Roster-Outbox-Id"), id.to_owned()));
        if let Some(url) = letter.unsubscribe_url {
            // RFC 8058: mail clients POST `List-Unsubscribe=One-Click` to the URL.
            let headers = message.headers_mut();
            headers
                .insert_raw(HeaderValue::new(HeaderName::new_from_ascii_str("List-Unsubscribe"), format!("<{url}>")));
            headers.insert_raw(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ));
        }
        match self {
            Self::File(dir) => {
                let (dir, id, bytes) = (dir.clone(), id.to_owned(), message.formatted());
                tokio::task::spawn_blocking(move || write_eml(&dir, &id, &bytes))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| format!("cannot write the email file: {e}"))
            }
            Self::Smtp(transport) => transport.send(message).await.map(drop).map_err(|e| e.to_string()),
        }
    }
}

/// Writes `<id>.eml` whole or not at all: the bytes go to a hidden
/// temporary file that is synced and then renamed, so a process killed
/// mid-write leaves no empty or truncated email behind, and a redelivery
/// of the same email job replaces its file instead of adding one.
fn write_eml(dir: &Path, id: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let temporary = dir.join(format!(".{id}.eml.partial"));
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, dir.join(format!("{id}.eml")))
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn an_email_file_appears_only_whole_and_once_per_message() {
        let dir = std::env::temp_dir().join(format!("roster-eml-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let id = Uuid::now_v7().to_string();
        write_eml(&dir, &id, b"Subject: first\r\n\r\nbody").unwrap();
        write_eml(&dir, &id, b"Subject: again\r\n\r\nbody").unwrap();
        let names: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
        assert_eq!(names, [format!("{id}.eml")], "one file per email job, no partial files left");
        assert_eq!(std::fs::read(dir.join(format!("{id}.eml"))).unwrap(), b"Subject: again\r\n\r\nbody");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
