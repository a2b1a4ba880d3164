//! A saved report read back leniently: only the fields a fleet needs, every one but
//! `schema_version`, `hostname` and the verdicts optional, unknown fields ignored (new fields
//! may be added within a schema version).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::Verdict;

/// The schema version `fleet` reads (the one `check` writes).
pub const SCHEMA_VERSION: u64 = 1;

/// One host's report, as much of it as a fleet uses.
#[derive(Debug, Clone, Deserialize)]
pub struct HostReport {
    pub schema_version: u64,
    pub hostname: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub generated_at: String,
    #[serde(default)]
    pub tool: Tool,
    #[serde(default)]
    pub profile: ProfileRef,
    pub verdict: Verdict,
    #[serde(default)]
    pub exit_code: u8,
    #[serde(default)]
    pub capabilities: Vec<Capability>,
    #[serde(default)]
    pub throughput: Option<Throughput>,
    /// The root causes of its diagnosis (kinds only), to compare hosts by cause.
    #[serde(default)]
    pub diagnosis: Vec<CauseRef>,
}

/// One root cause of a report's diagnosis: its kind (`dns_nxdomain`, `resolver_unreachable`…).
#[derive(Debug, Clone, Deserialize)]
pub struct CauseRef {
    pub kind: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Tool {
    #[serde(default)]
    pub version: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileRef {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub title: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Capability {
    pub id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub gating: bool,
    pub verdict: Verdict,
    #[serde(default)]
    pub cause: Option<String>,
    #[serde(default)]
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Entry {
    #[serde(default)]
    pub targets: Vec<Target>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Target {
    pub host: String,
    pub verdict: Verdict,
    #[serde(default)]
    pub cause: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Throughput {
    pub verdict: Verdict,
}

impl Capability {
    /// Every probed name of the capability with its worst verdict and that verdict's first
    /// cause, in the order of the report.
    pub fn names(&self) -> Vec<(&str, Verdict, Option<&str>)> {
        let mut out: Vec<(&str, Verdict, Option<&str>)> = Vec::new();
        for t in self.entries.iter().flat_map(|e| &e.targets) {
            match out.iter_mut().find(|(h, _, _)| *h == t.host) {
                Some(seen) if t.verdict > seen.1 => {
                    seen.1 = t.verdict;
                    seen.2 = t.cause.as_deref();
                }
                Some(_) => {}
                None => out.push((&t.host, t.verdict, t.cause.as_deref())),
            }
        }
        out
    }
}

/// Why a file is not a report this version reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not JSON at all, or cut short (`eof`), at this position.
    NotJson {
        line: usize,
        column: usize,
        eof: bool,
    },
    /// JSON, but not an object with a numeric `schema_version`.
    NotAReport,
    /// A report of another schema version.
    Schema { found: u64 },
    /// A schema-1 report with a field missing or of the wrong type near this position.
    Shape { line: usize, column: usize },
}

/// Read one report's text.
pub fn parse(text: &str) -> Result<HostReport, ParseError> {
    let text = crate::textfile::strip_bom(text);
    let mut value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ParseError::NotJson {
            line: e.line(),
            column: e.column(),
            eof: e.is_eof(),
        })?;
    let version = value
        .get("schema_version")
        .and_then(serde_json::Value::as_u64)
        .ok_or(ParseError::NotAReport)?;
    if version != SCHEMA_VERSION {
        return Err(ParseError::Schema { found: version });
    }
    // A saved report is outside text: every string escaped on the way in (issue 22 row 2).
    crate::model::text::printable_json(&mut value);
    serde_json::from_value(value).map_err(|_| {
        // Parsed again from the text (not the value) so that a shape error has a position.
        match serde_json::from_str::<HostReport>(text) {
            Err(e) => ParseError::Shape {
                line: e.line(),
                column: e.column(),
            },
            Ok(_) => ParseError::NotAReport,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fields_it_needs_and_ignores_the_rest() {
        let r = parse(
            r#"{"schema_version":1,"hostname":"w1","labels":{"zone":"a"},"verdict":"warn",
               "extra":{"x":1},"capabilities":[{"id":"api","verdict":"fail","entries":[
               {"targets":[{"host":"a.test","verdict":"pass"},{"host":"a.test","verdict":"fail","cause":"no"}]}]}]}"#,
        )
        .unwrap();
        assert_eq!(r.hostname, "w1");
        assert_eq!(r.labels["zone"], "a");
        assert_eq!(
            r.capabilities[0].names(),
            vec![("a.test", Verdict::Fail, Some("no"))]
        );
    }

    #[test]
    fn errors_are_typed() {
        assert!(matches!(
            parse("{\"schema_version\": 1,"),
            Err(ParseError::NotJson { eof: true, .. })
        ));
        assert!(matches!(
            parse("nope"),
            Err(ParseError::NotJson { line: 1, .. })
        ));
        assert_eq!(parse("[1,2]").unwrap_err(), ParseError::NotAReport);
        assert_eq!(
            parse(r#"{"schema_version":2,"hostname":"x"}"#).unwrap_err(),
            ParseError::Schema { found: 2 }
        );
        assert!(matches!(
            parse(r#"{"schema_version":1,"hostname":"x","verdict":"maybe"}"#),
            Err(ParseError::Shape { line: 1, .. })
        ));
        assert!(matches!(
            parse(r#"{"schema_version":1,"verdict":"pass"}"#),
            Err(ParseError::Shape { .. })
        ));
    }
}
