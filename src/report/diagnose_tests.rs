//! The grouping on constructed outcomes: each kind, the counts, one cause per failing target,
//! and (proptest) every random outcome set explained exactly once, deterministically.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::env::proxy::ProxyUrl;
use crate::probe::connect::ProxyStatus;
use crate::probe::outcome::{
    AddressRecord, CheckObservation, DnsObservation, HttpInfo, ProxyUse, TargetOutcome, TlsInfo,
};
use crate::report::findings::NetworkReport;
use crate::report::{
    judge_target, CapabilityReport, EntryReport, FailOn, ProfileInfo, Settings, Summary, ToolInfo,
};

const DNS: &str = "10.255.255.53:53";

fn sa(s: &str) -> SocketAddr {
    s.parse().expect("socket address")
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

fn dns_ok(addr: &str) -> DnsObservation {
    let a = ip(addr);
    DnsObservation {
        server: Some(sa(DNS)),
        addresses: vec![AddressRecord {
            address: a,
            family: Family::of(&a),
            ttl: Some(60),
        }],
        dns_addresses: vec![a],
        ..DnsObservation::none()
    }
}

fn dns_fail(f: DnsFailure) -> DnsObservation {
    DnsObservation {
        failure: Some(f),
        ..DnsObservation::none()
    }
}

fn obs(port: u16, addr: &str, step: Step) -> CheckObservation {
    let a = sa(&format!("{addr}:{port}"));
    CheckObservation {
        port,
        family: Some(Family::of(&a.ip())),
        address: Some(a),
        ms: 1,
        step,
    }
}

fn connect(port: u16, addr: &str, failure: Option<TcpFailure>) -> CheckObservation {
    obs(
        port,
        addr,
        Step::Connect {
            redirected: None,
            only_family: true,
            failure,
        },
    )
}

fn http(port: u16, addr: &str, fingerprint: bool, server: &str, status: u16) -> CheckObservation {
    obs(
        port,
        addr,
        Step::Http {
            http: HttpInfo {
                method: "GET".into(),
                path: "/".into(),
                status: Some(status),
                expect_header: Some("x-github-request-id".into()),
                header_present: Some(fingerprint),
                server: Some(server.into()),
                date: None,
                location: None,
                total_size: None,
            },
            proxy: None,
            failure: None,
        },
    )
}

fn tls(port: u16, addr: &str, failure: Option<TlsFailure>) -> CheckObservation {
    obs(
        port,
        addr,
        Step::Tls {
            tls: TlsInfo::empty(),
            through_proxy: false,
            failure,
        },
    )
}

fn outcome(host: &str, dns: DnsObservation, checks: Vec<CheckObservation>) -> TargetOutcome {
    TargetOutcome {
        host: host.into(),
        route: Route::Direct,
        dns,
        checks,
        ms: 1,
        incomplete: None,
    }
}

/// A name that passes at `addr`.
fn ok(host: &str, addr: &str) -> TargetOutcome {
    outcome(
        host,
        dns_ok(addr),
        vec![
            connect(443, addr, None),
            tls(443, addr, None),
            http(443, addr, true, "GitHub.com", 200),
        ],
    )
}

fn silent(host: &str) -> TargetOutcome {
    outcome(
        host,
        dns_fail(DnsFailure::Timeout {
            servers: vec![sa(DNS)],
            after: Duration::from_secs(5),
        }),
        vec![],
    )
}

fn nxdomain(host: &str) -> TargetOutcome {
    outcome(
        host,
        dns_fail(DnsFailure::NxDomain {
            name: host.into(),
            server: sa(DNS),
        }),
        vec![],
    )
}

fn dropped(host: &str, addr: &str, port: u16) -> TargetOutcome {
    let a = sa(&format!("{addr}:{port}"));
    outcome(
        host,
        dns_ok(addr),
        vec![connect(
            port,
            addr,
            Some(TcpFailure::Dropped {
                addr: a,
                after: Duration::from_secs(5),
                tried: 1,
            }),
        )],
    )
}

fn refused(host: &str, addr: &str) -> TargetOutcome {
    let a = sa(&format!("{addr}:443"));
    outcome(
        host,
        dns_ok(addr),
        vec![connect(
            443,
            addr,
            Some(TcpFailure::Refused { addr: a, tried: 1 }),
        )],
    )
}

fn intercepted(host: &str, addr: &str, issuer: &str) -> TargetOutcome {
    outcome(
        host,
        dns_ok(addr),
        vec![
            connect(443, addr, None),
            tls(
                443,
                addr,
                Some(TlsFailure::UnknownIssuer {
                    issuer: issuer.into(),
                }),
            ),
        ],
    )
}

fn expired(host: &str, addr: &str) -> TargetOutcome {
    outcome(
        host,
        dns_ok(addr),
        vec![
            connect(443, addr, None),
            tls(
                443,
                addr,
                Some(TlsFailure::Expired {
                    subject: format!("CN={host}"),
                    not_after: Some("2020-01-01T00:00:00Z".into()),
                    now: None,
                    issuer: "CN=Old CA".into(),
                }),
            ),
        ],
    )
}

fn block_page(host: &str, addr: &str, server: &str) -> TargetOutcome {
    outcome(
        host,
        dns_ok(addr),
        vec![
            connect(443, addr, None),
            tls(443, addr, None),
            http(443, addr, false, server, 403),
        ],
    )
}

fn through_proxy(host: &str, failure: Option<ProxyFailure>) -> TargetOutcome {
    let url = ProxyUrl::parse("http://proxy.test:3128").expect("proxy url");
    let mut dns = DnsObservation::none();
    dns.via_proxy = true;
    let step = Step::Tunnel {
        proxy: ProxyUse {
            url: url.clone(),
            from: "https_proxy".into(),
        },
        target: format!("{host}:443"),
        failure,
    };
    let mut o = outcome(host, dns, vec![obs(443, "127.0.0.9", step)]);
    o.route = Route::Proxy;
    o
}

fn forbidden(host: &str) -> TargetOutcome {
    through_proxy(
        host,
        Some(ProxyFailure::Forbidden {
            proxy: ProxyUrl::parse("http://proxy.test:3128").expect("proxy url"),
            target: format!("{host}:443"),
            status: ProxyStatus {
                code: 403,
                reason: "Forbidden".into(),
            },
        }),
    )
}

/// A report of one capability per `(id, gating, outcomes)`, each outcome an entry.
fn report(caps: Vec<(&str, bool, Vec<TargetOutcome>)>) -> Report {
    let capabilities = caps
        .into_iter()
        .map(|(id, gating, outs)| {
            let entries: Vec<EntryReport> = outs
                .into_iter()
                .map(|o| {
                    let t = judge_target(o);
                    EntryReport {
                        pattern: t.host.clone(),
                        wildcard: false,
                        note: None,
                        origin: None,
                        redirect: None,
                        verdict: t.verdict,
                        targets: vec![t],
                    }
                })
                .collect();
            CapabilityReport {
                id: id.into(),
                title: id.into(),
                gating,
                verdict: entries
                    .iter()
                    .map(|e| e.verdict)
                    .max()
                    .unwrap_or(Verdict::Skip),
                cause: None,
                entries,
            }
        })
        .collect();
    Report {
        schema_version: 1,
        tool: ToolInfo {
            name: "runner-preflight".into(),
            version: "0".into(),
        },
        generated_at: String::new(),
        hostname: "test".into(),
        labels: Default::default(),
        profile: ProfileInfo {
            name: "t".into(),
            title: "t".into(),
            origin: "t".into(),
            variables: Default::default(),
        },
        settings: Settings {
            timeout_ms: 5000,
            max_time_ms: 45000,
            concurrency: 8,
            dns_servers: vec![DNS.into()],
            ca_files: vec![],
            fail_on: FailOn::Fail,
        },
        verdict: Verdict::Fail,
        exit_code: 1,
        duration_ms: 0,
        summary: Summary::default(),
        capabilities,
        inactive: vec![],
        throughput: None,
        network: NetworkReport::default(),
        diagnosis: vec![],
    }
}

fn diagnosed(mut r: Report) -> Report {
    diagnose(&mut r);
    every_failure_once(&r);
    r
}

/// Every target that does not pass carries the id of exactly one cause, and the causes' counts
/// add up to them.
fn every_failure_once(r: &Report) {
    let failing: Vec<&TargetResult> = all_targets(r)
        .filter(|t| t.verdict >= Verdict::Warn)
        .collect();
    for t in &failing {
        let id = t
            .diagnosis_id
            .unwrap_or_else(|| panic!("{} has no cause", t.host));
        assert!(r.diagnosis.iter().any(|d| d.id == id), "{id}");
    }
    for t in all_targets(r).filter(|t| t.verdict < Verdict::Warn) {
        assert_eq!(t.diagnosis_id, None, "{} passes", t.host);
    }
    let explained: usize = r.diagnosis.iter().map(|d| d.targets).sum();
    assert_eq!(explained, failing.len(), "{:#?}", r.diagnosis);
    for (i, d) in r.diagnosis.iter().enumerate() {
        assert_eq!(d.id, i + 1);
    }
}

fn kinds(r: &Report) -> Vec<&'static str> {
    r.diagnosis.iter().map(|d| d.kind()).collect()
}

