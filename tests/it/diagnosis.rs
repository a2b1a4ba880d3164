//! The diagnosis on loopback: each scenario's failures grouped into the expected root causes,
//! with exact counts, and every failing target under exactly one cause. Also the table's
//! folding and `--verbose`, annotations, JUnit and Markdown, and `explain` of a saved report.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde_json::Value;
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};

use crate::world::*;

const CA: &str = "Diagnosis Test Root CA";

fn targets(json: &Value) -> Vec<&Value> {
    json["capabilities"]
        .as_array()
        .expect("capabilities")
        .iter()
        .flat_map(|c| c["entries"].as_array().expect("entries").iter())
        .flat_map(|e| e["targets"].as_array().expect("targets").iter())
        .collect()
}

/// `(kind, targets explained)` of each cause, in order; asserts that every target that does not
/// pass carries the id of exactly one cause, that the counts add up, and that passing ones
/// carry none.
fn causes(json: &Value) -> Vec<(String, u64)> {
    let diagnosis = json["diagnosis"].as_array().expect("diagnosis array");
    let ids: Vec<u64> = diagnosis
        .iter()
        .map(|d| d["id"].as_u64().expect("id"))
        .collect();
    let mut failing = 0;
    for t in targets(json) {
        let bad = t["verdict"] == "fail" || t["verdict"] == "warn";
        match t.get("diagnosis_id").and_then(Value::as_u64) {
            Some(id) => {
                assert!(bad, "a passing target has a cause: {t:#}");
                assert!(ids.contains(&id), "diagnosis_id {id} is no cause: {json:#}");
                failing += 1;
            }
            None => assert!(!bad, "a failing target without a cause: {t:#}"),
        }
    }
    let explained: u64 = diagnosis
        .iter()
        .map(|d| d["targets"].as_u64().unwrap())
        .sum();
    assert_eq!(explained, failing, "{json:#}");
    for d in diagnosis {
        for key in ["summary", "fix"] {
            assert!(
                d[key].as_str().is_some_and(|s| !s.is_empty()),
                "{key} missing: {d:#}"
            );
        }
    }
    diagnosis
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().expect("kind").to_string(),
                d["targets"].as_u64().expect("targets"),
            )
        })
        .collect()
}

