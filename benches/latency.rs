//! Latency benchmark (`cargo bench --bench latency`): the concurrent prober against the physical
//! limit (the critical path of its slowest name) and against the sequential `dig` + `curl` loop
//! people run by hand, on a loopback world with injected latency; plus peak RSS, time to `--help`,
//! and how time and memory grow with the number of names. See docs/readme-issue-7.md.
//!
//! The world: the dotcom profile's names (every third behind a CNAME into another zone, answered
//! hop by hop as a real recursive chain would cost), a DNS server that delays every answer by 2×D
//! (a round trip), and a userspace TCP relay in front of the HTTPS server that delays every chunk by
//! D in each direction (one-way delay D). The relay cannot delay the TCP handshake itself (the
//! kernel completes it before userspace sees the connection), so the connect round trip is not
//! emulated: every figure here is one round trip per connection lower than on a real link.
//!
//! ```text
//! cargo bench --bench latency -- [--binary PATH] [--delays 25,100] [--runs 3] [--growth-delay 100]
//! ```

#[path = "../tests/it/world.rs"]
mod world;

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use world::*;

struct Args {
    binary: PathBuf,
    delays: Vec<u64>,
    runs: usize,
    growth_delay: u64,
    growth: Vec<usize>,
}

fn args() -> Args {
    let mut a = Args {
        binary: PathBuf::from(env!("CARGO_BIN_EXE_runner-preflight")),
        delays: vec![25, 100],
        runs: 3,
        growth_delay: 100,
        growth: vec![10, 25, 50, 100, 200],
    };
    let list = |v: Option<String>| -> Vec<u64> {
        v.unwrap_or_default()
            .split(',')
            .filter_map(|x| x.trim().parse().ok())
            .collect()
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--binary" => a.binary = it.next().map(PathBuf::from).unwrap_or(a.binary),
            "--delays" => a.delays = list(it.next()),
            "--runs" => a.runs = it.next().and_then(|v| v.parse().ok()).unwrap_or(3),
            "--growth-delay" => {
                a.growth_delay = it.next().and_then(|v| v.parse().ok()).unwrap_or(100)
            }
            "--growth" => a.growth = list(it.next()).into_iter().map(|n| n as usize).collect(),
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    a
}

// ---------------------------------------------------------------------------------------------
// The delaying relay
// ---------------------------------------------------------------------------------------------

/// Accepts on 127.0.0.1 and relays each connection to `upstream`, delaying every chunk by `delay`
/// in each direction (chunks keep their order; a slow chunk does not hold back the clock of the
/// next one, as on a real link).
async fn start_relay(upstream: SocketAddr, delay: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
    let addr = listener.local_addr().expect("relay addr");
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::join!(pipe(cr, sw, delay), pipe(sr, cw, delay));
            });
        }
    });
    addr
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(tokio::time::Instant, Option<Vec<u8>>)>();
    let reader = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = from.read(&mut buf).await.unwrap_or(0);
            let at = tokio::time::Instant::now() + delay;
            if n == 0 {
                let _ = tx.send((at, None));
                break;
            }
            if tx.send((at, Some(buf[..n].to_vec()))).is_err() {
                break;
            }
        }
    };
    let writer = async move {
        while let Some((at, data)) = rx.recv().await {
            tokio::time::sleep_until(at).await; // the emulated one-way delay
            match data {
                Some(d) => {
                    if to.write_all(&d).await.is_err() {
                        break;
                    }
                }
                None => {
                    let _ = to.shutdown().await;
                    break;
                }
            }
        }
    };
    tokio::join!(reader, writer);
}

// ---------------------------------------------------------------------------------------------
// A world
// ---------------------------------------------------------------------------------------------

struct World {
    dns: DnsServer,
    relay: SocketAddr,
    _https: TestServer,
    /// CNAME hops (queries after the first) of each name.
    hops: std::collections::HashMap<String, usize>,
}

