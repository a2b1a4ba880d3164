//! Throughput verdicts: each direction's observation judged against the floor, the archive
//! warning, the proxied-upload rule and the overall verdict. No words: `render` writes them.

pub use crate::probe::throughput::{
    Direction, DirectionSample, Measurement, StopReason, ThroughputFailure,
};

use super::Verdict;

/// A typical action archive the runner downloads, bytes (issue #2470: 100 s HttpClient timeout).
pub const ARCHIVE_BYTES: u64 = 2 * 1000 * 1000;
/// The runner's HTTP timeout, seconds.
pub const RUNNER_HTTP_TIMEOUT_S: f64 = 100.0;
/// Below this many kbit/s a 2 MB archive does not arrive within 100 s.
pub const ARCHIVE_KBPS: f64 = ARCHIVE_BYTES as f64 * 8.0 / 1000.0 / RUNNER_HTTP_TIMEOUT_S;

#[derive(Debug, Clone)]
pub struct ThroughputReport {
    pub verdict: Verdict,
    pub gating: bool,
    pub min_kbps: u32,
    /// Bytes moved per direction at most.
    pub max_bytes: u64,
    /// Download, then upload.
    pub directions: Vec<DirectionResult>,
    /// The profile's note.
    pub notes: Vec<String>,
}

impl ThroughputReport {
    /// A gating failure: the run fails.
    pub fn gating_failure(&self) -> bool {
        self.gating && self.verdict == Verdict::Fail
    }

    /// Some direction failed with a measured rate (below the floor), rather than unmeasured.
    pub fn measured_below_floor(&self) -> bool {
        self.directions
            .iter()
            .any(|d| d.verdict == Verdict::Fail && d.kbps.is_some())
    }
}

/// One direction, judged.
#[derive(Debug, Clone)]
pub struct DirectionResult {
    pub direction: Direction,
    pub verdict: Verdict,
    /// Why the verdict is what it is.
    pub judgment: Judgment,
    /// The rate as reported (kbit/s, one decimal for a judged rate); `None` when not measured.
    pub kbps: Option<f64>,
    /// Download below [`ARCHIVE_KBPS`]: a 2 MB action archive would take this long.
    pub archive: Option<ArchiveWarning>,
    /// An upload that passed through a proxy: only measured up to the proxy, so `WARN`.
    pub proxy_only: bool,
    /// Download: how long a runner update would take at the measured rate.
    pub update: Option<UpdateEstimate>,
    /// What was observed; `None` when the direction was not measured.
    pub sample: Option<DirectionSample>,
}

impl DirectionResult {
    /// The typed failure of a failed or unmeasured direction.
    pub fn failure(&self) -> Option<&ThroughputFailure> {
        match &self.judgment {
            Judgment::Failed(f) => Some(f),
            _ => None,
        }
    }
}

/// The reason behind a direction's verdict.
#[derive(Debug, Clone)]
pub enum Judgment {
    /// No URL to measure against (`SKIP`).
    NotMeasured(Missing),
    /// No rate: the failure decides (`FAIL`, or `WARN` where the path works but there is
    /// nothing to measure).
    Failed(ThroughputFailure),
    /// Everything arrived in one piece, faster than can be timed (`PASS`).
    AtOnce { bytes: u64 },
    /// At or above the floor (`PASS`, `WARN` with the archive warning or through a proxy).
    AboveFloor { rate: f64, floor: f64 },
    /// Below the floor (`FAIL`).
    BelowFloor { rate: f64, floor: f64 },
}

/// What was missing for a direction that was not measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// The profile names no download source and none was given.
    Source,
    /// No upload sink that takes data without a token.
    Sink,
}

/// At `rate` a 2 MB action archive takes `seconds`, beyond the runner's HTTP timeout.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArchiveWarning {
    pub rate: f64,
    pub seconds: f64,
    /// The runner's HTTP timeout it exceeds.
    pub timeout: HttpTimeout,
}

/// The variable that changes the runner's HTTP timeout (actions/runner source, VssUtil.cs:71–86).
pub const HTTP_TIMEOUT_VAR: &str = "GITHUB_ACTIONS_RUNNER_HTTP_TIMEOUT";

