//! `--format html` of `check`, `fleet` and `fleet diff`: one self-contained file each (inline
//! CSS and SVG; nothing fetched from the network; no script), built with minijinja from the
//! templates in `render/templates/`, with HTML autoescaping of every value.
//!
//! This module computes the view (every word, from [`super::words`] and [`super::fleet`], and
//! every SVG coordinate); the templates only lay it out.

use minijinja::value::Value as TValue;
use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use super::fleet as fw;
use super::words;
use crate::fleet::diff::FleetDiff;
use crate::fleet::{Fleet, Skipped};
use crate::model::Verdict;
use crate::report::findings::Severity;
use crate::report::{Phase, Report, TargetResult};
use crate::words::plural;

const BASE: &str = include_str!("templates/base.html");
const REPORT: &str = include_str!("templates/report.html");
const FLEET: &str = include_str!("templates/fleet.html");
const FLEET_DIFF: &str = include_str!("templates/fleet_diff.html");

fn class(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Warn => "warn",
        Verdict::Fail => "fail",
        Verdict::Skip => "skip",
    }
}

/// Renders `template` with `view`. The templates are part of the binary and tested: an error
/// here is a bug, shown as a page that says so rather than a panic.
fn render(template: &str, view: impl Serialize) -> String {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    let result = env
        .add_template("base.html", BASE)
        .and_then(|()| env.add_template("report.html", REPORT))
        .and_then(|()| env.add_template("fleet.html", FLEET))
        .and_then(|()| env.add_template("fleet_diff.html", FLEET_DIFF))
        .and_then(|()| env.get_template(template))
        .and_then(|t| t.render(TValue::from(minijinja::value::Serde(&view))));
    match result {
        Ok(mut s) => {
            if !s.ends_with('\n') {
                s.push('\n');
            }
            s
        }
        Err(e) => {
            let msg = e.to_string();
            let escaped = msg
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            format!("<!doctype html>\n<title>runner-preflight</title>\n<p>runner-preflight could not lay out this report (a bug): {escaped}</p>\n")
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One report
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct Node {
    x: u32,
    y: u32,
    w: u32,
    h: u32,
    text: String,
    /// `name`, `addr` or `none`.
    kind: &'static str,
}

#[derive(Serialize)]
struct Edge {
    x: u32,
    y1: u32,
    y2: u32,
    label: String,
}

#[derive(Serialize)]
struct Chain {
    label: String,
    width: u32,
    height: u32,
    nodes: Vec<Node>,
    edges: Vec<Edge>,
}

/// Width of monospace text at 11 px, with padding.
fn text_width(s: &str) -> u32 {
    s.chars().count() as u32 * 7 + 16
}

const NODE_H: u32 = 24;
const NODE_GAP: u32 = 26;
const MAX_ADDRESSES: usize = 4;

/// The name, each CNAME target and the addresses, top to bottom, each arrow with its TTL.
fn chain(t: &TargetResult) -> Chain {
    let dns = &t.dns.obs;
    let mut boxes: Vec<(String, &'static str)> = vec![(t.host.clone(), "name")];
    let mut labels: Vec<String> = Vec::new();
    for link in &dns.chain {
        boxes.push((link.target.clone(), "name"));
        labels.push(format!("CNAME · TTL {} s", link.ttl));
    }
    if dns.addresses.is_empty() {
        boxes.push(("no address".into(), "none"));
        labels.push(if dns.via_proxy {
            "resolved by the proxy".into()
        } else {
            "A/AAAA".into()
        });
    } else {
        let mut shown: Vec<String> = dns
            .addresses
            .iter()
            .take(MAX_ADDRESSES)
            .map(|a| a.address.to_string())
            .collect();
        if dns.addresses.len() > MAX_ADDRESSES {
            shown.push(format!("+{} more", dns.addresses.len() - MAX_ADDRESSES));
        }
        boxes.push((shown.join(", "), "addr"));
        let ttl = dns.addresses.iter().filter_map(|a| a.ttl).min();
        labels.push(match ttl {
            Some(ttl) => format!("A/AAAA · TTL {ttl} s"),
            None => format!("A/AAAA · {}", source_word(t)),
        });
    }
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut width = 0;
    for (i, (text, kind)) in boxes.into_iter().enumerate() {
        let y = 1 + i as u32 * (NODE_H + NODE_GAP);
        let w = text_width(&text);
        width = width.max(w + 2);
        nodes.push(Node {
            x: 1,
            y,
            w,
            h: NODE_H,
            text,
            kind,
        });
    }
    for (i, label) in labels.into_iter().enumerate() {
        let y1 = 1 + i as u32 * (NODE_H + NODE_GAP) + NODE_H;
        // Arrows hang at a fixed x so that their labels line up.
        width = width.max(30 + text_width(&label));
        edges.push(Edge {
            x: 20,
            y1,
            y2: y1 + NODE_GAP,
            label,
        });
    }
    let height = nodes.last().map_or(NODE_H, |n| n.y + n.h + 1);
    Chain {
        label: t.host.clone(),
        width,
        height,
        nodes,
        edges,
    }
}

fn source_word(t: &TargetResult) -> &'static str {
    match t.dns.obs.source {
        crate::report::DnsSource::Dns => "DNS",
        crate::report::DnsSource::System => "system resolver",
        crate::report::DnsSource::Override => "--resolve",
    }
}

#[derive(Serialize)]
struct Segment {
    x: f64,
    w: f64,
    phase: &'static str,
    label: String,
}

#[derive(Serialize)]
struct Timing {
    width: u32,
    segments: Vec<Segment>,
    legend: String,
}

const BAR_WIDTH: u32 = 300;

/// DNS, then the first TCP, TLS and HTTP check of the name, in ms.
fn phases(t: &TargetResult) -> Vec<(&'static str, &'static str, u64)> {
    let mut v = vec![("dns", "DNS", t.dns.obs.ms)];
    for (phase, id, name) in [
        (Phase::Tcp, "tcp", "TCP"),
        (Phase::Tls, "tls", "TLS"),
        (Phase::Http, "http", "HTTP"),
    ] {
        if let Some(c) = t.checks.iter().find(|c| c.phase == phase) {
            v.push((id, name, c.obs.ms));
        }
    }
    v
}

fn timing(t: &TargetResult, scale_ms: u64) -> Timing {
    let mut x = 0.0;
    let mut segments = Vec::new();
    let mut legend = Vec::new();
    for (id, name, ms) in phases(t) {
        legend.push(format!("{name} {ms} ms"));
        if ms == 0 {
            continue;
        }
        let w = (ms as f64 / scale_ms.max(1) as f64 * BAR_WIDTH as f64).max(2.0);
        segments.push(Segment {
            x,
            w,
            phase: id,
            label: format!("{name} {ms} ms"),
        });
        x += w;
    }
    Timing {
        width: BAR_WIDTH,
        segments,
        legend: legend.join(" · "),
    }
}

#[derive(Serialize)]
struct CheckRow {
    phase: &'static str,
    verdict: &'static str,
    verdict_label: &'static str,
    ms: u64,
    detail: String,
}

#[derive(Serialize)]
struct NameView {
    host: String,
    verdict: &'static str,
    verdict_label: &'static str,
    route: &'static str,
    cause: Option<String>,
    chain: Chain,
    timing: Timing,
    checks: Vec<CheckRow>,
    checks_label: String,
    notes: Vec<String>,
    /// It fails or warns on its own cause: its checks are shown open.
    open: bool,
}

/// Rows a root cause explains, as one line pointing at it.
#[derive(Serialize)]
struct FoldView {
    cause: usize,
    verdict: &'static str,
    verdict_label: &'static str,
    names_label: String,
    reference: String,
    hosts: Vec<String>,
}

#[derive(Serialize)]
struct EmptyEntry {
    pattern: String,
    note: String,
}

#[derive(Serialize)]
struct CapabilityView {
    id: String,
    title: String,
    gating: bool,
    verdict: &'static str,
    verdict_label: &'static str,
    /// The card's own cause line: only when no fold says it and several names are shown.
    cause: Option<String>,
    counts: String,
    folds: Vec<FoldView>,
    names: Vec<NameView>,
    empty_entries: Vec<EmptyEntry>,
}

#[derive(Serialize)]
struct ProblemView {
    id: String,
    gating: bool,
    verdict: &'static str,
    verdict_label: &'static str,
    cause: String,
    /// The first failing name's own words, beside the cause it folds into.
    detail: Option<String>,
}

/// One root cause of the diagnosis, numbered as the other formats number it.
#[derive(Serialize)]
struct CauseView {
    id: usize,
    verdict: &'static str,
    verdict_label: &'static str,
    title: String,
    summary: String,
    fix: String,
    blocks: String,
}

#[derive(Serialize)]
struct FindingView {
    severity: &'static str,
    severity_label: &'static str,
    message: String,
    fix: Option<String>,
}

#[derive(Serialize)]
struct Bar {
    width: u32,
    value: f64,
    floor: f64,
}

#[derive(Serialize)]
struct DirectionView {
    direction: &'static str,
    verdict: &'static str,
    verdict_label: &'static str,
    rate: String,
    detail: String,
    /// Rate against the floor; `None` when nothing was measured.
    bar: Option<Bar>,
    /// The cause it folds into.
    fold: Option<FoldView>,
}

#[derive(Serialize)]
struct ThroughputView {
    verdict: &'static str,
    verdict_label: &'static str,
    min_kbps: u32,
    directions: Vec<DirectionView>,
    notes: Vec<String>,
}

#[derive(Serialize)]
struct RunnerVersionView {
    verdict: &'static str,
    verdict_label: &'static str,
    gating: bool,
    title: &'static str,
    message: String,
    fix: Option<String>,
}

#[derive(Serialize)]
struct ReportPage {
    page_title: String,
    version: String,
    hostname: String,
    profile_name: String,
    profile_title: String,
    generated_at: String,
    duration: String,
    verdict: &'static str,
    verdict_label: &'static str,
    sentence: String,
    headline: String,
    labels: Vec<String>,
    runner_version: Option<RunnerVersionView>,
    notes: Vec<String>,
    diagnosis_title: &'static str,
    causes: Vec<CauseView>,
    problems: Vec<ProblemView>,
    findings: Vec<FindingView>,
    summary: String,
    scale: String,
    capabilities: Vec<CapabilityView>,
    throughput: Option<ThroughputView>,
    inactive: Vec<(String, String)>,
}

fn name_view(t: &TargetResult, cause: Option<String>, open: bool, scale_ms: u64) -> NameView {
    NameView {
        open,
        host: t.host.clone(),
        verdict: class(t.verdict),
        verdict_label: t.verdict.label(),
        route: match t.route {
            crate::model::Route::Direct => "direct",
            crate::model::Route::Proxy => "through the proxy",
        },
        cause,
        chain: chain(t),
        timing: timing(t, scale_ms),
        checks: t
            .checks
            .iter()
            .map(|c| CheckRow {
                phase: match c.phase {
                    Phase::Dns => "DNS",
                    Phase::Tcp => "TCP",
                    Phase::Tls => "TLS",
                    Phase::Http => "HTTP",
                },
                verdict: class(c.verdict),
                verdict_label: c.verdict.label(),
                ms: c.obs.ms,
                detail: words::check_detail(c, &t.host),
            })
            .collect(),
        checks_label: plural(t.checks.len(), "check"),
        notes: words::dns_notes(t),
    }
}

fn fold_view(f: &super::view::Fold) -> FoldView {
    FoldView {
        cause: f.cause,
        verdict: class(f.verdict),
        verdict_label: f.verdict.label(),
        names_label: plural(f.hosts.len(), "name"),
        reference: f.reference.clone(),
        hosts: f.hosts.clone(),
    }
}

fn capability_view(sec: &super::view::Section, scale_ms: u64) -> CapabilityView {
    CapabilityView {
        id: sec.id.clone(),
        title: sec.title.clone(),
        gating: sec.gating,
        verdict: class(sec.verdict),
        verdict_label: sec.verdict.label(),
        // Said once: by a fold when there is one, else on the card when several names share it.
        cause: sec
            .one_liner
            .clone()
            .filter(|_| sec.folds.is_empty() && sec.rows.len() > 1),
        counts: sec.counts.short(),
        folds: sec.folds.iter().map(fold_view).collect(),
        names: sec
            .rows
            .iter()
            .map(|r| name_view(r.target, r.cause.clone(), r.open, scale_ms))
            .collect(),
        empty_entries: sec
            .empty
            .iter()
            .map(|(pattern, note)| EmptyEntry {
                pattern: pattern.to_string(),
                note: note.clone(),
            })
            .collect(),
    }
}

fn throughput_view(section: &super::view::ThroughputSection) -> ThroughputView {
    let tp = section.report;
    let top = tp
        .directions
        .iter()
        .filter_map(|d| d.kbps)
        .fold(tp.min_kbps as f64 * 2.0, f64::max)
        .max(1.0);
    let scale = |kbps: f64| kbps / top * BAR_WIDTH as f64;
    ThroughputView {
        verdict: class(tp.verdict),
        verdict_label: tp.verdict.label(),
        min_kbps: tp.min_kbps,
        directions: section
            .directions
            .iter()
            .map(|line| {
                let d = line.result;
                let view = super::words_throughput::view(d);
                DirectionView {
                    direction: view.direction,
                    verdict: class(d.verdict),
                    verdict_label: d.verdict.label(),
                    rate: d
                        .kbps
                        .map_or_else(|| "not measured".into(), |k| format!("{k:.0} kbit/s")),
                    detail: view.detail,
                    bar: d.kbps.map(|k| Bar {
                        width: BAR_WIDTH,
                        value: scale(k),
                        floor: scale(tp.min_kbps as f64),
                    }),
                    fold: line.fold.as_ref().map(fold_view),
                }
            })
            .collect(),
        notes: tp.notes.clone(),
    }
}

/// "2 of 5 capabilities fail, 1 warns · exit code 1": the capabilities' counts of the view.
fn report_headline(view: &super::view::View) -> String {
    let c = &view.capabilities;
    let n = c.total();
    let caps = match (c.fail, c.warn) {
        (0, 0) if n == 1 => "the capability passes".into(),
        (0, 0) => format!("all {} pass", capabilities(n)),
        (f, 0) => format!("{f} of {} fail", capabilities(n)),
        (0, w) => format!("{w} of {} warn", capabilities(n)),
        (f, w) => format!("{f} of {} fail, {w} warn", capabilities(n)),
    };
    format!("{caps} · exit code {}", view.report.exit_code)
}

fn capabilities(n: usize) -> String {
    if n == 1 {
        "1 capability".into()
    } else {
        format!("{n} capabilities")
    }
}

/// The single-run report.
pub fn report(r: &Report) -> String {
    let view = super::view::View::new(r);
    let targets = r
        .capabilities
        .iter()
        .flat_map(|c| &c.entries)
        .flat_map(|e| &e.targets);
    let scale_ms = targets
        .map(|t| phases(t).iter().map(|p| p.2).sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let problems = view
        .sections
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Fail | Verdict::Warn))
        .map(|c| ProblemView {
            id: c.id.clone(),
            gating: c.gating,
            verdict: class(c.verdict),
            verdict_label: c.verdict.label(),
            cause: c.one_liner.clone().unwrap_or_default(),
            detail: (!c.folds.is_empty())
                .then(|| words::capability_cause(c.cap))
                .flatten(),
        })
        .chain(
            view.throughput
                .as_ref()
                .filter(|t| matches!(t.verdict, Verdict::Fail | Verdict::Warn))
                .map(|t| ProblemView {
                    id: "throughput".into(),
                    gating: t.gating,
                    verdict: class(t.verdict),
                    verdict_label: t.verdict.label(),
                    cause: t.one_liner.clone().unwrap_or_default(),
                    detail: None,
                }),
        )
        .collect::<Vec<_>>();
    let causes = view
        .causes
        .iter()
        .map(|d| CauseView {
            id: d.id,
            verdict: class(d.verdict),
            verdict_label: d.verdict.label(),
            title: d.title.clone(),
            summary: d.summary.clone(),
            fix: d.fix.clone(),
            blocks: super::diagnosis::list(&d.blocks),
        })
        .collect::<Vec<_>>();
    let page = ReportPage {
        page_title: format!("{} — {} — runner-preflight", r.verdict.label(), r.hostname),
        version: r.tool.version.clone(),
        hostname: r.hostname.clone(),
        profile_name: r.profile.name.clone(),
        profile_title: r.profile.title.clone(),
        generated_at: r.generated_at.clone(),
        duration: crate::words::fmt_duration(std::time::Duration::from_millis(r.duration_ms)),
        verdict: class(r.verdict),
        verdict_label: r.verdict.label(),
        sentence: view.sentence.clone(),
        headline: report_headline(&view),
        labels: r.labels.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        runner_version: view.runner_version.as_ref().map(|rv| RunnerVersionView {
            verdict: class(rv.verdict),
            verdict_label: rv.verdict.label(),
            gating: rv.gating,
            title: rv.title,
            message: rv.message.clone(),
            fix: rv.fix.clone(),
        }),
        notes: view.notes.clone(),
        diagnosis_title: if problems.is_empty() {
            "Diagnosis"
        } else {
            "What does not pass, and why"
        },
        causes,
        problems,
        findings: r
            .network
            .findings
            .iter()
            .map(|f| FindingView {
                severity: match f.severity {
                    Severity::Note => "skip",
                    Severity::Warn => "warn",
                },
                severity_label: match f.severity {
                    Severity::Note => "NOTE",
                    Severity::Warn => "WARN",
                },
                message: words::finding_message(f),
                fix: words::finding_fix(f),
            })
            .collect(),
        summary: view.names_line.clone(),
        scale: format!("{BAR_WIDTH} px = {scale_ms} ms"),
        capabilities: view
            .sections
            .iter()
            .map(|c| capability_view(c, scale_ms))
            .collect(),
        throughput: view.throughput.as_ref().map(throughput_view),
        inactive: r
            .inactive
            .iter()
            .map(|i| (i.id.clone(), i.reason.clone()))
            .collect(),
    };
    render("report.html", page)
}

// ---------------------------------------------------------------------------------------------
// A fleet
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct ColumnView {
    id: String,
    title: String,
}

#[derive(Serialize)]
struct CellView {
    verdict: Option<&'static str>,
    label: &'static str,
    tip: String,
}

#[derive(Serialize)]
struct RowView {
    anchor: String,
    name: String,
    verdict: &'static str,
    verdict_label: &'static str,
    cells: Vec<CellView>,
}

#[derive(Serialize)]
struct SentenceView {
    sentence: String,
    detail: Option<String>,
    names: Vec<SentenceView>,
}

#[derive(Serialize)]
struct EverywhereView {
    sentence: String,
    cause: Option<String>,
}

#[derive(Serialize)]
struct HostNameView {
    host: String,
    verdict: &'static str,
    verdict_label: &'static str,
    cause: String,
}

#[derive(Serialize)]
struct HostCapabilityView {
    id: String,
    title: String,
    verdict: &'static str,
    verdict_label: &'static str,
    cause: Option<String>,
    /// Shown unfolded (it warns or fails).
    open: bool,
    names_label: String,
    names: Vec<HostNameView>,
}

#[derive(Serialize)]
struct HostView {
    anchor: String,
    name: String,
    file: String,
    profile: String,
    generated_at: String,
    verdict: &'static str,
    verdict_label: &'static str,
    labels: Vec<String>,
    capabilities: Vec<HostCapabilityView>,
}

#[derive(Serialize)]
struct FleetPage {
    page_title: String,
    version: String,
    verdict: &'static str,
    verdict_label: &'static str,
    headline: String,
    first_run: String,
    last_run: String,
    columns: Vec<ColumnView>,
    rows: Vec<RowView>,
    differences: Vec<SentenceView>,
    everywhere: Vec<EverywhereView>,
    skipped: Vec<String>,
    hosts: Vec<HostView>,
}

fn worst(vs: impl Iterator<Item = Verdict>) -> Verdict {
    vs.max().unwrap_or(Verdict::Skip)
}

/// The fleet: what differs, the heat map, and every host's capabilities and names.
pub fn fleet(f: &Fleet, skipped: &[Skipped]) -> String {
    let verdict = worst(f.hosts.iter().map(|h| h.report.verdict));
    let mut runs: Vec<&str> = f
        .hosts
        .iter()
        .map(|h| h.report.generated_at.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    runs.sort_unstable();
    let anchor = |i: usize| format!("host-{}", i + 1);
    let page = FleetPage {
        page_title: format!(
            "{} — fleet of {} — runner-preflight",
            verdict.label(),
            plural(f.hosts.len(), "host")
        ),
        version: env!("CARGO_PKG_VERSION").into(),
        verdict: class(verdict),
        verdict_label: verdict.label(),
        headline: fw::headline(f),
        first_run: runs.first().unwrap_or(&"").to_string(),
        last_run: runs.last().unwrap_or(&"").to_string(),
        columns: f
            .columns
            .iter()
            .map(|c| ColumnView {
                id: c.id.clone(),
                title: c.title.clone(),
            })
            .collect(),
        rows: f
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| RowView {
                anchor: anchor(i),
                name: h.name.clone(),
                verdict: class(h.report.verdict),
                verdict_label: h.report.verdict.label(),
                cells: f
                    .columns
                    .iter()
                    .map(|c| match f.cell(i, &c.id) {
                        Some(cap) => CellView {
                            verdict: Some(class(cap.verdict)),
                            label: cap.verdict.label(),
                            tip: format!(
                                "{} on {}: {}{}",
                                c.id,
                                h.name,
                                cap.verdict.label(),
                                cap.cause
                                    .as_deref()
                                    .map(|s| format!(" — {s}"))
                                    .unwrap_or_default()
                            ),
                        },
                        None => CellView {
                            verdict: None,
                            label: "",
                            tip: String::new(),
                        },
                    })
                    .collect(),
            })
            .collect(),
        // Root causes that differ between hosts come first (issue 23 row 8).
        differences: fw::causes_sentence(f)
            .map(|c| SentenceView {
                sentence: c,
                detail: None,
                names: Vec::new(),
            })
            .into_iter()
            .chain(f.differences.iter().map(|d| {
                SentenceView {
                    sentence: fw::capability_sentence(f, d),
                    detail: d.spread.differs().then(|| fw::spread_detail(f, &d.spread)),
                    names: d
                        .names
                        .iter()
                        .map(|n| SentenceView {
                            sentence: fw::name_sentence(f, &n.host, &n.spread),
                            detail: Some(fw::spread_detail(f, &n.spread)),
                            names: Vec::new(),
                        })
                        .collect(),
                }
            }))
            .collect(),
        everywhere: f
            .everywhere
            .iter()
            .map(|(c, s)| EverywhereView {
                sentence: fw::everywhere_sentence(c, s),
                // The most common cause, with on how many hosts when not on all of them.
                cause: s.cause.as_ref().map(|(c, n)| {
                    if *n < s.failing.len() {
                        format!("{c} (on {n} of {} failing hosts)", s.failing.len())
                    } else {
                        c.clone()
                    }
                }),
            })
            .collect(),
        skipped: skipped.iter().map(fw::skipped_warning).collect(),
        hosts: f
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| HostView {
                anchor: anchor(i),
                name: h.name.clone(),
                file: h.file.clone(),
                profile: h.report.profile.name.clone(),
                generated_at: h.report.generated_at.clone(),
                verdict: class(h.report.verdict),
                verdict_label: h.report.verdict.label(),
                labels: h
                    .report
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect(),
                capabilities: h
                    .report
                    .capabilities
                    .iter()
                    .map(|c| HostCapabilityView {
                        id: c.id.clone(),
                        title: c.title.clone(),
                        verdict: class(c.verdict),
                        verdict_label: c.verdict.label(),
                        cause: c.cause.clone(),
                        open: matches!(c.verdict, Verdict::Fail | Verdict::Warn),
                        names_label: plural(c.names().len(), "name"),
                        names: c
                            .names()
                            .into_iter()
                            .map(|(n, v, cause)| HostNameView {
                                host: n.to_string(),
                                verdict: class(v),
                                verdict_label: v.label(),
                                cause: cause.unwrap_or_default().to_string(),
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    };
    render("fleet.html", page)
}

// ---------------------------------------------------------------------------------------------
// fleet diff
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct LineView {
    verdict: &'static str,
    verdict_label: &'static str,
    text: String,
}

#[derive(Serialize)]
struct HostSection {
    title: &'static str,
    hosts: Vec<LineView>,
}

#[derive(Serialize)]
struct ChangedCapability {
    line: String,
    names: Vec<String>,
}

#[derive(Serialize)]
struct ChangedHost {
    verdict: &'static str,
    line: String,
    capabilities: Vec<ChangedCapability>,
}

#[derive(Serialize)]
struct DiffPage {
    page_title: String,
    version: String,
    verdict: &'static str,
    verdict_label: &'static str,
    headline: String,
    sections: Vec<HostSection>,
    changed: Vec<ChangedHost>,
    skipped: Vec<String>,
}

/// What changed between two sweeps.
pub fn fleet_diff(d: &FleetDiff, skips: &fw::SweepSkips) -> String {
    let (verdict, label) = if d.worse() {
        ("fail", "WORSE")
    } else {
        ("pass", "NOT WORSE")
    };
    let lines = |hosts: &[crate::fleet::diff::HostLine]| -> Vec<LineView> {
        hosts
            .iter()
            .map(|h| LineView {
                verdict: class(h.verdict),
                verdict_label: h.verdict.label(),
                text: fw::host_line(h),
            })
            .collect()
    };
    let sections = [("Appeared", &d.appeared), ("Disappeared", &d.disappeared)]
        .into_iter()
        .filter(|(_, h)| !h.is_empty())
        .map(|(title, h)| HostSection {
            title,
            hosts: lines(h),
        })
        .collect();
    let page = DiffPage {
        page_title: format!("{label} — fleet diff — runner-preflight"),
        version: env!("CARGO_PKG_VERSION").into(),
        verdict,
        verdict_label: label,
        headline: fw::diff_headline(d),
        sections,
        changed: d
            .changed
            .iter()
            .map(|c| ChangedHost {
                verdict: if c.worse() { "fail" } else { class(c.new) },
                line: format!(
                    "{}: {}{}",
                    c.name,
                    fw::flip(Some(c.old), Some(c.new)),
                    if c.worse() { " (worse)" } else { "" }
                ),
                capabilities: c
                    .capabilities
                    .iter()
                    .map(|k| ChangedCapability {
                        line: fw::capability_change(k),
                        names: k
                            .names
                            .iter()
                            .map(|n| format!("{}: {}", n.host, fw::flip(n.old, n.new)))
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
        skipped: skips
            .old
            .iter()
            .map(|s| format!("old sweep: {}", fw::skipped_warning(s)))
            .chain(
                skips
                    .new
                    .iter()
                    .map(|s| format!("new sweep: {}", fw::skipped_warning(s))),
            )
            .collect(),
    };
    render("fleet_diff.html", page)
}
