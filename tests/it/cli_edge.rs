//! The command layer at its edges: standard output that cannot be written (a full device, a
//! closed pipe), SIGINT/SIGTERM during a run, shell completions driven through bash.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use crate::world::*;

const BIN: &str = env!("CARGO_BIN_EXE_runner-preflight");

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn dev_full() -> Stdio {
    Stdio::from(
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("open /dev/full"),
    )
}

/// A profile with one name the DNS server below never answers.
fn silent_profile(dir: &Path) -> String {
    let p = dir.join("silent.yaml");
    std::fs::write(
        &p,
        "schema_version: 1\nname: silent\ntitle: Never answered\ncapabilities:\n  - id: core\n    title: Core\n    gating: true\n    entries:\n      - host: silent.test\n        ports: [443]\n",
    )
    .expect("write profile");
    p.display().to_string()
}

#[test]
fn commands_that_print_fail_on_a_full_stdout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = silent_profile(dir.path());
    let allow = dir.path().join("allow.txt");
    std::fs::write(&allow, "silent.test\n").expect("write allow list");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["profile", "show", "dotcom"], "the plan"),
        (vec!["profiles"], "the list of profiles"),
        (vec!["profile", "source", "dotcom"], "the profile"),
        (
            vec!["firewall", "--profile", &profile, "--offline"],
            "the rules",
        ),
        (
            vec![
                "audit",
                "--profile",
                &profile,
                "--offline",
                "--allowlist",
                allow.to_str().unwrap(),
            ],
            "the audit",
        ),
        (vec!["completions", "bash"], "the completion script"),
        (vec!["man"], "the man page"),
    ];
    for (args, what) in cases {
        let out = hermetic(BIN)
            .args(&args)
            .stdout(dev_full())
            .output()
            .expect("spawn");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "cannot write {what} to standard output: no space left on device"
            )),
            "{args:?}: {stderr}"
        );
    }
    let out = hermetic(BIN)
        .arg("--help")
        .stdout(dev_full())
        .output()
        .expect("spawn");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no space left on device"));
}

#[test]
fn a_closed_pipe_stays_quiet() {
    // `runner-preflight profile show dotcom | head -c0`: the reader is gone before the write.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = hermetic(BIN)
        .args(["profile", "show", "dotcom"])
        .stdout(writer)
        .output()
        .expect("spawn");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "nothing said about the closed pipe");
}

/// Start `check` against a DNS server that never answers, wait until it says it is probing,
/// send `signal`, and return (output, time from the signal to the exit).
async fn interrupt_check(signal: &str, dir: &Path) -> (Output, Duration) {
    let dns = DnsWorld::new()
        .name("silent.test", Behaviour::Drop)
        .start()
        .await;
    let profile = silent_profile(dir);
    let report = dir.join("report.json");
    let mut child = hermetic(BIN)
        .args([
            "check",
            "--profile",
            &profile,
            "--dns-server",
            &dns.addr_string(),
            "--timeout",
            "60s",
            "--no-throughput",
            "--format",
            "json",
            "--output",
            report.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id().to_string();
    let stderr = child.stderr.take().expect("stderr");
    let signal = signal.to_string();
    let asked = dns.query_counter();
    let (out, elapsed) = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stderr).lines();
        let mut said = Vec::new();
        // Bounded: the child exits (and the pipe closes) within the test's time either way.
        for line in lines.by_ref() {
            let line = line.expect("stderr line");
            let probing = line.contains("probing 1 name");
            said.push(line);
            if probing {
                break;
            }
        }
        // The signal must come while the question is out, not before it was sent: wait for the
        // server to have it (bounded by the check's own 60 s timeout, far longer than needed).
        let waiting = Instant::now();
        while asked.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            assert!(
                waiting.elapsed() < Duration::from_secs(30),
                "no DNS question within 30 s"
            );
            std::thread::yield_now();
        }
        let sent = Instant::now();
        let kill = std::process::Command::new("kill")
            .args([format!("-{signal}"), pid])
            .status()
            .expect("run kill");
        assert!(kill.success());
        for line in lines {
            said.push(line.expect("stderr line"));
        }
        let out = child.wait_with_output().expect("wait");
        let elapsed = sent.elapsed();
        let mut out = out;
        out.stderr = said.join("\n").into_bytes();
        (out, elapsed)
    })
    .await
    .expect("thread");
    assert!(dns.queries() > 0, "the question was asked");
    (out, elapsed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_and_sigint_stop_check_at_once_and_say_so() {
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (out, elapsed) = interrupt_check(signal, dir.path()).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "SIG{signal}: {stderr}");
        assert!(
            elapsed < Duration::from_millis(1500),
            "SIG{signal}: took {elapsed:?}"
        );
        assert!(
            stderr.contains(
                "runner-preflight: interrupted after probing 0 of 1 name; no report written"
            ),
            "SIG{signal}: {stderr}"
        );
        assert!(out.stdout.is_empty());
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("read dir")
            .map(|e| e.expect("entry").file_name())
            .filter(|n| n != "silent.yaml")
            .collect();
        assert!(left.is_empty(), "no report, no temporary file: {left:?}");
    }
}

