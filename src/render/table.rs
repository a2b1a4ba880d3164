//! The human table: one table per capability, one row per probed name.

use comfy_table::{presets, Attribute, Cell, Color, ContentArrangement, Table};

use std::collections::{BTreeMap, BTreeSet};

use crate::report::{
    CapabilityReport, Check, Diagnosis, Family, Phase, Report, TargetResult, Verdict,
};

#[derive(Debug, Clone, Default)]
pub struct Style {
    /// ANSI colours (only on a terminal without NO_COLOR).
    pub color: bool,
    /// Width to fit the tables to, in columns; 0: no limit (not a terminal). The CLI decides it.
    pub width: u16,
    /// `--verbose`: every row, also those a root cause of the Diagnosis explains (folded
    /// into "N names: see cause K" otherwise).
    pub verbose: bool,
}

/// `FAIL  essential — Essential operations  [gating]`
fn section_title(verdict: Verdict, name: &str, title: &str, gating: bool) -> String {
    format!(
        "{}  {name} — {title}{}\n",
        verdict.label(),
        if gating {
            "  [gating]"
        } else {
            "  [informational]"
        }
    )
}

/// A table in the house style, fitted to `style.width` (never to what comfy-table would guess).
fn new_table(header: Vec<&str>, style: &Style) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    if style.width > 0 {
        t.set_content_arrangement(ContentArrangement::Dynamic);
        t.set_width(style.width);
    } else {
        t.set_content_arrangement(ContentArrangement::Disabled);
    }
    t.set_header(header);
    // `style.color` has decided (`--color`, NO_COLOR, CLICOLOR_FORCE, the terminal): comfy-table
    // would otherwise drop the colours whenever stdout is not a terminal (`--color always`).
    if style.color {
        t.enforce_styling();
    }
    t
}

pub(crate) fn verdict_cell(v: Verdict, style: &Style) -> Cell {
    let c = Cell::new(v.label());
    if !style.color {
        return c;
    }
    match v {
        Verdict::Pass => c.fg(Color::Green),
        Verdict::Warn => c.fg(Color::Yellow),
        Verdict::Fail => c.fg(Color::Red).add_attribute(Attribute::Bold),
        Verdict::Skip => c.fg(Color::DarkGrey),
    }
}

pub fn render(report: &Report, style: &Style) -> String {
    let mut out = String::new();
    let vars = if report.profile.variables.is_empty() {
        String::new()
    } else {
        format!(
            " ({})",
            report
                .profile
                .variables
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    out.push_str(&format!(
        "runner-preflight {} · profile {} — {}{vars} · host {} · {}\n",
        report.tool.version,
        report.profile.name,
        report.profile.title,
        report.hostname,
        report.generated_at
    ));
    let details = super::diagnosis::details(report);
    let block = super::diagnosis::block(&report.diagnosis, &details);
    if !block.is_empty() {
        out.push('\n');
        out.push_str(&block);
    }
    for cap in &report.capabilities {
        out.push('\n');
        out.push_str(&capability(cap, &report.diagnosis, style));
    }
    if let Some(tp) = &report.throughput {
        out.push('\n');
        out.push_str(&throughput(tp, style));
    }
    if let Some(rv) = &report.runner_version {
        out.push('\n');
        out.push_str(&section_title(
            rv.verdict,
            "runner-version",
            "the runner's version GitHub accepts",
            rv.gating,
        ));
        out.push_str(&format!("  {}\n", super::words::runner_version_message(rv)));
        if let Some(fix) = super::words::runner_version_fix(rv) {
            out.push_str(&format!("  fix: {fix}\n"));
        }
    }
    if let Some(c) = &report.container_jobs {
        out.push('\n');
        out.push_str(&section_title(
            c.verdict,
            crate::plan::CONTAINER_JOBS,
            "container jobs: Docker's networks",
            c.gating,
        ));
        out.push_str(&format!("  {}\n", super::words_container::message(c)));
        for p in &c.problems {
            out.push_str(&format!(
                "  {}: {}\n",
                p.verdict().label(),
                super::words_container::problem(p)
            ));
        }
    }
    for i in &report.inactive {
        out.push_str(&format!("\nnot checked: {} — {}", i.id, i.reason));
    }
    if !report.inactive.is_empty() {
        out.push('\n');
    }
    out.push_str(&super::network::render(&report.network));
    out.push('\n');
    out.push_str(&summary(report));
    out
}

/// The causes whose rows fold in this capability: explained (not `unexplained`) and at least
/// two rows here.
fn folded<'a>(
    cap: &CapabilityReport,
    diagnosis: &'a [Diagnosis],
    style: &Style,
) -> BTreeMap<usize, &'a Diagnosis> {
    if style.verbose {
        return BTreeMap::new();
    }
    let mut rows: BTreeMap<usize, usize> = BTreeMap::new();
    for t in cap.entries.iter().flat_map(|e| e.targets.iter()) {
        if let Some(id) = t.diagnosis_id {
            *rows.entry(id).or_default() += 1;
        }
    }
    diagnosis
        .iter()
        .filter(|d| !d.cause.is_unexplained() && rows.get(&d.id).is_some_and(|n| *n >= 2))
        .map(|d| (d.id, d))
        .collect()
}

