//! Command line: flags → validated settings → the pipeline; owns printing and exit codes.
//!
//! clap lives in this module only ([`args`]); the domain gets validated settings
//! ([`settings`]) and its own enums (`From` the CLI's mirrors).

use std::future::Future;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};

use crate::error::{InputError, EXIT_INPUT};

mod args;
mod check;
mod ci;
#[cfg(test)]
mod docs_tests;
mod explain;
mod fleet;
mod input_words;
mod output;
mod overrides;
mod profile_cmd;
mod progress;
mod rules;
mod serve;
mod settings;

use args::{
    AuditArgs, CheckArgs, ExplainArgs, FirewallArgs, FleetArgs, MetaCommand, ProfileCommand,
    ServeArgs,
};
pub use profile_cmd::show_plan;

const AFTER_HELP: &str = "\
Examples:
  Before registering a runner for github.com:
    runner-preflight check --profile dotcom
  For GitHub Enterprise Server:
    runner-preflight check --profile ghes --var hostname=ghes.example.com
  In a provisioning pipeline, gate on warnings too and keep the reports:
    runner-preflight check --profile dotcom --fail-on warn \\
      --output-json report.json --output-junit report.xml
  Shell completions and the man page:
    runner-preflight completions bash > /etc/bash_completion.d/runner-preflight
    runner-preflight man > runner-preflight.1

More examples: runner-preflight check --help

Exit codes: 0 every gating capability passes (warnings allowed unless --fail-on warn),
1 a gating capability fails, 2 usage, profile or input error.";

#[derive(Debug, Parser)]
#[command(
    name = "runner-preflight",
    version,
    args_override_self = true,
    about = "Checks that this machine's network lets a GitHub Actions self-hosted runner do its job",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// When to colour the table: auto (on a terminal, unless NO_COLOR is set; CLICOLOR_FORCE colours off one too), always, never
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value = "auto"
    )]
    pub color: args::ColorArg,
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per run: the size of `Check` does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe every host of a profile: DNS (with CNAME chain), TCP, TLS, HTTP; verdict per capability
    #[command(after_help = ci::CHECK_AFTER_HELP)]
    Check(CheckArgs),
    /// Export metrics: run the check on a schedule and serve /metrics (Prometheus), /report.json, /healthz, /probe
    #[command(after_help = serve::AFTER_HELP)]
    Serve(ServeArgs),
    /// Print the Diagnosis (root causes and fixes) of a saved JSON report again, without probing
    Explain(ExplainArgs),
    /// List the built-in profiles
    Profiles,
    /// Show or validate a profile
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Firewall rules from the profile and live DNS (every name of each CNAME chain, addresses, TTLs)
    Firewall(FirewallArgs),
    /// Check an existing allow list against the required names; exit 1 when some are not covered
    Audit(AuditArgs),
    /// The REST Meta API's domain lists (/meta)
    #[command(subcommand)]
    Meta(MetaCommand),
    /// Merge saved reports of many hosts: hosts × capabilities, what differs between hosts; `fleet diff OLD NEW`
    #[command(after_help = fleet::AFTER_HELP)]
    Fleet(FleetArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) of runner-preflight, or of one of its commands
    Man {
        /// A command, e.g. check (default: the whole program)
        command: Option<String>,
    },
}

/// Why a command stopped without its normal exit code.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Bad flags, profile or input files: exit 2, before any work.
    #[error("{0}")]
    Input(#[from] InputError),
    /// The result could not be written: exit 2.
    #[error("{0}")]
    Output(#[from] output::WriteError),
    /// SIGINT or SIGTERM: exit 128 + the signal's number.
    #[error("{}", .0.what)]
    Interrupted(Interrupted),
}

#[derive(Debug)]
pub struct Interrupted {
    pub signal: Signal,
    /// "interrupted after probing 12 of 46 names; no report written"
    pub what: String,
}

/// A signal that ends the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
}

impl Signal {
    /// The shell's convention: 128 + the signal's number.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }
}

/// Run the program; returns the exit code. All printing of errors happens here.
pub fn main() -> u8 {
    ignore_file_size_signal();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_INPUT } else { 0 };
            if e.use_stderr() {
                // clap echoes the refused value: through `say`, which shows a control character
                // from outside as an escape (issue 22 row 8).
                output::say(e.render().to_string().trim_end_matches('\n'));
                return code;
            }
            return match e.print() {
                // `--help > /dev/full`: the help (or the version) was not shown.
                Err(w) if !e.use_stderr() && w.kind() != std::io::ErrorKind::BrokenPipe => {
                    let what = match e.kind() {
                        clap::error::ErrorKind::DisplayVersion => "the version",
                        _ => "the help",
                    };
                    output::say(&format!(
                        "error: cannot write {what} to standard output: {}",
                        output::io_words(&w)
                    ));
                    EXIT_INPUT
                }
                _ => code,
            };
        }
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(Failure::Interrupted(i)) => {
            output::say(&format!("runner-preflight: {}", i.what));
            i.signal.exit_code()
        }
        Err(e) => {
            output::say(&format!("error: {e}"));
            EXIT_INPUT
        }
    }
}

