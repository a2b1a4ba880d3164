//! Redirect chains judged: every hop's host is a probed name of the capability (its DNS, TCP,
//! TLS and fingerprint judged as any other), and the chain itself must end in the download:
//! a `2xx` after at most [`crate::plan::MAX_REDIRECT_HOPS`] requests. A hop that fails fails
//! the entry, with the hop's host as the cause; a host the profile does not list is a warning
//! (firewall rules built from the profile would miss it).

use serde::Serialize;

use super::{judge_target, Cause, TargetResult, Verdict};
use crate::model::runner::PlatformFrom;
use crate::model::RunnerVersion;
use crate::plan::PlannedRedirect;
pub use crate::probe::redirect::{
    Hop, LatestFailure, RedirectObservation, RedirectStop, ReleaseLookup,
};

/// Why a hop of a redirect chain does not pass, beyond its own checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RedirectCause {
    /// The chain ended in a status that is neither the download (2xx) nor a redirect.
    Status { status: u16 },
    /// Following stopped at this hop.
    Stopped { stop: RedirectStop },
    /// The chain reached a host the profile does not list (`expect:`): rules built from the
    /// profile miss it.
    Unlisted { host: String },
    /// The latest runner release could not be learned: the chain followed is the profile's
    /// pinned package, which a runner would not download (never a silent PASS).
    PinnedFallback { failure: LatestFailure },
}

/// Where a release fact came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseSource {
    /// `github.com/actions/runner/releases/latest`, asked during this run.
    LatestRelease,
    /// The profile's pinned `url` (the latest could not be learned or has no package here).
    PinnedUrl,
}

/// The runner release a `runner_release: latest` chain checked, and where each fact came from.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseResult {
    /// The URL asked for the latest release.
    pub lookup_url: String,
    /// Its answer's status and `Location` (none: no answer).
    pub lookup_status: Option<u16>,
    pub lookup_location: Option<String>,
    /// The latest version, when learned.
    pub latest: Option<RunnerVersion>,
    /// The version of the package followed (the latest, or the pinned URL's).
    pub version: Option<RunnerVersion>,
    pub version_from: ReleaseSource,
    /// The package file followed, and its URL.
    pub asset: Option<String>,
    pub asset_url: String,
    pub asset_from: ReleaseSource,
    /// The package's OS and architecture, and where they came from.
    pub os: String,
    pub arch: String,
    pub platform_from: PlatformFrom,
    /// Why the pinned URL was followed instead of the latest release's package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<LatestFailure>,
}

/// The version a runner package URL names (`…/download/vX.Y.Z/actions-runner-…`).
fn version_in_url(url: &str) -> Option<RunnerVersion> {
    let (_, rest) = url.split_once("/download/v")?;
    rest.split('/').next()?.parse().ok()
}

fn file_name(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let name = path.rsplit('/').next()?;
    (!name.is_empty()).then(|| name.to_string())
}

fn release_result(planned: &PlannedRedirect, l: &ReleaseLookup) -> ReleaseResult {
    let answer = l.hop.answer();
    let (url, from) = match &l.asset_url {
        Some(u) => (u.clone(), ReleaseSource::LatestRelease),
        None => (planned.url.clone(), ReleaseSource::PinnedUrl),
    };
    ReleaseResult {
        lookup_url: l.url.clone(),
        lookup_status: answer.and_then(|a| a.status),
        lookup_location: answer.and_then(|a| a.location.clone()),
        latest: l.version,
        version: match from {
            ReleaseSource::LatestRelease => l.version,
            ReleaseSource::PinnedUrl => version_in_url(&planned.url),
        },
        version_from: from,
        asset: file_name(&url),
        asset_from: from,
        asset_url: crate::probe::redirect::hide_query(&url),
        os: l.platform.os_name.clone(),
        arch: l.platform.arch_name.clone(),
        platform_from: l.platform.from,
        failure: l.failure.clone(),
    }
}

/// One hop as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct HopSummary {
    pub url: String,
    pub host: String,
    pub status: Option<u16>,
    pub location: Option<String>,
}

/// A judged chain.
#[derive(Debug, Clone, Serialize)]
pub struct RedirectResult {
    pub url: String,
    pub verdict: Verdict,
    pub hops: Vec<HopSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<RedirectStop>,
    /// The size of what the chain ends in (the last hop's `Content-Range` total or
    /// `Content-Length`), else the size the profile states.
    pub size: Option<u64>,
    /// Where `size` came from: `server` or `profile`.
    pub size_from: Option<&'static str>,
    pub runner_package: bool,
    /// For `runner_release: latest`: the release checked and where it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseResult>,
}