/// A name's cause; when a connection failed, with what the name has per family and the
/// routes this host has for them (no address, no route: not a firewall).
fn cause_cell(t: &TargetResult) -> String {
    let cause = super::words::target_cause(t).unwrap_or_default();
    match (
        t.cause_check().map(|c| c.phase),
        super::words::families_line(t),
    ) {
        (Some(Phase::Tcp), Some(line)) if !cause.is_empty() => format!("{cause}\n{line}"),
        _ => cause,
    }
}

fn capability(cap: &CapabilityReport, diagnosis: &[Diagnosis], style: &Style) -> String {
    let mut s = section_title(cap.verdict, &cap.id, &cap.title, cap.gating);
    let fold = folded(cap, diagnosis, style);
    let mut shown: BTreeSet<usize> = BTreeSet::new();
    let mut t = new_table(
        vec![
            "entry", "name", "verdict", "DNS", "TCP", "TLS", "HTTP", "ms", "cause",
        ],
        style,
    );
    for e in &cap.entries {
        if e.targets.is_empty() {
            t.add_row(vec![
                Cell::new(&e.pattern),
                Cell::new("—"),
                verdict_cell(Verdict::Skip, style),
                Cell::new(""),
                Cell::new(""),
                Cell::new(""),
                Cell::new(""),
                Cell::new(""),
                Cell::new(e.note.clone().unwrap_or_default()),
            ]);
            continue;
        }
        for (i, tr) in e.targets.iter().enumerate() {
            if let Some(d) = tr.diagnosis_id.and_then(|id| fold.get(&id)) {
                if shown.insert(d.id) {
                    let here: Vec<&TargetResult> = cap
                        .entries
                        .iter()
                        .flat_map(|e| e.targets.iter())
                        .filter(|t| t.diagnosis_id == Some(d.id))
                        .collect();
                    let verdict = here.iter().map(|t| t.verdict).max().unwrap_or(d.verdict);
                    let names: BTreeSet<&str> = here.iter().map(|t| t.host.as_str()).collect();
                    t.add_row(vec![
                        Cell::new(""),
                        Cell::new(crate::words::plural(names.len(), "name")),
                        verdict_cell(verdict, style),
                        Cell::new(""),
                        Cell::new(""),
                        Cell::new(""),
                        Cell::new(""),
                        Cell::new(""),
                        Cell::new(super::diagnosis::reference(d)),
                    ]);
                }
                continue;
            }
            let entry = if i == 0 && e.wildcard {
                e.pattern.clone()
            } else if i == 0 {
                String::new()
            } else {
                "〃".to_string()
            };
            let entry = if !e.wildcard { String::new() } else { entry };
            // A redirect probe: the chain on its first hop's row.
            let entry = match &e.redirect {
                Some(r) if i == 0 => format!("redirect: {}", super::words::redirect_chain(r)),
                Some(_) => "〃".to_string(),
                None => entry,
            };
            t.add_row(vec![
                Cell::new(entry),
                Cell::new(match tr.route {
                    crate::report::Route::Direct => tr.host.clone(),
                    crate::report::Route::Proxy => format!("{}\nvia proxy", tr.host),
                }),
                verdict_cell(tr.verdict, style),
                Cell::new(dns_cell(tr)),
                Cell::new(phase_cell(tr, Phase::Tcp)),
                Cell::new(phase_cell(tr, Phase::Tls)),
                Cell::new(phase_cell(tr, Phase::Http)),
                Cell::new(tr.ms.to_string()),
                Cell::new(cause_cell(tr)),
            ]);
        }
    }
    s.push_str(&t.to_string());
    s.push('\n');
    s
}

