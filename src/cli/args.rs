//! The clap types: every flag group declared once and flattened into the commands that take it,
//! and CLI mirrors of the domain's enums (`From` into the domain; clap stops here).
//!
//! Nothing here is validated beyond what a value parser can say about one value: the checks that
//! need several flags, files or the plan live in [`super::settings`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

use crate::model::{RunnerArch, RunnerOs};
use crate::plan;
use crate::probe::overrides;
use crate::render::{firewall::FirewallFormat, Format};
use crate::report::fail_on::FailOn;

/// `--profile`: check, firewall, audit, meta diff.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// Built-in profile (dotcom, ghes, ghecom) or path of a YAML profile
    #[arg(
        long,
        short = 'p',
        value_name = "PROFILE",
        default_value = "dotcom",
        env = "RUNNER_PREFLIGHT_PROFILE",
        value_parser = Suggest::profiles(),
        hide_possible_values = true
    )]
    pub profile: String,
}

/// `--var`, `--capability`, `--require` of `check` (and `serve`, `profile show`): which part of
/// the profile is probed, and what gates the exit code.
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Profile variable, NAME=VALUE (repeatable), e.g. hostname=ghes.example.com
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = plan::parse_var)]
    pub vars: Vec<(String, String)>,
    /// Probe only these capabilities (comma-separated ids); each one named is judged as required (gating) for this run
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "ID,…",
        env = "RUNNER_PREFLIGHT_CAPABILITY",
        value_parser = Suggest::capabilities(),
        hide_possible_values = true
    )]
    pub capability: Vec<String>,
    /// Make these capabilities gating (comma-separated ids): when one fails, the run exits 1
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "ID,…",
        env = "RUNNER_PREFLIGHT_REQUIRE",
        value_parser = Suggest::capabilities(),
        hide_possible_values = true
    )]
    pub require: Vec<String>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `--var`, `--capability`, `--require` of `firewall` and `audit`: which capabilities' names the
/// rules or the audit cover, and which are marked gating in the output.
#[derive(Debug, Args)]
pub struct RulesSelectArgs {
    /// Profile variable, NAME=VALUE (repeatable), e.g. hostname=ghes.example.com
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = plan::parse_var)]
    pub vars: Vec<(String, String)>,
    /// Only the names of these capabilities (comma-separated ids)
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "ID,…",
        env = "RUNNER_PREFLIGHT_CAPABILITY",
        value_parser = Suggest::capabilities(),
        hide_possible_values = true
    )]
    pub capability: Vec<String>,
    /// Mark these capabilities gating in the output (comma-separated ids), as `check --require` would judge them
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "ID,…",
        env = "RUNNER_PREFLIGHT_REQUIRE",
        value_parser = Suggest::capabilities(),
        hide_possible_values = true
    )]
    pub require: Vec<String>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `--var`, `--capability` of `meta diff`: which capabilities' names are compared (nothing
/// gates there, so no `--require`).
#[derive(Debug, Args)]
pub struct MetaSelectArgs {
    /// Profile variable, NAME=VALUE (repeatable), e.g. hostname=ghes.example.com
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = plan::parse_var)]
    pub vars: Vec<(String, String)>,
    /// Compare only the names of these capabilities (comma-separated ids)
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "ID,…",
        env = "RUNNER_PREFLIGHT_CAPABILITY",
        value_parser = Suggest::capabilities(),
        hide_possible_values = true
    )]
    pub capability: Vec<String>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// What every selection gives the plan.
pub struct Selection<'a> {
    pub vars: &'a [(String, String)],
    pub capability: &'a [String],
    pub require: &'a [String],
    pub limits: &'a LimitArgs,
}

impl SelectArgs {
    pub fn selection(&self) -> Selection<'_> {
        Selection {
            vars: &self.vars,
            capability: &self.capability,
            require: &self.require,
            limits: &self.limits,
        }
    }
}

