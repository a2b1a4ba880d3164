//! Report-level network findings: the proxy configuration in effect, names reached only through
//! the proxy, trust-store disagreements, TLS interception, clock skew and long-poll survival.
//!
//! These are warnings beside the capability verdicts: they do not change which capabilities
//! pass (the runner itself connects), but each names what to fix.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::Serialize;

pub use crate::probe::long_poll::{Cut, LongPoll, LongPollFailure, LongPollOutcome};
use crate::proxy::{ProxySettings, RunnerEnv};
use crate::report::{Phase, Route, TargetResult, Verdict};
use crate::trust::{StoreVerdicts, Stores};

/// Skew beyond which the clock is reported (token validation fails).
pub const CLOCK_SKEW_LIMIT_SECS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Proxy,
    Dns,
    TrustStore,
    Interception,
    Clock,
    LongPoll,
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

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub topic: Topic,
    pub message: Text,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// What to do, when there is something to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Text>,
}

/// What a finding says. Most findings are still written here; the long poll's words are
/// `render`'s, from the typed report (`Display` and `Serialize` are in `render::words_throughput`:
/// a string either way).
#[derive(Debug, Clone)]
pub enum Text {
    Written(String),
    /// The long poll's outcome.
    LongPoll(Box<LongPollReport>),
    /// What to do about a cut long poll to `host`.
    LongPollFix {
        host: String,
    },
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::Written(s)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TrustStoreInfo {
    pub runner: String,
    pub git: String,
    pub node: String,
    pub public: String,
}

#[derive(Debug, Clone, Serialize)]
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
}

/// The runner's environment as this run sees it: `.env` applied, proxies, trust stores.
pub struct Setup {
    pub env: RunnerEnv,
    pub proxy: ProxySettings,
    pub stores: Stores,
}

impl Setup {
    /// Read the environment (and `runner_dir/.env`), the proxy settings (with the `--proxy` /
    /// `--no-proxy` overrides) and the trust stores. Call it before any thread starts: the
    /// `.env` values of SSL_CERT_FILE / SSL_CERT_DIR are put into the process environment, as
    /// the runner's stack would see them. `Err` is an input error.
    pub fn load(
        runner_dir: Option<&std::path::Path>,
        proxy: Option<&str>,
        no_proxy: Option<&str>,
        ca_files: &[std::path::PathBuf],
        public_roots: Option<&std::path::Path>,
    ) -> Result<Setup, String> {
        let env = RunnerEnv::load(runner_dir)?;
        for key in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
            if let Some((v, crate::proxy::Origin::EnvFile)) = env.get(key) {
                std::env::set_var(key, v);
            }
        }
        let proxy = ProxySettings::resolve(&env, proxy, no_proxy)?;
        let stores = Stores::load(&env, ca_files, public_roots)?;
        Ok(Setup { env, proxy, stores })
    }

    /// The network section of the report for these probe results.
    pub fn summarize<K>(
        &self,
        results: &std::collections::HashMap<K, TargetResult>,
        long_poll: Option<LongPoll>,
        now: SystemTime,
    ) -> NetworkReport {
        summarize(
            &self.proxy,
            &self.env,
            Some(&self.stores),
            &results.values().collect::<Vec<_>>(),
            long_poll,
            now,
        )
    }
}

fn finding(severity: Severity, topic: Topic, message: String) -> Finding {
    Finding {
        severity,
        topic,
        message: Text::Written(message),
        hosts: vec![],
        fix: None,
    }
}

fn names(hosts: &[String]) -> String {
    match hosts.len() {
        0 => "no name".into(),
        1 => hosts[0].clone(),
        2 | 3 => hosts.join(", "),
        n => format!("{}, {} and {} more", hosts[0], hosts[1], n - 2),
    }
}

/// Everything the report says besides capability verdicts.
pub fn summarize(
    proxy: &ProxySettings,
    env: &RunnerEnv,
    stores: Option<&Stores>,
    results: &[&TargetResult],
    long_poll: Option<LongPoll>,
    now: SystemTime,
) -> NetworkReport {
    let long_poll = long_poll.map(LongPollReport::judge);
    let mut findings = Vec::new();
    for w in &proxy.warnings {
        findings.push(finding(Severity::Warn, Topic::Proxy, w.clone()));
    }
    for n in &env.notes {
        findings.push(finding(Severity::Warn, Topic::Proxy, n.clone()));
    }
    if let Some(s) = stores {
        for n in &s.notes {
            findings.push(finding(Severity::Warn, Topic::TrustStore, n.clone()));
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
        let mut f = finding(
            Severity::Note,
            Topic::Dns,
            format!(
                "{} {} resolve locally; through the proxy that is fine (the proxy resolves names), but anything that bypasses the proxy (no_proxy entries, tools that ignore proxy variables) cannot reach {}",
                names(&unresolved),
                if unresolved.len() == 1 { "does not" } else { "do not" },
                if unresolved.len() == 1 { "it" } else { "them" }
            ),
        );
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
                format!(
                    "this machine's clock is {} {} than {}'s (Date: {}): GitHub's tokens are checked against the time, so the runner's sessions and OIDC tokens fail",
                    human(c.skew_seconds.unsigned_abs()),
                    if c.skew_seconds > 0 { "ahead" } else { "behind" },
                    c.host,
                    c.server_date
                ),
            );
            f.hosts = vec![c.host.clone()];
            f.fix = Some(Text::Written(
                "synchronise the clock (NTP: systemd-timesyncd, chrony)".into(),
            ));
            findings.push(f);
        }
    }

    if let Some(lp) = &long_poll {
        findings.push(Finding {
            severity: if lp.survived {
                Severity::Note
            } else {
                Severity::Warn
            },
            topic: Topic::LongPoll,
            message: Text::LongPoll(Box::new(lp.clone())),
            hosts: vec![lp.host.clone()],
            fix: (!lp.survived).then(|| Text::LongPollFix {
                host: lp.host.clone(),
            }),
        });
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
    }
}

