//! Profiles: declarative YAML describing which hosts a runner needs, grouped by capability.
//!
//! `raw` holds the serde shapes that mirror the file; [`load`] validates them into the typed
//! [`Profile`] the rest of the program uses. Nothing outside this module sees YAML types.

mod builtin;
mod raw;
mod yaml;

pub use builtin::{builtin, builtins, BUILTIN_NAMES};

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Pos, ProfileError};
use crate::model::text::printable;
use crate::model::{check_hostname, check_pattern, HttpSpec, Method};

/// A validated profile. Its texts (titles, descriptions, notes, sources) are outside text, kept
/// [`printable`] from here on, so `profile show`, `audit` and every report show them escaped.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    pub sources: Vec<String>,
    pub variables: Vec<Variable>,
    pub capabilities: Vec<Capability>,
    pub throughput: Throughput,
    /// What GitHub accepts of a runner's version (`runner_version:`), when the profile says.
    pub runner_version: Option<crate::model::runner::VersionPolicy>,
    /// `api_quota: true`: the run asks api.github.com/rate_limit for this address's quota.
    pub api_quota: bool,
    /// Where it came from: `builtin:dotcom` or a file path.
    pub origin: String,
}

/// Where and how throughput is measured (URLs may contain `${var}`).
#[derive(Debug, Clone)]
pub struct Throughput {
    /// The floor, kbit/s (GitHub documents 70 for github.com).
    pub min_kbps: u32,
    pub gating: bool,
    pub download: Option<String>,
    pub upload: Option<String>,
    pub note: Option<String>,
}

/// GitHub's documented minimum, kbit/s, up and down.
pub const DEFAULT_MIN_KBPS: u32 = 70;

#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    pub description: String,
    pub required: bool,
    pub default: Option<String>,
    pub allowed: Vec<String>,
}

/// When a capability or entry is part of the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Condition {
    /// Every variable must equal its value.
    pub equals: Vec<(String, String)>,
    /// Every variable must be set (non-empty).
    pub set: Vec<String>,
}

impl Condition {
    pub fn is_always(&self) -> bool {
        self.equals.is_empty() && self.set.is_empty()
    }

    pub fn holds(&self, vars: &BTreeMap<String, String>) -> bool {
        self.equals
            .iter()
            .all(|(k, v)| vars.get(k).is_some_and(|x| x == v))
            && self
                .set
                .iter()
                .all(|k| vars.get(k).is_some_and(|x| !x.is_empty()))
    }

    /// Human words: `connect = on and blob_storage set`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .equals
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        parts.extend(self.set.iter().map(|k| format!("{k} is set")));
        parts.join(" and ")
    }
}

#[derive(Debug, Clone)]
pub struct Capability {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub gating: bool,
    /// The runner's own .NET HTTP client makes these connections, so
    /// `GITHUB_ACTIONS_RUNNER_TLS_NO_VERIFY` turns their certificate checks off (actions/runner
    /// source, HttpClientHandlerFactory.cs:19, VssUtil.cs:38); node (toolkit), git and docker do
    /// not honour it.
    pub runner_client: bool,
    pub when: Condition,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// An exact host name (may contain `${var}`).
    Host(String),
    /// A documented wildcard, `*.domain` (may contain `${var}`).
    Pattern(String),
    /// A URL whose redirect chain is followed; every hop's host is probed.
    Redirect(Redirect),
}

