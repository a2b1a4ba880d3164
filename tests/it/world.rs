//! Hermetic test world for `runner-preflight` integration tests.
//!
//! Everything here runs on loopback (`127.0.0.1`, port 0): a scriptable
//! authoritative DNS server (UDP + TCP on one port), a throw-away PKI, TLS and
//! plain HTTP/1.1 servers with a few misbehaving modes, and a helper that runs
//! the CLI with a neutralised environment (no host trust store, no proxies).
//!
//! Servers live as long as their handle: dropping a [`DnsServer`] or a
//! [`TestServer`] aborts its tasks and closes its sockets.

#![allow(dead_code)]

use std::collections::HashMap;
use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use hickory_server::net::runtime::Time;
use hickory_server::net::xfer::Protocol;
use hickory_server::proto::op::{Edns, Header, HeaderCounts, Metadata, ResponseCode};
use hickory_server::proto::rr::rdata::{A, AAAA, CNAME, SOA};
use hickory_server::proto::rr::{Name, RData, Record, RecordType};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use hickory_server::Server;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::{JoinHandle, JoinSet};

/// Upper bound on the lifetime of any single accepted TCP connection.
const CONNECTION_BOUND: Duration = Duration::from_secs(60);
/// Idle timeout for the DNS server's TCP connections.
const DNS_TCP_IDLE: Duration = Duration::from_secs(10);
/// Longest CNAME chain followed when chasing in zone.
const MAX_CHAIN: usize = 16;
/// Upper bound on an HTTP request head.
const MAX_HEAD: usize = 64 * 1024;
/// Upper bound on an HTTP request body (read and discarded).
const MAX_BODY: usize = 16 * 1024 * 1024;

// ---------------------------------------------------------------------------
// DNS
// ---------------------------------------------------------------------------

/// One record of a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    /// Target name of a CNAME (with or without trailing dot).
    Cname(String),
}

/// How the server treats queries for one name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// The name exists with these `(record, ttl)` pairs.
    Records(Vec<(Answer, u32)>),
    /// RCODE NXDOMAIN.
    NxDomain,
    /// RCODE SERVFAIL.
    ServFail,
    /// RCODE REFUSED.
    Refused,
    /// Never answer (the query is counted, then ignored).
    Drop,
    /// Over UDP: NOERROR with the TC bit and no records. Over TCP: behaves as
    /// `Records` with these records.
    Truncate(Vec<(Answer, u32)>),
}

/// Builder for a [`DnsServer`].
#[derive(Clone, Debug, Default)]
pub struct DnsWorld {
    names: HashMap<String, Behaviour>,
    chase: bool,
    delay: Duration,
}

impl DnsWorld {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the behaviour of `name` (case-insensitive, trailing dot optional).
    pub fn set(&mut self, name: &str, b: Behaviour) -> &mut Self {
        self.names.insert(normalise(name), b);
        self
    }

    /// By-value form of [`DnsWorld::set`], for builder chains.
    pub fn name(mut self, name: &str, b: Behaviour) -> Self {
        self.set(name, b);
        self
    }

    /// When on, a query for a name with a CNAME is answered with the whole
    /// chain followed inside this world (CNAMEs, then the final records), as a
    /// recursive resolver would. When off (the default), only the CNAME record
    /// of the queried name is returned and the client must follow the chain.
    pub fn chase_in_zone(&mut self, on: bool) -> &mut Self {
        self.chase = on;
        self
    }

    /// By-value form of [`DnsWorld::chase_in_zone`].
    pub fn chasing(mut self, on: bool) -> Self {
        self.chase = on;
        self
    }

