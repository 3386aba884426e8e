//! A real HTTP receiver for webhooks: it speaks enough HTTP/1.1 to take a
//! POST, answers with the statuses a test queues (204 otherwise), and keeps
//! every request. Signatures are checked here with an implementation
//! written from the Standard Webhooks specification and its published test
//! vector, not with the server's signing code.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct ReceivedWebhook {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub content_type: String,
    pub body: String,
}

impl ReceivedWebhook {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    /// Whether one of the `v1` signatures was made with `secret`.
    pub fn signed_with(&self, secret: &str) -> bool {
        verify(secret, &self.id, &self.timestamp, &self.body, &self.signature)
    }
}

/// The specification's symmetric scheme: the secret is `whsec_` and base64
/// key bytes; the signed content is `{id}.{timestamp}.{body}`; the header
/// holds space-separated `v1,<base64 HMAC-SHA256>` entries, any of which
/// may match. The comparison is the MAC's own constant-time one.
pub fn verify(secret: &str, id: &str, timestamp: &str, body: &str, header: &str) -> bool {
    let Some(encoded) = secret.strip_prefix("whsec_") else { return false };
    let Ok(key) = STANDARD.decode(encoded) else { return false };
    header.split(' ').filter_map(|entry| entry.strip_prefix("v1,")).any(|signature| {
        let Ok(expected) = STANDARD.decode(signature) else { return false };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else { return false };
        mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
        mac.verify_slice(&expected).is_ok()
    })
}

#[derive(Clone, Default)]
pub struct WebhookReceiver {
    pub port: u16,
    received: Arc<Mutex<Vec<ReceivedWebhook>>>,
    statuses: Arc<Mutex<VecDeque<u16>>>,
}

impl WebhookReceiver {
    pub async fn start() -> WebhookReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let receiver = WebhookReceiver {
            port: listener.local_addr().expect("a local address").port(),
            ..WebhookReceiver::default()
        };
        let shared = receiver.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _ = shared.serve(stream).await;
                });
            }
        });
        receiver
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/roster", self.port)
    }

    /// The statuses to answer the next requests with, in order.
    pub fn answer_with(&self, statuses: &[u16]) {
        self.statuses.lock().expect("statuses").extend(statuses);
    }

    pub fn received(&self) -> Vec<ReceivedWebhook> {
        self.received.lock().map(|all| all.clone()).unwrap_or_default()
    }

    async fn serve(&self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
        let (reader, mut writer) = stream.into_split();
        let mut reader = BufReader::new(reader);
        loop {
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).await? == 0 {
                return Ok(());
            }
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).await?;
                let line = line.trim_end().to_owned();
                if line.is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    headers.push((name.trim().to_lowercase(), value.trim().to_owned()));
                }
            }
            let header = |name: &str| {
                headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone()).unwrap_or_default()
            };
            let length: usize = header("content-length").parse().unwrap_or(0);
            let mut body = vec![0; length];
            reader.read_exact(&mut body).await?;
            self.received.lock().expect("received").push(ReceivedWebhook {
                id: header("webhook-id"),
                timestamp: header("webhook-timestamp"),
                signature: header("webhook-signature"),
                content_type: header("content-type"),
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            let status = self.statuses.lock().expect("statuses").pop_front().unwrap_or(204);
            let response = format!("HTTP/1.1 {status} Answer\r\ncontent-length: 0\r\n\r\n");
            writer.write_all(response.as_bytes()).await?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specifications_test_vector_verifies() {
        let (secret, id, timestamp, body) = (
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            r#"{"test": 2432232314}"#,
        );
        let published = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert!(verify(secret, id, timestamp, body, published));
        assert!(verify(secret, id, timestamp, body, &format!("v1,bm90IGl0 {published}")), "any listed signature");
        assert!(!verify(secret, id, timestamp, r#"{"test": 2432232315}"#, published));
        assert!(!verify(secret, id, "1614265331", body, published));
        assert!(!verify("whsec_c2VjcmV0", id, timestamp, body, published));
    }
}
