//! HTTP CONNECT through a proxy, classified: unreachable, 403, 407, 502/503, timeout, silence.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::lookup::LookupFailure;
use super::tcp::{self, TcpFailure};
use crate::env::proxy::ProxyUrl;
use crate::model::OsError;

/// Longest proxy response head we read.
pub const MAX_HEAD: usize = 16 * 1024;

/// An open tunnel: bytes written now reach `host:port`.
pub struct Tunnel {
    pub stream: TcpStream,
    pub proxy_addr: SocketAddr,
    pub ms: u64,
}

/// A proxy's answer line: the status code and its reason phrase (control characters replaced,
/// at most 120 characters: it goes into reports and terminals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyStatus {
    pub code: u16,
    pub reason: String,
}

/// Why a proxy did not give a connection (the words are in `render::words`). `proxy` is shown
/// masked wherever it is printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProxyFailure {
    #[error("proxy {proxy}: its name does not resolve")]
    NameDoesNotResolve {
        proxy: ProxyUrl,
        lookup: LookupFailure,
    },
    #[error("proxy {proxy} is unreachable")]
    Unreachable { proxy: ProxyUrl, tcp: TcpFailure },
    #[error("proxy {proxy} did not answer CONNECT {target} within {after:?}")]
    NoAnswer {
        proxy: ProxyUrl,
        target: String,
        #[serde(with = "crate::model::duration_ms")]
        after: Duration,
    },
    #[error("proxy {proxy} closed the connection during CONNECT {target}")]
    Closed {
        proxy: ProxyUrl,
        target: String,
        /// It had started to answer.
        mid_answer: bool,
    },
    #[error("proxy {proxy} sent more than {limit} bytes of headers")]
    HeadTooLarge {
        proxy: ProxyUrl,
        target: String,
        limit: usize,
    },
    #[error("proxy {proxy}: connection failed during CONNECT {target}: {error:?}")]
    Io {
        proxy: ProxyUrl,
        target: String,
        #[serde(default)]
        error: OsError,
    },
    /// The first line was not HTTP (`first_line`: its first 80 characters, sanitised).
    #[error("proxy {proxy} did not answer with HTTP")]
    NotHttp {
        proxy: ProxyUrl,
        target: String,
        first_line: String,
    },
    /// 407 and the URL carries no credentials.
    #[error("proxy {proxy} requires authentication")]
    AuthRequired {
        proxy: ProxyUrl,
        target: String,
        status: ProxyStatus,
        challenge: Option<String>,
    },
    /// 407 although the URL carries credentials.
    #[error("proxy {proxy} rejected the credentials")]
    AuthRejected {
        proxy: ProxyUrl,
        target: String,
        status: ProxyStatus,
        challenge: Option<String>,
    },
    /// 403: its policy blocks this name or port.
    #[error("proxy {proxy} refused CONNECT {target}")]
    Forbidden {
        proxy: ProxyUrl,
        target: String,
        status: ProxyStatus,
    },
    /// 502-504: the proxy's own DNS or egress fails for this name.
    #[error("proxy {proxy} could not reach {target}")]
    Upstream {
        proxy: ProxyUrl,
        target: String,
        status: ProxyStatus,
    },
    #[error("proxy {proxy} answered CONNECT {target} with {}", status.code)]
    OtherStatus {
        proxy: ProxyUrl,
        target: String,
        status: ProxyStatus,
    },
}

impl ProxyFailure {
    pub fn proxy(&self) -> &ProxyUrl {
        match self {
            ProxyFailure::NameDoesNotResolve { proxy, .. }
            | ProxyFailure::Unreachable { proxy, .. }
            | ProxyFailure::NoAnswer { proxy, .. }
            | ProxyFailure::Closed { proxy, .. }
            | ProxyFailure::HeadTooLarge { proxy, .. }
            | ProxyFailure::Io { proxy, .. }
            | ProxyFailure::NotHttp { proxy, .. }
            | ProxyFailure::AuthRequired { proxy, .. }
            | ProxyFailure::AuthRejected { proxy, .. }
            | ProxyFailure::Forbidden { proxy, .. }
            | ProxyFailure::Upstream { proxy, .. }
            | ProxyFailure::OtherStatus { proxy, .. } => proxy,
        }
    }

    /// The proxy's own HTTP status, when it answered with one.
    pub fn status(&self) -> Option<&ProxyStatus> {
        match self {
            ProxyFailure::AuthRequired { status, .. }
            | ProxyFailure::AuthRejected { status, .. }
            | ProxyFailure::Forbidden { status, .. }
            | ProxyFailure::Upstream { status, .. }
            | ProxyFailure::OtherStatus { status, .. } => Some(status),
            _ => None,
        }
    }
}

/// A failure before any proxy address was reached, or at it, with how long it took.
#[derive(Debug)]
pub struct TunnelFailure {
    pub proxy_addr: Option<SocketAddr>,
    pub failure: ProxyFailure,
    pub ms: u64,
}

