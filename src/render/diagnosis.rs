//! The words of the diagnosis: each root cause's title, one-sentence summary and fix, and the
//! Diagnosis block the table, Markdown, JUnit and `explain` print.
//!
//! An unexplained cause is summed up by its target's own cause (or the throughput direction's
//! detail): [`details`] finds those sentences in a live report; `explain` takes them from the
//! saved JSON.

use std::collections::BTreeMap;

use crate::probe::nat64::Dns64;

use super::words::{fmt_duration, human_secs, names, plural};
use crate::model::{Phase, Verdict};
use crate::report::diagnose::{
    CertProblem, Diagnosis, OsResolver, PrefixGroup, ProxyHow, RootCause, Silence, TcpHow,
};
use crate::report::findings::StoreName;
use crate::report::Report;

/// The sentence an unexplained cause stands for, by diagnosis id.
pub type Details = BTreeMap<usize, String>;

/// The own cause of each unexplained diagnosis of a live report.
pub fn details(report: &Report) -> Details {
    let mut out = Details::new();
    for d in &report.diagnosis {
        // A shared address's cause is summed up by its first name's own cause.
        let direction = match &d.cause {
            RootCause::Unexplained { direction, .. } => direction,
            RootCause::SharedAddressFails { .. } => &None,
            _ => continue,
        };
        let text = match direction {
            Some(dir) => report.throughput.as_ref().and_then(|tp| {
                tp.directions
                    .iter()
                    .find(|x| x.direction.id() == dir)
                    .map(super::words_throughput::detail)
            }),
            None => report
                .capabilities
                .iter()
                .flat_map(|c| c.entries.iter())
                .flat_map(|e| e.targets.iter())
                .find(|t| t.diagnosis_id == Some(d.id))
                .and_then(super::words::target_cause),
        };
        if let Some(t) = text {
            out.insert(d.id, t);
        }
    }
    out
}

pub fn list<T: ToString>(items: &[T]) -> String {
    let v: Vec<String> = items.iter().map(|x| x.to_string()).collect();
    match v.len() {
        0 => String::new(),
        1 => v[0].clone(),
        n => format!("{} and {}", v[..n - 1].join(", "), v[n - 1]),
    }
}

fn ports(p: &[u16]) -> String {
    list(p)
}

fn how_verb(h: TcpHow) -> &'static str {
    match h {
        TcpHow::Dropped => "time out (packets dropped)",
        TcpHow::Refused => "are refused",
        TcpHow::NoRoute => "have no route (network unreachable)",
        TcpHow::HostUnreachable => "fail with host unreachable",
    }
}

fn hows(h: &[TcpHow]) -> String {
    list(&h.iter().map(|h| how_verb(*h)).collect::<Vec<_>>())
}

fn prefixes(p: &[PrefixGroup]) -> String {
    list(
        &p.iter()
            .map(|g| {
                format!(
                    "{} ({}, {})",
                    g.prefix,
                    plural(g.names, "name"),
                    count(g.addresses.len(), "address", "addresses")
                )
            })
            .collect::<Vec<_>>(),
    )
}

fn prefix_list(p: &[PrefixGroup]) -> String {
    list(&p.iter().map(|g| g.prefix.clone()).collect::<Vec<_>>())
}

fn store(s: StoreName) -> &'static str {
    match s {
        StoreName::Runner => "the runner's store (the OS store)",
        StoreName::Git => "git's",
        StoreName::Node => "node's",
    }
}

fn n_names(d: &Diagnosis) -> String {
    plural(d.hosts.len(), "name")
}

