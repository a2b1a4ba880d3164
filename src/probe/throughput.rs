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

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::tls;
use crate::env::trust::Trust;
use crate::model::{parse_url, HttpUrl};
use crate::report::{DirectionResult, ThroughputReport, Verdict};

/// A typical action archive the runner downloads, bytes (issue #2470: 100 s HttpClient timeout).
pub const ARCHIVE_BYTES: u64 = 2 * 1000 * 1000;
/// The runner's HTTP timeout, seconds.
pub const RUNNER_HTTP_TIMEOUT_S: f64 = 100.0;
/// Below this many kbit/s a 2 MB archive does not arrive within 100 s.
pub const ARCHIVE_KBPS: f64 = ARCHIVE_BYTES as f64 * 8.0 / 1000.0 / RUNNER_HTTP_TIMEOUT_S;

/// The verdict is taken as certain once the rate is this far from the floor…
const CERTAIN_ABOVE: f64 = 1.3;
const CERTAIN_BELOW: f64 = 0.7;
/// …over at least this much sustained sample.
const MIN_SAMPLE: Duration = Duration::from_millis(1000);
const MAX_REDIRECTS: usize = 3;
/// Fewer bytes than this in a finished transfer cannot give a rate.
const MIN_MEASURABLE_BYTES: u64 = 16 * 1024;
/// Upload: completed window steps before the verdict may be taken as certain.
const MIN_UPLOAD_STEPS: usize = 6;

#[derive(Debug, Clone)]
pub struct Settings {
    pub min_kbps: u32,
    pub max_bytes: u64,
    pub max_time: Duration,
    /// Bound for connecting, TLS and the first byte.
    pub timeout: Duration,
}

/// Something that can give addresses for host:port (the prober's resolution and overrides).
pub trait Dial: Sync {
    fn addresses<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Vec<SocketAddr>, String>> + Send + 'a>,
    >;

    /// The proxy the runner would use for host:port (`tls`: https_proxy, else http_proxy).
    fn proxy(&self, _host: &str, _port: u16, _tls: bool) -> Option<crate::proxy::ProxyUrl> {
        None
    }
}

/// An open connection to measure over.
struct Conn {
    io: Box<dyn Io>,
    /// Plain HTTP through an HTTP proxy: requests go in absolute form, with credentials.
    via_http_proxy: Option<crate::proxy::ProxyUrl>,
    /// The proxy used (masked when shown), if any.
    proxy: Option<String>,
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

async fn open(
    dial: &dyn Dial,
    trust: &Trust,
    t: &HttpUrl,
    timeout: Duration,
    sndbuf: Option<u32>,
) -> Result<(Conn, Duration), String> {
    let started = Instant::now();
    if let Some(p) = dial.proxy(&t.host, t.port, t.tls) {
        let shown = p.to_string();
        if t.tls {
            let tunnel = super::connect::open(&p, &t.host, t.port, timeout)
                .await
                .map_err(|f| crate::render::words::proxy_failure(&f.failure))?;
            let io = wrap(trust, t, tunnel.stream, timeout).await?;
            return Ok((
                Conn {
                    io,
                    via_http_proxy: None,
                    proxy: Some(shown),
                },
                started.elapsed(),
            ));
        }
        let (stream, _, _) = super::connect::connect_proxy(&p, timeout)
            .await
            .map_err(|f| crate::render::words::proxy_failure(&f.failure))?;
        return Ok((
            Conn {
                io: Box::new(stream),
                via_http_proxy: Some(p),
                proxy: Some(shown),
            },
            started.elapsed(),
        ));
    }
    let addrs = dial.addresses(&t.host, t.port).await?;
    let mut last = format!("no address for {}", t.host);
    for addr in addrs.iter().take(3) {
        let sock = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()
        } else {
            tokio::net::TcpSocket::new_v6()
        };
        let sock = sock.map_err(|e| e.to_string())?;
        if let Some(b) = sndbuf {
            let _ = sock.set_send_buffer_size(b);
        }
        match tokio::time::timeout(timeout, sock.connect(*addr)).await {
            Ok(Ok(tcp)) => {
                let _ = tcp.set_nodelay(true);
                return wrap(trust, t, tcp, timeout).await.map(|io| {
                    (
                        Conn {
                            io,
                            via_http_proxy: None,
                            proxy: None,
                        },
                        started.elapsed(),
                    )
                });
            }
            Ok(Err(e)) => last = format!("TCP {addr}: {e}"),
            Err(_) => {
                last = format!(
                    "TCP {addr}: no answer within {}",
                    super::dns::fmt_duration(timeout)
                )
            }
        }
    }
    Err(last)
}

