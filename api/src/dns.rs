//! DNS lookups for verifying an account's email domains, through
//! hickory's resolver: the system's name servers (`/etc/resolv.conf`), or
//! the one server `ROSTER_DNS_RESOLVER` names (`IP:PORT`; the tests run a
//! real DNS server on loopback and point Roster at it).

use std::net::SocketAddr;

use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::{Resolver, TokioResolver};

/// Why a lookup has no answer to give (as opposed to "no such record").
#[derive(Debug, thiserror::Error)]
#[error("the DNS lookup of {name} failed: {reason}")]
pub struct LookupFailed {
    pub name: String,
    pub reason: String,
}

/// Looks up TXT records. Cloning shares the resolver.
#[derive(Clone)]
pub struct TxtResolver(TokioResolver);

impl TxtResolver {
    /// A resolver asking `server`, or the system's name servers.
    pub fn new(server: Option<SocketAddr>) -> Result<Self, String> {
        let mut builder = match server {
            Some(address) => {
                let mut name_server = NameServerConfig::udp_and_tcp(address.ip());
                for connection in &mut name_server.connections {
                    connection.port = address.port();
                }
                let config = ResolverConfig::from_parts(None, Vec::new(), vec![name_server]);
                Resolver::builder_with_config(config, TokioRuntimeProvider::default())
            }
            None => Resolver::builder_tokio().map_err(|e| format!("the system's DNS configuration: {e}"))?,
        };
        // A verification must see the record as published now: an owner
        // who just fixed it should not wait out a cached miss.
        builder.options_mut().cache_size = 0;
        // Asked from a request: a server that does not answer fails it in
        // seconds rather than holding it.
        builder.options_mut().timeout = std::time::Duration::from_secs(2);
        builder.options_mut().attempts = 1;
        builder.build().map(Self).map_err(|e| format!("the DNS resolver: {e}"))
    }

    /// The TXT records at `name`, each as its strings; none when the name
    /// has no TXT record or does not exist.
    pub async fn txt(&self, name: &str) -> Result<Vec<Vec<String>>, LookupFailed> {
        let failed = |reason: String| LookupFailed { name: name.to_owned(), reason };
        // Fully qualified: no search domain of the system is appended.
        let lookup = match self.0.txt_lookup(format!("{name}.")).await {
            Ok(lookup) => lookup,
            Err(error) if error.is_no_records_found() || error.is_nx_domain() => return Ok(Vec::new()),
            Err(error) => return Err(failed(error.to_string())),
        };
        Ok(lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::TXT(txt) => {
                    Some(txt.txt_data.iter().map(|part| String::from_utf8_lossy(part).into_owned()).collect())
                }
                _ => None,
            })
            .collect())
    }
}
