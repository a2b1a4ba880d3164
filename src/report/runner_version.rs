//! Runner version currency, a gating check of its own: GitHub refuses to register a runner
//! below the profile's minimum (2.329.0 for github.com) and gives no jobs to a runner when a
//! newer release has been out for more than 30 days (runner-network-facts.md § "Added in
//! December 2026", "Runner version currency").
//!
//! The 30-day rule is judged with the OLDEST release newer than the installed one (not the
//! latest: with v2.335.0 out 40 days and v2.336.0 out 10 days, a v2.334.0 runner gets no jobs).
//! The rule is the service's (GitHub changelog 2026-06-12): the actions/runner source has none —
//! only a warning in a job's log when the runner is behind (JobRunner.cs,
//! `WarningOutdatedRunnerAsync`). When the list of releases could not be read, the latest's date
//! is a lower bound of that release's age: past the limit it still fails, within it the words say
//! an older release in between may already be past it.

use serde::Serialize;
use time::OffsetDateTime;

use crate::env::installed::{Installed, InstalledProblem};
use crate::model::runner::VersionPolicy;
use crate::model::{RunnerVersion, Verdict};
use crate::probe::release::{DateFailure, DatedRelease, ReleaseDates};
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
    /// The release the 30-day rule looked at (the oldest newer than the installed one), when the
    /// installed runner is behind and a date was learned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newer_release: Option<NewerRelease>,
    /// The releases list asked (only when the installed runner is behind), and why it could not
    /// be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub releases_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub releases_failure: Option<DateFailure>,
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
    /// The latest release is younger than the policy allows, but the list of releases could not
    /// be read: an older release in between may already be past the limit.
    BehindListUnknown { days: i64 },
}

/// The release the 30-day rule looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewerRelease {
    pub version: RunnerVersion,
    pub published: String,
    pub days_ago: i64,
    /// `releases_list`: the oldest release newer than the installed one, from the list;
    /// `latest_only`: the latest (the list could not be read, or did not reach back to the
    /// installed version), so the release the rule looks at is at least this old.
    pub from: NewerFrom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NewerFrom {
    ReleasesList,
    LatestOnly,
}

/// The oldest release newer than `installed` and how sure that is; `None` without a date.
fn first_newer(
    installed: RunnerVersion,
    latest: RunnerVersion,
    dates: &ReleaseDates,
    latest_date: Option<&str>,
    now: OffsetDateTime,
) -> Option<NewerRelease> {
    let listed = dates.list.as_ref().filter(|l| l.failure.is_none());
    let from_list = listed.and_then(|l| {
        let oldest_newer = l
            .releases
            .iter()
            .filter(|r| r.version > installed && r.version <= latest)
            .min_by_key(|r| r.version)?;
        // Only a list reaching back to the installed version proves nothing older is missing.
        let reaches_back = l.releases.iter().any(|r| r.version <= installed);
        let from = match reaches_back {
            true => NewerFrom::ReleasesList,
            false => NewerFrom::LatestOnly,
        };
        Some((oldest_newer.clone(), from))
    });
    let (release, from) = from_list.or_else(|| {
        let published = latest_date?.to_string();
        Some((
            DatedRelease {
                version: latest,
                published,
            },
            NewerFrom::LatestOnly,
        ))
    })?;
    let days_ago = (now - release.published_at()?).whole_days();
    Some(NewerRelease {
        version: release.version,
        published: release.published,
        days_ago,
        from,
    })
}

