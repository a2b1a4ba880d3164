//! Throughput against the floor (GitHub: at least 70 kbit/s up and down).
//!
//! Honest by construction:
//! - connection set-up and time to first byte are measured apart and never enter the rate;
//! - the rate is sustained: bytes after the first arrival (download) or after the send path's
//!   buffers have filled (upload), over the time they took, never a single burst;
//! - it stops as soon as the verdict is certain (rate clearly above or below the floor after
//!   a minimum sample), at the byte bound, or at the time bound; near the floor it samples up
//!   to the time bound so the verdict is right;
//! - it never moves more than `max_bytes` per direction.
//!
//! It returns what it observed ([`DirectionSample`]): bytes, times, the rate as a number, how
//! sampling stopped and, when something went wrong, a typed [`ThroughputFailure`]. The verdict
//! is `report::throughput`'s; the words are `render`'s.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::connect::{ProxyFailure, TunnelFailure};
use super::http::{exchange_failure, ExchangeFailure, HttpFailure};
use super::lookup::LookupFailure;
use super::outcome::Redirected;
use super::tls::{self, TlsFailure};
use crate::env::proxy::ProxyUrl;
use crate::env::trust::Trust;
use crate::model::{parse_url, HttpUrl, OsError, UrlError};

/// The verdict is taken as certain once the rate is this far from the floor…
const CERTAIN_ABOVE: f64 = 1.3;
const CERTAIN_BELOW: f64 = 0.7;
/// …over at least this much sustained sample.
const MIN_SAMPLE: Duration = Duration::from_millis(1000);
pub const MAX_REDIRECTS: usize = 3;
/// Fewer bytes than this in a finished transfer cannot give a rate.
pub const MIN_MEASURABLE_BYTES: u64 = 16 * 1024;

#[derive(Debug, Clone)]
pub struct Settings {
    /// The floor, used only to stop sampling once the rate is clearly on one side of it.
    pub min_kbps: u32,
    pub max_bytes: u64,
    pub max_time: Duration,
    /// Bound for connecting, TLS and the first byte.
    pub timeout: Duration,
    /// The end of the whole run (`--max-time`) and that limit: no direction goes past it
    /// (issue 22, row 10). `None`: only the bounds above.
    pub until: Option<(Instant, Duration)>,
}

impl Settings {
    /// `deadline`, or the run's end when that comes first.
    fn clamp(&self, deadline: Instant) -> Instant {
        match self.until {
            Some((until, _)) => deadline.min(until),
            None => deadline,
        }
    }
}

/// How long after the run's end a direction still being set up is cut: sampling stops at the
/// run's end by itself (with its rate), so the cut must not race it.
const RUN_END_GRACE: Duration = Duration::from_millis(250);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Download,
    Upload,
}

impl Direction {
    /// The identifier used in reports (`download`, `upload`).
    pub fn id(self) -> &'static str {
        match self {
            Direction::Download => "download",
            Direction::Upload => "upload",
        }
    }
}

/// Why sampling stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The rate was clearly above or below the floor after the minimum sample.
    Certain,
    /// `max_bytes` moved.
    ByteBound,
    /// `max_time` of sample, or the overall deadline.
    TimeBound,
    /// The source sent everything it had.
    TransferEnded,
    /// The connection broke after data had moved.
    ConnectionClosed,
}

/// What one direction's measurement observed. No verdict, no words.
#[derive(Debug, Clone)]
pub struct DirectionSample {
    pub direction: Direction,
    /// The URL measured (after redirects), as shown: user information masked, query hidden
    /// (a signed URL's query holds its token).
    pub url: String,
    /// Bytes moved.
    pub bytes: u64,
    /// The sustained sample the rate is computed over.
    pub sample: Duration,
    /// From connecting to the end (set-up, TTFB and sample).
    pub elapsed: Duration,
    /// Time to first byte (download), excluded from the rate.
    pub ttfb: Option<Duration>,
    /// The proxy the measurement went through.
    pub via_proxy: Option<ProxyUrl>,
    /// Why sampling stopped; `None` when it never started.
    pub stopped: Option<StopReason>,
    /// Sustained rate in kbit/s; `None` when there is none (a failure, or a download that
    /// arrived in one piece, faster than can be timed).
    pub rate: Option<f64>,
    pub failure: Option<ThroughputFailure>,
}

impl DirectionSample {
    fn new(direction: Direction, url: String) -> DirectionSample {
        DirectionSample {
            direction,
            url: crate::model::mask_url(&url),
            bytes: 0,
            sample: Duration::ZERO,
            elapsed: Duration::ZERO,
            ttfb: None,
            via_proxy: None,
            stopped: None,
            rate: None,
            failure: None,
        }
    }

    fn failed(direction: Direction, url: String, f: ThroughputFailure) -> DirectionSample {
        DirectionSample {
            failure: Some(f),
            ..DirectionSample::new(direction, url)
        }
    }
}

/// Why no address was found to connect to.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    #[error(transparent)]
    Lookup(#[from] LookupFailure),
    /// Nothing to dial (a `--connect-to` rule whose host has no address).
    #[error("no address to connect to for {host}:{port}")]
    NoneToConnect {
        host: String,
        port: u16,
        /// The `--connect-to` rule that applied.
        connect_to: Option<Redirected>,
    },
}

