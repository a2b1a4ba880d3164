//! `ipset`: input for `ipset restore` — two hash:ip sets (inet, inet6) with per-entry timeouts
//! from the chain's smallest TTL. Safe to restore again (`-exist`, then flush).

use super::{hash_header, IPSET_V4, IPSET_V6};
use crate::firewall::Model;
use crate::model::Family;

pub fn render(model: &Model) -> String {
    let mut s = hash_header(
        model,
        &[
            "Load with: ipset restore < FILE. Entries expire after their DNS TTL; reload from a timer, or let dnsmasq",
            "fill the sets at run time (--format dnsmasq). Match with e.g.:",
            "iptables -A OUTPUT -p tcp -m multiport --dports 443,80 -m set --match-set runner-preflight-v4 dst -j ACCEPT",
        ],
    );
    for (set, family, fam) in [
        (IPSET_V4, "inet", Family::Ipv4),
        (IPSET_V6, "inet6", Family::Ipv6),
    ] {
        s.push_str(&format!(
            "create {set} hash:ip family {family} timeout 0 -exist\nflush {set}\n"
        ));
        for a in model.addresses(fam) {
            s.push_str(&format!(
                "add {set} {} timeout {} -exist\n",
                a.ip,
                a.ttl.max(1)
            ));
        }
    }
    s
}
