//! Every sentence the report says about a probe, written once: the plain-language cause of
//! each typed failure, each check's detail, DNS notes and network findings. Table, markdown,
//! JUnit, annotations and the JSON `cause`/`detail` texts all come from here.

use std::net::IpAddr;

use crate::env::installed::{InstalledFrom, InstalledProblem};
use crate::env::runner::RunnerFileProblem;
use crate::model::runner::PlatformFrom;
use crate::model::{Family, GaiError, IoKind, OsError, ResolverError};
use crate::probe::connect::{ProxyFailure, ProxyStatus};
use crate::probe::dns::TcpRetryFailure;
use crate::probe::http::ExchangeFailure;
use crate::probe::long_poll::HOLD;
use crate::probe::lookup::{LookupFailure, LookupWhy};
use crate::probe::outcome::{
    DnsFailure, HttpFailure, Incomplete, Redirected, Step, SystemFailure, TcpFailure, TlsFailure,
    TlsInfo,
};
use crate::probe::release::DateFailure;
use crate::probe::tls::{AlertHint, CertReason, Incompatibility, TlsOther};
use crate::report::findings::{
    Cut, Finding, FindingKind, Keepalive, LongPollFailure, LongPollOutcome, LongPollReport,
    StoreName,
};
use crate::report::redirect::{
    LatestFailure, RedirectCause, RedirectResult, RedirectStop, ReleaseResult, ReleaseSource,
};
use crate::report::runner_version::RunnerVersionReport;
use crate::report::{
    CapabilityReport, Cause, Check, DnsNote, DnsProblem, HttpJudgement, TargetResult,
};
pub use crate::words::{fmt_duration, plural};

/// "a.example", "a.example, b.example", "a, b and 3 more".
pub fn names(hosts: &[String]) -> String {
    match hosts.len() {
        0 => "no name".into(),
        1 => hosts[0].clone(),
        2 | 3 => hosts.join(", "),
        n => format!("{}, {} and {} more", hosts[0], hosts[1], n - 2),
    }
}

/// "42 s", "5 min", "3 h", "2 days".
pub fn human_secs(secs: u64) -> String {
    match secs {
        0..=119 => format!("{secs} s"),
        120..=7199 => format!("{} min", secs / 60),
        7200..=172_799 => format!("{} h", secs / 3600),
        _ => format!("{} days", secs / 86_400),
    }
}