#[test]
fn a_silent_resolver_is_one_cause() {
    let names: Vec<String> = (0..12).map(|i| format!("n{i}.github.com")).collect();
    let r = diagnosed(report(vec![
        (
            "essential",
            true,
            names[..8].iter().map(|h| silent(h)).collect(),
        ),
        (
            "packages",
            false,
            names[6..].iter().map(|h| silent(h)).collect(),
        ),
    ]));
    assert_eq!(kinds(&r), ["resolver_unreachable"]);
    let d = &r.diagnosis[0];
    assert_eq!(d.targets, 14);
    assert_eq!(d.hosts.len(), 12);
    assert_eq!(d.blocks, ["essential", "packages"]);
    assert!(d.gating);
    match &d.cause {
        RootCause::ResolverUnreachable {
            servers,
            names,
            asked,
            how,
            timeout_ms,
        } => {
            assert_eq!(servers, &[sa(DNS)]);
            assert_eq!((*names, *asked), (12, 12));
            assert_eq!(*how, Silence::Timeout);
            assert_eq!(*timeout_ms, Some(5000));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn one_name_timing_out_among_answers_is_not_the_resolver() {
    let r = diagnosed(report(vec![(
        "core",
        true,
        vec![
            silent("slow.example.com"),
            ok("a.example.com", "127.0.0.1"),
            ok("b.example.com", "127.0.0.1"),
        ],
    )]));
    assert_eq!(kinds(&r), ["unexplained"]);
    assert_eq!(r.diagnosis[0].hosts, ["slow.example.com"]);
}

#[test]
fn nxdomain_names_the_zones() {
    let r = diagnosed(report(vec![(
        "core",
        true,
        vec![
            nxdomain("api.github.com"),
            nxdomain("github.com"),
            nxdomain("x.actions.githubusercontent.com"),
        ],
    )]));
    assert_eq!(kinds(&r), ["dns_nxdomain"]);
    match &r.diagnosis[0].cause {
        RootCause::DnsNxdomain { zones, names, .. } => {
            assert_eq!(zones, &["github.com", "githubusercontent.com"]);
            assert_eq!(*names, 3);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_dropped_prefix_is_grouped_under_its_covering_prefix() {
    let mut outs: Vec<TargetOutcome> = (0..12)
        .map(|i| {
            dropped(
                &format!("h{i}.github.com"),
                &format!("140.82.{}.{}", 112 + i % 4, 10 + i),
                443,
            )
        })
        .collect();
    outs.push(ok("fine.example.com", "192.0.2.1"));
    let r = diagnosed(report(vec![("core", true, outs)]));
    assert_eq!(kinds(&r), ["tcp_blocked"]);
    match &r.diagnosis[0].cause {
        RootCause::TcpBlocked {
            port,
            how,
            prefixes,
        } => {
            assert_eq!((*port, *how), (443, TcpHow::Dropped));
            assert_eq!(prefixes.len(), 1);
            assert_eq!(prefixes[0].prefix, "140.82.112.0/22");
            assert_eq!(prefixes[0].names, 12);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn covering_prefixes() {
    assert_eq!(covering(&[ip("140.82.112.3")]), "140.82.112.3/32");
    assert_eq!(
        covering(&[ip("140.82.112.3"), ip("140.82.121.4")]),
        "140.82.112.0/20"
    );
    assert_eq!(covering(&[ip("10.0.0.1"), ip("138.0.0.1")]), "0.0.0.0/0");
    assert_eq!(
        covering(&[ip("2001:db8::1"), ip("2001:db8::2")]),
        "2001:db8::/126"
    );
    let groups = prefix_groups(&[
        (ip("140.82.112.3"), "a".into()),
        (ip("185.199.108.1"), "b".into()),
        (ip("185.199.109.1"), "c".into()),
    ]);
    let p: Vec<&str> = groups.iter().map(|g| g.prefix.as_str()).collect();
    assert_eq!(p, ["140.82.112.3/32", "185.199.108.0/23"]);
}

#[test]
fn one_refused_host_among_working_ones() {
    let r = diagnosed(report(vec![(
        "core",
        true,
        vec![
            refused("blocked.example.com", "127.0.0.7"),
            ok("a.example.com", "127.0.0.1"),
        ],
    )]));
    assert_eq!(kinds(&r), ["host_blocked"]);
}

#[test]
fn nothing_direct_and_no_proxy_needs_a_proxy() {
    let r = diagnosed(report(vec![(
        "core",
        true,
        vec![
            dropped("a.github.com", "140.82.112.3", 443),
            refused("b.github.com", "185.199.108.1"),
        ],
    )]));
    assert_eq!(kinds(&r), ["proxy_needed"]);
    assert_eq!(r.diagnosis[0].targets, 2);
}

#[test]
fn only_port_80_blocked() {
    let mut a = ok("a.example.com", "127.0.0.1");
    a.checks.push(connect(
        80,
        "127.0.0.1",
        Some(TcpFailure::Dropped {
            addr: sa("127.0.0.1:80"),
            after: Duration::from_secs(5),
            tried: 1,
        }),
    ));
    let r = diagnosed(report(vec![("core", true, vec![a])]));
    assert_eq!(kinds(&r), ["port_blocked"]);
}

#[test]
fn interception_expiry_middlebox_and_proxy_are_causes_of_their_own() {
    let r = diagnosed(report(vec![(
        "core",
        true,
        vec![
            intercepted("a.github.com", "127.0.0.1", "CN=Corp Inspect"),
            intercepted("b.github.com", "127.0.0.1", "CN=Corp Inspect"),
            expired("old.example.com", "127.0.0.2"),
            block_page("c.github.com", "127.0.0.3", "BlockBox/1.0"),
            block_page("d.github.com", "127.0.0.3", "BlockBox/1.0"),
            block_page("e.github.com", "127.0.0.3", "BlockBox/1.0"),
            forbidden("f.github.com"),
        ],
    )]));
    let mut k = kinds(&r);
    k.sort();
    assert_eq!(
        k,
        [
            "certificate_invalid",
            "middlebox_answers",
            "proxy_fails",
            "tls_interception"
        ]
    );
    let by = |kind: &str| r.diagnosis.iter().find(|d| d.kind() == kind).unwrap();
    assert_eq!(by("middlebox_answers").targets, 3);
    assert_eq!(by("tls_interception").targets, 2);
    // The biggest cause comes first.
    assert_eq!(r.diagnosis[0].kind(), "middlebox_answers");
    match &by("proxy_fails").cause {
        RootCause::ProxyFails { how, zones, .. } => {
            assert_eq!(*how, ProxyHow::Forbidden);
            assert_eq!(zones, &["github.com"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_json_form_round_trips() {
    let r = diagnosed(report(vec![(
        "core",
        true,
        vec![silent("a.github.com"), silent("b.github.com")],
    )]));
    let v = serde_json::to_value(&r.diagnosis).expect("json");
    assert_eq!(v[0]["kind"], "resolver_unreachable");
    assert_eq!(v[0]["evidence"]["servers"][0], DNS);
    let back: Vec<Diagnosis> = serde_json::from_value(v).expect("back");
    assert_eq!(back, r.diagnosis);
    for d in &r.diagnosis {
        assert_eq!(
            serde_json::to_value(d).unwrap()["kind"],
            d.kind(),
            "kind() is the JSON name"
        );
    }
}

/// One random outcome.
fn any_outcome() -> impl Strategy<Value = TargetOutcome> {
    let host = (0..8u8).prop_map(|i| format!("h{i}.github.com"));
    (host, 0..10u8, 0..6u8).prop_map(|(h, kind, n)| {
        let addr = format!("140.82.{}.{}", 112 + n, 1 + n);
        match kind {
            0 => ok(&h, &addr),
            1 => silent(&h),
            2 => nxdomain(&h),
            3 => dropped(&h, &addr, 443),
            4 => refused(&h, &addr),
            5 => intercepted(&h, &addr, if n % 2 == 0 { "CN=A" } else { "CN=B" }),
            6 => expired(&h, &addr),
            7 => block_page(&h, &addr, if n % 2 == 0 { "S1" } else { "S2" }),
            8 => forbidden(&h),
            _ => dropped(&h, &addr, 80),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_failure_is_explained_exactly_once_and_deterministically(
        a in proptest::collection::vec(any_outcome(), 0..12),
        b in proptest::collection::vec(any_outcome(), 0..12),
    ) {
        let r = report(vec![("essential", true, a), ("extra", false, b)]);
        let one = diagnosed(r.clone());
        let two = diagnosed(r);
        prop_assert_eq!(&one.diagnosis, &two.diagnosis);
        let ids = |r: &Report| all_targets(r).map(|t| t.diagnosis_id).collect::<Vec<_>>();
        prop_assert_eq!(ids(&one), ids(&two));
    }
}
