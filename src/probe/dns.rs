//! DNS: follow the CNAME chain of a name hop by hop, with every TTL, and classify failures.
//!
//! The name servers come from the system configuration (read by hickory-resolver from
//! /etc/resolv.conf) or from `--dns-server`. Messages are built and parsed with hickory-proto;
//! we send them ourselves so that we know which server answered, can see a CNAME loop or an
//! over-long chain for what it is, and retry over TCP when an answer is truncated.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use hickory_resolver::proto::op::{Message, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use serde::{Deserialize, Serialize};

use super::outcome::{AddressRecord, ChainLink};
use crate::model::{Family, OsError};

/// Longest CNAME chain we follow (names after the first).
pub const MAX_CHAIN: usize = 12;
/// A UDP question without answer is sent again after this, then after twice as long, … within
/// the timeout (a datagram lost on the way, or dropped by a busy server's full receive queue).
pub const UDP_RETRANSMIT: Duration = Duration::from_secs(1);

/// How our own DNS questions for a name failed (the words are in `render::words`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DnsFailure {
    /// `name` (the queried name or a link of its chain) does not exist.
    #[error("NXDOMAIN for {name} from {server}")]
    NxDomain { name: String, server: SocketAddr },
    /// The name exists but has neither A nor AAAA records.
    #[error("no A or AAAA records")]
    NoAddresses,
    #[error("SERVFAIL from {server}")]
    ServFail { server: SocketAddr },
    #[error("REFUSED from {server}")]
    Refused { server: SocketAddr },
    #[error("{code} from {server}")]
    OtherCode { server: SocketAddr, code: String },
    /// No server answered within the timeout.
    #[error("no answer from {servers:?} within {after:?}")]
    Timeout {
        servers: Vec<SocketAddr>,
        #[serde(with = "crate::model::duration_ms")]
        after: Duration,
    },
    #[error("CNAME loop at {at}")]
    CnameLoop { at: String },
    #[error("CNAME chain longer than {limit}")]
    ChainTooLong { limit: usize },
    /// A socket error reaching a server (`server` is absent in reports saved before it was
    /// recorded).
    #[error("network error reaching {server:?}: {error:?}")]
    Network {
        #[serde(default)]
        server: Option<SocketAddr>,
        #[serde(default)]
        error: OsError,
    },
    /// A name to ask (the profile's, or a CNAME target a server gave) that cannot be put into
    /// a DNS question.
    #[error("not a valid DNS name: {name}")]
    BadName { name: String },
    /// Nothing listens on the server's port: the UDP question drew an ICMP port unreachable
    /// (ECONNREFUSED), at once; unlike a timeout, the server's host is up and answers.
    #[error("nothing listens on {server}")]
    NothingListens { server: SocketAddr },
    #[error("no name server configured")]
    NoServers,
    /// The answer (with our query id) is not a DNS message.
    #[error("unparsable answer from {server}")]
    Malformed { server: SocketAddr },
    /// The UDP answer was truncated and the retry over TCP failed.
    #[error("truncated answer from {server}, TCP retry failed: {retry:?}")]
    TruncatedTcpFailed {
        server: SocketAddr,
        #[serde(default)]
        retry: TcpRetryFailure,
    },
}

/// How the TCP retry of a truncated answer failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TcpRetryFailure {
    /// No answer within the timeout.
    Timeout {
        #[serde(with = "crate::model::duration_ms")]
        after: Duration,
    },
    /// A socket error (connect refused, reset, …).
    Io { error: OsError },
    /// The answer over TCP is not a DNS message.
    Malformed,
}

impl Default for TcpRetryFailure {
    /// What a report saved before the retry's failure was typed reads as.
    fn default() -> Self {
        TcpRetryFailure::Io {
            error: OsError::default(),
        }
    }
}

