//! HTTP over an already-verified connection: proves that GitHub (not a middlebox) answered.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

use serde::{Deserialize, Serialize};

use super::outcome::HttpInfo;
use crate::model::{HttpSpec, Method, OsError};

pub const USER_AGENT: &str = concat!("runner-preflight/", env!("CARGO_PKG_VERSION"));

/// Why no HTTP answer came (the words are in `render::words`). An answer of any status is not
/// a failure here: the report judges statuses and fingerprints.
/// How an HTTP exchange failed before its answer's head arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExchangeFailure {
    /// The server closed the connection before a complete answer.
    Closed,
    /// A socket error (reset, broken pipe, …): see `error`.
    Io,
    /// The request's body could not be sent.
    BodyNotSent,
    /// The exchange was dropped before it ended.
    Canceled,
    /// Anything else in the HTTP/1.1 exchange.
    #[default]
    #[serde(other)]
    Protocol,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum HttpFailure {
    /// No complete response head within the timeout (silent, or too slow).
    #[error("no complete response within {after:?}")]
    Timeout {
        #[serde(with = "crate::model::duration_ms")]
        after: Duration,
    },
    /// The response head is too large or has too many headers (a middlebox?).
    #[error("response head too large")]
    HeadTooLarge,
    /// The answer is not valid HTTP (hyper's parse error: a bad status line or header).
    #[error("response not valid HTTP")]
    Malformed,
    /// The exchange failed before a response head arrived.
    #[error("request failed: {what:?}")]
    Exchange {
        #[serde(default)]
        what: ExchangeFailure,
        /// The socket's error, when one lay under it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<OsError>,
    },
    /// No answer within the timeout where a connection to the same address announcing a
    /// smaller MSS got one: full-size segments do not arrive.
    #[error("answer stalled at MSS {stalled_at_mss:?}, arrived at MSS {works_at_mss}")]
    PathMtuBlackHole {
        addr: std::net::SocketAddr,
        works_at_mss: u32,
        stalled_at_mss: Option<u32>,
        #[serde(with = "crate::model::duration_ms")]
        after: Duration,
    },
}

/// The connection task of one exchange; the connection stops when this is dropped (after the
/// body was read, or as soon as only the head was needed).
pub struct Connection(tokio::task::JoinHandle<()>);

impl Drop for Connection {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The one HTTP/1.1 client of the tool (probes, throughput, /meta): `req` over an already
/// connected (and, for https, already verified) stream. Returns the response head with its body
/// still to read, and the connection that serves it. Callers bound it with their own timeout.
pub async fn exchange<S, B>(
    stream: S,
    req: Request<B>,
) -> Result<(hyper::Response<hyper::body::Incoming>, Connection), hyper::Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (mut sender, connection) = connect(stream).await?;
    let resp = sender.send_request(req).await?;
    Ok((resp, connection))
}

/// The HTTP/1.1 handshake over `stream`, for several requests on one connection (the upload
/// measurement's growing bodies): the sender, and the connection that serves it.
pub async fn connect<S, B>(
    stream: S,
) -> Result<(hyper::client::conn::http1::SendRequest<B>, Connection), hyper::Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let connection = Connection(tokio::spawn(async move {
        let _ = conn.await;
    }));
    Ok((sender, connection))
}

pub struct HttpOutcome {
    pub info: HttpInfo,
    pub failure: Option<HttpFailure>,
}

/// Send one request and judge the answer.
pub async fn request<S>(
    stream: S,
    host: &str,
    port: u16,
    tls: bool,
    spec: &HttpSpec,
    timeout: Duration,
) -> HttpOutcome
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    send(stream, host, port, tls, spec, timeout, None).await
}

/// Send one plain-HTTP request to a proxy (absolute-form target, optional
/// `Proxy-Authorization`) and judge the answer.
pub async fn request_via_proxy<S>(
    stream: S,
    host: &str,
    port: u16,
    spec: &HttpSpec,
    proxy_authorization: Option<String>,
    timeout: Duration,
) -> HttpOutcome
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    send(
        stream,
        host,
        port,
        false,
        spec,
        timeout,
        Some(proxy_authorization),
    )
    .await
}

