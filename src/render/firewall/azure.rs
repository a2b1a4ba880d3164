//! `azure`: target FQDNs of an Azure Firewall application rule. Azure's `*.x` does not match `x`
//! itself, so a documented `*.x` is listed as both `*.x` and `x`.

use super::hash_header;
use crate::firewall::Model;
use crate::model::Pattern;

pub fn render(model: &Model) -> String {
    let mut s = hash_header(
        model,
        &[
            "Azure Firewall application rule target FQDNs (protocols Https:443, Http:80), one per line.",
            "Azure `*.x` does not match x: both are listed. E.g. az network firewall application-rule create ...",
            "--protocols Https=443 --target-fqdns $(grep -v '^#' THIS_FILE)",
        ],
    );
    let mut out: Vec<String> = Vec::new();
    for r in model.all_rules() {
        let entries = match &r.pattern {
            Pattern::Wildcard(n) => vec![format!("*.{n}"), n.to_string()],
            Pattern::Exact(n) => vec![n.to_string()],
        };
        for e in entries {
            if !out.contains(&e) {
                out.push(e);
            }
        }
    }
    for e in out {
        s.push_str(&e);
        s.push('\n');
    }
    s
}
