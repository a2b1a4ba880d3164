//! Faults of the path rather than of a server, made by a real kernel in a network namespace of
//! the test's own (root; under CI=true a missing tool fails the test): a path-MTU black hole.
//! Issue: "The failures real networks have" (path-MTU black holes, container networks, idle
//! cuts, IPv6-only hosts).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::world::*;

const CA: &str = "Path Faults Root CA";
/// `--timeout` of the runs here.
const TIMEOUT: Duration = Duration::from_secs(2);
/// What a probe may take beyond `--timeout` (as in the fault matrix, `faults.rs`): the clamped
/// attempts end with the first.
const SLACK: Duration = Duration::from_secs(1);

/// `runner-preflight check --format json --no-throughput` with `args`, run inside `ns`.
async fn check_in(ns: &Netns, fx: &Fixture, hosts: &[&str], mut extra: Vec<String>) -> Outcome {
    extra.push("--no-throughput".into());
    run_in(ns, fx, hosts, extra).await
}

/// `runner-preflight check --format json` with `args`, run inside `ns`.
async fn run_in(ns: &Netns, fx: &Fixture, hosts: &[&str], extra: Vec<String>) -> Outcome {
    let started = Instant::now();
    let out = command_in(ns, fx, hosts, "json", extra).await;
    Outcome::of(out, started.elapsed())
}

/// `runner-preflight check --format FORMAT` with `args`, run inside `ns` (container.rs runs its
/// checks with it too).
pub(crate) async fn command_in(
    ns: &Netns,
    fx: &Fixture,
    hosts: &[&str],
    format: &str,
    extra: Vec<String>,
) -> std::process::Output {
    let profile = fx.profile_file(
        "path.yaml",
        Profile::new("path", "Path faults")
            .capability("core", "Core", true, &fingerprinted(hosts, "/zen"))
            .yaml(),
    );
    let mut cmd: Vec<String> = vec![
        "netns".into(),
        "exec".into(),
        ns.name.clone(),
        env!("CARGO_BIN_EXE_runner-preflight").into(),
        "check".into(),
        "--profile".into(),
        profile,
        "--format".into(),
        format.into(),
        "--quiet".into(),
        "--ca-file".into(),
        fx.ca.display().to_string(),
        "--timeout".into(),
        format!("{}s", TIMEOUT.as_secs()),
    ];
    // git and node trust the test CA as the runner does: no trust-store warnings.
    cmd.extend(fx.agreeing_trust_stores());
    cmd.extend(extra);
    // Wide enough that no table cell wraps the words a test looks for.
    tokio::task::spawn_blocking(move || hermetic("ip").args(cmd).env("COLUMNS", "400").output())
        .await
        .expect("thread")
        .expect("run ip netns exec")
}

/// `--resolve NAME:443:127.0.0.1 --connect-to NAME:443:127.0.0.1:PORT` for each name and port.
fn pinned(names: &[(&str, u16)]) -> Vec<String> {
    let mut args = Vec::new();
    for (name, port) in names {
        args.extend(["--resolve".into(), format!("{name}:443:127.0.0.1")]);
        args.extend(connect_to(name, 443, *port));
    }
    args
}

/// The diagnosis entries of `kind`.
fn causes<'a>(json: &'a Value, kind: &str) -> Vec<&'a Value> {
    json["diagnosis"]
        .as_array()
        .map(|a| a.iter().filter(|d| d["kind"] == kind).collect())
        .unwrap_or_default()
}

/// A leaf whose chain makes a server flight of about 6 KB: 220 names of 26 characters.
fn big_certificate(pki: &Pki, name: &str) -> CertKey {
    let extra: Vec<String> = (0..220)
        .map(|i| format!("san-{i:04}.mtu.example.com"))
        .collect();
    let mut names = vec![name];
    names.extend(extra.iter().map(String::as_str));
    let cert = pki.leaf(&names);
    let size: usize = cert.chain.iter().map(|c| c.len()).sum();
    assert!(size > 6000, "the chain is only {size} bytes");
    cert
}

