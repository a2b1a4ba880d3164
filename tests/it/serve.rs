//! `serve` and `--format prometheus` end to end: a real Prometheus (Debian's `prometheus`)
//! scrapes `serve` on loopback and sees the blocked host down; `promtool` accepts `/metrics`,
//! `--format prometheus` and the alert rules (and their unit tests); the dashboard and the docs
//! name only metrics that exist; the endpoints, the `/probe` limits, the bind address, SIGTERM.
//!
//! Under CI=true a missing `prometheus`/`promtool` fails these tests (`.ci/run` installs them);
//! elsewhere the tests that need them say so and skip.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use http_body_util::BodyExt;
use serde_json::Value;

use crate::throttle::{download_server, kbps_to_bytes, Throttled};
use crate::world::*;

const BIN: &str = env!("CARGO_BIN_EXE_runner-preflight");
const CA: &str = "Preflight Serve Test CA";
/// Reachable, with GitHub's fingerprint.
const GOOD: &str = "api.github.com";
/// Resolves, but its port is closed (a firewall's reject).
const BLOCKED: &str = "blocked.example.com";
/// Accepts and never answers (a run in progress for as long as --timeout).
const SLOW: &str = "slow.example.com";

pub(crate) fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

// ---------------------------------------------------------------------------------------------
// The world and the processes
// ---------------------------------------------------------------------------------------------

struct World {
    fx: Fixture,
    dns: DnsServer,
    srv: TestServer,
    blocked_port: u16,
    silent: Option<TestServer>,
    download: Option<Throttled>,
    profile: String,
}

impl World {
    /// `core` (gating): GOOD; `extra` (not gating): BLOCKED; with `slow`, `slow` (not gating):
    /// SLOW; with `throughput`, a throttled download source. GOOD's answers carry a Date header.
    async fn new(slow: bool, throughput: bool) -> World {
        let fx = Fixture::new(CA);
        let dns = DnsWorld::at_loopback(&[GOOD, BLOCKED, SLOW]).start().await;
        let date = httpdate::fmt_http_date(SystemTime::now());
        let srv = TestServer::start(Mode::Https {
            cert: fx.pki.leaf(&[GOOD, SLOW]),
            routes: Routes::new(HttpResponse::ok_with(FINGERPRINT, "ABCD:1").header("Date", &date)),
        })
        .await;
        let silent = if slow {
            Some(TestServer::start(Mode::SilentAfterAccept).await)
        } else {
            None
        };
        let download = if throughput {
            Some(download_server(kbps_to_bytes(4000)).await)
        } else {
            None
        };
        let mut p = Profile::new("serve-test", "Serve test world")
            .capability("core", "Core", true, &fingerprinted(&[GOOD], "/zen"))
            .capability("extra", "Extra", false, &fingerprinted(&[BLOCKED], "/zen"));
        if slow {
            p = p.capability("slow", "Slow", false, &fingerprinted(&[SLOW], "/zen"));
        }
        let profile = fx.profile(&p);
        World {
            fx,
            dns,
            srv,
            blocked_port: closed_port(),
            silent,
            download,
            profile,
        }
    }

    /// The check flags for this world (with `--timeout`).
    fn args(&self, timeout: &str) -> Vec<String> {
        let mut a = strings(&[
            "--profile",
            &self.profile,
            "--dns-server",
            &self.dns.addr_string(),
            "--ca-file",
            &self.fx.ca.display().to_string(),
            "--timeout",
            timeout,
        ]);
        a.extend(self.fx.agreeing_trust_stores());
        a.extend(connect_to(GOOD, 443, self.srv.port()));
        a.extend(connect_to(BLOCKED, 443, self.blocked_port));
        if let Some(s) = &self.silent {
            a.extend(connect_to(SLOW, 443, s.port()));
        }
        match &self.download {
            Some(d) => a.extend([
                "--throughput-url".into(),
                format!("http://dl.example.com:{}/asset.tar.gz", d.addr.port()),
                "--resolve".into(),
                "dl.example.com:*:127.0.0.1".into(),
                "--throughput-max-bytes".into(),
                "65536".into(),
            ]),
            None => a.push("--no-throughput".into()),
        }
        a
    }
}

/// A `serve` process; killed when dropped.
pub(crate) struct Serve {
    child: Child,
    pub(crate) addr: SocketAddr,
    lines: mpsc::Receiver<String>,
    said: Vec<String>,
}

impl Serve {
    /// `serve` with these flags (which should include `--listen`); waits (bounded) until it
    /// says where it listens.
    pub(crate) fn start(args: Vec<String>) -> Serve {
        let mut child = hermetic(BIN)
            .arg("serve")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut s = Serve {
            child,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            lines,
            said: Vec::new(),
        };
        let line = s.wait_for("listening on http://", Duration::from_secs(30));
        let at = line
            .split("http://")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .expect("address in the listening line");
        s.addr = at.parse().unwrap_or_else(|_| panic!("address in: {line}"));
        s
    }

