//! The human table: the Diagnosis, one line per capability the Diagnosis covers, one table per
//! other capability (a row per probed name; `--verbose`: every capability, every row), fitted to
//! the width the CLI decides. Words and counts come from the [view model](super::view).

use comfy_table::{presets, Attribute, Cell, Color, ColumnConstraint, ContentArrangement, Table};

use crate::report::{Check, Family, Phase, Report, TargetResult, Verdict};

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
    let view = super::view::View::new(report);
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
    out.push_str(&wrap(
        &format!(
            "runner-preflight {} · profile {} — {}{vars} · host {} · {}\n",
            report.tool.version,
            report.profile.name,
            report.profile.title,
            report.hostname,
            report.generated_at
        ),
        style.width,
    ));
    if !view.causes.is_empty() {
        out.push('\n');
        out.push_str(&wrap(&diagnosis_block(&view), style.width));
    }
    // Capabilities the Diagnosis covers entirely: one line each (issue 23 row 3).
    let compact: Vec<String> = view
        .sections
        .iter()
        .filter(|s| s.covered && !style.verbose)
        .map(|s| {
            compact_line(
                s.verdict,
                &s.id,
                &s.title,
                s.gating,
                &compact_what(s),
                style,
            )
        })
        .collect();
    if !compact.is_empty() {
        out.push('\n');
        for line in compact {
            out.push_str(&line);
        }
    }
    for sec in view.sections.iter().filter(|s| !s.covered || style.verbose) {
        out.push('\n');
        out.push_str(&capability(sec, style));
    }
    if let Some(tp) = &view.throughput {
        out.push('\n');
        if tp.covered && !style.verbose {
            let what = tp
                .directions
                .iter()
                .map(|d| match &d.fold {
                    Some(f) => format!("{}: {}", d.id, f.reference),
                    None => format!("{}: {}", d.id, super::words_throughput::stopped(d.result)),
                })
                .collect::<Vec<_>>()
                .join("; ");
            out.push_str(&compact_line(
                tp.verdict,
                "throughput",
                &tp.title,
                tp.gating,
                &what,
                style,
            ));
            for n in &view.notes {
                out.push_str(&wrap(&format!("note: {n}\n"), style.width));
            }
        } else {
            out.push_str(&throughput(tp, &view.notes, style));
        }
    }
    if let Some(rv) = &view.runner_version {
        out.push('\n');
        out.push_str(&section_title(
            rv.verdict,
            "runner-version",
            rv.title,
            rv.gating,
        ));
        out.push_str(&wrap(&format!("  {}\n", rv.message), style.width));
        if let Some(fix) = &rv.fix {
            out.push_str(&wrap(&format!("  fix: {fix}\n"), style.width));
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
        out.push_str(&wrap(
            &format!("  {}\n", super::words_container::message(c)),
            style.width,
        ));
        for p in &c.problems {
            out.push_str(&wrap(
                &format!(
                    "  {}: {}\n",
                    p.verdict().label(),
                    super::words_container::problem(p)
                ),
                style.width,
            ));
        }
    }
    for i in &view.inactive {
        out.push('\n');
        out.push_str(&wrap(i, style.width));
    }
    if !view.inactive.is_empty() {
        out.push('\n');
    }
    out.push_str(&wrap(&super::network::render(&report.network), style.width));
    out.push('\n');
    out.push_str(&wrap(&summary(&view), style.width));
    if style.color {
        out = colour_verdict_words(&out);
    }
    out
}

/// The verdict word that opens a section's line ("FAIL  essential — …", also the one-line form
/// of a covered capability, which has no table cell to colour) in the verdict's colour, as the
/// tables' verdict cells are. Done after wrapping: escapes take no columns.
fn colour_verdict_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 256);
    for line in text.split_inclusive('\n') {
        let coloured = [
            (Verdict::Fail, "\u{1b}[1;31m"),
            (Verdict::Warn, "\u{1b}[33m"),
            (Verdict::Pass, "\u{1b}[32m"),
            (Verdict::Skip, "\u{1b}[90m"),
        ]
        .into_iter()
        .find_map(|(v, code)| {
            line.strip_prefix(v.label())
                .filter(|rest| rest.starts_with("  "))
                .map(|rest| format!("{code}{}\u{1b}[0m{rest}", v.label()))
        });
        out.push_str(coloured.as_deref().unwrap_or(line));
    }
    out
}

