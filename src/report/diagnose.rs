//! Diagnosis: a run's failures grouped into root causes.
//!
//! From the judged targets (their typed [`Cause`]s) and the environment the report holds (the
//! proxy settings, the DNS servers, the trust-store and clock findings, the throughput), every
//! target that does not pass is put under exactly one [`Diagnosis`]: "the DNS server does not
//! answer", "TCP 443 to 140.82.112.0/20 is dropped", "one CA re-signs every TLS connection".
//! What no cause explains stays a cause of its own ([`RootCause::Unexplained`]).
//!
//! Typed, no prose: `render::diagnosis` writes each cause's summary and fix. The grouping is
//! deterministic: the same report gives the same causes in the same order.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

use super::findings::{FindingKind, StoreName};
use super::{Cause, DnsNote, DnsProblem, HttpJudgement, Report, TargetResult};
use crate::model::{Family, Phase, Route, Verdict};
use crate::probe::connect::ProxyFailure;
use crate::probe::http::HttpFailure;
use crate::probe::outcome::{DnsFailure, DnsSource, Incomplete, Step, TcpFailure, TlsFailure};
use crate::probe::throughput::ThroughputFailure;

/// One root cause: what it is (kind and evidence), what it blocks, the names it explains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// 1, 2, …: the number the outputs refer to ("see cause 2").
    pub id: usize,
    /// `kind` and `evidence`.
    #[serde(flatten)]
    pub cause: RootCause,
    /// The worst verdict among what it explains (`fail` or `warn`).
    pub verdict: Verdict,
    /// It makes the run exit 1 (under the run's `--fail-on`).
    pub gating: bool,
    /// The capability ids it blocks (`throughput` for the measurement), in report order.
    pub blocks: Vec<String>,
    /// The names it explains, sorted.
    pub hosts: Vec<String>,
    /// How many of the report's targets (a name per capability entry) it explains.
    pub targets: usize,
}

impl Diagnosis {
    pub fn kind(&self) -> &'static str {
        self.cause.kind()
    }
}

/// How TCP connections failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TcpHow {
    /// No answer: packets dropped.
    Dropped,
    /// RST.
    Refused,
    /// No route (network unreachable).
    NoRoute,
    /// Host unreachable (ICMP).
    HostUnreachable,
}

impl TcpHow {
    fn of(f: &TcpFailure) -> Option<TcpHow> {
        match f {
            TcpFailure::Dropped { .. } => Some(TcpHow::Dropped),
            TcpFailure::Refused { .. } => Some(TcpHow::Refused),
            TcpFailure::NetUnreachable { .. } => Some(TcpHow::NoRoute),
            TcpFailure::HostUnreachable { .. } => Some(TcpHow::HostUnreachable),
            _ => None,
        }
    }
}

/// Why the DNS server gave nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Silence {
    /// No answer within the timeout.
    Timeout,
    /// The servers cannot be reached (a socket error).
    Network,
    /// Nothing listens on the server's port (ICMP port unreachable): the host is up, no DNS
    /// server runs there, or not on that port.
    NothingListens,
    /// No server is configured.
    NoServers,
}

/// How the operating system's resolver disagrees with DNS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OsResolver {
    /// DNS answers, the system resolver (which the runner uses) fails.
    Fails,
    /// The system resolver answers other addresses (e.g. `/etc/hosts`), which do not connect.
    OtherAddresses,
}

/// A proxy's failure, by what to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxyHow {
    /// Its name does not resolve, or nothing accepts connections at its address.
    Unreachable,
    /// It accepted the connection but gave no usable answer (silence, close, not HTTP…).
    Broken,
    /// 407: no or wrong credentials.
    AuthRequired,
    /// 407 offering only schemes the runner cannot speak (NTLM, Negotiate/Kerberos): the
    /// runner's proxy support is Basic only.
    AuthUnsupported,
    /// 403: its policy blocks the names.
    Forbidden,
    /// 502–504: it cannot reach the names itself.
    Upstream,
}

/// A certificate problem on a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertProblem {
    Expired,
    NotYetValid,
    WrongName,
    SelfSigned,
}

/// Addresses grouped under their smallest covering prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefixGroup {
    /// `140.82.112.0/20` (a single address: `/32`, `/128`).
    pub prefix: String,
    pub addresses: Vec<IpAddr>,
    /// Distinct names connecting into it.
    pub names: usize,
}

