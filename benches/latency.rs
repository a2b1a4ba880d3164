//! Latency benchmark (`cargo bench --bench latency`): the concurrent prober against one host's
//! critical path and against the sequential `dig` + `curl` loop people run by hand, on a loopback
//! world with injected latency; per-phase medians for chain and non-chain names, the full default
//! check with its download, start-up time (until the first DNS packet), time to `--help`, peak
//! RSS, and how time and memory grow with the number of names. See docs/performance.md.
//!
//! The world: the dotcom profile's names (every third behind a CNAME chain into two other zones,
//! as GitHub's CDN names are), a recursive DNS server (RA set, the whole chain in one answer)
//! that delays every answer by 2×D (a round trip), and a userspace TCP relay in front of the
//! HTTPS server that delays every chunk by D in each direction (one-way delay D). The relay
//! cannot delay the TCP handshake itself (the kernel completes it before userspace sees the
//! connection), so the connect round trip is not emulated, for the prober and the baselines
//! alike. The download URL of the profile answers with a redirect to the release-assets host,
//! which serves more than the byte bound.
//!
//! Every figure is measured `--runs` times (default 3) and printed as min / median / max.
//!
//! ```text
//! cargo bench --bench latency -- [--binary PATH] [--delays 25,100] [--runs 3]
//!     [--growth 5,50,200,500] [--growth-delay 100]
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
use tokio::net::TcpStream;
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
        growth: vec![5, 50, 200, 500],
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
    // The same port on 127.0.0.1 and ::1, for the names with AAAA records of the dual-stack
    // world (`--connect-to :443::PORT` keeps each name's own addresses).
    for _ in 0..100 {
        let listener = listen_loopback();
        let addr = listener.local_addr().expect("relay addr");
        let Ok(v6) =
            tokio::net::TcpListener::bind((std::net::Ipv6Addr::LOCALHOST, addr.port())).await
        else {
            continue; // that port is taken on ::1: another
        };
        tokio::spawn(relay_loop(v6, upstream, delay));
        tokio::spawn(relay_loop(listener, upstream, delay));
        return addr;
    }
    panic!("no port free on both 127.0.0.1 and ::1");
}

async fn relay_loop(listener: tokio::net::TcpListener, upstream: SocketAddr, delay: Duration) {
    {
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
    }
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
    /// CNAME links of each name.
    hops: std::collections::HashMap<String, usize>,
    /// Dual-stack: some names have AAAA records (::1), served on the relay's ::1 side.
    dual: bool,
}

/// In the dual-stack world, the names with AAAA records: as on github.com today, most CDN names
/// under githubusercontent.com, blob storage and ghcr.io have them; github.com, api.github.com and
/// the Actions hosts (`*.actions.githubusercontent.com`) do not (runner-network-facts.md,
/// "IPv6-only hosts").
fn has_aaaa(host: &str) -> bool {
    (host.ends_with(".githubusercontent.com") && !host.ends_with(".actions.githubusercontent.com"))
        || host.ends_with(".blob.core.windows.net")
        || host == "ghcr.io"
        || host.ends_with(".ghcr.io")
}

/// The latest runner release the world's github.com names (`Routes::github()`).
const LATEST: &str = "2.336.0";

/// The release-assets host the download URL redirects to (not probed by the profile).
const ASSETS_HOST: &str = "release-assets.githubusercontent.com";
/// The asset's path there.
const ASSET_PATH: &str = "/github-production-release-asset/actions-runner-linux-x64.tar.gz";
/// The asset's size: more than the default byte bound (2 MiB), so the download stops on it.
const ASSET_BYTES: usize = 3 * 1024 * 1024;

