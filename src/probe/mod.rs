//! The prober: every target concurrently (bounded), each through DNS → TCP → TLS → HTTP.
//!
//! Probes produce [`TargetResult`]s and know nothing of output formats.

pub mod connect;
pub mod dns;
pub mod http;
pub mod long_poll;
pub mod overrides;
pub mod tcp;
pub mod throughput;
pub mod tls;
pub mod via_proxy;

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{OnceCell, Semaphore};

use crate::plan::{Endpoint, Proto, Target};
use crate::report::{
    target_verdict, AddressRecord, Check, DnsOutcome, DnsSource, Family, Phase, Route,
    TargetResult, Verdict,
};
use overrides::{ConnectTo, Resolve};

/// How DNS is asked.
#[derive(Debug, Clone)]
pub enum DnsMode {
    /// The system configuration: our queries to the resolv.conf servers, cross-checked with the
    /// operating system's resolver (which the runner itself uses).
    System,
    /// `--dns-server`: only these servers.
    Servers(Vec<SocketAddr>),
}

#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// Bound for each phase (DNS question, TCP connect, TLS handshake, HTTP response).
    pub timeout: Duration,
    /// Names probed at once.
    pub concurrency: usize,
    /// The whole run stops after this, whatever is left.
    pub max_time: Duration,
    pub dns: DnsMode,
    pub resolve: Vec<Resolve>,
    pub connect_to: Vec<ConnectTo>,
    pub trust: tls::Trust,
    /// The proxies the runner would use (none: every name direct).
    pub proxy: crate::proxy::ProxySettings,
    /// The runner, git and node trust stores each TLS chain is checked against.
    pub stores: Option<Arc<crate::trust::Stores>>,
}

/// Told about progress; the CLI draws it.
pub trait Progress: Send + Sync {
    fn start(&self, total: usize);
    fn done(&self, host: &str, verdict: Verdict);
}

/// A progress sink that says nothing.
pub struct Silent;
impl Progress for Silent {
    fn start(&self, _: usize) {}
    fn done(&self, _: &str, _: Verdict) {}
}

struct Shared {
    cfg: ProbeConfig,
    dns_client: Option<dns::DnsClient>,
    dns_cache: std::sync::Mutex<HashMap<String, Arc<OnceCell<DnsOutcome>>>>,
    sem: Semaphore,
}

/// Probe every target. Finishes within `max_time` (plus a little to assemble results).
pub async fn run(
    targets: Vec<Target>,
    cfg: ProbeConfig,
    progress: Arc<dyn Progress>,
) -> HashMap<Target, TargetResult> {
    let dns_client = match &cfg.dns {
        DnsMode::Servers(s) => Some(dns::DnsClient {
            servers: s.clone(),
            timeout: cfg.timeout,
        }),
        DnsMode::System => dns::system_servers().ok().map(|servers| dns::DnsClient {
            servers,
            timeout: cfg.timeout,
        }),
    };
    let shared = Arc::new(Shared {
        dns_client,
        dns_cache: std::sync::Mutex::new(HashMap::new()),
        sem: Semaphore::new(cfg.concurrency.max(1)),
        cfg,
    });
    progress.start(targets.len());
    let deadline = tokio::time::Instant::now() + shared.cfg.max_time;
    let mut set = tokio::task::JoinSet::new();
    for t in targets.iter().cloned() {
        let shared = shared.clone();
        let progress = progress.clone();
        set.spawn(async move {
            let started = Instant::now();
            let res = tokio::time::timeout_at(deadline, async {
                let _permit = shared.sem.acquire().await.expect("semaphore never closed");
                probe_target(&shared, &t).await
            })
            .await;
            let res = res.unwrap_or_else(|_| unfinished(&t, &shared.cfg, started));
            progress.done(&t.host, res.verdict);
            (t, res)
        });
    }
    let mut out = HashMap::new();
    while let Some(r) = set.join_next().await {
        if let Ok((t, res)) = r {
            out.insert(t, res);
        }
    }
    // A task that panicked (it should not) still leaves a truthful entry.
    for t in targets {
        out.entry(t.clone()).or_insert_with(|| TargetResult {
            host: t.host.clone(),
            route: Route::Direct,
            verdict: Verdict::Fail,
            cause: Some("internal error while probing this name".into()),
            dns: empty_dns(Verdict::Fail, Some("not probed".into())),
            checks: vec![],
            ms: 0,
        });
    }
    out
}