/// What a cause is, with its evidence. In JSON: `kind` and `evidence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "evidence", rename_all = "snake_case")]
pub enum RootCause {
    /// All or most names got no answer from the same DNS servers.
    ResolverUnreachable {
        servers: Vec<SocketAddr>,
        how: Silence,
        /// Names that failed this way, and names whose DNS was asked at all.
        names: usize,
        asked: usize,
        timeout_ms: Option<u64>,
        /// The servers were given with `--dns-server` (not read from /etc/resolv.conf): the
        /// fix is to that flag.
        #[serde(default)]
        given: bool,
    },
    /// Several names fail the same way (the same phase, the same kind of failure) at the one
    /// address they share (a CDN edge, a load balancer): the address, not each name (issue 23,
    /// row 11).
    SharedAddressFails {
        address: SocketAddr,
        phase: Option<Phase>,
        names: usize,
    },
    /// The resolver says public names do not exist (split horizon, a DNS filter).
    DnsNxdomain {
        servers: Vec<SocketAddr>,
        /// The zones (last two labels) of the names it denies.
        zones: Vec<String>,
        names: usize,
        /// The profile variable (e.g. GHES's `hostname`) whose value the denied names are, or
        /// are under: an instance's own name, which the DNS server has no record for, not a
        /// public name it hides (issue 23 row 7).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        variable: Option<String>,
    },
    /// DNS answers, but the operating system's resolver, which the runner uses, disagrees.
    OsResolverDisagrees { how: OsResolver, names: usize },
    /// No proxy configured and no direct connection works at all.
    ProxyNeeded {
        ports: Vec<u16>,
        how: Vec<TcpHow>,
        prefixes: Vec<PrefixGroup>,
    },
    /// A configured proxy works, but the names that bypass it (no_proxy) cannot connect.
    DirectBlockedProxyWorks {
        proxy: String,
        no_proxy: Option<String>,
        ports: Vec<u16>,
        how: Vec<TcpHow>,
    },
    /// TCP to a port is dropped or refused for a set of addresses.
    TcpBlocked {
        port: u16,
        how: TcpHow,
        prefixes: Vec<PrefixGroup>,
    },
    /// TCP to one name is dropped or refused while other names connect.
    HostBlocked {
        host: String,
        port: u16,
        how: TcpHow,
        addresses: Vec<SocketAddr>,
    },
    /// One port fails for names that connect on another port (e.g. only port 80 blocked).
    PortBlocked {
        port: u16,
        how: TcpHow,
        working_ports: Vec<u16>,
    },
    /// One address family fails while the other works for the same names.
    FamilyBlocked {
        family: Family,
        port: u16,
        how: TcpHow,
    },
    /// A proxy refuses, wants credentials, cannot reach, or cannot be reached.
    ProxyFails {
        proxy: String,
        how: ProxyHow,
        /// The status it answered, when it answered one.
        status: Option<u16>,
        /// The zones of the names (for a 403: what to ask to be allowed).
        zones: Vec<String>,
        /// The proxy URL carries credentials (a 407: they are rejected).
        credentials: bool,
    },
    /// One issuer re-signs TLS to these names: a TLS-inspecting proxy (or a private CA).
    TlsInterception {
        issuer: String,
        /// The stores that lack it (the runner's, git's, node's).
        missing_in: Vec<StoreName>,
        /// A configured PEM file that holds it, when one does.
        anchor_file: Option<String>,
        /// Names whose TLS check fails for it (the rest are warnings).
        failing: usize,
    },
    /// The runner's trust store holds no root at all: no TLS connection can be verified.
    NoTrustRoots { names: usize },
    /// An expired, not-yet-valid, wrong-name or self-signed certificate.
    CertificateInvalid {
        problem: CertProblem,
        issuer: String,
        /// The names the certificate is for (wrong name), or its end of validity (expired).
        detail: Vec<String>,
    },
    /// Something other than GitHub answers (no fingerprint), with the same `Server` header.
    MiddleboxAnswers {
        server: Option<String>,
        statuses: Vec<u16>,
        header: Option<String>,
    },
    /// The measured rate is below the floor.
    ThroughputBelowFloor {
        directions: Vec<String>,
        /// The slowest rate measured, kbit/s (rounded down).
        kbps: u64,
        min_kbps: u32,
    },
    /// This machine's clock is off: tokens (and certificate validity) fail.
    ClockSkew {
        host: String,
        skew_seconds: i64,
        server_date: String,
    },
    /// The run's time limit ended probes before they finished.
    TimeLimit { limit_ms: u64, names: usize },
    /// A followed download (the runner's update package) does not end in the file: a hop
    /// answers with another status, cannot be followed, or reaches a host the profile does not
    /// list (rules built from the profile would block it).
    UpdatePathBlocked {
        /// The hosts whose hop does not lead on, in report order.
        hosts: Vec<String>,
        /// The status the chain ended in, when that is the reason.
        status: Option<u16>,
        /// The chain reached hosts the profile does not list.
        unlisted: bool,
        /// The chain could not be followed (no Location, a bad one, a downgrade, too many hops).
        stopped: bool,
    },
    /// TCP connects, but the first full-size segment never arrives: handshakes or answers
    /// stall where a connection announcing a smaller MSS completes (a path-MTU black hole).
    PathMtuBlackHole {
        /// Every endpoint that stalled, in report order.
        endpoints: Vec<MtuEndpoint>,
        /// The largest MSS that worked for every endpoint.
        works_at_mss: u32,
        /// The interface the stalled connections leave by, and its MTU, when known.
        interface: Option<String>,
        interface_mtu: Option<u32>,
        /// The kernel's path MTU on the stalled connections (it never learnt a smaller one).
        path_mtu: Option<u32>,
    },
    /// This host has no IPv4 route, and these names have no IPv6 address: nothing can reach
    /// them from here (not a firewall: the connection fails at once, ENETUNREACH).
    NoIpv4Route {
        /// The names, sorted.
        names: Vec<String>,
        /// What `ipv4only.arpa` showed: no DNS64 (`absent`), or not asked / no answer (`null`).
        dns64: Option<crate::probe::nat64::Dns64>,
    },
    /// An existing Docker network's subnet covers addresses the runner must reach: a job
    /// container's traffic to them stays on the bridge (the container-jobs check).
    ContainerSubnetOverlap {
        /// The bridge (and Docker network) and its subnet.
        network: String,
        subnet: crate::env::docker::Subnet,
        /// The addresses covered, and whether one is the proxy's.
        addresses: Vec<IpAddr>,
        proxy: bool,
    },
    /// A Docker bridge's MTU is larger than what the uplink carries: container jobs send
    /// segments the path drops (actions/runner#2966).
    ContainerMtu {
        network: String,
        mtu: u32,
        /// Where the bridge's MTU comes from (`daemon_json`, `network_option`, `bridge`).
        mtu_from: String,
        uplink: String,
        uplink_mtu: u32,
    },
    /// A pool Docker carves job networks from covers addresses the runner must reach: a future
    /// job network may take that subnet.
    ContainerPoolOverlap {
        pool: crate::env::docker::Subnet,
        /// Docker's own pools (no `default-address-pools` in daemon.json).
        default_pool: bool,
        addresses: Vec<IpAddr>,
        proxy: bool,
    },
    /// Docker's daemon.json cannot be used.
    ContainerDaemonConfig {
        problem: crate::env::docker::DaemonProblem,
    },
    /// Nothing else explains it: the target's (or the throughput's) own cause stands.
    Unexplained {
        /// The name; `None` for the throughput measurement.
        host: Option<String>,
        phase: Option<Phase>,
        port: Option<u16>,
        /// The throughput direction (`download`, `upload`) when it is about throughput.
        direction: Option<String>,
    },
}

/// One endpoint under a path-MTU black hole.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MtuEndpoint {
    pub host: String,
    pub addr: SocketAddr,
    /// What stalled: the TLS handshake or the HTTP answer.
    pub phase: Phase,
    pub works_at_mss: u32,
    pub stalled_at_mss: Option<u32>,
    /// The throughput upload's body that stalled (`phase` is then `http`), when that is what
    /// stalled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_bytes: Option<u64>,
}

impl RootCause {
    /// The `kind` in JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            RootCause::ResolverUnreachable { .. } => "resolver_unreachable",
            RootCause::DnsNxdomain { .. } => "dns_nxdomain",
            RootCause::OsResolverDisagrees { .. } => "os_resolver_disagrees",
            RootCause::ProxyNeeded { .. } => "proxy_needed",
            RootCause::DirectBlockedProxyWorks { .. } => "direct_blocked_proxy_works",
            RootCause::TcpBlocked { .. } => "tcp_blocked",
            RootCause::HostBlocked { .. } => "host_blocked",
            RootCause::PortBlocked { .. } => "port_blocked",
            RootCause::FamilyBlocked { .. } => "family_blocked",
            RootCause::ProxyFails { .. } => "proxy_fails",
            RootCause::TlsInterception { .. } => "tls_interception",
            RootCause::NoTrustRoots { .. } => "no_trust_roots",
            RootCause::CertificateInvalid { .. } => "certificate_invalid",
            RootCause::MiddleboxAnswers { .. } => "middlebox_answers",
            RootCause::ThroughputBelowFloor { .. } => "throughput_below_floor",
            RootCause::ClockSkew { .. } => "clock_skew",
            RootCause::TimeLimit { .. } => "time_limit",
            RootCause::UpdatePathBlocked { .. } => "update_path_blocked",
            RootCause::PathMtuBlackHole { .. } => "path_mtu_black_hole",
            RootCause::NoIpv4Route { .. } => "no_ipv4_route",
            RootCause::SharedAddressFails { .. } => "shared_address_fails",
            RootCause::ContainerSubnetOverlap { .. } => "container_subnet_overlap",
            RootCause::ContainerMtu { .. } => "container_mtu",
            RootCause::ContainerPoolOverlap { .. } => "container_pool_overlap",
            RootCause::ContainerDaemonConfig { .. } => "container_daemon_config",
            RootCause::Unexplained { .. } => "unexplained",
        }
    }

    /// Unexplained causes come last.
    pub fn is_unexplained(&self) -> bool {
        matches!(self, RootCause::Unexplained { .. })
    }
}

// ---------------------------------------------------------------------------------------------
// Classification of one target
// ---------------------------------------------------------------------------------------------

/// Where a target sits in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Loc {
    cap: usize,
    entry: usize,
    target: usize,
}

