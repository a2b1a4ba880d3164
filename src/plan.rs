//! Plan: a profile with its variables filled in, conditions applied and wildcards expanded into
//! the concrete names and ports to probe.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::InputError;
pub use crate::error::{PlanError, Selection};
use crate::model::host::{check_hostname, check_pattern};
use crate::model::{HttpSpec, Method};
use crate::profile::{substitute, EntryKind, Profile};

/// At most this many requests along a redirect chain, the first one included.
pub const MAX_REDIRECT_HOPS: usize = 5;

/// What the user chose on top of the profile.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// `--var name=value`.
    pub vars: Vec<(String, String)>,
    /// `--capability a,b`: probe only these (empty: all).
    pub only: Vec<String>,
    /// `--require a,b`: these gate, whatever the profile says.
    pub require: Vec<String>,
}

impl PlanOptions {
    /// Options from flags; empty capability ids (`--capability a,,b`) are dropped.
    pub fn new(vars: &[(String, String)], only: &[String], require: &[String]) -> PlanOptions {
        let ids = |v: &[String]| v.iter().filter(|c| !c.is_empty()).cloned().collect();
        PlanOptions {
            vars: vars.to_vec(),
            only: ids(only),
            require: ids(require),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub profile_name: String,
    pub profile_title: String,
    pub profile_origin: String,
    /// Every variable with its effective value (defaults applied).
    pub variables: BTreeMap<String, String>,
    pub capabilities: Vec<PlannedCapability>,
    /// Capabilities of the profile left out, with the reason.
    pub inactive: Vec<(String, String)>,
    /// Throughput endpoints with variables filled in.
    pub throughput: PlannedThroughput,
    /// What GitHub accepts of a runner's version, when the profile says.
    pub runner_version: Option<crate::model::runner::VersionPolicy>,
    /// Ask api.github.com for the unauthenticated API quota (the profile's `api_quota`).
    pub api_quota: bool,
    /// The built-in container-jobs check (`None` when `--capability` leaves it out).
    pub container_jobs: Option<PlannedContainer>,
}

/// The id of the built-in container network check, which no profile declares: `--require
/// container-jobs` makes it gate, `--capability container-jobs` selects it.
pub const CONTAINER_JOBS: &str = "container-jobs";

/// The container network check as planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedContainer {
    /// Required (`--require` or `--capability` names it): a FAIL fails the run.
    pub gating: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedThroughput {
    pub min_kbps: u32,
    pub gating: bool,
    pub download: Option<String>,
    pub upload: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PlannedCapability {
    pub id: String,
    pub title: String,
    pub gating: bool,
    /// Served by the runner's own HTTP client (`GITHUB_ACTIONS_RUNNER_TLS_NO_VERIFY` applies).
    pub runner_client: bool,
    pub entries: Vec<PlannedEntry>,
}

#[derive(Debug, Clone)]
pub struct PlannedEntry {
    /// The documented name or wildcard pattern (a redirect probe: its first host).
    pub pattern: String,
    pub wildcard: bool,
    pub note: Option<String>,
    pub targets: Vec<Target>,
    /// A redirect probe: its hops are found and probed as they come (`targets` is empty).
    pub redirect: Option<PlannedRedirect>,
    /// Where the entry comes from when it is not the profile's.
    pub origin: Option<EntryOrigin>,
}

/// Where a planned entry comes from, when not from the profile.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EntryOrigin {
    /// A URL in the runner's own settings (`.runner`, `.credentials`).
    RunnerFile { file: String, field: String },
}

/// A redirect probe with its variables filled in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlannedRedirect {
    pub url: String,
    /// GET (with `Range: bytes=0-0`) or HEAD.
    pub method: Method,
    /// Hosts the profile says the chain reaches.
    pub expect: Vec<String>,
    /// The size the profile states for what the URL serves.
    pub size: Option<u64>,
    /// The runner's own update package.
    pub runner_package: bool,
    /// Probe the latest runner release's package for the run's platform; `url` is the fallback.
    pub latest_runner: bool,
    /// The fingerprint header of each host the profile gives one (host → header name): every
    /// hop to such a host is checked for it.
    pub fingerprints: BTreeMap<String, String>,
}

impl PlannedRedirect {
    /// The first host of the chain.
    pub fn first_host(&self) -> Option<String> {
        crate::model::parse_url(&self.url).ok().map(|u| u.host)
    }

