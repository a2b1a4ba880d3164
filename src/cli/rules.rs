//! `firewall`, `audit` and `meta diff`: settings → plan → resolution → model → text.

use std::net::SocketAddr;
use std::time::Duration;

use super::args::{FirewallArgs, MetaCommand, TextFormat};
use super::output::{self, say};
use super::settings::{plan_of, AuditSettings, FirewallSettings, ResolveSettings, META_TIMEOUT};
use super::{now_rfc3339, Failure, Interrupted};
use crate::audit;
use crate::error::{InputError, EXIT_GATE};
use crate::firewall::{self, CollectOptions, Model};
use crate::meta;
use crate::plan;
use crate::probe::dns::{self, DnsClient};

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
        say(&format!("runner-preflight: warning: {w}"));
    }
}

/// Run network work on the one runtime; SIGINT/SIGTERM end it with nothing written.
fn run_async<F: std::future::Future>(work: F, what: &str) -> Result<F::Output, Failure> {
    let rt = super::runtime()?;
    let r = super::interruptible(&rt, work);
    rt.shutdown_timeout(super::SHUTDOWN_GRACE);
    r.map_err(|signal| {
        Failure::Interrupted(Interrupted {
            signal,
            what: format!("interrupted while {what}; nothing written"),
        })
    })
}

fn collect_model(plan: &plan::Plan, r: &ResolveSettings) -> Result<Model, Failure> {
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
        run_async(
            firewall::collect(plan, &opts, resolved_at),
            "resolving names",
        )?
    };
    warn_all(&crate::render::firewall::warnings(&model));
    Ok(model)
}

pub(super) fn firewall_cmd(args: FirewallArgs) -> Result<u8, Failure> {
    let s = FirewallSettings::new(args)?;
    let model = collect_model(&s.plan, &s.resolve)?;
    let text = crate::render::firewall::render(&model, s.format);
    match &s.output {
        Some(path) => output::write_file("--output", path, text.as_bytes())?,
        None => output::stdout("the rules", &text)?,
    }
    say(&format!(
        "runner-preflight: {}",
        crate::render::firewall::summary(&model, s.format)
    ));
    // A firewall that would block a whole capability must not look like success: the rules are
    // still written (to read, or to fix by hand), but the exit code says they are incomplete.
    Ok(
        if s.format.lists_addresses() && !model.without_addresses().is_empty() {
            EXIT_GATE
        } else {
            0
        },
    )
}

pub(super) fn audit_cmd(args: super::args::AuditArgs) -> Result<u8, Failure> {
    let s = AuditSettings::new(args)?;
    let model = collect_model(&s.plan, &s.resolve)?;
    let a = audit::audit(&model, &s.allowlist);
    output::stdout(
        "the audit",
        &match s.format {
            TextFormat::Text => crate::render::audit::text(&a),
            TextFormat::Json => crate::render::audit::json(&a),
        },
    )?;
    Ok(if a.complete_and_covered() {
        0
    } else {
        EXIT_GATE
    })
}

pub(super) fn meta_cmd(cmd: MetaCommand) -> Result<u8, Failure> {
    let MetaCommand::Diff(args) = cmd;
    let plan = plan_of(&args.profile.profile, args.select.selection())?;
    let timeout = args.timeout.timeout.unwrap_or(META_TIMEOUT);
    let (text, source) = match (&args.meta, args.offline) {
        (Some(path), _) => (
            meta::read_file(path).map_err(|e| InputError::usage(format!("meta diff: {e}")))?,
            path.display().to_string(),
        ),
        (None, true) => {
            return Err(InputError::usage(
                "meta diff: --offline needs a saved /meta document: pass --meta FILE (e.g. saved from https://api.github.com/meta)",
            ).into())
        }
        (None, false) => {
            let url = match args.meta_url.clone().or_else(|| meta::default_url(&plan)) {
                Some(u) => u,
                None => {
                    return Err(InputError::usage(format!(
                        "meta diff: profile `{}` has no known /meta URL: pass --meta FILE or --meta-url URL",
                        plan.profile_name
                    )).into())
                }
            };
            // GHE.com answers /meta only with a token; a GHES instance may require one. The token
            // goes to those hosts only (never to api.github.com), and no output carries it.
            let needs_token = plan.profile_name == "ghecom"
                || meta::url_host_port(&url).is_some_and(|(h, _)| h.ends_with(".ghe.com"));
            let may_send = needs_token || plan.profile_name == "ghes";
            let token = std::env::var(&args.token_env)
                .ok()
                .filter(|t| !t.trim().is_empty())
                .map(|t| meta::Token(t.trim().to_string()))
                .filter(|_| may_send);
            if needs_token && token.is_none() {
                return Err(InputError::usage(format!(
                    "meta diff: GHE.com answers /meta only with a token: set {} (or name another variable with --token-env) to a token of the tenant, or pass --meta FILE with a saved /meta document",
                    crate::model::text::printable(&args.token_env)
                ))
                .into());
            }
            // The runner's environment as `check` reads it: its trust store and its proxies.
            let environment = crate::env::Environment::load(&crate::env::EnvOptions {
                proxy: args.proxy.proxy.clone(),
                no_proxy: args.proxy.no_proxy.clone(),
                ca_files: args.trust.ca_files.clone(),
                ..Default::default()
            })
            .map_err(|e| InputError::usage(super::settings::env_error_words(&e)))?;
            let trust = environment.stores.runner.trust();
            let client = if args.dns.dns_servers.is_empty() {
                None
            } else {
                Some(dns_client(&args.dns.dns_servers, timeout)?)
            };
            let proxies = &environment.proxy;
            let proxy = meta::url_host_port(&url)
                .and_then(|(h, p)| proxies.route(&h, p, true).map(|s| s.url.clone()));
            let fetched = run_async(
                meta::fetch(
                    &url,
                    &trust,
                    client.as_ref(),
                    proxy.as_ref(),
                    timeout,
                    token.as_ref(),
                ),
                "fetching /meta",
            )?;
            let body = fetched
                .map_err(|e| {
                    let words = format!(
                        "meta diff: cannot fetch {}: {}",
                        crate::model::mask_url(&url),
                        crate::render::meta::fetch_error(&e)
                    );
                    InputError::usage(match &token {
                        Some(t) => t.mask(&words),
                        None => words,
                    })
                })?;
            // The source is shown in the output's header: masked.
            (body, crate::model::mask_url(&url))
        }
    };
    let domains =
        meta::parse(&text).map_err(|e| InputError::usage(format!("meta diff: {source}: {e}")))?;
    warn_all(&domains.warnings);
    let (d, warnings) = meta::diff(&plan, &domains, &source);
    warn_all(&warnings);
    output::stdout(
        "the comparison",
        &match args.format {
            TextFormat::Text => crate::render::meta::text(&d),
            TextFormat::Json => crate::render::meta::json(&d),
        },
    )?;
    Ok(if d.drift() == 0 { 0 } else { EXIT_GATE })
}
