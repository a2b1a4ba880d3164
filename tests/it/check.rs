//! `check` end to end against a loopback world: DNS chains and failures, TLS PKI cases, HTTP
//! fingerprints, closed and silent ports, verdicts, exit codes and causes.

use std::net::Ipv4Addr;

use std::time::Duration;

use serde_json::Value;

use crate::world::*;

const LO: Ipv4Addr = Ipv4Addr::LOCALHOST;
/// The test CA of every fixture here.
const CA: &str = "Preflight Test Root CA";

/// Writes the profile of these tests: `core` (gating) with `core_entries`, `extra` (not gating)
/// with `extra_entries`.
fn write_profile(fx: &Fixture, core_entries: &str, extra_entries: Option<&str>) -> String {
    let mut p =
        Profile::new("test", "Loopback test world").capability("core", "Core", true, core_entries);
    if let Some(extra) = extra_entries {
        p = p.capability("extra", "Extra", false, extra);
    }
    fx.profile(&p)
}

/// `check --format json` of `profile` against `dns`, trusting the fixture's CA in all three
/// stores, with a 2 s timeout and `extra` flags.
async fn check_json(profile: &str, dns: &DnsServer, fx: &Fixture, extra: &[String]) -> Outcome {
    let mut args: Vec<String> = vec![
        "check".into(),
        "--profile".into(),
        profile.into(),
        "--format".into(),
        "json".into(),
        "--quiet".into(),
        "--dns-server".into(),
        dns.addr.to_string(),
        "--ca-file".into(),
        fx.ca.display().to_string(),
        "--timeout".into(),
        "2s".into(),
    ];
    args.extend(fx.agreeing_trust_stores());
    args.extend(extra.iter().cloned());
    run_json(args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_through_cross_zone_cname_chain_with_fingerprint() {
    let fx = Fixture::new(CA);
    let dns = DnsWorld::new()
        .name("api.github.com", cname("edge.cdn.example.net", 300))
        .name("edge.cdn.example.net", cname("node7.lb.example.org", 120))
        .name("node7.lb.example.org", loopback(30))
        .start()
        .await;
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&["api.github.com"]),
        routes: github_routes(),
    })
    .await;
    let profile = write_profile(&fx,
        "      - host: api.github.com\n        http: { path: /zen, expect_header: X-GitHub-Request-Id }\n",
        None,
    );
    let o = check_json(
        &profile,
        &dns,
        &fx,
        &connect_to("api.github.com", 443, srv.port()),
    )
    .await;
    assert_eq!(o.code, 0, "{:#}\n{}", o.json, o.stderr);
    assert_eq!(o.json["schema_version"], 1);
    assert_eq!(o.json["verdict"], "pass");
    let t = target(&o.json, "api.github.com");
    assert_eq!(t["verdict"], "pass");
    let chain = t["dns"]["chain"].as_array().expect("chain");
    assert_eq!(chain.len(), 2, "{t:#}");
    assert_eq!(chain[0]["name"], "api.github.com");
    assert_eq!(chain[0]["target"], "edge.cdn.example.net");
    assert_eq!(chain[0]["ttl"], 300);
    assert_eq!(chain[1]["target"], "node7.lb.example.org");
    assert_eq!(t["dns"]["addresses"][0]["address"], "127.0.0.1");
    assert_eq!(t["dns"]["addresses"][0]["ttl"], 30);
    assert_eq!(t["dns"]["min_ttl"], 30);
    assert_eq!(t["dns"]["server"], dns.addr.to_string());
    let checks = t["checks"].as_array().expect("checks");
    let tls = checks
        .iter()
        .find(|c| c["phase"] == "tls")
        .expect("tls check");
    assert_eq!(tls["verdict"], "pass");
    assert!(
        tls["tls"]["version"]
            .as_str()
            .unwrap_or("")
            .starts_with("TLS 1."),
        "{tls:#}"
    );
    assert_eq!(tls["tls"]["alpn"], "http/1.1");
    assert!(tls["tls"]["leaf"]["issuer"]
        .as_str()
        .unwrap_or("")
        .contains("Preflight Test Root CA"));
    assert_eq!(tls["tls"]["leaf"]["sans"][0], "api.github.com");
    let http = checks
        .iter()
        .find(|c| c["phase"] == "http")
        .expect("http check");
    assert_eq!(http["http"]["status"], 200);
    assert_eq!(http["http"]["header_present"], true);
    // The server saw SNI = the name and a GET of the profile's path with the right Host.
    assert_eq!(srv.server_names(), vec![Some("api.github.com".to_string())]);
    let reqs = srv.seen_requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].path.as_str()),
        ("GET", "/zen")
    );
    assert!(reqs[0]
        .headers
        .iter()
        .any(|(k, v)| k == "host" && v == "api.github.com"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answer_without_fingerprint_is_a_middlebox() {
    let fx = Fixture::new(CA);
    let dns = DnsWorld::new()
        .name("api.github.com", loopback(60))
        .start()
        .await;
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&["api.github.com"]),
        routes: Routes::new(HttpResponse::status(200).header("Server", "CaptivePortal/1.0")),
    })
    .await;
    let profile = write_profile(&fx,
        "      - host: api.github.com\n        http: { path: /zen, expect_header: X-GitHub-Request-Id }\n",
        None,
    );
    let o = check_json(
        &profile,
        &dns,
        &fx,
        &connect_to("api.github.com", 443, srv.port()),
    )
    .await;
    assert_eq!(o.code, 1, "{:#}", o.json);
    assert_eq!(o.json["verdict"], "fail");
    let c = cause(&o.json, "api.github.com");
    assert!(c.contains("answered, but not by GitHub"), "{c}");
    assert!(c.contains("CaptivePortal/1.0"), "{c}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_failures_are_classified() {
    let fx = Fixture::new(CA);
    let dns = DnsWorld::new()
        .name("servfail.example.com", Behaviour::ServFail)
        .name("loop-a.example.com", cname("loop-b.example.net", 60))
        .name("loop-b.example.net", cname("loop-a.example.com", 60))
        .name("dangling.example.com", cname("gone.example.net", 60))
        .name("nodata.example.com", Behaviour::Records(vec![]))
        .name("refused.example.com", Behaviour::Refused)
        .start()
        .await;
    let profile = write_profile(&fx,
        "      - host: missing.example.com\n      - host: servfail.example.com\n      - host: loop-a.example.com\n      - host: dangling.example.com\n      - host: nodata.example.com\n      - host: refused.example.com\n",
        None,
    );
    let o = check_json(&profile, &dns, &fx, &[]).await;
    assert_eq!(o.code, 1);
    assert_eq!(o.json["capabilities"][0]["verdict"], "fail");
    let expect = [
        (
            "missing.example.com",
            "missing.example.com does not exist (NXDOMAIN from 127.0.0.1:",
        ),
        ("servfail.example.com", "(SERVFAIL)"),
        ("loop-a.example.com", "loops back to loop-a.example.com"),
        (
            "dangling.example.com",
            "leads to gone.example.net, which does not exist (NXDOMAIN from",
        ),
        ("nodata.example.com", "has no A or AAAA records"),
        ("refused.example.com", "(REFUSED"),
    ];
    for (host, text) in expect {
        let t = target(&o.json, host);
        assert_eq!(t["verdict"], "fail", "{host}");
        assert_eq!(t["dns"]["verdict"], "fail", "{host}");
        let c = cause(&o.json, host);
        assert!(c.contains(text), "{host}: {c}");
        assert!(
            t["checks"].as_array().expect("checks").is_empty(),
            "no connection after a DNS failure: {t:#}"
        );
    }
    // The loop's chain is recorded up to where it closes.
    let chain = target(&o.json, "loop-a.example.com")["dns"]["chain"]
        .as_array()
        .expect("chain")
        .len();
    assert_eq!(chain, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_timeout_is_bounded_and_named() {
    let fx = Fixture::new(CA);
    let dns = DnsWorld::new()
        .name("blackhole.example.com", Behaviour::Drop)
        .start()
        .await;
    let profile = write_profile(&fx, "      - host: blackhole.example.com\n", None);
    let o = check_json(&profile, &dns, &fx, &["--timeout".into(), "1s".into()]).await;
    assert_eq!(o.code, 1);
    let c = cause(&o.json, "blackhole.example.com");
    assert!(c.contains("no answer for blackhole.example.com"), "{c}");
    assert!(c.contains(&dns.addr.to_string()), "{c}");
    assert!(c.contains("within 1 s"), "{c}");
    assert!(o.elapsed < Duration::from_secs(10), "took {:?}", o.elapsed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_udp_answer_is_retried_over_tcp() {
    let fx = Fixture::new(CA);
    let dns = DnsWorld::new()
        .name(
            "big.example.com",
            Behaviour::Truncate(vec![(Answer::A(LO), 42)]),
        )
        .start()
        .await;
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&["big.example.com"]),
        routes: github_routes(),
    })
    .await;
    let profile = write_profile(&fx, "      - host: big.example.com\n", None);
    let o = check_json(
        &profile,
        &dns,
        &fx,
        &connect_to("big.example.com", 443, srv.port()),
    )
    .await;
    assert_eq!(o.code, 0, "{:#}", o.json);
    assert_eq!(
        target(&o.json, "big.example.com")["dns"]["addresses"][0]["ttl"],
        42
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_failures_name_what_was_presented() {
    let fx = Fixture::new(CA);
    let hosts = [
        "expired.example.com",
        "wrongname.example.com",
        "inspected.example.com",
        "selfsigned.example.com",
    ];
    let dns = DnsWorld::at_loopback(&hosts).start().await;
    let evil = Pki::new("Evil Corp Inspection CA");
    let expired_cert = fx.pki.leaf_expired(&["expired.example.com"]);
    let servers = [
        TestServer::start(Mode::Https {
            cert: expired_cert.clone(),
            routes: github_routes(),
        })
        .await,
        TestServer::start(Mode::Https {
            cert: fx.pki.leaf(&["other.example.org", "www.other.example.org"]),
            routes: github_routes(),
        })
        .await,
        TestServer::start(Mode::Https {
            cert: evil.leaf(&["inspected.example.com"]),
            routes: github_routes(),
        })
        .await,
        TestServer::start(Mode::Https {
            cert: Pki::self_signed(&["selfsigned.example.com"]),
            routes: github_routes(),
        })
        .await,
    ];
    let mut args = Vec::new();
    let mut yaml = String::new();
    for (h, s) in hosts.iter().zip(&servers) {
        args.extend(connect_to(h, 443, s.port()));
        yaml.push_str(&format!(
            "      - host: {h}\n        http: {{ path: /, expect_header: X-GitHub-Request-Id }}\n"
        ));
    }
    let profile = write_profile(&fx, &yaml, None);
    let o = check_json(&profile, &dns, &fx, &args).await;
    assert_eq!(o.code, 1);
    let year = expired_cert.not_after.year().to_string();
    let c = cause(&o.json, "expired.example.com");
    assert!(c.contains("expired at") && c.contains(&year), "{c}");
    let c = cause(&o.json, "wrongname.example.com");
    assert!(
        c.contains("is for other names: other.example.org, www.other.example.org"),
        "{c}"
    );
    let c = cause(&o.json, "inspected.example.com");
    assert!(
        c.contains("Evil Corp Inspection CA") && c.contains("not trusted"),
        "{c}"
    );
    let c = cause(&o.json, "selfsigned.example.com");
    assert!(c.contains("self-signed"), "{c}");
    // Even on failure the presented certificate is described.
    let t = target(&o.json, "inspected.example.com");
    let tls = t["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["phase"] == "tls")
        .expect("tls");
    assert_eq!(tls["tls"]["verified"], false);
    assert!(tls["tls"]["leaf"]["issuer"]
        .as_str()
        .unwrap_or("")
        .contains("Evil Corp"));
    // No HTTP request is made over an unverified connection.
    for s in &servers {
        assert!(s.seen_requests().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_silent_and_alerting_ports() {
    let fx = Fixture::new(CA);
    let hosts = [
        "closed.example.com",
        "silent.example.com",
        "alert.example.com",
        "oldtls.example.com",
    ];
    let dns = DnsWorld::at_loopback(&hosts).start().await;
    let silent = TestServer::start(Mode::SilentAfterAccept).await;
    let alert = TestServer::start(Mode::TlsAlert).await;
    let old = TestServer::start(Mode::ProtocolVersionAlert).await;
    let closed = closed_port();
    let mut args = vec![
        "--connect-to".to_string(),
        format!("closed.example.com:443:127.0.0.1:{closed}"),
    ];
    args.extend(connect_to("silent.example.com", 443, silent.port()));
    args.extend(connect_to("alert.example.com", 443, alert.port()));
    args.extend(connect_to("oldtls.example.com", 443, old.port()));
    args.extend(["--timeout".to_string(), "1s".to_string()]);
    let yaml: String = hosts
        .iter()
        .map(|h| format!("      - host: {h}\n"))
        .collect();
    let profile = write_profile(&fx, &yaml, None);
    let o = check_json(&profile, &dns, &fx, &args).await;
    assert_eq!(o.code, 1);
    let c = cause(&o.json, "closed.example.com");
    assert!(c.contains("connection refused"), "{c}");
    let c = cause(&o.json, "silent.example.com");
    assert!(
        c.contains("TLS handshake timed out after 1 s") && c.contains("not a TLS server"),
        "{c}"
    );
    let c = cause(&o.json, "alert.example.com");
    assert!(c.contains("alert `handshakefailure`"), "{c}");
    let c = cause(&o.json, "oldtls.example.com");
    assert!(
        c.contains("alert `protocolversion`") && c.contains("older than 1.2"),
        "{c}"
    );
    // Probed concurrently: the silent server's 1 s does not add up with the others.
    assert!(o.elapsed < Duration::from_secs(8), "took {:?}", o.elapsed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gating_decides_the_exit_code() {
    let fx = Fixture::new(CA);
    let dns = DnsWorld::new()
        .name("ok.example.com", loopback(60))
        .start()
        .await;
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&["ok.example.com"]),
        routes: github_routes(),
    })
    .await;
    let profile = write_profile(
        &fx,
        "      - host: ok.example.com\n",
        Some("      - host: missing.example.com\n"),
    );
    let base = connect_to("ok.example.com", 443, srv.port());
    // The failing capability is informational: exit 0, overall warn.
    let o = check_json(&profile, &dns, &fx, &base).await;
    assert_eq!(o.code, 0, "{:#}", o.json);
    assert_eq!(o.json["verdict"], "warn");
    assert_eq!(o.json["capabilities"][1]["gating"], false);
    assert_eq!(o.json["capabilities"][1]["verdict"], "fail");
    // --require makes it gate.
    let mut args = base.clone();
    args.extend(["--require".to_string(), "extra".to_string()]);
    let o = check_json(&profile, &dns, &fx, &args).await;
    assert_eq!(o.code, 1);
    assert_eq!(o.json["verdict"], "fail");
    // --capability restricts what is probed.
    let mut args = base.clone();
    args.extend(["--capability".to_string(), "core".to_string()]);
    let o = check_json(&profile, &dns, &fx, &args).await;
    assert_eq!(o.code, 0);
    assert_eq!(o.json["verdict"], "pass");
    assert_eq!(o.json["capabilities"].as_array().map(Vec::len), Some(1));
    assert_eq!(o.json["inactive"][0]["id"], "extra");
    // A capability named with --capability is judged as required for the run (issue 23 row
    // 10): `extra` fails, so the run fails, though the profile makes it informational.
    let mut args = base.clone();
    args.extend(["--capability".to_string(), "extra".to_string()]);
    let o = check_json(&profile, &dns, &fx, &args).await;
    assert_eq!(o.code, 1, "{:#}", o.json);
    assert_eq!(o.json["verdict"], "fail");
    assert_eq!(o.json["capabilities"][0]["id"], "extra");
    assert_eq!(o.json["capabilities"][0]["gating"], true);
    // A required capability is probed even when --capability leaves it out.
    let mut args = base.clone();
    args.extend([
        "--capability".to_string(),
        "core".to_string(),
        "--require".to_string(),
        "extra".to_string(),
    ]);
    let o = check_json(&profile, &dns, &fx, &args).await;
    assert_eq!(o.code, 1, "{:#}", o.json);
    assert_eq!(o.json["capabilities"].as_array().map(Vec::len), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_failing_while_ipv4_works_is_a_warning() {
    let fx = Fixture::new(CA);
    let dns = DnsWorld::new()
        .name(
            "dual.example.com",
            Behaviour::Records(vec![
                (Answer::A(LO), 60),
                (Answer::Aaaa(std::net::Ipv6Addr::LOCALHOST), 60),
            ]),
        )
        .start()
        .await;
    // Listens on 127.0.0.1 only: [::1] on the same port refuses.
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&["dual.example.com"]),
        routes: github_routes(),
    })
    .await;
    let profile = write_profile(&fx, "      - host: dual.example.com\n", None);
    let args = vec![
        "--connect-to".to_string(),
        format!("dual.example.com:443::{}", srv.port()),
    ];
    let o = check_json(&profile, &dns, &fx, &args).await;
    assert_eq!(o.code, 0, "{:#}", o.json);
    let t = target(&o.json, "dual.example.com");
    assert_eq!(t["verdict"], "warn", "{t:#}");
    let c = cause(&o.json, "dual.example.com");
    assert!(
        c.contains("[::1]") && c.contains("another address family works"),
        "{c}"
    );
    let fams: Vec<&str> = t["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["phase"] == "tcp")
        .map(|c| c["family"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(fams, vec!["ipv4", "ipv6"]);
}

/// The two families of a dual-stack name are probed side by side, each request on its own
/// connection (issue 25): the IPv4 server holds its answer until the IPv6 server has been asked,
/// so a prober that sent the IPv6 request only after the IPv4 answer would time out on IPv4.
/// Each check names its connection and when it started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_two_families_of_a_name_are_probed_side_by_side() {
    let fx = Fixture::new(CA);
    let host = "dual.example.com";
    let dns = DnsWorld::new()
        .name(
            host,
            Behaviour::Records(vec![
                (Answer::A(LO), 60),
                (Answer::Aaaa(std::net::Ipv6Addr::LOCALHOST), 60),
            ]),
        )
        .start()
        .await;
    // One port on both families: 127.0.0.1 and ::1 each get a server.
    let (v4, v6) = loop {
        let v4 = listen_loopback();
        let port = v4.local_addr().expect("port").port();
        if let Ok(v6) = tokio::net::TcpListener::bind((std::net::Ipv6Addr::LOCALHOST, port)).await {
            break (v4, v6);
        }
    };
    let six = TestServer::start_on(
        Mode::Https {
            cert: fx.pki.leaf(&[host]),
            routes: github_routes(),
        },
        v6,
    )
    .await;
    let four = TestServer::start_on(
        Mode::Https {
            cert: fx.pki.leaf(&[host]),
            routes: github_routes().held_until_accepted("/zen", six.requested()),
        },
        v4,
    )
    .await;
    let profile = write_profile(&fx, &fingerprinted(&[host], "/zen"), None);
    let args = vec![
        "--connect-to".to_string(),
        format!("{host}:443::{}", four.port()),
    ];
    let o = check_json(&profile, &dns, &fx, &args).await;
    assert_eq!(o.code, 0, "{:#}", o.json);
    let t = target(&o.json, host);
    assert_eq!(t["verdict"], "pass", "{t:#}");
    let checks = t["checks"].as_array().expect("checks");
    let http: Vec<&serde_json::Value> = checks.iter().filter(|c| c["phase"] == "http").collect();
    assert_eq!(http.len(), 2, "{t:#}");
    // TCP, TLS and HTTP of one family share a connection; the families have one each.
    for family in ["ipv4", "ipv6"] {
        let ids: Vec<&serde_json::Value> = checks
            .iter()
            .filter(|c| c["family"] == family)
            .map(|c| &c["connection"])
            .collect();
        assert_eq!(ids.len(), 3, "{family}: {t:#}");
        assert!(ids[0].is_u64() && ids.iter().all(|i| *i == ids[0]), "{t:#}");
        assert!(checks.iter().all(|c| c["start_ms"].is_u64()), "{t:#}");
    }
    assert_ne!(http[0]["connection"], http[1]["connection"], "{t:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_on_port_80_and_resolve_override() {
    let fx = Fixture::new(CA);
    // The DNS server knows nothing: --resolve supplies the address.
    let dns = DnsWorld::new().start().await;
    let srv = TestServer::start(Mode::Http {
        routes: Routes::new(HttpResponse::status(404))
            .route("/api/v3", HttpResponse::ok_with("X-GitHub-Request-Id", "1")),
    })
    .await;
    let profile = write_profile(&fx,
        "      - host: ghes.example.com\n        scheme: http\n        http: { path: /api/v3, expect_header: X-GitHub-Request-Id }\n",
        None,
    );
    let args = vec![
        "--resolve".to_string(),
        "ghes.example.com:80:127.0.0.1".to_string(),
        "--connect-to".to_string(),
        format!("ghes.example.com:80::{}", srv.port()),
    ];
    let o = check_json(&profile, &dns, &fx, &args).await;
    assert_eq!(o.code, 0, "{:#}", o.json);
    let t = target(&o.json, "ghes.example.com");
    assert_eq!(t["dns"]["source"], "override");
    assert_eq!(dns.queries(), 0, "--resolve must skip DNS");
    let http = t["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["phase"] == "http")
        .expect("http");
    assert_eq!(http["port"], 80);
    assert_eq!(http["http"]["status"], 200);
    assert!(t["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .all(|c| c["phase"] != "tls"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_output_says_the_cause_in_words() {
    let fx = Fixture::new(CA);
    let dns = DnsWorld::new().start().await;
    let profile = write_profile(
        &fx,
        "      - pattern: \"*.example.com\"\n        probe: [gone.example.com]\n",
        None,
    );
    let out = run(vec![
        "check".into(),
        "-p".into(),
        profile.clone(),
        "--dns-server".into(),
        dns.addr.to_string(),
        "--ca-file".into(),
        fx.ca.display().to_string(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FAIL  core — Core  [gating]"), "{text}");
    // The one cause covers the capability: its line points at the Diagnosis, which says it in
    // words (issue 23 row 3); --verbose shows the row with its own words.
    assert!(
        text.contains(
            "FAIL  core — Core  [gating]: 1 name: see cause 1: DNS denies public names (NXDOMAIN)"
        ),
        "{text}"
    );
    assert!(
        text.contains("says 1 name in example.com does not exist (NXDOMAIN)"),
        "{text}"
    );
    let verbose = run(vec![
        "check".into(),
        "-p".into(),
        profile.clone(),
        "--dns-server".into(),
        dns.addr.to_string(),
        "--ca-file".into(),
        fx.ca.display().to_string(),
        "--verbose".into(),
    ])
    .await;
    let verbose = String::from_utf8_lossy(&verbose.stdout);
    assert!(verbose.contains("FAIL  core — Core  [gating]"), "{verbose}");
    assert!(verbose.contains("*.example.com"), "{verbose}");
    assert!(
        verbose.contains("gone.example.com does not exist (NXDOMAIN from"),
        "{verbose}"
    );
    assert!(text.contains("Verdict: FAIL"), "{text}");
    // Without a terminal, progress is two plain lines on stderr, and no colour codes anywhere.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("probing 1 name "), "{err}");
    assert!(
        !text.contains('\u{1b}'),
        "no ANSI escapes when not a terminal"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_file_receives_the_report() {
    let fx = Fixture::new(CA);
    let dns = DnsWorld::new()
        .name("ok.example.com", loopback(60))
        .start()
        .await;
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&["ok.example.com"]),
        routes: github_routes(),
    })
    .await;
    let profile = write_profile(&fx, "      - host: ok.example.com\n", None);
    let report = fx.dir.path().join("report.json");
    let mut args = connect_to("ok.example.com", 443, srv.port());
    args.extend(["--output".to_string(), report.display().to_string()]);
    args.extend(fx.agreeing_trust_stores());
    let out = run([
        vec![
            "check".to_string(),
            "-p".into(),
            profile,
            "--format".into(),
            "json".into(),
            "--dns-server".into(),
            dns.addr.to_string(),
            "--ca-file".into(),
            fx.ca.display().to_string(),
        ],
        args,
    ]
    .concat())
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let json: Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report written")).expect("json");
    assert_eq!(json["verdict"], "pass");
    assert_eq!(json["tool"]["name"], "runner-preflight");
    assert!(String::from_utf8_lossy(&out.stderr).contains("report written to"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_exits_2_with_a_clear_message() {
    let fx = Fixture::new(CA);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["check".into(), "-p".into(), "ghes".into()],
            "needs variable `hostname`",
        ),
        (
            vec!["check".into(), "--capability".into(), "nope".into()],
            "valid capabilities are: essential, actions-download",
        ),
        (
            vec!["check".into(), "-p".into(), "nope".into()],
            "built-in profiles are dotcom, ghes, ghecom",
        ),
        (
            vec!["check".into(), "--resolve".into(), "github.com:443".into()],
            "expected HOST:PORT:ADDRESS",
        ),
        (
            vec!["check".into(), "--dns-server".into(), "not-an-ip".into()],
            "is not IP or IP:PORT",
        ),
        (
            vec!["check".into(), "--timeout".into(), "soon".into()],
            "is not a duration",
        ),
        (
            vec![
                "check".into(),
                "--ca-file".into(),
                "/nonexistent/ca.pem".into(),
            ],
            "--ca-file /nonexistent/ca.pem",
        ),
        (
            vec![
                "check".into(),
                "-p".into(),
                "ghes".into(),
                "--var".into(),
                "hostname=ghes.example.com".into(),
                "--var".into(),
                "scheme=ftp".into(),
            ],
            "expected one of: http, https",
        ),
        (
            vec![
                "check".into(),
                "-p".into(),
                "ghes".into(),
                "--var".into(),
                "hostname=bad host".into(),
            ],
            "is not valid",
        ),
        (
            vec![
                "check".into(),
                "-p".into(),
                "ghes".into(),
                "--var".into(),
                "hostname=ghes.example.com".into(),
                "--capability".into(),
                "caches".into(),
            ],
            "blob_storage is set",
        ),
        (vec!["frobnicate".into()], "unrecognized subcommand"),
    ];
    for (args, text) in cases {
        let out = run(args.clone()).await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(text), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("stack backtrace"),
            "{err}"
        );
    }
    // A profile error names file, line and column.
    let path = fx.dir.path().join("broken.yaml");
    std::fs::write(&path, "schema_version: 1\nname: t\ntitle: T\ncapabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - host: github.com\n        prots: [443]\n").expect("write");
    let out = run(vec![
        "check".into(),
        "-p".into(),
        path.display().to_string(),
    ])
    .await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains(&format!("{}:10:9: unknown field `prots`", path.display())),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_and_profile_show() {
    let out = run(vec!["profiles".into()]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    for p in ["dotcom", "ghes", "ghecom"] {
        assert!(text.contains(p), "{text}");
    }
    let out = run(vec!["profile".into(), "show".into(), "dotcom".into()]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("*.blob.core.windows.net"), "{text}");
    assert!(
        text.contains("productionresultssa19.blob.core.windows.net"),
        "{text}"
    );
    assert!(
        text.contains("api.github.com  [https:443 GET /zen expect x-github-request-id]"),
        "{text}"
    );
    let out = run(vec![
        "profile".into(),
        "show".into(),
        "ghes".into(),
        "--var".into(),
        "hostname=ghes.example.com".into(),
    ])
    .await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(text.contains("codeload.ghes.example.com"), "{text}");
    assert!(
        !text.contains("api.github.com"),
        "air-gapped GHES must not probe github.com: {text}"
    );
    let out = run(vec![
        "profile".into(),
        "show".into(),
        "ghes".into(),
        "--var".into(),
        "hostname=ghes.example.com".into(),
        "--var".into(),
        "connect=on".into(),
    ])
    .await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("api.github.com"));
}

/// The whole dotcom profile against a loopback world that plays GitHub: every documented name
/// resolves, presents a certificate from the test CA and answers with GitHub's headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_dotcom_profile_passes_against_a_loopback_github() {
    let fx = Fixture::new(CA);
    let profile = runner_preflight::profile::resolve("dotcom").expect("builtin");
    let plan = runner_preflight::plan::build(&profile, &Default::default()).expect("plan");
    let hosts = plan.hosts();
    assert!(hosts.len() >= 40, "dotcom probes {} names", hosts.len());
    let mut world = DnsWorld::new();
    for (i, h) in hosts.iter().enumerate() {
        // Every third name sits behind a CNAME chain into another zone, as GitHub's do.
        if i % 3 == 0 {
            let edge = format!("edge{i}.l-0007.l-msedge.example.net");
            world.set(h, cname(&edge, 300));
            world.set(&edge, loopback(60));
        } else {
            world.set(h, loopback(60));
        }
    }
    let dns = world.start().await;
    let names: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&names),
        routes: Routes::github(),
    })
    .await;
    // Throughput has its own tests against throttled servers.
    let args = vec![
        "--connect-to".to_string(),
        format!(":443:127.0.0.1:{}", srv.port()),
        "--no-throughput".to_string(),
    ];
    let o = check_json("dotcom", &dns, &fx, &args).await;
    assert_eq!(o.code, 0, "{:#}", o.json);
    assert_eq!(o.json["verdict"], "pass");
    assert_eq!(o.json["summary"]["pass"].as_u64(), Some(hosts.len() as u64));
    assert_eq!(o.json["summary"]["fail"], 0);
    for cap in o.json["capabilities"].as_array().expect("caps") {
        assert_eq!(cap["verdict"], "pass", "{}", cap["id"]);
    }
    // The POST health probe really posted.
    assert!(srv
        .seen_requests()
        .iter()
        .any(|r| r.method == "POST" && r.path == "/_apis/health"));
    assert!(o.elapsed < Duration::from_secs(20), "took {:?}", o.elapsed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_overrides_are_per_port_as_in_curl() {
    let fx = Fixture::new(CA);
    let dns = DnsWorld::new()
        .name(
            "mirror.example.com",
            Behaviour::Records(vec![(Answer::A(LO), 60)]),
        )
        .start()
        .await;
    let a443 = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&["mirror.example.com"]),
        routes: github_routes(),
    })
    .await;
    let a8443 = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&["mirror.example.com"]),
        routes: github_routes(),
    })
    .await;
    let profile = write_profile(
        &fx,
        "      - host: mirror.example.com\n        ports: [443, 8443]\n",
        None,
    );
    // Port 443 is pinned by --resolve to 127.0.0.2 (--connect-to keeps that address, changes the
    // port); port 8443 still needs DNS, which answers 127.0.0.1.
    let args = vec![
        "--resolve".to_string(),
        "mirror.example.com:443:127.0.0.2".to_string(),
        "--connect-to".to_string(),
        format!("mirror.example.com:443::{}", a443.port()),
        "--connect-to".to_string(),
        format!("mirror.example.com:8443::{}", a8443.port()),
    ];
    let o = check_json(&profile, &dns, &fx, &args).await;
    let t = target(&o.json, "mirror.example.com");
    assert!(
        dns.queries() > 0,
        "port 8443 is not covered: DNS must be asked"
    );
    assert_eq!(t["dns"]["source"], "dns");
    let tcp: Vec<(u64, String)> = t["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["phase"] == "tcp")
        .map(|c| {
            (
                c["port"].as_u64().unwrap_or(0),
                c["address"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert!(
        tcp.contains(&(443, format!("127.0.0.2:{}", a443.port()))),
        "{tcp:?}"
    );
    assert!(
        tcp.contains(&(8443, format!("127.0.0.1:{}", a8443.port()))),
        "{tcp:?}"
    );
    // 8443 (DNS) gets through; 443 went to the pinned 127.0.0.2, where nothing listens.
    let passed: Vec<u64> = t["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["phase"] == "tls" && c["verdict"] == "pass")
        .map(|c| c["port"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(passed, vec![8443], "{t:#}");
}
