//! `fleet` and `fleet diff` as a table, Markdown and JSON (HTML: [`super::html`]): the words
//! of every difference, change and skipped file.

use comfy_table::{presets, Cell, ContentArrangement, Table};
use serde_json::{json, Map, Value};

use super::escape::markdown_cell as md;
use super::table::Style;
use crate::fleet::diff::{CapabilityChange, FleetDiff, HostChange, HostLine};
use crate::fleet::{Difference, Explanation, Fleet, Host, ParseError, Problem, Skipped, Spread};
use crate::model::Verdict;
use crate::words::plural;

/// How many failing hosts a sentence names before "and N more".
const NAMED_HOSTS: usize = 5;

// ---------------------------------------------------------------------------------------------
// Words
// ---------------------------------------------------------------------------------------------

/// Why a file was left out.
pub fn problem(p: &Problem) -> String {
    match p {
        Problem::Read(e) => e.to_string(),
        Problem::Parse(ParseError::NotJson { line, column, eof }) => {
            if *eof {
                format!("not a report: the JSON ends early (line {line}, column {column})")
            } else {
                format!("not JSON (line {line}, column {column})")
            }
        }
        Problem::Parse(ParseError::NotAReport) => {
            "not a runner-preflight report (no schema_version)".into()
        }
        Problem::Parse(ParseError::Schema { found }) => format!(
            "a report of schema_version {found}; this version of runner-preflight reads schema_version {}",
            crate::fleet::input::SCHEMA_VERSION
        ),
        Problem::Parse(ParseError::Shape { line, column }) => format!(
            "not a runner-preflight report: a field is missing or has the wrong type (line {line}, column {column})"
        ),
        Problem::Duplicate { host, kept } => {
            format!("an older report of host {host} than {kept}, which is used")
        }
    }
}

/// The warning line for a skipped file (names the file).
pub fn skipped_warning(s: &Skipped) -> String {
    match &s.problem {
        // The read error names the file itself.
        Problem::Read(e) => format!("{e}; skipped"),
        p => format!("{}: {}; skipped", s.file, problem(p)),
    }
}

fn host_names(f: &Fleet, idx: &[usize]) -> String {
    let mut names: Vec<&str> = idx
        .iter()
        .take(NAMED_HOSTS)
        .map(|&i| f.hosts[i].name.as_str())
        .collect();
    let more = idx.len().saturating_sub(NAMED_HOSTS);
    let more = (more > 0).then(|| format!("and {more} more"));
    names.extend(more.as_deref());
    names.join(", ")
}

/// "all in subnet 10.2.0.0/16 (label ip) / label zone=b / host names run-b-*", or why nothing
/// is said.
pub fn explanation(f: &Fleet, e: &Explanation) -> String {
    let mut parts = Vec::new();
    if let Some((key, p)) = &e.prefix {
        parts.push(format!("in subnet {p} (label {key})"));
    }
    for (k, v) in &e.labels {
        parts.push(format!("label {k}={v}"));
    }
    if let Some(p) = &e.name_prefix {
        parts.push(format!("host names {p}*"));
    }
    if !parts.is_empty() {
        return format!("all {}", parts.join(" / "));
    }
    if f.hosts.iter().all(|h| h.addresses.is_empty()) {
        "no label or host name sets them apart (no address labels: add --label ip=ADDRESS to compare subnets)".into()
    } else {
        "no label, subnet or host name sets them apart".into()
    }
}

fn counted(s: &Spread) -> String {
    format!("{} of {}", s.failing.len(), plural(s.checked(), "host"))
}

/// "capability `api` (gating) fails on 2 of 3 hosts: all …".
pub fn capability_sentence(f: &Fleet, d: &Difference) -> String {
    let kind = if d.capability.gating {
        "gating"
    } else {
        "informational"
    };
    let s = &d.spread;
    if s.differs() {
        format!(
            "capability {} ({kind}) fails on {}: {}",
            d.capability.id,
            counted(s),
            explanation(f, &s.explanation)
        )
    } else {
        format!(
            "capability {} ({kind}) fails on every host that checked it ({}), for different names",
            d.capability.id,
            counted(s)
        )
    }
}

/// "2 of 3 hosts cannot reach r.test: all …".
pub fn name_sentence(f: &Fleet, host: &str, s: &Spread) -> String {
    format!(
        "{} cannot reach {host}: {}",
        counted(s),
        explanation(f, &s.explanation)
    )
}

