//! JUnit XML (the Ant/Jenkins dialect that CI systems read): one `<testsuite>` per capability,
//! one `<testcase>` per probed name.
//!
//! - FAIL → `<failure message="CAUSE" type="…">` whose text lists every phase. The type is `fail`
//!   in a gating capability and `fail-informational` in an informational one.
//! - WARN → a passing test case whose `<system-out>` starts with `WARN: CAUSE`.
//! - A documented wildcard with no name to probe, and a capability not checked → `<skipped/>`.
//!
//! The phase details go in the failure's text, or in `<system-out>` for the other test cases.
//! A failure's message ends with its root cause ("(see cause 2: DNS server not answering)"); each
//! suite's own `<system-out>` holds the Diagnosis of the causes that block it.

use std::collections::HashMap;
use std::io;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use crate::report::{CapabilityReport, Diagnosis, Report, TargetResult, Verdict};

/// Render the report as JUnit XML.
pub fn render(report: &Report) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing to a Vec cannot fail.
    let _ = write_report(&mut w, report);
    let mut s = String::from_utf8(w.into_inner()).unwrap_or_default();
    s.push('\n');
    s
}

/// XML 1.0 forbids most control characters even when escaped: replace them.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// Attribute values: also flatten line breaks (parsers would turn them into spaces anyway).
fn attr(s: &str) -> String {
    clean(s).replace(['\r', '\n', '\t'], " ")
}