async fn world(hosts: &[String], pki: &Pki, delay: Duration) -> World {
    let mut dns = DnsWorld::new();
    let mut hops = std::collections::HashMap::new();
    for (i, h) in hosts.iter().enumerate() {
        let a = Behaviour::Records(vec![(Answer::A(std::net::Ipv4Addr::LOCALHOST), 60)]);
        if i % 3 == 0 {
            // Into another zone, as GitHub's names are (e.g. *.l-msedge.net): one more question.
            let edge = format!("edge{i}.l-0007.l-msedge.example.net");
            dns.set(
                h,
                Behaviour::Records(vec![(Answer::Cname(edge.clone()), 300)]),
            );
            dns.set(&edge, a);
            hops.insert(h.clone(), 1);
        } else {
            dns.set(h, a);
            hops.insert(h.clone(), 0);
        }
    }
    let dns = dns.answer_delay(delay * 2).start().await;
    let names: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let https = TestServer::start(Mode::Https {
        cert: pki.leaf(&names),
        routes: Routes::new(
            HttpResponse::ok_with("X-GitHub-Request-Id", "ABCD:1").header("x-vss-e2eid", "e2e-1"),
        ),
    })
    .await;
    let relay = start_relay(https.addr, delay).await;
    World {
        dns,
        relay,
        _https: https,
        hops,
    }
}

// ---------------------------------------------------------------------------------------------
// Running things and measuring them
// ---------------------------------------------------------------------------------------------

struct Run {
    wall: Duration,
    max_rss_kb: i64,
    code: i32,
    stdout: Vec<u8>,
}

/// Runs `cmd` to completion: wall time and peak RSS.
///
/// The peak RSS comes from `/usr/bin/time -f %M` (GNU time, Debian package `time`) when present.
/// Reading the rusage of a child we spawn directly would be wrong: Linux carries the parent's
/// high-water mark over a vfork + exec into the child's `ru_maxrss`, so the benchmark's own memory
/// (the test world) would be counted. GNU time forks from its own small image instead.
fn measure(cmd: Command) -> Run {
    let time = Path::new("/usr/bin/time");
    let rss_file = tempfile::NamedTempFile::new().expect("temp file");
    let mut cmd = if time.exists() {
        let mut t = Command::new(time);
        t.arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(rss_file.path())
            .arg(cmd.get_program())
            .args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => t.env(k, v),
                None => t.env_remove(k),
            };
        }
        t
    } else {
        cmd
    };
    cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn");
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_end(&mut stdout)
        .expect("read stdout");
    let status = child.wait().expect("wait");
    let wall = started.elapsed();
    let max_rss_kb = std::fs::read_to_string(rss_file.path())
        .ok()
        .and_then(|s| s.lines().last().and_then(|l| l.trim().parse().ok()))
        .unwrap_or(-1);
    Run {
        wall,
        max_rss_kb,
        code: status.code().unwrap_or(-1),
        stdout,
    }
}

struct Ctx {
    binary: PathBuf,
    dir: tempfile::TempDir,
    ca: PathBuf,
    empty: PathBuf,
}

