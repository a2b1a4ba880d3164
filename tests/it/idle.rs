//! Idle survival (issue 21, item 3): `--idle-hold` answers one request on the broker connection,
//! keeps it idle, then reuses it. A relay in front of a keep-alive HTTPS server stands in for a
//! NAT gateway or proxy that forgets idle flows: it closes them (FIN), stops forwarding without
//! closing (a silent drop), or never cuts.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::world::*;

const BROKER: &str = "broker.actions.githubusercontent.com";
/// The relay forgets a flow after this long without a byte either way.
const IDLE_CUT: Duration = Duration::from_secs(3);

/// What the relay does to a flow idle for [`IDLE_CUT`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Idle {
    /// Nothing: it forwards for ever.
    Never,
    /// Closes both sides (FIN), as a NAT gateway or proxy that ends idle flows.
    Fin,
    /// Keeps both sides open but forwards nothing more, as a NAT that forgot the mapping.
    Silent,
    /// Resets the client's side (RST), as a firewall that answers a forgotten flow's next
    /// packet with a reset, or a proxy that aborts idle connections.
    Reset,
}

/// An HTTPS server for `BROKER` that keeps connections alive between requests (the world's
/// servers close after one answer, which an idle check cannot tell from a cut).
async fn keep_alive_server(pki: &Pki) -> (SocketAddr, JoinHandle<()>) {
    let config = server_config(&pki.leaf(&[BROKER]), true);
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            connections.spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper::service::service_fn(|_req| async {
                    Ok::<_, Infallible>(
                        hyper::Response::builder()
                            .header(FINGERPRINT, "ABCD:1234")
                            .body(Full::new(Bytes::from_static(b"ok")))
                            .unwrap(),
                    )
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
            while connections.try_join_next().is_some() {}
        }
    });
    (addr, task)
}

/// A TCP relay on loopback to `to` that treats idle flows as `idle` says.
async fn relay(to: SocketAddr, idle: Idle) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut flows = tokio::task::JoinSet::new();
        while let Ok((client, _)) = listener.accept().await {
            flows.spawn(pipe(client, to, idle));
            while flows.try_join_next().is_some() {}
        }
    });
    (addr, task)
}

async fn pipe(client: TcpStream, to: SocketAddr, idle: Idle) {
    let Ok(server) = TcpStream::connect(to).await else {
        return;
    };
    if idle == Idle::Reset {
        // Closing with a zero linger sends RST instead of FIN.
        socket2::SockRef::from(&client)
            .set_linger(Some(Duration::ZERO))
            .expect("SO_LINGER");
    }
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let (mut up, mut down) = ([0u8; 16384], [0u8; 16384]);
    let mut last = Instant::now();
    loop {
        let quiet = tokio::time::sleep_until(last + IDLE_CUT);
        tokio::select! {
            r = cr.read(&mut up) => match r {
                Ok(n) if n > 0 && sw.write_all(&up[..n]).await.is_ok() => last = Instant::now(),
                _ => return,
            },
            r = sr.read(&mut down) => match r {
                Ok(n) if n > 0 && cw.write_all(&down[..n]).await.is_ok() => last = Instant::now(),
                _ => return,
            },
            _ = quiet, if idle != Idle::Never => {
                if idle == Idle::Silent {
                    // Both sides stay open; what the client sends goes nowhere.
                    let mut sink = [0u8; 4096];
                    while let Ok(n) = cr.read(&mut sink).await {
                        if n == 0 {
                            break;
                        }
                    }
                }
                if idle == Idle::Reset {
                    // Dropping a write half would send a FIN first: close the whole stream,
                    // whose zero linger makes it an RST alone.
                    drop(cr.reunite(cw).expect("halves of one stream"));
                    return;
                }
                // Returning drops both connections: a FIN each way (nothing is left unread).
                return;
            }
        }
    }
}

/// The idle test world's profile: the broker, gating.
fn broker_profile(fx: &Fixture) -> String {
    fx.profile(&Profile::new("test", "Idle test world").capability(
        "essential",
        "Essential",
        true,
        &fingerprinted(&[BROKER], "/_ping"),
    ))
}

