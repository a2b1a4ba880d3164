//! What pipelines need around `check`: more renderings of the same report in one run, the
//! GitHub Actions integration (annotations, job summary), shell completions and the man page.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::error::InputError;
use crate::gate::FailOn;
use crate::render::{self, Format};
use crate::report::Report;

/// `check --help` examples.
pub const CHECK_AFTER_HELP: &str = "\
Examples:
  Before registering a runner:
    runner-preflight check --profile dotcom
    runner-preflight check --profile ghes --var hostname=ghes.example.com \\
      --ca-file corp-proxy-ca.pem
  Gating a new host in a provisioning pipeline (exit code 1 stops it), the table for the log and
  the reports as artifacts, from one probe:
    runner-preflight check --profile dotcom --fail-on warn \\
      --output-json report.json --output-junit report.xml --output-markdown summary.md
  The same from the environment (what CI systems set):
    RUNNER_PREFLIGHT_PROFILE=dotcom RUNNER_PREFLIGHT_FAIL_ON=warn \\
      RUNNER_PREFLIGHT_OUTPUT_JUNIT=report.xml runner-preflight check
  In GitHub Actions (GITHUB_ACTIONS=true) failures also become ::error/::warning annotations
  (unless the report itself goes to stdout as json, junit or markdown) and a Markdown summary is
  appended to $GITHUB_STEP_SUMMARY.

Exit codes: 0 every gating capability passes (warnings allowed unless --fail-on warn),
1 a gating capability fails (or any warning, with --fail-on warn), 2 usage, profile or input error.";

/// Flags for pipelines, flattened into `check`.
#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// Exit 1 when the overall verdict is at least this: `fail` (a gating capability fails) or `warn` (also any warning or failing informational capability)
    #[arg(
        long,
        value_enum,
        value_name = "LEVEL",
        default_value = "fail",
        env = "RUNNER_PREFLIGHT_FAIL_ON"
    )]
    pub fail_on: FailOn,
    /// Also write the JSON report to FILE (whatever --format says)
    #[arg(long, value_name = "FILE", env = "RUNNER_PREFLIGHT_OUTPUT_JSON")]
    pub output_json: Option<PathBuf>,
    /// Also write the JUnit XML report to FILE
    #[arg(long, value_name = "FILE", env = "RUNNER_PREFLIGHT_OUTPUT_JUNIT")]
    pub output_junit: Option<PathBuf>,
    /// Also write the Markdown summary to FILE
    #[arg(long, value_name = "FILE", env = "RUNNER_PREFLIGHT_OUTPUT_MARKDOWN")]
    pub output_markdown: Option<PathBuf>,
    /// Record KEY=VALUE in the report's `labels` (repeatable), e.g. node=worker-7, to tell a fleet's reports apart
    #[arg(
        long = "label",
        value_name = "KEY=VALUE",
        value_parser = parse_label,
        value_delimiter = ',',
        env = "RUNNER_PREFLIGHT_LABELS"
    )]
    pub labels: Vec<(String, String)>,
}

fn parse_label(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))?;
    let k = k.trim();
    let ok = !k.is_empty()
        && k.len() <= 63
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'));
    if !ok {
        return Err(format!(
            "label key `{k}`: use 1 to 63 letters, digits, `_`, `-`, `.` or `/`"
        ));
    }
    Ok((k.to_string(), v.trim().to_string()))
}

impl PipelineArgs {
    /// After the report is built: the labels. (The exit code under `--fail-on` is decided by
    /// `report::build`, from the settings it is given.)
    pub fn apply(&self, report: &mut Report) {
        report.labels = self.labels.iter().cloned().collect();
    }

    fn extra(&self) -> Vec<(&'static str, &Path, Format)> {
        let mut v = Vec::new();
        if let Some(p) = &self.output_json {
            v.push(("--output-json", p.as_path(), Format::Json));
        }
        if let Some(p) = &self.output_junit {
            v.push(("--output-junit", p.as_path(), Format::Junit));
        }
        if let Some(p) = &self.output_markdown {
            v.push(("--output-markdown", p.as_path(), Format::Markdown));
        }
        v
    }

