//! Observations → verdicts: each check, a name's DNS, and the name as a whole, with the typed
//! cause of anything that does not pass.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::{Cause, Check, DnsNote, DnsProblem, DnsResult, HttpJudgement, TargetResult, Verdict};
use crate::model::Family;
use crate::probe::outcome::{
    CheckObservation, DnsObservation, DnsSource, HttpInfo, Step, SystemLookup, TargetOutcome,
};

use crate::model::http::proxy_own_status as proxy_refusal;

/// How an HTTP answer reads: did GitHub answer, and how; `through_proxy` for a plain-HTTP
/// request to a proxy.
pub fn judge_http(info: &HttpInfo, through_proxy: bool) -> (Verdict, HttpJudgement) {
    let status = info.status.unwrap_or(0);
    if through_proxy && info.header_present != Some(true) && proxy_refusal(status) {
        return (
            Verdict::Fail,
            if status == 407 {
                HttpJudgement::ProxyAuth
            } else {
                HttpJudgement::ProxyRefused
            },
        );
    }
    match (&info.expect_header, info.header_present) {
        (Some(_), Some(true)) if status >= 500 => {
            (Verdict::Warn, HttpJudgement::FingerprintedServerError)
        }
        (Some(_), Some(true)) => (Verdict::Pass, HttpJudgement::Fingerprinted),
        (Some(_), _) => (Verdict::Fail, HttpJudgement::NotGitHub),
        (None, _) if status >= 500 => (Verdict::Warn, HttpJudgement::ServerError),
        (None, _) => (Verdict::Pass, HttpJudgement::Answered),
    }
}

/// One check's verdict.
pub fn judge_check(obs: CheckObservation) -> Check {
    let (verdict, judgement) = match &obs.step {
        _ if obs.failed() => (Verdict::Fail, None),
        Step::Http { http, proxy, .. } => {
            let (v, j) = judge_http(http, proxy.is_some());
            (v, Some(j))
        }
        _ => (Verdict::Pass, None),
    };
    Check {
        phase: obs.phase(),
        verdict,
        obs,
        judgement,
    }
}