/// `check --idle-hold 5s` against the broker behind a relay treating idle flows as `idle`: the
/// report's JSON, and its Prometheus metrics (what `serve` exposes for the same run).
async fn idle_check(idle: Idle) -> (Value, String) {
    let fx = Fixture::new("Preflight Test Root CA");
    let profile = broker_profile(&fx);
    let dns = DnsWorld::at_loopback(&[BROKER]).start().await;
    let (server, _server) = keep_alive_server(&fx.pki).await;
    let (front, _relay) = relay(server, idle).await;
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("report.json");
    let args = strings(&[
        "check",
        "--profile",
        &profile,
        "--format",
        "prometheus",
        "--output-json",
        &json.display().to_string(),
        "--quiet",
        "--dns-server",
        &dns.addr.to_string(),
        "--timeout",
        "2s",
        "--ca-file",
        &fx.ca.display().to_string(),
        "--connect-to",
        &format!("{BROKER}:443:127.0.0.1:{}", front.port()),
        "--idle-hold",
        "5s",
    ]);
    let o = run_text(args, vec![]).await;
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let lp = &j["network"]["long_poll"];
    assert_eq!(lp["host"], BROKER, "{j:#}");
    assert_eq!(lp["first_request"], true, "{lp:#}");
    assert_eq!(lp["hold_seconds"], 5, "{lp:#}");
    assert!(
        o.stdout
            .contains("\nrunner_preflight_long_poll_hold_seconds{profile=\"test\"} 5\n"),
        "{}",
        o.stdout
    );
    (j, o.stdout)
}

/// The value of an unlabelled metric.
/// The value of the series `name` (every series carries the run's labels: `profile`, the
/// `--label`s).
fn metric(metrics: &str, name: &str) -> Option<f64> {
    metrics.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?;
        let value = match rest.strip_prefix('{') {
            Some(labels) => labels.split_once("} ")?.1,
            None => rest.strip_prefix(' ')?,
        };
        value.parse().ok()
    })
}

fn keepalive_findings(j: &Value) -> Vec<Value> {
    j["network"]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["message"]
                .as_str()
                .is_some_and(|m| m.contains("net.ipv4.tcp_keepalive_time"))
        })
        .cloned()
        .collect()
}

