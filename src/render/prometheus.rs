//! `--format prometheus` and `serve`'s `/metrics` and `/probe`: a [`Report`] as Prometheus
//! metrics, built with the `prometheus-client` crate (the official Rust client; no exposition
//! text is written by hand). No I/O here.
//!
//! Every metric is a gauge of the last run, except the scheduler's counters ([`RunCounters`],
//! `serve` only). Labels are bounded: profile, capability and host names come from the profile,
//! ports from its endpoints, `--label`s from the caller, and everything else is a small enum —
//! never an address, a cause, a URL or a credential. Every series carries the same run labels
//! (`profile` and the `--label`s, [`RunLabels`]), and the series of a metric are written in label
//! order, so that two scrapes of the same state are the same text (prometheus-client's `Family`
//! writes them in hash-map order, different in every process). The metric table with the HELP
//! texts is in docs/fleet-monitoring.md.
//!
//! Rates are in bytes per second, Prometheus's base unit (promtool rejects `bits`): the
//! throughput floor of 70 kbit/s is 8750 bytes/s.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use prometheus_client::encoding::{EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::metrics::{MetricType, TypedMetric};
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
    /// `/probe` requests refused with 429 (the per-minute limit, `--probe-limit`).
    pub probes_rate_limited: u64,
    /// `/probe` requests refused with 503: every probe slot stayed busy for as long as the
    /// caller could wait.
    pub probes_busy: u64,
    /// `/probe` requests refused with 400 (no or unknown capability).
    pub probes_bad: u64,
}

/// `--format prometheus`: one run's metrics in the text format, for node_exporter's textfile
/// collector (no counters: a one-shot run has no history; see the docs).
pub fn render(report: &Report) -> String {
    let labels = RunLabels::new(&report.profile.name, &report.labels).unwrap_or_else(|clash| {
        // The command line refuses clashing `--label`s before a run; should one get here, the
        // first key keeps the name rather than a series carrying a label twice.
        clash.first_wins
    });
    encode(
        &registry(Some(report), None, &labels),
        Exposition::Prometheus,
    )
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

/// The labels every series carries: `profile`, then the `--label`s (as Prometheus label names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunLabels(Vec<(String, String)>);

/// Two `--label` keys that are one Prometheus label name (`a-b` and `a.b` are both `a_b`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelClash {
    pub first: String,
    pub second: String,
    pub name: String,
    /// The labels with the first of each clashing pair kept.
    pub first_wins: RunLabels,
}

/// The label names runner-preflight's own series use (and Prometheus's `le`/`quantile`): a
/// `--label` with one of these names is written `label_NAME`, so it never replaces or doubles
/// one of ours.
pub const OWN_LABELS: [&str; 15] = [
    "profile",
    "capability",
    "gating",
    "host",
    "port",
    "route",
    "phase",
    "stat",
    "direction",
    "verdict",
    "kind",
    "result",
    "version",
    "le",
    "quantile",
];

/// The Prometheus label name of a `--label` key: letters, digits and `_` (anything else becomes
/// `_`), not starting with a digit; one of [`OWN_LABELS`], or a name Prometheus reserves (`__…`),
/// gets the prefix `label_`. (Keys are `[A-Za-z0-9_./-]`, which label names cannot all carry.)
pub fn label_name(key: &str) -> String {
    let mut name: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    if OWN_LABELS.contains(&name.as_str()) || name.starts_with("__") {
        name.insert_str(0, "label_");
    }
    name
}

impl RunLabels {
    /// `profile` and the caller's labels (key → value, as the report records them).
    pub fn new<'a>(
        profile: &str,
        labels: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> Result<RunLabels, LabelClash> {
        let mut out = vec![("profile".to_string(), profile.to_string())];
        let mut from: BTreeMap<String, &str> = BTreeMap::new();
        let mut clash = None;
        for (k, v) in labels {
            let name = label_name(k);
            match from.get(&name) {
                Some(first) => {
                    clash.get_or_insert_with(|| (first.to_string(), k.clone(), name.clone()));
                }
                None => {
                    from.insert(name.clone(), k);
                    out.push((name, v.clone()));
                }
            }
        }
        let labels = RunLabels(out);
        match clash {
            None => Ok(labels),
            Some((first, second, name)) => Err(LabelClash {
                first,
                second,
                name,
                first_wins: labels,
            }),
        }
    }

