//! Command line: flags → validated settings → the pipeline; owns printing and exit codes.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::ci;
use crate::error::{InputError, EXIT_INPUT};
use crate::plan::{self, PlanOptions};
use crate::probe::{self, overrides, DnsMode, ProbeConfig};
use crate::render::{self, table::Style, Format};
use crate::report::{self, RunInfo, Settings, Verdict};
use crate::words::plural;
use crate::{profile, profile::BUILTIN_NAMES};

mod rules;
pub use rules::{AuditArgs, FirewallArgs, MetaCommand};

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

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Print the expanded profile: every capability, entry, probed name, port and HTTP check
    Show(ShowArgs),
    /// Validate a profile file; errors name the file, line and column
    Validate {
        /// Path of the YAML file (or a built-in name)
        profile: String,
    },
    /// Print the YAML source of a built-in profile (a starting point for your own)
    Source {
        /// Built-in profile name
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Built-in profile name or path of a YAML file
    pub profile: String,
    #[command(flatten)]
    pub select: SelectArgs,
}

#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Profile variable, NAME=VALUE (repeatable), e.g. hostname=ghes.example.com
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = plan::parse_var)]
    pub vars: Vec<(String, String)>,
    /// Probe only these capabilities (comma-separated ids)
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "ID,…",
        env = "RUNNER_PREFLIGHT_CAPABILITY"
    )]
    pub capability: Vec<String>,
    /// Make these capabilities gating (comma-separated ids)
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "ID,…",
        env = "RUNNER_PREFLIGHT_REQUIRE"
    )]
    pub require: Vec<String>,
}

/// `--profile`, shared by `check`, `firewall`, `audit` and `meta diff`.
#[derive(Debug, Args)]
pub struct ProfileArg {
    /// Built-in profile (dotcom, ghes, ghecom) or path of a YAML profile
    #[arg(
        long,
        short = 'p',
        default_value = "dotcom",
        env = "RUNNER_PREFLIGHT_PROFILE"
    )]
    pub profile: String,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub profile: ProfileArg,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Output format
    #[arg(
        long,
        value_enum,
        default_value = "table",
        env = "RUNNER_PREFLIGHT_FORMAT"
    )]
    pub format: Format,
    /// Write the report to this file instead of standard output
    #[arg(
        long,
        short = 'o',
        value_name = "FILE",
        env = "RUNNER_PREFLIGHT_OUTPUT"
    )]
    pub output: Option<PathBuf>,
    /// Time limit for each phase: a DNS question, a TCP connect, a TLS handshake, an HTTP response (e.g. 5, 2.5s, 800ms)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration, env = "RUNNER_PREFLIGHT_TIMEOUT")]
    pub timeout: Duration,
    /// Time limit for the whole run; names not finished by then fail (default: 9 × --timeout)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub max_time: Option<Duration>,
    /// How many names are probed at once
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=1024), env = "RUNNER_PREFLIGHT_CONCURRENCY")]
    pub concurrency: u16,
    /// Ask this DNS server instead of the system's (IP or IP:PORT; repeatable)
    #[arg(long = "dns-server", value_name = "IP[:PORT]", value_parser = parse_dns_server, value_delimiter = ',', env = "RUNNER_PREFLIGHT_DNS_SERVER")]
    pub dns_servers: Vec<SocketAddr>,
    /// Use these addresses for HOST:PORT instead of DNS, as curl does (repeatable; PORT may be *)
    #[arg(long, value_name = "HOST:PORT:ADDR[,ADDR…]")]
    pub resolve: Vec<overrides::Resolve>,
    /// Connect to CONNECT_HOST:CONNECT_PORT when the profile says HOST:PORT, as curl does (empty fields match any / keep)
    #[arg(
        long = "connect-to",
        value_name = "HOST:PORT:CONNECT_HOST:CONNECT_PORT"
    )]
    pub connect_to: Vec<overrides::ConnectTo>,
    /// Also trust the certificates in this PEM file (repeatable), e.g. your TLS-inspecting proxy's CA
    #[arg(long = "ca-file", value_name = "PEM", env = "RUNNER_PREFLIGHT_CA_FILE")]
    pub ca_files: Vec<PathBuf>,
    /// No progress display on standard error
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Skip the upload/download throughput measurement
    #[arg(long, env = "RUNNER_PREFLIGHT_NO_THROUGHPUT")]
    pub no_throughput: bool,
    /// Throughput floor in kbit/s, up and down (default: the profile's, 70 for github.com)
    #[arg(long, value_name = "KBPS", value_parser = clap::value_parser!(u32).range(1..))]
    pub min_kbps: Option<u32>,
    /// Download source for the throughput measurement (http or https URL; a Range request is used)
    #[arg(long, value_name = "URL")]
    pub throughput_url: Option<String>,
    /// Upload sink for the throughput measurement (a URL that accepts a POST body)
    #[arg(long, value_name = "URL")]
    pub upload_url: Option<String>,
    /// Most bytes moved per direction
    #[arg(long, value_name = "BYTES", default_value_t = 2 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1024..))]
    pub throughput_max_bytes: u64,
    /// Longest sample per direction; near the floor the measurement runs this long
    #[arg(long, value_name = "DURATION", default_value = "8s", value_parser = parse_duration)]
    pub throughput_time: Duration,
    #[command(flatten)]
    pub pipeline: ci::PipelineArgs,
    #[command(flatten)]
    pub network: Box<NetworkArgs>,
}