impl Ctx {
    fn check(&self, profile: &str, w: &World, extra: &[&str]) -> Command {
        let mut c = Command::new(&self.binary);
        c.args([
            "check",
            "--profile",
            profile,
            "--no-throughput",
            "--format",
            "json",
            "--quiet",
            "--dns-server",
            &w.dns.addr.to_string(),
            "--connect-to",
            &format!(":443:127.0.0.1:{}", w.relay.port()),
            "--ca-file",
            &self.ca.display().to_string(),
        ])
        .args(extra)
        .env("SSL_CERT_FILE", &self.empty)
        .env("SSL_CERT_DIR", self.dir.path().join("no-certs"))
        .env("NO_COLOR", "1");
        for v in [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
        ] {
            c.env_remove(v);
        }
        c
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.display().to_string()
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// The profile entries of `targets` (one entry per endpoint), for a one-name profile.
fn entries_yaml(targets: &[runner_preflight::plan::Target]) -> String {
    let mut s = String::new();
    for t in targets {
        for ep in &t.endpoints {
            s.push_str(&format!(
                "      - host: {}\n        ports: [{}]\n",
                t.host, ep.port
            ));
            if let Some(h) = &ep.http {
                s.push_str(&format!(
                    "        http: {{ path: \"{}\", method: {}{} }}\n",
                    h.path,
                    h.method.as_str(),
                    h.expect_header
                        .as_ref()
                        .map(|e| format!(", expect_header: {e}"))
                        .unwrap_or_default()
                ));
            }
        }
    }
    s
}

fn profile_yaml(entries: &str) -> String {
    format!("schema_version: 1\nname: bench\ntitle: Bench\ncapabilities:\n  - id: core\n    title: Core\n    gating: true\n    entries:\n{entries}")
}

/// (host, ms) of the slowest target in a JSON report.
fn slowest(json: &Value) -> (String, u64) {
    json["capabilities"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["entries"].as_array().into_iter().flatten())
        .flat_map(|e| e["targets"].as_array().into_iter().flatten())
        .map(|t| {
            (
                t["host"].as_str().unwrap_or("").to_string(),
                t["ms"].as_u64().unwrap_or(0),
            )
        })
        .max_by_key(|t| t.1)
        .unwrap_or_default()
}

/// The sequential loop people run by hand, as a shell script: per name, `dig` then `curl`.
fn baseline_script(ctx: &Ctx, w: &World, hosts: &[String], paths: &[(String, String)]) -> String {
    let dns = w.dns.addr;
    let mut s = String::from("set -u\n");
    for h in hosts {
        let path = paths
            .iter()
            .find(|p| &p.0 == h)
            .map(|p| p.1.as_str())
            .unwrap_or("/");
        s.push_str(&format!(
            "dig @{ip} -p {port} +short +tries=1 +time=5 {h} A >/dev/null\n\
             curl -sS -o /dev/null --max-time 10 --cacert {ca} --connect-to {h}:443:127.0.0.1:{relay} https://{h}{path} || echo FAIL {h} >&2\n",
            ip = dns.ip(),
            port = dns.port(),
            ca = ctx.ca.display(),
            relay = w.relay.port(),
        ));
    }
    s
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool} >/dev/null")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn main() {
    let a = args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = rt.enter();
    let dir = tempfile::tempdir().expect("tmp");
    let pki = Pki::new("Latency Bench Root CA");
    let ca = write_pem(dir.path(), "ca.pem", &pki.ca_pem);
    let empty = write_pem(dir.path(), "empty.pem", "");
    let ctx = Ctx {
        binary: a.binary.clone(),
        dir,
        ca,
        empty,
    };
    println!("binary: {}", ctx.binary.display());
    if let Ok(m) = std::fs::metadata(&ctx.binary) {
        println!("binary size: {:.1} MB", m.len() as f64 / 1e6);
    }
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/dist/runner-preflight");
    match std::fs::metadata(&dist) {
        Ok(m) => println!(
            "dist binary (`cargo build --profile dist`): {:.1} MB ({} bytes)",
            m.len() as f64 / 1e6,
            m.len()
        ),
        Err(_) => println!("dist binary: not built (cargo build --profile dist)"),
    }

    // --help (spawned directly: only the wall time is wanted)
    let mut helps = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let out = Command::new(&ctx.binary)
            .arg("--help")
            .output()
            .expect("run --help");
        helps.push(started.elapsed());
        assert!(out.status.success(), "--help failed");
    }
    println!(
        "time to --help: median {:.1} ms, max {:.1} ms (20 runs)",
        median(helps.clone()).as_secs_f64() * 1000.0,
        helps.iter().max().expect("runs").as_secs_f64() * 1000.0
    );

    let profile = runner_preflight::profile::resolve("dotcom").expect("dotcom");
    let plan = runner_preflight::plan::build(&profile, &Default::default()).expect("plan");
    let hosts = plan.hosts();
    let targets = plan.targets();
    let paths: Vec<(String, String)> = targets
        .iter()
        .filter_map(|t| {
            let ep = t.endpoints.first()?;
            let h = ep.http.as_ref()?;
            (h.method == runner_preflight::model::Method::Get)
                .then(|| (t.host.clone(), h.path.clone()))
        })
        .collect();
    println!(
        "dotcom: {} names, {} targets (host × endpoint)\n",
        hosts.len(),
        targets.len()
    );
    let dig = have("dig");
    if !dig {
        println!(
            "note: `dig` not found (apt-get install bind9-dnsutils): the baseline is skipped\n"
        );
    }