/// How a TCP connect to the source failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    #[error("{0:?}")]
    Io(OsError),
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
}

/// Why a direction could not be measured, or gave no rate.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ThroughputFailure {
    #[error("bad URL: {0}")]
    Url(UrlError),
    #[error("address lookup failed: {0}")]
    Address(#[from] AddressError),
    #[error("no address for {host}")]
    NoAddress { host: String },
    #[error("cannot create a socket: {0:?}")]
    Socket(OsError),
    #[error("TCP {addr}: {error}")]
    Connect {
        addr: SocketAddr,
        error: ConnectError,
    },
    /// The proxy could not be reached or refused the tunnel.
    #[error("proxy: {0}")]
    Proxy(ProxyFailure),
    /// The TLS handshake failed.
    #[error("TLS with {host}: {failure}")]
    Tls { host: String, failure: TlsFailure },
    #[error("no response within {0:?}")]
    NoResponse(Duration),
    /// The exchange failed before an answer (always `HttpFailure::Exchange`).
    #[error("request failed: {0}")]
    Request(HttpFailure),
    #[error("redirect {status} without Location")]
    RedirectWithoutLocation { status: u16 },
    #[error("redirect to a bad URL: {0}")]
    BadRedirect(UrlError),
    #[error("more than {max} redirects")]
    TooManyRedirects { max: usize },
    /// Through a proxy, a status the proxy gives on its own behalf (403, 407, 502–504).
    #[error("the proxy {proxy} answered {status}")]
    ProxyRefused { status: u16, proxy: ProxyUrl },
    /// The source answered, but not with the file (404, 500, …).
    #[error("the source answered {status}")]
    SourceStatus { status: u16 },
    #[error("body failed: {0}")]
    Body(Arc<hyper::Error>),
    #[error("no body bytes arrived ({stopped:?})")]
    NoBody { stopped: StopReason },
    /// Data stopped coming after `bytes`, for `waited`.
    #[error("stalled after {bytes} bytes for {waited:?}")]
    Stalled {
        bytes: u64,
        waited: Duration,
        stopped: StopReason,
    },
    /// A complete answer too small to give a rate.
    #[error("only {bytes} bytes, fewer than {needed}")]
    TooFewBytes { bytes: u64, needed: u64 },
    #[error("write failed: {0}")]
    Write(Arc<std::io::Error>),
    /// The server stopped taking the upload early; `answer` is its status line, if it sent one.
    #[error("upload rejected after {after} bytes: {error}")]
    UploadRejected {
        after: u64,
        error: Arc<std::io::Error>,
        answer: Option<String>,
    },
    /// The server's answers cannot confirm what it received: no rate.
    #[error("cannot measure upload against this URL: {why:?}")]
    UploadUnconfirmable { why: Unconfirmable },
    /// No answer to a body of `body` bytes within the time bound (`waited` since its first byte).
    #[error("a {body}-byte body was not confirmed within {waited:?}")]
    UploadUnconfirmed { body: u64, waited: Duration },
    /// The run's time limit (`limit`, `--max-time`) came before this direction had a rate.
    #[error("the run's time limit of {limit:?} came first")]
    RunTimeLimit { limit: Duration },
    /// A body of `body` bytes to `addr` stalled, while the same body on a connection announcing
    /// MSS `works_at_mss` was answered: a path-MTU black hole on the way up (issue 21, item 1).
    #[error("a {body}-byte body stalled at MSS {stalled_at_mss:?}, arrived at MSS {works_at_mss}")]
    PathMtuBlackHole {
        addr: SocketAddr,
        body: u64,
        works_at_mss: u32,
        stalled_at_mss: Option<u32>,
    },
}

/// Something that can give addresses for host:port (the prober's resolution and overrides).
pub trait Dial: Sync {
    fn addresses<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Vec<SocketAddr>, AddressError>> + Send + 'a>,
    >;

    /// The proxy the runner would use for host:port (`tls`: https_proxy, else http_proxy).
    fn proxy(&self, _host: &str, _port: u16, _tls: bool) -> Option<ProxyUrl> {
        None
    }
}

/// An open connection to measure over.
struct Conn {
    io: Box<dyn Io>,
    /// A direct connection's peer and the MSS the kernel uses on it.
    peer: Option<(SocketAddr, Option<u32>)>,
    /// Plain HTTP through an HTTP proxy: requests go in absolute form, with credentials.
    via_http_proxy: Option<ProxyUrl>,
    /// The proxy used, if any.
    proxy: Option<ProxyUrl>,
}