    /// Delays every answer by `delay` (e.g. a round trip of an emulated link); queries are still
    /// answered concurrently.
    pub fn answer_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Starts the server on `127.0.0.1` (UDP and TCP on the same port).
    pub async fn start(&self) -> DnsServer {
        let queries = Arc::new(AtomicUsize::new(0));
        let handler = DnsHandler {
            names: Arc::new(self.names.clone()),
            chase: self.chase,
            delay: self.delay,
            queries: queries.clone(),
        };
        let (udp, tcp) = bind_udp_and_tcp().await;
        let addr = udp.local_addr().expect("udp local addr");
        let mut server = Server::new(handler);
        server.register_socket(udp);
        server.register_listener(tcp, DNS_TCP_IDLE, 64);
        DnsServer {
            addr,
            queries,
            _server: server,
        }
    }
}

/// A running DNS server; stops when dropped.
pub struct DnsServer {
    pub addr: SocketAddr,
    queries: Arc<AtomicUsize>,
    // Dropping `Server` drops its JoinSet, which aborts every server task.
    _server: Server<DnsHandler>,
}

impl DnsServer {
    /// Number of DNS queries received (UDP and TCP, answered or not).
    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }

    /// `ip:port` as a string, convenient for CLI arguments.
    pub fn addr_string(&self) -> String {
        self.addr.to_string()
    }
}

async fn bind_udp_and_tcp() -> (UdpSocket, TcpListener) {
    for _ in 0..32 {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind udp 127.0.0.1:0");
        let addr = udp.local_addr().expect("udp local addr");
        if let Ok(tcp) = TcpListener::bind(addr).await {
            return (udp, tcp);
        }
    }
    panic!("could not bind UDP and TCP on the same loopback port");
}

fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// A name for the wire. Text that is not a valid presentation name (spaces, `;`, quotes,
/// newlines, non-ASCII: what a hostile server might send) is encoded as raw label bytes.
fn fqdn(name: &str) -> Name {
    let bare = name.trim_end_matches('.');
    Name::from_ascii(format!("{bare}."))
        .or_else(|_| Name::from_labels(bare.split('.').map(str::as_bytes)))
        .unwrap_or_else(|e| panic!("invalid DNS name {name:?}: {e}"))
}

/// What to send back for one query.
enum Plan {
    Silent,
    Reply {
        rcode: ResponseCode,
        truncated: bool,
        answers: Vec<Record>,
        authorities: Vec<Record>,
    },
}

impl Plan {
    fn reply(rcode: ResponseCode, answers: Vec<Record>, authorities: Vec<Record>) -> Self {
        Plan::Reply {
            rcode,
            truncated: false,
            answers,
            authorities,
        }
    }
}

struct DnsHandler {
    names: Arc<HashMap<String, Behaviour>>,
    chase: bool,
    delay: Duration,
    queries: Arc<AtomicUsize>,
}

impl DnsHandler {
    fn plan(&self, qname: &Name, qtype: RecordType, udp: bool) -> Plan {
        let mut answers = Vec::new();
        let mut owner = qname.clone();
        for _ in 0..MAX_CHAIN {
            let key = normalise(&owner.to_ascii());
            let records = match self.names.get(&key) {
                None | Some(Behaviour::NxDomain) => {
                    return Plan::reply(ResponseCode::NXDomain, answers, vec![soa_for(&key)])
                }
                Some(Behaviour::ServFail) => {
                    return Plan::reply(ResponseCode::ServFail, answers, vec![])
                }
                Some(Behaviour::Refused) => {
                    return Plan::reply(ResponseCode::Refused, answers, vec![])
                }
                Some(Behaviour::Drop) => return Plan::Silent,
                Some(Behaviour::Truncate(_)) if udp => {
                    return Plan::Reply {
                        rcode: ResponseCode::NoError,
                        truncated: true,
                        answers: vec![],
                        authorities: vec![],
                    }
                }
                Some(Behaviour::Truncate(records)) | Some(Behaviour::Records(records)) => records,
            };

            let wants_cname_itself = matches!(qtype, RecordType::CNAME | RecordType::ANY);
            let cname = records.iter().find_map(|(a, ttl)| match a {
                Answer::Cname(target) => Some((target, *ttl)),
                _ => None,
            });
            if let (Some((target, ttl)), false) = (cname, wants_cname_itself) {
                let target = fqdn(target);
                answers.push(Record::from_rdata(
                    owner.clone(),
                    ttl,
                    RData::CNAME(CNAME(target.clone())),
                ));
                if !self.chase {
                    return Plan::reply(ResponseCode::NoError, answers, vec![]);
                }
                owner = target;
                continue;
            }

            let before = answers.len();
            for (answer, ttl) in records {
                let data = match (answer, qtype) {
                    (Answer::A(ip), RecordType::A | RecordType::ANY) => RData::A(A(*ip)),
                    (Answer::Aaaa(ip), RecordType::AAAA | RecordType::ANY) => {
                        RData::AAAA(AAAA(*ip))
                    }
                    (Answer::Cname(t), RecordType::CNAME | RecordType::ANY) => {
                        RData::CNAME(CNAME(fqdn(t)))
                    }
                    _ => continue,
                };
                answers.push(Record::from_rdata(owner.clone(), *ttl, data));
            }
            let authorities = if answers.len() == before {
                vec![soa_for(&key)] // NODATA
            } else {
                vec![]
            };
            return Plan::reply(ResponseCode::NoError, answers, authorities);
        }
        // CNAME loop or overly long chain.
        Plan::reply(ResponseCode::ServFail, answers, vec![])
    }