fn human(secs: u64) -> String {
    match secs {
        0..=119 => format!("{secs} s"),
        120..=7199 => format!("{} min", secs / 60),
        7200..=172_799 => format!("{} h", secs / 3600),
        _ => format!("{} days", secs / 86_400),
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
                .find_map(|c| c.tls.as_ref().and_then(|i| i.stores.as_ref()))
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
            format!(
                "TLS interception: the certificates presented for {} do not lead to a public root ({}); they are issued by \"{issuer}\"{}",
                names(&hosts),
                stores.public.description,
                if runner_trusts {
                    ", which this machine's store trusts: a TLS-inspecting middlebox re-signs this traffic (or the server uses a private CA)"
                } else {
                    ", which this machine does not trust either: something re-signs this traffic (or the server uses a private CA)"
                }
            ),
        );
        f.fix = Some(Text::Written(format!(
            "if \"{issuer}\" is your organisation's inspecting proxy, its CA certificate must be in all three trust stores (the OS store, git's, node's); otherwise find out who re-signs this traffic"
        )));
        f.hosts = hosts;
        findings.push(f);
    }
    // Disagreements between the three stores.
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Which {
        Runner,
        Git,
        Node,
    }
    let mut groups: BTreeMap<(Which, String, String, String), Vec<String>> = BTreeMap::new();
    for (host, v) in &all {
        let ok = [v.runner, v.git, v.node];
        if ok.iter().all(|x| *x) || ok.iter().all(|x| !*x) {
            continue;
        }
        let file = v.anchor_file.clone().unwrap_or_else(|| {
            format!(
                "<a PEM file holding the CA certificate of \"{}\">",
                v.top_issuer
            )
        });
        for (trusts, which) in [
            (v.runner, Which::Runner),
            (v.git, Which::Git),
            (v.node, Which::Node),
        ] {
            if !trusts {
                let trusted_by: Vec<&str> = [
                    (v.runner, "the runner (OS store)"),
                    (v.git, "git"),
                    (v.node, "node"),
                ]
                .iter()
                .filter(|(t, _)| *t)
                .map(|(_, n)| *n)
                .collect();
                groups
                    .entry((
                        which,
                        file.clone(),
                        v.top_issuer.clone(),
                        format!(
                            "{} {}",
                            trusted_by.join(" and "),
                            if trusted_by.len() == 1 {
                                "trusts"
                            } else {
                                "trust"
                            }
                        ),
                    ))
                    .or_default()
                    .push(host.to_string());
            }
        }
    }
    for ((which, file, issuer, trusted_by), hosts) in groups {
        let (message, fix) = match which {
            Which::Node => (
                format!(
                    "JavaScript actions (node) will not trust {}: {trusted_by} \"{issuer}\", but node uses only its built-in public roots plus NODE_EXTRA_CA_CERTS{}",
                    names(&hosts),
                    match &stores.node_extra {
                        Some(f) => format!(" (now {f}, which does not hold it)"),
                        None => " (not set)".into(),
                    }
                ),
                format!(
                    "set NODE_EXTRA_CA_CERTS={file} in the runner's environment (its .env file when it runs as a service)"
                ),
            ),
            Which::Git => (
                format!(
                    "git will not trust {}: {trusted_by} \"{issuer}\", but git's CA bundle does not hold it ({})",
                    names(&hosts),
                    match &stores.git_cainfo {
                        Some(f) => format!("GIT_SSL_CAINFO={f}"),
                        None => "OpenSSL's default bundle; GIT_SSL_CAINFO not set".into(),
                    }
                ),
                format!(
                    "add {file} to the system bundle that git's OpenSSL reads (update-ca-certificates), or set GIT_SSL_CAINFO={file} (or git config --system http.sslCAInfo {file}); GIT_SSL_CAINFO replaces git's bundle, so that file must also hold the public roots"
                ),
            ),
            Which::Runner => (
                format!(
                    "the runner itself will not trust {}: {trusted_by} \"{issuer}\", but the OS store (SSL_CERT_FILE / SSL_CERT_DIR) does not",
                    names(&hosts)
                ),
                format!(
                    "add {file} to the OS store (copy it to /usr/local/share/ca-certificates/NAME.crt and run update-ca-certificates), or set SSL_CERT_FILE to a bundle that includes it"
                ),
            ),
        };
        let mut f = finding(Severity::Warn, Topic::TrustStore, message);
        f.fix = Some(Text::Written(fix));
        f.hosts = hosts;
        findings.push(f);
    }
}

/// The largest difference between a `Date` header and the local clock.
fn clock_skew(results: &[&TargetResult], now: SystemTime) -> Option<ClockReport> {
    let mut best: Option<ClockReport> = None;
    for t in results {
        for c in &t.checks {
            let Some(date) = c.http.as_ref().and_then(|h| h.date.as_ref()) else {
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
