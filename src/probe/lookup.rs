//! Addresses of a name for a connection outside the probes (throughput, /meta, a proxy's name,
//! a `--connect-to` host): an IP literal as it is, else the given DNS servers, else the system
//! resolver — bounded, with a typed failure.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::dns::{self, DnsFailure};
use super::outcome::SystemFailure;
use crate::model::{GaiError, ResolverError};

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
    /// The system resolver failed.
    System {
        #[serde(default)]
        gai: GaiError,
    },
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
        None => match getaddrinfo(host, port, timeout).await {
            Ok(addrs) => addrs,
            Err(SystemFailure::Error { gai }) => return Err(fail(LookupWhy::System { gai })),
            Err(SystemFailure::Timeout { after }) => {
                return Err(fail(LookupWhy::Timeout { after }))
            }
        },
    };
    if addrs.is_empty() {
        return Err(fail(LookupWhy::NoAddress));
    }
    Ok(addrs)
}

/// Addresses of `host:port` from the operating system's resolver (getaddrinfo: /etc/hosts,
/// nsswitch, search domains — what the runner's own lookups go through), bounded by `timeout`.
/// Unlike `tokio::net::lookup_host`, the failure keeps getaddrinfo's `EAI_*` code as a fact.
pub async fn getaddrinfo(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, SystemFailure> {
    let name = host.to_string();
    // getaddrinfo blocks; the blocking pool runs it (as tokio's lookup_host does). A lookup
    // that outlives the timeout finishes there and is dropped.
    let ask = tokio::task::spawn_blocking(move || {
        let hints = dns_lookup::AddrInfoHints {
            socktype: libc::SOCK_STREAM,
            ..Default::default()
        };
        match dns_lookup::getaddrinfo(Some(&name), None, Some(hints)) {
            Ok(it) => Ok(it
                .filter_map(Result::ok)
                .map(|ai| SocketAddr::new(ai.sockaddr.ip(), port))
                .collect::<Vec<_>>()),
            // errno is per thread: read it here, on the thread getaddrinfo ran on.
            Err(e) => Err(gai_error(&e)),
        }
    });
    match tokio::time::timeout(timeout, ask).await {
        Err(_) => Err(SystemFailure::Timeout { after: timeout }),
        // The blocking task panicked or was cancelled at shutdown: no answer.
        Ok(Err(_)) => Err(SystemFailure::Timeout { after: timeout }),
        Ok(Ok(Ok(addrs))) => Ok(addrs),
        Ok(Ok(Err(gai))) => Err(SystemFailure::Error { gai }),
    }
}

fn gai_error(e: &dns_lookup::LookupError) -> GaiError {
    use dns_lookup::LookupErrorKind as K;
    let error = match e.kind() {
        K::NoName => ResolverError::NoName,
        K::NoData => ResolverError::NoData,
        K::Again => ResolverError::Again,
        K::Fail => ResolverError::Fail,
        K::System => ResolverError::System,
        K::Memory => ResolverError::Memory,
        _ => ResolverError::Other,
    };
    let code = Some(e.error_num()).filter(|&n| n != 0);
    let errno = match error {
        ResolverError::System => std::io::Error::last_os_error().raw_os_error(),
        _ => None,
    };
    GaiError { error, code, errno }
}