impl DnsFailure {
    fn rank(&self) -> u8 {
        // When A and AAAA fail differently, report the more telling one.
        match self {
            DnsFailure::CnameLoop { .. } | DnsFailure::ChainTooLong { .. } => 9,
            DnsFailure::NxDomain { .. } => 8,
            DnsFailure::ServFail { .. }
            | DnsFailure::Refused { .. }
            | DnsFailure::OtherCode { .. } => 7,
            DnsFailure::Malformed { .. } | DnsFailure::TruncatedTcpFailed { .. } => 6,
            DnsFailure::Timeout { .. } => 5,
            DnsFailure::Network { .. }
            | DnsFailure::BadName { .. }
            | DnsFailure::NothingListens { .. }
            | DnsFailure::NoServers => 4,
            DnsFailure::NoAddresses => 1,
        }
    }
}

// Kept for the modules that still format durations here while they move to `crate::words`.
pub use crate::words::fmt_duration;

/// The resolution of one name.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    pub chain: Vec<ChainLink>,
    pub addresses: Vec<AddressRecord>,
    /// The server that gave the final answer.
    pub server: Option<SocketAddr>,
    pub failure: Option<DnsFailure>,
    pub elapsed: Duration,
}

#[derive(Debug, Clone)]
pub struct DnsClient {
    pub servers: Vec<SocketAddr>,
    pub timeout: Duration,
}

/// The system's resolver configuration (/etc/resolv.conf) could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot read the system resolver configuration: {detail}")]
pub struct ResolvConfError {
    pub detail: String,
}

/// Name servers of the system configuration.
pub fn system_servers() -> Result<Vec<SocketAddr>, ResolvConfError> {
    let (config, _opts) =
        hickory_resolver::system_conf::read_system_conf().map_err(|e| ResolvConfError {
            detail: e.to_string(),
        })?;
    let mut out = Vec::new();
    for ns in config.name_servers() {
        let port = ns.connections.first().map(|c| c.port).unwrap_or(53);
        let sa = SocketAddr::new(ns.ip, port);
        if !out.contains(&sa) {
            out.push(sa);
        }
    }
    Ok(out)
}

enum Walk {
    Done,
    Failed(DnsFailure),
}

impl DnsClient {
    /// Resolve `host`: A and AAAA at once, each following its CNAME chain.
    pub async fn resolve(&self, host: &str) -> Resolution {
        let started = Instant::now();
        if self.servers.is_empty() {
            return Resolution {
                failure: Some(DnsFailure::NoServers),
                ..Default::default()
            };
        }
        let (a, aaaa) = tokio::join!(
            self.walk(host, RecordType::A),
            self.walk(host, RecordType::AAAA)
        );
        let mut res = Resolution {
            elapsed: started.elapsed(),
            ..Default::default()
        };
        // The chain is the same for both types; prefer the longer one seen.
        res.chain = if a.0.len() >= aaaa.0.len() {
            a.0.clone()
        } else {
            aaaa.0.clone()
        };
        res.addresses.extend(a.1.iter().cloned());
        res.addresses.extend(aaaa.1.iter().cloned());
        res.server = a.2.or(aaaa.2);
        let failures: Vec<DnsFailure> = [a.3, aaaa.3]
            .into_iter()
            .filter_map(|w| match w {
                Walk::Failed(f) => Some(f),
                Walk::Done => None,
            })
            .collect();
        if res.addresses.is_empty() {
            res.failure = Some(
                failures
                    .into_iter()
                    .max_by_key(DnsFailure::rank)
                    .unwrap_or(DnsFailure::NoAddresses),
            );
        } else if let Some(f) = failures.into_iter().find(|f| {
            matches!(
                f,
                DnsFailure::CnameLoop { .. } | DnsFailure::ChainTooLong { .. }
            )
        }) {
            res.failure = Some(f);
        }
        res
    }

