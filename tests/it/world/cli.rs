//! Running the CLI: a hermetic environment (no host trust store, no proxies, no GitHub Actions
//! or `RUNNER_PREFLIGHT_*` variables), as an `assert_cmd` command or on a blocking thread.

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

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
/// `NO_COLOR=1`, and no proxy, GitHub Actions or `RUNNER_PREFLIGHT_*` variables. For running the
/// CLI through a wrapper (`ip netns exec …`) as well as directly.
pub fn hermetic(program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
    let trust = empty_trust_dir();
    let mut cmd = std::process::Command::new(program);
    cmd.env("SSL_CERT_FILE", trust.join("empty.pem"))
        .env("SSL_CERT_DIR", trust.join("certs"))
        .env("NO_COLOR", "1");
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
        "ALL_PROXY",
        "all_proxy",
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
pub async fn run(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || cli().args(args).output())
        .await
        .expect("CLI thread panicked")
        .expect("spawn runner-preflight")
}
