//! Firewall rules from a plan: resolve every probed name once (concurrently, following each CNAME
//! chain with [`DnsClient`]), then build a format-neutral [`Model`]: the documented patterns, every
//! name met in every chain, and the final addresses with the smallest TTL along the chain.
//!
//! Every name in the model is a [`Name`], which can only be made by passing
//! [`crate::model::check_hostname`]: a hostile DNS answer (newline, quote, semicolon, space, over-long label,
//! non-ASCII) never reaches a renderer. Such names are skipped and described in
//! [`Model::warnings`] for standard error.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::model::text::comment_safe;
use crate::model::Family;
use crate::model::{Name, Pattern};
use crate::plan::Plan;
use crate::probe::dns::{DnsClient, Resolution};

/// Why a name is in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Listed by the profile (GitHub's docs).
    Documented,
    /// A representative name probed for a documented wildcard.
    Probed,
    /// Met in a CNAME chain.
    CnameTarget,
}

/// One rule of a name-based format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub pattern: Pattern,
    pub origin: Origin,
}

/// One link of a CNAME chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub name: Name,
    pub target: Name,
    pub ttl: u32,
}

/// A final address of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub ip: IpAddr,
    /// The smallest TTL along the chain and the address record itself.
    pub ttl: u32,
}

/// The resolution of one probed name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub name: Name,
    /// Links whose both names are valid host names, in order.
    pub chain: Vec<Link>,
    pub addresses: Vec<Address>,
    /// Smallest TTL along the chain and the address records.
    pub min_ttl: Option<u32>,
    /// False when DNS gave no usable answer (the reason went to [`Model::warnings`]).
    pub resolved: bool,
    /// Names of the chain left out because they are not host names.
    pub skipped_names: usize,
}

impl Resolved {
    /// Every name of the chain after the probed name.
    pub fn targets(&self) -> impl Iterator<Item = &Name> {
        self.chain.iter().map(|l| &l.target)
    }
}

#[derive(Debug, Clone)]
pub struct CapabilityRules {
    pub id: String,
    pub title: String,
    pub gating: bool,
    pub patterns: Vec<Pattern>,
    /// Representative names probed for wildcards (exact documented names are resolved too, but
    /// are not listed here).
    pub probed: Vec<Name>,
    /// Every resolved name: documented exact names and probed names (empty offline).
    pub resolutions: Vec<Resolved>,
}

impl CapabilityRules {
    /// Documented patterns, then probed names, then CNAME targets; each once.
    pub fn rules(&self) -> Vec<Rule> {
        let mut out: Vec<Rule> = Vec::new();
        let mut push = |pattern: Pattern, origin: Origin| {
            if !out.iter().any(|r| r.pattern == pattern) {
                out.push(Rule { pattern, origin });
            }
        };
        for p in &self.patterns {
            push(p.clone(), Origin::Documented);
        }
        for n in &self.probed {
            push(Pattern::Exact(n.clone()), Origin::Probed);
        }
        for r in &self.resolutions {
            for t in r.targets() {
                push(Pattern::Exact(t.clone()), Origin::CnameTarget);
            }
        }
        out
    }
}

/// Everything a firewall renderer needs; no network I/O past this point.
#[derive(Debug, Clone)]
pub struct Model {
    /// `runner-preflight VERSION`.
    pub generated_by: String,
    /// RFC 3339, when the names were resolved (or the model built, offline).
    pub resolved_at: String,
    pub profile: String,
    pub offline: bool,
    pub dns_servers: Vec<String>,
    /// TCP ports of the selected capabilities' endpoints.
    pub ports: BTreeSet<u16>,
    pub capabilities: Vec<CapabilityRules>,
    /// Names skipped (hostile or invalid), in words (for standard error only).
    pub warnings: Vec<String>,
    /// Names whose DNS failed, once each, typed (`render::firewall::warnings` words them).
    pub unresolved: Vec<Unresolved>,
}

/// A name whose DNS failed while building the rules.
#[derive(Debug, Clone)]
pub struct Unresolved {
    pub host: String,
    pub failure: crate::probe::dns::DnsFailure,
    /// Some addresses came (for another record type) and are still used.
    pub usable: bool,
}

