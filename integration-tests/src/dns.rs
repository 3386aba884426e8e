//! A real DNS server on loopback (UDP, DNS wire format through
//! hickory-proto), authoritative for whatever TXT records a test publishes:
//! Roster's resolver is pointed at it as at any name server.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use hickory_proto::op::{Message, OpCode, ResponseCode};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{RData, Record, RecordType};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

type Zone = Arc<Mutex<HashMap<String, Vec<Vec<String>>>>>;

pub struct DnsServer {
    pub address: SocketAddr,
    zone: Zone,
    task: JoinHandle<()>,
}

impl DnsServer {
    pub async fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("a UDP port on loopback");
        let address = socket.local_addr().expect("a bound address");
        let zone = Zone::default();
        let task = tokio::spawn(serve(socket, zone.clone()));
        DnsServer { address, zone, task }
    }

    /// Publishes the TXT records of `name` (each record as its strings),
    /// replacing what was there.
    pub fn publish_txt(&self, name: &str, records: Vec<Vec<String>>) {
        self.zone.lock().unwrap_or_else(PoisonError::into_inner).insert(canonical(name), records);
    }

    /// Removes `name`: it no longer exists (NXDOMAIN).
    pub fn remove(&self, name: &str) {
        self.zone.lock().unwrap_or_else(PoisonError::into_inner).remove(&canonical(name));
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn canonical(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

async fn serve(socket: UdpSocket, zone: Zone) {
    let mut buffer = vec![0u8; 4096];
    loop {
        let Ok((length, peer)) = socket.recv_from(&mut buffer).await else { return };
        let Ok(query) = Message::from_vec(&buffer[..length]) else { continue };
        let answer = answer(&query, &zone);
        if let Ok(bytes) = answer.to_vec() {
            let _ = socket.send_to(&bytes, peer).await;
        }
    }
}

fn answer(query: &Message, zone: &Zone) -> Message {
    let mut response = Message::response(query.metadata.id, OpCode::Query);
    response.metadata.authoritative = true;
    response.metadata.recursion_desired = query.metadata.recursion_desired;
    response.metadata.recursion_available = true;
    let Some(question) = query.queries.first() else {
        response.metadata.response_code = ResponseCode::FormErr;
        return response;
    };
    response.add_query(question.clone());
    let zone = zone.lock().unwrap_or_else(PoisonError::into_inner);
    match zone.get(&canonical(&question.name().to_ascii())) {
        None => response.metadata.response_code = ResponseCode::NXDomain,
        Some(records) if question.query_type() == RecordType::TXT => {
            for strings in records {
                let data = RData::TXT(TXT::new(strings.clone()));
                response.add_answer(Record::from_rdata(question.name().clone(), 60, data));
            }
        }
        // The name exists, without records of the type asked: NOERROR, empty.
        Some(_) => {}
    }
    response
}