/// A short title: "DNS server not answering".
pub fn title(c: &RootCause) -> String {
    match c {
        RootCause::ResolverUnreachable { how, .. } => match how {
            Silence::NoServers => "no DNS server configured".into(),
            Silence::NothingListens => "nothing listens on the DNS server's port".into(),
            _ => "DNS server not answering".into(),
        },
        RootCause::SharedAddressFails { address, .. } => {
            format!("names sharing {address} fail the same way")
        }
        RootCause::DnsNxdomain {
            variable: Some(_), ..
        } => "DNS has no record for the instance's name (NXDOMAIN)".into(),
        RootCause::DnsNxdomain { .. } => "DNS denies public names (NXDOMAIN)".into(),
        RootCause::OsResolverDisagrees { .. } => "system resolver disagrees with DNS".into(),
        RootCause::ProxyNeeded { .. } => "no direct egress: a proxy is needed".into(),
        RootCause::DirectBlockedProxyWorks { .. } => {
            "direct egress blocked, the proxy works".into()
        }
        RootCause::TcpBlocked { port, .. } => format!("outbound TCP {port} blocked"),
        RootCause::HostBlocked { host, port, .. } => format!("TCP {port} to {host} blocked"),
        RootCause::PortBlocked { port, .. } => format!("only port {port} blocked"),
        RootCause::FamilyBlocked { family, .. } => format!("{} egress broken", family.label()),
        RootCause::ProxyFails { how, .. } => match how {
            ProxyHow::Unreachable => "proxy unreachable".into(),
            ProxyHow::Broken => "proxy not answering properly".into(),
            ProxyHow::AuthRequired => "proxy wants authentication".into(),
            ProxyHow::AuthUnsupported => {
                "proxy wants NTLM/Negotiate, which the runner cannot do".into()
            }
            ProxyHow::Forbidden => "proxy refuses names (403)".into(),
            ProxyHow::Upstream => "proxy cannot reach names".into(),
        },
        RootCause::TlsInterception { .. } => "TLS interception".into(),
        RootCause::NoTrustRoots { .. } => "no trusted root certificates".into(),
        RootCause::CertificateInvalid { problem, .. } => match problem {
            CertProblem::Expired => "expired certificate".into(),
            CertProblem::NotYetValid => "certificate not valid yet".into(),
            CertProblem::WrongName => "certificate for other names".into(),
            CertProblem::SelfSigned => "self-signed certificate".into(),
        },
        RootCause::MiddleboxAnswers { .. } => "a middlebox answers instead of GitHub".into(),
        RootCause::ThroughputBelowFloor { .. } => "throughput below the floor".into(),
        RootCause::ClockSkew { .. } => "clock skew".into(),
        RootCause::TimeLimit { .. } => "run time limit reached".into(),
        RootCause::UpdatePathBlocked { .. } => "runner update download does not arrive".into(),
        RootCause::PathMtuBlackHole { .. } => "path-MTU black hole".into(),
        RootCause::NoIpv4Route { .. } => "no IPv4 route, and no IPv6 address to use".into(),
        RootCause::ContainerSubnetOverlap { .. } => {
            "a Docker network covers addresses the runner needs".into()
        }
        RootCause::ContainerMtu { .. } => "Docker bridge MTU above the uplink's".into(),
        RootCause::ContainerPoolOverlap { .. } => {
            "a Docker address pool covers addresses the runner needs".into()
        }
        RootCause::ContainerDaemonConfig { .. } => "Docker's daemon.json unusable".into(),
        RootCause::Unexplained {
            host, direction, ..
        } => match (host, direction) {
            (_, Some(d)) => format!("throughput {d}"),
            (Some(h), None) => h.clone(),
            (None, None) => "unexplained".into(),
        },
    }
}

