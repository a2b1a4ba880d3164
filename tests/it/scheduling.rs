//! How `check` schedules its work: throughput is measured beside the probes (the download
//! starts once its own name's probe has connected, not after the slowest name has finished), and
//! the default concurrency is every target at once, bounded by the open-file limit.

use serde_json::Value;

use crate::throttle::{download_server, kbps_to_bytes};
use crate::world::*;

fn ms(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("not a number of ms: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_runs_while_a_slow_name_is_still_probed() {
    // The download source is a probed name (plain HTTP); the other name accepts and never
    // answers its TLS handshake, so its probe lasts the whole --timeout (2 s).
    let dl = download_server(kbps_to_bytes(80)).await;
    let silent = TestServer::start(Mode::SilentAfterAccept).await;
    let fx = Fixture::new("Overlap Test Root CA");
    let entries =
        "      - host: dl.example.com\n        scheme: http\n      - host: slow.example.com\n";
    let profile =
        fx.profile(&Profile::new("overlap", "Overlap").capability("core", "Core", true, entries));
    let mut args = strings(&[
        "check",
        "--profile",
        &profile,
        "--format",
        "json",
        "--quiet",
        "--timeout",
        "2s",
        "--throughput-time",
        "3s",
        "--resolve",
        "dl.example.com:*:127.0.0.1",
        "--resolve",
        "slow.example.com:*:127.0.0.1",
        "--ca-file",
        &fx.ca.display().to_string(),
    ]);
    args.extend(connect_to("dl.example.com", 80, dl.addr.port()));
    args.extend(connect_to("slow.example.com", 443, silent.port()));
    args.push("--throughput-url".into());
    args.push("http://dl.example.com/asset.tar.gz".into());
    let o = run_json(args).await;

    let download = o.json["throughput"]["directions"]
        .as_array()
        .expect("directions")
        .iter()
        .find(|d| d["direction"] == "download")
        .expect("download")
        .clone();
    assert_eq!(
        download["verdict"], "warn",
        "measured (80 kbit/s, near the floor: sampled to the 3 s bound): {download:#}"
    );
    let slow = ms(&target(&o.json, "slow.example.com")["ms"]);
    let measuring = ms(&download["elapsed_ms"]);
    let whole = ms(&o.json["duration_ms"]);
    assert!(slow >= 2000, "the slow probe lasted its timeout: {slow} ms");
    assert!(
        measuring >= 2500,
        "the download sampled to its time bound: {measuring} ms"
    );
    // One after the other, the run would take at least slow + measuring.
    assert!(
        whole + 1000 < slow + measuring,
        "not overlapped: run {whole} ms, slow probe {slow} ms, download {measuring} ms"
    );
}

/// `check --format json` of a one-name profile under `ulimit` (a bash builtin) set by `limit`;
/// the concurrency the report says was used.
async fn concurrency_under(limit: &str, extra: &[&str]) -> u64 {
    let fx = Fixture::new("Scheduling Test Root CA");
    let profile = fx.profile(&Profile::new("fds", "Fds").capability(
        "core",
        "Core",
        true,
        "      - host: one.example.com\n",
    ));
    let script = format!("ulimit {limit} && exec \"$0\" \"$@\"");
    let mut cmd = hermetic("bash");
    cmd.args(["-c", &script, env!("CARGO_BIN_EXE_runner-preflight")])
        .args([
            "check",
            "--profile",
            &profile,
            "--format",
            "json",
            "--quiet",
        ])
        .args(["--no-throughput", "--timeout", "2s"])
        .args(["--resolve", "one.example.com:*:127.0.0.1"])
        .args([
            "--connect-to",
            &format!("one.example.com:443:127.0.0.1:{}", closed_port()),
        ])
        .args(extra);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("thread")
        .expect("run bash");
    let o = Outcome::of(out, std::time::Duration::ZERO);
    assert_eq!(o.code, 1, "the closed port fails: {}", o.stderr);
    ms(&o.json["settings"]["concurrency"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_concurrency_is_bounded_by_the_open_file_limit() {
    // Soft and hard limit 200: (200 - 64 spare) / 4 descriptors per probe.
    assert_eq!(concurrency_under("-n 200", &[]).await, 34);
    // A given value is kept.
    assert_eq!(
        concurrency_under("-n 200", &["--concurrency", "100"]).await,
        100
    );
    // Only the soft limit low: raised towards the hard one, so every target fits.
    let hard: u64 = std::process::Command::new("bash")
        .args(["-c", "ulimit -Hn"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(u64::MAX); // "unlimited"
    let expected = ((hard.saturating_sub(64)) / 4).min(1024);
    assert_eq!(concurrency_under("-Sn 100", &[]).await, expected);
}
