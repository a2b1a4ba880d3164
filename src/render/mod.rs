//! Renderers: a [`Report`](crate::report::Report) in, text out. No network I/O here.

pub mod firewall;
pub mod json;
pub mod network;
pub mod table;

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable tables, grouped by capability.
    Table,
    /// Machine-readable JSON (schema in the README).
    Json,
}

/// Render a report in a format.
pub fn render(report: &crate::report::Report, format: Format, style: &table::Style) -> String {
    match format {
        Format::Table => table::render(report, style),
        Format::Json => json::render(report),
    }
}
