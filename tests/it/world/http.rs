//! TLS and plain HTTP/1.1 test servers on loopback: a [`TestServer`] serves [`Routes`] of
//! canned [`HttpResponse`]s over HTTPS or HTTP, or misbehaves at the TCP/TLS level (accepts and
//! stays silent, answers a fatal alert), and records what it saw (connections, requests, SNI).

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use super::pki::CertKey;

/// Upper bound on the lifetime of any single accepted TCP connection.
const CONNECTION_BOUND: Duration = Duration::from_secs(60);
/// Upper bound on an HTTP request head.
const MAX_HEAD: usize = 64 * 1024;
/// Upper bound on an HTTP request body (read and discarded).
const MAX_BODY: usize = 16 * 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with this status, no headers and an empty body.
    pub fn status(code: u16) -> Self {
        Self {
            status: code,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// `200 OK` with one header and an empty body.
    pub fn ok_with(header: &str, value: &str) -> Self {
        Self::status(200).header(header, value)
    }

    /// Adds a header (Content-Length and Connection are always set by the server).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
}

/// Exact path → response, with a default for everything else. A path
/// registered without a query string also matches requests that carry one.
#[derive(Clone, Debug)]
pub struct Routes {
    map: HashMap<String, HttpResponse>,
    default: HttpResponse,
    /// Paths whose answer waits until another server has accepted a connection.
    holds: HashMap<String, watch::Receiver<usize>>,
}

impl Routes {
    pub fn new(default: HttpResponse) -> Self {
        Self {
            map: HashMap::new(),
            default,
            holds: HashMap::new(),
        }
    }

    pub fn route(mut self, path: &str, r: HttpResponse) -> Self {
        self.map.insert(path.to_string(), r);
        self
    }

    /// A server playing GitHub for a whole built-in profile: GitHub's fingerprint headers on
    /// every path, and github.com's `releases/latest` answered with a 302 to the tag of the
    /// latest runner release, as GitHub answers (profiles with `runner_release: latest` ask it;
    /// the package URL built from the tag then answers 200).
    pub fn github() -> Self {
        Self::new(
            HttpResponse::ok_with("X-GitHub-Request-Id", "ABCD:1").header("x-vss-e2eid", "e2e-1"),
        )
        .route(
            "/actions/runner/releases/latest",
            HttpResponse::status(302)
                .header("X-GitHub-Request-Id", "ABCD:2")
                .header(
                    "Location",
                    "https://github.com/actions/runner/releases/tag/v2.336.0",
                ),
        )
    }

    /// The answer on `path` waits until the server `accepted` watches ([`TestServer::accepted`])
    /// has accepted a connection (the client's own timeout bounds the wait): a test of what a
    /// client does before it has an answer.
    pub fn held_until_accepted(mut self, path: &str, accepted: watch::Receiver<usize>) -> Self {
        self.holds.insert(path.to_string(), accepted);
        self
    }

    fn hold(&self, target: &str) -> Option<watch::Receiver<usize>> {
        let without_query = target.split('?').next().unwrap_or(target);
        self.holds
            .get(target)
            .or_else(|| self.holds.get(without_query))
            .cloned()
    }

    fn lookup(&self, target: &str) -> &HttpResponse {
        let without_query = target.split('?').next().unwrap_or(target);
        self.map
            .get(target)
            .or_else(|| self.map.get(without_query))
            .unwrap_or(&self.default)
    }
}

/// The header GitHub puts on every answer: what tells GitHub from a middlebox.
pub const FINGERPRINT: &str = "X-GitHub-Request-Id";

/// Every path answers `200 OK` with the GitHub fingerprint header ([`FINGERPRINT`]).
pub fn github_routes() -> Routes {
    Routes::new(HttpResponse::ok_with(FINGERPRINT, "ABCD:1234"))
}

pub enum Mode {
    /// TLS (1.2 and 1.3, any SNI, ALPN `http/1.1` when offered) then HTTP/1.1.
    Https { cert: CertKey, routes: Routes },
    /// Plain HTTP/1.1.
    Http { routes: Routes },
    /// Accept, read and discard, never write; closes when the server is dropped.
    SilentAfterAccept,
    /// Read the ClientHello, answer a fatal `handshake_failure` alert, close.
    TlsAlert,
    /// Read the ClientHello, answer a fatal `protocol_version` alert, close
    /// (what a TLS 1.0/1.1-only server says to a TLS 1.2+ client).
    ProtocolVersionAlert,
}

/// `(method, path, headers)`; header names are lower-cased.
pub type RequestTuple = (String, String, Vec<(String, String)>);

/// A request as seen by a [`TestServer`]. Header names are lower-cased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

struct ServerState {
    connections: AtomicUsize,
    /// The number of connections accepted, for whoever waits for the first.
    accepted: watch::Sender<usize>,
    /// The number of request heads read, for whoever waits for the first.
    requested: watch::Sender<usize>,
    requests: Mutex<Vec<SeenRequest>>,
    server_names: Mutex<Vec<Option<String>>>,
}

impl Default for ServerState {
    fn default() -> Self {
        ServerState {
            connections: AtomicUsize::new(0),
            accepted: watch::channel(0).0,
            requested: watch::channel(0).0,
            requests: Mutex::default(),
            server_names: Mutex::default(),
        }
    }
}

enum Serving {
    Https {
        with_alpn: Arc<rustls::ServerConfig>,
        without_alpn: Arc<rustls::ServerConfig>,
        routes: Routes,
    },
    Http {
        routes: Routes,
    },
    Silent,
    Alert(u8),
}

/// A running TCP server on `127.0.0.1`; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    state: Arc<ServerState>,
    task: JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, aborting every connection.
        self.task.abort();
    }
}

