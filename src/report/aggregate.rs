//! Joining per-name results into entry, capability and overall verdicts.

use std::collections::{BTreeMap, HashMap};

use super::findings::{NetworkReport, Severity};
use super::*;
use crate::error::EXIT_GATE;
use crate::model::text::printable;
use crate::plan::{Plan, Target};

/// What the run knew besides the results.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub generated_at: String,
    pub hostname: String,
    pub settings: Settings,
    pub duration_ms: u64,
    pub throughput: Option<ThroughputReport>,
    /// Runner version currency, when the profile states GitHub's version rules.
    pub runner_version: Option<super::runner_version::RunnerVersionReport>,
    /// The container-jobs check, when it ran.
    pub container_jobs: Option<super::container::ContainerReport>,
    pub network: NetworkReport,
}

/// Every target's observation judged once (a name probed for several capabilities is one
/// target per distinct endpoint set).
pub fn judge_all(outcomes: &HashMap<Target, TargetOutcome>) -> HashMap<Target, TargetResult> {
    outcomes
        .iter()
        .map(|(t, o)| (t.clone(), super::judge_target(o.clone())))
        .collect()
}

/// Join the plan and the judged targets into the report; the one place that decides the
/// exit code (with `--fail-on`).
pub fn build(plan: &Plan, results: &HashMap<Target, TargetResult>, run: RunInfo) -> Report {
    build_with(plan, results, &super::redirect::Redirects::default(), run)
}

