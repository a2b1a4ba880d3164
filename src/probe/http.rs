//! HTTP over an already-verified connection: proves that GitHub (not a middlebox) answered.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::model::{HttpSpec, Method};
use crate::report::{HttpInfo, Verdict};

pub const USER_AGENT: &str = concat!("runner-preflight/", env!("CARGO_PKG_VERSION"));

pub struct HttpOutcome {
    pub info: HttpInfo,
    pub verdict: Verdict,
    pub detail: String,
}

/// Statuses an HTTP proxy gives on its own behalf (refusal, authentication, upstream failure):
/// through a proxy, without a fingerprint header, they must never count as the server's answer.
pub fn proxy_refusal(status: u16) -> bool {
    matches!(status, 403 | 407 | 502 | 503 | 504)
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
    let mut info = HttpInfo {
        method: spec.method.as_str().to_string(),
        path: spec.path.clone(),
        status: None,
        expect_header: spec.expect_header.clone(),
        header_present: None,
        server: None,
        date: None,
    };
    let fut = async {
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        });
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
        if let Some(Some(auth)) = &via_proxy {
            req = req.header("proxy-authorization", auth.as_str());
        }
        let req = req
            .body(Full::new(body))
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let resp = sender.send_request(req).await;
        driver.abort();
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(resp?)
    };
    let resp = match tokio::time::timeout(timeout, fut).await {
        Err(_) => {
            return HttpOutcome {
                info,
                verdict: Verdict::Fail,
                detail: format!(
                    "no complete HTTP response to {} {} within {} (the server is silent, or sends too slowly)",
                    spec.method.as_str(),
                    spec.path,
                    super::dns::fmt_duration(timeout)
                ),
            }
        }
        Ok(Err(e)) => {
            // hyper's `is_parse_too_large` needs its server feature; its message says the same.
            let too_large = e
                .downcast_ref::<hyper::Error>()
                .is_some_and(|h| h.is_parse() && h.to_string().contains("too large"));
            let why = if too_large {
                "the answer's headers are too large or too many (not a normal GitHub answer: a proxy or middlebox?)".to_string()
            } else {
                error_chain(&*e)
            };
            return HttpOutcome {
                info,
                verdict: Verdict::Fail,
                detail: format!(
                    "HTTP request {} {} failed: {why}",
                    spec.method.as_str(),
                    spec.path,
                ),
            };
        }
        Ok(Ok(r)) => r,
    };
    let status = resp.status().as_u16();
    info.status = Some(status);
    let header = |n: &str| {
        resp.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    info.server = header("server");
    info.date = header("date");
    let line = format!("{} {} → {status}", spec.method.as_str(), spec.path);
    let (verdict, detail) = match &spec.expect_header {
        Some(h) => {
            let present = resp.headers().contains_key(h.as_str());
            info.header_present = Some(present);
            match (present, status) {
                (true, 500..) => (Verdict::Warn, format!("{line} with {h}: GitHub answered but reports an error")),
                (true, _) => (Verdict::Pass, format!("{line}, {h} present")),
                (false, _) => (
                    Verdict::Fail,
                    format!(
                        "{line} without {h}: answered, but not by GitHub (a proxy or captive portal?){}",
                        info.server.as_ref().map(|s| format!("; Server: {s}")).unwrap_or_default()
                    ),
                ),
            }
        }
        None => match status {
            500.. => (Verdict::Warn, format!("{line}: server error")),
            _ => (Verdict::Pass, line),
        },
    };
    HttpOutcome {
        info,
        verdict,
        detail,
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}
