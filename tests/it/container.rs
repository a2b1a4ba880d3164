//! The container-jobs check (issue 21, item 2) against real kernels: each test makes a network
//! namespace of its own with Docker's bridges as Docker would make them (`docker0`, `br-*`), an
//! uplink, and the binary run inside it (`ip netns exec`), so it reads that namespace's
//! interfaces and routes. Docker's daemon.json and API socket are looked for where the hidden
//! flags `--docker-config-dir` and `--docker-socket` say: a test's own directory, with a fake
//! Docker API on a unix socket answering `GET /networks`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use serde_json::Value;

use crate::world::*;

const CA: &str = "Container Jobs Root CA";

/// Where the test keeps Docker's files: `etc-docker/` (daemon.json) and `docker.sock`.
struct DockerDir {
    dir: tempfile::TempDir,
}

impl DockerDir {
    fn new() -> DockerDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc-docker")).unwrap();
        DockerDir { dir }
    }

    fn config_dir(&self) -> PathBuf {
        self.dir.path().join("etc-docker")
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }

    fn daemon_json(&self, text: &str) {
        std::fs::write(self.config_dir().join("daemon.json"), text).unwrap();
    }

    /// The hidden flags pointing the check here.
    fn flags(&self) -> Vec<String> {
        vec![
            "--docker-config-dir".into(),
            self.config_dir().display().to_string(),
            "--docker-socket".into(),
            self.socket().display().to_string(),
        ]
    }
}

/// A fake Docker API on `socket`: `GET /networks` answers `networks` (JSON), anything else
/// 404. Counts the requests.
fn docker_api(socket: &Path, networks: &'static str) -> Arc<AtomicUsize> {
    let listener = tokio::net::UnixListener::bind(socket).expect("bind the Docker socket");
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let counter = counter.clone();
                    async move {
                        let found =
                            req.method() == hyper::Method::GET && req.uri().path() == "/networks";
                        if found {
                            counter.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok::<_, Infallible>(
                            hyper::Response::builder()
                                .status(if found { 200 } else { 404 })
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from_static(if found {
                                    networks.as_bytes()
                                } else {
                                    b"{\"message\":\"page not found\"}"
                                })))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    asked
}

/// `runner-preflight check --format json` for `hosts` inside `ns`, with `extra` flags.
async fn check_in(ns: &Netns, fx: &Fixture, hosts: &[&str], extra: Vec<String>) -> Outcome {
    let started = Instant::now();
    let out = run_in(ns, fx, hosts, "json", extra).await;
    Outcome::of(out, started.elapsed())
}

/// The same run, `--format table`.
async fn table_in(ns: &Netns, fx: &Fixture, hosts: &[&str], extra: Vec<String>) -> Ran {
    Ran::from(run_in(ns, fx, hosts, "table", extra).await)
}

/// `check --no-throughput` of a one-capability profile for `hosts`, inside `ns`.
async fn run_in(
    ns: &Netns,
    fx: &Fixture,
    hosts: &[&str],
    format: &str,
    mut extra: Vec<String>,
) -> std::process::Output {
    extra.push("--no-throughput".into());
    crate::path_faults::command_in(ns, fx, hosts, format, extra).await
}

/// A GitHub stand-in for `host` listening on `addr` inside `ns`.
async fn github_at(ns: &Netns, fx: &Fixture, host: &str, addr: SocketAddr) -> TestServer {
    TestServer::start_on(
        Mode::Https {
            cert: fx.pki.leaf(&[host]),
            routes: github_routes(),
        },
        ns.listen(addr),
    )
    .await
}

fn causes<'a>(json: &'a Value, kind: &str) -> Vec<&'a Value> {
    json["diagnosis"]
        .as_array()
        .map(|a| a.iter().filter(|d| d["kind"] == kind).collect())
        .unwrap_or_default()
}

