//! Hostile files and hostile limits, through the real binary (issue 22, third hostile-input
//! pass): endless trust bundles named by the runner's variables, FIFOs where a file is expected,
//! a file size limit, a folder of reports holding things that are not reports, a silent /meta
//! server, `--max-time` with a throughput measurement, a full stdout for `--version`. Each case
//! must end in our own words and in bounded time. Loopback only.
//!
//! | row | case | test |
//! |---|---|---|
//! | 3 | `SSL_CERT_FILE=/dev/zero` (environment or runner `.env`), `SSL_CERT_DIR`, `GIT_SSL_CAINFO`, `NODE_EXTRA_CA_CERTS` | `hostile_files::row3_trust_variables_are_read_capped_and_named` |
//! | 9 | a FIFO as profile, runner `.env`/`.runner`, `GIT_SSL_CAINFO`, report, allow list, `/meta` | `hostile_files::row9_a_fifo_input_is_refused_at_once` |
//! | 9 | a FIFO as `$GITHUB_STEP_SUMMARY` | `hostile_files::row9_a_fifo_step_summary_is_refused_and_the_run_ends` |
//! | 9 | SIGTERM while an output write is blocked | `hostile_files::row9_sigterm_ends_a_run_blocked_writing_its_output` |
//! | 10 | `--max-time` with a throughput measurement | `hostile_files::row10_max_time_bounds_the_throughput_measurement` |
//! | 11 | `ulimit -f`, any `-o` (SIGXFSZ no longer trapped by the test) | `pipeline::a_failed_write_leaves_the_previous_report_whole` |
//! | 15 | `fleet DIR` with a FIFO, a looping link, a link to `/dev/zero`, a folder `x.json` | `hostile_files::row15_fleet_names_every_entry_it_skips` |
//! | 16 | `meta diff --timeout` against a silent server | `hostile_files::row16_meta_diff_is_bounded_by_its_timeout` |
//! | 17 | `--version > /dev/full` | `hostile_files::row17_version_to_a_full_stdout_says_version` |

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::throttle::{download_server, kbps_to_bytes, upload_server};
use crate::world::*;

/// Extra environment variables of one run.
type Envs<'a> = Vec<(&'a str, &'a str)>;

/// How long a command that must not wait may take before the test calls it hung.
const HUNG: Duration = Duration::from_secs(20);

/// A profile with one name, `a.example.test`, on `port`.
fn profile(dir: &Path, port: u16) -> String {
    let p = dir.join("p.yaml");
    std::fs::write(
        &p,
        format!("schema_version: 1\nname: t\ntitle: T\ncapabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - host: a.example.test\n        ports: [{port}]\n"),
    )
    .expect("write profile");
    p.display().to_string()
}

/// `check` of `profile` kept on loopback: the name resolves to 127.0.0.1, no DNS server
/// answers, no throughput.
fn loop_check(profile: &str) -> Vec<String> {
    strings(&[
        "check",
        "--profile",
        profile,
        "--resolve",
        "a.example.test:*:127.0.0.1",
        "--dns-server",
        "127.0.0.1:1",
        "--no-throughput",
        "--timeout",
        "1s",
        "--quiet",
    ])
}

/// The CLI with `args` and `envs`, which must end (exit, not a signal) within [`HUNG`].
fn run_bounded(args: &[String], envs: &[(&str, &str)]) -> Ran {
    let mut cmd = cli();
    cmd.timeout(HUNG);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().expect("spawn runner-preflight");
    Ran::from(out)
}

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

/// No panic, no allocator abort, no backtrace, no OS error number.
fn assert_our_words(r: &Ran) {
    for leak in ["panicked", "backtrace", "memory allocation", "os error"] {
        assert!(!r.stderr.contains(leak), "{leak}: {}", r.stderr);
    }
}

// --- Row 3: the runner's trust variables --------------------------------------------------------

