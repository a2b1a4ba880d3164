//! `firewall`, `audit` and `meta diff`: flags → plan → resolution → model → text.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

use super::{now_rfc3339, parse_dns_server, parse_duration, print_out};
use crate::audit;
use crate::error::{InputError, EXIT_GATE};
use crate::firewall::{self, CollectOptions, Model};
use crate::meta;
use crate::plan::{self, PlanOptions};
use crate::probe::dns::{self, DnsClient};
use crate::probe::tls::Trust;
use crate::profile;
use crate::render::firewall::FirewallFormat;

/// Which profile and which part of it.
#[derive(Debug, Args)]
pub struct ProfileSelect {
    #[command(flatten)]
    pub profile: super::ProfileArg,
    /// Profile variable, NAME=VALUE (repeatable), e.g. hostname=ghes.example.com
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = plan::parse_var)]
    pub vars: Vec<(String, String)>,
    /// Only these capabilities (comma-separated ids)
    #[arg(long, value_delimiter = ',', value_name = "ID,…")]
    pub capability: Vec<String>,
}

/// How names are resolved.
#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// No DNS: documented names and patterns only
    #[arg(long)]
    pub offline: bool,
    /// Ask this DNS server instead of the system's (IP or IP:PORT; repeatable)
    #[arg(long = "dns-server", value_name = "IP[:PORT]", value_parser = parse_dns_server)]
    pub dns_servers: Vec<SocketAddr>,
    /// Time limit for each DNS question (e.g. 5, 2.5s, 800ms)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// How many names are resolved at once
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
}

#[derive(Debug, Args)]
pub struct FirewallArgs {
    #[command(flatten)]
    pub select: ProfileSelect,
    #[command(flatten)]
    pub resolve: ResolveArgs,
    /// Output format
    #[arg(long, value_enum, default_value = "plain")]
    pub format: FirewallFormat,
    /// Write to this file instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextFormat {
    /// Human-readable text
    Text,
    /// JSON
    Json,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub select: ProfileSelect,
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
    pub select: ProfileSelect,
    /// A saved /meta JSON document (instead of fetching it)
    #[arg(long, value_name = "FILE")]
    pub meta: Option<PathBuf>,
    /// Fetch /meta from this https URL (default: from the profile: api.github.com, the GHES host, api.SUBDOMAIN.ghe.com)
    #[arg(long, value_name = "URL")]
    pub meta_url: Option<String>,
    /// Never fetch: needs --meta FILE
    #[arg(long)]
    pub offline: bool,
    /// Ask this DNS server instead of the system's (IP or IP:PORT; repeatable)
    #[arg(long = "dns-server", value_name = "IP[:PORT]", value_parser = parse_dns_server)]
    pub dns_servers: Vec<SocketAddr>,
    /// Also trust the certificates in this PEM file (repeatable)
    #[arg(long = "ca-file", value_name = "PEM", env = "RUNNER_PREFLIGHT_CA_FILE")]
    pub ca_files: Vec<PathBuf>,
    /// Time limit for each phase of the fetch
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Fetch through this proxy instead of https_proxy ("" for none), as `check` does
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Use this no_proxy list instead of no_proxy / NO_PROXY
    #[arg(long = "no-proxy", value_name = "LIST")]
    pub no_proxy: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: TextFormat,
}

fn load_plan(s: &ProfileSelect) -> Result<plan::Plan, InputError> {
    let p = profile::resolve(&s.profile.profile)?;
    plan::build(&p, &PlanOptions::new(&s.vars, &s.capability, &[]))
}

fn runtime() -> Result<tokio::runtime::Runtime, InputError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .build()
        .map_err(|e| InputError::usage(format!("cannot start the async runtime: {e}")))
}

fn dns_client(servers: &[SocketAddr], timeout: Duration) -> Result<DnsClient, InputError> {
    let servers = if servers.is_empty() {
        dns::system_servers().map_err(|e| {
            InputError::usage(format!(
                "cannot read the system DNS configuration ({e}): use --dns-server or --offline"
            ))
        })?
    } else {
        servers.to_vec()
    };
    if servers.is_empty() {
        return Err(InputError::usage(
            "no DNS server configured (empty /etc/resolv.conf?): use --dns-server or --offline",
        ));
    }
    Ok(DnsClient { servers, timeout })
}

fn warn_all(warnings: &[String]) {
    for w in warnings {
        eprintln!("runner-preflight: warning: {w}");
    }
}