/// A host whose uplink (the veth of its default route) carries 1400 bytes, while Docker's
/// default bridge keeps 1500: container jobs would send packets the uplink cannot carry. The
/// check warns naming both, the run still passes (informational), and daemon.json's `"mtu":
/// 1400` — what the fix says — makes the warning go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_docker_bridge_mtu_above_the_uplinks_warns_naming_both() {
    if !namespaces_available(&["ip"]) {
        return;
    }
    let ns = Netns::new(Path::new("ip"), "cmtu");
    ns.run_all(&[
        "ip link add up0 type veth peer name up1",
        "ip link set up0 mtu 1400",
        "ip link set up1 up",
        "ip link set up0 up",
        "ip addr add 198.51.100.2/24 dev up0",
        "ip route add default via 198.51.100.1 dev up0",
        "ip link add docker0 type bridge",
        "ip link set docker0 mtu 1500",
        "ip addr add 203.0.113.1/24 dev docker0",
        "ip link set docker0 up",
    ]);
    let fx = Fixture::new(CA);
    let host = "mtu.example.com";
    let server = github_at(&ns, &fx, host, "127.0.0.1:0".parse().unwrap()).await;
    let docker = DockerDir::new();
    let mut args = vec!["--resolve".into(), format!("{host}:443:127.0.0.1")];
    args.extend(connect_to(host, 443, server.port()));
    args.extend(docker.flags());

    let o = check_in(&ns, &fx, &[host], args.clone()).await;
    assert_eq!(o.code, 0, "{:#}", o.json);
    assert_eq!(o.json["verdict"], "warn", "{:#}", o.json);
    let c = &o.json["container_jobs"];
    assert_eq!(c["verdict"], "warn", "{c:#}");
    assert_eq!(c["gating"], false, "{c:#}");
    assert_eq!(c["uplink"]["interface"], "up0", "{c:#}");
    assert_eq!(c["uplink"]["mtu"], 1400, "{c:#}");
    let p = &c["problems"][0];
    assert_eq!(p["kind"], "mtu_above_uplink", "{c:#}");
    assert_eq!(
        (&p["network"], &p["mtu"]),
        (&"docker0".into(), &1500.into())
    );
    assert_eq!(p["uplink_mtu"], 1400, "{p:#}");
    let message = p["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("docker0 has MTU 1500") && message.contains("uplink up0 carries 1400"),
        "{message}"
    );
    let d = causes(&o.json, "container_mtu");
    assert_eq!(d.len(), 1, "{:#}", o.json["diagnosis"]);
    assert_eq!(d[0]["blocks"], serde_json::json!(["container-jobs"]));
    let fix = d[0]["fix"].as_str().unwrap_or_default();
    assert!(fix.contains("\"mtu\": 1400"), "{fix}");
    // The table has the check's own section, informational, with the problem in words.
    let table = table_in(&ns, &fx, &[host], args.clone()).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table
            .stdout
            .contains("WARN  container-jobs — container jobs: Docker's networks  [informational]"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains(
            "WARN: docker0 has MTU 1500 (the bridge's own) but the uplink up0 carries 1400"
        ),
        "{}",
        table.stdout
    );

    // The fix: daemon.json gives the default bridge's containers the uplink's MTU.
    docker.daemon_json(r#"{"mtu": 1400}"#);
    let o = check_in(&ns, &fx, &[host], args).await;
    assert_eq!(o.code, 0, "{:#}", o.json);
    let c = &o.json["container_jobs"];
    assert_eq!(c["verdict"], "pass", "{c:#}");
    assert_eq!(c["networks"][0]["mtu_from"], "daemon_json", "{c:#}");
    assert_eq!(o.json["verdict"], "pass", "{:#}", o.json);
}