/// The runner's HTTP timeout: 100 s, or GITHUB_ACTIONS_RUNNER_HTTP_TIMEOUT clamped to 100–1200 s
/// as the runner clamps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpTimeout {
    pub seconds: u64,
    /// Set by the variable (in `.env` or the environment).
    pub from_variable: bool,
}

impl Default for HttpTimeout {
    fn default() -> Self {
        HttpTimeout {
            seconds: RUNNER_HTTP_TIMEOUT_S as u64,
            from_variable: false,
        }
    }
}

/// The HTTP timeout the runner would use with this environment.
pub fn http_timeout(env: &crate::env::RunnerEnv) -> HttpTimeout {
    match env
        .get(HTTP_TIMEOUT_VAR)
        .and_then(|(v, _)| v.trim().parse::<u64>().ok())
    {
        Some(seconds) => HttpTimeout {
            seconds: seconds.clamp(100, 1200),
            from_variable: true,
        },
        None => HttpTimeout::default(),
    }
}

/// Judge the download's archive warning against the runner's real HTTP timeout: a longer one
/// (GITHUB_ACTIONS_RUNNER_HTTP_TIMEOUT) lets slower links fetch a 2 MB archive in time.
pub fn assess_archive(tp: &mut ThroughputReport, timeout: HttpTimeout) {
    for d in tp
        .directions
        .iter_mut()
        .filter(|d| d.direction == Direction::Download)
    {
        let Some(a) = d.archive else { continue };
        if a.seconds > timeout.seconds as f64 {
            d.archive = Some(ArchiveWarning { timeout, ..a });
        } else {
            d.archive = None;
            // The archive warning was this direction's only reason to warn.
            if d.verdict == Verdict::Warn && matches!(d.judgment, Judgment::AboveFloor { .. }) {
                d.verdict = Verdict::Pass;
            }
        }
    }
    tp.verdict = tp
        .directions
        .iter()
        .map(|d| d.verdict)
        .filter(|v| *v != Verdict::Skip)
        .max()
        .unwrap_or(Verdict::Skip);
}

/// Judge a measurement: both directions (download, then upload) and the overall verdict.
pub fn judge(
    m: Measurement,
    min_kbps: u32,
    max_bytes: u64,
    gating: bool,
    note: Option<String>,
) -> ThroughputReport {
    let down = match m.download {
        Some(s) => judge_direction(s, min_kbps),
        None => not_measured(Direction::Download, Missing::Source),
    };
    let up = match m.upload {
        Some(s) => judge_direction(s, min_kbps),
        None => not_measured(Direction::Upload, Missing::Sink),
    };
    let directions = vec![down, up];
    let verdict = directions
        .iter()
        .map(|d| d.verdict)
        .filter(|v| *v != Verdict::Skip)
        .max()
        .unwrap_or(Verdict::Skip);
    ThroughputReport {
        verdict,
        gating,
        min_kbps,
        max_bytes,
        directions,
        notes: note.into_iter().collect(),
    }
}

fn not_measured(direction: Direction, missing: Missing) -> DirectionResult {
    DirectionResult {
        direction,
        verdict: Verdict::Skip,
        judgment: Judgment::NotMeasured(missing),
        kbps: None,
        archive: None,
        proxy_only: false,
        update: None,
        sample: None,
    }
}

/// The verdict of a failure: `WARN` where the network path works but there is nothing to
/// measure (the source does not serve the file, or too little of it); `FAIL` otherwise.
pub fn failure_verdict(f: &ThroughputFailure) -> Verdict {
    match f {
        ThroughputFailure::SourceStatus { .. }
        | ThroughputFailure::TooFewBytes { .. }
        | ThroughputFailure::UploadUnconfirmable { .. }
        // The user's own time limit, not the network, stopped it: not measured, not slow.
        | ThroughputFailure::RunTimeLimit { .. } => Verdict::Warn,
        _ => Verdict::Fail,
    }
}