/// A redirect probe: request `url` and follow where it leads (at most
/// the plan's `MAX_REDIRECT_HOPS` requests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// An http(s) URL (may contain `${var}`).
    pub url: String,
    /// `GET` with `Range: bytes=0-0` (what a download does, one byte of it), or `HEAD`.
    pub method: Method,
    /// Hosts the chain is known to reach (may contain `${var}`).
    pub expect: Vec<String>,
    /// The size of what the URL serves when the server does not say.
    pub size: Option<u64>,
    /// The runner's own update package.
    pub runner_package: bool,
    /// `runner_release: latest`: the latest runner release's package for this host is probed,
    /// `url` is the fallback.
    pub latest_runner: bool,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: EntryKind,
    /// Names to probe for a pattern (ranges already expanded; may contain `${var}`).
    pub probes: Vec<ProbeName>,
    pub ports: Option<Vec<u16>>,
    /// `https`, `http` or a `${var}` template; `None` means https.
    pub scheme: Option<String>,
    pub http: Option<HttpSpec>,
    pub note: Option<String>,
    pub when: Condition,
    /// Where the entry is in the file (for errors at plan time).
    pub pos: Option<Pos>,
}

#[derive(Debug, Clone)]
pub struct ProbeName {
    pub host: String,
    pub http: Option<HttpSpec>,
    pub ports: Option<Vec<u16>>,
}

impl Profile {
    pub fn capability(&self, id: &str) -> Option<&Capability> {
        self.capabilities.iter().find(|c| c.id == id)
    }

    pub fn variable(&self, name: &str) -> Option<&Variable> {
        self.variables.iter().find(|v| v.name == name)
    }
}

/// How many names a profile may name once its `{A..B}` ranges are expanded, unless the user
/// raises it (`--max-names`). A 26 KB profile of 300 entries of `h{0..999}` named 300,000:
/// 27.6 s, 4.7 GB and a 296 MB report (issue 22 row 4). 10,000 is ten times the largest
/// built-in profile's need and keeps a report well under what `explain` and `fleet` read back
/// (64 MiB; a name costs about 1 KB of JSON per port).
pub const DEFAULT_MAX_NAMES: usize = 10_000;

/// The most `--max-names` may raise the cap to: the report of a run must stay readable by
/// `explain` and `fleet` (64 MiB).
pub const MAX_MAX_NAMES: usize = 50_000;

/// Limits a profile is checked against while it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Names in all (hosts, probe names with their ranges expanded, redirect hosts).
    pub max_names: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_names: DEFAULT_MAX_NAMES,
        }
    }
}

/// Load a profile by built-in name or by path.
pub fn resolve(spec: &str) -> Result<Profile, crate::error::InputError> {
    resolve_with(spec, Limits::default())
}

/// [`resolve`] with the user's limits.
pub fn resolve_with(spec: &str, limits: Limits) -> Result<Profile, crate::error::InputError> {
    let parse = |file: &str, src: &str| parse_with(file, src, limits);
    if let Some(src) = builtin(spec) {
        return Ok(parse(&format!("builtin:{spec}"), src)?);
    }
    let looks_like_path = spec.contains('/') || spec.ends_with(".yaml") || spec.ends_with(".yml");
    match crate::textfile::read_text(
        std::path::Path::new(spec),
        crate::textfile::limit::PROFILE,
        "a profile",
    ) {
        Ok(src) => Ok(parse(spec, &src)?),
        Err(crate::textfile::ReadError::Io { source, .. })
            if !looks_like_path && source.kind() == std::io::ErrorKind::NotFound =>
        {
            Err(crate::error::InputError::usage(format!(
                "unknown profile `{spec}`:{} built-in profiles are {}; or give the path of a YAML file",
                crate::words::did_you_mean(spec, BUILTIN_NAMES.iter().copied())
                    .map(|s| format!(" did you mean `{s}`?"))
                    .unwrap_or_default(),
                BUILTIN_NAMES.join(", ")
            )))
        }
        Err(e) => Err(crate::error::InputError::usage(e.to_string())),
    }
}

/// Parse and validate profile text. `file` names it in errors. A leading byte-order mark is
/// ignored (positions count from after it, as the YAML parser counts them).
pub fn parse(file: &str, src: &str) -> Result<Profile, ProfileError> {
    parse_with(file, src, Limits::default())
}