impl Model {
    /// Rules of every capability, each pattern once (first capability wins).
    pub fn all_rules(&self) -> Vec<Rule> {
        let mut out: Vec<Rule> = Vec::new();
        for c in &self.capabilities {
            for r in c.rules() {
                if !out.iter().any(|o| o.pattern == r.pattern) {
                    out.push(r);
                }
            }
        }
        out
    }

    /// Final addresses of one family, each once, sorted. An address reached by several chains
    /// keeps the longest of their (chain-minimum) TTLs: at least one chain vouches for it that long.
    pub fn addresses(&self, family: Family) -> Vec<Address> {
        let mut map: BTreeMap<IpAddr, u32> = BTreeMap::new();
        for c in &self.capabilities {
            for r in &c.resolutions {
                for a in &r.addresses {
                    if Family::of(&a.ip) != family {
                        continue;
                    }
                    let e = map.entry(a.ip).or_insert(a.ttl);
                    *e = (*e).max(a.ttl);
                }
            }
        }
        map.into_iter()
            .map(|(ip, ttl)| Address { ip, ttl })
            .collect()
    }

    /// Capabilities none of whose names gave an address: an address-based allow list (an
    /// nftables or ipset set) would hold nothing for them, so rules loaded from it would block
    /// them whole. Empty offline, where no name is resolved on purpose.
    pub fn without_addresses(&self) -> Vec<&CapabilityRules> {
        if self.offline {
            return Vec::new();
        }
        self.capabilities
            .iter()
            .filter(|c| c.resolutions.iter().all(|r| r.addresses.is_empty()))
            .collect()
    }

    pub fn capability_ids(&self) -> Vec<&str> {
        self.capabilities.iter().map(|c| c.id.as_str()).collect()
    }

    /// Comment lines every output starts with (without the comment marker); control characters
    /// in profile-supplied text are replaced so a comment can never become a line of config.
    pub fn header(&self) -> Vec<String> {
        let mut h = vec![
            format!(
                "Generated by {} at {} from profile {} (capabilities: {}).",
                self.generated_by,
                self.resolved_at,
                self.profile,
                self.capability_ids().join(", ")
            ),
            "IP addresses behind these names change (CDNs, CNAME targets, short TTLs): prefer name-based rules; regenerate address lists often.".to_string(),
        ];
        if self.offline {
            h.push("Offline: documented patterns only, no DNS resolution.".to_string());
        } else {
            h.push(format!(
                "Names and addresses resolved via DNS server(s) {}; includes every name met in each CNAME chain.",
                self.dns_servers.join(", ")
            ));
        }
        h.into_iter().map(|l| comment_safe(&l)).collect()
    }
}

/// Settings of a collection.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    pub offline: bool,
    pub client: DnsClient,
    pub concurrency: usize,
    pub max_time: Duration,
}

/// Resolve every distinct name once, concurrently (bounded by `concurrency` and `max_time`).
pub async fn resolve_all(
    hosts: &[String],
    client: &DnsClient,
    concurrency: usize,
    max_time: Duration,
) -> HashMap<String, Resolution> {
    let sem = Arc::new(Semaphore::new(concurrency.max(1)));
    let deadline = tokio::time::Instant::now() + max_time;
    let mut set = tokio::task::JoinSet::new();
    let mut distinct: Vec<String> = hosts.to_vec();
    distinct.sort();
    distinct.dedup();
    for h in distinct {
        let sem = sem.clone();
        let client = client.clone();
        set.spawn(async move {
            let r = tokio::time::timeout_at(deadline, async {
                let _permit = sem.acquire().await.expect("semaphore never closed");
                client.resolve(&h).await
            })
            .await;
            (h, r)
        });
    }
    let mut out = HashMap::new();
    while let Some(j) = set.join_next().await {
        if let Ok((h, r)) = j {
            let res = r.unwrap_or_else(|_| Resolution {
                failure: Some(crate::probe::dns::DnsFailure::Timeout {
                    servers: client.servers.clone(),
                    after: max_time,
                }),
                ..Default::default()
            });
            out.insert(h, res);
        }
    }
    out
}

/// Run the collection: resolve (unless offline) and build the model.
pub async fn collect(plan: &Plan, opts: &CollectOptions, resolved_at: String) -> Model {
    let resolutions = if opts.offline {
        HashMap::new()
    } else {
        resolve_all(&plan.hosts(), &opts.client, opts.concurrency, opts.max_time).await
    };
    let servers: Vec<String> = opts.client.servers.iter().map(|s| s.to_string()).collect();
    build(plan, &resolutions, opts.offline, servers, resolved_at)
}