    async fn respond<R: ResponseHandler>(&self, request: &Request, mut handle: R) -> ResponseInfo {
        self.queries.fetch_add(1, Ordering::SeqCst);

        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authoritative = true;
        metadata.recursion_available = true;
        let edns = request.edns.as_ref().map(|_| {
            let mut e = Edns::new();
            e.set_max_payload(1232);
            e
        });
        let builder = MessageResponseBuilder::new(&request.queries, edns.as_ref());

        let plan = match request.request_info() {
            Ok(info) => self.plan(
                info.query.original().name(),
                info.query.query_type(),
                matches!(request.protocol(), Protocol::Udp),
            ),
            Err(_) => Plan::reply(ResponseCode::FormErr, vec![], vec![]),
        };

        let (rcode, truncated, answers, authorities) = match plan {
            Plan::Silent => {
                return ResponseInfo::from(Header {
                    metadata,
                    counts: HeaderCounts::default(),
                })
            }
            Plan::Reply {
                rcode,
                truncated,
                answers,
                authorities,
            } => (rcode, truncated, answers, authorities),
        };
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await; // emulated latency, not synchronisation
        }
        metadata.response_code = rcode;
        metadata.truncation = truncated;
        let none: Vec<Record> = Vec::new();
        let response = builder.build(metadata, &answers, &authorities, &none, &none);
        match handle.send_response(response).await {
            Ok(info) => info,
            Err(_) => ResponseInfo::from(Header {
                metadata,
                counts: HeaderCounts::default(),
            }),
        }
    }
}

/// A plausible SOA for negative answers: apex = the last two labels of `key`.
fn soa_for(key: &str) -> Record {
    let labels: Vec<&str> = key.split('.').filter(|l| !l.is_empty()).collect();
    let apex = labels[labels.len().saturating_sub(2)..].join(".");
    let (mname, rname) = if apex.is_empty() {
        ("ns1.invalid".to_string(), "hostmaster.invalid".to_string())
    } else {
        (format!("ns1.{apex}"), format!("hostmaster.{apex}"))
    };
    let soa = SOA::new(fqdn(&mname), fqdn(&rname), 1, 3600, 600, 86400, 60);
    Record::from_rdata(fqdn(&apex), 60, RData::SOA(soa))
}

// `RequestHandler` is declared with `#[async_trait]`; this is the desugared
// form, so no `async-trait` dependency is needed.
impl RequestHandler for DnsHandler {
    fn handle_request<'life0, 'life1, 'async_trait, R, T>(
        &'life0 self,
        request: &'life1 Request,
        response_handle: R,
    ) -> Pin<Box<dyn Future<Output = ResponseInfo> + Send + 'async_trait>>
    where
        R: 'async_trait + ResponseHandler,
        T: 'async_trait + Time,
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(self.respond(request, response_handle))
    }
}

