//! The Debian package (scripts/build-deb.sh), built from the test binary, installed with
//! `dpkg --root` into a throwaway root (this machine's dpkg status for the dependencies,
//! systemd's own units for `systemd-analyze`), checked by lintian and systemd-analyze, and its
//! installed binary run against the loopback world. The release workflow builds the .deb with
//! the same script from the static release binaries.
//!
//! Under CI=true a missing tool (dpkg-deb, lintian, systemd-analyze) fails these tests (`.ci/run`
//! installs them); elsewhere they are skipped with a notice.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::world::*;

const CA: &str = "runner-preflight deb test CA";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// True when every tool is on PATH; otherwise a notice (or, under CI=true, a failure).
fn have(tools: &[&str]) -> bool {
    let path = std::env::var("PATH").unwrap_or_default();
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| !path.split(':').any(|d| Path::new(d).join(t).is_file()))
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        !in_ci(),
        "{} not installed (.ci/run installs them)",
        missing.join(", ")
    );
    eprintln!("skipped: {} not installed", missing.join(", "));
    false
}

fn ok(out: Output, what: &str) -> Output {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The .deb, built once per test run.
fn deb() -> &'static Path {
    static DEB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DEB.get_or_init(|| {
        let dir = tempfile::tempdir().expect("deb dir");
        let out = ok(
            Command::new("bash")
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/build-deb.sh"))
                .arg(env!("CARGO_BIN_EXE_runner-preflight"))
                .arg(dir.path())
                // xz takes half a minute on a 2-core machine; the release builds use it.
                .env("DEB_COMPRESSION", "gzip")
                .output()
                .expect("run build-deb.sh"),
            "scripts/build-deb.sh",
        );
        let deb = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        assert!(deb.is_file(), "{} was not written", deb.display());
        (dir, deb)
    })
    .1
}

/// A throwaway root with the package installed by `dpkg --root`, once per test run.
fn installed() -> &'static Path {
    static ROOT: OnceLock<tempfile::TempDir> = OnceLock::new();
    ROOT.get_or_init(|| {
        let root = tempfile::tempdir().expect("root");
        let admin = root.path().join("var/lib/dpkg");
        for d in ["info", "updates"] {
            std::fs::create_dir_all(admin.join(d)).expect("dpkg admin dir");
        }
        std::fs::write(admin.join("available"), "").expect("available");
        // The packages it depends on, as this machine has them installed.
        let depends = ok(
            Command::new("dpkg-deb")
                .args(["--field"])
                .arg(deb())
                .arg("Depends")
                .output()
                .expect("dpkg-deb --field"),
            "dpkg-deb --field",
        );
        let names: Vec<String> = String::from_utf8_lossy(&depends.stdout)
            .split(',')
            .filter_map(|d| d.split_whitespace().next().map(str::to_string))
            .collect();
        let status = if names.is_empty() {
            Vec::new()
        } else {
            ok(
                Command::new("dpkg-query")
                    .arg("--status")
                    .args(&names)
                    .output()
                    .expect("dpkg-query"),
                "dpkg-query --status (the dependencies are not installed here)",
            )
            .stdout
        };
        std::fs::write(admin.join("status"), status).expect("status");
        // systemd's own units (sysinit.target…), which the package's units are verified against.
        let units = root.path().join("lib/systemd/system");
        std::fs::create_dir_all(&units).expect("units dir");
        ok(
            Command::new("cp")
                .args(["-r", "/lib/systemd/system/."])
                .arg(&units)
                .output()
                .expect("cp"),
            "copying systemd's units",
        );
        ok(
            Command::new("dpkg")
                .arg(format!("--root={}", root.path().display()))
                .args([
                    "--force-script-chrootless",
                    "--force-not-root",
                    "--log=/dev/null",
                    "--install",
                ])
                .arg(deb())
                .output()
                .expect("dpkg"),
            "dpkg --install",
        );
        root
    })
    .path()
}