/// One direction's verdict against `min_kbps`.
pub fn judge_direction(s: DirectionSample, min_kbps: u32) -> DirectionResult {
    let floor = min_kbps as f64;
    let mut r = DirectionResult {
        direction: s.direction,
        verdict: Verdict::Fail,
        judgment: Judgment::AtOnce { bytes: s.bytes },
        kbps: None,
        archive: None,
        proxy_only: false,
        update: None,
        sample: None,
    };
    match (&s.failure, s.rate) {
        (Some(f), rate) => {
            r.verdict = failure_verdict(f);
            r.judgment = Judgment::Failed(f.clone());
            // A stall has a (tiny) rate over the time it waited: shown as measured.
            r.kbps = match f {
                ThroughputFailure::Stalled { .. } => rate,
                // Not confirmed in time: the rate is below this bound.
                ThroughputFailure::UploadUnconfirmed { .. } => {
                    rate.map(|r| (r * 10.0).round() / 10.0)
                }
                _ => None,
            };
        }
        // Everything arrived at once: faster than can be timed, above the floor.
        (None, None) => r.verdict = Verdict::Pass,
        (None, Some(rate)) => {
            r.kbps = Some((rate * 10.0).round() / 10.0);
            if rate >= floor {
                r.verdict = Verdict::Pass;
                r.judgment = Judgment::AboveFloor { rate, floor };
            } else {
                r.judgment = Judgment::BelowFloor { rate, floor };
            }
            if s.direction == Direction::Download && rate < ARCHIVE_KBPS {
                r.archive = Some(ArchiveWarning {
                    rate,
                    seconds: archive_seconds(rate),
                    timeout: HttpTimeout::default(),
                });
                if r.verdict == Verdict::Pass {
                    r.verdict = Verdict::Warn;
                }
            }
            // A proxy's upstream socket can hold megabytes: what it accepted quickly may still
            // crawl over the uplink behind it. Only a rate below the floor is conclusive.
            if s.direction == Direction::Upload
                && s.via_proxy.is_some()
                && r.verdict == Verdict::Pass
            {
                r.verdict = Verdict::Warn;
                r.proxy_only = true;
            }
        }
    }
    r.sample = Some(s);
    r
}

/// The runner's self-update allows this long per package download (actions/runner
/// `SelfUpdater`: 15 minutes, "good enough to update the runner from a 1 Mbit/s ADSL
/// connection"), unless `GITHUB_ACTIONS_RUNNER_DOWNLOAD_TIMEOUT` (seconds) says otherwise.
pub const RUNNER_DOWNLOAD_TIMEOUT_S: u64 = 15 * 60;
/// The variable the runner reads for its download timeout.
pub const DOWNLOAD_TIMEOUT_VAR: &str = "GITHUB_ACTIONS_RUNNER_DOWNLOAD_TIMEOUT";

/// The runner's package download timeout and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadTimeout {
    pub seconds: u64,
    /// Set by `GITHUB_ACTIONS_RUNNER_DOWNLOAD_TIMEOUT` (process environment or runner `.env`).
    pub from_variable: bool,
}

/// The runner's download timeout in `env`: the variable when it holds a positive whole number
/// of seconds (as the runner parses it), else 15 minutes.
pub fn download_timeout(env: &crate::env::RunnerEnv) -> DownloadTimeout {
    match env
        .get(DOWNLOAD_TIMEOUT_VAR)
        .and_then(|(v, _)| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
    {
        Some(seconds) => DownloadTimeout {
            seconds,
            from_variable: true,
        },
        None => DownloadTimeout {
            seconds: RUNNER_DOWNLOAD_TIMEOUT_S,
            from_variable: false,
        },
    }
}

/// How long the runner's own update download would take at the measured download rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UpdateEstimate {
    pub package_bytes: u64,
    /// `server` (Content-Range / Content-Length of the real package) or `profile`.
    pub size_from: &'static str,
    pub rate: f64,
    pub seconds: f64,
    pub timeout: DownloadTimeout,
    /// Longer than the timeout: the runner cannot update itself over this link.
    pub too_slow: bool,
}