    /// The first host and the expected ones, each once: what firewall rules need without
    /// network.
    pub fn known_hosts(&self) -> Vec<String> {
        let mut out: Vec<String> = self.first_host().into_iter().collect();
        for h in &self.expect {
            if !out.contains(h) {
                out.push(h.clone());
            }
        }
        out
    }
}

/// One name to probe and what to do with it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    pub host: String,
    pub endpoints: Vec<Endpoint>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP, TLS handshake, then HTTP over TLS.
    Https,
    /// TCP, then plain HTTP.
    Http,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub port: u16,
    pub proto: Proto,
    pub http: Option<HttpSpec>,
}

impl Plan {
    /// Every distinct host name in the plan, in first-seen order (a redirect probe's first
    /// host and the hosts the profile says it reaches included).
    pub fn hosts(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for c in &self.capabilities {
            for e in &c.entries {
                let redirect_hosts = e.redirect.iter().flat_map(|r| r.known_hosts());
                for h in e
                    .targets
                    .iter()
                    .map(|t| t.host.clone())
                    .chain(redirect_hosts)
                {
                    if seen.insert(h.clone()) {
                        out.push(h);
                    }
                }
            }
        }
        out
    }

    /// Every distinct redirect probe, in first-seen order.
    pub fn redirects(&self) -> Vec<PlannedRedirect> {
        let mut out: Vec<PlannedRedirect> = Vec::new();
        for r in self
            .capabilities
            .iter()
            .flat_map(|c| &c.entries)
            .filter_map(|e| e.redirect.as_ref())
        {
            if !out.contains(r) {
                out.push(r.clone());
            }
        }
        out
    }

    /// Every distinct target (host + endpoints), in first-seen order.
    pub fn targets(&self) -> Vec<Target> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for c in &self.capabilities {
            for e in &c.entries {
                for t in &e.targets {
                    if seen.insert(t.clone()) {
                        out.push(t.clone());
                    }
                }
            }
        }
        out
    }
}

/// A URL from the runner's own settings (`.runner`, `.credentials`).
#[derive(Debug, Clone)]
pub struct ConfiguredUrl<'a> {
    pub file: &'a str,
    pub field: &'a str,
    pub url: &'a crate::model::HttpUrl,
}

/// The check of a URL the runner is configured with: the service's own health path with its
/// fingerprint (runner-network-facts.md, "Health paths with fingerprints"), else the check the
/// plan already gives the host, else TLS only.
fn configured_check(c: &ConfiguredUrl, plan: &Plan) -> Option<HttpSpec> {
    let base = c.url.path.split('?').next().unwrap_or("/");
    let dir = if base.ends_with('/') {
        base.to_string()
    } else {
        format!("{base}/")
    };
    let spec = |path: String, header: &str| HttpSpec {
        method: Method::Get,
        path,
        expect_header: Some(header.to_string()),
        first_byte: false,
        timeout_secs: None,
    };
    match c.field {
        // The Actions service the runner is registered with: `{ServerUrl}_apis/connectionData`.
        "ServerUrl" => return Some(spec(format!("{dir}_apis/connectionData"), "x-vss-e2eid")),
        // The broker: `/health`.
        "ServerUrlV2" => return Some(spec(format!("{dir}health"), "x-github-request-id")),
        // The token service: its `_apis/health` beside the token endpoint.
        "authorizationUrl" => {
            if let Some(i) = base.find("/_apis/") {
                return Some(spec(format!("{}/_apis/health", &base[..i]), "x-vss-e2eid"));
            }
        }
        _ => {}
    }
    plan.targets()
        .into_iter()
        .filter(|t| t.host == c.url.host)
        .flat_map(|t| t.endpoints)
        .find_map(|e| {
            e.http
                .filter(|h| h.expect_header.is_some() && h.method == Method::Get)
        })
}

/// Add the hosts the runner is configured with to the `essential` capability (else the first
/// gating one), each as its own entry marked with the file and field it came from. Nothing is
/// added when that capability is not part of the plan (`--capability`).
pub fn add_configured(plan: &mut Plan, urls: &[ConfiguredUrl]) {
    let Some(ci) = plan
        .capabilities
        .iter()
        .position(|c| c.id == "essential")
        .or_else(|| plan.capabilities.iter().position(|c| c.gating))
    else {
        return;
    };
    let mut added = Vec::new();
    for c in urls {
        let http = configured_check(c, plan);
        let target = Target {
            host: c.url.host.clone(),
            endpoints: vec![Endpoint {
                port: c.url.port,
                proto: if c.url.tls { Proto::Https } else { Proto::Http },
                http,
            }],
        };
        let known = plan.capabilities[ci]
            .entries
            .iter()
            .chain(added.iter())
            .any(|e: &PlannedEntry| e.targets.contains(&target));
        if known {
            continue;
        }
        added.push(PlannedEntry {
            pattern: c.url.host.clone(),
            wildcard: false,
            note: Some(format!(
                "from {} ({}): a host this runner is configured for",
                c.file, c.field
            )),
            targets: vec![target],
            redirect: None,
            origin: Some(EntryOrigin::RunnerFile {
                file: c.file.to_string(),
                field: c.field.to_string(),
            }),
        });
    }
    plan.capabilities[ci].entries.extend(added);
}

