//! `json`: the whole model — patterns, chains, addresses with TTLs, and the resolution time.

use serde_json::{json, Value};

use crate::firewall::{Address, Model};
use crate::model::Family;

const NOTE: &str = "IP addresses behind these names change (CDNs, CNAME targets, short TTLs): prefer name-based rules; regenerate address lists often.";

fn addresses(list: &[Address]) -> Value {
    Value::Array(
        list.iter()
            .map(|a| json!({"address": a.ip.to_string(), "ttl": a.ttl}))
            .collect(),
    )
}

pub fn render(model: &Model) -> String {
    let capabilities: Vec<Value> = model
        .capabilities
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "title": c.title,
                "gating": c.gating,
                "patterns": c.patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                "rules": c.rules().iter().map(|r| json!({"pattern": r.pattern.to_string(), "origin": r.origin})).collect::<Vec<_>>(),
                "resolutions": c.resolutions.iter().map(|r| json!({
                    "name": r.name.as_str(),
                    "resolved": r.resolved,
                    "chain": r.chain.iter().map(|l| json!({"name": l.name.as_str(), "target": l.target.as_str(), "ttl": l.ttl})).collect::<Vec<_>>(),
                    "addresses": addresses(&r.addresses),
                    "min_ttl": r.min_ttl,
                    "skipped_names": r.skipped_names,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let v = json!({
        "generated_by": model.generated_by,
        "note": NOTE,
        "resolved_at": model.resolved_at,
        "profile": model.profile,
        "offline": model.offline,
        "dns_servers": model.dns_servers,
        "ports": model.ports,
        "capabilities": capabilities,
        "names": model.all_rules().iter().map(|r| r.pattern.to_string()).collect::<Vec<_>>(),
        "addresses": {
            "ipv4": addresses(&model.addresses(Family::Ipv4)),
            "ipv6": addresses(&model.addresses(Family::Ipv6)),
        },
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}