    /// The first (further) line of stderr containing `needle`, within `within`.
    pub(crate) fn wait_for(&mut self, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.said.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(e) => panic!(
                    "serve did not say `{needle}` within {within:?} ({e:?}); it said:\n{}",
                    self.said.join("\n")
                ),
            }
        }
    }

    /// SIGTERM; returns the exit status, the time from the signal to the exit, and all of stderr.
    fn terminate(mut self) -> (ExitStatus, Duration, String) {
        let sent = Instant::now();
        let kill = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(kill.success());
        // stderr closes when the process exits: read it to the end, bounded.
        let deadline = sent + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.said.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                    "serve still running 10 s after SIGTERM; it said:\n{}",
                    self.said.join("\n")
                ),
            }
        }
        let status = self.child.wait().expect("wait");
        (status, sent.elapsed(), self.said.join("\n"))
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP answer.
pub(crate) struct Reply {
    pub(crate) status: u16,
    content_type: String,
    retry_after: Option<String>,
    pub(crate) body: String,
}

/// An HTTP/1.1 request to `addr`; `None` when it cannot connect; bounded (20 s).
async fn try_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    accept: Option<&str>,
) -> Option<Reply> {
    let headers: Vec<(&str, &str)> = accept.map(|a| ("accept", a)).into_iter().collect();
    try_request_with(addr, method, path, &headers).await
}

