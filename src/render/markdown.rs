//! Markdown for a GitHub job summary (`$GITHUB_STEP_SUMMARY`) or any Markdown viewer: the
//! overall verdict, a table of capabilities, then one table per capability with each probed
//! name and its cause. Capabilities that pass are folded into `<details>`. The Diagnosis (the
//! run's root causes, each with its fix) comes first, after the headline.

use crate::report::{CapabilityReport, Report, TargetResult, Verdict};

fn badge(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅ PASS",
        Verdict::Warn => "⚠️ WARN",
        Verdict::Fail => "❌ FAIL",
        Verdict::Skip => "⏭️ SKIP",
    }
}

pub use super::escape::markdown_cell as cell;

/// A host name or pattern as inline code (names never contain a backtick or `|`).
fn code(s: &str) -> String {
    format!("`{}`", s.replace(['`', '|', '\n'], " "))
}

pub fn render(r: &Report) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "## {} runner-preflight: {}\n\n",
        badge(r.verdict).split(' ').next().unwrap_or(""),
        r.verdict.label()
    ));
    let vars: Vec<String> = r
        .profile
        .variables
        .iter()
        .map(|(k, v)| code(&format!("{k}={v}")))
        .collect();
    let labels: Vec<String> = r
        .labels
        .iter()
        .map(|(k, v)| code(&format!("{k}={v}")))
        .collect();
    s.push_str(&format!(
        "Profile {} — {}{} · host {}{} · {} · runner-preflight {}\n\n",
        code(&r.profile.name),
        cell(&r.profile.title),
        if vars.is_empty() {
            String::new()
        } else {
            format!(" ({})", vars.join(", "))
        },
        code(&r.hostname),
        if labels.is_empty() {
            String::new()
        } else {
            format!(" ({})", labels.join(", "))
        },
        cell(&r.generated_at),
        cell(&r.tool.version),
    ));
    s.push_str(&headline(r));
    s.push_str("\n\n");
    let diagnosis = super::diagnosis::markdown(&r.diagnosis, &super::diagnosis::details(r));
    if !diagnosis.is_empty() {
        s.push_str(&diagnosis);
        s.push('\n');
    }
    s.push_str("| capability | role | verdict | names | cause |\n|---|---|---|---|---|\n");
    for c in &r.capabilities {
        s.push_str(&format!(
            "| {} {} | {} | {} | {} | {} |\n",
            code(&c.id),
            cell(&c.title),
            if c.gating { "gating" } else { "informational" },
            badge(c.verdict),
            counts(c),
            cell(&super::words::capability_cause(c).unwrap_or_default()),
        ));
    }
    if let Some(tp) = &r.throughput {
        let cause = tp
            .directions
            .iter()
            .filter(|d| d.verdict == tp.verdict && tp.verdict >= Verdict::Warn)
            .map(super::words_throughput::detail)
            .next()
            .unwrap_or_default();
        s.push_str(&format!(
            "| {} at least {} kbit/s up and down | {} | {} | | {} |\n",
            code("throughput"),
            tp.min_kbps,
            if tp.gating { "gating" } else { "informational" },
            badge(tp.verdict),
            cell(&cause),
        ));
    }
    if let Some(rv) = &r.runner_version {
        s.push_str(&format!(
            "| {} the runner's version GitHub accepts | {} | {} | | {} |\n",
            code("runner-version"),
            if rv.gating { "gating" } else { "informational" },
            badge(rv.verdict),
            cell(&super::words::runner_version_message(rv)),
        ));
    }
    for i in &r.inactive {
        s.push_str(&format!(
            "| {} | | not checked | | {} |\n",
            code(&i.id),
            cell(&i.reason)
        ));
    }
    for c in &r.capabilities {
        s.push('\n');
        s.push_str(&capability(c));
    }
    if let Some(tp) = &r.throughput {
        s.push_str(&format!(
            "\n### {} `throughput` (at least {} kbit/s)\n\n| direction | verdict | kbit/s | bytes | detail |\n|---|---|---|---|---|\n",
            badge(tp.verdict).split(' ').next().unwrap_or(""),
            tp.min_kbps
        ));
        for d in tp.directions.iter().map(super::words_throughput::view) {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                d.direction,
                badge(d.verdict),
                d.kbps
                    .map(|k| format!("{k:.0}"))
                    .unwrap_or_else(|| "—".into()),
                d.bytes,
                cell(&d.detail)
            ));
        }
    }
    s
}