/// [`parse`] with the user's limits.
pub fn parse_with(file: &str, src: &str, limits: Limits) -> Result<Profile, ProfileError> {
    let src = crate::textfile::strip_bom(src);
    let raw: raw::RawProfile =
        serde_saphyr::from_str_with_options(src, yaml::options()).map_err(|e| {
            let (pos, msg) = yaml::describe(&e);
            ProfileError::new(file, src, pos, msg)
        })?;
    Validator {
        file,
        src,
        limits,
        names: std::cell::Cell::new(0),
    }
    .profile(raw)
}

/// At most `max` characters of `s`, with `…` when cut (for user text echoed in messages).
pub(crate) fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((i, _)) => format!("{}…", &s[..i]),
    }
}

struct Validator<'a> {
    file: &'a str,
    src: &'a str,
    limits: Limits,
    /// Names counted so far (before any range is expanded).
    names: std::cell::Cell<usize>,
}

fn pos_of(loc: &serde_saphyr::Location) -> Option<Pos> {
    Some(Pos {
        line: loc.line(),
        column: loc.column(),
    })
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
}

impl Validator<'_> {
    fn err(&self, loc: &serde_saphyr::Location, msg: impl Into<String>) -> ProfileError {
        ProfileError::new(self.file, self.src, pos_of(loc), msg)
    }

    /// Count `n` more names, counted before they are expanded: past the cap, the error names
    /// the entry that crossed it.
    fn count_names(&self, n: u64, at: &serde_saphyr::Location) -> Result<(), ProfileError> {
        let total = (self.names.get() as u64).saturating_add(n);
        let max = self.limits.max_names;
        if total > max as u64 {
            let remedy = if max < MAX_MAX_NAMES {
                format!(
                    "raise the limit with --max-names (at most {}) or split the profile",
                    crate::words::thousands(MAX_MAX_NAMES as u64)
                )
            } else {
                "split the profile".to_string()
            };
            return Err(self.err(
                at,
                format!(
                    "the profile names more than {} hosts once `{{A..B}}` ranges are expanded ({} with this entry); {remedy}",
                    crate::words::thousands(max as u64),
                    crate::words::thousands(total),
                ),
            ));
        }
        self.names.set(total as usize);
        Ok(())
    }

    fn profile(&self, raw: raw::RawProfile) -> Result<Profile, ProfileError> {
        if raw.schema_version.value != 1 {
            return Err(self.err(
                &raw.schema_version.referenced,
                format!(
                    "schema_version {} is not supported: expected 1",
                    raw.schema_version.value
                ),
            ));
        }
        if !valid_id(&raw.name.value) {
            return Err(self.err(
                &raw.name.referenced,
                format!(
                    "profile name `{}` is not valid: expected lower-case letters, digits and `-`",
                    raw.name.value
                ),
            ));
        }
        let mut variables = Vec::new();
        for (name, v) in raw.variables.0 {
            let at = name.referenced;
            let name = name.value;
            if !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                || name.is_empty()
            {
                return Err(self.err(
                    &at,
                    format!(
                        "variable name `{}` is not valid: expected lower-case letters, digits and `_`",
                        clip(&name, 80).escape_debug()
                    ),
                ));
            }
            if let (Some(d), false) = (&v.default, v.allowed.is_empty()) {
                if !v.allowed.contains(&d.value) {
                    return Err(self.err(
                        &d.referenced,
                        format!(
                            "variable `{name}`: default `{}` is not one of the allowed values {}",
                            clip(&d.value, 80),
                            v.allowed.join(", ")
                        ),
                    ));
                }
            }
            variables.push(Variable {
                name,
                description: v.description.unwrap_or_default(),
                required: v.required,
                default: v.default.map(|d| d.value),
                allowed: v.allowed,
            });
        }
        let var_names: BTreeSet<String> = variables.iter().map(|v| v.name.clone()).collect();

        if raw.capabilities.value.is_empty() {
            return Err(self.err(
                &raw.capabilities.referenced,
                "a profile needs at least one capability under `capabilities:`",
            ));
        }
        let mut seen = BTreeMap::new();
        let mut capabilities = Vec::new();
        for cap in raw.capabilities.value {
            let id = cap.id.value.clone();
            if !valid_id(&id) {
                return Err(self.err(
                    &cap.id.referenced,
                    format!("capability id `{id}` is not valid: expected lower-case letters, digits and `-`"),
                ));
            }
            if let Some(first) = seen.insert(id.clone(), cap.id.referenced) {
                return Err(self.err(
                    &cap.id.referenced,
                    format!(
                        "duplicate capability id `{id}` (first defined at line {})",
                        first.line()
                    ),
                ));
            }
            let when = self.condition(cap.when, cap.when_set, &var_names)?;
            if cap.entries.is_empty() {
                return Err(self.err(
                    &cap.id.referenced,
                    format!("capability `{id}` has no entries"),
                ));
            }
            let mut entries = Vec::new();
            for e in cap.entries {
                entries.push(self.entry(e, &var_names)?);
            }
            capabilities.push(Capability {
                id,
                title: printable(&cap.title),
                description: cap.description.as_deref().map(printable),
                gating: cap.gating.0,
                runner_client: cap.runner_client.is_some_and(|f| f.0),
                when,
                entries,
            });
        }
        let throughput = match raw.throughput {
            None => Throughput {
                min_kbps: DEFAULT_MIN_KBPS,
                gating: true,
                download: None,
                upload: None,
                note: None,
            },
            Some(t) => {
                if let Some(m) = &t.min_kbps {
                    if m.value == 0 {
                        return Err(self.err(&m.referenced, "min_kbps must be more than 0"));
                    }
                }
                for u in [&t.download, &t.upload].into_iter().flatten() {
                    self.vars_in(u, &var_names)?;
                    let probe = substitute(&u.value, &|_| Some("placeholder.example".to_string()))
                        .map_err(|m| self.err(&u.referenced, m))?;
                    crate::model::parse_url(&probe).map_err(|m| self.err(&u.referenced, m))?;
                }
                Throughput {
                    min_kbps: t.min_kbps.map(|m| m.value).unwrap_or(DEFAULT_MIN_KBPS),
                    gating: t.gating.is_none_or(|g| g.0),
                    download: t.download.map(|u| u.value),
                    upload: t.upload.map(|u| u.value),
                    note: t.note.as_deref().map(printable),
                }
            }
        };
        let runner_version = match raw.runner_version {
            None => None,
            Some(rv) => {
                let rv = rv.value;
                let minimum = rv.minimum.value.parse().map_err(|_| {
                    self.err(
                        &rv.minimum.referenced,
                        format!(
                            "runner_version minimum `{}` is not a version X.Y.Z",
                            clip(&rv.minimum.value, 40).escape_debug()
                        ),
                    )
                })?;
                let max_days_behind =
                    match &rv.max_days_behind {
                        Some(d) if !(1..=365).contains(&d.value) => return Err(self.err(
                            &d.referenced,
                            "runner_version max_days_behind must be a number of days from 1 to 365",
                        )),
                        Some(d) => d.value,
                        None => crate::model::runner::MAX_DAYS_BEHIND,
                    };
                Some(crate::model::runner::VersionPolicy {
                    minimum,
                    source: rv.source,
                    max_days_behind,
                })
            }
        };
        Ok(Profile {
            throughput,
            runner_version,
            api_quota: raw.api_quota.is_some_and(|f| f.0),
            name: raw.name.value,
            title: printable(&raw.title),
            description: raw.description.as_deref().map(printable),
            sources: raw.sources.iter().map(|s| printable(s)).collect(),
            variables,
            capabilities,
            origin: self.file.to_string(),
        })
    }

    fn condition(
        &self,
        when: Option<serde_saphyr::Spanned<BTreeMap<String, String>>>,
        when_set: Option<serde_saphyr::Spanned<Vec<String>>>,
        vars: &BTreeSet<String>,
    ) -> Result<Condition, ProfileError> {
        let mut c = Condition::default();
        if let Some(w) = when {
            for (k, v) in w.value {
                if !vars.contains(&k) {
                    return Err(self.err(&w.referenced, unknown_var(&k, vars)));
                }
                c.equals.push((k, v));
            }
        }
        if let Some(w) = when_set {
            for k in w.value {
                if !vars.contains(&k) {
                    return Err(self.err(&w.referenced, unknown_var(&k, vars)));
                }
                c.set.push(k);
            }
        }
        Ok(c)
    }

    fn entry(
        &self,
        e: serde_saphyr::Spanned<raw::RawEntry>,
        vars: &BTreeSet<String>,
    ) -> Result<Entry, ProfileError> {
        let at_entry = e.referenced;
        let e = e.value;
        let when = self.condition(e.when, e.when_set, vars)?;
        if let Some(r) = e.redirect {
            return self.redirect_entry(
                r,
                e.host.is_some()
                    || e.pattern.is_some()
                    || e.probe.is_some()
                    || e.ports.is_some()
                    || e.scheme.is_some()
                    || e.http.is_some(),
                e.note,
                when,
                vars,
            );
        }
        let (kind, anchor) = match (e.host, e.pattern) {
            (Some(h), None) => {
                self.template(&h, vars, check_hostname)?;
                self.count_names(1, &h.referenced)?;
                (EntryKind::Host(h.value), h.referenced)
            }
            (None, Some(p)) => {
                self.template(&p, vars, check_pattern)?;
                (EntryKind::Pattern(p.value), p.referenced)
            }
            (Some(h), Some(_)) => {
                return Err(self.err(
                    &h.referenced,
                    "an entry has either `host:` (an exact name) or `pattern:` (a `*.` wildcard), not both",
                ))
            }
            (None, None) => {
                return Err(self.err(
                    &at_entry,
                    "an entry needs `host:` (an exact name) or `pattern:` (a `*.` wildcard)",
                ))
            }
        };
        if let Some(s) = &e.scheme {
            if !(s.value == "https" || s.value == "http" || s.value.contains("${")) {
                return Err(self.err(
                    &s.referenced,
                    format!(
                        "scheme `{}` is not valid: expected `https` or `http`",
                        s.value
                    ),
                ));
            }
            self.vars_in(s, vars)?;
        }
        let ports = e
            .ports
            .map(|p| self.ports(p.value, &p.referenced))
            .transpose()?;
        let http = e.http.map(|h| self.http(h, &anchor, vars)).transpose()?;
        let mut probes = Vec::new();
        if let Some(list) = e.probe {
            if matches!(kind, EntryKind::Host(_)) {
                return Err(self.err(
                    &anchor,
                    "`probe:` belongs to `pattern:` entries; a `host:` entry probes its own name",
                ));
            }
            let at = list.referenced;
            for item in list.value {
                let (host, http, ports) = match item {
                    raw::RawProbe::Name(n) => (n, None, None),
                    raw::RawProbe::Detailed(d) => (
                        d.host,
                        d.http.map(|h| self.http(h, &at, vars)).transpose()?,
                        d.ports.map(|p| self.ports(p, &at)).transpose()?,
                    ),
                };
                // Counted before expanding: a profile must not make us build millions of
                // names to find out there are too many.
                // (More than 1000 in one name is refused by `expand_ranges` after at most
                // 1001 names.)
                let n = count_ranges(&host);
                if n <= 1000 {
                    self.count_names(n, &at)?;
                }
                let expanded = expand_ranges(&host).map_err(|m| self.err(&at, m))?;
                for name in expanded {
                    let sp = serde_saphyr::Spanned::new(name.clone(), at, at);
                    self.template(&sp, vars, check_hostname)?;
                    if let EntryKind::Pattern(p) = &kind {
                        if !name.contains("${")
                            && !p.contains("${")
                            && !crate::model::host::pattern_covers(p, &name)
                        {
                            return Err(self.err(
                                &at,
                                format!("probe name `{name}` is not covered by the entry's pattern `{p}`"),
                            ));
                        }
                    }
                    probes.push(ProbeName {
                        host: name,
                        http: http.clone(),
                        ports: ports.clone(),
                    });
                }
            }
        }
        Ok(Entry {
            kind,
            probes,
            ports,
            scheme: e.scheme.map(|s| s.value),
            http,
            note: e.note.as_deref().map(printable),
            when,
            pos: pos_of(&anchor),
        })
    }

    fn redirect_entry(
        &self,
        r: serde_saphyr::Spanned<raw::RawRedirect>,
        mixed: bool,
        note: Option<String>,
        when: Condition,
        vars: &BTreeSet<String>,
    ) -> Result<Entry, ProfileError> {
        let at = r.referenced;
        let r = r.value;
        if mixed {
            return Err(self.err(
                &at,
                "a `redirect:` entry stands alone: the hosts it meets are probed as they come (no `host:`, `pattern:`, `probe:`, `ports:`, `scheme:` or `http:` beside it)",
            ));
        }
        self.vars_in(&r.url, vars)?;
        let hosts = 1 + r.expect.as_ref().map_or(0, |l| l.value.len());
        self.count_names(hosts as u64, &at)?;
        let filled = substitute(&r.url.value, &|_| Some("placeholder.example".to_string()))
            .map_err(|m| self.err(&r.url.referenced, m))?;
        crate::model::parse_url(&filled).map_err(|m| self.err(&r.url.referenced, m))?;
        let method = match r.method.as_ref().map(|m| m.value.as_str()) {
            None | Some("GET") => Method::Get,
            Some("HEAD") => Method::Head,
            Some(other) => {
                let at = r.method.as_ref().map_or(at, |m| m.referenced);
                return Err(self.err(
                    &at,
                    format!("redirect method `{}` is not supported: expected GET (with `Range: bytes=0-0`) or HEAD", clip(other, 40)),
                ));
            }
        };
        let mut expect = Vec::new();
        if let Some(list) = r.expect {
            for h in list.value {
                let sp = serde_saphyr::Spanned::new(h.clone(), list.referenced, list.referenced);
                self.template(&sp, vars, check_hostname)?;
                expect.push(h);
            }
        }
        if let Some(sz) = &r.size {
            if sz.value == 0 {
                return Err(self.err(&sz.referenced, "redirect size must be more than 0 bytes"));
            }
        }
        let runner_package = r.runner_package.is_some_and(|f| f.0);
        let latest_runner = match &r.runner_release {
            None => false,
            Some(v) if v.value == "latest" => {
                if !runner_package {
                    return Err(self.err(
                        &v.referenced,
                        "`runner_release: latest` names the runner's own package: it needs `runner_package: true` beside it",
                    ));
                }
                true
            }
            Some(v) => {
                return Err(self.err(
                    &v.referenced,
                    format!(
                        "runner_release `{}` is not supported: the only value is `latest` (the pinned `url` is the fallback)",
                        clip(&v.value, 40).escape_debug()
                    ),
                ))
            }
        };
        Ok(Entry {
            kind: EntryKind::Redirect(Redirect {
                url: r.url.value,
                method,
                expect,
                size: r.size.map(|s| s.value),
                runner_package,
                latest_runner,
            }),
            probes: Vec::new(),
            ports: None,
            scheme: None,
            http: None,
            note: note.as_deref().map(printable),
            when,
            pos: pos_of(&at),
        })
    }

    fn ports(
        &self,
        v: Vec<raw::Port>,
        at: &serde_saphyr::Location,
    ) -> Result<Vec<u16>, ProfileError> {
        let v: Vec<u16> = v.into_iter().map(|p| p.0).collect();
        if v.is_empty() || v.contains(&0) {
            return Err(self.err(
                at,
                "ports must be a non-empty list of numbers from 1 to 65535",
            ));
        }
        let mut out: Vec<u16> = Vec::new();
        for p in v {
            if !out.contains(&p) {
                out.push(p);
            }
        }
        Ok(out)
    }

    fn http(
        &self,
        h: raw::RawHttp,
        at: &serde_saphyr::Location,
        vars: &BTreeSet<String>,
    ) -> Result<HttpSpec, ProfileError> {
        let path_at = h.path.referenced;
        self.vars_in(&h.path, vars)?;
        // Checked with each `${var}` filled in by a harmless placeholder; the plan checks it
        // again with the real values.
        let probe = substitute(&h.path.value, &|_| Some("x".to_string()))
            .map_err(|m| self.err(&path_at, m))?;
        check_http_path(&probe).map_err(|m| self.err(&path_at, m))?;
        if let Some(hd) = &h.expect_header {
            let ok = !hd.is_empty()
                && hd
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !ok {
                return Err(self.err(
                    at,
                    format!("`{}` is not an HTTP header name", hd.escape_debug()),
                ));
            }
        }
        let method = match h.method.as_deref() {
            None | Some("GET") => Method::Get,
            Some("HEAD") => Method::Head,
            Some("POST") => Method::Post,
            Some(other) => {
                return Err(self.err(
                    at,
                    format!("http method `{other}` is not supported: expected GET, HEAD or POST"),
                ))
            }
        };
        if let Some(t) = &h.timeout {
            if !(1..=600).contains(&t.value) {
                return Err(self.err(
                    &t.referenced,
                    "http timeout must be a whole number of seconds from 1 to 600",
                ));
            }
        }
        Ok(HttpSpec {
            method,
            path: h.path.value,
            expect_header: h.expect_header.map(|s| s.to_ascii_lowercase()),
            first_byte: false,
            timeout_secs: h.timeout.map(|t| t.value),
        })
    }

    fn vars_in(
        &self,
        s: &serde_saphyr::Spanned<String>,
        vars: &BTreeSet<String>,
    ) -> Result<(), ProfileError> {
        for name in template_vars(&s.value).map_err(|m| self.err(&s.referenced, m))? {
            if !vars.contains(&name) {
                return Err(self.err(&s.referenced, unknown_var(&name, vars)));
            }
        }
        Ok(())
    }

    /// Check a host/pattern template: variables declared, and the syntax valid once they are
    /// filled with a placeholder label.
    fn template(
        &self,
        s: &serde_saphyr::Spanned<String>,
        vars: &BTreeSet<String>,
        check: fn(&str) -> Result<(), String>,
    ) -> Result<(), ProfileError> {
        self.vars_in(s, vars)?;
        let probe = substitute(&s.value, &|_| Some("placeholder.example".to_string()))
            .map_err(|m| self.err(&s.referenced, m))?;
        check(&probe).map_err(|m| self.err(&s.referenced, m))
    }
}