async fn wrap(
    trust: &Trust,
    t: &HttpUrl,
    tcp: TcpStream,
    timeout: Duration,
) -> Result<Box<dyn Io>, String> {
    if !t.tls {
        return Ok(Box::new(tcp));
    }
    let out = tls::handshake(trust, &t.host, tcp, timeout).await;
    match (out.stream, out.failure) {
        (Some(s), _) => Ok(Box::new(s)),
        (None, e) => Err(e
            .map(|f| crate::render::words::tls_failure(&f, &t.host, false))
            .unwrap_or_else(|| "TLS handshake failed".into())),
    }
}

fn kbps(bytes: u64, d: Duration) -> f64 {
    if d.is_zero() {
        return f64::INFINITY;
    }
    bytes as f64 * 8.0 / 1000.0 / d.as_secs_f64()
}

/// What a direction's sampling produced.
struct Sampled<'a> {
    rate: f64,
    bytes: u64,
    sample: Duration,
    ttfb: Option<Duration>,
    stopped: &'a str,
}

fn judge(dir: &str, url: String, s: &Settings, m: Sampled<'_>) -> DirectionResult {
    let Sampled {
        rate,
        bytes,
        sample,
        ttfb,
        stopped,
    } = m;
    let floor = s.min_kbps as f64;
    let (mut verdict, mut detail) = if rate >= floor {
        (
            Verdict::Pass,
            format!("{dir} {rate:.0} kbit/s ≥ {floor:.0} kbit/s floor"),
        )
    } else {
        (
            Verdict::Fail,
            format!("{dir} {rate:.0} kbit/s is below the {floor:.0} kbit/s floor GitHub requires"),
        )
    };
    let mut archive_warning = None;
    if dir == "download" && rate < ARCHIVE_KBPS {
        let secs = ARCHIVE_BYTES as f64 * 8.0 / 1000.0 / rate.max(0.001);
        let w = format!(
            "at {rate:.0} kbit/s a 2 MB action archive takes {secs:.0} s, longer than the runner's {RUNNER_HTTP_TIMEOUT_S:.0} s HTTP timeout: downloads of larger actions will fail"
        );
        if verdict == Verdict::Pass {
            verdict = Verdict::Warn;
            detail = format!("{detail}; {w}");
        }
        archive_warning = Some(w);
    }
    DirectionResult {
        direction: dir.to_string(),
        url: Some(url),
        verdict,
        kbps: Some((rate * 10.0).round() / 10.0),
        bytes,
        sample_ms: sample.as_millis() as u64,
        elapsed_ms: 0,
        via_proxy: None,
        ttfb_ms: ttfb.map(|d| d.as_millis() as u64),
        stopped: stopped.to_string(),
        detail,
        archive_warning,
    }
}

fn failed(dir: &str, url: String, detail: String) -> DirectionResult {
    DirectionResult {
        direction: dir.to_string(),
        url: Some(url),
        verdict: Verdict::Fail,
        kbps: None,
        bytes: 0,
        sample_ms: 0,
        elapsed_ms: 0,
        via_proxy: None,
        ttfb_ms: None,
        stopped: "error".into(),
        detail: format!("{dir} not measured: {detail}"),
        archive_warning: None,
    }
}