/// TLS answers that stall because full-size packets never arrive: nftables in the namespace
/// drops every TCP packet longer than 1280 bytes from the servers, and no ICMP says so. One
/// server's certificate flight (a 6 KB chain) cannot arrive; the other's handshake fits, but its
/// answer (a 6 KB header) cannot. Both work over a connection announcing MSS 1200: the report
/// names the black hole once, for both, and still ends within --timeout (+ 1 s). Without the
/// rule both pass, and the connection's path (MSS, path MTU, interface) is reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_mtu_black_hole_is_named_with_the_mss_that_works() {
    if !namespaces_available(&["ip", "nft"]) {
        return;
    }
    let ns = Netns::new(Path::new("ip"), "mtu");
    // One packet per TCP segment on this loopback (no 64 KiB GSO super-packets), so the rule
    // below sees what a real link would carry.
    ns.run_all(&["ip link set lo gso_max_segs 1"]);
    let fx = Fixture::new(CA);
    let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let tls = TestServer::start_on(
        Mode::Https {
            cert: big_certificate(&fx.pki, "mtu-tls.example.com"),
            routes: github_routes(),
        },
        ns.listen(any),
    )
    .await;
    let http = TestServer::start_on(
        Mode::Https {
            cert: fx.pki.leaf(&["mtu-http.example.com"]),
            routes: Routes::new(
                HttpResponse::ok_with(FINGERPRINT, "ABCD:1234")
                    .header("x-padding", &"p".repeat(6000)),
            ),
        },
        ns.listen(any),
    )
    .await;
    let hosts = ["mtu-tls.example.com", "mtu-http.example.com"];
    let args = pinned(&[(hosts[0], tls.port()), (hosts[1], http.port())]);

    // Without the rule: both pass, and each connection's path is reported.
    let o = check_in(&ns, &fx, &hosts, args.clone()).await;
    assert_eq!(o.code, 0, "{:#}", o.json);
    let connect = &target(&o.json, hosts[0])["checks"][0];
    assert_eq!(connect["step"], "connect", "{connect:#}");
    assert_eq!(connect["path"]["interface"], "lo", "{connect:#}");
    assert!(
        connect["path"]["mss"].as_u64().is_some_and(|m| m > 1200),
        "{connect:#}"
    );
    assert!(
        connect["path"]["path_mtu"].as_u64().is_some(),
        "{connect:#}"
    );

    ns.run_all(&[
        "nft add table inet rpmtu",
        "nft add chain inet rpmtu in { type filter hook input priority 0 ; }",
        &format!(
            "nft add rule inet rpmtu in tcp sport {{ {}, {} }} meta length > 1280 drop",
            tls.port(),
            http.port()
        ),
    ]);
    let o = check_in(&ns, &fx, &hosts, args).await;
    assert_eq!(o.code, 1, "{:#}", o.json);
    for (host, what) in [
        (hosts[0], "TLS handshake"),
        (hosts[1], "no answer to GET /zen"),
    ] {
        let t = target(&o.json, host);
        assert_eq!(t["verdict"], "fail", "{t:#}");
        let c = cause(&o.json, host);
        assert!(
            c.contains(what) && c.contains("works at MSS 1200"),
            "{host}: {c}"
        );
        assert!(c.contains("path-MTU black hole"), "{host}: {c}");
        let ms = t["ms"].as_u64().expect("ms");
        assert!(
            Duration::from_millis(ms) <= TIMEOUT + SLACK,
            "{host} took {ms} ms, more than --timeout + 1 s"
        );
    }
    // One root cause for both, with its fix; nothing left unexplained.
    let mtu = causes(&o.json, "path_mtu_black_hole");
    assert_eq!(mtu.len(), 1, "{:#}", o.json["diagnosis"]);
    assert_eq!(
        mtu[0]["hosts"],
        serde_json::json!(["mtu-http.example.com", "mtu-tls.example.com"])
    );
    assert_eq!(mtu[0]["evidence"]["works_at_mss"], 1200);
    let fix = mtu[0]["fix"].as_str().unwrap_or_default();
    for w in [
        "clamp the TCP MSS",
        "ICMP type 3 code 4",
        "ICMPv6 type 2",
        "lower the MTU of lo",
    ] {
        assert!(fix.contains(w), "fix lacks {w:?}: {fix}");
    }
    assert!(
        causes(&o.json, "unexplained").is_empty(),
        "{:#}",
        o.json["diagnosis"]
    );
    assert!(o.elapsed <= TIMEOUT + SLACK, "the run took {:?}", o.elapsed);
}

