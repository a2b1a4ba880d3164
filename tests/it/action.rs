//! The composite action's download path (action.yml's `build` step and
//! scripts/install-action.sh), run the way the Actions runner runs it: the step's `env:` evaluated
//! from action.yml's inputs and contexts, its `run:` script under `bash -eo pipefail`, against a
//! fake release served over loopback HTTPS. curl reaches "github.com" through a `connect-to` line
//! in its own config file, so the default download URL (the action's repository on github.com,
//! with GitHub's redirect to its asset host) is the one exercised.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::world::*;

const CA: &str = "runner-preflight action test CA";
const REPO: &str = "octo-org/runner-preflight";
const ASSET_HOST: &str = "release-assets.githubusercontent.com";

/// action.yml, parsed.
fn action() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml");
    let text = std::fs::read_to_string(&path).expect("read action.yml");
    serde_saphyr::from_str(&text).expect("action.yml is YAML")
}

/// The step of action.yml that provides the binary.
fn install_step(action: &Value) -> &Value {
    action["runs"]["steps"]
        .as_array()
        .expect("runs.steps")
        .iter()
        .find(|s| s["id"] == "build")
        .expect("a step with id build")
}

/// What the runner knows when it runs the step: the workflow's `with:` and the contexts.
struct Job {
    with: HashMap<&'static str, String>,
    runner_os: &'static str,
    runner_arch: &'static str,
    action_ref: &'static str,
    action_repository: &'static str,
    /// Where the runner checked the action out (default: this repository).
    action_path: Option<PathBuf>,
    /// Prepended to PATH (a fake `gh`).
    extra_path: Option<PathBuf>,
}

impl Job {
    fn on(runner_os: &'static str, runner_arch: &'static str) -> Job {
        Job {
            with: HashMap::new(),
            runner_os,
            runner_arch,
            action_ref: "main",
            action_repository: REPO,
            action_path: None,
            extra_path: None,
        }
    }

    fn with(mut self, input: &'static str, value: &str) -> Job {
        self.with.insert(input, value.to_string());
        self
    }
}

/// The outcome of one run of the step.
struct StepRun {
    code: i32,
    stdout: String,
    stderr: String,
    outputs: HashMap<String, String>,
}

/// A runner's machine: its tool cache and temp folder, and curl's view of the network.
struct Runner {
    dir: tempfile::TempDir,
    ca: PathBuf,
}

impl Runner {
    /// curl (the script's downloader) sends github.com and GitHub's asset host to `port` on
    /// loopback and trusts the test CA only.
    fn new(fx: &Fixture, port: u16) -> Runner {
        let dir = tempfile::tempdir().expect("runner dir");
        for sub in ["home", "tool-cache", "temp"] {
            std::fs::create_dir(dir.path().join(sub)).expect("runner folder");
        }
        std::fs::write(
            dir.path().join("home/.curlrc"),
            format!(
                "connect-to = github.com:443:127.0.0.1:{port}\nconnect-to = {ASSET_HOST}:443:127.0.0.1:{port}\n"
            ),
        )
        .expect("curlrc");
        Runner {
            dir,
            ca: fx.ca.clone(),
        }
    }

    fn tool_cache(&self) -> PathBuf {
        self.dir.path().join("tool-cache")
    }

    /// Evaluates `${{ context.name }}` the way the runner would for this job.
    fn evaluate(&self, job: &Job, action: &Value, value: &str) -> String {
        let Some(expr) = value.strip_prefix("${{").and_then(|v| v.strip_suffix("}}")) else {
            assert!(!value.contains("${{"), "unsupported expression: {value}");
            return value.to_string();
        };
        let expr = expr.trim();
        let (context, name) = expr.split_once('.').expect("context.name");
        match context {
            "inputs" => match job.with.get(name) {
                Some(v) => v.clone(),
                None => {
                    let default = action["inputs"][name]["default"]
                        .as_str()
                        .unwrap_or_else(|| panic!("input {name} has no default"));
                    self.evaluate(job, action, default)
                }
            },
            "runner" => match name {
                "os" => job.runner_os.to_string(),
                "arch" => job.runner_arch.to_string(),
                "tool_cache" => self.tool_cache().display().to_string(),
                _ => panic!("runner.{name} is not modelled"),
            },
            "github" => match name {
                "action_ref" => job.action_ref.to_string(),
                "action_path" => job.action_path.as_ref().map_or_else(
                    || env!("CARGO_MANIFEST_DIR").to_string(),
                    |p| p.display().to_string(),
                ),
                "action_repository" => job.action_repository.to_string(),
                "token" => "ghs_test-token".to_string(),
                _ => panic!("github.{name} is not modelled"),
            },
            _ => panic!("context {context} is not modelled"),
        }
    }

