//! `meta diff`: the REST Meta API's domain lists (`domains.actions_inbound` {full_domains,
//! wildcard_domains}, `domains.actions` and `domains.artifact_attestations.services`) against a
//! profile's documented names, including which names are covered by a wildcard of the other side.
//!
//! Types, parsing and the diff live here; getting the document (a saved file or the network) is
//! in [`fetch`], the text and JSON output in
//! `render/meta.rs`.

pub mod fetch;

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use crate::model::Pattern;
use crate::plan::Plan;

pub use fetch::{fetch, read_file, url_host_port, FetchError, Token};

/// Why a text is not a /meta document we can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetaError {
    /// Not JSON, or cut short (`eof`), at this position (the parser's own words are not ours).
    #[error("not valid JSON: {} at line {line}, column {column}", if *.eof { "it ends too early" } else { "unexpected text" })]
    NotJson {
        line: usize,
        column: usize,
        eof: bool,
    },
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
    /// Pattern → index in `entries`.
    index: HashMap<Pattern, usize>,
}

impl MetaDomains {
    fn add(&mut self, pattern: Pattern, source: &'static str) {
        match self.index.get(&pattern) {
            Some(&i) => {
                let e = &mut self.entries[i];
                if !e.sources.contains(&source) {
                    e.sources.push(source)
                }
            }
            None => {
                self.index.insert(pattern.clone(), self.entries.len());
                self.entries.push(MetaEntry {
                    pattern,
                    sources: vec![source],
                })
            }
        }
    }
}

/// The /meta lists that take part in the diff. `domains.artifact_attestations` is newer (and
/// absent from older GHES documents), so a missing one is not worth a warning.
const ATTESTATIONS: &str = "artifact_attestations.services";

/// Parse a /meta JSON document (a leading byte-order mark is skipped).
pub fn parse(text: &str) -> Result<MetaDomains, MetaError> {
    let text = crate::textfile::strip_bom(text);
    let v: Value = serde_json::from_str(text).map_err(|e| MetaError::NotJson {
        line: e.line(),
        column: e.column(),
        eof: e.is_eof(),
    })?;
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
        add_all(&mut out, source, items);
    }
    // `{"trust_domain": "", "services": [...]}`.
    match domains.get("artifact_attestations") {
        None => {}
        Some(a) => match a.get("services").and_then(Value::as_array) {
            Some(items) => add_all(&mut out, ATTESTATIONS, items),
            None => out.warnings.push(format!(
                "`domains.artifact_attestations` has no `services` list: skipped (`domains.{ATTESTATIONS}` expected)"
            )),
        },
    }
    Ok(out)
}

fn add_all(out: &mut MetaDomains, source: &'static str, items: &[Value]) {
    for item in items {
        let Some(s) = item.as_str() else {
            out.warnings.push(format!(
                "domains.{source}: skipped an item that is not a string"
            ));
            continue;
        };
        let s = s.trim().to_ascii_lowercase();
        // A fully qualified `name.` is `name`; stripped first so that `*.x.` is judged as `*.x`
        // (`Pattern::parse` counts the trailing dot as a second label).
        let name = s.strip_suffix('.').unwrap_or(&s);
        let parsed = if name.ends_with('.') {
            Err(format!("`{name}` ends in an empty label"))
        } else {
            Pattern::parse(name)
        };
        match parsed {
            Ok(p) => out.add(p, source),
            Err(why) => out.warnings.push(format!(
                "domains.{source}: skipped `{}`: {why}",
                s.escape_default()
            )),
        }
    }
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

/// `a.b.c` → `b.c`, `c`: every suffix a name is strictly below.
fn parents(name: &str) -> impl Iterator<Item = &str> {
    name.match_indices('.').map(move |(i, _)| &name[i + 1..])
}

/// One side of the diff, indexed: every pattern, and each wildcard's suffix with its position
/// (the first listed wins, as a scan in order would find it).
struct Side<'a> {
    all: HashSet<&'a Pattern>,
    wildcards: HashMap<&'a str, (usize, &'a Pattern)>,
}

