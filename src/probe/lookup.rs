//! Addresses of a name for a connection outside the probes (throughput, /meta, a proxy's name,
//! a `--connect-to` host): an IP literal as it is, else the given DNS servers, else the system
//! resolver — bounded, with a typed failure.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::dns::{self, DnsFailure};

/// Why a name gave no address to connect to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("cannot resolve {host}")]
pub struct LookupFailure {
    pub host: String,
    pub why: LookupWhy,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LookupWhy {
    /// Our DNS questions failed.
    Dns { failure: DnsFailure },
    /// Answered, but with no address.
    NoAddress,
    /// The system resolver failed (its own words).
    System { message: String },
    /// The system resolver did not answer in time.
    Timeout {
        #[serde(with = "crate::model::duration_ms")]
        after: Duration,
    },
}

/// Addresses of `host:port`: an IP literal as it is, else `dns_client`'s servers, else the
/// system resolver, bounded by `timeout`.
pub async fn lookup_addrs(
    dns_client: Option<&dns::DnsClient>,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, LookupFailure> {
    if let Ok(ip) = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let fail = |why| LookupFailure {
        host: host.to_string(),
        why,
    };
    let addrs: Vec<SocketAddr> = match dns_client {
        Some(c) => {
            let r = c.resolve(host).await;
            if r.addresses.is_empty() {
                return Err(fail(match r.failure {
                    Some(failure) => LookupWhy::Dns { failure },
                    None => LookupWhy::NoAddress,
                }));
            }
            r.addresses
                .iter()
                .map(|a| SocketAddr::new(a.address, port))
                .collect()
        }
        None => match tokio::time::timeout(timeout, tokio::net::lookup_host((host, port))).await {
            Ok(Ok(it)) => it.collect(),
            Ok(Err(e)) => {
                return Err(fail(LookupWhy::System {
                    message: e.to_string(),
                }))
            }
            Err(_) => return Err(fail(LookupWhy::Timeout { after: timeout })),
        },
    };
    if addrs.is_empty() {
        return Err(fail(LookupWhy::NoAddress));
    }
    Ok(addrs)
}