fn unfinished(t: &Target, cfg: &ProbeConfig, started: Instant) -> TargetResult {
    let cause = format!(
        "not finished within the run's time limit of {} (--max-time)",
        dns::fmt_duration(cfg.max_time)
    );
    TargetResult {
        host: t.host.clone(),
        route: if t.endpoints.iter().any(|ep| {
            cfg.proxy
                .route(&t.host, ep.port, ep.proto == Proto::Https)
                .is_some()
        }) {
            Route::Proxy
        } else {
            Route::Direct
        },
        verdict: Verdict::Fail,
        cause: Some(cause.clone()),
        dns: empty_dns(Verdict::Fail, Some(cause)),
        checks: vec![],
        ms: started.elapsed().as_millis() as u64,
    }
}

fn empty_dns(verdict: Verdict, error: Option<String>) -> DnsOutcome {
    DnsOutcome {
        verdict,
        source: DnsSource::Dns,
        server: None,
        chain: vec![],
        addresses: vec![],
        min_ttl: None,
        error,
        notes: vec![],
        ms: 0,
    }
}

async fn probe_target(shared: &Shared, t: &Target) -> TargetResult {
    let started = Instant::now();
    let ports: Vec<u16> = t.endpoints.iter().map(|e| e.port).collect();
    // --resolve covering every port of this target: DNS is not needed for it (as in curl).
    // Otherwise DNS is asked once per name (cached), and covered ports still use --resolve.
    let mut dns = match override_outcome(&shared.cfg, &t.host, &ports) {
        Some(o) => o,
        None => {
            let cell = {
                let mut cache = shared.dns_cache.lock().expect("dns cache lock");
                cache.entry(t.host.clone()).or_default().clone()
            };
            cell.get_or_init(|| resolve_name(shared, &t.host))
                .await
                .clone()
        }
    };
    let proxies: Vec<_> = t
        .endpoints
        .iter()
        .map(|ep| {
            shared
                .cfg
                .proxy
                .route(&t.host, ep.port, ep.proto == Proto::Https)
        })
        .collect();
    if !proxies.is_empty() && proxies.iter().all(Option::is_some) {
        dns = via_proxy::dns_not_needed(dns);
    }
    let mut checks = Vec::new();
    for (ep, proxy) in t.endpoints.iter().zip(&proxies) {
        match proxy {
            Some(p) => checks.extend(via_proxy::probe_endpoint(&shared.cfg, &t.host, ep, p).await),
            None if dns.verdict != Verdict::Fail => {
                checks.extend(probe_endpoint(shared, &t.host, &dns, ep).await)
            }
            None => {}
        }
    }
    let (verdict, cause) = target_verdict(&dns, &checks);
    TargetResult {
        host: t.host.clone(),
        route: if proxies.iter().any(Option::is_some) {
            Route::Proxy
        } else {
            Route::Direct
        },
        verdict,
        cause,
        dns,
        checks,
        ms: started.elapsed().as_millis() as u64,
    }
}

fn min_ttl(chain: &[crate::report::ChainLink], addrs: &[AddressRecord]) -> Option<u32> {
    chain
        .iter()
        .map(|l| l.ttl)
        .chain(addrs.iter().filter_map(|a| a.ttl))
        .min()
}