async fn send<S>(
    stream: S,
    host: &str,
    port: u16,
    tls: bool,
    spec: &HttpSpec,
    timeout: Duration,
    via_proxy: Option<Option<String>>,
) -> HttpOutcome
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let timeout = spec.bound(timeout);
    let mut info = HttpInfo {
        method: spec.method.as_str().to_string(),
        // A profile's path may carry a token in its query: shown hidden, requested whole.
        path: crate::model::secret::hide_query(&spec.path),
        status: None,
        expect_header: spec.expect_header.clone(),
        header_present: None,
        server: None,
        date: None,
        location: None,
        follow: None,
        total_size: None,
    };
    let fut = async {
        let default_port = if tls { 443 } else { 80 };
        let authority = if port == default_port {
            host.to_string()
        } else {
            format!("{host}:{port}")
        };
        let body = if spec.method == Method::Post {
            Bytes::from_static(b"{}")
        } else {
            Bytes::new()
        };
        let uri = match &via_proxy {
            Some(_) => format!("http://{authority}{}", spec.path),
            None => spec.path.clone(),
        };
        let mut req = Request::builder()
            .method(spec.method.as_str())
            .uri(uri)
            .header("host", authority)
            .header("user-agent", USER_AGENT)
            .header("accept", "*/*")
            .header("connection", "close");
        if spec.method == Method::Post {
            req = req.header("content-type", "application/json");
        }
        if spec.first_byte {
            req = req.header("range", "bytes=0-0");
        }
        if let Some(Some(auth)) = &via_proxy {
            req = req.header("proxy-authorization", auth.as_str());
        }
        let req = req
            .body(Full::new(body))
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        // Only the head is needed: the connection ends with this exchange.
        let (resp, _connection) = exchange(stream, req).await?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(resp)
    };
    let resp = match tokio::time::timeout(timeout, fut).await {
        Err(_) => {
            return HttpOutcome {
                info,
                failure: Some(HttpFailure::Timeout { after: timeout }),
            }
        }
        Ok(Err(e)) => {
            let failure = match e.downcast_ref::<hyper::Error>() {
                Some(h) if h.is_parse_too_large() => HttpFailure::HeadTooLarge,
                Some(h) if h.is_parse() => HttpFailure::Malformed,
                _ => exchange_failure(&*e),
            };
            return HttpOutcome {
                info,
                failure: Some(failure),
            };
        }
        Ok(Ok(r)) => r,
    };
    info.status = Some(resp.status().as_u16());
    let header = |n: &str| {
        resp.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(|s| crate::model::text::printable(&s.chars().take(200).collect::<String>()))
    };
    info.server = header("server");
    info.date = header("date");
    if resp.status().is_redirection() {
        // Kept whole (up to 8 KiB) to be followed; shown masked.
        info.follow = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .filter(|l| l.len() <= 8192)
            .map(str::to_string);
        info.location = info.follow.as_deref().map(|l| {
            let masked = crate::model::mask_url(l);
            crate::model::text::printable(&masked.chars().take(200).collect::<String>())
        });
    }
    info.total_size = total_size(
        resp.status().as_u16(),
        header("content-range").as_deref(),
        header("content-length").as_deref(),
    );
    if let Some(h) = &spec.expect_header {
        info.header_present = Some(resp.headers().contains_key(h.as_str()));
    }
    HttpOutcome {
        info,
        failure: None,
    }
}

/// The whole size of the resource: `Content-Range: bytes 0-0/TOTAL` of a 206, else the
/// `Content-Length` of a 200 (a HEAD or a server that ignored the range).
pub fn total_size(
    status: u16,
    content_range: Option<&str>,
    content_length: Option<&str>,
) -> Option<u64> {
    match status {
        206 => content_range?
            .trim()
            .strip_prefix("bytes")?
            .rsplit_once('/')?
            .1
            .trim()
            .parse()
            .ok(),
        200 => content_length?.trim().parse().ok(),
        _ => None,
    }
}

/// How an exchange failed, from hyper's error (and the socket error under it).
pub(super) fn exchange_failure(e: &(dyn std::error::Error + 'static)) -> HttpFailure {
    let error = OsError::in_chain(e);
    let what = match e.downcast_ref::<hyper::Error>() {
        Some(h) if h.is_incomplete_message() || h.is_closed() => ExchangeFailure::Closed,
        Some(h) if h.is_canceled() => ExchangeFailure::Canceled,
        Some(h) if h.is_body_write_aborted() => ExchangeFailure::BodyNotSent,
        _ if error.is_some() => ExchangeFailure::Io,
        _ => ExchangeFailure::Protocol,
    };
    HttpFailure::Exchange { what, error }
}