impl Conn {
    /// The request target and any extra header for `t`.
    fn request_target(&self, t: &HttpUrl) -> (String, Option<String>) {
        match &self.via_http_proxy {
            Some(p) => (t.to_string(), p.basic_auth()),
            None => (t.path.clone(), None),
        }
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Open a connection for `t`.
async fn open(
    dial: &dyn Dial,
    trust: &Trust,
    t: &HttpUrl,
    timeout: Duration,
    sndbuf: Option<u32>,
    mss: Option<u32>,
) -> Result<Conn, ThroughputFailure> {
    if let Some(p) = dial.proxy(&t.host, t.port, t.tls) {
        let fail = |f: TunnelFailure| ThroughputFailure::Proxy(f.failure);
        if t.tls {
            let tunnel = super::connect::open(&p, &t.host, t.port, timeout)
                .await
                .map_err(fail)?;
            let io = wrap(trust, t, tunnel.stream, timeout).await?;
            return Ok(Conn {
                io,
                peer: None,
                via_http_proxy: None,
                proxy: Some(p),
            });
        }
        let (stream, _, _) = super::connect::connect_proxy(&p, timeout)
            .await
            .map_err(fail)?;
        return Ok(Conn {
            io: Box::new(stream),
            peer: None,
            via_http_proxy: Some(p.clone()),
            proxy: Some(p),
        });
    }
    let addrs = dial.addresses(&t.host, t.port).await?;
    let mut last = ThroughputFailure::NoAddress {
        host: t.host.clone(),
    };
    for addr in addrs.iter().take(3) {
        let sock = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()
        } else {
            tokio::net::TcpSocket::new_v6()
        };
        let sock = sock.map_err(|e| ThroughputFailure::Socket(OsError::from(&e)))?;
        if let Some(b) = sndbuf {
            let _ = sock.set_send_buffer_size(b);
        }
        if let Some(m) = mss {
            socket2::SockRef::from(&sock)
                .set_tcp_mss(m)
                .map_err(|e| ThroughputFailure::Socket(OsError::from(&e)))?;
        }
        let error = match tokio::time::timeout(timeout, sock.connect(*addr)).await {
            Ok(Ok(tcp)) => {
                let _ = tcp.set_nodelay(true);
                let peer = Some((*addr, socket2::SockRef::from(&tcp).tcp_mss().ok()));
                let io = wrap(trust, t, tcp, timeout).await?;
                return Ok(Conn {
                    io,
                    peer,
                    via_http_proxy: None,
                    proxy: None,
                });
            }
            Ok(Err(e)) => ConnectError::Io(OsError::from(&e)),
            Err(_) => ConnectError::TimedOut(timeout),
        };
        last = ThroughputFailure::Connect { addr: *addr, error };
    }
    Err(last)
}

async fn wrap(
    trust: &Trust,
    t: &HttpUrl,
    tcp: TcpStream,
    timeout: Duration,
) -> Result<Box<dyn Io>, ThroughputFailure> {
    if !t.tls {
        return Ok(Box::new(tcp));
    }
    let out = tls::handshake(trust, &t.host, tcp, timeout).await;
    match (out.stream, out.failure) {
        (Some(s), _) => Ok(Box::new(s)),
        (None, e) => Err(ThroughputFailure::Tls {
            host: t.host.clone(),
            failure: e.unwrap_or(TlsFailure::Other {
                what: crate::probe::tls::TlsOther::NoConnection,
            }),
        }),
    }
}

fn kbps(bytes: u64, d: Duration) -> f64 {
    if d.is_zero() {
        return f64::INFINITY;
    }
    bytes as f64 * 8.0 / 1000.0 / d.as_secs_f64()
}

/// GET `url` once (no redirect followed) over the run's connections (proxy, `--connect-to`, the
/// probes' DNS answers) and read at most `max_bytes` of its body, all within `timeout`: the
/// status and the bytes read. For small pages whose content is a fact (a release's date).
pub async fn get_page(
    dial: &dyn Dial,
    trust: &Trust,
    url: &str,
    timeout: Duration,
    max_bytes: usize,
) -> Result<(u16, Vec<u8>), ThroughputFailure> {
    let target = parse_url(url).map_err(ThroughputFailure::Url)?;
    let fut = async {
        let conn = open(dial, trust, &target, timeout, None, None).await?;
        let (request_target, proxy_auth) = conn.request_target(&target);
        let mut req = Request::get(&request_target);
        if let Some(a) = &proxy_auth {
            req = req.header("proxy-authorization", a);
        }
        let req = req
            .header("host", &target.host)
            .header("user-agent", super::http::USER_AGENT)
            .header("accept-encoding", "identity")
            .body(Empty::<Bytes>::new())
            // Only a header value our own URL gave can fail here.
            .map_err(|_| {
                ThroughputFailure::Request(HttpFailure::Exchange {
                    what: ExchangeFailure::Protocol,
                    error: None,
                })
            })?;
        let (resp, _connection) = super::http::exchange(conn.io, req)
            .await
            .map_err(|e| ThroughputFailure::Request(exchange_failure(&e)))?;
        let status = resp.status().as_u16();
        let mut body = resp.into_body();
        let mut out = Vec::new();
        while out.len() < max_bytes {
            match body.frame().await {
                Some(Ok(f)) => {
                    if let Ok(d) = f.into_data() {
                        out.extend_from_slice(&d);
                    }
                }
                _ => break,
            }
        }
        out.truncate(max_bytes);
        Ok((status, out))
    };
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(ThroughputFailure::NoResponse(timeout)),
    }
}