fn headline(r: &Report) -> String {
    let gates = r.capabilities.iter().filter(|c| c.gating).count();
    let failing: Vec<String> = r
        .capabilities
        .iter()
        .filter(|c| c.gating && c.verdict == Verdict::Fail)
        .map(|c| code(&c.id))
        .collect();
    let tp_fails = r
        .throughput
        .as_ref()
        .is_some_and(|t| t.gating && t.verdict == Verdict::Fail);
    let what = match r.verdict {
        Verdict::Fail if failing.is_empty() && tp_fails => {
            "**Throughput fails** (below the floor, or not measurable).".to_string()
        }
        Verdict::Fail => format!(
            "**{} of {gates} gating capabilities fail:** {}{}.",
            failing.len(),
            failing.join(", "),
            if tp_fails {
                "; **throughput fails**"
            } else {
                ""
            }
        ),
        Verdict::Warn => "Gating capabilities pass, with warnings.".to_string(),
        Verdict::Pass => "Every capability passes.".to_string(),
        Verdict::Skip => "Nothing was probed.".to_string(),
    };
    let names = r.summary.pass + r.summary.warn + r.summary.fail + r.summary.skip;
    format!(
        "{what} {names} names probed: {} pass, {} warn, {} fail, in {:.1} s. Exit code {} (`--fail-on {}`).",
        r.summary.pass,
        r.summary.warn,
        r.summary.fail,
        r.duration_ms as f64 / 1000.0,
        r.exit_code,
        r.settings.fail_on.as_str(),
    )
}

fn counts(c: &CapabilityReport) -> String {
    let mut n = [0usize; 4];
    for e in &c.entries {
        if e.targets.is_empty() {
            n[0] += 1;
        }
        for t in &e.targets {
            n[t.verdict as usize] += 1;
        }
    }
    let labels = ["skip", "pass", "warn", "fail"];
    let parts: Vec<String> = [1, 2, 3, 0]
        .iter()
        .filter(|&&i| n[i] > 0)
        .map(|&i| format!("{} {}", n[i], labels[i]))
        .collect();
    parts.join(" · ")
}

fn dns_summary(t: &TargetResult) -> String {
    let d = &t.dns;
    if d.verdict == Verdict::Fail {
        return "failed".into();
    }
    let mut parts = Vec::new();
    if let Some(last) = d.obs.chain.last() {
        parts.push(format!("CNAME×{} → {}", d.obs.chain.len(), last.target));
    }
    let addrs: Vec<String> = d
        .obs
        .addresses
        .iter()
        .map(|a| a.address.to_string())
        .collect();
    match addrs.len() {
        0 => {}
        1..=2 => parts.push(addrs.join(", ")),
        n => parts.push(format!("{}, {} +{}", addrs[0], addrs[1], n - 2)),
    }
    cell(&parts.join("; "))
}

fn capability(c: &CapabilityReport) -> String {
    let role = if c.gating { "gating" } else { "informational" };
    let title = format!(
        "{} {} — {} ({role})",
        badge(c.verdict),
        code(&c.id),
        cell(&c.title)
    );
    let mut s = if c.verdict >= Verdict::Warn {
        format!("<details open><summary>{title}</summary>\n\n")
    } else {
        format!("<details><summary>{title}</summary>\n\n")
    };
    s.push_str("| name | verdict | DNS | ms | cause |\n|---|---|---|---|---|\n");
    for e in &c.entries {
        if e.targets.is_empty() {
            s.push_str(&format!(
                "| {} | {} | | | {} |\n",
                code(&e.pattern),
                badge(Verdict::Skip),
                cell(e.note.as_deref().unwrap_or("")),
            ));
            continue;
        }
        for (i, t) in e.targets.iter().enumerate() {
            let name = if e.wildcard {
                format!("{} (for {})", code(&t.host), code(&e.pattern))
            } else {
                code(&t.host)
            };
            let name = match &e.redirect {
                Some(r) if i == 0 => format!(
                    "{name} (redirect: {})",
                    cell(&super::words::redirect_chain(r))
                ),
                Some(_) => format!("{name} (redirect hop {})", i + 1),
                None => name,
            };
            s.push_str(&format!(
                "| {name} | {} | {} | {} | {} |\n",
                badge(t.verdict),
                dns_summary(t),
                t.ms,
                cell(&super::words::target_cause(t).unwrap_or_default()),
            ));
        }
    }
    s.push_str("\n</details>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_escape_markdown_and_html() {
        assert_eq!(cell("a|b"), "a\\|b");
        assert_eq!(cell("<script>"), "\\<script\\>");
        assert_eq!(cell("one\ntwo"), "one<br>two");
        assert_eq!(cell("*x* _y_ `z`"), "\\*x\\* \\_y\\_ \\`z\\`");
        assert_eq!(cell("a & b"), "a \\& b");
    }
}