/// Build the model from a plan and the resolutions of its names (empty offline).
pub fn build(
    plan: &Plan,
    resolutions: &HashMap<String, Resolution>,
    offline: bool,
    dns_servers: Vec<String>,
    resolved_at: String,
) -> Model {
    let mut warnings = Vec::new();
    let mut ports = BTreeSet::new();
    let mut capabilities = Vec::new();
    let mut warned: BTreeSet<String> = BTreeSet::new();
    let mut skip = |what: &str, raw: &str, why: String, warnings: &mut Vec<String>| {
        if warned.insert(raw.to_string()) {
            warnings.push(format!(
                "skipped {what} `{}`: not a host name ({why})",
                raw.escape_default()
            ));
        }
    };
    for c in &plan.capabilities {
        let mut patterns = Vec::new();
        let mut probed = Vec::new();
        let mut resolved = Vec::new();
        for e in &c.entries {
            match Pattern::parse(&e.pattern) {
                Ok(p) => {
                    if !patterns.contains(&p) {
                        patterns.push(p)
                    }
                }
                Err(why) => skip("profile entry", &e.pattern, why, &mut warnings),
            }
            // A redirect probe: its first host and the hosts the profile says it reaches are
            // names the runner connects to, known without following the chain (offline too);
            // online each one's CNAME chain is resolved as any other name's.
            if let Some(r) = &e.redirect {
                ports.extend(crate::model::parse_url(&r.url).ok().map(|u| u.port));
                for h in r.known_hosts() {
                    let name = match Name::new(&h) {
                        Ok(n) => n,
                        Err(why) => {
                            skip("redirect host", &h, why, &mut warnings);
                            continue;
                        }
                    };
                    let p = Pattern::Exact(name.clone());
                    if !patterns.contains(&p) {
                        patterns.push(p);
                    }
                    if offline || resolved.iter().any(|r: &Resolved| r.name == name) {
                        continue;
                    }
                    if let Some(res) = resolutions.get(&h) {
                        resolved.push(convert(name, res, &mut warnings, &mut skip));
                    }
                }
            }
            for t in &e.targets {
                ports.extend(t.endpoints.iter().map(|ep| ep.port));
                let name = match Name::new(&t.host) {
                    Ok(n) => n,
                    Err(why) => {
                        skip("profile name", &t.host, why, &mut warnings);
                        continue;
                    }
                };
                // Offline: documented patterns only (a probed name is the start of a chain).
                if e.wildcard && !offline && !probed.contains(&name) {
                    probed.push(name.clone());
                }
                if offline || resolved.iter().any(|r: &Resolved| r.name == name) {
                    continue;
                }
                let Some(res) = resolutions.get(&t.host) else {
                    continue;
                };
                resolved.push(convert(name, res, &mut warnings, &mut skip));
            }
        }
        capabilities.push(CapabilityRules {
            id: c.id.clone(),
            title: c.title.clone(),
            gating: c.gating,
            patterns,
            probed,
            resolutions: resolved,
        });
    }
    // Failures, once per name, after the per-capability pass.
    let mut failed: BTreeSet<&str> = BTreeSet::new();
    let mut unresolved = Vec::new();
    let hosts = plan.hosts();
    for host in &hosts {
        let Some(res) = resolutions.get(host) else {
            continue;
        };
        if let Some(f) = &res.failure {
            if Name::new(host).is_ok() && failed.insert(host) {
                unresolved.push(Unresolved {
                    host: host.clone(),
                    failure: f.clone(),
                    usable: !res.addresses.is_empty(),
                });
            }
        }
    }
    if ports.is_empty() {
        ports.insert(443);
    }
    Model {
        generated_by: format!("runner-preflight {}", env!("CARGO_PKG_VERSION")),
        resolved_at,
        profile: plan.profile_name.clone(),
        offline,
        dns_servers,
        ports,
        capabilities,
        warnings,
        unresolved,
    }
}

