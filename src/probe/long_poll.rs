//! Long-poll survival: the runner holds an HTTPS request open for 50 s and re-polls. Hold an idle
//! HTTPS connection to the long-poll host for that long, through the same route (direct or the
//! proxy), and observe what happened to it: held, cut (and how), or never started. Whether it
//! survived is the report's call (`network`); the words are `render`'s.
//!
//! With `--idle-hold` the connection is *primed* (issue 21, item 3): one request is answered on
//! it first, as the runner's own connections are, then it stays idle for the hold and the same
//! connection is reused. NAT gateways and proxies forget flows that sat idle (AWS NAT 350 s,
//! Azure 4 min, many proxies 120 s): a FIN or reset while idle, or a reuse that is never answered
//! (the flow was dropped silently), is a cut with the time it was seen.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
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
    /// One request was answered on the connection before the hold (`--idle-hold`).
    pub primed: bool,
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
    /// Still open, but the request reusing it got no answer within the timeout: a middlebox
    /// forgot the flow without telling either end (primed checks; `after` is the idle time).
    Silent { timeout: Duration },
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
    /// The request that primes the connection (`--idle-hold`) got no answer.
    #[error("the first request got no answer: {failure}")]
    FirstRequest { failure: http::HttpFailure },
}

/// The long poll for a plan: its [`target`], on the addresses `addresses` gives for its name
/// (the ones the probe found). `None` when the plan has no HTTPS name.
pub async fn for_plan(
    cfg: &ProbeConfig,
    plan: &Plan,
    addresses: impl FnOnce(&str) -> Vec<IpAddr>,
    hold: Duration,
    primed: bool,
) -> Option<LongPoll> {
    let (host, port, spec) = target(plan)?;
    let addrs = addresses(&host);
    Some(run(cfg, &host, port, spec, addrs, hold, primed).await)
}

/// Hold an idle TLS connection to `host:port` for `hold`, then check it still answers.
/// `addrs` are the name's addresses from the probe (used on the direct route). `primed`: answer
/// one request on the connection before the hold, and reuse it after (`--idle-hold`).
pub async fn run(
    cfg: &ProbeConfig,
    host: &str,
    port: u16,
    spec: Option<HttpSpec>,
    addrs: Vec<IpAddr>,
    hold: Duration,
    primed: bool,
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
        primed,
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
                what: tls::TlsOther::NoConnection,
            }),
        });
    };
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
    if primed {
        return observed(idle_reuse(stream, host, port, &spec.path, hold, cfg.timeout).await);
    }
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

/// One GET of `path` on the kept-alive connection, its body read (capped) so that the connection
/// can carry the next request.
async fn get(
    sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    host: &str,
    port: u16,
    path: &str,
) -> Result<u16, hyper::Error> {
    let authority = if port == 443 {
        host.to_string()
    } else {
        format!("{host}:{port}")
    };
    sender.ready().await?;
    let req = hyper::Request::get(path)
        .header("host", authority)
        .header("user-agent", http::USER_AGENT)
        .header("accept", "*/*")
        .body(Empty::new());
    let Ok(req) = req else {
        // The path comes from a validated profile; a request that cannot be built is not sent.
        return Ok(0);
    };
    let resp = sender.send_request(req).await?;
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    let mut read = 0usize;
    while let Some(frame) = body.frame().await {
        if let Some(d) = frame?.data_ref() {
            read += d.len();
        }
        // A long body is not the broker's answer; the connection is not worth keeping then.
        if read > BODY_LIMIT {
            break;
        }
    }
    Ok(status)
}

/// A first answer's body is read up to this much before the hold.
const BODY_LIMIT: usize = 1 << 20;

/// How the end of a connection reads: a FIN (or a TLS close without notify) is `Closed`, an
/// RST `Reset`, anything else `Broken`.
fn how_ended(result: Result<(), hyper::Error>) -> Cut {
    let e = match result {
        Ok(()) => return Cut::Closed,
        Err(e) => e,
    };
    if e.is_incomplete_message() || e.is_closed() {
        return Cut::Closed;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::UnexpectedEof => Cut::Closed,
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted => {
                    Cut::Reset
                }
                kind => Cut::Broken(Arc::new(std::io::Error::from(kind))),
            };
        }
        source = s.source();
    }
    Cut::Broken(Arc::new(std::io::Error::other(e.to_string())))
}

/// The primed check: answer one request, stay idle for `hold` watching the connection, then
/// reuse it. Ends within `timeout` + `hold` + `timeout`.
async fn idle_reuse<S>(
    stream: S,
    host: &str,
    port: u16,
    path: &str,
    hold: Duration,
    timeout: Duration,
) -> LongPollOutcome
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let first = |failure| LongPollOutcome::NotStarted(LongPollFailure::FirstRequest { failure });
    let exchange_failed = |e: hyper::Error| first(http::exchange_failure(&e));
    let (mut sender, conn) = match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
    {
        Ok(x) => x,
        Err(e) => return exchange_failed(e),
    };
    // The connection task reports how (and so when) the connection ended.
    let (ended_tx, mut ended) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let _ = ended_tx.send(conn.await);
    });
    let _abort = AbortOnDrop(task);
    match tokio::time::timeout(timeout, get(&mut sender, host, port, path)).await {
        Err(_) => return first(http::HttpFailure::Timeout { after: timeout }),
        Ok(Err(e)) => return exchange_failed(e),
        Ok(Ok(_)) => {}
    }
    let started = Instant::now();
    if let Ok(ended) = tokio::time::timeout(hold, &mut ended).await {
        let how = ended.map(how_ended).unwrap_or(Cut::Closed);
        return LongPollOutcome::Cut {
            after: started.elapsed(),
            how,
        };
    }
    let held = started.elapsed();
    match tokio::time::timeout(timeout, get(&mut sender, host, port, path)).await {
        Err(_) => LongPollOutcome::Cut {
            after: held,
            how: Cut::Silent { timeout },
        },
        Ok(Ok(status)) => LongPollOutcome::Answered {
            held,
            path: path.to_string(),
            status,
        },
        Ok(Err(e)) => {
            // Ended at reuse: the connection task knows how, the request's error otherwise.
            let how = match tokio::time::timeout(Duration::from_millis(200), &mut ended).await {
                Ok(Ok(r)) => how_ended(r),
                _ => how_ended(Err(e)),
            };
            LongPollOutcome::Cut {
                after: started.elapsed(),
                how,
            }
        }
    }
}

/// Stops the connection task when the check ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
