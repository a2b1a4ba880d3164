//! `serve`: an exporter for fleets. `check`'s pipeline ([`check::run_once`]) on a schedule —
//! runs never overlap; one longer than `--interval` delays the next and is counted — and an
//! HTTP server (hyper 1, HTTP/1.1) with the last run:
//!
//! - `/metrics`: Prometheus text format, or OpenMetrics when the `Accept` header asks for it;
//! - `/report.json`: the last full report, as `--format json` writes it (503 before the first);
//! - `/healthz`: 200 while serving;
//! - `/probe?capability=ID[,ID]`: an on-demand check of those capabilities' names (no
//!   throughput, no long poll), answered with its metrics, like blackbox_exporter's `/probe`.
//!   Up to [`PROBE_SLOTS`] at once; a caller beyond them waits for a slot for as long as it can
//!   (its `X-Prometheus-Scrape-Timeout-Seconds` less a margin, at most [`PROBE_WAIT`]) and gets
//!   503 with `Retry-After` past that; more than `--probe-limit` a minute get 429.
//!
//! SIGTERM stops serving and exits 0 (a service manager's normal stop); SIGINT exits 130, as
//! everywhere else. Either abandons the current run at once, lets open requests finish for up to
//! [`DRAIN`], and is done well within 2 s.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ACCEPT, ALLOW, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use super::args::ServeArgs;
use super::check;
use super::output::{self, say};
use super::progress::ProgressDisplay;
use super::settings::CheckSettings;
use super::{Failure, Interrupted, Signal, Signals};
use crate::error::InputError;
use crate::plan::Plan;
use crate::render::prometheus::{self, Exposition, RunCounters, RunLabels};
use crate::render::{self, table::Style};
use crate::report::findings::LongPollReport;
use crate::report::Report;
use crate::words::fmt_duration;

/// `serve --help` examples.
pub const AFTER_HELP: &str = "\
Examples:
  An exporter on this host for Prometheus (127.0.0.1:9798 unless --listen says otherwise):
    runner-preflight serve --profile dotcom --interval 60s --no-throughput
  Reachable from other hosts (a Prometheus elsewhere, a Kubernetes Service):
    runner-preflight serve --listen 0.0.0.0:9798 --profile dotcom --label node=worker-7
  On-demand, like blackbox_exporter:
    curl 'http://127.0.0.1:9798/probe?capability=essential,artifacts'

Endpoints: /metrics (Prometheus text, or OpenMetrics by Accept), /report.json (the last
report), /healthz, /probe?capability=ID[,ID] (4 at once, a caller beyond them waits up to its
scrape timeout, 10 s at most, else 503; --probe-limit per minute, else 429).
Every check flag applies to each run; --output and --output-json/-junit/-markdown are rewritten
(atomically) after each run. Exit: 0 after SIGTERM, 130 after SIGINT, 2 for bad flags or a
--listen address that cannot be bound. See docs/fleet-monitoring.md.";

/// A client must send a whole request head within this, from when it connects or its last
/// answer was sent: a silent or dribbling client holds a connection slot no longer. 100 silent
/// connections, each held 10 s, kept every scrape out (issue 22 row 6); a scraper sends its
/// request head at once.
const HEADER_TIMEOUT: Duration = Duration::from_secs(1);
/// How long open requests may take to finish after SIGTERM/SIGINT.
const DRAIN: Duration = Duration::from_millis(1000);
/// The window of `--probe-limit`.
const PROBE_WINDOW: Duration = Duration::from_secs(60);
/// `/probe` checks that run at once. Prometheus scrapes several targets' `/probe` in parallel
/// (blackbox_exporter answers them all); each check holds a few sockets per name, so a small
/// number keeps a burst of callers from taking the descriptors the scheduled run needs.
pub const PROBE_SLOTS: usize = 4;
/// The longest a `/probe` caller waits for a slot, when it does not say how long it can wait.
pub const PROBE_WAIT: Duration = Duration::from_secs(10);
/// Kept from the caller's scrape timeout for the check itself and the answer (blackbox_exporter
/// keeps 0.5 s: its `--timeout-offset`).
const PROBE_WAIT_MARGIN: Duration = Duration::from_millis(500);
/// The header Prometheus sends with each scrape: how long it waits for the answer.
const SCRAPE_TIMEOUT_HEADER: &str = "x-prometheus-scrape-timeout-seconds";

/// The last scheduled run.
struct Last {
    report: Report,
    /// `render::json` of the report, rendered once.
    json: String,
}