impl RulesSelectArgs {
    pub fn selection(&self) -> Selection<'_> {
        Selection {
            vars: &self.vars,
            capability: &self.capability,
            require: &self.require,
            limits: &self.limits,
        }
    }
}

impl MetaSelectArgs {
    pub fn selection(&self) -> Selection<'_> {
        Selection {
            vars: &self.vars,
            capability: &self.capability,
            require: &[],
            limits: &self.limits,
        }
    }
}

/// `--max-names`: how many names a profile may expand to.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Most names the profile may name once its {A..B} ranges are expanded (at most 50000)
    #[arg(long, value_name = "N", default_value_t = crate::profile::DEFAULT_MAX_NAMES, value_parser = parse_max_names)]
    pub max_names: usize,
}

impl LimitArgs {
    pub fn limits(&self) -> crate::profile::Limits {
        crate::profile::Limits {
            max_names: self.max_names,
        }
    }
}

fn parse_max_names(s: &str) -> Result<usize, String> {
    let max = crate::profile::MAX_MAX_NAMES;
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{}` is not a number of names from 1 to {max} (a larger run writes a report `explain` and `fleet` cannot read back)",
            s.chars().take(40).collect::<String>().escape_debug()
        )),
    }
}

/// `--dns-server`.
#[derive(Debug, Args)]
pub struct DnsArgs {
    /// Ask this DNS server instead of the system's (IP or IP:PORT; repeatable)
    #[arg(long = "dns-server", value_name = "IP[:PORT]", value_parser = parse_dns_server, value_delimiter = ',', env = "RUNNER_PREFLIGHT_DNS_SERVER")]
    pub dns_servers: Vec<SocketAddr>,
}

/// `--timeout` of `check` (and `serve`).
#[derive(Debug, Args)]
pub struct TimeoutArgs {
    /// Time limit for each step: a DNS question, a TCP connect, a TLS handshake, an HTTP response (e.g. 5, 2.5s, 800ms; default 5s)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, env = "RUNNER_PREFLIGHT_TIMEOUT")]
    pub timeout: Option<Duration>,
}

/// `--timeout` of `firewall` and `audit`.
#[derive(Debug, Args)]
pub struct ResolveTimeoutArgs {
    /// Time limit for each DNS question (e.g. 5, 2.5s, 800ms; default 5s)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, env = "RUNNER_PREFLIGHT_TIMEOUT")]
    pub timeout: Option<Duration>,
}

/// `--timeout` of `meta diff`.
#[derive(Debug, Args)]
pub struct MetaTimeoutArgs {
    /// Time limit for the whole fetch of /meta: connect, TLS, request and answer (e.g. 10, 2.5s; default 10s)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, env = "RUNNER_PREFLIGHT_TIMEOUT")]
    pub timeout: Option<Duration>,
}

/// `--concurrency` of `check` (and `serve`).
#[derive(Debug, Args)]
pub struct ConcurrencyArgs {
    /// How many names are probed at once, 1 to 1024 (default 1024, i.e. every target at once; fewer when the open-file limit is lower: 4 descriptors each, 64 spare)
    #[arg(long, value_name = "N", value_parser = whole::<u16>(1, 1024), env = "RUNNER_PREFLIGHT_CONCURRENCY")]
    pub concurrency: Option<u16>,
}

/// `--concurrency` of `firewall` and `audit`.
#[derive(Debug, Args)]
pub struct ResolveConcurrencyArgs {
    /// How many names are resolved at once, 1 to 1024 (default 32)
    #[arg(long, value_name = "N", value_parser = whole::<u16>(1, 1024), env = "RUNNER_PREFLIGHT_CONCURRENCY")]
    pub concurrency: Option<u16>,
}

/// `--resolve`, `--connect-to`: curl's overrides.
#[derive(Debug, Args)]
pub struct OverrideArgs {
    /// Use these addresses for HOST:PORT instead of DNS, as curl does (repeatable; PORT may be *)
    #[arg(long, value_name = "HOST:PORT:ADDR[,ADDR…]")]
    pub resolve: Vec<overrides::Resolve>,
    /// Connect to CONNECT_HOST:CONNECT_PORT when the profile says HOST:PORT, as curl does (empty fields match any / keep)
    #[arg(
        long = "connect-to",
        value_name = "HOST:PORT:CONNECT_HOST:CONNECT_PORT"
    )]
    pub connect_to: Vec<overrides::ConnectTo>,
}

/// `--ca-file`.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// Also trust the certificates in this PEM file (repeatable), e.g. your TLS-inspecting proxy's CA
    #[arg(long = "ca-file", value_name = "PEM", env = "RUNNER_PREFLIGHT_CA_FILE")]
    pub ca_files: Vec<PathBuf>,
}

/// `--proxy`, `--no-proxy`.
#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Use this proxy for HTTPS and HTTP instead of https_proxy / http_proxy ("" for none); a value without scheme gets http://
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Use this no_proxy list instead of no_proxy / NO_PROXY (runner semantics: .x subdomains, x itself and subdomains, * all, :PORT)
    #[arg(long = "no-proxy", value_name = "LIST")]
    pub no_proxy: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Output format
    #[arg(
        long,
        value_enum,
        default_value = "table",
        env = "RUNNER_PREFLIGHT_FORMAT"
    )]
    pub format: FormatArg,
    /// Write the report to this file instead of standard output
    #[arg(
        long,
        short = 'o',
        value_name = "FILE",
        env = "RUNNER_PREFLIGHT_OUTPUT"
    )]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub timeout: TimeoutArgs,
    /// Time limit for the whole run; names not finished by then fail (default: 9 × --timeout)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub max_time: Option<Duration>,
    #[command(flatten)]
    pub concurrency: ConcurrencyArgs,
    #[command(flatten)]
    pub dns: DnsArgs,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// No progress display on standard error
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Table: every capability as a table with every row (otherwise a capability a root cause of the Diagnosis covers is one line, and rows a cause explains fold into "N names: see cause K")
    #[arg(long, short = 'v')]
    pub verbose: bool,
    #[command(flatten)]
    pub throughput: ThroughputArgs,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// `serve`: every flag of `check`, and where and how often.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to serve /metrics, /report.json, /healthz and /probe on: ADDR:PORT, or a PORT on 127.0.0.1 (0.0.0.0:PORT or [::]:PORT for every interface)
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9798", value_parser = parse_listen, env = "RUNNER_PREFLIGHT_LISTEN")]
    pub listen: SocketAddr,
    /// Time from the start of one scheduled run to the start of the next (runs never overlap: a longer run delays the next and counts in runner_preflight_runs_overrun_total)
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration, env = "RUNNER_PREFLIGHT_INTERVAL")]
    pub interval: Duration,
    /// Most on-demand /probe checks per minute (4 run at once, a caller beyond them waits for a slot, at most 10 s, else 503); more get 429 Too Many Requests
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = whole::<u32>(1, 600))]
    pub probe_limit: u32,
    /// Most open connections; more are closed at once (a client that sends no request within 1 s is dropped)
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_connections: u32,
    /// Most open connections from one address, so one client cannot take every slot
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_connections_per_peer: u32,
    /// Run the --idle-hold check on its own schedule, every DURATION (e.g. 3600s), instead of in every run; its result is in /metrics (runner_preflight_long_poll_*)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "idle_hold")]
    pub idle_every: Option<Duration>,
    #[command(flatten)]
    pub check: CheckArgs,
}

/// Throughput options of `check`.
#[derive(Debug, Args)]
pub struct ThroughputArgs {
    /// Skip the upload/download throughput measurement
    #[arg(long, env = "RUNNER_PREFLIGHT_NO_THROUGHPUT")]
    pub no_throughput: bool,
    /// Throughput floor in kbit/s, up and down (default: the profile's, 70 for github.com)
    #[arg(long, value_name = "KBPS", value_parser = whole::<u32>(1, u32::MAX))]
    pub min_kbps: Option<u32>,
    /// Download source for the throughput measurement (http or https URL; a Range request is used)
    #[arg(long, value_name = "URL")]
    pub throughput_url: Option<String>,
    /// Upload sink for the throughput measurement (a URL that accepts a POST body)
    #[arg(long, value_name = "URL")]
    pub upload_url: Option<String>,
    /// Most bytes moved per direction
    #[arg(long, value_name = "BYTES", default_value_t = 2 * 1024 * 1024, value_parser = whole::<u64>(1024, u64::MAX))]
    pub throughput_max_bytes: u64,
    /// Longest sample per direction; near the floor the measurement runs this long
    #[arg(long, value_name = "DURATION", default_value = "8s", value_parser = parse_duration)]
    pub throughput_time: Duration,
}

/// Proxy, trust-store and long-poll options of `check`.
#[derive(Debug, Args)]
pub struct NetworkArgs {
    #[command(flatten)]
    pub proxy: ProxyArgs,
    /// Read the runner's DIR/.env (plain KEY=VALUE lines), which overrides the environment as for the runner service
    #[arg(long, value_name = "DIR")]
    pub runner_dir: Option<PathBuf>,
    /// PEM bundle of public roots for interception detection and node's built-in store (default: Mozilla's)
    #[arg(long, value_name = "PEM")]
    pub public_roots: Option<PathBuf>,
    /// Also hold an idle HTTPS connection to the long-poll host (default 50 s, the runner's long poll) and report whether it was cut
    #[arg(long, value_name = "DURATION", num_args = 0..=1, default_missing_value = "50s", value_parser = parse_duration)]
    pub long_poll: Option<Duration>,
    /// Length of the long-poll hold in seconds (the older spelling of `--long-poll DURATION`)
    #[arg(long, hide = true, value_name = "SECONDS", value_parser = whole::<u64>(1, 600))]
    pub long_poll_seconds: Option<u64>,
    /// Idle survival: answer one request on the long-poll connection, keep it idle this long, then reuse it; a FIN, reset or silent drop is reported with its time
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, conflicts_with_all = ["long_poll", "long_poll_seconds"])]
    pub idle_hold: Option<Duration>,
    /// OS of the runner package to check (default: this host's), for a profile that asks for the latest runner release
    #[arg(long, value_enum, value_name = "OS")]
    pub runner_os: Option<RunnerOsArg>,
    /// Architecture of the runner package to check (default: this host's)
    #[arg(long, value_enum, value_name = "ARCH")]
    pub runner_arch: Option<RunnerArchArg>,
    /// The directory holding Docker's daemon.json (default /etc/docker); for tests
    #[arg(long, hide = true, value_name = "DIR")]
    pub docker_config_dir: Option<PathBuf>,
    /// The Docker API's unix socket (default /var/run/docker.sock); for tests
    #[arg(long, hide = true, value_name = "PATH")]
    pub docker_socket: Option<PathBuf>,
}

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
    pub fail_on: FailOnArg,
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

/// `explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A JSON report written by `check --format json` or `--output-json`
    #[arg(value_name = "REPORT.json")]
    pub report: PathBuf,
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: ExplainFormat,
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Print the expanded profile: every capability, entry, probed name, port and HTTP check
    Show(ShowArgs),
    /// Validate a profile file; errors name the file, line and column
    Validate {
        /// Path of the YAML file (or a built-in name; or give it with --profile)
        #[arg(
            value_name = "PROFILE",
            required_unless_present = "profile_flag",
            conflicts_with = "profile_flag"
        )]
        profile: Option<String>,
        /// Path of the YAML file (or a built-in name), as check spells it
        #[arg(
            long = "profile",
            short = 'p',
            id = "profile_flag",
            value_name = "PROFILE"
        )]
        profile_flag: Option<String>,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Print the YAML source of a built-in profile (a starting point for your own)
    Source {
        /// Built-in profile name
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Built-in profile name or path of a YAML file (or give it with --profile, as check does)
    #[arg(
        value_name = "PROFILE",
        required_unless_present = "profile_flag",
        conflicts_with = "profile_flag",
        value_parser = Suggest::profiles(),
        hide_possible_values = true
    )]
    pub profile: Option<String>,
    /// Built-in profile (dotcom, ghes, ghecom) or path of a YAML profile
    #[arg(
        long = "profile",
        short = 'p',
        id = "profile_flag",
        value_name = "PROFILE",
        value_parser = Suggest::profiles(),
        hide_possible_values = true
    )]
    pub profile_flag: Option<String>,
    #[command(flatten)]
    pub select: SelectArgs,
}

