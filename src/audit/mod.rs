//! `audit`: does an existing allow list cover what the runner needs?
//!
//! The allow list has one entry per line: `name` (exactly that name), `*.x` (any name below `x`,
//! not `x`), `.x` (`x` and any name below it, as in Squid and AWS Network Firewall), or another
//! glob (`*` and `?`, matched with globset). `#` starts a comment (at the start of a line or after
//! white space); blank lines are ignored; a URL (`https://host/...`) counts as its host name.
//!
//! Parsing, the matcher and the audit live here; the text and JSON output in
//! `render/audit.rs`.

use std::collections::HashMap;
use std::path::Path;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Serialize;

use crate::firewall::Model;
pub use crate::firewall::Origin;
use crate::model::text::clip;
use crate::model::{Name, Pattern};
use crate::textfile::{self, ReadError};

/// One entry of an allow list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// 1-based line number.
    pub line: usize,
    /// The entry as written (comment and white space removed).
    pub text: String,
    /// How it was read.
    pub kind: EntryKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// `name`.
    Exact,
    /// `*.x`: below x.
    Subdomains,
    /// `.x`: x and below.
    DomainAndSubdomains,
    /// Any other glob.
    Glob,
}

/// A parsed allow list.
#[derive(Debug)]
pub struct AllowList {
    pub origin: String,
    pub entries: Vec<Entry>,
    matcher: Matcher,
}

/// What is wrong with an allow list line (for exit code 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line of the offending entry (never 0).
    pub line: usize,
    pub message: String,
}

/// Why an allow list file cannot be audited against.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{file}:{}: {}", .error.line, .error.message)]
    Parse { file: String, error: ParseError },
}

/// Read (capped, UTF-8 checked) and parse an allow list file.
pub fn load(path: &Path) -> Result<AllowList, LoadError> {
    let text = textfile::read_text(path, textfile::limit::ALLOW_LIST, "an allow list")?;
    let file = path.display().to_string();
    AllowList::parse(&file, &text).map_err(|error| LoadError::Parse { file, error })
}

fn strip_comment(line: &str) -> &str {
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        if c == '#' && prev_space {
            return &line[..i];
        }
        prev_space = c.is_whitespace();
    }
    line
}

/// The host part of `scheme://[user[:pw]@]host[:port]/...` (an IPv6 literal keeps its brackets,
/// which the glob check then refuses as not a host name).
fn url_host(s: &str) -> &str {
    match s.split_once("://") {
        Some((_, rest)) => {
            let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
            let host_port = match authority.rfind('@') {
                Some(at) => &authority[at + 1..],
                None => authority,
            };
            if host_port.starts_with('[') {
                return &host_port[..host_port
                    .find(']')
                    .map(|i| i + 1)
                    .unwrap_or(host_port.len())];
            }
            &host_port[..host_port.find(':').unwrap_or(host_port.len())]
        }
        None => s,
    }
}

fn check_glob_chars(s: &str) -> Result<(), String> {
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '*' | '?')))
    {
        return Err(format!(
            "`{}` is not a host name or pattern: character `{}` is not allowed",
            clip(s).escape_default(),
            c.escape_default()
        ));
    }
    if s.split('.').any(str::is_empty) {
        return Err(format!("`{}` has an empty label", clip(s).escape_default()));
    }
    Ok(())
}

/// Globs per [`GlobSet`]: one set of thousands of globs exceeds the regex engine's size limits,
/// so they are matched in chunks.
const GLOB_CHUNK: usize = 256;

/// The matcher: exact names and `.x` / `*.x` suffixes in hash maps (a name is looked up, then
/// each of its parent suffixes), only real globs in globset. Every map keeps the first entry
/// (lowest index) for a key.
#[derive(Debug, Default)]
struct Matcher {
    /// `name` → entry.
    exact: HashMap<String, usize>,
    /// `.x`: x → entry (x and below).
    at_or_below: HashMap<String, usize>,
    /// `*.x`: x → entry (below x only).
    below: HashMap<String, usize>,
    /// The first glob that is `*` alone (covers every pattern).
    star: Option<usize>,
    globs: Vec<GlobChunk>,
}

#[derive(Debug)]
struct GlobChunk {
    set: GlobSet,
    /// Glob index in `set` → entry index.
    owners: Vec<usize>,
}

/// `a.b.c` → `b.c`, `c`.
fn parents(name: &str) -> impl Iterator<Item = &str> {
    name.match_indices('.').map(move |(i, _)| &name[i + 1..])
}

