//! HTTP CONNECT through a proxy, classified: unreachable, 403, 407, 502/503, timeout, silence.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::dns::fmt_duration;
use super::tcp;
use crate::model::Family;
use crate::proxy::ProxyUrl;

/// Longest proxy response head we read.
const MAX_HEAD: usize = 16 * 1024;

/// An open tunnel: bytes written now reach `host:port`.
pub struct Tunnel {
    pub stream: TcpStream,
    pub proxy_addr: SocketAddr,
    pub ms: u64,
}

#[derive(Debug)]
pub struct TunnelFailure {
    pub proxy_addr: Option<SocketAddr>,
    pub detail: String,
    pub ms: u64,
}

/// The proxy's addresses (an IP, or the system resolver's answer for its name).
pub async fn proxy_addrs(proxy: &ProxyUrl, timeout: Duration) -> Result<Vec<SocketAddr>, String> {
    super::lookup_addrs(None, &proxy.host, proxy.port, timeout)
        .await
        .map_err(|e| format!("the proxy's name does not resolve ({e})"))
}

/// Connect to the proxy (TCP), bounded by `timeout`; the failure names the proxy (masked).
pub async fn connect_proxy(
    proxy: &ProxyUrl,
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr, u64), TunnelFailure> {
    let started = Instant::now();
    let addrs = proxy_addrs(proxy, timeout)
        .await
        .map_err(|detail| TunnelFailure {
            proxy_addr: None,
            detail: format!("proxy {proxy}: {detail}"),
            ms: started.elapsed().as_millis() as u64,
        })?;
    tcp::connect_any(&addrs, timeout).await.map_err(|f| {
        let fam = f.addr.map(|a| Family::of(&a.ip())).unwrap_or(Family::Ipv4);
        let what = match f.kind {
            tcp::FailKind::Refused => {
                "refuses connections (is it running? is the port right?)".to_string()
            }
            _ => f.describe(proxy.port, fam),
        };
        TunnelFailure {
            proxy_addr: f.addr,
            detail: format!("proxy {proxy} is unreachable: {what}"),
            ms: f.ms,
        }
    })
}

/// `CONNECT host:port` through `proxy` (Basic credentials from its URL). Each step is bounded
/// by `timeout`; the proxy's answer is read byte by byte up to its blank line, so nothing of
/// the tunnel is consumed.
pub async fn open(
    proxy: &ProxyUrl,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<Tunnel, TunnelFailure> {
    let started = Instant::now();
    let (mut stream, addr, _) = connect_proxy(proxy, timeout).await?;
    let fail = |detail: String| TunnelFailure {
        proxy_addr: Some(addr),
        detail,
        ms: started.elapsed().as_millis() as u64,
    };
    let target = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut req = format!(
        "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nUser-Agent: {}\r\n",
        super::http::USER_AGENT
    );
    if let Some(auth) = proxy.basic_auth() {
        req.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
    }
    req.push_str("\r\n");
    let exchange = async {
        stream.write_all(req.as_bytes()).await?;
        let mut head = Vec::with_capacity(256);
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if head.len() >= MAX_HEAD {
                return Ok(Err(format!(
                    "proxy {proxy} answered CONNECT {target} with more than {MAX_HEAD} bytes of headers"
                )));
            }
            if stream.read(&mut byte).await? == 0 {
                return Ok(Err(if head.is_empty() {
                    format!(
                        "proxy {proxy} closed the connection without answering CONNECT {target}"
                    )
                } else {
                    format!("proxy {proxy} closed the connection in the middle of its answer to CONNECT {target}")
                }));
            }
            head.push(byte[0]);
        }
        Ok::<_, std::io::Error>(Ok(head))
    };
    let head = match tokio::time::timeout(timeout, exchange).await {
        Err(_) => {
            return Err(fail(format!(
            "proxy {proxy} accepted the connection but did not answer CONNECT {target} within {}",
            fmt_duration(timeout)
        )))
        }
        Ok(Err(e)) => {
            return Err(fail(format!(
                "proxy {proxy}: connection failed during CONNECT {target}: {e}"
            )))
        }
        Ok(Ok(Err(detail))) => return Err(fail(detail)),
        Ok(Ok(Ok(head))) => head,
    };
    // Whatever the proxy says goes into reports and terminals: no control characters (escape
    // sequences), and no more than a line's worth per field.
    let text: String = String::from_utf8_lossy(&head)
        .chars()
        .map(|c| {
            if c.is_control() && c != '\r' && c != '\n' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().and_then(|c| c.parse::<u16>().ok());
    let reason: String = parts
        .next()
        .unwrap_or_default()
        .trim()
        .chars()
        .take(120)
        .collect();
    let header = |name: &str| {
        text.split("\r\n")
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().chars().take(200).collect::<String>())
    };
    let Some(code) = code.filter(|_| version.starts_with("HTTP/")) else {
        return Err(fail(format!(
            "proxy {proxy} did not answer CONNECT {target} with HTTP (first line `{}`): is this an HTTP proxy?",
            status_line.chars().take(80).collect::<String>()
        )));
    };
    let status = if reason.is_empty() {
        code.to_string()
    } else {
        format!("{code} {reason}")
    };
    let detail = match code {
        200..=299 => {
            return Ok(Tunnel {
                stream,
                proxy_addr: addr,
                ms: started.elapsed().as_millis() as u64,
            })
        }
        407 => {
            let challenge = header("proxy-authenticate")
                .map(|c| format!(" (Proxy-Authenticate: {c})"))
                .unwrap_or_default();
            if proxy.has_credentials() {
                format!(
                    "proxy {proxy} rejected the credentials in the proxy URL for CONNECT {target}: {status}{challenge}"
                )
            } else {
                format!(
                    "proxy {proxy} requires authentication for CONNECT {target}: {status}{challenge}; put user:password@ in the proxy URL"
                )
            }
        }
        403 => format!(
            "proxy {proxy} refused CONNECT {target}: {status} (its policy blocks this name or port; ask for it to be allowed)"
        ),
        502..=504 => format!(
            "proxy {proxy} could not reach {target}: {status} (the proxy's own DNS or egress fails for this name)"
        ),
        _ => format!("proxy {proxy} answered CONNECT {target} with {status}"),
    };
    Err(fail(detail))
}