impl ShowArgs {
    /// The profile, given either way (clap requires exactly one).
    pub fn profile(&self) -> &str {
        self.profile
            .as_deref()
            .or(self.profile_flag.as_deref())
            .unwrap_or_default()
    }
}

/// How `firewall` and `audit` resolve names.
#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// No DNS: documented names and patterns only
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub dns: DnsArgs,
    #[command(flatten)]
    pub timeout: ResolveTimeoutArgs,
    #[command(flatten)]
    pub concurrency: ResolveConcurrencyArgs,
}

#[derive(Debug, Args)]
pub struct FirewallArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[command(flatten)]
    pub select: RulesSelectArgs,
    #[command(flatten)]
    pub resolve: ResolveArgs,
    /// Output format
    #[arg(long, value_enum, default_value = "plain")]
    pub format: FirewallFormatArg,
    /// Write to this file instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[command(flatten)]
    pub select: RulesSelectArgs,
    #[command(flatten)]
    pub resolve: ResolveArgs,
    /// The allow list to audit: one name or pattern per line (`x`, `*.x`, `.x`, globs), `#` comments
    #[arg(long, value_name = "FILE")]
    pub allowlist: PathBuf,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: TextFormat,
}

#[derive(Debug, Subcommand)]
pub enum MetaCommand {
    /// Compare the profile with the REST Meta API's domain lists (actions_inbound, actions)
    Diff(MetaDiffArgs),
}

