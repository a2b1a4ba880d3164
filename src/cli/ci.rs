//! What pipelines need around `check`: more renderings of the same report in one run, the
//! GitHub Actions integration (annotations, job summary), shell completions and the man page.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::args::PipelineArgs;
use super::output::{self, say, WriteError};
use crate::error::InputError;
use crate::model::text::printable;
use crate::render::{self, Format};
use crate::report::fail_on::FailOn;
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
  (after the table on stdout; on stderr when stdout carries the json, junit or markdown report)
  and a Markdown summary is appended to $GITHUB_STEP_SUMMARY.

Exit codes: 0 every gating capability passes (warnings allowed unless --fail-on warn),
1 a gating capability fails (or any warning, with --fail-on warn), 2 usage, profile or input error.";

/// The pipeline outputs of `check`: `--fail-on`, `--label`, `--output-json/-junit/-markdown`.
pub struct Pipeline {
    pub fail_on: FailOn,
    pub labels: Vec<(String, String)>,
    pub files: Vec<ExtraFile>,
}

/// One more rendering of the report, to a file.
pub struct ExtraFile {
    pub flag: &'static str,
    pub path: PathBuf,
    pub format: Format,
}

impl Pipeline {
    pub fn new(args: &PipelineArgs) -> Pipeline {
        let mut files = Vec::new();
        for (flag, path, format) in [
            ("--output-json", &args.output_json, Format::Json),
            ("--output-junit", &args.output_junit, Format::Junit),
            ("--output-markdown", &args.output_markdown, Format::Markdown),
        ] {
            if let Some(p) = path {
                files.push(ExtraFile {
                    flag,
                    path: p.clone(),
                    format,
                });
            }
        }
        Pipeline {
            fail_on: args.fail_on.into(),
            labels: args.labels.clone(),
            files,
        }
    }

    /// After the report is built: the labels. (The exit code under `--fail-on` is decided by
    /// `report::build`, from the settings it is given.)
    pub fn apply(&self, report: &mut Report) {
        report.labels = self
            .labels
            .iter()
            .map(|(k, v)| (printable(k), printable(v)))
            .collect();
    }

    /// Write `--output-json/-junit/-markdown`, each atomically. Every file is attempted; the
    /// first error is returned, the others are said here.
    pub fn write_files(&self, report: &Report) -> Result<(), WriteError> {
        let style = render::table::Style::default();
        let mut errors = Vec::new();
        for f in &self.files {
            let text = render::render(report, f.format, &style);
            let fits = match f.format {
                render::Format::Json => output::readable_report(f.flag, &text),
                _ => Ok(()),
            };
            if let Err(e) = fits.and_then(|()| output::write_file(f.flag, &f.path, text.as_bytes()))
            {
                errors.push(e);
            }
        }
        let mut errors = errors.into_iter();
        let first = errors.next();
        for e in errors {
            say(&format!("error: {e}"));
        }
        match first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Inside GitHub Actions (`GITHUB_ACTIONS=true`): the workflow-command annotations, and the
/// Markdown appended to `$GITHUB_STEP_SUMMARY`. The annotations follow the table on stdout; when
/// stdout carries a machine-readable report they go to stderr, which the runner reads for
/// workflow commands too, so the report stays exactly what it is without GitHub Actions.
pub fn github_actions(report: &Report, stdout_is_data: bool) -> Result<(), WriteError> {
    if std::env::var("GITHUB_ACTIONS").as_deref() != Ok("true") {
        return Ok(());
    }
    let commands = render::annotations::render(report);
    let written = if stdout_is_data {
        let mut stderr = std::io::stderr().lock();
        // Nothing to do about a stderr that cannot be written.
        let _ = stderr
            .write_all(commands.as_bytes())
            .and_then(|()| stderr.flush());
        Ok(())
    } else {
        output::stdout_commands("the annotations", &commands)
    };
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        let md = render::markdown::render(report);
        if let Err(why) = append_summary(Path::new(&path), &md) {
            // The verdict matters more than the summary: say so, keep the exit code.
            say(&format!(
                "runner-preflight: warning: cannot append to $GITHUB_STEP_SUMMARY ({}): {why}",
                printable(&Path::new(&path).display().to_string()),
            ));
        }
    }
    written
}

/// Append the job summary to `path`, which must be a regular file (the runner makes one). A FIFO
/// would block the open, or the write, for ever with no reader (issue 22, row 9): it is opened
/// non-blocking and refused, as is any other file that is not regular.
fn append_summary(path: &Path, md: &str) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let mut f = options.open(path).map_err(|e| match e.raw_os_error() {
        // A FIFO with no reader, opened non-blocking for writing.
        #[cfg(unix)]
        Some(libc::ENXIO) => "not a regular file; the summary was not written".to_string(),
        _ => output::io_words(&e),
    })?;
    let regular = f.metadata().map(|m| m.is_file()).unwrap_or(false);
    if !regular {
        return Err("not a regular file; the summary was not written".into());
    }
    f.write_all(format!("{md}\n").as_bytes())
        .map_err(|e| output::io_words(&e))
}

/// The program's name, as the shell sees it: completion scripts register for this command.
const BIN: &str = "runner-preflight";

/// `completions SHELL`: the completion script on stdout.
pub fn completions(cmd: clap::Command, shell: clap_complete::Shell) -> String {
    let mut cmd = cmd.name(BIN).bin_name(BIN);
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, BIN, &mut buf);
    let script = String::from_utf8_lossy(&buf).into_owned();
    match shell {
        // clap_complete 4.6's bash script sets `cmd` to the binary's name with `-` spelt `__`
        // (`runner__preflight__subcmd__check`) but names the case arms of the subcommands with
        // `-` spelt `__subcmd__` (`runner__subcmd__preflight__subcmd__check`): no subcommand's
        // flags would ever complete. Give the arms the spelling `cmd` has.
        clap_complete::Shell::Bash => {
            let arms = format!("{}__subcmd__", BIN.replace('-', "__subcmd__"));
            let cmd = format!("{}__subcmd__", BIN.replace('-', "__"));
            // A profile is a built-in name or a YAML file: clap_complete offers a value's
            // possible values (the built-in names) instead of file names; offer both.
            let names = format!(
                "$(compgen -W \"{}\" -- \"${{cur}}\")",
                crate::profile::BUILTIN_NAMES.join(" ")
            );
            let with_files = format!("{names} $(compgen -f -- \"${{cur}}\")");
            script.replace(&arms, &cmd).replace(&names, &with_files)
        }
        _ => script,
    }
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