async fn world(
    hosts: &[String],
    pki: &Pki,
    delay: Duration,
    download: Option<&str>,
    dual: bool,
) -> World {
    // A recursive resolver's view: every answer carries the whole chain.
    let mut dns = DnsWorld::new();
    dns.chase_in_zone(true);
    let mut hops = std::collections::HashMap::new();
    let mut names: Vec<String> = hosts.to_vec();
    names.push(ASSETS_HOST.to_string());
    for (i, h) in names.iter().enumerate() {
        let mut records = vec![(Answer::A(std::net::Ipv4Addr::LOCALHOST), 60)];
        if dual && has_aaaa(h) {
            records.push((Answer::Aaaa(std::net::Ipv6Addr::LOCALHOST), 60));
        }
        let a = Behaviour::Records(records);
        if i % 3 == 0 && h != ASSETS_HOST {
            // Into two other zones, as GitHub's names are (…github.com → …l-msedge.net → …).
            let edge = format!("edge{i}.l-0007.l-msedge.example.net");
            let node = format!("node{i}.a-0003.dc-msedge.example.org");
            dns.set(
                h,
                Behaviour::Records(vec![(Answer::Cname(edge.clone()), 300)]),
            );
            dns.set(
                &edge,
                Behaviour::Records(vec![(Answer::Cname(node.clone()), 60)]),
            );
            dns.set(&node, a);
            hops.insert(h.clone(), 2);
        } else {
            dns.set(h, a);
            hops.insert(h.clone(), 0);
        }
    }
    let dns = dns.answer_delay(delay * 2).start().await;
    // The generated names of the growth table share one wildcard certificate, as GitHub's many
    // names under one zone do (`*.actions.githubusercontent.com`); one leaf listing all 500
    // names would make every handshake carry and match 500 SANs and every target of the report
    // list them, which measures the test world, not the prober.
    let wildcard = "*.bench.example";
    let mut cert_names: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !n.ends_with(".bench.example"))
        .collect();
    if cert_names.len() < names.len() {
        cert_names.push(wildcard);
    }
    // github.com as today: `releases/latest` answers 302 to the latest tag (the dotcom profile
    // asks it, then downloads that release's package), the tag page carries the release date,
    // api.github.com's rate_limit answers.
    let package = format!(
        "/actions/runner/releases/download/v{LATEST}/actions-runner-linux-x64-{LATEST}.tar.gz"
    );
    let mut routes = Routes::github()
        .route(
            &package,
            HttpResponse::status(302)
                .header("X-GitHub-Request-Id", "ABCD:3")
                .header("Location", &format!("https://{ASSETS_HOST}{ASSET_PATH}")),
        )
        .route(
            &format!("/actions/runner/releases/tag/v{LATEST}"),
            HttpResponse::ok_with("X-GitHub-Request-Id", "ABCD:4").body(
                "<html><relative-time datetime=\"2026-11-20T10:00:00Z\">Nov 20</relative-time></html>",
            ),
        )
        .route(
            "/rate_limit",
            HttpResponse::ok_with("X-GitHub-Request-Id", "ABCD:5").body(
                r#"{"resources": {"core": {"limit": 60, "remaining": 60, "reset": 1765152000, "used": 0}}}"#,
            ),
        )
        .route(
            ASSET_PATH,
            HttpResponse::status(200)
                .header("Content-Type", "application/octet-stream")
                .body(vec![7u8; ASSET_BYTES]),
        );
    if let Some(url) = download {
        let path = runner_preflight::model::parse_url(url)
            .expect("download URL")
            .path;
        routes = routes
            .route(
                &path,
                HttpResponse::status(302)
                    .header("X-GitHub-Request-Id", "ABCD:2")
                    .header("Location", &format!("https://{ASSETS_HOST}{ASSET_PATH}")),
            )
            .route(
                ASSET_PATH,
                HttpResponse::status(200)
                    .header("Content-Type", "application/octet-stream")
                    .body(vec![7u8; ASSET_BYTES]),
            );
    }
    let https = TestServer::start(Mode::Https {
        cert: pki.leaf(&cert_names),
        routes,
    })
    .await;
    let relay = start_relay(https.addr, delay).await;
    World {
        dns,
        relay,
        _https: https,
        hops,
        dual,
    }
}

// ---------------------------------------------------------------------------------------------
// Running things and measuring them
// ---------------------------------------------------------------------------------------------