/// An HTTP check's path must be a valid origin-form request target (`/path?query`, RFC 9112
/// 3.2.1), accepted by the same URI parser the HTTP probe uses.
pub fn check_http_path(path: &str) -> Result<(), String> {
    let shown = clip(path, 80);
    if !path.starts_with('/') || path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "http path `{}` must start with `/` and contain no spaces",
            shown.escape_debug()
        ));
    }
    if let Some(i) = path.find('#') {
        return Err(format!(
            "http path `{}`: `#` at character {} starts a fragment, which is never sent; percent-encode it as %23",
            shown.escape_debug(),
            path[..i].chars().count() + 1
        ));
    }
    let valid = |p: &str| {
        p.parse::<hyper::Uri>()
            .is_ok_and(|u| u.scheme().is_none() && u.authority().is_none())
    };
    if valid(path) {
        return Ok(());
    }
    // The first character the parser refuses: the shortest invalid prefix ends with it.
    let ends: Vec<usize> = path.char_indices().map(|(i, c)| i + c.len_utf8()).collect();
    let n = ends.partition_point(|&end| valid(&path[..end]));
    let what = match ends.get(n) {
        Some(&end) => {
            let c = path[..end].chars().next_back().unwrap_or('?');
            let mut utf8 = [0u8; 4];
            let encoded: String = c
                .encode_utf8(&mut utf8)
                .bytes()
                .map(|b| format!("%{b:02X}"))
                .collect();
            format!(
                "character `{}` at position {} is not allowed in a request target; percent-encode it as {encoded}",
                c.escape_debug(),
                n + 1
            )
        }
        None => "it is not a valid request target".to_string(),
    };
    Err(format!("http path `{}`: {what}", shown.escape_debug()))
}

