//! Markdown for a GitHub job summary (`$GITHUB_STEP_SUMMARY`) or any Markdown viewer: the
//! verdict and its sentence, the counts, the Diagnosis (the run's root causes, each with its
//! fix), a table of capabilities (one line each), then a table for each capability the
//! Diagnosis does not cover entirely. Rows a cause explains fold into "see cause N"; a
//! `<details>` is open only when a row fails on its own cause. Words and counts come from the
//! [view model](super::view), as in every other format.

use crate::report::{Report, TargetResult, Verdict};

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
    let view = super::view::View::new(r);
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
    s.push_str(&format!(
        "**Verdict: {}** — {}\n\n{}, in {:.1} s · exit code {} (`--fail-on {}`)\n\n",
        view.verdict.label(),
        cell(&view.sentence),
        view.names_line,
        r.duration_ms as f64 / 1000.0,
        r.exit_code,
        r.settings.fail_on.as_str(),
    ));
    let diagnosis = diagnosis(&view);
    if !diagnosis.is_empty() {
        s.push_str(&diagnosis);
        s.push('\n');
    }
    s.push_str("| capability | role | verdict | names | cause |\n|---|---|---|---|---|\n");
    for c in &view.sections {
        s.push_str(&format!(
            "| {} {} | {} | {} | {} | {} |\n",
            code(&c.id),
            cell(&c.title),
            role(c.gating),
            badge(c.verdict),
            c.counts.short(),
            cell(c.one_liner.as_deref().unwrap_or_default()),
        ));
    }
    if let Some(tp) = &view.throughput {
        s.push_str(&format!(
            "| {} {} | {} | {} | | {} |\n",
            code("throughput"),
            cell(&tp.title),
            role(tp.gating),
            badge(tp.verdict),
            cell(tp.one_liner.as_deref().unwrap_or_default()),
        ));
    }
    if let Some(rv) = &view.runner_version {
        s.push_str(&format!(
            "| {} {} | {} | {} | | {} |\n",
            code("runner-version"),
            cell(rv.title),
            role(rv.gating),
            badge(rv.verdict),
            cell(&rv.message),
        ));
    }
    for i in &r.inactive {
        s.push_str(&format!(
            "| {} | | not checked | | {} |\n",
            code(&i.id),
            cell(&i.reason)
        ));
    }
    // A capability the Diagnosis covers is said by its line above: its block (closed) holds
    // only the rows no cause explains, and there is none when every row is explained.
    for c in view
        .sections
        .iter()
        .filter(|c| !c.covered || !c.rows.is_empty() || !c.empty.is_empty())
    {
        s.push('\n');
        s.push_str(&capability(c));
    }
    if let Some(tp) = view.throughput.as_ref().filter(|t| !t.covered) {
        s.push_str(&format!(
            "\n### {} `throughput` (at least {} kbit/s)\n\n| direction | verdict | kbit/s | bytes | detail |\n|---|---|---|---|---|\n",
            badge(tp.verdict).split(' ').next().unwrap_or(""),
            tp.report.min_kbps
        ));
        for line in &tp.directions {
            let d = super::words_throughput::view(line.result);
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                d.direction,
                badge(d.verdict),
                d.kbps
                    .map(|k| format!("{k:.0}"))
                    .unwrap_or_else(|| "—".into()),
                d.bytes,
                cell(line.fold.as_ref().map_or(&d.detail, |f| &f.reference))
            ));
        }
    }
    for n in &view.notes {
        s.push_str(&format!("\nNote: {}\n", cell(n)));
    }
    s
}

fn role(gating: bool) -> &'static str {
    if gating {
        "gating"
    } else {
        "informational"
    }
}

/// The Diagnosis section: each root cause, what it blocks, its summary and its fix.
fn diagnosis(view: &super::view::View) -> String {
    if view.causes.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "### Diagnosis: {}\n\n",
        crate::words::plural(view.causes.len(), "cause")
    );
    for d in &view.causes {
        let badge = match d.verdict {
            Verdict::Fail => "❌",
            Verdict::Warn => "⚠️",
            _ => "",
        };
        s.push_str(&format!(
            "{}. {badge} **{}**{} — {}<br>\n   **Fix:** {}\n",
            d.id,
            cell(&d.title),
            if d.blocks.is_empty() {
                String::new()
            } else {
                format!(
                    " (blocks {})",
                    d.blocks
                        .iter()
                        .map(|b| format!("`{b}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            cell(&d.summary),
            cell(&d.fix)
        ));
    }
    s
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

fn capability(sec: &super::view::Section) -> String {
    let c = sec.cap;
    let title = format!(
        "{} {} — {} ({})",
        badge(c.verdict),
        code(&c.id),
        cell(&c.title),
        role(c.gating)
    );
    // Open only when a row fails or warns on its own cause: a folded row is said by its cause.
    // A covered capability's folds are in its summary line; its table has the other rows.
    let title = if sec.covered {
        let folds: Vec<String> = sec.folds.iter().map(|f| cell(&f.line())).collect();
        format!("{title}: {}", folds.join("; "))
    } else {
        title
    };
    let mut s = if sec.rows.iter().any(|r| r.open) {
        format!("<details open><summary>{title}</summary>\n\n")
    } else {
        format!("<details><summary>{title}</summary>\n\n")
    };
    s.push_str("| name | verdict | DNS | ms | cause |\n|---|---|---|---|---|\n");
    for f in sec.folds.iter().filter(|_| !sec.covered) {
        // A few names are named; more are counted.
        let names = if f.hosts.len() <= 3 {
            f.hosts
                .iter()
                .map(|h| code(h))
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            crate::words::plural(f.hosts.len(), "name")
        };
        s.push_str(&format!(
            "| {names} | {} | | | {} |\n",
            badge(f.verdict),
            cell(&f.reference),
        ));
    }
    for (pattern, note) in &sec.empty {
        s.push_str(&format!(
            "| {} | {} | | | {} |\n",
            code(pattern),
            badge(Verdict::Skip),
            cell(note),
        ));
    }
    for row in &sec.rows {
        let (e, t, i) = (row.entry, row.target, row.index);
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
            cell(row.cause.as_deref().unwrap_or_default()),
        ));
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