/// GET the URL (following up to three redirects) with a Range request for at most `max_bytes`.
pub async fn download(dial: &dyn Dial, trust: &Trust, url: &str, s: &Settings) -> DirectionResult {
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
    via: &mut Option<String>,
) -> DirectionResult {
    let mut target = match parse_url(url) {
        Ok(t) => t,
        Err(e) => return failed("download", url.to_string(), e),
    };
    for _ in 0..=MAX_REDIRECTS {
        let shown = target.to_string();
        let (conn, _setup) = match open(dial, trust, &target, s.timeout, None).await {
            Ok(x) => x,
            Err(e) => return failed("download", shown, e),
        };
        *via = conn.proxy.clone();
        let conn_proxy = conn.proxy.clone();
        let (request_target, proxy_auth) = conn.request_target(&target);
        let asked = Instant::now();
        let resp = async {
            let (mut sender, driver) =
                hyper::client::conn::http1::handshake(TokioIo::new(conn.io)).await?;
            tokio::spawn(async move {
                let _ = driver.await;
            });
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
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(sender.send_request(req).await?)
        };
        let resp = match tokio::time::timeout(s.timeout, resp).await {
            Err(_) => {
                return failed(
                    "download",
                    shown,
                    format!("no response within {}", super::dns::fmt_duration(s.timeout)),
                )
            }
            Ok(Err(e)) => return failed("download", shown, format!("request failed: {e}")),
            Ok(Ok(r)) => r,
        };
        let status = resp.status().as_u16();
        if (300..400).contains(&status) {
            let Some(loc) = resp.headers().get("location").and_then(|v| v.to_str().ok()) else {
                return failed(
                    "download",
                    shown,
                    format!("redirect {status} without Location"),
                );
            };
            target = match loc.starts_with('/') {
                true => HttpUrl {
                    path: loc.to_string(),
                    ..target
                },
                false => match parse_url(loc) {
                    Ok(t) => t,
                    Err(e) => return failed("download", shown, format!("redirect to {e}")),
                },
            };
            continue;
        }
        if !(200..300).contains(&status) {
            // The network worked; the source did not serve the file. No rate, but no proof of a
            // slow link either: a warning, not a failure. Through a proxy, these statuses are
            // the proxy refusing or failing: a failure.
            let proxy_refusal = conn_proxy.is_some() && crate::report::proxy_refusal(status);
            return DirectionResult {
                verdict: if proxy_refusal {
                    Verdict::Fail
                } else {
                    Verdict::Warn
                },
                ..failed(
                    "download",
                    shown,
                    if proxy_refusal {
                        format!(
                            "{status} through the proxy {}: the proxy refuses or cannot reach the download source",
                            conn_proxy.as_deref().unwrap_or("")
                        )
                    } else {
                        format!(
                            "the download source answered {status} (the network path works, but there is nothing to measure; pass --throughput-url)"
                        )
                    },
                )
            };
        }
        return sample_body(resp.into_body(), shown, asked, s).await;
    }
    failed(
        "download",
        url.to_string(),
        format!("more than {MAX_REDIRECTS} redirects"),
    )
}