/// Judge the installed runner against the latest release.
pub fn judge(
    policy: &VersionPolicy,
    installed: Option<Result<Installed, InstalledProblem>>,
    release: Option<&ReleaseResult>,
    dates: Option<&ReleaseDates>,
    now: OffsetDateTime,
) -> RunnerVersionReport {
    let latest = release.and_then(|r| r.latest);
    let no_dates = ReleaseDates::default();
    let dates = dates.unwrap_or(&no_dates);
    let tag_page = dates.tag_page.as_ref();
    // The latest's date: from the list when it names it, else from its tag page.
    let latest_date: Option<String> = latest
        .and_then(|v| {
            let l = dates.list.as_ref()?;
            l.releases.iter().find(|r| r.version == v)
        })
        .map(|r| r.published.clone())
        .or_else(|| {
            tag_page
                .filter(|d| d.published_at().is_some())
                .and_then(|d| d.published.clone())
        });
    let days = latest_date
        .as_deref()
        .and_then(|d| OffsetDateTime::parse(d, &time::format_description::well_known::Rfc3339).ok())
        .map(|p| (now - p).whole_days());
    let (installed, installed_problem) = match installed {
        None => (None, None),
        Some(Ok(i)) => (Some(i), None),
        Some(Err(p)) => (None, Some(p)),
    };
    let mut newer = None;
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
        (Some(i), _) => match latest {
            None => (Verdict::Warn, VersionJudgement::LatestUnknown),
            Some(l) if i.version >= l => (Verdict::Pass, VersionJudgement::Current),
            Some(l) => {
                newer = first_newer(i.version, l, dates, latest_date.as_deref(), now);
                let max = i64::from(policy.max_days_behind);
                match &newer {
                    None => (Verdict::Warn, VersionJudgement::BehindUndated),
                    // Past the limit even as a lower bound: no jobs.
                    Some(n) if n.days_ago > max => (
                        Verdict::Fail,
                        VersionJudgement::TooFarBehind { days: n.days_ago },
                    ),
                    Some(n) if n.from == NewerFrom::ReleasesList => {
                        (Verdict::Warn, VersionJudgement::Behind { days: n.days_ago })
                    }
                    Some(n) => (
                        Verdict::Warn,
                        VersionJudgement::BehindListUnknown { days: n.days_ago },
                    ),
                }
            }
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
        released_days_ago: days,
        released_at: latest_date,
        date_from: match tag_page {
            Some(d) => Some(d.url.clone()),
            None => dates.list.as_ref().map(|l| l.url.clone()),
        },
        date_failure: tag_page.and_then(|d| d.failure.clone()),
        newer_release: newer,
        releases_from: dates.list.as_ref().map(|l| l.url.clone()),
        releases_failure: dates.list.as_ref().and_then(|l| l.failure.clone()),
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
    use crate::probe::release::{ReleaseDate, ReleaseList};
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

    fn rfc3339(days_ago: i64, now: OffsetDateTime) -> String {
        (now - time::Duration::days(days_ago))
            .format(&time::format_description::well_known::Rfc3339)
            .expect("format")
    }

    /// The releases list as the API gives it: `(version, days ago)`.
    fn listed(releases: &[(RunnerVersion, i64)], now: OffsetDateTime) -> ReleaseDates {
        ReleaseDates {
            list: Some(ReleaseList {
                url: "api".into(),
                releases: releases
                    .iter()
                    .map(|(v, d)| DatedRelease {
                        version: *v,
                        published: rfc3339(*d, now),
                    })
                    .collect(),
                failure: None,
            }),
            tag_page: None,
        }
    }

    /// The latest release (v2.336.0) out `days_ago`, in a list reaching back to old releases.
    fn dated(days_ago: i64, now: OffsetDateTime) -> ReleaseDates {
        listed(
            &[
                (RunnerVersion(2, 336, 0), days_ago),
                (RunnerVersion(2, 300, 0), 900),
            ],
            now,
        )
    }

    /// No list (it could not be read): only the latest's tag page, out `days_ago`.
    fn tag_page_only(days_ago: i64, now: OffsetDateTime) -> ReleaseDates {
        ReleaseDates {
            list: Some(ReleaseList {
                url: "api".into(),
                releases: vec![],
                failure: Some(DateFailure::Status { status: 403 }),
            }),
            tag_page: Some(ReleaseDate {
                url: "tag".into(),
                published: Some(rfc3339(days_ago, now)),
                failure: None,
            }),
        }
    }

    #[test]
    fn the_thirty_days_count_from_the_oldest_release_newer_than_the_installed_one() {
        let now = OffsetDateTime::now_utc();
        let r = release(RunnerVersion(2, 330, 0));
        // Installed 2.328.0; 2.329.0 out 40 days, 2.330.0 (the latest) out 10 days: no jobs.
        let dates = listed(
            &[
                (RunnerVersion(2, 330, 0), 10),
                (RunnerVersion(2, 329, 0), 40),
                (RunnerVersion(2, 328, 0), 70),
            ],
            now,
        );
        let p = VersionPolicy {
            minimum: RunnerVersion(2, 300, 0),
            ..policy()
        };
        let j = judge(
            &p,
            installed(RunnerVersion(2, 328, 0)),
            Some(&r),
            Some(&dates),
            now,
        );
        assert_eq!(
            (j.verdict, &j.judgement),
            (Verdict::Fail, &VersionJudgement::TooFarBehind { days: 40 })
        );
        let n = j.newer_release.expect("the release judged");
        assert_eq!(
            (n.version, n.from),
            (RunnerVersion(2, 329, 0), NewerFrom::ReleasesList)
        );
        // The latest's own date is still reported as the latest's.
        assert_eq!(j.released_days_ago, Some(10));
        // Installed 2.329.0: only 2.330.0 is newer, out 10 days: behind, still given jobs.
        let j = judge(
            &p,
            installed(RunnerVersion(2, 329, 0)),
            Some(&r),
            Some(&dates),
            now,
        );
        assert_eq!(j.judgement, VersionJudgement::Behind { days: 10 });
    }

    #[test]
    fn without_the_list_the_latest_date_is_a_lower_bound() {
        let now = OffsetDateTime::now_utc();
        let r = release(RunnerVersion(2, 336, 0));
        let inst = installed(RunnerVersion(2, 334, 0));
        // The latest out 10 days: an older release in between may be past the limit: said so.
        let young = tag_page_only(10, now);
        let j = judge(&policy(), inst.clone(), Some(&r), Some(&young), now);
        assert_eq!(
            (j.verdict, &j.judgement),
            (
                Verdict::Warn,
                &VersionJudgement::BehindListUnknown { days: 10 }
            )
        );
        assert_eq!(
            j.releases_failure,
            Some(DateFailure::Status { status: 403 })
        );
        assert_eq!(j.newer_release.map(|n| n.from), Some(NewerFrom::LatestOnly));
        // The latest out 40 days: every release in between is older still: no jobs.
        let old = tag_page_only(40, now);
        let j = judge(&policy(), inst.clone(), Some(&r), Some(&old), now);
        assert_eq!(j.judgement, VersionJudgement::TooFarBehind { days: 40 });
        // A list that does not reach back to the installed version bounds the age the same way.
        let short = listed(
            &[
                (RunnerVersion(2, 336, 0), 5),
                (RunnerVersion(2, 335, 0), 20),
            ],
            now,
        );
        let j = judge(&policy(), inst, Some(&r), Some(&short), now);
        assert_eq!(
            j.judgement,
            VersionJudgement::BehindListUnknown { days: 20 }
        );
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
