//! Raw flags → validated settings, before any work (ripgrep's `HiArgs`): the plan, durations,
//! URLs, host names, output paths. A command gets its settings or an [`InputError`] (exit 2);
//! after that nothing it was given can be wrong.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::args::{CheckArgs, FirewallArgs, ProfileArgs, ResolveArgs, Selection, TextFormat};
use super::ci::Pipeline;
use super::output;
use crate::error::InputError;
use crate::model::text::printable;
use crate::plan::{self, PlanOptions};
use crate::probe::{self, DnsMode, ProbeConfig};
use crate::profile;
use crate::render::prometheus::RunLabels;
use crate::render::{firewall::FirewallFormat, table::Style, Format};

/// `--timeout` when not given: check, firewall, audit.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// `--timeout` of `meta diff` when not given (one bigger document).
pub const META_TIMEOUT: Duration = Duration::from_secs(10);
/// `--concurrency` of `check` when not given, unless the open-file limit holds fewer probes
/// (see [`check_concurrency`]): every target of any profile at once, so that a run takes about
/// as long as its slowest name, whatever the number of names.
pub const CHECK_CONCURRENCY: u16 = 1024;
/// File descriptors one probe may hold at once: its A and AAAA sockets (plus a TCP retry of a
/// truncated answer, or the system resolver's socket), then its TCP connection.
pub const FDS_PER_PROBE: u64 = 4;
/// File descriptors kept for everything else: standard streams, the runtime, the files read and
/// written, the throughput and long-poll connections.
pub const FD_HEADROOM: u64 = 64;
/// `--concurrency` of `firewall` and `audit` when not given.
pub const RESOLVE_CONCURRENCY: u16 = 32;
/// The narrowest table we draw, whatever the terminal says.
pub const MIN_TABLE_WIDTH: u16 = 60;
/// The table width when no terminal tells (not a terminal, or 0 columns) and `COLUMNS` is unset.
pub const FALLBACK_TABLE_WIDTH: u16 = 80;

/// Everything `check` needs, validated.
pub struct CheckSettings {
    pub plan: plan::Plan,
    pub setup: crate::env::Environment,
    pub cfg: ProbeConfig,
    /// The DNS servers named in the report (the system's when no `--dns-server`).
    pub dns_servers: Vec<SocketAddr>,
    pub timeout: Duration,
    pub max_time: Duration,
    pub concurrency: u16,
    pub ca_files: Vec<PathBuf>,
    /// `None` with `--no-throughput`.
    pub throughput: Option<Throughput>,
    /// The long-poll hold, with `--long-poll` or `--idle-hold` (primed).
    pub long_poll: Option<LongPollSetting>,
    pub quiet: bool,
    pub format: Format,
    pub output: Option<PathBuf>,
    pub pipeline: Pipeline,
    pub style: Style,
    /// Where Docker's daemon.json and API socket are looked for (the container-jobs check).
    pub docker: crate::env::docker::DockerPaths,
}

/// The throughput measurement: limits, and the URLs (flags over the profile's).
pub struct Throughput {
    pub settings: probe::throughput::Settings,
    pub download: Option<String>,
    pub upload: Option<String>,
}

/// An environment error in our words, naming the flag it came from.
pub fn env_error_words(e: &crate::env::EnvError) -> String {
    match e {
        crate::env::EnvError::Trust(t) => trust_error_words(t),
        crate::env::EnvError::RunnerDir(e) => format!("--runner-dir {e}"),
        crate::env::EnvError::Proxy(e) => format!("--proxy: {e}"),
    }
}

/// A trust-store input error, naming the flag the file came from.
pub fn trust_error_words(e: &crate::env::trust::TrustError) -> String {
    use crate::env::trust::PemInput;
    let flag = match e.input {
        PemInput::CaFile => "--ca-file",
        PemInput::PublicRoots => "--public-roots",
        // A path from the environment is outside text.
        PemInput::Variable {
            name,
            from_env_file,
        } => {
            let set_in = if from_env_file {
                " (set in the runner's .env)"
            } else {
                ""
            };
            return printable(&format!("{name}{set_in}: {}", e.error));
        }
        PemInput::OsDefault => {
            return printable(&format!("the system's certificate store: {}", e.error))
        }
    };
    format!("{flag} {}", e.error)
}

