//! The prober: every target concurrently (bounded), each through DNS → TCP → TLS → HTTP.
//!
//! Probes produce typed [`outcome::TargetOutcome`]s: what was observed, with typed failures.
//! They decide no verdict, write no prose and know nothing of output formats.

pub mod connect;
pub mod dns;
pub mod docker;
pub mod http;
pub mod long_poll;
pub mod lookup;
pub mod nat64;
pub mod outcome;
pub mod overrides;
pub mod path;
pub mod quota;
pub mod redirect;
pub mod release;
pub mod tcp;
pub mod throughput;
pub mod tls;
pub mod via_proxy;

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{watch, OnceCell, Semaphore};

pub use lookup::{lookup_addrs, LookupFailure, LookupWhy};
use outcome::{
    AddressRecord, ChainLink, CheckObservation, DnsObservation, DnsSource, Incomplete, Redirected,
    Step, SystemLookup, TargetOutcome, TcpFailure,
};
use overrides::{ConnectTo, Resolve};

use crate::env::trust::{Stores, Trust};
use crate::model::{Family, HttpSpec, Route};
use crate::plan::{Endpoint, Proto, Target};

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
    pub trust: Trust,
    /// The proxies the runner would use (none: every name direct).
    pub proxy: crate::env::proxy::ProxySettings,
    /// The runner, git and node trust stores each TLS chain is checked against.
    pub stores: Option<Arc<Stores>>,
    /// The OS and architecture whose runner package `runner_release: latest` downloads.
    pub runner_platform: crate::model::RunnerPlatform,
    /// This host's interfaces and routes (the outgoing interface of each connection, its MTU).
    pub network: Arc<crate::env::net::Network>,
    /// When the run's probes started: each check's `start_ms` counts from it (reset by each
    /// [`Prober`]).
    pub epoch: Instant,
}

/// Told about progress as each target's observation is complete; the command layer draws it.
pub trait Progress: Send + Sync {
    fn start(&self, total: usize);
    fn done(&self, outcome: &TargetOutcome);
}

/// A progress sink that says nothing.
pub struct Silent;
impl Progress for Silent {
    fn start(&self, _: usize) {}
    fn done(&self, _: &TargetOutcome) {}
}

struct Shared {
    cfg: ProbeConfig,
    dns_client: Option<dns::DnsClient>,
    dns_cache: std::sync::Mutex<HashMap<String, Arc<OnceCell<DnsObservation>>>>,
    sem: Semaphore,
    /// Per probed name: set once one of its probes has a TCP connection (or all have ended).
    connected: HashMap<String, watch::Sender<bool>>,
    /// What `ipv4only.arpa` shows about DNS64, asked once when a name needs it.
    dns64: OnceCell<Option<nat64::Dns64>>,
    /// The latest runner release once the redirect probes have asked for it (`Some(None)`: not
    /// asked, or not learned), so that what needs it starts before the chains end.
    latest: watch::Sender<Option<Option<crate::model::RunnerVersion>>>,
}

impl Shared {
    fn mark_connected(&self, host: &str) {
        if let Some(tx) = self.connected.get(host) {
            tx.send_replace(true);
        }
    }
}

impl Shared {
    fn new(mut cfg: ProbeConfig) -> Shared {
        cfg.epoch = Instant::now();
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
        Shared {
            dns_client,
            dns_cache: std::sync::Mutex::new(HashMap::new()),
            sem: Semaphore::new(cfg.concurrency.max(1)),
            connected: HashMap::new(),
            dns64: OnceCell::new(),
            latest: watch::channel(None).0,
            cfg,
        }
    }
}

/// Probe every target. Finishes within `max_time` (plus a little to assemble results).
pub async fn run(
    targets: Vec<Target>,
    cfg: ProbeConfig,
    progress: Arc<dyn Progress>,
) -> HashMap<Target, TargetOutcome> {
    Prober::new(&targets, cfg).run(targets, progress).await
}

/// One run of the prober, shared with what runs beside it: the throughput measurement waits
/// for its name's probe to connect ([`Prober::connected`]) and dials with the probes' DNS
/// answers ([`Prober::dialer`]), so that it starts while the other names are still probed and
/// asks no DNS question twice.
pub struct Prober {
    shared: Arc<Shared>,
}