impl<'a> Side<'a> {
    fn new(patterns: impl IntoIterator<Item = &'a Pattern>) -> Side<'a> {
        let mut side = Side {
            all: HashSet::new(),
            wildcards: HashMap::new(),
        };
        for (i, p) in patterns.into_iter().enumerate() {
            side.all.insert(p);
            if let Pattern::Wildcard(s) = p {
                side.wildcards.entry(s.as_str()).or_insert((i, p));
            }
        }
        side
    }
}

/// How `p` relates to the other side: listed there, covered by one of its wildcards (`*.s`
/// covers a name or a wildcard strictly below `s`), or missing. One lookup per label of `p`.
fn relate(p: &Pattern, other: &Side) -> Relation {
    if other.all.contains(p) {
        return Relation::Both;
    }
    let name = match p {
        Pattern::Exact(n) | Pattern::Wildcard(n) => n.as_str(),
    };
    parents(name)
        .filter_map(|s| other.wildcards.get(s))
        .min_by_key(|(i, _)| *i)
        .map_or(Relation::Missing, |(_, o)| {
            Relation::CoveredBy(o.to_string())
        })
}

/// The documented patterns of the plan, each with the capabilities listing it.
pub fn profile_patterns(plan: &Plan) -> (Vec<(Pattern, Vec<String>)>, Vec<String>) {
    let mut out: Vec<(Pattern, Vec<String>)> = Vec::new();
    let mut index: HashMap<Pattern, usize> = HashMap::new();
    let mut warnings = Vec::new();
    for c in &plan.capabilities {
        for e in &c.entries {
            match Pattern::parse(&e.pattern) {
                Ok(p) => match index.get(&p) {
                    Some(&i) => {
                        let caps = &mut out[i].1;
                        if !caps.contains(&c.id) {
                            caps.push(c.id.clone())
                        }
                    }
                    None => {
                        index.insert(p.clone(), out.len());
                        out.push((p, vec![c.id.clone()]))
                    }
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
    let meta_patterns = Side::new(meta.entries.iter().map(|e| &e.pattern));
    let profile_refs = Side::new(profile.iter().map(|(p, _)| p));
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
        let refs = Side::new(meta.iter());
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
        assert!(d.drift() > 0);
    }

    #[test]
    fn artifact_attestations_and_bom() {
        let m = parse(
            "\u{feff}{\"domains\": {\"actions\": [\"fulcio.githubapp.com\"], \"artifact_attestations\": {\"trust_domain\": \"\", \"services\": [\"tuf-repo.github.com\", \"fulcio.githubapp.com\", \"timestamp.githubapp.com\"]}}}",
        )
        .unwrap();
        let names: Vec<String> = m.entries.iter().map(|e| e.pattern.to_string()).collect();
        assert_eq!(
            names,
            [
                "fulcio.githubapp.com",
                "tuf-repo.github.com",
                "timestamp.githubapp.com"
            ]
        );
        assert_eq!(
            m.entries[0].sources,
            vec!["actions", "artifact_attestations.services"]
        );
        // Absent: no warning about it; malformed: a warning, the rest still diffed.
        let m = parse(r#"{"domains": {"actions": []}}"#).unwrap();
        assert!(!m.warnings.iter().any(|w| w.contains("artifact")));
        let m =
            parse(r#"{"domains": {"actions": [], "artifact_attestations": ["x.com"]}}"#).unwrap();
        assert!(m
            .warnings
            .iter()
            .any(|w| w.contains("artifact_attestations")));
    }

    #[test]
    fn first_covering_wildcard_wins() {
        let w = |s: &str| Pattern::parse(s).unwrap();
        let meta = [
            w("*.b.example.com"),
            w("*.example.com"),
            w("*.a.b.example.com"),
        ];
        let side = Side::new(meta.iter());
        assert_eq!(
            relate(&w("x.a.b.example.com"), &side),
            Relation::CoveredBy("*.b.example.com".into())
        );
        assert_eq!(relate(&w("*.a.b.example.com"), &side), Relation::Both);
        assert_eq!(
            relate(&w("*.c.example.com"), &side),
            Relation::CoveredBy("*.example.com".into())
        );
    }

    #[test]
    fn trailing_dots_do_not_widen_a_wildcard() {
        // Found by the fuzz driver: `*.ghes.` passed as a pattern `*.ghes` that does not parse back.
        let m = parse(
            r#"{"domains": {"actions": ["*.ghes.", "*.c..", "api.github.com.", "*.pkg.github.com."]}}"#,
        )
        .unwrap();
        let names: Vec<String> = m.entries.iter().map(|e| e.pattern.to_string()).collect();
        assert_eq!(names, ["api.github.com", "*.pkg.github.com"]);
        assert!(
            m.warnings.iter().any(|w| w.contains("*.ghes")),
            "{:?}",
            m.warnings
        );
    }
}