fn unknown_var(name: &str, vars: &BTreeSet<String>) -> String {
    if vars.is_empty() {
        format!("unknown variable `{name}`: this profile declares no variables (add it under `variables:`)")
    } else {
        format!(
            "unknown variable `{name}`: declared variables are {}",
            vars.iter().cloned().collect::<Vec<_>>().join(", ")
        )
    }
}

/// Names of the `${var}` references in a template.
pub fn template_vars(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        let Some(j) = after.find('}') else {
            return Err(format!("unclosed `${{` in `{s}`"));
        };
        out.push(after[..j].to_string());
        rest = &after[j + 1..];
    }
    Ok(out)
}

/// Replace every `${var}` using `lookup`; a missing value is an error naming the variable.
pub fn substitute(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find('}') else {
            return Err(format!("unclosed `${{` in `{s}`"));
        };
        let name = &after[..j];
        match lookup(name) {
            Some(v) => out.push_str(&v),
            None => return Err(format!("variable `{name}` has no value")),
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// How many names `s` expands to (the product of its `{A..B}` ranges' sizes), without
/// expanding it. A range that is not valid counts 1: [`expand_ranges`] words the error.
pub fn count_ranges(s: &str) -> u64 {
    let bytes = s.as_bytes();
    let mut count: u64 = 1;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' && (i == 0 || bytes[i - 1] != b'$') {
            let Some(len) = s[i..].find('}') else {
                break;
            };
            let inner = &s[i + 1..i + len];
            if let Some((a, b)) = inner.split_once("..") {
                if let (Ok(a), Ok(b)) = (a.parse::<u64>(), b.parse::<u64>()) {
                    if a <= b {
                        count = count.saturating_mul(b - a + 1);
                    }
                }
            }
            i += len + 1;
        } else {
            i += 1;
        }
    }
    count
}

