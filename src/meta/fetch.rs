//! Getting a /meta document: a saved file ([`read_file`], capped like every input file), or the
//! network ([`fetch`]): our own TLS code ([`crate::probe::tls`]) and hyper, with the same
//! trust decision (and proxy route) as `check`. Parsing and diffing are in [`crate::meta`].

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};

use crate::env::trust::Trust;
use crate::model::Name;
use crate::probe::connect::ProxyFailure;
use crate::probe::dns::DnsClient;
use crate::probe::lookup::LookupFailure;
use crate::probe::tcp::TcpFailure;
use crate::probe::tls::{self, TlsFailure};

/// An API token for /meta (GHE.com always needs one; GHES may). Its `Debug` never shows it, and
/// no error or report carries it: only the `Authorization` header of the request does.
#[derive(Clone)]
pub struct Token(pub String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

impl Token {
    /// `text` with every occurrence of the token replaced by `***` (for an error that quotes
    /// something a server sent back).
    pub fn mask(&self, text: &str) -> String {
        if self.0.is_empty() {
            return text.to_string();
        }
        text.replace(&self.0, "***")
    }
}

/// Largest /meta document accepted over the network (the same cap as a saved one).
pub const MAX_BODY: usize = crate::textfile::limit::META as usize;

/// Why /meta could not be fetched. Every `url` is shown masked ([`crate::model::mask_url`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    #[error("`{url}` is not a URL")]
    NotAUrl { url: String },
    #[error("`{url}`: only https:// URLs are fetched")]
    NotHttps { url: String },
    #[error("`{url}` has no host")]
    NoHost { url: String },
    /// User information in the URL: `/meta` is public, and credentials would not be sent.
    #[error("`{url}`: credentials in the URL are not supported (the /meta endpoint needs none)")]
    Credentials { url: String },
    #[error("`{url}`: {why}")]
    BadHost { url: String, why: String },
    /// The name did not resolve.
    #[error("{0}")]
    Lookup(LookupFailure),
    #[error("{0}")]
    Tcp(TcpFailure),
    /// The proxy tunnel failed.
    #[error("{0}")]
    Proxy(ProxyFailure),
    /// `failure` is `None` when the handshake gave no stream and no reason.
    #[error("TLS to {host}:{port}")]
    Tls {
        host: String,
        port: u16,
        failure: Option<TlsFailure>,
    },
    #[error("HTTP: {0}")]
    Http(String),
    #[error("HTTP: GET {url}: the body is larger than the limit of {}", crate::textfile::human_bytes(*limit as u64))]
    TooLarge { url: String, limit: usize },
    #[error("HTTP: GET {url} answered {status}")]
    Status {
        url: String,
        status: hyper::StatusCode,
    },
    #[error("GET {url}: the body is not UTF-8")]
    NotUtf8 { url: String },
    #[error("HTTP: no complete answer from {url} within {timeout:?}")]
    Timeout { url: String, timeout: Duration },
}

/// A saved /meta document: at most [`crate::textfile::limit::META`], UTF-8 checked.
pub fn read_file(path: &std::path::Path) -> Result<String, crate::textfile::ReadError> {
    crate::textfile::read_text(path, crate::textfile::limit::META, "a /meta document")
}

/// Host and port of an https URL.
pub fn url_host_port(url: &str) -> Option<(String, u16)> {
    let uri: hyper::Uri = url.parse().ok()?;
    let host = uri
        .host()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    Some((host, uri.port_u16().unwrap_or(443)))
}

/// GET an https URL through our TLS code (through `proxy` with CONNECT when given); the body as
/// text. The whole fetch (name, connection, handshake, answer) is bounded by `timeout`: the
/// error then names that time, and it must be true (issue 22, row 16: a silent server held the
/// answer for twice the timeout after the handshake's own).
pub async fn fetch(
    url: &str,
    trust: &Trust,
    dns: Option<&DnsClient>,
    proxy: Option<&crate::env::proxy::ProxyUrl>,
    timeout: Duration,
    token: Option<&Token>,
) -> Result<String, FetchError> {
    tokio::time::timeout(timeout, fetch_steps(url, trust, dns, proxy, timeout, token))
        .await
        .map_err(|_| FetchError::Timeout {
            url: crate::model::mask_url(url),
            timeout,
        })?
}