    /// Runs action.yml's install step as `bash --noprofile --norc -eo pipefail FILE`, with only
    /// the environment a runner gives a step (no proxies, no host variables).
    fn run_step(&self, job: &Job) -> StepRun {
        let action = action();
        let step = install_step(&action);
        assert_eq!(step["shell"], "bash");
        let script = self.dir.path().join("step.sh");
        std::fs::write(&script, step["run"].as_str().expect("run")).expect("step script");
        let output_file = self.dir.path().join("github-output");
        std::fs::write(&output_file, "").expect("GITHUB_OUTPUT");
        let mut path = std::env::var("PATH").unwrap_or_default();
        if let Some(extra) = &job.extra_path {
            path = format!("{}:{path}", extra.display());
        }
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.dir.path().join("home"))
            .env("CURL_HOME", self.dir.path().join("home"))
            .env("CURL_CA_BUNDLE", &self.ca)
            .env("RUNNER_TEMP", self.dir.path().join("temp"))
            .env("GITHUB_OUTPUT", &output_file);
        for (k, v) in step["env"].as_object().expect("step env") {
            let v = self.evaluate(job, &action, v.as_str().expect("env value"));
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run bash");
        let outputs = std::fs::read_to_string(&output_file)
            .expect("read GITHUB_OUTPUT")
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        StepRun {
            code: out.status.code().expect("exit code"),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            outputs,
        }
    }
}

/// A release as the release workflow lays it out: archives of a binary that says its version,
/// and their SHA256SUMS.
struct Release {
    dir: tempfile::TempDir,
    version: String,
    assets: Vec<String>,
}

impl Release {
    /// `platforms` as `os-arch` (linux-x64, win-arm64…); the "binary" is a shell script that
    /// answers `--version` with `says`.
    fn new(version: &str, platforms: &[&str], says: &str) -> Release {
        let dir = tempfile::tempdir().expect("release dir");
        let mut assets = Vec::new();
        for platform in platforms {
            let stage = dir.path().join(format!("stage-{platform}"));
            std::fs::create_dir(&stage).expect("stage");
            let windows = platform.starts_with("win-");
            let exe = if windows {
                "runner-preflight.exe"
            } else {
                "runner-preflight"
            };
            let bin = stage.join(exe);
            std::fs::write(&bin, format!("#!/bin/sh\necho 'runner-preflight {says}'\n"))
                .expect("fake binary");
            shell(&format!("chmod 755 '{}'", bin.display()));
            let asset = if windows {
                let a = format!("runner-preflight-{platform}-{version}.zip");
                shell(&format!(
                    "cd '{}' && zip -q '../{a}' {exe}",
                    stage.display()
                ));
                a
            } else {
                let a = format!("runner-preflight-{platform}-{version}.tar.gz");
                shell(&format!(
                    "tar -czf '{}/{a}' -C '{}' {exe}",
                    dir.path().display(),
                    stage.display()
                ));
                a
            };
            assets.push(asset);
        }
        shell(&format!(
            "cd '{}' && sha256sum {} > SHA256SUMS",
            dir.path().display(),
            assets.join(" ")
        ));
        Release {
            dir,
            version: version.to_string(),
            assets,
        }
    }

    fn file(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join(name)).expect("release file")
    }

    /// Routes as github.com answers them: SHA256SUMS directly, each archive through a redirect to
    /// the asset host.
    fn routes(&self, routes: Routes) -> Routes {
        let base = format!("/{REPO}/releases/download/v{}", self.version);
        let mut routes = routes.route(
            &format!("{base}/SHA256SUMS"),
            HttpResponse::status(200).body(self.file("SHA256SUMS")),
        );
        for (i, asset) in self.assets.iter().enumerate() {
            let blob = format!("/assets/{}/{i}", self.version);
            routes = routes
                .route(
                    &format!("{base}/{asset}"),
                    HttpResponse::status(302)
                        .header("Location", &format!("https://{ASSET_HOST}{blob}")),
                )
                .route(&blob, HttpResponse::status(200).body(self.file(asset)));
        }
        routes
    }
}

