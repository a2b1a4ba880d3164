//! `--format prometheus` and `serve`'s `/metrics` and `/probe`: a [`Report`] as Prometheus
//! metrics, built with the `prometheus-client` crate (the official Rust client; no exposition
//! text is written by hand). No I/O here.
//!
//! Every metric is a gauge of the last run, except the scheduler's counters ([`RunCounters`],
//! `serve` only). Labels are bounded: profile, capability and host names come from the profile,
//! ports from its endpoints, and everything else is a small enum — never an address, a cause, a
//! URL or a credential. The metric table with the HELP texts is in docs/fleet-monitoring.md.
//!
//! Rates are in bytes per second, Prometheus's base unit (promtool rejects `bits`): the
//! throughput floor of 70 kbit/s is 8750 bytes/s.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

use crate::model::{Phase, Route, Verdict};
use crate::report::findings::{LongPollOutcome, LongPollReport};
use crate::report::{Report, TargetResult};

/// The prefix of every metric name.
pub const PREFIX: &str = "runner_preflight";

/// The `stat` label of `runner_preflight_phase_duration_seconds` and its quantile: median,
/// 90th percentile, slowest. (Not a `quantile` label: the gauge is no summary, it holds one run.)
pub const STATS: [(&str, f64); 3] = [("median", 0.5), ("p90", 0.9), ("max", 1.0)];

/// Which text format a scrape gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposition {
    /// The Prometheus text format 0.0.4 (what node_exporter's textfile collector reads).
    Prometheus,
    /// OpenMetrics 1.0 text (asked for with `Accept: application/openmetrics-text`).
    OpenMetrics,
}

impl Exposition {
    pub fn content_type(self) -> &'static str {
        match self {
            Exposition::Prometheus => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            Exposition::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// Content negotiation on an `Accept` header: OpenMetrics when it is asked for with a
    /// quality at least that of the text format (or of `text/*`, `*/*`); else the text format.
    pub fn from_accept(accept: Option<&str>) -> Exposition {
        let (mut openmetrics, mut text) = (0.0f64, 0.0f64);
        for part in accept.unwrap_or("").split(',') {
            let mut params = part.split(';');
            let media = params.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = params
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
                .and_then(|(_, v)| v.trim().parse::<f64>().ok())
                .unwrap_or(1.0);
            match media.as_str() {
                "application/openmetrics-text" => openmetrics = openmetrics.max(q),
                "text/plain" | "text/*" | "*/*" => text = text.max(q),
                _ => {}
            }
        }
        if openmetrics > 0.0 && openmetrics >= text {
            Exposition::OpenMetrics
        } else {
            Exposition::Prometheus
        }
    }
}

/// The scheduler's counters, since `serve` started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounters {
    /// Scheduled runs finished.
    pub runs: u64,
    /// Scheduled runs whose report's exit code was 1 (`--fail-on`).
    pub failed: u64,
    /// Scheduled runs that took longer than `--interval` (the next one started late).
    pub overrun: u64,
    /// `/probe` requests answered with a check.
    pub probes: u64,
    /// `/probe` requests refused with 429 (one already running, or the per-minute limit).
    pub probes_rate_limited: u64,
    /// `/probe` requests refused with 400 (no or unknown capability).
    pub probes_bad: u64,
}

/// `--format prometheus`: one run's metrics in the text format, for node_exporter's textfile
/// collector (no counters: a one-shot run has no history; see the docs).
pub fn render(report: &Report) -> String {
    encode(&registry(Some(report), None), Exposition::Prometheus)
}

