//! `cilium`: a CiliumNetworkPolicy allowing egress to the names (toFQDNs) on the profile's ports,
//! with the DNS rule toFQDNs needs (Cilium learns addresses from the DNS answers it proxies).
//! Cilium's `*` matches within one label, so `*.x` covers `a.x` but not `a.b.x` and not `x`.

use super::hash_header;
use crate::firewall::Model;
use crate::model::Pattern;

pub fn render(model: &Model) -> String {
    let mut s = hash_header(
        model,
        &[
            "Cilium matchPattern `*` matches within one DNS label: *.x covers a.x, not a.b.x and not x. Deeper names",
            "met here (probed names and CNAME targets) are listed with matchName. The empty endpointSelector applies",
            "the policy to every pod of its namespace: narrow it to your runner pods.",
        ],
    );
    s.push_str(
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: github-runner-egress\nspec:\n  endpointSelector: {}\n  egress:\n",
    );
    s.push_str(
        "    - toEndpoints:\n        - matchLabels:\n            \"k8s:io.kubernetes.pod.namespace\": kube-system\n            \"k8s:k8s-app\": kube-dns\n      toPorts:\n        - ports:\n            - port: \"53\"\n              protocol: ANY\n          rules:\n            dns:\n              - matchPattern: \"*\"\n",
    );
    s.push_str("    - toFQDNs:\n");
    for r in model.all_rules() {
        match &r.pattern {
            Pattern::Exact(n) => s.push_str(&format!("        - matchName: \"{n}\"\n")),
            Pattern::Wildcard(n) => s.push_str(&format!("        - matchPattern: \"*.{n}\"\n")),
        }
    }
    s.push_str("      toPorts:\n        - ports:\n");
    for p in &model.ports {
        s.push_str(&format!(
            "            - port: \"{p}\"\n              protocol: TCP\n"
        ));
    }
    s
}