fn convert(
    name: Name,
    res: &Resolution,
    warnings: &mut Vec<String>,
    skip: &mut impl FnMut(&str, &str, String, &mut Vec<String>),
) -> Resolved {
    let mut chain = Vec::new();
    let mut skipped_names = 0;
    for l in &res.chain {
        let from = Name::new(&l.name);
        let to = Name::new(&l.target);
        match (from, to) {
            (Ok(name), Ok(target)) => chain.push(Link {
                name,
                target,
                ttl: l.ttl,
            }),
            (from, to) => {
                if let Err(why) = from {
                    skip("name from a DNS answer", &l.name, why, warnings);
                }
                if let Err(why) = to {
                    skipped_names += 1;
                    skip("CNAME target from a DNS answer", &l.target, why, warnings);
                }
            }
        }
    }
    let chain_min = res.chain.iter().map(|l| l.ttl).min();
    let mut addresses: Vec<Address> = Vec::new();
    for a in &res.addresses {
        let ttl = match (a.ttl, chain_min) {
            (Some(a), Some(c)) => a.min(c),
            (Some(a), None) => a,
            (None, Some(c)) => c,
            (None, None) => 0,
        };
        if let Some(e) = addresses.iter_mut().find(|x| x.ip == a.address) {
            e.ttl = e.ttl.min(ttl);
        } else {
            addresses.push(Address { ip: a.address, ttl });
        }
    }
    addresses.sort_by_key(|a| a.ip);
    let min_ttl = chain_min
        .into_iter()
        .chain(res.addresses.iter().filter_map(|a| a.ttl))
        .min();
    Resolved {
        name,
        chain,
        resolved: !addresses.is_empty(),
        addresses,
        min_ttl,
        skipped_names,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::outcome::{AddressRecord, ChainLink};

    fn res(chain: &[(&str, &str, u32)], addrs: &[(&str, u32)]) -> Resolution {
        Resolution {
            chain: chain
                .iter()
                .map(|(n, t, ttl)| ChainLink {
                    name: n.to_string(),
                    target: t.to_string(),
                    ttl: *ttl,
                })
                .collect(),
            addresses: addrs
                .iter()
                .map(|(a, ttl)| {
                    let ip: IpAddr = a.parse().unwrap();
                    AddressRecord {
                        address: ip,
                        family: Family::of(&ip),
                        ttl: Some(*ttl),
                    }
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn names_are_validated() {
        assert!(Name::new("github.com").is_ok());
        assert_eq!(Name::new("github.com.").unwrap().as_str(), "github.com");
        for bad in [
            "a\nb.com",
            "a;b.com",
            "a\"b.com",
            "a b.com",
            "é.com",
            "x\\059y.com",
            "under_score.com",
        ] {
            assert!(Name::new(bad).is_err(), "{bad:?}");
        }
        assert!(Name::new(&format!("{}.com", "a".repeat(64))).is_err());
    }

    #[test]
    fn below() {
        let s = Name::new("github.com").unwrap();
        assert!(Name::new("api.github.com").unwrap().is_below(&s));
        assert!(Name::new("a.b.github.com").unwrap().is_below(&s));
        assert!(!Name::new("github.com").unwrap().is_below(&s));
        assert!(Name::new("github.com").unwrap().is_at_or_below(&s));
        assert!(!Name::new("evilgithub.com").unwrap().is_below(&s));
    }

    #[test]
    fn chain_ttl_and_hostile_targets() {
        let mut warnings = Vec::new();
        let mut seen = BTreeSet::new();
        let mut skip = |what: &str, raw: &str, why: String, w: &mut Vec<String>| {
            if seen.insert(raw.to_string()) {
                w.push(format!("{what} {} {why}", raw.escape_default()));
            }
        };
        let r = res(
            &[
                ("a.example", "b.example", 300),
                ("b.example", "c.example", 30),
            ],
            &[("192.0.2.1", 120), ("2001:db8::1", 20)],
        );
        let out = convert(
            Name::new("a.example").unwrap(),
            &r,
            &mut warnings,
            &mut skip,
        );
        assert_eq!(out.chain.len(), 2);
        assert_eq!(out.min_ttl, Some(20));
        assert_eq!(out.addresses[0].ttl, 30);
        assert_eq!(out.addresses[1].ttl, 20);
        let r = res(&[("a.example", "x;rm -rf.example", 60)], &[]);
        let out = convert(
            Name::new("a.example").unwrap(),
            &r,
            &mut warnings,
            &mut skip,
        );
        assert!(out.chain.is_empty());
        assert_eq!(out.skipped_names, 1);
        assert!(!out.resolved);
        assert_eq!(warnings.len(), 1);
    }
}