#[test]
fn deb_installs_the_binary_man_pages_completions_units_and_config() {
    if !have(&["dpkg-deb", "dpkg", "readelf", "systemd-analyze"]) {
        return;
    }
    let root = installed();
    let bin = root.join("usr/bin/runner-preflight");
    let version = ok(
        Command::new(&bin).arg("--version").output().expect("run"),
        "--version",
    );
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("runner-preflight {}", env!("CARGO_PKG_VERSION"))
    );
    for page in [
        "runner-preflight",
        "runner-preflight-check",
        "runner-preflight-serve",
        "runner-preflight-firewall",
        "runner-preflight-audit",
        "runner-preflight-meta",
        "runner-preflight-fleet",
        "runner-preflight-explain",
        "runner-preflight-profile",
        "runner-preflight-profiles",
        "runner-preflight-completions",
        "runner-preflight-man",
    ] {
        let path = root.join(format!("usr/share/man/man1/{page}.1.gz"));
        assert!(path.is_file(), "no man page {}", path.display());
    }
    assert!(!root
        .join("usr/share/man/man1/runner-preflight-help.1.gz")
        .exists());
    for file in [
        "usr/share/zsh/vendor-completions/_runner-preflight",
        "usr/share/fish/vendor_completions.d/runner-preflight.fish",
        "lib/systemd/system/runner-preflight-exporter.service",
        "lib/systemd/system/runner-preflight-textfile.service",
        "lib/systemd/system/runner-preflight-textfile.timer",
    ] {
        assert!(root.join(file).is_file(), "{file} is not installed");
    }
    // bash-completion loads the file by the command's name; it registers that command.
    let bash = ok(
        Command::new("bash")
            .arg("-c")
            .arg("source \"$1\" && complete -p runner-preflight")
            .arg("bash")
            .arg(root.join("usr/share/bash-completion/completions/runner-preflight"))
            .output()
            .expect("bash"),
        "sourcing the bash completion",
    );
    assert!(String::from_utf8_lossy(&bash.stdout).contains("runner-preflight"));
    // The configuration is a conffile: dpkg keeps the operator's edits on upgrade.
    let conffiles = ok(
        Command::new("dpkg-query")
            .arg(format!(
                "--admindir={}",
                root.join("var/lib/dpkg").display()
            ))
            .args(["--showformat=${Conffiles}", "--show", "runner-preflight"])
            .output()
            .expect("dpkg-query"),
        "dpkg-query",
    );
    assert!(
        String::from_utf8_lossy(&conffiles.stdout).contains("/etc/default/runner-preflight "),
        "{}",
        String::from_utf8_lossy(&conffiles.stdout)
    );
    // The units run the packaged binary and read the packaged configuration.
    for unit in [
        "runner-preflight-exporter.service",
        "runner-preflight-textfile.service",
    ] {
        let text =
            std::fs::read_to_string(root.join("lib/systemd/system").join(unit)).expect("unit");
        assert!(
            text.contains("ExecStart=/usr/bin/runner-preflight "),
            "{unit}"
        );
        assert!(
            text.contains("EnvironmentFile=-/etc/default/runner-preflight"),
            "{unit}"
        );
    }
}