/// Where the kernel shows its keepalive timers, the report carries them.
fn kernel_keepalive() -> bool {
    Path::new("/proc/sys/net/ipv4/tcp_keepalive_time").exists()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_closing_idle_flows_after_3_s_is_a_cut_at_3_s() {
    let (j, metrics) = idle_check(Idle::Fin).await;
    let lp = &j["network"]["long_poll"];
    assert_eq!(lp["survived"], false, "{lp:#}");
    assert_eq!(lp["failure"]["kind"], "cut", "{lp:#}");
    assert_eq!(lp["failure"]["how"], "closed", "{lp:#}");
    let after = lp["failure"]["after_ms"].as_f64().unwrap() / 1000.0;
    assert!((2.5..=4.5).contains(&after), "cut after {after} s: {lp:#}");
    assert_eq!(
        metric(&metrics, "runner_preflight_long_poll_survived"),
        Some(0.0)
    );
    let cut = metric(&metrics, "runner_preflight_long_poll_cut_seconds").expect("cut metric");
    assert!((after - cut).abs() < 0.01, "{cut} vs {after}");
    let detail = lp["detail"].as_str().unwrap();
    assert!(detail.contains("was closed after "), "{detail}");
    assert!(detail.contains("of the 5.0 s hold"), "{detail}");
    if kernel_keepalive() {
        let ka = &j["network"]["keepalive"];
        let first = ka["time_s"].as_u64().expect("keepalive time");
        assert!(ka["intvl_s"].is_u64() && ka["probes"].is_u64(), "{ka:#}");
        // A 3 s cut is sooner than any first keepalive but a 1–3 s one.
        if first > 4 {
            let warned = keepalive_findings(&j);
            assert_eq!(warned.len(), 1, "{j:#}");
            assert_eq!(warned[0]["severity"], "warn");
            let fix = warned[0]["fix"].as_str().unwrap_or_default();
            assert!(
                fix.contains("sysctl -w net.ipv4.tcp_keepalive_time=2"),
                "{fix}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_never_cuts_passes_the_idle_hold() {
    let (j, metrics) = idle_check(Idle::Never).await;
    let lp = &j["network"]["long_poll"];
    assert_eq!(
        metric(&metrics, "runner_preflight_long_poll_survived"),
        Some(1.0)
    );
    assert_eq!(
        metric(&metrics, "runner_preflight_long_poll_cut_seconds"),
        None
    );
    assert_eq!(lp["survived"], true, "{lp:#}");
    assert!(lp["failure"].is_null(), "{lp:#}");
    let detail = lp["detail"].as_str().unwrap();
    assert!(detail.contains("still answered"), "{detail}");
    assert!(keepalive_findings(&j).is_empty(), "{j:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_resets_idle_flows_is_a_cut_named_as_reset() {
    let (j, metrics) = idle_check(Idle::Reset).await;
    let lp = &j["network"]["long_poll"];
    assert_eq!(lp["survived"], false, "{lp:#}");
    assert_eq!(lp["failure"]["kind"], "cut", "{lp:#}");
    assert_eq!(lp["failure"]["how"], "reset", "{lp:#}");
    let after = lp["failure"]["after_ms"].as_f64().unwrap() / 1000.0;
    assert!((2.5..=4.5).contains(&after), "cut after {after} s: {lp:#}");
    let cut = metric(&metrics, "runner_preflight_long_poll_cut_seconds").expect("cut metric");
    assert!((after - cut).abs() < 0.01, "{cut} vs {after}");
    let detail = lp["detail"].as_str().unwrap();
    assert!(detail.contains("was reset after "), "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_stops_forwarding_is_a_silent_cut() {
    let (j, _) = idle_check(Idle::Silent).await;
    let lp = &j["network"]["long_poll"];
    assert_eq!(lp["survived"], false, "{lp:#}");
    assert_eq!(lp["failure"]["kind"], "cut", "{lp:#}");
    assert_eq!(lp["failure"]["how"], "silent", "{lp:#}");
    let detail = lp["detail"].as_str().unwrap();
    assert!(detail.contains("dropped silently"), "{detail}");
    assert!(detail.contains("no answer within 2.0 s"), "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_the_idle_check_on_its_own_schedule_and_exposes_the_cut() {
    let fx = Fixture::new("Preflight Test Root CA");
    let profile = broker_profile(&fx);
    let dns = DnsWorld::at_loopback(&[BROKER]).start().await;
    let (server, _server) = keep_alive_server(&fx.pki).await;
    let (front, _relay) = relay(server, Idle::Fin).await;
    let mut serve = crate::serve::Serve::start(strings(&[
        "--listen",
        "127.0.0.1:0",
        "--interval",
        "3600s",
        "--idle-every",
        "3600s",
        "--idle-hold",
        "5s",
        "--no-throughput",
        "--profile",
        &profile,
        "--dns-server",
        &dns.addr.to_string(),
        "--timeout",
        "2s",
        "--ca-file",
        &fx.ca.display().to_string(),
        "--connect-to",
        &format!("{BROKER}:443:127.0.0.1:{}", front.port()),
    ]));
    // The scheduled run holds no idle connection: it is said within --timeout's bounds.
    let run = serve.wait_for("run 1:", Duration::from_secs(10));
    assert!(run.contains("pass"), "{run}");
    let idle = serve.wait_for("idle check:", Duration::from_secs(10));
    assert!(idle.contains("was closed after "), "{idle}");
    let m = crate::serve::get(serve.addr, "/metrics", None).await;
    assert_eq!(m.status, 200);
    assert_eq!(
        metric(&m.body, "runner_preflight_long_poll_survived"),
        Some(0.0)
    );
    assert_eq!(
        metric(&m.body, "runner_preflight_long_poll_hold_seconds"),
        Some(5.0)
    );
    let cut = metric(&m.body, "runner_preflight_long_poll_cut_seconds").expect("cut metric");
    assert!((2.5..=4.5).contains(&cut), "cut after {cut} s:\n{}", m.body);
    // The same cut in /report.json, beside the scheduled run's report (which held nothing).
    let r = crate::serve::get(serve.addr, "/report.json", None).await;
    assert_eq!(r.status, 200);
    let j: Value = serde_json::from_str(&r.body).expect("report JSON");
    assert!(j["network"]["long_poll"].is_null(), "{j:#}");
    let idle = &j["idle_check"];
    assert_eq!(idle["host"], BROKER, "{idle:#}");
    assert_eq!(idle["survived"], false, "{idle:#}");
    assert_eq!(idle["failure"]["how"], "closed", "{idle:#}");
    let after = idle["failure"]["after_ms"].as_f64().expect("after_ms") / 1000.0;
    assert!((after - cut).abs() < 0.01, "{after} vs {cut}");
    assert!(
        idle["checked_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{idle:#}"
    );
    // Each long-poll metric is documented with its HELP text, and none documented is missing.
    let docs =
        std::fs::read_to_string(crate::serve::repo("docs/fleet-monitoring.md")).expect("docs page");
    let exported: Vec<(String, String)> = crate::serve::helps(&m.body)
        .into_iter()
        .filter(|(n, _)| n.starts_with("runner_preflight_long_poll_"))
        .collect();
    assert_eq!(exported.len(), 3, "{}", m.body);
    for (name, help) in &exported {
        let row = docs
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}`")))
            .unwrap_or_else(|| panic!("docs/fleet-monitoring.md has no row for {name}"));
        assert!(
            row.contains(help.as_str()),
            "{name}: `{row}` lacks `{help}`"
        );
    }
    let documented: Vec<String> = crate::serve::documented_metrics(&docs)
        .into_iter()
        .filter(|n| n.starts_with("runner_preflight_long_poll_"))
        .collect();
    assert_eq!(documented.len(), exported.len(), "{documented:?}");
}
