//! `aws`: targets of an AWS Network Firewall domain list rule group. `.x` matches `x` and every
//! name below it, so GitHub's `*.x` becomes `.x`, and names a `.x` already covers are left out.

use super::{hash_header, suffix_reduce};
use crate::firewall::Model;

pub fn render(model: &Model) -> String {
    let mut s = hash_header(
        model,
        &[
            "AWS Network Firewall domain list targets, one per line: `.x` matches x and every subdomain.",
            "Use as RulesSourceList Targets with TargetTypes TLS_SNI, HTTP_HOST and GeneratedRulesType ALLOWLIST.",
        ],
    );
    for (name, is_suffix) in suffix_reduce(&model.all_rules()) {
        let dot = if is_suffix { "." } else { "" };
        s.push_str(&format!("{dot}{name}\n"));
    }
    s
}