#[derive(Debug, Args)]
pub struct MetaDiffArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[command(flatten)]
    pub select: MetaSelectArgs,
    /// A saved /meta JSON document (instead of fetching it)
    #[arg(long, value_name = "FILE")]
    pub meta: Option<PathBuf>,
    /// Fetch /meta from this https URL (default: from the profile: api.github.com, the GHES host, api.SUBDOMAIN.ghe.com)
    #[arg(long, value_name = "URL")]
    pub meta_url: Option<String>,
    /// Never fetch: needs --meta FILE
    #[arg(long)]
    pub offline: bool,
    /// Environment variable holding an API token for /meta (GHE.com needs one; GHES may); the token is sent only to the GHE.com or GHES /meta URL, never printed
    #[arg(long, value_name = "NAME", default_value = "GITHUB_TOKEN")]
    pub token_env: String,
    #[command(flatten)]
    pub dns: DnsArgs,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub timeout: MetaTimeoutArgs,
    #[command(flatten)]
    pub proxy: ProxyArgs,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: TextFormat,
}

/// `fleet`: saved reports of many hosts.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct FleetArgs {
    #[command(subcommand)]
    pub command: Option<FleetCommand>,
    /// Saved JSON reports (`check --format json` or `--output-json`), or folders of them (every *.json inside, sorted)
    #[arg(value_name = "REPORT.json|DIR", required = true)]
    pub reports: Vec<PathBuf>,
    #[command(flatten)]
    pub out: FleetOutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// What changed between two sweeps: hosts that appeared or disappeared, verdicts that flipped; exit 1 when something got worse
    Diff(FleetDiffArgs),
}

