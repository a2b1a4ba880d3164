//! Throughput against throttled loopback servers: the measured rate is within a stated tolerance
//! of the configured one, and the verdict against the 70 kbit/s floor is right at each rate.
//!
//! The download server paces its body; the upload server *reads* slowly, so the client meets
//! real backpressure (its receive buffer is kept small).

use std::net::SocketAddr;

use serde_json::Value;

use crate::throttle::{
    buffering_relay, download_server, early_answer_sink, kbps_to_bytes, upload_server,
};
use crate::world::{run, run_json};

/// Measured rates must be within this fraction of the configured rate.
const TOLERANCE: f64 = 0.15;

/// Run `check` with a one-entry profile pointed at `probe_to`, measuring against the URLs.
async fn measure(dir: &tempfile::TempDir, probe_to: SocketAddr, extra: &[String]) -> (i32, Value) {
    let profile = dir.path().join("p.yaml");
    std::fs::write(
        &profile,
        "schema_version: 1\nname: tp\ntitle: Throughput test\ncapabilities:\n  - id: core\n    title: Core\n    gating: true\n    entries:\n      - host: plain.example.com\n        scheme: http\n",
    )
    .expect("profile");
    let mut args: Vec<String> = vec![
        "check".into(),
        "-q".into(),
        "--format".into(),
        "json".into(),
        "-p".into(),
        profile.display().to_string(),
        "--resolve".into(),
        format!("plain.example.com:*:127.0.0.1"),
        "--connect-to".into(),
        format!("plain.example.com:80::{}", probe_to.port()),
        "--throughput-time".into(),
        "3s".into(),
    ];
    args.extend(extra.iter().cloned());
    let o = run_json(args).await;
    (o.code, o.json)
}

fn direction<'a>(json: &'a Value, dir: &str) -> &'a Value {
    json["throughput"]["directions"]
        .as_array()
        .expect("directions")
        .iter()
        .find(|d| d["direction"] == dir)
        .expect("direction")
}

