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

    /// The subject as people read it: unfolded, its encoded words
    /// (RFC 2047, as lettre writes non-ASCII subjects) decoded.
    pub fn subject(&self) -> Option<String> {
        let prefix = "subject:";
        let mut lines = self.raw.lines().skip_while(|line| !line.to_lowercase().starts_with(prefix));
        let mut folded = lines.next()?[prefix.len()..].to_owned();
        for continuation in lines.take_while(|line| line.starts_with([' ', '\t'])) {
            folded.push_str(continuation);
        }
        Some(decode_words(folded.trim()))
    }

    /// The file attached under a name starting with `prefix`: its name and
    /// its bytes, the transfer encoding (base64 or quoted-printable) undone.
    pub fn attachment(&self, prefix: &str) -> Option<(String, Vec<u8>)> {
        use base64::Engine;
        // Long names are split RFC 2231's way (`filename*0="…"`); the
        // names here fit the first piece.
        let (start, marker) = ["filename=\"", "filename*0=\""]
            .iter()
            .find_map(|marker| self.raw.find(&format!("{marker}{prefix}")).map(|at| (at, *marker)))?;
        let name_start = start + marker.len();
        let name = self.raw[name_start..].split('"').next()?.to_owned();
        // The part's headers end at the first blank line; its body at the next boundary.
        let part_start = self.raw[..start].rfind("\r\n--")?;
        let headers_end = self.raw[start..].find("\r\n\r\n")? + start;
        let headers = self.raw[part_start..headers_end].to_lowercase();
        let body_end = self.raw[headers_end..].find("\r\n--")? + headers_end;
        let body = &self.raw[headers_end + 4..body_end];
        let bytes = if headers.contains("content-transfer-encoding: base64") {
            base64::engine::general_purpose::STANDARD.decode(body.replace("\r\n", "")).ok()?
        } else if headers.contains("content-transfer-encoding: quoted-printable") {
            quoted_printable::decode(body.as_bytes(), quoted_printable::ParseMode::Robust).ok()?
        } else {
            body.as_bytes().to_vec()
        };
        Some((name, bytes))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_lowercase());
        self.raw
            .lines()
            .find(|line| line.to_lowercase().starts_with(&prefix))
            .map(|line| line[prefix.len()..].trim().to_owned())
    }
}

/// Decodes `=?charset?B|Q?…?=` words (UTF-8); white space between two
/// encoded words is not part of the text.
fn decode_words(text: &str) -> String {
    use base64::Engine;
    let mut decoded = String::new();
    let mut pending_space = String::new();
    let mut last_was_word = false;
    for token in text.split_inclusive([' ', '\t']) {
        let (word, space) = token.split_at(token.trim_end().len());
        let encoded = word.strip_prefix("=?").and_then(|rest| rest.strip_suffix("?=")).and_then(|inner| {
            let mut parts = inner.splitn(3, '?');
            let (_charset, encoding, payload) = (parts.next()?, parts.next()?, parts.next()?);
            let bytes = match encoding.to_ascii_lowercase().as_str() {
                "b" => base64::engine::general_purpose::STANDARD.decode(payload).ok()?,
                "q" => quoted_printable::decode(payload.replace('_', " "), quoted_printable::ParseMode::Robust).ok()?,
                _ => return None,
            };
            String::from_utf8(bytes).ok()
        });
        match encoded {
            Some(text) => {
                if !last_was_word {
                    decoded.push_str(&pending_space);
                }
                decoded.push_str(&text);
                last_was_word = true;
            }
            None => {
                decoded.push_str(&pending_space);
                decoded.push_str(word);
                last_was_word = false;
            }
        }
        pending_space = space.to_owned();
    }
    decoded
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