#[test]
fn deb_is_lintian_clean() {
    if !have(&["dpkg-deb", "readelf", "lintian"]) {
        return;
    }
    // Pedantic and informational tags too; each override is explained in
    // packaging/deb/lintian-overrides.
    let out = Command::new("lintian")
        .args([
            "--pedantic",
            "--info",
            "--fail-on",
            "error,warning,info,pedantic",
        ])
        .arg(deb())
        .output()
        .expect("run lintian");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.trim().is_empty(),
        "lintian ({}):\n{said}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn deb_systemd_units_verify_and_are_sandboxed() {
    if !have(&["dpkg-deb", "dpkg", "readelf", "systemd-analyze"]) {
        return;
    }
    let root = installed();
    let units: Vec<PathBuf> = [
        "runner-preflight-exporter.service",
        "runner-preflight-textfile.service",
        "runner-preflight-textfile.timer",
    ]
    .iter()
    .map(|u| root.join("lib/systemd/system").join(u))
    .collect();
    // verify checks the syntax, the dependencies and that ExecStart is executable in the root;
    // it exits 0 on an unknown key or a bad value, but says so: nothing may be said.
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(format!("--root={}", root.display()))
        .args(&units)
        .output()
        .expect("systemd-analyze verify");
    assert!(
        out.status.success() && out.stderr.is_empty() && out.stdout.is_empty(),
        "systemd-analyze verify ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // systemd's own exposure score (0 = locked down, 10 = unprotected): the services score 1.8;
    // a lost sandboxing line shows as a score above 2.0.
    for unit in &units[..2] {
        let out = Command::new("systemd-analyze")
            .args(["security", "--offline=yes", "--threshold=20"])
            .arg(format!("--root={}", root.display()))
            .arg(unit)
            .output()
            .expect("systemd-analyze security");
        assert!(
            out.status.success(),
            "{} is exposed above 2.0:\n{}",
            unit.display(),
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// What a user on a fresh host does after `dpkg -i`: the installed binary checks the dotcom
/// profile (here against a loopback world playing GitHub), and the textfile unit's own command
/// line writes the metrics file for node_exporter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deb_installed_binary_passes_the_dotcom_check_against_the_loopback_world() {
    if !have(&["dpkg-deb", "dpkg", "readelf", "systemd-analyze"]) {
        return;
    }
    let root = tokio::task::spawn_blocking(installed)
        .await
        .expect("install");
    let bin = root.join("usr/bin/runner-preflight");

    let fx = Fixture::new(CA);
    let profile = runner_preflight::profile::resolve("dotcom").expect("builtin");
    let plan = runner_preflight::plan::build(&profile, &Default::default()).expect("plan");
    let hosts = plan.hosts();
    let mut world = DnsWorld::new();
    for h in &hosts {
        world.set(h, loopback(60));
    }
    let dns = world.start().await;
    let names: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&names),
        routes: Routes::github(),
    })
    .await;
    let mut world_flags = vec![
        "--dns-server".to_string(),
        dns.addr.to_string(),
        "--ca-file".to_string(),
        fx.ca.display().to_string(),
        "--connect-to".to_string(),
        format!(":443:127.0.0.1:{}", srv.port()),
    ];
    world_flags.extend(fx.agreeing_trust_stores());

    let mut args = vec!["check", "--profile", "dotcom", "--no-throughput"]
        .into_iter()
        .map(String::from)
        .chain(["--format", "json", "--quiet"].map(String::from))
        .collect::<Vec<_>>();
    args.extend(world_flags.iter().cloned());
    let run = |program: PathBuf, args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            hermetic(program)
                .args(args)
                .output()
                .expect("run the installed binary")
        })
    };
    let out = run(bin.clone(), args).await.expect("thread");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["verdict"], "pass");
    assert_eq!(report["summary"]["pass"].as_u64(), Some(hosts.len() as u64));

    // The textfile service's ExecStart, its folder moved to a temp dir.
    let unit =
        std::fs::read_to_string(root.join("lib/systemd/system/runner-preflight-textfile.service"))
            .expect("unit");
    let exec = unit
        .replace("\\\n", " ")
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart=").map(str::to_string))
        .expect("ExecStart");
    let textfile_dir = tempfile::tempdir().expect("textfile dir");
    let exec = exec.replace(
        "/var/lib/prometheus/node-exporter",
        &textfile_dir.path().display().to_string(),
    );
    let mut words = exec.split_whitespace().map(String::from);
    let program = words.next().expect("program");
    assert_eq!(program, "/usr/bin/runner-preflight");
    let mut args: Vec<String> = words.collect();
    args.extend(world_flags);
    let out = run(bin, args).await.expect("thread");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<String> = std::fs::read_dir(textfile_dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files,
        vec!["runner_preflight.prom".to_string()],
        "no temporary file left"
    );
    let metrics = std::fs::read_to_string(textfile_dir.path().join("runner_preflight.prom"))
        .expect("metrics");
    assert!(
        metrics.contains("runner_preflight_last_run_timestamp_seconds"),
        "{metrics}"
    );
}
