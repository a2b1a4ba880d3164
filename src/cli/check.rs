//! `check`: settings → probe → report → render → outputs.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::args::CheckArgs;
use super::ci;
use super::output::{self, say};
use super::progress::{Phase, ProgressDisplay};
use super::settings::CheckSettings;
use super::{now_rfc3339, Failure, Interrupted};
use crate::probe;
use crate::render::{self, Format};
use crate::report::{self, RunInfo, Settings};

pub fn check(args: CheckArgs) -> Result<u8, Failure> {
    let s = CheckSettings::new(args)?;
    let progress = Arc::new(ProgressDisplay::new(
        !s.quiet,
        std::io::stderr().is_terminal(),
        s.plan.targets().iter().map(|t| t.host.as_str()),
    ));
    let rt = super::runtime()?;
    let finished = super::interruptible(&rt, run_once(&s, &s.plan, true, progress.clone()));
    let report = match finished {
        Ok(r) => r,
        Err(signal) => {
            // getaddrinfo threads may still be blocked on a dead resolver: do not wait for them.
            rt.shutdown_timeout(super::SHUTDOWN_GRACE);
            return Err(Failure::Interrupted(Interrupted {
                signal,
                what: format!("{}; no report written", progress.interrupted()),
            }));
        }
    };
    let watch = super::watch_signals(
        &rt,
        "interrupted while writing the outputs; an output may be missing",
    );
    progress.finish();
    let written = write_outputs(&s, &report);
    drop(watch);
    rt.shutdown_timeout(super::SHUTDOWN_GRACE);
    written?;
    Ok(report.exit_code)
}