/// GET the URL (following up to three redirects) with a Range request for at most `max_bytes`.
pub async fn download(dial: &dyn Dial, trust: &Trust, url: &str, s: &Settings) -> DirectionSample {
    let mut via = None;
    let mut r = download_inner(dial, trust, url, s, &mut via).await;
    r.via_proxy = via;
    r
}

async fn download_inner(
    dial: &dyn Dial,
    trust: &Trust,
    url: &str,
    s: &Settings,
    via: &mut Option<ProxyUrl>,
) -> DirectionSample {
    let failed =
        |url: String, f: ThroughputFailure| DirectionSample::failed(Direction::Download, url, f);
    let mut target = match parse_url(url) {
        Ok(t) => t,
        Err(e) => return failed(url.to_string(), ThroughputFailure::Url(e)),
    };
    for _ in 0..=MAX_REDIRECTS {
        let shown = target.to_string();
        let conn = match open(dial, trust, &target, s.timeout, None, None).await {
            Ok(c) => c,
            Err(f) => return failed(shown, f),
        };
        *via = conn.proxy.clone();
        let conn_proxy = conn.proxy.clone();
        let (request_target, proxy_auth) = conn.request_target(&target);
        let asked = Instant::now();
        let resp = async {
            let mut req = Request::get(&request_target);
            if let Some(a) = &proxy_auth {
                req = req.header("proxy-authorization", a);
            }
            let req = req
                .header("host", &target.host)
                .header("user-agent", super::http::USER_AGENT)
                .header("accept-encoding", "identity")
                .header(
                    "range",
                    format!("bytes=0-{}", s.max_bytes.saturating_sub(1)),
                )
                .body(Empty::<Bytes>::new())
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(
                super::http::exchange(conn.io, req).await?,
            )
        };
        // `_connection` serves the body until this iteration ends.
        let (resp, _connection) = match tokio::time::timeout(s.timeout, resp).await {
            Err(_) => return failed(shown, ThroughputFailure::NoResponse(s.timeout)),
            Ok(Err(e)) => return failed(shown, ThroughputFailure::Request(exchange_failure(&*e))),
            Ok(Ok(r)) => r,
        };
        let status = resp.status().as_u16();
        if (300..400).contains(&status) {
            let Some(loc) = resp.headers().get("location").and_then(|v| v.to_str().ok()) else {
                return failed(shown, ThroughputFailure::RedirectWithoutLocation { status });
            };
            target = match loc.starts_with('/') {
                true => HttpUrl {
                    path: loc.to_string(),
                    ..target
                },
                false => match parse_url(loc) {
                    Ok(t) => t,
                    Err(e) => return failed(shown, ThroughputFailure::BadRedirect(e)),
                },
            };
            continue;
        }
        if !(200..300).contains(&status) {
            // Through a proxy, the statuses a proxy gives on its own behalf are the proxy
            // refusing or failing; otherwise the source did not serve the file.
            let f = match conn_proxy {
                Some(proxy) if crate::model::http::proxy_own_status(status) => {
                    ThroughputFailure::ProxyRefused { status, proxy }
                }
                _ => ThroughputFailure::SourceStatus { status },
            };
            return failed(shown, f);
        }
        return sample_body(resp.into_body(), shown, asked, s).await;
    }
    failed(
        url.to_string(),
        ThroughputFailure::TooManyRedirects { max: MAX_REDIRECTS },
    )
}

