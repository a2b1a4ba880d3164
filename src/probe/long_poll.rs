//! Long-poll survival: the runner holds an HTTPS request open for 50 s and re-polls. Hold an idle
//! HTTPS connection to the long-poll host for that long, through the same route (direct or the
//! proxy), and observe what happened to it: held, cut (and how), or never started. Whether it
//! survived is the report's call (`network`); the words are `render`'s.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

use super::{connect, http, tcp, tls, ProbeConfig};
use crate::env::proxy::ProxyUrl;
use crate::model::{HttpSpec, Method, Route};
use crate::plan::{Plan, Proto};

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

/// What holding the idle connection showed.
#[derive(Debug, Clone)]
pub struct LongPoll {
    pub host: String,
    pub route: Route,
    /// The proxy the connection went through.
    pub proxy: Option<ProxyUrl>,
    /// How long the idle connection was to be held.
    pub hold: Duration,
    pub outcome: LongPollOutcome,
}

#[derive(Debug, Clone)]
pub enum LongPollOutcome {
    /// The connection could not be opened: nothing was tested.
    NotStarted(LongPollFailure),
    /// Something ended the idle connection after `after`.
    Cut { after: Duration, how: Cut },
    /// Held for `held`, then a request on it was answered.
    Answered {
        held: Duration,
        path: String,
        status: u16,
    },
    /// Held for `held`, still open, but a request on it got no answer.
    Unanswered {
        held: Duration,
        path: String,
        /// Why the request got no answer.
        failure: Option<super::http::HttpFailure>,
    },
}

/// How an idle connection was ended.
#[derive(Debug, Clone)]
pub enum Cut {
    /// Closed (FIN, or a TLS close without notify).
    Closed,
    /// Reset (RST).
    Reset,
    /// Another read error.
    Broken(Arc<std::io::Error>),
}

/// Why the idle connection could not be opened.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LongPollFailure {
    #[error("proxy: {0}")]
    Proxy(super::connect::ProxyFailure),
    #[error("{host} has no address to connect to")]
    NoAddress { host: String },
    #[error("TCP connect to port {port} failed: {failure}")]
    Tcp { port: u16, failure: tcp::TcpFailure },
    /// The TLS handshake failed.
    #[error("TLS: {failure}")]
    Tls { failure: tls::TlsFailure },
}

/// The long poll for a plan: its [`target`], on the addresses `addresses` gives for its name
/// (the ones the probe found). `None` when the plan has no HTTPS name.
pub async fn for_plan(
    cfg: &ProbeConfig,
    plan: &Plan,
    addresses: impl FnOnce(&str) -> Vec<IpAddr>,
    hold: Duration,
) -> Option<LongPoll> {
    let (host, port, spec) = target(plan)?;
    let addrs = addresses(&host);
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
) -> LongPoll {
    let proxy = cfg.proxy.route(host, port, true);
    let route = if proxy.is_some() {
        Route::Proxy
    } else {
        Route::Direct
    };
    let observed = |outcome: LongPollOutcome| LongPoll {
        host: host.to_string(),
        route,
        proxy: proxy.map(|p| p.url.clone()),
        hold,
        outcome,
    };
    let not_started = |f: LongPollFailure| observed(LongPollOutcome::NotStarted(f));
    let stream = match proxy {
        Some(p) => match connect::open(&p.url, host, port, cfg.timeout).await {
            Ok(t) => t.stream,
            Err(f) => return not_started(LongPollFailure::Proxy(f.failure)),
        },
        None => {
            let (dests, _) = super::apply_connect_to(cfg, host, port, &addrs).await;
            if dests.is_empty() {
                return not_started(LongPollFailure::NoAddress {
                    host: host.to_string(),
                });
            }
            match tcp::connect_any(&dests, cfg.timeout).await {
                Ok((s, _, _)) => s,
                Err((failure, _)) => return not_started(LongPollFailure::Tcp { port, failure }),
            }
        }
    };
    let out = tls::handshake(&cfg.trust, host, stream, cfg.timeout).await;
    let Some(mut stream) = out.stream else {
        return not_started(LongPollFailure::Tls {
            failure: out.failure.unwrap_or(tls::TlsFailure::Other {
                detail: "no connection".into(),
            }),
        });
    };
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + hold;
    let mut buf = [0u8; 4096];
    let cut = loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => break None,
            Ok(Ok(0)) => break Some(Cut::Closed),
            Ok(Ok(_)) => continue,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break Some(Cut::Closed),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                break Some(Cut::Reset)
            }
            Ok(Err(e)) => break Some(Cut::Broken(Arc::new(e))),
        }
    };
    let held = started.elapsed();
    if let Some(how) = cut {
        return observed(LongPollOutcome::Cut { after: held, how });
    }
    let spec = spec.unwrap_or(HttpSpec {
        method: Method::Get,
        path: "/".into(),
        expect_header: None,
        first_byte: false,
        timeout_secs: None,
    });
    let spec = HttpSpec {
        method: Method::Get,
        ..spec
    };
    let h = http::request(stream, host, port, true, &spec, cfg.timeout).await;
    observed(match h.info.status {
        Some(status) => LongPollOutcome::Answered {
            held,
            path: spec.path,
            status,
        },
        None => LongPollOutcome::Unanswered {
            held,
            path: spec.path,
            failure: h.failure,
        },
    })
}