#[derive(Debug, Args)]
pub struct FleetDiffArgs {
    /// The earlier sweep: a folder of reports (or one report)
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The later sweep: a folder of reports (or one report)
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    #[command(flatten)]
    pub out: FleetOutputArgs,
}

/// `--format` and `--output` of `fleet` and `fleet diff`.
#[derive(Debug, Args)]
pub struct FleetOutputArgs {
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: FleetFormatArg,
    /// Write to this file instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

// ---------------------------------------------------------------------------------------------
// Mirror enums: clap's `ValueEnum` here, the domain's enums keep serde only.
// ---------------------------------------------------------------------------------------------

/// `--format` of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
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
    /// Prometheus text exposition: one run's metrics, e.g. for node_exporter's textfile collector.
    Prometheus,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Junit => Format::Junit,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Html => Format::Html,
            FormatArg::Prometheus => Format::Prometheus,
        }
    }
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    /// On a terminal, unless NO_COLOR is set (CLICOLOR_FORCE: also off one; CLICOLOR=0: never)
    Auto,
    /// Always, also into a pipe or a file
    Always,
    /// Never
    Never,
}

/// `--runner-os`: the OS names of the runner's packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunnerOsArg {
    Linux,
    Osx,
    Win,
}

impl From<RunnerOsArg> for RunnerOs {
    fn from(o: RunnerOsArg) -> RunnerOs {
        match o {
            RunnerOsArg::Linux => RunnerOs::Linux,
            RunnerOsArg::Osx => RunnerOs::Osx,
            RunnerOsArg::Win => RunnerOs::Win,
        }
    }
}