fn shell(cmd: &str) {
    let st = Command::new("sh")
        .args(["-c", cmd])
        .status()
        .expect("run sh");
    assert!(st.success(), "{cmd} failed");
}

async fn serve(fx: &Fixture, routes: Routes) -> TestServer {
    TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&["github.com", ASSET_HOST]),
        routes,
    })
    .await
}

/// Runs the step on a blocking thread (the servers keep running on the test's runtime); hands
/// the runner back for a second run.
async fn run_step(runner: Runner, job: Job) -> (Runner, StepRun) {
    tokio::task::spawn_blocking(move || {
        let ran = runner.run_step(&job);
        (runner, ran)
    })
    .await
    .expect("step thread")
}

fn paths(srv: &TestServer) -> Vec<String> {
    srv.seen_requests().into_iter().map(|r| r.path).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_downloads_the_release_for_this_runner_verifies_it_and_caches_it() {
    let fx = Fixture::new(CA);
    let release = Release::new("0.1.0", &["linux-x64", "linux-arm64"], "0.1.0");
    let srv = serve(&fx, release.routes(Routes::new(HttpResponse::status(404)))).await;
    let runner = Runner::new(&fx, srv.port());

    // No `version` input, the action used at a branch: the version of its Cargo.toml (0.1.0).
    let (runner, ran) = run_step(runner, Job::on("Linux", "X64")).await;
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let bin = runner
        .tool_cache()
        .join("runner-preflight/0.1.0/x64/runner-preflight");
    assert_eq!(ran.outputs["bin"], bin.display().to_string());
    assert_eq!(ran.outputs["version"], "0.1.0");
    assert!(runner
        .tool_cache()
        .join("runner-preflight/0.1.0/x64.complete")
        .is_file());
    assert!(ran.stdout.contains("checksum verified"), "{}", ran.stdout);
    let base = format!("/{REPO}/releases/download/v0.1.0");
    assert_eq!(
        paths(&srv),
        vec![
            format!("{base}/SHA256SUMS"),
            format!("{base}/runner-preflight-linux-x64-0.1.0.tar.gz"),
            "/assets/0.1.0/0".to_string(),
        ],
        "the x64 archive, through GitHub's redirect"
    );

    // The next job on this runner downloads nothing, even with GitHub unreachable.
    drop(srv);
    let (_runner, again) = run_step(runner, Job::on("Linux", "X64")).await;
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(
        again.stdout.contains("from the tool cache"),
        "{}",
        again.stdout
    );
    assert_eq!(again.outputs["bin"], bin.display().to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_refuses_an_archive_whose_checksum_does_not_match() {
    let fx = Fixture::new(CA);
    let release = Release::new("0.1.0", &["linux-x64"], "0.1.0");
    // SHA256SUMS of another build: same names, other bytes.
    let other = Release::new("0.1.0", &["linux-x64"], "0.1.0-tampered");
    let base = format!("/{REPO}/releases/download/v0.1.0");
    let routes = release
        .routes(Routes::new(HttpResponse::status(404)))
        .route(
            &format!("{base}/SHA256SUMS"),
            HttpResponse::status(200).body(other.file("SHA256SUMS")),
        );
    let srv = serve(&fx, routes).await;
    let runner = Runner::new(&fx, srv.port());
    let (runner, ran) = run_step(runner, Job::on("Linux", "X64")).await;
    assert_eq!(ran.code, 1, "{}\n{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr
            .contains("checksum mismatch for runner-preflight-linux-x64-0.1.0.tar.gz"),
        "{}",
        ran.stderr
    );
    assert!(!ran.outputs.contains_key("bin"));
    assert!(
        !runner.tool_cache().join("runner-preflight").exists(),
        "nothing unverified is cached"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_names_the_built_platforms_when_the_runner_has_no_asset() {
    let fx = Fixture::new(CA);
    let release = Release::new("0.1.0", &["linux-x64"], "0.1.0");
    let srv = serve(&fx, release.routes(Routes::new(HttpResponse::status(404)))).await;
    let runner = Runner::new(&fx, srv.port());
    // A 32-bit ARM runner: the runner itself exists for it, no release of ours does.
    let (_runner, ran) = run_step(runner, Job::on("Linux", "ARM")).await;
    assert_eq!(ran.code, 1, "{}\n{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr.contains(
            "no release asset for runner.os 'Linux' and runner.arch 'ARM': releases are built for \
             linux-x64, linux-arm64, osx-x64, osx-arm64, win-x64, win-arm64. Set 'build-from-source: true'"
        ),
        "{}",
        ran.stderr
    );
    assert!(paths(&srv).is_empty(), "nothing is downloaded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_installs_the_windows_zip_of_the_version_asked_for() {
    let fx = Fixture::new(CA);
    let release = Release::new("0.2.0", &["win-arm64", "win-x64"], "0.2.0");
    let srv = serve(&fx, release.routes(Routes::new(HttpResponse::status(404)))).await;
    let runner = Runner::new(&fx, srv.port());
    let (runner, ran) = run_step(
        runner,
        Job::on("Windows", "ARM64").with("version", "v0.2.0"),
    )
    .await;
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    assert_eq!(
        ran.outputs["bin"],
        runner
            .tool_cache()
            .join("runner-preflight/0.2.0/arm64/runner-preflight.exe")
            .display()
            .to_string()
    );
    assert!(paths(&srv).contains(&format!(
        "/{REPO}/releases/download/v0.2.0/runner-preflight-win-arm64-0.2.0.zip"
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_used_at_a_version_tag_installs_that_release() {
    let fx = Fixture::new(CA);
    let release = Release::new("0.3.1", &["osx-arm64"], "0.3.1");
    let srv = serve(&fx, release.routes(Routes::new(HttpResponse::status(404)))).await;
    let runner = Runner::new(&fx, srv.port());
    let mut job = Job::on("macOS", "ARM64");
    job.action_ref = "v0.3.1";
    let (_runner, ran) = run_step(runner, job).await;
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    assert_eq!(ran.outputs["version"], "0.3.1");
}

/// Some runners give composite actions an empty `github.action_ref` and
/// `github.action_repository` (actions/runner#2473): the checkout's folder,
/// `_actions/OWNER/NAME/REF`, says both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_finds_its_repository_and_ref_in_its_folder_when_the_runner_leaves_them_empty() {
    let fx = Fixture::new(CA);
    let release = Release::new("0.3.1", &["linux-arm64"], "0.3.1");
    let srv = serve(&fx, release.routes(Routes::new(HttpResponse::status(404)))).await;
    let runner = Runner::new(&fx, srv.port());
    let checkout = runner
        .dir
        .path()
        .join(format!("work/_actions/{REPO}/v0.3.1"));
    std::fs::create_dir_all(&checkout).expect("checkout");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::os::unix::fs::symlink(repo.join("scripts"), checkout.join("scripts")).expect("scripts");
    let mut job = Job::on("Linux", "ARM64");
    job.action_ref = "";
    job.action_repository = "";
    job.action_path = Some(checkout);
    let (_runner, ran) = run_step(runner, job).await;
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    assert_eq!(ran.outputs["version"], "0.3.1");
    assert!(paths(&srv).contains(&format!(
        "/{REPO}/releases/download/v0.3.1/runner-preflight-linux-arm64-0.3.1.tar.gz"
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_refuses_an_archive_holding_another_version() {
    let fx = Fixture::new(CA);
    // Checksums match, but the binary inside is not the release's version.
    let release = Release::new("0.1.0", &["linux-x64"], "0.0.9");
    let srv = serve(&fx, release.routes(Routes::new(HttpResponse::status(404)))).await;
    let runner = Runner::new(&fx, srv.port());
    let (_runner, ran) = run_step(runner, Job::on("Linux", "X64")).await;
    assert_eq!(ran.code, 1, "{}\n{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr
            .contains("says 'runner-preflight 0.0.9', not version 0.1.0"),
        "{}",
        ran.stderr
    );
}

/// With `gh` on PATH the attestation is verified for the action's repository, and a failing
/// verification stops the install.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_verifies_the_attestation_with_gh_when_gh_is_there() {
    let fx = Fixture::new(CA);
    let release = Release::new("0.1.0", &["linux-x64"], "0.1.0");
    let srv = serve(&fx, release.routes(Routes::new(HttpResponse::status(404)))).await;
    for (gh_exit, want_code) in [(0, 0), (1, 1)] {
        let runner = Runner::new(&fx, srv.port());
        let gh_dir = runner.dir.path().join("gh-bin");
        std::fs::create_dir(&gh_dir).expect("gh dir");
        let log = runner.dir.path().join("gh.log");
        std::fs::write(
            gh_dir.join("gh"),
            format!(
                "#!/bin/sh\necho \"$GH_TOKEN $*\" >> '{}'\nexit {gh_exit}\n",
                log.display()
            ),
        )
        .expect("fake gh");
        shell(&format!("chmod 755 '{}'", gh_dir.join("gh").display()));
        let mut job = Job::on("Linux", "X64");
        job.extra_path = Some(gh_dir);
        let (runner, ran) = run_step(runner, job).await;
        assert_eq!(ran.code, want_code, "{}\n{}", ran.stdout, ran.stderr);
        let called = std::fs::read_to_string(&log).expect("gh was called");
        assert!(
            called.starts_with("ghs_test-token attestation verify ")
                && called.trim_end().ends_with(&format!(
                    "runner-preflight-linux-x64-0.1.0.tar.gz --repo {REPO}"
                )),
            "{called}"
        );
        if gh_exit != 0 {
            assert!(
                ran.stderr.contains(
                    "attestation of runner-preflight-linux-x64-0.1.0.tar.gz does not verify"
                ),
                "{}",
                ran.stderr
            );
            assert!(!runner.tool_cache().join("runner-preflight").exists());
        }
    }
}

/// The three places that name the release archives agree: the release workflow's build matrix
/// (what is built), scripts/install-action.sh (what the action downloads) and Cargo.toml's
/// binstall metadata (what `cargo binstall` downloads).
#[test]
fn release_workflow_action_and_binstall_agree_on_the_asset_names() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workflow: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(root.join(".github/workflows/release.yml")).expect("release.yml"),
    )
    .expect("release.yml is YAML");
    let mut built: Vec<(String, String)> = workflow["jobs"]["build"]["strategy"]["matrix"]
        ["include"]
        .as_array()
        .expect("matrix.include")
        .iter()
        .map(|m| {
            let platform = format!(
                "{}-{}",
                m["os"].as_str().expect("os"),
                m["arch"].as_str().expect("arch")
            );
            (m["target"].as_str().expect("target").to_string(), platform)
        })
        .collect();
    built.sort();

    // The action's list of platforms, as its error message names them.
    let script = std::fs::read_to_string(root.join("scripts/install-action.sh")).expect("script");
    let listed = script
        .lines()
        .find_map(|l| l.strip_prefix("PLATFORMS=\""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("PLATFORMS= in install-action.sh");
    let mut listed: Vec<&str> = listed.split(' ').collect();
    listed.sort();
    let mut platforms: Vec<&str> = built.iter().map(|(_, p)| p.as_str()).collect();
    platforms.sort();
    assert_eq!(platforms, listed, "built vs. the action's list");

    let meta = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .expect("cargo metadata");
    assert!(
        meta.status.success(),
        "{}",
        String::from_utf8_lossy(&meta.stderr)
    );
    let meta: Value = serde_json::from_slice(&meta.stdout).expect("metadata JSON");
    let binstall = &meta["packages"][0]["metadata"]["binstall"];
    assert_eq!(
        binstall["bin-dir"], "{ bin }{ binary-ext }",
        "the archives are flat"
    );
    for (target, platform) in &built {
        let ext = if platform.starts_with("win-") {
            "zip"
        } else {
            "tar.gz"
        };
        assert_eq!(
            binstall["overrides"][target]["pkg-url"],
            format!("{{ repo }}/releases/download/v{{ version }}/runner-preflight-{platform}-{{ version }}.{ext}"),
            "{target}"
        );
    }
}