/// The one sentence that says what is wrong. `detail`: the own cause of an unexplained one.
pub fn summary(d: &Diagnosis, detail: Option<&str>) -> String {
    let n = n_names(d);
    match &d.cause {
        RootCause::ResolverUnreachable {
            servers,
            how,
            names: failed,
            asked,
            timeout_ms,
            ..
        } => {
            let server = if servers.is_empty() {
                "the DNS server".to_string()
            } else {
                format!("the DNS server {}", list(servers))
            };
            let of = if failed == asked {
                format!("none of the {asked} names got")
            } else {
                format!("{failed} of {asked} names got no")
            };
            let answer = if failed == asked { "an answer" } else { "answer" };
            match how {
                Silence::Timeout => format!(
                    "{} does not answer: {of} {answer}{}, so nothing else about {} could be tested.",
                    capitalise(&server),
                    timeout_ms
                        .map(|m| format!(
                            " within {}",
                            fmt_duration(std::time::Duration::from_millis(m))
                        ))
                        .unwrap_or_default(),
                    if *failed == 1 { "it" } else { "them" }
                ),
                Silence::Network => format!(
                    "{} cannot be reached: DNS questions for {} fail with a network error, so nothing else about them could be tested.",
                    capitalise(&server),
                    plural(*failed, "name")
                ),
                Silence::NothingListens => format!(
                    "Nothing listens on {}: DNS questions for {} draw an ICMP port unreachable at once (no DNS server runs there, or not on that port), so nothing else about them could be tested.",
                    list(servers),
                    plural(*failed, "name")
                ),
                Silence::NoServers => format!(
                    "No DNS server is configured (an empty /etc/resolv.conf?): {} cannot be resolved.",
                    plural(*failed, "name")
                ),
            }
        }
        RootCause::DnsNxdomain {
            servers,
            variable: Some(var),
            ..
        } => format!(
            "The DNS server {} says {} {} not exist (NXDOMAIN): it has no record for the name the profile variable `{var}` gives.",
            list(servers),
            names_under(&d.hosts),
            if d.hosts.len() == 1 { "does" } else { "do" },
        ),
        RootCause::DnsNxdomain { servers, zones, .. } => format!(
            "The DNS server {} says {n} in {} {} not exist (NXDOMAIN): a split-horizon zone or a DNS filter hides {}.",
            list(servers),
            list(zones),
            if d.hosts.len() == 1 { "does" } else { "do" },
            if d.hosts.len() == 1 { "this public name" } else { "these public names" }
        ),
        RootCause::OsResolverDisagrees { how, .. } => match how {
            OsResolver::Fails => format!(
                "DNS answers for {n}, but the operating system's resolver, which the runner uses, fails for them (nsswitch.conf, /etc/hosts or a local resolver)."
            ),
            OsResolver::OtherAddresses => format!(
                "For {n} the operating system's resolver answers other addresses than DNS (an /etc/hosts entry?), and those do not connect."
            ),
        },
        RootCause::ProxyNeeded {
            ports: p,
            how,
            prefixes: pf,
        } => format!(
            "No direct connection works: TCP {} to all {n} ({}) {}, and no proxy is configured: this network probably needs a proxy.",
            ports(p),
            prefix_list(pf),
            hows(how)
        ),
        RootCause::DirectBlockedProxyWorks {
            proxy,
            ports: p,
            how,
            ..
        } => format!(
            "The proxy {proxy} works, but {n} that bypass it (no_proxy) cannot connect directly: TCP {} {}.",
            ports(p),
            hows(how)
        ),
        RootCause::TcpBlocked {
            port,
            how,
            prefixes: pf,
        } => format!(
            "All {n} that resolve into {} {} at TCP port {port}.",
            prefixes(pf),
            how_verb(*how)
        ),
        RootCause::HostBlocked {
            host,
            port,
            how,
            addresses,
        } => format!(
            "TCP port {port} connections to {host} ({}) {}, while other names connect.",
            list(addresses),
            how_verb(*how)
        ),
        RootCause::PortBlocked {
            port,
            how,
            working_ports,
        } => format!(
            "Only port {port} is blocked: TCP {port} connections {} for {n} that connect on port {}.",
            how_verb(*how),
            ports(working_ports)
        ),
        RootCause::FamilyBlocked { family, port, how } => format!(
            "{} connections to port {port} {} for {n} whose other addresses work; the runner may try {} first and wait.",
            family.label(),
            how_verb(*how),
            family.label()
        ),
        RootCause::ProxyFails {
            proxy,
            how,
            status,
            zones,
            credentials,
        } => {
            let status = status.map(|s| format!(" ({s})")).unwrap_or_default();
            match how {
                ProxyHow::Unreachable => format!(
                    "The proxy {proxy} cannot be reached, so {n} that go through it fail."
                ),
                ProxyHow::Broken => format!(
                    "The proxy {proxy} accepts connections but gives no usable answer{status} for {n}."
                ),
                ProxyHow::AuthRequired if *credentials => format!(
                    "The proxy {proxy} rejects the credentials in its URL (407) for {n}."
                ),
                ProxyHow::AuthRequired => {
                    format!("The proxy {proxy} requires authentication (407) for {n}.")
                }
                ProxyHow::AuthUnsupported => format!(
                    "The proxy {proxy} requires authentication (407) for {n} and offers only NTLM or Negotiate (Kerberos): the runner's proxy support is Basic only, so no user and password in the proxy URL can work."
                ),
                ProxyHow::Forbidden => format!(
                    "The proxy {proxy} refuses{status} {n} in {}: its policy blocks them.",
                    list(zones)
                ),
                ProxyHow::Upstream => format!(
                    "The proxy {proxy} cannot reach {n}{status}: its own DNS or egress fails for them."
                ),
            }
        }
        RootCause::TlsInterception {
            issuer,
            missing_in,
            failing,
            ..
        } => {
            let lacking = if missing_in.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} {} not trust it",
                    list(&missing_in.iter().map(|s| store(*s)).collect::<Vec<_>>()),
                    if missing_in.len() == 1 { "does" } else { "do" }
                )
            };
            let failing = if *failing > 0 {
                format!(", so TLS fails for {}", plural(*failing, "name"))
            } else {
                String::new()
            };
            format!(
                "TLS to {n} is re-signed by \"{issuer}\" (a TLS-inspecting proxy, or a private CA){lacking}{failing}."
            )
        }
        RootCause::NoTrustRoots { .. } => format!(
            "This machine's trust store holds no root certificate at all, so TLS to {n} cannot be verified."
        ),
        RootCause::CertificateInvalid {
            problem,
            issuer,
            detail,
        } => {
            let who = names(&d.hosts);
            match problem {
                CertProblem::Expired => format!(
                    "The certificate presented for {who} has expired{} (issued by \"{issuer}\").",
                    detail
                        .first()
                        .map(|t| format!(" at {t}"))
                        .unwrap_or_default()
                ),
                CertProblem::NotYetValid => format!(
                    "The certificate presented for {who} is not valid yet (issued by \"{issuer}\")."
                ),
                CertProblem::WrongName => format!(
                    "The certificate presented for {who} is for other names ({}), issued by \"{issuer}\": something else answers in their place.",
                    list(detail)
                ),
                CertProblem::SelfSigned => format!(
                    "A self-signed certificate (\"{issuer}\") is presented for {who}, and no trust store holds it."
                ),
            }
        }
        RootCause::MiddleboxAnswers {
            server,
            statuses,
            header,
        } => format!(
            "Something other than GitHub answers for {n}: HTTP {} without the {} header{} (a proxy's block page, a captive portal or a middlebox).",
            list(statuses),
            header.as_deref().unwrap_or("fingerprint"),
            server
                .as_ref()
                .map(|s| format!(", Server: {s}"))
                .unwrap_or_default()
        ),
        RootCause::ThroughputBelowFloor {
            directions,
            kbps,
            min_kbps,
        } => format!(
            "Throughput is below the floor: {} at {kbps} kbit/s, under the {min_kbps} kbit/s the runner needs.",
            list(directions)
        ),
        RootCause::ClockSkew {
            host,
            skew_seconds,
            server_date,
        } => format!(
            "This machine's clock is {} {} than {host}'s (Date: {server_date}): GitHub's tokens are checked against the time, so the runner's sessions fail{}.",
            human_secs(skew_seconds.unsigned_abs()),
            if *skew_seconds > 0 { "ahead" } else { "behind" },
            if d.targets > 0 {
                format!(
                    ", and the certificates of {} look expired or not yet valid",
                    plural(d.targets, "name")
                )
            } else {
                String::new()
            }
        ),
        RootCause::UpdatePathBlocked {
            hosts,
            status,
            unlisted,
            stopped,
        } => {
            let mut why = Vec::new();
            if let Some(s) = status {
                why.push(format!("the chain ends in {s} instead of the file"));
            }
            if *stopped {
                why.push("the redirect cannot be followed as the runner follows it".to_string());
            }
            if *unlisted {
                why.push("it reaches a host the profile does not list, which rules built from the profile block".to_string());
            }
            format!(
                "The download the runner updates itself from does not arrive at {}: {}.",
                hosts.join(", "),
                why.join("; ")
            )
        }
        RootCause::PathMtuBlackHole {
            endpoints,
            works_at_mss,
            interface,
            interface_mtu,
            path_mtu,
        } => {
            let stalled: Vec<String> = endpoints
                .iter()
                .map(|e| {
                    format!(
                        "{} ({}{}, {})",
                        e.host,
                        e.addr,
                        e.stalled_at_mss.map(|m| format!(", MSS {m}")).unwrap_or_default(),
                        match (e.upload_bytes, e.phase) {
                            (Some(_), _) => "the upload stalls",
                            (None, Phase::Http) => "the answer stalls",
                            _ => "the TLS handshake stalls",
                        }
                    )
                })
                .collect();
            let via = match (interface, interface_mtu) {
                (Some(i), Some(m)) => format!(" The connections leave by {i} (MTU {m})"),
                (Some(i), None) => format!(" The connections leave by {i}"),
                _ => String::new(),
            };
            let via = match (via.is_empty(), path_mtu) {
                (false, Some(p)) => format!("{via}, and the kernel's path MTU stayed {p}: no ICMP came back to lower it."),
                (false, None) => format!("{via}."),
                (true, Some(p)) => format!(" The kernel's path MTU stayed {p}: no ICMP came back to lower it."),
                (true, None) => String::new(),
            };
            format!(
                "TCP connects but full-size packets never arrive: {} {}, while connections announcing MSS {works_at_mss} get through — a path-MTU black hole (a tunnel, VPN or overlay with a smaller MTU that filters ICMP \"fragmentation needed\" / \"packet too big\").{via}",
                stalled.join(", "),
                if endpoints.len() == 1 { "stalls" } else { "stall" },
            )
        }
        RootCause::ContainerSubnetOverlap {
            network,
            subnet,
            addresses,
            proxy,
        } => format!(
            "Docker's {network} uses {subnet}, which covers {}: a job container's traffic to {} stays on the bridge and never reaches {}, so container jobs stall while the host passes.",
            covered(addresses, *proxy, &d.hosts),
            if addresses.len() == 1 { "it" } else { "them" },
            if *proxy && d.hosts.is_empty() { "the proxy" } else if *proxy { "the proxy or GitHub" } else { "GitHub" },
        ),
        RootCause::ContainerMtu {
            network,
            mtu,
            mtu_from,
            uplink,
            uplink_mtu,
        } => format!(
            "Docker's {network} has MTU {mtu}{} but the uplink {uplink} carries {uplink_mtu}: container jobs send packets the path cannot carry (TLS handshakes and downloads stall) while the host passes.",
            match mtu_from.as_str() {
                "daemon_json" => " (daemon.json \"mtu\")",
                "network_option" => " (its com.docker.network.driver.mtu option)",
                _ => "",
            }
        ),
        RootCause::ContainerPoolOverlap {
            pool,
            default_pool,
            addresses,
            proxy,
        } => format!(
            "Docker takes job networks from {pool}{}, which covers {}: a job network given that subnet would cut container jobs off from {}.",
            if *default_pool { " (one of its default address pools)" } else { " (default-address-pools in daemon.json)" },
            covered(addresses, *proxy, &d.hosts),
            if addresses.len() == 1 { "it" } else { "them" },
        ),
        RootCause::ContainerDaemonConfig { problem } => format!(
            "{}: Docker would not start with it, and the container-jobs check could not read its mtu, bip or default-address-pools.",
            super::words_container::daemon_problem(problem)
        ),
        RootCause::NoIpv4Route { names: hosts, dns64 } => format!(
            "This host has no IPv4 route and {} {} no IPv6 address: add IPv4 or DNS64 + NAT64.{}",
            names(hosts),
            if hosts.len() == 1 { "has" } else { "have" },
            match dns64 {
                Some(Dns64::Absent) => " The resolver synthesises no AAAA records (ipv4only.arpa has none): there is no DNS64.",
                Some(Dns64::Prefix { .. }) | None => "",
            }
        ),
        RootCause::TimeLimit { limit_ms, names: k } => format!(
            "{} {} not finished within the run's time limit of {} (--max-time).",
            plural(*k, "name"),
            if *k == 1 { "was" } else { "were" },
            fmt_duration(std::time::Duration::from_millis(*limit_ms))
        ),
        RootCause::SharedAddressFails { address, .. } => format!(
            "{n} fail the same way at the one address they share, {address}: {}",
            detail.unwrap_or("no cause recorded")
        ),
        RootCause::Unexplained {
            host, direction, ..
        } => {
            let what = match (direction, host) {
                (Some(dir), _) => format!("throughput {dir}"),
                (None, Some(h)) => h.clone(),
                (None, None) => "a check".into(),
            };
            format!(
                "{what}: {}",
                detail.unwrap_or("no cause recorded (nothing else in this run explains it)")
            )
        }
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// "ghes.corp.internal and the 17 names under it (*.ghes.corp.internal)" when one of `hosts`
/// is the parent of all the others (a GHES hostname and its subdomains), else the list.
fn names_under(hosts: &[String]) -> String {
    let parent = hosts.iter().find(|p| {
        hosts.len() > 2
            && hosts
                .iter()
                .all(|h| h == *p || h.ends_with(&format!(".{p}")))
    });
    match parent {
        Some(p) => format!("{p} and the {} names under it (*.{p})", hosts.len() - 1),
        None => list(hosts),
    }
}

