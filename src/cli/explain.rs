//! `explain REPORT.json`: the Diagnosis of a saved report, printed again (no network).
//!
//! The root causes are read back typed from the report's `diagnosis` array and worded anew by
//! `render::diagnosis`; an unexplained cause is summed up by its target's own `cause` (or the
//! throughput direction's `detail`) as the report saved it.

use std::path::Path;

use serde_json::Value;

use super::args::{ExplainArgs, ExplainFormat};
use super::output;
use super::Failure;
use crate::error::InputError;
use crate::render::diagnosis::{self, Details};
use crate::report::{Diagnosis, RootCause, SCHEMA_VERSION};
use crate::textfile;

pub fn explain(args: ExplainArgs) -> Result<u8, Failure> {
    let path = &args.report;
    let saved = load(path)?;
    let text = match args.format {
        ExplainFormat::Table => table(&saved, path),
        ExplainFormat::Markdown => {
            let md = diagnosis::markdown(&saved.diagnosis, &saved.details);
            if md.is_empty() {
                "### Diagnosis: no causes\n\nEverything passes.\n".to_string()
            } else {
                md
            }
        }
        ExplainFormat::Json => {
            let mut list: Vec<Value> = saved
                .diagnosis
                .iter()
                .map(|d| serde_json::to_value(d).unwrap_or(Value::Null))
                .collect();
            crate::render::json::diagnosis_words(&saved.diagnosis, &saved.details, &mut list);
            let v = serde_json::json!({ "diagnosis": list });
            let mut s = serde_json::to_string_pretty(&v).unwrap_or_else(|_| "{}".into());
            s.push('\n');
            s
        }
    };
    output::stdout("the diagnosis", &text)?;
    Ok(0)
}

/// What `explain` reads back from a report.
pub struct Saved {
    pub diagnosis: Vec<Diagnosis>,
    pub details: Details,
    /// `profile · host · generated_at · verdict`, as far as the report says.
    pub heading: String,
}

fn bad(path: &Path, what: impl std::fmt::Display) -> InputError {
    InputError::usage(format!("{}: {what}", path.display()))
}

/// Read and check a saved JSON report; its diagnosis, typed.
pub fn load(path: &Path) -> Result<Saved, InputError> {
    let text = textfile::read_text(path, textfile::limit::REPORT, "a report")
        .map_err(|e| InputError::usage(e.to_string()))?;
    let mut v: Value = serde_json::from_str(textfile::strip_bom(&text)).map_err(|e| {
        bad(
            path,
            format!(
                "not a JSON report: {} at line {}, column {}",
                match e.classify() {
                    serde_json::error::Category::Eof => "it ends too early",
                    _ => "invalid JSON",
                },
                e.line(),
                e.column()
            ),
        )
    })?;
    // A saved report is outside text: every string escaped on the way in (issue 22 row 2).
    crate::model::text::printable_json(&mut v);
    let Some(obj) = v.as_object() else {
        return Err(bad(
            path,
            "not a runner-preflight report (not a JSON object)",
        ));
    };
    match obj.get("schema_version").and_then(Value::as_u64) {
        None => {
            return Err(bad(
                path,
                "not a runner-preflight report (no schema_version)",
            ))
        }
        Some(n) if n != SCHEMA_VERSION as u64 => {
            return Err(bad(
                path,
                format!(
                    "schema_version {n}: this runner-preflight reads reports of version {SCHEMA_VERSION}"
                ),
            ))
        }
        Some(_) => {}
    }
    let Some(list) = obj.get("diagnosis").and_then(Value::as_array) else {
        return Err(bad(
            path,
            "the report has no diagnosis (written by an older runner-preflight?): run check again",
        ));
    };
    let mut diagnosis = Vec::with_capacity(list.len());
    for (i, d) in list.iter().enumerate() {
        let parsed: Diagnosis = serde_json::from_value(d.clone()).map_err(|_| {
            bad(
                path,
                format!(
                    "diagnosis[{i}]{} is not a root cause this runner-preflight knows (a damaged or edited report?)",
                    d.get("kind")
                        .and_then(Value::as_str)
                        .map(|k| format!(" (kind `{}`)", k.chars().take(40).collect::<String>()))
                        .unwrap_or_default()
                ),
            )
        })?;
        diagnosis.push(parsed);
    }
    let details = details(&v, &diagnosis);
    let s = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string()
    };
    let heading = format!(
        "profile {} · host {} · {} · verdict {}",
        s("/profile/name"),
        s("/hostname"),
        s("/generated_at"),
        s("/verdict").to_uppercase()
    );
    Ok(Saved {
        diagnosis,
        details,
        heading,
    })
}

/// The saved sentences of the unexplained causes.
fn details(v: &Value, diagnosis: &[Diagnosis]) -> Details {
    let mut out = Details::new();
    let targets: Vec<&Value> = v
        .get("capabilities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|c| {
            c.get("entries")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .flat_map(|e| {
            e.get("targets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .collect();
    for d in diagnosis {
        // As `render::diagnosis::details`: a shared address's cause by its first name's.
        let direction = match &d.cause {
            RootCause::Unexplained { direction, .. } => direction,
            RootCause::SharedAddressFails { .. } => &None,
            _ => continue,
        };
        let text = match direction {
            Some(dir) => v
                .pointer("/throughput/directions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|x| x.get("direction").and_then(Value::as_str) == Some(dir))
                .and_then(|x| x.get("detail").and_then(Value::as_str)),
            None => targets
                .iter()
                .find(|t| t.get("diagnosis_id").and_then(Value::as_u64) == Some(d.id as u64))
                .and_then(|t| t.get("cause").and_then(Value::as_str)),
        };
        if let Some(t) = text {
            out.insert(d.id, t.to_string());
        }
    }
    out
}

fn table(saved: &Saved, path: &Path) -> String {
    let mut s = format!("{} — {}\n\n", path.display(), saved.heading);
    let block = diagnosis::block(&saved.diagnosis, &saved.details);
    if block.is_empty() {
        s.push_str("Diagnosis — no causes: everything passes.\n");
    } else {
        s.push_str(&block);
    }
    s
}
