//! The CNAME walk (`probe::dns`): how many questions a name costs and how its chain ends, over a
//! recursive server (RA set, the whole chain in one answer) and over an authoritative-only one
//! (RA clear, one hop per answer). A recursive answer that carries the chain and ends without
//! data is a complete NODATA or NXDOMAIN for the chain's last name (RFC 2308 §2): one question per
//! record type (A and AAAA), whatever the chain's length; hop by hop, one per link and type.

use std::time::Duration;

use runner_preflight::probe::dns::{DnsClient, DnsFailure, Resolution, MAX_CHAIN};

use crate::world::*;

/// Links of the over-long chain (each in its own zone).
const LONG: usize = 20;

/// One world for every case: a chain into two other zones, a loop, an over-long chain, a
/// dangling CNAME and a chain to a name without addresses.
fn names(w: &mut DnsWorld) {
    w.set("front.github.example", cname("edge.cdn.example", 300))
        .set("edge.cdn.example", cname("node7.lb.example", 120))
        .set(
            "node7.lb.example",
            Behaviour::Records(vec![a([192, 0, 2, 7], 60)]),
        )
        .set("loop-a.github.example", cname("loop-b.cdn.example", 60))
        .set("loop-b.cdn.example", cname("loop-a.github.example", 60))
        .set("dangling.github.example", cname("gone.cdn.example", 60))
        .set("gone.cdn.example", Behaviour::NxDomain)
        .set("nodata.github.example", cname("empty.cdn.example", 60))
        .set("empty.cdn.example", Behaviour::Records(vec![]))
        .set("long.github.example", cname("hop0.chain0.example", 60));
    for i in 0..LONG {
        w.set(
            &format!("hop{i}.chain{i}.example"),
            cname(&format!("hop{}.chain{}.example", i + 1, i + 1), 60),
        );
    }
    w.set(&format!("hop{LONG}.chain{LONG}.example"), loopback(60));
}

/// The server kinds: (label, chasing, RA).
const SERVERS: [(&str, bool, Option<bool>); 3] = [
    ("recursive", true, None),
    ("authoritative, one hop per answer", false, None),
    // Authoritative (RA clear) but holding every zone: the chain in one answer, and a negative
    // answer carries the SOA of the last name's zone.
    ("authoritative for every zone", true, Some(false)),
];

async fn server(chasing: bool, ra: Option<bool>) -> DnsServer {
    let mut w = DnsWorld::new();
    names(&mut w);
    let w = w.chasing(chasing);
    let w = match ra {
        Some(on) => w.recursion_available(on),
        None => w,
    };
    w.start().await
}

/// Resolve `name`; the resolution and how many questions the server received for it.
async fn resolve(dns: &DnsServer, name: &str) -> (Resolution, usize) {
    let client = DnsClient {
        servers: vec![dns.addr],
        timeout: Duration::from_secs(2),
    };
    let before = dns.queries();
    let r = client.resolve(name).await;
    (r, dns.queries() - before)
}