    /// Before probing: no output is a directory, no two outputs share a path.
    pub fn validate(&self, output: Option<&Path>) -> Result<(), InputError> {
        let mut all: Vec<(&str, &Path)> = output.map(|p| ("--output", p)).into_iter().collect();
        all.extend(self.extra().into_iter().map(|(f, p, _)| (f, p)));
        for (i, (flag, path)) in all.iter().enumerate() {
            if path.is_dir() {
                return Err(InputError::usage(format!(
                    "{flag} {}: is a directory",
                    path.display()
                )));
            }
            if let Some((other, _)) = all[..i].iter().find(|(_, p)| p == path) {
                return Err(InputError::usage(format!(
                    "{other} and {flag} name the same file {}",
                    path.display()
                )));
            }
            // Find an unwritable path now, not after the whole probe, without creating anything:
            // an existing file must open for appending, a new one needs its folder.
            let problem = if path.exists() {
                std::fs::OpenOptions::new()
                    .append(true)
                    .open(path)
                    .err()
                    .map(|e| e.to_string())
            } else {
                match path.parent() {
                    Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => {
                        Some(format!("the folder {} does not exist", dir.display()))
                    }
                    _ => None,
                }
            };
            if let Some(p) = problem {
                return Err(InputError::usage(format!("{flag} {}: {p}", path.display())));
            }
        }
        Ok(())
    }

    /// Write `--output-json/-junit/-markdown`. Every file is attempted; the first error is returned.
    pub fn write_files(&self, report: &Report) -> Result<(), InputError> {
        let style = render::table::Style::default();
        let mut errors = Vec::new();
        for (flag, path, format) in self.extra() {
            let text = render::render(report, format, &style);
            if let Err(e) = std::fs::write(path, text.as_bytes()) {
                errors.push(format!("{flag} {}: {e}", path.display()));
            }
        }
        // The caller prints the first error; the others are printed here.
        for e in errors.iter().skip(1) {
            eprintln!("error: {e}");
        }
        match errors.into_iter().next() {
            Some(e) => Err(InputError::usage(e)),
            None => Ok(()),
        }
    }
}

/// Inside GitHub Actions (`GITHUB_ACTIONS=true`): workflow-command annotations on stdout, unless
/// stdout carries a machine-readable report, and the Markdown appended to `$GITHUB_STEP_SUMMARY`.
pub fn github_actions(report: &Report, stdout_is_data: bool) {
    if std::env::var("GITHUB_ACTIONS").as_deref() != Ok("true") {
        return;
    }
    let commands = render::annotations::render(report);
    if stdout_is_data {
        if !commands.is_empty() {
            eprintln!(
                "runner-preflight: annotations not printed: stdout carries the report (use --output FILE or --output-{{json,junit,markdown}} to get them)"
            );
        }
    } else {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(commands.as_bytes());
        let _ = stdout.flush();
    }
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        let md = render::markdown::render(report);
        let res = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .and_then(|mut f| f.write_all(format!("{md}\n").as_bytes()));
        if let Err(e) = res {
            // The verdict matters more than the summary: say so, keep the exit code.
            eprintln!(
                "runner-preflight: warning: cannot append to $GITHUB_STEP_SUMMARY ({}): {e}",
                Path::new(&path).display()
            );
        }
    }
}

/// `completions SHELL`: the completion script on stdout.
pub fn completions(mut cmd: clap::Command, shell: clap_complete::Shell) -> String {
    let name = cmd.get_name().to_string();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// `man [COMMAND]`: the roff man page of the program or of one subcommand.
pub fn man_page(mut cmd: clap::Command, sub: Option<&str>) -> Result<String, InputError> {
    cmd.build();
    let page = match sub {
        None => cmd,
        Some(n) => cmd.find_subcommand(n).cloned().ok_or_else(|| {
            let names: Vec<&str> = cmd
                .get_subcommands()
                .map(|s| s.get_name())
                .filter(|s| *s != "help")
                .collect();
            InputError::usage(format!(
                "no command `{n}`; commands are {}",
                names.join(", ")
            ))
        })?,
    };
    let source = format!("runner-preflight {}", env!("CARGO_PKG_VERSION"));
    let mut buf = Vec::new();
    clap_mangen::Man::new(page)
        .source(source)
        .render(&mut buf)
        .map_err(|e| InputError::usage(format!("cannot render the man page: {e}")))?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}