/// Build the plan. Errors are the user's (exit 2): unknown or missing variables, values not
/// allowed, unknown capabilities, names that are not host names once filled in.
pub fn build(profile: &Profile, opts: &PlanOptions) -> Result<Plan, InputError> {
    let vars = effective_vars(profile, &opts.vars)?;
    let valid_ids = || {
        let mut ids: Vec<String> = profile.capabilities.iter().map(|c| c.id.clone()).collect();
        if !ids.iter().any(|i| i == CONTAINER_JOBS) {
            ids.push(CONTAINER_JOBS.to_string());
        }
        ids
    };
    for (selection, list) in [
        (Selection::Only, &opts.only),
        (Selection::Require, &opts.require),
    ] {
        for id in list {
            if id == CONTAINER_JOBS && profile.capability(id).is_none() {
                continue;
            }
            let Some(cap) = profile.capability(id) else {
                return Err(PlanError::UnknownCapability {
                    selection,
                    id: id.clone(),
                    profile: profile.name.clone(),
                    valid: valid_ids(),
                }
                .into());
            };
            if !cap.when.holds(&vars) {
                return Err(PlanError::InactiveCapability {
                    selection,
                    id: id.clone(),
                    condition: cap.when.describe(),
                }
                .into());
            }
        }
    }
    let lookup = |name: &str| vars.get(name).cloned();
    let fingerprints = fingerprints(profile, &lookup);
    let mut capabilities = Vec::new();
    let mut inactive = Vec::new();
    for cap in &profile.capabilities {
        if !cap.when.holds(&vars) {
            inactive.push((
                cap.id.clone(),
                format!("applies only when {}", cap.when.describe()),
            ));
            continue;
        }
        // A capability the user requires is always probed, even when --capability leaves it out:
        // dropping a gate silently would pass a run that should fail.
        if !opts.only.is_empty() && !opts.only.contains(&cap.id) && !opts.require.contains(&cap.id)
        {
            inactive.push((cap.id.clone(), "not selected (--capability)".to_string()));
            continue;
        }
        let mut entries = Vec::new();
        for entry in &cap.entries {
            if !entry.when.holds(&vars) {
                continue;
            }
            let fill = |s: &str| substitute(s, &lookup).map_err(InputError::usage);
            let scheme = match &entry.scheme {
                Some(s) => fill(s)?,
                None => "https".to_string(),
            };
            let proto_default = match scheme.as_str() {
                "https" => Proto::Https,
                "http" => Proto::Http,
                other => {
                    return Err(InputError::usage(format!(
                        "capability `{}`: scheme `{other}` is not valid: expected https or http",
                        cap.id
                    )))
                }
            };
            let endpoints = |ports: &Option<Vec<u16>>,
                             http: &Option<HttpSpec>|
             -> Result<Vec<Endpoint>, InputError> {
                let ports = ports.clone().unwrap_or_else(|| match proto_default {
                    Proto::Https => vec![443],
                    Proto::Http => vec![80],
                });
                let http = match http {
                    Some(h) => {
                        let path = fill(&h.path)?;
                        crate::profile::check_http_path(&path).map_err(|m| {
                            InputError::usage(format!(
                                "capability `{}`: {m} (from the profile with variables filled in)",
                                cap.id
                            ))
                        })?;
                        Some(HttpSpec { path, ..h.clone() })
                    }
                    None => None,
                };
                Ok(ports
                    .into_iter()
                    .map(|port| Endpoint {
                        port,
                        proto: if port == 80 {
                            Proto::Http
                        } else {
                            proto_default
                        },
                        http: http.clone(),
                    })
                    .collect())
            };
            let check_name = |name: &str, what: &str| -> Result<(), InputError> {
                check_hostname(name).map_err(|m| {
                    InputError::usage(format!(
                        "capability `{}`: {what} `{}` (from the profile with variables filled in) is not valid: {m}",
                        cap.id,
                        crate::model::text::clip(name).escape_debug()
                    ))
                })
            };
            let planned = match &entry.kind {
                EntryKind::Host(h) => {
                    let host = fill(h)?;
                    check_name(&host, "host")?;
                    PlannedEntry {
                        pattern: host.clone(),
                        wildcard: false,
                        note: entry.note.clone(),
                        targets: vec![Target {
                            host,
                            endpoints: endpoints(&entry.ports, &entry.http)?,
                        }],
                        redirect: None,
                        origin: None,
                    }
                }
                EntryKind::Pattern(p) => {
                    let pattern = fill(p)?;
                    check_pattern(&pattern).map_err(|m| {
                        InputError::usage(format!("capability `{}`: pattern {m}", cap.id))
                    })?;
                    let mut targets = Vec::new();
                    for probe in &entry.probes {
                        let host = fill(&probe.host)?;
                        check_name(&host, "probe name")?;
                        let ports = probe.ports.clone().or_else(|| entry.ports.clone());
                        let http = probe.http.clone().or_else(|| entry.http.clone());
                        targets.push(Target {
                            host,
                            endpoints: endpoints(&ports, &http)?,
                        });
                    }
                    PlannedEntry {
                        pattern,
                        wildcard: true,
                        note: entry.note.clone(),
                        targets,
                        redirect: None,
                        origin: None,
                    }
                }
                EntryKind::Redirect(r) => {
                    let url = fill(&r.url)?;
                    let first = crate::model::parse_url(&url).map_err(|e| {
                        InputError::usage(format!(
                            "capability `{}`: redirect URL {e} (from the profile with variables filled in)",
                            cap.id
                        ))
                    })?;
                    let mut expect = Vec::new();
                    for h in &r.expect {
                        let h = fill(h)?;
                        check_name(&h, "redirect host")?;
                        expect.push(h);
                    }
                    PlannedEntry {
                        pattern: first.host.clone(),
                        wildcard: false,
                        note: entry.note.clone(),
                        targets: Vec::new(),
                        redirect: Some(PlannedRedirect {
                            url,
                            method: r.method,
                            expect,
                            size: r.size,
                            runner_package: r.runner_package,
                            latest_runner: r.latest_runner,
                            fingerprints: fingerprints.clone(),
                        }),
                        origin: None,
                    }
                }
            };
            entries.push(planned);
        }
        if entries.is_empty() {
            inactive.push((
                cap.id.clone(),
                "no entry applies with these variables".to_string(),
            ));
            continue;
        }
        capabilities.push(PlannedCapability {
            id: cap.id.clone(),
            title: cap.title.clone(),
            // A capability named with --capability is what this run is about: judged as
            // required, so `--capability lfs` with lfs failing exits 1 (issue 23 row 10).
            gating: cap.gating || opts.require.contains(&cap.id) || opts.only.contains(&cap.id),
            runner_client: cap.runner_client,
            entries,
        });
    }
    let fill = |s: &Option<String>| -> Result<Option<String>, InputError> {
        s.as_ref()
            .map(|u| substitute(u, &lookup).map_err(InputError::usage))
            .transpose()
    };
    let throughput = PlannedThroughput {
        min_kbps: profile.throughput.min_kbps,
        gating: profile.throughput.gating,
        download: fill(&profile.throughput.download)?,
        upload: fill(&profile.throughput.upload)?,
        note: profile.throughput.note.clone(),
    };
    // Informational by default; a profile that declares its own `container-jobs` keeps it.
    let named = |id: &str| opts.only.iter().chain(&opts.require).any(|c| c == id);
    let container_jobs = (profile.capability(CONTAINER_JOBS).is_none()
        && (opts.only.is_empty() || named(CONTAINER_JOBS)))
    .then(|| PlannedContainer {
        gating: named(CONTAINER_JOBS),
    });
    Ok(Plan {
        container_jobs,
        throughput,
        runner_version: profile.runner_version.clone(),
        api_quota: profile.api_quota,
        profile_name: profile.name.clone(),
        profile_title: profile.title.clone(),
        profile_origin: profile.origin.clone(),
        variables: vars,
        capabilities,
        inactive,
    })
}