struct State {
    settings: CheckSettings,
    interval: Duration,
    probe_limit: usize,
    /// Open connections at most, in all and from one address (`--max-connections`,
    /// `--max-connections-per-peer`); more are closed at once.
    max_connections: usize,
    max_per_peer: usize,
    last: Mutex<Option<Arc<Last>>>,
    counters: Mutex<RunCounters>,
    /// The labels of every series: `profile` and the `--label`s.
    labels: RunLabels,
    /// [`PROBE_SLOTS`] `/probe` checks at once (tokio's semaphore is fair: callers get slots in
    /// the order they asked).
    probe_slots: Semaphore,
    /// When the `/probe` checks of the last minute started.
    probe_starts: Mutex<VecDeque<Instant>>,
    /// `--idle-every` with `--idle-hold`'s hold: the idle check on its own schedule.
    idle: Option<(Duration, Duration)>,
    /// The last idle check of that schedule, and when it ended (RFC 3339).
    last_idle: Mutex<Option<(LongPollReport, String)>>,
    /// Told when a scheduled run is stored (the idle check uses its addresses).
    stored: tokio::sync::Notify,
}

impl State {
    fn counters(&self) -> RunCounters {
        self.counters.lock().map(|c| *c).unwrap_or_default()
    }

    fn count(&self, f: impl FnOnce(&mut RunCounters)) {
        if let Ok(mut c) = self.counters.lock() {
            f(&mut c);
        }
    }

    fn last(&self) -> Option<Arc<Last>> {
        self.last.lock().ok().and_then(|l| l.clone())
    }
}

/// A progress sink that draws nothing: `serve` logs one line per run instead.
fn silent(plan: &Plan) -> Arc<ProgressDisplay> {
    Arc::new(ProgressDisplay::new(
        false,
        false,
        plan.targets().iter().map(|t| t.host.as_str()),
    ))
}

pub fn serve(args: ServeArgs) -> Result<u8, Failure> {
    let listen = args.listen;
    let mut settings = CheckSettings::new(args.check)?;
    // With --idle-every the idle check leaves the scheduled runs for a schedule of its own.
    let idle = match args.idle_every {
        Some(every) => settings.long_poll.take().map(|lp| (every, lp.hold)),
        None => None,
    };
    let labels = super::settings::run_labels(&settings)?;
    let state = Arc::new(State {
        labels,
        settings,
        interval: args.interval,
        probe_limit: args.probe_limit as usize,
        max_connections: args.max_connections as usize,
        max_per_peer: args.max_connections_per_peer as usize,
        last: Mutex::new(None),
        counters: Mutex::new(RunCounters::default()),
        probe_slots: Semaphore::new(PROBE_SLOTS),
        probe_starts: Mutex::new(VecDeque::new()),
        idle,
        last_idle: Mutex::new(None),
        stored: tokio::sync::Notify::new(),
    });
    let rt = super::runtime()?;
    let stopped = rt.block_on(run(state, listen));
    // getaddrinfo threads of an abandoned run may be blocked on a dead resolver.
    rt.shutdown_timeout(super::SHUTDOWN_GRACE);
    match stopped? {
        Signal::Terminate => {
            say("runner-preflight serve: SIGTERM: stopped");
            Ok(0)
        }
        signal => Err(Failure::Interrupted(Interrupted {
            signal,
            what: "interrupted; stopped serving".into(),
        })),
    }
}

/// Listen, schedule, serve until a signal; returns the signal.
async fn run(state: Arc<State>, listen: SocketAddr) -> Result<Signal, Failure> {
    // Before anything can be asked of us, so that a signal at any moment is seen.
    let signals = Signals::install();
    let listener = TcpListener::bind(listen).await.map_err(|e| {
        InputError::usage(format!(
            "--listen {listen}: cannot listen there: {}",
            output::io_words(&e)
        ))
    })?;
    let local = listener.local_addr().unwrap_or(listen);
    say(&format!(
        "runner-preflight serve: listening on http://{local} (/metrics, /report.json, /healthz, /probe); a run every {}",
        fmt_duration(state.interval)
    ));
    let (stop_tx, stop_rx) = watch::channel(false);
    let scheduler = tokio::spawn(schedule(state.clone()));
    let idle = tokio::spawn(idle_schedule(state.clone()));
    let server = tokio::spawn(accept(listener, state, stop_rx));
    let signal = signals.recv().await;
    // Abandon the current run; stop accepting; let open requests finish for a moment.
    scheduler.abort();
    idle.abort();
    let _ = stop_tx.send(true);
    let _ = server.await;
    Ok(signal)
}

