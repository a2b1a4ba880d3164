//! `meta diff` output: a [`Diff`] in, text or JSON out. No I/O here.

use crate::meta::{Diff, DiffItem, Relation};
use crate::model::text::comment_safe;

fn pick(side: &[DiffItem], f: fn(&Relation) -> bool) -> Vec<&DiffItem> {
    side.iter().filter(|i| f(&i.relation)).collect()
}

pub fn text(d: &Diff) -> String {
    let mut s = format!(
        "profile {} against /meta from {}\n",
        d.profile,
        comment_safe(&d.meta_source)
    );
    let section = |s: &mut String, title: &str, items: Vec<&DiffItem>| {
        if items.is_empty() {
            return;
        }
        s.push_str(&format!("\n{title} ({}):\n", items.len()));
        let width = items.iter().map(|i| i.name.len()).max().unwrap_or(0);
        for i in items {
            let by = match &i.relation {
                Relation::CoveredBy(w) => format!("covered by {w}; "),
                _ => String::new(),
            };
            s.push_str(&format!(
                "  {:width$}  ({by}{})\n",
                i.name,
                i.in_.join(", ")
            ));
        }
    };
    section(
        &mut s,
        "in both",
        pick(&d.profile_side, |r| *r == Relation::Both),
    );
    section(
        &mut s,
        "only in the profile, covered by a /meta wildcard",
        pick(&d.profile_side, |r| matches!(r, Relation::CoveredBy(_))),
    );
    section(
        &mut s,
        "only in the profile, NOT in /meta",
        pick(&d.profile_side, |r| *r == Relation::Missing),
    );
    section(
        &mut s,
        "only in /meta, covered by a profile wildcard",
        pick(&d.meta_side, |r| matches!(r, Relation::CoveredBy(_))),
    );
    section(
        &mut s,
        "only in /meta, NOT in the profile",
        pick(&d.meta_side, |r| *r == Relation::Missing),
    );
    let drift = d.drift();
    s.push_str(&if drift == 0 {
        "\nresult: no drift — every name of each side is listed or covered on the other\n"
            .to_string()
    } else {
        format!("\nresult: {drift} name(s) neither listed nor covered on the other side\n")
    });
    s
}

pub fn json(d: &Diff) -> String {
    let mut s = serde_json::to_string_pretty(d).unwrap_or_default();
    s.push('\n');
    s
}

/// Why /meta could not be fetched, in words (the probe's sentences for DNS, TCP, proxy, TLS).
pub fn fetch_error(e: &crate::meta::FetchError) -> String {
    use crate::meta::FetchError as F;
    match e {
        F::Lookup(f) => super::words::lookup_failure(f),
        F::Tcp(f) => super::words::tcp_failure(f, None),
        F::Proxy(f) => super::words::proxy_failure(f),
        F::Tls {
            host,
            port,
            failure: Some(f),
        } => format!(
            "TLS to {host}:{port}: {}",
            super::words::tls_failure(f, host, false)
        ),
        F::Tls { host, port, .. } => format!("TLS to {host}:{port}: no connection"),
        F::Timeout { url, timeout } => format!(
            "HTTP: no complete answer from {url} within {}",
            super::words::fmt_duration(*timeout)
        ),
        F::Status { url, status } if status.as_u16() == 401 || status.as_u16() == 403 => format!(
            "HTTP: GET {url} answered {status}: the API wants a valid token (GHE.com always, a GHES instance often): check the variable --token-env names (GITHUB_TOKEN by default)"
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_names_what_is_only_in_meta() {
        let p = crate::profile::resolve("dotcom").unwrap();
        let plan = crate::plan::build(&p, &Default::default()).unwrap();
        let meta =
            crate::meta::parse(r#"{"domains": {"actions": ["github.com", "new.example.com"]}}"#)
                .unwrap();
        let (d, _) = crate::meta::diff(&plan, &meta, "test");
        let text = super::text(&d);
        assert!(text.contains("only in /meta, NOT in the profile"), "{text}");
        assert!(text.contains("new.example.com"), "{text}");
    }
}
