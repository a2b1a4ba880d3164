//! `fleet` and `fleet diff`: saved reports (files, or folders of `*.json`) → the fleet model →
//! the chosen format → standard output or `--output` (written atomically).

use crate::model::text::printable;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::args::{FleetArgs, FleetCommand, FleetDiffArgs, FleetFormatArg, FleetOutputArgs};
use super::output::{self, say};
use super::Failure;
use crate::error::InputError;
use crate::fleet::{self, diff, Fleet, Problem, Skipped};
use crate::render::{fleet as render_fleet, html};
use crate::textfile;

pub const AFTER_HELP: &str = "\
Examples:
  Merge one report per host (written with check --output-json, --label zone=b, --label ip=10.2.0.7):
    runner-preflight fleet reports/
    runner-preflight fleet reports/ --format html -o fleet.html
  What changed since the last sweep (exit 1 when something got worse):
    runner-preflight fleet diff sweep-monday/ sweep-tuesday/

Reports of another schema_version, and files that are not reports, are skipped with a warning
naming the file.

Exit codes: fleet: 0 every host's report passed its gate, 1 some host's report failed (its own
exit code was 1), 2 no usable report or bad flags. fleet diff: 0 nothing got worse, 1 something
got worse (a verdict rose on a host, or a new host fails), 2 a sweep has no usable report.";

pub fn fleet(args: FleetArgs) -> Result<u8, Failure> {
    if let Some(FleetCommand::Diff(d)) = args.command {
        return fleet_diff(d);
    }
    let inputs: Vec<&Path> = args.reports.iter().map(PathBuf::as_path).collect();
    check_output(&args.out, &inputs)?;
    let (fleet, skipped) = load(&args.reports, "the files given")?;
    let text = match args.out.format {
        FleetFormatArg::Table => render_fleet::table(&fleet, &skipped, &style(&args.out)),
        FleetFormatArg::Markdown => render_fleet::markdown(&fleet, &skipped),
        FleetFormatArg::Json => render_fleet::json(&fleet, &skipped),
        FleetFormatArg::Html => html::fleet(&fleet, &skipped),
    };
    write(&args.out, &text, &render_fleet::headline(&fleet))?;
    Ok(fleet.exit_code())
}

fn fleet_diff(args: FleetDiffArgs) -> Result<u8, Failure> {
    check_output(&args.out, &[args.old.as_path(), args.new.as_path()])?;
    let (old, old_skipped) = load(std::slice::from_ref(&args.old), "the old sweep")?;
    let (new, new_skipped) = load(std::slice::from_ref(&args.new), "the new sweep")?;
    let d = diff::diff(&old, &new);
    let skips = render_fleet::SweepSkips {
        old: &old_skipped,
        new: &new_skipped,
    };
    let text = match args.out.format {
        FleetFormatArg::Table => render_fleet::diff_text(&d, &skips),
        FleetFormatArg::Markdown => render_fleet::diff_markdown(&d, &skips),
        FleetFormatArg::Json => render_fleet::diff_json(&d, &skips),
        FleetFormatArg::Html => html::fleet_diff(&d, &skips),
    };
    write(&args.out, &text, &render_fleet::diff_headline(&d))?;
    Ok(d.exit_code())
}

fn style(out: &FleetOutputArgs) -> crate::render::table::Style {
    super::settings::table_style(out.output.is_none() && std::io::stdout().is_terminal())
}

/// `--output` can be written and is none of the inputs (a folder given counts with its files).
fn check_output(out: &FleetOutputArgs, inputs: &[&Path]) -> Result<(), InputError> {
    let Some(path) = &out.output else {
        return Ok(());
    };
    let mut files: Vec<PathBuf> = Vec::new();
    for p in inputs {
        if p.is_dir() {
            files.extend(json_files(p).unwrap_or_default());
        } else {
            files.push(p.to_path_buf());
        }
    }
    let inputs: Vec<(&str, &Path)> = files.iter().map(|f| ("report", f.as_path())).collect();
    output::validate(&[("--output", path.as_path())], &inputs)
}

fn write(out: &FleetOutputArgs, text: &str, what: &str) -> Result<(), Failure> {
    match &out.output {
        Some(path) => {
            output::write_file("--output", path, text.as_bytes())?;
            say(&format!(
                "runner-preflight fleet: {what} — written to {}",
                path.display()
            ));
        }
        None => output::stdout("the fleet report", text)?,
    }
    Ok(())
}

/// Every entry named `*.json` in `dir`, sorted by name, whatever it is: one that is not a
/// regular file (a FIFO, a device, a folder, a link that loops) is skipped with a warning when
/// read ([`textfile::require_regular`]), never silently (issue 22, row 15).
fn json_files(dir: &Path) -> Result<Vec<PathBuf>, std::io::Error> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if is_json {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The reports named by `paths` (files, or folders of `*.json`), merged. Skipped files are
/// warned about on standard error; no usable report at all is an input error (exit 2).
fn load(paths: &[PathBuf], what: &str) -> Result<(Fleet, Vec<Skipped>), InputError> {
    // (file, found in a folder)
    let mut files: Vec<(PathBuf, bool)> = Vec::new();
    for p in paths {
        if p.is_dir() {
            let found = json_files(p).map_err(|e| {
                InputError::usage(format!(
                    "{}: cannot list the folder: {}",
                    p.display(),
                    output::io_words(&e)
                ))
            })?;
            if found.is_empty() {
                say(&format!(
                    "warning: {}: no *.json file in this folder",
                    p.display()
                ));
            }
            files.extend(found.into_iter().map(|f| (f, true)));
        } else {
            files.push((p.clone(), false));
        }
    }
    let count = files.len();
    let inputs = files
        .into_iter()
        .map(|(f, in_folder)| {
            // A file named on the command line is read as any input (a device up to the cap);
            // in a folder only regular files are reports.
            let regular = if in_folder {
                textfile::require_regular(&f)
            } else {
                Ok(())
            };
            let read = regular
                .and_then(|()| textfile::read_text(&f, textfile::limit::REPORT, "a report"))
                .map_err(Problem::Read)
                .and_then(|text| fleet::input::parse(&text).map_err(Problem::Parse));
            // A file name is outside text too (issue 22 row 8).
            (printable(&f.display().to_string()), read)
        })
        .collect();
    let (fleet, skipped) = fleet::build(inputs);
    for s in &skipped {
        // A file name is outside text: its control characters are shown escaped.
        say(&format!(
            "warning: {}",
            printable(&render_fleet::skipped_warning(s))
        ));
    }
    if fleet.hosts.is_empty() {
        let found = if count == 0 {
            "no *.json file".to_string()
        } else {
            format!("{} skipped", crate::words::plural(count, "file"))
        };
        return Err(InputError::usage(format!(
            "no usable report in {what} ({found}): give files written by `check --format json` or `--output-json`"
        )));
    }
    Ok((fleet, skipped))
}