/// The Diagnosis: numbered causes, each with what it blocks, its summary and its fix.
fn diagnosis_block(view: &super::view::View) -> String {
    let mut s = format!(
        "Diagnosis — {}\n",
        crate::words::plural(view.causes.len(), "cause")
    );
    for c in &view.causes {
        let blocks = if c.blocks.is_empty() {
            String::new()
        } else {
            format!(
                " — blocks {}{}",
                super::diagnosis::list(&c.blocks),
                if c.gating { " (gating)" } else { "" }
            )
        };
        let count = if c.names == 0 {
            String::new()
        } else {
            format!(" ({})", crate::words::plural(c.names, "name"))
        };
        s.push_str(&format!(
            "  {}. {}  {}{blocks}{count}\n     {}\n     fix: {}\n",
            c.id,
            c.verdict.label(),
            c.title,
            c.summary,
            c.fix
        ));
    }
    s
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

/// What a covered capability's line says: its folds, then its other counts.
fn compact_what(s: &super::view::Section) -> String {
    let mut parts: Vec<String> = s.folds.iter().map(super::view::Fold::line).collect();
    let passing = s
        .rows
        .iter()
        .filter(|r| r.target.verdict == Verdict::Pass)
        .count();
    if passing > 0 {
        parts.push(format!("{passing} pass"));
    }
    if !s.empty.is_empty() {
        parts.push(format!(
            "{} not probed",
            crate::words::plural(s.empty.len(), "documented entry")
        ));
    }
    parts.join("; ")
}

/// `FAIL  essential — Essential operations  [gating]: 11 names: see cause 1: …`, wrapped under
/// its name.
fn compact_line(
    verdict: Verdict,
    id: &str,
    title: &str,
    gating: bool,
    what: &str,
    style: &Style,
) -> String {
    let head = section_title(verdict, id, title, gating);
    let line = format!("{}: {what}\n", head.trim_end());
    wrap_with(&line, style.width, "      ")
}

/// Text fitted to `width` columns (0: as is): each line broken between words only (a name,
/// an address or a URL is never cut), a continuation indented under its line's text — under
/// the text after "1. " or "fix: ".
pub(crate) fn wrap(text: &str, width: u16) -> String {
    if width == 0 {
        return text.to_string();
    }
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let indent = body.len() - body.trim_start().len();
        let rest = &body[indent..];
        let marker = rest
            .split_once(". ")
            .filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            .map(|(n, _)| n.len() + 2)
            .or_else(|| rest.starts_with("fix: ").then_some(5))
            .or_else(|| rest.starts_with("note: ").then_some(6))
            // The Network section's "note  …" and "WARN  …" findings.
            .or_else(|| (rest.starts_with("note  ") || rest.starts_with("WARN  ")).then_some(6))
            .unwrap_or(0);
        let hang = " ".repeat(indent + marker);
        out.push_str(&wrap_with(line, width, &hang));
    }
    out
}

fn wrap_with(line: &str, width: u16, hang: &str) -> String {
    let newline = line.ends_with('\n');
    let body = line.strip_suffix('\n').unwrap_or(line);
    if width == 0 || textwrap::core::display_width(body) <= width as usize {
        return line.to_string();
    }
    let options = textwrap::Options::new(width as usize)
        .subsequent_indent(hang)
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .break_words(false);
    let mut s = textwrap::wrap(body, &options).join("\n");
    if newline {
        s.push('\n');
    }
    s
}