pub fn plan_of(profile: &str, select: Selection<'_>) -> Result<plan::Plan, InputError> {
    let p = profile::resolve_with(profile, select.limits.limits())?;
    plan::build(
        &p,
        &PlanOptions::new(select.vars, select.capability, select.require),
    )
}

/// The profile's path, when it is a file (not a built-in name): an input no output may replace.
fn profile_input(p: &ProfileArgs) -> Option<(&'static str, &Path)> {
    profile::builtin(&p.profile)
        .is_none()
        .then(|| ("--profile", Path::new(&p.profile)))
}

impl CheckSettings {
    pub fn new(args: CheckArgs) -> Result<CheckSettings, InputError> {
        let mut plan = plan_of(&args.profile.profile, args.select.selection())?;
        let net = &args.network;
        let setup = crate::env::Environment::load(&crate::env::EnvOptions {
            runner_dir: net.runner_dir.clone(),
            proxy: net.proxy.proxy.clone(),
            no_proxy: net.proxy.no_proxy.clone(),
            ca_files: args.trust.ca_files.clone(),
            public_roots: net.public_roots.clone(),
        })
        .map_err(|e| InputError::usage(env_error_words(&e)))?;
        // The hosts this runner is configured for (`.runner`, `.credentials`) are probed too.
        let configured: Vec<plan::ConfiguredUrl> = setup
            .runner
            .urls
            .iter()
            .map(|u| plan::ConfiguredUrl {
                file: u.file.name(),
                field: u.field,
                url: &u.url,
            })
            .collect();
        plan::add_configured(&mut plan, &configured);
        // The runner's store, read once: the TLS checks verify against it.
        let trust = setup.stores.runner.trust();
        for r in &args.overrides.resolve {
            crate::model::host::check_hostname(&r.host)
                .map_err(|m| InputError::usage(format!("--resolve: {m}")))?;
        }
        let given_dns = &args.dns.dns_servers;
        let dns_servers = match given_dns {
            s if s.is_empty() => probe::dns::system_servers().unwrap_or_default(),
            s => s.clone(),
        };
        let timeout = args.timeout.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let concurrency = check_concurrency(args.concurrency.concurrency);
        let max_time = args.max_time.unwrap_or(timeout * 9);
        let cfg = ProbeConfig {
            timeout,
            concurrency: concurrency as usize,
            max_time,
            dns: if given_dns.is_empty() {
                DnsMode::System
            } else {
                DnsMode::Servers(given_dns.clone())
            },
            resolve: args.overrides.resolve.clone(),
            connect_to: args.overrides.connect_to.clone(),
            trust,
            proxy: setup.proxy.clone(),
            stores: Some(Arc::new(setup.stores.clone())),
            runner_platform: crate::model::RunnerPlatform::resolve(
                net.runner_os.map(Into::into),
                net.runner_arch.map(Into::into),
            ),
            network: Arc::new(crate::env::net::Network::load()),
            epoch: std::time::Instant::now(),
        };

        // Outputs: writable, distinct, none of them an input file.
        let pipeline = Pipeline::new(&args.pipeline);
        let mut outputs: Vec<(&str, &Path)> = args
            .output
            .as_deref()
            .map(|p| ("--output", p))
            .into_iter()
            .collect();
        outputs.extend(pipeline.files.iter().map(|f| (f.flag, f.path.as_path())));
        let runner_files: Vec<PathBuf> = net
            .runner_dir
            .iter()
            .flat_map(|d| [".env", ".runner", ".credentials"].map(|f| d.join(f)))
            .collect();
        let mut inputs: Vec<(&str, &Path)> = profile_input(&args.profile).into_iter().collect();
        inputs.extend(
            args.trust
                .ca_files
                .iter()
                .map(|p| ("--ca-file", p.as_path())),
        );
        inputs.extend(
            net.public_roots
                .iter()
                .map(|p| ("--public-roots", p.as_path())),
        );
        inputs.extend(runner_files.iter().map(|p| ("--runner-dir", p.as_path())));
        output::validate(&outputs, &inputs)?;

        let tp = &args.throughput;
        for u in [&tp.throughput_url, &tp.upload_url].into_iter().flatten() {
            crate::model::parse_url(u)
                .map_err(|m| InputError::usage(format!("throughput URL {m}")))?;
        }
        let throughput = (!tp.no_throughput).then(|| Throughput {
            settings: probe::throughput::Settings {
                min_kbps: tp.min_kbps.unwrap_or(plan.throughput.min_kbps),
                max_bytes: tp.throughput_max_bytes,
                max_time: tp.throughput_time,
                timeout,
                // Set when a run starts (`--max-time` from then).
                until: None,
            },
            download: tp
                .throughput_url
                .clone()
                .or_else(|| plan.throughput.download.clone()),
            upload: tp
                .upload_url
                .clone()
                .or_else(|| plan.throughput.upload.clone()),
        });
        let format = Format::from(args.format);
        let style = Style {
            verbose: args.verbose,
            ..table_style(args.output.is_none() && std::io::stdout().is_terminal())
        };
        let settings = CheckSettings {
            plan,
            setup,
            cfg,
            dns_servers,
            timeout,
            max_time,
            concurrency,
            ca_files: args.trust.ca_files.clone(),
            throughput,
            long_poll: match (net.idle_hold, net.long_poll) {
                (Some(hold), _) => Some(LongPollSetting { hold, primed: true }),
                (None, None) => None,
                // The older `--long-poll --long-poll-seconds N` spelling still sets the hold.
                (None, Some(hold)) => Some(LongPollSetting {
                    hold: net
                        .long_poll_seconds
                        .map(Duration::from_secs)
                        .unwrap_or(hold),
                    primed: false,
                }),
            },
            quiet: args.quiet,
            format,
            output: args.output.clone(),
            pipeline,
            style,
            docker: {
                let default = crate::env::docker::DockerPaths::default();
                crate::env::docker::DockerPaths {
                    config_dir: net.docker_config_dir.clone().unwrap_or(default.config_dir),
                    socket: net.docker_socket.clone().unwrap_or(default.socket),
                }
            },
        };
        if settings.format == Format::Prometheus {
            run_labels(&settings)?;
        }
        Ok(settings)
    }
}

