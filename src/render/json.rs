//! JSON: the report as it is, with `schema_version` (documented in the README).

use crate::report::Report;

pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_else(|e| {
        format!(
            "{{\"schema_version\":{},\"error\":\"cannot serialise report: {e}\"}}",
            report.schema_version
        )
    });
    s.push('\n');
    s
}