// ---------------------------------------------------------------------------
// PKI
// ---------------------------------------------------------------------------

/// Organisation put in the subject of every certificate made here.
pub const TEST_ORG: &str = "runner-preflight test";

/// A certificate chain (leaf first, no root) and its private key.
pub struct CertKey {
    pub cert_chain_pem: String,
    pub key_pem: String,
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    pub not_before: OffsetDateTime,
    /// Exactly the notAfter encoded in the leaf (whole seconds, UTC).
    pub not_after: OffsetDateTime,
}

impl Clone for CertKey {
    fn clone(&self) -> Self {
        Self {
            cert_chain_pem: self.cert_chain_pem.clone(),
            key_pem: self.key_pem.clone(),
            chain: self.chain.clone(),
            key: self.key.clone_key(),
            not_before: self.not_before,
            not_after: self.not_after,
        }
    }
}

impl std::fmt::Debug for CertKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertKey")
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// A throw-away certificate authority.
pub struct Pki {
    /// The CA certificate (PEM).
    pub ca_pem: String,
    /// The CA certificate (DER), e.g. for a `RootCertStore`.
    pub ca_der: CertificateDer<'static>,
    pub ca_common_name: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

fn now_whole_seconds() -> OffsetDateTime {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("zero nanoseconds is valid")
}

fn leaf_params(
    names: &[&str],
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> rcgen::CertificateParams {
    assert!(!names.is_empty(), "a certificate needs at least one name");
    let sans: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = rcgen::CertificateParams::new(sans).expect("valid SANs");
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, names[0]);
    dn.push(rcgen::DnType::OrganizationName, TEST_ORG);
    params.distinguished_name = dn;
    params.not_before = not_before;
    params.not_after = not_after;
    params.is_ca = rcgen::IsCa::NoCa;
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params
}

fn cert_key(
    cert: rcgen::Certificate,
    key: rcgen::KeyPair,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> CertKey {
    CertKey {
        cert_chain_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        chain: vec![cert.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        not_before,
        not_after,
    }
}

impl Pki {
    /// A self-signed CA with subject `CN=<ca_common_name>, O=runner-preflight test`.
    pub fn new(ca_common_name: &str) -> Pki {
        let now = now_whole_seconds();
        let mut params = rcgen::CertificateParams::default();
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CommonName, ca_common_name);
        dn.push(rcgen::DnType::OrganizationName, TEST_ORG);
        params.distinguished_name = dn;
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(365);
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let key = rcgen::KeyPair::generate().expect("generate CA key");
        let cert = params.self_signed(&key).expect("self-sign CA");
        Pki {
            ca_pem: cert.pem(),
            ca_der: cert.der().clone(),
            ca_common_name: ca_common_name.to_string(),
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    fn issue(
        &self,
        names: &[&str],
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> CertKey {
        let params = leaf_params(names, not_before, not_after);
        let key = rcgen::KeyPair::generate().expect("generate leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("sign leaf");
        cert_key(cert, key, not_before, not_after)
    }

    /// A leaf for `names` (SANs; CN = `names[0]`), valid from now-1d to now+30d.
    pub fn leaf(&self, names: &[&str]) -> CertKey {
        let now = now_whole_seconds();
        self.issue(
            names,
            now - time::Duration::days(1),
            now + time::Duration::days(30),
        )
    }

    /// A leaf valid from now-60d to now-30d (i.e. expired).
    pub fn leaf_expired(&self, names: &[&str]) -> CertKey {
        let now = now_whole_seconds();
        self.issue(
            names,
            now - time::Duration::days(60),
            now - time::Duration::days(30),
        )
    }

    /// A self-signed leaf (issuer == subject), valid from now-1d to now+30d.
    pub fn self_signed(names: &[&str]) -> CertKey {
        let now = now_whole_seconds();
        let (nb, na) = (
            now - time::Duration::days(1),
            now + time::Duration::days(30),
        );
        let params = leaf_params(names, nb, na);
        let key = rcgen::KeyPair::generate().expect("generate key");
        let cert = params.self_signed(&key).expect("self-sign leaf");
        cert_key(cert, key, nb, na)
    }
}

/// Writes `pem` to `dir/file` and returns the path.
pub fn write_pem(dir: &Path, file: &str, pem: &str) -> PathBuf {
    let path = dir.join(file);
    std::fs::write(&path, pem).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

// ---------------------------------------------------------------------------
// HTTP / TLS servers
// ---------------------------------------------------------------------------

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
}

impl Routes {
    pub fn new(default: HttpResponse) -> Self {
        Self {
            map: HashMap::new(),
            default,
        }
    }

    pub fn route(mut self, path: &str, r: HttpResponse) -> Self {
        self.map.insert(path.to_string(), r);
        self
    }

    fn lookup(&self, target: &str) -> &HttpResponse {
        let without_query = target.split('?').next().unwrap_or(target);
        self.map
            .get(target)
            .or_else(|| self.map.get(without_query))
            .unwrap_or(&self.default)
    }
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

#[derive(Default)]
struct ServerState {
    connections: AtomicUsize,
    requests: Mutex<Vec<SeenRequest>>,
    server_names: Mutex<Vec<Option<String>>>,
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

fn server_config(cert: &CertKey, alpn: bool) -> Arc<rustls::ServerConfig> {
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
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind tcp 127.0.0.1:0");
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

    /// SNI of every ClientHello received (Https mode only), in arrival order.
    pub fn server_names(&self) -> Vec<Option<String>> {
        self.state.server_names.lock().unwrap().clone()
    }
}

/// A loopback port with nothing listening on it.
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
        state.connections.fetch_add(1, Ordering::SeqCst);
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

// ---------------------------------------------------------------------------
// Running the CLI
// ---------------------------------------------------------------------------

static EMPTY_TRUST: OnceLock<tempfile::TempDir> = OnceLock::new();

fn empty_trust_dir() -> &'static Path {
    EMPTY_TRUST
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            std::fs::write(dir.path().join("empty.pem"), b"").expect("empty trust file");
            std::fs::create_dir(dir.path().join("certs")).expect("empty trust dir");
            dir
        })
        .path()
}

/// `program` with a hermetic environment for the CLI: empty `SSL_CERT_FILE`/`SSL_CERT_DIR`,
/// `NO_COLOR=1`, and no proxy, GitHub Actions or `RUNNER_PREFLIGHT_*` variables. For running the
/// CLI through a wrapper (`ip netns exec …`) as well as directly.
pub fn hermetic(program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
    let trust = empty_trust_dir();
    let mut cmd = std::process::Command::new(program);
    cmd.env("SSL_CERT_FILE", trust.join("empty.pem"))
        .env("SSL_CERT_DIR", trust.join("certs"))
        .env("NO_COLOR", "1");
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
        "ALL_PROXY",
        "all_proxy",
        // Tests must not write annotations or job summaries of the CI job running them.
        "GITHUB_ACTIONS",
        "GITHUB_STEP_SUMMARY",
    ] {
        cmd.env_remove(var);
    }
    // Flags read from the environment (a developer's shell may set them).
    for (var, _) in std::env::vars_os() {
        if var.to_string_lossy().starts_with("RUNNER_PREFLIGHT_") {
            cmd.env_remove(var);
        }
    }
    cmd
}

/// The CLI with a hermetic environment (see [`hermetic`]) and a 60 s timeout.
pub fn cli() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::from_std(hermetic(env!("CARGO_BIN_EXE_runner-preflight")));
    cmd.timeout(Duration::from_secs(60));
    cmd
}

/// Runs the CLI with `args` on a blocking thread (servers keep running on the
/// test's runtime meanwhile).
pub async fn run(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || cli().args(args).output())
        .await
        .expect("CLI thread panicked")
        .expect("spawn runner-preflight")
}

// ---------------------------------------------------------------------------
// Smoke tests for the harness itself
// ---------------------------------------------------------------------------

#[cfg(test)]
mod world_smoke {
    use super::*;
    use hickory_server::proto::op::{Message, Query};

    const BOUND: Duration = Duration::from_secs(5);

    fn query(name: &str, qtype: RecordType, id: u16) -> Vec<u8> {
        let mut msg = Message::query();
        msg.metadata.id = id;
        msg.metadata.recursion_desired = true;
        msg.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
        msg.to_vec().unwrap()
    }

    async fn udp_query(server: SocketAddr, name: &str, qtype: RecordType) -> Message {
        let sock = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        sock.send_to(&query(name, qtype, 0x1234), server)
            .await
            .unwrap();
        let mut buf = vec![0u8; 4096];
        let (n, _) = tokio::time::timeout(BOUND, sock.recv_from(&mut buf))
            .await
            .expect("DNS answer within bound")
            .unwrap();
        let msg = Message::from_vec(&buf[..n]).unwrap();
        assert_eq!(msg.metadata.id, 0x1234);
        msg
    }

    async fn tcp_query(server: SocketAddr, name: &str, qtype: RecordType) -> Message {
        let mut stream = tokio::time::timeout(BOUND, TcpStream::connect(server))
            .await
            .unwrap()
            .unwrap();
        let q = query(name, qtype, 0x4321);
        let mut framed = (q.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&q);
        stream.write_all(&framed).await.unwrap();
        let answer = tokio::time::timeout(BOUND, async {
            let mut len = [0u8; 2];
            stream.read_exact(&mut len).await.unwrap();
            let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
            stream.read_exact(&mut buf).await.unwrap();
            buf
        })
        .await
        .expect("DNS answer within bound");
        Message::from_vec(&answer).unwrap()
    }

    fn world() -> DnsWorld {
        DnsWorld::new()
            .name(
                "GitHub.com.",
                Behaviour::Records(vec![(Answer::A(Ipv4Addr::new(127, 0, 0, 7)), 60)]),
            )
            .name(
                "api.github.com",
                Behaviour::Records(vec![(Answer::Cname("github.com".into()), 30)]),
            )
            .name("gone.example", Behaviour::NxDomain)
            .name("broken.example", Behaviour::ServFail)
            .name(
                "big.example",
                Behaviour::Truncate(vec![(Answer::A(Ipv4Addr::new(127, 0, 0, 9)), 60)]),
            )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dns_answers_a_cname_and_errors() {
        let dns = world().start().await;

        let a = udp_query(dns.addr, "github.com.", RecordType::A).await;
        assert_eq!(a.metadata.response_code, ResponseCode::NoError);
        assert!(a.metadata.authoritative && a.metadata.recursion_available);
        assert_eq!(a.queries.len(), 1);
        assert_eq!(a.answers.len(), 1);
        assert_eq!(a.answers[0].ttl, 60);
        assert_eq!(a.answers[0].data, RData::A(A(Ipv4Addr::new(127, 0, 0, 7))));

        let nodata = udp_query(dns.addr, "github.com.", RecordType::AAAA).await;
        assert_eq!(nodata.metadata.response_code, ResponseCode::NoError);
        assert!(nodata.answers.is_empty());

        let c = udp_query(dns.addr, "API.github.com.", RecordType::A).await;
        assert_eq!(c.answers.len(), 1, "only the CNAME, not the target");
        assert_eq!(
            c.answers[0].data,
            RData::CNAME(CNAME(Name::from_ascii("github.com.").unwrap()))
        );

        let nx = udp_query(dns.addr, "gone.example.", RecordType::A).await;
        assert_eq!(nx.metadata.response_code, ResponseCode::NXDomain);
        let unknown = udp_query(dns.addr, "nowhere.example.", RecordType::A).await;
        assert_eq!(unknown.metadata.response_code, ResponseCode::NXDomain);
        let sf = udp_query(dns.addr, "broken.example.", RecordType::A).await;
        assert_eq!(sf.metadata.response_code, ResponseCode::ServFail);

        assert_eq!(dns.queries(), 6);

        let mut chased = world();
        chased.chase_in_zone(true);
        let chased = chased.start().await;
        let c = udp_query(chased.addr, "api.github.com.", RecordType::A).await;
        assert_eq!(c.answers.len(), 2, "CNAME then A");
        assert_eq!(c.answers[1].data, RData::A(A(Ipv4Addr::new(127, 0, 0, 7))));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dns_truncates_over_udp_and_answers_over_tcp() {
        let dns = world().start().await;
        let udp = udp_query(dns.addr, "big.example.", RecordType::A).await;
        assert!(udp.metadata.truncation);
        assert!(udp.answers.is_empty());
        let tcp = tcp_query(dns.addr, "big.example.", RecordType::A).await;
        assert!(!tcp.metadata.truncation);
        assert_eq!(tcp.answers.len(), 1);
        assert_eq!(
            tcp.answers[0].data,
            RData::A(A(Ipv4Addr::new(127, 0, 0, 9)))
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn https_server_serves_route_to_ca_trusting_client() {
        let pki = Pki::new("Smoke Test Root");
        let cert = pki.leaf(&["github.com", "*.actions.githubusercontent.com"]);
        let server = TestServer::start(Mode::Https {
            cert,
            routes: Routes::new(HttpResponse::status(404))
                .route("/", HttpResponse::ok_with("x-smoke", "yes").body("hello")),
        })
        .await;

        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki.ca_der.clone()).unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let name =
            rustls::pki_types::ServerName::try_from("pipelines.actions.githubusercontent.com")
                .unwrap();

        let response = tokio::time::timeout(BOUND, async {
            let tcp = TcpStream::connect(server.addr).await.unwrap();
            let mut tls = connector.connect(name, tcp).await.unwrap();
            assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
            tls.write_all(b"GET / HTTP/1.1\r\nHost: github.com\r\nUser-Agent: smoke\r\n\r\n")
                .await
                .unwrap();
            let mut out = Vec::new();
            tls.read_to_end(&mut out).await.unwrap();
            String::from_utf8(out).unwrap()
        })
        .await
        .expect("HTTPS answer within bound");

        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(response.contains("x-smoke: yes\r\n"), "{response}");
        assert!(response.ends_with("\r\n\r\nhello"), "{response}");
        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].0, "GET");
        assert_eq!(requests[0].1, "/");
        assert!(requests[0]
            .2
            .contains(&("user-agent".into(), "smoke".into())));
        assert_eq!(
            server.server_names(),
            vec![Some("pipelines.actions.githubusercontent.com".to_string())]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn silent_server_accepts_but_never_speaks() {
        let server = TestServer::start(Mode::SilentAfterAccept).await;
        let mut tcp = tokio::time::timeout(BOUND, TcpStream::connect(server.addr))
            .await
            .unwrap()
            .unwrap();
        tcp.write_all(b"\x16\x03\x01\x00\x00").await.unwrap();
        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(Duration::from_millis(200), tcp.read(&mut buf)).await;
        assert!(read.is_err(), "no bytes (and no close) within 200 ms");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn alert_server_answers_fatal_alert() {
        let server = TestServer::start(Mode::TlsAlert).await;
        let mut tcp = tokio::time::timeout(BOUND, TcpStream::connect(server.addr))
            .await
            .unwrap()
            .unwrap();
        tcp.write_all(b"\x16\x03\x01\x00\x02\x01\x00")
            .await
            .unwrap();
        let mut out = Vec::new();
        tokio::time::timeout(BOUND, tcp.read_to_end(&mut out))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(out, [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
        assert_eq!(server.connections(), 1);
        assert_ne!(closed_port(), 0);
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dns_drop_never_answers() {
        let dns = DnsWorld::new()
            .name("hole.example", Behaviour::Drop)
            .start()
            .await;
        let sock = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let q = query("hole.example.", RecordType::A, 7);
        sock.send_to(&q, dns.addr).await.unwrap();
        let mut buf = [0u8; 512];
        let got = tokio::time::timeout(Duration::from_millis(200), sock.recv_from(&mut buf)).await;
        assert!(got.is_err(), "no answer within 200 ms");
        // Over TCP one connection's queries are handled in order, so the
        // answer to the second proves the dropped first one was received.
        let mut tcp = tokio::time::timeout(BOUND, TcpStream::connect(dns.addr))
            .await
            .unwrap()
            .unwrap();
        for (name, id) in [("hole.example.", 8), ("other.example.", 9)] {
            let q = query(name, RecordType::A, id);
            let mut framed = (q.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&q);
            tcp.write_all(&framed).await.unwrap();
        }
        let answer = tokio::time::timeout(BOUND, async {
            let mut len = [0u8; 2];
            tcp.read_exact(&mut len).await.unwrap();
            let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
            tcp.read_exact(&mut buf).await.unwrap();
            Message::from_vec(&buf).unwrap()
        })
        .await
        .expect("second answer within bound");
        assert_eq!(answer.metadata.id, 9);
        assert_eq!(answer.metadata.response_code, ResponseCode::NXDomain);
        assert!(dns.queries() >= 2);
    }

    async fn http_exchange(addr: SocketAddr, request: &[u8]) -> String {
        tokio::time::timeout(BOUND, async {
            let mut tcp = TcpStream::connect(addr).await.unwrap();
            tcp.write_all(request).await.unwrap();
            let mut out = Vec::new();
            tcp.read_to_end(&mut out).await.unwrap();
            String::from_utf8(out).unwrap()
        })
        .await
        .expect("HTTP answer within bound")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn http_server_handles_head_and_post_bodies() {
        let server = TestServer::start(Mode::Http {
            routes: Routes::new(HttpResponse::status(404).body("nope"))
                .route("/meta", HttpResponse::ok_with("x-a", "1").body("body")),
        })
        .await;
        let head = http_exchange(server.addr, b"HEAD /meta HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.contains("Content-Length: 4\r\n"), "{head}");
        assert!(head.ends_with("\r\n\r\n"), "HEAD has no body: {head}");
        let post = http_exchange(
            server.addr,
            b"POST /meta?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        )
        .await;
        assert!(post.ends_with("\r\n\r\nbody"), "{post}");
        let chunked = http_exchange(
            server.addr,
            b"POST /other HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        )
        .await;
        assert!(
            chunked.starts_with("HTTP/1.1 404 Not Found\r\n"),
            "{chunked}"
        );
        let methods: Vec<String> = server.requests().into_iter().map(|r| r.0).collect();
        assert_eq!(methods, ["HEAD", "POST", "POST"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn protocol_version_alert_reaches_rustls_client() {
        let server = TestServer::start(Mode::ProtocolVersionAlert).await;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(Pki::new("Unused Root").ca_der).unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let name = rustls::pki_types::ServerName::try_from("github.com").unwrap();
        let err = tokio::time::timeout(BOUND, async {
            let tcp = TcpStream::connect(server.addr).await.unwrap();
            match connector.connect(name, tcp).await {
                Ok(_) => panic!("handshake unexpectedly succeeded"),
                Err(e) => e,
            }
        })
        .await
        .expect("handshake outcome within bound");
        let inner = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>());
        assert_eq!(
            inner,
            Some(&rustls::Error::AlertReceived(
                rustls::AlertDescription::ProtocolVersion
            )),
            "{err:?}"
        );
    }
}
