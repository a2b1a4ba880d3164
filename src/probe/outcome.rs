//! What the prober observed, typed: one [`TargetOutcome`] per probed name.
//!
//! Observations hold facts only — addresses, chains, certificates, statuses and typed failures.
//! They decide no verdict and carry no prose: `report` judges them and `render` words them.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use super::connect::ProxyFailure;
pub use super::dns::DnsFailure;
pub use super::http::HttpFailure;
pub use super::tcp::TcpFailure;
pub use super::tls::TlsFailure;
use crate::env::proxy::ProxyUrl;
use crate::env::trust::StoreVerdicts;
use crate::model::{Family, GaiError, Phase, Route};

/// One link of a CNAME chain: `name` is an alias of `target`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainLink {
    pub name: String,
    pub target: String,
    pub ttl: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressRecord {
    pub address: IpAddr,
    pub family: Family,
    /// `None` when the address did not come from DNS (system resolver, `--resolve`).
    pub ttl: Option<u32>,
}

/// Where the addresses a name is connected to came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsSource {
    /// Our own DNS queries to the configured servers.
    Dns,
    /// The operating system's resolver (getaddrinfo: /etc/hosts, nsswitch).
    System,
    /// Addresses given on the command line; DNS not asked.
    Override,
}

/// What the operating system's resolver (which the runner itself uses) said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SystemLookup {
    Answered { addresses: Vec<IpAddr> },
    Failed { failure: SystemFailure },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SystemFailure {
    #[error("no answer within {after:?}")]
    Timeout {
        #[serde(with = "crate::model::duration_ms")]
        after: Duration,
    },
    /// getaddrinfo failed: its `EAI_*` code as facts.
    #[error("getaddrinfo failed: {gai:?}")]
    Error {
        #[serde(default)]
        gai: GaiError,
    },
}

/// The DNS part of a name's observation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DnsObservation {
    pub source: DnsSource,
    /// The server that gave our DNS its final answer.
    pub server: Option<SocketAddr>,
    pub chain: Vec<ChainLink>,
    /// The addresses connected to (the system resolver's when it disagrees with DNS).
    pub addresses: Vec<AddressRecord>,
    /// The addresses our own DNS questions found (they differ from `addresses` only when the
    /// system resolver's answer was used).
    pub dns_addresses: Vec<IpAddr>,
    /// The smallest TTL along the chain and the address records.
    pub min_ttl: Option<u32>,
    /// How our own DNS questions failed, also when addresses came for another record type.
    pub failure: Option<DnsFailure>,
    /// The operating system resolver's answer (asked with the system configuration only).
    pub system: Option<SystemLookup>,
    /// Every endpoint of the name goes through a proxy, which resolves the name itself.
    pub via_proxy: bool,
    pub ms: u64,
    /// How long our DNS questions took, and the system resolver (asked at the same time): `ms`
    /// is the longer of the two, so a disagreement can say each one's time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_ms: Option<u64>,
    /// What `ipv4only.arpa` showed about DNS64, when it was asked (on a host without an IPv4
    /// route, or when an address lies in 64:ff9b::/96).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns64: Option<super::nat64::Dns64>,
    /// Per address family: how many addresses the name has and the route they take (empty
    /// when this host's routing table could not be read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub families: Vec<FamilyPath>,
}

/// One address family of a name: its addresses and the way out to them (issue 21, item 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyPath {
    pub family: Family,
    /// How many of the name's addresses are of this family.
    pub addresses: usize,
    /// The route a connection to the first of them takes (longest prefix).
    pub interface: Option<String>,
    pub gateway: Option<IpAddr>,
    /// This host has a route to the family's internet at all (a default route, or any route
    /// other than loopback and link-local).
    pub has_route: bool,
}

impl FamilyPath {
    /// Both families for these addresses, as `network` routes them; empty when the tables are
    /// unknown (not Linux).
    pub fn of(addresses: &[AddressRecord], network: &crate::env::net::Network) -> Vec<FamilyPath> {
        if !network.known() {
            return Vec::new();
        }
        [Family::Ipv4, Family::Ipv6]
            .into_iter()
            .map(|family| {
                let mine: Vec<IpAddr> = addresses
                    .iter()
                    .filter(|a| a.family == family)
                    .map(|a| a.address)
                    .collect();
                let route = mine.first().and_then(|a| network.route_to(*a));
                FamilyPath {
                    family,
                    addresses: mine.len(),
                    interface: route.as_ref().map(|r| r.interface.clone()),
                    gateway: route.and_then(|r| r.gateway),
                    has_route: network.has_route(family).unwrap_or(false),
                }
            })
            .collect()
    }
}

impl Default for DnsObservation {
    fn default() -> DnsObservation {
        DnsObservation::none()
    }
}

impl DnsObservation {
    /// Can the name be connected to directly? (Some address, and the system resolver did not
    /// fail where the runner would ask it.)
    pub fn usable(&self) -> bool {
        !self.addresses.is_empty() && !matches!(self.system, Some(SystemLookup::Failed { .. }))
    }

