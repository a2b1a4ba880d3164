//! The verdict model: check → probed name → entry → capability → overall.
//!
//! Probes observe ([`TargetOutcome`]); this layer judges: [`judge_target`] gives each name its
//! verdict and typed cause, [`build`] joins them with the plan into a [`Report`] and decides
//! the exit code. Renderers read a `Report`, write every word, and do no network I/O.

mod aggregate;
pub mod container;
pub mod diagnose;
pub mod fail_on;
pub mod findings;

pub mod redirect;
pub mod runner_version;
pub mod throughput;
mod verdict;

pub use aggregate::{build, build_with, judge_all, RunInfo};
pub use diagnose::{Diagnosis, RootCause};
pub use fail_on::FailOn;
pub use throughput::{DirectionResult, ThroughputReport};
pub use verdict::{judge_check, judge_dns, judge_http, judge_target, target_verdict};

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

pub use crate::model::{Family, Phase, Route, Verdict};
pub use crate::probe::outcome::{
    AddressRecord, CertSummary, ChainLink, CheckObservation, DnsFailure, DnsObservation, DnsSource,
    HttpInfo, Incomplete, Step, SystemFailure, SystemLookup, TargetOutcome, TlsInfo,
};

/// JSON schema version of [`Report`]; bump on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// The DNS part of a name's result: the observation and its judgement.
#[derive(Debug, Clone, Serialize)]
pub struct DnsResult {
    pub verdict: Verdict,
    #[serde(flatten)]
    pub obs: DnsObservation,
    /// Why DNS fails for this name (verdict FAIL), typed.
    #[serde(skip)]
    pub problem: Option<DnsProblem>,
    /// What else DNS showed (system resolver disagreeing, a partial failure, …), typed.
    #[serde(skip)]
    pub notes: Vec<DnsNote>,
}

/// Why DNS fails for a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DnsProblem {
    /// Our DNS questions failed and nothing else gave an address.
    Failed { failure: DnsFailure },
    /// DNS answers, but the system resolver, which the runner uses, fails.
    SystemFails {
        dns: Vec<IpAddr>,
        failure: SystemFailure,
    },
}

/// Something DNS showed that does not fail the name by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DnsNote {
    /// Addresses came from `--resolve`; DNS was not asked.
    Override,
    /// Addresses came, but one record type's chain is broken (e.g. a loop on AAAA): a warning.
    Partial { failure: DnsFailure },
    /// DNS failed, but the system resolver (e.g. /etc/hosts) answers: the runner uses it.
    SystemRescued {
        system: Vec<IpAddr>,
        failure: DnsFailure,
    },
    /// The system resolver answers other addresses than DNS: the runner uses its answer.
    SystemDiffers {
        system: Vec<IpAddr>,
        dns: Vec<IpAddr>,
    },
    /// Local DNS fails, but every endpoint goes through a proxy, which resolves the name.
    NotNeeded { problem: DnsProblem },
    /// These IPv6 addresses were synthesised by DNS64 in `prefix`/`len` (the name has no AAAA
    /// of its own): reached through a NAT64 gateway.
    Nat64 {
        addresses: Vec<IpAddr>,
        prefix: std::net::Ipv6Addr,
        len: u8,
    },
}

/// How the report reads an HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HttpJudgement {
    /// The fingerprint header is there: GitHub answered.
    Fingerprinted,
    /// GitHub answered (fingerprint) with a 5xx.
    FingerprintedServerError,
    /// No fingerprint: a proxy, captive portal or middlebox answered.
    NotGitHub,
    /// No fingerprint asked for; the server answered.
    Answered,
    /// No fingerprint asked for; a 5xx.
    ServerError,
    /// Through a proxy, a 403/502-504 without a fingerprint: the proxy refusing or failing.
    ProxyRefused,
    /// Through a proxy, 407: it wants (other) credentials.
    ProxyAuth,
}

/// One check of a name with its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub phase: Phase,
    pub verdict: Verdict,
    #[serde(flatten)]
    pub obs: CheckObservation,
    /// How an HTTP answer was read (HTTP checks that got an answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judgement: Option<HttpJudgement>,
}

