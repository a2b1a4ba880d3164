//! Fleets: saved reports of many hosts merged into a hosts × capabilities matrix, with what
//! differs between the hosts (which capabilities and names pass on some and fail on others,
//! and what the failing hosts have in common), and what changed between two sweeps
//! ([`diff`]).
//!
//! The model only: no files are read here (the command layer reads them and hands over the
//! text's outcome) and no words are written (`render::fleet`, `render::html`).
//!
//! A host is its report's `hostname` together with its `labels`: two reports of the same
//! name with other labels are two hosts (containers sharing the machine's name, told apart by
//! `--label node=…`); two with the same name and labels are one host seen twice, and the newer
//! report is used. Reports carry no address of the machine itself: a label whose value is an
//! IP address (`--label ip=10.2.0.7`) is the host's address, from which the covering prefix
//! of failing hosts is found.

pub mod diff;
pub mod input;
pub mod prefix;

use std::collections::BTreeMap;
use std::net::IpAddr;

pub use input::{Capability, HostReport, ParseError};
pub use prefix::Prefix;

use crate::model::Verdict;
use crate::textfile::ReadError;

/// Why a file given to `fleet` is not in the fleet.
#[derive(Debug)]
pub enum Problem {
    /// It could not be read (missing, too large, not UTF-8, …).
    Read(ReadError),
    /// It is not a report this version reads.
    Parse(ParseError),
    /// Another report of the same host (name and labels) is newer: that one is used.
    Duplicate { host: String, kept: String },
}

/// A file left out, with why.
#[derive(Debug)]
pub struct Skipped {
    pub file: String,
    pub problem: Problem,
}

/// A host's identity: host name and labels.
pub type HostKey = (String, BTreeMap<String, String>);

/// One host of the fleet: its newest report.
#[derive(Debug, Clone)]
pub struct Host {
    /// The host name, with its labels when another host has the same name.
    pub name: String,
    /// The file the report came from.
    pub file: String,
    pub report: HostReport,
    /// Labels whose value is an IP address, by label key.
    pub addresses: BTreeMap<String, IpAddr>,
}

impl Host {
    pub fn key(&self) -> HostKey {
        (self.report.hostname.clone(), self.report.labels.clone())
    }

    pub fn capability(&self, id: &str) -> Option<&Capability> {
        self.report.capabilities.iter().find(|c| c.id == id)
    }

    /// Is this label an address (and so not a label to group by)?
    fn is_address_label(&self, key: &str) -> bool {
        self.addresses.contains_key(key)
    }
}

/// A capability as a column of the matrix (from the first report that has it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub id: String,
    pub title: String,
    pub gating: bool,
}

/// Which hosts fail something and which pass it (PASS or WARN), and what sets the failing
/// ones apart. Hosts that did not check it (or skipped it) are in neither list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spread {
    /// Indices into [`Fleet::hosts`].
    pub failing: Vec<usize>,
    pub passing: Vec<usize>,
    pub explanation: Explanation,
    /// The most common cause among the failing hosts, and on how many it is the cause.
    pub cause: Option<(String, usize)>,
}

impl Spread {
    pub fn checked(&self) -> usize {
        self.failing.len() + self.passing.len()
    }

    /// Fails on some hosts and passes on others.
    pub fn differs(&self) -> bool {
        !self.failing.is_empty() && !self.passing.is_empty()
    }
}

/// What every failing host has and no passing host has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Explanation {
    /// Labels (KEY, VALUE) on every failing host and on no passing host.
    pub labels: Vec<(String, String)>,
    /// The smallest prefix holding the failing hosts' addresses (from the label KEY), when it
    /// holds no passing host's address. Only for two or more failing hosts.
    pub prefix: Option<(String, Prefix)>,
    /// The failing hosts' names all start with this, no passing host's does. Two or more.
    pub name_prefix: Option<String>,
}

impl Explanation {
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.prefix.is_none() && self.name_prefix.is_none()
    }
}