    /// An observation of nothing (a name that was never probed).
    pub fn none() -> DnsObservation {
        DnsObservation {
            source: DnsSource::Dns,
            server: None,
            chain: vec![],
            addresses: vec![],
            dns_addresses: vec![],
            min_ttl: None,
            failure: None,
            system: None,
            via_proxy: false,
            ms: 0,
            server_ms: None,
            system_ms: None,
            dns64: None,
            families: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    pub sans: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    pub self_signed: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TlsInfo {
    pub verified: bool,
    pub version: Option<String>,
    pub cipher: Option<String>,
    pub alpn: Option<String>,
    /// The certificate the server presented, verified or not.
    pub leaf: Option<CertSummary>,
    /// Issuer of each certificate presented, leaf first.
    pub chain_issuers: Vec<String>,
    /// Which trust stores (runner, git, node) and the public set accept the presented chain.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stores: Option<StoreVerdicts>,
}

impl TlsInfo {
    pub fn empty() -> TlsInfo {
        TlsInfo {
            verified: false,
            version: None,
            cipher: None,
            alpn: None,
            leaf: None,
            chain_issuers: Vec::new(),
            stores: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpInfo {
    pub method: String,
    pub path: String,
    pub status: Option<u16>,
    /// The header that proves GitHub answered, when the profile names one.
    pub expect_header: Option<String>,
    pub header_present: Option<bool>,
    pub server: Option<String>,
    pub date: Option<String>,
    /// `Location` of a redirect (3xx), as shown: user information masked, query hidden
    /// ([`crate::model::mask_url`]).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub location: Option<String>,
    /// The `Location` as the server sent it, to follow; never shown nor saved.
    #[serde(skip)]
    pub follow: Option<String>,
    /// The whole size of what the URL serves: the total of `Content-Range` (206), else
    /// `Content-Length` of a 200.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub total_size: Option<u64>,
}

/// A `--connect-to` rule that redirected a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redirected {
    /// The host connected to instead (`None`: the name's own addresses).
    pub host: Option<String>,
    pub port: u16,
}

/// The proxy an endpoint went through, and the variable (or flag) it came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProxyUse {
    pub url: ProxyUrl,
    pub from: String,
}

/// One step of one endpoint's path, with what it saw.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// A direct TCP connection.
    Connect {
        redirected: Option<Redirected>,
        /// The name has addresses of this family only (a host without a route for it cannot
        /// reach the name at all).
        #[serde(default)]
        only_family: bool,
        failure: Option<TcpFailure>,
        /// What the kernel says about the connection's path (MSS, path MTU, interface).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        path: Option<super::path::PathInfo>,
    },
    /// `CONNECT host:port` through a proxy (HTTPS endpoints).
    Tunnel {
        proxy: ProxyUse,
        target: String,
        failure: Option<ProxyFailure>,
    },
    /// A TCP connection to the proxy for an absolute-form plain-HTTP request.
    ProxyConnect {
        proxy: ProxyUse,
        failure: Option<ProxyFailure>,
    },
    Tls {
        #[serde(default)]
        tls: TlsInfo,
        #[serde(default)]
        through_proxy: bool,
        failure: Option<TlsFailure>,
    },
    Http {
        http: HttpInfo,
        /// The proxy the request went to (absolute form), for plain HTTP through a proxy.
        proxy: Option<ProxyUse>,
        failure: Option<HttpFailure>,
    },
}

/// One check of one endpoint (port) on one address family.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckObservation {
    pub port: u16,
    #[serde(default)]
    pub family: Option<Family>,
    /// The address connected to (the proxy's, through a proxy).
    #[serde(default)]
    pub address: Option<SocketAddr>,
    #[serde(default)]
    pub ms: u64,
    /// The connection the step used: TCP, TLS and HTTP of one connection share the number
    /// (unique within the process), so a timeline shows which requests shared or waited for a
    /// connection. `None` where no connection was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<u64>,
    /// When the step started, in ms since the probes of the run started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<u64>,
    #[serde(flatten)]
    pub step: Step,
}

impl CheckObservation {
    pub fn phase(&self) -> Phase {
        match self.step {
            Step::Connect { .. } | Step::Tunnel { .. } | Step::ProxyConnect { .. } => Phase::Tcp,
            Step::Tls { .. } => Phase::Tls,
            Step::Http { .. } => Phase::Http,
        }
    }

    pub fn tls(&self) -> Option<&TlsInfo> {
        match &self.step {
            Step::Tls { tls, .. } => Some(tls),
            _ => None,
        }
    }

    pub fn http(&self) -> Option<&HttpInfo> {
        match &self.step {
            Step::Http { http, .. } => Some(http),
            _ => None,
        }
    }

    /// Did this step fail outright (no answer, refused, handshake or request error)?
    pub fn failed(&self) -> bool {
        match &self.step {
            Step::Connect { failure, .. } => failure.is_some(),
            Step::Tunnel { failure, .. } | Step::ProxyConnect { failure, .. } => failure.is_some(),
            Step::Tls { failure, .. } => failure.is_some(),
            Step::Http { failure, .. } => failure.is_some(),
        }
    }
}

/// Why a name has no complete observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Incomplete {
    /// The run's time limit ended the probe.
    MaxTime {
        #[serde(with = "crate::model::duration_ms")]
        limit: Duration,
    },
    /// The probing task ended without a result (it should not).
    Internal,
}

/// Everything observed about one probed name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetOutcome {
    pub host: String,
    #[serde(default)]
    pub route: Route,
    #[serde(default)]
    pub dns: DnsObservation,
    #[serde(default)]
    pub checks: Vec<CheckObservation>,
    #[serde(default)]
    pub ms: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub incomplete: Option<Incomplete>,
}

#[cfg(test)]
mod system_failure_json {
    use super::*;

    /// Issue 23 row 12: the OS resolver's timeout was the one duration of the report written as
    /// `{"secs": 5, "nanos": 0}`; like every other typed failure's `after`, it is milliseconds.
    #[test]
    fn the_os_resolvers_timeout_is_written_in_milliseconds() {
        let f = SystemLookup::Failed {
            failure: SystemFailure::Timeout {
                after: Duration::from_secs(5),
            },
        };
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "failed", "failure": {"kind": "timeout", "after": 5000}})
        );
        assert_eq!(serde_json::from_value::<SystemLookup>(json).unwrap(), f);
    }
}
