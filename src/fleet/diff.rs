//! `fleet diff`: what changed between two sweeps of the same fleet. Hosts are matched by
//! name and labels ([`super::HostKey`]).

use std::collections::BTreeMap;

use super::{Fleet, Host, HostKey};
use crate::model::Verdict;

/// How bad a verdict is for "got worse": not checked, SKIP and PASS are alike.
pub fn rank(v: Option<Verdict>) -> u8 {
    match v {
        None | Some(Verdict::Skip) | Some(Verdict::Pass) => 0,
        Some(Verdict::Warn) => 1,
        Some(Verdict::Fail) => 2,
    }
}

/// A host present in one sweep only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostLine {
    pub name: String,
    pub verdict: Verdict,
    /// Ids of the capabilities failing on it.
    pub failing: Vec<String>,
}

/// A probed name whose verdict changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameChange {
    pub host: String,
    pub old: Option<Verdict>,
    pub new: Option<Verdict>,
    /// Its cause in the new sweep.
    pub cause: Option<String>,
}

/// A capability whose verdict (or one of whose names' verdicts) changed on a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilityChange {
    pub id: String,
    pub title: String,
    pub old: Option<Verdict>,
    pub new: Option<Verdict>,
    /// Its cause in the new sweep.
    pub cause: Option<String>,
    pub names: Vec<NameChange>,
}

impl CapabilityChange {
    pub fn worse(&self) -> bool {
        rank(self.new) > rank(self.old)
    }
}

/// A host in both sweeps whose verdicts changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostChange {
    pub name: String,
    pub old: Verdict,
    pub new: Verdict,
    pub capabilities: Vec<CapabilityChange>,
}