/// A probed name whose verdict differs between hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameSpread {
    pub host: String,
    pub spread: Spread,
}

/// A capability failing on some hosts (or on all, with names that differ).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub capability: Column,
    pub spread: Spread,
    /// Its names that fail on some hosts and pass on others.
    pub names: Vec<NameSpread>,
}

/// Many reports merged.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// Sorted by host name, then labels.
    pub hosts: Vec<Host>,
    /// Capabilities in the order the reports list them.
    pub columns: Vec<Column>,
    /// Capabilities that fail on some hosts and pass on others, or whose names do.
    pub differences: Vec<Difference>,
    /// Capabilities failing on every host that checked them, their names alike.
    pub everywhere: Vec<(Column, Spread)>,
    /// Each diagnosis kind found, with the hosts whose reports have it: hosts failing the same
    /// capabilities for other root causes differ (issue 23 row 8). Most hosts first.
    pub causes: Vec<CauseSpread>,
}

/// A diagnosis kind and the hosts (indices into [`Fleet::hosts`]) whose reports have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CauseSpread {
    pub kind: String,
    pub hosts: Vec<usize>,
}

impl Fleet {
    /// Some host's root causes are not every host's.
    pub fn causes_differ(&self) -> bool {
        self.causes
            .iter()
            .any(|c| c.hosts.len() != self.hosts.len())
    }
}

/// A diagnosis kind as the reports write it: a short snake_case identifier. Anything else (a
/// damaged or hostile report) is not a kind.
fn is_kind(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 64
        && k.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn cause_spreads(hosts: &[Host]) -> Vec<CauseSpread> {
    let mut causes: Vec<CauseSpread> = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        for c in h.report.diagnosis.iter().filter(|c| is_kind(&c.kind)) {
            match causes.iter_mut().find(|x| x.kind == c.kind) {
                Some(x) if x.hosts.last() == Some(&i) => {}
                Some(x) => x.hosts.push(i),
                None => causes.push(CauseSpread {
                    kind: c.kind.clone(),
                    hosts: vec![i],
                }),
            }
        }
    }
    causes.sort_by(|a, b| b.hosts.len().cmp(&a.hosts.len()).then(a.kind.cmp(&b.kind)));
    causes
}

/// The merge: usable reports become hosts, the rest is returned as skipped.
pub fn build(inputs: Vec<(String, Result<HostReport, Problem>)>) -> (Fleet, Vec<Skipped>) {
    let mut skipped = Vec::new();
    let mut by_key: BTreeMap<HostKey, (String, HostReport)> = BTreeMap::new();
    for (file, read) in inputs {
        let report = match read {
            Ok(r) => r,
            Err(problem) => {
                skipped.push(Skipped { file, problem });
                continue;
            }
        };
        let key = (report.hostname.clone(), report.labels.clone());
        match by_key.remove(&key) {
            None => {
                by_key.insert(key, (file, report));
            }
            Some((old_file, old)) => {
                // The newer run wins; at the same second, the later file.
                let (keep, drop) = if report.generated_at >= old.generated_at {
                    ((file, report), old_file)
                } else {
                    ((old_file, old), file)
                };
                skipped.push(Skipped {
                    file: drop,
                    problem: Problem::Duplicate {
                        host: key.0.clone(),
                        kept: keep.0.clone(),
                    },
                });
                by_key.insert(key, keep);
            }
        }
    }
    let mut name_count: BTreeMap<String, usize> = BTreeMap::new();
    for (name, _) in by_key.keys() {
        *name_count.entry(name.clone()).or_default() += 1;
    }
    let hosts: Vec<Host> = by_key
        .into_iter()
        .map(|((hostname, labels), (file, report))| {
            let name = if name_count[&hostname] > 1 && !labels.is_empty() {
                let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("{hostname} ({})", l.join(", "))
            } else {
                hostname
            };
            let addresses = labels
                .iter()
                .filter_map(|(k, v)| v.parse::<IpAddr>().ok().map(|a| (k.clone(), a)))
                .collect();
            Host {
                name,
                file,
                report,
                addresses,
            }
        })
        .collect();
    (Fleet::of(hosts), skipped)
}