/// The distinct ports of `servers`, in order.
fn sorted_ports(servers: &[std::net::SocketAddr]) -> Vec<u16> {
    let mut ports: Vec<u16> = servers.iter().map(|s| s.port()).collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// What to do about a cause, in concrete terms.
pub fn fix(d: &Diagnosis) -> String {
    match &d.cause {
        RootCause::ResolverUnreachable {
            servers, how, given, ..
        } => {
            // The servers, and the ports they were asked on (a `--dns-server` may name any port).
            let named = if servers.is_empty() {
                "the DNS server".to_string()
            } else {
                list(servers)
            };
            let ports = sorted_ports(servers);
            let on = if ports.is_empty() {
                "port 53".to_string()
            } else {
                format!(
                    "{} {}",
                    if ports.len() == 1 { "port" } else { "ports" },
                    list(&ports)
                )
            };
            // Where the servers came from is where the fix goes.
            let instead = if *given {
                "or give --dns-server a resolver that answers"
            } else {
                "or point /etc/resolv.conf at a resolver that answers"
            };
            match how {
                Silence::NoServers => "add a nameserver line to /etc/resolv.conf (or give --dns-server), then run again".into(),
                Silence::NothingListens => format!(
                    "start the DNS server on {named} (UDP and TCP {on}), or check the address and port, {instead}; then run again"
                ),
                _ => format!(
                    "make {named} answer DNS on UDP and TCP {on} from this machine (a firewall dropping {on}, or the server down), {instead}; behind a proxy, set https_proxy instead (the proxy resolves names); then run again"
                ),
            }
        }
        RootCause::DnsNxdomain {
            servers,
            variable: Some(var),
            ..
        } => format!(
            "add a record for {} to the DNS server {} (or to the zone it forwards to), or check --var {var} (the instance's name as this machine should reach it); then run again",
            names_under(&d.hosts),
            list(&servers.iter().map(|s| s.ip()).collect::<Vec<_>>()),
        ),
        RootCause::DnsNxdomain { servers, zones, .. } => format!(
            "ask whoever runs the DNS server {} to resolve {} publicly (remove the internal zone or the filter rule for them), or use a resolver that does",
            list(&servers.iter().map(|s| s.ip()).collect::<Vec<_>>()),
            list(zones)
        ),
        RootCause::OsResolverDisagrees { how, .. } => match how {
            OsResolver::Fails => "check the hosts: line of /etc/nsswitch.conf and the local resolver (getent hosts NAME shows what the runner gets; resolvectl query NAME with systemd-resolved)".into(),
            OsResolver::OtherAddresses => format!(
                "remove or correct the entries for {} in /etc/hosts (getent hosts NAME shows what the runner gets)",
                names(&d.hosts)
            ),
        },
        RootCause::ProxyNeeded { ports: p, prefixes: pf, .. } => format!(
            "set https_proxy (and http_proxy) to your organisation's proxy, in the runner's .env when it runs as a service, and run again; or ask the network team to allow outbound TCP {} to {}",
            ports(p),
            prefix_list(pf)
        ),
        RootCause::DirectBlockedProxyWorks { proxy, no_proxy, .. } => format!(
            "remove {} from no_proxy{} so they go through {proxy}, or ask the network team to allow them directly",
            names(&d.hosts),
            no_proxy.as_ref().map(|n| format!(" (now `{n}`)")).unwrap_or_default()
        ),
        RootCause::TcpBlocked { port, prefixes: pf, .. } => format!(
            "ask the network team to allow outbound TCP {port} to {} (or set https_proxy if direct egress is not allowed here)",
            prefix_list(pf)
        ),
        RootCause::HostBlocked { host, port, addresses, .. } => format!(
            "ask the network team to allow outbound TCP {port} to {host} ({})",
            list(&addresses.iter().map(|a| a.ip()).collect::<Vec<_>>())
        ),
        RootCause::PortBlocked { port, .. } => format!(
            "ask the network team to allow outbound TCP {port} to {} too",
            names(&d.hosts)
        ),
        RootCause::FamilyBlocked { family, .. } => format!(
            "give this host working {0} egress, or stop it from using {0} for these names (no {0} default route, or prefer the other family in /etc/gai.conf)",
            family.label()
        ),
        RootCause::ProxyFails { proxy, how, zones, credentials, .. } => match how {
            ProxyHow::Unreachable => format!(
                "check the proxy URL {proxy} in https_proxy / http_proxy (host and port), and that the proxy runs and accepts connections from this machine"
            ),
            ProxyHow::Broken => format!(
                "check that {proxy} is an HTTP proxy that supports CONNECT, and look in its logs for these names"
            ),
            ProxyHow::AuthRequired if *credentials => {
                "correct the user and password in the proxy URL (https_proxy=http://user:password@host:port)".into()
            }
            ProxyHow::AuthRequired => {
                "put the proxy's user and password in its URL: https_proxy=http://user:password@host:port".into()
            }
            ProxyHow::AuthUnsupported => {
                "run a local authenticating relay such as cntlm or px on this machine, which speaks NTLM/Negotiate to the proxy for the runner, and point https_proxy at it (e.g. https_proxy=http://127.0.0.1:3128); or ask the proxy's administrators to exempt the runner host from authentication or to offer Basic".into()
            }
            ProxyHow::Forbidden => format!(
                "ask the proxy's administrators to allow {} (CONNECT to port 443)",
                list(zones)
            ),
            ProxyHow::Upstream => format!(
                "ask the proxy's administrators to let the proxy reach {}",
                list(zones)
            ),
        },
        RootCause::TlsInterception { issuer, missing_in, anchor_file, .. } => {
            let file = anchor_file
                .clone()
                .unwrap_or_else(|| format!("<a PEM file holding the CA certificate of \"{issuer}\">"));
            let mut steps = Vec::new();
            for s in missing_in {
                steps.push(match s {
                    StoreName::Runner => format!(
                        "the OS store (copy {file} to /usr/local/share/ca-certificates/NAME.crt and run update-ca-certificates)"
                    ),
                    StoreName::Git => format!("git (git config --system http.sslCAInfo {file}, or the OS bundle above)"),
                    StoreName::Node => format!("node (NODE_EXTRA_CA_CERTS={file} in the runner's .env)"),
                });
            }
            if steps.is_empty() {
                format!(
                    "if \"{issuer}\" is your organisation's inspecting proxy nothing is missing; otherwise find out who re-signs this traffic"
                )
            } else {
                format!(
                    "if \"{issuer}\" is your organisation's inspecting proxy, add its CA certificate to {}; otherwise find out who re-signs this traffic",
                    list(&steps)
                )
            }
        }
        RootCause::NoTrustRoots { .. } => "install the CA bundle (apt-get install ca-certificates), or check SSL_CERT_FILE / SSL_CERT_DIR, which point at an empty store; a private CA goes in with --ca-file and the OS store".into(),
        RootCause::CertificateInvalid { problem, issuer, .. } => match problem {
            CertProblem::Expired => format!(
                "whoever runs what answers for {} must renew its certificate; if \"{issuer}\" is not the service's own CA, something intercepts this traffic",
                names(&d.hosts)
            ),
            CertProblem::NotYetValid => "check this machine's clock (NTP), then the server's certificate".into(),
            CertProblem::WrongName => format!(
                "find out what answers at these addresses instead of {} (a proxy, a load balancer, a wrong DNS or /etc/hosts entry)",
                names(&d.hosts)
            ),
            CertProblem::SelfSigned => "find out what presents this certificate (a middlebox?); if it is trusted on purpose, add it with --ca-file and to the runner's trust stores".into(),
        },
        RootCause::MiddleboxAnswers { server, .. } => format!(
            "find the device that answers{} and let {} through it (allow-list {}, or bypass it)",
            server.as_ref().map(|s| format!(" (Server: {s})")).unwrap_or_default(),
            names(&d.hosts),
            if d.hosts.len() == 1 { "it" } else { "them" }
        ),
        RootCause::ThroughputBelowFloor { min_kbps, .. } => format!(
            "find the link or shaper that limits this host (a proxy, a rate-limited VPN, a congested uplink): the runner needs at least {min_kbps} kbit/s up and down"
        ),
        RootCause::ClockSkew { .. } => "synchronise the clock (NTP: systemd-timesyncd, chrony)".into(),
        RootCause::TimeLimit { .. } => "raise --max-time, or fix what makes these names slow (their rows show with --verbose)".into(),
        RootCause::UpdatePathBlocked { hosts, .. } => format!(
            "allow HTTPS (443) to {} — the redirect targets of github.com's release downloads (release-assets.githubusercontent.com) — through the firewall and proxy; without it runner updates and most setup-* actions fail",
            hosts.join(", ")
        ),
        RootCause::NoIpv4Route { .. } => "give this host an IPv4 route (a default route through a gateway or NAT), or make its resolver synthesise AAAA records (DNS64, e.g. unbound's dns64 module with the prefix 64:ff9b::/96) and run a NAT64 gateway for that prefix (e.g. tayga or jool, or the cloud's NAT64): github.com, api.github.com, codeload.github.com and *.actions.githubusercontent.com have no IPv6 address of their own".into(),
        RootCause::PathMtuBlackHole { works_at_mss, interface, .. } => format!(
            "clamp the TCP MSS on the tunnel or VPN that carries this traffic (e.g. iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu, or --set-mss {works_at_mss}); or let ICMP type 3 code 4 (IPv4 \"fragmentation needed\") and ICMPv6 type 2 (\"packet too big\") through the firewalls on the way; or lower the MTU of {} to {} (ip link set dev {} mtu {}); container jobs need the same MTU on Docker's bridge (\"mtu\" in /etc/docker/daemon.json)",
            interface.as_deref().unwrap_or("the outgoing interface"),
            works_at_mss + 40,
            interface.as_deref().unwrap_or("IFACE"),
            works_at_mss + 40
        ),
        RootCause::ContainerSubnetOverlap { network, subnet, .. } => format!(
            "move Docker's {network} off {subnet}: remove or recreate that network elsewhere (docker network rm; for docker0 set \"bip\" in /etc/docker/daemon.json), and give Docker pools that avoid every address the runner needs (\"default-address-pools\" in daemon.json), then restart Docker"
        ),
        RootCause::ContainerMtu { network, uplink_mtu, .. } => format!(
            "set Docker's MTU to {uplink_mtu} or less: \"mtu\": {uplink_mtu} in /etc/docker/daemon.json for the default bridge, and for the networks the runner creates per job \"default-network-opts\": {{\"bridge\": {{\"com.docker.network.driver.mtu\": \"{uplink_mtu}\"}}}} (Docker 24 and later; -o com.docker.network.driver.mtu={uplink_mtu} for a network you create yourself), then restart Docker; or clamp the MSS on forwarded traffic (iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu) so {network}'s containers get segments the uplink carries"
        ),
        RootCause::ContainerPoolOverlap { pool, .. } => format!(
            "set \"default-address-pools\" in /etc/docker/daemon.json to ranges that avoid every address the runner needs (e.g. [{{\"base\": \"10.201.0.0/16\", \"size\": 24}}] when that range is free here) instead of {pool}, then restart Docker"
        ),
        RootCause::ContainerDaemonConfig { .. } => "fix /etc/docker/daemon.json (dockerd --validate checks it), then restart Docker".into(),
        RootCause::SharedAddressFails { address, phase, .. } => {
            let (ip, p) = (address.ip(), address.port());
            let what = match phase {
                Some(Phase::Tcp) => format!("ask the network team to allow outbound TCP {p} to {ip}"),
                Some(Phase::Tls) => format!("find out what answers TLS at {address} (openssl s_client -connect {address} -servername NAME)"),
                Some(Phase::Http) => format!("find out what answers HTTP at {address} (curl -v --connect-to NAME:{p}:{ip}:{p} https://NAME/)"),
                _ => format!("find out what happens at {address}"),
            };
            format!("{what}: one server or path serves all of {}, so fix it once rather than name by name", list(&d.hosts))
        }
        RootCause::Unexplained { host, phase, port, direction } => {
            let h = host.clone().unwrap_or_default();
            let p = port.unwrap_or(443);
            match (direction, phase) {
                (Some(d), _) => format!(
                    "the {d} measurement failed before any rate was measured: see the throughput section below (--throughput-url and --upload-url choose other endpoints)"
                ),
                (None, Some(Phase::Dns)) => format!("ask whoever runs the DNS server why it answers so for {h} (dig {h})"),
                (None, Some(Phase::Tcp)) => format!("ask the network team to allow outbound TCP {p} to {h}"),
                (None, Some(Phase::Tls)) => format!("find out what answers TLS for {h} (openssl s_client -connect {h}:{p} -servername {h})"),
                (None, Some(Phase::Http)) => format!("find out what answers HTTP for {h} (curl -v https://{h}/)"),
                (None, None) => format!("see the row of {h} below"),
            }
        }
    }
}

/// "essential, api and throughput"
pub fn blocks(d: &Diagnosis) -> String {
    list(&d.blocks)
}

/// The Diagnosis block of the table (and of `explain`): numbered causes, each with what it
/// blocks, its summary and its fix. Empty when there is nothing to diagnose.
pub fn block(diagnosis: &[Diagnosis], details: &Details) -> String {
    if diagnosis.is_empty() {
        return String::new();
    }
    let mut s = format!("Diagnosis — {}\n", plural(diagnosis.len(), "cause"));
    for d in diagnosis {
        let blocks = if d.blocks.is_empty() {
            String::new()
        } else {
            format!(
                " — blocks {}{}",
                blocks(d),
                if d.gating { " (gating)" } else { "" }
            )
        };
        let count = if d.hosts.is_empty() {
            String::new()
        } else {
            format!(" ({})", n_names(d))
        };
        s.push_str(&format!(
            "  {}. {}  {}{blocks}{count}\n     {}\n     fix: {}\n",
            d.id,
            d.verdict.label(),
            title(&d.cause),
            summary(d, details.get(&d.id).map(String::as_str)),
            fix(d)
        ));
    }
    s
}

/// The Diagnosis section of the Markdown summary.
pub fn markdown(diagnosis: &[Diagnosis], details: &Details) -> String {
    if diagnosis.is_empty() {
        return String::new();
    }
    let cell = super::escape::markdown_cell;
    let mut s = format!("### Diagnosis: {}\n\n", plural(diagnosis.len(), "cause"));
    for d in diagnosis {
        let badge = match d.verdict {
            Verdict::Fail => "❌",
            Verdict::Warn => "⚠️",
            _ => "",
        };
        s.push_str(&format!(
            "{}. {badge} **{}**{} — {}<br>\n   **Fix:** {}\n",
            d.id,
            cell(&title(&d.cause)),
            if d.blocks.is_empty() {
                String::new()
            } else {
                format!(
                    " (blocks {})",
                    d.blocks
                        .iter()
                        .map(|b| format!("`{b}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            cell(&summary(d, details.get(&d.id).map(String::as_str))),
            cell(&fix(d))
        ));
    }
    s
}

/// "see cause 2: DNS server not answering"
pub fn reference(d: &Diagnosis) -> String {
    format!("see cause {}: {}", d.id, title(&d.cause))
}

/// "192.0.2.10 (github.com) and the proxy 198.51.100.7": covered addresses in words.
fn covered(addresses: &[std::net::IpAddr], proxy: bool, hosts: &[String]) -> String {
    let shown: Vec<String> = addresses.iter().take(5).map(|a| a.to_string()).collect();
    let more = addresses.len().saturating_sub(shown.len());
    let mut out = shown.join(", ");
    if more > 0 {
        out.push_str(&format!(" and {more} more"));
    }
    match (hosts.is_empty(), proxy) {
        (false, true) => format!("{out} (the proxy's, and {})", names(hosts)),
        (false, false) => format!("{out} ({})", names(hosts)),
        (true, true) => format!("{out} (the proxy's)"),
        (true, false) => out,
    }
}
