//! In-process HTTP proxies for the tests, on 127.0.0.1: a CONNECT proxy (with or without Basic
//! auth, answering fixed statuses, hanging, cutting idle tunnels) and an intercepting proxy that
//! terminates TLS with a leaf from its own CA and re-originates TLS to the real server.
//!
//! The proxy resolves nothing: it maps `host:port` to a loopback address given by the test
//! (unknown targets get 502), so "DNS fails locally but the proxy reaches the server" is modelled.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use super::pki::Pki;

/// Upper bound on any proxied connection.
const CONNECTION_BOUND: Duration = Duration::from_secs(60);
const MAX_HEAD: usize = 16 * 1024;

pub enum ProxyMode {
    /// Tunnel CONNECT and forward absolute-form HTTP requests.
    Forward,
    /// As `Forward`, but only with `Proxy-Authorization: Basic user:pass`; else 407.
    Auth { user: String, pass: String },
    /// Answer every request with this status.
    Status(u16),
    /// Answer every request with 407 and one `Proxy-Authenticate` header per scheme given
    /// (`NTLM`, `Negotiate`, …), whatever credentials come.
    Challenge(Vec<&'static str>),
    /// Read the CONNECT request and never answer.
    HangAfterConnect,
    /// Answer CONNECT with 200, then relay nothing (swallow what the client sends).
    SilentTunnel,
    /// As `Forward`, but close a tunnel idle for this long.
    CutIdle(Duration),
    /// Terminate TLS with a leaf from `ca` for the requested name, re-originate TLS to the
    /// mapped server trusting `upstream_ca`, relay the plaintext.
    Intercept {
        ca: Box<Pki>,
        upstream_ca: CertificateDer<'static>,
    },
}

#[derive(Default)]
struct ProxyState {
    /// Request lines seen (`CONNECT host:port HTTP/1.1`, `GET http://… HTTP/1.1`).
    requests: Mutex<Vec<String>>,
    /// Proxy-Authorization header values seen.
    auth: Mutex<Vec<String>>,
}

pub struct TestProxy {
    pub addr: SocketAddr,
    state: Arc<ProxyState>,
    task: JoinHandle<()>,
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestProxy {
    /// Start a proxy; `upstream` maps `host:port` (as in the CONNECT line) to a loopback server.
    pub async fn start(mode: ProxyMode, upstream: &[(&str, SocketAddr)]) -> TestProxy {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let state = Arc::new(ProxyState::default());
        let map: HashMap<String, SocketAddr> = upstream
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), *v))
            .collect();
        let shared = Arc::new((mode, map));
        let st = state.clone();
        let task = tokio::spawn(async move {
            let mut conns = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (shared, st) = (shared.clone(), st.clone());
                conns.spawn(async move {
                    let _ = tokio::time::timeout(
                        CONNECTION_BOUND,
                        serve(stream, &shared.0, &shared.1, &st),
                    )
                    .await;
                });
                while conns.try_join_next().is_some() {}
            }
        });
        TestProxy { addr, state, task }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://user:pass@127.0.0.1:PORT`
    pub fn url_with(&self, user: &str, pass: &str) -> String {
        format!("http://{user}:{pass}@{}", self.addr)
    }

    pub fn requests(&self) -> Vec<String> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn auth_headers(&self) -> Vec<String> {
        self.state.auth.lock().unwrap().clone()
    }
}