impl Fleet {
    fn of(hosts: Vec<Host>) -> Fleet {
        let mut columns: Vec<Column> = Vec::new();
        for c in hosts.iter().flat_map(|h| &h.report.capabilities) {
            if !columns.iter().any(|k| k.id == c.id) {
                columns.push(Column {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    gating: c.gating,
                });
            }
        }
        let mut differences = Vec::new();
        let mut everywhere = Vec::new();
        for col in &columns {
            let cap_spread = spread(&hosts, |h| {
                h.capability(&col.id)
                    .map(|c| (c.verdict, c.cause.as_deref()))
            });
            if cap_spread.failing.is_empty() {
                continue;
            }
            let mut names: Vec<String> = Vec::new();
            for h in &hosts {
                if let Some(c) = h.capability(&col.id) {
                    for (n, _, _) in c.names() {
                        if !names.iter().any(|x| x == n) {
                            names.push(n.to_string());
                        }
                    }
                }
            }
            let names: Vec<NameSpread> = names
                .into_iter()
                .map(|n| {
                    let s = spread(&hosts, |h: &Host| {
                        h.capability(&col.id)?
                            .names()
                            .into_iter()
                            .find(|(x, _, _)| *x == n)
                            .map(|(_, v, c)| (v, c))
                    });
                    NameSpread { host: n, spread: s }
                })
                .filter(|n| n.spread.differs())
                .collect();
            if cap_spread.differs() || !names.is_empty() {
                differences.push(Difference {
                    capability: col.clone(),
                    spread: cap_spread,
                    names,
                });
            } else {
                everywhere.push((col.clone(), cap_spread));
            }
        }
        let causes = cause_spreads(&hosts);
        Fleet {
            hosts,
            columns,
            differences,
            everywhere,
            causes,
        }
    }

    /// The verdict of a capability on a host (`None`: not checked there).
    pub fn cell(&self, host: usize, id: &str) -> Option<&Capability> {
        self.hosts.get(host)?.capability(id)
    }

    /// Hosts by overall verdict: pass, warn, fail, skip.
    pub fn counts(&self) -> [usize; 4] {
        let mut n = [0; 4];
        for h in &self.hosts {
            n[match h.report.verdict {
                Verdict::Pass => 0,
                Verdict::Warn => 1,
                Verdict::Fail => 2,
                Verdict::Skip => 3,
            }] += 1;
        }
        n
    }

    /// 1 when some host's report failed its gate (its own `exit_code`), else 0.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.hosts.iter().any(|h| h.report.exit_code != 0))
    }
}

fn spread<'a>(
    hosts: &'a [Host],
    verdict: impl Fn(&'a Host) -> Option<(Verdict, Option<&'a str>)>,
) -> Spread {
    let mut failing = Vec::new();
    let mut passing = Vec::new();
    let mut causes: Vec<(&str, usize)> = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        match verdict(h) {
            Some((Verdict::Fail, cause)) => {
                failing.push(i);
                if let Some(c) = cause {
                    match causes.iter_mut().find(|(x, _)| *x == c) {
                        Some(seen) => seen.1 += 1,
                        None => causes.push((c, 1)),
                    }
                }
            }
            Some((Verdict::Pass | Verdict::Warn, _)) => passing.push(i),
            _ => {}
        }
    }
    // The most common; the first seen of equals.
    let cause = causes
        .iter()
        .enumerate()
        .max_by_key(|(i, (_, n))| (*n, std::cmp::Reverse(*i)))
        .map(|(_, (c, n))| (c.to_string(), *n));
    let explanation = explain(hosts, &failing, &passing);
    Spread {
        failing,
        passing,
        explanation,
        cause,
    }
}

