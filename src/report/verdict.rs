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
    }
}
