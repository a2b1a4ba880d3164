//! `nftables`: an `inet` table with v4 and v6 address sets (element timeouts from the chain's
//! smallest TTL) and an output chain accepting TCP to the profile's ports for those addresses.
//! Load with `nft -f FILE`.

use super::{hash_header, NFT_SET_V4, NFT_SET_V6, NFT_TABLE};
use crate::firewall::{Address, Model};
use crate::model::Family;

fn elements(list: &[Address]) -> String {
    list.iter()
        .map(|a| format!("{} timeout {}s", a.ip, a.ttl.max(1)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn render(model: &Model) -> String {
    let mut s = String::from("#!/usr/sbin/nft -f\n");
    s.push_str(&hash_header(
        model,
        &[
            "Set elements expire after their DNS TTL (smallest along the CNAME chain): reload this file from a timer,",
            "or let dnsmasq fill the same sets at run time (--format dnsmasq). The chain's policy is accept: to allow",
            "only these destinations, change it to drop after adding your own rules for DNS, loopback and established traffic.",
        ],
    ));
    let ports = model
        .ports
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    s.push_str(&format!(
        "table inet {NFT_TABLE}\ndelete table inet {NFT_TABLE}\ntable inet {NFT_TABLE} {{\n"
    ));
    for (set, ty, fam) in [
        (NFT_SET_V4, "ipv4_addr", Family::Ipv4),
        (NFT_SET_V6, "ipv6_addr", Family::Ipv6),
    ] {
        s.push_str(&format!(
            "\tset {set} {{\n\t\ttype {ty}\n\t\tflags timeout\n"
        ));
        let list = model.addresses(fam);
        if !list.is_empty() {
            s.push_str(&format!("\t\telements = {{ {} }}\n", elements(&list)));
        }
        s.push_str("\t}\n");
    }
    s.push_str(&format!(
        "\tchain output {{\n\t\ttype filter hook output priority filter; policy accept;\n\t\tip daddr @{NFT_SET_V4} tcp dport {{ {ports} }} accept\n\t\tip6 daddr @{NFT_SET_V6} tcp dport {{ {ports} }} accept\n\t}}\n}}\n"
    ));
    s
}