#[test]
fn row3_trust_variables_are_read_capped_and_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = profile(dir.path(), closed_port());
    let args = loop_check(&p);
    let cap = "larger than the limit of 16 MiB for a CA bundle";
    for var in ["SSL_CERT_FILE", "GIT_SSL_CAINFO", "NODE_EXTRA_CA_CERTS"] {
        let r = run_bounded(&args, &[(var, "/dev/zero")]);
        assert_eq!(r.code, 2, "{var}: {}", r.stderr);
        assert_eq!(r.stderr, format!("error: {var}: /dev/zero: {cap}\n"));
        assert!(r.stdout.is_empty());
    }
    // Set in the runner's .env instead: the message says so.
    let runner = dir.path().join("runner");
    std::fs::create_dir(&runner).expect("mkdir");
    std::fs::write(runner.join(".env"), "SSL_CERT_FILE=/dev/zero\n").expect("write .env");
    let mut with_dir = args.clone();
    with_dir.extend(strings(&["--runner-dir", runner.to_str().unwrap()]));
    let r = run_bounded(&with_dir, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        format!("error: SSL_CERT_FILE (set in the runner's .env): /dev/zero: {cap}\n")
    );
    // A file of a certificate folder (the second of a `:` list) over the cap: a sparse file of
    // 17 MiB.
    let certs = dir.path().join("certs");
    std::fs::create_dir(&certs).expect("mkdir");
    let big = certs.join("big.pem");
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(17 * 1024 * 1024))
        .expect("sparse file");
    let list = format!("/nonexistent:{}", certs.display());
    let r = run_bounded(&args, &[("SSL_CERT_DIR", &list)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        format!("error: SSL_CERT_DIR: {}: {cap}\n", big.display())
    );
    assert_our_words(&r);
}

// --- Row 9: FIFOs ---------------------------------------------------------------------------

#[test]
fn row9_a_fifo_input_is_refused_at_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let f = fifo.to_str().unwrap();
    let p = profile(dir.path(), closed_port());
    let refused = format!("{f}: a FIFO (named pipe): only a regular file is read");
    let mut cases: Vec<(Vec<String>, Envs)> = vec![
        (strings(&["profile", "validate", f]), vec![]),
        (loop_check(f), vec![]),
        (loop_check(&p), vec![("GIT_SSL_CAINFO", f)]),
        (loop_check(&p), vec![("SSL_CERT_FILE", f)]),
        (strings(&["explain", f]), vec![]),
        (strings(&["fleet", f]), vec![]),
        (
            strings(&["audit", "--profile", &p, "--allowlist", f, "--offline"]),
            vec![],
        ),
        (
            strings(&["meta", "diff", "--profile", &p, "--offline", "--meta", f]),
            vec![],
        ),
    ];
    // The runner's own files as FIFOs, one at a time.
    for name in [".env", ".runner", ".credentials"] {
        let runner = dir.path().join(format!("runner{name}"));
        std::fs::create_dir(&runner).expect("mkdir");
        mkfifo(&runner.join(name));
        let mut a = loop_check(&p);
        a.extend(strings(&["--runner-dir", runner.to_str().unwrap()]));
        cases.push((a, vec![]));
    }
    for (args, envs) in &cases {
        let started = Instant::now();
        let r = run_bounded(args, envs);
        let what = format!("{args:?} {envs:?}");
        assert_eq!(r.code, 2, "{what}: {}", r.stderr);
        assert!(
            r.stderr
                .contains("a FIFO (named pipe): only a regular file is read"),
            "{what}: {}",
            r.stderr
        );
        assert!(started.elapsed() < Duration::from_secs(10), "{what}");
        assert_our_words(&r);
    }
    // The named file is the FIFO itself where one is given.
    let r = run_bounded(&strings(&["profile", "validate", f]), &[]);
    assert_eq!(r.stderr, format!("error: {refused}\n"));
}

#[test]
fn row9_a_fifo_step_summary_is_refused_and_the_run_ends() {
    let dir = tempfile::tempdir().expect("tmp");
    let fifo = dir.path().join("summary");
    mkfifo(&fifo);
    let p = profile(dir.path(), closed_port());
    let r = run_bounded(
        &loop_check(&p),
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", fifo.to_str().unwrap()),
        ],
    );
    // The name's port is closed: the check fails (exit 1) and says so; the summary is refused.
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "warning: cannot append to $GITHUB_STEP_SUMMARY ({}): not a regular file",
            fifo.display()
        )),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("::error"), "{}", r.stdout);
}