/// `check`'s concurrency: `given`, else [`CHECK_CONCURRENCY`] bounded by the open-file limit
/// ([`FDS_PER_PROBE`] each, [`FD_HEADROOM`] kept). The soft limit is first raised towards the
/// hard one as far as the concurrency needs (as Go programs do at start-up); a given value is
/// not lowered, the user asked for it.
pub fn check_concurrency(given: Option<u16>) -> u16 {
    let wanted = given.unwrap_or(CHECK_CONCURRENCY);
    let fits = probes_within_fd_limit(wanted as u64 * FDS_PER_PROBE + FD_HEADROOM);
    match given {
        Some(n) => n,
        None => wanted.min(fits.min(u16::MAX as u64) as u16).max(1),
    }
}

/// How many probes the open-file limit holds, after raising the soft limit towards `need`
/// ([`crate::platform::open_files_limit`]; no limit on Windows).
fn probes_within_fd_limit(need: u64) -> u64 {
    crate::platform::open_files_limit(need).map_or(u64::MAX, |soft| {
        soft.saturating_sub(FD_HEADROOM) / FDS_PER_PROBE
    })
}

/// `--color`: when the table on standard output is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorWhen {
    /// On a terminal, unless the environment says otherwise ([`ColorWhen::colored`]).
    #[default]
    Auto,
    Always,
    Never,
}

// Raw flag → validated setting, here rather than in args.rs: args.rs knows only clap's view
// (the arrows run settings → args, never back).
impl From<super::args::ColorArg> for ColorWhen {
    fn from(c: super::args::ColorArg) -> ColorWhen {
        use super::args::ColorArg;
        match c {
            ColorArg::Auto => ColorWhen::Auto,
            ColorArg::Always => ColorWhen::Always,
            ColorArg::Never => ColorWhen::Never,
        }
    }
}

/// The `--color` of this process, set once from the command line before any work.
static COLOR: std::sync::OnceLock<ColorWhen> = std::sync::OnceLock::new();

pub(super) fn set_color(when: ColorWhen) {
    // Set once, in `dispatch`; a second call (none today) keeps the first.
    let _ = COLOR.set(when);
}

impl ColorWhen {
    /// Whether output to a terminal (or not) is coloured. `always`/`never` decide; `auto` follows
    /// the conventions in this order: `NO_COLOR` set and not empty — none
    /// (<https://no-color.org>); `CLICOLOR_FORCE` set and not `0` — coloured even off a
    /// terminal; `CLICOLOR=0` — none (<https://bixense.com/clicolors/>); else colour on a
    /// terminal only. (anstyle-query reads the variables, as clap and anstream do.)
    pub fn colored(self, to_terminal: bool) -> bool {
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto if anstyle_query::no_color() => false,
            ColorWhen::Auto if anstyle_query::clicolor_force() => true,
            ColorWhen::Auto if anstyle_query::clicolor() == Some(false) => false,
            ColorWhen::Auto => to_terminal,
        }
    }
}