fn chain_of(r: &Resolution) -> Vec<(&str, &str)> {
    r.chain
        .iter()
        .map(|l| (l.name.as_str(), l.target.as_str()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_costs_one_question_per_type_from_a_recursive_server() {
    for (label, chasing, ra) in SERVERS {
        let dns = server(chasing, ra).await;
        let hop_by_hop = !chasing;
        // The chain resolves: A data at its end, no AAAA (the answer is NODATA for node7).
        let (r, asked) = resolve(&dns, "front.github.example").await;
        assert_eq!(r.failure, None, "{label}: {r:?}");
        assert_eq!(
            chain_of(&r),
            [
                ("front.github.example", "edge.cdn.example"),
                ("edge.cdn.example", "node7.lb.example"),
            ],
            "{label}"
        );
        assert_eq!(r.chain[0].ttl, 300, "{label}");
        assert_eq!(r.chain[1].ttl, 120, "{label}");
        assert_eq!(r.addresses.len(), 1, "{label}: {r:?}");
        assert_eq!(r.addresses[0].address.to_string(), "192.0.2.7", "{label}");
        assert_eq!(r.addresses[0].ttl, Some(60), "{label}");
        // A and AAAA once each; hop by hop, once per name of the chain and type.
        assert_eq!(asked, if hop_by_hop { 6 } else { 2 }, "{label}: questions");

        // A name without CNAME: one question per type everywhere.
        let (r, asked) = resolve(&dns, "node7.lb.example").await;
        assert_eq!(r.failure, None, "{label}");
        assert_eq!(asked, 2, "{label}: questions");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loop_is_classified_exactly_over_every_server() {
    for (label, chasing, ra) in SERVERS {
        let dns = server(chasing, ra).await;
        let (r, asked) = resolve(&dns, "loop-a.github.example").await;
        assert_eq!(
            r.failure,
            Some(DnsFailure::CnameLoop {
                at: "loop-a.github.example".into()
            }),
            "{label}: {r:?}"
        );
        // Recorded up to where it closes.
        assert_eq!(
            chain_of(&r),
            [
                ("loop-a.github.example", "loop-b.cdn.example"),
                ("loop-b.cdn.example", "loop-a.github.example"),
            ],
            "{label}"
        );
        assert_eq!(asked, if chasing { 2 } else { 4 }, "{label}: questions");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_long_chain_is_classified_exactly_over_every_server() {
    for (label, chasing, ra) in SERVERS {
        let dns = server(chasing, ra).await;
        let (r, asked) = resolve(&dns, "long.github.example").await;
        assert_eq!(
            r.failure,
            Some(DnsFailure::ChainTooLong { limit: MAX_CHAIN }),
            "{label}: {r:?}"
        );
        // Recorded up to the limit, not beyond.
        assert_eq!(r.chain.len(), MAX_CHAIN + 1, "{label}");
        assert!(r.addresses.is_empty(), "{label}");
        // Hop by hop: the 13th answer shows the chain is too long, for each type.
        let hop_by_hop = 2 * (MAX_CHAIN + 1);
        assert_eq!(
            asked,
            if chasing { 2 } else { hop_by_hop },
            "{label}: questions"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dangling_and_empty_chains_name_their_last_link_over_every_server() {
    for (label, chasing, ra) in SERVERS {
        let dns = server(chasing, ra).await;
        // NXDOMAIN at a link: the link that does not exist is named.
        let (r, asked) = resolve(&dns, "dangling.github.example").await;
        match &r.failure {
            Some(DnsFailure::NxDomain { name, server }) => {
                assert_eq!(name, "gone.cdn.example", "{label}");
                assert_eq!(*server, dns.addr, "{label}");
            }
            other => panic!("{label}: expected NXDOMAIN at the link, got {other:?}"),
        }
        assert_eq!(
            chain_of(&r),
            [("dangling.github.example", "gone.cdn.example")],
            "{label}"
        );
        assert_eq!(asked, if chasing { 2 } else { 4 }, "{label}: questions");

        // The chain ends at a name with neither A nor AAAA.
        let (r, asked) = resolve(&dns, "nodata.github.example").await;
        assert_eq!(r.failure, Some(DnsFailure::NoAddresses), "{label}: {r:?}");
        assert_eq!(r.chain.len(), 1, "{label}");
        assert_eq!(asked, if chasing { 2 } else { 4 }, "{label}: questions");
    }
}

/// Through the binary: a chain name of a recursive server costs the prober two questions (A and
/// AAAA), the report shows the whole chain, and the name passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_asks_a_recursive_server_twice_per_chain_name() {
    let fx = Fixture::new("DNS Walk Test Root CA");
    let mut w = DnsWorld::new();
    w.set("api.github.com", cname("edge.cdn.example.net", 300))
        .set("edge.cdn.example.net", cname("node7.lb.example.org", 120))
        .set("node7.lb.example.org", loopback(60));
    let dns = w.chasing(true).start().await;
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&["api.github.com"]),
        routes: github_routes(),
    })
    .await;
    let profile = fx.profile(&Profile::new("walk", "DNS walk").capability(
        "core",
        "Core",
        true,
        &fingerprinted(&["api.github.com"], "/zen"),
    ));
    let mut args = strings(&[
        "check",
        "--profile",
        &profile,
        "--format",
        "json",
        "--quiet",
        "--no-throughput",
        "--timeout",
        "2s",
        "--dns-server",
        &dns.addr_string(),
        "--ca-file",
        &fx.ca.display().to_string(),
    ]);
    args.extend(fx.agreeing_trust_stores());
    args.extend(connect_to("api.github.com", 443, srv.port()));
    let o = run_json(args).await;
    assert_eq!(o.code, 0, "{:#}\n{}", o.json, o.stderr);
    let t = target(&o.json, "api.github.com");
    assert_eq!(
        t["dns"]["chain"].as_array().expect("chain").len(),
        2,
        "{t:#}"
    );
    assert_eq!(dns.queries(), 2, "A and AAAA, once each");
}