/// "failing: run-b-1, run-b-2; cause on 2 of 2: …".
pub fn spread_detail(f: &Fleet, s: &Spread) -> String {
    let mut out = format!("failing: {}", host_names(f, &s.failing));
    if let Some((cause, n)) = &s.cause {
        out.push_str(&format!("; cause on {n} of {}: {cause}", s.failing.len()));
    }
    out
}

/// A diagnosis kind in a few words ("NXDOMAIN", "DNS server unreachable").
fn cause_kind(kind: &str) -> String {
    match kind {
        "resolver_unreachable" => "DNS server unreachable".into(),
        "dns_nxdomain" => "NXDOMAIN".into(),
        "os_resolver_disagrees" => "system resolver disagrees with DNS".into(),
        "proxy_needed" => "no direct egress (a proxy is needed)".into(),
        "direct_blocked_proxy_works" => "direct connections blocked, the proxy works".into(),
        "tcp_blocked" => "TCP blocked".into(),
        "host_blocked" => "a host blocked".into(),
        "port_blocked" => "a port blocked".into(),
        "family_blocked" => "an address family blocked".into(),
        "proxy_fails" => "the proxy fails".into(),
        "tls_interception" => "TLS interception".into(),
        "no_trust_roots" => "no trusted root certificates".into(),
        "certificate_invalid" => "invalid certificates".into(),
        "middlebox_answers" => "a middlebox answers".into(),
        "shared_address_fails" => "names failing at one shared address".into(),
        "throughput_below_floor" => "throughput below the floor".into(),
        "clock_skew" => "clock skew".into(),
        "time_limit" => "time limit reached".into(),
        "update_path_blocked" => "runner update path blocked".into(),
        "path_mtu_black_hole" => "path-MTU black hole".into(),
        "no_ipv4_route" => "no IPv4 route".into(),
        "container_subnet_overlap" => "a Docker network covers needed addresses".into(),
        "container_mtu" => "Docker bridge MTU above the uplink's".into(),
        "container_pool_overlap" => "a Docker address pool covers needed addresses".into(),
        "container_daemon_config" => "Docker's daemon.json unusable".into(),
        "unexplained" => "unexplained failures".into(),
        // A kind of a newer version (checked to be a snake_case identifier on the way in).
        other => other.replace('_', " "),
    }
}

/// "root causes: 2 of 3 hosts: NXDOMAIN; 1 of 3: DNS server unreachable", when the hosts'
/// root causes are not all alike.
pub fn causes_sentence(f: &Fleet) -> Option<String> {
    if !f.causes_differ() {
        return None;
    }
    let n = f.hosts.len();
    let parts: Vec<String> = f
        .causes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let of = if i == 0 {
                format!("{} of {}", c.hosts.len(), plural(n, "host"))
            } else {
                format!("{} of {n}", c.hosts.len())
            };
            format!("{of}: {}", cause_kind(&c.kind))
        })
        .collect();
    Some(format!("root causes: {}", parts.join("; ")))
}

/// "capability x fails on every host that checked it (3 of 3 hosts)".
pub fn everywhere_sentence(col: &crate::fleet::Column, s: &Spread) -> String {
    format!(
        "capability {} fails on every host that checked it ({})",
        col.id,
        counted(s)
    )
}

fn profiles(f: &Fleet) -> String {
    let mut p: Vec<&str> = f
        .hosts
        .iter()
        .map(|h| h.report.profile.name.as_str())
        .filter(|n| !n.is_empty())
        .collect();
    p.sort_unstable();
    p.dedup();
    p.join(", ")
}

/// "3 hosts: 1 pass, 0 warn, 2 fail".
pub fn headline(f: &Fleet) -> String {
    let [pass, warn, fail, skip] = f.counts();
    let mut s = format!(
        "{}: {pass} pass, {warn} warn, {fail} fail",
        plural(f.hosts.len(), "host")
    );
    if skip > 0 {
        s.push_str(&format!(", {skip} skip"));
    }
    let p = profiles(f);
    if !p.is_empty() {
        s.push_str(&format!(" · profile {p}"));
    }
    s
}

fn labels(h: &Host) -> String {
    h.report
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn opt_label(v: Option<Verdict>) -> &'static str {
    v.map_or("not checked", Verdict::label)
}