/// What one target's failure points at, before grouping.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Signal {
    TimeLimit(u64),
    /// A certificate judged expired or not yet valid by a clock that is off.
    Clock,
    ResolverSilent {
        servers: Vec<SocketAddr>,
        how: Silence,
        after_ms: Option<u64>,
    },
    Nxdomain {
        server: SocketAddr,
        zone: String,
    },
    OsResolver(OsResolver),
    Tcp {
        port: u16,
        how: TcpHow,
        addr: SocketAddr,
    },
    Family {
        family: Family,
        port: u16,
        how: TcpHow,
    },
    Proxy {
        proxy: String,
        how: ProxyHow,
        status: Option<u16>,
        credentials: bool,
    },
    UnknownIssuer(String),
    NoRoots,
    Cert {
        problem: CertProblem,
        issuer: String,
        detail: Vec<String>,
    },
    Middlebox {
        server: Option<String>,
        status: Option<u16>,
        header: Option<String>,
    },
    Other {
        phase: Option<Phase>,
        port: Option<u16>,
    },
    /// A redirect chain's hop that does not lead to the download.
    UpdatePath(super::redirect::RedirectCause),
    /// No IPv4 route, to a name that has only IPv4 addresses.
    NoIpv4Route,
    /// A stall that a clamped MSS cured.
    Mtu {
        addr: SocketAddr,
        phase: Phase,
        works_at_mss: u32,
        stalled_at_mss: Option<u32>,
    },
}

/// The last two labels of a name: `actions.githubusercontent.com` → `githubusercontent.com`.
pub fn zone_of(name: &str) -> String {
    let name = name.trim_end_matches('.');
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() <= 2 {
        return name.to_ascii_lowercase();
    }
    labels[labels.len() - 2..].join(".").to_ascii_lowercase()
}

/// The profile variable whose value `host` is, or is under (`codeload.` + the GHES hostname):
/// a name the operator gave, not one GitHub publishes.
fn variable_of(variables: &BTreeMap<String, String>, host: &str) -> Option<String> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    variables
        .iter()
        .find(|(_, value)| {
            let value = value.trim_end_matches('.').to_ascii_lowercase();
            !value.is_empty() && (host == value || host.ends_with(&format!(".{value}")))
        })
        .map(|(name, _)| name.clone())
}

fn ms(d: std::time::Duration) -> u64 {
    d.as_millis() as u64
}

fn proxy_signal(f: &ProxyFailure) -> Signal {
    let proxy = f.proxy();
    let (how, status) = match f {
        ProxyFailure::NameDoesNotResolve { .. } | ProxyFailure::Unreachable { .. } => {
            (ProxyHow::Unreachable, None)
        }
        ProxyFailure::AuthRequired {
            status, challenge, ..
        }
        | ProxyFailure::AuthRejected {
            status, challenge, ..
        } => {
            let how = match challenge {
                Some(c) if crate::model::http::proxy_auth_unsupported(c) => {
                    ProxyHow::AuthUnsupported
                }
                _ => ProxyHow::AuthRequired,
            };
            (how, Some(status.code))
        }
        ProxyFailure::Forbidden { status, .. } => (ProxyHow::Forbidden, Some(status.code)),
        ProxyFailure::Upstream { status, .. } => (ProxyHow::Upstream, Some(status.code)),
        ProxyFailure::OtherStatus { status, .. } => (ProxyHow::Broken, Some(status.code)),
        ProxyFailure::NoAnswer { .. }
        | ProxyFailure::Closed { .. }
        | ProxyFailure::HeadTooLarge { .. }
        | ProxyFailure::Io { .. }
        | ProxyFailure::NotHttp { .. } => (ProxyHow::Broken, None),
    };
    Signal::Proxy {
        proxy: proxy.to_string(),
        how,
        status,
        credentials: proxy.has_credentials(),
    }
}