    /// Follow `host`'s CNAME chain for `rtype` to its records.
    ///
    /// One question suffices whatever the chain's length when the answer is complete: a
    /// recursive server (RA set) answers with the whole chain and then the data, or with the
    /// whole chain and a negative answer for its last name (NODATA or NXDOMAIN, RFC 2308 §2,
    /// RFC 6604); so does a server that proves with an SOA of the last name's zone that it is
    /// authoritative for it. Only an answer that stops at a CNAME without that (an
    /// authoritative-only server, whose zone does not hold the target) makes us ask for the
    /// target. Loops and over-long chains are seen in the answer itself, however they come.
    async fn walk(
        &self,
        host: &str,
        rtype: RecordType,
    ) -> (Vec<ChainLink>, Vec<AddressRecord>, Option<SocketAddr>, Walk) {
        let mut chain: Vec<ChainLink> = Vec::new();
        let mut addrs = Vec::new();
        let mut current = host.trim_end_matches('.').to_ascii_lowercase();
        let mut seen: HashSet<String> = HashSet::from([current.clone()]);
        let mut last_server = None;
        loop {
            let queried = current.clone();
            let (msg, server) = match self.query(&current, rtype).await {
                Ok(x) => x,
                Err(f) => return (chain, addrs, last_server, Walk::Failed(f)),
            };
            last_server = Some(server);
            // Follow the CNAMEs inside this answer (in any order), whatever its code: a loop or
            // an over-long chain is the more telling cause of a SERVFAIL that carries it.
            if let Err(f) = follow_cnames(&msg, &mut current, &mut chain, &mut seen) {
                return (chain, addrs, last_server, Walk::Failed(f));
            }
            let code = msg.metadata.response_code;
            let failure = match code {
                ResponseCode::NoError | ResponseCode::NXDomain => None,
                ResponseCode::ServFail => Some(DnsFailure::ServFail { server }),
                ResponseCode::Refused => Some(DnsFailure::Refused { server }),
                code => Some(DnsFailure::OtherCode {
                    server,
                    code: format!("{code:?}").to_uppercase(),
                }),
            };
            if let Some(f) = failure {
                return (chain, addrs, last_server, Walk::Failed(f));
            }
            for r in &msg.answers {
                if name_str(&r.name) != current {
                    continue;
                }
                match &r.data {
                    RData::A(a) if rtype == RecordType::A => addrs.push(AddressRecord {
                        address: IpAddr::V4(a.0),
                        family: Family::Ipv4,
                        ttl: Some(r.ttl),
                    }),
                    RData::AAAA(a) if rtype == RecordType::AAAA => addrs.push(AddressRecord {
                        address: IpAddr::V6(a.0),
                        family: Family::Ipv6,
                        ttl: Some(r.ttl),
                    }),
                    _ => {}
                }
            }
            if !addrs.is_empty() {
                return (chain, addrs, last_server, Walk::Done);
            }
            if current != queried && !answers_for_last_name(&msg, &current) {
                // The answer stopped at a CNAME target (in a zone this server does not hold):
                // ask for the target.
                continue;
            }
            if code == ResponseCode::NXDomain {
                return (
                    chain,
                    addrs,
                    last_server,
                    Walk::Failed(DnsFailure::NxDomain {
                        name: current,
                        server,
                    }),
                );
            }
            // NOERROR with no data for this type (NODATA).
            return (
                chain,
                addrs,
                last_server,
                Walk::Failed(DnsFailure::NoAddresses),
            );
        }
    }

