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
        connection: None,
        start_ms: None,
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
            path: None,
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
                follow: None,
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
            dns_servers_given: false,
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
        runner_version: None,
        container_jobs: None,
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
            ..
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

/// Issue 23 row 7: the names a profile variable gives (GHES's `hostname`) are a cause apart
/// from public names, and the cause names the variable.
#[test]
fn nxdomain_for_a_variables_name_is_apart_from_public_names() {
    let mut r = report(vec![(
        "core",
        true,
        vec![
            nxdomain("ghes.corp.internal"),
            nxdomain("codeload.ghes.corp.internal"),
            nxdomain("github.com"),
            // Only under the value at a label boundary.
            nxdomain("xghes.corp.internal"),
        ],
    )]);
    r.profile
        .variables
        .insert("hostname".into(), "GHES.corp.internal".into());
    let r = diagnosed(r);
    assert_eq!(kinds(&r), ["dns_nxdomain", "dns_nxdomain"]);
    let mut seen: Vec<_> = r
        .diagnosis
        .iter()
        .map(|d| match &d.cause {
            RootCause::DnsNxdomain { variable, .. } => (variable.clone(), d.hosts.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (
                None,
                vec!["github.com".to_string(), "xghes.corp.internal".into()]
            ),
            (
                Some("hostname".to_string()),
                vec![
                    "codeload.ghes.corp.internal".to_string(),
                    "ghes.corp.internal".into()
                ]
            ),
        ]
    );
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
    (host, 0..11u8, 0..6u8).prop_map(|(h, kind, n)| {
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
            9 => tls_failed(&h, &addr, black_hole(&addr, 1200)),
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

// ---------------------------------------------------------------------------------------------
// Each kind of cause, and the rules that pick between them
// ---------------------------------------------------------------------------------------------

fn cause_of<'a>(r: &'a Report, kind: &str) -> &'a Diagnosis {
    r.diagnosis
        .iter()
        .find(|d| d.kind() == kind)
        .unwrap_or_else(|| panic!("no {kind} in {:#?}", r.diagnosis))
}

fn tcp_failed(host: &str, addr: &str, failure: TcpFailure) -> TargetOutcome {
    outcome(host, dns_ok(addr), vec![connect(443, addr, Some(failure))])
}

fn proxy_setting(url: &str) -> crate::env::proxy::ProxySetting {
    crate::env::proxy::ProxySetting {
        url: ProxyUrl::parse(url).expect("proxy url"),
        from: "https_proxy".into(),
        origin: crate::env::proxy::Origin::Environment,
    }
}

/// A plain-HTTP request through the proxy `url` answered by the proxy itself with `status`.
fn proxy_answers(host: &str, url: &str, status: u16) -> TargetOutcome {
    let mut dns = DnsObservation::none();
    dns.via_proxy = true;
    let step = Step::Http {
        http: HttpInfo {
            method: "GET".into(),
            path: "/".into(),
            status: Some(status),
            expect_header: Some("x-github-request-id".into()),
            header_present: Some(false),
            server: Some("squid".into()),
            date: None,
            location: None,
            follow: None,
            total_size: None,
        },
        proxy: Some(ProxyUse {
            url: ProxyUrl::parse(url).expect("proxy url"),
            from: "http_proxy".into(),
        }),
        failure: None,
    };
    let mut o = outcome(host, dns, vec![obs(80, "127.0.0.9", step)]);
    o.route = Route::Proxy;
    o
}

fn tls_failed(host: &str, addr: &str, failure: TlsFailure) -> TargetOutcome {
    outcome(
        host,
        dns_ok(addr),
        vec![connect(443, addr, None), tls(443, addr, Some(failure))],
    )
}

/// Issue 23 row 11: five names behind one address, whose TLS handshakes all time out there,
/// are one cause naming the address, not five causes with five fixes; a name failing the same
/// way at another address, and one failing otherwise at the same address, stay apart.
#[test]
fn names_failing_the_same_way_at_one_shared_address_are_one_cause() {
    let timeout = || TlsFailure::Timeout {
        after: Duration::from_secs(5),
        presented: false,
    };
    let mut outs: Vec<TargetOutcome> = (1..=5)
        .map(|i| tls_failed(&format!("n{i}.example.com"), "192.0.2.7", timeout()))
        .collect();
    outs.push(tls_failed("alone.example.com", "192.0.2.8", timeout()));
    outs.push(tls_failed(
        "reset.example.com",
        "192.0.2.7",
        TlsFailure::Reset,
    ));
    let r = diagnosed(report(vec![("core", true, outs)]));
    let shared = cause_of(&r, "shared_address_fails");
    assert_eq!(
        shared.cause,
        RootCause::SharedAddressFails {
            address: sa("192.0.2.7:443"),
            phase: Some(Phase::Tls),
            names: 5,
        }
    );
    assert_eq!(
        shared.hosts,
        (1..=5)
            .map(|i| format!("n{i}.example.com"))
            .collect::<Vec<_>>()
    );
    let mut rest = kinds(&r);
    rest.sort();
    assert_eq!(rest, ["shared_address_fails", "unexplained", "unexplained"]);
}

#[test]
fn a_zone_is_the_last_two_labels_in_lower_case() {
    assert_eq!(zone_of("a.b.c.Example.COM."), "example.com");
    assert_eq!(
        zone_of("x.actions.githubusercontent.com"),
        "githubusercontent.com"
    );
    assert_eq!(zone_of("GitHub.com"), "github.com");
    assert_eq!(zone_of("localhost"), "localhost");
}

#[test]
fn unreachable_or_missing_dns_servers_are_the_resolver_even_for_one_name() {
    let mut no_network = dns_fail(DnsFailure::Network {
        server: Some(sa(DNS)),
        error: crate::model::OsError {
            kind: crate::model::IoKind::NetworkUnreachable,
            errno: Some(libc::ENETUNREACH),
        },
    });
    no_network.server = Some(sa(DNS));
    let r = diagnosed(report(vec![(
        "core",
        true,
        vec![
            outcome("a.github.com", no_network, vec![]),
            outcome("b.github.com", dns_fail(DnsFailure::NoServers), vec![]),
            ok("c.github.com", "127.0.0.1"),
            ok("d.github.com", "127.0.0.1"),
        ],
    )]));
    assert_eq!(kinds(&r), ["resolver_unreachable", "resolver_unreachable"]);
    let mut seen: Vec<_> = r
        .diagnosis
        .iter()
        .map(|d| match &d.cause {
            RootCause::ResolverUnreachable {
                servers,
                how,
                names,
                asked,
                timeout_ms,
                ..
            } => (*how, servers.clone(), *names, *asked, *timeout_ms),
            other => panic!("{other:?}"),
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (Silence::Network, vec![sa(DNS)], 1, 4, None),
            (Silence::NoServers, vec![], 1, 4, None),
        ]
    );
}

#[test]
fn half_of_the_names_timing_out_is_not_the_resolver() {
    let r = diagnosed(report(vec![(
        "core",
        true,
        vec![silent("slow.example.com"), ok("a.example.com", "127.0.0.1")],
    )]));
    assert_eq!(kinds(&r), ["unexplained"]);
}

#[test]
fn names_given_addresses_or_reached_through_a_proxy_do_not_count_as_asking_dns() {
    let mut outs = vec![
        silent("s1.github.com"),
        silent("s2.github.com"),
        silent("s3.github.com"),
        ok("direct.github.com", "127.0.0.1"),
    ];
    for i in 0..3 {
        let mut o = ok(&format!("override{i}.github.com"), "127.0.0.1");
        o.dns.source = DnsSource::Override;
        outs.push(o);
        outs.push(through_proxy(&format!("proxied{i}.github.com"), None));
    }
    let r = diagnosed(report(vec![("core", true, outs)]));
    assert_eq!(kinds(&r), ["resolver_unreachable"]);
    match &cause_of(&r, "resolver_unreachable").cause {
        RootCause::ResolverUnreachable { names, asked, .. } => {
            assert_eq!((*names, *asked), (3, 4));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_route_and_host_unreachable_are_told_apart() {
    let r = diagnosed(report(vec![(
        "core",
        true,
        vec![
            tcp_failed(
                "a.example.com",
                "127.0.0.7",
                TcpFailure::NetUnreachable {
                    addr: sa("127.0.0.7:443"),
                    tried: 1,
                },
            ),
            tcp_failed(
                "b.example.com",
                "127.0.0.8",
                TcpFailure::HostUnreachable {
                    addr: sa("127.0.0.8:443"),
                    tried: 1,
                },
            ),
            ok("c.example.com", "127.0.0.1"),
        ],
    )]));
    assert_eq!(kinds(&r), ["host_blocked", "host_blocked"]);
    let mut seen: Vec<(String, TcpHow, Vec<SocketAddr>)> = r
        .diagnosis
        .iter()
        .map(|d| match &d.cause {
            RootCause::HostBlocked {
                host,
                how,
                addresses,
                port,
            } => {
                assert_eq!(*port, 443);
                (host.clone(), *how, addresses.clone())
            }
            other => panic!("{other:?}"),
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (
                "a.example.com".into(),
                TcpHow::NoRoute,
                vec![sa("127.0.0.7:443")]
            ),
            (
                "b.example.com".into(),
                TcpHow::HostUnreachable,
                vec![sa("127.0.0.8:443")]
            ),
        ]
    );
}

#[test]
fn other_addresses_from_the_system_resolver_that_do_not_connect() {
    // Our DNS says 127.0.0.1, the system resolver (/etc/hosts) 127.0.0.66, which the runner
    // uses and which drops the connection.
    let hosts_file = |host: &str, source: DnsSource| {
        let mut o = dropped(host, "127.0.0.66", 443);
        o.dns.dns_addresses = vec![ip("127.0.0.1")];
        o.dns.system = Some(crate::probe::outcome::SystemLookup::Answered {
            addresses: vec![ip("127.0.0.66")],
        });
        o.dns.source = source;
        o
    };
    let r = diagnosed(report(vec![(
        "core",
        true,
        vec![
            hosts_file("pinned.example.com", DnsSource::System),
            // The same disagreement, but our DNS's address was used: the connection's failure.
            hosts_file("own.example.com", DnsSource::Dns),
            ok("a.example.com", "127.0.0.1"),
        ],
    )]));
    let mut k = kinds(&r);
    k.sort();
    assert_eq!(k, ["host_blocked", "os_resolver_disagrees"]);
    let d = cause_of(&r, "os_resolver_disagrees");
    assert_eq!(d.hosts, ["pinned.example.com"]);
    assert_eq!(
        d.cause,
        RootCause::OsResolverDisagrees {
            how: OsResolver::OtherAddresses,
            names: 1
        }
    );
    assert_eq!(cause_of(&r, "host_blocked").hosts, ["own.example.com"]);
}

#[test]
fn certificate_problems_and_an_empty_trust_store_are_causes_of_their_own() {
    let r = diagnosed(report(vec![(
        "core",
        true,
        vec![
            tls_failed("a.example.com", "127.0.0.1", TlsFailure::NoRoots),
            tls_failed("b.example.com", "127.0.0.1", TlsFailure::NoRoots),
            tls_failed(
                "c.example.com",
                "127.0.0.1",
                TlsFailure::NotYetValid {
                    issuer: "CN=Future CA".into(),
                },
            ),
            tls_failed(
                "d.example.com",
                "127.0.0.1",
                TlsFailure::WrongName {
                    names: vec!["other.example".into()],
                    issuer: "CN=Some CA".into(),
                },
            ),
            tls_failed(
                "e.example.com",
                "127.0.0.1",
                TlsFailure::SelfSigned {
                    subject: "CN=e.example.com".into(),
                },
            ),
        ],
    )]));
    assert_eq!(
        cause_of(&r, "no_trust_roots").cause,
        RootCause::NoTrustRoots { names: 2 }
    );
    let mut certs: Vec<&RootCause> = r
        .diagnosis
        .iter()
        .filter(|d| d.kind() == "certificate_invalid")
        .map(|d| &d.cause)
        .collect();
    certs.sort_by_key(|c| format!("{c:?}"));
    assert_eq!(
        certs,
        [
            &RootCause::CertificateInvalid {
                problem: CertProblem::NotYetValid,
                issuer: "CN=Future CA".into(),
                detail: vec![],
            },
            &RootCause::CertificateInvalid {
                problem: CertProblem::SelfSigned,
                issuer: "CN=e.example.com".into(),
                detail: vec![],
            },
            &RootCause::CertificateInvalid {
                problem: CertProblem::WrongName,
                issuer: "CN=Some CA".into(),
                detail: vec!["other.example".into()],
            },
        ]
    );
}

/// A network finding of `kind` (a warning) about `host`.
fn warning(
    topic: crate::report::findings::Topic,
    kind: FindingKind,
    host: &str,
) -> crate::report::findings::Finding {
    crate::report::findings::Finding {
        severity: crate::report::findings::Severity::Warn,
        topic,
        kind,
        hosts: vec![host.into()],
    }
}

fn clock_finding(host: &str) -> crate::report::findings::Finding {
    warning(
        crate::report::findings::Topic::Clock,
        FindingKind::ClockSkew {
            clock: crate::report::findings::ClockReport {
                host: host.into(),
                server_date: "Tue, 01 Dec 2026 12:00:00 GMT".into(),
                skew_seconds: -86_400,
            },
        },
        host,
    )
}

#[test]
fn a_skewed_clock_explains_expired_certificates() {
    let mut r = report(vec![(
        "core",
        true,
        vec![
            expired("old.example.com", "127.0.0.2"),
            ok("api.github.com", "127.0.0.1"),
        ],
    )]);
    r.network.findings.push(clock_finding("api.github.com"));
    let r = diagnosed(r);
    assert_eq!(kinds(&r), ["clock_skew"]);
    let d = &r.diagnosis[0];
    assert_eq!(
        d.cause,
        RootCause::ClockSkew {
            host: "api.github.com".into(),
            skew_seconds: -86_400,
            server_date: "Tue, 01 Dec 2026 12:00:00 GMT".into(),
        }
    );
    assert_eq!(d.targets, 1);
    assert_eq!(d.hosts, ["api.github.com", "old.example.com"]);
    assert_eq!(d.verdict, Verdict::Fail);
}

#[test]
fn a_skewed_clock_with_nothing_failing_is_a_warning_of_its_own() {
    let mut r = report(vec![(
        "core",
        true,
        vec![ok("api.github.com", "127.0.0.1")],
    )]);
    r.network.findings.push(clock_finding("api.github.com"));
    let r = diagnosed(r);
    assert_eq!(kinds(&r), ["clock_skew"]);
    let d = &r.diagnosis[0];
    assert_eq!((d.verdict, d.gating, d.targets), (Verdict::Warn, false, 0));
    assert_eq!(d.hosts, ["api.github.com"]);
}

#[test]
fn probes_ended_by_the_time_limit_are_one_cause() {
    let limited = |host: &str| {
        let mut o = ok(host, "127.0.0.1");
        o.incomplete = Some(Incomplete::MaxTime {
            limit: Duration::from_secs(45),
        });
        o
    };
    let r = diagnosed(report(vec![
        (
            "core",
            true,
            vec![limited("a.github.com"), limited("b.github.com")],
        ),
        ("extra", false, vec![limited("a.github.com")]),
    ]));
    assert_eq!(kinds(&r), ["time_limit"]);
    assert_eq!(
        r.diagnosis[0].cause,
        RootCause::TimeLimit {
            limit_ms: 45_000,
            names: 2
        }
    );
    assert_eq!(r.diagnosis[0].targets, 3);
}

#[test]
fn update_downloads_that_do_not_end_in_the_file_are_one_cause() {
    use crate::report::redirect::RedirectCause;
    let mut r = report(vec![
        (
            "update",
            true,
            vec![
                ok("unlisted.example.com", "127.0.0.1"),
                ok("status.example.com", "127.0.0.1"),
            ],
        ),
        ("again", false, vec![ok("status.example.com", "127.0.0.1")]),
    ]);
    let fail = |r: &mut Report, cap: usize, host: &str, cause: RedirectCause| {
        let t = r.capabilities[cap]
            .entries
            .iter_mut()
            .flat_map(|e| e.targets.iter_mut())
            .find(|t| t.host == host)
            .expect("target");
        t.verdict = Verdict::Fail;
        t.cause = Some(Cause::Redirect(cause));
    };
    fail(
        &mut r,
        0,
        "unlisted.example.com",
        RedirectCause::Unlisted {
            host: "cdn.elsewhere.example".into(),
        },
    );
    fail(
        &mut r,
        0,
        "status.example.com",
        RedirectCause::Status { status: 404 },
    );
    fail(
        &mut r,
        1,
        "status.example.com",
        RedirectCause::Status { status: 404 },
    );
    let r = diagnosed(r);
    assert_eq!(kinds(&r), ["update_path_blocked"]);
    assert_eq!(
        r.diagnosis[0].cause,
        RootCause::UpdatePathBlocked {
            // In report order, once each.
            hosts: vec!["unlisted.example.com".into(), "status.example.com".into()],
            status: Some(404),
            unlisted: true,
            stopped: false,
        }
    );
    assert_eq!(r.diagnosis[0].targets, 3);
}

#[test]
fn a_proxy_answering_407_403_or_502_itself_is_a_proxy_cause_each() {
    let r = diagnosed(report(vec![(
        "core",
        true,
        vec![
            proxy_answers("a.github.com", "http://user:pw@proxy.test:3128", 407),
            proxy_answers("b.github.com", "http://proxy.test:3128", 403),
            proxy_answers("c.example.com", "http://proxy.test:3128", 502),
        ],
    )]));
    let mut seen: Vec<(ProxyHow, Option<u16>, bool, Vec<String>)> = r
        .diagnosis
        .iter()
        .map(|d| match &d.cause {
            RootCause::ProxyFails {
                how,
                status,
                credentials,
                zones,
                ..
            } => (*how, *status, *credentials, zones.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (
                ProxyHow::AuthRequired,
                Some(407),
                true,
                vec!["github.com".into()]
            ),
            (
                ProxyHow::Forbidden,
                Some(403),
                false,
                vec!["github.com".into()]
            ),
            (
                ProxyHow::Upstream,
                Some(502),
                false,
                vec!["example.com".into()]
            ),
        ]
    );
}

#[test]
fn names_bypassing_a_working_proxy_that_cannot_connect_directly() {
    let mut r = report(vec![(
        "core",
        true,
        vec![
            through_proxy("api.github.com", None),
            dropped("internal.example.com", "127.0.0.7", 443),
        ],
    )]);
    r.network.proxy.https = Some(proxy_setting("http://proxy.test:3128"));
    r.network.proxy.no_proxy = Some("internal.example.com".into());
    let r = diagnosed(r);
    assert_eq!(kinds(&r), ["direct_blocked_proxy_works"]);
    match &r.diagnosis[0].cause {
        RootCause::DirectBlockedProxyWorks {
            no_proxy,
            ports,
            how,
            ..
        } => {
            assert_eq!(no_proxy.as_deref(), Some("internal.example.com"));
            assert_eq!(
                (ports.as_slice(), how.as_slice()),
                (&[443][..], &[TcpHow::Dropped][..])
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_proxy_that_fails_too_does_not_make_direct_failures_a_bypass_problem() {
    let mut r = report(vec![(
        "core",
        true,
        vec![
            forbidden("api.github.com"),
            ok("fine.example.com", "127.0.0.1"),
            dropped("internal.example.com", "127.0.0.7", 443),
        ],
    )]);
    r.network.proxy.https = Some(proxy_setting("http://proxy.test:3128"));
    let r = diagnosed(r);
    let mut k = kinds(&r);
    k.sort();
    assert_eq!(k, ["host_blocked", "proxy_fails"]);
}

#[test]
fn a_blocked_port_lists_the_ports_its_names_connect_on() {
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
    // Another name connects on a port of its own: not a port the blocked name works on.
    let mut b = ok("b.example.com", "127.0.0.2");
    b.checks.push(connect(8080, "127.0.0.2", None));
    let r = diagnosed(report(vec![("core", true, vec![a, b])]));
    assert_eq!(kinds(&r), ["port_blocked"]);
    assert_eq!(
        r.diagnosis[0].cause,
        RootCause::PortBlocked {
            port: 80,
            how: TcpHow::Dropped,
            working_ports: vec![443],
        }
    );
}

#[test]
fn a_host_refused_on_443_is_not_a_port_problem_because_another_name_connects_on_80() {
    let mut a = ok("a.example.com", "127.0.0.1");
    a.checks.push(connect(80, "127.0.0.1", None));
    let r = diagnosed(report(vec![(
        "core",
        true,
        vec![refused("blocked.example.com", "127.0.0.7"), a],
    )]));
    assert_eq!(kinds(&r), ["host_blocked"]);
}

#[test]
fn interception_findings_name_the_stores_that_lack_the_issuer() {
    use crate::report::findings::Topic;
    let mut r = report(vec![(
        "core",
        true,
        vec![
            intercepted("a.github.com", "127.0.0.1", "CN=Failing CA"),
            ok("b.github.com", "127.0.0.1"),
        ],
    )]);
    let interception = |issuer: &str, runner_trusts: bool| FindingKind::Interception {
        issuer: issuer.into(),
        public: "no".into(),
        runner_trusts,
    };
    r.network.findings.extend([
        warning(
            Topic::Interception,
            interception("CN=Runner Trusts", true),
            "b.github.com",
        ),
        warning(
            Topic::Interception,
            interception("CN=Corp Inspect", false),
            "c.github.com",
        ),
        warning(
            Topic::TrustStore,
            FindingKind::StoreDisagrees {
                store: StoreName::Git,
                issuer: "CN=Git Lacks".into(),
                trusted_by: vec![StoreName::Runner],
                anchor_file: Some("/etc/ssl/corp.pem".into()),
                variable: None,
            },
            "d.github.com",
        ),
    ]);
    let r = diagnosed(r);
    let by_issuer = |name: &str| {
        r.diagnosis
            .iter()
            .find_map(|d| match &d.cause {
                RootCause::TlsInterception {
                    issuer,
                    missing_in,
                    anchor_file,
                    failing,
                } if issuer == name => Some((
                    missing_in.clone(),
                    anchor_file.clone(),
                    *failing,
                    d.verdict,
                    d.hosts.clone(),
                )),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no cause for {name}: {:#?}", r.diagnosis))
    };
    assert_eq!(
        by_issuer("CN=Failing CA"),
        (
            vec![StoreName::Runner, StoreName::Git, StoreName::Node],
            None,
            1,
            Verdict::Fail,
            vec!["a.github.com".into()]
        )
    );
    assert_eq!(
        by_issuer("CN=Runner Trusts"),
        (vec![], None, 0, Verdict::Warn, vec!["b.github.com".into()])
    );
    assert_eq!(
        by_issuer("CN=Corp Inspect"),
        (
            vec![StoreName::Runner],
            None,
            0,
            Verdict::Warn,
            vec!["c.github.com".into()]
        )
    );
    assert_eq!(
        by_issuer("CN=Git Lacks"),
        (
            vec![StoreName::Git],
            Some("/etc/ssl/corp.pem".into()),
            0,
            Verdict::Warn,
            vec!["d.github.com".into()]
        )
    );
}

#[test]
fn addresses_in_one_ipv6_slash_32_are_one_prefix() {
    let groups = prefix_groups(&[
        (ip("2001:db8::1"), "a".into()),
        (ip("2001:db8::2"), "b".into()),
        (ip("2001:db9::1"), "c".into()),
    ]);
    let p: Vec<(&str, usize)> = groups
        .iter()
        .map(|g| (g.prefix.as_str(), g.names))
        .collect();
    assert_eq!(p, [("2001:db8::/126", 2), ("2001:db9::1/128", 1)]);
}

#[test]
fn unexplained_causes_come_last_even_when_they_fail_the_run() {
    let r = diagnosed(report(vec![
        (
            "essential",
            true,
            vec![
                silent("slow.github.com"),
                ok("a.github.com", "127.0.0.1"),
                ok("b.github.com", "127.0.0.1"),
            ],
        ),
        (
            "extra",
            false,
            vec![
                refused("blocked.example.com", "127.0.0.7"),
                ok("c.example.com", "127.0.0.1"),
            ],
        ),
    ]));
    assert_eq!(kinds(&r), ["host_blocked", "unexplained"]);
    assert!(r.diagnosis[1].gating);
    assert!(!r.diagnosis[0].gating);
}

fn direction(
    d: crate::probe::throughput::Direction,
    verdict: Verdict,
    judgment: crate::report::throughput::Judgment,
    kbps: Option<f64>,
    url: &str,
) -> crate::report::throughput::DirectionResult {
    crate::report::throughput::DirectionResult {
        direction: d,
        verdict,
        judgment,
        kbps,
        archive: None,
        proxy_only: false,
        update: None,
        sample: Some(crate::probe::throughput::DirectionSample {
            direction: d,
            url: url.into(),
            bytes: 1,
            sample: Duration::from_secs(1),
            elapsed: Duration::from_secs(1),
            ttfb: None,
            via_proxy: None,
            stopped: None,
            rate: kbps,
            failure: None,
        }),
    }
}

fn throughput(
    gating: bool,
    directions: Vec<crate::report::throughput::DirectionResult>,
) -> crate::report::throughput::ThroughputReport {
    crate::report::throughput::ThroughputReport {
        verdict: directions
            .iter()
            .map(|d| d.verdict)
            .max()
            .unwrap_or(Verdict::Skip),
        gating,
        min_kbps: 1000,
        max_bytes: 1 << 20,
        directions,
        notes: vec![],
    }
}

#[test]
fn a_rate_below_the_floor_is_a_cause_of_its_own() {
    use crate::probe::throughput::{Direction, StopReason, ThroughputFailure};
    use crate::report::throughput::Judgment;
    let mut r = report(vec![("core", true, vec![ok("a.github.com", "127.0.0.1")])]);
    r.throughput = Some(throughput(
        true,
        vec![
            // A stall has a (tiny) rate: it counts as measured below the floor.
            direction(
                Direction::Download,
                Verdict::Fail,
                Judgment::Failed(ThroughputFailure::Stalled {
                    bytes: 1,
                    waited: Duration::from_secs(10),
                    stopped: StopReason::TimeBound,
                }),
                Some(300.5),
                "https://a.github.com/file",
            ),
            // Above the floor, through a proxy: a warning, not below the floor.
            direction(
                Direction::Upload,
                Verdict::Warn,
                Judgment::AboveFloor {
                    rate: 2000.0,
                    floor: 1000.0,
                },
                Some(2000.0),
                "https://a.github.com/upload",
            ),
        ],
    ));
    let r = diagnosed(r);
    assert_eq!(kinds(&r), ["throughput_below_floor"]);
    let d = &r.diagnosis[0];
    assert_eq!(
        d.cause,
        RootCause::ThroughputBelowFloor {
            directions: vec!["download".into()],
            kbps: 300,
            min_kbps: 1000,
        }
    );
    assert_eq!(d.blocks, ["throughput"]);
    assert!(d.gating);
    assert_eq!((d.verdict, d.targets), (Verdict::Fail, 0));
}

#[test]
fn a_throughput_failure_belongs_to_the_cause_of_its_host() {
    use crate::probe::throughput::{Direction, ThroughputFailure};
    use crate::report::throughput::Judgment;
    let mut r = report(vec![(
        "core",
        true,
        vec![
            nxdomain("gone.github.com"),
            refused("blocked.example.com", "127.0.0.7"),
            ok("a.example.com", "127.0.0.1"),
        ],
    )]);
    r.throughput = Some(throughput(
        false,
        vec![direction(
            Direction::Download,
            Verdict::Fail,
            Judgment::Failed(ThroughputFailure::NoResponse(Duration::from_secs(5))),
            None,
            "https://blocked.example.com/big.bin",
        )],
    ));
    let r = diagnosed(r);
    let mut k = kinds(&r);
    k.sort();
    assert_eq!(k, ["dns_nxdomain", "host_blocked"]);
    assert_eq!(cause_of(&r, "host_blocked").blocks, ["core", "throughput"]);
    assert_eq!(cause_of(&r, "dns_nxdomain").blocks, ["core"]);
}

/// A handshake that stalled at MSS 1448 and completed at `works`.
fn black_hole(addr: &str, works: u32) -> TlsFailure {
    TlsFailure::PathMtuBlackHole {
        addr: sa(&format!("{addr}:443")),
        works_at_mss: works,
        stalled_at_mss: Some(1448),
        after: Duration::from_secs(5),
    }
}

#[test]
fn stalls_a_clamped_mss_cures_are_one_path_mtu_cause_whatever_the_servers() {
    let mut answer_stalls = tls_failed(
        "c.github.com",
        "140.82.114.3",
        black_hole("140.82.114.3", 1),
    );
    answer_stalls.checks[1] = tls(443, "140.82.114.3", None);
    answer_stalls.checks.push(obs(
        443,
        "140.82.114.3",
        Step::Http {
            http: HttpInfo {
                method: "GET".into(),
                path: "/".into(),
                status: None,
                expect_header: None,
                header_present: None,
                server: None,
                date: None,
                location: None,
                follow: None,
                total_size: None,
            },
            proxy: None,
            failure: Some(HttpFailure::PathMtuBlackHole {
                addr: sa("140.82.114.3:443"),
                works_at_mss: 536,
                stalled_at_mss: None,
                after: Duration::from_secs(5),
            }),
        },
    ));
    let r = diagnosed(report(vec![(
        "essential",
        true,
        vec![
            tls_failed(
                "a.github.com",
                "140.82.112.3",
                black_hole("140.82.112.3", 1200),
            ),
            tls_failed("b.example.net", "192.0.2.7", black_hole("192.0.2.7", 1200)),
            answer_stalls,
            ok("d.github.com", "140.82.112.4"),
        ],
    )]));
    every_failure_once(&r);
    assert_eq!(kinds(&r), vec!["path_mtu_black_hole"]);
    let d = cause_of(&r, "path_mtu_black_hole");
    assert_eq!(d.hosts, ["a.github.com", "b.example.net", "c.github.com"]);
    let RootCause::PathMtuBlackHole {
        endpoints,
        works_at_mss,
        ..
    } = &d.cause
    else {
        unreachable!()
    };
    // What works for every endpoint: the smallest MSS any of them needed.
    assert_eq!(*works_at_mss, 536);
    assert_eq!(
        endpoints.iter().map(|e| e.phase).collect::<Vec<_>>(),
        [Phase::Tls, Phase::Tls, Phase::Http]
    );
    // A plain handshake timeout is not this cause.
    let r = diagnosed(report(vec![(
        "essential",
        true,
        vec![tls_failed(
            "a.github.com",
            "140.82.112.3",
            TlsFailure::Timeout {
                after: Duration::from_secs(5),
                presented: false,
            },
        )],
    )]));
    assert_eq!(kinds(&r), vec!["unexplained"]);
}

#[test]
fn no_ipv4_route_to_names_without_ipv6_is_one_cause_unless_ipv4_works_elsewhere() {
    let unreachable = |host: &str, addr: &str| {
        tcp_failed(
            host,
            addr,
            TcpFailure::NetUnreachable {
                addr: sa(&format!("{addr}:443")),
                tried: 1,
            },
        )
    };
    let r = diagnosed(report(vec![(
        "core",
        true,
        vec![
            unreachable("github.com", "140.82.112.3"),
            unreachable("api.github.com", "140.82.112.5"),
        ],
    )]));
    every_failure_once(&r);
    assert_eq!(kinds(&r), ["no_ipv4_route"]);
    assert_eq!(
        cause_of(&r, "no_ipv4_route").cause,
        RootCause::NoIpv4Route {
            names: vec!["api.github.com".into(), "github.com".into()],
            dns64: None,
        }
    );
    // Another name connects over IPv4: this host has IPv4, only these addresses have no route.
    let r = diagnosed(report(vec![(
        "core",
        true,
        vec![
            unreachable("github.com", "140.82.112.3"),
            unreachable("api.github.com", "140.82.112.5"),
            ok("codeload.github.com", "140.82.112.9"),
        ],
    )]));
    assert!(!kinds(&r).contains(&"no_ipv4_route"), "{:?}", kinds(&r));
}

/// The container-jobs check's problems are causes of their own, naming the names whose
/// addresses a Docker subnet covers; a FAIL gates only when the check is required.
#[test]
fn container_problems_are_causes_that_gate_only_when_required() {
    use crate::env::docker::Subnet;
    use crate::report::container::{ApiState, ContainerProblem, ContainerReport, MtuFrom, Needed};
    let container = |gating: bool| ContainerReport {
        verdict: Verdict::Fail,
        gating,
        skipped: None,
        uplink: None,
        networks: vec![],
        daemon: None,
        pools: vec![],
        pools_default: true,
        api: ApiState::Absent {
            socket: "/var/run/docker.sock".into(),
        },
        problems: vec![
            ContainerProblem::SubnetCovers {
                network: "br-0a1b2c3d4e5f".into(),
                subnet: Subnet::parse("140.82.112.0/20").unwrap(),
                needed: vec![Needed {
                    address: ip("140.82.112.3"),
                    hosts: vec!["github.com".into()],
                    proxy: false,
                }],
            },
            ContainerProblem::MtuAboveUplink {
                network: "docker0".into(),
                mtu: 1500,
                mtu_from: MtuFrom::Bridge,
                uplink: "wg0".into(),
                uplink_mtu: 1420,
            },
        ],
    };
    for gating in [false, true] {
        let mut r = report(vec![(
            "essential",
            true,
            vec![ok("github.com", "140.82.112.3")],
        )]);
        r.container_jobs = Some(container(gating));
        let r = diagnosed(r);
        assert_eq!(
            kinds(&r),
            vec!["container_subnet_overlap", "container_mtu"],
            "{:#?}",
            r.diagnosis
        );
        let d = &r.diagnosis[0];
        assert_eq!(d.gating, gating);
        assert_eq!(d.verdict, Verdict::Fail);
        assert_eq!(d.blocks, vec!["container-jobs".to_string()]);
        assert_eq!(d.hosts, vec!["github.com".to_string()]);
        assert_eq!(r.diagnosis[1].verdict, Verdict::Warn);
        assert!(!r.diagnosis[1].gating);
    }
}

/// An upload that a clamped MSS cured joins the probes' path-MTU black hole, blocking
/// throughput too.
#[test]
fn an_upload_black_hole_joins_the_probes_black_hole() {
    use crate::probe::throughput::DirectionSample;
    use crate::report::throughput::{Direction, Measurement};
    let mut r = report(vec![]);
    let sample = DirectionSample {
        direction: Direction::Upload,
        url: "https://results-receiver.actions.githubusercontent.com/upload".into(),
        bytes: 0,
        sample: Duration::from_millis(1000),
        elapsed: Duration::from_millis(2500),
        ttfb: None,
        via_proxy: None,
        stopped: None,
        rate: None,
        failure: Some(ThroughputFailure::PathMtuBlackHole {
            addr: sa("140.82.113.5:443"),
            body: 16384,
            works_at_mss: 1200,
            stalled_at_mss: Some(1460),
        }),
    };
    r.throughput = Some(crate::report::throughput::judge(
        Measurement {
            download: None,
            upload: Some(sample),
        },
        70,
        1 << 21,
        true,
        None,
    ));
    let r = diagnosed(r);
    assert_eq!(kinds(&r), vec!["path_mtu_black_hole"], "{:#?}", r.diagnosis);
    let d = &r.diagnosis[0];
    assert_eq!(d.blocks, vec!["throughput".to_string()]);
    assert!(d.gating);
    assert_eq!(
        d.hosts,
        vec!["results-receiver.actions.githubusercontent.com".to_string()]
    );
    let RootCause::PathMtuBlackHole {
        endpoints,
        works_at_mss,
        ..
    } = &d.cause
    else {
        panic!("{d:?}")
    };
    assert_eq!(*works_at_mss, 1200);
    assert_eq!(endpoints[0].upload_bytes, Some(16384));
}