/// The registry in a text format.
pub fn encode(registry: &Registry, exposition: Exposition) -> String {
    let mut out = String::new();
    // Writing into a String does not fail; an encoder error would be a bug of the crate.
    let written = match exposition {
        Exposition::Prometheus => {
            prometheus_client::encoding::prometheus_text::encode(&mut out, registry)
        }
        Exposition::OpenMetrics => prometheus_client::encoding::text::encode(&mut out, registry),
    };
    debug_assert!(written.is_ok());
    out
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetLabels {
    profile: String,
    capability: String,
    host: String,
    port: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    phase: String,
    stat: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CapabilityLabels {
    capability: String,
    gating: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HostLabels {
    host: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DirectionLabels {
    direction: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerdictLabels {
    verdict: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: String,
}

type FGauge = Gauge<f64, AtomicU64>;

fn gauge(v: f64) -> FGauge {
    let g = FGauge::default();
    g.set(v);
    g
}

fn int_gauge(v: i64) -> Gauge {
    let g = Gauge::default();
    g.set(v);
    g
}

fn counter(v: u64) -> Counter {
    let c = Counter::default();
    c.inc_by(v);
    c
}

/// `runner_preflight_verdict`: 0 pass, 1 warn, 2 fail, -1 skip (nothing was probed).
pub fn verdict_value(v: Verdict) -> i64 {
    match v {
        Verdict::Skip => -1,
        Verdict::Pass => 0,
        Verdict::Warn => 1,
        Verdict::Fail => 2,
    }
}

fn route_label(r: Route) -> &'static str {
    match r {
        Route::Direct => "direct",
        Route::Proxy => "proxy",
    }
}

fn phase_label(p: Phase) -> &'static str {
    match p {
        Phase::Dns => "dns",
        Phase::Tcp => "tcp",
        Phase::Tls => "tls",
        Phase::Http => "http",
    }
}

fn verdict_label(v: Verdict) -> &'static str {
    match v {
        Verdict::Skip => "skip",
        Verdict::Pass => "pass",
        Verdict::Warn => "warn",
        Verdict::Fail => "fail",
    }
}

/// Seconds since the epoch of an RFC 3339 time.
fn unix_seconds(rfc3339: &str) -> Option<f64> {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()?;
    Some(t.unix_timestamp() as f64)
}

/// The up value of each port a name was checked on: a name that does not fail is up on every
/// port; a failing name is down on each port with a failing check. A name with no check at all
/// (DNS failed, or the run ended first) is one series without a port, down when it fails.
fn ports_up(t: &TargetResult) -> Vec<(String, bool)> {
    let ports: BTreeSet<u16> = t.checks.iter().map(|c| c.obs.port).collect();
    if ports.is_empty() {
        return vec![(String::new(), t.verdict != Verdict::Fail)];
    }
    ports
        .into_iter()
        .map(|p| {
            let failing = t
                .checks
                .iter()
                .any(|c| c.obs.port == p && c.verdict == Verdict::Fail);
            (p.to_string(), t.verdict != Verdict::Fail || !failing)
        })
        .collect()
}

/// Nearest-rank quantile of sorted values.
fn quantile(sorted: &[u64], q: f64) -> u64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The metrics of `report` (the last run; none before the first) and, for `serve`, the
/// scheduler's `counters`.
pub fn registry(report: Option<&Report>, counters: Option<&RunCounters>) -> Registry {
    let mut reg = Registry::with_prefix(PREFIX);
    reg.register(
        "build",
        "The version of runner-preflight",
        Info::new(vec![(
            "version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        )]),
    );
    if let Some(c) = counters {
        reg.register(
            "runs",
            "Scheduled runs finished since serve started",
            counter(c.runs),
        );
        reg.register(
            "runs_failed",
            "Scheduled runs whose report exit code was 1 (a gating capability failed, or the verdict reached --fail-on)",
            counter(c.failed),
        );
        reg.register(
            "runs_overrun",
            "Scheduled runs that took longer than --interval; the next run started at the next interval instead of overlapping",
            counter(c.overrun),
        );
        let probes = Family::<ResultLabels, Counter>::default();
        for (result, n) in [
            ("ok", c.probes),
            ("rate_limited", c.probes_rate_limited),
            ("bad_request", c.probes_bad),
        ] {
            probes
                .get_or_create(&ResultLabels {
                    result: result.into(),
                })
                .inc_by(n);
        }
        reg.register(
            "probe_requests",
            "On-demand /probe requests by result: ok, rate_limited (429) or bad_request (400)",
            probes,
        );
    }
    if let Some(r) = report {
        report_metrics(&mut reg, r);
    }
    reg
}

fn report_metrics(reg: &mut Registry, r: &Report) {
    reg.register(
        "verdict",
        "Overall verdict of the last run: 0 pass, 1 warn, 2 fail, -1 skip (nothing was probed)",
        int_gauge(verdict_value(r.verdict)),
    );
    if let Some(finished) = unix_seconds(&r.generated_at) {
        reg.register_with_unit(
            "last_run_timestamp",
            "When the last run finished, seconds since the Unix epoch",
            Unit::Seconds,
            gauge(finished + r.duration_ms as f64 / 1000.0),
        );
    }
    reg.register_with_unit(
        "run_duration",
        "How long the last run took, seconds",
        Unit::Seconds,
        gauge(r.duration_ms as f64 / 1000.0),
    );

    let caps = Family::<CapabilityLabels, Gauge>::default();
    for c in r.capabilities.iter().filter(|c| c.verdict != Verdict::Skip) {
        caps.get_or_create(&CapabilityLabels {
            capability: c.id.clone(),
            gating: c.gating.to_string(),
        })
        .set(i64::from(c.verdict != Verdict::Fail));
    }
    reg.register(
        "capability_up",
        "1 when the capability passes or warns in the last run, 0 when it fails (skipped capabilities have no series)",
        caps,
    );

    let up = Family::<TargetLabels, Gauge>::default();
    // Each distinct check of the run once, for the durations and the per-host gauges.
    let mut distinct: BTreeMap<(String, Vec<u16>), &TargetResult> = BTreeMap::new();
    for c in &r.capabilities {
        for t in c.entries.iter().flat_map(|e| &e.targets) {
            for (port, is_up) in ports_up(t) {
                up.get_or_create(&TargetLabels {
                    profile: r.profile.name.clone(),
                    capability: c.id.clone(),
                    host: t.host.clone(),
                    port,
                    route: route_label(t.route).into(),
                })
                .set(i64::from(is_up));
            }
            let ports = t.checks.iter().map(|c| c.obs.port).collect();
            distinct.entry((t.host.clone(), ports)).or_insert(t);
        }
    }
    reg.register(
        "target_up",
        "1 when the probed name is reachable on the port in the last run, 0 when not (no port: DNS failed or the run ended before a connection)",
        up,
    );

    let targets = Family::<VerdictLabels, Gauge>::default();
    for (v, n) in [
        (Verdict::Pass, r.summary.pass),
        (Verdict::Warn, r.summary.warn),
        (Verdict::Fail, r.summary.fail),
        (Verdict::Skip, r.summary.skip),
    ] {
        targets
            .get_or_create(&VerdictLabels {
                verdict: verdict_label(v).into(),
            })
            .set(n as i64);
    }
    reg.register(
        "targets",
        "Probed names of the last run by verdict",
        targets,
    );

    let mut durations: BTreeMap<Phase, Vec<u64>> = BTreeMap::new();
    let mut not_after: BTreeMap<&str, f64> = BTreeMap::new();
    let mut chains: BTreeMap<&str, usize> = BTreeMap::new();
    for t in distinct.values() {
        let dns = &t.dns.obs;
        if dns.source == crate::report::DnsSource::Dns && t.incomplete.is_none() {
            durations.entry(Phase::Dns).or_default().push(dns.ms);
            // A chain only where DNS answered (a failed name has none to count).
            if !dns.dns_addresses.is_empty() || !dns.chain.is_empty() {
                let len = chains.entry(&t.host).or_default();
                *len = (*len).max(dns.chain.len());
            }
        }
        for c in &t.checks {
            durations.entry(c.phase).or_default().push(c.obs.ms);
            if let Some(at) = c
                .obs
                .tls()
                .and_then(|tls| tls.leaf.as_ref())
                .and_then(|leaf| unix_seconds(&leaf.not_after))
            {
                let e = not_after.entry(&t.host).or_insert(at);
                *e = e.min(at);
            }
        }
    }
    let phases = Family::<PhaseLabels, FGauge>::default();
    for (phase, mut ms) in durations {
        ms.sort_unstable();
        for (stat, q) in STATS {
            phases
                .get_or_create(&PhaseLabels {
                    phase: phase_label(phase).into(),
                    stat: stat.into(),
                })
                .set(quantile(&ms, q) as f64 / 1000.0);
        }
    }
    reg.register_with_unit(
        "phase_duration",
        "Per-phase durations of the last run over every probed name and check, seconds: stat median, p90 (90th percentile) or max (the slowest)",
        Unit::Seconds,
        phases,
    );

    let certs = Family::<HostLabels, FGauge>::default();
    for (host, at) in not_after {
        certs
            .get_or_create(&HostLabels { host: host.into() })
            .set(at);
    }
    reg.register_with_unit(
        "certificate_not_after_timestamp",
        "Expiry (notAfter) of the certificate the name presented in the last run, seconds since the Unix epoch; the earliest when several were presented",
        Unit::Seconds,
        certs,
    );

    let chain = Family::<HostLabels, Gauge>::default();
    for (host, len) in chains {
        chain
            .get_or_create(&HostLabels { host: host.into() })
            .set(len as i64);
    }
    reg.register(
        "dns_chain_length",
        "CNAME links from the probed name to its addresses in the last run (0: an address record directly; no series when DNS did not answer)",
        chain,
    );

    if let Some(tp) = &r.throughput {
        let rates = Family::<DirectionLabels, FGauge>::default();
        for d in &tp.directions {
            if let Some(kbps) = d.kbps {
                rates
                    .get_or_create(&DirectionLabels {
                        direction: d.direction.id().into(),
                    })
                    .set(kbps * 1000.0 / 8.0);
            }
        }
        reg.register_with_unit(
            "throughput",
            "Measured throughput of the last run per direction (download, upload), bytes per second",
            Unit::Other("bytes_per_second".into()),
            rates,
        );
        reg.register_with_unit(
            "throughput_floor",
            "The throughput floor the measurement is judged against (--min-kbps or the profile's), bytes per second",
            Unit::Other("bytes_per_second".into()),
            gauge(f64::from(tp.min_kbps) * 1000.0 / 8.0),
        );
    }

    let causes = Family::<KindLabels, Gauge>::default();
    for d in &r.diagnosis {
        causes
            .get_or_create(&KindLabels {
                kind: d.kind().into(),
            })
            .inc();
    }
    reg.register(
        "diagnosis_causes",
        "Root causes the diagnosis of the last run found, by kind (e.g. resolver_unreachable, tcp_blocked, tls_interception); kinds not found have no series",
        causes,
    );

    if let Some(clock) = &r.network.clock {
        reg.register_with_unit(
            "clock_skew",
            "Local clock minus the Date header of the name that differs most, seconds (positive: this machine is ahead)",
            Unit::Seconds,
            int_gauge(clock.skew_seconds),
        );
    }

    if let Some(lp) = &r.network.long_poll {
        long_poll_metrics(reg, lp);
    }
}

/// The idle check (`--long-poll`, `--idle-hold`, or `serve --idle-every`'s own schedule): a
/// fleet sees which runners' paths cut idle connections, and after how long.
pub fn long_poll_metrics(reg: &mut Registry, lp: &LongPollReport) {
    {
        reg.register(
            "long_poll_survived",
            "1 when the idle long-poll connection (--long-poll, --idle-hold) survived its hold and still answered, else 0",
            int_gauge(i64::from(lp.survived)),
        );
        reg.register_with_unit(
            "long_poll_hold",
            "How long the idle long-poll connection was to be held, seconds",
            Unit::Seconds,
            int_gauge(lp.hold_seconds as i64),
        );
        if let LongPollOutcome::Cut { after, .. } = &lp.observed.outcome {
            reg.register_with_unit(
                "long_poll_cut",
                "When the idle long-poll connection was cut (closed, reset, or found silently dropped at reuse), seconds into the hold",
                Unit::Seconds,
                gauge(after.as_secs_f64()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation() {
        use Exposition::*;
        assert_eq!(Exposition::from_accept(None), Prometheus);
        assert_eq!(Exposition::from_accept(Some("*/*")), Prometheus);
        assert_eq!(
            Exposition::from_accept(Some("application/openmetrics-text")),
            OpenMetrics
        );
        // What Prometheus 2.x sends.
        assert_eq!(
            Exposition::from_accept(Some(
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
            )),
            OpenMetrics
        );
        assert_eq!(
            Exposition::from_accept(Some("text/plain;q=1, application/openmetrics-text;q=0.5")),
            Prometheus
        );
        assert_eq!(
            Exposition::from_accept(Some("application/OpenMetrics-Text; q=0")),
            Prometheus
        );
    }

    #[test]
    fn nearest_rank_quantiles() {
        let v = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
        assert_eq!(quantile(&v, 0.5), 50);
        assert_eq!(quantile(&v, 0.9), 90);
        assert_eq!(quantile(&v, 1.0), 100);
        assert_eq!(quantile(&[7], 0.5), 7);
    }

    #[test]
    fn verdict_values() {
        assert_eq!(verdict_value(Verdict::Pass), 0);
        assert_eq!(verdict_value(Verdict::Warn), 1);
        assert_eq!(verdict_value(Verdict::Fail), 2);
        assert_eq!(verdict_value(Verdict::Skip), -1);
    }

    #[test]
    fn counters_and_build_info_without_a_report() {
        let c = RunCounters {
            runs: 3,
            failed: 1,
            overrun: 2,
            probes: 4,
            probes_rate_limited: 5,
            probes_bad: 6,
        };
        let text = encode(&registry(None, Some(&c)), Exposition::Prometheus);
        for line in [
            "# TYPE runner_preflight_runs_total counter",
            "runner_preflight_runs_total 3",
            "runner_preflight_runs_failed_total 1",
            "runner_preflight_runs_overrun_total 2",
            "runner_preflight_probe_requests_total{result=\"rate_limited\"} 5",
            "runner_preflight_build_info{version=\"",
        ] {
            assert!(text.contains(line), "{line}\n{text}");
        }
        assert!(!text.contains("runner_preflight_verdict"), "{text}");
        let om = encode(&registry(None, Some(&c)), Exposition::OpenMetrics);
        assert!(om.ends_with("# EOF\n"), "{om}");
        assert!(om.contains("# TYPE runner_preflight_runs counter"), "{om}");
    }

    #[test]
    fn rfc3339_seconds() {
        assert_eq!(unix_seconds("1970-01-01T00:01:40Z"), Some(100.0));
        assert_eq!(unix_seconds("not a time"), None);
    }
}