    /// One question, asked of each server in turn until one answers definitively.
    async fn query(
        &self,
        name: &str,
        rtype: RecordType,
    ) -> Result<(Message, SocketAddr), DnsFailure> {
        let bad_name = || DnsFailure::BadName {
            name: name.to_string(),
        };
        let qname = Name::from_ascii(format!("{name}.")).map_err(|_| bad_name())?;
        let mut last_err = None;
        let mut timed_out = Vec::new();
        for &server in &self.servers {
            let mut msg = Message::query();
            msg.metadata.recursion_desired = true;
            msg.add_query(Query::query(qname.clone(), rtype));
            // Encoding fails only for a name no DNS message can carry (a label over 63 bytes).
            let bytes = msg.to_vec().map_err(|_| bad_name())?;
            match exchange(server, &bytes, msg.metadata.id, self.timeout).await {
                Ok(None) => timed_out.push(server),
                Err(f) => last_err = Some(f),
                Ok(Some(resp)) => match resp.metadata.response_code {
                    // A stub resolver moves on to the next server for these.
                    ResponseCode::ServFail | ResponseCode::Refused if self.servers.len() > 1 => {
                        last_err = Some(match resp.metadata.response_code {
                            ResponseCode::ServFail => DnsFailure::ServFail { server },
                            _ => DnsFailure::Refused { server },
                        });
                    }
                    _ => return Ok((resp, server)),
                },
            }
        }
        Err(match last_err {
            Some(e) => e,
            None => DnsFailure::Timeout {
                servers: timed_out,
                after: self.timeout,
            },
        })
    }
}

/// Follow the CNAME records of `msg` from `current` on, recording each link; `current` ends
/// at the last name of the chain the answer carries.
fn follow_cnames(
    msg: &Message,
    current: &mut String,
    chain: &mut Vec<ChainLink>,
    seen: &mut HashSet<String>,
) -> Result<(), DnsFailure> {
    'next: loop {
        for r in &msg.answers {
            let RData::CNAME(c) = &r.data else { continue };
            if name_str(&r.name) != *current {
                continue;
            }
            let target = name_str(&c.0);
            chain.push(ChainLink {
                name: current.clone(),
                target: target.clone(),
                ttl: r.ttl,
            });
            if !seen.insert(target.clone()) {
                return Err(DnsFailure::CnameLoop { at: target });
            }
            if chain.len() > MAX_CHAIN {
                return Err(DnsFailure::ChainTooLong { limit: MAX_CHAIN });
            }
            *current = target;
            continue 'next;
        }
        return Ok(());
    }
}

/// Does `msg`, an answer without data for `last` (the end of the chain it carries), speak for
/// `last` itself? Yes from a recursive server (RA set: it followed the chain to its end), or
/// when the authority section holds the SOA of `last`'s zone (RFC 2308 §2.1, §2.2).
fn answers_for_last_name(msg: &Message, last: &str) -> bool {
    msg.metadata.recursion_available
        || msg.authorities.iter().any(|r| {
            matches!(r.data, RData::SOA(_)) && {
                let apex = name_str(&r.name);
                apex.is_empty() || last == apex || last.ends_with(&format!(".{apex}"))
            }
        })
}

fn name_str(n: &Name) -> String {
    n.to_ascii().trim_end_matches('.').to_ascii_lowercase()
}

/// Send over UDP; on a truncated answer, ask again over TCP. The whole exchange is bounded by
/// `timeout`: `Ok(None)` when no UDP answer came in time.
async fn exchange(
    server: SocketAddr,
    bytes: &[u8],
    id: u16,
    timeout: Duration,
) -> Result<Option<Message>, DnsFailure> {
    let deadline = tokio::time::Instant::now() + timeout;
    let Ok(resp) = tokio::time::timeout_at(deadline, exchange_udp(server, bytes, id)).await else {
        return Ok(None);
    };
    let resp = resp?;
    if !resp.metadata.truncation {
        return Ok(Some(resp));
    }
    let tcp_failed = |retry| DnsFailure::TruncatedTcpFailed { server, retry };
    match tokio::time::timeout_at(deadline, exchange_tcp(server, bytes)).await {
        Err(_) => Err(tcp_failed(TcpRetryFailure::Timeout { after: timeout })),
        Ok(Err(e)) => Err(tcp_failed(TcpRetryFailure::Io {
            error: OsError::from(&e),
        })),
        Ok(Ok(body)) => Message::from_vec(&body)
            .map(Some)
            .map_err(|_| tcp_failed(TcpRetryFailure::Malformed)),
    }
}