/// The fingerprint header of every exact name the profile checks with one (the first one
/// given wins), for the hosts a redirect meets.
fn fingerprints(
    profile: &Profile,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in profile.capabilities.iter().flat_map(|c| &c.entries) {
        let named: Vec<(&String, &Option<HttpSpec>)> = match &e.kind {
            EntryKind::Host(h) => vec![(h, &e.http)],
            EntryKind::Pattern(_) => e
                .probes
                .iter()
                .map(|p| (&p.host, if p.http.is_some() { &p.http } else { &e.http }))
                .collect(),
            EntryKind::Redirect(_) => vec![],
        };
        for (host, http) in named {
            let (Ok(host), Some(header)) = (
                substitute(host, lookup),
                http.as_ref().and_then(|h| h.expect_header.clone()),
            ) else {
                continue;
            };
            out.entry(host).or_insert(header);
        }
    }
    out
}

fn effective_vars(
    profile: &Profile,
    given: &[(String, String)],
) -> Result<BTreeMap<String, String>, InputError> {
    let mut vars = BTreeMap::new();
    for (i, (k, v)) in given.iter().enumerate() {
        // The last one silently winning would probe a host the user may not have meant.
        if let Some((_, first)) = given[..i].iter().find(|(n, _)| n == k) {
            return Err(PlanError::DuplicateVar {
                name: k.clone(),
                first: first.clone(),
                second: v.clone(),
            }
            .into());
        }
        let Some(decl) = profile.variable(k) else {
            return Err(PlanError::UnknownVariable {
                name: k.clone(),
                profile: profile.name.clone(),
                known: profile.variables.iter().map(|v| v.name.clone()).collect(),
            }
            .into());
        };
        if !decl.allowed.is_empty() && !decl.allowed.contains(v) {
            return Err(PlanError::NotAllowed {
                name: k.clone(),
                value: v.clone(),
                allowed: decl.allowed.clone(),
            }
            .into());
        }
        if v.chars().any(|c| c.is_control() || c == '$') {
            return Err(PlanError::BadValue { name: k.clone() }.into());
        }
        vars.insert(k.clone(), v.clone());
    }
    for decl in &profile.variables {
        if vars.contains_key(&decl.name) {
            continue;
        }
        if let Some(d) = &decl.default {
            vars.insert(decl.name.clone(), d.clone());
        } else if decl.required {
            let what = if decl.description.is_empty() {
                String::new()
            } else {
                format!(" ({})", decl.description)
            };
            return Err(PlanError::MissingVariable {
                name: decl.name.clone(),
                profile: profile.name.clone(),
                description: what,
            }
            .into());
        }
    }
    Ok(vars)
}