    fn registry(&self) -> Registry {
        Registry::with_prefix_and_labels(
            PREFIX,
            self.0
                .iter()
                .map(|(k, v)| (Cow::Owned(k.clone()), Cow::Owned(v.clone())))
                .collect::<Vec<_>>()
                .into_iter(),
        )
    }
}

/// One series' own labels (name, value), in the order written.
type Labels = Vec<(&'static str, String)>;

/// The series of one metric, written in label order (see the module's comment). `M` is a
/// `ConstGauge` or `ConstCounter`: a scrape writes the values of one finished run.
#[derive(Debug)]
struct Series<M>(BTreeMap<Labels, M>);

impl<M> Series<M> {
    fn new() -> Self {
        Series(BTreeMap::new())
    }

    fn set(&mut self, labels: Labels, m: M) {
        self.0.insert(labels, m);
    }
}

impl<M: EncodeMetric + TypedMetric> EncodeMetric for Series<M> {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (labels, m) in &self.0 {
            m.encode(encoder.encode_family(labels)?)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        M::TYPE
    }

    // No series, no HELP/TYPE lines (as prometheus-client's `Family`).
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn gauge(v: f64) -> ConstGauge<f64> {
    ConstGauge::new(v)
}

fn int_gauge(v: i64) -> ConstGauge<i64> {
    ConstGauge::new(v)
}

fn counter(v: u64) -> ConstCounter<u64> {
    ConstCounter::new(v)
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

/// The up value of each port of a name: the ports the profile names for it and those it was
/// checked on. A name that does not fail is up on every port; a failing name is down on each
/// port with a failing check, and on every port when no check ran (DNS failed, or the run ended
/// first): it could be reached on none. (A name with no port at all — none planned, none
/// checked — has no series.)
fn ports_up(t: &TargetResult) -> Vec<(String, bool)> {
    let ports: BTreeSet<u16> = t
        .planned_ports
        .iter()
        .copied()
        .chain(t.checks.iter().map(|c| c.obs.port))
        .collect();
    ports
        .into_iter()
        .map(|p| {
            let failing = t.checks.is_empty()
                || t.checks
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
/// scheduler's `counters`; every series with `labels`.
pub fn registry(
    report: Option<&Report>,
    counters: Option<&RunCounters>,
    labels: &RunLabels,
) -> Registry {
    let mut reg = labels.registry();
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
        let mut probes = Series::new();
        for (result, n) in [
            ("ok", c.probes),
            ("rate_limited", c.probes_rate_limited),
            ("busy", c.probes_busy),
            ("bad_request", c.probes_bad),
        ] {
            probes.set(vec![("result", result.into())], counter(n));
        }
        reg.register(
            "probe_requests",
            "On-demand /probe requests by result: ok, rate_limited (429, --probe-limit), busy (503, every probe slot stayed busy) or bad_request (400)",
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
        "success",
        "1 when the last run passed (exit code 0: every gating capability passes, and with --fail-on warn nothing warns), else 0",
        int_gauge(i64::from(r.exit_code == 0)),
    );
    reg.register(
        "verdict",
        "Overall verdict of the last run: 0 pass, 1 warn, 2 fail, -1 skip (nothing was probed); deprecated, use runner_preflight_success",
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

    let mut caps = Series::new();
    let mut caps_up = Series::new();
    for c in r.capabilities.iter().filter(|c| c.verdict != Verdict::Skip) {
        let labels = vec![
            ("capability", c.id.clone()),
            ("gating", c.gating.to_string()),
        ];
        caps.set(
            labels.clone(),
            int_gauge(i64::from(c.verdict != Verdict::Fail)),
        );
        caps_up.set(labels, int_gauge(i64::from(c.verdict != Verdict::Fail)));
    }
    // The two checks the table shows beside the capabilities (issue 20: the runner's version in
    // every format; issue 21: container jobs) are capabilities to a dashboard too.
    let extra = [
        r.runner_version
            .as_ref()
            .map(|v| ("runner-version", v.verdict, v.gating)),
        r.container_jobs
            .as_ref()
            .map(|c| (crate::plan::CONTAINER_JOBS, c.verdict, c.gating)),
    ];
    for (id, verdict, gating) in extra.into_iter().flatten() {
        if verdict == Verdict::Skip {
            continue;
        }
        let labels = vec![
            ("capability", id.to_string()),
            ("gating", gating.to_string()),
        ];
        caps.set(
            labels.clone(),
            int_gauge(i64::from(verdict != Verdict::Fail)),
        );
        caps_up.set(labels, int_gauge(i64::from(verdict != Verdict::Fail)));
    }
    if let Some(v) = &r.runner_version {
        // Versions as labels of a constant 1, as node_exporter's *_info series do.
        let mut info = Series::new();
        let shown = |o: Option<String>| o.unwrap_or_default();
        info.set(
            vec![
                (
                    "installed",
                    shown(v.installed.as_ref().map(|i| i.version.to_string())),
                ),
                ("latest", shown(v.latest.as_ref().map(|l| l.to_string()))),
                ("asset", shown(v.asset.clone())),
            ],
            int_gauge(1),
        );
        reg.register(
            "runner_version_info",
            "The runner's versions: installed (empty without --runner-dir or when unreadable), the latest release (empty when it could not be learned) and the update asset for this host; always 1",
            info,
        );
    }
    reg.register(
        "capability_success",
        "1 when the capability passes or warns in the last run, 0 when it fails (skipped capabilities have no series)",
        caps,
    );
    reg.register(
        "capability_up",
        "The same as runner_preflight_capability_success; deprecated, kept for existing dashboards",
        caps_up,
    );

    let mut up = Series::new();
    // Each distinct check of the run once, for the durations and the per-host gauges.
    let mut distinct: BTreeMap<(String, Vec<u16>), &TargetResult> = BTreeMap::new();
    for c in &r.capabilities {
        for t in c.entries.iter().flat_map(|e| &e.targets) {
            for (port, is_up) in ports_up(t) {
                up.set(
                    vec![
                        ("capability", c.id.clone()),
                        ("host", t.host.clone()),
                        ("port", port),
                        ("route", route_label(t.route).into()),
                    ],
                    int_gauge(i64::from(is_up)),
                );
            }
            let ports = t.checks.iter().map(|c| c.obs.port).collect();
            distinct.entry((t.host.clone(), ports)).or_insert(t);
        }
    }
    reg.register(
        "target_up",
        "1 when the probed name is reachable on the port in the last run, 0 when not (when DNS failed or the run ended before a connection, 0 on every port the profile names)",
        up,
    );

    let mut targets = Series::new();
    for (v, n) in [
        (Verdict::Pass, r.summary.pass),
        (Verdict::Warn, r.summary.warn),
        (Verdict::Fail, r.summary.fail),
        (Verdict::Skip, r.summary.skip),
    ] {
        targets.set(
            vec![("verdict", verdict_label(v).into())],
            int_gauge(n as i64),
        );
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
    let mut phases = Series::new();
    for (phase, mut ms) in durations {
        ms.sort_unstable();
        for (stat, q) in STATS {
            phases.set(
                vec![("phase", phase_label(phase).into()), ("stat", stat.into())],
                gauge(quantile(&ms, q) as f64 / 1000.0),
            );
        }
    }
    reg.register_with_unit(
        "phase_duration",
        "Per-phase durations of the last run over every probed name and check, seconds: stat median, p90 (90th percentile) or max (the slowest)",
        Unit::Seconds,
        phases,
    );

    let mut certs = Series::new();
    for (host, at) in not_after {
        certs.set(vec![("host", host.into())], gauge(at));
    }
    reg.register_with_unit(
        "certificate_not_after_timestamp",
        "Expiry (notAfter) of the certificate the name presented in the last run, seconds since the Unix epoch; the earliest when several were presented",
        Unit::Seconds,
        certs,
    );

    let mut chain = Series::new();
    for (host, len) in chains {
        chain.set(vec![("host", host.into())], int_gauge(len as i64));
    }
    reg.register(
        "dns_chain_length",
        "CNAME links from the probed name to its addresses in the last run (0: an address record directly; no series when DNS did not answer)",
        chain,
    );

    if let Some(tp) = &r.throughput {
        let mut rates = Series::new();
        let mut success = Series::new();
        for d in &tp.directions {
            if let Some(kbps) = d.kbps {
                rates.set(
                    vec![("direction", d.direction.id().into())],
                    gauge(kbps * 1000.0 / 8.0),
                );
            }
            if d.verdict != Verdict::Skip {
                success.set(
                    vec![
                        ("direction", d.direction.id().into()),
                        ("gating", tp.gating.to_string()),
                    ],
                    int_gauge(i64::from(d.verdict != Verdict::Fail)),
                );
            }
        }
        reg.register(
            "throughput_success",
            "1 when the throughput direction (download, upload) passes or warns in the last run, 0 when it fails, measured below the floor or not measured at all (skipped directions have no series)",
            success,
        );
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

    let mut kinds: BTreeMap<&str, i64> = BTreeMap::new();
    for d in &r.diagnosis {
        *kinds.entry(d.kind()).or_default() += 1;
    }
    let mut causes = Series::new();
    for (kind, n) in kinds {
        causes.set(vec![("kind", kind.into())], int_gauge(n));
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
            probes_busy: 7,
            probes_bad: 6,
        };
        let labels = RunLabels::new("dotcom", []).unwrap();
        let text = encode(&registry(None, Some(&c), &labels), Exposition::Prometheus);
        for line in [
            "# TYPE runner_preflight_runs_total counter",
            "runner_preflight_runs_total{profile=\"dotcom\"} 3",
            "runner_preflight_runs_failed_total{profile=\"dotcom\"} 1",
            "runner_preflight_runs_overrun_total{profile=\"dotcom\"} 2",
            "runner_preflight_probe_requests_total{profile=\"dotcom\",result=\"rate_limited\"} 5",
            "runner_preflight_probe_requests_total{profile=\"dotcom\",result=\"busy\"} 7",
            "runner_preflight_build_info{profile=\"dotcom\",version=\"",
        ] {
            assert!(text.contains(line), "{line}\n{text}");
        }
        assert!(!text.contains("runner_preflight_verdict"), "{text}");
        let om = encode(&registry(None, Some(&c), &labels), Exposition::OpenMetrics);
        assert!(om.ends_with("# EOF\n"), "{om}");
        assert!(om.contains("# TYPE runner_preflight_runs counter"), "{om}");
    }

    /// A profile of two capabilities: `core` (gating) with `ok.test` on 443, `extra` (not
    /// gating) with `gone.test` on 443 and 8443, which does not resolve.
    const PROFILE: &str = "schema_version: 1\nname: t\ntitle: T\ncapabilities:\n  - id: core\n    title: Core\n    gating: true\n    entries:\n      - host: ok.test\n        ports: [443]\n  - id: extra\n    title: Extra\n    gating: false\n    entries:\n      - host: gone.test\n        ports: [443, 8443]\n";

    /// The report of a run of [`PROFILE`]: `ok.test` refused (so `core` fails), `gone.test`
    /// NXDOMAIN; with `labels`, and a gating download that failed before measuring.
    fn report(labels: &[(&str, &str)]) -> Report {
        use crate::probe::outcome::{
            CheckObservation, DnsFailure, DnsObservation, Step, TargetOutcome,
        };
        use crate::probe::throughput::{
            Direction, DirectionSample, Measurement, ThroughputFailure,
        };
        let profile = crate::profile::parse("t.yaml", PROFILE).expect("profile");
        let plan = crate::plan::build(&profile, &crate::plan::PlanOptions::new(&[], &[], &[]))
            .expect("plan");
        let addr: std::net::SocketAddr = "192.0.2.1:443".parse().unwrap();
        let outcomes = plan
            .targets()
            .into_iter()
            .map(|t| {
                let mut dns = DnsObservation::none();
                let checks = if t.host == "gone.test" {
                    dns.failure = Some(DnsFailure::NxDomain {
                        name: t.host.clone(),
                        server: "198.51.100.53:53".parse().unwrap(),
                    });
                    vec![]
                } else {
                    dns.dns_addresses = vec![addr.ip()];
                    vec![CheckObservation {
                        port: 443,
                        family: Some(crate::model::Family::Ipv4),
                        address: Some(addr),
                        ms: 3,
                        connection: None,
                        start_ms: None,
                        step: Step::Connect {
                            redirected: None,
                            only_family: true,
                            failure: Some(crate::probe::outcome::TcpFailure::Refused {
                                addr,
                                tried: 1,
                            }),
                            path: None,
                        },
                    }]
                };
                let o = TargetOutcome {
                    host: t.host.clone(),
                    route: Route::Direct,
                    dns,
                    checks,
                    ms: 3,
                    incomplete: None,
                };
                (t, o)
            })
            .collect();
        let results = crate::report::judge_all(&outcomes);
        let download = DirectionSample {
            direction: Direction::Download,
            url: "https://dl.test/x".into(),
            bytes: 0,
            sample: std::time::Duration::ZERO,
            elapsed: std::time::Duration::ZERO,
            ttfb: None,
            via_proxy: None,
            stopped: None,
            rate: None,
            failure: Some(ThroughputFailure::NoAddress {
                host: "dl.test".into(),
            }),
        };
        let throughput = crate::report::throughput::judge(
            Measurement {
                download: Some(download),
                upload: None,
            },
            70,
            1 << 21,
            true,
            None,
        );
        let mut r = crate::report::build(
            &plan,
            &results,
            crate::report::RunInfo {
                generated_at: "2026-12-08T01:00:00Z".into(),
                hostname: "h".into(),
                settings: crate::report::Settings {
                    timeout_ms: 5000,
                    max_time_ms: 45000,
                    concurrency: 8,
                    dns_servers: vec![],
                    dns_servers_given: false,
                    ca_files: vec![],
                    fail_on: crate::report::FailOn::Fail,
                },
                duration_ms: 1500,
                throughput: Some(throughput),
                runner_version: None,
                container_jobs: None,
                network: Default::default(),
            },
        );
        r.labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        r
    }

    fn parse(text: &str) -> prometheus_parse::Scrape {
        prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
            .expect("the exposition parses")
    }

    /// The value of the one sample of `metric` whose labels include `labels`.
    fn value(scrape: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<f64> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == metric)
            .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            })
            .collect();
        assert_eq!(found.len(), 1, "{metric} {labels:?}: {found:?}");
        found[0]
    }

    /// Issue 23 row 13: a success series per run, per capability and per throughput direction
    /// (the gating download failed before a rate was measured: no rate, but a 0); the
    /// `--label`s and `profile` on every series; the NXDOMAIN name 0 on each of its ports.
    #[test]
    fn a_failed_run_has_success_series_and_every_series_the_run_labels() {
        let r = report(&[("node", "worker-7"), ("team.name", "ci"), ("host", "h1")]);
        let text = render(&r);
        let scrape = parse(&text);
        assert_eq!(
            value(&scrape, "runner_preflight_success", &[]),
            0.0,
            "{text}"
        );
        for (cap, gating, up) in [("core", "true", 0.0), ("extra", "false", 0.0)] {
            let labels = [("capability", cap), ("gating", gating)];
            assert_eq!(
                value(&scrape, "runner_preflight_capability_success", &labels),
                up
            );
            assert_eq!(
                value(&scrape, "runner_preflight_capability_up", &labels),
                up
            );
        }
        assert_eq!(
            value(
                &scrape,
                "runner_preflight_throughput_success",
                &[("direction", "download"), ("gating", "true")]
            ),
            0.0
        );
        assert!(
            !text.contains("runner_preflight_throughput_bytes_per_second{"),
            "{text}"
        );
        for port in ["443", "8443"] {
            assert_eq!(
                value(
                    &scrape,
                    "runner_preflight_target_up",
                    &[
                        ("host", "gone.test"),
                        ("port", port),
                        ("capability", "extra")
                    ]
                ),
                0.0
            );
        }
        assert!(!text.contains("port=\"\""), "{text}");
        assert!(scrape.samples.len() > 15, "{text}");
        for s in &scrape.samples {
            for (k, v) in [
                ("profile", "t"),
                ("node", "worker-7"),
                ("team_name", "ci"),
                ("label_host", "h1"),
            ] {
                assert_eq!(s.labels.get(k), Some(v), "{} lacks {k}: {text}", s.metric);
            }
        }
        // The same labels on the exporter's own series, before any run.
        let labels = RunLabels::new("t", &r.labels).expect("no clash");
        let idle = encode(
            &registry(None, Some(&RunCounters::default()), &labels),
            Exposition::Prometheus,
        );
        for s in &parse(&idle).samples {
            assert_eq!(s.labels.get("node"), Some("worker-7"), "{idle}");
            assert_eq!(s.labels.get("profile"), Some("t"), "{idle}");
        }
    }

    /// Issue 23 row 13: prometheus-client's `Family` wrote series in hash-map order, different
    /// for every map; the same run is now the same text every time, series in label order.
    #[test]
    fn the_same_run_is_the_same_text_every_time() {
        let r = report(&[]);
        let first = render(&r);
        for _ in 0..20 {
            assert_eq!(render(&r), first);
        }
        let ups: Vec<&str> = first
            .lines()
            .filter(|l| l.starts_with("runner_preflight_target_up{"))
            .collect();
        let mut sorted = ups.clone();
        sorted.sort();
        assert_eq!(ups, sorted);
        assert_eq!(ups.len(), 3, "{first}");
    }

    #[test]
    fn label_keys_become_prometheus_label_names() {
        assert_eq!(label_name("node"), "node");
        assert_eq!(
            label_name("kubernetes.io/hostname"),
            "kubernetes_io_hostname"
        );
        assert_eq!(label_name("a-b"), "a_b");
        assert_eq!(label_name("7up"), "_7up");
        assert_eq!(label_name("port"), "label_port");
        assert_eq!(label_name("__x"), "label___x");
        let labels = [
            ("a-b".to_string(), "1".to_string()),
            ("a.b".to_string(), "2".to_string()),
        ];
        let clash = RunLabels::new("p", labels.iter().map(|(k, v)| (k, v))).unwrap_err();
        assert_eq!(
            (
                clash.first.as_str(),
                clash.second.as_str(),
                clash.name.as_str()
            ),
            ("a-b", "a.b", "a_b")
        );
        assert_eq!(
            clash.first_wins,
            RunLabels(vec![
                ("profile".into(), "p".into()),
                ("a_b".into(), "1".into())
            ])
        );
    }

    #[test]
    fn rfc3339_seconds() {
        assert_eq!(unix_seconds("1970-01-01T00:01:40Z"), Some(100.0));
        assert_eq!(unix_seconds("not a time"), None);
    }
}