/// A Docker network (`br-…`, 198.51.100.0/24) whose subnet covers the address a probed name
/// resolves to: the host reaches it, a job container would not. FAIL, informational by
/// default (exit 0); with `--require container-jobs` the run fails (exit 1) under one cause
/// naming the network, the subnet, the address and the name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridge_subnet_covering_a_probed_address_fails_and_gates_when_required() {
    if !namespaces_available(&["ip"]) {
        return;
    }
    let ns = Netns::new(Path::new("ip"), "csub");
    ns.run_all(&[
        "ip link add br-0a1b2c3d4e5f type bridge",
        "ip addr add 198.51.100.1/24 dev br-0a1b2c3d4e5f",
        "ip link set br-0a1b2c3d4e5f up",
    ]);
    let fx = Fixture::new(CA);
    let host = "overlap.example.com";
    let _server = github_at(&ns, &fx, host, "198.51.100.1:443".parse().unwrap()).await;
    let docker = DockerDir::new();
    let mut args = vec!["--resolve".into(), format!("{host}:443:198.51.100.1")];
    args.extend(docker.flags());

    let o = check_in(&ns, &fx, &[host], args.clone()).await;
    assert_eq!(o.code, 0, "{:#}", o.json);
    // The host itself reaches the name.
    assert_eq!(target(&o.json, host)["verdict"], "pass", "{:#}", o.json);
    let c = &o.json["container_jobs"];
    assert_eq!(c["verdict"], "fail", "{c:#}");
    let p = &c["problems"][0];
    assert_eq!(p["kind"], "subnet_covers", "{c:#}");
    assert_eq!(p["network"], "br-0a1b2c3d4e5f", "{p:#}");
    assert_eq!(p["subnet"], "198.51.100.0/24", "{p:#}");
    assert_eq!(p["needed"][0]["address"], "198.51.100.1", "{p:#}");
    assert_eq!(p["needed"][0]["hosts"], serde_json::json!([host]), "{p:#}");

    args.extend(["--require".into(), "container-jobs".into()]);
    let o = check_in(&ns, &fx, &[host], args).await;
    assert_eq!(o.code, 1, "{:#}", o.json);
    assert_eq!(o.json["container_jobs"]["gating"], true);
    let d = causes(&o.json, "container_subnet_overlap");
    assert_eq!(d.len(), 1, "{:#}", o.json["diagnosis"]);
    assert_eq!(d[0]["gating"], true, "{:#}", d[0]);
    assert_eq!(d[0]["hosts"], serde_json::json!([host]));
    let summary = d[0]["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains(
            "br-0a1b2c3d4e5f uses 198.51.100.0/24, which covers 198.51.100.1 (overlap.example.com)"
        ),
        "{summary}"
    );
}

/// No daemon.json, no socket, no Docker bridge: SKIP, saying where Docker was looked for. Then
/// Docker's API appears on the socket (a fake one) listing a job network whose subnet covers
/// the probed address and whose bridge the kernel does not show yet: FAIL, naming the network
/// the API gave, and the API was asked exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_docker_skips_with_the_reason_and_the_docker_api_lists_job_networks() {
    if !namespaces_available(&["ip"]) {
        return;
    }
    let ns = Netns::new(Path::new("ip"), "capi");
    ns.run_all(&["ip addr add 203.0.113.7/32 dev lo"]);
    let fx = Fixture::new(CA);
    let host = "api.example.com";
    let _server = github_at(&ns, &fx, host, "203.0.113.7:443".parse().unwrap()).await;
    let docker = DockerDir::new();
    let mut args = vec!["--resolve".into(), format!("{host}:443:203.0.113.7")];
    args.extend(docker.flags());

    let o = check_in(&ns, &fx, &[host], args.clone()).await;
    assert_eq!(o.code, 0, "{:#}", o.json);
    let c = &o.json["container_jobs"];
    assert_eq!(c["verdict"], "skip", "{c:#}");
    assert_eq!(c["skipped"]["kind"], "no_docker", "{c:#}");
    let message = c["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("not checked: no Docker here")
            && message.contains(&docker.socket().display().to_string()),
        "{message}"
    );
    assert_eq!(o.json["verdict"], "pass", "{:#}", o.json);

    let asked = docker_api(
        &docker.socket(),
        r#"[{"Name": "github_network_2f9c", "Id": "5d41402abc4b2a76b9719d911017c592", "Driver": "bridge",
             "IPAM": {"Driver": "default", "Config": [{"Subnet": "203.0.113.0/24", "Gateway": "203.0.113.1"}]},
             "Options": {}}]"#,
    );
    let o = check_in(&ns, &fx, &[host], args).await;
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    assert_eq!(o.code, 0, "{:#}", o.json);
    let c = &o.json["container_jobs"];
    assert_eq!(c["api"]["state"], "read", "{c:#}");
    assert_eq!(c["api"]["networks"], 1, "{c:#}");
    assert_eq!(c["verdict"], "fail", "{c:#}");
    let p = &c["problems"][0];
    assert_eq!(
        p["network"], "br-5d41402abc4b (network github_network_2f9c)",
        "{p:#}"
    );
    assert_eq!(p["needed"][0]["address"], "203.0.113.7", "{p:#}");
    assert!(o.elapsed < Duration::from_secs(10), "{:?}", o.elapsed);
}
