//! A real SMTP server for tests: it speaks enough of RFC 5321 for a client
//! to deliver mail, and keeps every message it receives.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct ReceivedEmail {
    pub recipients: Vec<String>,
    /// The raw message, headers and body, as transmitted.
    pub raw: String,
}

impl ReceivedEmail {
    /// The message with its quoted-printable encoding undone (headers and
    /// every part alike), to read its text and links.
    pub fn decoded(&self) -> String {
        let bytes = quoted_printable::decode(self.raw.as_bytes(), quoted_printable::ParseMode::Robust)
            .unwrap_or_else(|_| self.raw.clone().into_bytes());
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The value of `name=` in the first link of the message that has it.
    pub fn link_parameter(&self, name: &str) -> Option<String> {
        let decoded = self.decoded();
        let start = decoded.find(&format!("?{name}="))? + name.len() + 2;
        Some(decoded[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect())
    }

    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_lowercase());
        self.raw
            .lines()
            .find(|line| line.to_lowercase().starts_with(&prefix))
            .map(|line| line[prefix.len()..].trim().to_owned())
    }
}

#[derive(Clone, Default)]
pub struct MailSink {
    pub port: u16,
    received: Arc<Mutex<Vec<ReceivedEmail>>>,
}

impl MailSink {
    pub async fn start() -> MailSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("an SMTP port");
        let sink = MailSink { port: listener.local_addr().expect("a local address").port(), received: Arc::default() };
        let received = sink.received.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let received = received.clone();
                tokio::spawn(async move {
                    let _ = serve_session(stream, received).await;
                });
            }
        });
        sink
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn all(&self) -> Vec<ReceivedEmail> {
        self.received.lock().map(|mail| mail.clone()).unwrap_or_default()
    }

    pub fn to(&self, recipient: &str) -> Vec<ReceivedEmail> {
        self.all().into_iter().filter(|mail| mail.recipients.iter().any(|r| r == recipient)).collect()
    }
}

async fn serve_session(stream: tokio::net::TcpStream, received: Arc<Mutex<Vec<ReceivedEmail>>>) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader);
    writer.write_all(b"220 roster-test-smtp ESMTP\r\n").await?;
    let mut recipients = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
            b"250 roster-test-smtp\r\n"
        } else if command.starts_with("MAIL FROM") || command.starts_with("RSET") || command.starts_with("NOOP") {
            b"250 OK\r\n"
        } else if command.starts_with("RCPT TO") {
            let address =
                line.trim_end()[8..].trim().trim_start_matches(':').trim().trim_matches(|c| c == '<' || c == '>');
            recipients.push(address.to_lowercase());
            b"250 OK\r\n"
        } else if command == "DATA" {
            writer.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
            let mut raw = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                raw.push_str(line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line));
            }
            if let Ok(mut mail) = received.lock() {
                mail.push(ReceivedEmail { recipients: std::mem::take(&mut recipients), raw });
            }
            b"250 OK queued\r\n"
        } else if command == "QUIT" {
            writer.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else {
            b"502 Command not implemented\r\n"
        };
        writer.write_all(reply).await?;
    }
}