/// One run of `plan` (the settings' own, or part of it for `serve`'s /probe) → the report:
/// probe, measure throughput and hold the long poll (both only with `extras`), judge.
pub(super) async fn run_once(
    s: &CheckSettings,
    plan: &crate::plan::Plan,
    extras: bool,
    progress: Arc<ProgressDisplay>,
) -> report::Report {
    let cfg = &s.cfg;
    let targets = plan.targets();
    let started = Instant::now();
    let generated_at = now_rfc3339();
    let work = async {
        // The throughput measurement runs beside the probes: it starts as soon as the probe of
        // its first URL's name has connected (that name is reachable, and its DNS answer is
        // reused), while the other names are still being probed.
        let prober = probe::Prober::new(&targets, cfg.clone());
        // Probing is over / the measurement is under way (for the phase an interruption names).
        let (probed, measuring) = (AtomicBool::new(false), AtomicBool::new(false));
        let probing = async {
            let outcomes = prober.run(targets, progress.clone()).await;
            probed.store(true, Ordering::SeqCst);
            if measuring.load(Ordering::SeqCst) {
                progress.phase(Phase::Throughput);
            }
            outcomes
        };
        let throughput = async {
            let t = s.throughput.as_ref().filter(|_| extras)?;
            let first_url = t.download.as_deref().or(t.upload.as_deref());
            if let Some(host) = first_url.and_then(|u| crate::model::parse_url(u).ok()) {
                prober.connected(&host.host).await;
            }
            let tp = &plan.throughput;
            let settings = &t.settings;
            // Said while the probes may still run: the phase is "throughput" once they are done.
            progress.note(Phase::Probing, &format!(
                "measuring throughput against the {} kbit/s floor (at most {} bytes and {} per direction)…",
                settings.min_kbps,
                settings.max_bytes,
                probe::dns::fmt_duration(settings.max_time)
            ));
            measuring.store(true, Ordering::SeqCst);
            if probed.load(Ordering::SeqCst) {
                progress.phase(Phase::Throughput);
            }
            let dialer = prober.dialer();
            // `--max-time` bounds the whole run, the measurement included (issue 22, row 10).
            let settings = &probe::throughput::Settings {
                until: Some((started + s.max_time, s.max_time)),
                ..settings.clone()
            };
            let measured = probe::throughput::measure(
                &dialer,
                &cfg.trust,
                settings,
                t.download.as_deref(),
                t.upload.as_deref(),
            )
            .await;
            measuring.store(false, Ordering::SeqCst);
            Some(report::throughput::judge(
                measured,
                settings.min_kbps,
                settings.max_bytes,
                tp.gating,
                tp.note.clone(),
            ))
        };
        // Redirect probes (runner updates) follow their chains beside the other probes; the
        // release dates for runner version currency (only when the profile states GitHub's
        // version rules) once the chains have learned the latest version.
        let redirects = async {
            // The release dates and the API quota do not wait for the chains: the dates start
            // as soon as the latest version is known, the quota at once (issue 25).
            let dates = async {
                // With an installed runner behind the latest, the releases list too: the
                // 30-day rule looks at the oldest release newer than the installed one.
                let installed = s
                    .setup
                    .installed
                    .as_ref()
                    .and_then(|i| i.as_ref().ok())
                    .map(|i| i.version);
                match plan.runner_version.as_ref() {
                    Some(_) => match prober.latest_release().await {
                        Some(v) => Some(
                            probe::release::dates(
                                &prober.dialer(),
                                &cfg.trust,
                                v,
                                installed,
                                cfg.timeout,
                            )
                            .await,
                        ),
                        None => None,
                    },
                    None => None,
                }
            };
            // The API quota of this egress address, when the profile asks for it.
            let quota = async {
                match plan.api_quota {
                    true => probe::quota::ask(&prober.dialer(), &cfg.trust, cfg.timeout).await,
                    false => None,
                }
            };
            tokio::join!(prober.follow_redirects(plan.redirects()), dates, quota)
        };
        // Docker's files, bridges and API, for the container-jobs check (read at every run:
        // `serve` sees job networks come and go).
        let container = async {
            match plan.container_jobs {
                Some(_) => Some(probe::docker::observe(&s.docker, &cfg.network, cfg.timeout).await),
                None => None,
            }
        };
        let (outcomes, redirects, throughput, container) =
            tokio::join!(probing, redirects, throughput, container);
        // Date headers are compared with the clock as it was when they arrived (before a long poll).
        let probed_at = std::time::SystemTime::now();
        let long_poll = match s.long_poll.filter(|_| extras) {
            None => None,
            Some(lp) => {
                progress.phase(Phase::LongPoll);
                if !s.quiet {
                    say(&format!(
                        "runner-preflight: holding an idle HTTPS connection for {} s ({})…",
                        lp.hold.as_secs(),
                        if lp.primed {
                            "--idle-hold"
                        } else {
                            "--long-poll"
                        }
                    ));
                }
                // The long-poll name's addresses as the probe found them.
                let addresses = |host: &str| {
                    outcomes
                        .iter()
                        .find(|(t, _)| t.host == host)
                        .map(|(_, o)| o.dns.addresses.iter().map(|a| a.address).collect())
                        .unwrap_or_default()
                };
                Some(probe::long_poll::for_plan(cfg, plan, addresses, lp.hold, lp.primed).await)
            }
        };
        (
            outcomes, redirects, throughput, probed_at, long_poll, container,
        )
    };
    let (
        outcomes,
        (redirects, release_date, quota),
        mut throughput,
        probed_at,
        long_poll,
        container,
    ) = work.await;

    let results = report::judge_all(&outcomes);
    let redirects = report::redirect::judge_all(redirects, plan);
    let runner_version = plan.runner_version.as_ref().map(|policy| {
        let release = redirects.0.values().find_map(|(r, _)| r.release.as_ref());
        report::runner_version::judge(
            policy,
            s.setup.installed.clone(),
            release,
            release_date.as_ref(),
            time::OffsetDateTime::now_utc(),
        )
    });
    if let Some(tp) = throughput.as_mut() {
        report::throughput::assess_archive(tp, report::throughput::http_timeout(&s.setup.env));
        report::throughput::assess_update(
            tp,
            redirects.runner_package_size(),
            report::throughput::download_timeout(&s.setup.env),
        );
    }
    let container_jobs = container.zip(plan.container_jobs).map(|(obs, planned)| {
        report::container::judge(
            obs,
            planned.gating,
            &cfg.network,
            &results.values().collect::<Vec<_>>(),
            &s.setup.proxy,
        )
    });
    let mut network = report::findings::summarize(
        Some(&s.setup),
        &results.values().collect::<Vec<_>>(),
        long_poll.flatten(),
        probed_at,
    );
    network
        .findings
        .extend(quota.map(report::findings::api_quota));
    network
        .findings
        .extend(report::findings::resolver_disagreements(
            &results.values().collect::<Vec<_>>(),
            throughput.as_ref(),
        ));
    let mut report = report::build_with(
        plan,
        &results,
        &redirects,
        RunInfo {
            generated_at,
            hostname: hostname(),
            settings: Settings {
                timeout_ms: s.timeout.as_millis() as u64,
                max_time_ms: s.max_time.as_millis() as u64,
                concurrency: s.concurrency as usize,
                dns_servers: s.dns_servers.iter().map(|s| s.to_string()).collect(),
                dns_servers_given: matches!(s.cfg.dns, crate::probe::DnsMode::Servers(_)),
                ca_files: s.ca_files.iter().map(|p| p.display().to_string()).collect(),
                fail_on: s.pipeline.fail_on,
            },
            duration_ms: started.elapsed().as_millis() as u64,
            throughput,
            runner_version,
            container_jobs,
            network,
        },
    );
    s.pipeline.apply(&mut report);
    report
}

/// The report where it was asked for, the pipeline files, the GitHub Actions extras. Every one
/// is attempted; the first failure is the error.
fn write_outputs(s: &CheckSettings, report: &report::Report) -> Result<(), Failure> {
    let text = render::render(report, s.format, &s.style);
    let fits = match s.format {
        Format::Json => output::readable_report(
            if s.output.is_some() {
                "--output"
            } else {
                "standard output"
            },
            &text,
        ),
        _ => Ok(()),
    };
    let main = fits.and_then(|()| match &s.output {
        Some(path) => output::write_file("--output", path, text.as_bytes()).map(|()| {
            if !s.quiet {
                say(&format!(
                    "runner-preflight: {} — report written to {}",
                    report.verdict.label(),
                    path.display()
                ));
            }
        }),
        None => output::stdout("the report", &text),
    });
    let files = s.pipeline.write_files(report);
    let stdout_is_data = s.output.is_none() && s.format != Format::Table;
    let actions = ci::github_actions(report, stdout_is_data);
    let mut errors = [main.err(), files.err(), actions.err()]
        .into_iter()
        .flatten();
    let first = errors.next();
    for e in errors {
        say(&format!("error: {e}"));
    }
    match first {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

fn hostname() -> String {
    crate::platform::hostname()
}