/// `--runner-arch`: the architecture names of the runner's packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunnerArchArg {
    X64,
    Arm64,
    Arm,
}

impl From<RunnerArchArg> for RunnerArch {
    fn from(a: RunnerArchArg) -> RunnerArch {
        match a {
            RunnerArchArg::X64 => RunnerArch::X64,
            RunnerArchArg::Arm64 => RunnerArch::Arm64,
            RunnerArchArg::Arm => RunnerArch::Arm,
        }
    }
}

/// `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOnArg {
    /// Exit 1 only when a gating capability fails (warnings allowed).
    Fail,
    /// Also exit 1 when the overall verdict is WARN: a warning anywhere, or an informational
    /// capability failing.
    Warn,
}

impl From<FailOnArg> for FailOn {
    fn from(f: FailOnArg) -> FailOn {
        match f {
            FailOnArg::Fail => FailOn::Fail,
            FailOnArg::Warn => FailOn::Warn,
        }
    }
}

/// `--format` of `firewall`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FirewallFormatArg {
    /// One name or pattern per line (`*.x` as documented)
    Plain,
    /// Patterns, chains, addresses, TTLs and the resolution time
    Json,
    /// nftables table with v4/v6 address sets (element timeouts from TTL) and an accept rule
    Nftables,
    /// `ipset restore` input: hash:ip sets with per-entry timeouts
    Ipset,
    /// Squid `dstdomain` ACL (`.x` matches x and every subdomain)
    Squid,
    /// dnsmasq `nftset=` lines (and an `ipset=` alternative) so the sets follow DNS at run time
    Dnsmasq,
    /// CiliumNetworkPolicy with toFQDNs (matchName / matchPattern) and the DNS rule it needs
    Cilium,
    /// Azure Firewall application rule target FQDNs (`*.x` does not match `x`: both listed)
    Azure,
    /// AWS Network Firewall domain list targets (`.x` matches x and every subdomain)
    Aws,
}

impl From<FirewallFormatArg> for FirewallFormat {
    fn from(f: FirewallFormatArg) -> FirewallFormat {
        match f {
            FirewallFormatArg::Plain => FirewallFormat::Plain,
            FirewallFormatArg::Json => FirewallFormat::Json,
            FirewallFormatArg::Nftables => FirewallFormat::Nftables,
            FirewallFormatArg::Ipset => FirewallFormat::Ipset,
            FirewallFormatArg::Squid => FirewallFormat::Squid,
            FirewallFormatArg::Dnsmasq => FirewallFormat::Dnsmasq,
            FirewallFormatArg::Cilium => FirewallFormat::Cilium,
            FirewallFormatArg::Azure => FirewallFormat::Azure,
            FirewallFormatArg::Aws => FirewallFormat::Aws,
        }
    }
}