/// TLS over an open connection (direct, or a CONNECT tunnel when `through_proxy`), then the
/// endpoint's HTTP check over the verified stream. `base` carries the port, family and address
/// the checks are about.
async fn tls_then_http(
    cfg: &ProbeConfig,
    host: &str,
    ep: &Endpoint,
    tcp: tokio::net::TcpStream,
    base: &Check,
    through_proxy: bool,
) -> Vec<Check> {
    let timeout = cfg.timeout;
    let started = Instant::now();
    let out = tls::handshake(&cfg.trust, host, tcp, timeout).await;
    let ms = started.elapsed().as_millis() as u64;
    let detail = match &out.error {
        Some(e) if through_proxy && out.presented.is_empty() && e.contains("timed out") => format!(
            "the proxy accepted CONNECT but no TLS handshake came back through the tunnel within {} (the proxy holds the tunnel open without relaying)",
            dns::fmt_duration(timeout)
        ),
        Some(e) => e.clone(),
        None if through_proxy => format!("{} (through the proxy)", tls::success_detail(&out.info)),
        None => tls::success_detail(&out.info),
    };
    let mut checks = vec![Check {
        phase: Phase::Tls,
        verdict: if out.error.is_some() {
            Verdict::Fail
        } else {
            Verdict::Pass
        },
        detail,
        ms,
        tls: Some(crate::trust::annotated(
            cfg.stores.as_deref(),
            host,
            &out.presented,
            out.info,
        )),
        ..base.clone()
    }];
    if let (Some(stream), Some(spec)) = (out.stream, &ep.http) {
        let started = Instant::now();
        let h = http::request(stream, host, ep.port, true, spec, timeout).await;
        checks.push(Check {
            phase: Phase::Http,
            verdict: h.verdict,
            detail: h.detail,
            ms: started.elapsed().as_millis() as u64,
            http: Some(h.info),
            ..base.clone()
        });
    }
    checks
}

/// `--resolve` addresses for host:port (an entry for that port, else one for `*`).
fn resolve_override(cfg: &ProbeConfig, host: &str, port: u16) -> Vec<IpAddr> {
    let exact: Vec<IpAddr> = cfg
        .resolve
        .iter()
        .filter(|r| r.host == host && r.port == Some(port))
        .flat_map(|r| r.addrs.iter().copied())
        .collect();
    if !exact.is_empty() {
        return exact;
    }
    cfg.resolve
        .iter()
        .filter(|r| r.host == host && r.port.is_none())
        .flat_map(|r| r.addrs.iter().copied())
        .collect()
}

/// The DNS outcome when `--resolve` covers every port probed for `host`.
fn override_outcome(cfg: &ProbeConfig, host: &str, ports: &[u16]) -> Option<DnsOutcome> {
    let covered = !ports.is_empty()
        && ports
            .iter()
            .all(|p| !resolve_override(cfg, host, *p).is_empty());
    if !covered {
        return None;
    }
    let mut addrs: Vec<IpAddr> = Vec::new();
    for a in ports.iter().flat_map(|p| resolve_override(cfg, host, *p)) {
        if !addrs.contains(&a) {
            addrs.push(a);
        }
    }
    Some(DnsOutcome {
        verdict: Verdict::Pass,
        source: DnsSource::Override,
        server: None,
        chain: vec![],
        addresses: addrs
            .iter()
            .map(|a| AddressRecord {
                address: *a,
                family: Family::of(a),
                ttl: None,
            })
            .collect(),
        min_ttl: None,
        error: None,
        notes: vec!["addresses given by --resolve; DNS not asked".into()],
        ms: 0,
    })
}

async fn resolve_name(shared: &Shared, host: &str) -> DnsOutcome {
    let started = Instant::now();
    let ours = async {
        match &shared.dns_client {
            Some(c) => c.resolve(host).await,
            None => dns::Resolution {
                failure: Some(dns::DnsFailure::NoServers),
                ..Default::default()
            },
        }
    };
    // Ask the system resolver at the same time (only with the system configuration).
    let system = async {
        match shared.cfg.dns {
            DnsMode::System => Some(system_lookup(host, shared.cfg.timeout).await),
            DnsMode::Servers(_) => None,
        }
    };
    let (res, sys) = tokio::join!(ours, system);
    let mut out = DnsOutcome {
        verdict: if res.failure.is_some() {
            Verdict::Fail
        } else {
            Verdict::Pass
        },
        source: DnsSource::Dns,
        server: res.server.map(|s| s.to_string()),
        min_ttl: min_ttl(&res.chain, &res.addresses),
        chain: res.chain.clone(),
        addresses: res.addresses.clone(),
        error: res.failure.as_ref().map(|f| f.cause(host)),
        notes: vec![],
        ms: res.elapsed.as_millis() as u64,
    };
    if !res.addresses.is_empty() && res.failure.is_some() {
        // Addresses, but a broken chain for one record type (e.g. a loop on AAAA).
        out.verdict = Verdict::Warn;
        out.notes.push(out.error.take().unwrap_or_default());
    }
    if let Some(sys) = sys {
        cross_check_system(sys, &mut out);
    }
    out.ms = started.elapsed().as_millis() as u64;
    out
}