fn join_ips(s: &[IpAddr]) -> String {
    s.iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------------------------
// DNS
// ---------------------------------------------------------------------------------------------

/// Why our DNS questions for `host` failed.
pub fn dns_failure(f: &DnsFailure, host: &str) -> String {
    match f {
        DnsFailure::NxDomain { name, server } if name == host => {
            format!("DNS: {host} does not exist (NXDOMAIN from {server})")
        }
        DnsFailure::NxDomain { name, server } => {
            format!("DNS: the CNAME chain of {host} leads to {name}, which does not exist (NXDOMAIN from {server})")
        }
        DnsFailure::NoAddresses => format!("DNS: {host} exists but has no A or AAAA records"),
        DnsFailure::ServFail { server } => {
            format!("DNS: server {server} failed to resolve {host} (SERVFAIL)")
        }
        DnsFailure::Refused { server } => {
            format!("DNS: server {server} refused to resolve {host} (REFUSED: not allowed to recurse for this host?)")
        }
        DnsFailure::OtherCode { server, code } => {
            format!("DNS: server {server} answered {code} for {host}")
        }
        DnsFailure::Timeout { servers, after } => format!(
            "DNS: no answer for {host} from {} within {} (DNS blocked or server down)",
            servers
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            fmt_duration(*after)
        ),
        DnsFailure::CnameLoop { at } => {
            format!("DNS: the CNAME chain of {host} loops back to {at}")
        }
        DnsFailure::ChainTooLong { limit } => {
            format!("DNS: the CNAME chain of {host} is longer than {limit} names")
        }
        DnsFailure::Network {
            server: Some(server),
            error,
        } => format!(
            "DNS: cannot reach the name server {server}: {}",
            os_error(error)
        ),
        DnsFailure::Network {
            server: None,
            error,
        } => format!("DNS: cannot reach a name server: {}", os_error(error)),
        DnsFailure::BadName { name } => format!(
            "DNS: `{name}` (on the way to {host}) is not a name a DNS question can carry"
        ),
        DnsFailure::NothingListens { server } => {
            format!("DNS: nothing listens on {server} (port unreachable)")
        }
        DnsFailure::NoServers => {
            "DNS: no name server configured (empty /etc/resolv.conf?); use --dns-server".to_string()
        }
        DnsFailure::Malformed { server } => {
            format!("DNS: server {server} sent an answer that cannot be parsed (damaged, or not a DNS answer)")
        }
        DnsFailure::TruncatedTcpFailed { server, retry } => format!(
            "DNS: server {server} answered {host} truncated over UDP, and the retry over TCP failed: {} (TCP port {} blocked by a firewall?)",
            match retry {
                TcpRetryFailure::Timeout { after } =>
                    format!("no answer within {}", fmt_duration(*after)),
                TcpRetryFailure::Io { error } => os_error(error),
                TcpRetryFailure::Malformed => "the answer is not a DNS message".to_string(),
            },
            server.port()
        ),
    }
}

fn system_failure(f: &SystemFailure) -> String {
    match f {
        SystemFailure::Timeout { after } => format!("no answer within {}", fmt_duration(*after)),
        SystemFailure::Error { gai } => gai_error(gai),
    }
}

/// How an HTTP exchange broke off before its answer, in words.
pub fn exchange_failure(what: ExchangeFailure, error: Option<&OsError>) -> String {
    match (what, error) {
        (ExchangeFailure::Closed, _) => {
            "the server closed the connection before a complete answer".to_string()
        }
        (ExchangeFailure::BodyNotSent, _) => "the request's body could not be sent".to_string(),
        (ExchangeFailure::Canceled, _) => "the exchange was abandoned".to_string(),
        (_, Some(e)) => os_error(e),
        _ => "the HTTP/1.1 exchange broke off".to_string(),
    }
}

/// A socket error, in words: ours for the kinds a probe meets, the OS's for the rest.
pub fn os_error(e: &OsError) -> String {
    let words = match e.kind {
        IoKind::ConnectionReset => "connection reset by the peer (or by a firewall on the way)",
        IoKind::ConnectionAborted => "connection aborted",
        IoKind::ConnectionRefused => "connection refused",
        IoKind::BrokenPipe => "the connection was closed while we were still sending",
        IoKind::UnexpectedEof => "the connection was closed before the answer was complete",
        IoKind::TimedOut => "timed out (the kernel gave up retransmitting)",
        IoKind::PermissionDenied => {
            "not permitted (a local firewall rule or security policy refused the socket)"
        }
        IoKind::AddrNotAvailable => "no local address to send from (the interface is down?)",
        IoKind::AddrInUse => "no free local port",
        IoKind::NetworkUnreachable => "network unreachable (no route)",
        IoKind::HostUnreachable => "host unreachable",
        IoKind::NotConnected => "the socket is not connected",
        _ => {
            return match e.errno {
                Some(n) => format!("socket error (errno {n})"),
                None => "socket error".to_string(),
            }
        }
    };
    words.to_string()
}

/// Why the operating system's resolver (getaddrinfo) gave no address, in words.
pub fn gai_error(g: &GaiError) -> String {
    let code = g.code.map(|c| format!(", code {c}")).unwrap_or_default();
    match g.error {
        ResolverError::NoName => {
            "the name does not exist or has no address (getaddrinfo: EAI_NONAME)".to_string()
        }
        ResolverError::NoData => {
            "the name exists but has no address (getaddrinfo: EAI_NODATA)".to_string()
        }
        ResolverError::Again => {
            "temporary failure: no name server gave an answer (getaddrinfo: EAI_AGAIN)".to_string()
        }
        ResolverError::Fail => {
            "the name servers failed permanently (getaddrinfo: EAI_FAIL)".to_string()
        }
        ResolverError::Memory => "out of memory (getaddrinfo: EAI_MEMORY)".to_string(),
        ResolverError::System => format!(
            "a system error (getaddrinfo: EAI_SYSTEM{})",
            g.errno.map(|n| format!(", errno {n}")).unwrap_or_default()
        ),
        _ => format!("the system resolver failed (getaddrinfo{code})"),
    }
}

/// Why DNS fails for `host`.
pub fn dns_problem(p: &DnsProblem, host: &str) -> String {
    match p {
        DnsProblem::Failed { failure } => dns_failure(failure, host),
        DnsProblem::SystemFails { dns, failure } => format!(
            "DNS answers {}, but the system resolver, which the runner uses, fails: {}",
            join_ips(dns),
            system_failure(failure)
        ),
    }
}

pub fn dns_note(n: &DnsNote, host: &str) -> String {
    match n {
        DnsNote::Override => "addresses given by --resolve; DNS not asked".into(),
        DnsNote::Partial { failure } => dns_failure(failure, host),
        DnsNote::SystemRescued { system, failure } => format!(
            "the system resolver (e.g. /etc/hosts) returns {} although {}",
            join_ips(system),
            dns_failure(failure, host)
        ),
        DnsNote::SystemDiffers { system, dns } => format!(
            "the system resolver returns {} but DNS returns {}: the runner uses the system resolver's answer (an /etc/hosts entry?)",
            join_ips(system),
            join_ips(dns)
        ),
        DnsNote::Nat64 {
            addresses,
            prefix,
            len,
        } => format!(
            "{} via NAT64 (prefix {prefix}/{len}): {host} has no IPv6 address of its own; the DNS64 resolver synthesised it from the IPv4 address, and a NAT64 gateway carries the connection",
            join_ips(addresses)
        ),
        DnsNote::NotNeeded { problem } => format!(
            "does not resolve locally ({}); not needed: the proxy resolves the names it connects to",
            dns_problem(problem, host)
        ),
    }
}

/// Why a probe did not finish.
pub fn incomplete(i: &Incomplete) -> String {
    match i {
        Incomplete::MaxTime { limit } => format!(
            "not finished within the run's time limit of {} (--max-time)",
            fmt_duration(*limit)
        ),
        Incomplete::Internal => "internal error while probing this name".into(),
    }
}

/// The DNS `error` text of a target (DNS failed, or the probe did not finish).
pub fn dns_error(t: &TargetResult) -> Option<String> {
    match (&t.incomplete, &t.dns.problem) {
        (Some(Incomplete::Internal), _) => Some("not probed".into()),
        (Some(i), _) => Some(incomplete(i)),
        (None, Some(p)) => Some(dns_problem(p, &t.host)),
        (None, None) => None,
    }
}

pub fn dns_notes(t: &TargetResult) -> Vec<String> {
    t.dns.notes.iter().map(|n| dns_note(n, &t.host)).collect()
}

/// Per address family, what the name has and how this host would reach it: "IPv4: 2
/// addresses, route via eth0 (gateway 192.0.2.1); IPv6: no address (no IPv6 route)". `None`
/// when the routing table was not read.
pub fn families_line(t: &TargetResult) -> Option<String> {
    let parts: Vec<String> = t
        .dns
        .obs
        .families
        .iter()
        .map(|f| {
            let what = match (f.addresses, &f.interface) {
                (0, _) if f.has_route => "no address".to_string(),
                (0, _) => format!("no address (no {} route)", f.family.label()),
                (n, Some(i)) => format!(
                    "{}, route via {i}{}",
                    addresses(n),
                    f.gateway
                        .map(|g| format!(" (gateway {g})"))
                        .unwrap_or_default()
                ),
                (n, None) => format!("{}, no route", addresses(n)),
            };
            format!("{}: {what}", f.family.label())
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn addresses(n: usize) -> String {
    match n {
        1 => "1 address".into(),
        n => format!("{n} addresses"),
    }
}

/// Where a name's addresses failed to come from, for a connection outside the probes.
pub fn lookup_failure(f: &LookupFailure) -> String {
    let host = &f.host;
    match &f.why {
        LookupWhy::Dns { failure } => dns_failure(failure, host),
        LookupWhy::NoAddress => format!("DNS: no address for {host}"),
        LookupWhy::System { gai } => format!("DNS: cannot resolve {host}: {}", gai_error(gai)),
        LookupWhy::Timeout { after } => {
            format!("DNS: no answer for {host} within {}", fmt_duration(*after))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// TCP and proxies
// ---------------------------------------------------------------------------------------------

fn tried(n: usize) -> String {
    if n > 1 {
        format!(" ({n} addresses tried)")
    } else {
        String::new()
    }
}

/// A failed TCP connection on `family`.
pub fn tcp_failure(f: &TcpFailure, family: Option<Family>) -> String {
    match f {
        TcpFailure::Refused { addr, tried: n } => format!(
            "TCP {addr}: connection refused{} (nothing listening on port {}, or a firewall rejecting it)",
            tried(*n),
            addr.port()
        ),
        TcpFailure::Dropped {
            addr,
            after,
            tried: n,
        } => format!(
            "TCP {addr}: no answer within {}{} (packets dropped: a firewall?)",
            fmt_duration(*after),
            tried(*n)
        ),
        TcpFailure::NetUnreachable { addr, tried: n } => format!(
            "TCP {addr}: network unreachable{} (this host has no {} route)",
            tried(*n),
            family.unwrap_or(Family::of(&addr.ip())).label()
        ),
        TcpFailure::HostUnreachable { addr, tried: n } => {
            format!("TCP {addr}: host unreachable{}", tried(*n))
        }
        TcpFailure::Other {
            addr,
            error,
            tried: n,
        } => format!("TCP {addr}: {}{}", os_error(error), tried(*n)),
        TcpFailure::NoAddress { redirect_host } => format!(
            "no address to connect to{}",
            redirect_host
                .as_ref()
                .map(|h| format!(" (--connect-to {h} names a host that does not resolve)"))
                .unwrap_or_default()
        ),
    }
}

/// "--connect-to HOST:PORT" of the rule that redirected a connection.
fn connect_to_label(r: &Redirected, host: &str) -> String {
    format!(
        "--connect-to {}:{}",
        r.host.as_deref().unwrap_or(host),
        r.port
    )
}

fn redirected_note(r: &Option<Redirected>, host: &str) -> String {
    r.as_ref()
        .map(|r| format!(" ({})", connect_to_label(r, host)))
        .unwrap_or_default()
}

fn status_text(s: &ProxyStatus) -> String {
    if s.reason.is_empty() {
        s.code.to_string()
    } else {
        format!("{} {}", s.code, s.reason)
    }
}

/// Why a proxy gave no connection.
pub fn proxy_failure(f: &ProxyFailure) -> String {
    match f {
        ProxyFailure::NameDoesNotResolve { proxy, lookup } => format!(
            "proxy {proxy}: the proxy's name does not resolve ({})",
            lookup_failure(lookup)
        ),
        ProxyFailure::Unreachable { proxy, tcp } => {
            let what = match tcp {
                TcpFailure::Refused { .. } => {
                    "refuses connections (is it running? is the port right?)".to_string()
                }
                other => tcp_failure(other, None),
            };
            format!("proxy {proxy} is unreachable: {what}")
        }
        ProxyFailure::NoAnswer {
            proxy,
            target,
            after,
        } => format!(
            "proxy {proxy} accepted the connection but did not answer CONNECT {target} within {}",
            fmt_duration(*after)
        ),
        ProxyFailure::Closed {
            proxy,
            target,
            mid_answer: false,
        } => format!("proxy {proxy} closed the connection without answering CONNECT {target}"),
        ProxyFailure::Closed { proxy, target, .. } => format!(
            "proxy {proxy} closed the connection in the middle of its answer to CONNECT {target}"
        ),
        ProxyFailure::HeadTooLarge {
            proxy,
            target,
            limit,
        } => format!(
            "proxy {proxy} answered CONNECT {target} with more than {limit} bytes of headers"
        ),
        ProxyFailure::Io {
            proxy,
            target,
            error,
        } => format!(
            "proxy {proxy}: connection failed during CONNECT {target}: {}",
            os_error(error)
        ),
        ProxyFailure::NotHttp {
            proxy,
            target,
            first_line,
        } => format!(
            "proxy {proxy} did not answer CONNECT {target} with HTTP (first line `{first_line}`): is this an HTTP proxy?"
        ),
        ProxyFailure::AuthRejected {
            proxy,
            target,
            status,
            challenge,
        } => format!(
            "proxy {proxy} rejected the credentials in the proxy URL for CONNECT {target}: {}{}{}",
            status_text(status),
            challenge_text(challenge),
            match challenge {
                Some(c) if crate::model::http::proxy_auth_unsupported(c) => {
                    "; it offers only NTLM/Negotiate, which the runner cannot speak (it sends Basic): use a local relay such as cntlm or px"
                }
                _ => "",
            }
        ),
        ProxyFailure::AuthRequired {
            proxy,
            target,
            status,
            challenge,
        } => format!(
            "proxy {proxy} requires authentication for CONNECT {target}: {}{}; {}",
            status_text(status),
            challenge_text(challenge),
            match challenge {
                Some(c) if crate::model::http::proxy_auth_unsupported(c) => {
                    "it offers only NTLM/Negotiate, which the runner cannot speak (Basic only): use a local relay such as cntlm or px"
                }
                _ => "put user:password@ in the proxy URL",
            }
        ),
        ProxyFailure::Forbidden {
            proxy,
            target,
            status,
        } => format!(
            "proxy {proxy} refused CONNECT {target}: {} (its policy blocks this name or port; ask for it to be allowed)",
            status_text(status)
        ),
        ProxyFailure::Upstream {
            proxy,
            target,
            status,
        } => format!(
            "proxy {proxy} could not reach {target}: {} (the proxy's own DNS or egress fails for this name)",
            status_text(status)
        ),
        ProxyFailure::OtherStatus {
            proxy,
            target,
            status,
        } => format!(
            "proxy {proxy} answered CONNECT {target} with {}",
            status_text(status)
        ),
    }
}

fn challenge_text(c: &Option<String>) -> String {
    c.as_ref()
        .map(|c| format!(" (Proxy-Authenticate: {c})"))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------------------------

/// "TLS 1.3 TLS13_AES_128_GCM_SHA256, issued by CN=…" for a handshake that succeeded.
pub fn tls_success(info: &TlsInfo) -> String {
    format!(
        "{} {}, issued by {}",
        info.version.clone().unwrap_or_default(),
        info.cipher.clone().unwrap_or_default(),
        info.leaf
            .as_ref()
            .map(|l| l.issuer.clone())
            .unwrap_or_default()
    )
}

fn cert_reason(r: CertReason) -> &'static str {
    match r {
        CertReason::BadEncoding => "it cannot be parsed (damaged or not X.509)",
        CertReason::BadSignature => "a signature on its chain is wrong",
        CertReason::UnsupportedSignature => {
            "it is signed with an algorithm this stack does not support"
        }
        CertReason::CaUsedAsEndEntity => {
            "it is a CA certificate, presented as the server's own, and no trust store holds it"
        }
        CertReason::EndEntityUsedAsCa => {
            "a server certificate is used to sign another certificate in the chain"
        }
        CertReason::WrongPurpose => "it is not meant for TLS servers (extended key usage)",
        CertReason::NameConstraint => "an issuing CA's name constraints forbid this name",
        CertReason::ChainTooLong => "its chain is too long to verify",
        CertReason::Other => "it is not acceptable to the verifier",
    }
}

/// Why a TLS handshake with `host` failed.
pub fn tls_failure(f: &TlsFailure, host: &str, through_proxy: bool) -> String {
    match f {
        TlsFailure::NoRoots => "no trusted root certificates on this machine: the system store is empty (check SSL_CERT_FILE / SSL_CERT_DIR, or install ca-certificates) and no --ca-file was given, so no TLS connection can be verified".to_string(),
        TlsFailure::Config {} => "this build's TLS library offers no cipher suite for TLS 1.2 or 1.3 (a packaging problem of runner-preflight, not of the network)".to_string(),
        TlsFailure::BadServerName => format!("`{host}` cannot be used as a TLS server name"),
        TlsFailure::Timeout { after, presented: false } if through_proxy => format!(
            "the proxy accepted CONNECT but no TLS handshake came back through the tunnel within {} (the proxy holds the tunnel open without relaying)",
            fmt_duration(*after)
        ),
        TlsFailure::Timeout { after, presented } => format!(
            "TLS handshake timed out after {}: {}",
            fmt_duration(*after),
            if *presented {
                "the handshake did not finish"
            } else {
                "the server accepted the connection but sent no TLS handshake (not a TLS server, or a middlebox holding the connection)"
            }
        ),
        TlsFailure::Closed => "the server closed the connection during the TLS handshake (a firewall or proxy cutting TLS to this name?)".to_string(),
        TlsFailure::Reset => "the connection was reset during the TLS handshake (a firewall or proxy cutting TLS to this name?)".to_string(),
        TlsFailure::Io { error } => format!("TLS handshake failed: {}", os_error(error)),
        TlsFailure::SelfSigned { subject } => {
            format!("certificate for {host} is self-signed ({subject}) and not trusted (not in any trust store)")
        }
        TlsFailure::UnknownIssuer { issuer } => format!(
            "certificate for {host} is issued by \"{issuer}\", which is not trusted here (a TLS-inspecting proxy? add its CA with --ca-file)"
        ),
        TlsFailure::Expired { subject, not_after: None, .. } => {
            format!("certificate for {host} has expired ({subject})")
        }
        TlsFailure::Expired { not_after: Some(not_after), now, issuer, .. } => format!(
            "certificate for {host} expired at {not_after} (now {}), issued by \"{issuer}\"",
            now.as_deref().unwrap_or("unknown")
        ),
        TlsFailure::NotYetValid { issuer } => format!(
            "certificate for {host} is not valid yet (check this machine's clock), issued by \"{issuer}\""
        ),
        TlsFailure::WrongName { names, issuer } => format!(
            "certificate presented for {host} is for other names: {} (issued by \"{issuer}\")",
            names.join(", ")
        ),
        TlsFailure::Revoked => format!("certificate for {host} is revoked"),
        TlsFailure::BadCertificate { reason } => {
            format!("certificate for {host} rejected: {}", cert_reason(*reason))
        }
        TlsFailure::Alert { alert, hint } => format!(
            "the server refused the TLS handshake with alert `{alert}`{}",
            match hint {
                AlertHint::OldVersionsOnly => " (it offers only TLS versions older than 1.2?)",
                AlertHint::NoCommonParameters => " (no common cipher or version, or a filter blocking this name)",
                AlertHint::None => "",
            }
        ),
        TlsFailure::Incompatible { what } => format!(
            "no common ground with the server for TLS: {}",
            match what {
                Incompatibility::NoCipherSuitesInCommon => "no cipher suite in common",
                Incompatibility::NoKxGroupsInCommon => "no key-exchange group in common",
                Incompatibility::NoSignatureSchemesInCommon => "no signature scheme in common",
                Incompatibility::NoTls12Or13 =>
                    "the server speaks neither TLS 1.2 nor TLS 1.3 (the runner needs one of them)",
                Incompatibility::RequiredExtension =>
                    "the server requires a TLS extension or format the handshake did not offer",
                _ => "no common TLS version or cipher",
            }
        ),
        TlsFailure::NotTls => {
            "the server did not speak TLS (something else answered on this port)".to_string()
        }
        TlsFailure::TooLarge => "the server's certificate message is larger than TLS allows (64 KB): its chain holds too many or too large certificates".to_string(),
        TlsFailure::Misbehaved { .. } => "the server broke the TLS protocol during the handshake (a faulty server, or a middlebox interfering)".to_string(),
        TlsFailure::Other { what } => format!(
            "TLS handshake failed: {}",
            match what {
                TlsOther::DecryptError =>
                    "a record failed to decrypt (damaged on the way, or a broken server)",
                TlsOther::OversizedRecord => "the server sent a record larger than TLS allows",
                TlsOther::NoApplicationProtocol =>
                    "the server accepts none of the offered application protocols (ALPN)",
                TlsOther::NoCertificates => "the server presented no certificate",
                TlsOther::NoConnection => "no connection to hand to the handshake",
                _ => "the TLS library refused the handshake",
            }
        ),
        TlsFailure::PathMtuBlackHole { addr, works_at_mss, stalled_at_mss, after } => format!(
            "TLS handshake with {addr} stalled (no certificate within {}{}) but works at MSS {works_at_mss}: {}",
            fmt_duration(*after),
            at_mss(*stalled_at_mss),
            BLACK_HOLE
        ),
    }
}

/// What a path-MTU black hole is, in one clause.
const BLACK_HOLE: &str = "a path-MTU black hole (full-size packets are lost on the way and the ICMP \"fragmentation needed\" / \"packet too big\" that would make them smaller is filtered)";

fn at_mss(mss: Option<u32>) -> String {
    mss.map(|m| format!(" at MSS {m}")).unwrap_or_default()
}

/// What the kernel said about a connection's path: "MSS 1448, path MTU 1500, via eth0 (MTU 1500)".
pub fn path_info(p: &crate::probe::path::PathInfo) -> String {
    let mut parts = Vec::new();
    if let Some(m) = p.mss {
        parts.push(format!("MSS {m}"));
    }
    if let Some(m) = p.path_mtu {
        parts.push(format!("path MTU {m}"));
    }
    if let Some(i) = &p.interface {
        parts.push(match p.interface_mtu {
            Some(m) => format!("via {i} (MTU {m})"),
            None => format!("via {i}"),
        });
    }
    parts.join(", ")
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

pub fn http_failure(f: &HttpFailure, method: &str, path: &str) -> String {
    match f {
        HttpFailure::Timeout { after } => format!(
            "no complete HTTP response to {method} {path} within {} (the server is silent, or sends too slowly)",
            fmt_duration(*after)
        ),
        HttpFailure::HeadTooLarge => format!(
            "HTTP request {method} {path} failed: the answer's headers are too large or too many (not a normal GitHub answer: a proxy or middlebox?)"
        ),
        HttpFailure::Malformed => format!(
            "the answer to {method} {path} is not valid HTTP (not an HTTP server, or a middlebox damaging it?)"
        ),
        HttpFailure::Exchange { what, error } => format!(
            "HTTP request {method} {path} failed: {}",
            exchange_failure(*what, error.as_ref())
        ),
        HttpFailure::PathMtuBlackHole { addr, works_at_mss, stalled_at_mss, after } => format!(
            "no answer to {method} {path} from {addr} within {}{} but it works at MSS {works_at_mss}: {}",
            fmt_duration(*after),
            at_mss(*stalled_at_mss),
            BLACK_HOLE
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Checks, targets, capabilities
// ---------------------------------------------------------------------------------------------

/// One check's detail: what happened, in words.
pub fn check_detail(c: &Check, host: &str) -> String {
    let obs = &c.obs;
    match &obs.step {
        Step::Connect {
            redirected,
            only_family,
            failure,
            path,
        } => {
            let via = redirected_note(redirected, host);
            match failure {
                None => format!(
                    "connected to {}{via}{}",
                    obs.address.map(|a| a.to_string()).unwrap_or_default(),
                    path.as_ref()
                        .map(path_info)
                        .filter(|p| !p.is_empty())
                        .map(|p| format!(" ({p})"))
                        .unwrap_or_default()
                ),
                Some(TcpFailure::NoAddress { .. }) => format!(
                    "no address to connect to{}",
                    match redirected {
                        Some(r) => format!(
                            " ({} names a host that does not resolve)",
                            connect_to_label(r, host)
                        ),
                        None => String::new(),
                    }
                ),
                Some(f) => {
                    let mut s = format!("{}{via}", tcp_failure(f, obs.family));
                    if *only_family && matches!(f, TcpFailure::NetUnreachable { .. }) {
                        let other = match obs.family {
                            Some(Family::Ipv6) => "IPv4",
                            _ => "IPv6",
                        };
                        s.push_str(&format!(
                            "; {host} has no {other} address, so a host with only {other} connectivity cannot reach it"
                        ));
                    }
                    s
                }
            }
        }
        Step::Tunnel {
            proxy,
            target,
            failure,
        } => match failure {
            None => format!(
                "tunnel to {target} through proxy {} ({})",
                proxy.url, proxy.from
            ),
            Some(f) => proxy_failure(f),
        },
        Step::ProxyConnect { proxy, failure } => match failure {
            None => format!("connected to proxy {} ({})", proxy.url, proxy.from),
            Some(f) => proxy_failure(f),
        },
        Step::Tls {
            tls,
            through_proxy,
            failure,
        } => match failure {
            None if *through_proxy => format!("{} (through the proxy)", tls_success(tls)),
            None => tls_success(tls),
            Some(f) => tls_failure(f, host, *through_proxy),
        },
        Step::Http {
            http,
            proxy,
            failure,
        } => {
            let base = match failure {
                Some(f) => http_failure(f, &http.method, &http.path),
                None => http_answer(c, host),
            };
            match (proxy, c.judgement) {
                (Some(p), Some(HttpJudgement::ProxyAuth)) => format!(
                    "proxy {} answered 407: {}",
                    p.url,
                    if p.url.has_credentials() {
                        "it rejected the credentials in the proxy URL"
                    } else {
                        "it requires authentication; put user:password@ in the proxy URL"
                    }
                ),
                (Some(p), Some(HttpJudgement::ProxyRefused)) => format!(
                    "{base}: {} through proxy {}, most likely the proxy refusing or failing to reach {host} (no fingerprint header proves otherwise)",
                    http.status.unwrap_or(0),
                    p.url
                ),
                (Some(p), _) => format!("{base} (through proxy {})", p.url),
                (None, _) => base,
            }
        }
    }
}

/// An HTTP answer, read as the report judged it.
fn http_answer(c: &Check, _host: &str) -> String {
    let Some(h) = c.obs.http() else {
        return String::new();
    };
    let status = h.status.unwrap_or(0);
    let line = format!("{} {} → {status}", h.method, h.path);
    let header = h.expect_header.clone().unwrap_or_default();
    match c.judgement {
        Some(HttpJudgement::FingerprintedServerError) => {
            format!("{line} with {header}: GitHub answered but reports an error")
        }
        Some(HttpJudgement::Fingerprinted) => format!("{line}, {header} present"),
        Some(HttpJudgement::NotGitHub)
        | Some(HttpJudgement::ProxyRefused)
        | Some(HttpJudgement::ProxyAuth)
            if h.expect_header.is_some() =>
        {
            format!(
                "{line} without {header}: answered, but not by GitHub (a proxy or captive portal?){}",
                h.server
                    .as_ref()
                    .map(|s| format!("; Server: {s}"))
                    .unwrap_or_default()
            )
        }
        Some(HttpJudgement::ServerError) => format!("{line}: server error"),
        Some(HttpJudgement::ProxyRefused) | Some(HttpJudgement::ProxyAuth) if status >= 500 => {
            format!("{line}: server error")
        }
        _ => line,
    }
}

/// The first reason a name does not pass.
pub fn target_cause(t: &TargetResult) -> Option<String> {
    let cause = target_cause_only(t)?;
    Some(match t.runner_skips_verification {
        true => format!(
            "{cause} — the runner would accept this because GITHUB_ACTIONS_RUNNER_TLS_NO_VERIFY is set; verification is off (this check still verified, and made no request over the unverified connection)"
        ),
        false => cause,
    })
}

fn target_cause_only(t: &TargetResult) -> Option<String> {
    match t.cause.as_ref()? {
        Cause::Dns(p) => Some(dns_problem(p, &t.host)),
        Cause::DnsNote(n) => Some(dns_note(n, &t.host)),
        Cause::Incomplete(i) => Some(incomplete(i)),
        Cause::Redirect(r) => Some(redirect_cause(r, t)),
        Cause::Check {
            index,
            other_family_works,
        } => {
            let c = t.checks.get(*index)?;
            let d = check_detail(c, &t.host);
            // A cause about one family of a name that has two says which, in words.
            let two_families = t
                .checks
                .iter()
                .any(|o| o.obs.family.is_some() && o.obs.family != c.obs.family);
            let d = match c.obs.family {
                Some(f) if two_families || *other_family_works => format!("{}: {d}", f.label()),
                _ => d,
            };
            Some(if *other_family_works {
                format!("{d} (another address family works)")
            } else {
                d
            })
        }
    }
}

/// Why a redirect hop does not pass, beyond its own checks.
pub fn redirect_cause(r: &RedirectCause, t: &TargetResult) -> String {
    let answered = t
        .checks
        .iter()
        .filter_map(|c| c.obs.http())
        .find(|h| h.status.is_some())
        .map(|h| format!("{} {} → {}", h.method, h.path, h.status.unwrap_or(0)))
        .unwrap_or_default();
    match r {
        RedirectCause::Status { status } => format!(
            "{answered}: the redirect chain ends in {status}, not in the download (2xx){}",
            match status {
                403 | 407 => " — refused, by the server or a filtering proxy",
                404 | 410 => " — the file is not there",
                _ => "",
            }
        ),
        RedirectCause::Stopped { stop } => match stop {
            RedirectStop::NoLocation { status } => {
                format!("{answered}: a {status} redirect without `Location`: there is nowhere to follow it")
            }
            RedirectStop::BadLocation { location, error } => format!(
                "{answered}: the redirect points to `{}`, which the runner cannot follow ({error})",
                location.escape_debug()
            ),
            RedirectStop::Downgrade { location } => format!(
                "{answered}: the redirect goes from HTTPS to plain HTTP ({location}); the runner's HTTP client does not follow such a redirect"
            ),
            RedirectStop::TooManyHops { limit } => format!(
                "{answered}: still redirecting after {limit} requests (a loop?)"
            ),
        },
        RedirectCause::Unlisted { host } => format!(
            "the redirect reaches {host}, which the profile does not list: firewall rules built from the profile miss it (add it to the redirect's `expect:`)"
        ),
        RedirectCause::PinnedFallback { failure } => format!(
            "the latest runner release could not be learned ({}): the profile's pinned package was checked instead, and a runner updates to the latest, not to that one",
            latest_failure(failure)
        ),
    }
}

/// Why the latest runner release's package could not be chosen.
pub fn latest_failure(f: &LatestFailure) -> String {
    match f {
        LatestFailure::NoAnswer => {
            "github.com did not answer releases/latest; its own result says why".to_string()
        }
        LatestFailure::NotATag { status, location } => match location {
            Some(l) => format!(
                "releases/latest answered {status} to `{}`, not a redirect to a release tag",
                l.escape_debug()
            ),
            None => format!("releases/latest answered {status}, not a redirect to a release tag"),
        },
        LatestFailure::NoPackage { os, arch } => format!(
            "the runner publishes no package for {} {}",
            crate::model::text::printable(os),
            crate::model::text::printable(arch)
        ),
    }
}

/// The release a `runner_release: latest` chain checked, with where each fact came from:
/// `latest v2.336.0 (github.com releases/latest); package actions-runner-linux-x64-2.336.0.tar.gz
/// (this host: linux x64)`, or the pinned fallback and why.
pub fn release_line(r: &ReleaseResult) -> String {
    let platform = match r.platform_from {
        PlatformFrom::ThisHost => format!("this host: {} {}", r.os, r.arch),
        PlatformFrom::Flags => format!("--runner-os/--runner-arch: {} {}", r.os, r.arch),
    };
    let asset = r.asset.clone().unwrap_or_else(|| r.asset_url.clone());
    match (&r.failure, r.version_from) {
        (None, ReleaseSource::LatestRelease) => format!(
            "latest v{} (github.com releases/latest); package {asset} ({platform})",
            r.version.map(|v| v.to_string()).unwrap_or_default()
        ),
        (failure, _) => {
            let why = failure
                .as_ref()
                .map(latest_failure)
                .unwrap_or_else(|| "not learned".to_string());
            let latest = r
                .latest
                .map(|v| format!("latest v{v}; "))
                .unwrap_or_default();
            let pinned = r.version.map(|v| format!("v{v} ")).unwrap_or_default();
            format!("{latest}latest package not checked: {why}; fell back to the profile's pinned {pinned}package {asset}")
        }
    }
}

/// A redirect chain in one line: `github.com → 302 → release-assets.githubusercontent.com → 206`
/// (`✗` where a hop got no answer).
pub fn redirect_chain(r: &RedirectResult) -> String {
    let mut s = String::new();
    for (i, h) in r.hops.iter().enumerate() {
        if i > 0 {
            s.push_str(" → ");
        }
        s.push_str(&h.host);
        match h.status {
            Some(st) => s.push_str(&format!(" → {st}")),
            None => s.push_str(" → ✗"),
        }
    }
    if s.is_empty() {
        s = "not followed".to_string();
    }
    match &r.release {
        Some(rel) => format!("{} — {s}", release_line(rel)),
        None => s,
    }
}

/// "host: cause" of the target the capability's verdict comes from.
pub fn capability_cause(c: &CapabilityReport) -> Option<String> {
    let t = c.cause_target()?;
    target_cause(t).map(|cause| format!("{}: {cause}", t.host))
}

// ---------------------------------------------------------------------------------------------
// The long poll
// ---------------------------------------------------------------------------------------------

fn secs(d: std::time::Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// What happened to the idle connection, in plain words.
pub fn long_poll_detail(lp: &LongPollReport) -> String {
    let o = &lp.observed;
    let host = &o.host;
    let via = o
        .proxy
        .as_ref()
        .map(|p| format!(" through proxy {p}"))
        .unwrap_or_default();
    match &o.outcome {
        LongPollOutcome::NotStarted(f) => format!("long poll not tested: {}", long_poll_cause(f, host)),
        LongPollOutcome::Cut {
            after,
            how: Cut::Silent { timeout },
        } => format!(
            "the idle HTTPS connection to {host}{via} was dropped silently: after {} idle it stayed open, but a request reusing it got no answer within {} (a NAT or proxy forgot the flow without closing it); the runner's long poll keeps a connection idle for {} s",
            secs(*after),
            secs(*timeout),
            HOLD.as_secs()
        ),
        LongPollOutcome::Cut { after, how } => format!(
            "the idle HTTPS connection to {host}{via} was {} after {} of the {} hold (by a middlebox or the server); the runner's long poll keeps a connection idle for {} s",
            match how {
                Cut::Closed => "closed".to_string(),
                Cut::Reset => "reset".to_string(),
                Cut::Broken(e) => format!("broken ({e})"),
                Cut::Silent { .. } => "dropped silently".to_string(),
            },
            secs(*after),
            secs(o.hold),
            HOLD.as_secs()
        ),
        LongPollOutcome::Answered { held, path, status } => format!(
            "an idle HTTPS connection to {host}{via} survived {} and still answered (GET {path} → {status})",
            secs(*held)
        ),
        LongPollOutcome::Unanswered {
            held,
            path,
            failure,
        } => format!(
            "the idle HTTPS connection to {host}{via} stayed open {} but no longer answers ({}): a middlebox dropped it silently",
            secs(*held),
            failure
                .as_ref()
                .map(|f| http_failure(f, "GET", path))
                .unwrap_or_default()
        ),
    }
}

/// Why the long poll could not start, in plain words.
pub fn long_poll_cause(f: &LongPollFailure, host: &str) -> String {
    match f {
        LongPollFailure::Proxy(f) => proxy_failure(f),
        LongPollFailure::NoAddress { host } => format!("{host} has no address to connect to"),
        LongPollFailure::Tcp { failure, .. } => tcp_failure(failure, Some(Family::Ipv4)),
        LongPollFailure::Tls { failure } => tls_failure(failure, host, false),
        LongPollFailure::FirstRequest { failure } => format!(
            "the first request on the connection got no answer: {}",
            http_failure(failure, "GET", "/")
        ),
    }
}

/// A cut sooner than the first keepalive, in plain words.
pub fn keepalive_detail(host: &str, after: std::time::Duration, ka: &Keepalive) -> String {
    format!(
        "the idle connection to {host} was cut after {}, but this machine sends its first TCP keepalive only after {} s idle (net.ipv4.tcp_keepalive_time; then every {} s, {} probes): keepalives cannot keep such connections alive",
        secs(after),
        ka.time_s,
        ka.intvl_s,
        ka.probes
    )
}

/// What to do about a cut sooner than the first keepalive.
pub fn keepalive_fix(after: std::time::Duration) -> String {
    // Two thirds of the cut (in whole seconds) leaves room for the probe to cross the path.
    let below = ((after.as_secs_f64().round() * 2.0 / 3.0).floor() as u64).max(1);
    format!(
        "lower net.ipv4.tcp_keepalive_time below the cut (sysctl -w net.ipv4.tcp_keepalive_time={below}, kept in /etc/sysctl.d/; it applies to connections that turn TCP keepalive on), or ask the network team to raise the NAT or proxy idle timeout above the runner's 50 s long poll (AWS NAT gateway: 350 s, Azure: 4 min, many proxies: 120 s)"
    )
}

/// What to do about a cut long poll.
pub fn long_poll_fix(host: &str) -> String {
    format!(
        "let idle HTTPS connections to {host} live at least 60 s in the proxy or firewall (the runner's long poll lasts 50 s)"
    )
}

// ---------------------------------------------------------------------------------------------
// Network findings
// ---------------------------------------------------------------------------------------------

fn store_label(s: StoreName) -> &'static str {
    match s {
        StoreName::Runner => "the runner (OS store)",
        StoreName::Git => "git",
        StoreName::Node => "node",
    }
}

/// A finding's message.
/// What a resolver answered, as a verb phrase: "said NXDOMAIN", "gave no answer within 5 s".
fn resolver_answer(a: &crate::report::findings::ResolverAnswer, host: &str) -> String {
    use crate::report::findings::ResolverAnswer;
    match a {
        ResolverAnswer::Addresses(list) => format!(
            "answered {}",
            list.iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ResolverAnswer::Failed(DnsFailure::NxDomain { .. }) => {
            format!("said {host} does not exist (NXDOMAIN)")
        }
        ResolverAnswer::Failed(f) => format!("failed: {}", dns_failure(f, host)),
        ResolverAnswer::TimedOut(after) => {
            format!("gave no answer within {}", fmt_duration(*after))
        }
        ResolverAnswer::Error(gai) => format!("failed: {}", gai_error(gai)),
    }
}

pub fn finding_message(f: &Finding) -> String {
    let hosts = &f.hosts;
    match &f.kind {
        FindingKind::ProxySetting { message }
        | FindingKind::RunnerEnv { message }
        | FindingKind::TrustStoreFile { message } => message.clone(),
        FindingKind::ResolvedByProxyOnly => format!(
            "{} {} resolve locally; through the proxy that is fine (the proxy resolves names), but anything that bypasses the proxy (no_proxy entries, tools that ignore proxy variables) cannot reach {}",
            names(hosts),
            if hosts.len() == 1 { "does not" } else { "do not" },
            if hosts.len() == 1 { "it" } else { "them" }
        ),
        FindingKind::Interception {
            issuer,
            public,
            runner_trusts,
        } => format!(
            "TLS interception: the certificates presented for {} do not lead to a public root ({public}); they are issued by \"{issuer}\"{}",
            names(hosts),
            if *runner_trusts {
                ", which this machine's store trusts: a TLS-inspecting middlebox re-signs this traffic (or the server uses a private CA)"
            } else {
                ", which this machine does not trust either: something re-signs this traffic (or the server uses a private CA)"
            }
        ),
        FindingKind::StoreDisagrees {
            store,
            issuer,
            trusted_by,
            variable,
            ..
        } => {
            let by: Vec<&str> = trusted_by.iter().map(|s| store_label(*s)).collect();
            let trusted_by = format!(
                "{} {}",
                by.join(" and "),
                if by.len() == 1 { "trusts" } else { "trust" }
            );
            match store {
                StoreName::Node => format!(
                    "JavaScript actions (node) will not trust {}: {trusted_by} \"{issuer}\", but node uses only its built-in public roots plus NODE_EXTRA_CA_CERTS{}",
                    names(hosts),
                    match variable {
                        Some(f) => format!(" (now {f}, which does not hold it)"),
                        None => " (not set)".into(),
                    }
                ),
                StoreName::Git => format!(
                    "git will not trust {}: {trusted_by} \"{issuer}\", but git's CA bundle does not hold it ({})",
                    names(hosts),
                    match variable {
                        Some(f) => format!("GIT_SSL_CAINFO={f}"),
                        None => "OpenSSL's default bundle; GIT_SSL_CAINFO not set".into(),
                    }
                ),
                StoreName::Runner => format!(
                    "the runner itself will not trust {}: {trusted_by} \"{issuer}\", but the OS store (SSL_CERT_FILE / SSL_CERT_DIR) does not",
                    names(hosts)
                ),
            }
        }
        FindingKind::ClockSkew { clock } => format!(
            "this machine's clock is {} {} than {}'s (Date: {}): GitHub's tokens are checked against the time, so the runner's sessions and OIDC tokens fail",
            human_secs(clock.skew_seconds.unsigned_abs()),
            if clock.skew_seconds > 0 { "ahead" } else { "behind" },
            clock.host,
            clock.server_date
        ),
        FindingKind::LongPoll { report } => long_poll_detail(report),
        FindingKind::CutBeforeKeepalive {
            host,
            after,
            keepalive,
        } => keepalive_detail(host, *after, keepalive),
        FindingKind::ResolversDisagree {
            server,
            dns,
            dns_ms,
            system,
            system_ms,
            by_throughput,
        } => {
            use crate::report::findings::ResolverAnswer;
            let host = hosts.first().map(String::as_str).unwrap_or_default();
            let (about, dns_said) = match (hosts.len(), dns) {
                (1, _) => (host.to_string(), resolver_answer(dns, host)),
                (n, ResolverAnswer::Failed(DnsFailure::NxDomain { .. })) => (
                    format!("{n} names ({})", names(hosts)),
                    "said they do not exist (NXDOMAIN)".to_string(),
                ),
                (n, _) => (
                    format!("{n} names ({})", names(hosts)),
                    "answered their addresses".to_string(),
                ),
            };
            let took = if dns_ms.0 == dns_ms.1 {
                format!("{} ms", dns_ms.0)
            } else {
                format!("{}–{} ms", dns_ms.0, dns_ms.1)
            };
            format!(
                "the DNS server{} and the OS resolver (which the runner uses) disagree about {about}: the DNS server {dns_said} in {took}; the OS resolver{} {}{}",
                server.map(|s| format!(" {s}")).unwrap_or_default(),
                if *by_throughput {
                    ", asked by the throughput measurement,"
                } else {
                    ""
                },
                resolver_answer(system, host),
                match (system, system_ms) {
                    (ResolverAnswer::TimedOut(_), _) | (_, None) => String::new(),
                    (_, Some(ms)) => format!(" in {ms} ms"),
                }
            )
        }
        FindingKind::RunnerFile { problem } => runner_file_problem(problem),
        FindingKind::ApiQuota { quota } => {
            let reset = time::OffsetDateTime::from_unix_timestamp(quota.reset as i64)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_else(|| quota.reset.to_string());
            format!(
                "api.github.com's unauthenticated quota for this machine's public address: {} of {} requests left until {reset}; unauthenticated API calls (setup-* actions looking up versions, tools without a token) fail once it is spent, and every runner behind the same NAT shares it",
                quota.remaining, quota.limit
            )
        }
        FindingKind::TlsNoVerify { in_env_file } => format!(
            "GITHUB_ACTIONS_RUNNER_TLS_NO_VERIFY is set ({}): the runner itself skips every certificate check, so it would connect through a TLS-inspecting proxy or to an impostor without a word. This check still verified every certificate as the runner normally would: a certificate failure reported here would NOT stop the runner's own connections (registration, jobs, logs, updates), but git and node (checkout, JavaScript actions) still verify and would fail",
            if *in_env_file { "in the runner's .env" } else { "in the environment" }
        ),
    }
}

/// A problem with the runner's `.runner` / `.credentials` (never any of the file's values).
pub fn runner_file_problem(p: &RunnerFileProblem) -> String {
    let goes_on = "the check goes on with the profile's hosts only";
    match p {
        RunnerFileProblem::Missing { path } => format!(
            "{} does not exist: the hosts this runner is configured for are not known ({goes_on}); is --runner-dir the directory where config.sh ran?",
            path.display()
        ),
        RunnerFileProblem::Unreadable { message } => format!("{message} ({goes_on})"),
        RunnerFileProblem::Malformed { path, line, column } => format!(
            "{}:{line}:{column}: not a JSON object as config.sh writes it ({goes_on})",
            path.display()
        ),
        RunnerFileProblem::NotText { path, field } => format!(
            "{}: `{field}` is not a text value ({goes_on} for it)",
            path.display()
        ),
        RunnerFileProblem::BadUrl { path, field, error } => format!(
            "{}: `{field}` is not a URL that can be probed: {error} ({goes_on} for it)",
            path.display()
        ),
        RunnerFileProblem::NoUrls { path, fields } => format!(
            "{} has none of {} ({goes_on})",
            path.display(),
            fields
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// What to do about a finding, when there is something to do.
pub fn finding_fix(f: &Finding) -> Option<String> {
    match &f.kind {
        FindingKind::Interception { issuer, .. } => Some(format!(
            "if \"{issuer}\" is your organisation's inspecting proxy, its CA certificate must be in all three trust stores (the OS store, git's, node's); otherwise find out who re-signs this traffic"
        )),
        FindingKind::StoreDisagrees {
            store,
            issuer,
            anchor_file,
            ..
        } => {
            let file = anchor_file.clone().unwrap_or_else(|| {
                format!("<a PEM file holding the CA certificate of \"{issuer}\">")
            });
            Some(match store {
                StoreName::Node => format!(
                    "set NODE_EXTRA_CA_CERTS={file} in the runner's environment (its .env file when it runs as a service)"
                ),
                StoreName::Git => format!(
                    "add {file} to the system bundle that git's OpenSSL reads (update-ca-certificates), or set GIT_SSL_CAINFO={file} (or git config --system http.sslCAInfo {file}); GIT_SSL_CAINFO replaces git's bundle, so that file must also hold the public roots"
                ),
                StoreName::Runner => format!(
                    "add {file} to the OS store (copy it to /usr/local/share/ca-certificates/NAME.crt and run update-ca-certificates), or set SSL_CERT_FILE to a bundle that includes it"
                ),
            })
        }
        FindingKind::ClockSkew { .. } => {
            Some("synchronise the clock (NTP: systemd-timesyncd, chrony)".into())
        }
        FindingKind::LongPoll { report } if !report.survived => {
            Some(long_poll_fix(&report.host))
        }
        FindingKind::CutBeforeKeepalive { after, .. } => Some(keepalive_fix(*after)),
        FindingKind::ApiQuota { quota } if quota.remaining < crate::report::findings::QUOTA_LOW => Some(
            "give API calls a token (most setup-* actions take `token:`, e.g. token: ${{ github.token }} on github.com), or spread runners over more egress addresses".into(),
        ),
        FindingKind::TlsNoVerify { .. } => Some(
            "remove GITHUB_ACTIONS_RUNNER_TLS_NO_VERIFY and put the inspecting proxy's CA certificate in the OS store instead (see the trust-store findings): verification off hides interception and impostors".into(),
        ),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Runner version currency
// ---------------------------------------------------------------------------------------------

/// What the runner version check found, in one sentence.
pub fn runner_version_message(r: &RunnerVersionReport) -> String {
    use crate::report::runner_version::VersionJudgement as J;
    let latest = match (r.latest, &r.released_at, r.released_days_ago) {
        (Some(v), Some(at), Some(d)) => format!(
            "the latest release is v{v}, published {} ({})",
            at.get(..10).unwrap_or(at),
            days(d)
        ),
        (Some(v), _, _) => format!(
            "the latest release is v{v} (its date could not be learned: {})",
            r.date_failure
                .as_ref()
                .map(|f| date_failure(f, false))
                .unwrap_or_else(|| "not asked".to_string())
        ),
        (None, _, _) => "the latest release could not be learned from github.com".to_string(),
    };
    let installed = r
        .installed
        .as_ref()
        .map(|i| {
            let from = match &i.from {
                InstalledFrom::BinLink { target } => format!("bin → {target}"),
                InstalledFrom::DepsFile { .. } => "bin/Runner.Listener.deps.json".to_string(),
            };
            format!("installed v{} ({from})", i.version)
        })
        .unwrap_or_default();
    let min = r.policy.minimum;
    let max = r.policy.max_days_behind;
    match &r.judgement {
        J::NotInstalledHere => format!("{latest}; no --runner-dir, so no installed runner was judged"),
        J::InstalledUnknown => format!(
            "the installed runner's version could not be read ({}); {latest}",
            r.installed_problem
                .as_ref()
                .map(installed_problem)
                .unwrap_or_default()
        ),
        J::BelowMinimum => format!(
            "{installed} is below v{min}, the lowest version GitHub registers{}; {latest}",
            r.policy
                .source
                .as_ref()
                .map(|s| format!(" ({})", crate::model::text::printable(s)))
                .unwrap_or_default()
        ),
        J::LatestUnknown => format!("{installed}; {latest}: currency cannot be judged"),
        J::Current => format!("{installed} is current; {latest}"),
        J::TooFarBehind { days: d } => format!(
            "{installed} is behind: {} came out {}, more than {max} days ago, and GitHub gives such a runner no jobs; {latest}",
            newer_release(r),
            days(*d)
        ),
        J::Behind { days: d } => format!(
            "{installed} is behind: {} came out {}, and once it is {max} days old GitHub gives this runner no jobs (a runner that updates itself catches up); {latest}",
            newer_release(r),
            days(*d)
        ),
        J::BehindListUnknown { days: d } => format!(
            "{installed} is behind: the latest release came out {}, but the list of releases could not be read ({}), so an older release between the installed one and the latest may already have been out more than {max} days — then GitHub gives this runner no jobs; {latest}",
            days(*d),
            r.releases_failure
                .as_ref()
                .map(|f| date_failure(f, true))
                .unwrap_or_else(|| "it does not reach back to the installed version".to_string())
        ),
        J::BehindUndated => format!(
            "{installed} is behind; the newer release's date is unknown, so whether GitHub still gives it jobs (at most {max} days behind) cannot be told; {latest}"
        ),
    }
}

/// What to do about the runner version, when something is to be done.
pub fn runner_version_fix(r: &RunnerVersionReport) -> Option<String> {
    use crate::report::runner_version::VersionJudgement as J;
    match r.judgement {
        J::BelowMinimum
        | J::TooFarBehind { .. }
        | J::Behind { .. }
        | J::BehindListUnknown { .. }
        | J::BehindUndated => {
            Some(match (&r.asset, &r.asset_url) {
                (Some(a), Some(u)) => format!(
                    "update the runner: download {a} ({u}), unpack it over the runner directory and restart the service — or let the runner update itself (it needs the runner-updates hosts)"
                ),
                _ => "update the runner to the latest release from https://github.com/actions/runner/releases (the package for this host's OS and architecture)".to_string(),
            })
        }
        _ => None,
    }
}

fn days(d: i64) -> String {
    match d {
        1 => "1 day ago".to_string(),
        d => format!("{d} days ago"),
    }
}

/// The release the 30-day rule looked at: "v2.335.0, the first release after it", or "a newer
/// release" when no list named it.
fn newer_release(r: &RunnerVersionReport) -> String {
    use crate::report::runner_version::NewerFrom;
    match &r.newer_release {
        Some(n) if n.from == NewerFrom::ReleasesList => {
            format!("v{}, the first release after it,", n.version)
        }
        Some(n) => format!("v{}", n.version),
        None => "a newer release".to_string(),
    }
}

/// Why a date could not be learned; `api` when the releases API was asked, else the tag page.
fn date_failure(f: &DateFailure, api: bool) -> String {
    let (host, what) = match api {
        true => ("api.github.com", "the releases API"),
        false => ("github.com", "the release page"),
    };
    match f {
        DateFailure::NoAnswer => format!("{host} did not answer"),
        DateFailure::Status {
            status: status @ (403 | 429),
        } if api => format!(
            "{what} refused with {status}: this address's unauthenticated quota of 60 requests an hour may be spent"
        ),
        DateFailure::Status { status } => format!("{what} answered {status}"),
        DateFailure::NoDate => format!("{what} names no date"),
        DateFailure::NotAList => format!("{what}'s answer was not a list of releases"),
        DateFailure::TooLarge { limit } => {
            format!("{what}'s answer was longer than {limit} bytes")
        }
    }
}

fn installed_problem(p: &InstalledProblem) -> String {
    match p {
        InstalledProblem::NoBin => {
            "--runner-dir has no bin/: it holds settings only, no installed runner".to_string()
        }
        InstalledProblem::UnknownLink { target } => {
            format!("bin links to {target}, not to bin.X.Y.Z")
        }
        InstalledProblem::NoVersionFile { file, reason } => format!(
            "{}: {}",
            crate::model::text::printable(file),
            crate::model::text::printable(reason)
        ),
    }
}

#[cfg(test)]
mod os_error_words {
    use super::*;

    #[test]
    fn socket_errors_are_told_in_our_words_never_the_os_message() {
        let reset = OsError::from(&std::io::Error::from_raw_os_error(libc::ECONNRESET));
        assert_eq!(
            os_error(&reset),
            "connection reset by the peer (or by a firewall on the way)"
        );
        // A kind without words of its own: its number, not Rust's "(os error N)".
        let odd = OsError::from(&std::io::Error::from_raw_os_error(libc::ENOBUFS));
        let words = os_error(&odd);
        assert_eq!(words, format!("socket error (errno {})", libc::ENOBUFS));
        assert!(!words.contains("os error"), "{words}");
    }

    #[test]
    fn the_system_resolver_failure_names_its_eai_code() {
        let g = GaiError {
            error: ResolverError::Again,
            code: Some(-3),
            errno: None,
        };
        assert!(gai_error(&g).contains("EAI_AGAIN"), "{}", gai_error(&g));
        let g = GaiError {
            error: ResolverError::NoName,
            code: Some(-2),
            errno: None,
        };
        assert!(
            gai_error(&g).contains("does not exist"),
            "{}",
            gai_error(&g)
        );
    }
}