fn pairs(v: &[(&str, u64)]) -> Vec<(String, u64)> {
    v.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

/// `check` of `profile` as JSON with a 1 s timeout, trusting the fixture's CA (beside the
/// profile), and `extra` flags.
fn args(profile: &str, dns: Option<SocketAddr>, extra: &[String]) -> Vec<String> {
    let ca = std::path::Path::new(profile).with_file_name("ca.pem");
    let mut a = strings(&[
        "check",
        "--profile",
        profile,
        "--format",
        "json",
        "--quiet",
        "--timeout",
        "1s",
        "--ca-file",
        ca.to_str().unwrap(),
    ]);
    if let Some(d) = dns {
        a.extend(["--dns-server".into(), d.to_string()]);
    }
    a.extend(extra.iter().cloned());
    a
}

fn profile(fx: &Fixture, hosts: &[&str]) -> String {
    fx.profile(&Profile::new("diag", "Diagnosis").capability(
        "core",
        "Core",
        true,
        &fingerprinted(hosts, "/zen"),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_resolver_is_one_cause_folded_in_the_table() {
    let fx = Fixture::new(CA);
    // A name server that never answers: a UDP socket nobody reads.
    let silent = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("udp");
    let server = silent.local_addr().expect("addr");
    let hosts = [
        "a.github.com",
        "b.github.com",
        "c.githubusercontent.com",
        "d.github.com",
    ];
    let p = profile(&fx, &hosts);
    let saved = fx.path("report.json");
    let mut extra = strings(&["--output-json", saved.to_str().unwrap()]);
    let o = run_json(args(&p, Some(server), &extra)).await;
    assert_eq!(o.code, 1);
    assert_eq!(causes(&o.json), pairs(&[("resolver_unreachable", 4)]));
    let d = &o.json["diagnosis"][0];
    assert_eq!(d["evidence"]["servers"][0], server.to_string(), "{d:#}");
    assert_eq!(d["evidence"]["names"], 4);
    assert_eq!(d["hosts"].as_array().unwrap().len(), 4);
    assert_eq!(d["blocks"], serde_json::json!(["core"]));
    assert_eq!(d["gating"], true);
    let summary = d["summary"].as_str().unwrap();
    assert!(summary.contains(&server.to_string()), "{summary}");
    assert!(summary.contains("does not answer"), "{summary}");

    // The table: the Diagnosis first, the four rows folded; --verbose shows them.
    let mut table = args(&p, Some(server), &[]);
    table[4] = "table".into();
    let gh = vec![("GITHUB_ACTIONS", "true".to_string())];
    let t = run_text(table.clone(), gh).await;
    assert_eq!(t.code, 1, "{}", t.stdout);
    let diag_at = t.stdout.find("Diagnosis — 1 cause").expect(&t.stdout);
    let core_at = t.stdout.find("FAIL  core — Core").expect(&t.stdout);
    assert!(diag_at < core_at, "{}", t.stdout);
    assert!(t.stdout.contains("4 names"), "{}", t.stdout);
    assert!(
        t.stdout.contains("see cause 1: DNS server not answering"),
        "{}",
        t.stdout
    );
    let report_part = &t.stdout[..t.stdout.find("\n::").expect(&t.stdout)];
    assert!(
        !report_part.contains("no answer for a.github.com"),
        "{}",
        t.stdout
    );
    assert!(
        t.stdout.contains(&format!("fix: make {server} answer DNS")),
        "{}",
        t.stdout
    );
    // The server came from --dns-server: the fix speaks of that flag and of its port.
    let fix = d["fix"].as_str().unwrap();
    assert!(fix.contains(&format!("port {}", server.port())), "{fix}");
    assert!(fix.contains("--dns-server"), "{fix}");
    assert!(!fix.contains("resolv.conf"), "{fix}");
    // One annotation for the one cause, not one per capability or name.
    let ann: Vec<&str> = t
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error") || l.starts_with("::warning"))
        .collect();
    assert_eq!(ann.len(), 1, "{ann:#?}");
    assert!(
        ann[0].starts_with("::error title=runner-preflight cause 1%3A DNS server not answering"),
        "{}",
        ann[0]
    );
    assert!(
        ann[0].contains("%0AFAIL a.github.com: DNS: no answer"),
        "{}",
        ann[0]
    );
    table.push("--verbose".into());
    let v = run_text(table, vec![]).await;
    for h in hosts {
        assert!(
            v.stdout.contains(&format!("no answer for {h}")),
            "{}",
            v.stdout
        );
    }

    // explain: the same Diagnosis from the saved report, without probing.
    drop(silent);
    let e = run_text(strings(&["explain", saved.to_str().unwrap()]), vec![]).await;
    assert_eq!(e.code, 0, "{}", e.stderr);
    let block = &t.stdout[diag_at..core_at];
    assert!(
        e.stdout.contains(block.trim_end()),
        "{}\n---\n{block}",
        e.stdout
    );
    let ej = run_text(
        strings(&["explain", saved.to_str().unwrap(), "--format", "json"]),
        vec![],
    )
    .await;
    let ej: Value = serde_json::from_str(&ej.stdout).expect("json");
    assert_eq!(ej["diagnosis"], o.json["diagnosis"]);
    let md = run_text(
        strings(&["explain", saved.to_str().unwrap(), "--format", "markdown"]),
        vec![],
    )
    .await;
    assert!(
        md.stdout.starts_with("### Diagnosis: 1 cause"),
        "{}",
        md.stdout
    );

    // A damaged report: exit 2, in our words.
    std::fs::write(
        &saved,
        "{\"schema_version\": 1, \"diagnosis\": [{\"id\": 1}]}",
    )
    .unwrap();
    let e = run_text(strings(&["explain", saved.to_str().unwrap()]), vec![]).await;
    assert_eq!(e.code, 2);
    assert!(
        e.stderr.contains("diagnosis[0] is not a root cause"),
        "{}",
        e.stderr
    );
    std::fs::write(&saved, "{\"schema_version\": 1,").unwrap();
    let e = run_text(strings(&["explain", saved.to_str().unwrap()]), vec![]).await;
    assert_eq!(e.code, 2);
    assert!(e.stderr.contains("not a JSON report"), "{}", e.stderr);
    extra.clear();
}

/// Issue 23 row 6: a `--dns-server` where nothing listens (ICMP port unreachable) is named
/// with its port, told apart from a silent server, and fixed through the flag that gave it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dns_server_port_where_nothing_listens_is_named_with_its_port_and_flag() {
    let fx = Fixture::new(CA);
    // A port nothing listens on: bound to learn a free one, then closed.
    let server = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("udp")
        .local_addr()
        .expect("addr");
    let p = profile(&fx, &["a.github.com", "b.github.com"]);
    let o = run_json(args(&p, Some(server), &[])).await;
    assert_eq!(o.code, 1);
    assert_eq!(causes(&o.json), pairs(&[("resolver_unreachable", 2)]));
    let d = &o.json["diagnosis"][0];
    assert_eq!(d["evidence"]["how"], "nothing_listens", "{d:#}");
    assert_eq!(
        d["evidence"]["servers"],
        serde_json::json!([server.to_string()])
    );
    assert_eq!(d["evidence"]["given"], true, "{d:#}");
    let t = targets(&o.json)[0];
    assert_eq!(t["dns"]["failure"]["kind"], "nothing_listens", "{t:#}");
    assert_eq!(t["dns"]["failure"]["server"], server.to_string(), "{t:#}");
    let summary = d["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!("Nothing listens on {server}")),
        "{summary}"
    );
    let fix = d["fix"].as_str().unwrap();
    assert!(fix.contains(&server.to_string()), "{fix}");
    assert!(fix.contains(&format!("port {}", server.port())), "{fix}");
    assert!(fix.contains("--dns-server"), "{fix}");
    assert!(!fix.contains("resolv.conf"), "{fix}");
    assert!(!fix.contains("port 53 "), "{fix}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nxdomain_for_everything_names_the_zones() {
    let fx = Fixture::new(CA);
    let dns = DnsWorld::new().start().await;
    let hosts = [
        "github.com",
        "api.github.com",
        "pkg.actions.githubusercontent.com",
    ];
    let o = run_json(args(&profile(&fx, &hosts), Some(dns.addr), &[])).await;
    assert_eq!(o.code, 1);
    assert_eq!(causes(&o.json), pairs(&[("dns_nxdomain", 3)]));
    let e = &o.json["diagnosis"][0]["evidence"];
    assert_eq!(
        e["zones"],
        serde_json::json!(["github.com", "githubusercontent.com"])
    );
    assert_eq!(e["servers"][0], dns.addr.to_string());
}

/// Issue 23 row 7: a GHES instance's own name (from `--var hostname`) that the DNS server does
/// not know is not "a public name hidden by a filter": the advice is to add a record for it, or
/// to check the variable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_ghes_hostname_without_a_record_asks_for_one() {
    let dns = DnsWorld::new().start().await;
    let a = strings(&[
        "check",
        "-p",
        "ghes",
        "--var",
        "hostname=ghes.corp.internal",
        "--format",
        "json",
        "--quiet",
        "--timeout",
        "1s",
        "--dns-server",
        &dns.addr.to_string(),
    ]);
    let o = run_json(a).await;
    assert_eq!(o.code, 1);
    causes(&o.json);
    let internal: Vec<&Value> = o.json["diagnosis"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["evidence"]["variable"] == "hostname")
        .collect();
    assert_eq!(internal.len(), 1, "{:#}", o.json["diagnosis"]);
    let d = internal[0];
    assert_eq!(d["kind"], "dns_nxdomain");
    let hosts = d["hosts"].as_array().unwrap();
    assert!(hosts.iter().any(|h| h == "ghes.corp.internal"), "{d:#}");
    assert!(
        hosts
            .iter()
            .all(|h| h.as_str().unwrap().ends_with("ghes.corp.internal")),
        "{d:#}"
    );
    let (summary, fix) = (d["summary"].as_str().unwrap(), d["fix"].as_str().unwrap());
    assert!(summary.contains("no record"), "{summary}");
    assert!(!summary.contains("public"), "{summary}");
    assert!(fix.contains("add a record for"), "{fix}");
    assert!(fix.contains("--var hostname"), "{fix}");
    assert!(!fix.contains("publicly"), "{fix}");
}

/// A listener on every loopback address whose accept queue is full: SYNs to any 127.0.0.x at
/// its port are dropped. Keep both alive.
async fn black_hole() -> (TcpListener, Vec<TcpStream>) {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind((Ipv4Addr::UNSPECIFIED, 0).into())
        .expect("bind");
    let listener = socket.listen(0).expect("listen");
    let port = listener.local_addr().expect("addr").port();
    let mut fill = Vec::new();
    for _ in 0..3 {
        match tokio::time::timeout(
            Duration::from_millis(300),
            TcpStream::connect((Ipv4Addr::LOCALHOST, port)),
        )
        .await
        {
            Ok(Ok(s)) => fill.push(s),
            _ => break,
        }
    }
    (listener, fill)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_prefix_is_one_cause_with_its_covering_prefix() {
    let fx = Fixture::new(CA);
    let (hole, _fill) = black_hole().await;
    let port = hole.local_addr().unwrap().port();
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&["ok.github.com"]),
        routes: github_routes(),
    })
    .await;
    let mut world = DnsWorld::new();
    let blocked: Vec<String> = (2..=5).map(|i| format!("b{i}.github.com")).collect();
    let mut entries = String::new();
    for (i, h) in blocked.iter().enumerate() {
        world.set(h, Behaviour::Records(vec![a([127, 0, 0, 2 + i as u8], 60)]));
        entries.push_str(&format!("      - host: {h}\n        ports: [{port}]\n"));
    }
    world.set("ok.github.com", loopback(60));
    entries.push_str(&format!(
        "      - host: ok.github.com\n        ports: [{}]\n        http: {{ path: /zen, expect_header: {FINGERPRINT} }}\n",
        srv.port()
    ));
    let dns = world.start().await;
    let p =
        fx.profile(&Profile::new("diag", "Diagnosis").capability("core", "Core", true, &entries));
    let o = run_json(args(&p, Some(dns.addr), &fx.agreeing_trust_stores())).await;
    let o_json = &o.json;
    assert_eq!(o.code, 1, "{o_json:#}");
    assert_eq!(causes(o_json), pairs(&[("tcp_blocked", 4)]), "{o_json:#}");
    let e = &o_json["diagnosis"][0]["evidence"];
    assert_eq!(e["port"], port);
    assert_eq!(e["how"], "dropped");
    assert_eq!(e["prefixes"][0]["prefix"], "127.0.0.0/29", "{e:#}");
    assert_eq!(e["prefixes"][0]["names"], 4);
    assert_eq!(target(o_json, "ok.github.com")["verdict"], "pass");
    let s = o_json["diagnosis"][0]["summary"].as_str().unwrap();
    assert!(
        s.starts_with("All 4 names that resolve into 127.0.0.0/29"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refused_host_among_working_ones() {
    let fx = Fixture::new(CA);
    let hosts = ["a.github.com", "b.github.com", "c.github.com"];
    let dns = DnsWorld::at_loopback(&hosts).start().await;
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&hosts),
        routes: github_routes(),
    })
    .await;
    let mut extra = fx.agreeing_trust_stores();
    extra.extend(connect_to("a.github.com", 443, srv.port()));
    extra.extend(connect_to("b.github.com", 443, srv.port()));
    extra.extend(connect_to("c.github.com", 443, closed_port()));
    let o = run_json(args(&profile(&fx, &hosts), Some(dns.addr), &extra)).await;
    assert_eq!(o.code, 1);
    assert_eq!(causes(&o.json), pairs(&[("host_blocked", 1)]));
    let d = &o.json["diagnosis"][0];
    assert_eq!(d["evidence"]["host"], "c.github.com");
    assert_eq!(d["evidence"]["how"], "refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_blocked_while_the_proxy_works_and_no_proxy_at_all() {
    let fx = Fixture::new(CA);
    let hosts = [
        "a.github.com",
        "b.github.com",
        "c.github.com",
        "d.github.com",
    ];
    let dns = DnsWorld::at_loopback(&hosts).start().await;
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&hosts),
        routes: github_routes(),
    })
    .await;
    let proxy = TestProxy::start(
        ProxyMode::Forward,
        &[
            ("a.github.com:443", srv.addr),
            ("b.github.com:443", srv.addr),
        ],
    )
    .await;
    let p = profile(&fx, &hosts);
    let mut extra = fx.agreeing_trust_stores();
    for h in hosts {
        extra.extend(connect_to(h, 443, closed_port()));
    }
    // c and d bypass the proxy and cannot connect directly; a and b work through it.
    let mut with_proxy = extra.clone();
    with_proxy.extend(strings(&[
        "--proxy",
        &proxy.url(),
        "--no-proxy",
        "c.github.com,d.github.com",
    ]));
    let o = run_json(args(&p, Some(dns.addr), &with_proxy)).await;
    assert_eq!(o.code, 1, "{:#}", o.json);
    assert_eq!(
        causes(&o.json),
        pairs(&[("direct_blocked_proxy_works", 2)]),
        "{:#}",
        o.json
    );
    let d = &o.json["diagnosis"][0];
    assert_eq!(
        d["hosts"],
        serde_json::json!(["c.github.com", "d.github.com"])
    );
    assert!(d["fix"].as_str().unwrap().contains("no_proxy"), "{d:#}");

    // No proxy at all and nothing connects directly: this network needs a proxy.
    let o = run_json(args(&p, Some(dns.addr), &extra)).await;
    assert_eq!(o.code, 1);
    assert_eq!(
        causes(&o.json),
        pairs(&[("proxy_needed", 4)]),
        "{:#}",
        o.json
    );
    let d = &o.json["diagnosis"][0];
    assert!(d["summary"]
        .as_str()
        .unwrap()
        .contains("probably needs a proxy"));
    assert!(d["fix"].as_str().unwrap().contains("set https_proxy"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intercepting_ca_on_several_hosts_is_one_cause() {
    let fx = Fixture::new(CA);
    let inspector = Pki::new("Acme Inspection CA");
    let hosts = ["a.github.com", "b.github.com", "c.githubusercontent.com"];
    let dns = DnsWorld::new().start().await;
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&hosts),
        routes: github_routes(),
    })
    .await;
    let upstream: Vec<(String, SocketAddr)> = hosts
        .iter()
        .map(|h| (format!("{h}:443"), srv.addr))
        .collect();
    let upstream: Vec<(&str, SocketAddr)> =
        upstream.iter().map(|(h, a)| (h.as_str(), *a)).collect();
    let proxy = TestProxy::start(
        ProxyMode::Intercept {
            ca: Box::new(inspector),
            upstream_ca: fx.pki.ca_der.clone(),
        },
        &upstream,
    )
    .await;
    let mut extra = fx.agreeing_trust_stores();
    extra.extend(strings(&["--proxy", &proxy.url()]));
    let o = run_json(args(&profile(&fx, &hosts), Some(dns.addr), &extra)).await;
    assert_eq!(o.code, 1, "{:#}", o.json);
    assert_eq!(
        causes(&o.json),
        pairs(&[("tls_interception", 3)]),
        "{:#}",
        o.json
    );
    let d = &o.json["diagnosis"][0];
    let issuer = d["evidence"]["issuer"].as_str().unwrap();
    assert!(issuer.contains("Acme Inspection CA"), "{d:#}");
    assert_eq!(d["evidence"]["failing"], 3);
    assert_eq!(
        d["evidence"]["missing_in"],
        serde_json::json!(["runner", "git", "node"])
    );
    assert!(d["fix"]
        .as_str()
        .unwrap()
        .contains("update-ca-certificates"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_page_on_several_hosts_is_one_middlebox() {
    let fx = Fixture::new(CA);
    let hosts = ["a.github.com", "b.github.com", "c.github.com"];
    let dns = DnsWorld::at_loopback(&hosts).start().await;
    let page = HttpResponse::status(200)
        .header("Server", "BlockPage/2.1")
        .body("blocked by policy");
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&hosts),
        routes: Routes::new(page),
    })
    .await;
    let mut extra = fx.agreeing_trust_stores();
    for h in hosts {
        extra.extend(connect_to(h, 443, srv.port()));
    }
    let (xml, md) = (fx.path("r.xml"), fx.path("r.md"));
    extra.extend(strings(&[
        "--output-junit",
        xml.to_str().unwrap(),
        "--output-markdown",
        md.to_str().unwrap(),
    ]));
    let o = run_json(args(&profile(&fx, &hosts), Some(dns.addr), &extra)).await;
    assert_eq!(o.code, 1);
    assert_eq!(causes(&o.json), pairs(&[("middlebox_answers", 3)]));
    let d = &o.json["diagnosis"][0];
    assert_eq!(d["evidence"]["server"], "BlockPage/2.1");
    assert_eq!(d["evidence"]["statuses"], serde_json::json!([200]));
    // JUnit: each failure refers to its cause; the suite's system-out holds the Diagnosis.
    let xml = std::fs::read_to_string(&xml).unwrap();
    assert_eq!(
        xml.matches("(see cause 1: a middlebox answers instead of GitHub)\"")
            .count(),
        3,
        "{xml}"
    );
    assert!(xml.contains("Diagnosis — 1 cause"), "{xml}");
    // Markdown: the causes at the top.
    let md = std::fs::read_to_string(&md).unwrap();
    let at = md.find("### Diagnosis: 1 cause").expect(&md);
    assert!(at < md.find("| capability | role").unwrap(), "{md}");
    assert!(md.contains("BlockPage/2.1"), "{md}");
    // The cause covers the capability: its line says "see cause 1", no table repeats it.
    assert!(
        md.contains("| see cause 1: a middlebox answers instead of GitHub |"),
        "{md}"
    );
    assert!(!md.contains("<details"), "{md}");
}
