//! Running the CLI: a hermetic environment (no host trust store, no proxies, no GitHub Actions
//! or `RUNNER_PREFLIGHT_*` variables), as an `assert_cmd` command or on a blocking thread.

use std::path::Path;
use std::process::Output;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

static EMPTY_TRUST: OnceLock<tempfile::TempDir> = OnceLock::new();

fn empty_trust_dir() -> &'static Path {
    EMPTY_TRUST
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            std::fs::write(dir.path().join("empty.pem"), b"").expect("empty trust file");
            std::fs::create_dir(dir.path().join("certs")).expect("empty trust dir");
            dir
        })
        .path()
}

/// `program` with a hermetic environment for the CLI: empty `SSL_CERT_FILE`/`SSL_CERT_DIR`,
/// `NO_COLOR=1`, and no proxy, git/node trust (`GIT_SSL_CAINFO`, `NODE_EXTRA_CA_CERTS`), GitHub
/// Actions or `RUNNER_PREFLIGHT_*` variables. For running the
/// CLI through a wrapper (`ip netns exec …`) as well as directly.
pub fn hermetic(program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
    let trust = empty_trust_dir();
    let mut cmd = std::process::Command::new(program);
    cmd.env("SSL_CERT_FILE", trust.join("empty.pem"))
        .env("SSL_CERT_DIR", trust.join("certs"))
        .env("NO_COLOR", "1")
        // Tests read the table's sentences whole: a wide log, as a CI job's often is. The width
        // rules (terminal, `COLUMNS`, 80) have their own tests, which set or remove it.
        .env("COLUMNS", "2000");
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
        "ALL_PROXY",
        "all_proxy",
        // The host's extra trust for git and node (the runner's `.env` is what a test sets).
        "GIT_SSL_CAINFO",
        "NODE_EXTRA_CA_CERTS",
        // Tests must not write annotations or job summaries of the CI job running them.
        "GITHUB_ACTIONS",
        "GITHUB_STEP_SUMMARY",
    ] {
        cmd.env_remove(var);
    }
    // Flags read from the environment (a developer's shell may set them).
    for (var, _) in std::env::vars_os() {
        if var.to_string_lossy().starts_with("RUNNER_PREFLIGHT_") {
            cmd.env_remove(var);
        }
    }
    cmd
}

/// The CLI with a hermetic environment (see [`hermetic`]) and a 60 s timeout.
pub fn cli() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::from_std(hermetic(env!("CARGO_BIN_EXE_runner-preflight")));
    cmd.timeout(Duration::from_secs(60));
    cmd
}

/// Runs the CLI with `args` on a blocking thread (servers keep running on the
/// test's runtime meanwhile).
pub async fn run(args: Vec<String>) -> Output {
    run_with(args, Vec::new()).await
}

/// [`run`] with extra environment variables.
pub async fn run_with(args: Vec<String>, envs: Vec<(&str, String)>) -> Output {
    let envs: Vec<(String, String)> = envs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    tokio::task::spawn_blocking(move || cli().args(args).envs(envs).output())
        .await
        .expect("CLI thread panicked")
        .expect("spawn runner-preflight")
}

/// One run of the CLI as text: exit code, stdout, stderr.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Ran {
    fn from(out: Output) -> Ran {
        Ran {
            code: out.status.code().expect("exit code"),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Ran {
    /// stdout as JSON; panics with both streams when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// [`run_with`] as text.
pub async fn run_text(args: Vec<String>, envs: Vec<(&str, String)>) -> Ran {
    run_with(args, envs).await.into()
}

/// One run whose stdout is the JSON report, and how long it took.
pub struct Outcome {
    pub code: i32,
    pub json: Value,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Outcome {
    /// Parses the report on stdout; panics (with both streams) when the CLI panicked or stdout is
    /// not JSON.
    pub fn of(out: Output, elapsed: Duration) -> Outcome {
        let ran = Ran::from(out);
        assert!(
            !ran.stderr.contains("panicked") && !ran.stderr.contains("stack backtrace"),
            "{}",
            ran.stderr
        );
        Outcome {
            code: ran.code,
            json: ran.json(),
            stderr: ran.stderr,
            elapsed,
        }
    }
}

/// Runs the CLI with `args` (which ask for `--format json`) and parses the report.
pub async fn run_json(args: Vec<String>) -> Outcome {
    let started = Instant::now();
    let out = run(args).await;
    Outcome::of(out, started.elapsed())
}

/// `--connect-to host:port:127.0.0.1:to`: the CLI reaches `host:port` at a loopback server.
pub fn connect_to(host: &str, port: u16, to: u16) -> Vec<String> {
    vec![
        "--connect-to".into(),
        format!("{host}:{port}:127.0.0.1:{to}"),
    ]
}

/// Owned arguments from string slices.
pub fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}