/// `--format` of `fleet` and `fleet diff`. `render::fleet` and `render::html` have one function
/// per format: this one chooses between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FleetFormatArg {
    /// The hosts × capabilities matrix and what differs, for a terminal
    Table,
    /// Markdown, e.g. for $GITHUB_STEP_SUMMARY
    Markdown,
    /// JSON
    Json,
    /// One self-contained HTML page: a heat map with per-host details
    Html,
}

/// `--format` of `explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    /// The Diagnosis block as the table report prints it
    Table,
    /// The Diagnosis section of the Markdown summary
    Markdown,
    /// `{"diagnosis": [...]}` with each cause's summary and fix
    Json,
}

/// `--format` of `audit` and `meta diff`. The audit and meta modules have one render function
/// per format, no enum: this one chooses between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextFormat {
    /// Human-readable text
    Text,
    /// JSON
    Json,
}

// ---------------------------------------------------------------------------------------------
// Value parsers: one value each, errors in our words (clap prefixes the flag).
// ---------------------------------------------------------------------------------------------

/// Any string, with a list of names for the shell completions to offer (clap_complete writes a
/// value's possible values into the scripts): the built-in profiles for `--profile`, the
/// capability ids of the built-in profiles for `--capability` and `--require`. Nothing is
/// refused here: a profile may be a path and its own capabilities are checked against it in
/// the plan, where a mistyped one gets a "did you mean".
#[derive(Clone)]
pub(crate) struct Suggest(fn() -> &'static [&'static str]);

impl Suggest {
    fn profiles() -> Suggest {
        Suggest(|| crate::profile::BUILTIN_NAMES)
    }

    fn capabilities() -> Suggest {
        Suggest(builtin_capability_ids)
    }
}

/// Every capability id of the built-in profiles and `container-jobs`, sorted, once.
fn builtin_capability_ids() -> &'static [&'static str] {
    static IDS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    IDS.get_or_init(|| {
        let mut ids: std::collections::BTreeSet<String> = crate::profile::builtins()
            .filter_map(|(name, src)| crate::profile::parse(&format!("builtin:{name}"), src).ok())
            .flat_map(|p| p.capabilities.into_iter().map(|c| c.id))
            .collect();
        // The built-in container network check, which no profile declares.
        ids.insert(crate::plan::CONTAINER_JOBS.to_string());
        // Leaked once per process: the completion script generator wants `'static` names.
        ids.into_iter()
            .map(|id| &*Box::leak(id.into_boxed_str()))
            .collect()
    })
}

impl clap::builder::TypedValueParser for Suggest {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            (self.0)()
                .iter()
                .map(|v| clap::builder::PossibleValue::new(*v)),
        ))
    }
}

/// A whole number from `lo` to `hi`, refused in our words (Rust's "invalid digit found in
/// string" is not; issue 22 row 12).
pub(crate) fn whole<T>(lo: T, hi: T) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync
where
    T: std::str::FromStr + PartialOrd + Copy + std::fmt::Display + Send + Sync + 'static,
{
    move |s: &str| {
        let t = s.trim();
        let shown = crate::model::text::clipped(t);
        match t.parse::<T>() {
            Ok(v) if v >= lo && v <= hi => Ok(v),
            Err(_) if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit()) => Err(format!(
                "`{shown}` is not a whole number (give one from {lo} to {hi})"
            )),
            _ => Err(format!("`{shown}` is out of range: from {lo} to {hi}")),
        }
    }
}

pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
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

/// `--listen`: ADDR:PORT with an IP address, or a port alone (on 127.0.0.1).
pub(crate) fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.parse::<SocketAddr>().map_err(|_| {
        format!("`{s}` is not ADDR:PORT or a port (e.g. 9798, 127.0.0.1:9798, 0.0.0.0:9798, [::1]:9798)")
    })
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