/// Parse `name=value`.
pub fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_variable_given_twice_is_an_error() {
        let p = crate::profile::resolve("ghes").unwrap();
        let opts = PlanOptions::new(
            &vars(&[("hostname", "a.example"), ("hostname", "b.example")]),
            &[],
            &[],
        );
        let e = build(&p, &opts).unwrap_err();
        assert!(
            matches!(e, InputError::Plan(PlanError::DuplicateVar { ref name, .. }) if name == "hostname")
        );
        assert_eq!(
            e.to_string(),
            "--var hostname given twice (`a.example` and `b.example`): give each variable once"
        );
        // Once each is fine.
        let opts = PlanOptions::new(&vars(&[("hostname", "a.example")]), &[], &[]);
        assert!(build(&p, &opts).is_ok());
    }

    #[test]
    fn container_jobs_is_informational_unless_required_or_selected() {
        let p = crate::profile::resolve("dotcom").unwrap();
        let plan = |only: &[&str], require: &[&str]| {
            let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
            build(&p, &PlanOptions::new(&[], &ids(only), &ids(require)))
        };
        let c = |only, require| plan(only, require).unwrap().container_jobs;
        assert_eq!(c(&[], &[]), Some(PlannedContainer { gating: false }));
        assert_eq!(
            c(&[], &["container-jobs"]),
            Some(PlannedContainer { gating: true })
        );
        // --capability names what this run is about: the check alone, required.
        let only = plan(&["container-jobs"], &[]).unwrap();
        assert_eq!(only.container_jobs, Some(PlannedContainer { gating: true }));
        assert!(only.capabilities.is_empty());
        // Another capability selected leaves it out.
        let essential = &p.capabilities[0].id;
        assert_eq!(c(&[essential.as_str()], &[]), None);
        // An unknown id still names the valid ones, container-jobs among them.
        let e = plan(&[], &["container-job"]).unwrap_err().to_string();
        assert!(e.contains("container-jobs"), "{e}");
    }

    #[test]
    fn a_variable_filled_into_an_http_path_is_checked() {
        let src = "schema_version: 1\nname: t\ntitle: T\nvariables:\n  q:\n    default: ok\ncapabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - host: a.example\n        http: { path: \"/x?q=${q}\" }\n";
        let p = crate::profile::parse("t.yaml", src).unwrap();
        assert!(build(&p, &PlanOptions::default()).is_ok());
        let opts = PlanOptions::new(&vars(&[("q", "<x>")]), &[], &[]);
        let e = build(&p, &opts).unwrap_err().to_string();
        assert!(e.contains("character `<`"), "{e}");
    }
}