/// `ipv4_works`: some direct IPv4 connection of the run succeeded (so the host has IPv4).
fn classify(t: &TargetResult, clock_skewed: bool, ipv4_works: bool) -> Signal {
    let other = |phase, port| Signal::Other { phase, port };
    let Some(cause) = &t.cause else {
        return other(None, None);
    };
    match cause {
        Cause::Incomplete(Incomplete::MaxTime { limit }) => Signal::TimeLimit(ms(*limit)),
        Cause::Incomplete(_) => other(None, None),
        Cause::Redirect(c) => Signal::UpdatePath(c.clone()),
        Cause::Dns(DnsProblem::Failed { failure }) => match failure {
            DnsFailure::Timeout { servers, after } => Signal::ResolverSilent {
                servers: servers.clone(),
                how: Silence::Timeout,
                after_ms: Some(ms(*after)),
            },
            DnsFailure::Network { .. } => Signal::ResolverSilent {
                servers: t.dns.obs.server.into_iter().collect(),
                how: Silence::Network,
                after_ms: None,
            },
            DnsFailure::NothingListens { server } => Signal::ResolverSilent {
                servers: vec![*server],
                how: Silence::NothingListens,
                after_ms: None,
            },
            DnsFailure::NoServers => Signal::ResolverSilent {
                servers: vec![],
                how: Silence::NoServers,
                after_ms: None,
            },
            DnsFailure::NxDomain { name, server } => Signal::Nxdomain {
                server: *server,
                zone: zone_of(name),
            },
            _ => other(Some(Phase::Dns), None),
        },
        Cause::Dns(DnsProblem::SystemFails { .. }) => Signal::OsResolver(OsResolver::Fails),
        Cause::DnsNote(_) => other(Some(Phase::Dns), None),
        Cause::Check {
            index,
            other_family_works,
        } => {
            let Some(c) = t.checks.get(*index) else {
                return other(None, None);
            };
            let port = c.obs.port;
            match &c.obs.step {
                Step::Connect {
                    failure: Some(f),
                    redirected,
                    only_family,
                    ..
                } => {
                    if matches!(f, TcpFailure::NetUnreachable { .. })
                        && !ipv4_works
                        && *only_family
                        && c.obs.family == Some(Family::Ipv4)
                        && redirected.is_none()
                    {
                        return Signal::NoIpv4Route;
                    }
                    let (Some(how), Some(addr)) = (TcpHow::of(f), f.addr()) else {
                        return other(Some(Phase::Tcp), Some(port));
                    };
                    if *other_family_works {
                        return match c.obs.family {
                            Some(family) => Signal::Family { family, port, how },
                            None => other(Some(Phase::Tcp), Some(port)),
                        };
                    }
                    let hosts_entry = t.dns.obs.source == DnsSource::System
                        && t.dns
                            .notes
                            .iter()
                            .any(|n| matches!(n, DnsNote::SystemDiffers { .. }));
                    if hosts_entry && redirected.is_none() {
                        return Signal::OsResolver(OsResolver::OtherAddresses);
                    }
                    Signal::Tcp { port, how, addr }
                }
                Step::Tunnel {
                    failure: Some(f), ..
                }
                | Step::ProxyConnect {
                    failure: Some(f), ..
                } => proxy_signal(f),
                Step::Tls {
                    failure: Some(f),
                    tls,
                    ..
                } => {
                    let top = tls.stores.as_ref().map(|s| s.top_issuer.clone());
                    match f {
                        TlsFailure::PathMtuBlackHole {
                            addr,
                            works_at_mss,
                            stalled_at_mss,
                            ..
                        } => Signal::Mtu {
                            addr: *addr,
                            phase: Phase::Tls,
                            works_at_mss: *works_at_mss,
                            stalled_at_mss: *stalled_at_mss,
                        },
                        TlsFailure::NoRoots => Signal::NoRoots,
                        TlsFailure::UnknownIssuer { issuer } => {
                            Signal::UnknownIssuer(top.unwrap_or_else(|| issuer.clone()))
                        }
                        TlsFailure::Expired { .. } | TlsFailure::NotYetValid { .. }
                            if clock_skewed =>
                        {
                            // Judged by this machine's clock, which is off: the clock explains it.
                            Signal::Clock
                        }
                        TlsFailure::Expired {
                            issuer, not_after, ..
                        } => Signal::Cert {
                            problem: CertProblem::Expired,
                            issuer: issuer.clone(),
                            detail: not_after.iter().cloned().collect(),
                        },
                        TlsFailure::NotYetValid { issuer } => Signal::Cert {
                            problem: CertProblem::NotYetValid,
                            issuer: issuer.clone(),
                            detail: vec![],
                        },
                        TlsFailure::WrongName { names, issuer } => Signal::Cert {
                            problem: CertProblem::WrongName,
                            issuer: issuer.clone(),
                            detail: names.clone(),
                        },
                        TlsFailure::SelfSigned { subject } => Signal::Cert {
                            problem: CertProblem::SelfSigned,
                            issuer: subject.clone(),
                            detail: vec![],
                        },
                        _ => other(Some(Phase::Tls), Some(port)),
                    }
                }
                Step::Http {
                    http,
                    proxy,
                    failure: None,
                } => match (c.judgement, proxy) {
                    (Some(HttpJudgement::NotGitHub), _) => Signal::Middlebox {
                        server: http.server.clone(),
                        status: http.status,
                        header: http.expect_header.clone(),
                    },
                    (Some(HttpJudgement::ProxyAuth), Some(p)) => Signal::Proxy {
                        proxy: p.url.to_string(),
                        how: ProxyHow::AuthRequired,
                        status: http.status,
                        credentials: p.url.has_credentials(),
                    },
                    (Some(HttpJudgement::ProxyRefused), Some(p)) => Signal::Proxy {
                        proxy: p.url.to_string(),
                        how: if http.status == Some(403) {
                            ProxyHow::Forbidden
                        } else {
                            ProxyHow::Upstream
                        },
                        status: http.status,
                        credentials: p.url.has_credentials(),
                    },
                    _ => other(Some(Phase::Http), Some(port)),
                },
                Step::Http {
                    failure:
                        Some(HttpFailure::PathMtuBlackHole {
                            addr,
                            works_at_mss,
                            stalled_at_mss,
                            ..
                        }),
                    ..
                } => Signal::Mtu {
                    addr: *addr,
                    phase: Phase::Http,
                    works_at_mss: *works_at_mss,
                    stalled_at_mss: *stalled_at_mss,
                },
                _ => other(Some(c.phase), Some(port)),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Grouping
// ---------------------------------------------------------------------------------------------

/// The targets of one key, with what was gathered about them on the way.
type Gathered<A, B = ()> = (Vec<Loc>, A, B);

/// A failed direct connection: where, which target, to which address.
type TcpItem<'a> = (Loc, &'a TargetResult, SocketAddr);

/// A cause being built: its evidence and what it explains.
struct Group {
    cause: RootCause,
    items: Vec<Loc>,
    throughput: bool,
    /// A problem of the container-jobs check (it gates when that check is required).
    container: bool,
    /// Report-level causes (clock, interception) are warnings of their own.
    own_verdict: Option<Verdict>,
    /// Names a report-level cause is about besides the targets it explains.
    extra_hosts: Vec<String>,
}

impl Group {
    fn new(cause: RootCause, items: Vec<Loc>) -> Group {
        Group {
            cause,
            items,
            throughput: false,
            container: false,
            own_verdict: None,
            extra_hosts: Vec::new(),
        }
    }
}

/// The smallest prefix covering `addrs` (all of one family).
fn covering(addrs: &[IpAddr]) -> String {
    let bits = |a: &IpAddr| -> u128 {
        match a {
            IpAddr::V4(v) => u32::from(*v) as u128,
            IpAddr::V6(v) => u128::from(*v),
        }
    };
    let Some(first) = addrs.first() else {
        return String::new();
    };
    let width: u32 = if first.is_ipv4() { 32 } else { 128 };
    let base = bits(first);
    let len = addrs
        .iter()
        .map(|a| match bits(a) ^ base {
            0 => width,
            d => d.leading_zeros() - (128 - width),
        })
        .min()
        .unwrap_or(width);
    let full: u128 = if width == 32 { 0xffff_ffff } else { !0 };
    let mask = if len == 0 {
        0
    } else {
        (full << (width - len)) & full
    };
    let net = base & mask;
    let ip = match first {
        IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::from(net as u32)),
        IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::from(net)),
    };
    format!("{ip}/{len}")
}

/// Addresses clustered by /16 (IPv4) or /32 (IPv6), each cluster under its covering prefix,
/// with the number of names connecting into it.
pub fn prefix_groups(addr_hosts: &[(IpAddr, String)]) -> Vec<PrefixGroup> {
    let mut clusters: BTreeMap<(u8, u128), BTreeMap<IpAddr, BTreeSet<String>>> = BTreeMap::new();
    for (a, h) in addr_hosts {
        let key = match a {
            IpAddr::V4(v) => (4, (u32::from(*v) >> 16) as u128),
            IpAddr::V6(v) => (6, u128::from(*v) >> 96),
        };
        clusters
            .entry(key)
            .or_default()
            .entry(*a)
            .or_default()
            .insert(h.clone());
    }
    clusters
        .into_values()
        .map(|m| {
            let addresses: Vec<IpAddr> = m.keys().copied().collect();
            let names: BTreeSet<&String> = m.values().flatten().collect();
            PrefixGroup {
                prefix: covering(&addresses),
                names: names.len(),
                addresses,
            }
        })
        .collect()
}

/// Every target of the report that does not pass, with its location.
fn failing(report: &Report) -> Vec<(Loc, &TargetResult)> {
    let mut out = Vec::new();
    for (ci, c) in report.capabilities.iter().enumerate() {
        for (ei, e) in c.entries.iter().enumerate() {
            for (ti, t) in e.targets.iter().enumerate() {
                if t.verdict >= Verdict::Warn {
                    out.push((
                        Loc {
                            cap: ci,
                            entry: ei,
                            target: ti,
                        },
                        t,
                    ));
                }
            }
        }
    }
    out
}

fn all_targets(report: &Report) -> impl Iterator<Item = &TargetResult> {
    report
        .capabilities
        .iter()
        .flat_map(|c| c.entries.iter())
        .flat_map(|e| e.targets.iter())
}

fn target_at(report: &Report, l: Loc) -> &TargetResult {
    &report.capabilities[l.cap].entries[l.entry].targets[l.target]
}

fn sorted<T: Ord>(v: impl IntoIterator<Item = T>) -> Vec<T> {
    v.into_iter().collect::<BTreeSet<_>>().into_iter().collect()
}

/// The root causes of a report, in order; the targets they explain get their `diagnosis_id`.
pub fn diagnose(report: &mut Report) {
    let groups = group(report);
    report.diagnosis = finish(report, groups);
}

fn group(report: &Report) -> Vec<Group> {
    let clock = report.network.findings.iter().find_map(|f| match &f.kind {
        FindingKind::ClockSkew { clock } => Some(clock.clone()),
        _ => None,
    });
    let ipv4_works = all_targets(report).any(|t| {
        t.checks.iter().any(|c| {
            c.obs.family == Some(Family::Ipv4)
                && matches!(c.obs.step, Step::Connect { failure: None, .. })
        })
    });
    let items: Vec<(Loc, &TargetResult, Signal)> = failing(report)
        .into_iter()
        .map(|(l, t)| (l, t, classify(t, clock.is_some(), ipv4_works)))
        .collect();
    let mut groups: Vec<Group> = Vec::new();
    let mut leftovers: Vec<(Loc, Signal)> = Vec::new();

    // The clock: report-level, and it explains certificate validity failures.
    if let Some(c) = &clock {
        let explained: Vec<Loc> = items
            .iter()
            .filter(|(_, _, s)| *s == Signal::Clock)
            .map(|(l, _, _)| *l)
            .collect();
        let mut g = Group::new(
            RootCause::ClockSkew {
                host: c.host.clone(),
                skew_seconds: c.skew_seconds,
                server_date: c.server_date.clone(),
            },
            explained,
        );
        g.own_verdict = Some(Verdict::Warn);
        g.extra_hosts = vec![c.host.clone()];
        groups.push(g);
    }

    // A followed download that does not end in the file: one cause for every such hop.
    let update: Vec<(Loc, &super::redirect::RedirectCause)> = items
        .iter()
        .filter_map(|(l, _, s)| match s {
            Signal::UpdatePath(c) => Some((*l, c)),
            _ => None,
        })
        .collect();
    if !update.is_empty() {
        use super::redirect::RedirectCause as R;
        let mut hosts: Vec<String> = Vec::new();
        for (l, _) in &update {
            let h = &target_at(report, *l).host;
            if !hosts.contains(h) {
                hosts.push(h.clone());
            }
        }
        groups.push(Group::new(
            RootCause::UpdatePathBlocked {
                hosts,
                status: update.iter().find_map(|(_, c)| match c {
                    R::Status { status } => Some(*status),
                    _ => None,
                }),
                unlisted: update.iter().any(|(_, c)| matches!(c, R::Unlisted { .. })),
                stopped: update.iter().any(|(_, c)| matches!(c, R::Stopped { .. })),
            },
            update.iter().map(|(l, _)| *l).collect(),
        ));
    }

    // The run's time limit.
    let limited: Vec<(Loc, u64)> = items
        .iter()
        .filter_map(|(l, _, s)| match s {
            Signal::TimeLimit(ms) => Some((*l, *ms)),
            _ => None,
        })
        .collect();
    if !limited.is_empty() {
        let names = sorted(limited.iter().map(|(l, _)| &target_at(report, *l).host)).len();
        groups.push(Group::new(
            RootCause::TimeLimit {
                limit_ms: limited[0].1,
                names,
            },
            limited.iter().map(|(l, _)| *l).collect(),
        ));
    }

    // DNS servers that do not answer: all or most of the names asking them.
    let asked = sorted(
        all_targets(report)
            .filter(|t| t.dns.obs.source != DnsSource::Override && !t.dns.obs.via_proxy)
            .map(|t| t.host.as_str()),
    )
    .len();
    let mut silent: BTreeMap<(Vec<SocketAddr>, Silence), Gathered<Option<u64>>> = BTreeMap::new();
    for (l, _, s) in &items {
        if let Signal::ResolverSilent {
            servers,
            how,
            after_ms,
        } = s
        {
            let e = silent.entry((sorted(servers.clone()), *how)).or_default();
            e.0.push(*l);
            e.1 = e.1.or(*after_ms);
        }
    }
    for ((servers, how), (locs, after, ())) in silent {
        let names = sorted(locs.iter().map(|l| &target_at(report, *l).host)).len();
        if names * 2 > asked || how != Silence::Timeout {
            groups.push(Group::new(
                RootCause::ResolverUnreachable {
                    servers,
                    how,
                    names,
                    asked,
                    timeout_ms: after,
                    given: report.settings.dns_servers_given,
                },
                locs,
            ));
        } else {
            leftovers.extend(locs.into_iter().map(|l| {
                (
                    l,
                    Signal::Other {
                        phase: Some(Phase::Dns),
                        port: None,
                    },
                )
            }));
        }
    }

    // NXDOMAIN for the profile's names, per server: the public ones apart from those the
    // profile's variables name (an instance's own hostname).
    // (server, variable) → (targets, zones)
    type ByServer = BTreeMap<(SocketAddr, Option<String>), (Vec<Loc>, BTreeSet<String>)>;
    let mut nx = ByServer::new();
    for (l, _, s) in &items {
        if let Signal::Nxdomain { server, zone } = s {
            let variable = variable_of(&report.profile.variables, &target_at(report, *l).host);
            let e = nx.entry((*server, variable)).or_default();
            e.0.push(*l);
            e.1.insert(zone.clone());
        }
    }
    // The same answer from several servers (e.g. one per family) is one cause.
    type NxKey = (Option<String>, Vec<String>);
    let mut nx_groups: BTreeMap<NxKey, (Vec<SocketAddr>, Vec<Loc>)> = BTreeMap::new();
    for ((server, variable), (locs, zones)) in nx {
        let e = nx_groups
            .entry((variable, zones.into_iter().collect()))
            .or_default();
        e.0.push(server);
        e.1.extend(locs);
    }
    for ((variable, zones), (servers, mut locs)) in nx_groups {
        locs.sort();
        let names = sorted(locs.iter().map(|l| &target_at(report, *l).host)).len();
        groups.push(Group::new(
            RootCause::DnsNxdomain {
                servers,
                zones,
                names,
                variable,
            },
            locs,
        ));
    }

    // The operating system's resolver.
    let mut os: BTreeMap<OsResolver, Vec<Loc>> = BTreeMap::new();
    for (l, _, s) in &items {
        if let Signal::OsResolver(how) = s {
            os.entry(*how).or_default().push(*l);
        }
    }
    for (how, locs) in os {
        let names = sorted(locs.iter().map(|l| &target_at(report, *l).host)).len();
        groups.push(Group::new(
            RootCause::OsResolverDisagrees { how, names },
            locs,
        ));
    }

    tcp_groups(report, &items, &mut groups);

    // One address family.
    let mut fam: BTreeMap<(Family, u16, TcpHow), Vec<Loc>> = BTreeMap::new();
    for (l, _, s) in &items {
        if let Signal::Family { family, port, how } = s {
            fam.entry((*family, *port, *how)).or_default().push(*l);
        }
    }
    for ((family, port, how), locs) in fam {
        groups.push(Group::new(
            RootCause::FamilyBlocked { family, port, how },
            locs,
        ));
    }

    // Proxies.
    let mut px: BTreeMap<(String, ProxyHow), Gathered<BTreeSet<u16>, bool>> = BTreeMap::new();
    for (l, _, s) in &items {
        if let Signal::Proxy {
            proxy,
            how,
            status,
            credentials,
        } = s
        {
            let e = px.entry((proxy.clone(), *how)).or_default();
            e.0.push(*l);
            e.1.extend(status);
            e.2 |= credentials;
        }
    }
    for ((proxy, how), (locs, statuses, credentials)) in px {
        let zones = sorted(locs.iter().map(|l| zone_of(&target_at(report, *l).host)));
        groups.push(Group::new(
            RootCause::ProxyFails {
                proxy,
                how,
                status: statuses.into_iter().next(),
                zones,
                credentials,
            },
            locs,
        ));
    }

    interception_groups(report, &items, &mut groups);
    mtu_group(&items, &mut groups);

    // No IPv4 route, and names without an IPv6 address: one cause, not a firewall's.
    let v4_only: Vec<(Loc, &TargetResult)> = items
        .iter()
        .filter(|(_, _, s)| *s == Signal::NoIpv4Route)
        .map(|(l, t, _)| (*l, *t))
        .collect();
    if !v4_only.is_empty() {
        groups.push(Group::new(
            RootCause::NoIpv4Route {
                names: sorted(v4_only.iter().map(|(_, t)| t.host.clone())),
                dns64: v4_only.iter().find_map(|(_, t)| t.dns.obs.dns64),
            },
            v4_only.iter().map(|(l, _)| *l).collect(),
        ));
    }

    // An empty trust store.
    let no_roots: Vec<Loc> = items
        .iter()
        .filter(|(_, _, s)| *s == Signal::NoRoots)
        .map(|(l, _, _)| *l)
        .collect();
    if !no_roots.is_empty() {
        let names = sorted(no_roots.iter().map(|l| &target_at(report, *l).host)).len();
        groups.push(Group::new(RootCause::NoTrustRoots { names }, no_roots));
    }

    // Certificates, by problem and issuer.
    let mut certs: BTreeMap<(CertProblem, String), (Vec<Loc>, BTreeSet<String>)> = BTreeMap::new();
    for (l, _, s) in &items {
        if let Signal::Cert {
            problem,
            issuer,
            detail,
        } = s
        {
            let e = certs.entry((*problem, issuer.clone())).or_default();
            e.0.push(*l);
            e.1.extend(detail.iter().cloned());
        }
    }
    for ((problem, issuer), (locs, detail)) in certs {
        groups.push(Group::new(
            RootCause::CertificateInvalid {
                problem,
                issuer,
                detail: detail.into_iter().collect(),
            },
            locs,
        ));
    }

    // Middleboxes, by Server header.
    let mut mb: BTreeMap<Option<String>, Gathered<BTreeSet<u16>, Option<String>>> = BTreeMap::new();
    for (l, _, s) in &items {
        if let Signal::Middlebox {
            server,
            status,
            header,
        } = s
        {
            let e = mb.entry(server.clone()).or_default();
            e.0.push(*l);
            e.1.extend(status);
            if e.2.is_none() {
                e.2 = header.clone();
            }
        }
    }
    for (server, (locs, statuses, header)) in mb {
        groups.push(Group::new(
            RootCause::MiddleboxAnswers {
                server,
                statuses: statuses.into_iter().collect(),
                header,
            },
            locs,
        ));
    }

    for (l, _, s) in &items {
        if let Signal::Other { .. } = s {
            leftovers.push((*l, s.clone()));
        }
    }
    // Several names failing the same way at the one address they share: one cause.
    // (address, failure kind) → the targets failing so, with their phases
    type Shared = Vec<((SocketAddr, FailKey), Vec<(Loc, Option<Phase>)>)>;
    let mut shared = Shared::new();
    for (l, s) in &leftovers {
        let Signal::Other { phase, .. } = s else {
            continue;
        };
        let Some(key) = shared_key(target_at(report, *l)) else {
            continue;
        };
        match shared.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push((*l, *phase)),
            None => shared.push((key, vec![(*l, *phase)])),
        }
    }
    let mut taken: BTreeSet<Loc> = BTreeSet::new();
    for ((address, _), members) in shared {
        let names = sorted(members.iter().map(|(l, _)| &target_at(report, *l).host)).len();
        if names < 2 {
            continue;
        }
        let mut locs: Vec<Loc> = members.iter().map(|(l, _)| *l).collect();
        locs.sort();
        taken.extend(locs.iter().copied());
        groups.push(Group::new(
            RootCause::SharedAddressFails {
                address,
                phase: members[0].1,
                names,
            },
            locs,
        ));
    }
    leftovers.retain(|(l, _)| !taken.contains(l));
    // Unexplained: one cause per name (its occurrences in several capabilities together).
    let mut by_host: BTreeMap<&str, Gathered<Option<Phase>, Option<u16>>> = BTreeMap::new();
    for (l, s) in leftovers {
        let Signal::Other { phase, port } = s else {
            continue;
        };
        let e = by_host.entry(&target_at(report, l).host).or_default();
        e.0.push(l);
        if e.1.is_none() {
            e.1 = phase;
            e.2 = port;
        }
    }
    for (host, (mut locs, phase, port)) in by_host {
        locs.sort();
        groups.push(Group::new(
            RootCause::Unexplained {
                host: Some(host.to_string()),
                phase,
                port,
                direction: None,
            },
            locs,
        ));
    }

    throughput_groups(report, &mut groups);
    container_groups(report, &mut groups);
    groups
}