    println!("| one-way delay D | full dotcom check (median of {}) | slowest name alone (a) | ratio to (a) | modelled critical path | sequential dig+curl loop (b) | speed-up over (b) | peak RSS | exit |", a.runs);
    println!("|---|---|---|---|---|---|---|---|---|");
    for &d in &a.delays {
        let delay = Duration::from_millis(d);
        let w = rt.block_on(world(&hosts, &pki, delay));
        let mut walls = Vec::new();
        let mut rss = 0;
        let mut code = 0;
        let mut json = Value::Null;
        for _ in 0..a.runs {
            let r = measure(ctx.check("dotcom", &w, &[]));
            walls.push(r.wall);
            rss = rss.max(r.max_rss_kb);
            code = r.code;
            json = serde_json::from_slice(&r.stdout).unwrap_or(Value::Null);
        }
        let full = median(walls);
        let (slow_host, slow_ms) = slowest(&json);
        // (a) The slowest name alone: the same entries, nothing else to probe.
        let mine: Vec<_> = targets
            .iter()
            .filter(|t| t.host == slow_host)
            .cloned()
            .collect();
        let one = ctx.write("one.yaml", &profile_yaml(&entries_yaml(&mine)));
        let mut alone = Vec::new();
        for _ in 0..a.runs {
            alone.push(measure(ctx.check(&one, &w, &[])).wall);
        }
        let alone = median(alone);
        // Modelled: DNS questions in sequence (1 + CNAME hops, A and AAAA in parallel) × 2D, TLS
        // 1.3 (1 RTT) and the HTTP exchange (1 RTT) × 2D each; the TCP connect RTT is not emulated.
        let hops = w.hops.get(&slow_host).copied().unwrap_or(0);
        let model = delay * 2 * (1 + hops as u32) + delay * 4;
        // (b) The sequential baseline.
        let base = if dig {
            let script = ctx.write("baseline.sh", &baseline_script(&ctx, &w, &hosts, &paths));
            let mut c = Command::new("bash");
            c.arg(script);
            Some(measure(c).wall)
        } else {
            None
        };
        println!(
            "| {d} ms | {} | {} ({slow_host}, {slow_ms} ms in the full run) | {:.2}× | {} | {} | {} | {:.1} MB | {code} |",
            secs(full),
            secs(alone),
            full.as_secs_f64() / alone.as_secs_f64(),
            secs(model),
            base.map(secs).unwrap_or_else(|| "—".into()),
            base.map(|b| format!("{:.1}×", b.as_secs_f64() / full.as_secs_f64()))
                .unwrap_or_else(|| "—".into()),
            rss as f64 / 1024.0,
        );
    }

    // The concurrency bound: with 32 slots dotcom's 47 targets need two waves; the default is 64.
    if let Some(&d) = a.delays.iter().max() {
        let w = rt.block_on(world(&hosts, &pki, Duration::from_millis(d)));
        for n in ["32", "64"] {
            let walls: Vec<Duration> = (0..a.runs)
                .map(|_| measure(ctx.check("dotcom", &w, &["--concurrency", n])).wall)
                .collect();
            println!(
                "\nD = {d} ms, --concurrency {n}: full dotcom check {} (median of {})",
                secs(median(walls)),
                a.runs
            );
        }
    }

    // Growth with the number of names.
    println!(
        "\nGrowth (generated profiles, one name each `nN.bench.example`, D = {} ms, default --concurrency 64):\n",
        a.growth_delay
    );
    println!("| names | wall time | peak RSS | exit |");
    println!("|---|---|---|---|");
    let delay = Duration::from_millis(a.growth_delay);
    for &n in &a.growth {
        let names: Vec<String> = (0..n).map(|i| format!("n{i}.bench.example")).collect();
        let w = rt.block_on(world(&names, &pki, delay));
        let entries: String = names
            .iter()
            .map(|h| format!("      - host: {h}\n        http: {{ path: /, expect_header: X-GitHub-Request-Id }}\n"))
            .collect();
        let p = ctx.write(&format!("growth-{n}.yaml"), &profile_yaml(&entries));
        let mut walls = Vec::new();
        let mut rss = 0;
        let mut code = 0;
        for _ in 0..a.runs {
            let r = measure(ctx.check(&p, &w, &["--max-time", "120s"]));
            walls.push(r.wall);
            rss = rss.max(r.max_rss_kb);
            code = r.code;
        }
        println!(
            "| {n} | {} | {:.1} MB | {code} |",
            secs(median(walls)),
            rss as f64 / 1024.0
        );
    }
}