/// A write past the file size limit (`ulimit -f`) sends SIGXFSZ, whose default action kills the
/// process without a word and leaves the temporary file behind. Ignored, the write fails with
/// EFBIG instead, and the output code says so, removes the temporary file and exits 2 (issue 22,
/// row 11).
fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: SIG_IGN installs no handler (no code runs on the signal); it is set before any
    // other thread exists, as std itself does for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

fn dispatch(cli: Cli) -> Result<u8, Failure> {
    settings::set_color(cli.color.into());
    match cli.command {
        Command::Profiles => profile_cmd::profiles(),
        Command::Profile(cmd) => profile_cmd::profile(cmd),
        Command::Check(args) => check::check(args),
        Command::Serve(args) => serve::serve(args),
        Command::Explain(args) => explain::explain(args),
        Command::Firewall(args) => rules::firewall_cmd(args),
        Command::Audit(args) => rules::audit_cmd(args),
        Command::Meta(cmd) => rules::meta_cmd(cmd),
        Command::Fleet(args) => fleet::fleet(args),
        Command::Completions { shell } => {
            output::stdout(
                "the completion script",
                &ci::completions(Cli::command(), shell),
            )?;
            Ok(0)
        }
        Command::Man { command } => {
            output::stdout(
                "the man page",
                &ci::man_page(Cli::command(), command.as_deref())?,
            )?;
            Ok(0)
        }
    }
}

/// The one async runtime set-up, for every command that does network work.
fn runtime() -> Result<tokio::runtime::Runtime, InputError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .build()
        .map_err(|e| InputError::usage(format!("cannot start the async runtime: {e}")))
}

/// Run `work` on `rt` unless SIGINT or SIGTERM comes first. The handlers are installed before
/// `work` is first polled, so a signal at any moment of the work is seen.
fn interruptible<F: Future>(rt: &tokio::runtime::Runtime, work: F) -> Result<F::Output, Signal> {
    rt.block_on(async {
        let signals = Signals::install();
        tokio::select! {
            biased;
            s = signals.recv() => Err(s),
            r = work => Ok(r),
        }
    })
}

/// How long a write under way when SIGINT or SIGTERM comes may still take: writing a report
/// to a file takes milliseconds, so one that takes longer is blocked (a FIFO, a hung disk).
const WRITE_GRACE: Duration = Duration::from_secs(1);

/// While held, SIGINT and SIGTERM still end the run after the work, while its outputs are
/// written: once the runtime's listeners are installed, the signals' default action is gone, so
/// a write blocked for ever would otherwise make the process deaf to them (issue 22, row 9). A
/// write that finishes within [`WRITE_GRACE`] of the signal completes normally; otherwise the
/// process says so and exits 128 + the signal's number.
struct SignalWatch {
    _done: tokio::sync::oneshot::Sender<()>,
}

fn watch_signals(rt: &tokio::runtime::Runtime, what: &'static str) -> SignalWatch {
    let (done, mut finished) = tokio::sync::oneshot::channel::<()>();
    let signals = rt.block_on(async { Signals::install() });
    rt.spawn(async move {
        let signal = tokio::select! {
            s = signals.recv() => s,
            _ = &mut finished => return,
        };
        if tokio::time::timeout(WRITE_GRACE, finished).await.is_ok() {
            return;
        }
        output::say(&format!("runner-preflight: {what}"));
        std::process::exit(i32::from(signal.exit_code()));
    });
    SignalWatch { _done: done }
}

/// SIGINT and SIGTERM listeners. One that cannot be installed never fires.
struct Signals {
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Signals {
                int: signal(SignalKind::interrupt()).ok(),
                term: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    #[cfg(unix)]
    async fn recv(mut self) -> Signal {
        async fn next(s: &mut Option<tokio::signal::unix::Signal>) {
            match s {
                Some(s) => {
                    if s.recv().await.is_none() {
                        std::future::pending::<()>().await
                    }
                }
                None => std::future::pending::<()>().await,
            }
        }
        tokio::select! {
            () = next(&mut self.int) => Signal::Interrupt,
            () = next(&mut self.term) => Signal::Terminate,
        }
    }

    #[cfg(not(unix))]
    async fn recv(self) -> Signal {
        match tokio::signal::ctrl_c().await {
            Ok(()) => Signal::Interrupt,
            Err(_) => std::future::pending().await,
        }
    }
}

pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// How long a blocked resolver thread may hold up the end of a command.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(50);