/// The same black hole on the way up: nftables drops every TCP packet longer than 1280 bytes
/// *to* the upload sink, so the empty request that measures the round trip passes and the
/// first 16 KiB body never arrives. The same body over a connection announcing MSS 1200 is
/// answered: the upload fails with the path-MTU black hole, within --timeout + 1 s (not at the
/// end of the 3 s sample), and the diagnosis names it once, blocking throughput. Without the
/// rule the same upload passes, every byte confirmed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_into_a_path_mtu_black_hole_is_named_with_the_mss_that_works() {
    if !namespaces_available(&["ip", "nft"]) {
        return;
    }
    let ns = Netns::new(Path::new("ip"), "mtuup");
    ns.run_all(&["ip link set lo gso_max_segs 1"]);
    let fx = Fixture::new(CA);
    let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let host = "mtu-up.example.com";
    let server = TestServer::start_on(
        Mode::Https {
            cert: fx.pki.leaf(&[host]),
            routes: github_routes(),
        },
        ns.listen(any),
    )
    .await;
    let sink = crate::throttle::upload_server_on(ns.listen(any), 0);
    let mut args = pinned(&[(host, server.port())]);
    args.extend([
        "--upload-url".into(),
        format!("http://up.example.com:{}/sink", sink.addr.port()),
        "--resolve".into(),
        "up.example.com:*:127.0.0.1".into(),
        "--throughput-time".into(),
        "3s".into(),
        "--throughput-max-bytes".into(),
        "262144".into(),
    ]);
    let upload = |json: &Value| -> Value {
        json["throughput"]["directions"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["direction"] == "upload"))
            .cloned()
            .expect("upload direction")
    };

    let o = run_in(&ns, &fx, &[host], args.clone()).await;
    let up = upload(&o.json);
    // On loopback the bodies may arrive faster than can be timed: a pass without a rate.
    assert_eq!(up["verdict"], "pass", "{up:#}");
    assert!(up["failure"].is_null(), "{up:#}");
    assert_eq!(up["bytes"], 262144, "{up:#}");

    ns.run_all(&[
        "nft add table inet rpmtu",
        "nft add chain inet rpmtu in { type filter hook input priority 0 ; }",
        &format!(
            "nft add rule inet rpmtu in tcp dport {} meta length > 1280 drop",
            sink.addr.port()
        ),
    ]);
    let o = run_in(&ns, &fx, &[host], args).await;
    // The probe itself is not on that path.
    assert_eq!(target(&o.json, host)["verdict"], "pass", "{:#}", o.json);
    let up = upload(&o.json);
    assert_eq!(up["verdict"], "fail", "{up:#}");
    assert_eq!(up["failure"]["kind"], "path_mtu_black_hole", "{up:#}");
    assert_eq!(up["failure"]["works_at_mss"], 1200, "{up:#}");
    assert_eq!(up["failure"]["body_bytes"], 16384, "{up:#}");
    let detail = up["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("MSS 1200") && detail.contains("path-MTU black hole"),
        "{detail}"
    );
    let ms = up["elapsed_ms"].as_u64().expect("elapsed_ms");
    assert!(
        Duration::from_millis(ms) <= TIMEOUT + SLACK,
        "the upload took {ms} ms, more than --timeout + 1 s"
    );
    let mtu = causes(&o.json, "path_mtu_black_hole");
    assert_eq!(mtu.len(), 1, "{:#}", o.json["diagnosis"]);
    assert_eq!(mtu[0]["blocks"], serde_json::json!(["throughput"]));
    assert_eq!(mtu[0]["hosts"], serde_json::json!(["up.example.com"]));
    assert_eq!(mtu[0]["evidence"]["endpoints"][0]["upload_bytes"], 16384);
    let summary = mtu[0]["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("the upload stalls"), "{summary}");
    assert!(
        causes(&o.json, "unexplained").is_empty(),
        "{:#}",
        o.json["diagnosis"]
    );
}

/// A DNS server inside `ns` answering `names` (A 192.0.2.1, and with `dns64` the AAAA
/// 64:ff9b::c000:201 a DNS64 resolver synthesises from it) and `ipv4only.arpa` (its A records
/// the two well-known addresses RFC 7050 gives it, and with `dns64` their synthesised AAAA).
fn dns_in(ns: &Netns, names: &[&str], dns64: bool) -> DnsServer {
    let record = |v4: [u8; 4]| {
        let mut r = vec![a(v4, 60)];
        if dns64 {
            let [_, _, c, d] = v4;
            r.push((
                Answer::Aaaa(std::net::Ipv6Addr::new(
                    0x64,
                    0xff9b,
                    0,
                    0,
                    0,
                    0,
                    0xc000,
                    u16::from_be_bytes([c, d]),
                )),
                60,
            ));
        }
        r
    };
    let mut world = DnsWorld::new();
    for n in names {
        world.set(n, Behaviour::Records(record([192, 0, 2, 1])));
    }
    let mut well_known = record([192, 0, 0, 170]);
    well_known.extend(record([192, 0, 0, 171]));
    world.set("ipv4only.arpa", Behaviour::Records(well_known));
    let (udp, tcp) = ns.udp_and_tcp();
    world.start_on(udp, tcp)
}