/// The runner resolves through the operating system (getaddrinfo: /etc/hosts, nsswitch, search
/// domains). Ask it too, use what it says for connecting, and say when it disagrees with DNS.
async fn system_lookup(host: &str, timeout: Duration) -> Result<BTreeSet<IpAddr>, String> {
    match tokio::time::timeout(timeout, tokio::net::lookup_host((host, 443))).await {
        Err(_) => Err(format!("no answer within {}", dns::fmt_duration(timeout))),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(it)) => Ok(it.map(|sa| sa.ip()).collect()),
    }
}

fn cross_check_system(sys: Result<BTreeSet<IpAddr>, String>, out: &mut DnsOutcome) {
    let ours: BTreeSet<IpAddr> = out.addresses.iter().map(|a| a.address).collect();
    match sys {
        Ok(sys) if sys.is_empty() => {}
        Ok(sys) => {
            if out.verdict == Verdict::Fail {
                out.notes.push(format!(
                    "the system resolver (e.g. /etc/hosts) returns {} although {}",
                    join_ips(&sys),
                    out.error.clone().unwrap_or_default()
                ));
                out.verdict = Verdict::Pass;
                out.error = None;
                out.source = DnsSource::System;
                out.addresses = sys
                    .iter()
                    .map(|a| AddressRecord {
                        address: *a,
                        family: Family::of(a),
                        ttl: None,
                    })
                    .collect();
            } else if sys != ours {
                out.notes.push(format!(
                    "the system resolver returns {} but DNS returns {}: the runner uses the system resolver's answer (an /etc/hosts entry?)",
                    join_ips(&sys),
                    join_ips(&ours)
                ));
                out.source = DnsSource::System;
                out.addresses = sys
                    .iter()
                    .map(|a| AddressRecord {
                        address: *a,
                        family: Family::of(a),
                        ttl: out
                            .addresses
                            .iter()
                            .find(|x| x.address == *a)
                            .and_then(|x| x.ttl),
                    })
                    .collect();
            }
        }
        Err(e) => {
            if out.verdict != Verdict::Fail {
                out.verdict = Verdict::Fail;
                out.error = Some(format!(
                    "DNS answers {}, but the system resolver, which the runner uses, fails: {e}",
                    join_ips(&ours)
                ));
            }
        }
    }
}