/// Proxy, trust-store and long-poll options of `check`.
#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// Use this proxy for HTTPS and HTTP instead of https_proxy / http_proxy ("" for none); a value without scheme gets http://
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Use this no_proxy list instead of no_proxy / NO_PROXY (runner semantics: .x subdomains, x itself and subdomains, * all, :PORT)
    #[arg(long = "no-proxy", value_name = "LIST")]
    pub no_proxy: Option<String>,
    /// Read the runner's DIR/.env (plain KEY=VALUE lines), which overrides the environment as for the runner service
    #[arg(long, value_name = "DIR")]
    pub runner_dir: Option<PathBuf>,
    /// PEM bundle of public roots for interception detection and node's built-in store (default: Mozilla's)
    #[arg(long, value_name = "PEM")]
    pub public_roots: Option<PathBuf>,
    /// Also hold an idle HTTPS connection to the long-poll host for 50 s (the runner's long poll) and report whether it was cut
    #[arg(long)]
    pub long_poll: bool,
    /// Length of the long-poll hold in seconds (for tests)
    #[arg(long, hide = true, value_name = "SECONDS", default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub long_poll_seconds: u64,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, mult) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num.trim().parse().map_err(|_| {
        format!("`{s}` is not a duration: use seconds (5, 2.5s) or milliseconds (800ms)")
    })?;
    if !(v * mult >= 0.001 && v * mult <= 3600.0) {
        return Err(format!(
            "`{s}` is out of range: at least 1 ms and at most an hour"
        ));
    }
    Ok(Duration::from_secs_f64(v * mult))
}

pub(crate) fn parse_dns_server(s: &str) -> Result<SocketAddr, String> {
    if let Ok(sa) = s.parse::<SocketAddr>() {
        if sa.port() == 0 {
            return Err(format!("`{s}`: port 0 is not a DNS server's port"));
        }
        return Ok(sa);
    }
    let bare = s.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<std::net::IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| {
            format!("`{s}` is not IP or IP:PORT (e.g. 10.0.0.2, 127.0.0.1:5353, [::1]:53)")
        })
}

/// Run the program; returns the exit code. All printing of errors happens here.
pub fn main() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_INPUT } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_INPUT
        }
    }
}

