//! `audit` output: an [`Audit`] in, text or JSON out. No I/O here.

use crate::audit::{Audit, Origin};
use crate::model::text::comment_safe;

fn origin_label(o: Origin) -> &'static str {
    match o {
        Origin::Documented => "documented",
        Origin::Probed => "probed name",
        Origin::CnameTarget => "CNAME target",
    }
}

/// Plain-text report.
pub fn text(a: &Audit) -> String {
    let mut s = format!(
        "allow list {} against profile {}{}\n",
        comment_safe(&a.allowlist),
        a.profile,
        if a.offline {
            " (offline: documented names only)"
        } else {
            ""
        }
    );
    for c in &a.capabilities {
        let gaps = c.gaps();
        s.push_str(&format!(
            "\n{} — {}: {}\n",
            c.id,
            c.title,
            if gaps == 0 {
                format!("all {} names covered", c.items.len())
            } else {
                format!("{gaps} of {} names NOT covered", c.items.len())
            }
        ));
        let width = c.items.iter().map(|i| i.name.len()).max().unwrap_or(0);
        for i in &c.items {
            match &i.covered_by {
                Some(e) => s.push_str(&format!(
                    "  covered  {:width$}  {} · line {}: {}\n",
                    i.name,
                    origin_label(i.origin),
                    e.line,
                    comment_safe(&e.text)
                )),
                None => s.push_str(&format!(
                    "  MISSING  {:width$}  {}\n",
                    i.name,
                    origin_label(i.origin)
                )),
            }
        }
    }
    if !a.unresolved.is_empty() {
        s.push_str(&format!(
            "\nnot resolved ({}): {}\n  their CNAME targets could not be checked; this audit is incomplete (use --offline for documented names only)\n",
            a.unresolved.len(),
            a.unresolved.join(", ")
        ));
    }
    s.push_str(&if a.gaps == 0 && !a.unresolved.is_empty() {
        "\nresult: every name checked is covered, but the audit is incomplete (DNS failed for some names)\n".to_string()
    } else if a.gaps == 0 {
        "\nresult: the allow list covers every required name\n".to_string()
    } else {
        format!(
            "\nresult: {} required name(s) not covered by the allow list\n",
            a.gaps
        )
    });
    s
}

pub fn json(a: &Audit) -> String {
    let mut s = serde_json::to_string_pretty(a).unwrap_or_default();
    s.push('\n');
    s
}