/// [`fetch`]'s steps, each also bounded by `timeout` (so a step that fails early says why).
async fn fetch_steps(
    url: &str,
    trust: &Trust,
    dns: Option<&DnsClient>,
    proxy: Option<&crate::env::proxy::ProxyUrl>,
    timeout: Duration,
    token: Option<&Token>,
) -> Result<String, FetchError> {
    let shown = crate::model::mask_url(url);
    let uri: hyper::Uri = url
        .parse()
        .map_err(|_| FetchError::NotAUrl { url: shown.clone() })?;
    if uri.scheme_str() != Some("https") {
        return Err(FetchError::NotHttps { url: shown });
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(FetchError::Credentials { url: shown });
    }
    let host = uri
        .host()
        .ok_or_else(|| FetchError::NoHost { url: shown.clone() })?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = uri.port_u16().unwrap_or(443);
    let tcp = match proxy {
        Some(p) => {
            crate::probe::connect::open(p, &host, port, timeout)
                .await
                .map_err(|f| FetchError::Proxy(f.failure))?
                .stream
        }
        None => direct(&host, port, dns, timeout, &shown).await?,
    };
    let hs = tls::handshake(trust, &host, tcp, timeout).await;
    let stream = match (hs.stream, hs.failure) {
        (Some(s), None) => s,
        (_, failure) => {
            return Err(FetchError::Tls {
                host,
                port,
                failure,
            })
        }
    };
    fetch_over(stream, &uri, &host, port, token).await
}

async fn direct(
    host: &str,
    port: u16,
    dns: Option<&DnsClient>,
    timeout: Duration,
    url: &str,
) -> Result<tokio::net::TcpStream, FetchError> {
    if host.parse::<std::net::IpAddr>().is_err() {
        Name::new(host).map_err(|why| FetchError::BadHost {
            url: url.to_string(),
            why,
        })?;
    }
    let addrs = crate::probe::lookup_addrs(dns, host, port, timeout)
        .await
        .map_err(FetchError::Lookup)?;
    let (tcp, _addr, _ms) = crate::probe::tcp::connect_any(&addrs, timeout)
        .await
        .map_err(|(f, _)| FetchError::Tcp(f))?;
    Ok(tcp)
}

/// The GET over an established TLS stream (the caller bounds the whole fetch).
async fn fetch_over(
    stream: tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    uri: &hyper::Uri,
    host: &str,
    port: u16,
    token: Option<&Token>,
) -> Result<String, FetchError> {
    let url = crate::model::mask_url(&uri.to_string());
    let host = host.to_string();
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let authority = if port == 443 {
        host.clone()
    } else {
        format!("{host}:{port}")
    };
    let http = |e: hyper::Error| FetchError::Http(e.to_string());
    let fut = async {
        let req = hyper::Request::builder()
            .method("GET")
            .uri(path.as_str())
            .header("host", authority)
            .header("user-agent", crate::probe::http::USER_AGENT)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .header("connection", "close");
        let req = match token {
            Some(t) => req.header("authorization", format!("Bearer {}", t.0)),
            None => req,
        };
        let req = req
            .body(Empty::<Bytes>::new())
            .map_err(|e| FetchError::Http(e.to_string()))?;
        let (resp, connection) = crate::probe::http::exchange(stream, req)
            .await
            .map_err(http)?;
        let status = resp.status();
        let body = Limited::new(resp.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    FetchError::TooLarge {
                        url: url.clone(),
                        limit: MAX_BODY,
                    }
                } else {
                    FetchError::Http(format!("reading the body: {e}"))
                }
            })?
            .to_bytes();
        drop(connection);
        if !status.is_success() {
            return Err(FetchError::Status {
                url: url.clone(),
                status,
            });
        }
        String::from_utf8(body.to_vec()).map_err(|_| FetchError::NotUtf8 { url: url.clone() })
    };
    fut.await
}