/// The container-jobs check's problems, each a cause of its own; the names whose addresses a
/// Docker subnet covers are named with it.
fn container_groups(report: &Report, groups: &mut Vec<Group>) {
    use super::container::{ContainerProblem, Needed};
    let Some(c) = &report.container_jobs else {
        return;
    };
    let facts = |needed: &[Needed]| {
        (
            needed.iter().map(|n| n.address).collect::<Vec<_>>(),
            needed.iter().any(|n| n.proxy),
            needed
                .iter()
                .flat_map(|n| n.hosts.iter().cloned())
                .collect::<BTreeSet<String>>(),
        )
    };
    for p in &c.problems {
        let (cause, hosts) = match p {
            ContainerProblem::SubnetCovers {
                network,
                subnet,
                needed,
            } => {
                let (addresses, proxy, hosts) = facts(needed);
                (
                    RootCause::ContainerSubnetOverlap {
                        network: network.clone(),
                        subnet: *subnet,
                        addresses,
                        proxy,
                    },
                    hosts,
                )
            }
            ContainerProblem::MtuAboveUplink {
                network,
                mtu,
                mtu_from,
                uplink,
                uplink_mtu,
            } => (
                RootCause::ContainerMtu {
                    network: network.clone(),
                    mtu: *mtu,
                    mtu_from: mtu_from.id().to_string(),
                    uplink: uplink.clone(),
                    uplink_mtu: *uplink_mtu,
                },
                BTreeSet::new(),
            ),
            ContainerProblem::PoolCovers {
                pool,
                default_pool,
                needed,
            } => {
                let (addresses, proxy, hosts) = facts(needed);
                (
                    RootCause::ContainerPoolOverlap {
                        pool: *pool,
                        default_pool: *default_pool,
                        addresses,
                        proxy,
                    },
                    hosts,
                )
            }
            ContainerProblem::DaemonConfig { problem } => (
                RootCause::ContainerDaemonConfig {
                    problem: problem.clone(),
                },
                BTreeSet::new(),
            ),
        };
        let mut g = Group::new(cause, vec![]);
        g.container = true;
        g.own_verdict = Some(p.verdict());
        g.extra_hosts = hosts.into_iter().collect();
        groups.push(g);
    }
}