fn collect_model(plan: &plan::Plan, r: &ResolveArgs) -> Result<Model, InputError> {
    let resolved_at = now_rfc3339();
    let client = if r.offline {
        DnsClient {
            servers: vec![],
            timeout: r.timeout,
        }
    } else {
        dns_client(&r.dns_servers, r.timeout)?
    };
    let opts = CollectOptions {
        offline: r.offline,
        client,
        concurrency: r.concurrency as usize,
        // A chain of MAX_CHAIN names, each question bounded by --timeout, plus room.
        max_time: r.timeout * (dns::MAX_CHAIN as u32 + 2),
    };
    let model = if r.offline {
        firewall::build(plan, &Default::default(), true, vec![], resolved_at)
    } else {
        let rt = runtime()?;
        let m = rt.block_on(firewall::collect(plan, &opts, resolved_at));
        rt.shutdown_timeout(Duration::from_millis(50));
        m
    };
    warn_all(&model.warnings);
    Ok(model)
}

pub(super) fn firewall_cmd(args: FirewallArgs) -> Result<u8, InputError> {
    if let Some(path) = &args.output {
        if path.is_dir() {
            return Err(InputError::usage(format!(
                "--output {}: is a directory",
                path.display()
            )));
        }
    }
    let plan = load_plan(&args.select)?;
    let model = collect_model(&plan, &args.resolve)?;
    let text = crate::render::firewall::render(&model, args.format);
    match &args.output {
        Some(path) => std::fs::write(path, text.as_bytes())
            .map_err(|e| InputError::usage(format!("--output {}: {e}", path.display())))?,
        None => print_out(&text),
    }
    Ok(0)
}

pub(super) fn audit_cmd(args: AuditArgs) -> Result<u8, InputError> {
    let list = audit::load(&args.allowlist).map_err(|e| InputError::usage(e.to_string()))?;
    let plan = load_plan(&args.select)?;
    let model = collect_model(&plan, &args.resolve)?;
    let a = audit::audit(&model, &list);
    print_out(&match args.format {
        TextFormat::Text => crate::render::audit::text(&a),
        TextFormat::Json => crate::render::audit::json(&a),
    });
    Ok(if a.complete_and_covered() {
        0
    } else {
        EXIT_GATE
    })
}

pub(super) fn meta_cmd(cmd: MetaCommand) -> Result<u8, InputError> {
    let MetaCommand::Diff(args) = cmd;
    let plan = load_plan(&args.select)?;
    let (text, source) = match (&args.meta, args.offline) {
        (Some(path), _) => (
            meta::read_file(path).map_err(|e| InputError::usage(format!("meta diff: {e}")))?,
            path.display().to_string(),
        ),
        (None, true) => {
            return Err(InputError::usage(
                "meta diff: --offline needs a saved /meta document: pass --meta FILE (e.g. saved from https://api.github.com/meta)",
            ))
        }
        (None, false) => {
            let url = match args.meta_url.clone().or_else(|| meta::default_url(&plan)) {
                Some(u) => u,
                None => {
                    return Err(InputError::usage(format!(
                        "meta diff: profile `{}` has no known /meta URL: pass --meta FILE or --meta-url URL",
                        plan.profile_name
                    )))
                }
            };
            let trust = Trust::system_plus(&args.ca_files).map_err(InputError::usage)?;
            let client = if args.dns_servers.is_empty() {
                None
            } else {
                Some(dns_client(&args.dns_servers, args.timeout)?)
            };
            // The same proxy rules as the runner and `check`.
            let env = crate::proxy::RunnerEnv::load(None).map_err(InputError::usage)?;
            let proxies = crate::proxy::ProxySettings::resolve(
                &env,
                args.proxy.as_deref(),
                args.no_proxy.as_deref(),
            )
            .map_err(InputError::usage)?;
            let proxy = meta::url_host_port(&url)
                .and_then(|(h, p)| proxies.route(&h, p, true).map(|s| s.url.clone()));
            let rt = runtime()?;
            let fetched = rt.block_on(meta::fetch(
                &url,
                &trust,
                client.as_ref(),
                proxy.as_ref(),
                args.timeout,
            ));
            rt.shutdown_timeout(Duration::from_millis(50));
            let body = fetched
                .map_err(|e| InputError::usage(format!("meta diff: cannot fetch {url}: {e}")))?;
            (body, url)
        }
    };
    let domains =
        meta::parse(&text).map_err(|e| InputError::usage(format!("meta diff: {source}: {e}")))?;
    warn_all(&domains.warnings);
    let (d, warnings) = meta::diff(&plan, &domains, &source);
    warn_all(&warnings);
    print_out(&match args.format {
        TextFormat::Text => crate::render::meta::text(&d),
        TextFormat::Json => crate::render::meta::json(&d),
    });
    Ok(if d.drift() == 0 { 0 } else { EXIT_GATE })
}
