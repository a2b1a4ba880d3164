//! Runner version currency, a gating check of its own: GitHub refuses to register a runner
//! below the profile's minimum (2.329.0 for github.com) and gives no jobs to a runner when a
//! newer release has been out for more than 30 days (runner-network-facts.md § "Added in
//! December 2026", "Runner version currency").
//!
//! The release date known is the latest release's: when an intermediate release is older, the
//! runner may already be refused while this says WARN (the docs say so).

use serde::Serialize;
use time::OffsetDateTime;

use crate::env::installed::{Installed, InstalledProblem};
use crate::model::runner::VersionPolicy;
use crate::model::{RunnerVersion, Verdict};
use crate::probe::release::{DateFailure, ReleaseDate};
use crate::report::redirect::ReleaseResult;

/// What the check found, and its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct RunnerVersionReport {
    pub verdict: Verdict,
    pub gating: bool,
    pub judgement: VersionJudgement,
    /// The installed runner (`--runner-dir`), or why it could not be read.
    pub installed: Option<Installed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed_problem: Option<InstalledProblem>,
    /// The latest release (learned from github.com during the run), and its date.
    pub latest: Option<RunnerVersion>,
    pub released_at: Option<String>,
    pub released_days_ago: Option<i64>,
    /// The page the date was read from, and why it could not be.
    pub date_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_failure: Option<DateFailure>,
    pub policy: VersionPolicy,
    /// The package to download for this host (the latest's), and its URL.
    pub asset: Option<String>,
    pub asset_url: Option<String>,
}

/// The verdict's reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VersionJudgement {
    /// No `--runner-dir`: the latest version is information only.
    NotInstalledHere,
    /// The installed version could not be read.
    InstalledUnknown,
    /// Below the lowest version GitHub registers.
    BelowMinimum,
    /// The latest release could not be learned: currency cannot be judged.
    LatestUnknown,
    /// The installed version is the latest (or newer).
    Current,
    /// A newer release has been out longer than the policy allows: no jobs.
    TooFarBehind { days: i64 },
    /// A newer release exists, out for fewer days than the policy allows.
    Behind { days: i64 },
    /// A newer release exists; its date could not be learned.
    BehindUndated,
}