fn secs(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

struct Case {
    name: String,
    ms: u64,
    outcome: Outcome,
    out: String,
}

enum Outcome {
    Pass,
    Failure { message: String, kind: &'static str },
    Skipped(String),
}

/// Phase-by-phase account of one probed name, one line each.
pub fn target_lines(t: &TargetResult) -> Vec<String> {
    let mut lines = Vec::new();
    let d = &t.dns;
    let mut dns = format!("DNS {}", d.verdict.label());
    if let Some(e) = super::words::dns_error(t) {
        dns.push_str(&format!(": {e}"));
    } else {
        let mut parts: Vec<String> = Vec::new();
        for l in &d.obs.chain {
            parts.push(format!("{} CNAME {} (ttl {})", l.name, l.target, l.ttl));
        }
        let addrs: Vec<String> = d
            .obs
            .addresses
            .iter()
            .map(|a| a.address.to_string())
            .collect();
        if !addrs.is_empty() {
            parts.push(addrs.join(", "));
        }
        if !parts.is_empty() {
            dns.push_str(&format!(": {}", parts.join("; ")));
        }
    }
    if let Some(s) = &d.obs.server {
        dns.push_str(&format!(" [server {s}]"));
    }
    lines.push(dns);
    for n in super::words::dns_notes(t) {
        lines.push(format!("  note: {n}"));
    }
    for c in &t.checks {
        let phase = format!("{:?}", c.phase).to_uppercase();
        lines.push(format!(
            "{phase} {}: {}",
            c.verdict.label(),
            super::words::check_detail(c, &t.host)
        ));
    }
    lines
}

/// "CAUSE (see cause 2: DNS server not answering)": a failure's message names its root cause.
fn with_reference(cause: String, t: &TargetResult, diagnosis: &[Diagnosis]) -> String {
    match t
        .diagnosis_id
        .and_then(|id| diagnosis.iter().find(|d| d.id == id))
    {
        Some(d) => format!("{cause} ({})", super::diagnosis::reference(d)),
        None => cause,
    }
}

/// The root causes that concern a suite (`blocks` names it), for its `<system-out>`.
fn suite_out(suite: &str, diagnosis: &[Diagnosis], details: &super::diagnosis::Details) -> String {
    let here: Vec<Diagnosis> = diagnosis
        .iter()
        .filter(|d| d.blocks.iter().any(|b| b == suite))
        .cloned()
        .collect();
    super::diagnosis::block(&here, details)
}

fn cases(cap: &CapabilityReport, diagnosis: &[Diagnosis]) -> Vec<Case> {
    let mut out = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for e in &cap.entries {
        if e.targets.is_empty() {
            out.push(Case {
                name: e.pattern.clone(),
                ms: 0,
                outcome: Outcome::Skipped(
                    e.note
                        .clone()
                        .unwrap_or_else(|| "no name to probe".to_string()),
                ),
                out: String::new(),
            });
            continue;
        }
        for t in &e.targets {
            let n = seen.entry(t.host.as_str()).or_insert(0);
            *n += 1;
            // The same name twice in a capability differs by its HTTP check, when it got that far.
            let name = match (*n, t.checks.iter().find_map(|c| c.obs.http())) {
                (1, _) => t.host.clone(),
                (_, Some(h)) => format!("{} ({} {})", t.host, h.method, h.path),
                (_, None) => format!("{} #{n}", t.host),
            };
            let mut lines = target_lines(t);
            let cause = super::words::target_cause(t).unwrap_or_default();
            let outcome = match t.verdict {
                Verdict::Fail => Outcome::Failure {
                    message: with_reference(cause.clone(), t, diagnosis),
                    kind: if cap.gating {
                        "fail"
                    } else {
                        "fail-informational"
                    },
                },
                Verdict::Warn => {
                    lines.insert(0, format!("WARN: {cause}"));
                    Outcome::Pass
                }
                Verdict::Skip => Outcome::Skipped(cause.clone()),
                Verdict::Pass => Outcome::Pass,
            };
            if e.wildcard {
                lines.insert(0, format!("probed for {}", e.pattern));
            }
            out.push(Case {
                name,
                ms: t.ms,
                outcome,
                out: lines.join("\n"),
            });
        }
    }
    out
}

/// What every suite says about the run as a whole, as properties (the `<testsuites>` element
/// has none): the verdict, its sentence, the counts, the root causes and the runner's version,
/// in the words of the [view model](super::view).
fn run_properties(view: &super::view::View) -> Vec<(String, String)> {
    let mut props = vec![
        ("run.verdict".to_string(), view.verdict.label().to_string()),
        ("run.sentence".to_string(), view.sentence.clone()),
        ("run.names".to_string(), view.names_line.clone()),
    ];
    for c in &view.causes {
        props.push((format!("run.cause.{}", c.id), c.title.clone()));
    }
    if let Some(rv) = &view.runner_version {
        props.push((
            "runner-version".to_string(),
            format!("{}: {}", rv.verdict.label(), rv.message),
        ));
    }
    props
}

fn write_report(w: &mut Writer<Vec<u8>>, r: &Report) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let view = super::view::View::new(r);
    let run = run_properties(&view);
    let suites: Vec<(&CapabilityReport, Vec<Case>)> = r
        .capabilities
        .iter()
        .map(|c| (c, cases(c, &r.diagnosis)))
        .collect();
    let details = super::diagnosis::details(r);
    let tp_cases = view
        .throughput
        .as_ref()
        .map(throughput_cases)
        .unwrap_or_default();
    let count = |f: &dyn Fn(&Outcome) -> bool| -> usize {
        suites
            .iter()
            .flat_map(|(_, cs)| cs.iter())
            .chain(tp_cases.iter())
            .filter(|c| f(&c.outcome))
            .count()
    };
    let tests = count(&|_| true) + r.inactive.len();
    let failures = count(&|o| matches!(o, Outcome::Failure { .. }));
    let skipped = count(&|o| matches!(o, Outcome::Skipped(_))) + r.inactive.len();
    let name = attr(&format!("runner-preflight {}", r.profile.name));
    let timestamp = attr(&r.generated_at);
    let head = SuiteHead {
        timestamp: timestamp.clone(),
        hostname: attr(&r.hostname),
        package: attr(&r.profile.name),
    };
    w.create_element("testsuites")
        .with_attribute(("name", name.as_str()))
        .with_attribute(("tests", tests.to_string().as_str()))
        .with_attribute(("failures", failures.to_string().as_str()))
        .with_attribute(("errors", "0"))
        .with_attribute(("skipped", skipped.to_string().as_str()))
        .with_attribute(("time", secs(r.duration_ms).as_str()))
        .with_attribute(("timestamp", timestamp.as_str()))
        .write_inner_content(|w| {
            let mut id = 0usize;
            for (cap, cs) in &suites {
                // Names are probed concurrently: the suite took as long as its slowest name.
                let ms = cs.iter().map(|c| c.ms).max().unwrap_or(0);
                let a = suite_attributes(&cap.id, cs, ms, id, &head);
                w.create_element("testsuite")
                    .with_attributes(a.iter().map(|(k, v)| (*k, v.as_str())))
                    .write_inner_content(|w| {
                        let mut props: Vec<(&str, String)> = vec![
                            ("title", cap.title.clone()),
                            ("gating", cap.gating.to_string()),
                            ("verdict", cap.verdict.label().to_string()),
                        ];
                        if let Some(c) = super::words::capability_cause(cap) {
                            props.push(("cause", c));
                        }
                        let labels: Vec<(String, String)> = r
                            .labels
                            .iter()
                            .map(|(k, v)| (format!("label.{k}"), v.clone()))
                            .collect();
                        props.extend(labels.iter().map(|(k, v)| (k.as_str(), v.clone())));
                        props.extend(run.iter().map(|(k, v)| (k.as_str(), v.clone())));
                        write_properties(w, &props)?;
                        let classname = attr(&format!("{}.{}", r.profile.name, cap.id));
                        for c in cs {
                            write_case(w, c, &classname)?;
                        }
                        write_suite_out(w, &suite_out(&cap.id, &r.diagnosis, &details))
                    })?;
                id += 1;
            }
            if let Some(tp) = &r.throughput {
                let ms: u64 = tp_cases.iter().map(|c| c.ms).sum();
                let a = suite_attributes("throughput", &tp_cases, ms, id, &head);
                w.create_element("testsuite")
                    .with_attributes(a.iter().map(|(k, v)| (*k, v.as_str())))
                    .write_inner_content(|w| {
                        let mut props = vec![
                            ("min_kbps", tp.min_kbps.to_string()),
                            ("gating", tp.gating.to_string()),
                            ("verdict", tp.verdict.label().to_string()),
                        ];
                        props.extend(run.iter().map(|(k, v)| (k.as_str(), v.clone())));
                        write_properties(w, &props)?;
                        let classname = attr(&format!("{}.throughput", r.profile.name));
                        for c in &tp_cases {
                            write_case(w, c, &classname)?;
                        }
                        write_suite_out(w, &suite_out("throughput", &r.diagnosis, &details))
                    })?;
                id += 1;
            }
            for i in &r.inactive {
                let case = Case {
                    name: i.id.clone(),
                    ms: 0,
                    outcome: Outcome::Skipped(format!("not checked: {}", i.reason)),
                    out: String::new(),
                };
                let a = suite_attributes(&i.id, std::slice::from_ref(&case), 0, id, &head);
                w.create_element("testsuite")
                    .with_attributes(a.iter().map(|(k, v)| (*k, v.as_str())))
                    .write_inner_content(|w| {
                        let mut props = vec![("verdict", "not checked".to_string())];
                        props.extend(run.iter().map(|(k, v)| (k.as_str(), v.clone())));
                        write_properties(w, &props)?;
                        let classname = attr(&format!("{}.{}", r.profile.name, i.id));
                        write_case(w, &case, &classname)
                    })?;
                id += 1;
            }
            Ok(())
        })?;
    Ok(())
}

/// What every `<testsuite>` carries beside its own counts.
struct SuiteHead {
    timestamp: String,
    hostname: String,
    package: String,
}

/// The attributes of a `<testsuite>` holding `cases`.
fn suite_attributes(
    name: &str,
    cases: &[Case],
    ms: u64,
    id: usize,
    head: &SuiteHead,
) -> Vec<(&'static str, String)> {
    let fails = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Failure { .. }))
        .count();
    let skips = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Skipped(_)))
        .count();
    vec![
        ("name", attr(name)),
        ("tests", cases.len().to_string()),
        ("failures", fails.to_string()),
        ("errors", "0".to_string()),
        ("skipped", skips.to_string()),
        ("time", secs(ms)),
        ("timestamp", head.timestamp.clone()),
        ("hostname", head.hostname.clone()),
        ("id", id.to_string()),
        ("package", head.package.clone()),
    ]
}