async fn sample_body(
    mut body: hyper::body::Incoming,
    shown: String,
    asked: Instant,
    s: &Settings,
) -> DirectionResult {
    let floor = s.min_kbps as f64;
    let mut total: u64 = 0;
    let mut first: Option<(Instant, u64)> = None;
    let mut last_at = asked;
    let deadline = asked + s.timeout + s.max_time;
    let stopped = loop {
        let now = Instant::now();
        if now >= deadline {
            last_at = now;
            break "time limit";
        }
        let frame = match tokio::time::timeout(deadline - now, body.frame()).await {
            Err(_) => {
                last_at = Instant::now();
                break "time limit";
            }
            Ok(None) => break "transfer ended",
            Ok(Some(Err(e))) => {
                if first.is_none() {
                    return failed("download", shown, format!("body failed: {e}"));
                }
                break "connection closed";
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
            break "byte limit";
        }
        if sample >= MIN_SAMPLE && (rate >= floor * CERTAIN_ABOVE || rate <= floor * CERTAIN_BELOW)
        {
            break "verdict certain";
        }
        if sample >= s.max_time {
            break "time limit";
        }
    };
    let Some((t0, base)) = first else {
        return failed(
            "download",
            shown,
            format!("no body bytes arrived ({stopped})"),
        );
    };
    let sample = last_at - t0;
    let ended = matches!(stopped, "transfer ended" | "byte limit");
    if !ended && (total - base == 0 || sample.is_zero()) {
        // Data stopped coming: a stall is the slowest link of all.
        let waited = Instant::now() - t0;
        return DirectionResult {
            verdict: Verdict::Fail,
            kbps: Some(kbps(total - base, waited).min(1e9)),
            bytes: total,
            sample_ms: waited.as_millis() as u64,
            ttfb_ms: Some((t0 - asked).as_millis() as u64),
            stopped: stopped.to_string(),
            detail: format!(
                "download stalled: {total} bytes, then nothing for {} ({stopped})",
                super::dns::fmt_duration(waited)
            ),
            ..failed("download", shown, String::new())
        };
    }
    if total < MIN_MEASURABLE_BYTES && stopped == "transfer ended" {
        // A small answer (a portal page, a tiny file) says nothing about the link's rate.
        return DirectionResult {
            verdict: Verdict::Warn,
            bytes: total,
            ttfb_ms: Some((t0 - asked).as_millis() as u64),
            stopped: stopped.to_string(),
            detail: format!(
                "download: the source sent only {total} bytes, too few to measure a rate (at least {MIN_MEASURABLE_BYTES} are needed; pass --throughput-url with a larger file)"
            ),
            ..failed("download", shown, String::new())
        };
    }
    if total - base == 0 || sample.is_zero() {
        // Everything arrived in one piece: the link is faster than we can time.
        let r = judge(
            "download",
            shown,
            s,
            Sampled {
                rate: 1e9,
                bytes: total,
                sample,
                ttfb: Some(t0 - asked),
                stopped,
            },
        );
        return DirectionResult {
            kbps: None,
            detail: format!("download: all {total} bytes arrived at once (faster than can be timed; above the floor)"),
            verdict: Verdict::Pass,
            ..r
        };
    }
    judge(
        "download",
        shown,
        s,
        Sampled {
            rate: kbps(total - base, sample),
            bytes: total,
            sample,
            ttfb: Some(t0 - asked),
            stopped,
        },
    )
}

/// POST a body of at most `max_bytes` and time how fast the far end takes it.
pub async fn upload(dial: &dyn Dial, trust: &Trust, url: &str, s: &Settings) -> DirectionResult {
    let mut via = None;
    let mut r = upload_inner(dial, trust, url, s, &mut via).await;
    if via.is_some() && r.verdict == Verdict::Pass {
        // A proxy's upstream socket can hold megabytes: what it accepted quickly may still
        // crawl over the uplink behind it. Only a rate below the floor is conclusive.
        r.verdict = Verdict::Warn;
        r.detail = format!(
            "{}; measured up to the proxy only: a proxy can buffer megabytes, so the uplink behind it is not confirmed",
            r.detail
        );
    }
    r.via_proxy = via;
    r
}

async fn upload_inner(
    dial: &dyn Dial,
    trust: &Trust,
    url: &str,
    s: &Settings,
    via: &mut Option<String>,
) -> DirectionResult {
    let target = match parse_url(url) {
        Ok(t) => t,
        Err(e) => return failed("upload", url.to_string(), e),
    };
    let shown = target.to_string();
    // A small send buffer so that "written" is close to "sent".
    let (conn, _setup) = match open(dial, trust, &target, s.timeout, Some(4 * 1024)).await {
        Ok(x) => x,
        Err(e) => return failed("upload", shown, e),
    };
    *via = conn.proxy.clone();
    let (request_target, proxy_auth) = conn.request_target(&target);
    let mut io = conn.io;
    let head = format!(
        "POST {request_target} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\n{}Content-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        target.host,
        super::http::USER_AGENT,
        proxy_auth.map(|a| format!("Proxy-Authorization: {a}\r\n")).unwrap_or_default(),
        s.max_bytes
    );
    if let Err(e) = io.write_all(head.as_bytes()).await {
        return failed("upload", shown, format!("write failed: {e}"));
    }
    let floor = s.min_kbps as f64;
    let chunk = filler(1024);
    let started = Instant::now();
    let deadline = started + s.timeout + s.max_time;
    let mut total: u64 = 0;
    // Steady state starts when a write first has to wait: the buffers on the way are full. From
    // then on only writes that had to wait are timed: each one completes when the far end has
    // taken what was written before it, so (bytes before it) / (time) is the far end's rate,
    // free of the send and receive windows' bursts.
    let mut steady: Option<(Instant, u64)> = None;
    let mut last_jump: Option<(Instant, u64)> = None;
    let mut jumps = 0usize;
    let mut last_at;
    let stopped = loop {
        let now = Instant::now();
        if now >= deadline {
            last_at = now;
            break "time limit";
        }
        let n = chunk.len().min((s.max_bytes - total) as usize);
        let before = Instant::now();
        let w = tokio::time::timeout(deadline - now, async {
            io.write_all(&chunk[..n]).await?;
            io.flush().await
        })
        .await;
        let after = Instant::now();
        match w {
            Err(_) => {
                last_at = after;
                break "time limit";
            }
            Ok(Err(e)) => {
                if steady.is_none() && total < 64 * 1024 {
                    let answer = read_status(&mut io, s.timeout).await;
                    return failed("upload", shown, format!("the server stopped taking the upload after {total} bytes ({e}){answer}"));
                }
                last_at = after;
                break "connection closed";
            }
            Ok(Ok(())) => {}
        }
        let waited = after - before >= Duration::from_millis(5);
        let before_write = total;
        total += n as u64;
        last_at = after;
        if waited {
            match steady {
                None => steady = Some((after, before_write)),
                Some(_) => {
                    last_jump = Some((after, before_write));
                    jumps += 1;
                }
            }
        }
        if total >= s.max_bytes {
            break "byte limit";
        }
        if let (Some((t0, base)), Some((t, b))) = (steady, last_jump) {
            let sample = t - t0;
            let rate = kbps(b - base, sample);
            // The far end's window opens in steps: wait for several of them.
            if sample >= MIN_SAMPLE
                && jumps >= MIN_UPLOAD_STEPS
                && (rate >= floor * CERTAIN_ABOVE || rate <= floor * CERTAIN_BELOW)
            {
                break "verdict certain";
            }
        }
        if steady.is_some_and(|(t0, _)| after - t0 >= s.max_time) {
            break "time limit";
        }
    };
    let (rate, sample) = match (steady, last_jump) {
        (Some((t0, base)), Some((t, b))) if t > t0 && b > base => (kbps(b - base, t - t0), t - t0),
        // Never had to wait: everything went as fast as we could write it.
        _ => (kbps(total, last_at - started), last_at - started),
    };
    judge(
        "upload",
        shown,
        s,
        Sampled {
            rate,
            bytes: total,
            sample,
            ttfb: None,
            stopped,
        },
    )
}

async fn read_status(io: &mut Box<dyn Io>, timeout: Duration) -> String {
    let mut buf = [0u8; 256];
    match tokio::time::timeout(timeout, io.read(&mut buf)).await {
        Ok(Ok(n)) if n > 0 => {
            let text = String::from_utf8_lossy(&buf[..n]);
            let line = text.lines().next().unwrap_or("").trim().to_string();
            format!("; it answered `{}`", line.escape_debug())
        }
        _ => String::new(),
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

fn not_measured(dir: &str, why: &str) -> DirectionResult {
    DirectionResult {
        url: None,
        verdict: Verdict::Skip,
        stopped: "not measured".into(),
        ..failed(dir, String::new(), why.to_string())
    }
}

/// Download, then upload (never both at once: they would share the link).
pub async fn measure(
    dial: &dyn Dial,
    trust: &Trust,
    s: &Settings,
    gating: bool,
    download_url: Option<&str>,
    upload_url: Option<&str>,
    note: Option<String>,
) -> ThroughputReport {
    /// Run one direction and note how long it took, set-up included.
    async fn timed(f: impl std::future::Future<Output = DirectionResult>) -> DirectionResult {
        let t = Instant::now();
        let mut r = f.await;
        r.elapsed_ms = t.elapsed().as_millis() as u64;
        r
    }
    let down = match download_url {
        Some(u) => timed(download(dial, trust, u, s)).await,
        None => not_measured(
            "download",
            "the profile names no download source; pass --throughput-url URL",
        ),
    };
    let up = match upload_url {
        Some(u) => timed(upload(dial, trust, u, s)).await,
        None => not_measured(
            "upload",
            "the profile names no upload sink that takes data without a token (a figure would be made up); pass --upload-url URL of an endpoint that accepts a POST",
        ),
    };
    let directions = vec![down, up];
    let verdict = directions
        .iter()
        .map(|d| d.verdict)
        .filter(|v| *v != Verdict::Skip)
        .max()
        .unwrap_or(Verdict::Skip);
    ThroughputReport {
        verdict,
        gating,
        min_kbps: s.min_kbps,
        max_bytes: s.max_bytes,
        directions,
        notes: note.into_iter().collect(),
    }
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
        assert!(parse_url("ftp://x.example/").is_err());
        assert!(parse_url("https://user:pw@x.example/").is_err());
        assert!(parse_url("not a url").is_err());
    }

    #[test]
    fn archive_threshold_is_160_kbps() {
        assert!((ARCHIVE_KBPS - 160.0).abs() < 1e-9);
    }

    #[test]
    fn judging() {
        let s = Settings {
            min_kbps: 70,
            max_bytes: 1,
            max_time: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
        };
        let verdict = |dir: &str, rate: f64| {
            let m = Sampled {
                rate,
                bytes: 1,
                sample: Duration::from_secs(1),
                ttfb: None,
                stopped: "x",
            };
            judge(dir, "u".into(), &s, m).verdict
        };
        assert_eq!(verdict("download", 60.0), Verdict::Fail);
        assert_eq!(verdict("download", 100.0), Verdict::Warn);
        assert_eq!(verdict("download", 500.0), Verdict::Pass);
        assert_eq!(verdict("upload", 100.0), Verdict::Pass);
        assert_eq!(verdict("upload", 60.0), Verdict::Fail);
    }
}