/// Read a request head (up to the blank line), byte by byte so nothing after it is consumed.
async fn read_head<S: AsyncRead + Unpin>(s: &mut S) -> Option<String> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > MAX_HEAD || s.read(&mut b).await.ok()? == 0 {
            return None;
        }
        head.push(b[0]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

async fn respond(s: &mut TcpStream, status: u16, extra: &str) {
    let reason = match status {
        200 => "Connection established",
        403 => "Forbidden",
        407 => "Proxy Authentication Required",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let msg = format!("HTTP/1.1 {status} {reason}\r\n{extra}Content-Length: 0\r\n\r\n");
    let _ = s.write_all(msg.as_bytes()).await;
    if status != 200 {
        let _ = s.shutdown().await;
    }
}

async fn serve(
    mut client: TcpStream,
    mode: &ProxyMode,
    map: &HashMap<String, SocketAddr>,
    state: &ProxyState,
) {
    let Some(head) = read_head(&mut client).await else {
        return;
    };
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_string();
    state.requests.lock().unwrap().push(request_line.clone());
    let auth = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("proxy-authorization"))
        .map(|(_, v)| v.trim().to_string());
    if let Some(a) = &auth {
        state.auth.lock().unwrap().push(a.clone());
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    match mode {
        ProxyMode::Status(code) => return respond(&mut client, *code, "").await,
        ProxyMode::Challenge(schemes) => {
            let headers: String = schemes
                .iter()
                .map(|s| format!("Proxy-Authenticate: {s}\r\n"))
                .collect();
            return respond(&mut client, 407, &headers).await;
        }
        ProxyMode::SilentTunnel => {
            respond(&mut client, 200, "").await;
            let mut sink = [0u8; 1024];
            while let Ok(n) = client.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
            return;
        }
        ProxyMode::HangAfterConnect => {
            let mut sink = [0u8; 1024];
            while let Ok(n) = client.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
            return;
        }
        ProxyMode::Auth { user, pass } => {
            let want = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
            );
            if auth.as_deref() != Some(want.as_str()) {
                return respond(
                    &mut client,
                    407,
                    "Proxy-Authenticate: Basic realm=\"test proxy\"\r\n",
                )
                .await;
            }
        }
        _ => {}
    }
    let idle = match mode {
        ProxyMode::CutIdle(d) => Some(*d),
        _ => None,
    };
    if method.eq_ignore_ascii_case("CONNECT") {
        let Some(up_addr) = map.get(&target.to_ascii_lowercase()).copied() else {
            return respond(&mut client, 502, "").await;
        };
        let Ok(upstream) = TcpStream::connect(up_addr).await else {
            return respond(&mut client, 502, "").await;
        };
        respond(&mut client, 200, "").await;
        if let ProxyMode::Intercept { ca, upstream_ca } = mode {
            let host = target
                .rsplit_once(':')
                .map(|(h, _)| h.to_string())
                .unwrap_or(target.clone());
            intercept(client, upstream, &host, ca, upstream_ca).await;
        } else {
            relay(client, upstream, idle).await;
        }
        return;
    }
    // Absolute-form plain HTTP: `GET http://host[:port]/path HTTP/1.1`.
    let Some(rest) = target.strip_prefix("http://") else {
        return respond(&mut client, 400, "").await;
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let key = if authority.contains(':') {
        authority.to_ascii_lowercase()
    } else {
        format!("{}:80", authority.to_ascii_lowercase())
    };
    let Some(up_addr) = map.get(&key).copied() else {
        return respond(&mut client, 502, "").await;
    };
    let Ok(mut upstream) = TcpStream::connect(up_addr).await else {
        return respond(&mut client, 502, "").await;
    };
    let version = parts.next().unwrap_or("HTTP/1.1");
    let rewritten = head.replacen(&request_line, &format!("{method} {path} {version}"), 1);
    let rewritten: String = rewritten
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("proxy-authorization:"))
        .collect::<Vec<_>>()
        .join("\r\n");
    if upstream.write_all(rewritten.as_bytes()).await.is_err() {
        return;
    }
    relay(client, upstream, idle).await;
}

/// Copy both ways until either side closes; with `idle`, close when nothing moved for that long.
async fn relay<A, B>(a: A, b: B, idle: Option<Duration>)
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let (mut ar, mut aw) = tokio::io::split(a);
    let (mut br, mut bw) = tokio::io::split(b);
    let mut abuf = vec![0u8; 16 * 1024];
    let mut bbuf = vec![0u8; 16 * 1024];
    let idle = idle.unwrap_or(CONNECTION_BOUND);
    loop {
        tokio::select! {
            r = ar.read(&mut abuf) => match r {
                Ok(n) if n > 0 => { if bw.write_all(&abuf[..n]).await.is_err() { break } }
                _ => break,
            },
            r = br.read(&mut bbuf) => match r {
                Ok(n) if n > 0 => { if aw.write_all(&bbuf[..n]).await.is_err() { break } }
                _ => break,
            },
            _ = tokio::time::sleep(idle) => break,
        }
    }
    let _ = aw.shutdown().await;
    let _ = bw.shutdown().await;
}

async fn intercept(
    client: TcpStream,
    upstream: TcpStream,
    host: &str,
    ca: &Pki,
    upstream_ca: &CertificateDer<'static>,
) {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let leaf = ca.leaf(&[host]);
    let server_cfg = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(leaf.chain.clone(), leaf.key.clone_key())
        .expect("intercept cert");
    let Ok(client_tls) = tokio_rustls::TlsAcceptor::from(Arc::new(server_cfg))
        .accept(client)
        .await
    else {
        return;
    };
    let mut roots = rustls::RootCertStore::empty();
    roots.add(upstream_ca.clone()).expect("upstream CA");
    let client_cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let Ok(name) = ServerName::try_from(host.to_string()) else {
        return;
    };
    let Ok(up_tls) = tokio_rustls::TlsConnector::from(Arc::new(client_cfg))
        .connect(name, upstream)
        .await
    else {
        return;
    };
    relay(client_tls, up_tls, None).await;
}
