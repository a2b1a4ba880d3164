//! `meta diff`: the REST Meta API's domain lists (`domains.actions_inbound` {full_domains,
//! wildcard_domains} and `domains.actions`) against a profile's documented names, including which
//! names are covered by a wildcard of the other side.
//!
//! Types, parsing and the diff live here; fetching is in [`fetch`], the text and JSON output in
//! [`crate::render::meta`].

pub mod fetch;

use serde::Serialize;
use serde_json::Value;

use crate::model::Pattern;
use crate::plan::Plan;

pub use fetch::{fetch, url_host_port, FetchError};

/// Why a text is not a /meta document we can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetaError {
    #[error("not valid JSON: {0}")]
    NotJson(String),
    #[error("not a /meta document: it has no `domains` object (GitHub's REST Meta API answers with one)")]
    NoDomains,
    #[error("the /meta document has neither `domains.actions_inbound` nor `domains.actions`")]
    NoLists,
    #[error("`domains.{0}` is not a list")]
    NotAList(&'static str),
}

/// One name or wildcard of /meta, with the lists it appears in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaEntry {
    pub pattern: Pattern,
    pub sources: Vec<&'static str>,
}

#[derive(Debug, Clone, Default)]
pub struct MetaDomains {
    pub entries: Vec<MetaEntry>,
    /// Items left out (not strings, not host names), in words.
    pub warnings: Vec<String>,
}

impl MetaDomains {
    fn add(&mut self, pattern: Pattern, source: &'static str) {
        match self.entries.iter_mut().find(|e| e.pattern == pattern) {
            Some(e) => {
                if !e.sources.contains(&source) {
                    e.sources.push(source)
                }
            }
            None => self.entries.push(MetaEntry {
                pattern,
                sources: vec![source],
            }),
        }
    }
}

/// Parse a /meta JSON document.
pub fn parse(text: &str) -> Result<MetaDomains, MetaError> {
    let v: Value = serde_json::from_str(text).map_err(|e| MetaError::NotJson(e.to_string()))?;
    let Some(domains) = v.get("domains").and_then(Value::as_object) else {
        return Err(MetaError::NoDomains);
    };
    let inbound = domains.get("actions_inbound");
    let lists: [(&'static str, Option<&Value>); 3] = [
        (
            "actions_inbound.full_domains",
            inbound.and_then(|i| i.get("full_domains")),
        ),
        (
            "actions_inbound.wildcard_domains",
            inbound.and_then(|i| i.get("wildcard_domains")),
        ),
        ("actions", domains.get("actions")),
    ];
    if lists.iter().all(|(_, l)| l.is_none()) {
        return Err(MetaError::NoLists);
    }
    let mut out = MetaDomains::default();
    for (source, list) in lists {
        let Some(list) = list else {
            out.warnings
                .push(format!("/meta has no `domains.{source}` list"));
            continue;
        };
        let Some(items) = list.as_array() else {
            return Err(MetaError::NotAList(source));
        };
        for item in items {
            let Some(s) = item.as_str() else {
                out.warnings.push(format!(
                    "domains.{source}: skipped an item that is not a string"
                ));
                continue;
            };
            let s = s.trim().to_ascii_lowercase();
            match Pattern::parse(&s) {
                Ok(p) => out.add(p, source),
                Err(why) => out.warnings.push(format!(
                    "domains.{source}: skipped `{}`: {why}",
                    s.escape_default()
                )),
            }
        }
    }
    Ok(out)
}

/// How an entry of one side relates to the other side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "relation", content = "by")]
pub enum Relation {
    /// The same name or pattern is on the other side.
    Both,
    /// Not listed on the other side, but a wildcard there covers it.
    CoveredBy(String),
    /// Neither listed nor covered on the other side.
    Missing,
}

#[derive(Debug, Clone, Serialize)]
pub struct DiffItem {
    pub name: String,
    /// Capabilities (profile side) or /meta lists (meta side).
    pub in_: Vec<String>,
    #[serde(flatten)]
    pub relation: Relation,
}

#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub generated_by: String,
    pub profile: String,
    pub meta_source: String,
    /// Profile entries and their relation to /meta.
    pub profile_side: Vec<DiffItem>,
    /// /meta entries and their relation to the profile.
    pub meta_side: Vec<DiffItem>,
}

impl Diff {
    /// Entries of either side neither listed nor covered on the other.
    pub fn drift(&self) -> usize {
        self.profile_side
            .iter()
            .chain(&self.meta_side)
            .filter(|i| i.relation == Relation::Missing)
            .count()
    }
}

/// Does pattern `a` cover everything `b` stands for (without being equal)?
fn wildcard_covers(a: &Pattern, b: &Pattern) -> bool {
    match (a, b) {
        (Pattern::Wildcard(s), Pattern::Exact(n)) => n.is_below(s),
        (Pattern::Wildcard(s), Pattern::Wildcard(x)) => x.is_below(s),
        _ => false,
    }
}

fn relate(p: &Pattern, other: &[&Pattern]) -> Relation {
    if other.contains(&p) {
        return Relation::Both;
    }
    match other.iter().find(|o| wildcard_covers(o, p)) {
        Some(o) => Relation::CoveredBy(o.to_string()),
        None => Relation::Missing,
    }
}