/// "PASS → FAIL".
pub fn flip(old: Option<Verdict>, new: Option<Verdict>) -> String {
    format!("{} → {}", opt_label(old), opt_label(new))
}

/// "3 → 4 hosts · 1 changed (1 worse), 1 appeared, 0 disappeared, 2 unchanged".
pub fn diff_headline(d: &FleetDiff) -> String {
    let worse = d.changed.iter().filter(|c| c.worse()).count();
    format!(
        "{} → {} · {} changed ({worse} worse), {} appeared, {} disappeared, {} unchanged · {}",
        d.old_hosts,
        plural(d.new_hosts, "host"),
        d.changed.len(),
        d.appeared.len(),
        d.disappeared.len(),
        d.unchanged,
        if d.worse() {
            "something got worse"
        } else {
            "nothing got worse"
        }
    )
}

/// "fresh: FAIL (failing: api)".
pub fn host_line(h: &HostLine) -> String {
    if h.failing.is_empty() {
        format!("{}: {}", h.name, h.verdict.label())
    } else {
        format!(
            "{}: {} (failing: {})",
            h.name,
            h.verdict.label(),
            h.failing.join(", ")
        )
    }
}

/// "api: PASS → FAIL — cause".
pub fn capability_change(c: &CapabilityChange) -> String {
    let mut s = format!("{}: {}", c.id, flip(c.old, c.new));
    if c.worse() {
        s.push_str(" (worse)");
    }
    if let (Some(cause), Some(Verdict::Fail | Verdict::Warn)) = (&c.cause, c.new) {
        s.push_str(&format!(" — {cause}"));
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Table
// ---------------------------------------------------------------------------------------------

/// A verdict coloured as in `check`'s tables; `—` where a host has no such capability.
fn verdict_cell(v: Option<Verdict>, style: &Style) -> Cell {
    match v {
        Some(v) => super::table::verdict_cell(v, style),
        None => Cell::new("—"),
    }
}

/// The matrix and what differs, for a terminal.
pub fn table(f: &Fleet, skipped: &[Skipped], style: &Style) -> String {
    let mut out = format!("runner-preflight fleet · {}\n\n", headline(f));
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    if style.width > 0 {
        t.set_content_arrangement(ContentArrangement::Dynamic);
        t.set_width(style.width);
    } else {
        t.set_content_arrangement(ContentArrangement::Disabled);
    }
    let mut header = vec!["host".to_string(), "labels".into(), "verdict".into()];
    header.extend(f.columns.iter().map(|c| c.id.clone()));
    t.set_header(header);
    for (i, h) in f.hosts.iter().enumerate() {
        let mut row = vec![
            Cell::new(&h.name),
            Cell::new(labels(h)),
            verdict_cell(Some(h.report.verdict), style),
        ];
        row.extend(
            f.columns
                .iter()
                .map(|c| verdict_cell(f.cell(i, &c.id).map(|c| c.verdict), style)),
        );
        t.add_row(row);
    }
    out.push_str(&t.to_string());
    out.push('\n');
    out.push_str(&differences_text(f));
    if !skipped.is_empty() {
        out.push('\n');
        out.push_str(&format!(
            "not merged ({}):\n",
            plural(skipped.len(), "file")
        ));
        for s in skipped {
            out.push_str(&format!("  {}\n", skipped_warning(s)));
        }
    }
    out
}

fn differences_text(f: &Fleet) -> String {
    let mut out = String::new();
    out.push('\n');
    let causes = causes_sentence(f);
    if f.differences.is_empty() && causes.is_none() {
        out.push_str("What differs between hosts: nothing — every capability has the same verdict on every host that checked it.\n");
    } else {
        out.push_str("What differs between hosts:\n");
        if let Some(c) = &causes {
            out.push_str(&format!("  {c}\n"));
        }
        for d in &f.differences {
            out.push_str(&format!("  {}\n", capability_sentence(f, d)));
            if d.spread.differs() {
                out.push_str(&format!("      {}\n", spread_detail(f, &d.spread)));
            }
            for n in &d.names {
                out.push_str(&format!("    {}\n", name_sentence(f, &n.host, &n.spread)));
                out.push_str(&format!("        {}\n", spread_detail(f, &n.spread)));
            }
        }
    }
    if !f.everywhere.is_empty() {
        out.push_str("\nFailing on every host:\n");
        for (col, s) in &f.everywhere {
            out.push_str(&format!("  {}\n", everywhere_sentence(col, s)));
            if let Some((cause, n)) = &s.cause {
                out.push_str(&format!(
                    "      cause on {n} of {}: {cause}\n",
                    s.failing.len()
                ));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------------------------

fn badge(v: Option<Verdict>) -> &'static str {
    match v {
        Some(Verdict::Pass) => "✅ PASS",
        Some(Verdict::Warn) => "⚠️ WARN",
        Some(Verdict::Fail) => "❌ FAIL",
        Some(Verdict::Skip) => "⏭️ SKIP",
        None => "—",
    }
}

pub fn markdown(f: &Fleet, skipped: &[Skipped]) -> String {
    let mut s = format!("## runner-preflight fleet: {}\n\n", md(&headline(f)));
    s.push_str("| host | labels | verdict |");
    for c in &f.columns {
        s.push_str(&format!(" {} |", md(&c.id)));
    }
    s.push_str("\n|---|---|---|");
    s.push_str(&"---|".repeat(f.columns.len()));
    s.push('\n');
    for (i, h) in f.hosts.iter().enumerate() {
        s.push_str(&format!(
            "| {} | {} | {} |",
            md(&h.name),
            md(&labels(h)),
            badge(Some(h.report.verdict))
        ));
        for c in &f.columns {
            s.push_str(&format!(
                " {} |",
                badge(f.cell(i, &c.id).map(|c| c.verdict))
            ));
        }
        s.push('\n');
    }
    s.push_str("\n### What differs between hosts\n\n");
    let causes = causes_sentence(f);
    if f.differences.is_empty() && causes.is_none() {
        s.push_str(
            "Nothing: every capability has the same verdict on every host that checked it.\n",
        );
    }
    if let Some(c) = &causes {
        s.push_str(&format!("- {}\n", md(c)));
    }
    for d in &f.differences {
        s.push_str(&format!("- {}", md(&capability_sentence(f, d))));
        if d.spread.differs() {
            s.push_str(&format!("<br>{}", md(&spread_detail(f, &d.spread))));
        }
        s.push('\n');
        for n in &d.names {
            s.push_str(&format!(
                "  - {}<br>{}\n",
                md(&name_sentence(f, &n.host, &n.spread)),
                md(&spread_detail(f, &n.spread))
            ));
        }
    }
    if !f.everywhere.is_empty() {
        s.push_str("\n### Failing on every host\n\n");
        for (col, sp) in &f.everywhere {
            s.push_str(&format!("- {}", md(&everywhere_sentence(col, sp))));
            if let Some((cause, _)) = &sp.cause {
                s.push_str(&format!(": {}", md(cause)));
            }
            s.push('\n');
        }
    }
    if !skipped.is_empty() {
        s.push_str("\n### Not merged\n\n");
        for k in skipped {
            s.push_str(&format!("- {}\n", md(&skipped_warning(k))));
        }
    }
    s
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

fn skipped_json(skipped: &[Skipped]) -> Value {
    Value::Array(
        skipped
            .iter()
            .map(|s| json!({"file": s.file, "reason": problem(&s.problem)}))
            .collect(),
    )
}

fn explanation_json(e: &Explanation) -> Value {
    let labels: Map<String, Value> = e
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    json!({
        "labels": labels,
        "prefix": e.prefix.as_ref().map(|(k, p)| json!({"label": k, "prefix": p.to_string()})),
        "name_prefix": e.name_prefix,
    })
}

fn spread_json(f: &Fleet, s: &Spread, sentence: String) -> Value {
    let names =
        |idx: &[usize]| -> Vec<String> { idx.iter().map(|&i| f.hosts[i].name.clone()).collect() };
    json!({
        "summary": sentence,
        "failing": names(&s.failing),
        "passing": names(&s.passing),
        "explanation": explanation_json(&s.explanation),
        "cause": s.cause.as_ref().map(|(c, n)| json!({"text": c, "hosts": n})),
    })
}

/// The fleet as JSON (documented in docs/fleet-reports.md).
pub fn json(f: &Fleet, skipped: &[Skipped]) -> String {
    let [pass, warn, fail, skip] = f.counts();
    let hosts: Vec<Value> = f
        .hosts
        .iter()
        .map(|h| {
            let caps: Map<String, Value> = h
                .report
                .capabilities
                .iter()
                .map(|c| {
                    (
                        c.id.clone(),
                        json!({"verdict": c.verdict, "cause": c.cause}),
                    )
                })
                .collect();
            json!({
                "name": h.name,
                "hostname": h.report.hostname,
                "labels": h.report.labels,
                "file": h.file,
                "generated_at": h.report.generated_at,
                "profile": h.report.profile.name,
                "verdict": h.report.verdict,
                "exit_code": h.report.exit_code,
                "capabilities": caps,
            })
        })
        .collect();
    let columns: Vec<Value> = f
        .columns
        .iter()
        .map(|c| json!({"id": c.id, "title": c.title, "gating": c.gating}))
        .collect();
    let differences: Vec<Value> = f
        .differences
        .iter()
        .map(|d| {
            let mut v = spread_json(f, &d.spread, capability_sentence(f, d));
            if let Some(m) = v.as_object_mut() {
                m.insert("capability".into(), json!(d.capability.id));
                m.insert("gating".into(), json!(d.capability.gating));
                m.insert(
                    "names".into(),
                    Value::Array(
                        d.names
                            .iter()
                            .map(|n| {
                                let mut nv =
                                    spread_json(f, &n.spread, name_sentence(f, &n.host, &n.spread));
                                if let Some(m) = nv.as_object_mut() {
                                    m.insert("host".into(), json!(n.host));
                                }
                                nv
                            })
                            .collect(),
                    ),
                );
            }
            v
        })
        .collect();
    let everywhere: Vec<Value> = f
        .everywhere
        .iter()
        .map(|(c, s)| {
            let mut v = spread_json(f, s, everywhere_sentence(c, s));
            if let Some(m) = v.as_object_mut() {
                m.insert("capability".into(), json!(c.id));
                m.insert("gating".into(), json!(c.gating));
            }
            v
        })
        .collect();
    let v = json!({
        "summary": {"hosts": f.hosts.len(), "pass": pass, "warn": warn, "fail": fail, "skip": skip},
        "exit_code": f.exit_code(),
        "capabilities": columns,
        "hosts": hosts,
        "differences": differences,
        "everywhere": everywhere,
        "causes": f.causes.iter().map(|c| serde_json::json!({
            "kind": c.kind,
            "hosts": c.hosts.iter().filter_map(|&i| f.hosts.get(i).map(|h| h.name.clone())).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "skipped": skipped_json(skipped),
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

// ---------------------------------------------------------------------------------------------
// fleet diff
// ---------------------------------------------------------------------------------------------

/// Skipped files of both sweeps, for the diff's outputs.
pub struct SweepSkips<'a> {
    pub old: &'a [Skipped],
    pub new: &'a [Skipped],
}

fn change_lines(c: &HostChange) -> Vec<(usize, String)> {
    let mut v = vec![(
        0,
        format!(
            "{}: {}{}",
            c.name,
            flip(Some(c.old), Some(c.new)),
            if c.worse() { " (worse)" } else { "" }
        ),
    )];
    for cap in &c.capabilities {
        v.push((1, capability_change(cap)));
        for n in &cap.names {
            let mut s = format!("{}: {}", n.host, flip(n.old, n.new));
            if let (Some(cause), Some(Verdict::Fail | Verdict::Warn)) = (&n.cause, n.new) {
                s.push_str(&format!(" — {cause}"));
            }
            v.push((2, s));
        }
    }
    v
}

pub fn diff_text(d: &FleetDiff, skips: &SweepSkips) -> String {
    let mut s = format!("runner-preflight fleet diff · {}\n", diff_headline(d));
    let section = |s: &mut String, title: &str, hosts: &[HostLine]| {
        if !hosts.is_empty() {
            s.push_str(&format!("\n{title}:\n"));
            for h in hosts {
                s.push_str(&format!("  {}\n", host_line(h)));
            }
        }
    };
    section(&mut s, "appeared", &d.appeared);
    section(&mut s, "disappeared", &d.disappeared);
    if !d.changed.is_empty() {
        s.push_str("\nchanged:\n");
        for c in &d.changed {
            for (depth, line) in change_lines(c) {
                s.push_str(&format!("{}{line}\n", "  ".repeat(depth + 1)));
            }
        }
    }
    for (which, list) in [("old", skips.old), ("new", skips.new)] {
        if !list.is_empty() {
            s.push_str(&format!("\nnot merged ({which} sweep):\n"));
            for k in list {
                s.push_str(&format!("  {}\n", skipped_warning(k)));
            }
        }
    }
    s
}

pub fn diff_markdown(d: &FleetDiff, skips: &SweepSkips) -> String {
    let mut s = format!(
        "## runner-preflight fleet diff\n\n{}\n",
        md(&diff_headline(d))
    );
    for (title, hosts) in [("Appeared", &d.appeared), ("Disappeared", &d.disappeared)] {
        if !hosts.is_empty() {
            s.push_str(&format!("\n### {title}\n\n"));
            for h in hosts {
                s.push_str(&format!("- {}\n", md(&host_line(h))));
            }
        }
    }
    if !d.changed.is_empty() {
        s.push_str("\n### Changed\n\n");
        for c in &d.changed {
            for (depth, line) in change_lines(c) {
                s.push_str(&format!("{}- {}\n", "  ".repeat(depth), md(&line)));
            }
        }
    }
    for (which, list) in [("old", skips.old), ("new", skips.new)] {
        if !list.is_empty() {
            s.push_str(&format!("\n### Not merged ({which} sweep)\n\n"));
            for k in list {
                s.push_str(&format!("- {}\n", md(&skipped_warning(k))));
            }
        }
    }
    s
}

fn host_line_json(h: &HostLine) -> Value {
    json!({"name": h.name, "verdict": h.verdict, "failing": h.failing})
}

pub fn diff_json(d: &FleetDiff, skips: &SweepSkips) -> String {
    let changed: Vec<Value> = d
        .changed
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "old": c.old,
                "new": c.new,
                "worse": c.worse(),
                "capabilities": c.capabilities.iter().map(|k| json!({
                    "id": k.id,
                    "title": k.title,
                    "old": k.old,
                    "new": k.new,
                    "worse": k.worse(),
                    "cause": k.cause,
                    "names": k.names.iter().map(|n| json!({
                        "host": n.host, "old": n.old, "new": n.new, "cause": n.cause,
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let v = json!({
        "summary": diff_headline(d),
        "old_hosts": d.old_hosts,
        "new_hosts": d.new_hosts,
        "worse": d.worse(),
        "exit_code": d.exit_code(),
        "appeared": d.appeared.iter().map(host_line_json).collect::<Vec<_>>(),
        "disappeared": d.disappeared.iter().map(host_line_json).collect::<Vec<_>>(),
        "changed": changed,
        "unchanged": d.unchanged,
        "skipped": {"old": skipped_json(skips.old), "new": skipped_json(skips.new)},
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::tests::report;
    use crate::model::Verdict;

    fn with(host: &str, kind: &str) -> crate::fleet::HostReport {
        let mut r = report(host, &[], &[("r.test", Verdict::Fail)]);
        r.diagnosis = vec![serde_json::from_value(serde_json::json!({ "kind": kind })).unwrap()];
        r
    }

    /// Issue 23 row 8: the same capabilities failing on every host for other root causes is a
    /// difference, told by cause.
    #[test]
    fn hosts_failing_alike_for_other_causes_are_told_apart() {
        let (f, _) = crate::fleet::build(vec![
            ("a.json".into(), Ok(with("h1", "dns_nxdomain"))),
            ("b.json".into(), Ok(with("h2", "dns_nxdomain"))),
            ("c.json".into(), Ok(with("h3", "resolver_unreachable"))),
        ]);
        let text = differences_text(&f);
        assert!(!text.contains("nothing"), "{text}");
        assert!(
            text.contains("root causes: 2 of 3 hosts: NXDOMAIN; 1 of 3: DNS server unreachable"),
            "{text}"
        );
        let j: serde_json::Value = serde_json::from_str(&json(&f, &[])).unwrap();
        assert_eq!(
            j["causes"],
            serde_json::json!([
                {"kind": "dns_nxdomain", "hosts": ["h1", "h2"]},
                {"kind": "resolver_unreachable", "hosts": ["h3"]}
            ])
        );
        let (alike, _) = crate::fleet::build(vec![
            ("a.json".into(), Ok(with("h1", "dns_nxdomain"))),
            ("b.json".into(), Ok(with("h2", "dns_nxdomain"))),
        ]);
        assert!(causes_sentence(&alike).is_none());
        assert!(differences_text(&alike).contains("nothing"));
    }
}