fn throughput(tp: &crate::report::ThroughputReport, style: &Style) -> String {
    let title = format!("at least {} kbit/s up and down", tp.min_kbps);
    let mut s = section_title(tp.verdict, "throughput", &title, tp.gating);
    let mut t = new_table(
        vec![
            "direction",
            "verdict",
            "kbit/s",
            "bytes",
            "sample",
            "TTFB",
            "stopped",
            "detail",
        ],
        style,
    );
    for d in tp.directions.iter().map(super::words_throughput::view) {
        t.add_row(vec![
            Cell::new(d.direction),
            verdict_cell(d.verdict, style),
            Cell::new(
                d.kbps
                    .map(|k| format!("{k:.0}"))
                    .unwrap_or_else(|| "—".into()),
            ),
            Cell::new(d.bytes.to_string()),
            Cell::new(format!("{:.1} s", d.sample_ms as f64 / 1000.0)),
            Cell::new(d.ttfb_ms.map(|m| format!("{m} ms")).unwrap_or_default()),
            Cell::new(d.stopped),
            Cell::new(format!(
                "{}{}{}",
                d.url.as_ref().map(|u| format!("{u}\n")).unwrap_or_default(),
                d.via_proxy
                    .as_ref()
                    .map(|p| format!("via proxy {p}\n"))
                    .unwrap_or_default(),
                d.detail
            )),
        ]);
    }
    s.push_str(&t.to_string());
    s.push('\n');
    for n in &tp.notes {
        s.push_str(&format!("note: {n}\n"));
    }
    s
}

fn dns_cell(t: &TargetResult) -> String {
    let d = &t.dns;
    if d.verdict == Verdict::Fail {
        return "failed".into();
    }
    let mut parts = Vec::new();
    if !d.obs.chain.is_empty() {
        let last = d
            .obs
            .chain
            .last()
            .map(|l| l.target.clone())
            .unwrap_or_default();
        parts.push(format!("CNAME×{} → {last}", d.obs.chain.len()));
    }
    let v4: Vec<String> = d
        .obs
        .addresses
        .iter()
        .filter(|a| a.family == Family::Ipv4)
        .map(|a| a.address.to_string())
        .collect();
    let v6: Vec<String> = d
        .obs
        .addresses
        .iter()
        .filter(|a| a.family == Family::Ipv6)
        .map(|a| a.address.to_string())
        .collect();
    for list in [v4, v6] {
        if let Some(first) = list.first() {
            if list.len() > 1 {
                parts.push(format!("{first} +{}", list.len() - 1));
            } else {
                parts.push(first.clone());
            }
        }
    }
    match d.obs.source {
        crate::probe::outcome::DnsSource::Override => parts.push("(--resolve)".into()),
        crate::probe::outcome::DnsSource::System => parts.push("(system resolver)".into()),
        crate::probe::outcome::DnsSource::Dns => {}
    }
    parts.join("\n")
}

fn short_name(dn: &str) -> String {
    // "CN=R11, O=Let's Encrypt, C=US" -> "R11 (Let's Encrypt)"
    let mut cn = None;
    let mut o = None;
    for part in dn.split(", ") {
        if let Some(v) = part.strip_prefix("CN=") {
            cn = Some(v);
        } else if let Some(v) = part.strip_prefix("O=") {
            o = Some(v);
        }
    }
    match (cn, o) {
        (Some(c), Some(o)) if c != o => format!("{c} ({o})"),
        (Some(c), _) => c.to_string(),
        (None, Some(o)) => o.to_string(),
        _ => dn.to_string(),
    }
}