/// The report goes to a FIFO whose reader went away after the check's up-front test of the
/// output: the final open waits for a reader that never comes. SIGTERM must still end the run.
#[test]
fn row9_sigterm_ends_a_run_blocked_writing_its_output() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().expect("tmp");
    let fifo = dir.path().join("out");
    mkfifo(&fifo);
    let p = profile(dir.path(), closed_port());
    let mut args = loop_check(&p);
    args.retain(|a| a != "--quiet");
    args.extend(strings(&["--output", fifo.to_str().unwrap()]));
    // One reader for the up-front check of the output, gone at once.
    let first_reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || drop(std::fs::File::open(fifo).expect("open fifo")))
    };
    let mut child = hermetic(env!("CARGO_BIN_EXE_runner-preflight"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    first_reader.join().expect("reader");
    // Progress goes to stderr; its last line before the outputs is the summary line of the
    // probes ("… 1 of 1 names …"). Read until stderr has said the probing is over.
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = String::new();
    let deadline = Instant::now() + HUNG;
    loop {
        let mut line = String::new();
        let n = stderr.read_line(&mut line).expect("read stderr");
        seen.push_str(&line);
        if n == 0 || line.contains("probed") || Instant::now() > deadline {
            break;
        }
    }
    assert!(seen.contains("probed"), "{seen}");
    let started = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("SIGTERM did not end the run: {seen}");
        }
        std::thread::yield_now();
    };
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut stderr, &mut rest);
    assert_eq!(status.code(), Some(143), "{seen}{rest}");
    assert!(
        rest.contains("interrupted while writing the outputs"),
        "{seen}{rest}"
    );
}

// --- Row 10: --max-time and throughput --------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row10_max_time_bounds_the_throughput_measurement() {
    let dir = tempfile::tempdir().expect("tmp");
    // At the floor exactly, neither direction is ever certain: each would sample for the whole
    // --throughput-time (8 s) after its set-up.
    let down = download_server(kbps_to_bytes(70)).await;
    let up = upload_server(kbps_to_bytes(70)).await;
    let p = dir.path().join("p.yaml");
    std::fs::write(
        &p,
        "schema_version: 1\nname: tp\ntitle: Throughput test\ncapabilities:\n  - id: core\n    title: Core\n    gating: true\n    entries:\n      - host: plain.example.com\n        scheme: http\n",
    )
    .expect("profile");
    let max_time = Duration::from_secs(3);
    let args = vec![
        "check".to_string(),
        "-q".into(),
        "--format".into(),
        "json".into(),
        "-p".into(),
        p.display().to_string(),
        "--resolve".into(),
        "plain.example.com:*:127.0.0.1".into(),
        "--resolve".into(),
        "dl.example.com:*:127.0.0.1".into(),
        "--connect-to".into(),
        format!("plain.example.com:80::{}", down.addr.port()),
        "--max-time".into(),
        "3s".into(),
        "--throughput-url".into(),
        format!("http://dl.example.com:{}/asset.tar.gz", down.addr.port()),
        "--upload-url".into(),
        format!("http://dl.example.com:{}/upload", up.addr.port()),
    ];
    let o = run_json(args).await;
    // The run's limit, plus the grace the cut gives a direction being set up, plus start-up
    // and judging on a loaded machine.
    assert!(
        o.elapsed < max_time + Duration::from_millis(1500),
        "took {:?} with --max-time 3s: {}",
        o.elapsed,
        o.stderr
    );
    let directions = o.json["throughput"]["directions"]
        .as_array()
        .expect("directions");
    let upload = directions
        .iter()
        .find(|d| d["direction"] == "upload")
        .expect("upload");
    // The download sampled until the run's end; the upload never had time for a rate.
    assert_eq!(upload["verdict"], "warn", "{upload:#}");
    assert_eq!(upload["failure"]["kind"], "run_time_limit", "{upload:#}");
    assert_eq!(upload["failure"]["max_time_ms"], 3000, "{upload:#}");
    assert!(
        upload["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("the run's time limit (--max-time 3 s) ended before a rate was measured"),
        "{upload:#}"
    );
}