/// One test case per direction of the throughput measurement.
fn throughput_cases(tp: &super::view::ThroughputSection) -> Vec<Case> {
    tp.directions
        .iter()
        .map(|line| {
            let d = super::words_throughput::view(line.result);
            // A failure the Diagnosis explains names its cause, as a name's failure does.
            let message = match &line.fold {
                Some(f) => format!("{} ({})", d.detail, f.reference),
                None => d.detail.clone(),
            };
            let out = format!(
                "{}{}stopped: {}; bytes {}; sample {} ms",
                d.url
                    .as_ref()
                    .map(|u| format!("url: {u}\n"))
                    .unwrap_or_default(),
                d.via_proxy
                    .as_ref()
                    .map(|p| format!("via proxy: {p}\n"))
                    .unwrap_or_default(),
                d.stopped,
                d.bytes,
                d.sample_ms
            );
            let outcome = match d.verdict {
                Verdict::Fail => Outcome::Failure {
                    message,
                    kind: if tp.gating {
                        "fail"
                    } else {
                        "fail-informational"
                    },
                },
                Verdict::Skip => Outcome::Skipped(d.detail.clone()),
                Verdict::Warn | Verdict::Pass => Outcome::Pass,
            };
            let out = match d.verdict {
                Verdict::Warn => format!("WARN: {}\n{out}", d.detail),
                Verdict::Pass => format!("{}\n{out}", d.detail),
                _ => out,
            };
            Case {
                name: d.direction.to_string(),
                ms: d.elapsed_ms,
                outcome,
                out,
            }
        })
        .collect()
}

