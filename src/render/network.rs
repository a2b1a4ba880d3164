//! The table format's network section: proxy in effect, trust stores, findings.

use crate::report::findings::{NetworkReport, Severity};

/// Text for the table report (empty when there is nothing to say).
pub fn render(n: &NetworkReport) -> String {
    let mut s = String::new();
    let p = &n.proxy;
    if p.https.is_some() || p.http.is_some() || p.no_proxy.is_some() || !n.findings.is_empty() {
        s.push_str("\nNetwork\n");
    } else {
        return s;
    }
    for (label, setting) in [("HTTPS proxy", &p.https), ("HTTP proxy", &p.http)] {
        match setting {
            Some(x) => s.push_str(&format!("  {label}: {} (from {})\n", x.url, x.from)),
            None if p.https.is_some() || p.http.is_some() => {
                s.push_str(&format!("  {label}: none (direct)\n"))
            }
            None => {}
        }
    }
    if let Some(np) = &p.no_proxy {
        s.push_str(&format!(
            "  no_proxy: {np}{}\n",
            p.no_proxy_from
                .as_ref()
                .map(|f| format!(" (from {f})"))
                .unwrap_or_default()
        ));
    }
    if let Some(f) = &n.env_file {
        s.push_str(&format!("  runner .env: {f}\n"));
    }
    if let Some(lp) = &n.long_poll {
        s.push_str(&format!(
            "  long poll: {}\n",
            if lp.survived { "survived" } else { "cut" }
        ));
        if let Some(k) = &n.keepalive {
            s.push_str(&format!(
                "  TCP keepalive: first probe after {} s idle, then every {} s, {} probes (net.ipv4.tcp_keepalive_*)\n",
                k.time_s, k.intvl_s, k.probes
            ));
        }
    }
    if let Some(c) = &n.clock {
        s.push_str(&format!(
            "  clock: {:+} s against {} (Date: {})\n",
            c.skew_seconds, c.host, c.server_date
        ));
    }
    let warnings = n
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warn)
        .count();
    for f in &n.findings {
        let tag = match f.severity {
            Severity::Warn => "WARN",
            Severity::Note => "note",
        };
        s.push_str(&format!("  {tag}  {}\n", super::words::finding_message(f)));
        if let Some(fix) = super::words::finding_fix(f) {
            s.push_str(&format!("        fix: {fix}\n"));
        }
    }
    if warnings > 0 {
        s.push_str(&format!(
            "  ({warnings} network warning{} above: the capability verdicts stand, because the runner itself connects, but each names what breaks git, JavaScript actions, long polls or tokens, so the overall verdict is at least WARN)\n",
            if warnings == 1 { "" } else { "s" }
        ));
    }
    s
}