/// The kind of a step's failure (its variant, without the variant's facts).
#[derive(Debug, PartialEq, Eq)]
enum FailKey {
    Tcp(std::mem::Discriminant<TcpFailure>),
    Proxy(std::mem::Discriminant<ProxyFailure>),
    Tls(std::mem::Discriminant<TlsFailure>),
    Http(std::mem::Discriminant<HttpFailure>),
}

/// The address a target's failing check went to, and how it failed: targets with the same key
/// fail the same way at the same place.
fn shared_key(t: &TargetResult) -> Option<(SocketAddr, FailKey)> {
    let c = t.cause_check()?;
    let address = c.obs.address?;
    let key = match &c.obs.step {
        Step::Connect {
            failure: Some(f), ..
        } => FailKey::Tcp(std::mem::discriminant(f)),
        Step::Tunnel {
            failure: Some(f), ..
        }
        | Step::ProxyConnect {
            failure: Some(f), ..
        } => FailKey::Proxy(std::mem::discriminant(f)),
        Step::Tls {
            failure: Some(f), ..
        } => FailKey::Tls(std::mem::discriminant(f)),
        Step::Http {
            failure: Some(f), ..
        } => FailKey::Http(std::mem::discriminant(f)),
        _ => return None,
    };
    Some((address, key))
}