/// The scheduled runs: the first at once, then every `--interval` from the start of the last.
/// A run longer than the interval is not stacked: the missed starts are skipped.
async fn schedule(state: Arc<State>) {
    let s = &state.settings;
    let mut ticks = tokio::time::interval(state.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        let started = Instant::now();
        let report = check::run_once(s, &s.plan, true, silent(&s.plan)).await;
        let took = started.elapsed();
        let overran = took > state.interval;
        write_files(s, &report);
        let (verdict, failed, sm) = (
            report.verdict,
            report.exit_code != 0,
            report.summary.clone(),
        );
        // Stored, then counted, then said: whoever reads "run N" finds that run served.
        let json = render::json::render(&report);
        if let Ok(mut last) = state.last.lock() {
            *last = Some(Arc::new(Last { report, json }));
        }
        state.stored.notify_one();
        let mut n = 0;
        state.count(|c| {
            c.runs += 1;
            c.failed += u64::from(failed);
            c.overrun += u64::from(overran);
            n = c.runs;
        });
        if !s.quiet {
            say(&format!(
                "runner-preflight serve: run {n}: {} in {} ({} pass, {} warn, {} fail){}",
                verdict.label(),
                fmt_duration(took),
                sm.pass,
                sm.warn,
                sm.fail,
                if overran {
                    format!(
                        "; longer than the {} interval, the next run starts late",
                        fmt_duration(state.interval)
                    )
                } else {
                    String::new()
                }
            ));
        }
    }
}

/// `--idle-every`: after the first scheduled run (whose DNS answers give the addresses), the
/// primed idle check every DURATION, on the scheduled runs' addresses; never overlapping itself.
async fn idle_schedule(state: Arc<State>) {
    let Some((every, hold)) = state.idle else {
        return;
    };
    state.stored.notified().await;
    let s = &state.settings;
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        let last = state.last();
        let addresses = |host: &str| {
            last.as_ref()
                .and_then(|l| {
                    l.report
                        .capabilities
                        .iter()
                        .flat_map(|c| c.entries.iter())
                        .flat_map(|e| e.targets.iter())
                        .find(|t| t.host == host)
                })
                .map(|t| t.dns.obs.addresses.iter().map(|a| a.address).collect())
                .unwrap_or_default()
        };
        let Some(lp) =
            crate::probe::long_poll::for_plan(&s.cfg, &s.plan, addresses, hold, true).await
        else {
            return;
        };
        let lp = LongPollReport::judge(lp);
        if !s.quiet {
            say(&format!(
                "runner-preflight serve: idle check: {}",
                crate::render::words::long_poll_detail(&lp)
            ));
        }
        if let Ok(mut l) = state.last_idle.lock() {
            *l = Some((lp, super::now_rfc3339()));
        }
    }
}

/// `--output` (in `--format`) and `--output-json/-junit/-markdown`, rewritten atomically after
/// each run. A failed write is said and the exporter goes on.
fn write_files(s: &CheckSettings, report: &Report) {
    if let Some(path) = &s.output {
        let text = render::render(report, s.format, &Style::default());
        let fits = match s.format {
            crate::render::Format::Json => output::readable_report("--output", &text),
            _ => Ok(()),
        };
        if let Err(e) = fits.and_then(|()| output::write_file("--output", path, text.as_bytes())) {
            say(&format!("error: {e}"));
        }
    }
    if let Err(e) = s.pipeline.write_files(report) {
        say(&format!("error: {e}"));
    }
}

/// Open connections by peer address: one client cannot take every slot.
#[derive(Default)]
struct Peers(Mutex<HashMap<IpAddr, usize>>);

/// A connection's place in its peer's count; given back when the connection ends.
struct PeerSlot {
    peers: Arc<Peers>,
    ip: IpAddr,
}

