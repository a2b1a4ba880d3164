//! Long-poll survival: the runner holds an HTTPS request open for 50 s and re-polls. Hold an idle
//! HTTPS connection to the long-poll host for that long, through the same route (direct or the
//! proxy), and report whether something cut it.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

use super::{connect, http, tcp, tls, ProbeConfig};
use crate::model::Route;
use crate::model::{HttpSpec, Method};
use crate::plan::{Plan, Proto};
use crate::render::words;
use crate::report::findings::LongPollReport;

/// The runner's long poll lasts 50 s.
pub const HOLD: Duration = Duration::from_secs(50);

/// The long-poll name: in the `essential` capability the broker, else pipelines, else its first
/// HTTPS name; failing that the first HTTPS name of a gating capability.
pub fn target(plan: &Plan) -> Option<(String, u16, Option<HttpSpec>)> {
    let https = |c: &crate::plan::PlannedCapability| -> Vec<(String, u16, Option<HttpSpec>)> {
        c.entries
            .iter()
            .flat_map(|e| e.targets.iter())
            .flat_map(|t| {
                t.endpoints
                    .iter()
                    .filter(|e| e.proto == Proto::Https)
                    .map(|e| (t.host.clone(), e.port, e.http.clone()))
            })
            .collect()
    };
    if let Some(ess) = plan.capabilities.iter().find(|c| c.id == "essential") {
        let all = https(ess);
        for prefix in ["broker.", "pipelines."] {
            if let Some(t) = all.iter().find(|t| t.0.starts_with(prefix)) {
                return Some(t.clone());
            }
        }
        if let Some(t) = all.first() {
            return Some(t.clone());
        }
    }
    plan.capabilities
        .iter()
        .filter(|c| c.gating)
        .flat_map(https)
        .next()
}

/// The long poll for a plan: its [`target`], on the addresses the probe found for it.
/// `None` when the plan has no HTTPS name.
pub async fn for_plan(
    cfg: &ProbeConfig,
    plan: &Plan,
    results: &std::collections::HashMap<crate::plan::Target, super::outcome::TargetOutcome>,
    hold: Duration,
) -> Option<LongPollReport> {
    let (host, port, spec) = target(plan)?;
    let addrs = results
        .iter()
        .find(|(t, _)| t.host == host)
        .map(|(_, r)| r.dns.addresses.iter().map(|a| a.address).collect())
        .unwrap_or_default();
    Some(run(cfg, &host, port, spec, addrs, hold).await)
}

/// Hold an idle TLS connection to `host:port` for `hold`, then check it still answers.
/// `addrs` are the name's addresses from the probe (used on the direct route).
pub async fn run(
    cfg: &ProbeConfig,
    host: &str,
    port: u16,
    spec: Option<HttpSpec>,
    addrs: Vec<IpAddr>,
    hold: Duration,
) -> LongPollReport {
    let proxy = cfg.proxy.route(host, port, true);
    let route = if proxy.is_some() {
        Route::Proxy
    } else {
        Route::Direct
    };
    let report = |survived: bool, detail: String| LongPollReport {
        host: host.to_string(),
        route,
        hold_seconds: hold.as_secs(),
        survived,
        detail,
    };
    let via = match proxy {
        Some(p) => format!(" through proxy {}", p.url),
        None => String::new(),
    };
    let stream = match proxy {
        Some(p) => match connect::open(&p.url, host, port, cfg.timeout).await {
            Ok(t) => t.stream,
            Err(f) => {
                return report(
                    false,
                    format!("long poll not tested: {}", words::proxy_failure(&f.failure)),
                )
            }
        },
        None => {
            let (dests, _) = super::apply_connect_to(cfg, host, port, &addrs).await;
            if dests.is_empty() {
                return report(
                    false,
                    format!("long poll not tested: {host} has no address to connect to"),
                );
            }
            match tcp::connect_any(&dests, cfg.timeout).await {
                Ok((s, _, _)) => s,
                Err(f) => {
                    return report(
                        false,
                        format!("long poll not tested: {}", words::tcp_failure(&f.0, None)),
                    )
                }
            }
        }
    };
    let out = tls::handshake(&cfg.trust, host, stream, cfg.timeout).await;
    let Some(mut stream) = out.stream else {
        return report(
            false,
            format!(
                "long poll not tested: {}",
                out.failure
                    .map(|f| words::tls_failure(&f, host, false))
                    .unwrap_or_else(|| "TLS failed".into())
            ),
        );
    };
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + hold;
    let mut buf = [0u8; 4096];
    let cut = loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => break None,
            Ok(Ok(0)) => break Some("closed".to_string()),
            Ok(Ok(_)) => continue,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break Some("closed".to_string())
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                break Some("reset".to_string())
            }
            Ok(Err(e)) => break Some(format!("broken ({e})")),
        }
    };
    let held = started.elapsed();
    let secs = |d: Duration| format!("{:.1} s", d.as_secs_f64());
    if let Some(how) = cut {
        return report(
            false,
            format!(
                "the idle HTTPS connection to {host}{via} was {how} after {} of the {} hold (by a middlebox or the server); the runner's long poll keeps a connection idle for {} s",
                secs(held),
                secs(hold),
                HOLD.as_secs()
            ),
        );
    }
    let spec = spec.unwrap_or(HttpSpec {
        method: Method::Get,
        path: "/".into(),
        expect_header: None,
    });
    let spec = HttpSpec {
        method: Method::Get,
        ..spec
    };
    let h = http::request(stream, host, port, true, &spec, cfg.timeout).await;
    match h.info.status {
        Some(status) => report(
            true,
            format!(
                "an idle HTTPS connection to {host}{via} survived {} and still answered (GET {} → {status})",
                secs(held),
                spec.path
            ),
        ),
        None => report(
            false,
            format!(
                "the idle HTTPS connection to {host}{via} stayed open {} but no longer answers ({}): a middlebox dropped it silently",
                secs(held),
                h.failure
                    .map(|f| words::http_failure(&f, "GET", &spec.path))
                    .unwrap_or_default()
            ),
        ),
    }
}