/// [`try_request`] with these request headers.
async fn try_request_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Option<Reply> {
    let work = async {
        let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        let (mut send, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .ok()?;
        tokio::spawn(conn);
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", addr.to_string());
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let req = req
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .expect("request");
        let resp = send.send_request(req).await.ok()?;
        let header = |h: &str| {
            resp.headers()
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let status = resp.status().as_u16();
        let content_type = header("content-type").unwrap_or_default();
        let retry_after = header("retry-after");
        let body = resp.into_body().collect().await.ok()?.to_bytes();
        Some(Reply {
            status,
            content_type,
            retry_after,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    };
    tokio::time::timeout(Duration::from_secs(20), work)
        .await
        .unwrap_or_else(|_| panic!("{method} {path}: no answer within 20 s"))
}

pub(crate) async fn get(addr: SocketAddr, path: &str, accept: Option<&str>) -> Reply {
    try_request(addr, "GET", path, accept)
        .await
        .unwrap_or_else(|| panic!("GET http://{addr}{path} failed"))
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The tool, or `None` after a notice. Under CI=true a missing tool fails the test.
fn require(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/bin", "/bin", "/usr/sbin", "/sbin"])
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            !in_ci(),
            "`{name}` is not installed, and CI=true: this test must run in CI (.ci/run installs the Debian package prometheus)"
        );
        eprintln!("notice: `{name}` is not installed (Debian package prometheus); skipping this test (it fails under CI=true)");
    }
    found
}

/// `promtool ARGS` with `stdin`; panics with promtool's words unless it exits 0.
fn promtool(tool: &Path, args: &[&str], stdin: &str, what: &str) {
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn promtool");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool");
    assert!(
        out.status.success(),
        "promtool {args:?} rejects {what}:\n{}{}\n--- input:\n{stdin}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A real Prometheus server on loopback, scraping `target` every second; killed when dropped.
struct Prometheus {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(binary: &Path, target: SocketAddr) -> Prometheus {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: runner-preflight\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .expect("config");
        // Prometheus cannot listen on port 0: take a free port and give it back.
        let port = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log");
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn prometheus");
        Prometheus { child, addr, dir }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `# HELP` lines of an exposition: name → text.
pub(crate) fn helps(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# HELP "))
        .filter_map(|l| l.split_once(' '))
        .map(|(n, h)| (n.to_string(), h.to_string()))
        .collect()
}

/// The value of the sample `name{labels…}` whose label set contains every one of `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|r| r.starts_with('{') || r.starts_with(' '))
        })
        .find(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_serve_and_sees_the_blocked_host_down() {
    let Some(prometheus) = require("prometheus") else {
        return;
    };
    let w = World::new(false, false).await;
    let mut args = strings(&[
        "--listen",
        "127.0.0.1:0",
        "--interval",
        "1s",
        "--label",
        "node=worker-7,kubernetes.io/zone=eu-1",
    ]);
    args.extend(w.args("2s"));
    let serve = tokio::task::block_in_place(|| Serve::start(args));
    let prom = Prometheus::start(&prometheus, serve.addr);
    let query = "/api/v1/query?query=runner_preflight_target_up";
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = String::new();
    let series = loop {
        assert!(
            Instant::now() < deadline,
            "Prometheus did not get both hosts within 30 s; last answer: {last}\nprometheus log:\n{}",
            prom.log()
        );
        if let Some(r) = try_request(prom.addr, "GET", query, None).await {
            last = r.body.clone();
            let v: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
            let result = v["data"]["result"].as_array().cloned().unwrap_or_default();
            let value_of = |host: &str| {
                result
                    .iter()
                    .find(|s| s["metric"]["host"] == host)
                    .and_then(|s| s["value"][1].as_str().map(str::to_string))
            };
            if let (Some(good), Some(blocked)) = (value_of(GOOD), value_of(BLOCKED)) {
                break (good, blocked, result);
            }
        }
        // Prometheus is another process: poll its API (bounded by the deadline above).
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let (good, blocked, result) = series;
    assert_eq!(good, "1", "{result:#?}");
    assert_eq!(blocked, "0", "{result:#?}");
    let blocked_series = result
        .iter()
        .find(|s| s["metric"]["host"] == BLOCKED)
        .expect("blocked series");
    assert_eq!(blocked_series["metric"]["capability"], "extra");
    assert_eq!(blocked_series["metric"]["port"], "443");
    assert_eq!(blocked_series["metric"]["route"], "direct");
    assert_eq!(blocked_series["metric"]["profile"], "serve-test");
    assert_eq!(blocked_series["metric"]["job"], "runner-preflight");
    // Issue 23 row 13: the `--label`s reach the metrics, on every series.
    assert_eq!(blocked_series["metric"]["node"], "worker-7");
    assert_eq!(blocked_series["metric"]["kubernetes_io_zone"], "eu-1");
    // The run's success (`extra` fails but does not gate) and each capability's, with the same
    // labels, as Prometheus stored them.
    let query_one = |q: &'static str| async move {
        let r = get(prom.addr, &format!("/api/v1/query?query={q}"), None).await;
        let v: Value = serde_json::from_str(&r.body).expect("query answer");
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    };
    let success = query_one("runner_preflight_success").await;
    assert_eq!(success.len(), 1, "{success:#?}");
    assert_eq!(success[0]["value"][1], "1", "{success:#?}");
    assert_eq!(success[0]["metric"]["node"], "worker-7", "{success:#?}");
    assert_eq!(
        success[0]["metric"]["profile"], "serve-test",
        "{success:#?}"
    );
    let caps = query_one("runner_preflight_capability_success").await;
    let cap = |id: &str| {
        caps.iter()
            .find(|s| s["metric"]["capability"] == id)
            .map(|s| (s["value"][1].clone(), s["metric"]["gating"].clone()))
    };
    assert_eq!(cap("core"), Some(("1".into(), "true".into())), "{caps:#?}");
    assert_eq!(
        cap("extra"),
        Some(("0".into(), "false".into())),
        "{caps:#?}"
    );
    let build = query_one("runner_preflight_build_info").await;
    assert_eq!(build[0]["metric"]["node"], "worker-7", "{build:#?}");
    // The counters arrive too (Prometheus 2 scrapes OpenMetrics: `runs` is a counter family).
    let runs = get(
        prom.addr,
        "/api/v1/query?query=runner_preflight_runs_total",
        None,
    )
    .await;
    let v: Value = serde_json::from_str(&runs.body).expect("query answer");
    let n: f64 = v["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{v:#}"));
    assert!(n >= 1.0, "{v:#}");
    drop(prom);
    let (status, _, said) = tokio::task::block_in_place(|| serve.terminate());
    assert_eq!(status.code(), Some(0), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_metrics_report_healthz_and_probe() {
    let w = World::new(false, true).await;
    let mut args = strings(&["--listen", "127.0.0.1:0", "--interval", "60s"]);
    args.extend(w.args("2s"));
    let mut serve = tokio::task::block_in_place(|| Serve::start(args));
    let addr = serve.addr;

    let health = get(addr, "/healthz", None).await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));

    tokio::task::block_in_place(|| serve.wait_for("run 1:", Duration::from_secs(30)));
    let report = get(addr, "/report.json", None).await;
    assert_eq!(report.status, 200, "{}", report.body);
    assert_eq!(report.content_type, "application/json");
    let json: Value = serde_json::from_str(&report.body).expect("report JSON");
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["verdict"], "warn", "{json:#}");
    assert_eq!(target(&json, GOOD)["verdict"], "pass");
    assert_eq!(target(&json, BLOCKED)["verdict"], "fail");
    assert!(
        cause(&json, BLOCKED).contains("refused"),
        "{}",
        cause(&json, BLOCKED)
    );

    let metrics = get(addr, "/metrics", None).await;
    assert_eq!(metrics.status, 200);
    assert_eq!(
        metrics.content_type,
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let m = &metrics.body;
    // Issue 23 row 13: the same state is the same text, series in the same order (the hash-map
    // order of prometheus-client's families differed from one scrape to the next).
    for _ in 0..5 {
        assert_eq!(&get(addr, "/metrics", None).await.body, m);
    }
    assert_eq!(sample(m, "runner_preflight_success", &[]), Some(1.0), "{m}");
    assert_eq!(
        sample(
            m,
            "runner_preflight_throughput_success",
            &[("direction", "download"), ("gating", "true")]
        ),
        Some(1.0),
        "{m}"
    );
    let up = |host| {
        sample(
            m,
            "runner_preflight_target_up",
            &[("host", host), ("port", "443")],
        )
    };
    assert_eq!(up(GOOD), Some(1.0), "{m}");
    assert_eq!(up(BLOCKED), Some(0.0), "{m}");
    let cap = |c| sample(m, "runner_preflight_capability_up", &[("capability", c)]);
    assert_eq!(cap("core"), Some(1.0), "{m}");
    assert_eq!(cap("extra"), Some(0.0), "{m}");
    assert_eq!(sample(m, "runner_preflight_verdict", &[]), Some(1.0), "{m}");
    assert_eq!(sample(m, "runner_preflight_runs_total", &[]), Some(1.0));
    assert_eq!(
        sample(m, "runner_preflight_runs_failed_total", &[]),
        Some(0.0)
    );
    assert_eq!(
        sample(m, "runner_preflight_dns_chain_length", &[("host", GOOD)]),
        Some(0.0)
    );
    let not_after = sample(
        m,
        "runner_preflight_certificate_not_after_timestamp_seconds",
        &[("host", GOOD)],
    )
    .expect("certificate expiry");
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    assert!(not_after > now, "{not_after} vs {now}");
    let rate = sample(
        m,
        "runner_preflight_throughput_bytes_per_second",
        &[("direction", "download")],
    )
    .expect("download rate");
    // 4000 kbit/s served: 500,000 bytes/s.
    assert!(rate > 100_000.0 && rate < 1_000_000.0, "{rate}");
    assert_eq!(
        sample(m, "runner_preflight_throughput_floor_bytes_per_second", &[]),
        Some(8750.0)
    );
    let skew = sample(m, "runner_preflight_clock_skew_seconds", &[]).expect("clock skew");
    assert!(skew.abs() < 120.0, "{skew}");
    for phase in ["dns", "tcp", "tls", "http"] {
        assert!(
            sample(
                m,
                "runner_preflight_phase_duration_seconds",
                &[("phase", phase), ("stat", "max")]
            )
            .is_some(),
            "{phase}: {m}"
        );
    }
    // The diagnosis: the refused port is one root cause, counted by kind.
    let kinds: Vec<&str> = m
        .lines()
        .filter(|l| l.starts_with("runner_preflight_diagnosis_causes{"))
        .collect();
    assert_eq!(kinds.len(), 1, "{m}");
    assert!(kinds[0].ends_with(" 1"), "{m}");
    let kind = json["diagnosis"][0]["kind"]
        .as_str()
        .expect("diagnosis kind");
    assert!(
        kinds[0].contains(&format!("kind=\"{kind}\"")),
        "{kind}: {m}"
    );
    // Bounded labels: no address, URL or credential anywhere.
    assert!(!m.contains("127.0.0.1"), "{m}");
    assert!(!m.contains("http://"), "{m}");
    if let Some(tool) = require("promtool") {
        promtool(&tool, &["check", "metrics"], m, "/metrics");
    }

    // Every metric is in the docs with its HELP text, and the docs list nothing else.
    let docs = std::fs::read_to_string(repo("docs/fleet-monitoring.md")).expect("docs page");
    let exported: BTreeSet<String> = helps(m).into_iter().map(|(n, _)| n).collect();
    for (name, help) in helps(m) {
        let row = docs
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}`")))
            .unwrap_or_else(|| panic!("docs/fleet-monitoring.md has no row for {name}"));
        assert!(
            row.contains(&help),
            "{name}: docs row `{row}` lacks the HELP text `{help}`"
        );
    }
    // The long-poll metrics exist only with --long-poll or --idle-hold, which this run has not:
    // idle::serve_runs_the_idle_check_on_its_own_schedule_and_exposes_the_cut checks their rows.
    let documented: BTreeSet<String> = documented_metrics(&docs)
        .into_iter()
        .filter(|n| !n.starts_with("runner_preflight_long_poll_"))
        // Only with a profile's runner_version rules, which this one has not:
        // today::the_metrics_carry_the_runner_version_as_a_capability_and_its_versions checks it.
        .filter(|n| n != "runner_preflight_runner_version_info")
        .collect();
    assert_eq!(documented, exported, "docs table vs /metrics");

    // OpenMetrics by content negotiation.
    let om = get(
        addr,
        "/metrics",
        Some("application/openmetrics-text; version=1.0.0"),
    )
    .await;
    assert_eq!(
        om.content_type,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(om.body.ends_with("# EOF\n"), "{}", om.body);
    assert!(om.body.contains("# TYPE runner_preflight_runs counter"));
    assert!(om
        .body
        .contains("# UNIT runner_preflight_run_duration_seconds seconds"));

    // /probe: the named capability's names only, as metrics.
    let probe = get(addr, "/probe?capability=core", None).await;
    assert_eq!(probe.status, 200, "{}", probe.body);
    assert_eq!(
        sample(&probe.body, "runner_preflight_target_up", &[("host", GOOD)]),
        Some(1.0),
        "{}",
        probe.body
    );
    assert!(!probe.body.contains(BLOCKED), "{}", probe.body);
    assert!(!probe.body.contains("runner_preflight_runs_total"));
    assert!(!probe.body.contains("runner_preflight_throughput_bytes"));
    let none = get(addr, "/probe", None).await;
    assert_eq!(none.status, 400);
    assert!(none.body.contains("core, extra"), "{}", none.body);
    let unknown = get(addr, "/probe?capability=core,nope", None).await;
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.body.contains("`nope` is not served"),
        "{}",
        unknown.body
    );

    let missing = get(addr, "/nothing-here", None).await;
    assert_eq!(missing.status, 404);
    let post = try_request(addr, "POST", "/metrics", None)
        .await
        .expect("POST answered");
    assert_eq!(post.status, 405);

    let after = get(addr, "/metrics", None).await.body;
    for (result, n) in [
        ("ok", 1.0),
        ("bad_request", 2.0),
        ("rate_limited", 0.0),
        ("busy", 0.0),
    ] {
        assert_eq!(
            sample(
                &after,
                "runner_preflight_probe_requests_total",
                &[("result", result)]
            ),
            Some(n),
            "{result}"
        );
    }
    let (status, _, said) = tokio::task::block_in_place(|| serve.terminate());
    assert_eq!(status.code(), Some(0), "{said}");
}

/// The metric names of the docs page's table (rows starting with | `runner_preflight_…`).
pub(crate) fn documented_metrics(docs: &str) -> BTreeSet<String> {
    docs.lines()
        .filter_map(|l| l.strip_prefix("| `runner_preflight_"))
        .filter_map(|l| l.split('`').next())
        .map(|n| format!("runner_preflight_{n}"))
        .collect()
}

/// Issue 23 row 13: a second `/probe` while one runs was refused with 429 ("already
/// running"); Prometheus scrapes several `/probe` targets at once. Now both are answered, and
/// only the per-minute limit answers 429.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_answers_concurrent_callers_and_is_rate_limited() {
    let w = World::new(true, false).await;
    let mut args = strings(&[
        "--listen",
        "127.0.0.1:0",
        "--interval",
        "60s",
        "--probe-limit",
        "2",
    ]);
    args.extend(w.args("4s"));
    let mut serve = tokio::task::block_in_place(|| Serve::start(args));
    let addr = serve.addr;
    // The scheduled run is over (the next is a minute away): only /probe touches the world now.
    tokio::task::block_in_place(|| serve.wait_for("run 1:", Duration::from_secs(30)));
    let silent = w.silent.as_ref().expect("silent server");
    let before = silent.connections();
    let slow = tokio::spawn(async move { get(addr, "/probe?capability=slow", None).await });
    // Bounded: the slow probe connects to the silent server at once.
    let deadline = Instant::now() + Duration::from_secs(10);
    while silent.connections() == before {
        assert!(Instant::now() < deadline, "the slow probe never connected");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // While the slow probe waits out its 4 s, a second caller gets its answer.
    let second = get(addr, "/probe?capability=core", None).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(
        sample(&second.body, "runner_preflight_success", &[]),
        Some(1.0),
        "{}",
        second.body
    );
    assert!(
        !slow.is_finished(),
        "the second probe was answered only after the first"
    );
    let slow = slow.await.expect("slow probe");
    assert_eq!(slow.status, 200, "{}", slow.body);
    assert_eq!(
        sample(
            &slow.body,
            "runner_preflight_capability_up",
            &[("capability", "slow")]
        ),
        Some(0.0),
        "{}",
        slow.body
    );
    // Two of the minute were allowed; the third is not.
    let third = get(addr, "/probe?capability=core", None).await;
    assert_eq!(third.status, 429, "{}", third.body);
    assert!(
        third.body.contains("at most 2 /probe checks a minute"),
        "{}",
        third.body
    );
    let retry: u64 = third
        .retry_after
        .as_deref()
        .and_then(|s| s.parse().ok())
        .expect("Retry-After");
    assert!((1..=61).contains(&retry), "{retry}");
    let m = get(addr, "/metrics", None).await.body;
    for (result, n) in [("rate_limited", 1.0), ("ok", 2.0), ("busy", 0.0)] {
        assert_eq!(
            sample(
                &m,
                "runner_preflight_probe_requests_total",
                &[("result", result)]
            ),
            Some(n),
            "{result}: {m}"
        );
    }
}

/// Past its 4 slots, a `/probe` caller waits for one as long as its scrape timeout allows
/// (less half a second) and then gets 503 with `Retry-After`; one that can wait longer gets
/// its answer when a slot frees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_beyond_its_slots_waits_for_one_within_the_scrape_timeout() {
    let w = World::new(true, false).await;
    let mut args = strings(&[
        "--listen",
        "127.0.0.1:0",
        "--interval",
        "60s",
        "--probe-limit",
        "20",
    ]);
    args.extend(w.args("3s"));
    let mut serve = tokio::task::block_in_place(|| Serve::start(args));
    let addr = serve.addr;
    tokio::task::block_in_place(|| serve.wait_for("run 1:", Duration::from_secs(30)));
    let silent = w.silent.as_ref().expect("silent server");
    let before = silent.connections();
    let mut slow = tokio::task::JoinSet::new();
    for _ in 0..4 {
        slow.spawn(async move { get(addr, "/probe?capability=slow", None).await });
    }
    // Bounded: the four slow probes hold every slot once each has connected.
    let deadline = Instant::now() + Duration::from_secs(10);
    while silent.connections() < before + 4 {
        assert!(
            Instant::now() < deadline,
            "the slow probes never connected ({} of 4)",
            silent.connections() - before
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let asked = Instant::now();
    let busy = try_request_with(
        addr,
        "GET",
        "/probe?capability=core",
        &[("x-prometheus-scrape-timeout-seconds", "1")],
    )
    .await
    .expect("answered");
    let waited = asked.elapsed();
    assert_eq!(busy.status, 503, "{}", busy.body);
    assert_eq!(
        busy.body,
        "4 /probe checks are running and none finished within 0.5 s; try again in 1 s\n"
    );
    assert_eq!(busy.retry_after.as_deref(), Some("1"));
    assert!(
        waited >= Duration::from_millis(450),
        "answered after {waited:?}"
    );
    // A caller that may wait (no scrape timeout: up to 10 s) gets a slot when one frees.
    let patient = get(addr, "/probe?capability=core", None).await;
    assert_eq!(patient.status, 200, "{}", patient.body);
    while let Some(r) = slow.join_next().await {
        assert_eq!(r.expect("slow probe").status, 200);
    }
    let m = get(addr, "/metrics", None).await.body;
    for (result, n) in [("busy", 1.0), ("ok", 5.0), ("rate_limited", 0.0)] {
        assert_eq!(
            sample(
                &m,
                "runner_preflight_probe_requests_total",
                &[("result", result)]
            ),
            Some(n),
            "{result}: {m}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_binds_loopback_by_default_and_sigterm_ends_a_run_within_2s() {
    // The default address.
    let help = run_text(strings(&["serve", "--help"]), vec![]).await;
    assert_eq!(help.code, 0, "{}", help.stderr);
    assert!(
        help.stdout.contains("[default: 127.0.0.1:9798]"),
        "{}",
        help.stdout
    );
    // A port alone is on 127.0.0.1 too.
    let w = World::new(true, false).await;
    let mut args = strings(&["--listen", "0", "--interval", "60s"]);
    args.extend(w.args("5s"));
    let serve = tokio::task::block_in_place(|| Serve::start(args));
    assert_eq!(
        serve.addr.ip(),
        Ipv4Addr::LOCALHOST,
        "{}",
        serve.said.join("\n")
    );
    assert_ne!(serve.addr.port(), 0);
    // The first run is under way (holding the silent server for up to 5 s) when SIGTERM comes.
    let silent = w.silent.as_ref().expect("silent server");
    let deadline = Instant::now() + Duration::from_secs(10);
    while silent.connections() == 0 {
        assert!(Instant::now() < deadline, "the first run never connected");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (status, elapsed, said) = tokio::task::block_in_place(|| serve.terminate());
    assert_eq!(status.code(), Some(0), "{said}");
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}: {said}");
    assert!(said.contains("SIGTERM: stopped"), "{said}");
    assert!(!said.contains("run 1:"), "the run was abandoned: {said}");
    assert!(!said.contains("panicked"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_rejects_a_bad_or_busy_listen_address() {
    let bad = run_text(strings(&["serve", "--listen", "localhost:80"]), vec![]).await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("is not ADDR:PORT or a port"),
        "{}",
        bad.stderr
    );
    let taken = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let at = taken.local_addr().expect("addr").to_string();
    let w = World::new(false, false).await;
    let mut args = strings(&["serve", "--listen", &at]);
    args.extend(w.args("1s"));
    let busy = run_text(args, vec![]).await;
    assert_eq!(busy.code, 2, "{}", busy.stderr);
    assert!(
        busy.stderr
            .contains(&format!("error: --listen {at}: cannot listen there: ")),
        "{}",
        busy.stderr
    );
    assert!(!busy.stderr.contains("os error"), "{}", busy.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_format_prometheus_passes_promtool_and_is_written_atomically() {
    let w = World::new(false, false).await;
    let out = w.fx.path("runner_preflight.prom");
    let mut args = strings(&["check", "-q", "--format", "prometheus", "--output"]);
    args.push(out.display().to_string());
    args.extend(w.args("2s"));
    let ran = run_text(args, vec![]).await;
    // `extra` fails but does not gate: WARN, exit 0.
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.stdout, "");
    let text = std::fs::read_to_string(&out).expect("the textfile");
    assert_eq!(
        sample(&text, "runner_preflight_target_up", &[("host", BLOCKED)]),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "runner_preflight_target_up", &[("host", GOOD)]),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sample(&text, "runner_preflight_verdict", &[]), Some(1.0));
    assert_eq!(
        sample(
            &text,
            "runner_preflight_capability_up",
            &[("capability", "extra"), ("gating", "false")]
        ),
        Some(0.0)
    );
    // One run, no counters: they would restart at 1 with every file.
    assert!(!text.contains("runner_preflight_runs_total"), "{text}");
    // Nothing but the file is left in the folder (written through a renamed temporary file).
    let names: Vec<String> = std::fs::read_dir(w.fx.dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("prom"))
        .collect();
    assert_eq!(names, ["runner_preflight.prom"]);
    if let Some(tool) = require("promtool") {
        promtool(&tool, &["check", "metrics"], &text, "--format prometheus");
    }
}

#[test]
fn alert_rules_pass_promtool_check_and_their_unit_tests() {
    let Some(tool) = require("promtool") else {
        return;
    };
    let rules = repo("deploy/prometheus/alerts.yaml");
    promtool(
        &tool,
        &["check", "rules", rules.to_str().unwrap()],
        "",
        "the alert rules",
    );
    let tests = repo("deploy/prometheus/alerts_test.yaml");
    promtool(
        &tool,
        &["test", "rules", tests.to_str().unwrap()],
        "",
        "the alert unit tests",
    );
}

/// Every `runner_preflight_…` name in `text`.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("runner_preflight_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        out.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

#[test]
fn dashboard_and_alerts_use_only_documented_metrics() {
    let docs = std::fs::read_to_string(repo("docs/fleet-monitoring.md")).expect("docs page");
    let documented = documented_metrics(&docs);
    assert!(documented.len() >= 15, "{documented:?}");
    let text =
        std::fs::read_to_string(repo("deploy/grafana/runner-preflight.json")).expect("dashboard");
    let dash: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let panels = dash["panels"].as_array().expect("panels");
    assert!(panels.len() >= 8);
    let mut exprs = Vec::new();
    for p in panels {
        for t in p["targets"].as_array().expect("targets") {
            exprs.push(t["expr"].as_str().expect("expr").to_string());
        }
    }
    let used = metric_names(&exprs.join("\n"));
    for must in [
        "runner_preflight_capability_up",
        "runner_preflight_target_up",
        "runner_preflight_verdict",
    ] {
        assert!(used.contains(must), "the dashboard does not show {must}");
    }
    let unknown: Vec<_> = used.difference(&documented).collect();
    assert!(
        unknown.is_empty(),
        "dashboard names unknown metrics: {unknown:?}"
    );
    let alerts = std::fs::read_to_string(repo("deploy/prometheus/alerts.yaml")).expect("alerts");
    let unknown: Vec<_> = metric_names(&alerts)
        .into_iter()
        .filter(|n| !documented.contains(n))
        .collect();
    assert!(
        unknown.is_empty(),
        "alerts name unknown metrics: {unknown:?}"
    );
}

/// A `/metrics` scrape from `from` (a loopback address), bounded: `None` when it gets no 200.
async fn scrape_from(from: Ipv4Addr, addr: SocketAddr) -> Option<u16> {
    let work = async {
        let socket = tokio::net::TcpSocket::new_v4().ok()?;
        socket.bind(SocketAddr::from((from, 0))).ok()?;
        let stream = socket.connect(addr).await.ok()?;
        let (mut send, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .ok()?;
        tokio::spawn(conn);
        let req = hyper::Request::builder()
            .uri("/metrics")
            .header("host", addr.to_string())
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .ok()?;
        let resp = send.send_request(req).await.ok()?;
        let status = resp.status().as_u16();
        resp.into_body().collect().await.ok()?;
        Some(status)
    };
    tokio::time::timeout(Duration::from_secs(5), work)
        .await
        .ok()
        .flatten()
}

/// A client at `from` that keeps `n` connections to `addr` open and sends nothing on them,
/// opening a new one whenever the server closes one, until the task is aborted. Counts the
/// connections the server closed.
fn starve(
    from: Ipv4Addr,
    addr: SocketAddr,
    n: usize,
    closed: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> tokio::task::JoinSet<()> {
    use tokio::io::AsyncReadExt;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let closed = closed.clone();
        set.spawn(async move {
            loop {
                let Ok(socket) = tokio::net::TcpSocket::new_v4() else {
                    return;
                };
                if socket.bind(SocketAddr::from((from, 0))).is_err() {
                    return;
                }
                if let Ok(mut s) = socket.connect(addr).await {
                    let mut b = [0u8; 1];
                    // Silent: wait for the server to close (EOF or reset).
                    let _ = s.read(&mut b).await;
                    closed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                // Pace the reopening a little, as a real client's reconnect would be.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
    }
    set
}

/// Issue 22 row 6: 100 silent connections from one client, reopened when closed, kept every
/// `/metrics` scrape out (0 of 25: 64 slots, each silent connection held 10 s). Now a silent
/// connection is dropped after about 1 s and one address holds at most
/// `--max-connections-per-peer` (8): every scrape from another address gets its answer while
/// the starving client runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_holding_silent_connections_does_not_starve_scrapes() {
    let w = World::new(false, false).await;
    let mut args = strings(&["--listen", "127.0.0.1:0", "--interval", "60s"]);
    args.extend(w.args("2s"));
    let serve = tokio::task::block_in_place(|| Serve::start(args));
    let closed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let starving = Ipv4Addr::new(127, 0, 0, 2);
    let mut starver = starve(starving, serve.addr, 100, closed.clone());
    // Wait (bounded) until the starving client has been pushed back: the server closes what
    // is over the caps.
    let deadline = Instant::now() + Duration::from_secs(10);
    while closed.load(std::sync::atomic::Ordering::Relaxed) < 100 {
        assert!(
            Instant::now() < deadline,
            "the server never closed the starving client's connections"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut ok = 0;
    for _ in 0..25 {
        if scrape_from(Ipv4Addr::LOCALHOST, serve.addr).await == Some(200) {
            ok += 1;
        }
    }
    starver.abort_all();
    assert_eq!(ok, 25, "scrapes answered while a client starved the server");
}

/// A connection that sends nothing is closed after about a second (it was 10 s), and one
/// address cannot hold more than `--max-connections-per-peer` of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_are_dropped_within_about_a_second_and_capped_per_peer() {
    use tokio::io::AsyncReadExt;
    let w = World::new(false, false).await;
    let mut args = strings(&[
        "--listen",
        "127.0.0.1:0",
        "--interval",
        "60s",
        "--max-connections-per-peer",
        "2",
    ]);
    args.extend(w.args("2s"));
    let serve = tokio::task::block_in_place(|| Serve::start(args));
    let connect = || async {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, 3), 0)))
            .expect("bind 127.0.0.3");
        socket.connect(serve.addr).await.expect("connect")
    };
    let opened = Instant::now();
    let mut held = vec![connect().await, connect().await];
    // A third one from the same address is closed at once.
    let mut third = connect().await;
    let mut b = [0u8; 1];
    let n = tokio::time::timeout(Duration::from_secs(1), third.read(&mut b))
        .await
        .expect("the connection over the per-peer cap was not closed within 1 s");
    assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    // The two silent ones are closed after about a second.
    for s in &mut held {
        let n = tokio::time::timeout(Duration::from_secs(3), s.read(&mut b))
            .await
            .expect("a silent connection still open after 3 s");
        assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    }
    let took = opened.elapsed();
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");
    // Another address is not affected.
    assert_eq!(
        scrape_from(Ipv4Addr::LOCALHOST, serve.addr).await,
        Some(200)
    );
}

/// Issue 22 row 5a: a token given as a proxy's user part (with the fixed password
/// `x-oauth-basic`) is masked whole in `/report.json` and `/metrics`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_masks_a_token_proxy_in_report_json() {
    let w = World::new(false, false).await;
    let proxy = format!(
        "http://ghp_SECRETtok:x-oauth-basic@127.0.0.1:{}",
        closed_port()
    );
    let mut args = strings(&[
        "--listen",
        "127.0.0.1:0",
        "--interval",
        "60s",
        "--proxy",
        &proxy,
    ]);
    args.extend(w.args("2s"));
    let mut serve = tokio::task::block_in_place(|| Serve::start(args));
    tokio::task::block_in_place(|| serve.wait_for("run 1:", Duration::from_secs(30)));
    let report = get(serve.addr, "/report.json", None).await;
    assert_eq!(report.status, 200, "{}", report.body);
    assert!(
        report.body.contains("http://***@127.0.0.1:"),
        "{}",
        report.body
    );
    let metrics = get(serve.addr, "/metrics", None).await;
    for text in [&report.body, &metrics.body, &serve.said.join("\n")] {
        assert!(!text.contains("SECRET") && !text.contains("ghp_"), "{text}");
    }
}
