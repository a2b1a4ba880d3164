//! The verdict model: check → probed name → entry → capability → overall.
//!
//! Probes fill in [`TargetResult`]s; [`build`] joins them with the plan into a [`Report`].
//! Renderers read a `Report` and do no network I/O.

mod aggregate;
pub mod throughput;

pub use aggregate::{build, target_verdict, RunInfo};
pub use throughput::{DirectionResult, ThroughputReport};

use std::net::IpAddr;

use serde::Serialize;

pub use crate::model::{Family, Phase, Route, Verdict};

/// JSON schema version of [`Report`]; bump on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainLink {
    pub name: String,
    pub target: String,
    pub ttl: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressRecord {
    pub address: IpAddr,
    pub family: Family,
    /// `None` when the address did not come from DNS (system resolver, `--resolve`).
    pub ttl: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsSource {
    /// Our own DNS queries to the configured servers.
    Dns,
    /// The operating system's resolver (getaddrinfo: /etc/hosts, nsswitch).
    System,
    /// `--resolve`.
    Override,
}

#[derive(Debug, Clone, Serialize)]
pub struct DnsOutcome {
    pub verdict: Verdict,
    pub source: DnsSource,
    /// The server that answered (`ip:port`), when DNS was asked.
    pub server: Option<String>,
    pub chain: Vec<ChainLink>,
    pub addresses: Vec<AddressRecord>,
    /// The smallest TTL along the chain and the address records.
    pub min_ttl: Option<u32>,
    pub error: Option<String>,
    pub notes: Vec<String>,
    pub ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    pub sans: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    pub self_signed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsInfo {
    pub verified: bool,
    pub version: Option<String>,
    pub cipher: Option<String>,
    pub alpn: Option<String>,
    /// The certificate the server presented, verified or not.
    pub leaf: Option<CertSummary>,
    /// Issuer of each certificate presented, leaf first.
    pub chain_issuers: Vec<String>,
    /// Which trust stores (runner, git, node) and the public set accept the presented chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stores: Option<crate::trust::StoreVerdicts>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpInfo {
    pub method: String,
    pub path: String,
    pub status: Option<u16>,
    /// The header that proves GitHub answered, when the profile names one.
    pub expect_header: Option<String>,
    pub header_present: Option<bool>,
    pub server: Option<String>,
    pub date: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub phase: Phase,
    pub port: Option<u16>,
    pub family: Option<Family>,
    /// The address connected to (`ip:port`).
    pub address: Option<String>,
    pub verdict: Verdict,
    pub detail: String,
    pub ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpInfo>,
}

/// Everything learned about one probed name.
#[derive(Debug, Clone, Serialize)]
pub struct TargetResult {
    pub host: String,
    pub route: Route,
    pub verdict: Verdict,
    /// The first reason it does not pass, in plain words.
    pub cause: Option<String>,
    pub dns: DnsOutcome,
    pub checks: Vec<Check>,
    pub ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntryReport {
    pub pattern: String,
    pub wildcard: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub verdict: Verdict,
    pub targets: Vec<TargetResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CapabilityReport {
    pub id: String,
    pub title: String,
    pub gating: bool,
    pub verdict: Verdict,
    pub cause: Option<String>,
    pub entries: Vec<EntryReport>,
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
    pub ca_files: Vec<String>,
    /// `--fail-on`: the lowest overall verdict that makes the run exit 1.
    pub fail_on: crate::gate::FailOn,
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
    /// Proxy, trust stores, interception, clock and long-poll findings.
    pub network: crate::network::NetworkReport,
}
