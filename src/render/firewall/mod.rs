//! Firewall renderers: a [`Model`] in, the exact syntax of one consumer out. No network I/O.
//!
//! Every name here is a [`crate::firewall::Name`] (validated); each renderer translates the
//! documented `*.x` wildcard (any name below `x`, not `x` itself) into its consumer's semantics.

pub mod aws;
pub mod azure;
pub mod cilium;
pub mod dnsmasq;
pub mod ipset;
pub mod json;
pub mod nftables;
pub mod plain;
pub mod squid;

use crate::firewall::{Model, Rule};
use crate::model::{Name, Pattern};

/// nftables table and set names (shared with the dnsmasq `nftset=` lines).
pub const NFT_TABLE: &str = "runner_preflight";
pub const NFT_SET_V4: &str = "allow_v4";
pub const NFT_SET_V6: &str = "allow_v6";
/// ipset set names (shared with the dnsmasq `ipset=` line).
pub const IPSET_V4: &str = "runner-preflight-v4";
pub const IPSET_V6: &str = "runner-preflight-v6";

/// Output formats of `firewall`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirewallFormat {
    /// One name or pattern per line (`*.x` as documented)
    Plain,
    /// Patterns, chains, addresses, TTLs and the resolution time
    Json,
    /// nftables table with v4/v6 address sets (element timeouts from TTL) and an accept rule
    Nftables,
    /// `ipset restore` input: hash:ip sets with per-entry timeouts
    Ipset,
    /// Squid `dstdomain` ACL (`.x` matches x and every subdomain)
    Squid,
    /// dnsmasq `nftset=` lines (and an `ipset=` alternative) so the sets follow DNS at run time
    Dnsmasq,
    /// CiliumNetworkPolicy with toFQDNs (matchName / matchPattern) and the DNS rule it needs
    Cilium,
    /// Azure Firewall application rule target FQDNs (`*.x` does not match `x`: both listed)
    Azure,
    /// AWS Network Firewall domain list targets (`.x` matches x and every subdomain)
    Aws,
}

pub fn render(model: &Model, format: FirewallFormat) -> String {
    match format {
        FirewallFormat::Plain => plain::render(model),
        FirewallFormat::Json => json::render(model),
        FirewallFormat::Nftables => nftables::render(model),
        FirewallFormat::Ipset => ipset::render(model),
        FirewallFormat::Squid => squid::render(model),
        FirewallFormat::Dnsmasq => dnsmasq::render(model),
        FirewallFormat::Cilium => cilium::render(model),
        FirewallFormat::Azure => azure::render(model),
        FirewallFormat::Aws => aws::render(model),
    }
}

impl FirewallFormat {
    /// Formats whose allow list is made of addresses resolved now (not names, nor sets that
    /// DNS fills at run time): an unresolved capability leaves them empty.
    pub fn lists_addresses(self) -> bool {
        matches!(self, FirewallFormat::Nftables | FirewallFormat::Ipset)
    }
}

/// The closing line of `firewall` on standard error: what the rules allow, and — when an
/// address-based format would leave a capability's allow set empty — that loading them would
/// block that capability (the command then exits 1; see `cli::rules`).
pub fn summary(model: &Model, format: FirewallFormat) -> String {
    use crate::model::Family;
    use crate::words::plural;
    let caps = match model.capabilities.len() {
        1 => "1 capability".to_string(),
        n => format!("{n} capabilities"),
    };
    let names = model.all_rules().len();
    let (v4, v6) = (
        model.addresses(Family::Ipv4).len(),
        model.addresses(Family::Ipv6).len(),
    );
    let allowed = if model.offline {
        format!(
            "{} in {caps} (offline: no addresses)",
            plural(names, "name"),
        )
    } else {
        format!(
            "{}, {v4} IPv4 and {v6} IPv6 {} in {caps}",
            plural(names, "name"),
            if v4 + v6 == 1 { "address" } else { "addresses" },
        )
    };
    let empty = model.without_addresses();
    if format.lists_addresses() && !empty.is_empty() {
        let ids: Vec<&str> = empty.iter().map(|c| c.id.as_str()).collect();
        format!(
            "error: the rules hold {allowed}, but no name of {} resolved (see the warnings above): \
             the address sets hold nothing for {1}, so a firewall loading these rules would block {1}. \
             Fix DNS and run again, or use a name-based format (--format dnsmasq fills the sets at run time)",
            crate::model::text::printable(&ids.join(", ")),
            if ids.len() == 1 { "it" } else { "them" },
        )
    } else if format.lists_addresses() && model.offline {
        format!(
            "the rules hold {allowed}: the address sets are empty until names are resolved \
             (run without --offline, or use --format dnsmasq to fill them at run time)"
        )
    } else {
        format!("the rules hold {allowed}")
    }
}

/// The model's header as `#` comment lines.
pub(crate) fn hash_header(model: &Model, extra: &[&str]) -> String {
    let mut s = String::new();
    for l in model.header() {
        s.push_str(&format!("# {l}\n"));
    }
    for l in extra {
        s.push_str(&format!("# {}\n", crate::model::text::comment_safe(l)));
    }
    s
}

/// Rules translated to "suffix" semantics, where `x` as a domain matches `x` and every name below
/// it (Squid `.x`, AWS `.x`, dnsmasq `/x/`): `(name, is_suffix)`, with every entry dropped that
/// an emitted suffix already covers.
pub(crate) fn suffix_reduce(rules: &[Rule]) -> Vec<(Name, bool)> {
    let suffixes: Vec<&Name> = rules
        .iter()
        .filter_map(|r| match &r.pattern {
            Pattern::Wildcard(s) => Some(s),
            Pattern::Exact(_) => None,
        })
        .collect();
    let mut out: Vec<(Name, bool)> = Vec::new();
    for r in rules {
        let (name, is_suffix) = match &r.pattern {
            Pattern::Wildcard(s) => (s, true),
            Pattern::Exact(n) => (n, false),
        };
        let covered = suffixes.iter().any(|s| {
            if is_suffix {
                name.is_below(s)
            } else {
                name.is_at_or_below(s)
            }
        });
        if !covered && !out.iter().any(|(n, _)| n == name) {
            out.push((name.clone(), is_suffix));
        }
    }
    out
}

#[cfg(test)]
mod tests;

/// Everything to say on standard error about a model: names skipped, names not resolved.
pub fn warnings(m: &Model) -> Vec<String> {
    let mut out = m.warnings.clone();
    for u in &m.unresolved {
        out.push(format!(
            "{}{}",
            crate::model::text::comment_safe(&super::words::dns_failure(&u.failure, &u.host)),
            if u.usable {
                " (the addresses found are still used)"
            } else {
                " (only the name is used)"
            }
        ));
    }
    out
}
