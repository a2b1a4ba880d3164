//! A scriptable DNS server on loopback (UDP and TCP on one port): per name records (A, AAAA,
//! CNAME), NXDOMAIN, SERVFAIL, REFUSED, silence, truncation and an emulated answer delay. By
//! default it is authoritative only (RA clear, one CNAME hop per answer); with
//! [`DnsWorld::chasing`] it answers as a recursive resolver does (RA set, the whole chain in one
//! answer). [`DnsWorld::recursion_available`] sets the RA flag apart from that.

use std::collections::HashMap;
use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_server::net::runtime::Time;
use hickory_server::net::xfer::Protocol;
use hickory_server::proto::op::{Edns, Header, HeaderCounts, Metadata, ResponseCode};
use hickory_server::proto::rr::rdata::{A, AAAA, CNAME, SOA};
use hickory_server::proto::rr::{Name, RData, Record, RecordType};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use hickory_server::Server;
use tokio::net::{TcpListener, UdpSocket};

/// Idle timeout for the DNS server's TCP connections.
const DNS_TCP_IDLE: Duration = Duration::from_secs(10);
/// Longest CNAME chain followed when chasing in zone.
const MAX_CHAIN: usize = 16;

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
    /// The RA flag of every answer; `None`: set when chasing.
    ra: Option<bool>,
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

    /// A world where each of `hosts` has one A record of `127.0.0.1` (TTL 60).
    pub fn at_loopback(hosts: &[&str]) -> Self {
        let mut world = Self::new();
        for h in hosts {
            world.set(h, loopback(60));
        }
        world
    }

    /// By-value form of [`DnsWorld::set`], for builder chains.
    pub fn name(mut self, name: &str, b: Behaviour) -> Self {
        self.set(name, b);
        self
    }

    /// When on, a query for a name with a CNAME is answered with the whole
    /// chain followed inside this world (CNAMEs, then the final records or the
    /// negative answer for the last name), as a recursive resolver would, with
    /// the RA flag set. When off (the default), only the CNAME record of the
    /// queried name is returned, with RA clear (an authoritative-only server),
    /// and the client must follow the chain.
    pub fn chase_in_zone(&mut self, on: bool) -> &mut Self {
        self.chase = on;
        self
    }

    /// By-value form of [`DnsWorld::chase_in_zone`].
    pub fn chasing(mut self, on: bool) -> Self {
        self.chase = on;
        self
    }

    /// Sets the RA ("recursion available") flag of every answer, whatever
    /// [`DnsWorld::chasing`] says: e.g. a recursive server that answers one hop.
    pub fn recursion_available(mut self, on: bool) -> Self {
        self.ra = Some(on);
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
        let (udp, tcp) = bind_udp_and_tcp().await;
        self.start_on(udp, tcp)
    }

    /// The server on sockets of the test's making (bound in a network namespace), UDP and TCP
    /// on the same port.
    pub fn start_on(&self, udp: UdpSocket, tcp: TcpListener) -> DnsServer {
        let queries = Arc::new(AtomicUsize::new(0));
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let handler = DnsHandler {
            arrivals: arrivals.clone(),
            names: Arc::new(self.names.clone()),
            chase: self.chase,
            ra: self.ra.unwrap_or(self.chase),
            delay: self.delay,
            queries: queries.clone(),
        };
        let addr = udp.local_addr().expect("udp local addr");
        let mut server = Server::new(handler);
        server.register_socket(udp);
        server.register_listener(tcp, DNS_TCP_IDLE, 64);
        DnsServer {
            addr,
            queries,
            arrivals,
            _server: server,
        }
    }
}

/// A running DNS server; stops when dropped.
pub struct DnsServer {
    pub addr: SocketAddr,
    queries: Arc<AtomicUsize>,
    arrivals: Arc<Mutex<Vec<Instant>>>,
    // Dropping `Server` drops its JoinSet, which aborts every server task.
    _server: Server<DnsHandler>,
}

impl DnsServer {
    /// Number of DNS queries received (UDP and TCP, answered or not).
    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }

    /// When the first query received at or after `since` arrived (e.g. a client's first packet
    /// after it was started).
    pub fn first_query_since(&self, since: Instant) -> Option<Instant> {
        let arrivals = self.arrivals.lock().expect("arrivals lock");
        arrivals.iter().copied().filter(|t| *t >= since).min()
    }

    /// The query counter itself, for a thread that waits for the first question.
    pub fn query_counter(&self) -> Arc<AtomicUsize> {
        self.queries.clone()
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
            // Room for a burst of questions (500 names at once: 1000), as a real resolver has;
            // the kernel caps it at net.core.rmem_max.
            let _ = rustix::net::sockopt::set_socket_recv_buffer_size(&udp, 4 << 20);
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
    ra: bool,
    delay: Duration,
    queries: Arc<AtomicUsize>,
    arrivals: Arc<Mutex<Vec<Instant>>>,
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
        if let Ok(mut a) = self.arrivals.lock() {
            a.push(Instant::now());
        }

        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authoritative = true;
        metadata.recursion_available = self.ra;
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

/// The name exists with one A record of `127.0.0.1`.
pub fn loopback(ttl: u32) -> Behaviour {
    Behaviour::Records(vec![(Answer::A(Ipv4Addr::LOCALHOST), ttl)])
}

/// The name is a CNAME to `target`.
pub fn cname(target: &str, ttl: u32) -> Behaviour {
    Behaviour::Records(vec![(Answer::Cname(target.into()), ttl)])
}

/// One A record of `ip`, for [`Behaviour::Records`].
pub fn a(ip: [u8; 4], ttl: u32) -> (Answer, u32) {
    (Answer::A(Ipv4Addr::from(ip)), ttl)
}