/// Add the update estimate to the download direction: at its rate, the package of `package`
/// bytes takes how long, against `timeout`. Longer than the timeout is a `WARN` (the runner
/// keeps working until an update is required, then stops).
pub fn assess_update(
    tp: &mut ThroughputReport,
    package: Option<(u64, &'static str)>,
    timeout: DownloadTimeout,
) {
    let Some((package_bytes, size_from)) = package else {
        return;
    };
    let Some(d) = tp
        .directions
        .iter_mut()
        .find(|d| d.direction == Direction::Download)
    else {
        return;
    };
    let Some(rate) = d.kbps.filter(|r| *r > 0.0) else {
        return;
    };
    let seconds = package_bytes as f64 * 8.0 / 1000.0 / rate;
    let too_slow = seconds > timeout.seconds as f64;
    d.update = Some(UpdateEstimate {
        package_bytes,
        size_from,
        rate,
        seconds,
        timeout,
        too_slow,
    });
    if too_slow && d.verdict == Verdict::Pass {
        d.verdict = Verdict::Warn;
    }
    tp.verdict = tp
        .directions
        .iter()
        .map(|d| d.verdict)
        .filter(|v| *v != Verdict::Skip)
        .max()
        .unwrap_or(Verdict::Skip);
}

/// Seconds a 2 MB archive takes at `rate` kbit/s.
fn archive_seconds(rate: f64) -> f64 {
    ARCHIVE_BYTES as f64 * 8.0 / 1000.0 / rate.max(0.001)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::probe::throughput::AddressError;

    fn sample(direction: Direction, rate: Option<f64>) -> DirectionSample {
        DirectionSample {
            direction,
            url: "http://x.example/".into(),
            bytes: 100_000,
            sample: Duration::from_secs(1),
            elapsed: Duration::from_secs(2),
            ttfb: None,
            via_proxy: None,
            stopped: Some(StopReason::Certain),
            rate,
            failure: None,
        }
    }

    fn failed(direction: Direction, f: ThroughputFailure) -> DirectionSample {
        DirectionSample {
            failure: Some(f),
            stopped: None,
            ..sample(direction, None)
        }
    }

    fn proxy() -> crate::env::proxy::ProxyUrl {
        crate::env::proxy::ProxyUrl::parse("http://proxy.example:3128").unwrap()
    }

    fn verdict(dir: Direction, rate: f64) -> Verdict {
        judge_direction(sample(dir, Some(rate)), 70).verdict
    }

    #[test]
    fn archive_threshold_is_160_kbps() {
        assert!((ARCHIVE_KBPS - 160.0).abs() < 1e-9);
    }

    #[test]
    fn against_the_floor() {
        assert_eq!(verdict(Direction::Download, 60.0), Verdict::Fail);
        assert_eq!(verdict(Direction::Download, 100.0), Verdict::Warn);
        assert_eq!(verdict(Direction::Download, 500.0), Verdict::Pass);
        assert_eq!(verdict(Direction::Upload, 100.0), Verdict::Pass);
        assert_eq!(verdict(Direction::Upload, 60.0), Verdict::Fail);
        // The floor itself passes.
        assert_eq!(verdict(Direction::Upload, 70.0), Verdict::Pass);
        let r = judge_direction(sample(Direction::Upload, Some(123.456)), 70);
        assert_eq!(r.kbps, Some(123.5));
        assert!(matches!(r.judgment, Judgment::AboveFloor { .. }));
        let r = judge_direction(sample(Direction::Upload, Some(12.0)), 70);
        assert!(matches!(r.judgment, Judgment::BelowFloor { .. }));
        assert!(r.failure().is_none());
    }

    #[test]
    fn archive_warning_below_160_kbps_on_download_only() {
        let r = judge_direction(sample(Direction::Download, Some(80.0)), 70);
        assert_eq!(r.verdict, Verdict::Warn);
        let a = r.archive.expect("archive warning");
        assert!((a.seconds - 200.0).abs() < 1e-9, "{a:?}");
        // Below the floor it is still noted, but the verdict is FAIL.
        let r = judge_direction(sample(Direction::Download, Some(40.0)), 70);
        assert_eq!(r.verdict, Verdict::Fail);
        assert!(r.archive.is_some());
        assert!(
            judge_direction(sample(Direction::Download, Some(160.0)), 70)
                .archive
                .is_none()
        );
        assert!(judge_direction(sample(Direction::Upload, Some(80.0)), 70)
            .archive
            .is_none());
    }

    #[test]
    fn the_runners_http_timeout_variable_is_clamped_and_moves_the_archive_warning() {
        let mut env = crate::env::RunnerEnv::default();
        assert_eq!(http_timeout(&env), HttpTimeout::default());
        for (value, want) in [("300", 300), ("5", 100), ("99999", 1200), (" 150 ", 150)] {
            env.set(HTTP_TIMEOUT_VAR, value, crate::env::proxy::Origin::EnvFile);
            let t = http_timeout(&env);
            assert_eq!((t.seconds, t.from_variable), (want, true), "{value}");
        }
        env.set(HTTP_TIMEOUT_VAR, "soon", crate::env::proxy::Origin::EnvFile);
        assert_eq!(http_timeout(&env), HttpTimeout::default());
        // 80 kbit/s: a 2 MB archive takes 200 s — too slow for 100 s or 150 s, in time for 300 s.
        let report = |t: u64| {
            let mut tp = ThroughputReport {
                verdict: Verdict::Warn,
                gating: true,
                min_kbps: 70,
                max_bytes: 1,
                directions: vec![judge_direction(sample(Direction::Download, Some(80.0)), 70)],
                notes: vec![],
            };
            assess_archive(
                &mut tp,
                HttpTimeout {
                    seconds: t,
                    from_variable: true,
                },
            );
            tp
        };
        let slow = report(150);
        assert_eq!(slow.verdict, Verdict::Warn);
        assert_eq!(
            slow.directions[0].archive.map(|a| a.timeout.seconds),
            Some(150)
        );
        let in_time = report(300);
        assert_eq!(in_time.verdict, Verdict::Pass);
        assert!(in_time.directions[0].archive.is_none());
    }

    #[test]
    fn a_proxied_upload_that_passes_only_warns() {
        let through = |rate| DirectionSample {
            via_proxy: Some(proxy()),
            ..sample(Direction::Upload, Some(rate))
        };
        let r = judge_direction(through(500.0), 70);
        assert_eq!(r.verdict, Verdict::Warn);
        assert!(r.proxy_only);
        // Below the floor is conclusive even through a proxy.
        let r = judge_direction(through(30.0), 70);
        assert_eq!(r.verdict, Verdict::Fail);
        assert!(!r.proxy_only);
        // A proxied download is the real rate.
        let r = judge_direction(
            DirectionSample {
                via_proxy: Some(proxy()),
                ..sample(Direction::Download, Some(500.0))
            },
            70,
        );
        assert_eq!((r.verdict, r.proxy_only), (Verdict::Pass, false));
    }

    #[test]
    fn all_at_once_passes_without_a_rate() {
        let r = judge_direction(sample(Direction::Download, None), 70);
        assert_eq!(r.verdict, Verdict::Pass);
        assert_eq!(r.kbps, None);
        assert!(matches!(r.judgment, Judgment::AtOnce { bytes: 100_000 }));
    }

    #[test]
    fn failures() {
        let v = |f| judge_direction(failed(Direction::Download, f), 70).verdict;
        assert_eq!(
            v(ThroughputFailure::SourceStatus { status: 404 }),
            Verdict::Warn
        );
        assert_eq!(
            v(ThroughputFailure::TooFewBytes {
                bytes: 10,
                needed: 16384
            }),
            Verdict::Warn
        );
        assert_eq!(
            v(ThroughputFailure::ProxyRefused {
                status: 403,
                proxy: proxy()
            }),
            Verdict::Fail
        );
        assert_eq!(
            v(ThroughputFailure::Address(AddressError::NoneToConnect {
                host: "x".into(),
                port: 80,
                connect_to: None
            })),
            Verdict::Fail
        );
        assert_eq!(
            v(ThroughputFailure::TooManyRedirects { max: 3 }),
            Verdict::Fail
        );
        // A stall keeps its (tiny) rate and fails.
        let stalled = DirectionSample {
            rate: Some(0.5),
            failure: Some(ThroughputFailure::Stalled {
                bytes: 100,
                waited: Duration::from_secs(1),
                stopped: StopReason::TimeBound,
            }),
            ..sample(Direction::Download, None)
        };
        let r = judge_direction(stalled, 70);
        assert_eq!((r.verdict, r.kbps), (Verdict::Fail, Some(0.5)));
        assert!(r.failure().is_some());
        // Even a fast-looking rate never passes when there is a failure.
        let r = judge_direction(
            DirectionSample {
                rate: Some(1e6),
                failure: Some(ThroughputFailure::NoResponse(Duration::from_secs(1))),
                ..sample(Direction::Upload, None)
            },
            70,
        );
        assert_eq!((r.verdict, r.kbps), (Verdict::Fail, None));
    }

    #[test]
    fn overall_verdict_and_gating() {
        let m = |down, up| Measurement {
            download: down,
            upload: up,
        };
        // Nothing to measure: SKIP both ways, SKIP overall, no gating failure.
        let r = judge(m(None, None), 70, 1, true, Some("n".into()));
        assert_eq!(r.verdict, Verdict::Skip);
        assert_eq!(r.notes, vec!["n".to_string()]);
        assert!(r
            .directions
            .iter()
            .all(|d| d.verdict == Verdict::Skip && d.sample.is_none()));
        assert!(matches!(
            r.directions[0].judgment,
            Judgment::NotMeasured(Missing::Source)
        ));
        assert!(matches!(
            r.directions[1].judgment,
            Judgment::NotMeasured(Missing::Sink)
        ));
        assert!(!r.gating_failure());
        // A skipped upload does not lower a download's verdict.
        let r = judge(
            m(Some(sample(Direction::Download, Some(500.0))), None),
            70,
            1,
            true,
            None,
        );
        assert_eq!(r.verdict, Verdict::Pass);
        // The worst direction wins; a failure gates only when gating.
        let slow = || Some(sample(Direction::Upload, Some(10.0)));
        let fast = || Some(sample(Direction::Download, Some(500.0)));
        let r = judge(m(fast(), slow()), 70, 1, true, None);
        assert_eq!(r.verdict, Verdict::Fail);
        assert!(r.gating_failure() && r.measured_below_floor());
        let r = judge(m(fast(), slow()), 70, 1, false, None);
        assert!(!r.gating_failure());
        let unmeasured = judge(
            m(
                Some(failed(
                    Direction::Download,
                    ThroughputFailure::NoResponse(Duration::from_secs(1)),
                )),
                None,
            ),
            70,
            1,
            true,
            None,
        );
        assert!(unmeasured.gating_failure() && !unmeasured.measured_below_floor());
        // Directions come download first, then upload.
        assert_eq!(r.directions[0].direction, Direction::Download);
        assert_eq!(r.directions[1].direction, Direction::Upload);
    }

    #[test]
    fn update_estimate_against_the_download_timeout() {
        let mut env = crate::env::RunnerEnv::default();
        assert_eq!(
            download_timeout(&env),
            DownloadTimeout {
                seconds: 900,
                from_variable: false
            }
        );
        env.set(
            DOWNLOAD_TIMEOUT_VAR,
            " 1800 ",
            crate::env::proxy::Origin::EnvFile,
        );
        assert_eq!(
            download_timeout(&env),
            DownloadTimeout {
                seconds: 1800,
                from_variable: true
            }
        );
        env.set(
            DOWNLOAD_TIMEOUT_VAR,
            "soon",
            crate::env::proxy::Origin::EnvFile,
        );
        assert_eq!(download_timeout(&env).seconds, 900);
        // 70 kbit/s (the floor) cannot move a 150 MB package in 15 minutes: WARN.
        let m = Measurement {
            download: Some(sample(Direction::Download, Some(1000.0))),
            upload: None,
        };
        let mut tp = judge(m.clone(), 70, 1 << 20, true, None);
        assert_eq!(tp.verdict, Verdict::Pass);
        let t = DownloadTimeout {
            seconds: 900,
            from_variable: false,
        };
        assess_update(&mut tp, Some((150_000_000, "server")), t);
        let u = tp.directions[0].update.expect("estimate");
        assert!((u.seconds - 1200.0).abs() < 1e-6, "{u:?}");
        assert!(u.too_slow);
        assert_eq!(
            (tp.directions[0].verdict, tp.verdict),
            (Verdict::Warn, Verdict::Warn)
        );
        let mut tp = judge(m, 70, 1 << 20, true, None);
        assess_update(&mut tp, Some((100_000_000, "profile")), t);
        assert!(!tp.directions[0].update.expect("estimate").too_slow);
        assert_eq!(tp.verdict, Verdict::Pass);
    }
}