/// Why a name does not pass: a reference into its own result, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// DNS fails.
    Dns(DnsProblem),
    /// A DNS note that makes the name WARN.
    DnsNote(DnsNote),
    /// `checks[index]` fails (or warns); `other_family_works`: another address family passes.
    Check {
        index: usize,
        other_family_works: bool,
    },
    /// The probe did not finish.
    Incomplete(Incomplete),
    /// A redirect hop that did not lead to the download, or led to a host the profile does
    /// not list.
    Redirect(redirect::RedirectCause),
}

/// Everything learned about one probed name.
#[derive(Debug, Clone, Serialize)]
pub struct TargetResult {
    pub host: String,
    pub route: Route,
    pub verdict: Verdict,
    /// The first reason it does not pass.
    #[serde(skip)]
    pub cause: Option<Cause>,
    pub dns: DnsResult,
    pub checks: Vec<Check>,
    pub ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<Incomplete>,
    /// The id of the [`Diagnosis`] that explains it (every target that does not pass has one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis_id: Option<usize>,
    /// The ports the plan asked for (a redirect hop: its URL's), set when the report is built:
    /// a name whose DNS failed has no check, yet its metrics still name its ports.
    #[serde(skip)]
    pub planned_ports: Vec<u16>,
    /// Its only failures are certificate rejections that the runner would not make:
    /// `GITHUB_ACTIONS_RUNNER_TLS_NO_VERIFY` is set and the capability is served by the
    /// runner's own client. The verdict is WARN instead of FAIL; our checks still failed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub runner_skips_verification: bool,
}

impl TargetResult {
    /// The check a cause points at.
    pub fn cause_check(&self) -> Option<&Check> {
        match &self.cause {
            Some(Cause::Check { index, .. }) => self.checks.get(*index),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EntryReport {
    pub pattern: String,
    pub wildcard: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub verdict: Verdict,
    pub targets: Vec<TargetResult>,
    /// A redirect probe: the chain (its hops' names are the `targets`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect: Option<redirect::RedirectResult>,
    /// Where the entry comes from when not from the profile (the runner's own settings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<crate::plan::EntryOrigin>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CapabilityReport {
    pub id: String,
    pub title: String,
    pub gating: bool,
    pub verdict: Verdict,
    /// The target (entry, target index) whose cause is the capability's.
    #[serde(skip)]
    pub cause: Option<(usize, usize)>,
    pub entries: Vec<EntryReport>,
}

impl CapabilityReport {
    /// The target whose cause the capability shows.
    pub fn cause_target(&self) -> Option<&TargetResult> {
        let (e, t) = self.cause?;
        self.entries.get(e)?.targets.get(t)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProfileInfo {
    pub name: String,
    pub title: String,
    pub origin: String,
    pub variables: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub timeout_ms: u64,
    pub max_time_ms: u64,
    pub concurrency: usize,
    pub dns_servers: Vec<String>,
    /// The DNS servers were given with `--dns-server` (else read from /etc/resolv.conf).
    pub dns_servers_given: bool,
    pub ca_files: Vec<String>,
    /// `--fail-on`: the lowest overall verdict that makes the run exit 1.
    pub fail_on: crate::report::fail_on::FailOn,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Inactive {
    pub id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: ToolInfo,
    pub generated_at: String,
    pub hostname: String,
    /// `--label KEY=VALUE`: the caller's names for this run (node, cluster, pool), for fleets.
    pub labels: std::collections::BTreeMap<String, String>,
    pub profile: ProfileInfo,
    pub settings: Settings,
    pub verdict: Verdict,
    pub exit_code: u8,
    pub duration_ms: u64,
    /// Counts of probed names by verdict.
    pub summary: Summary,
    pub capabilities: Vec<CapabilityReport>,
    pub inactive: Vec<Inactive>,
    /// Upload and download rates against the floor; `null` with `--no-throughput`. Its JSON
    /// form (words included) is written in `render::words_throughput`.
    pub throughput: Option<ThroughputReport>,
    /// Runner version currency (`null` when the profile states no version rules).
    pub runner_version: Option<runner_version::RunnerVersionReport>,
    /// The container-jobs check (Docker's bridges and networks); absent when not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_jobs: Option<container::ContainerReport>,
    /// Proxy, trust stores, interception, clock and long-poll findings.
    pub network: findings::NetworkReport,
    /// The root causes of everything that does not pass (see [`diagnose`]); the JSON renderer
    /// adds each one's `summary` and `fix`.
    pub diagnosis: Vec<Diagnosis>,
}