async fn sample_body(
    mut body: hyper::body::Incoming,
    shown: String,
    asked: Instant,
    s: &Settings,
) -> DirectionSample {
    let floor = s.min_kbps as f64;
    let mut total: u64 = 0;
    let mut first: Option<(Instant, u64)> = None;
    let mut last_at = asked;
    let deadline = s.clamp(asked + s.timeout + s.max_time);
    let stopped = loop {
        let now = Instant::now();
        if now >= deadline {
            last_at = now;
            break StopReason::TimeBound;
        }
        let frame = match tokio::time::timeout(deadline - now, body.frame()).await {
            Err(_) => {
                last_at = Instant::now();
                break StopReason::TimeBound;
            }
            Ok(None) => break StopReason::TransferEnded,
            Ok(Some(Err(e))) => {
                if first.is_none() {
                    return DirectionSample::failed(
                        Direction::Download,
                        shown,
                        ThroughputFailure::Body(Arc::new(e)),
                    );
                }
                break StopReason::ConnectionClosed;
            }
            Ok(Some(Ok(f))) => f,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if data.is_empty() {
            continue;
        }
        let t = Instant::now();
        total += data.len() as u64;
        last_at = t;
        let Some((t0, base)) = first else {
            first = Some((t, total));
            continue;
        };
        let sample = t - t0;
        let rate = kbps(total - base, sample);
        if total >= s.max_bytes {
            break StopReason::ByteBound;
        }
        if sample >= MIN_SAMPLE && (rate >= floor * CERTAIN_ABOVE || rate <= floor * CERTAIN_BELOW)
        {
            break StopReason::Certain;
        }
        if sample >= s.max_time {
            break StopReason::TimeBound;
        }
    };
    let Some((t0, base)) = first else {
        return DirectionSample::failed(
            Direction::Download,
            shown,
            ThroughputFailure::NoBody { stopped },
        );
    };
    let measured = DirectionSample {
        bytes: total,
        ttfb: Some(t0 - asked),
        stopped: Some(stopped),
        ..DirectionSample::new(Direction::Download, shown)
    };
    let sample = last_at - t0;
    let ended = matches!(stopped, StopReason::TransferEnded | StopReason::ByteBound);
    if !ended && (total - base == 0 || sample.is_zero()) {
        // Data stopped coming: a stall is the slowest link of all.
        let waited = Instant::now() - t0;
        return DirectionSample {
            rate: Some(kbps(total - base, waited).min(1e9)),
            sample: waited,
            failure: Some(ThroughputFailure::Stalled {
                bytes: total,
                waited,
                stopped,
            }),
            ..measured
        };
    }
    if total < MIN_MEASURABLE_BYTES && stopped == StopReason::TransferEnded {
        // A small answer (a portal page, a tiny file) says nothing about the link's rate.
        return DirectionSample {
            failure: Some(ThroughputFailure::TooFewBytes {
                bytes: total,
                needed: MIN_MEASURABLE_BYTES,
            }),
            ..measured
        };
    }
    DirectionSample {
        sample,
        // Everything arrived in one piece: the link is faster than can be timed (no rate).
        rate: (total - base != 0 && !sample.is_zero()).then(|| kbps(total - base, sample)),
        ..measured
    }
}

/// Upload: the first body, and how much bigger each next body may be.
pub const FIRST_BODY: u64 = 16 * 1024;
const GROWTH: u64 = 4;
/// Upload: a body whose confirmation takes at least this long gives the rate.
pub const CONFIRM_LONG_ENOUGH: Duration = Duration::from_secs(1);
/// Upload: once a rate is known, the next body is sized to take about this long.
const AIM: Duration = Duration::from_millis(1200);

/// Why a server's answers cannot confirm what it received (no rate can come from them).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unconfirmable {
    /// It refused the upload (a status other than 2xx) after a body of `body` bytes.
    Refused { status: u16, body: u64 },
    /// It answered while `sent` of the `body` bytes were still on their way: it did not read it.
    AnsweredEarly { status: u16, sent: u64, body: u64 },
    /// It answered with `Connection: close`: a server that closes after answering may not have
    /// read the body (nginx, hyper and most frameworks answer early that way).
    Closes { status: u16 },
    /// It answered `status` to a `body`-byte POST, but an empty POST sent after it on the same
    /// connection got no 2xx answer within the timeout (no answer, an error, or the connection
    /// closed): it answered without reading the body (issue 22 row 7).
    NotRead { status: u16, body: u64 },
}

/// POST bodies of growing size and time each from its first byte to the server's answer,
/// less the round trip of an empty request: only the server's answer after reading a body
/// proves the bytes arrived (buffers on the way — the socket, a proxy, a load balancer that
/// buffers requests — accept megabytes that may still crawl behind them).
pub async fn upload(dial: &dyn Dial, trust: &Trust, url: &str, s: &Settings) -> DirectionSample {
    let mut via = None;
    let mut r = upload_inner(dial, trust, url, s, &mut via).await;
    r.via_proxy = via;
    r
}

/// A body of `left` incompressible bytes that notes how much of it hyper has taken.
struct UploadBody {
    left: u64,
    chunk: Bytes,
    taken: Arc<AtomicU64>,
}

impl hyper::body::Body for UploadBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        if self.left == 0 {
            return std::task::Poll::Ready(None);
        }
        let n = self.left.min(self.chunk.len() as u64) as usize;
        self.left -= n as u64;
        self.taken.fetch_add(n as u64, Ordering::SeqCst);
        std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(self.chunk.slice(..n)))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.left)
    }
}

/// One POST and its answer.
struct Answer {
    status: u16,
    /// From handing the request to the connection to the answer's head.
    took: Duration,
    /// Bytes of the body hyper had taken when the answer came.
    taken: u64,
    closes: bool,
}

enum ExchangeError {
    /// No answer before the deadline; `waited` since the first byte.
    NoAnswer { waited: Duration },
    /// The connection failed (reset, closed) before an answer.
    Failed {
        error: Arc<dyn std::error::Error + Send + Sync>,
        taken: u64,
    },
}

type Sender = hyper::client::conn::http1::SendRequest<UploadBody>;

/// The parts of every upload request.
struct UploadTarget {
    request_target: String,
    host: String,
    proxy_auth: Option<String>,
    /// A direct connection's peer and MSS (the clamped attempts need a direct path).
    peer: Option<(SocketAddr, Option<u32>)>,
}

/// The same `size`-byte body on a fresh direct connection announcing `mss`: answered 2xx
/// (after the server read it) by `deadline`? For the clamped attempts beside a stalled body.
async fn clamped_post(
    dial: &dyn Dial,
    trust: &Trust,
    target: &HttpUrl,
    s: &Settings,
    mss: u32,
    size: u64,
    deadline: Instant,
) -> bool {
    let Ok((mut sender, _connection, ut, _)) =
        upload_sender(dial, trust, target, s, Some(mss)).await
    else {
        return false;
    };
    let chunk = Bytes::from(filler(16 * 1024));
    matches!(
        post(&mut sender, &ut, &chunk, size, deadline).await,
        Ok(a) if (200..300).contains(&a.status)
    )
}