impl Prober {
    /// A prober for `targets` (their names are the ones [`Prober::connected`] knows).
    pub fn new(targets: &[Target], cfg: ProbeConfig) -> Prober {
        let mut shared = Shared::new(cfg);
        shared.connected = targets
            .iter()
            .map(|t| (t.host.clone(), watch::channel(false).0))
            .collect();
        Prober {
            shared: Arc::new(shared),
        }
    }

    /// Returns once a probe of `host` has opened a TCP connection (to the name or through its
    /// proxy), or every probe of it has ended without one, or the run has ended; at once for a
    /// name that is not probed.
    pub async fn connected(&self, host: &str) {
        if let Some(tx) = self.shared.connected.get(host) {
            let mut rx = tx.subscribe();
            let _ = rx.wait_for(|done| *done).await;
        }
    }

    /// A dialer for connections beside the probes (throughput): the probes' DNS answers for
    /// the names they probe, its own lookups for any other.
    pub fn dialer(&self) -> Dialer {
        Dialer {
            cfg: self.shared.cfg.clone(),
            dns_client: own_dns_client(&self.shared.cfg),
            probes: Some(self.shared.clone()),
        }
    }

    /// The latest runner release as [`Prober::follow_redirects`] learns it: returns as soon as
    /// its lookup has answered (`None` when no redirect asks for it, or it was not learned).
    pub async fn latest_release(&self) -> Option<crate::model::RunnerVersion> {
        let mut rx = self.shared.latest.subscribe();
        let known = rx.wait_for(Option::is_some).await.ok()?;
        (*known).flatten()
    }

    /// Follow `redirects` (runner updates) beside the probes, with their DNS answers: a hop to
    /// a probed name waits for, and reuses, the probe's resolution.
    pub async fn follow_redirects(
        &self,
        redirects: Vec<crate::plan::PlannedRedirect>,
    ) -> HashMap<crate::plan::PlannedRedirect, redirect::RedirectObservation> {
        redirect::follow_shared(self.shared.clone(), redirects).await
    }

    /// Probe `targets`. Finishes within `max_time` (plus a little to assemble results).
    pub async fn run(
        &self,
        targets: Vec<Target>,
        progress: Arc<dyn Progress>,
    ) -> HashMap<Target, TargetOutcome> {
        let out = run_shared(&self.shared, targets, progress).await;
        // Nobody waits for a connection that will not come.
        for tx in self.shared.connected.values() {
            tx.send_replace(true);
        }
        out
    }
}

async fn run_shared(
    shared: &Arc<Shared>,
    targets: Vec<Target>,
    progress: Arc<dyn Progress>,
) -> HashMap<Target, TargetOutcome> {
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
            progress.done(&res);
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
        out.entry(t.clone()).or_insert_with(|| TargetOutcome {
            host: t.host.clone(),
            route: Route::Direct,
            dns: DnsObservation::none(),
            checks: vec![],
            ms: 0,
            incomplete: Some(Incomplete::Internal),
        });
    }
    out
}

fn unfinished(t: &Target, cfg: &ProbeConfig, started: Instant) -> TargetOutcome {
    TargetOutcome {
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
        dns: DnsObservation::none(),
        checks: vec![],
        ms: started.elapsed().as_millis() as u64,
        incomplete: Some(Incomplete::MaxTime {
            limit: cfg.max_time,
        }),
    }
}

async fn probe_target(shared: &Shared, t: &Target) -> TargetOutcome {
    let out = probe_target_inner(shared, t).await;
    // Through a proxy, or when no connection could be made: the name's probe is over.
    shared.mark_connected(&t.host);
    out
}

async fn probe_target_inner(shared: &Shared, t: &Target) -> TargetOutcome {
    let opened = open_target(shared, &t.host, &t.endpoints).await;
    finish_target(shared, opened, t).await
}

/// A probe opened up to its requests: DNS asked, each direct endpoint's connections made (TCP,
/// then TLS for https), no request sent yet. A probe is an [`open_target`] then a
/// [`finish_target`]; a redirect hop whose host the profile names in advance is opened while
/// the hop before it is still waiting for its answer ([`redirect`]), so that the chain costs
/// one request more than a single name, not a whole second probe.
struct Opened {
    host: String,
    /// How long the opening took (a hop opened ahead may wait before its request: that wait
    /// is not the hop's time).
    open_ms: u64,
    route: Route,
    dns: DnsObservation,
    /// Per endpoint (port and protocol), in the target's order.
    endpoints: Vec<(u16, Proto, OpenedEndpoint)>,
}