/// Judge the installed runner against the latest release.
pub fn judge(
    policy: &VersionPolicy,
    installed: Option<Result<Installed, InstalledProblem>>,
    release: Option<&ReleaseResult>,
    date: Option<&ReleaseDate>,
    now: OffsetDateTime,
) -> RunnerVersionReport {
    let latest = release.and_then(|r| r.latest);
    let published = date.and_then(ReleaseDate::published_at);
    let days = published.map(|p| (now - p).whole_days());
    let (installed, installed_problem) = match installed {
        None => (None, None),
        Some(Ok(i)) => (Some(i), None),
        Some(Err(p)) => (None, Some(p)),
    };
    let (verdict, judgement) = match (&installed, &installed_problem) {
        (None, None) => (Verdict::Skip, VersionJudgement::NotInstalledHere),
        // A --runner-dir without bin/ holds settings only (.env): nothing installed to judge.
        (None, Some(InstalledProblem::NoBin)) => {
            (Verdict::Skip, VersionJudgement::InstalledUnknown)
        }
        (None, Some(_)) => (Verdict::Warn, VersionJudgement::InstalledUnknown),
        (Some(i), _) if i.version < policy.minimum => {
            (Verdict::Fail, VersionJudgement::BelowMinimum)
        }
        (Some(i), _) => match (latest, days) {
            (None, _) => (Verdict::Warn, VersionJudgement::LatestUnknown),
            (Some(l), _) if i.version >= l => (Verdict::Pass, VersionJudgement::Current),
            (Some(_), Some(d)) if d > i64::from(policy.max_days_behind) => {
                (Verdict::Fail, VersionJudgement::TooFarBehind { days: d })
            }
            (Some(_), Some(d)) => (Verdict::Warn, VersionJudgement::Behind { days: d }),
            (Some(_), None) => (Verdict::Warn, VersionJudgement::BehindUndated),
        },
    };
    // The package to download is the latest's for this host; a pinned fallback is no advice.
    let (asset, asset_url) = match release {
        Some(r) if r.failure.is_none() => (r.asset.clone(), Some(r.asset_url.clone())),
        _ => (None, None),
    };
    RunnerVersionReport {
        verdict,
        gating: true,
        judgement,
        installed,
        installed_problem,
        latest,
        released_at: published.and(date.and_then(|d| d.published.clone())),
        released_days_ago: days,
        date_from: date.map(|d| d.url.clone()),
        date_failure: date.and_then(|d| d.failure.clone()),
        policy: policy.clone(),
        asset,
        asset_url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::installed::InstalledFrom;
    use crate::model::runner::PlatformFrom;
    use crate::report::redirect::ReleaseSource;

    fn policy() -> VersionPolicy {
        VersionPolicy {
            minimum: RunnerVersion(2, 329, 0),
            source: None,
            max_days_behind: 30,
        }
    }

    fn installed(v: RunnerVersion) -> Option<Result<Installed, InstalledProblem>> {
        Some(Ok(Installed {
            version: v,
            from: InstalledFrom::BinLink {
                target: format!("bin.{v}"),
            },
        }))
    }

    fn release(latest: RunnerVersion) -> ReleaseResult {
        ReleaseResult {
            lookup_url: "https://github.com/actions/runner/releases/latest".into(),
            lookup_status: Some(302),
            lookup_location: None,
            latest: Some(latest),
            version: Some(latest),
            version_from: ReleaseSource::LatestRelease,
            asset: Some(format!("actions-runner-linux-x64-{latest}.tar.gz")),
            asset_url: "u".into(),
            asset_from: ReleaseSource::LatestRelease,
            os: "linux".into(),
            arch: "x64".into(),
            platform_from: PlatformFrom::ThisHost,
            failure: None,
        }
    }

    fn dated(days_ago: i64, now: OffsetDateTime) -> ReleaseDate {
        let at = now - time::Duration::days(days_ago);
        ReleaseDate {
            url: "tag".into(),
            published: at
                .format(&time::format_description::well_known::Rfc3339)
                .ok(),
            failure: None,
        }
    }

    #[test]
    fn verdicts_follow_github_rules() {
        let now = OffsetDateTime::now_utc();
        let latest = RunnerVersion(2, 336, 0);
        let r = release(latest);
        let case = |inst: RunnerVersion, days: Option<i64>| {
            let d = days.map(|d| dated(d, now));
            let j = judge(&policy(), installed(inst), Some(&r), d.as_ref(), now);
            (j.verdict, j.judgement)
        };
        assert_eq!(
            case(RunnerVersion(2, 320, 0), Some(1)),
            (Verdict::Fail, VersionJudgement::BelowMinimum)
        );
        assert_eq!(
            case(latest, Some(100)),
            (Verdict::Pass, VersionJudgement::Current)
        );
        assert_eq!(
            case(RunnerVersion(2, 335, 0), Some(31)),
            (Verdict::Fail, VersionJudgement::TooFarBehind { days: 31 })
        );
        assert_eq!(
            case(RunnerVersion(2, 335, 0), Some(30)),
            (Verdict::Warn, VersionJudgement::Behind { days: 30 })
        );
        assert_eq!(
            case(RunnerVersion(2, 335, 0), None),
            (Verdict::Warn, VersionJudgement::BehindUndated)
        );
        let none = judge(&policy(), None, Some(&r), None, now);
        assert_eq!(
            (none.verdict, none.judgement),
            (Verdict::Skip, VersionJudgement::NotInstalledHere)
        );
        assert_eq!(none.latest, Some(latest));
        let unknown = judge(&policy(), installed(latest), None, None, now);
        assert_eq!(unknown.judgement, VersionJudgement::LatestUnknown);
        assert_eq!(unknown.verdict, Verdict::Warn);
        let settings_only = judge(
            &policy(),
            Some(Err(InstalledProblem::NoBin)),
            Some(&r),
            None,
            now,
        );
        assert_eq!(settings_only.verdict, Verdict::Skip);
        let odd = Some(Err(InstalledProblem::UnknownLink { target: "x".into() }));
        assert_eq!(
            judge(&policy(), odd, Some(&r), None, now).verdict,
            Verdict::Warn
        );
    }
}