async fn post(
    sender: &mut Sender,
    t: &UploadTarget,
    chunk: &Bytes,
    size: u64,
    deadline: Instant,
) -> Result<Answer, ExchangeError> {
    let taken = Arc::new(AtomicU64::new(0));
    let body = UploadBody {
        left: size,
        chunk: chunk.clone(),
        taken: taken.clone(),
    };
    let taken_now = || taken.load(Ordering::SeqCst);
    let mut req = Request::post(&t.request_target)
        .header("host", &t.host)
        .header("user-agent", super::http::USER_AGENT)
        .header("content-type", "application/octet-stream");
    if let Some(a) = &t.proxy_auth {
        req = req.header("proxy-authorization", a);
    }
    let req = match req.body(body) {
        Ok(r) => r,
        Err(e) => {
            return Err(ExchangeError::Failed {
                error: Arc::new(e),
                taken: 0,
            })
        }
    };
    let started = Instant::now();
    let left = deadline.saturating_duration_since(started);
    match tokio::time::timeout(left, sender.send_request(req)).await {
        Err(_) => Err(ExchangeError::NoAnswer {
            waited: started.elapsed(),
        }),
        Ok(Err(e)) => Err(ExchangeError::Failed {
            error: Arc::new(e),
            taken: taken_now(),
        }),
        Ok(Ok(resp)) => {
            let took = started.elapsed();
            let taken = taken_now();
            let closes = resp
                .headers()
                .get_all("connection")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .any(|v| v.trim().eq_ignore_ascii_case("close"));
            let status = resp.status().as_u16();
            // Read the (small) answer body so that the connection can carry the next request.
            let rest = deadline.saturating_duration_since(Instant::now());
            let _ = tokio::time::timeout(rest.min(Duration::from_secs(2)), async {
                let mut b = resp.into_body();
                while let Some(Ok(_)) = b.frame().await {}
            })
            .await;
            Ok(Answer {
                status,
                took,
                taken,
                closes,
            })
        }
    }
}

async fn upload_sender(
    dial: &dyn Dial,
    trust: &Trust,
    target: &HttpUrl,
    s: &Settings,
    mss: Option<u32>,
) -> Result<
    (
        Sender,
        super::http::Connection,
        UploadTarget,
        Option<ProxyUrl>,
    ),
    ThroughputFailure,
> {
    let conn = open(dial, trust, target, s.timeout, None, mss).await?;
    let (request_target, proxy_auth) = conn.request_target(target);
    let peer = conn.peer;
    let proxy = conn.proxy.clone();
    let (sender, connection) = tokio::time::timeout(s.timeout, super::http::connect(conn.io))
        .await
        .map_err(|_| ThroughputFailure::NoResponse(s.timeout))?
        .map_err(|e| ThroughputFailure::Request(exchange_failure(&e)))?;
    Ok((
        sender,
        connection,
        UploadTarget {
            request_target,
            host: target.host.clone(),
            proxy_auth,
            peer,
        },
        proxy,
    ))
}