enum OpenedEndpoint {
    /// Through a proxy: probed whole when its request is known (no tunnel is held open ahead).
    Proxied,
    /// DNS gave nothing to connect to: no check of its own (the DNS observation says why).
    Unresolved,
    /// Direct: each address family's checks so far and its open connection.
    Direct(Vec<FamilyConn>),
}

/// One family's connection of a direct endpoint: the checks made (connect, TLS) and the
/// connection ready for the request, when it got that far.
struct FamilyConn {
    checks: Vec<CheckObservation>,
    conn: Option<(Conn, At)>,
}

enum Conn {
    Tls(Box<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>),
    Plain(tokio::net::TcpStream),
}

/// DNS, then every direct endpoint's connections (TCP on each family, TLS for https).
async fn open_target(shared: &Shared, host: &str, endpoints: &[Endpoint]) -> Opened {
    let started = Instant::now();
    let ports: Vec<u16> = endpoints.iter().map(|e| e.port).collect();
    // --resolve covering every port of this target: DNS is not needed for it (as in curl).
    // Otherwise DNS is asked once per name (cached), and covered ports still use --resolve.
    let mut dns = match override_outcome(&shared.cfg, host, &ports) {
        Some(o) => o,
        None => {
            let cell = {
                let mut cache = shared.dns_cache.lock().expect("dns cache lock");
                cache.entry(host.to_string()).or_default().clone()
            };
            cell.get_or_init(|| resolve_name(shared, host))
                .await
                .clone()
        }
    };
    let proxied: Vec<bool> = endpoints
        .iter()
        .map(|ep| {
            shared
                .cfg
                .proxy
                .route(host, ep.port, ep.proto == Proto::Https)
                .is_some()
        })
        .collect();
    dns.via_proxy = !proxied.is_empty() && proxied.iter().all(|p| *p);
    dns.families = outcome::FamilyPath::of(&dns.addresses, &shared.cfg.network);
    let mut opened = Vec::new();
    for (ep, proxied) in endpoints.iter().zip(&proxied) {
        let state = if *proxied {
            OpenedEndpoint::Proxied
        } else if dns.usable() {
            OpenedEndpoint::Direct(open_endpoint(shared, host, &dns, ep.port, ep.proto).await)
        } else {
            OpenedEndpoint::Unresolved
        };
        opened.push((ep.port, ep.proto, state));
    }
    Opened {
        host: host.to_string(),
        open_ms: started.elapsed().as_millis() as u64,
        route: if proxied.iter().any(|p| *p) {
            Route::Proxy
        } else {
            Route::Direct
        },
        dns,
        endpoints: opened,
    }
}

/// Each endpoint's request over what [`open_target`] opened for `t` (proxied endpoints are
/// probed now, whole). An `opened` made for other ports or protocols than `t`'s is not used:
/// `t` is probed afresh.
async fn finish_target(shared: &Shared, opened: Opened, t: &Target) -> TargetOutcome {
    let fits = opened.host == t.host
        && opened.endpoints.len() == t.endpoints.len()
        && opened
            .endpoints
            .iter()
            .zip(&t.endpoints)
            .all(|((port, proto, _), ep)| *port == ep.port && *proto == ep.proto);
    let opened = if fits {
        opened
    } else {
        open_target(shared, &t.host, &t.endpoints).await
    };
    let started = Instant::now();
    let mut checks = Vec::new();
    for ((_, _, state), ep) in opened.endpoints.into_iter().zip(&t.endpoints) {
        match state {
            OpenedEndpoint::Proxied => {
                if let Some(p) = shared
                    .cfg
                    .proxy
                    .route(&t.host, ep.port, ep.proto == Proto::Https)
                {
                    checks.extend(via_proxy::probe_endpoint(&shared.cfg, &t.host, ep, p).await);
                }
            }
            OpenedEndpoint::Unresolved => {}
            OpenedEndpoint::Direct(families) => {
                // Each family's request on its own connection, side by side (issue 25).
                let requests = families
                    .into_iter()
                    .map(|f| finish_family(&shared.cfg, &t.host, ep, f));
                for c in futures::future::join_all(requests).await {
                    checks.extend(c);
                }
            }
        }
    }
    TargetOutcome {
        host: t.host.clone(),
        route: opened.route,
        dns: opened.dns,
        checks,
        ms: opened.open_ms + started.elapsed().as_millis() as u64,
        incomplete: None,
    }
}