/// Expand numeric ranges `{A..B}` (at most 1000 names in all).
pub fn expand_ranges(s: &str) -> Result<Vec<String>, String> {
    const MAX_RANGES: usize = 4;
    let bytes = s.as_bytes();
    let ranges = (0..bytes.len())
        .filter(|&i| bytes[i] == b'{' && (i == 0 || bytes[i - 1] != b'$'))
        .count();
    if ranges > MAX_RANGES {
        return Err(format!(
            "`{}…` has {ranges} `{{A..B}}` ranges; at most {MAX_RANGES} are allowed in one name",
            s.chars().take(40).collect::<String>()
        ));
    }
    // Find a `{` that is not part of `${`.
    let mut start = None;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'{' && (i == 0 || bytes[i - 1] != b'$') {
            start = Some(i);
            break;
        }
    }
    let Some(i) = start else {
        return Ok(vec![s.to_string()]);
    };
    let Some(len) = s[i..].find('}') else {
        return Err(format!("unclosed `{{` in `{s}`"));
    };
    let inner = &s[i + 1..i + len];
    let bad = || {
        format!("`{{{inner}}}` in `{s}` is not a range: expected `{{A..B}}` with numbers A <= B")
    };
    let (a, b) = inner.split_once("..").ok_or_else(bad)?;
    let (a, b): (u32, u32) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
    if a > b || b - a >= 1000 {
        return Err(bad());
    }
    let mut out = Vec::new();
    for n in a..=b {
        let head = format!("{}{n}", &s[..i]);
        for tail in expand_ranges(&s[i + len + 1..])? {
            out.push(format!("{head}{tail}"));
            if out.len() > 1000 {
                return Err(format!("`{s}` expands to more than 1000 names"));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