fn join_ips(s: &BTreeSet<IpAddr>) -> String {
    s.iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where to connect for (host, port): addresses and port after `--connect-to`.
async fn destinations(
    shared: &Shared,
    host: &str,
    port: u16,
    dns: &DnsOutcome,
) -> (Vec<SocketAddr>, Option<String>) {
    // --resolve for this port wins over DNS.
    let own: Vec<IpAddr> = match resolve_override(&shared.cfg, host, port) {
        v if !v.is_empty() => v,
        _ => dns.addresses.iter().map(|a| a.address).collect(),
    };
    apply_connect_to(&shared.cfg, host, port, &own).await
}

/// `--connect-to` applied to host:port whose own addresses are `own`: the addresses to dial, and
/// a note naming the rule when one applied. A CONNECT_HOST that is a name is looked up with the
/// system resolver.
pub(crate) async fn apply_connect_to(
    cfg: &ProbeConfig,
    host: &str,
    port: u16,
    own: &[IpAddr],
) -> (Vec<SocketAddr>, Option<String>) {
    let Some(rule) = cfg.connect_to.iter().find(|c| c.matches(host, port)) else {
        return (
            own.iter().map(|a| SocketAddr::new(*a, port)).collect(),
            None,
        );
    };
    let to_port = rule.to_port.unwrap_or(port);
    let note = format!(
        "--connect-to {}:{to_port}",
        rule.to_host.clone().unwrap_or_else(|| host.to_string())
    );
    let addrs = match &rule.to_host {
        None => own.iter().map(|a| SocketAddr::new(*a, to_port)).collect(),
        Some(h) => lookup_addrs(None, h, to_port, cfg.timeout)
            .await
            .unwrap_or_default(),
    };
    (addrs, Some(note))
}

async fn probe_endpoint(
    shared: &Shared,
    host: &str,
    dns: &DnsOutcome,
    ep: &Endpoint,
) -> Vec<Check> {
    let (dests, via) = destinations(shared, host, ep.port, dns).await;
    let mut checks = Vec::new();
    if dests.is_empty() {
        checks.push(Check {
            phase: Phase::Tcp,
            port: Some(ep.port),
            family: None,
            address: None,
            verdict: Verdict::Fail,
            detail: format!(
                "no address to connect to{}",
                via.map(|v| format!(" ({v} names a host that does not resolve)"))
                    .unwrap_or_default()
            ),
            ms: 0,
            tls: None,
            http: None,
        });
        return checks;
    }
    for family in [Family::Ipv4, Family::Ipv6] {
        let fam: Vec<SocketAddr> = dests
            .iter()
            .copied()
            .filter(|a| Family::of(&a.ip()) == family)
            .collect();
        if fam.is_empty() {
            continue;
        }
        let only_family = dests.iter().all(|a| Family::of(&a.ip()) == family);
        let mut got = probe_family(shared, host, ep, family, &fam, via.as_deref()).await;
        if only_family {
            for c in got
                .iter_mut()
                .filter(|c| c.phase == Phase::Tcp && c.verdict == Verdict::Fail)
            {
                if c.detail.contains("network unreachable") {
                    let other = match family {
                        Family::Ipv4 => "IPv6",
                        Family::Ipv6 => "IPv4",
                    };
                    c.detail = format!(
                        "{}; {host} has no {other} address, so a host with only {other} connectivity cannot reach it",
                        c.detail
                    );
                }
            }
        }
        checks.extend(got);
    }
    checks
}

async fn probe_family(
    shared: &Shared,
    host: &str,
    ep: &Endpoint,
    family: Family,
    addrs: &[SocketAddr],
    via: Option<&str>,
) -> Vec<Check> {
    let timeout = shared.cfg.timeout;
    let mut checks = Vec::new();
    let conn = tcp::connect_any(addrs, timeout).await;
    let via_note = via.map(|v| format!(" ({v})")).unwrap_or_default();
    let check = |phase, verdict, detail: String, ms, addr: Option<SocketAddr>| Check {
        phase,
        port: Some(ep.port),
        family: Some(family),
        address: addr.map(|a| a.to_string()),
        verdict,
        detail,
        ms,
        tls: None,
        http: None,
    };
    let (stream, addr) = match conn {
        Err(fail) => {
            checks.push(check(
                Phase::Tcp,
                Verdict::Fail,
                format!("{}{via_note}", fail.describe(ep.port, family)),
                fail.ms,
                fail.addr,
            ));
            return checks;
        }
        Ok((s, addr, ms)) => {
            checks.push(check(
                Phase::Tcp,
                Verdict::Pass,
                format!("connected to {addr}{via_note}"),
                ms,
                Some(addr),
            ));
            (s, addr)
        }
    };
    match ep.proto {
        Proto::Https => {
            let base = check(Phase::Tls, Verdict::Pass, String::new(), 0, Some(addr));
            checks.extend(tls_then_http(&shared.cfg, host, ep, stream, &base, false).await);
        }
        Proto::Http => {
            let spec = ep.http.clone().unwrap_or(crate::model::HttpSpec {
                method: crate::model::Method::Get,
                path: "/".into(),
                expect_header: None,
            });
            let started = Instant::now();
            let h = http::request(stream, host, ep.port, false, &spec, timeout).await;
            let mut c = check(
                Phase::Http,
                h.verdict,
                h.detail,
                started.elapsed().as_millis() as u64,
                Some(addr),
            );
            c.http = Some(h.info);
            checks.push(c);
        }
    }
    checks
}

/// Addresses of `host:port` for a connection outside the probes (throughput, /meta, a proxy's
/// name): an IP literal as it is, else the given DNS servers, else the system resolver, bounded
/// by `timeout`. Failures are in words ([`resolve_addrs`] gives them typed).
pub async fn lookup_addrs(
    dns_client: Option<&dns::DnsClient>,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, String> {
    resolve_addrs(dns_client, host, port, timeout)
        .await
        .map_err(|e| e.to_string())
}

/// Why [`resolve_addrs`] found no address. `Display` is the message [`lookup_addrs`] gives.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// The DNS servers (`--dns-server`) gave no address.
    #[error("{}", failure.cause(host))]
    Dns {
        host: String,
        failure: dns::DnsFailure,
    },
    /// An answer without addresses.
    #[error("DNS: no address for {host}")]
    NoAddress { host: String },
    /// The system resolver failed.
    #[error("DNS: cannot resolve {host}: {source}")]
    System {
        host: String,
        source: Arc<std::io::Error>,
    },
    /// The system resolver did not answer in time.
    #[error("DNS: no answer for {host} within {}", dns::fmt_duration(*after))]
    SystemTimeout { host: String, after: Duration },
}

/// [`lookup_addrs`] with the failure typed.
pub async fn resolve_addrs(
    dns_client: Option<&dns::DnsClient>,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, LookupError> {
    if let Ok(ip) = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let host_s = || host.to_string();
    let addrs: Vec<SocketAddr> = match dns_client {
        Some(c) => {
            let r = c.resolve(host).await;
            if r.addresses.is_empty() {
                return Err(match r.failure {
                    Some(failure) => LookupError::Dns {
                        host: host_s(),
                        failure,
                    },
                    None => LookupError::NoAddress { host: host_s() },
                });
            }
            r.addresses
                .iter()
                .map(|a| SocketAddr::new(a.address, port))
                .collect()
        }
        None => match tokio::time::timeout(timeout, tokio::net::lookup_host((host, port))).await {
            Ok(Ok(it)) => it.collect(),
            Ok(Err(e)) => {
                return Err(LookupError::System {
                    host: host_s(),
                    source: Arc::new(e),
                })
            }
            Err(_) => {
                return Err(LookupError::SystemTimeout {
                    host: host_s(),
                    after: timeout,
                })
            }
        },
    };
    if addrs.is_empty() {
        return Err(LookupError::NoAddress { host: host_s() });
    }
    Ok(addrs)
}

/// Addresses for host:port the way the prober finds them: `--connect-to`, `--resolve`, then
/// DNS (`--dns-server`) or the system resolver. Used by the throughput measurement.
pub struct Dialer {
    cfg: ProbeConfig,
    dns_client: Option<dns::DnsClient>,
}

impl Dialer {
    pub fn new(cfg: ProbeConfig) -> Dialer {
        let dns_client = match &cfg.dns {
            DnsMode::Servers(s) => Some(dns::DnsClient {
                servers: s.clone(),
                timeout: cfg.timeout,
            }),
            DnsMode::System => None,
        };
        Dialer { cfg, dns_client }
    }

    async fn lookup(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, LookupError> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let own = resolve_override(&self.cfg, host, port);
        if !own.is_empty() {
            return Ok(own.into_iter().map(|a| SocketAddr::new(a, port)).collect());
        }
        resolve_addrs(self.dns_client.as_ref(), host, port, self.cfg.timeout).await
    }
}

impl throughput::Dial for Dialer {
    fn proxy(&self, host: &str, port: u16, tls: bool) -> Option<crate::proxy::ProxyUrl> {
        self.cfg.proxy.route(host, port, tls).map(|p| p.url.clone())
    }

    fn addresses<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<Vec<SocketAddr>, throughput::AddressError>>
                + Send
                + 'a,
        >,
    > {
        Box::pin(async move {
            // The name's own addresses are needed unless a --connect-to rule names the host.
            let rule = self.cfg.connect_to.iter().find(|c| c.matches(host, port));
            let own: Vec<IpAddr> = match rule.and_then(|r| r.to_host.as_ref()) {
                Some(_) => Vec::new(),
                None => self
                    .lookup(host, port)
                    .await?
                    .iter()
                    .map(|a| a.ip())
                    .collect(),
            };
            let (addrs, note) = apply_connect_to(&self.cfg, host, port, &own).await;
            if addrs.is_empty() {
                return Err(throughput::AddressError::NoneToConnect {
                    host: host.to_string(),
                    port,
                    connect_to: note,
                });
            }
            Ok(addrs)
        })
    }
}