async fn upload_inner(
    dial: &dyn Dial,
    trust: &Trust,
    url: &str,
    s: &Settings,
    via: &mut Option<ProxyUrl>,
) -> DirectionSample {
    let failed =
        |url: String, f: ThroughputFailure| DirectionSample::failed(Direction::Upload, url, f);
    let target = match parse_url(url) {
        Ok(t) => t,
        Err(e) => return failed(url.to_string(), ThroughputFailure::Url(e)),
    };
    let shown = target.to_string();
    // `_connection` serves the sender (and its successor after a reconnect) until the end.
    let (mut sender, mut _connection, ut, proxy) =
        match upload_sender(dial, trust, &target, s, None).await {
            Ok(x) => x,
            Err(f) => return failed(shown, f),
        };
    *via = proxy;
    let chunk = Bytes::from(filler(16 * 1024));
    let unconfirmable = |why: Unconfirmable| {
        failed(
            shown.clone(),
            ThroughputFailure::UploadUnconfirmable { why },
        )
    };
    // The round trip of an empty request: subtracted from every body's time.
    let rtt = match post(&mut sender, &ut, &chunk, 0, Instant::now() + s.timeout).await {
        Ok(a) if !(200..300).contains(&a.status) => {
            return unconfirmable(Unconfirmable::Refused {
                status: a.status,
                body: 0,
            })
        }
        Ok(a) if a.closes => return unconfirmable(Unconfirmable::Closes { status: a.status }),
        Ok(a) => a.took,
        Err(ExchangeError::NoAnswer { .. }) => {
            return failed(shown, ThroughputFailure::NoResponse(s.timeout))
        }
        Err(ExchangeError::Failed { error, .. }) => {
            return failed(shown, ThroughputFailure::Request(exchange_failure(&*error)))
        }
    };
    let started = Instant::now();
    let deadline = s.clamp(started + s.timeout + s.max_time);
    let mut size = FIRST_BODY.min(s.max_bytes);
    let mut total: u64 = 0;
    // The last confirmed body: its bytes and its time less the round trip.
    let mut confirmed: Option<(u64, Duration)> = None;
    let mut upper_bound: Option<f64> = None;
    let stopped = loop {
        if Instant::now() >= deadline {
            break StopReason::TimeBound;
        }
        if sender.ready().await.is_err() {
            // The server closed an idle connection between bodies: open another.
            match upload_sender(dial, trust, &target, s, None).await {
                Ok((again, conn, _, _)) => {
                    sender = again;
                    _connection = conn;
                }
                Err(_) => break StopReason::ConnectionClosed,
            }
        }
        let sent_at = Instant::now();
        let exchange = post(&mut sender, &ut, &chunk, size, deadline);
        // The first body, on a direct connection: when it is not answered within half the
        // timeout, the same body is tried beside it on connections announcing a clamped MSS.
        // One of them answered while this one still waits is a path-MTU black hole upward.
        let (answer, tries) = match (confirmed.is_none(), ut.peer) {
            (true, Some(_)) => {
                super::path::race_clamped(
                    exchange,
                    |r| matches!(r, Err(ExchangeError::NoAnswer { .. })),
                    (
                        tokio::time::Instant::from_std(sent_at + s.timeout / 2),
                        tokio::time::Instant::from_std(deadline),
                    ),
                    |mss| clamped_post(dial, trust, &target, s, mss, size, deadline),
                )
                .await
            }
            _ => (Some(exchange.await), Vec::new()),
        };
        if let (Some(works_at_mss), Some((addr, stalled_at_mss))) =
            (super::path::works_at(&tries), ut.peer)
        {
            return DirectionSample {
                sample: sent_at.elapsed(),
                failure: Some(ThroughputFailure::PathMtuBlackHole {
                    addr,
                    body: size,
                    works_at_mss,
                    stalled_at_mss,
                }),
                ..DirectionSample::new(Direction::Upload, shown)
            };
        }
        let Some(answer) = answer else {
            // Only a clamped success ends the wait early, and that returned above.
            break StopReason::ConnectionClosed;
        };
        match answer {
            Ok(a) => {
                if !(200..300).contains(&a.status) {
                    return unconfirmable(Unconfirmable::Refused {
                        status: a.status,
                        body: size,
                    });
                }
                if a.taken < size {
                    return unconfirmable(Unconfirmable::AnsweredEarly {
                        status: a.status,
                        sent: a.taken,
                        body: size,
                    });
                }
                if a.closes {
                    return unconfirmable(Unconfirmable::Closes { status: a.status });
                }
                // A 2xx may come as soon as the server has the request head (the body then
                // waits in socket buffers, or is never read): an empty POST on the same
                // connection is answered only once the server has read past the body, so the
                // body's time runs to that answer, less its round trip.
                let follow_deadline = deadline.min(Instant::now() + s.timeout);
                let ready = tokio::time::timeout(
                    follow_deadline.saturating_duration_since(Instant::now()),
                    sender.ready(),
                )
                .await;
                let follow = match ready {
                    Ok(Ok(())) => post(&mut sender, &ut, &chunk, 0, follow_deadline)
                        .await
                        .ok(),
                    _ => None,
                };
                if !follow.is_some_and(|f| (200..300).contains(&f.status) && !f.closes) {
                    return unconfirmable(Unconfirmable::NotRead {
                        status: a.status,
                        body: size,
                    });
                }
                let took = sent_at.elapsed();
                total += size;
                let net = took.saturating_sub(rtt * 2);
                confirmed = Some((size, net));
                if took >= CONFIRM_LONG_ENOUGH {
                    break StopReason::Certain;
                }
                if total >= s.max_bytes {
                    break StopReason::ByteBound;
                }
                let grown = size.saturating_mul(GROWTH);
                let next = if net >= Duration::from_millis(10) {
                    let per_sec = size as f64 / net.as_secs_f64();
                    ((per_sec * AIM.as_secs_f64()) as u64).clamp(size + 1, grown)
                } else {
                    grown
                };
                size = next.min(s.max_bytes - total);
            }
            Err(ExchangeError::NoAnswer { waited }) => {
                // Not confirmed within the time bound: the rate is below what this body needed.
                let bound = kbps(size, waited.saturating_sub(rtt).max(waited / 2));
                if confirmed.is_none() {
                    return DirectionSample {
                        rate: Some(bound),
                        sample: waited,
                        stopped: Some(StopReason::TimeBound),
                        failure: Some(ThroughputFailure::UploadUnconfirmed { body: size, waited }),
                        ..DirectionSample::new(Direction::Upload, shown)
                    };
                }
                upper_bound = Some(bound);
                break StopReason::TimeBound;
            }
            Err(ExchangeError::Failed { error, taken }) => {
                if confirmed.is_none() {
                    return failed(
                        shown,
                        ThroughputFailure::UploadRejected {
                            after: taken,
                            error: Arc::new(std::io::Error::other(error.to_string())),
                            answer: None,
                        },
                    );
                }
                break StopReason::ConnectionClosed;
            }
        }
    };
    let Some((bytes, net)) = confirmed else {
        // The time bound came before the first body was sent.
        return failed(
            shown,
            ThroughputFailure::UploadUnconfirmed {
                body: size,
                waited: started.elapsed(),
            },
        );
    };
    let rate = match ((!net.is_zero()).then(|| kbps(bytes, net)), upper_bound) {
        (Some(r), Some(u)) => Some(r.min(u)),
        (r, _) => r,
    };
    DirectionSample {
        bytes: total,
        sample: net,
        stopped: Some(stopped),
        rate,
        ..DirectionSample::new(Direction::Upload, shown)
    }
}

