//! Joining per-name results into entry, capability and overall verdicts.

use std::collections::{BTreeMap, HashMap};

use super::*;
use crate::error::EXIT_GATE;
use crate::plan::{Plan, Target};

/// The verdict of one probed name from its DNS outcome and checks, with the first cause.
///
/// Per port, each address family is a path (TCP → TLS → HTTP). A port passes when one family's
/// path passes; a failing other family is a warning (the runner may still pick it first). The
/// name takes the worst verdict over its ports.
pub fn target_verdict(dns: &DnsOutcome, checks: &[Check]) -> (Verdict, Option<String>) {
    if dns.verdict == Verdict::Fail {
        return (Verdict::Fail, dns.error.clone());
    }
    let mut ports: BTreeMap<u16, BTreeMap<Option<Family>, Vec<&Check>>> = BTreeMap::new();
    for c in checks {
        if let Some(p) = c.port {
            ports
                .entry(p)
                .or_default()
                .entry(c.family)
                .or_default()
                .push(c);
        }
    }
    let mut verdict = if dns.verdict == Verdict::Warn {
        Verdict::Warn
    } else {
        Verdict::Pass
    };
    let mut cause = if dns.verdict == Verdict::Warn {
        dns.notes.first().cloned()
    } else {
        None
    };
    if ports.is_empty() {
        return (verdict, cause);
    }
    for (_port, families) in ports {
        let mut good: Option<Verdict> = None;
        let mut bad: Vec<&Check> = Vec::new();
        let mut warn_cause = None;
        for path in families.values() {
            let worst = path
                .iter()
                .map(|c| c.verdict)
                .max()
                .unwrap_or(Verdict::Skip);
            if worst == Verdict::Fail {
                if let Some(c) = path.iter().find(|c| c.verdict == Verdict::Fail) {
                    bad.push(c);
                }
            } else {
                if worst == Verdict::Warn && warn_cause.is_none() {
                    warn_cause = path
                        .iter()
                        .find(|c| c.verdict == Verdict::Warn)
                        .map(|c| c.detail.clone());
                }
                good = Some(good.map_or(worst, |g| g.max(worst)));
            }
        }
        let (pv, pc) = match good {
            None => (Verdict::Fail, bad.first().map(|c| c.detail.clone())),
            Some(_) if !bad.is_empty() => (
                Verdict::Warn,
                Some(format!(
                    "{} (another address family works)",
                    bad.first().map(|c| c.detail.as_str()).unwrap_or("")
                )),
            ),
            Some(g) => (g, warn_cause),
        };
        if pv > verdict || (pv == verdict && cause.is_none()) {
            if pv > verdict || cause.is_none() {
                cause = pc;
            }
            verdict = pv;
        }
    }
    (verdict, cause)
}

/// What the run knew besides the results.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub generated_at: String,
    pub hostname: String,
    pub settings: Settings,
    pub duration_ms: u64,
    pub throughput: Option<ThroughputReport>,
    pub network: crate::network::NetworkReport,
}

/// Join the plan and the per-target results into the report.
pub fn build(plan: &Plan, results: &HashMap<Target, TargetResult>, run: RunInfo) -> Report {
    let mut capabilities = Vec::new();
    let mut counted: HashMap<String, Verdict> = HashMap::new();
    for cap in &plan.capabilities {
        let mut entries = Vec::new();
        for e in &cap.entries {
            let targets: Vec<TargetResult> = e
                .targets
                .iter()
                .filter_map(|t| results.get(t).cloned())
                .collect();
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
                    (Some(n), _) => Some(n.clone()),
                    (None, true) => {
                        Some("documented pattern with no representative name to probe".to_string())
                    }
                    (None, false) => None,
                },
                verdict,
                targets,
            });
        }
        let verdict = entries
            .iter()
            .map(|e| e.verdict)
            .filter(|v| *v != Verdict::Skip)
            .max()
            .unwrap_or(Verdict::Skip);
        let cause = entries
            .iter()
            .flat_map(|e| e.targets.iter())
            .filter(|t| t.verdict == verdict && verdict >= Verdict::Warn)
            .find_map(|t| t.cause.as_ref().map(|c| format!("{}: {c}", t.host)));
        capabilities.push(CapabilityReport {
            id: cap.id.clone(),
            title: cap.title.clone(),
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
        .any(|f| f.severity == crate::network::Severity::Warn);
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
    Report {
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
            title: plan.profile_title.clone(),
            origin: plan.profile_origin.clone(),
            variables: plan.variables.clone(),
        },
        settings: run.settings,
        verdict,
        exit_code: if gating_fail { EXIT_GATE } else { 0 },
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
    }
}