/// Completion candidates bash offers for `words` (the last one being completed), from the
/// script `completions bash` prints, driven the way bash's programmable completion does.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let script = hermetic(BIN)
        .args(["completions", "bash"])
        .output()
        .expect("spawn");
    assert_eq!(script.status.code(), Some(0));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("runner-preflight.bash");
    std::fs::write(&file, &script.stdout).expect("write script");
    let quoted: Vec<String> = words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', "'\\''")))
        .collect();
    let line = words.join(" ");
    let driver = format!(
        r#"source '{file}'
spec=$(complete -p runner-preflight) || exit 3
fn=$(printf '%s\n' "$spec" | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
[ -n "$fn" ] || exit 4
COMP_WORDS=({words})
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE='{line}'
COMP_POINT=${{#COMP_LINE}}
cur="${{COMP_WORDS[COMP_CWORD]}}"
prev="${{COMP_WORDS[COMP_CWORD-1]}}"
"$fn" runner-preflight "$cur" "$prev"
printf '%s\n' "${{COMPREPLY[@]}}"
"#,
        file = file.display(),
        words = quoted.join(" "),
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &driver])
        .output()
        .expect("run bash");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_every_subcommands_flags_and_values() {
    let c = bash_complete(&["runner-preflight", "check", "--"]);
    for flag in [
        "--profile",
        "--format",
        "--fail-on",
        "--output-json",
        "--dns-server",
    ] {
        assert!(c.iter().any(|x| x == flag), "check -- lacks {flag}: {c:?}");
    }
    let c = bash_complete(&["runner-preflight", "check", "--format", ""]);
    assert_eq!(
        c,
        ["table", "json", "junit", "markdown", "html", "prometheus"],
        "{c:?}"
    );
    let c = bash_complete(&["runner-preflight", "firewall", "--format", "nf"]);
    assert_eq!(c, ["nftables"]);
    let c = bash_complete(&["runner-preflight", "audit", "--al"]);
    assert_eq!(c, ["--allowlist"]);
    let c = bash_complete(&["runner-preflight", "meta", "diff", "--me"]);
    assert!(c.iter().any(|x| x == "--meta-url"), "{c:?}");
    let c = bash_complete(&["runner-preflight", "profile", "show", "--"]);
    assert!(c.iter().any(|x| x == "--var"), "{c:?}");
    let c = bash_complete(&["runner-preflight", "ch"]);
    assert_eq!(c, ["check"]);
}

/// zsh and fish: the scripts load (a syntax check), and fish — which can be asked for the
/// candidates of a command line — completes a subcommand's flags and values. Under CI=true a
/// missing shell fails the test (`.ci/run` installs both).
#[test]
fn zsh_and_fish_complete_where_the_shells_are_installed() {
    for (shell, check) in [("zsh", "-n"), ("fish", "--no-execute")] {
        let Ok(found) = std::process::Command::new(shell).arg("--version").output() else {
            assert!(
                std::env::var_os("CI").is_none_or(|v| v != "true"),
                "{shell} is not installed (CI=true: .ci/run installs it)"
            );
            eprintln!("{shell} is not installed: its completion script is not checked");
            continue;
        };
        assert!(found.status.success());
        let script = hermetic(BIN)
            .args(["completions", shell])
            .output()
            .expect("spawn");
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join(format!("runner-preflight.{shell}"));
        std::fs::write(&file, &script.stdout).expect("write script");
        let out = std::process::Command::new(shell)
            .arg(check)
            .arg(&file)
            .output()
            .expect("run shell");
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        if shell == "fish" {
            let complete = |line: &str| -> Vec<String> {
                let out = std::process::Command::new("fish")
                    .arg("--no-config")
                    .arg("-c")
                    .arg(format!("source {}; complete -C '{line}'", file.display()))
                    .output()
                    .expect("run fish");
                assert!(out.status.success(), "fish: {}", text(&out.stderr));
                text(&out.stdout)
                    .lines()
                    .map(|l| l.split('\t').next().unwrap_or("").to_string())
                    .collect()
            };
            let flags = complete("runner-preflight check --form");
            assert!(flags.iter().any(|c| c == "--format"), "{flags:?}");
            let values = complete("runner-preflight check --format ");
            for v in ["table", "json", "junit", "markdown"] {
                assert!(values.iter().any(|c| c == v), "{v} in {values:?}");
            }
            let subs = complete("runner-preflight fire");
            assert!(subs.iter().any(|c| c == "firewall"), "{subs:?}");
        }
    }
}

/// Issue 23 row 15: completions offer the built-in profiles and the capability ids.
#[test]
fn bash_completes_profile_and_capability_names() {
    let c = bash_complete(&["runner-preflight", "check", "--profile", ""]);
    assert_eq!(c[..3], ["dotcom", "ghes", "ghecom"], "{c:?}");
    assert!(c.iter().any(|f| f == "profiles"), "files too: {c:?}");
    let c = bash_complete(&["runner-preflight", "profile", "show", "--profile", "gh"]);
    assert_eq!(c, ["ghes", "ghecom"]);
    // A profile may be a file too: file names are offered beside the built-in names.
    let c = bash_complete(&["runner-preflight", "check", "--profile", "Cargo.t"]);
    assert_eq!(c, ["Cargo.toml"]);
    let c = bash_complete(&["runner-preflight", "profile", "show", "dot"]);
    assert_eq!(c, ["dotcom"]);
    let c = bash_complete(&["runner-preflight", "check", "--capability", "ess"]);
    assert_eq!(c, ["essential"]);
    let c = bash_complete(&["runner-preflight", "firewall", "--capability", "art"]);
    assert_eq!(c, ["artifacts"]);
    let c = bash_complete(&["runner-preflight", "serve", "--require", "l"]);
    assert_eq!(c, ["lfs"]);
    let c = bash_complete(&["runner-preflight", "check", "--require", "cont"]);
    assert_eq!(c, ["container-jobs"]);
}

/// Issue 23 row 15: a mistyped capability or profile gets a "did you mean"; a name nothing is
/// close to gets the list alone.
#[test]
fn a_mistyped_capability_or_profile_gets_a_did_you_mean() {
    let run = |args: &[&str]| {
        let out = hermetic(BIN).args(args).output().expect("spawn");
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    // The profile's capabilities, then the built-in container-jobs check.
    let caps = "essential, actions-download, artifacts, runner-updates, oidc, packages, lfs, dependabot, attestations, container-jobs";
    assert_eq!(
        run(&["check", "--profile", "dotcom", "--capability", "essentail"]),
        (
            Some(2),
            String::new(),
            format!("error: --capability: unknown capability `essentail` in profile `dotcom`; did you mean `essential`? valid capabilities are: {caps}\n")
        )
    );
    assert_eq!(
        run(&["firewall", "--offline", "--require", "artifact"]),
        (
            Some(2),
            String::new(),
            format!("error: --require: unknown capability `artifact` in profile `dotcom`; did you mean `artifacts`? valid capabilities are: {caps}\n")
        )
    );
    assert_eq!(
        run(&["check", "--capability", "zzz"]),
        (
            Some(2),
            String::new(),
            format!("error: --capability: unknown capability `zzz` in profile `dotcom`; valid capabilities are: {caps}\n")
        )
    );
    assert_eq!(
        run(&["check", "--profile", "dotcon"]),
        (
            Some(2),
            String::new(),
            "error: unknown profile `dotcon`: did you mean `dotcom`? built-in profiles are dotcom, ghes, ghecom; or give the path of a YAML file\n".to_string()
        )
    );
    assert_eq!(
        run(&["profile", "source", "gehs"]),
        (
            Some(2),
            String::new(),
            "error: no built-in profile `gehs`; did you mean `ghes`? built-in profiles are dotcom, ghes, ghecom\n".to_string()
        )
    );
}

/// Issue 23 row 15: `profile show --profile dotcom` (as `check` spells it) shows the profile,
/// instead of clap's "to pass '--profile' as a value, use '-- --profile'"; so does `validate`.
#[test]
fn profile_show_and_validate_take_profile_as_check_does() {
    let show = |args: &[&str]| {
        let out = hermetic(BIN).args(args).output().expect("spawn");
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let positional = show(&[
        "profile",
        "show",
        "ghes",
        "--var",
        "hostname=ghes.example.com",
    ]);
    assert_eq!(positional.0, Some(0), "{}", positional.2);
    assert!(
        positional.1.starts_with("profile ghes — "),
        "{}",
        positional.1
    );
    assert_eq!(
        show(&[
            "profile",
            "show",
            "--profile",
            "ghes",
            "--var",
            "hostname=ghes.example.com"
        ]),
        positional
    );
    assert_eq!(
        show(&[
            "profile",
            "show",
            "-p",
            "ghes",
            "--var",
            "hostname=ghes.example.com"
        ]),
        positional
    );
    assert_eq!(
        show(&["profile", "validate", "--profile", "dotcom"]),
        show(&["profile", "validate", "dotcom"])
    );
    let both = show(&["profile", "show", "dotcom", "--profile", "ghes"]);
    assert_eq!(both.0, Some(2), "{}", both.2);
    assert!(
        both.2.contains("cannot be used with"),
        "a profile given twice is refused: {}",
        both.2
    );
}

/// The table with its ANSI colour sequences removed.
fn without_colours(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte (@ to ~).
            for d in chars.by_ref() {
                if ('@'..='~').contains(&d) && d != '[' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Issue 23 row 15: `--color auto|always|never`, `NO_COLOR` and `CLICOLOR_FORCE`. The world: one
/// name whose port is closed (a fast FAIL). Colours change nothing but the escape sequences.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn color_follows_the_flag_then_no_color_then_clicolor_force() {
    let dns = DnsWorld::at_loopback(&["closed.test"]).start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("closed.yaml");
    std::fs::write(
        &profile,
        "schema_version: 1\nname: closed\ntitle: Closed\ncapabilities:\n  - id: core\n    title: Core\n    gating: true\n    entries:\n      - host: closed.test\n        ports: [443]\n",
    )
    .expect("write profile");
    let port = closed_port();
    let run = |color: Option<&str>, envs: Vec<(&'static str, Option<&'static str>)>| {
        let mut cmd = hermetic(BIN);
        if let Some(c) = color {
            cmd.args(["--color", c]);
        }
        cmd.args([
            "check",
            "-q",
            "--no-throughput",
            "--timeout",
            "2s",
            "--profile",
        ])
        .arg(&profile)
        .args(["--dns-server", &dns.addr_string()])
        .args(connect_to("closed.test", 443, port));
        for (k, v) in envs {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let out = cmd.output().expect("spawn");
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    // The verdict line, and the table's shape (its timings differ from run to run).
    let shape = |t: &str| {
        let verdict = t
            .lines()
            .find(|l| l.starts_with("Verdict:"))
            .unwrap_or_default()
            .to_string();
        (t.lines().count(), verdict)
    };
    // hermetic() sets NO_COLOR=1: no colours, even with CLICOLOR_FORCE.
    let plain = run(None, vec![]);
    assert!(plain.contains("Verdict: FAIL"), "{plain}");
    for uncoloured in [
        plain.clone(),
        run(None, vec![("CLICOLOR_FORCE", Some("1"))]),
        run(
            Some("never"),
            vec![("NO_COLOR", None), ("CLICOLOR_FORCE", Some("1"))],
        ),
        // Not a terminal, no NO_COLOR: no colours unless forced.
        run(Some("auto"), vec![("NO_COLOR", None)]),
    ] {
        assert!(!uncoloured.contains('\u{1b}'), "{uncoloured}");
        assert_eq!(shape(&uncoloured), shape(&plain), "{uncoloured}");
    }
    for forced in [
        run(
            None,
            vec![("NO_COLOR", None), ("CLICOLOR_FORCE", Some("1"))],
        ),
        run(Some("always"), vec![]),
    ] {
        assert!(forced.contains("\u{1b}["), "{forced}");
        assert_eq!(shape(&without_colours(&forced)), shape(&plain), "{forced}");
    }
}