struct Run {
    wall: Duration,
    /// CPU seconds of the child (user + system), from GNU time.
    cpu: f64,
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
            .arg("%U %S %M")
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
    let time_line = std::fs::read_to_string(rss_file.path())
        .ok()
        .and_then(|s| s.lines().last().map(str::to_string))
        .unwrap_or_default();
    let fields: Vec<&str> = time_line.split_whitespace().collect();
    let max_rss_kb = fields.get(2).and_then(|v| v.parse().ok()).unwrap_or(-1);
    let cpu = fields
        .get(..2)
        .map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum::<f64>())
        .unwrap_or(f64::NAN);
    Run {
        wall,
        cpu,
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
    /// `check --no-throughput` of `profile` against `w`.
    fn check(&self, profile: &str, w: &World, extra: &[&str]) -> Command {
        let mut c = self.check_measuring(profile, w, extra);
        c.arg("--no-throughput");
        c
    }

    /// `check` of `profile` against `w`, throughput included.
    fn check_measuring(&self, profile: &str, w: &World, extra: &[&str]) -> Command {
        let mut c = Command::new(&self.binary);
        c.args([
            "check",
            "--profile",
            profile,
            "--format",
            "json",
            "--quiet",
            "--dns-server",
            &w.dns.addr.to_string(),
            "--connect-to",
            &match w.dual {
                // Each name's own addresses (127.0.0.1, and ::1 where it has AAAA), the relay's port.
                true => format!(":443::{}", w.relay.port()),
                false => format!(":443:127.0.0.1:{}", w.relay.port()),
            },
            "--ca-file",
            &self.ca.display().to_string(),
            // The package the world serves (linux x64), whatever this machine is.
            "--runner-os",
            "linux",
            "--runner-arch",
            "x64",
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

/// min / median / max of some runs.
#[derive(Clone, Copy)]
struct Spread {
    min: f64,
    med: f64,
    max: f64,
}

impl Spread {
    fn of(mut v: Vec<f64>) -> Spread {
        v.retain(|x| x.is_finite());
        if v.is_empty() {
            return Spread {
                min: f64::NAN,
                med: f64::NAN,
                max: f64::NAN,
            };
        }
        v.sort_by(|a, b| a.total_cmp(b));
        Spread {
            min: v[0],
            med: v[v.len() / 2],
            max: v[v.len() - 1],
        }
    }

    fn of_secs(v: &[Duration]) -> Spread {
        Spread::of(v.iter().map(Duration::as_secs_f64).collect())
    }

    /// `0.63 s (0.62–0.65)`: the median, then min–max.
    fn secs(&self) -> String {
        format!("{:.2} s ({:.2}–{:.2})", self.med, self.min, self.max)
    }

    /// The same for values in ms.
    fn ms(&self) -> String {
        format!("{:.0} ({:.0}–{:.0})", self.med, self.min, self.max)
    }

    /// The same with two decimals.
    fn ms2(&self) -> String {
        format!("{:.2} ({:.2}–{:.2})", self.med, self.min, self.max)
    }

    /// The same for values in ms with one decimal.
    fn ms1(&self) -> String {
        format!("{:.1} ({:.1}–{:.1})", self.med, self.min, self.max)
    }

    /// The same for kB values, as MB.
    fn mb(&self) -> String {
        format!(
            "{:.1} MB ({:.1}–{:.1})",
            self.med / 1024.0,
            self.min / 1024.0,
            self.max / 1024.0
        )
    }

    /// Ratios of `self` over `base` (median over median; the range pairs min with max).
    fn ratio(&self, base: &Spread) -> String {
        format!(
            "{:.2}× ({:.2}–{:.2})",
            self.med / base.med,
            self.min / base.max,
            self.max / base.min
        )
    }
}

fn median_f(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Every target of a JSON report.
fn targets_of(json: &Value) -> impl Iterator<Item = &Value> {
    json["capabilities"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["entries"].as_array().into_iter().flatten())
        .flat_map(|e| e["targets"].as_array().into_iter().flatten())
}

/// The phases of a report: DNS, TCP, TLS, HTTP.
const PHASES: [&str; 4] = ["dns", "tcp", "tls", "http"];

/// Per phase, the median over the targets of one report (ms), for chain names (`chain`) or the
/// others.
fn phase_medians(
    json: &Value,
    hops: &std::collections::HashMap<String, usize>,
    chain: bool,
) -> [f64; 4] {
    let mut per: [Vec<f64>; 4] = Default::default();
    for t in targets_of(json) {
        let host = t["host"].as_str().unwrap_or("");
        if (hops.get(host).copied().unwrap_or(0) > 0) != chain {
            continue;
        }
        if let Some(ms) = t["dns"]["ms"].as_f64() {
            per[0].push(ms);
        }
        for c in t["checks"].as_array().into_iter().flatten() {
            if let Some(i) = PHASES.iter().position(|p| c["phase"] == *p) {
                if let Some(ms) = c["ms"].as_f64() {
                    per[i].push(ms);
                }
            }
        }
    }
    per.map(median_f)
}

fn profile_yaml(entries: &str) -> String {
    format!("schema_version: 1\nname: bench\ntitle: Bench\ncapabilities:\n  - id: core\n    title: Core\n    gating: true\n    entries:\n{entries}")
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

/// Start-up: from spawning `cmd` to the first DNS question `w` receives, over `runs` runs (ms).
fn first_packet(runs: usize, w: &World, mut cmd: impl FnMut() -> Command) -> Spread {
    let mut v = Vec::new();
    for _ in 0..runs {
        let mut c = cmd();
        c.stdout(Stdio::null()).stderr(Stdio::null());
        let t0 = Instant::now();
        let status = c.status().expect("run check");
        assert!(status.code().is_some(), "check died");
        if let Some(t) = w.dns.first_query_since(t0) {
            v.push((t - t0).as_secs_f64() * 1000.0);
        }
    }
    Spread::of(v)
}

/// The per-request timeline of a report: every check of its slowest target and of the update
/// chain's hops (the redirect entry's targets), with the connection each used. An HTTP check
/// reads only the answer's head (`Connection: close`), so its first byte is its end.
fn timeline(json: &Value, d: u64, world_name: &str) -> String {
    let slowest = targets_of(json)
        .max_by_key(|t| t["ms"].as_u64().unwrap_or(0))
        .cloned()
        .unwrap_or(Value::Null);
    let chain: Vec<Value> = json["capabilities"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["entries"].as_array().into_iter().flatten())
        .filter(|e| !e["redirect"].is_null())
        .flat_map(|e| e["targets"].as_array().into_iter().flatten().cloned())
        .collect();
    let mut out = format!(
        "\nTimeline, D = {d} ms, {world_name} world (last run): the slowest target ({}, {} ms) and the update chain's hops; times in ms since the probes started:\n\n| target | phase | family | connection | start | first byte | end |\n|---|---|---|---|---|---|---|\n",
        slowest["host"].as_str().unwrap_or("?"),
        slowest["ms"].as_u64().unwrap_or(0)
    );
    let mut seen = std::collections::HashSet::new();
    for t in std::iter::once(&slowest).chain(chain.iter()) {
        let host = t["host"].as_str().unwrap_or("?");
        for c in t["checks"].as_array().into_iter().flatten() {
            let start = c["start_ms"].as_u64();
            let end = start.map(|s| s + c["ms"].as_u64().unwrap_or(0));
            let key = (
                host.to_string(),
                c["phase"].to_string(),
                c["connection"].to_string(),
                start,
            );
            if !seen.insert(key) {
                continue;
            }
            let n = |v: Option<u64>| v.map_or("—".to_string(), |v| v.to_string());
            out.push_str(&format!(
                "| {host} | {} | {} | {} | {} | {} | {} |\n",
                c["phase"].as_str().unwrap_or("?"),
                c["family"].as_str().unwrap_or("—"),
                c["connection"]
                    .as_u64()
                    .map_or("—".to_string(), |v| format!("#{v}")),
                n(start),
                if c["phase"] == "http" {
                    n(end)
                } else {
                    "—".to_string()
                },
                n(end)
            ));
        }
    }
    out
}

/// CPU seconds (user + system) of every child this process has waited for.
fn children_cpu() -> f64 {
    // SAFETY: getrusage fills the struct it is given; zeroed is a valid `rusage`.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a live struct.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) } != 0 {
        return f64::NAN;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(ru.ru_utime) + secs(ru.ru_stime)
}

/// One name's critical path by hand: `dig` for its address, then `curl` for its URL (TLS and the
/// HTTP exchange through the relay), one after the other.
fn critical_path(ctx: &Ctx, w: &World, host: &str, path: &str) -> Duration {
    let dns = w.dns.addr;
    let t0 = Instant::now();
    let dig = Command::new("dig")
        .args([
            &format!("@{}", dns.ip()),
            "-p",
            &dns.port().to_string(),
            "+short",
            "+tries=1",
            "+time=5",
            host,
            "A",
        ])
        .stdout(Stdio::null())
        .status()
        .expect("dig");
    let curl = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "--max-time", "10", "--cacert"])
        .arg(&ctx.ca)
        .arg("--connect-to")
        .arg(format!("{host}:443:127.0.0.1:{}", w.relay.port()))
        .arg(format!("https://{host}{path}"))
        .status()
        .expect("curl");
    assert!(dig.success() && curl.success(), "dig or curl failed");
    t0.elapsed()
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
    let runs = a.runs.max(1);
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
    println!(
        "machine: {} CPUs, load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    for tool in ["dig", "curl"] {
        assert!(
            have(tool),
            "`{tool}` is needed for the baselines (apt-get install bind9-dnsutils curl)"
        );
    }

    // --help (spawned directly: only the wall time is wanted)
    let mut helps = Vec::new();
    for _ in 0..20 * runs {
        let started = Instant::now();
        let out = Command::new(&ctx.binary)
            .arg("--help")
            .output()
            .expect("run --help");
        helps.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(out.status.success(), "--help failed");
    }
    println!(
        "time to --help: {} ms ({} runs)",
        Spread::of(helps).ms1(),
        20 * runs
    );

    let profile = runner_preflight::profile::resolve("dotcom").expect("dotcom");
    let plan = runner_preflight::plan::build(&profile, &Default::default()).expect("plan");
    let hosts = plan.hosts();
    let targets = plan.targets();
    let download = plan.throughput.download.clone();
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
        "dotcom: {} names, {} targets (host × endpoint); download {}",
        hosts.len(),
        targets.len(),
        download.as_deref().unwrap_or("(none)")
    );

    // Start-up: spawn → the first DNS question, with no added delay.
    {
        let w = rt.block_on(world(&hosts, &pki, Duration::ZERO, None, false));
        let runs10 = 10 * runs;
        let bench_store = first_packet(runs10, &w, || ctx.check("dotcom", &w, &[]));
        let os_store = first_packet(runs10, &w, || {
            let mut c = ctx.check("dotcom", &w, &[]);
            c.env_remove("SSL_CERT_FILE").env_remove("SSL_CERT_DIR");
            c
        });
        println!(
            "start-up, spawn to the first DNS packet (dotcom, {runs10} runs): {} ms with an empty OS store, {} ms with this machine's OS store (/etc/ssl/certs)",
            bench_store.ms1(),
            os_store.ms1()
        );
    }

    // A name without CNAME (the world puts every third name, from the first, behind a chain).
    let one_name = hosts
        .iter()
        .enumerate()
        .find(|(i, h)| i % 3 != 0 && paths.iter().any(|p| &p.0 == *h))
        .map(|(_, h)| h.clone())
        .expect("a name with a GET");
    let one_path = paths
        .iter()
        .find(|p| p.0 == one_name)
        .map(|p| p.1.clone())
        .unwrap_or_else(|| "/".into());

    let mut main_rows = Vec::new();
    let mut tput_rows = Vec::new();
    let mut phase_rows = Vec::new();
    let mut timelines = Vec::new();
    for &d in &a.delays {
        for dual in [false, true] {
            let delay = Duration::from_millis(d);
            let w = rt.block_on(world(&hosts, &pki, delay, download.as_deref(), dual));
            let hops = |h: &str| w.hops.get(h).copied().unwrap_or(0);
            assert_eq!(
                hops(&one_name),
                0,
                "the critical path is a name without CNAME"
            );
            let world_name = if dual { "dual-stack" } else { "IPv4 only" };

            // One host's critical path, by hand.
            let crit: Vec<Duration> = (0..runs)
                .map(|_| critical_path(&ctx, &w, &one_name, &one_path))
                .collect();
            let crit = Spread::of_secs(&crit);

            // The full check without throughput.
            let mut walls = Vec::new();
            let mut rss = Vec::new();
            let mut codes = Vec::new();
            let mut phases: [Vec<[f64; 4]>; 2] = Default::default();
            let mut last = Value::Null;
            for _ in 0..runs {
                let r = measure(ctx.check("dotcom", &w, &[]));
                walls.push(r.wall);
                rss.push(r.max_rss_kb as f64);
                codes.push(r.code);
                let json: Value = serde_json::from_slice(&r.stdout).unwrap_or(Value::Null);
                phases[0].push(phase_medians(&json, &w.hops, false));
                phases[1].push(phase_medians(&json, &w.hops, true));
                last = json;
            }
            let full = Spread::of_secs(&walls);
            let full_rss = Spread::of(rss);
            timelines.push(timeline(&last, d, world_name));

            // The sequential baseline and the download are measured in the IPv4 world only
            // (their figures do not depend on AAAA records, and the loop takes a minute a run).
            let base = if dual {
                None
            } else {
                // The full default check: the download measured (through the redirect).
                let mut walls = Vec::new();
                let mut rss = Vec::new();
                let mut stops = Vec::new();
                let mut dl_ms = Vec::new();
                let mut tcodes = Vec::new();
                for _ in 0..runs {
                    let r = measure(ctx.check_measuring("dotcom", &w, &[]));
                    walls.push(r.wall);
                    rss.push(r.max_rss_kb as f64);
                    tcodes.push(r.code);
                    let json: Value = serde_json::from_slice(&r.stdout).unwrap_or(Value::Null);
                    let dl = json["throughput"]["directions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|x| x["direction"] == "download")
                        .cloned()
                        .unwrap_or(Value::Null);
                    stops.push(format!(
                        "{}, {} bytes",
                        dl["stopped"].as_str().unwrap_or("?"),
                        dl["bytes"].as_u64().unwrap_or(0)
                    ));
                    dl_ms.push(dl["elapsed_ms"].as_f64().unwrap_or(f64::NAN));
                }
                stops.dedup();
                let tput = Spread::of_secs(&walls);
                tput_rows.push(format!(
                    "| {d} ms | {} | **{}** | {} | {} | {} | {tcodes:?} |",
                    tput.secs(),
                    tput.ratio(&crit),
                    Spread::of(dl_ms).ms(),
                    stops.join("; "),
                    Spread::of(rss).mb(),
                ));
                // (b) The sequential baseline.
                let script = ctx.write("baseline.sh", &baseline_script(&ctx, &w, &hosts, &paths));
                let base: Vec<Duration> = (0..runs)
                    .map(|_| {
                        let mut c = Command::new("bash");
                        c.arg(&script);
                        measure(c).wall
                    })
                    .collect();
                Some(Spread::of_secs(&base))
            };
            let model = delay * 6;
            // The update chain's floor: DNS, TLS, releases/latest, the package's 302, the asset
            // (each 2D; the relay does not delay the TCP handshake), one after the other.
            let floor = delay * 10;
            let speedup = match base {
                Some(base) => format!(
                    "{} | **{:.0}×** ({:.0}–{:.0})",
                    base.secs(),
                    base.med / full.med,
                    base.min / full.max,
                    base.max / full.min
                ),
                None => "— | —".to_string(),
            };
            main_rows.push(format!(
                "| {d} ms | {world_name} | {} | {:.2} s | {} | **{}** | {:.2}× | {speedup} | {} | {codes:?} |",
                crit.secs(),
                model.as_secs_f64(),
                full.secs(),
                full.ratio(&crit),
                floor.as_secs_f64() / model.as_secs_f64(),
                full_rss.mb(),
            ));
            for (k, label) in [(0, "no CNAME"), (1, "CNAME chain (2 links)")] {
                let col = |i: usize| Spread::of(phases[k].iter().map(|p| p[i]).collect()).ms();
                phase_rows.push(format!(
                    "| {d} ms | {world_name} | {label} | {} | {} | {} | {} |",
                    col(0),
                    col(1),
                    col(2),
                    col(3)
                ));
            }
        }
    }

    println!("\nOne host's critical path (`dig` + `curl`, {one_name}) against the full dotcom check; min–max of {runs} runs in brackets:\n");
    println!("| one-way delay D | world | critical path, one name by hand (a) | modelled 6D | full dotcom check `--no-throughput` | ratio to (a) | floor (10D/6D) | sequential dig+curl loop (b) | speed-up over (b) | peak RSS | exit codes |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for r in &main_rows {
        println!("{r}");
    }
    println!("\nFull default check (download measured, through the redirect to {ASSETS_HOST}):\n");
    println!("| one-way delay D | full default check | ratio to (a) | download, set-up included (ms) | download stopped on | peak RSS | exit codes |");
    println!("|---|---|---|---|---|---|---|");
    for r in &tput_rows {
        println!("{r}");
    }
    println!("\nPer-phase medians over the targets of each run (ms; median of the runs, min–max in brackets):\n");
    println!("| one-way delay D | world | names | DNS | TCP | TLS | HTTP |");
    println!("|---|---|---|---|---|---|---|");
    for r in &phase_rows {
        println!("{r}");
    }
    for t in &timelines {
        println!("{t}");
    }

    // Growth with the number of names.
    println!(
        "\nGrowth (generated profiles, one name each `nN.bench.example`, every third behind a CNAME chain, D = {} ms, default --concurrency):\n",
        a.growth_delay
    );
    println!("| names | wall time | ratio to the first row | CPU per probed name (getrusage, whole process; goal ≤ 2.0 ms) | peak RSS | exit codes |");
    println!("|---|---|---|---|---|---|");
    let delay = Duration::from_millis(a.growth_delay);
    let mut first: Option<Spread> = None;
    for &n in &a.growth {
        let names: Vec<String> = (0..n).map(|i| format!("n{i}.bench.example")).collect();
        let w = rt.block_on(world(&names, &pki, delay, None, false));
        let entries: String = names
            .iter()
            .map(|h| format!("      - host: {h}\n        http: {{ path: /, expect_header: X-GitHub-Request-Id }}\n"))
            .collect();
        let p = ctx.write(&format!("growth-{n}.yaml"), &profile_yaml(&entries));
        let mut walls = Vec::new();
        let mut rss = Vec::new();
        let mut codes = Vec::new();
        let mut failing = Vec::new();
        let mut cpu_per_name = Vec::new();
        for _ in 0..runs {
            let before = children_cpu();
            let r = measure(ctx.check(&p, &w, &["--max-time", "120s"]));
            // The children's rusage (getrusage(RUSAGE_CHILDREN): GNU time and the check it
            // waited for) grew by the run's CPU.
            cpu_per_name.push((children_cpu() - before) * 1000.0 / n.max(1) as f64);
            walls.push(r.wall);
            rss.push(r.max_rss_kb as f64);
            codes.push(r.code);
            eprintln!("{n} names: {:.2} s CPU", r.cpu);
            let json: Value = serde_json::from_slice(&r.stdout).unwrap_or(Value::Null);
            let mut dns: Vec<f64> = targets_of(&json)
                .filter_map(|t| t["dns"]["ms"].as_f64())
                .collect();
            let mut all: Vec<f64> = targets_of(&json).filter_map(|t| t["ms"].as_f64()).collect();
            dns.sort_by(f64::total_cmp);
            all.sort_by(f64::total_cmp);
            if let (Some(d), Some(t)) = (dns.last(), all.last()) {
                eprintln!(
                    "{n} names: DNS median {:.0} ms, max {d:.0} ms; target median {:.0} ms, max {t:.0} ms",
                    median_f(dns.clone()),
                    median_f(all.clone())
                );
            }
            for t in targets_of(&json).filter(|t| t["verdict"] == "fail") {
                failing.push(format!("{}: {}", t["host"], t["cause"]));
            }
        }
        if !failing.is_empty() {
            eprintln!(
                "{n} names: {} failing targets, e.g. {}",
                failing.len(),
                failing[0]
            );
        }
        let wall = Spread::of_secs(&walls);
        let base = *first.get_or_insert(wall);
        println!(
            "| {n} | {} | {} | {} ms | {} | {codes:?} |",
            wall.secs(),
            wall.ratio(&base),
            Spread::of(cpu_per_name).ms2(),
            Spread::of(rss).mb()
        );
    }
}
