//! Renderers: a [`Report`](crate::report::Report) in, text out. No network I/O here.

pub mod annotations;
pub mod audit;
pub mod diagnosis;
pub mod escape;
pub mod firewall;
pub mod fleet;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod meta;
pub mod network;
pub mod prometheus;
pub mod table;
pub mod view;
pub mod words;
pub mod words_container;
pub mod words_throughput;

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable tables, grouped by capability.
    Table,
    /// Machine-readable JSON (schema in docs/json-report.md).
    Json,
    /// JUnit XML: one testsuite per capability, one testcase per probed name.
    Junit,
    /// Markdown summary, e.g. for $GITHUB_STEP_SUMMARY.
    Markdown,
    /// One self-contained HTML page (inline CSS and SVG, no script, nothing fetched).
    Html,
    /// Prometheus text exposition, e.g. for node_exporter's textfile collector.
    Prometheus,
}

/// Render a report in a format.
pub fn render(report: &crate::report::Report, format: Format, style: &table::Style) -> String {
    match format {
        Format::Table => table::render(report, style),
        Format::Json => json::render(report),
        Format::Junit => junit::render(report),
        Format::Markdown => markdown::render(report),
        Format::Html => html::report(report),
        Format::Prometheus => prometheus::render(report),
    }
}
