//! Smoke tests for the harness itself: the DNS server, the TLS/HTTP servers and their
//! misbehaving modes, talked to by hand-written clients.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_server::proto::op::{Message, Query, ResponseCode};
use hickory_server::proto::rr::rdata::{A, CNAME};
use hickory_server::proto::rr::{Name, RData, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use crate::world::*;

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
    // Authoritative only by default: RA clear (the chasing world below sets it).
    assert!(a.metadata.authoritative && !a.metadata.recursion_available);
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
    assert!(
        c.metadata.recursion_available,
        "a chasing world is recursive"
    );
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
        rustls::pki_types::ServerName::try_from("pipelines.actions.githubusercontent.com").unwrap();

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