/// Colour and width of the table. The width: the terminal's when standard output is one (and
/// it tells), else `COLUMNS`, else [`FALLBACK_TABLE_WIDTH`]; never narrower than
/// [`MIN_TABLE_WIDTH`] (issue 23 row 3: a log or a pipe gets a table that fits 80 columns too).
/// Colour: `--color` ([`ColorWhen::colored`]).
pub(super) fn table_style(to_terminal: bool) -> Style {
    let color = COLOR
        .get()
        .copied()
        .unwrap_or_default()
        .colored(to_terminal);
    let reported = to_terminal
        .then(|| comfy_table::Table::new().width())
        .flatten()
        .filter(|w| *w > 0);
    let columns = || {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<u16>().ok())
            .filter(|c| (1..=2000).contains(c))
    };
    let width = reported
        .or_else(columns)
        .unwrap_or(FALLBACK_TABLE_WIDTH)
        .max(MIN_TABLE_WIDTH);
    Style {
        color,
        width,
        verbose: false,
    }
}

/// The labels of every metric series (`profile` and the `--label`s, as the report records them),
/// or why the `--label`s cannot all be Prometheus labels.
pub fn run_labels(s: &CheckSettings) -> Result<RunLabels, InputError> {
    let labels: std::collections::BTreeMap<String, String> = s
        .pipeline
        .labels
        .iter()
        .map(|(k, v)| (printable(k), printable(v)))
        .collect();
    RunLabels::new(&s.plan.profile_name, &labels).map_err(|c| {
        InputError::usage(format!(
            "--label {} and --label {} would both be the metric label `{}`: give one of them another key",
            c.first, c.second, c.name
        ))
    })
}

/// How `firewall` and `audit` resolve names.
pub struct ResolveSettings {
    pub offline: bool,
    pub dns_servers: Vec<SocketAddr>,
    pub timeout: Duration,
    pub concurrency: u16,
}

impl ResolveSettings {
    fn new(r: &ResolveArgs) -> ResolveSettings {
        ResolveSettings {
            offline: r.offline,
            dns_servers: r.dns.dns_servers.clone(),
            timeout: r.timeout.timeout.unwrap_or(DEFAULT_TIMEOUT),
            concurrency: r.concurrency.concurrency.unwrap_or(RESOLVE_CONCURRENCY),
        }
    }
}

pub struct FirewallSettings {
    pub plan: plan::Plan,
    pub resolve: ResolveSettings,
    pub format: FirewallFormat,
    pub output: Option<PathBuf>,
}

impl FirewallSettings {
    pub fn new(args: FirewallArgs) -> Result<FirewallSettings, InputError> {
        let outputs: Vec<(&str, &Path)> = args
            .output
            .as_deref()
            .map(|p| ("--output", p))
            .into_iter()
            .collect();
        let inputs: Vec<(&str, &Path)> = profile_input(&args.profile).into_iter().collect();
        output::validate(&outputs, &inputs)?;
        Ok(FirewallSettings {
            plan: plan_of(&args.profile.profile, args.select.selection())?,
            resolve: ResolveSettings::new(&args.resolve),
            format: args.format.into(),
            output: args.output,
        })
    }
}

pub struct AuditSettings {
    pub plan: plan::Plan,
    pub resolve: ResolveSettings,
    pub allowlist: crate::audit::AllowList,
    pub format: TextFormat,
}

impl AuditSettings {
    pub fn new(args: super::args::AuditArgs) -> Result<AuditSettings, InputError> {
        let allowlist =
            crate::audit::load(&args.allowlist).map_err(|e| InputError::usage(e.to_string()))?;
        Ok(AuditSettings {
            plan: plan_of(&args.profile.profile, args.select.selection())?,
            resolve: ResolveSettings::new(&args.resolve),
            allowlist,
            format: args.format,
        })
    }
}

/// The long-poll check asked for: how long to hold, and whether a request is answered on the
/// connection first (`--idle-hold`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongPollSetting {
    pub hold: Duration,
    pub primed: bool,
}
