//! GitHub Actions workflow commands (`::error title=…::message`, `::warning …`), one per
//! capability that does not pass, so failures show up as annotations on the job.
//!
//! A capability that makes the run fail under `--fail-on` is an error, any other problem a
//! warning. GitHub shows at most 10 errors and 10 warnings per step, so there is one annotation
//! per capability (not per name); its message lists the names and their causes.
//!
//! Escaping follows the Actions toolkit (`@actions/core` `command.ts`): in the message `%`, `\r`
//! and `\n` become `%25`, `%0D`, `%0A`; in property values `:` and `,` also become `%3A`, `%2C`.

use crate::report::{Report, Verdict};

/// Most names listed in one annotation; the rest are counted.
const MAX_NAMES: usize = 20;

/// Escape the message part of a workflow command.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a property value (`title=…`) of a workflow command.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One workflow command line (without the trailing newline).
pub fn command(level: &str, title: &str, message: &str) -> String {
    format!(
        "::{level} title={}::{}",
        escape_property(title),
        escape_data(message)
    )
}

/// The workflow commands for a report, one per line; empty when every capability passes.
pub fn render(r: &Report) -> String {
    let fail_on = r.settings.fail_on;
    let mut out = String::new();
    for c in &r.capabilities {
        if c.verdict < Verdict::Warn {
            continue;
        }
        let level = if fail_on.gates_capability(c.gating, c.verdict) {
            "error"
        } else {
            "warning"
        };
        let role = if c.gating { "gating" } else { "informational" };
        let title = format!("runner-preflight: {} {} ({role})", c.id, c.verdict.label());
        let bad: Vec<String> = c
            .entries
            .iter()
            .flat_map(|e| e.targets.iter())
            .filter(|t| t.verdict >= Verdict::Warn)
            .map(|t| {
                format!(
                    "{} {}: {}",
                    t.verdict.label(),
                    t.host,
                    super::words::target_cause(t)
                        .as_deref()
                        .unwrap_or("no cause recorded")
                )
            })
            .collect();
        let total: usize = c.entries.iter().map(|e| e.targets.len()).sum();
        let mut msg = format!(
            "{} — {}: {} of {total} names do not pass (profile {}, host {})",
            c.id,
            c.title,
            bad.len(),
            r.profile.name,
            r.hostname
        );
        for line in bad.iter().take(MAX_NAMES) {
            msg.push('\n');
            msg.push_str(line);
        }
        if bad.len() > MAX_NAMES {
            msg.push_str(&format!("\n… and {} more", bad.len() - MAX_NAMES));
        }
        out.push_str(&command(level, &title, &msg));
        out.push('\n');
    }
    if let Some(tp) = r.throughput.as_ref().filter(|t| t.verdict >= Verdict::Warn) {
        let level = if fail_on.gates_capability(tp.gating, tp.verdict) {
            "error"
        } else {
            "warning"
        };
        let title = format!("runner-preflight: throughput {}", tp.verdict.label());
        let mut msg = format!(
            "throughput — at least {} kbit/s up and down (profile {}, host {})",
            tp.min_kbps, r.profile.name, r.hostname
        );
        for d in tp.directions.iter().filter(|d| d.verdict >= Verdict::Warn) {
            msg.push_str(&format!(
                "\n{} {}: {}",
                d.verdict.label(),
                d.direction,
                d.detail
            ));
        }
        out.push_str(&command(level, &title, &msg));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_escaping() {
        assert_eq!(escape_data("100%\r\nnext"), "100%25%0D%0Anext");
        assert_eq!(escape_data("a: b, c"), "a: b, c");
        // `%` first, so an escape sequence in the input is not taken for one.
        assert_eq!(escape_data("%0A"), "%250A");
    }

    #[test]
    fn property_escaping() {
        assert_eq!(escape_property("a: b, c%\n"), "a%3A b%2C c%25%0A");
    }

    #[test]
    fn command_line() {
        assert_eq!(
            command("error", "t: x, y", "line 1\nline 2: 50%"),
            "::error title=t%3A x%2C y::line 1%0Aline 2: 50%25"
        );
    }
}
