//! `--format json`: the report, `schema_version: 1` (documented in docs/json-report.md).
//!
//! The typed model serialises itself (observations, typed `failure` objects); this renderer
//! adds the words: every target's `cause`, every check's `detail`, DNS `error` and `notes`,
//! every capability's `cause`, and each finding's `message` and `fix` — the same sentences the
//! other formats print. A failed HTTP check whose answer was not GitHub's gets a `failure`
//! object from its judgement. Each root cause in `diagnosis` gets its `summary` and `fix`.

use serde_json::{json, Map, Value};

use super::words;
use crate::model::Verdict;
use crate::report::{Check, Diagnosis, HttpJudgement, Report, TargetResult};

pub fn render(report: &Report) -> String {
    let mut v = serde_json::to_value(report).unwrap_or(Value::Null);
    if let Some(caps) = v.get_mut("capabilities").and_then(Value::as_array_mut) {
        for (cap, jc) in report.capabilities.iter().zip(caps.iter_mut()) {
            set(jc, "cause", words::capability_cause(cap));
            let Some(entries) = jc.get_mut("entries").and_then(Value::as_array_mut) else {
                continue;
            };
            for (e, je) in cap.entries.iter().zip(entries.iter_mut()) {
                if let (Some(r), Some(jr)) = (&e.redirect, je.get_mut("redirect")) {
                    set(jr, "chain", Some(words::redirect_chain(r)));
                }
                let Some(targets) = je.get_mut("targets").and_then(Value::as_array_mut) else {
                    continue;
                };
                for (t, jt) in e.targets.iter().zip(targets.iter_mut()) {
                    target(t, jt);
                }
            }
        }
    }
    if let Some(findings) = v
        .pointer_mut("/network/findings")
        .and_then(Value::as_array_mut)
    {
        for (f, jf) in report.network.findings.iter().zip(findings.iter_mut()) {
            set(jf, "message", Some(words::finding_message(f)));
            if let Some(fix) = words::finding_fix(f) {
                set(jf, "fix", Some(fix));
            }
        }
    }
    if let (Some(rv), Some(jv)) = (&report.runner_version, v.get_mut("runner_version")) {
        set(jv, "message", Some(words::runner_version_message(rv)));
        set(jv, "fix", words::runner_version_fix(rv));
    }
    if let (Some(c), Some(jc)) = (&report.container_jobs, v.get_mut("container_jobs")) {
        set(jc, "message", Some(super::words_container::message(c)));
        if let Some(problems) = jc.get_mut("problems").and_then(Value::as_array_mut) {
            for (p, jp) in c.problems.iter().zip(problems.iter_mut()) {
                set(jp, "message", Some(super::words_container::problem(p)));
            }
        }
    }
    // The verdict's sentence, as every human format states it (the view model's).
    if let Some(m) = v.as_object_mut() {
        m.insert(
            "sentence".into(),
            Value::String(super::view::View::new(report).sentence),
        );
    }
    let details = super::diagnosis::details(report);
    if let Some(diagnosis) = v.get_mut("diagnosis").and_then(Value::as_array_mut) {
        diagnosis_words(&report.diagnosis, &details, diagnosis);
    }
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

/// A rendered report with `serve --idle-every`'s last idle check beside it, as `idle_check`:
/// the long poll's own JSON (`host`, `hold_seconds`, `survived`, `detail`, `failure`, …) and
/// `checked_at`. The report's own verdicts are the scheduled run's and stay as they are.
pub fn with_idle_check(
    report_json: &str,
    idle: &crate::report::findings::LongPollReport,
    checked_at: &str,
) -> String {
    let mut v: Value = serde_json::from_str(report_json).unwrap_or(Value::Null);
    let mut check = serde_json::to_value(idle).unwrap_or(Value::Null);
    if let Some(m) = check.as_object_mut() {
        m.insert("checked_at".into(), json!(checked_at));
    }
    if let Some(m) = v.as_object_mut() {
        m.insert("idle_check".into(), check);
    }
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

/// Each cause's `summary` and `fix` (also for `explain --format json`).
pub fn diagnosis_words(
    diagnosis: &[Diagnosis],
    details: &super::diagnosis::Details,
    json: &mut [Value],
) {
    for (d, jd) in diagnosis.iter().zip(json.iter_mut()) {
        let detail = details.get(&d.id).map(String::as_str);
        set(jd, "title", Some(super::diagnosis::title(&d.cause)));
        set(jd, "summary", Some(super::diagnosis::summary(d, detail)));
        set(jd, "fix", Some(super::diagnosis::fix(d)));
    }
}

fn set(obj: &mut Value, key: &str, value: Option<String>) {
    if let Some(m) = obj.as_object_mut() {
        m.insert(key.to_string(), value.map_or(Value::Null, Value::String));
    }
}

fn target(t: &TargetResult, jt: &mut Value) {
    set(jt, "cause", words::target_cause(t));
    if let Some(dns) = jt.get_mut("dns") {
        set(dns, "error", words::dns_error(t));
        if !t.dns.obs.families.is_empty() {
            set(dns, "families_summary", words::families_line(t));
        }
        if let Some(m) = dns.as_object_mut() {
            m.insert(
                "notes".into(),
                Value::Array(words::dns_notes(t).into_iter().map(Value::String).collect()),
            );
        }
    }
    if let Some(checks) = jt.get_mut("checks").and_then(Value::as_array_mut) {
        for (c, jc) in t.checks.iter().zip(checks.iter_mut()) {
            check(c, &t.host, jc);
        }
    }
}

fn check(c: &Check, host: &str, jc: &mut Value) {
    set(jc, "detail", Some(words::check_detail(c, host)));
    let Some(m) = jc.as_object_mut() else { return };
    if c.verdict == Verdict::Fail && m.get("failure").is_none_or(Value::is_null) {
        if let Some(f) = judged_failure(c) {
            m.insert("failure".into(), f);
        }
    }
}

/// The failure object of an HTTP answer that the report did not accept.
fn judged_failure(c: &Check) -> Option<Value> {
    let h = c.obs.http()?;
    let kind = match c.judgement? {
        HttpJudgement::NotGitHub => "not_github",
        HttpJudgement::ProxyRefused => "proxy_refused",
        HttpJudgement::ProxyAuth => "proxy_auth_required",
        _ => return None,
    };
    let mut m = Map::new();
    m.insert("kind".into(), json!(kind));
    m.insert("status".into(), json!(h.status));
    m.insert("server".into(), json!(h.server));
    m.insert("expect_header".into(), json!(h.expect_header));
    Some(Value::Object(m))
}