/// The documented patterns of the plan, each with the capabilities listing it.
pub fn profile_patterns(plan: &Plan) -> (Vec<(Pattern, Vec<String>)>, Vec<String>) {
    let mut out: Vec<(Pattern, Vec<String>)> = Vec::new();
    let mut warnings = Vec::new();
    for c in &plan.capabilities {
        for e in &c.entries {
            match Pattern::parse(&e.pattern) {
                Ok(p) => match out.iter_mut().find(|(q, _)| *q == p) {
                    Some((_, caps)) => {
                        if !caps.contains(&c.id) {
                            caps.push(c.id.clone())
                        }
                    }
                    None => out.push((p, vec![c.id.clone()])),
                },
                Err(why) => warnings.push(format!(
                    "profile entry `{}` skipped: {why}",
                    e.pattern.escape_default()
                )),
            }
        }
    }
    (out, warnings)
}

pub fn diff(plan: &Plan, meta: &MetaDomains, meta_source: &str) -> (Diff, Vec<String>) {
    let (profile, warnings) = profile_patterns(plan);
    let meta_patterns: Vec<&Pattern> = meta.entries.iter().map(|e| &e.pattern).collect();
    let profile_refs: Vec<&Pattern> = profile.iter().map(|(p, _)| p).collect();
    let profile_side = profile
        .iter()
        .map(|(p, caps)| DiffItem {
            name: p.to_string(),
            in_: caps.clone(),
            relation: relate(p, &meta_patterns),
        })
        .collect();
    let meta_side = meta
        .entries
        .iter()
        .map(|e| DiffItem {
            name: e.pattern.to_string(),
            in_: e.sources.iter().map(|s| s.to_string()).collect(),
            relation: relate(&e.pattern, &profile_refs),
        })
        .collect();
    (
        Diff {
            generated_by: format!("runner-preflight {}", env!("CARGO_PKG_VERSION")),
            profile: plan.profile_name.clone(),
            meta_source: meta_source.to_string(),
            profile_side,
            meta_side,
        },
        warnings,
    )
}

/// The /meta URL of a built-in profile, from its name and variables.
pub fn default_url(plan: &Plan) -> Option<String> {
    match plan.profile_name.as_str() {
        "dotcom" => Some("https://api.github.com/meta".into()),
        "ghes" => plan
            .variables
            .get("hostname")
            .map(|h| format!("https://{h}/api/v3/meta")),
        "ghecom" => plan
            .variables
            .get("subdomain")
            .map(|s| format!("https://api.{s}.ghe.com/meta")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const META: &str = r#"{
      "verifiable_password_authentication": false,
      "actions": ["4.148.0.0/16"],
      "domains": {
        "website": ["*.github.com"],
        "actions": ["*.actions.githubusercontent.com", "productionresultssa0.blob.core.windows.net", 7],
        "actions_inbound": {
          "full_domains": ["github.com", "api.github.com", "codeload.github.com", "new.example.com", "bad;name.com"],
          "wildcard_domains": ["*.actions.githubusercontent.com", "*.pkg.github.com"]
        }
      }
    }"#;

    #[test]
    fn parses_lists_and_skips_junk() {
        let m = parse(META).unwrap();
        let names: Vec<String> = m.entries.iter().map(|e| e.pattern.to_string()).collect();
        assert!(names.contains(&"github.com".to_string()));
        assert!(names.contains(&"*.pkg.github.com".to_string()));
        assert!(!names.iter().any(|n| n.contains(';')));
        let wild = m
            .entries
            .iter()
            .find(|e| e.pattern.to_string() == "*.actions.githubusercontent.com")
            .unwrap();
        assert_eq!(
            wild.sources,
            vec!["actions_inbound.wildcard_domains", "actions"]
        );
        assert_eq!(m.warnings.len(), 2, "{:?}", m.warnings);
        assert!(parse("{}").is_err());
        assert!(parse("[").is_err());
        assert!(parse(r#"{"domains": {"website": []}}"#).is_err());
    }

    #[test]
    fn relations() {
        let w = |s: &str| Pattern::parse(s).unwrap();
        let meta = [w("*.actions.githubusercontent.com"), w("github.com")];
        let refs: Vec<&Pattern> = meta.iter().collect();
        assert_eq!(relate(&w("github.com"), &refs), Relation::Both);
        assert_eq!(
            relate(&w("broker.actions.githubusercontent.com"), &refs),
            Relation::CoveredBy("*.actions.githubusercontent.com".into())
        );
        assert_eq!(
            relate(&w("*.x.actions.githubusercontent.com"), &refs),
            Relation::CoveredBy("*.actions.githubusercontent.com".into())
        );
        // `*.x` does not cover x.
        assert_eq!(
            relate(&w("actions.githubusercontent.com"), &refs),
            Relation::Missing
        );
        assert_eq!(relate(&w("api.github.com"), &refs), Relation::Missing);
    }

    #[test]
    fn diff_of_dotcom() {
        let p = crate::profile::resolve("dotcom").unwrap();
        let plan = crate::plan::build(&p, &Default::default()).unwrap();
        let (d, _) = diff(&plan, &parse(META).unwrap(), "test");
        let find = |side: &[DiffItem], n: &str| {
            side.iter()
                .find(|i| i.name == n)
                .map(|i| i.relation.clone())
        };
        assert_eq!(find(&d.profile_side, "github.com"), Some(Relation::Both));
        assert_eq!(
            find(&d.meta_side, "new.example.com"),
            Some(Relation::Missing)
        );
        assert_eq!(find(&d.profile_side, "ghcr.io"), Some(Relation::Missing));
        let text = crate::render::meta::text(&d);
        assert!(text.contains("only in /meta, NOT in the profile"));
        assert!(d.drift() > 0);
    }
}
