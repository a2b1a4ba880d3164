//! Soak benchmark (`cargo bench --bench soak`): `serve --interval 10ms` against a loopback world
//! for 1,000 scheduled runs, scraped all along like Prometheus would; the process's resident
//! memory (VmRSS) and open file descriptors (`/proc/PID/fd`) after a warm-up and at the end.
//! Fails (exit 1) when RSS grows by 2 MB or more after the warm-up, or descriptors grow.
//! Figures and the command are in docs/fleet-monitoring.md.
//!
//! The world: DNS with a two-link CNAME chain for the good name, a TLS server with GitHub's
//! fingerprint, and a closed port for a blocked name (a firewall's reject), so each run has a
//! passing and a failing capability, DNS, TCP, TLS and HTTP.
//!
//! With `--idle SECS` it measures instead what `serve --interval 60s` costs while it waits: the
//! process's CPU time (user + system, `/proc/PID/stat`) over SECS seconds after its first run,
//! scheduled runs included, as a share of one core (issue 25: at most 0.1 %).
//!
//! ```text
//! cargo bench --bench soak -- [--runs 1000] [--warmup 100] [--binary PATH] [--idle SECS]
//! ```

// The shared world; this bench uses part of it.
#[allow(unused_imports)]
#[path = "../tests/it/world.rs"]
mod world;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use http_body_util::BodyExt;

use world::*;

const GOOD: &str = "api.github.com";
const BLOCKED: &str = "blocked.example.com";
/// The most RSS may grow after the warm-up.
const RSS_LIMIT_KB: i64 = 2 * 1024;

struct Args {
    binary: PathBuf,
    runs: u64,
    warmup: u64,
    /// Measure idle CPU over this many seconds instead of soaking.
    idle: Option<u64>,
}

fn args() -> Args {
    let mut a = Args {
        binary: PathBuf::from(env!("CARGO_BIN_EXE_runner-preflight")),
        runs: 1000,
        warmup: 100,
        idle: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--binary" => a.binary = it.next().map(PathBuf::from).unwrap_or(a.binary),
            "--runs" => a.runs = it.next().and_then(|v| v.parse().ok()).unwrap_or(a.runs),
            "--warmup" => a.warmup = it.next().and_then(|v| v.parse().ok()).unwrap_or(a.warmup),
            "--idle" => a.idle = it.next().and_then(|v| v.parse().ok()),
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    a
}

/// Resident memory (kB) and open descriptors of `pid`.
fn sample(pid: u32) -> (i64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0);
    (rss, fds)
}

/// GET `path` on `addr`; the body, or `None` (bounded, 10 s).
async fn get(addr: SocketAddr, path: &str) -> Option<String> {
    let work = async {
        let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        let (mut send, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .ok()?;
        tokio::spawn(conn);
        let req = hyper::Request::get(path)
            .header("host", addr.to_string())
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .ok()?;
        let resp = send.send_request(req).await.ok()?;
        let body = resp.into_body().collect().await.ok()?.to_bytes();
        Some(String::from_utf8_lossy(&body).into_owned())
    };
    tokio::time::timeout(Duration::from_secs(10), work)
        .await
        .ok()
        .flatten()
}

fn counter(metrics: &str, name: &str) -> Option<u64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// CPU time (user + system) `pid` has used so far, from `/proc/PID/stat` (fields 14 and 15, in
/// clock ticks).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    // SAFETY: sysconf only reads a constant of the system.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_micros(ticks * 1_000_000 / hz)
}