pub fn server_config(cert: &CertKey, alpn: bool) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(cert.chain.clone(), cert.key.clone_key())
        .expect("server certificate and key");
    if alpn {
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
    }
    Arc::new(config)
}

impl TestServer {
    pub async fn start(mode: Mode) -> TestServer {
        TestServer::start_on(mode, listen_loopback()).await
    }

    /// A server on a listener of the test's making (one bound in a network namespace).
    pub async fn start_on(mode: Mode, listener: TcpListener) -> TestServer {
        let serving = Arc::new(match mode {
            Mode::Https { cert, routes } => Serving::Https {
                with_alpn: server_config(&cert, true),
                without_alpn: server_config(&cert, false),
                routes,
            },
            Mode::Http { routes } => Serving::Http { routes },
            Mode::SilentAfterAccept => Serving::Silent,
            Mode::TlsAlert => Serving::Alert(0x28),
            Mode::ProtocolVersionAlert => Serving::Alert(0x46),
        });
        let addr = listener.local_addr().expect("tcp local addr");
        let state = Arc::new(ServerState::default());
        let task = tokio::spawn(accept_loop(listener, serving, state.clone()));
        TestServer { addr, state, task }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `(method, path, headers)` of every request received, in arrival order.
    pub fn requests(&self) -> Vec<RequestTuple> {
        self.seen_requests()
            .into_iter()
            .map(|r| (r.method, r.path, r.headers))
            .collect()
    }

    pub fn seen_requests(&self) -> Vec<SeenRequest> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Number of TCP connections accepted.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Watches the number of TCP connections accepted.
    pub fn accepted(&self) -> watch::Receiver<usize> {
        self.state.accepted.subscribe()
    }

    /// Watches the number of requests read (for [`Routes::held_until_accepted`]: an answer held
    /// until another server has been asked something).
    pub fn requested(&self) -> watch::Receiver<usize> {
        self.state.requested.subscribe()
    }

    /// SNI of every ClientHello received (Https mode only), in arrival order.
    pub fn server_names(&self) -> Vec<Option<String>> {
        self.state.server_names.lock().unwrap().clone()
    }
}

/// A loopback port with nothing listening on it.
/// A listener on 127.0.0.1:0 whose accept queue holds a burst of connections (benches/latency.rs
/// opens 500 at once; `TcpListener::bind`'s queue of 128 would drop SYNs, costing each a 1 s
/// retransmission).
pub fn listen_loopback() -> TcpListener {
    let socket = tokio::net::TcpSocket::new_v4().expect("tcp socket");
    socket
        .bind((Ipv4Addr::LOCALHOST, 0).into())
        .expect("bind tcp 127.0.0.1:0");
    socket.listen(4096).expect("listen")
}

pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    listener.local_addr().expect("local addr").port()
}

async fn accept_loop(listener: TcpListener, serving: Arc<Serving>, state: Arc<ServerState>) {
    let mut connections = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => continue,
        };
        let n = state.connections.fetch_add(1, Ordering::SeqCst) + 1;
        state.accepted.send_replace(n);
        let (serving, state) = (serving.clone(), state.clone());
        connections.spawn(async move {
            let _ =
                tokio::time::timeout(CONNECTION_BOUND, serve_connection(stream, &serving, &state))
                    .await;
        });
        while connections.try_join_next().is_some() {}
    }
}

