//! `plain`: one name or pattern per line, documented wildcards kept as `*.x`.

use super::hash_header;
use crate::firewall::Model;

pub fn render(model: &Model) -> String {
    let mut s = hash_header(
        model,
        &["One name per line; `*.x` is GitHub's documented wildcard (any name below x, not x)."],
    );
    let mut seen = std::collections::BTreeSet::new();
    for c in &model.capabilities {
        let rules: Vec<_> = c
            .rules()
            .into_iter()
            .filter(|r| seen.insert(r.pattern.clone()))
            .collect();
        if rules.is_empty() {
            continue;
        }
        s.push_str(&format!(
            "# {}\n",
            crate::model::text::comment_safe(&format!("{} — {}", c.id, c.title))
        ));
        for r in rules {
            s.push_str(&format!("{}\n", r.pattern));
        }
    }
    s
}