/// An IPv6-only host: its namespace has no IPv4 route at all, an IPv6 default route, and the
/// address 64:ff9b::c000:201 — what DNS64 makes of 192.0.2.1 — served by a listener standing in
/// for the NAT64 translator. With a DNS64 resolver, the names pass "via NAT64" (their A record
/// fails at once, ENETUNREACH, which costs the runner nothing). Without DNS64 they fail under
/// one cause — no IPv4 route and no IPv6 address — instead of a firewall's, and at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ipv6_only_host_passes_through_nat64_and_without_dns64_gets_one_cause() {
    if !namespaces_available(&["ip"]) {
        return;
    }
    let ns = Netns::new(Path::new("ip"), "v6only");
    ns.run_all(&[
        // An uplink of its own (a veth pair inside the namespace) carrying only IPv6.
        "ip link add d0 type veth peer name d1",
        "ip link set d1 up",
        "ip link set d0 up",
        "ip -6 addr add 2001:db8:64::2/64 dev d0 nodad",
        "ip -6 route add default dev d0",
        "ip -6 addr add 64:ff9b::c000:201/128 dev lo nodad",
    ]);
    let fx = Fixture::new(CA);
    let hosts = ["gh.example.com", "api.example.com"];
    let translator: SocketAddr = "[64:ff9b::c000:201]:443".parse().unwrap();
    let _server = TestServer::start_on(
        Mode::Https {
            cert: fx.pki.leaf(&hosts),
            routes: github_routes(),
        },
        ns.listen(translator),
    )
    .await;

    let dns = dns_in(&ns, &hosts, true);
    let o = check_in(
        &ns,
        &fx,
        &hosts,
        vec!["--dns-server".into(), dns.addr.to_string()],
    )
    .await;
    assert_eq!(o.code, 0, "{:#}", o.json);
    for host in hosts {
        let t = target(&o.json, host);
        assert_eq!(t["verdict"], "pass", "{t:#}");
        let notes = t["dns"]["notes"].to_string();
        assert!(
            notes.contains("64:ff9b::c000:201 via NAT64 (prefix 64:ff9b::/96)"),
            "{host}: {notes}"
        );
        assert_eq!(t["dns"]["dns64"]["kind"], "prefix", "{t:#}");
    }
    assert!(
        o.json["diagnosis"].as_array().is_some_and(|d| d.is_empty()),
        "{:#}",
        o.json["diagnosis"]
    );

    drop(dns);
    let dns = dns_in(&ns, &hosts, false);
    let o = check_in(
        &ns,
        &fx,
        &hosts,
        vec!["--dns-server".into(), dns.addr.to_string()],
    )
    .await;
    assert_eq!(o.code, 1, "{:#}", o.json);
    let kinds: Vec<&str> = o.json["diagnosis"]
        .as_array()
        .expect("diagnosis")
        .iter()
        .map(|d| d["kind"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(kinds, ["no_ipv4_route"], "{:#}", o.json["diagnosis"]);
    let d = &o.json["diagnosis"][0];
    let summary = d["summary"].as_str().unwrap_or_default();
    assert!(
        summary.starts_with("This host has no IPv4 route and api.example.com, gh.example.com have no IPv6 address: add IPv4 or DNS64 + NAT64.")
            && summary.contains("there is no DNS64"),
        "{summary}"
    );
    let fix = d["fix"].as_str().unwrap_or_default();
    assert!(
        fix.contains("DNS64") && fix.contains("NAT64") && !fix.contains("allow outbound"),
        "{fix}"
    );
    for host in hosts {
        let c = cause(&o.json, host);
        assert!(
            c.contains("network unreachable (this host has no IPv4 route)"),
            "{host}: {c}"
        );
        // Per family: what the name has, and which routes this host has for it.
        let t = target(&o.json, host);
        assert_eq!(
            t["dns"]["families_summary"], "IPv4: 1 address, no route; IPv6: no address",
            "{t:#}"
        );
        let v4 = &t["dns"]["families"][0];
        assert_eq!(
            (&v4["family"], &v4["addresses"], &v4["has_route"]),
            (&"ipv4".into(), &1.into(), &false.into()),
            "{t:#}"
        );
    }
    // Nothing waits for a route that does not exist.
    assert!(o.elapsed < TIMEOUT, "the run took {:?}", o.elapsed);
    // The table says it under each name's cause.
    let table = Ran::from(
        command_in(
            &ns,
            &fx,
            &hosts,
            "table",
            vec![
                "--dns-server".into(),
                dns.addr.to_string(),
                "--no-throughput".into(),
                "--verbose".into(),
            ],
        )
        .await,
    );
    assert_eq!(table.code, 1, "{}", table.stderr);
    assert!(
        table
            .stdout
            .contains("IPv4: 1 address, no route; IPv6: no address"),
        "{}",
        table.stdout
    );
}