// --- Row 15: what a fleet folder holds ---------------------------------------------------------

#[test]
fn row15_fleet_names_every_entry_it_skips() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = profile(dir.path(), closed_port());
    // One real report (the check fails: its port is closed).
    let mut args = loop_check(&p);
    args.extend(strings(&["--format", "json"]));
    let r = run_bounded(&args, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let fleet = dir.path().join("fleet");
    std::fs::create_dir(&fleet).expect("mkdir");
    std::fs::write(fleet.join("good.json"), &r.stdout).expect("write report");
    mkfifo(&fleet.join("fifo.json"));
    mkfifo(&fleet.join("evil\u{1b}[2J.json"));
    std::os::unix::fs::symlink("loop.json", fleet.join("loop.json")).expect("symlink");
    std::os::unix::fs::symlink("/dev/zero", fleet.join("zero.json")).expect("symlink");
    std::fs::create_dir(fleet.join("x.json")).expect("mkdir");
    let r = run_bounded(&strings(&["fleet", fleet.to_str().unwrap()]), &[]);
    // The good report is the fleet; every other entry is named, once, with why.
    assert_eq!(r.code, 1, "{}", r.stderr);
    let at = |name: &str| fleet.join(name).display().to_string();
    for (name, why) in [
        (
            "fifo.json",
            "a FIFO (named pipe): only a regular file is read",
        ),
        ("loop.json", "cannot read: a symbolic link that loops"),
        ("zero.json", "a device: only a regular file is read"),
        ("x.json", "cannot read: it is a directory"),
    ] {
        let line = format!("warning: {}: {why}; skipped\n", at(name));
        assert_eq!(r.stderr.matches(&line).count(), 1, "{line}{}", r.stderr);
    }
    let evil = format!(
        "warning: {}: a FIFO (named pipe)",
        at("evil\\u{1b}[2J.json")
    );
    assert!(r.stderr.contains(&evil), "{}", r.stderr);
    assert!(!r.stderr.contains('\u{1b}'), "{}", r.stderr);
    assert_our_words(&r);
}

// --- Row 16: meta diff --timeout ----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row16_meta_diff_is_bounded_by_its_timeout() {
    let fx = Fixture::new("Meta Silent Root CA");
    // The handshake completes; the answer to /meta never comes.
    let (_never, held) = tokio::sync::watch::channel(0usize);
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&["meta.test.example"]),
        routes: Routes::new(HttpResponse::status(404)).held_until_accepted("/meta", held),
    })
    .await;
    let dns = DnsWorld::new()
        .name("meta.test.example", loopback(60))
        .start()
        .await;
    let p = profile(fx.dir.path(), 443);
    let url = format!("https://meta.test.example:{}/meta", srv.port());
    let timeout = Duration::from_secs(2);
    let args = strings(&[
        "meta",
        "diff",
        "--profile",
        &p,
        "--meta-url",
        &url,
        "--dns-server",
        &dns.addr_string(),
        "--ca-file",
        fx.ca.to_str().unwrap(),
        "--timeout",
        "2s",
    ]);
    let started = Instant::now();
    let r: Ran = run_with(args, vec![]).await.into();
    let took = started.elapsed();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        format!("error: meta diff: cannot fetch {url}: HTTP: no complete answer from {url} within 2 s\n")
    );
    // It said 2 s: it took 2 s (and the start-up), not twice that.
    assert!(took >= timeout, "{took:?}");
    assert!(took < timeout + Duration::from_millis(1200), "{took:?}");
    assert_eq!(srv.seen_requests().len(), 1, "the request was sent");
}

// --- Row 17: --version to a full stdout -----------------------------------------------------

#[test]
fn row17_version_to_a_full_stdout_says_version() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full");
    let out = hermetic(env!("CARGO_BIN_EXE_runner-preflight"))
        .arg("--version")
        .stdout(Stdio::from(full))
        .output()
        .expect("spawn");
    let r = Ran::from(out);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: cannot write the version to standard output: no space left on device\n"
    );
}