impl HostChange {
    pub fn worse(&self) -> bool {
        rank(Some(self.new)) > rank(Some(self.old)) || self.capabilities.iter().any(|c| c.worse())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetDiff {
    pub old_hosts: usize,
    pub new_hosts: usize,
    pub appeared: Vec<HostLine>,
    pub disappeared: Vec<HostLine>,
    pub changed: Vec<HostChange>,
    /// Hosts in both sweeps with the same verdicts.
    pub unchanged: usize,
}

impl FleetDiff {
    /// Something got worse: a verdict on a host rose (PASS → WARN → FAIL), or a host that
    /// appeared fails (its overall verdict is FAIL: a gating capability fails there). A host
    /// that disappeared is reported but is not "worse".
    pub fn worse(&self) -> bool {
        self.changed.iter().any(HostChange::worse)
            || self.appeared.iter().any(|h| h.verdict == Verdict::Fail)
    }

    /// 1 when something got worse, else 0.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.worse())
    }
}

fn line(h: &Host) -> HostLine {
    HostLine {
        name: h.name.clone(),
        verdict: h.report.verdict,
        failing: h
            .report
            .capabilities
            .iter()
            .filter(|c| c.verdict == Verdict::Fail)
            .map(|c| c.id.clone())
            .collect(),
    }
}

fn names_of(h: &Host, id: &str) -> Vec<(String, Verdict, Option<String>)> {
    h.capability(id)
        .map(|c| {
            c.names()
                .into_iter()
                .map(|(n, v, cause)| (n.to_string(), v, cause.map(str::to_string)))
                .collect()
        })
        .unwrap_or_default()
}

fn host_change(old: &Host, new: &Host) -> HostChange {
    let mut ids: Vec<(String, String)> = Vec::new();
    for c in new
        .report
        .capabilities
        .iter()
        .chain(&old.report.capabilities)
    {
        if !ids.iter().any(|(id, _)| *id == c.id) {
            ids.push((c.id.clone(), c.title.clone()));
        }
    }
    let mut capabilities = Vec::new();
    for (id, title) in ids {
        let o = old.capability(&id);
        let n = new.capability(&id);
        let old_names = names_of(old, &id);
        let new_names = names_of(new, &id);
        let mut names = Vec::new();
        for (host, nv, cause) in &new_names {
            let ov = old_names.iter().find(|x| x.0 == *host).map(|x| x.1);
            if ov != Some(*nv) {
                names.push(NameChange {
                    host: host.clone(),
                    old: ov,
                    new: Some(*nv),
                    cause: cause.clone(),
                });
            }
        }
        for (host, ov, _) in &old_names {
            if !new_names.iter().any(|x| x.0 == *host) {
                names.push(NameChange {
                    host: host.clone(),
                    old: Some(*ov),
                    new: None,
                    cause: None,
                });
            }
        }
        let (ov, nv) = (o.map(|c| c.verdict), n.map(|c| c.verdict));
        if ov != nv || !names.is_empty() {
            capabilities.push(CapabilityChange {
                id,
                title,
                old: ov,
                new: nv,
                cause: n.and_then(|c| c.cause.clone()),
                names,
            });
        }
    }
    HostChange {
        name: new.name.clone(),
        old: old.report.verdict,
        new: new.report.verdict,
        capabilities,
    }
}

/// What changed from `old` to `new`.
pub fn diff(old: &Fleet, new: &Fleet) -> FleetDiff {
    let old_by: BTreeMap<HostKey, &Host> = old.hosts.iter().map(|h| (h.key(), h)).collect();
    let new_by: BTreeMap<HostKey, &Host> = new.hosts.iter().map(|h| (h.key(), h)).collect();
    let mut d = FleetDiff {
        old_hosts: old.hosts.len(),
        new_hosts: new.hosts.len(),
        appeared: Vec::new(),
        disappeared: Vec::new(),
        changed: Vec::new(),
        unchanged: 0,
    };
    for (key, n) in &new_by {
        match old_by.get(key) {
            None => d.appeared.push(line(n)),
            Some(o) => {
                let c = host_change(o, n);
                if c.old == c.new && c.capabilities.is_empty() {
                    d.unchanged += 1;
                } else {
                    d.changed.push(c);
                }
            }
        }
    }
    for (key, o) in &old_by {
        if !new_by.contains_key(key) {
            d.disappeared.push(line(o));
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::super::tests::report;
    use super::*;
    use Verdict::*;

    fn fleet(reports: Vec<crate::fleet::HostReport>) -> Fleet {
        let inputs = reports
            .into_iter()
            .map(|r| (format!("{}.json", r.hostname), Ok(r)))
            .collect();
        crate::fleet::build(inputs).0
    }

    #[test]
    fn flips_appearances_and_the_exit_code() {
        let old = fleet(vec![
            report("h1", &[], &[("r.test", Pass)]),
            report("h2", &[], &[("r.test", Pass)]),
            report("gone", &[], &[("r.test", Pass)]),
        ]);
        let new = fleet(vec![
            report("h1", &[], &[("r.test", Fail)]),
            report("h2", &[], &[("r.test", Pass)]),
            report("fresh", &[], &[("r.test", Pass)]),
        ]);
        let d = diff(&old, &new);
        assert_eq!(d.unchanged, 1);
        assert_eq!(d.appeared.len(), 1);
        assert_eq!(d.appeared[0].name, "fresh");
        assert_eq!(d.disappeared[0].name, "gone");
        assert_eq!(d.changed.len(), 1);
        let c = &d.changed[0];
        assert_eq!((c.name.as_str(), c.old, c.new), ("h1", Pass, Fail));
        assert_eq!(c.capabilities.len(), 1);
        let cap = &c.capabilities[0];
        assert_eq!((cap.old, cap.new), (Some(Pass), Some(Fail)));
        assert_eq!(cap.names[0].host, "r.test");
        assert_eq!(cap.names[0].cause.as_deref(), Some("TCP to r.test refused"));
        assert!(d.worse());
        assert_eq!(d.exit_code(), 1);

        // The other way round it got better: exit 0; a disappearing host is not worse.
        let back = diff(&new, &old);
        assert!(!back.worse(), "{back:?}");
        assert_eq!(diff(&old, &old).exit_code(), 0);
    }

    #[test]
    fn a_new_failing_host_is_worse() {
        let old = fleet(vec![report("h1", &[], &[("r.test", Pass)])]);
        let new = fleet(vec![
            report("h1", &[], &[("r.test", Pass)]),
            report("node-new", &[], &[("r.test", Fail)]),
        ]);
        let d = diff(&old, &new);
        assert_eq!(d.appeared[0].failing, vec!["api".to_string()]);
        assert!(d.worse());
    }
}