async fn soak(a: &Args) -> bool {
    let fx = Fixture::new("Preflight Soak CA");
    let dns = DnsWorld::new()
        .name(GOOD, cname("edge.cdn.example.net", 300))
        .name("edge.cdn.example.net", cname("node7.lb.example.org", 120))
        .name("node7.lb.example.org", loopback(30))
        .name(BLOCKED, loopback(60))
        .start()
        .await;
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&[GOOD]),
        routes: github_routes(),
    })
    .await;
    let profile = fx.profile(
        &Profile::new("soak", "Soak world")
            .capability("core", "Core", true, &fingerprinted(&[GOOD], "/zen"))
            .capability("extra", "Extra", false, &fingerprinted(&[BLOCKED], "/zen")),
    );
    let blocked_port = closed_port();
    let interval = match a.idle {
        Some(_) => "60s",
        None => "10ms",
    };
    let mut cmd = hermetic(&a.binary);
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--interval",
        interval,
        "--quiet",
        "--no-throughput",
        "--profile",
        &profile,
        "--dns-server",
        &dns.addr_string(),
        "--ca-file",
        &fx.ca.display().to_string(),
        "--timeout",
        "2s",
        "--connect-to",
        &format!("{GOOD}:443:127.0.0.1:{}", srv.port()),
        "--connect-to",
        &format!("{BLOCKED}:443:127.0.0.1:{blocked_port}"),
    ])
    .args(fx.agreeing_trust_stores())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    let mut child = Killed(cmd.spawn().expect("spawn serve"));
    let pid = child.0.id();
    let stderr = child.0.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let listening = tokio::task::block_in_place(|| loop {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(l) if l.contains("listening on http://") => break l,
            Ok(_) => continue,
            Err(e) => panic!("serve did not start: {e:?}"),
        }
    });
    let addr: SocketAddr = listening
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .expect("address");

    if let Some(secs) = a.idle {
        // After the first run (its start-up costs are not idling), CPU over `secs` seconds.
        let first = Instant::now();
        loop {
            let runs = get(addr, "/metrics")
                .await
                .and_then(|m| counter(&m, "runner_preflight_runs_total"))
                .unwrap_or(0);
            if runs >= 1 {
                break;
            }
            assert!(first.elapsed() < Duration::from_secs(60), "no first run");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let runs_before = get(addr, "/metrics")
            .await
            .and_then(|m| counter(&m, "runner_preflight_runs_total"))
            .unwrap_or(0);
        let (cpu0, t0) = (cpu_time(pid), Instant::now());
        tokio::time::sleep(Duration::from_secs(secs)).await;
        let (cpu1, t1) = (cpu_time(pid), Instant::now());
        let runs_after = get(addr, "/metrics")
            .await
            .and_then(|m| counter(&m, "runner_preflight_runs_total"))
            .unwrap_or(0);
        let used = (cpu1 - cpu0).as_secs_f64();
        let wall = (t1 - t0).as_secs_f64();
        println!(
            "idle: serve --interval 60s, {wall:.0} s after its first run, {} scheduled runs in it: {used:.3} s CPU = {:.4} % of one core (goal ≤ 0.1 %)",
            runs_after.saturating_sub(runs_before),
            used / wall * 100.0
        );
        return used / wall * 100.0 <= 0.1;
    }
    let started = Instant::now();
    // The run time is bounded: a run against loopback takes milliseconds.
    let deadline = started + Duration::from_secs(600);
    // (runs so far, RSS kB, open descriptors, when) at every scrape.
    let mut samples: Vec<(u64, i64, usize, Duration)> = Vec::new();
    let metrics = loop {
        assert!(Instant::now() < deadline, "the runs took over 10 minutes");
        // Sampled before the scrape, 20 ms after the last one: its connection is closed by then
        // and not counted.
        let (rss, fds) = sample(pid);
        // Scraped like Prometheus would, only much more often.
        let Some(m) = get(addr, "/metrics").await else {
            panic!("/metrics did not answer");
        };
        let runs = counter(&m, "runner_preflight_runs_total").unwrap_or(0);
        samples.push((runs, rss, fds, started.elapsed()));
        if runs >= a.runs {
            break m;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let elapsed = started.elapsed();
    let report = get(addr, "/report.json").await.unwrap_or_default();
    assert!(report.contains("\"schema_version\": 1"), "{report}");
    let runs = samples.last().map(|s| s.0).unwrap_or(0);
    // A sample can fall in the middle of a run (its sockets open) or of an allocation burst:
    // compare windows of 100 runs, by their smallest figures, which a leak raises.
    let window = |from: u64, to: u64| -> (i64, i64, usize, usize, u64, Duration) {
        let w: Vec<_> = samples.iter().filter(|s| s.0 >= from && s.0 < to).collect();
        assert!(!w.is_empty(), "no sample between runs {from} and {to}");
        (
            w.iter().map(|s| s.1).min().unwrap_or(0),
            w.iter().map(|s| s.1).max().unwrap_or(0),
            w.iter().map(|s| s.2).min().unwrap_or(0),
            w.iter().map(|s| s.2).max().unwrap_or(0),
            w[0].0,
            w[0].3,
        )
    };
    let (warm_rss, warm_rss_max, warm_fds, warm_fds_max, warm_runs, warm_at) =
        window(a.warmup, a.warmup + 100);
    let (end_rss, end_rss_max, end_fds, end_fds_max, _, _) =
        window(runs.saturating_sub(100), u64::MAX);
    let peak_rss = samples.iter().map(|s| s.1).max().unwrap_or(0);
    let overrun = counter(&metrics, "runner_preflight_runs_overrun_total").unwrap_or(0);
    let failed = counter(&metrics, "runner_preflight_runs_failed_total").unwrap_or(0);
    let growth = end_rss - warm_rss;
    let per_run = (elapsed - warm_at).as_secs_f64() / (runs - warm_runs).max(1) as f64;

    println!(
        "soak: serve --interval 10ms, {runs} scheduled runs in {:.1} s ({:.1} ms from start to start after warm-up), {} scrapes of /metrics",
        elapsed.as_secs_f64(),
        per_run * 1000.0,
        samples.len()
    );
    println!(
        "  runs longer than the interval (overrun): {overrun}; runs with exit code 1: {failed}"
    );
    println!(
        "  RSS, runs {}-{} (after warm-up): {warm_rss}-{warm_rss_max} kB; last 100 runs: {end_rss}-{end_rss_max} kB; growth {growth} kB (limit {RSS_LIMIT_KB} kB); peak {peak_rss} kB",
        a.warmup,
        a.warmup + 99
    );
    println!("  open file descriptors after warm-up: {warm_fds}-{warm_fds_max}; last 100 runs: {end_fds}-{end_fds_max}");

    // SIGTERM ends it with exit 0.
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let status = tokio::task::block_in_place(|| child.0.wait()).expect("wait");
    println!("  SIGTERM: exit {:?}", status.code());

    let mut ok = true;
    if growth >= RSS_LIMIT_KB {
        println!("FAIL: RSS grew by {growth} kB after the warm-up (limit {RSS_LIMIT_KB} kB)");
        ok = false;
    }
    if end_fds > warm_fds {
        println!("FAIL: file descriptors grew from {warm_fds} to {end_fds}");
        ok = false;
    }
    if status.code() != Some(0) {
        println!("FAIL: serve exited {:?} after SIGTERM", status.code());
        ok = false;
    }
    ok
}

fn main() {
    let a = args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let ok = rt.block_on(soak(&a));
    if !ok {
        std::process::exit(1);
    }
    println!("soak: PASS");
}