fn run(cli: Cli) -> Result<u8, InputError> {
    match cli.command {
        Command::Profiles => {
            let mut out = String::new();
            for (name, src) in profile::builtins() {
                match profile::parse(&format!("builtin:{name}"), src) {
                    Ok(p) => {
                        let vars: Vec<String> = p
                            .variables
                            .iter()
                            .map(|v| {
                                if v.required {
                                    v.name.clone()
                                } else {
                                    format!("[{}]", v.name)
                                }
                            })
                            .collect();
                        out.push_str(&format!(
                            "{name:<8} {}{}\n",
                            p.title,
                            if vars.is_empty() {
                                String::new()
                            } else {
                                format!("  (variables: {})", vars.join(" "))
                            }
                        ));
                    }
                    Err(e) => out.push_str(&format!("{name:<8} (invalid: {e})\n")),
                }
            }
            print_out(&out);
            Ok(0)
        }
        Command::Profile(ProfileCommand::Validate { profile: spec }) => {
            let p = profile::resolve(&spec)?;
            let names: usize = p.capabilities.iter().map(|c| c.entries.len()).sum();
            print_out(&format!(
                "{}: valid profile `{}` — {} capabilities, {names} entries\n",
                p.origin,
                p.name,
                p.capabilities.len()
            ));
            Ok(0)
        }
        Command::Profile(ProfileCommand::Source { name }) => match profile::builtin(&name) {
            Some(src) => {
                print_out(src);
                Ok(0)
            }
            None => Err(InputError::usage(format!(
                "no built-in profile `{name}`; built-in profiles are {}",
                BUILTIN_NAMES.join(", ")
            ))),
        },
        Command::Profile(ProfileCommand::Show(args)) => {
            let p = profile::resolve(&args.profile)?;
            let plan = plan::build(&p, &plan_options(&args.select))?;
            print_out(&show_plan(&plan));
            Ok(0)
        }
        Command::Check(args) => check(args),
        Command::Firewall(args) => rules::firewall_cmd(args),
        Command::Audit(args) => rules::audit_cmd(args),
        Command::Meta(cmd) => rules::meta_cmd(cmd),
        Command::Completions { shell } => {
            print_out(&ci::completions(Cli::command(), shell));
            Ok(0)
        }
        Command::Man { command } => {
            print_out(&ci::man_page(Cli::command(), command.as_deref())?);
            Ok(0)
        }
    }
}

fn plan_options(s: &SelectArgs) -> PlanOptions {
    PlanOptions::new(&s.vars, &s.capability, &s.require)
}

fn print_out(s: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(s.as_bytes());
    let _ = stdout.flush();
}

/// `profile show`: what will be probed.
pub fn show_plan(plan: &plan::Plan) -> String {
    let mut s = format!(
        "profile {} — {} ({})\n",
        plan.profile_name, plan.profile_title, plan.profile_origin
    );
    if !plan.variables.is_empty() {
        let vars: Vec<String> = plan
            .variables
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        s.push_str(&format!("variables: {}\n", vars.join(", ")));
    }
    for c in &plan.capabilities {
        s.push_str(&format!(
            "\n{} — {}{}\n",
            c.id,
            c.title,
            if c.gating { " [gating]" } else { "" }
        ));
        for e in &c.entries {
            if e.wildcard {
                s.push_str(&format!("  {}\n", e.pattern));
                if e.targets.is_empty() {
                    s.push_str("    (no representative name to probe)\n");
                }
                for t in &e.targets {
                    s.push_str(&format!("    {}\n", describe_target(t)));
                }
            } else {
                for t in &e.targets {
                    s.push_str(&format!("  {}\n", describe_target(t)));
                }
            }
            if let Some(n) = &e.note {
                s.push_str(&format!("      note: {n}\n"));
            }
        }
    }
    for (id, why) in &plan.inactive {
        s.push_str(&format!("\nnot checked: {id} — {why}\n"));
    }
    let hosts = plan.hosts().len();
    s.push_str(&format!("\n{hosts} names to probe\n"));
    s
}

