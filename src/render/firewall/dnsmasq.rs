//! `dnsmasq`: `nftset=` lines filling the sets of `--format nftables` with every address dnsmasq
//! answers for these domains, so the firewall follows DNS at run time. In dnsmasq `/x/` matches
//! `x` and every name below it, so `*.x` becomes `/x/`, and names below an emitted domain are left out.

use super::{hash_header, IPSET_V4, IPSET_V6, NFT_SET_V4, NFT_SET_V6, NFT_TABLE};
use crate::firewall::Model;
use crate::model::{Name, Pattern};

pub fn render(model: &Model) -> String {
    let mut s = hash_header(
        model,
        &[
            "dnsmasq domain match: /x/ matches x and every subdomain. The nftset= lines need the table and sets",
            "of --format nftables; with iptables/ipset use the ipset= line instead (sets of --format ipset).",
        ],
    );
    let names: Vec<Name> = model
        .all_rules()
        .into_iter()
        .map(|r| match r.pattern {
            Pattern::Wildcard(n) | Pattern::Exact(n) => n,
        })
        .collect();
    let mut kept: Vec<&Name> = Vec::new();
    for n in &names {
        if names.iter().any(|o| n.is_below(o)) || kept.contains(&n) {
            continue;
        }
        kept.push(n);
    }
    for n in &kept {
        s.push_str(&format!(
            "nftset=/{n}/4#inet#{NFT_TABLE}#{NFT_SET_V4},6#inet#{NFT_TABLE}#{NFT_SET_V6}\n"
        ));
    }
    if !kept.is_empty() {
        let domains: String = kept.iter().map(|n| format!("/{n}")).collect();
        s.push_str(&format!(
            "# ipset alternative (iptables):\n# ipset={domains}/{IPSET_V4},{IPSET_V6}\n"
        ));
    }
    s
}
