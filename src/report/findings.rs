//! Report-level network findings: the proxy configuration in effect, names reached only through
//! the proxy, trust-store disagreements, TLS interception, clock skew and long-poll survival —
//! built from the judged targets and the environment snapshot, typed (`render` words them).
//!
//! These are warnings beside the capability verdicts: they do not change which capabilities
//! pass (the runner itself connects), but each names what to fix, and a warning makes the
//! overall verdict at least WARN.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::env::proxy::{ProxySettings, RunnerEnv};
use crate::env::trust::{StoreVerdicts, Stores};
use crate::env::Environment;
use crate::model::{Phase, Route, Verdict};
use crate::report::TargetResult;

pub use crate::env::net::Keepalive;
pub use crate::probe::long_poll::{Cut, LongPoll, LongPollFailure, LongPollOutcome};

/// Skew beyond which the clock is reported (token validation fails).
pub const CLOCK_SKEW_LIMIT_SECS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Proxy,
    /// The runner's own settings files.
    Runner,
    Dns,
    TrustStore,
    Interception,
    Clock,
    LongPoll,
    /// The REST API's unauthenticated quota.
    Quota,
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For information.
    Note,
    /// Something breaks (git, JavaScript actions, long polls, tokens) or the configuration is
    /// not what it seems.
    Warn,
}

/// One finding: how much it matters, what it is about, the names concerned, and what it is
/// (typed; its message and fix are written by `render`).
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub topic: Topic,
    #[serde(skip)]
    pub kind: FindingKind,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
}

/// Which store of the runner's stack a trust disagreement is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreName {
    Runner,
    Git,
    Node,
}

#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum FindingKind {
    /// A proxy setting the runner reads differently (the environment reader's words).
    ProxySetting { message: String },
    /// A problem with the runner's `.env` (the reader's words).
    RunnerEnv { message: String },
    /// GITHUB_ACTIONS_RUNNER_TLS_NO_VERIFY is set: the runner's .NET stack skips certificate
    /// checks everywhere (actions/runner source, HostContext.cs:217, HttpClientHandlerFactory.cs:19,
    /// VssUtil.cs:38). This check still verifies; it says what differs.
    TlsNoVerify {
        /// Set in the runner's `.env` (else inherited from the environment).
        in_env_file: bool,
    },
    /// The REST API's unauthenticated quota of this machine's egress address (informational;
    /// a warning when fewer than [`QUOTA_LOW`] requests remain).
    ApiQuota { quota: crate::probe::quota::Quota },
    /// `.runner` or `.credentials` gave no (or not every) URL: the run uses the profile's hosts.
    RunnerFile {
        problem: crate::env::runner::RunnerFileProblem,
    },
    /// A trust-store file named by a variable cannot be used (the loader's words).
    TrustStoreFile { message: String },
    /// Names that do not resolve locally and are reached only through the proxy.
    ResolvedByProxyOnly,
    /// Chains that do not lead to a public root, by their top issuer.
    Interception {
        issuer: String,
        public: String,
        runner_trusts: bool,
    },
    /// One store of the stack rejects what another accepts.
    StoreDisagrees {
        store: StoreName,
        issuer: String,
        /// The stores that do trust it.
        trusted_by: Vec<StoreName>,
        /// A PEM file holding the anchor, when one of the configured files does.
        anchor_file: Option<String>,
        /// NODE_EXTRA_CA_CERTS / GIT_SSL_CAINFO as set.
        variable: Option<String>,
    },
    /// The clock differs from a server's Date by more than the limit.
    ClockSkew { clock: ClockReport },
    /// The idle long-poll connection survived or was cut.
    LongPoll { report: Box<LongPollReport> },
    /// The OS resolver (what the runner uses) and the DNS server answered names differently:
    /// the DNS server gave an answer (addresses, or NXDOMAIN) while the OS resolver timed out or
    /// failed (issue 23 row 2: the DNS server said NXDOMAIN in 33 ms, the OS resolver gave
    /// nothing in 5 s). One finding per server and pair of answers; `hosts` lists the names.
    ResolversDisagree {
        /// The DNS server that answered.
        server: Option<std::net::SocketAddr>,
        /// The DNS server's answer (for several names, the first name's).
        dns: ResolverAnswer,
        /// The fastest and slowest DNS answer, in ms.
        dns_ms: (u64, u64),
        system: ResolverAnswer,
        /// How long the OS resolver took (the slowest), when known.
        system_ms: Option<u64>,
        /// The throughput measurement asked the OS resolver (else the names' own probes).
        by_throughput: bool,
    },
    /// An idle connection was cut sooner than this machine's first TCP keepalive would be sent:
    /// keepalives cannot keep such flows alive.
    CutBeforeKeepalive {
        host: String,
        after: std::time::Duration,
        keepalive: Keepalive,
    },
}