/// Every stall a clamped MSS cured, under one cause: the path, not the servers.
fn mtu_group(items: &[(Loc, &TargetResult, Signal)], groups: &mut Vec<Group>) {
    let mut locs = Vec::new();
    let mut endpoints: Vec<MtuEndpoint> = Vec::new();
    let mut path = None;
    for (l, t, s) in items {
        let Signal::Mtu {
            addr,
            phase,
            works_at_mss,
            stalled_at_mss,
        } = s
        else {
            continue;
        };
        locs.push(*l);
        let e = MtuEndpoint {
            host: t.host.clone(),
            addr: *addr,
            phase: *phase,
            works_at_mss: *works_at_mss,
            stalled_at_mss: *stalled_at_mss,
            upload_bytes: None,
        };
        if !endpoints.contains(&e) {
            endpoints.push(e);
        }
        // The stalled connection's own path, as the kernel saw it.
        path = path.or_else(|| {
            t.checks.iter().find_map(|c| match &c.obs.step {
                Step::Connect {
                    failure: None,
                    path: Some(p),
                    ..
                } if c.obs.address == Some(*addr) => Some(p.clone()),
                _ => None,
            })
        });
    }
    let Some(works_at_mss) = endpoints.iter().map(|e| e.works_at_mss).min() else {
        return;
    };
    let path = path.unwrap_or_default();
    groups.push(Group::new(
        RootCause::PathMtuBlackHole {
            endpoints,
            works_at_mss,
            interface: path.interface,
            interface_mtu: path.interface_mtu,
            path_mtu: path.path_mtu,
        },
        locs,
    ));
}

/// TCP failures: a proxy that would work, no proxy and nothing direct works, a port, a prefix,
/// one host.
fn tcp_groups(report: &Report, items: &[(Loc, &TargetResult, Signal)], groups: &mut Vec<Group>) {
    let tcp: Vec<(Loc, &TargetResult, u16, TcpHow, SocketAddr)> = items
        .iter()
        .filter_map(|(l, t, s)| match s {
            Signal::Tcp { port, how, addr } => Some((*l, *t, *port, *how, *addr)),
            _ => None,
        })
        .collect();
    if tcp.is_empty() {
        return;
    }
    let proxy = &report.network.proxy;
    let configured = proxy.https.as_ref().or(proxy.http.as_ref());
    let proxy_works =
        all_targets(report).any(|t| t.route == Route::Proxy && t.verdict < Verdict::Fail);
    let direct_connects: Vec<(&str, u16)> = all_targets(report)
        .flat_map(|t| {
            t.checks.iter().filter_map(move |c| match &c.obs.step {
                Step::Connect { failure: None, .. } => Some((t.host.as_str(), c.obs.port)),
                _ => None,
            })
        })
        .collect();
    let hosts = sorted(tcp.iter().map(|x| x.1.host.as_str()));
    let ports = sorted(tcp.iter().map(|x| x.2));
    let hows = sorted(tcp.iter().map(|x| x.3));
    let locs = || tcp.iter().map(|x| x.0).collect::<Vec<_>>();
    if let (Some(p), true) = (configured, proxy_works) {
        groups.push(Group::new(
            RootCause::DirectBlockedProxyWorks {
                proxy: p.url.to_string(),
                no_proxy: proxy.no_proxy.clone(),
                ports,
                how: hows,
            },
            locs(),
        ));
        return;
    }
    if configured.is_none() && direct_connects.is_empty() && hosts.len() >= 2 {
        let addr_hosts: Vec<(IpAddr, String)> =
            tcp.iter().map(|x| (x.4.ip(), x.1.host.clone())).collect();
        groups.push(Group::new(
            RootCause::ProxyNeeded {
                ports,
                how: hows,
                prefixes: prefix_groups(&addr_hosts),
            },
            locs(),
        ));
        return;
    }
    let mut by: BTreeMap<(u16, TcpHow), Vec<TcpItem>> = BTreeMap::new();
    for (l, t, port, how, addr) in &tcp {
        by.entry((*port, *how)).or_default().push((*l, *t, *addr));
    }
    for ((port, how), list) in by {
        let hosts = sorted(list.iter().map(|x| x.1.host.as_str()));
        let working: BTreeSet<u16> = direct_connects
            .iter()
            .filter(|(h, p)| *p != port && hosts.contains(h))
            .map(|(_, p)| *p)
            .collect();
        let all_work_elsewhere = hosts
            .iter()
            .all(|h| direct_connects.iter().any(|(dh, p)| dh == h && *p != port));
        let locs: Vec<Loc> = list.iter().map(|x| x.0).collect();
        let cause = if all_work_elsewhere {
            RootCause::PortBlocked {
                port,
                how,
                working_ports: working.into_iter().collect(),
            }
        } else if hosts.len() == 1 {
            RootCause::HostBlocked {
                host: hosts[0].to_string(),
                port,
                how,
                addresses: sorted(list.iter().map(|x| x.2)),
            }
        } else {
            let addr_hosts: Vec<(IpAddr, String)> =
                list.iter().map(|x| (x.2.ip(), x.1.host.clone())).collect();
            RootCause::TcpBlocked {
                port,
                how,
                prefixes: prefix_groups(&addr_hosts),
            }
        };
        groups.push(Group::new(cause, locs));
    }
}

/// One issuer re-signing TLS: failing names, and the interception and trust-store findings.
fn interception_groups(
    report: &Report,
    items: &[(Loc, &TargetResult, Signal)],
    groups: &mut Vec<Group>,
) {
    let mut by: BTreeMap<String, Vec<Loc>> = BTreeMap::new();
    for (l, _, s) in items {
        if let Signal::UnknownIssuer(issuer) = s {
            by.entry(issuer.clone()).or_default().push(*l);
        }
    }
    type Found = (BTreeSet<StoreName>, Option<String>, BTreeSet<String>);
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    for f in &report.network.findings {
        match &f.kind {
            FindingKind::Interception {
                issuer,
                runner_trusts,
                ..
            } => {
                let e = found.entry(issuer.clone()).or_default();
                if !runner_trusts {
                    e.0.insert(StoreName::Runner);
                }
                e.2.extend(f.hosts.iter().cloned());
            }
            FindingKind::StoreDisagrees {
                store,
                issuer,
                anchor_file,
                ..
            } => {
                let e = found.entry(issuer.clone()).or_default();
                e.0.insert(*store);
                if e.1.is_none() {
                    e.1 = anchor_file.clone();
                }
                e.2.extend(f.hosts.iter().cloned());
            }
            _ => {}
        }
    }
    let issuers: BTreeSet<String> = by.keys().chain(found.keys()).cloned().collect();
    for issuer in issuers {
        let locs = by.remove(&issuer).unwrap_or_default();
        let (mut missing, anchor, hosts) = found.remove(&issuer).unwrap_or_default();
        if !locs.is_empty() {
            // Failing for the runner: none of the stores holds it (the runner's is the widest).
            missing.extend([StoreName::Runner, StoreName::Git, StoreName::Node]);
        }
        let failing = sorted(locs.iter().map(|l| &target_at(report, *l).host)).len();
        let anchor = anchor.or_else(|| {
            locs.iter().find_map(|l| {
                target_at(report, *l)
                    .checks
                    .iter()
                    .find_map(|c| c.obs.tls().and_then(|i| i.stores.as_ref()))
                    .and_then(|s| s.anchor_file.clone())
            })
        });
        let no_failures = locs.is_empty();
        let mut g = Group::new(
            RootCause::TlsInterception {
                issuer,
                missing_in: missing.into_iter().collect(),
                anchor_file: anchor,
                failing,
            },
            locs,
        );
        if no_failures {
            g.own_verdict = Some(Verdict::Warn);
        }
        g.extra_hosts = hosts.into_iter().collect();
        groups.push(g);
    }
}