/// Incompressible bytes (xorshift), so no middlebox can shrink them.
fn filler(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Both directions' observations; `None` where no URL was given.
#[derive(Debug, Clone)]
pub struct Measurement {
    pub download: Option<DirectionSample>,
    pub upload: Option<DirectionSample>,
}

/// Download, then upload (never both at once: they would share the link).
pub async fn measure(
    dial: &dyn Dial,
    trust: &Trust,
    s: &Settings,
    download_url: Option<&str>,
    upload_url: Option<&str>,
) -> Measurement {
    /// Run one direction and note how long it took, set-up included.
    async fn timed(f: impl std::future::Future<Output = DirectionSample>) -> DirectionSample {
        let t = Instant::now();
        let mut r = f.await;
        r.elapsed = t.elapsed();
        r
    }
    /// `f` unless the run's end (and a little grace) comes first.
    async fn within_run(
        s: &Settings,
        direction: Direction,
        url: &str,
        f: impl std::future::Future<Output = DirectionSample>,
    ) -> DirectionSample {
        let Some((until, limit)) = s.until else {
            return f.await;
        };
        let cut = DirectionSample::failed(
            direction,
            url.to_string(),
            ThroughputFailure::RunTimeLimit { limit },
        );
        if Instant::now() >= until {
            return cut;
        }
        let end = tokio::time::Instant::from_std(until + RUN_END_GRACE);
        tokio::time::timeout_at(end, f).await.unwrap_or(cut)
    }
    let download = match download_url {
        Some(u) => {
            let f = timed(download(dial, trust, u, s));
            Some(within_run(s, Direction::Download, u, f).await)
        }
        None => None,
    };
    let upload = match upload_url {
        Some(u) => {
            let f = timed(upload(dial, trust, u, s));
            Some(within_run(s, Direction::Upload, u, f).await)
        }
        None => None,
    };
    Measurement { download, upload }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t =
            parse_url("https://github.com/actions/runner/releases/download/v2/x.tar.gz").unwrap();
        assert_eq!((t.tls, t.host.as_str(), t.port), (true, "github.com", 443));
        assert_eq!(
            t.to_string(),
            "https://github.com/actions/runner/releases/download/v2/x.tar.gz"
        );
        let t = parse_url("http://127.0.0.1:8080/up").unwrap();
        assert_eq!((t.tls, t.port, t.path.as_str()), (false, 8080, "/up"));
        assert!(matches!(
            parse_url("ftp://x.example/"),
            Err(UrlError::Scheme { .. })
        ));
        assert!(matches!(
            parse_url("https://user:pw@x.example/"),
            Err(UrlError::Credentials { .. })
        ));
        assert!(parse_url("not a url").is_err());
    }

    struct NoAddress;
    impl Dial for NoAddress {
        fn addresses<'a>(
            &'a self,
            host: &'a str,
            port: u16,
        ) -> std::pin::Pin<
            Box<
                dyn std::future::Future<Output = Result<Vec<SocketAddr>, AddressError>> + Send + 'a,
            >,
        > {
            Box::pin(async move {
                Err(AddressError::NoneToConnect {
                    host: host.to_string(),
                    port,
                    connect_to: None,
                })
            })
        }
    }

    fn settings() -> Settings {
        Settings {
            min_kbps: 70,
            max_bytes: 1024,
            max_time: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            until: None,
        }
    }

    /// Failures come back typed, with no verdict and no words.
    #[tokio::test]
    async fn failures_are_typed() {
        let trust = Trust::none();
        let s = settings();
        let m = measure(
            &NoAddress,
            &trust,
            &s,
            Some("http://dl.example/x"),
            Some("ftp://up.example/"),
        )
        .await;
        let d = m.download.unwrap();
        assert_eq!(d.direction, Direction::Download);
        assert_eq!(d.url, "http://dl.example/x");
        assert!(matches!(
            d.failure,
            Some(ThroughputFailure::Address(AddressError::NoneToConnect {
                port: 80,
                ..
            }))
        ));
        assert_eq!((d.rate, d.stopped, d.bytes), (None, None, 0));
        let u = m.upload.unwrap();
        assert_eq!(u.url, "ftp://up.example/");
        assert!(matches!(
            u.failure,
            Some(ThroughputFailure::Url(UrlError::Scheme { .. }))
        ));
        let none = measure(&NoAddress, &trust, &s, None, None).await;
        assert!(none.download.is_none() && none.upload.is_none());
    }
}