fn describe_target(t: &plan::Target) -> String {
    let eps: Vec<String> = t
        .endpoints
        .iter()
        .map(|e| {
            let mut d = format!(
                "{}:{}",
                match e.proto {
                    plan::Proto::Https => "https",
                    plan::Proto::Http => "http",
                },
                e.port
            );
            if let (None, plan::Proto::Http) = (&e.http, e.proto) {
                d.push_str(" GET /");
            }
            if let Some(h) = &e.http {
                d.push_str(&format!(" {} {}", h.method.as_str(), h.path));
                if let Some(x) = &h.expect_header {
                    d.push_str(&format!(" expect {x}"));
                }
            }
            d
        })
        .collect();
    format!("{}  [{}]", t.host, eps.join("; "))
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn check(args: CheckArgs) -> Result<u8, InputError> {
    let p = profile::resolve(&args.profile.profile)?;
    let plan = plan::build(&p, &plan_options(&args.select))?;
    let net = &args.network;
    let setup = crate::network::Setup::load(
        net.runner_dir.as_deref(),
        net.proxy.as_deref(),
        net.no_proxy.as_deref(),
        &args.ca_files,
        net.public_roots.as_deref(),
    )
    .map_err(InputError::usage)?;
    // The runner's store, read once: the TLS checks verify against it.
    let trust = setup.stores.runner.trust();
    for r in &args.resolve {
        crate::model::host::check_hostname(&r.host)
            .map_err(|m| InputError::usage(format!("--resolve: {m}")))?;
    }
    let dns_servers = match &args.dns_servers {
        s if s.is_empty() => probe::dns::system_servers().unwrap_or_default(),
        s => s.clone(),
    };
    let max_time = args.max_time.unwrap_or(args.timeout * 9);
    let cfg = ProbeConfig {
        timeout: args.timeout,
        concurrency: args.concurrency as usize,
        max_time,
        dns: if args.dns_servers.is_empty() {
            DnsMode::System
        } else {
            DnsMode::Servers(args.dns_servers.clone())
        },
        resolve: args.resolve.clone(),
        connect_to: args.connect_to.clone(),
        trust,
        proxy: setup.proxy.clone(),
        stores: Some(Arc::new(setup.stores.clone())),
    };
    // Refuse to overwrite a directory etc. before probing.
    args.pipeline.validate(args.output.as_deref())?;
    let targets = plan.targets();
    let stderr_tty = std::io::stderr().is_terminal();
    let display =
        (!args.quiet).then(|| Arc::new(ProgressDisplay::new(stderr_tty, plan.hosts().len())));
    let progress: Arc<dyn probe::Progress> = match &display {
        Some(d) => d.clone(),
        None => Arc::new(probe::Silent),
    };
    for u in [&args.throughput_url, &args.upload_url]
        .into_iter()
        .flatten()
    {
        crate::model::parse_url(u).map_err(|m| InputError::usage(format!("throughput URL {m}")))?;
    }
    let started = Instant::now();
    let generated_at = now_rfc3339();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .build()
        .map_err(|e| InputError::usage(format!("cannot start the async runtime: {e}")))?;
    let results = rt.block_on(probe::run(targets, cfg.clone(), progress.clone()));
    let throughput = if args.no_throughput {
        None
    } else {
        let tp = &plan.throughput;
        let settings = probe::throughput::Settings {
            min_kbps: args.min_kbps.unwrap_or(tp.min_kbps),
            max_bytes: args.throughput_max_bytes,
            max_time: args.throughput_time,
            timeout: args.timeout,
        };
        let down = args.throughput_url.clone().or_else(|| tp.download.clone());
        let up = args.upload_url.clone().or_else(|| tp.upload.clone());
        if let Some(d) = &display {
            d.note(&format!(
                "measuring throughput against the {} kbit/s floor (at most {} bytes and {} per direction)…",
                settings.min_kbps,
                settings.max_bytes,
                probe::dns::fmt_duration(settings.max_time)
            ));
        }
        let dialer = probe::Dialer::new(cfg.clone());
        let measured = rt.block_on(probe::throughput::measure(
            &dialer,
            &cfg.trust,
            &settings,
            down.as_deref(),
            up.as_deref(),
        ));
        Some(report::throughput::judge(
            measured,
            settings.min_kbps,
            settings.max_bytes,
            tp.gating,
            tp.note.clone(),
        ))
    };
    // Date headers are compared with the clock as it was when they arrived (before a long poll).
    let probed_at = std::time::SystemTime::now();
    let long_poll = net.long_poll.then(|| {
        let hold = Duration::from_secs(net.long_poll_seconds);
        if !args.quiet {
            eprintln!(
                "runner-preflight: holding an idle HTTPS connection for {} s (--long-poll)…",
                hold.as_secs()
            );
        }
        // The long-poll name's addresses as the probe found them.
        let addresses = |host: &str| {
            results
                .iter()
                .find(|(t, _)| t.host == host)
                .map(|(_, r)| r.dns.addresses.iter().map(|a| a.address).collect())
                .unwrap_or_default()
        };
        rt.block_on(probe::long_poll::for_plan(&cfg, &plan, addresses, hold))
    });
    // getaddrinfo threads may still be blocked on a dead resolver: do not wait for them.
    rt.shutdown_timeout(Duration::from_millis(50));
    if let Some(d) = &display {
        d.finish();
    }
    let mut report = report::build(
        &plan,
        &results,
        RunInfo {
            generated_at,
            hostname: hostname(),
            settings: Settings {
                timeout_ms: args.timeout.as_millis() as u64,
                max_time_ms: max_time.as_millis() as u64,
                concurrency: args.concurrency as usize,
                dns_servers: dns_servers.iter().map(|s| s.to_string()).collect(),
                ca_files: args
                    .ca_files
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect(),
                fail_on: args.pipeline.fail_on,
            },
            duration_ms: started.elapsed().as_millis() as u64,
            throughput,
            network: setup.summarize(&results, long_poll.flatten(), probed_at),
        },
    );
    args.pipeline.apply(&mut report);
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let style = Style {
        color: to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let text = render::render(&report, args.format, &style);
    match &args.output {
        Some(path) => {
            std::fs::write(path, text.as_bytes())
                .map_err(|e| InputError::usage(format!("--output {}: {e}", path.display())))?;
            if !args.quiet {
                eprintln!(
                    "runner-preflight: {} — report written to {}",
                    report.verdict.label(),
                    path.display()
                );
            }
        }
        None => print_out(&text),
    }
    args.pipeline.write_files(&report)?;
    let stdout_is_data = args.output.is_none() && args.format != Format::Table;
    ci::github_actions(&report, stdout_is_data);
    Ok(report.exit_code)
}

/// Progress on stderr: a bar on a terminal, two plain lines otherwise.
struct ProgressDisplay {
    bar: Option<indicatif::ProgressBar>,
    hosts: usize,
    failed: std::sync::atomic::AtomicUsize,
    started: Instant,
}

impl ProgressDisplay {
    fn new(tty: bool, hosts: usize) -> Self {
        let bar = tty.then(|| {
            let b = indicatif::ProgressBar::new(0);
            b.set_style(
                indicatif::ProgressStyle::with_template("{spinner} probing {pos}/{len} {wide_msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        ProgressDisplay {
            bar,
            hosts,
            failed: Default::default(),
            started: Instant::now(),
        }
    }
    fn finish(&self) {
        match &self.bar {
            Some(b) => b.finish_and_clear(),
            None => eprintln!(
                "runner-preflight: probed {} in {:.1} s, {} failing",
                plural(self.hosts, "name"),
                self.started.elapsed().as_secs_f64(),
                plural(
                    self.failed.load(std::sync::atomic::Ordering::Relaxed),
                    "target"
                )
            ),
        }
    }
}

impl ProgressDisplay {
    fn note(&self, msg: &str) {
        match &self.bar {
            Some(b) => b.set_message(msg.to_string()),
            None => eprintln!("runner-preflight: {msg}"),
        }
    }
}

impl probe::Progress for ProgressDisplay {
    fn start(&self, total: usize) {
        match &self.bar {
            Some(b) => b.set_length(total as u64),
            None => eprintln!(
                "runner-preflight: probing {} ({} in all, counting each distinct port and HTTP check)…",
                plural(self.hosts, "name"),
                plural(total, "target")
            ),
        }
    }
    fn done(&self, host: &str, verdict: Verdict) {
        if verdict == Verdict::Fail {
            self.failed
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        if let Some(b) = &self.bar {
            b.inc(1);
            b.set_message(format!("{host}: {}", verdict.label()));
        }
    }
}