fn capability(sec: &super::view::Section, style: &Style) -> String {
    let cap = sec.cap;
    let mut s = section_title(cap.verdict, &cap.id, &cap.title, cap.gating);
    let mut t = new_table(
        vec![
            "entry", "name", "verdict", "DNS", "TCP", "TLS", "HTTP", "ms", "cause",
        ],
        style,
    );
    // A name is never cut across lines: its column is as wide as its longest name.
    if let Some(c) = t.column_mut(1) {
        c.set_constraint(ColumnConstraint::ContentWidth);
    }
    if !style.verbose {
        for f in &sec.folds {
            t.add_row(vec![
                Cell::new(""),
                Cell::new(crate::words::plural(f.hosts.len(), "name")),
                verdict_cell(f.verdict, style),
                Cell::new(""),
                Cell::new(""),
                Cell::new(""),
                Cell::new(""),
                Cell::new(""),
                Cell::new(&f.reference),
            ]);
        }
    }
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
            let own = style.verbose || sec.rows.iter().any(|r| std::ptr::eq(r.target, tr));
            if !own {
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
    let table = t.to_string();
    // Too narrow for nine columns (a name would be squeezed letter by letter): one line per
    // row instead, wrapped under its text. `--verbose` keeps the full table.
    let fits = style.width == 0
        || table
            .lines()
            .all(|l| textwrap::core::display_width(l) <= style.width as usize);
    if fits || style.verbose {
        s.push_str(&table);
        s.push('\n');
    } else {
        s.push_str(&row_lines(sec, style));
    }
    s
}

/// A capability's rows as lines: `  FAIL  name: cause`, folds first.
fn row_lines(sec: &super::view::Section, style: &Style) -> String {
    let mut s = String::new();
    let mut line = |verdict: Verdict, text: String| {
        s.push_str(&wrap_with(
            &format!("  {:<4}  {text}\n", verdict.label()),
            style.width,
            "        ",
        ));
    };
    for f in &sec.folds {
        line(f.verdict, f.line());
    }
    for (pattern, note) in &sec.empty {
        line(Verdict::Skip, format!("{pattern}: {note}"));
    }
    for r in &sec.rows {
        let t = r.target;
        let route = match t.route {
            crate::report::Route::Direct => "",
            crate::report::Route::Proxy => " (via proxy)",
        };
        let what = match &r.cause {
            Some(c) => c.clone(),
            None => dns_cell(t).replace('\n', ", "),
        };
        line(t.verdict, format!("{}{route}: {what}", t.host));
    }
    s
}

fn throughput(tp: &super::view::ThroughputSection, notes: &[String], style: &Style) -> String {
    let mut s = section_title(tp.verdict, "throughput", &tp.title, tp.gating);
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
    for line in &tp.directions {
        let d = super::words_throughput::view(line.result);
        // A direction the Diagnosis explains points at its cause (unless --verbose).
        let detail = match &line.fold {
            Some(f) if !style.verbose => f.reference.clone(),
            _ => d.detail.clone(),
        };
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
                detail
            )),
        ]);
    }
    s.push_str(&t.to_string());
    s.push('\n');
    for n in notes {
        s.push_str(&wrap(&format!("note: {n}\n"), style.width));
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

fn summary(view: &super::view::View) -> String {
    let r = view.report;
    let mut s = format!("Verdict: {}", view.verdict_line());
    if view.network_warnings > 0 {
        s.push_str(&format!(
            "; {} network warning(s) in the Network section (trust stores, interception, clock, long poll, proxy settings)",
            view.network_warnings
        ));
    }
    if !view.causes.is_empty() {
        s.push_str(&format!(
            "; {} in the Diagnosis above{}\n",
            crate::words::plural(view.causes.len(), "root cause"),
            if view.folds_rows() {
                " (--verbose shows every row)"
            } else {
                ""
            }
        ));
    } else {
        s.push('\n');
    }
    s.push_str(&format!(
        "{}, in {:.1} s (exit code {})\n",
        view.names_line,
        r.duration_ms as f64 / 1000.0,
        r.exit_code
    ));
    s
}