impl RedirectResult {
    /// The hosts met along the chain, in order, each once.
    pub fn hosts(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for h in &self.hops {
            if !out.contains(&h.host) {
                out.push(h.host.clone());
            }
        }
        out
    }
}

fn with_cause(t: &mut TargetResult, verdict: Verdict, cause: RedirectCause) {
    if verdict > t.verdict || (verdict == t.verdict && t.cause.is_none()) {
        t.verdict = verdict;
        t.cause = Some(Cause::Redirect(cause));
    }
}

/// Judge a followed chain: the result, and each hop's host as a judged name.
/// `listed`: every host the plan names (what firewall rules built from the profile hold).
pub fn judge(
    planned: &PlannedRedirect,
    obs: RedirectObservation,
    listed: &[String],
) -> (RedirectResult, Vec<TargetResult>) {
    let release = obs.release.as_ref().map(|l| release_result(planned, l));
    let last = obs.hops.len().saturating_sub(1);
    let mut hops = Vec::new();
    let mut targets = Vec::new();
    let mut size = None;
    for (i, hop) in obs.hops.into_iter().enumerate() {
        let status = hop.status();
        let answer = hop.answer().cloned();
        hops.push(HopSummary {
            url: hop.url.clone(),
            host: hop.host.clone(),
            status,
            location: answer.as_ref().and_then(|a| a.location.clone()),
        });
        let mut t = judge_target(hop.outcome);
        t.planned_ports = crate::model::parse_url(&hop.url)
            .map(|u| vec![u.port])
            .unwrap_or_default();
        // The checks passed, but the answer must lead on (3xx) or be the download (2xx).
        if t.verdict != Verdict::Fail {
            if let Some(s) = status {
                let mut failed = None;
                if i == last {
                    if let Some(stop) = &obs.stop {
                        failed = Some(RedirectCause::Stopped { stop: stop.clone() });
                    } else if (200..300).contains(&s) {
                        size = answer.as_ref().and_then(|a| a.total_size);
                    } else {
                        failed = Some(RedirectCause::Status { status: s });
                    }
                }
                if let Some(cause) = failed {
                    // The HTTP check itself is what did not lead to the download.
                    for c in t.checks.iter_mut().filter(|c| c.obs.http().is_some()) {
                        c.verdict = Verdict::Fail;
                    }
                    t.verdict = Verdict::Fail;
                    t.cause = Some(Cause::Redirect(cause));
                }
            }
        }
        if !listed.contains(&t.host) {
            let host = t.host.clone();
            with_cause(&mut t, Verdict::Warn, RedirectCause::Unlisted { host });
        }
        targets.push(t);
    }
    // The latest release could not be learned: what was followed is the pinned package, which
    // no runner would download — at best a warning, on the chain's first host.
    if let (Some(failure), Some(first)) = (
        release.as_ref().and_then(|r| r.failure.clone()),
        targets.first_mut(),
    ) {
        with_cause(
            first,
            Verdict::Warn,
            RedirectCause::PinnedFallback { failure },
        );
    }
    let verdict = targets
        .iter()
        .map(|t| t.verdict)
        .max()
        .unwrap_or(Verdict::Skip);
    let (size, size_from) = match (size, planned.size) {
        (Some(s), _) => (Some(s), Some("server")),
        (None, Some(s)) => (Some(s), Some("profile")),
        (None, None) => (None, None),
    };
    (
        RedirectResult {
            url: obs.url,
            verdict,
            hops,
            stop: obs.stop,
            size,
            size_from,
            runner_package: planned.runner_package,
            release,
        },
        targets,
    )
}

/// Every followed chain judged, by its planned redirect.
pub fn judge_all(
    observed: std::collections::HashMap<PlannedRedirect, RedirectObservation>,
    plan: &crate::plan::Plan,
) -> Redirects {
    let listed = plan.hosts();
    Redirects(
        observed
            .into_iter()
            .map(|(p, o)| {
                let judged = judge(&p, o, &listed);
                (p, judged)
            })
            .collect(),
    )
}

/// The judged chains of a run, by planned redirect.
#[derive(Debug, Clone, Default)]
pub struct Redirects(
    pub std::collections::HashMap<PlannedRedirect, (RedirectResult, Vec<TargetResult>)>,
);

impl Redirects {
    /// The runner package's size, if a chain found or states one.
    pub fn runner_package_size(&self) -> Option<(u64, &'static str)> {
        self.0
            .values()
            .filter(|(r, _)| r.runner_package)
            .find_map(|(r, _)| Some((r.size?, r.size_from?)))
    }
}