/// Connect to the proxy (TCP), bounded by `timeout`; the failure names the proxy (masked).
pub async fn connect_proxy(
    proxy: &ProxyUrl,
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr, u64), TunnelFailure> {
    let started = Instant::now();
    let addrs = super::lookup::lookup_addrs(None, &proxy.host, proxy.port, timeout)
        .await
        .map_err(|lookup| TunnelFailure {
            proxy_addr: None,
            failure: ProxyFailure::NameDoesNotResolve {
                proxy: proxy.clone(),
                lookup,
            },
            ms: started.elapsed().as_millis() as u64,
        })?;
    tcp::connect_any(&addrs, timeout)
        .await
        .map_err(|(tcp, ms)| TunnelFailure {
            proxy_addr: tcp.addr(),
            failure: ProxyFailure::Unreachable {
                proxy: proxy.clone(),
                tcp,
            },
            ms,
        })
}

/// `host:port` as a CONNECT target (IPv6 in brackets).
pub fn connect_target(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Replace control characters (escape sequences) of a proxy's text and cap its length.
fn sanitise(s: &str, max: usize) -> String {
    s.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .take(max)
        .collect()
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
    let target = connect_target(host, port);
    let fail = |failure: ProxyFailure| TunnelFailure {
        proxy_addr: Some(addr),
        failure,
        ms: started.elapsed().as_millis() as u64,
    };
    let mut req = format!(
        "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nUser-Agent: {}\r\n",
        super::http::USER_AGENT
    );
    if let Some(auth) = proxy.basic_auth() {
        req.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
    }
    req.push_str("\r\n");
    enum Head {
        Complete(Vec<u8>),
        TooLarge,
        Closed { mid_answer: bool },
    }
    let exchange = async {
        stream.write_all(req.as_bytes()).await?;
        let mut head = Vec::with_capacity(256);
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if head.len() >= MAX_HEAD {
                return Ok(Head::TooLarge);
            }
            if stream.read(&mut byte).await? == 0 {
                return Ok(Head::Closed {
                    mid_answer: !head.is_empty(),
                });
            }
            head.push(byte[0]);
        }
        Ok::<_, std::io::Error>(Head::Complete(head))
    };
    let head = match tokio::time::timeout(timeout, exchange).await {
        Err(_) => {
            return Err(fail(ProxyFailure::NoAnswer {
                proxy: proxy.clone(),
                target,
                after: timeout,
            }))
        }
        Ok(Err(e)) => {
            return Err(fail(ProxyFailure::Io {
                proxy: proxy.clone(),
                target,
                error: OsError::from(&e),
            }))
        }
        Ok(Ok(Head::TooLarge)) => {
            return Err(fail(ProxyFailure::HeadTooLarge {
                proxy: proxy.clone(),
                target,
                limit: MAX_HEAD,
            }))
        }
        Ok(Ok(Head::Closed { mid_answer })) => {
            return Err(fail(ProxyFailure::Closed {
                proxy: proxy.clone(),
                target,
                mid_answer,
            }))
        }
        Ok(Ok(Head::Complete(head))) => head,
    };
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().and_then(|c| c.parse::<u16>().ok());
    let reason = sanitise(parts.next().unwrap_or_default().trim(), 120);
    let Some(code) = code.filter(|_| version.starts_with("HTTP/")) else {
        return Err(fail(ProxyFailure::NotHttp {
            proxy: proxy.clone(),
            target,
            first_line: sanitise(status_line, 80),
        }));
    };
    let status = ProxyStatus { code, reason };
    let proxy = proxy.clone();
    let failure = match code {
        200..=299 => {
            return Ok(Tunnel {
                stream,
                proxy_addr: addr,
                ms: started.elapsed().as_millis() as u64,
            })
        }
        407 => {
            // Every challenge the proxy offers (one header per scheme is usual): which schemes
            // are offered decides whether the runner, Basic only, can authenticate at all.
            let all: Vec<String> = text
                .split("\r\n")
                .skip(1)
                .filter_map(|l| l.split_once(':'))
                .filter(|(k, _)| k.trim().eq_ignore_ascii_case("proxy-authenticate"))
                .map(|(_, v)| v.trim().to_string())
                .collect();
            let challenge = (!all.is_empty()).then(|| sanitise(&all.join(", "), 200));
            if proxy.has_credentials() {
                ProxyFailure::AuthRejected {
                    proxy,
                    target,
                    status,
                    challenge,
                }
            } else {
                ProxyFailure::AuthRequired {
                    proxy,
                    target,
                    status,
                    challenge,
                }
            }
        }
        403 => ProxyFailure::Forbidden {
            proxy,
            target,
            status,
        },
        502..=504 => ProxyFailure::Upstream {
            proxy,
            target,
            status,
        },
        _ => ProxyFailure::OtherStatus {
            proxy,
            target,
            status,
        },
    };
    Err(fail(failure))
}