async fn serve_connection(mut stream: TcpStream, serving: &Serving, state: &ServerState) {
    match serving {
        Serving::Http { routes } => serve_http(stream, routes, state).await,
        Serving::Https {
            with_alpn,
            without_alpn,
            routes,
        } => {
            let acceptor = rustls::server::Acceptor::default();
            let Ok(start) = tokio_rustls::LazyConfigAcceptor::new(acceptor, stream).await else {
                return;
            };
            let hello = start.client_hello();
            state
                .server_names
                .lock()
                .unwrap()
                .push(hello.server_name().map(str::to_owned));
            let offers_h1 = hello
                .alpn()
                .is_some_and(|mut protocols| protocols.any(|p| p == b"http/1.1"));
            let config = if offers_h1 { with_alpn } else { without_alpn };
            if let Ok(tls) = start.into_stream(config.clone()).await {
                serve_http(tls, routes, state).await;
            }
        }
        Serving::Silent => {
            let mut sink = [0u8; 4096];
            while let Ok(n) = stream.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        }
        Serving::Alert(description) => {
            read_tls_record(&mut stream).await;
            let alert = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, *description];
            if stream.write_all(&alert).await.is_ok() {
                let _ = stream.shutdown().await;
                // Drain until the peer closes, so our close is a FIN, not a RST.
                let mut sink = [0u8; 4096];
                while let Ok(n) = stream.read(&mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
            }
        }
    }
}

/// Reads one TLS record (normally the ClientHello), bounded in size.
async fn read_tls_record(stream: &mut TcpStream) {
    let mut header = [0u8; 5];
    if stream.read_exact(&mut header).await.is_err() {
        return;
    }
    let len = u16::from_be_bytes([header[3], header[4]]) as usize;
    if len <= 18 * 1024 {
        let mut body = vec![0u8; len];
        let _ = stream.read_exact(&mut body).await;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads more bytes into `buf`; `Ok(false)` on EOF.
async fn fill<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n > 0)
}

/// Reads and discards a `Transfer-Encoding: chunked` body. `buf` holds bytes
/// already read past the request head.
async fn discard_chunked<S: AsyncRead + Unpin>(stream: &mut S, mut buf: Vec<u8>) -> Option<()> {
    let mut total = 0usize;
    loop {
        let line_end = loop {
            if let Some(pos) = find(&buf, b"\r\n") {
                break pos;
            }
            if buf.len() > MAX_HEAD || !fill(stream, &mut buf).await.ok()? {
                return None;
            }
        };
        let line = std::str::from_utf8(&buf[..line_end]).ok()?;
        let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
        buf.drain(..line_end + 2);
        if size == 0 {
            // Trailer section: lines until an empty one.
            loop {
                let end = loop {
                    if let Some(pos) = find(&buf, b"\r\n") {
                        break pos;
                    }
                    if buf.len() > MAX_HEAD || !fill(stream, &mut buf).await.ok()? {
                        return None;
                    }
                };
                buf.drain(..end + 2);
                if end == 0 {
                    return Some(());
                }
            }
        }
        total += size;
        if total > MAX_BODY {
            return None;
        }
        while buf.len() < size + 2 {
            if !fill(stream, &mut buf).await.ok()? {
                return None;
            }
        }
        buf.drain(..size + 2);
    }
}

/// Reads and discards exactly `remaining` more body bytes.
async fn discard_exact<S: AsyncRead + Unpin>(stream: &mut S, mut remaining: usize) -> Option<()> {
    let mut chunk = [0u8; 8192];
    while remaining > 0 {
        let want = remaining.min(chunk.len());
        let n = stream.read(&mut chunk[..want]).await.ok()?;
        if n == 0 {
            return None;
        }
        remaining -= n;
    }
    Some(())
}

/// Serves one HTTP/1.1 request, then closes (`Connection: close`).
async fn serve_http<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    routes: &Routes,
    state: &ServerState,
) {
    let mut buf = Vec::with_capacity(4096);
    let head_end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos + 4;
        }
        if buf.len() > MAX_HEAD {
            return;
        }
        match fill(&mut stream, &mut buf).await {
            Ok(true) => {}
            _ => return,
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split_whitespace();
    let method = request_line.next().unwrap_or_default().to_string();
    let path = request_line.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    state.requests.lock().unwrap().push(SeenRequest {
        method: method.clone(),
        path: path.clone(),
        headers: headers.clone(),
    });
    state.requested.send_modify(|n| *n += 1);

    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let rest = buf.split_off(head_end);
    let chunked =
        header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        if discard_chunked(&mut stream, rest).await.is_none() {
            return;
        }
    } else if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        if len > MAX_BODY
            || discard_exact(&mut stream, len.saturating_sub(rest.len()))
                .await
                .is_none()
        {
            return;
        }
    }

    if let Some(mut accepted) = routes.hold(&path) {
        if accepted.wait_for(|n| *n > 0).await.is_err() {
            return;
        }
    }
    let response = routes.lookup(&path);
    let status = response.status;
    let bodyless_status = (100..200).contains(&status) || status == 204 || status == 304;
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in &response.headers {
        let lower = k.to_ascii_lowercase();
        if lower == "content-length" || lower == "connection" || lower == "transfer-encoding" {
            continue;
        }
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if !bodyless_status {
        out.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    if method != "HEAD" && !bodyless_status {
        bytes.extend_from_slice(&response.body);
    }
    if stream.write_all(&bytes).await.is_ok() && stream.flush().await.is_ok() {
        let _ = stream.shutdown().await;
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
