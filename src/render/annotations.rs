//! GitHub Actions workflow commands (`::error title=…::message`, `::warning …`), one per root
//! cause of the report's Diagnosis, so failures show up as annotations on the job, and one
//! `::notice` with the run's verdict, its sentence, the counts and the runner's version (the
//! words of the [view model](super::view), as every format states them).
//!
//! A cause that makes the run fail under `--fail-on` is an error, any other a warning. GitHub
//! shows at most 10 errors and 10 warnings per step, so there is one annotation per cause (not
//! per name or capability); its message is the cause's summary and fix, then the names it
//! explains with their own causes.
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

/// The workflow commands for a report: one per root cause of its Diagnosis, then one notice
/// with the verdict, its sentence, the counts and the runner's version; one per line.
pub fn render(r: &Report) -> String {
    let view = super::view::View::new(r);
    let mut out = String::new();
    for d in &view.causes {
        let level = if d.gating { "error" } else { "warning" };
        let title = format!(
            "runner-preflight cause {}: {}{}",
            d.id,
            d.title,
            if d.blocks.is_empty() {
                String::new()
            } else {
                format!(" (blocks {})", super::diagnosis::list(&d.blocks))
            }
        );
        let mut msg = format!(
            "{} {}\nfix: {}\n(profile {}, host {})",
            d.verdict.label(),
            d.summary,
            d.fix,
            r.profile.name,
            r.hostname
        );
        let mut seen = std::collections::BTreeSet::new();
        let bad: Vec<String> = r
            .capabilities
            .iter()
            .flat_map(|c| c.entries.iter())
            .flat_map(|e| e.targets.iter())
            .filter(|t| t.diagnosis_id == Some(d.id) && seen.insert(t.host.as_str()))
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
        for line in bad.iter().take(MAX_NAMES) {
            msg.push('\n');
            msg.push_str(line);
        }
        if bad.len() > MAX_NAMES {
            msg.push_str(&format!("\n… and {} more", bad.len() - MAX_NAMES));
        }
        if let Some(tp) = &view.throughput {
            for x in tp.directions.iter().filter(|x| {
                x.verdict >= Verdict::Warn && x.fold.as_ref().is_some_and(|f| f.cause == d.id)
                    || x.verdict >= Verdict::Warn
                        && d.own
                        && d.blocks.iter().any(|b| b == "throughput")
                        && x.fold.is_none()
            }) {
                msg.push_str(&format!(
                    "\n{} throughput {}: {}",
                    x.verdict.label(),
                    x.id,
                    x.detail
                ));
            }
        }
        out.push_str(&command(level, &title, &msg));
        out.push('\n');
    }
    // The run as a whole: what the other formats' headline says (issue 23 row 1), and the
    // runner's version (issue 20).
    let mut msg = format!("{}\n{}", view.verdict_line(), view.names_line);
    if let Some(rv) = &view.runner_version {
        msg.push_str(&format!(
            "\nrunner-version {}: {}",
            rv.verdict.label(),
            rv.message
        ));
    }
    out.push_str(&command(
        "notice",
        &format!("runner-preflight: {}", view.verdict.label()),
        &msg,
    ));
    out.push('\n');
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