async fn exchange_udp(server: SocketAddr, bytes: &[u8], id: u16) -> Result<Message, DnsFailure> {
    let bind: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().expect("literal")
    } else {
        "[::]:0".parse().expect("literal")
    };
    // ECONNREFUSED on a connected UDP socket is the ICMP port unreachable of the server's host.
    let net = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::ConnectionRefused => DnsFailure::NothingListens { server },
        _ => DnsFailure::Network {
            server: Some(server),
            error: OsError::from(&e),
        },
    };
    let sock = UdpSocket::bind(bind).await.map_err(net)?;
    sock.connect(server).await.map_err(net)?;
    sock.send(bytes).await.map_err(net)?;
    // A lost datagram (either way) is asked again, as stub resolvers do, after 1 s, then 2 s, …
    // (bounded by the caller's timeout); the first answer with our id counts.
    let mut resend = UDP_RETRANSMIT;
    let mut next = tokio::time::Instant::now() + resend;
    let mut buf = vec![0u8; 4096];
    loop {
        let n = tokio::select! {
            r = sock.recv(&mut buf) => r.map_err(net)?,
            () = tokio::time::sleep_until(next) => {
                sock.send(bytes).await.map_err(net)?;
                resend *= 2;
                next += resend;
                continue;
            }
        };
        match Message::from_vec(&buf[..n]) {
            Ok(m) if m.metadata.id == id => return Ok(m),
            // A stray or spoofed datagram: keep waiting (bounded by the caller's timeout).
            Ok(_) => continue,
            // Unparsable, and not even our query id: stray too.
            Err(_) if n < 2 || u16::from_be_bytes([buf[0], buf[1]]) != id => continue,
            Err(_) => return Err(DnsFailure::Malformed { server }),
        }
    }
}

/// The same question over TCP (RFC 7766 framing); the answer's bytes.
async fn exchange_tcp(server: SocketAddr, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut tcp = TcpStream::connect(server).await?;
    let mut framed = Vec::with_capacity(bytes.len() + 2);
    framed.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    framed.extend_from_slice(bytes);
    tcp.write_all(&framed).await?;
    let len = tcp.read_u16().await? as usize;
    let mut body = vec![0u8; len];
    tcp.read_exact(&mut body).await?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reports saved before socket errors were typed carried the OS's words in `detail`; they
    /// still read back, as a socket error of unknown kind.
    #[test]
    fn a_saved_network_failure_with_words_reads_back_typed() {
        let old: DnsFailure = serde_json::from_str(
            r#"{"kind":"network","detail":"Network is unreachable (os error 101)"}"#,
        )
        .unwrap();
        assert_eq!(
            old,
            DnsFailure::Network {
                server: None,
                error: OsError::default()
            }
        );
        let old: DnsFailure = serde_json::from_str(
            r#"{"kind":"truncated_tcp_failed","server":"127.0.0.1:53","detail":"connection refused"}"#,
        )
        .unwrap();
        assert!(matches!(
            old,
            DnsFailure::TruncatedTcpFailed {
                retry: TcpRetryFailure::Io { .. },
                ..
            }
        ));
    }

    /// What is written is the facts: the server and the socket error's kind and number.
    #[test]
    fn a_network_failure_is_written_with_its_server_and_errno() {
        let f = DnsFailure::Network {
            server: Some("192.0.2.53:53".parse().unwrap()),
            error: OsError::from(&std::io::Error::from_raw_os_error(libc::ENETUNREACH)),
        };
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["server"], "192.0.2.53:53");
        assert_eq!(v["error"]["kind"], "network_unreachable");
        assert_eq!(v["error"]["errno"], libc::ENETUNREACH);
        assert_eq!(
            f,
            serde_json::from_value::<DnsFailure>(v).unwrap(),
            "and it reads back the same"
        );
    }
}