async fn download_case(kbps: u64, expect: &str, expect_code: i32) {
    let dir = tempfile::tempdir().expect("tmp");
    let srv = download_server(kbps_to_bytes(kbps)).await;
    let url = format!("http://dl.example.com:{}/asset.tar.gz", srv.addr.port());
    let args = vec![
        "--throughput-url".to_string(),
        url,
        "--resolve".into(),
        "dl.example.com:*:127.0.0.1".into(),
    ];
    let (code, json) = measure(&dir, srv.addr, &args).await;
    let d = direction(&json, "download");
    assert_eq!(d["verdict"], expect, "{kbps} kbit/s: {d:#}");
    assert_eq!(code, expect_code, "{json:#}");
    // A failed direction says why in `failure.kind`; a measured warning has none.
    match expect {
        "fail" => assert_eq!(d["failure"]["kind"], "below_floor", "{d:#}"),
        _ => assert!(d["failure"].is_null(), "{d:#}"),
    }
    let measured = d["kbps"]
        .as_f64()
        .unwrap_or_else(|| panic!("no rate: {d:#}"));
    let err = (measured - kbps as f64).abs() / kbps as f64;
    assert!(
        err <= TOLERANCE,
        "{kbps} kbit/s measured as {measured} ({:.0} % off)",
        err * 100.0
    );
    assert!(d["ttfb_ms"].is_u64(), "{d:#}");
    // Never more than the byte bound, never longer than the time bound (3 s) plus set-up.
    assert!(d["bytes"].as_u64().unwrap_or(u64::MAX) <= 2 * 1024 * 1024);
    assert!(d["sample_ms"].as_u64().unwrap_or(u64::MAX) <= 3200, "{d:#}");
    // Upload is not faked when there is no sink.
    assert_eq!(direction(&json, "upload")["verdict"], "skip");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_32_kbps_fails() {
    download_case(32, "fail", 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_60_kbps_fails() {
    download_case(60, "fail", 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_80_kbps_passes_with_archive_warning() {
    download_case(80, "warn", 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_140_kbps_passes_with_archive_warning_quickly() {
    download_case(140, "warn", 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_unthrottled_passes_within_the_byte_bound() {
    let dir = tempfile::tempdir().expect("tmp");
    let srv = download_server(0).await;
    let args = vec![
        "--throughput-url".to_string(),
        format!("http://127.0.0.1:{}/big", srv.addr.port()),
        "--throughput-max-bytes".into(),
        "1048576".into(),
    ];
    let (code, json) = measure(&dir, srv.addr, &args).await;
    let d = direction(&json, "download");
    assert_eq!(d["verdict"], "pass", "{d:#}");
    assert_eq!(code, 0);
    assert_eq!(d["bytes"], 1048576);
    assert_eq!(d["stopped"], "byte limit");
    assert!(d["sample_ms"].as_u64().unwrap_or(u64::MAX) < 1000, "{d:#}");
}

async fn upload_case(kbps: u64, expect: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    let srv = upload_server(kbps_to_bytes(kbps)).await;
    let args = vec![
        "--upload-url".to_string(),
        format!("http://127.0.0.1:{}/sink", srv.addr.port()),
    ];
    let (_code, json) = measure(&dir, srv.addr, &args).await;
    let d = direction(&json, "upload");
    assert_eq!(d["verdict"], expect, "{kbps} kbit/s: {d:#}");
    let measured = d["kbps"]
        .as_f64()
        .unwrap_or_else(|| panic!("no rate: {d:#}"));
    let err = (measured - kbps as f64).abs() / kbps as f64;
    assert!(
        err <= TOLERANCE,
        "{kbps} kbit/s upload measured as {measured} ({:.0} % off)",
        err * 100.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_32_kbps_fails() {
    upload_case(32, "fail").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_60_kbps_fails() {
    upload_case(60, "fail").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_80_kbps_passes() {
    upload_case(80, "pass").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_140_kbps_passes() {
    upload_case(140, "pass").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_unthrottled_passes() {
    let dir = tempfile::tempdir().expect("tmp");
    let srv = upload_server(0).await;
    let args = vec![
        "--upload-url".to_string(),
        format!("http://127.0.0.1:{}/sink", srv.addr.port()),
        "--throughput-max-bytes".into(),
        "1048576".into(),
    ];
    let (_code, json) = measure(&dir, srv.addr, &args).await;
    let d = direction(&json, "upload");
    assert_eq!(d["verdict"], "pass", "{d:#}");
    assert!(d["sample_ms"].as_u64().unwrap_or(u64::MAX) < 1000, "{d:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_throughput_leaves_it_out_and_bad_urls_are_input_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let srv = download_server(0).await;
    let (code, json) = measure(&dir, srv.addr, &["--no-throughput".to_string()]).await;
    assert_eq!(code, 0, "{json:#}");
    assert!(json["throughput"].is_null());
    let out = run(vec![
        "check".into(),
        "--throughput-url".into(),
        "ftp://x.example/".into(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only http:// and https://"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn measured_through_the_proxy_when_one_applies() {
    use crate::world::{ProxyMode, TestProxy};
    let dir = tempfile::tempdir().expect("tmp");
    let srv = download_server(kbps_to_bytes(140)).await;
    let sink = upload_server(kbps_to_bytes(140)).await;
    // The names exist only behind the proxy: local DNS is never asked for them.
    let proxy = TestProxy::start(
        ProxyMode::Auth {
            user: "bob".into(),
            pass: "s3cret-pw".into(),
        },
        &[
            ("dl.example.com:80", srv.addr),
            ("up.example.com:80", sink.addr),
        ],
    )
    .await;
    let args = vec![
        "--throughput-url".to_string(),
        "http://dl.example.com/asset.tar.gz".into(),
        "--upload-url".into(),
        "http://up.example.com/sink".into(),
        "--proxy".into(),
        proxy.url_with("bob", "s3cret-pw"),
        "--no-proxy".into(),
        "plain.example.com".into(),
    ];
    let (_code, json) = measure(&dir, srv.addr, &args).await;
    let text = json.to_string();
    assert!(!text.contains("s3cret-pw"), "credentials leaked: {text}");
    for dir_name in ["download", "upload"] {
        let d = direction(&json, dir_name);
        let via = d["via_proxy"]
            .as_str()
            .unwrap_or_else(|| panic!("not via proxy: {d:#}"));
        assert!(via.contains(&proxy.addr.port().to_string()), "{via}");
    }
    // Download: the proxy relays at the server's pace; the rate is the real one.
    let d = direction(&json, "download");
    assert_eq!(d["verdict"], "warn", "{d:#}"); // 140 kbit/s: the 2 MB archive warning
    let measured = d["kbps"].as_f64().expect("rate");
    assert!(
        (measured - 140.0).abs() / 140.0 <= TOLERANCE,
        "download through the proxy: {measured}"
    );
    // Upload: the proxy buffers what it is sent, so a fast figure is not conclusive.
    let u = direction(&json, "upload");
    assert_eq!(u["verdict"], "warn", "{u:#}");
    assert!(
        u["detail"]
            .as_str()
            .unwrap_or("")
            .contains("measured up to the proxy only"),
        "{u:#}"
    );
    let seen = proxy.requests();
    assert!(
        seen.iter()
            .any(|r| r.starts_with("GET http://dl.example.com/asset.tar.gz")),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|r| r.starts_with("POST http://up.example.com/sink")),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_without_the_file_is_a_warning_not_a_slow_link() {
    use crate::world::{HttpResponse, Mode, Routes, TestServer};
    let dir = tempfile::tempdir().expect("tmp");
    let srv = TestServer::start(Mode::Http {
        routes: Routes::new(HttpResponse::status(404)),
    })
    .await;
    let args = vec![
        "--throughput-url".to_string(),
        format!("http://127.0.0.1:{}/gone.tar.gz", srv.addr.port()),
    ];
    let (code, json) = measure(&dir, srv.addr, &args).await;
    let d = direction(&json, "download");
    assert_eq!(d["verdict"], "warn", "{d:#}");
    assert!(
        d["detail"].as_str().unwrap_or("").contains("answered 404"),
        "{d:#}"
    );
    assert_eq!(d["failure"]["kind"], "http_status", "{d:#}");
    assert_eq!(d["failure"]["status"], 404, "{d:#}");
    assert!(d["kbps"].is_null());
    assert_eq!(code, 0, "{json:#}");
}

/// A server that answers, sends `body_now` bytes and then holds the connection silent.
async fn stalling_server(
    body_now: usize,
    announced: usize,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {announced}\r\n\r\n");
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(&vec![b'x'; body_now]).await;
            if body_now == announced {
                continue; // a complete (small) answer; the connection closes when dropped
            }
            held.push(s); // silent from here on
        }
    });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_or_tiny_download_never_passes() {
    let dir = tempfile::tempdir().expect("tmp");
    // 100 bytes of an announced 2 MiB, then silence: a stall, FAIL.
    let (addr, task) = stalling_server(100, 2 * 1024 * 1024).await;
    let args = vec![
        "--throughput-url".to_string(),
        format!("http://127.0.0.1:{}/x", addr.port()),
        "--throughput-time".into(),
        "1s".into(),
        "--timeout".into(),
        "1s".into(),
    ];
    let probe = download_server(0).await;
    let (code, json) = measure(&dir, probe.addr, &args).await;
    let d = direction(&json, "download");
    assert_eq!(d["verdict"], "fail", "{d:#}");
    assert!(
        d["detail"].as_str().unwrap_or("").contains("stalled"),
        "{d:#}"
    );
    assert_eq!(d["failure"]["kind"], "stalled", "{d:#}");
    assert_eq!(d["failure"]["bytes"], 100, "{d:#}");
    assert_eq!(code, 1);
    task.abort();
    // A complete but tiny answer (a portal page): no rate, a warning.
    let (addr, task) = stalling_server(2000, 2000).await;
    let args = vec![
        "--throughput-url".to_string(),
        format!("http://127.0.0.1:{}/x", addr.port()),
    ];
    let (_code, json) = measure(&dir, probe.addr, &args).await;
    let d = direction(&json, "download");
    assert_eq!(d["verdict"], "warn", "{d:#}");
    assert!(
        d["detail"]
            .as_str()
            .unwrap_or("")
            .contains("too few to measure"),
        "{d:#}"
    );
    assert_eq!(d["failure"]["kind"], "too_few_bytes", "{d:#}");
    assert_eq!(d["failure"]["bytes"], 2000, "{d:#}");
    task.abort();
}

/// A failing throughput shows in JUnit, the step summary and the annotations, not only in JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throughput_failure_reaches_every_pipeline_output() {
    let dir = tempfile::tempdir().expect("tmp");
    let probe = download_server(0).await;
    let profile = dir.path().join("p.yaml");
    std::fs::write(
        &profile,
        "schema_version: 1\nname: tp\ntitle: Throughput test\ncapabilities:\n  - id: core\n    title: Core\n    gating: true\n    entries:\n      - host: plain.example.com\n        scheme: http\n",
    )
    .expect("profile");
    let md = dir.path().join("summary.md");
    let closed = crate::world::closed_port();
    let args: Vec<String> = vec![
        "check".into(),
        "-q".into(),
        "--format".into(),
        "junit".into(),
        "-p".into(),
        profile.display().to_string(),
        "--resolve".into(),
        "plain.example.com:*:127.0.0.1".into(),
        "--connect-to".into(),
        format!("plain.example.com:80::{}", probe.addr.port()),
        "--upload-url".into(),
        format!("http://127.0.0.1:{closed}/sink"),
        "--output-markdown".into(),
        md.display().to_string(),
    ];
    let out = run(args.clone()).await;
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.contains("<testsuite name=\"throughput\""), "{xml}");
    assert!(xml.contains("upload not measured"), "{xml}");
    assert!(
        xml.contains("<testsuites name=\"runner-preflight tp\" tests=\"3\" failures=\"1\""),
        "the failure must be counted: {xml}"
    );
    let summary = std::fs::read_to_string(&md).expect("markdown written");
    assert!(
        summary.contains("`throughput`")
            && summary.contains("**Verdict: FAIL** — throughput could not be measured"),
        "{summary}"
    );
    // Inside GitHub Actions (table to stdout): an ::error annotation for the throughput.
    let mut table_args = args.clone();
    table_args[3] = "table".into();
    let out = tokio::task::spawn_blocking(move || {
        crate::world::cli()
            .args(&table_args)
            .env("GITHUB_ACTIONS", "true")
            .output()
            .expect("run")
    })
    .await
    .expect("join");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("::error title=runner-preflight cause ")
                && l.contains("throughput")
                && l.contains("%0AFAIL throughput upload: ")),
        "{text}"
    );
}

/// An unreachable sink and a missing source: typed failures in JSON next to the words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmeasured_directions_carry_a_typed_failure() {
    let dir = tempfile::tempdir().expect("tmp");
    let probe = download_server(0).await;
    let closed = crate::world::closed_port();
    let args = vec![
        "--upload-url".to_string(),
        format!("http://127.0.0.1:{closed}/sink"),
    ];
    let (code, json) = measure(&dir, probe.addr, &args).await;
    assert_eq!(code, 1, "{json:#}");
    let u = direction(&json, "upload");
    assert_eq!(u["verdict"], "fail", "{u:#}");
    assert_eq!(u["stopped"], "error", "{u:#}");
    assert!(
        u["detail"]
            .as_str()
            .unwrap_or("")
            .starts_with(&format!("upload not measured: TCP 127.0.0.1:{closed}: ")),
        "{u:#}"
    );
    assert_eq!(u["failure"]["kind"], "tcp", "{u:#}");
    assert_eq!(u["failure"]["address"], format!("127.0.0.1:{closed}"));
    let d = direction(&json, "download");
    assert_eq!(d["verdict"], "skip", "{d:#}");
    assert_eq!(d["stopped"], "not measured", "{d:#}");
    assert_eq!(d["failure"]["kind"], "not_measured", "{d:#}");
    assert_eq!(d["failure"]["missing"], "source", "{d:#}");
}

/// A reader at 4 KB/s behind a front end that buffers requests (nginx, a load balancer): the
/// front end takes every byte at once, so timing writes would report hundreds of Mbit/s. Only
/// the answer after the slow reader has the body counts: FAIL, within the time bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_through_a_buffering_relay_is_measured_at_the_slow_reader() {
    let dir = tempfile::tempdir().expect("tmp");
    let slow = upload_server(4000).await;
    let relay = buffering_relay(slow.addr).await;
    let args = vec![
        "--upload-url".to_string(),
        format!("http://127.0.0.1:{}/sink", relay.addr.port()),
    ];
    let started = std::time::Instant::now();
    let (code, json) = measure(&dir, slow.addr, &args).await;
    let took = started.elapsed();
    let d = direction(&json, "upload");
    assert_eq!(d["verdict"], "fail", "{d:#}");
    assert_eq!(code, 1, "{json:#}");
    let measured = d["kbps"]
        .as_f64()
        .unwrap_or_else(|| panic!("no rate: {d:#}"));
    assert!(
        (measured - 32.0).abs() / 32.0 <= TOLERANCE,
        "4 KB/s behind a buffer measured as {measured} kbit/s"
    );
    // --timeout 5 s + --throughput-time 3 s bound the direction.
    assert!(
        d["elapsed_ms"].as_u64().unwrap_or(u64::MAX) <= 8_500,
        "{d:#}"
    );
    assert!(took.as_secs() < 15, "{took:?}");
}

/// A sink that answers before it reads the body (an early 413, or a 200 with
/// `Connection: close`) cannot confirm anything: WARN "cannot measure", never a rate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_early_answering_sink_cannot_measure_upload() {
    for status in [200u16, 413] {
        let dir = tempfile::tempdir().expect("tmp");
        let sink = early_answer_sink(status).await;
        let probe = download_server(0).await;
        let args = vec![
            "--upload-url".to_string(),
            format!("http://127.0.0.1:{}/sink", sink.addr.port()),
        ];
        let (code, json) = measure(&dir, probe.addr, &args).await;
        let d = direction(&json, "upload");
        assert_eq!(d["verdict"], "warn", "{status}: {d:#}");
        assert!(
            d["kbps"].is_null(),
            "{status}: a rate from an early answer: {d:#}"
        );
        let detail = d["detail"].as_str().unwrap_or("");
        assert!(
            detail.starts_with("cannot measure upload against this URL"),
            "{status}: {detail}"
        );
        assert_eq!(d["failure"]["kind"], "upload_unconfirmable", "{d:#}");
        let reason = if status == 200 {
            "connection_close"
        } else {
            "refused"
        };
        assert_eq!(d["failure"]["reason"], reason, "{d:#}");
        assert_eq!(code, 0, "a WARN does not gate: {json:#}");
    }
}