/// What one resolver answered for a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolverAnswer {
    Addresses(Vec<std::net::IpAddr>),
    /// The DNS server's failure (NXDOMAIN, SERVFAIL, …).
    Failed(crate::probe::outcome::DnsFailure),
    /// No answer within this long.
    TimedOut(std::time::Duration),
    /// The OS resolver's failure (getaddrinfo's `EAI_*` code).
    Error(crate::model::GaiError),
}

/// Names the DNS server answered (addresses, or a definite NXDOMAIN) while the OS resolver —
/// asked by the name's probe or by the throughput measurement — timed out or failed otherwise:
/// one finding per DNS server and pair of answers, listing the names. A note: the verdicts
/// already account for what the runner would meet.
pub fn resolver_disagreements(
    results: &[&TargetResult],
    throughput: Option<&crate::report::ThroughputReport>,
) -> Vec<Finding> {
    use crate::probe::outcome::{DnsFailure, DnsSource, SystemFailure, SystemLookup};
    use crate::probe::throughput::{AddressError, ThroughputFailure};
    // The DNS server's answer, when it gave one: addresses or NXDOMAIN.
    let answered = |t: &TargetResult| -> Option<ResolverAnswer> {
        let d = &t.dns.obs;
        if d.source != DnsSource::Dns || d.server.is_none() {
            return None;
        }
        match &d.failure {
            Some(f @ DnsFailure::NxDomain { .. }) => Some(ResolverAnswer::Failed(f.clone())),
            None if !d.dns_addresses.is_empty() => {
                Some(ResolverAnswer::Addresses(d.dns_addresses.clone()))
            }
            _ => None,
        }
    };
    // (host, its DNS answer, its DNS time, the OS resolver's answer, its time, by throughput)
    type Seen = (
        String,
        ResolverAnswer,
        u64,
        ResolverAnswer,
        Option<u64>,
        bool,
    );
    let mut seen: Vec<Seen> = Vec::new();
    for t in results {
        let Some(dns) = answered(t) else { continue };
        // An error beside addresses is already the name's own problem (`SystemFails`); a time-out
        // is a disagreement whatever DNS said.
        if let Some(SystemLookup::Failed {
            failure: SystemFailure::Timeout { after },
        }) = &t.dns.obs.system
        {
            let ms = t.dns.obs.system_ms.or(Some(after.as_millis() as u64));
            let dns_ms = t.dns.obs.server_ms.unwrap_or(t.dns.obs.ms);
            seen.push((
                t.host.clone(),
                dns,
                dns_ms,
                ResolverAnswer::TimedOut(*after),
                ms,
                false,
            ));
        }
    }
    for d in throughput.iter().flat_map(|tp| tp.directions.iter()) {
        let Some(ThroughputFailure::Address(AddressError::Lookup(l))) = d.failure() else {
            continue;
        };
        let (system, system_ms) = match &l.why {
            crate::probe::lookup::LookupWhy::Timeout { after } => (
                ResolverAnswer::TimedOut(*after),
                Some(after.as_millis() as u64),
            ),
            crate::probe::lookup::LookupWhy::System { gai } => (ResolverAnswer::Error(*gai), None),
            _ => continue,
        };
        for t in results.iter().filter(|t| t.host == l.host) {
            match answered(t) {
                // NXDOMAIN and an OS error agree (neither has an address).
                Some(ResolverAnswer::Failed(_)) if matches!(system, ResolverAnswer::Error(_)) => {}
                Some(dns) => {
                    let dns_ms = t.dns.obs.server_ms.unwrap_or(t.dns.obs.ms);
                    seen.push((t.host.clone(), dns, dns_ms, system.clone(), system_ms, true));
                }
                None => {}
            }
        }
    }
    // One finding per server and kind of disagreement; each name once (its probe first).
    let server_of = |host: &str| {
        results
            .iter()
            .find(|t| t.host == host)
            .and_then(|t| t.dns.obs.server)
    };
    let kind = |a: &ResolverAnswer| match a {
        ResolverAnswer::Addresses(_) => 0,
        ResolverAnswer::Failed(_) => 1,
        ResolverAnswer::TimedOut(_) => 2,
        ResolverAnswer::Error(_) => 3,
    };
    let mut groups: BTreeMap<(Option<std::net::SocketAddr>, u8, u8, bool), Vec<Seen>> =
        BTreeMap::new();
    let mut hosts_seen = std::collections::BTreeSet::new();
    for x in seen {
        if !hosts_seen.insert(x.0.clone()) {
            continue;
        }
        groups
            .entry((server_of(&x.0), kind(&x.1), kind(&x.3), x.5))
            .or_default()
            .push(x);
    }
    groups
        .into_iter()
        .filter_map(|((server, _, _, by_throughput), mut list)| {
            list.sort_by(|a, b| a.0.cmp(&b.0));
            let first = list.first()?.clone();
            let lo = list.iter().map(|x| x.2).min()?;
            let hi = list.iter().map(|x| x.2).max()?;
            let system_ms = list.iter().filter_map(|x| x.4).max();
            let mut f = finding(
                Severity::Note,
                Topic::Dns,
                FindingKind::ResolversDisagree {
                    server,
                    dns: first.1,
                    dns_ms: (lo, hi),
                    system: first.3,
                    system_ms,
                    by_throughput,
                },
            );
            f.hosts = list.into_iter().map(|x| x.0).collect();
            Some(f)
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct TrustStoreInfo {
    pub runner: String,
    pub git: String,
    pub node: String,
    pub public: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockReport {
    /// The name whose `Date` header differs most from the local clock.
    pub host: String,
    pub server_date: String,
    /// Local clock minus the server's (positive: this machine is ahead).
    pub skew_seconds: i64,
}

/// The long poll, judged. Its JSON form (`{host, route, hold_seconds, survived, detail,
/// failure}`) is written in `render::words_throughput`.
#[derive(Debug, Clone)]
pub struct LongPollReport {
    pub host: String,
    pub route: Route,
    /// How long the idle connection was to be held.
    pub hold_seconds: u64,
    /// The connection was still answering after the hold.
    pub survived: bool,
    pub observed: LongPoll,
}

impl LongPollReport {
    /// Survived means: held the full time and still answered. Cut, silent, or never opened
    /// (nothing tested) do not survive.
    pub fn judge(observed: LongPoll) -> LongPollReport {
        LongPollReport {
            host: observed.host.clone(),
            route: observed.route,
            hold_seconds: observed.hold.as_secs(),
            survived: matches!(observed.outcome, LongPollOutcome::Answered { .. }),
            observed,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct NetworkReport {
    /// Proxies in effect (credentials masked) and no_proxy.
    pub proxy: ProxySettings,
    /// The runner `.env` file read (`--runner-dir`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_stores: Option<TrustStoreInfo>,
    pub findings: Vec<Finding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_poll: Option<LongPollReport>,
    /// The kernel's TCP keepalive timers (Linux).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keepalive: Option<Keepalive>,
}

/// The network section of the report for these judged targets.
/// Fewer unauthenticated API requests left than this is a warning (of 60 an hour).
pub const QUOTA_LOW: u64 = 20;

/// The API quota as a finding: a warning when fewer than [`QUOTA_LOW`] remain, else a note.
pub fn api_quota(quota: crate::probe::quota::Quota) -> Finding {
    let severity = if quota.remaining < QUOTA_LOW {
        Severity::Warn
    } else {
        Severity::Note
    };
    Finding {
        severity,
        topic: Topic::Quota,
        kind: FindingKind::ApiQuota { quota },
        hosts: vec!["api.github.com".to_string()],
    }
}

/// The runner's switch that turns certificate verification off.
pub const TLS_NO_VERIFY_VAR: &str = "GITHUB_ACTIONS_RUNNER_TLS_NO_VERIFY";

pub fn summarize(
    environment: Option<&Environment>,
    results: &[&TargetResult],
    long_poll: Option<LongPoll>,
    now: SystemTime,
) -> NetworkReport {
    let long_poll = long_poll.map(LongPollReport::judge);
    let default_proxy = ProxySettings::default();
    let default_env = RunnerEnv::default();
    let proxy = environment.map(|e| &e.proxy).unwrap_or(&default_proxy);
    let env = environment.map(|e| &e.env).unwrap_or(&default_env);
    let stores = environment.map(|e| &e.stores);
    let mut findings = Vec::new();
    for w in &proxy.warnings {
        findings.push(finding(
            Severity::Warn,
            Topic::Proxy,
            FindingKind::ProxySetting { message: w.clone() },
        ));
    }
    for n in &env.notes {
        findings.push(finding(
            Severity::Warn,
            Topic::Proxy,
            FindingKind::RunnerEnv { message: n.clone() },
        ));
    }
    // The runner reads it with StringUtil.ConvertToBoolean (HostContext.cs:217,
    // HttpClientHandlerFactory.cs:19): only `1`, `true` and `$true`, in any case, turn it on.
    if let Some((_, origin)) = env
        .get(TLS_NO_VERIFY_VAR)
        .filter(|(v, _)| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "$true"))
    {
        findings.push(finding(
            Severity::Warn,
            Topic::TrustStore,
            FindingKind::TlsNoVerify {
                in_env_file: *origin == crate::env::proxy::Origin::EnvFile,
            },
        ));
    }
    for p in environment
        .map(|e| e.runner.problems.as_slice())
        .unwrap_or_default()
    {
        // A runner not configured yet (no .runner) is the usual case for a preflight: a note.
        let severity = match p {
            crate::env::runner::RunnerFileProblem::Missing { .. } => Severity::Note,
            _ => Severity::Warn,
        };
        findings.push(finding(
            severity,
            Topic::Runner,
            FindingKind::RunnerFile { problem: p.clone() },
        ));
    }
    if let Some(s) = stores {
        for n in &s.notes {
            findings.push(finding(
                Severity::Warn,
                Topic::TrustStore,
                FindingKind::TrustStoreFile { message: n.clone() },
            ));
        }
    }
    let mut results: Vec<&TargetResult> = results.to_vec();
    results.sort_by(|a, b| a.host.cmp(&b.host));
    results.dedup_by(|a, b| a.host == b.host);

    let unresolved: Vec<String> = results
        .iter()
        .filter(|t| t.route == Route::Proxy && t.dns.verdict == Verdict::Skip)
        .map(|t| t.host.clone())
        .collect();
    if !unresolved.is_empty() {
        let mut f = finding(Severity::Note, Topic::Dns, FindingKind::ResolvedByProxyOnly);
        f.hosts = unresolved;
        findings.push(f);
    }

    if let Some(stores) = stores {
        trust_findings(stores, &results, &mut findings);
    }

    let clock = clock_skew(&results, now);
    if let Some(c) = &clock {
        if c.skew_seconds.abs() > CLOCK_SKEW_LIMIT_SECS {
            let mut f = finding(
                Severity::Warn,
                Topic::Clock,
                FindingKind::ClockSkew { clock: c.clone() },
            );
            f.hosts = vec![c.host.clone()];
            findings.push(f);
        }
    }

    if let Some(lp) = &long_poll {
        let mut f = finding(
            if lp.survived {
                Severity::Note
            } else {
                Severity::Warn
            },
            Topic::LongPoll,
            FindingKind::LongPoll {
                report: Box::new(lp.clone()),
            },
        );
        f.hosts = vec![lp.host.clone()];
        findings.push(f);
    }
    let keepalive = environment.and_then(|e| e.keepalive);
    if let (Some(lp), Some(ka)) = (&long_poll, keepalive) {
        if let LongPollOutcome::Cut { after, .. } = &lp.observed.outcome {
            if after.as_secs_f64() < ka.time_s as f64 {
                let mut f = finding(
                    Severity::Warn,
                    Topic::LongPoll,
                    FindingKind::CutBeforeKeepalive {
                        host: lp.host.clone(),
                        after: *after,
                        keepalive: ka,
                    },
                );
                f.hosts = vec![lp.host.clone()];
                findings.push(f);
            }
        }
    }

    NetworkReport {
        proxy: proxy.clone(),
        env_file: env.env_file.as_ref().map(|p| p.display().to_string()),
        trust_stores: stores.map(|s| TrustStoreInfo {
            runner: s.runner.description.clone(),
            git: s.git.description.clone(),
            node: s.node.description.clone(),
            public: s.public.description.clone(),
        }),
        findings,
        clock,
        long_poll,
        keepalive,
    }
}

fn finding(severity: Severity, topic: Topic, kind: FindingKind) -> Finding {
    Finding {
        severity,
        topic,
        kind,
        hosts: vec![],
    }
}

/// The first store verdicts of each name (a name presents one chain to every family).
fn verdicts<'a>(results: &[&'a TargetResult]) -> Vec<(&'a str, &'a StoreVerdicts)> {
    results
        .iter()
        .filter_map(|t| {
            t.checks
                .iter()
                .filter(|c| c.phase == Phase::Tls)
                .find_map(|c| c.obs.tls().and_then(|i| i.stores.as_ref()))
                .map(|v| (t.host.as_str(), v))
        })
        .collect()
}

fn trust_findings(stores: &Stores, results: &[&TargetResult], findings: &mut Vec<Finding>) {
    let all = verdicts(results);
    // Interception: the chain does not lead to a public root.
    let mut by_issuer: BTreeMap<(String, bool), Vec<String>> = BTreeMap::new();
    for (host, v) in &all {
        if !v.public_root {
            by_issuer
                .entry((v.top_issuer.clone(), v.runner))
                .or_default()
                .push(host.to_string());
        }
    }
    for ((issuer, runner_trusts), hosts) in by_issuer {
        let mut f = finding(
            Severity::Warn,
            Topic::Interception,
            FindingKind::Interception {
                issuer,
                public: stores.public.description.clone(),
                runner_trusts,
            },
        );
        f.hosts = hosts;
        findings.push(f);
    }
    // Disagreements between the three stores.
    type Key = (StoreName, Option<String>, String, Vec<StoreName>);
    let mut groups: BTreeMap<Key, Vec<String>> = BTreeMap::new();
    for (host, v) in &all {
        let ok = [v.runner, v.git, v.node];
        if ok.iter().all(|x| *x) || ok.iter().all(|x| !*x) {
            continue;
        }
        let trusted_by: Vec<StoreName> = [
            (v.runner, StoreName::Runner),
            (v.git, StoreName::Git),
            (v.node, StoreName::Node),
        ]
        .iter()
        .filter(|(t, _)| *t)
        .map(|(_, n)| *n)
        .collect();
        for (trusts, which) in [
            (v.runner, StoreName::Runner),
            (v.git, StoreName::Git),
            (v.node, StoreName::Node),
        ] {
            if !trusts {
                groups
                    .entry((
                        which,
                        v.anchor_file.clone(),
                        v.top_issuer.clone(),
                        trusted_by.clone(),
                    ))
                    .or_default()
                    .push(host.to_string());
            }
        }
    }
    for ((store, anchor_file, issuer, trusted_by), hosts) in groups {
        let variable = match store {
            StoreName::Node => stores.node_extra.clone(),
            StoreName::Git => stores.git_cainfo.clone(),
            StoreName::Runner => None,
        };
        let mut f = finding(
            Severity::Warn,
            Topic::TrustStore,
            FindingKind::StoreDisagrees {
                store,
                issuer,
                trusted_by,
                anchor_file,
                variable,
            },
        );
        f.hosts = hosts;
        findings.push(f);
    }
}

/// The largest difference between a `Date` header and the local clock.
fn clock_skew(results: &[&TargetResult], now: SystemTime) -> Option<ClockReport> {
    let mut best: Option<ClockReport> = None;
    for t in results {
        for c in &t.checks {
            let Some(date) = c.obs.http().and_then(|h| h.date.as_ref()) else {
                continue;
            };
            let Ok(server) = httpdate::parse_http_date(date) else {
                continue;
            };
            let skew = match now.duration_since(server) {
                Ok(d) => d.as_secs() as i64,
                Err(e) => -(e.duration().as_secs() as i64),
            };
            if best
                .as_ref()
                .is_none_or(|b| skew.abs() > b.skew_seconds.abs())
            {
                best = Some(ClockReport {
                    host: t.host.clone(),
                    server_date: date.clone(),
                    skew_seconds: skew,
                });
            }
        }
    }
    best
}