/// [`build`] with the judged redirect chains: each redirect entry's names are its hops.
pub fn build_with(
    plan: &Plan,
    results: &HashMap<Target, TargetResult>,
    redirects: &super::redirect::Redirects,
    run: RunInfo,
) -> Report {
    let mut capabilities = Vec::new();
    let mut counted: HashMap<String, Verdict> = HashMap::new();
    // GITHUB_ACTIONS_RUNNER_TLS_NO_VERIFY set where the runner reads it (its finding says so).
    let no_verify = run
        .network
        .findings
        .iter()
        .any(|f| matches!(f.kind, super::findings::FindingKind::TlsNoVerify { .. }));
    for cap in &plan.capabilities {
        let mut entries = Vec::new();
        for e in &cap.entries {
            let (targets, redirect) = match e.redirect.as_ref().map(|r| redirects.0.get(r)) {
                Some(Some((chain, hops))) => (hops.clone(), Some(chain.clone())),
                Some(None) => (Vec::new(), None),
                None => (
                    e.targets
                        .iter()
                        .filter_map(|t| {
                            let mut r = results.get(t).cloned()?;
                            r.planned_ports = t.endpoints.iter().map(|e| e.port).collect();
                            Some(r)
                        })
                        .collect(),
                    None,
                ),
            };
            let mut targets = targets;
            // Only the runner's own client skips verification; node, git and docker still
            // verify, so other capabilities keep their failures.
            if no_verify && cap.runner_client {
                targets
                    .iter_mut()
                    .for_each(super::verdict::as_runner_without_verification);
            }
            for t in &targets {
                let v = counted.entry(t.host.clone()).or_insert(t.verdict);
                *v = (*v).max(t.verdict);
            }
            let verdict = targets
                .iter()
                .map(|t| t.verdict)
                .max()
                .unwrap_or(Verdict::Skip);
            entries.push(EntryReport {
                pattern: e.pattern.clone(),
                wildcard: e.wildcard,
                note: match (&e.note, targets.is_empty()) {
                    (Some(n), _) => Some(printable(n)),
                    (None, true) => {
                        Some("documented pattern with no representative name to probe".to_string())
                    }
                    (None, false) => None,
                },
                verdict,
                targets,
                redirect,
                origin: e.origin.clone(),
            });
        }
        let verdict = entries
            .iter()
            .map(|e| e.verdict)
            .filter(|v| *v != Verdict::Skip)
            .max()
            .unwrap_or(Verdict::Skip);
        let cause = (verdict >= Verdict::Warn)
            .then(|| {
                entries.iter().enumerate().find_map(|(ei, e)| {
                    e.targets
                        .iter()
                        .position(|t| t.verdict == verdict && t.cause.is_some())
                        .map(|ti| (ei, ti))
                })
            })
            .flatten();
        capabilities.push(CapabilityReport {
            id: cap.id.clone(),
            title: printable(&cap.title),
            gating: cap.gating,
            verdict,
            cause,
            entries,
        });
    }
    let tp = run.throughput.as_ref();
    let gating_fail = capabilities
        .iter()
        .any(|c| c.gating && c.verdict == Verdict::Fail)
        || tp.is_some_and(|t| t.gating && t.verdict == Verdict::Fail)
        || run
            .runner_version
            .as_ref()
            .is_some_and(|r| r.gating && r.verdict == Verdict::Fail)
        || run
            .container_jobs
            .as_ref()
            .is_some_and(|c| c.gating && c.verdict == Verdict::Fail);
    // A network warning (a trust store that would reject what the runner accepts, interception,
    // clock skew, a cut long poll, a proxy setting the runner reads differently) means something
    // of the runner's breaks even when every probe passed: never an unqualified PASS.
    let network_warning = run
        .network
        .findings
        .iter()
        .any(|f| f.severity == Severity::Warn);
    let any_problem = capabilities.iter().any(|c| c.verdict >= Verdict::Warn)
        || tp.is_some_and(|t| t.verdict >= Verdict::Warn)
        || run
            .runner_version
            .as_ref()
            .is_some_and(|r| r.verdict >= Verdict::Warn)
        || run
            .container_jobs
            .as_ref()
            .is_some_and(|c| c.verdict >= Verdict::Warn)
        || network_warning;
    let verdict = if gating_fail {
        Verdict::Fail
    } else if any_problem {
        Verdict::Warn
    } else if capabilities.iter().all(|c| c.verdict == Verdict::Skip)
        && run
            .container_jobs
            .as_ref()
            .is_none_or(|c| c.verdict == Verdict::Skip)
    {
        Verdict::Skip
    } else {
        Verdict::Pass
    };
    let mut summary = Summary::default();
    for v in counted.values() {
        match v {
            Verdict::Pass => summary.pass += 1,
            Verdict::Warn => summary.warn += 1,
            Verdict::Fail => summary.fail += 1,
            Verdict::Skip => summary.skip += 1,
        }
    }
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        },
        generated_at: run.generated_at,
        hostname: run.hostname,
        labels: BTreeMap::new(),
        profile: ProfileInfo {
            name: plan.profile_name.clone(),
            title: printable(&plan.profile_title),
            origin: plan.profile_origin.clone(),
            variables: plan.variables.clone(),
        },
        exit_code: if run.settings.fail_on.gates(verdict) {
            EXIT_GATE
        } else {
            0
        },
        settings: run.settings,
        verdict,
        duration_ms: run.duration_ms,
        summary,
        capabilities,
        throughput: run.throughput,
        runner_version: run.runner_version,
        container_jobs: run.container_jobs,
        inactive: plan
            .inactive
            .iter()
            .map(|(id, reason)| Inactive {
                id: id.clone(),
                reason: reason.clone(),
            })
            .collect(),
        network: run.network,
        diagnosis: Vec::new(),
    };
    super::diagnose::diagnose(&mut report);
    report
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, SocketAddr};

    use super::*;
    use crate::model::Route;
    use crate::plan::{Endpoint, PlannedCapability, PlannedEntry, PlannedThroughput, Proto};
    use crate::probe::outcome::{CheckObservation, DnsObservation, Step};
    use crate::probe::tcp::TcpFailure;
    use crate::report::findings::{Finding, FindingKind, Topic};
    use crate::report::throughput::ThroughputReport;
    use crate::report::FailOn;

    fn target(host: &str) -> Target {
        Target {
            host: host.into(),
            endpoints: vec![Endpoint {
                port: 443,
                proto: Proto::Https,
                http: None,
            }],
        }
    }

    /// The judged result of `host` with one TCP check: passing, failing or (DNS) warning.
    fn result(host: &str, verdict: Verdict) -> TargetResult {
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let addr = SocketAddr::new(ip, 443);
        let mut dns = DnsObservation::none();
        dns.dns_addresses = vec![ip];
        if verdict == Verdict::Warn {
            dns.failure = Some(crate::probe::outcome::DnsFailure::NoAddresses);
        }
        let failure = (verdict == Verdict::Fail).then_some(TcpFailure::Refused { addr, tried: 1 });
        let mut t = judge_target(TargetOutcome {
            host: host.into(),
            route: Route::Direct,
            dns,
            checks: vec![CheckObservation {
                port: 443,
                family: Some(crate::model::Family::Ipv4),
                address: Some(addr),
                ms: 1,
                connection: None,
                start_ms: None,
                step: Step::Connect {
                    redirected: None,
                    only_family: true,
                    failure,
                    path: None,
                },
            }],
            ms: 1,
            incomplete: None,
        });
        if verdict == Verdict::Skip {
            t.verdict = Verdict::Skip;
            t.cause = None;
        }
        assert_eq!(t.verdict, verdict, "{host}");
        t
    }

    fn entry(hosts: &[&str], note: Option<&str>) -> PlannedEntry {
        PlannedEntry {
            pattern: hosts.first().copied().unwrap_or("*.none.example").into(),
            wildcard: hosts.is_empty(),
            note: note.map(str::to_string),
            targets: hosts.iter().map(|h| target(h)).collect(),
            redirect: None,
            origin: None,
        }
    }

    fn plan(caps: Vec<(&str, bool, Vec<PlannedEntry>)>) -> Plan {
        Plan {
            profile_name: "t".into(),
            profile_title: "T\u{1b}[2J".into(),
            profile_origin: "test".into(),
            variables: Default::default(),
            capabilities: caps
                .into_iter()
                .map(|(id, gating, entries)| PlannedCapability {
                    id: id.into(),
                    title: format!("{id}\n"),
                    gating,
                    runner_client: false,
                    entries,
                })
                .collect(),
            inactive: vec![("off".into(), "not asked for".into())],
            throughput: PlannedThroughput {
                min_kbps: 0,
                gating: false,
                download: None,
                upload: None,
                note: None,
            },
            runner_version: None,
            api_quota: false,
            container_jobs: None,
        }
    }

    fn run(fail_on: FailOn) -> RunInfo {
        RunInfo {
            generated_at: "now".into(),
            hostname: "host".into(),
            settings: Settings {
                timeout_ms: 1,
                max_time_ms: 1,
                concurrency: 1,
                dns_servers: vec![],
                dns_servers_given: false,
                ca_files: vec![],
                fail_on,
            },
            duration_ms: 5,
            throughput: None,
            runner_version: None,
            container_jobs: None,
            network: NetworkReport::default(),
        }
    }

    fn results(rs: &[(&str, Verdict)]) -> HashMap<Target, TargetResult> {
        rs.iter().map(|(h, v)| (target(h), result(h, *v))).collect()
    }

    #[test]
    fn judge_all_judges_every_target() {
        let t = target("a.example");
        let o = TargetOutcome {
            host: "a.example".into(),
            route: Route::Direct,
            dns: DnsObservation::none(),
            checks: vec![],
            ms: 1,
            incomplete: None,
        };
        let all = judge_all(&HashMap::from([(t.clone(), o)]));
        assert_eq!(all.len(), 1);
        assert_eq!(all[&t].verdict, Verdict::Fail);
    }

    #[test]
    fn summary_counts_each_name_once_at_its_worst() {
        let p = plan(vec![
            ("one", true, vec![entry(&["p.example", "f.example"], None)]),
            (
                "two",
                false,
                vec![entry(
                    &["p.example", "w.example", "s.example", "s2.example"],
                    None,
                )],
            ),
            ("three", false, vec![entry(&["f.example"], None)]),
        ]);
        let r = results(&[
            ("p.example", Verdict::Pass),
            ("f.example", Verdict::Fail),
            ("w.example", Verdict::Warn),
            ("s.example", Verdict::Skip),
            ("s2.example", Verdict::Skip),
        ]);
        let rep = build(&p, &r, run(FailOn::Fail));
        let s = &rep.summary;
        assert_eq!((s.pass, s.warn, s.fail, s.skip), (1, 1, 1, 2));
        // The same host passing here and failing elsewhere counts once, as failing.
        let p = plan(vec![
            ("one", false, vec![entry(&["a.example"], None)]),
            ("two", false, vec![entry(&["a.example"], None)]),
        ]);
        let mut r = results(&[("a.example", Verdict::Pass)]);
        let mut other = target("a.example");
        other.endpoints[0].port = 80;
        r.insert(other.clone(), result("a.example", Verdict::Fail));
        let mut p2 = p.clone();
        p2.capabilities[1].entries[0].targets = vec![other];
        for (p, fail) in [(p, 0), (p2, 1)] {
            let rep = build(&p, &r, run(FailOn::Fail));
            let s = &rep.summary;
            assert_eq!((s.pass + s.fail, s.fail, s.warn, s.skip), (1, fail, 0, 0));
        }
    }

    #[test]
    fn entries_and_capabilities_take_their_worst_non_skipped_verdict() {
        let p = plan(vec![
            (
                "cap",
                false,
                vec![
                    entry(&["s.example"], None),
                    entry(&["p.example"], Some("a note\u{7}")),
                    entry(&[], None),
                ],
            ),
            ("skipped", false, vec![entry(&["s.example"], None)]),
        ]);
        let r = results(&[("s.example", Verdict::Skip), ("p.example", Verdict::Pass)]);
        let rep = build(&p, &r, run(FailOn::Warn));
        let cap = &rep.capabilities[0];
        assert_eq!(cap.title, "cap\\u{a}");
        assert_eq!(
            cap.entries.iter().map(|e| e.verdict).collect::<Vec<_>>(),
            [Verdict::Skip, Verdict::Pass, Verdict::Skip]
        );
        assert_eq!(cap.entries[1].note.as_deref(), Some("a note\\u{7}"));
        assert_eq!(cap.entries[0].note, None);
        assert_eq!(
            cap.entries[2].note.as_deref(),
            Some("documented pattern with no representative name to probe")
        );
        assert_eq!((cap.verdict, cap.cause), (Verdict::Pass, None));
        assert_eq!(rep.capabilities[1].verdict, Verdict::Skip);
        assert_eq!((rep.verdict, rep.exit_code), (Verdict::Pass, 0));
        assert_eq!(rep.profile.title, "T\\u{1b}[2J");
        assert_eq!(rep.inactive.len(), 1);
        assert_eq!(rep.inactive[0].id, "off");
        assert_eq!(rep.inactive[0].reason, "not asked for");
        assert_eq!((rep.duration_ms, rep.hostname.as_str()), (5, "host"));
        // Nothing but skips: the run is skipped.
        let p = plan(vec![("skipped", true, vec![entry(&["s.example"], None)])]);
        let rep = build(&p, &r, run(FailOn::Warn));
        assert_eq!((rep.verdict, rep.exit_code), (Verdict::Skip, 0));
    }

    #[test]
    fn a_capabilitys_cause_comes_from_its_worst_target() {
        let p = plan(vec![(
            "cap",
            false,
            vec![
                entry(&["w.example"], None),
                entry(&["p.example", "f.example", "f2.example"], None),
            ],
        )]);
        let r = results(&[
            ("w.example", Verdict::Warn),
            ("p.example", Verdict::Pass),
            ("f.example", Verdict::Fail),
            ("f2.example", Verdict::Fail),
        ]);
        let rep = build(&p, &r, run(FailOn::Fail));
        let cap = &rep.capabilities[0];
        assert_eq!(cap.verdict, Verdict::Fail);
        assert_eq!(cap.cause, Some((1, 1)));
        assert_eq!(cap.cause_target().unwrap().host, "f.example");
        // Only a warning: the warning target.
        let p = plan(vec![(
            "cap",
            false,
            vec![entry(&["p.example"], None), entry(&["w.example"], None)],
        )]);
        let rep = build(&p, &r, run(FailOn::Fail));
        assert_eq!(rep.capabilities[0].cause, Some((1, 0)));
    }

    #[test]
    fn exit_code_and_overall_verdict() {
        let r = results(&[
            ("p.example", Verdict::Pass),
            ("f.example", Verdict::Fail),
            ("w.example", Verdict::Warn),
        ]);
        let one = |gating, host: &str| plan(vec![("cap", gating, vec![entry(&[host], None)])]);
        let cases = [
            // (gating, host, fail_on) → verdict, exit code
            (true, "f.example", FailOn::Fail, Verdict::Fail, EXIT_GATE),
            (false, "f.example", FailOn::Fail, Verdict::Warn, 0),
            (false, "f.example", FailOn::Warn, Verdict::Warn, EXIT_GATE),
            (true, "w.example", FailOn::Fail, Verdict::Warn, 0),
            (true, "w.example", FailOn::Warn, Verdict::Warn, EXIT_GATE),
            (true, "p.example", FailOn::Warn, Verdict::Pass, 0),
        ];
        for (gating, host, fail_on, verdict, code) in cases {
            let rep = build(&one(gating, host), &r, run(fail_on));
            assert_eq!(
                (rep.verdict, rep.exit_code),
                (verdict, code),
                "{gating} {host} {fail_on:?}"
            );
            assert_eq!(rep.settings.fail_on, fail_on);
        }
        // A network warning: never an unqualified PASS; a note changes nothing.
        for (severity, verdict) in [
            (Severity::Warn, Verdict::Warn),
            (Severity::Note, Verdict::Pass),
        ] {
            let mut info = run(FailOn::Fail);
            info.network.findings.push(Finding {
                severity,
                topic: Topic::Proxy,
                kind: FindingKind::ProxySetting {
                    message: "m".into(),
                },
                hosts: vec![],
            });
            let rep = build(&one(true, "p.example"), &r, info);
            assert_eq!((rep.verdict, rep.exit_code), (verdict, 0));
        }
        // Throughput: a gating failure fails the run, a non-gating one warns.
        for (gating, tv, verdict) in [
            (true, Verdict::Fail, Verdict::Fail),
            (false, Verdict::Fail, Verdict::Warn),
            (true, Verdict::Warn, Verdict::Warn),
            (true, Verdict::Pass, Verdict::Pass),
        ] {
            let mut info = run(FailOn::Fail);
            info.throughput = Some(ThroughputReport {
                verdict: tv,
                gating,
                min_kbps: 1,
                max_bytes: 1,
                directions: vec![],
                notes: vec![],
            });
            let rep = build(&one(true, "p.example"), &r, info);
            assert_eq!(rep.verdict, verdict, "{gating} {tv:?}");
        }
    }
}