impl Peers {
    fn claim(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<PeerSlot> {
        // An IPv4 client of a dual-stack listener counts as its IPv4 address.
        let ip = ip.to_canonical();
        let mut open = self.0.lock().ok()?;
        let n = open.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(PeerSlot {
            peers: self.clone(),
            ip,
        })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.peers.0.lock() {
            if let Some(n) = open.get_mut(&self.ip) {
                *n -= 1;
                if *n == 0 {
                    open.remove(&self.ip);
                }
            }
        }
    }
}

/// Accept connections until `stop`; then drain open ones for up to [`DRAIN`].
async fn accept(listener: TcpListener, state: Arc<State>, mut stop: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(state.max_connections));
    let peers = Arc::new(Peers::default());
    let mut conns = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = stop.changed() => break,
            a = listener.accept() => a,
        };
        while conns.try_join_next().is_some() {}
        let Ok((stream, peer)) = accepted else {
            // Out of file descriptors, or a connection reset before it was accepted: go on
            // after a breath rather than spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        // Too many open connections from this peer, or in all: this one is closed at once.
        let Some(peer_slot) = peers.claim(peer.ip(), state.max_per_peer) else {
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            continue;
        };
        let state = state.clone();
        let mut stop = stop.clone();
        conns.spawn(async move {
            let _slots = (slot, peer_slot);
            let service = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(respond(&state, req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    // Connections still busy after the drain are dropped with the set.
    let _ = tokio::time::timeout(DRAIN, async { while conns.join_next().await.is_some() {} }).await;
}

fn text(status: StatusCode, body: impl Into<String>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.into())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn body(content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

async fn respond(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let mut r = route(state, &req).await;
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn route(state: &State, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    let known = matches!(
        path,
        "/" | "/metrics" | "/report.json" | "/healthz" | "/probe"
    );
    if !known {
        return text(
            StatusCode::NOT_FOUND,
            format!(
                "{path}: not found; try /metrics, /report.json, /healthz or /probe?capability=ID\n"
            ),
        );
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = text(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{}: only GET and HEAD\n", req.method()),
        );
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let exposition =
        Exposition::from_accept(req.headers().get(ACCEPT).and_then(|v| v.to_str().ok()));
    match path {
        "/" => text(
            StatusCode::OK,
            "runner-preflight serve: /metrics, /report.json, /healthz, /probe?capability=ID[,ID]\n",
        ),
        "/healthz" => text(StatusCode::OK, "ok\n"),
        "/metrics" => {
            let last = state.last();
            let mut reg = prometheus::registry(
                last.as_ref().map(|l| &l.report),
                Some(&state.counters()),
                &state.labels,
            );
            if let Some((lp, _)) = state.last_idle.lock().ok().and_then(|l| l.clone()) {
                prometheus::long_poll_metrics(&mut reg, &lp);
            }
            body(
                exposition.content_type(),
                prometheus::encode(&reg, exposition),
            )
        }
        "/report.json" => match state.last() {
            // The idle check runs on its own schedule: its last result rides beside the last
            // scheduled run's report, which it does not change.
            Some(l) => match state.last_idle.lock().ok().and_then(|l| l.clone()) {
                Some((lp, at)) => body(
                    "application/json",
                    render::json::with_idle_check(&l.json, &lp, &at),
                ),
                None => body("application/json", l.json.clone()),
            },
            None => text(
                StatusCode::SERVICE_UNAVAILABLE,
                "no run has finished yet; try again in a moment\n",
            ),
        },
        _ => probe(state, req.uri().query(), can_wait(req), exposition).await,
    }
}

/// The capabilities of `?capability=a,b&capability=c`, or why not.
fn probe_plan(plan: &Plan, query: Option<&str>) -> Result<Plan, String> {
    let mut wanted: Vec<String> = Vec::new();
    for pair in query.unwrap_or("").split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (percent_decoded(k), percent_decoded(v));
        match k.as_str() {
            "capability" => wanted.extend(
                v.split(',')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty()),
            ),
            "" => {}
            other => return Err(format!("unknown parameter `{}`", clip(other))),
        }
    }
    let known: Vec<&str> = plan.capabilities.iter().map(|c| c.id.as_str()).collect();
    if wanted.is_empty() {
        return Err(format!(
            "name the capabilities to check: /probe?capability=ID[,ID] (these are served: {})",
            known.join(", ")
        ));
    }
    if let Some(bad) = wanted.iter().find(|w| !known.contains(&w.as_str())) {
        return Err(format!(
            "capability `{}` is not served (these are: {})",
            clip(bad),
            known.join(", ")
        ));
    }
    let mut sub = plan.clone();
    sub.capabilities.retain(|c| wanted.contains(&c.id));
    // The container network check belongs to the scheduled runs, as throughput does.
    sub.container_jobs = None;
    Ok(sub)
}

/// A query component with its `%XX` escapes (and `+` for a space) decoded.
fn percent_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// At most 64 characters of what a client sent, for an error message.
fn clip(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// How long a `/probe` caller can wait for a slot: its scrape timeout less a margin, at most
/// [`PROBE_WAIT`] (a header that is no number of seconds is not a caller's limit).
fn can_wait(req: &Request<Incoming>) -> Duration {
    req.headers()
        .get(SCRAPE_TIMEOUT_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(PROBE_WAIT.as_secs_f64())))
        .map_or(PROBE_WAIT, |t| t.saturating_sub(PROBE_WAIT_MARGIN))
}

async fn probe(
    state: &State,
    query: Option<&str>,
    wait: Duration,
    exposition: Exposition,
) -> Response<Full<Bytes>> {
    let plan = match probe_plan(&state.settings.plan, query) {
        Ok(p) => p,
        Err(why) => {
            state.count(|c| c.probes_bad += 1);
            return text(StatusCode::BAD_REQUEST, format!("{why}\n"));
        }
    };
    let slot = tokio::time::timeout(wait, state.probe_slots.acquire()).await;
    let Ok(Ok(_slot)) = slot else {
        state.count(|c| c.probes_busy += 1);
        let mut r = text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "{PROBE_SLOTS} /probe checks are running and none finished within {}; try again in 1 s\n",
                fmt_duration(wait)
            ),
        );
        r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(1u64));
        return r;
    };
    {
        let Ok(mut starts) = state.probe_starts.lock() else {
            return text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n");
        };
        let now = Instant::now();
        while starts
            .front()
            .is_some_and(|t| now.duration_since(*t) >= PROBE_WINDOW)
        {
            starts.pop_front();
        }
        if starts.len() >= state.probe_limit {
            let wait = starts
                .front()
                .map(|t| PROBE_WINDOW.saturating_sub(now.duration_since(*t)))
                .unwrap_or(PROBE_WINDOW);
            drop(starts);
            state.count(|c| c.probes_rate_limited += 1);
            return too_many(
                &format!(
                    "at most {} /probe checks a minute (--probe-limit)",
                    state.probe_limit
                ),
                wait.as_secs() + 1,
            );
        }
        starts.push_back(now);
    }
    let report = check::run_once(&state.settings, &plan, false, silent(&plan)).await;
    state.count(|c| c.probes += 1);
    let reg = prometheus::registry(Some(&report), None, &state.labels);
    body(
        exposition.content_type(),
        prometheus::encode(&reg, exposition),
    )
}

fn too_many(why: &str, retry_after_s: u64) -> Response<Full<Bytes>> {
    let mut r = text(
        StatusCode::TOO_MANY_REQUESTS,
        format!("{why}; try again in {retry_after_s} s\n"),
    );
    r.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(retry_after_s));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlannedCapability;

    fn plan() -> Plan {
        let cap = |id: &str| PlannedCapability {
            id: id.into(),
            title: id.into(),
            gating: true,
            runner_client: false,
            entries: vec![],
        };
        Plan {
            profile_name: "p".into(),
            profile_title: "P".into(),
            profile_origin: "test".into(),
            variables: Default::default(),
            capabilities: vec![cap("a"), cap("b"), cap("c")],
            inactive: vec![],
            throughput: crate::plan::PlannedThroughput {
                min_kbps: 70,
                gating: false,
                download: None,
                upload: None,
                note: None,
            },
            runner_version: None,
            api_quota: false,
            container_jobs: None,
        }
    }

    #[test]
    fn probe_query_selects_capabilities() {
        let ids = |p: Plan| p.capabilities.into_iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(
            ids(probe_plan(&plan(), Some("capability=c,a")).unwrap()),
            ["a", "c"]
        );
        assert_eq!(
            ids(probe_plan(&plan(), Some("capability=b&capability=c")).unwrap()),
            ["b", "c"]
        );
        let none = probe_plan(&plan(), None).unwrap_err();
        assert!(none.contains("a, b, c"), "{none}");
        let unknown = probe_plan(&plan(), Some("capability=a,zz")).unwrap_err();
        assert!(unknown.contains("`zz` is not served"), "{unknown}");
        assert_eq!(
            ids(probe_plan(&plan(), Some("capability=a%2Cb")).unwrap()),
            ["a", "b"]
        );
        assert_eq!(percent_decoded("a%2"), "a%2");
        assert_eq!(percent_decoded("%e2%9c%93+x"), "\u{2713} x");
        let param = probe_plan(&plan(), Some("target=x")).unwrap_err();
        assert!(param.contains("unknown parameter `target`"), "{param}");
    }
}