/// A suite's `<system-out>`: the Diagnosis of the causes that block it.
fn write_suite_out(w: &mut Writer<Vec<u8>>, text: &str) -> io::Result<()> {
    if !text.is_empty() {
        w.create_element("system-out")
            .write_text_content(BytesText::new(&clean(text)))?;
    }
    Ok(())
}

fn write_properties(w: &mut Writer<Vec<u8>>, props: &[(&str, String)]) -> io::Result<()> {
    w.create_element("properties").write_inner_content(|w| {
        for (k, v) in props {
            let v = attr(v);
            w.create_element("property")
                .with_attribute(("name", *k))
                .with_attribute(("value", v.as_str()))
                .write_empty()?;
        }
        Ok(())
    })?;
    Ok(())
}

fn write_case(w: &mut Writer<Vec<u8>>, c: &Case, classname: &str) -> io::Result<()> {
    let name = attr(&c.name);
    let el = w
        .create_element("testcase")
        .with_attribute(("name", name.as_str()))
        .with_attribute(("classname", classname))
        .with_attribute(("time", secs(c.ms).as_str()));
    if matches!(c.outcome, Outcome::Pass) && c.out.is_empty() {
        el.write_empty()?;
        return Ok(());
    }
    el.write_inner_content(|w| {
        match &c.outcome {
            Outcome::Pass => {}
            Outcome::Failure { message, kind } => {
                let m = attr(message);
                w.create_element("failure")
                    .with_attribute(("message", m.as_str()))
                    .with_attribute(("type", *kind))
                    .write_text_content(BytesText::new(&clean(&c.out)))?;
            }
            Outcome::Skipped(message) => {
                let m = attr(message);
                w.create_element("skipped")
                    .with_attribute(("message", m.as_str()))
                    .write_empty()?;
            }
        }
        if !c.out.is_empty() && !matches!(c.outcome, Outcome::Failure { .. }) {
            w.create_element("system-out")
                .write_text_content(BytesText::new(&clean(&c.out)))?;
        }
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_replaced() {
        assert_eq!(clean("a\u{1}b\nc"), "a\u{FFFD}b\nc");
        assert_eq!(attr("a\nb\tc"), "a b c");
    }

    #[test]
    fn seconds_have_three_decimals() {
        assert_eq!(secs(0), "0.000");
        assert_eq!(secs(1234), "1.234");
        assert_eq!(secs(5), "0.005");
    }
}