fn phase_cell(t: &TargetResult, phase: Phase) -> String {
    let checks: Vec<&Check> = t.checks.iter().filter(|c| c.phase == phase).collect();
    if checks.is_empty() {
        return if t.dns.verdict == Verdict::Fail {
            "—".into()
        } else {
            String::new()
        };
    }
    let multi_port = {
        let mut ports: Vec<u16> = t.checks.iter().map(|c| c.obs.port).collect();
        ports.dedup();
        ports.len() > 1
    };
    let fams = checks
        .iter()
        .filter_map(|c| c.obs.family)
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        > 1;
    checks
        .iter()
        .map(|c| {
            let mut prefix = String::new();
            if multi_port {
                prefix.push_str(&format!(":{} ", c.obs.port));
            }
            if fams {
                prefix.push_str(&format!(
                    "{} ",
                    c.obs.family.map(|f| f.label()).unwrap_or("")
                ));
            }
            let body = match (phase, c.verdict) {
                (Phase::Http, Verdict::Fail) => match c.obs.http() {
                    Some(h) => format!(
                        "{} {}\n{} FAIL",
                        h.method,
                        h.path,
                        h.status.map(|s| s.to_string()).unwrap_or_default()
                    ),
                    None => "FAIL".to_string(),
                },
                (_, Verdict::Fail) => "FAIL".to_string(),
                (Phase::Tcp, _) => "ok".to_string(),
                (Phase::Tls, _) => match c.obs.tls() {
                    Some(i) => format!(
                        "{}\n{}",
                        i.version.clone().unwrap_or_default(),
                        i.leaf
                            .as_ref()
                            .map(|l| short_name(&l.issuer))
                            .unwrap_or_default()
                    ),
                    None => "ok".into(),
                },
                (Phase::Http, v) => match c.obs.http() {
                    Some(h) => format!(
                        "{} {}\n{}{}",
                        h.method,
                        h.path,
                        h.status.map(|s| s.to_string()).unwrap_or_default(),
                        match (h.header_present, v) {
                            (Some(true), _) => " ✓",
                            (_, Verdict::Warn) => " !",
                            _ => "",
                        }
                    ),
                    None => "ok".into(),
                },
                _ => "ok".into(),
            };
            format!("{prefix}{body}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn summary(r: &Report) -> String {
    let failing_gates: Vec<&str> = r
        .capabilities
        .iter()
        .filter(|c| c.gating && c.verdict == Verdict::Fail)
        .map(|c| c.id.as_str())
        .collect();
    let gates = r.capabilities.iter().filter(|c| c.gating).count();
    let mut s = format!("Verdict: {}", r.verdict.label());
    match r.verdict {
        Verdict::Fail => {
            let mut parts = Vec::new();
            if !failing_gates.is_empty() {
                parts.push(format!(
                    "{} of {gates} gating capabilities fail: {}",
                    failing_gates.len(),
                    failing_gates.join(", ")
                ));
            }
            if let Some(t) = r.throughput.as_ref().filter(|t| t.gating_failure()) {
                parts.push(if t.measured_below_floor() {
                    format!("throughput is below the {} kbit/s floor", t.min_kbps)
                } else {
                    "throughput could not be measured".to_string()
                });
            }
            if r.runner_version
                .as_ref()
                .is_some_and(|v| v.gating && v.verdict == Verdict::Fail)
            {
                parts.push("the runner's version is refused by GitHub".to_string());
            }
            if r.container_jobs
                .as_ref()
                .is_some_and(|c| c.gating && c.verdict == Verdict::Fail)
            {
                parts.push(
                    "container jobs cannot reach what they need (container-jobs is required)"
                        .to_string(),
                );
            }
            if parts.is_empty() {
                parts.push("warnings fail the run (--fail-on warn)".to_string());
            }
            s.push_str(&format!(" — {}", parts.join("; ")));
        }
        Verdict::Warn => s.push_str(" — gating capabilities pass, with warnings"),
        Verdict::Pass => s.push_str(" — every capability passes"),
        Verdict::Skip => s.push_str(" — nothing was probed"),
    }
    let network_warnings = r
        .network
        .findings
        .iter()
        .filter(|f| f.severity == crate::report::findings::Severity::Warn)
        .count();
    if network_warnings > 0 {
        s.push_str(&format!(
            "; {network_warnings} network warning(s) in the Network section (trust stores, interception, clock, long poll, proxy settings)"
        ));
    }
    if !r.diagnosis.is_empty() {
        s.push_str(&format!(
            "; {} in the Diagnosis above{}\n",
            crate::words::plural(r.diagnosis.len(), "root cause"),
            if r.diagnosis
                .iter()
                .any(|d| !d.cause.is_unexplained() && d.targets >= 2)
            {
                " (--verbose shows every row)"
            } else {
                ""
            }
        ));
    } else {
        s.push('\n');
    }
    let names = r.summary.pass + r.summary.warn + r.summary.fail + r.summary.skip;
    s.push_str(&format!(
        "{} probed: {} pass, {} warn, {} fail, in {:.1} s (exit code {})\n",
        crate::words::plural(names, "name"),
        r.summary.pass,
        r.summary.warn,
        r.summary.fail,
        r.duration_ms as f64 / 1000.0,
        r.exit_code
    ));
    s
}