fn first(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Matcher {
    fn add_key(map: &mut HashMap<String, usize>, key: String, entry: usize) {
        map.entry(key).or_insert(entry);
    }

    /// The first entry allowing exactly this name.
    fn name(&self, name: &str) -> Option<usize> {
        let mut best = first(
            self.exact.get(name).copied(),
            self.at_or_below.get(name).copied(),
        );
        for s in parents(name) {
            best = first(best, self.below.get(s).copied());
            best = first(best, self.at_or_below.get(s).copied());
        }
        for chunk in &self.globs {
            let hit = chunk
                .set
                .matches(name)
                .into_iter()
                .map(|g| chunk.owners[g])
                .min();
            best = first(best, hit);
        }
        best
    }

    /// The first entry allowing every name below `suffix`.
    fn below_suffix(&self, suffix: &str) -> Option<usize> {
        let mut best = self.star;
        for s in std::iter::once(suffix).chain(parents(suffix)) {
            best = first(best, self.below.get(s).copied());
            best = first(best, self.at_or_below.get(s).copied());
        }
        best
    }
}

/// Build the glob sets in chunks. A chunk the engine refuses is split until the glob at fault is
/// found, so the error names its line.
fn glob_chunks(globs: Vec<(Glob, usize)>, entries: &[Entry]) -> Result<Vec<GlobChunk>, ParseError> {
    fn build(
        globs: &[(Glob, usize)],
        entries: &[Entry],
        out: &mut Vec<GlobChunk>,
    ) -> Result<(), ParseError> {
        let mut b = GlobSetBuilder::new();
        for (g, _) in globs {
            b.add(g.clone());
        }
        match b.build() {
            Ok(set) => {
                out.push(GlobChunk {
                    set,
                    owners: globs.iter().map(|(_, e)| *e).collect(),
                });
                Ok(())
            }
            Err(_) if globs.len() > 1 => {
                let (a, b) = globs.split_at(globs.len() / 2);
                build(a, entries, out)?;
                build(b, entries, out)
            }
            Err(_) => {
                let e = &entries[globs[0].1];
                Err(ParseError {
                    line: e.line,
                    message: format!(
                        "`{}` is too complex a pattern to match: simplify it",
                        clip(&e.text).escape_default()
                    ),
                })
            }
        }
    }
    let mut out = Vec::new();
    for chunk in globs.chunks(GLOB_CHUNK) {
        build(chunk, entries, &mut out)?;
    }
    Ok(out)
}

impl AllowList {
    /// Parse an allow list (a leading byte-order mark is skipped; lines end in CR LF, LF or a
    /// lone CR).
    pub fn parse(origin: &str, text: &str) -> Result<AllowList, ParseError> {
        let mut entries = Vec::new();
        let mut m = Matcher::default();
        let mut globs: Vec<(Glob, usize)> = Vec::new();
        for (i, raw) in textfile::lines(textfile::strip_bom(text)).enumerate() {
            let line = i + 1;
            let t = strip_comment(raw).trim();
            if t.is_empty() {
                continue;
            }
            let err = |message: String| ParseError { line, message };
            if t.split_whitespace().count() > 1 {
                return Err(err(format!(
                    "`{}` holds more than one entry: write one name or pattern per line",
                    clip(t).escape_default()
                )));
            }
            let host = url_host(t).to_ascii_lowercase();
            if host.ends_with("*.") || host.ends_with("..") || host == "." {
                return Err(err(format!(
                    "`{}` has an empty label",
                    clip(&host).escape_default()
                )));
            }
            let host = host.strip_suffix('.').unwrap_or(&host).to_string();
            let index = entries.len();
            let kind =
                if let Some(rest) = host.strip_prefix("*.").filter(|r| !r.contains(['*', '?'])) {
                    let n = Name::new(rest).map_err(err)?;
                    Matcher::add_key(&mut m.below, n.as_str().to_string(), index);
                    EntryKind::Subdomains
                } else if let Some(rest) = host.strip_prefix('.') {
                    let n = Name::new(rest).map_err(err)?;
                    Matcher::add_key(&mut m.at_or_below, n.as_str().to_string(), index);
                    EntryKind::DomainAndSubdomains
                } else if host.contains(['*', '?']) {
                    check_glob_chars(&host).map_err(err)?;
                    let glob = GlobBuilder::new(&host)
                        .case_insensitive(true)
                        .literal_separator(false)
                        .build()
                        .map_err(|_| {
                            err(format!(
                                "`{}` is not a valid pattern",
                                clip(&host).escape_default()
                            ))
                        })?;
                    globs.push((glob, index));
                    if host == "*" && m.star.is_none() {
                        m.star = Some(index);
                    }
                    EntryKind::Glob
                } else {
                    let n = Name::new(&host).map_err(err)?;
                    Matcher::add_key(&mut m.exact, n.as_str().to_string(), index);
                    EntryKind::Exact
                };
            entries.push(Entry {
                line,
                text: t.to_string(),
                kind,
            });
        }
        m.globs = glob_chunks(globs, &entries)?;
        Ok(AllowList {
            origin: origin.to_string(),
            entries,
            matcher: m,
        })
    }

    /// The first entry (by line) that allows `name`.
    pub fn covering_name(&self, name: &Name) -> Option<&Entry> {
        self.matcher.name(name.as_str()).map(|i| &self.entries[i])
    }

    /// The first entry that allows every name a pattern stands for. For `*.x` that is an entry
    /// `*.s` or `.s` with `x` at or below `s`, or a glob `*` alone.
    pub fn covering(&self, p: &Pattern) -> Option<&Entry> {
        match p {
            Pattern::Exact(n) => self.covering_name(n),
            Pattern::Wildcard(x) => self
                .matcher
                .below_suffix(x.as_str())
                .map(|i| &self.entries[i]),
        }
    }
}

/// One required name or pattern and whether the list covers it.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub name: String,
    pub origin: Origin,
    pub covered_by: Option<Entry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CapabilityAudit {
    pub id: String,
    pub title: String,
    pub gating: bool,
    pub items: Vec<Item>,
}

impl CapabilityAudit {
    pub fn gaps(&self) -> usize {
        self.items.iter().filter(|i| i.covered_by.is_none()).count()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    pub generated_by: String,
    pub allowlist: String,
    pub profile: String,
    pub offline: bool,
    pub resolved_at: String,
    pub capabilities: Vec<CapabilityAudit>,
    pub gaps: usize,
    /// Names DNS could not resolve: their CNAME targets could not be checked, so the audit is
    /// incomplete (exit 1) until they resolve, or use `--offline`.
    pub unresolved: Vec<String>,
}

impl Audit {
    /// Exit status: 0 only when every name is covered and nothing was left unchecked.
    pub fn complete_and_covered(&self) -> bool {
        self.gaps == 0 && self.unresolved.is_empty()
    }
}

/// Audit the names of a firewall model (documented patterns; probed names and CNAME targets when
/// resolved) against an allow list.
pub fn audit(model: &Model, list: &AllowList) -> Audit {
    let capabilities: Vec<CapabilityAudit> = model
        .capabilities
        .iter()
        .map(|c| CapabilityAudit {
            id: c.id.clone(),
            title: c.title.clone(),
            gating: c.gating,
            items: c
                .rules()
                .into_iter()
                .filter(|r| !model.offline || r.origin == Origin::Documented)
                .map(|r| Item {
                    name: r.pattern.to_string(),
                    origin: r.origin,
                    covered_by: list.covering(&r.pattern).cloned(),
                })
                .collect(),
        })
        .collect();
    let gaps = capabilities.iter().map(|c| c.gaps()).sum();
    let mut unresolved: Vec<String> = model
        .capabilities
        .iter()
        .flat_map(|c| c.resolutions.iter())
        .filter(|r| !r.resolved)
        .map(|r| r.name.to_string())
        .collect();
    unresolved.sort();
    unresolved.dedup();
    Audit {
        unresolved,
        generated_by: model.generated_by.clone(),
        allowlist: list.origin.clone(),
        profile: model.profile.clone(),
        offline: model.offline,
        resolved_at: model.resolved_at.clone(),
        capabilities,
        gaps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_hosts() {
        assert_eq!(url_host("https://ghcr.io/v2/"), "ghcr.io");
        assert_eq!(
            url_host("http://user:pw@proxy.example:3128/"),
            "proxy.example"
        );
        assert_eq!(url_host("https://api.github.com:443?x"), "api.github.com");
        assert_eq!(url_host("https://[::1]:8443/"), "[::1]");
        assert_eq!(url_host("plain.example"), "plain.example");
    }

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    const LIST: &str = "\
# corporate egress list
github.com
*.github.com   # API and friends
.githubusercontent.com
https://ghcr.io/v2/
pipelines*.example.net
Objects.Example.ORG.
";

    #[test]
    fn parses_forms_and_comments() {
        let l = AllowList::parse("list", LIST).unwrap();
        assert_eq!(l.entries.len(), 6);
        assert_eq!(l.entries[0].line, 2);
        assert_eq!(l.entries[1].kind, EntryKind::Subdomains);
        assert_eq!(l.entries[1].text, "*.github.com");
        assert_eq!(l.entries[2].kind, EntryKind::DomainAndSubdomains);
        assert_eq!(l.entries[4].kind, EntryKind::Glob);
    }

    #[test]
    fn matcher_semantics() {
        let l = AllowList::parse("list", LIST).unwrap();
        let line = |s: &str| l.covering_name(&n(s)).map(|e| e.line);
        assert_eq!(line("github.com"), Some(2));
        assert_eq!(line("api.github.com"), Some(3));
        assert_eq!(line("a.b.github.com"), Some(3));
        assert_eq!(line("evilgithub.com"), None);
        // `.x` covers x itself and below.
        assert_eq!(line("githubusercontent.com"), Some(4));
        assert_eq!(line("objects.githubusercontent.com"), Some(4));
        assert_eq!(line("ghcr.io"), Some(5));
        assert_eq!(line("pipelines-1.example.net"), Some(6));
        assert_eq!(line("other.example.net"), None);
        assert_eq!(line("objects.example.org"), Some(7));
        // `*.x` does not cover x.
        let only_wild = AllowList::parse("l", "*.github.com\n").unwrap();
        assert!(only_wild.covering_name(&n("github.com")).is_none());
    }

    #[test]
    fn wildcard_coverage() {
        let l = AllowList::parse("list", LIST).unwrap();
        let cov = |p: &str| l.covering(&Pattern::parse(p).unwrap()).map(|e| e.line);
        assert_eq!(cov("*.actions.githubusercontent.com"), Some(4));
        assert_eq!(cov("*.pkg.github.com"), Some(3));
        assert_eq!(cov("*.github.com"), Some(3));
        assert_eq!(cov("*.blob.core.windows.net"), None);
        let star = AllowList::parse("l", "*\n").unwrap();
        assert!(star.covering(&Pattern::parse("*.x.com").unwrap()).is_some());
    }

    #[test]
    fn rejects_bad_lines() {
        for (text, line) in [
            ("github.com\nfoo;bar.com\n", 2),
            ("a b\n", 1),
            ("*.\n", 1),
            ("exa\"mple.com\n", 1),
            ("x..y\n", 1),
        ] {
            let e = AllowList::parse("l", text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {}", e.message);
        }
    }

    #[test]
    fn two_names_on_one_line_are_refused_as_two_entries() {
        let e = AllowList::parse("l", "github.com\nghcr.io api.github.com\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("more than one entry"), "{}", e.message);
    }

    #[test]
    fn bom_and_lone_cr_keep_line_numbers() {
        let l = AllowList::parse(
            "l",
            "\u{feff}github.com\r# c\r\r*.github.com\r\n.x.example\n",
        )
        .unwrap();
        let lines: Vec<usize> = l.entries.iter().map(|e| e.line).collect();
        assert_eq!(lines, [1, 4, 5]);
        assert_eq!(l.entries[0].text, "github.com");
        let e = AllowList::parse("l", "a.example\rb;c.example\r").unwrap_err();
        assert_eq!(e.line, 2, "{}", e.message);
    }

    #[test]
    fn first_entry_wins_across_kinds() {
        // The same name allowed by a later exact entry, an earlier suffix and a glob: the
        // earliest line is reported, as one globset over all entries did.
        let l = AllowList::parse("l", "api*.example\n.example\napi.example\n*.example\n").unwrap();
        assert_eq!(l.covering_name(&n("api.example")).map(|e| e.line), Some(1));
        assert_eq!(l.covering_name(&n("example")).map(|e| e.line), Some(2));
        assert_eq!(l.covering_name(&n("a.b.example")).map(|e| e.line), Some(2));
        let cov = |p: &str| l.covering(&Pattern::parse(p).unwrap()).map(|e| e.line);
        assert_eq!(cov("*.a.example"), Some(2));
        let l = AllowList::parse("l", "*.b.example\n.a.b.example\n").unwrap();
        let cov = |p: &str| l.covering(&Pattern::parse(p).unwrap()).map(|e| e.line);
        assert_eq!(cov("*.a.b.example"), Some(1));
        assert_eq!(cov("*.b.example"), Some(1));
        assert_eq!(cov("*.c.example"), None);
    }

    #[test]
    fn thousands_of_globs_and_names() {
        let mut text = String::new();
        for i in 0..3000 {
            text.push_str(&format!("pipe{i}-*.example.net\nhost{i}.example.com\n"));
        }
        let l = AllowList::parse("l", &text).unwrap();
        assert_eq!(l.entries.len(), 6000);
        assert_eq!(
            l.covering_name(&n("pipe2999-x.example.net"))
                .map(|e| e.line),
            Some(5999)
        );
        assert_eq!(
            l.covering_name(&n("host1234.example.com")).map(|e| e.line),
            Some(2470)
        );
        assert!(l.covering_name(&n("pipe.example.net")).is_none());
    }

    #[test]
    fn comments_need_a_space_before_the_hash() {
        assert_eq!(strip_comment("# all"), "");
        assert_eq!(strip_comment("a.example # x"), "a.example ");
        assert_eq!(strip_comment("a.example\t#x"), "a.example\t");
        assert_eq!(strip_comment("a#b.example"), "a#b.example");
        assert_eq!(strip_comment("plain"), "plain");
        let e = AllowList::parse("l", "a#b.example\n").unwrap_err();
        assert_eq!(e.line, 1);
    }

    #[test]
    fn url_hosts_without_path_or_port() {
        assert_eq!(url_host("https://ghcr.io"), "ghcr.io");
        assert_eq!(url_host("https://u@ghcr.io"), "ghcr.io");
        assert_eq!(url_host("https://[::1]"), "[::1]");
        assert_eq!(url_host("https://[::1"), "[::1");
        assert_eq!(url_host("https://h.example#frag"), "h.example");
    }

    #[test]
    fn globs_are_checked() {
        assert!(check_glob_chars("pipe*.ex-ample.net").is_ok());
        assert!(check_glob_chars("p?pe.example").is_ok());
        assert!(check_glob_chars("pi_pe*.example").is_err());
        assert!(check_glob_chars("a*..example").is_err());
        for bad in [
            "pi_pe*.example\n",
            "a*..b\n",
            "a.*.\n",
            ".\n",
            "*.example..\n",
        ] {
            assert!(AllowList::parse("l", bad).is_err(), "{bad:?}");
        }
        // A lone `*` covers every pattern; the first one counts.
        let l = AllowList::parse("l", "x.example\n*\n*\n").unwrap();
        assert_eq!(l.matcher.star, Some(1));
        let cov = |p: &str| l.covering(&Pattern::parse(p).unwrap()).map(|e| e.line);
        assert_eq!(cov("*.any.example"), Some(2));
        assert_eq!(l.covering_name(&n("y.example")).map(|e| e.line), Some(2));
        assert_eq!(cov("x.example"), Some(1));
    }

    #[test]
    fn parents_and_first() {
        assert_eq!(parents("a.b.c").collect::<Vec<_>>(), ["b.c", "c"]);
        assert_eq!(parents("c").count(), 0);
        assert_eq!(first(Some(3), Some(2)), Some(2));
        assert_eq!(first(Some(2), Some(3)), Some(2));
        assert_eq!(first(None, Some(3)), Some(3));
        assert_eq!(first(Some(4), None), Some(4));
        assert_eq!(first(None, None), None);
    }

    #[test]
    fn a_refused_glob_chunk_is_split_to_the_line_at_fault() {
        // One glob the engine refuses, among good ones: 100,000 `a*` compile to more than the
        // regex engine's NFA size limit (10 MiB in globset; 30,000 still fit, 60,000 do not).
        let huge = format!("{}.example\n", "a*".repeat(100_000));
        let mut text = String::from("ok1*.example\nok2*.example\nok3*.example\n");
        text.push_str(&huge);
        text.push_str("ok4*.example\n");
        let e = AllowList::parse("l", &text).unwrap_err();
        assert_eq!(e.line, 4, "{}", e.message);
        assert!(e.message.contains("too complex"), "{}", e.message);
        let l = AllowList::parse("l", "ok1*.example\nok2*.example\nok3*.example\n").unwrap();
        assert_eq!(l.matcher.globs.len(), 1);
        assert_eq!(l.covering_name(&n("ok3x.example")).map(|e| e.line), Some(3));
    }

    #[test]
    fn gaps_and_completeness() {
        let item = |covered: bool| Item {
            name: "x.example".into(),
            origin: Origin::Documented,
            covered_by: covered.then(|| Entry {
                line: 1,
                text: "x.example".into(),
                kind: EntryKind::Exact,
            }),
        };
        let c = CapabilityAudit {
            id: "c".into(),
            title: "c".into(),
            gating: true,
            items: vec![item(true), item(false), item(false)],
        };
        assert_eq!(c.gaps(), 2);
        let mut a = Audit {
            generated_by: String::new(),
            allowlist: String::new(),
            profile: String::new(),
            offline: true,
            resolved_at: String::new(),
            capabilities: vec![],
            gaps: 0,
            unresolved: vec![],
        };
        assert!(a.complete_and_covered());
        a.gaps = 1;
        assert!(!a.complete_and_covered());
        a.gaps = 0;
        a.unresolved.push("x.example".into());
        assert!(!a.complete_and_covered());
    }

    fn resolved(name: &str, target: Option<&str>, ok: bool) -> crate::firewall::Resolved {
        crate::firewall::Resolved {
            name: n(name),
            chain: target
                .map(|t| crate::firewall::Link {
                    name: n(name),
                    target: n(t),
                    ttl: 60,
                })
                .into_iter()
                .collect(),
            addresses: vec![],
            min_ttl: None,
            resolved: ok,
            skipped_names: 0,
        }
    }

    /// One capability documenting `github.com` and `*.actions.example`, with a probed name
    /// below the wildcard whose CNAME points at a CDN, and two names DNS did not resolve.
    fn model(offline: bool) -> Model {
        Model {
            generated_by: "runner-preflight test".into(),
            resolved_at: "2026-12-01T00:00:00Z".into(),
            profile: "github-com".into(),
            offline,
            dns_servers: vec![],
            ports: [443].into(),
            capabilities: vec![crate::firewall::CapabilityRules {
                id: "core".into(),
                title: "Core".into(),
                gating: true,
                patterns: vec![
                    Pattern::parse("github.com").unwrap(),
                    Pattern::parse("*.actions.example").unwrap(),
                ],
                probed: vec![n("broker.actions.example")],
                resolutions: vec![
                    resolved("broker.actions.example", Some("edge.cdn.example"), true),
                    resolved("z.example", None, false),
                    resolved("github.com", None, true),
                    resolved("a.example", None, false),
                    resolved("z.example", None, false),
                ],
            }],
            warnings: vec![],
            unresolved: vec![],
        }
    }

    #[test]
    fn an_online_audit_checks_documented_probed_and_cname_names() {
        let list = AllowList::parse("egress.txt", "github.com\n*.actions.example\n").unwrap();
        let a = audit(&model(false), &list);
        let items: Vec<(&str, Origin, Option<usize>)> = a.capabilities[0]
            .items
            .iter()
            .map(|i| {
                (
                    i.name.as_str(),
                    i.origin,
                    i.covered_by.as_ref().map(|e| e.line),
                )
            })
            .collect();
        assert_eq!(
            items,
            [
                ("github.com", Origin::Documented, Some(1)),
                ("*.actions.example", Origin::Documented, Some(2)),
                ("broker.actions.example", Origin::Probed, Some(2)),
                ("edge.cdn.example", Origin::CnameTarget, None),
            ]
        );
        assert_eq!(a.gaps, 1);
        // The unresolved names, sorted and once each; resolved names are not listed.
        assert_eq!(a.unresolved, ["a.example", "z.example"]);
        assert!(!a.complete_and_covered());
        assert_eq!(a.allowlist, "egress.txt");
        assert_eq!(a.profile, "github-com");
        assert_eq!(a.generated_by, "runner-preflight test");
        assert_eq!(a.resolved_at, "2026-12-01T00:00:00Z");
        assert!(!a.offline);
        let c = &a.capabilities[0];
        assert_eq!(
            (c.id.as_str(), c.title.as_str(), c.gating),
            ("core", "Core", true)
        );
    }

    #[test]
    fn an_offline_audit_checks_only_the_documented_patterns() {
        let list = AllowList::parse("l", "github.com\n").unwrap();
        let a = audit(&model(true), &list);
        let items: Vec<(&str, Origin)> = a.capabilities[0]
            .items
            .iter()
            .map(|i| (i.name.as_str(), i.origin))
            .collect();
        assert_eq!(
            items,
            [
                ("github.com", Origin::Documented),
                ("*.actions.example", Origin::Documented),
            ]
        );
        assert_eq!(a.gaps, 1);
        assert!(a.offline);
    }
}