fn min_ttl(chain: &[ChainLink], addrs: &[AddressRecord]) -> Option<u32> {
    chain
        .iter()
        .map(|l| l.ttl)
        .chain(addrs.iter().filter_map(|a| a.ttl))
        .min()
}

/// Where a check took place: its port, family and address, the connection, and the run's
/// start its times are counted from.
#[derive(Clone, Copy)]
pub(crate) struct At {
    pub port: u16,
    pub family: Option<Family>,
    pub address: Option<SocketAddr>,
    pub connection: Option<u64>,
    pub epoch: Instant,
}

/// Numbers the connections of the process (1, 2, …).
static CONNECTIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A new connection's number.
pub(crate) fn next_connection() -> u64 {
    CONNECTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl At {
    /// The check of a step that took `ms` and has just ended.
    pub(crate) fn check(self, ms: u64, step: Step) -> CheckObservation {
        let started = Instant::now()
            .checked_sub(Duration::from_millis(ms))
            .unwrap_or(self.epoch);
        CheckObservation {
            port: self.port,
            family: self.family,
            address: self.address,
            ms,
            connection: self.connection,
            start_ms: Some(started.saturating_duration_since(self.epoch).as_millis() as u64),
            step,
        }
    }
}

/// TLS over an open connection (direct, or a CONNECT tunnel when `through_proxy`), then the
/// endpoint's HTTP check over the verified stream.
async fn tls_then_http(
    cfg: &ProbeConfig,
    host: &str,
    ep: &Endpoint,
    tcp: tokio::net::TcpStream,
    at: At,
    through_proxy: bool,
) -> Vec<CheckObservation> {
    let (tls, stream) = tls_open(cfg, host, tcp, at, through_proxy).await;
    let mut checks = vec![tls];
    if let (Some(stream), Some(spec)) = (stream, &ep.http) {
        checks.push(https_request(cfg, host, ep.port, stream, at, spec).await);
    }
    checks
}

/// The TLS handshake's check, and the verified stream when it succeeded.
async fn tls_open(
    cfg: &ProbeConfig,
    host: &str,
    tcp: tokio::net::TcpStream,
    at: At,
    through_proxy: bool,
) -> (
    CheckObservation,
    Option<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>,
) {
    let timeout = cfg.timeout;
    let started = Instant::now();
    let out = tls::handshake(&cfg.trust, host, tcp, timeout).await;
    let ms = started.elapsed().as_millis() as u64;
    let mut info = out.info;
    if let Some(stores) = cfg.stores.as_deref() {
        info.stores = stores.evaluate_checked(host, &out.presented, out.checked);
    }
    let check = at.check(
        ms,
        Step::Tls {
            tls: info,
            through_proxy,
            failure: out.failure,
        },
    );
    (check, out.stream)
}

/// A direct connection's TLS handshake; when it stalls, the same address is tried beside it
/// with a clamped MSS ([`path`]), and a clamped handshake that completes turns the stall into
/// a path-MTU black hole.
async fn tls_open_direct(
    cfg: &ProbeConfig,
    host: &str,
    tcp: tokio::net::TcpStream,
    at: At,
) -> (
    CheckObservation,
    Option<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>,
) {
    let (Some(addr), stalled_at_mss) = (at.address, socket2::SockRef::from(&tcp).tcp_mss().ok())
    else {
        return tls_open(cfg, host, tcp, at, false).await;
    };
    let schedule = path::clamp_schedule(tokio::time::Instant::now(), cfg.timeout);
    let ((mut check, stream), tries) = path::with_clamped(
        tls_open(cfg, host, tcp, at, false),
        |(c, _)| {
            matches!(
                c.step,
                Step::Tls {
                    failure: Some(tls::TlsFailure::Timeout { .. }),
                    ..
                }
            )
        },
        schedule,
        |mss| clamped_tls(cfg, host, addr, mss, schedule.1),
    )
    .await;
    if let (Some(works_at_mss), Step::Tls { failure, .. }) =
        (path::works_at(&tries), &mut check.step)
    {
        *failure = Some(tls::TlsFailure::PathMtuBlackHole {
            addr,
            works_at_mss,
            stalled_at_mss,
            after: cfg.timeout,
        });
    }
    (check, stream)
}

/// A handshake over a connection whose SYN announces `mss`: did it complete (the server's
/// certificate flight arrived and the handshake reached its end, trusted or not)?
async fn clamped_tls(
    cfg: &ProbeConfig,
    host: &str,
    addr: SocketAddr,
    mss: u32,
    deadline: tokio::time::Instant,
) -> bool {
    clamped_tls_stream(cfg, host, addr, mss, deadline)
        .await
        .is_some()
}

/// A TLS stream over a connection whose SYN announces `mss` (`None` when the handshake did not
/// reach its end: a rejected certificate still proves the flight arrived, and is `Some(None)`).
async fn clamped_tls_stream(
    cfg: &ProbeConfig,
    host: &str,
    addr: SocketAddr,
    mss: u32,
    deadline: tokio::time::Instant,
) -> Option<Option<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>> {
    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
    let tcp = path::connect_clamped(addr, mss, left).await.ok()?;
    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
    let out = tls::handshake(&cfg.trust, host, tcp, left).await;
    match out.failure {
        None => Some(out.stream),
        Some(
            tls::TlsFailure::Timeout { .. }
            | tls::TlsFailure::Closed
            | tls::TlsFailure::Reset
            | tls::TlsFailure::Io { .. },
        ) => None,
        Some(_) => Some(None),
    }
}

/// A direct connection's HTTP check; when the answer stalls, the request is made again beside
/// it over a connection with a clamped MSS, and an answer there makes the stall a path-MTU
/// black hole.
async fn https_request_direct(
    cfg: &ProbeConfig,
    host: &str,
    port: u16,
    stream: tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    at: At,
    spec: &HttpSpec,
) -> CheckObservation {
    let stalled_at_mss = socket2::SockRef::from(stream.get_ref().0).tcp_mss().ok();
    let Some(addr) = at.address else {
        return https_request(cfg, host, port, stream, at, spec).await;
    };
    let schedule = path::clamp_schedule(tokio::time::Instant::now(), cfg.timeout);
    let (mut check, tries) = path::with_clamped(
        https_request(cfg, host, port, stream, at, spec),
        |c| {
            matches!(
                c.step,
                Step::Http {
                    failure: Some(http::HttpFailure::Timeout { .. }),
                    ..
                }
            )
        },
        schedule,
        |mss| async move {
            let Some(Some(tls)) = clamped_tls_stream(cfg, host, addr, mss, schedule.1).await else {
                return false;
            };
            let left = schedule
                .1
                .saturating_duration_since(tokio::time::Instant::now());
            http::request(tls, host, port, true, spec, left)
                .await
                .failure
                .is_none()
        },
    )
    .await;
    if let (Some(works_at_mss), Step::Http { failure, .. }) =
        (path::works_at(&tries), &mut check.step)
    {
        *failure = Some(http::HttpFailure::PathMtuBlackHole {
            addr,
            works_at_mss,
            stalled_at_mss,
            after: cfg.timeout,
        });
    }
    check
}

/// The endpoint's HTTP check over a verified TLS stream.
async fn https_request(
    cfg: &ProbeConfig,
    host: &str,
    port: u16,
    stream: tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    at: At,
    spec: &HttpSpec,
) -> CheckObservation {
    let started = Instant::now();
    let h = http::request(stream, host, port, true, spec, cfg.timeout).await;
    at.check(
        started.elapsed().as_millis() as u64,
        Step::Http {
            http: h.info,
            proxy: None,
            failure: h.failure,
        },
    )
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

/// The DNS observation when `--resolve` covers every port probed for `host`.
fn override_outcome(cfg: &ProbeConfig, host: &str, ports: &[u16]) -> Option<DnsObservation> {
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
    Some(DnsObservation {
        source: DnsSource::Override,
        addresses: addrs
            .iter()
            .map(|a| AddressRecord {
                address: *a,
                family: Family::of(a),
                ttl: None,
            })
            .collect(),
        ..DnsObservation::none()
    })
}

async fn resolve_name(shared: &Shared, host: &str) -> DnsObservation {
    let started = Instant::now();
    let ours = async {
        let res = match &shared.dns_client {
            Some(c) => c.resolve(host).await,
            None => dns::Resolution {
                failure: Some(dns::DnsFailure::NoServers),
                ..Default::default()
            },
        };
        (res, started.elapsed().as_millis() as u64)
    };
    // Ask the system resolver at the same time (only with the system configuration).
    let system = async {
        match shared.cfg.dns {
            DnsMode::System => Some((
                system_lookup(host, shared.cfg.timeout).await,
                started.elapsed().as_millis() as u64,
            )),
            DnsMode::Servers(_) => None,
        }
    };
    let ((res, server_ms), sys) = tokio::join!(ours, system);
    let (sys, system_ms) = match sys {
        Some((s, ms)) => (Some(s), Some(ms)),
        None => (None, None),
    };
    let mut out = DnsObservation {
        source: DnsSource::Dns,
        server: res.server,
        min_ttl: min_ttl(&res.chain, &res.addresses),
        chain: res.chain.clone(),
        dns_addresses: res.addresses.iter().map(|a| a.address).collect(),
        addresses: res.addresses.clone(),
        failure: res.failure.clone(),
        system: sys,
        via_proxy: false,
        ms: 0,
        server_ms: Some(server_ms),
        system_ms,
        dns64: None,
        families: Vec::new(),
    };
    use_system_answer(&mut out);
    // Without an IPv4 route a name is reachable only over IPv6, which for GitHub's names (no
    // AAAA records) means DNS64 + NAT64: learn whether the resolver synthesises, and where.
    let needs_dns64 = shared.cfg.network.has_route(Family::Ipv4) == Some(false)
        || out
            .addresses
            .iter()
            .any(|a| nat64::in_well_known(a.address));
    if needs_dns64 {
        out.dns64 = *shared.dns64.get_or_init(|| learn_dns64(shared)).await;
    }
    out.ms = started.elapsed().as_millis() as u64;
    out
}

/// Ask for `ipv4only.arpa` the way the run asks DNS (RFC 7050): `None` when no answer came.
async fn learn_dns64(shared: &Shared) -> Option<nat64::Dns64> {
    let aaaa: Vec<std::net::Ipv6Addr> = match &shared.dns_client {
        Some(c) => {
            let r = c.resolve(nat64::DISCOVERY_NAME).await;
            if r.addresses.is_empty()
                && !matches!(r.failure, None | Some(dns::DnsFailure::NoAddresses))
            {
                return None;
            }
            r.addresses
                .iter()
                .filter_map(|a| match a.address {
                    IpAddr::V6(v) => Some(v),
                    IpAddr::V4(_) => None,
                })
                .collect()
        }
        None => match system_lookup(nat64::DISCOVERY_NAME, shared.cfg.timeout).await {
            SystemLookup::Answered { addresses } => addresses
                .iter()
                .filter_map(|a| match a {
                    IpAddr::V6(v) => Some(*v),
                    IpAddr::V4(_) => None,
                })
                .collect(),
            SystemLookup::Failed { .. } => return None,
        },
    };
    Some(nat64::learn(&aaaa))
}

/// The runner resolves through the operating system (getaddrinfo: /etc/hosts, nsswitch, search
/// domains). Ask it too: the report compares its answer with DNS.
async fn system_lookup(host: &str, timeout: Duration) -> SystemLookup {
    match lookup::getaddrinfo(host, 443, timeout).await {
        Err(failure) => SystemLookup::Failed { failure },
        Ok(addrs) => SystemLookup::Answered {
            addresses: addrs
                .iter()
                .map(|sa| sa.ip())
                .collect::<BTreeSet<IpAddr>>()
                .into_iter()
                .collect(),
        },
    }
}

/// Connect where the runner would: to the system resolver's addresses when it answers with
/// other addresses than DNS (an /etc/hosts entry), or when it answers although DNS failed.
fn use_system_answer(out: &mut DnsObservation) {
    let Some(SystemLookup::Answered { addresses: sys }) = &out.system else {
        return;
    };
    if sys.is_empty() {
        return;
    }
    let ours: BTreeSet<IpAddr> = out.dns_addresses.iter().copied().collect();
    let theirs: BTreeSet<IpAddr> = sys.iter().copied().collect();
    let dns_failed = out.addresses.is_empty();
    if dns_failed || theirs != ours {
        out.source = DnsSource::System;
        out.addresses = theirs
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

/// Where to connect for (host, port): addresses and port after `--connect-to`.
async fn destinations(
    shared: &Shared,
    host: &str,
    port: u16,
    dns: &DnsObservation,
) -> (Vec<SocketAddr>, Option<Redirected>) {
    // --resolve for this port wins over DNS.
    let own: Vec<IpAddr> = match resolve_override(&shared.cfg, host, port) {
        v if !v.is_empty() => v,
        _ => dns.addresses.iter().map(|a| a.address).collect(),
    };
    apply_connect_to(&shared.cfg, host, port, &own).await
}

/// `--connect-to` applied to host:port whose own addresses are `own`: the addresses to dial, and
/// the redirection when a rule applied. A CONNECT_HOST that is a name is looked up with the
/// system resolver.
pub(crate) async fn apply_connect_to(
    cfg: &ProbeConfig,
    host: &str,
    port: u16,
    own: &[IpAddr],
) -> (Vec<SocketAddr>, Option<Redirected>) {
    let Some(rule) = cfg.connect_to.iter().find(|c| c.matches(host, port)) else {
        return (
            own.iter().map(|a| SocketAddr::new(*a, port)).collect(),
            None,
        );
    };
    let to_port = rule.to_port.unwrap_or(port);
    let redirected = Redirected {
        host: rule.to_host.clone(),
        port: to_port,
    };
    let addrs = match &rule.to_host {
        None => own.iter().map(|a| SocketAddr::new(*a, to_port)).collect(),
        Some(h) => lookup_addrs(None, h, to_port, cfg.timeout)
            .await
            .unwrap_or_default(),
    };
    (addrs, Some(redirected))
}

async fn open_endpoint(
    shared: &Shared,
    host: &str,
    dns: &DnsObservation,
    port: u16,
    proto: Proto,
) -> Vec<FamilyConn> {
    let (dests, redirected) = destinations(shared, host, port, dns).await;
    if dests.is_empty() {
        let at = At {
            port,
            family: None,
            address: None,
            connection: None,
            epoch: shared.cfg.epoch,
        };
        return vec![FamilyConn {
            checks: vec![at.check(
                0,
                Step::Connect {
                    failure: Some(TcpFailure::NoAddress {
                        redirect_host: redirected.as_ref().and_then(|r| r.host.clone()),
                    }),
                    only_family: false,
                    redirected,
                    path: None,
                },
            )],
            conn: None,
        }];
    }
    // The families side by side, as the runner's own connection attempts would not wait for
    // each other either: a dual-stack name costs one family's time, not the sum (issue 25).
    let opening = [Family::Ipv4, Family::Ipv6]
        .into_iter()
        .filter_map(|family| {
            let fam: Vec<SocketAddr> = dests
                .iter()
                .copied()
                .filter(|a| Family::of(&a.ip()) == family)
                .collect();
            if fam.is_empty() {
                return None;
            }
            let only_family = dests.iter().all(|a| Family::of(&a.ip()) == family);
            let redirected = &redirected;
            Some(async move {
                open_family(
                    shared,
                    host,
                    port,
                    proto,
                    family,
                    &fam,
                    redirected,
                    only_family,
                )
                .await
            })
        });
    futures::future::join_all(opening).await
}

#[allow(clippy::too_many_arguments)] // one family's connection: where, how and what was redirected
async fn open_family(
    shared: &Shared,
    host: &str,
    port: u16,
    proto: Proto,
    family: Family,
    addrs: &[SocketAddr],
    redirected: &Option<Redirected>,
    only_family: bool,
) -> FamilyConn {
    let timeout = shared.cfg.timeout;
    let connect = |failure, path| Step::Connect {
        redirected: redirected.clone(),
        only_family,
        failure,
        path,
    };
    let (stream, at) = match tcp::connect_any(addrs, timeout).await {
        Err((failure, ms)) => {
            let at = At {
                port,
                family: Some(family),
                address: failure.addr(),
                connection: None,
                epoch: shared.cfg.epoch,
            };
            return FamilyConn {
                checks: vec![at.check(ms, connect(Some(failure), None))],
                conn: None,
            };
        }
        Ok((s, addr, ms)) => {
            shared.mark_connected(host);
            let at = At {
                port,
                family: Some(family),
                address: Some(addr),
                connection: Some(next_connection()),
                epoch: shared.cfg.epoch,
            };
            let path = path::of(&s, &shared.cfg.network);
            (s, (at, at.check(ms, connect(None, Some(path)))))
        }
    };
    let (at, connected) = at;
    match proto {
        Proto::Https => {
            let (tls, stream) = tls_open_direct(&shared.cfg, host, stream, at).await;
            FamilyConn {
                checks: vec![connected, tls],
                conn: stream.map(|s| (Conn::Tls(Box::new(s)), at)),
            }
        }
        Proto::Http => FamilyConn {
            checks: vec![connected],
            conn: Some((Conn::Plain(stream), at)),
        },
    }
}

/// The endpoint's request over one family's open connection (https: only when the endpoint
/// has an HTTP check; plain http: its check, or a plain GET).
async fn finish_family(
    cfg: &ProbeConfig,
    host: &str,
    ep: &Endpoint,
    f: FamilyConn,
) -> Vec<CheckObservation> {
    let mut checks = f.checks;
    match f.conn {
        Some((Conn::Tls(stream), at)) => {
            if let Some(spec) = &ep.http {
                checks.push(https_request_direct(cfg, host, ep.port, *stream, at, spec).await);
            }
        }
        Some((Conn::Plain(stream), at)) => {
            let spec = ep.http.clone().unwrap_or_else(HttpSpec::plain_get);
            let started = Instant::now();
            let h = http::request(stream, host, ep.port, false, &spec, cfg.timeout).await;
            checks.push(at.check(
                started.elapsed().as_millis() as u64,
                Step::Http {
                    http: h.info,
                    proxy: None,
                    failure: h.failure,
                },
            ));
        }
        None => {}
    }
    checks
}

/// Addresses for host:port the way the prober finds them: `--connect-to`, `--resolve`, then
/// DNS (`--dns-server`) or the system resolver. Used by the throughput measurement.
pub struct Dialer {
    cfg: ProbeConfig,
    dns_client: Option<dns::DnsClient>,
    /// The probes whose DNS answers are reused, when dialing beside a [`Prober`].
    probes: Option<Arc<Shared>>,
}

/// `--dns-server`'s client; `None` with the system configuration (the system resolver is used).
fn own_dns_client(cfg: &ProbeConfig) -> Option<dns::DnsClient> {
    match &cfg.dns {
        DnsMode::Servers(s) => Some(dns::DnsClient {
            servers: s.clone(),
            timeout: cfg.timeout,
        }),
        DnsMode::System => None,
    }
}

impl Dialer {
    pub fn new(cfg: ProbeConfig) -> Dialer {
        Dialer {
            dns_client: own_dns_client(&cfg),
            cfg,
            probes: None,
        }
    }

    /// The addresses the probes found for `host` (waiting for its resolution when under way),
    /// when `host` is a probed name and its DNS gave addresses to connect to.
    async fn probed_addresses(&self, host: &str) -> Option<Vec<IpAddr>> {
        let shared = self.probes.as_ref()?;
        let cell = shared
            .dns_cache
            .lock()
            .expect("dns cache lock")
            .get(host)?
            .clone();
        let dns = cell.get_or_init(|| resolve_name(shared, host)).await;
        dns.usable()
            .then(|| dns.addresses.iter().map(|a| a.address).collect())
    }

    async fn lookup(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, LookupFailure> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let own = resolve_override(&self.cfg, host, port);
        if !own.is_empty() {
            return Ok(own.into_iter().map(|a| SocketAddr::new(a, port)).collect());
        }
        // A failed resolution is asked again below, for the failure in the lookup's own terms.
        if let Some(addrs) = self.probed_addresses(host).await {
            return Ok(addrs
                .into_iter()
                .map(|a| SocketAddr::new(a, port))
                .collect());
        }
        lookup_addrs(self.dns_client.as_ref(), host, port, self.cfg.timeout).await
    }
}

impl throughput::Dial for Dialer {
    fn proxy(&self, host: &str, port: u16, tls: bool) -> Option<crate::env::proxy::ProxyUrl> {
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