/// What the failing hosts share that no passing host has. Nothing when no host passes (then
/// whatever they share, every host shares).
fn explain(hosts: &[Host], failing: &[usize], passing: &[usize]) -> Explanation {
    let (Some(&first), false) = (failing.first(), passing.is_empty()) else {
        return Explanation::default();
    };
    let f = &hosts[first];
    let labels = f
        .report
        .labels
        .iter()
        .filter(|(k, _)| !f.is_address_label(k))
        .filter(|(k, v)| {
            failing
                .iter()
                .all(|&i| hosts[i].report.labels.get(*k) == Some(v))
                && passing
                    .iter()
                    .all(|&i| hosts[i].report.labels.get(*k) != Some(v))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut prefix = None;
    if failing.len() >= 2 {
        for key in f.addresses.keys() {
            let addrs: Option<Vec<IpAddr>> = failing
                .iter()
                .map(|&i| hosts[i].addresses.get(key).copied())
                .collect();
            let Some(p) = addrs.as_deref().and_then(Prefix::covering) else {
                continue;
            };
            let clean = passing
                .iter()
                .filter_map(|&i| hosts[i].addresses.get(key))
                .all(|a| !p.contains(*a));
            if p.is_specific() && clean {
                prefix = Some((key.clone(), p));
                break;
            }
        }
    }
    let mut name_prefix = None;
    if failing.len() >= 2 {
        let mut lcp: &str = &f.report.hostname;
        for &i in &failing[1..] {
            let other = &hosts[i].report.hostname;
            let n = lcp
                .char_indices()
                .zip(other.chars())
                .take_while(|((_, a), b)| a == b)
                .last()
                .map_or(0, |((i, a), _)| i + a.len_utf8());
            lcp = &lcp[..n];
        }
        if lcp.chars().count() >= 2
            && passing
                .iter()
                .all(|&i| !hosts[i].report.hostname.starts_with(lcp))
        {
            name_prefix = Some(lcp.to_string());
        }
    }
    Explanation {
        labels,
        prefix,
        name_prefix,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A report of `host` with `labels` where capability `api` has `names` (name, verdict).
    pub fn report(host: &str, labels: &[(&str, &str)], names: &[(&str, Verdict)]) -> HostReport {
        let worst = names.iter().map(|n| n.1).max().unwrap_or(Verdict::Skip);
        let targets: Vec<serde_json::Value> = names
            .iter()
            .map(|(n, v)| {
                serde_json::json!({"host": n, "verdict": v,
                    "cause": (*v == Verdict::Fail).then(|| format!("TCP to {n} refused"))})
            })
            .collect();
        let labels: BTreeMap<&str, &str> = labels.iter().copied().collect();
        serde_json::from_value(serde_json::json!({
            "schema_version": 1, "hostname": host, "labels": labels,
            "generated_at": "2026-12-01T10:00:00Z", "verdict": worst,
            "exit_code": u8::from(worst == Verdict::Fail),
            "capabilities": [
                {"id": "api", "title": "API", "gating": true, "verdict": worst,
                 "entries": [{"targets": targets}]},
                {"id": "extra", "title": "Extra", "gating": false, "verdict": "pass", "entries": []}
            ]
        }))
        .unwrap()
    }

    fn fleet(reports: Vec<HostReport>) -> Fleet {
        let inputs = reports
            .into_iter()
            .enumerate()
            .map(|(i, r)| (format!("r{i}.json"), Ok(r)))
            .collect();
        let (f, skipped) = build(inputs);
        assert!(skipped.is_empty());
        f
    }

    #[test]
    fn finds_the_labels_prefix_and_names_that_set_failing_hosts_apart() {
        use Verdict::*;
        let f = fleet(vec![
            report(
                "run-a-1",
                &[("zone", "a"), ("pool", "x"), ("ip", "10.1.0.5")],
                &[("r.test", Pass), ("s.test", Pass)],
            ),
            report(
                "run-b-1",
                &[("zone", "b"), ("pool", "x"), ("ip", "10.2.0.7")],
                &[("r.test", Fail), ("s.test", Pass)],
            ),
            report(
                "run-b-2",
                &[("zone", "b"), ("pool", "x"), ("ip", "10.2.3.9")],
                &[("r.test", Fail), ("s.test", Warn)],
            ),
        ]);
        assert_eq!(f.columns.len(), 2);
        assert_eq!(f.differences.len(), 1);
        let d = &f.differences[0];
        assert_eq!(d.capability.id, "api");
        assert_eq!(d.spread.failing, vec![1, 2]);
        assert_eq!(d.names.len(), 1);
        let n = &d.names[0];
        assert_eq!(n.host, "r.test");
        let e = &n.spread.explanation;
        assert_eq!(e.labels, vec![("zone".to_string(), "b".to_string())]);
        let (key, p) = e.prefix.as_ref().unwrap();
        assert_eq!(
            (key.as_str(), p.to_string().as_str()),
            ("ip", "10.2.0.0/22")
        );
        assert_eq!(e.name_prefix.as_deref(), Some("run-b-"));
        assert_eq!(n.spread.cause, Some(("TCP to r.test refused".into(), 2)));
        assert!(f.everywhere.is_empty());
        assert_eq!(f.exit_code(), 1);
        assert_eq!(f.counts(), [1, 0, 2, 0]);
    }

    /// Issue 23 row 8: three hosts failing alike, two for NXDOMAIN and one for a DNS server
    /// that does not answer, differ by root cause.
    #[test]
    fn hosts_failing_alike_for_other_root_causes_differ_by_cause() {
        use Verdict::*;
        let with = |host: &str, kinds: &[&str]| {
            let mut r = report(host, &[], &[("r.test", Fail)]);
            r.diagnosis = kinds
                .iter()
                .map(|k| serde_json::from_value(serde_json::json!({"kind": k})).unwrap())
                .collect();
            r
        };
        let f = fleet(vec![
            with("h1", &["dns_nxdomain"]),
            with("h2", &["dns_nxdomain", "Not A Kind\u{1b}"]),
            with("h3", &["resolver_unreachable"]),
        ]);
        assert!(f.differences.is_empty());
        assert_eq!(
            f.causes,
            [
                CauseSpread {
                    kind: "dns_nxdomain".into(),
                    hosts: vec![0, 1]
                },
                CauseSpread {
                    kind: "resolver_unreachable".into(),
                    hosts: vec![2]
                },
            ]
        );
        assert!(f.causes_differ());
        let alike = fleet(vec![
            with("h1", &["dns_nxdomain"]),
            with("h2", &["dns_nxdomain"]),
        ]);
        assert!(!alike.causes_differ());
    }

    #[test]
    fn failing_everywhere_is_no_difference_and_explains_nothing() {
        use Verdict::*;
        let f = fleet(vec![
            report("h1", &[("zone", "a")], &[("r.test", Fail)]),
            report("h2", &[("zone", "a")], &[("r.test", Fail)]),
        ]);
        assert!(f.differences.is_empty());
        assert_eq!(f.everywhere.len(), 1);
        assert!(f.everywhere[0].1.explanation.is_empty());
    }

    #[test]
    fn same_host_twice_keeps_the_newer_and_same_name_other_labels_are_two_hosts() {
        use Verdict::*;
        let old = report("h1", &[], &[("r.test", Fail)]);
        let mut new = report("h1", &[], &[("r.test", Pass)]);
        new.generated_at = "2026-12-01T11:00:00Z".into();
        let (f, skipped) = build(vec![
            ("new.json".into(), Ok(new)),
            ("old.json".into(), Ok(old)),
            (
                "pod.json".into(),
                Ok(report("h1", &[("node", "w7")], &[("r.test", Pass)])),
            ),
        ]);
        assert_eq!(f.hosts.len(), 2);
        assert_eq!(f.hosts[0].name, "h1");
        assert_eq!(f.hosts[0].file, "new.json");
        assert_eq!(f.hosts[1].name, "h1 (node=w7)");
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].file, "old.json");
        assert!(
            matches!(&skipped[0].problem, Problem::Duplicate { kept, .. } if kept == "new.json")
        );
    }
}
