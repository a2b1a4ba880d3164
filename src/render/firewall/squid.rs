//! `squid`: a `dstdomain` ACL. In Squid `.x` matches `x` and every name below it, so GitHub's
//! `*.x` becomes `.x` (one name broader: `x` itself), and names a `.x` already covers are left
//! out (Squid warns about such overlaps).

use super::{hash_header, suffix_reduce};
use crate::firewall::Model;

pub const ACL: &str = "github_runner";

pub fn render(model: &Model) -> String {
    let mut s = hash_header(
        model,
        &[
            "Squid dstdomain: `.x` matches x and every subdomain; documented `*.x` is written as `.x`.",
            "Use with: http_access allow github_runner (before your final deny), e.g. include this file from squid.conf.",
        ],
    );
    for (name, is_suffix) in suffix_reduce(&model.all_rules()) {
        let dot = if is_suffix { "." } else { "" };
        s.push_str(&format!("acl {ACL} dstdomain {dot}{name}\n"));
    }
    s
}
