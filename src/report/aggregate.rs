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
    for cap in &plan.capabilities {
        let mut entries = Vec::new();
        for e in &cap.entries {
            let (targets, redirect) = match e.redirect.as_ref().map(|r| redirects.0.get(r)) {
                Some(Some((chain, hops))) => (hops.clone(), Some(chain.clone())),
                Some(None) => (Vec::new(), None),
                None => (
                    e.targets
                        .iter()
                        .filter_map(|t| results.get(t).cloned())
                        .collect(),
                    None,
                ),
            };
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
        || tp.is_some_and(|t| t.gating && t.verdict == Verdict::Fail);
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
        || network_warning;
    let verdict = if gating_fail {
        Verdict::Fail
    } else if any_problem {
        Verdict::Warn
    } else if capabilities.iter().all(|c| c.verdict == Verdict::Skip) {
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