/// The host of a URL as given ("https://github.com/x" → "github.com").
fn url_host(url: &str) -> Option<String> {
    crate::model::parse_url(url)
        .ok()
        .map(|u| u.host.to_string())
}

/// The throughput measurement: below the floor is a cause of its own; a failure on the way there
/// belongs to the cause of its host (or of DNS), else it stays unexplained.
fn throughput_groups(report: &Report, groups: &mut Vec<Group>) {
    let Some(tp) = &report.throughput else {
        return;
    };
    let below: Vec<&super::DirectionResult> = tp
        .directions
        .iter()
        .filter(|d| d.verdict == Verdict::Fail && d.kbps.is_some())
        .collect();
    if !below.is_empty() {
        let kbps = below
            .iter()
            .filter_map(|d| d.kbps)
            .fold(f64::INFINITY, f64::min);
        let mut g = Group::new(
            RootCause::ThroughputBelowFloor {
                directions: below.iter().map(|d| d.direction.id().to_string()).collect(),
                kbps: if kbps.is_finite() { kbps as u64 } else { 0 },
                min_kbps: tp.min_kbps,
            },
            vec![],
        );
        g.throughput = true;
        groups.push(g);
    }
    for d in tp
        .directions
        .iter()
        .filter(|d| d.verdict >= Verdict::Warn && d.kbps.is_none())
    {
        let Some(f) = d.failure() else { continue };
        // An upload that a clamped MSS cured joins the path-MTU black hole of the probes, or is
        // one of its own.
        if let ThroughputFailure::PathMtuBlackHole {
            addr,
            body,
            works_at_mss,
            stalled_at_mss,
        } = f
        {
            let e = MtuEndpoint {
                host: d
                    .sample
                    .as_ref()
                    .and_then(|s| url_host(&s.url))
                    .unwrap_or_default(),
                addr: *addr,
                phase: Phase::Http,
                works_at_mss: *works_at_mss,
                stalled_at_mss: *stalled_at_mss,
                upload_bytes: Some(*body),
            };
            match groups
                .iter_mut()
                .find(|g| matches!(g.cause, RootCause::PathMtuBlackHole { .. }))
            {
                Some(g) => {
                    if let RootCause::PathMtuBlackHole {
                        endpoints,
                        works_at_mss: w,
                        ..
                    } = &mut g.cause
                    {
                        *w = (*w).min(e.works_at_mss);
                        endpoints.push(e.clone());
                    }
                    g.throughput = true;
                    g.extra_hosts.push(e.host);
                }
                None => {
                    let mut g = Group::new(
                        RootCause::PathMtuBlackHole {
                            works_at_mss: e.works_at_mss,
                            endpoints: vec![e.clone()],
                            interface: None,
                            interface_mtu: None,
                            path_mtu: None,
                        },
                        vec![],
                    );
                    g.throughput = true;
                    g.extra_hosts.push(e.host);
                    groups.push(g);
                }
            }
            continue;
        }
        let host = d.sample.as_ref().and_then(|s| url_host(&s.url));
        let by_host = host.as_ref().and_then(|h| {
            groups.iter().position(|g| {
                !g.cause.is_unexplained()
                    && g.items.iter().any(|l| target_at(report, *l).host == *h)
            })
        });
        let dns_failure = matches!(
            f,
            ThroughputFailure::Address(_) | ThroughputFailure::NoAddress { .. }
        );
        let by_dns = dns_failure
            .then(|| {
                groups.iter().position(|g| {
                    matches!(
                        g.cause,
                        RootCause::ResolverUnreachable { .. } | RootCause::DnsNxdomain { .. }
                    )
                })
            })
            .flatten();
        match by_host.or(by_dns) {
            Some(i) => groups[i].throughput = true,
            None => {
                let mut g = Group::new(
                    RootCause::Unexplained {
                        host,
                        phase: None,
                        port: None,
                        direction: Some(d.direction.id().to_string()),
                    },
                    vec![],
                );
                g.throughput = true;
                groups.push(g);
            }
        }
    }
}

/// Verdicts, gating, blocks, hosts and order; ids from 1; `diagnosis_id` on every target.
fn finish(report: &mut Report, groups: Vec<Group>) -> Vec<Diagnosis> {
    let fail_on = report.settings.fail_on;
    let tp = report.throughput.as_ref();
    let mut out: Vec<Diagnosis> = Vec::new();
    let mut placed: Vec<Vec<Loc>> = Vec::new();
    for g in groups {
        if g.items.is_empty() && !g.throughput && g.own_verdict.is_none() {
            continue;
        }
        let mut verdict = g.own_verdict.unwrap_or(Verdict::Warn);
        let mut gating = g.own_verdict.is_some_and(|v| fail_on.gates(v));
        let mut blocks: BTreeSet<usize> = BTreeSet::new();
        let mut hosts: BTreeSet<String> = g.extra_hosts.iter().cloned().collect();
        for l in &g.items {
            let cap = &report.capabilities[l.cap];
            let t = target_at(report, *l);
            verdict = verdict.max(t.verdict);
            gating |= fail_on.gates_capability(cap.gating, t.verdict);
            blocks.insert(l.cap);
            hosts.insert(t.host.clone());
        }
        let mut blocks: Vec<String> = blocks
            .into_iter()
            .map(|i| report.capabilities[i].id.clone())
            .collect();
        if g.container {
            let required = report.container_jobs.as_ref().is_some_and(|c| c.gating);
            gating = fail_on.gates_capability(required, verdict);
            blocks.push(crate::plan::CONTAINER_JOBS.into());
        }
        if g.throughput {
            if let Some(tp) = tp {
                verdict = verdict.max(tp.verdict);
                gating |= fail_on.gates_capability(tp.gating, tp.verdict);
            }
            blocks.push("throughput".into());
        }
        let mut items = g.items;
        items.sort();
        out.push(Diagnosis {
            id: 0,
            cause: g.cause,
            verdict,
            gating,
            blocks,
            hosts: hosts.into_iter().collect(),
            targets: items.len(),
        });
        placed.push(items);
    }
    // Order: what fails the run first, then by how much it explains; unexplained last. Ties by
    // kind and first name, so the order never depends on the order of the input.
    let mut order: Vec<usize> = (0..out.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&out[a], &out[b]);
        x.cause
            .is_unexplained()
            .cmp(&y.cause.is_unexplained())
            .then(y.gating.cmp(&x.gating))
            .then(y.verdict.cmp(&x.verdict))
            .then(y.targets.cmp(&x.targets))
            .then(x.kind().cmp(y.kind()))
            .then(x.hosts.cmp(&y.hosts))
            .then(x.blocks.cmp(&y.blocks))
    });
    let mut result = Vec::with_capacity(out.len());
    for (n, i) in order.into_iter().enumerate() {
        let mut d = out[i].clone();
        d.id = n + 1;
        for l in &placed[i] {
            report.capabilities[l.cap].entries[l.entry].targets[l.target].diagnosis_id = Some(d.id);
        }
        result.push(d);
    }
    result
}

#[cfg(test)]
#[path = "diagnose_tests.rs"]
mod tests;