fn set(addrs: impl IntoIterator<Item = IpAddr>) -> Vec<IpAddr> {
    addrs
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// A name's DNS: verdict, the problem when it fails, and notes.
pub fn judge_dns(obs: DnsObservation) -> DnsResult {
    let mut notes = Vec::new();
    let mut problem = None;
    let mut verdict = Verdict::Pass;
    if obs.source == DnsSource::Override {
        notes.push(DnsNote::Override);
    } else {
        let dns_found = !obs.dns_addresses.is_empty();
        match (&obs.failure, dns_found) {
            (Some(f), false) => match &obs.system {
                Some(SystemLookup::Answered { addresses }) if !addresses.is_empty() => {
                    notes.push(DnsNote::SystemRescued {
                        system: set(addresses.iter().copied()),
                        failure: f.clone(),
                    });
                }
                _ => {
                    verdict = Verdict::Fail;
                    problem = Some(DnsProblem::Failed { failure: f.clone() });
                }
            },
            (Some(f), true) => {
                // Addresses, but a broken chain for one record type (e.g. a loop on AAAA).
                verdict = Verdict::Warn;
                notes.push(DnsNote::Partial { failure: f.clone() });
            }
            (None, false) => {
                verdict = Verdict::Fail;
                problem = Some(DnsProblem::Failed {
                    failure: crate::probe::outcome::DnsFailure::NoAddresses,
                });
            }
            (None, true) => {}
        }
        if verdict != Verdict::Fail && dns_found {
            match &obs.system {
                Some(SystemLookup::Failed { failure }) => {
                    verdict = Verdict::Fail;
                    problem = Some(DnsProblem::SystemFails {
                        dns: set(obs.dns_addresses.iter().copied()),
                        failure: failure.clone(),
                    });
                }
                Some(SystemLookup::Answered { addresses })
                    if !addresses.is_empty()
                        && set(addresses.iter().copied())
                            != set(obs.dns_addresses.iter().copied()) =>
                {
                    notes.push(DnsNote::SystemDiffers {
                        system: set(addresses.iter().copied()),
                        dns: set(obs.dns_addresses.iter().copied()),
                    });
                }
                _ => {}
            }
        }
    }
    if let Some(d64 @ crate::probe::nat64::Dns64::Prefix { prefix, len }) = obs.dns64 {
        let synthesised = set(obs
            .addresses
            .iter()
            .map(|a| a.address)
            .filter(|a| d64.covers(*a)));
        if !synthesised.is_empty() {
            notes.push(DnsNote::Nat64 {
                addresses: synthesised,
                prefix,
                len,
            });
        }
    }
    if obs.via_proxy && verdict == Verdict::Fail {
        // The proxy resolves the names it connects to: local DNS is not needed.
        if let Some(p) = problem.take() {
            notes.push(DnsNote::NotNeeded { problem: p });
        }
        verdict = Verdict::Skip;
    }
    DnsResult {
        verdict,
        obs,
        problem,
        notes,
    }
}

/// The verdict of one probed name from its DNS and checks, with the first cause.
///
/// Per port, each address family is a path (TCP → TLS → HTTP). A port passes when one family's
/// path passes; a failing other family is a warning (the runner may still pick it first). The
/// name takes the worst verdict over its ports; between ports of the same verdict the first
/// port's cause is kept.
pub fn target_verdict(dns: &DnsResult, checks: &[Check]) -> (Verdict, Option<Cause>) {
    if dns.verdict == Verdict::Fail {
        return (Verdict::Fail, dns.problem.clone().map(Cause::Dns));
    }
    let mut ports: BTreeMap<u16, BTreeMap<Option<Family>, Vec<usize>>> = BTreeMap::new();
    for (i, c) in checks.iter().enumerate() {
        ports
            .entry(c.obs.port)
            .or_default()
            .entry(c.obs.family)
            .or_default()
            .push(i);
    }
    let mut verdict = if dns.verdict == Verdict::Warn {
        Verdict::Warn
    } else {
        Verdict::Pass
    };
    let mut cause = if dns.verdict == Verdict::Warn {
        dns.notes.first().cloned().map(Cause::DnsNote)
    } else {
        None
    };
    for families in ports.values() {
        let mut good: Option<Verdict> = None;
        let mut bad: Vec<usize> = Vec::new();
        let mut warn_cause = None;
        for path in families.values() {
            let worst = path
                .iter()
                .map(|&i| checks[i].verdict)
                .max()
                .unwrap_or(Verdict::Skip);
            if worst == Verdict::Fail {
                if let Some(&i) = path.iter().find(|&&i| checks[i].verdict == Verdict::Fail) {
                    bad.push(i);
                }
            } else {
                if worst == Verdict::Warn && warn_cause.is_none() {
                    warn_cause = path
                        .iter()
                        .copied()
                        .find(|&i| checks[i].verdict == Verdict::Warn);
                }
                good = Some(good.map_or(worst, |g| g.max(worst)));
            }
        }
        let (pv, pc) = match good {
            None => (
                Verdict::Fail,
                bad.first().map(|&index| Cause::Check {
                    index,
                    other_family_works: false,
                }),
            ),
            // A family without a route fails at once (ENETUNREACH): the runner moves on to
            // the other family without waiting, so it costs nothing.
            Some(g)
                if bad.iter().all(|&i| {
                    matches!(
                        checks[i].obs.step,
                        Step::Connect {
                            failure: Some(crate::probe::outcome::TcpFailure::NetUnreachable { .. }),
                            ..
                        }
                    )
                }) && !bad.is_empty() =>
            {
                (
                    g,
                    warn_cause.map(|index| Cause::Check {
                        index,
                        other_family_works: false,
                    }),
                )
            }
            Some(_) if !bad.is_empty() => (
                Verdict::Warn,
                bad.first().map(|&index| Cause::Check {
                    index,
                    other_family_works: true,
                }),
            ),
            Some(g) => (
                g,
                warn_cause.map(|index| Cause::Check {
                    index,
                    other_family_works: false,
                }),
            ),
        };
        if pv > verdict || (pv == verdict && cause.is_none()) {
            cause = pc;
            verdict = pv;
        }
    }
    (verdict, cause)
}

/// A name's observation judged: every check, its DNS, and the name.
pub fn judge_target(o: TargetOutcome) -> TargetResult {
    if let Some(incomplete) = o.incomplete {
        let mut dns = judge_dns(o.dns);
        dns.verdict = Verdict::Fail;
        dns.problem = None;
        return TargetResult {
            host: o.host,
            route: o.route,
            verdict: Verdict::Fail,
            cause: Some(Cause::Incomplete(incomplete)),
            dns,
            checks: vec![],
            ms: o.ms,
            incomplete: Some(incomplete),
            diagnosis_id: None,
            planned_ports: Vec::new(),
            runner_skips_verification: false,
        };
    }
    let dns = judge_dns(o.dns);
    let checks: Vec<Check> = o.checks.into_iter().map(judge_check).collect();
    let (verdict, cause) = target_verdict(&dns, &checks);
    TargetResult {
        host: o.host,
        route: o.route,
        verdict,
        cause,
        dns,
        checks,
        ms: o.ms,
        incomplete: None,
        diagnosis_id: None,
        planned_ports: Vec::new(),
        runner_skips_verification: false,
    }
}

/// What the runner itself would conclude with `GITHUB_ACTIONS_RUNNER_TLS_NO_VERIFY` set, for a
/// name its own HTTP client connects to: it accepts any certificate (actions/runner source,
/// HttpClientHandlerFactory.cs:19 `DangerousAcceptAnyServerCertificateValidator`; VssUtil.cs:38
/// for the Vss and raw clients), so a name whose only failures are certificate rejections
/// WARNs instead of failing. Our own verification is unchanged: the TLS check still fails and
/// no request is made over an unverified connection.
pub fn as_runner_without_verification(t: &mut TargetResult) {
    if t.verdict != Verdict::Fail || t.dns.verdict == Verdict::Fail || t.incomplete.is_some() {
        return;
    }
    let failing: Vec<&Check> = t
        .checks
        .iter()
        .filter(|c| c.verdict == Verdict::Fail)
        .collect();
    let only_certificates = !failing.is_empty()
        && failing.iter().all(
            |c| matches!(&c.obs.step, Step::Tls { failure: Some(f), .. } if f.is_certificate()),
        );
    if only_certificates {
        t.verdict = Verdict::Warn;
        t.runner_skips_verification = true;
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use super::*;
    use crate::model::Route;
    use crate::probe::outcome::{DnsFailure, Incomplete, SystemFailure, TcpFailure};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn info(status: u16, expect: bool, present: Option<bool>) -> HttpInfo {
        HttpInfo {
            method: "GET".into(),
            path: "/".into(),
            status: Some(status),
            expect_header: expect.then(|| "x-github-request-id".into()),
            header_present: present,
            server: None,
            date: None,
            location: None,
            follow: None,
            total_size: None,
        }
    }

    /// A check at `port` over `addr`'s family, of the given verdict (`Skip` is not used).
    fn check(port: u16, addr: &str, verdict: Verdict) -> Check {
        let a = SocketAddr::new(ip(addr), port);
        let step = match verdict {
            Verdict::Fail => Step::Connect {
                redirected: None,
                only_family: false,
                failure: Some(TcpFailure::Refused { addr: a, tried: 1 }),
                path: None,
            },
            Verdict::Warn => Step::Http {
                http: info(503, false, None),
                proxy: None,
                failure: None,
            },
            _ => Step::Connect {
                redirected: None,
                only_family: false,
                failure: None,
                path: None,
            },
        };
        let c = judge_check(CheckObservation {
            port,
            family: Some(Family::of(&a.ip())),
            address: Some(a),
            ms: 1,
            connection: None,
            start_ms: None,
            step,
        });
        assert_eq!(c.verdict, verdict);
        c
    }

    fn dns(verdict: Verdict) -> DnsResult {
        let mut obs = DnsObservation::none();
        obs.dns_addresses = vec![ip("192.0.2.1")];
        if verdict == Verdict::Warn {
            obs.failure = Some(DnsFailure::NoAddresses);
        }
        let d = judge_dns(obs);
        assert_eq!(d.verdict, verdict);
        d
    }

    fn cause(index: usize, other_family_works: bool) -> Option<Cause> {
        Some(Cause::Check {
            index,
            other_family_works,
        })
    }

    #[test]
    fn http_answers() {
        use HttpJudgement::*;
        let cases = [
            // (status, expect header, present, through proxy) → verdict, judgement
            (407, false, None, true, Verdict::Fail, ProxyAuth),
            (403, true, Some(false), true, Verdict::Fail, ProxyRefused),
            (502, false, None, true, Verdict::Fail, ProxyRefused),
            (403, true, Some(true), true, Verdict::Pass, Fingerprinted),
            (407, false, None, false, Verdict::Pass, Answered),
            (200, true, Some(true), false, Verdict::Pass, Fingerprinted),
            (499, true, Some(true), false, Verdict::Pass, Fingerprinted),
            (
                500,
                true,
                Some(true),
                false,
                Verdict::Warn,
                FingerprintedServerError,
            ),
            (200, true, Some(false), false, Verdict::Fail, NotGitHub),
            (200, true, None, false, Verdict::Fail, NotGitHub),
            (499, false, None, false, Verdict::Pass, Answered),
            (500, false, None, false, Verdict::Warn, ServerError),
            (200, false, None, true, Verdict::Pass, Answered),
        ];
        for (status, expect, present, proxy, v, j) in cases {
            assert_eq!(
                judge_http(&info(status, expect, present), proxy),
                (v, j),
                "{status} {expect} {present:?} {proxy}"
            );
        }
        let mut none = info(0, false, None);
        none.status = None;
        assert_eq!(judge_http(&none, true), (Verdict::Pass, Answered));
    }

    #[test]
    fn a_check_fails_on_its_failure_and_is_judged_on_its_answer() {
        let c = check(443, "192.0.2.1", Verdict::Fail);
        assert_eq!((c.phase, c.judgement), (crate::model::Phase::Tcp, None));
        let c = check(443, "192.0.2.1", Verdict::Warn);
        assert_eq!(c.judgement, Some(HttpJudgement::ServerError));
        assert_eq!(c.phase, crate::model::Phase::Http);
        assert_eq!(check(443, "192.0.2.1", Verdict::Pass).judgement, None);
    }

    #[test]
    fn dns_judgements() {
        let none = DnsObservation::none;
        let nx = DnsFailure::NoAddresses;
        // --resolve: DNS not asked.
        let d = judge_dns(DnsObservation {
            source: DnsSource::Override,
            ..none()
        });
        assert_eq!(
            (d.verdict, d.notes),
            (Verdict::Pass, vec![DnsNote::Override])
        );
        // DNS fails, the system resolver answers: the runner uses it.
        let d = judge_dns(DnsObservation {
            failure: Some(nx.clone()),
            system: Some(SystemLookup::Answered {
                addresses: vec![ip("192.0.2.2"), ip("192.0.2.1"), ip("192.0.2.2")],
            }),
            ..none()
        });
        assert_eq!(d.verdict, Verdict::Pass);
        assert_eq!(
            d.notes,
            vec![DnsNote::SystemRescued {
                system: vec![ip("192.0.2.1"), ip("192.0.2.2")],
                failure: nx.clone()
            }]
        );
        // ... with no addresses: it fails.
        let d = judge_dns(DnsObservation {
            failure: Some(nx.clone()),
            system: Some(SystemLookup::Answered { addresses: vec![] }),
            ..none()
        });
        assert_eq!(d.verdict, Verdict::Fail);
        assert_eq!(
            d.problem,
            Some(DnsProblem::Failed {
                failure: nx.clone()
            })
        );
        // Addresses, but a broken chain for one record type: a warning.
        let d = dns(Verdict::Warn);
        assert_eq!(
            d.notes,
            vec![DnsNote::Partial {
                failure: nx.clone()
            }]
        );
        assert_eq!(d.problem, None);
        // No failure and no addresses.
        let d = judge_dns(none());
        assert_eq!(d.verdict, Verdict::Fail);
        assert_eq!(
            d.problem,
            Some(DnsProblem::Failed {
                failure: nx.clone()
            })
        );
        // DNS answers, the system resolver fails: the runner fails.
        let failure = SystemFailure::Timeout {
            after: Duration::from_secs(1),
        };
        let d = judge_dns(DnsObservation {
            dns_addresses: vec![ip("192.0.2.1")],
            system: Some(SystemLookup::Failed {
                failure: failure.clone(),
            }),
            ..none()
        });
        assert_eq!(d.verdict, Verdict::Fail);
        assert_eq!(
            d.problem,
            Some(DnsProblem::SystemFails {
                dns: vec![ip("192.0.2.1")],
                failure: failure.clone()
            })
        );
        // A partial DNS answer and a failing system resolver: still a failure.
        let d = judge_dns(DnsObservation {
            dns_addresses: vec![ip("192.0.2.1")],
            failure: Some(nx.clone()),
            system: Some(SystemLookup::Failed { failure }),
            ..none()
        });
        assert_eq!(d.verdict, Verdict::Fail);
        // The system resolver differs: a note; the same set in another order: nothing.
        let d = judge_dns(DnsObservation {
            dns_addresses: vec![ip("192.0.2.1")],
            system: Some(SystemLookup::Answered {
                addresses: vec![ip("192.0.2.9")],
            }),
            ..none()
        });
        assert_eq!(d.verdict, Verdict::Pass);
        assert_eq!(
            d.notes,
            vec![DnsNote::SystemDiffers {
                system: vec![ip("192.0.2.9")],
                dns: vec![ip("192.0.2.1")]
            }]
        );
        for system in [vec![ip("192.0.2.2"), ip("192.0.2.1")], vec![]] {
            let d = judge_dns(DnsObservation {
                dns_addresses: vec![ip("192.0.2.1"), ip("192.0.2.2")],
                system: Some(SystemLookup::Answered { addresses: system }),
                ..none()
            });
            assert_eq!((d.verdict, d.notes.len()), (Verdict::Pass, 0));
        }
        // Through a proxy a failing DNS is not needed: skipped, with the problem as a note.
        let d = judge_dns(DnsObservation {
            via_proxy: true,
            ..none()
        });
        assert_eq!((d.verdict, d.problem), (Verdict::Skip, None));
        assert_eq!(
            d.notes,
            vec![DnsNote::NotNeeded {
                problem: DnsProblem::Failed { failure: nx }
            }]
        );
        let d = judge_dns(DnsObservation {
            via_proxy: true,
            dns_addresses: vec![ip("192.0.2.1")],
            ..none()
        });
        assert_eq!(d.verdict, Verdict::Pass);
    }

    #[test]
    fn a_failing_dns_is_the_names_cause() {
        let d = judge_dns(DnsObservation::none());
        let (v, c) = target_verdict(&d, &[check(443, "192.0.2.1", Verdict::Pass)]);
        assert_eq!(v, Verdict::Fail);
        assert_eq!(c, d.problem.clone().map(Cause::Dns));
        assert!(c.is_some());
    }

    #[test]
    fn a_dns_warning_becomes_the_names_cause() {
        let d = dns(Verdict::Warn);
        let note = Some(Cause::DnsNote(d.notes[0].clone()));
        assert_eq!(
            target_verdict(&d, &[check(443, "192.0.2.1", Verdict::Pass)]),
            (Verdict::Warn, note.clone())
        );
        // A warning port does not take the cause from DNS (same verdict, cause already set)...
        assert_eq!(
            target_verdict(&d, &[check(443, "192.0.2.1", Verdict::Warn)]),
            (Verdict::Warn, note)
        );
        // ... a failing one does.
        assert_eq!(
            target_verdict(&d, &[check(443, "192.0.2.1", Verdict::Fail)]),
            (Verdict::Fail, cause(0, false))
        );
    }

    #[test]
    fn no_checks_and_passing_checks_pass_without_cause() {
        let d = dns(Verdict::Pass);
        assert_eq!(target_verdict(&d, &[]), (Verdict::Pass, None));
        let checks = [
            check(443, "192.0.2.1", Verdict::Pass),
            check(443, "2001:db8::1", Verdict::Pass),
        ];
        assert_eq!(target_verdict(&d, &checks), (Verdict::Pass, None));
    }

    #[test]
    fn one_family_failing_is_a_warning_both_a_failure() {
        let d = dns(Verdict::Pass);
        // IPv6 fails, IPv4 passes: WARN, the failing check, another family works.
        let checks = [
            check(443, "2001:db8::1", Verdict::Fail),
            check(443, "192.0.2.1", Verdict::Pass),
        ];
        assert_eq!(target_verdict(&d, &checks), (Verdict::Warn, cause(0, true)));
        // Both fail: FAIL, the first failing check (IPv4 sorts first).
        let checks = [
            check(443, "2001:db8::1", Verdict::Fail),
            check(443, "192.0.2.1", Verdict::Fail),
        ];
        assert_eq!(
            target_verdict(&d, &checks),
            (Verdict::Fail, cause(1, false))
        );
        // The failing step of a path is its cause, not the passing step before it.
        let checks = [
            check(443, "192.0.2.1", Verdict::Pass),
            check(443, "192.0.2.1", Verdict::Fail),
        ];
        assert_eq!(
            target_verdict(&d, &checks),
            (Verdict::Fail, cause(1, false))
        );
    }

    #[test]
    fn a_warning_path_gives_the_port_its_warning() {
        let d = dns(Verdict::Pass);
        // IPv4 passes, IPv6 warns: the port warns (the worse of the good paths).
        let checks = [
            check(443, "192.0.2.1", Verdict::Pass),
            check(443, "2001:db8::1", Verdict::Pass),
            check(443, "2001:db8::1", Verdict::Warn),
        ];
        assert_eq!(
            target_verdict(&d, &checks),
            (Verdict::Warn, cause(2, false))
        );
        // Two warning paths: the first one's warning.
        let checks = [
            check(443, "192.0.2.1", Verdict::Pass),
            check(443, "192.0.2.1", Verdict::Warn),
            check(443, "2001:db8::1", Verdict::Warn),
        ];
        assert_eq!(
            target_verdict(&d, &checks),
            (Verdict::Warn, cause(1, false))
        );
        // A warning and a failing family: the failure is the warning's cause.
        let checks = [
            check(443, "192.0.2.1", Verdict::Warn),
            check(443, "2001:db8::1", Verdict::Fail),
        ];
        assert_eq!(target_verdict(&d, &checks), (Verdict::Warn, cause(1, true)));
    }

    #[test]
    fn the_worst_port_wins_and_ties_keep_the_lowest_port() {
        let d = dns(Verdict::Pass);
        // Port 80 warns, port 443 fails: FAIL from 443, whichever order they were probed in.
        for checks in [
            [
                check(80, "192.0.2.1", Verdict::Warn),
                check(443, "192.0.2.1", Verdict::Fail),
            ],
            [
                check(443, "192.0.2.1", Verdict::Fail),
                check(80, "192.0.2.1", Verdict::Warn),
            ],
        ] {
            let fail = checks.iter().position(|c| c.obs.port == 443).unwrap();
            assert_eq!(
                target_verdict(&d, &checks),
                (Verdict::Fail, cause(fail, false))
            );
        }
        // Both fail: the lowest port's cause is kept.
        let checks = [
            check(443, "192.0.2.1", Verdict::Fail),
            check(80, "192.0.2.1", Verdict::Fail),
        ];
        assert_eq!(
            target_verdict(&d, &checks),
            (Verdict::Fail, cause(1, false))
        );
        // Both warn: likewise.
        let checks = [
            check(8443, "192.0.2.1", Verdict::Warn),
            check(443, "192.0.2.1", Verdict::Warn),
        ];
        assert_eq!(
            target_verdict(&d, &checks),
            (Verdict::Warn, cause(1, false))
        );
        // A passing port after a failing one changes nothing.
        let checks = [
            check(80, "192.0.2.1", Verdict::Fail),
            check(443, "192.0.2.1", Verdict::Pass),
        ];
        assert_eq!(
            target_verdict(&d, &checks),
            (Verdict::Fail, cause(0, false))
        );
    }

    #[test]
    fn judged_targets() {
        let o = TargetOutcome {
            host: "h.example".into(),
            route: Route::Direct,
            dns: DnsObservation {
                dns_addresses: vec![ip("192.0.2.1")],
                ..DnsObservation::none()
            },
            checks: vec![check(443, "192.0.2.1", Verdict::Fail).obs],
            ms: 7,
            incomplete: None,
        };
        let t = judge_target(o.clone());
        assert_eq!(
            (t.verdict, t.cause, t.ms),
            (Verdict::Fail, cause(0, false), 7)
        );
        assert_eq!(t.checks.len(), 1);
        assert_eq!(t.host, "h.example");
        let incomplete = Incomplete::MaxTime {
            limit: Duration::from_secs(1),
        };
        let t = judge_target(TargetOutcome {
            incomplete: Some(incomplete),
            dns: DnsObservation::none(),
            ..o
        });
        assert_eq!(t.verdict, Verdict::Fail);
        assert_eq!(t.cause, Some(Cause::Incomplete(incomplete)));
        assert_eq!(t.incomplete, Some(incomplete));
        assert!(t.checks.is_empty());
        assert_eq!((t.dns.verdict, t.dns.problem), (Verdict::Fail, None));
    }
}
