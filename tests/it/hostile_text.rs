//! Hostile text, third pass (issue 22): words from outside — certificate names, saved reports,
//! profile texts, environment variables, file names, library errors — reach no terminal or CI
//! log raw, start no workflow command, and are clipped when huge. Loopback only.
//!
//! | row | case | test |
//! |---|---|---|
//! | 1 | a CA whose CN holds `\n::error …` or ESC/OSC, under `GITHUB_ACTIONS=true` | `hostile_text::row1_certificate_names_start_no_workflow_command_in_any_format` |
//! | 2 | a saved report with ESC/CR/LF/`::error` in every string field (`explain`, `fleet`) | `hostile_text::row2_saved_reports_are_escaped_on_the_way_in` |
//! | 8 | ESC/OSC in a profile's title and notes, `NO_PROXY`, a `.runner` URL, a fleet file name, `--capability` | `hostile_text::row8_*` |
//! | 12 | malformed HTTP, DNS, TLS and numbers | `hostile_text::row12_*` |
//! | 13 | a 100 KB `--var`, a 100 KB allow-list line, a 14 KB issuer | `hostile_text::row13_*` |
//! | 14 | a certificate message over 64 KB | `hostile_text::row14_an_oversized_certificate_message_is_named` |

use crate::world::*;

/// Runs the CLI on a blocking thread with `envs` set.
async fn ran(args: Vec<String>, envs: Vec<(&str, String)>) -> Ran {
    run_text(args, envs).await
}

/// No raw control character (but the line feed) and no line that could start a workflow command
/// except the annotations we write ourselves (`::error title=runner-preflight …`).
#[track_caller]
fn assert_clean(what: &str, text: &str) {
    if let Some(c) = text.chars().find(|c| c.is_control() && *c != '\n') {
        panic!("{what}: raw control character {c:?} in:\n{text:?}");
    }
    for line in text.lines() {
        let l = line.trim_start();
        if l.starts_with("::") {
            assert!(
                l.starts_with("::error title=runner-preflight ")
                    || l.starts_with("::warning title=runner-preflight "),
                "{what}: a line starts a workflow command we did not write:\n{line}\n---\n{text}"
            );
        }
        assert!(
            !line.contains("##["),
            "{what}: a line holds a legacy `##[` command:\n{line}"
        );
    }
}

/// Wording of libraries that must never reach the user.
#[track_caller]
fn assert_our_words(what: &str, text: &str) {
    for leak in [
        "invalid HTTP header parsed",
        "label points to data",
        "peer misbehaved",
        "TooManyWarningAlertsReceived",
        "invalid digit found in string",
        "EOF while parsing",
        "invalid uri character",
        "Error(",
        "Error {",
        "panicked",
    ] {
        assert!(!text.contains(leak), "{what}: `{leak}` leaked:\n{text}");
    }
}

fn args(v: &[&str]) -> Vec<String> {
    strings(v)
}

// --- Row 1: certificate names -----------------------------------------------------------------------

/// A one-name profile for `a.example.test` over HTTPS, with the flags that send it to `port`.
fn loop_args(fx: &Fixture, port: u16) -> Vec<String> {
    let profile = fx.profile(&Profile::new("loop", "Loop").capability(
        "core",
        "Core",
        true,
        "      - host: a.example.test\n",
    ));
    let mut a = args(&[
        "check",
        "--profile",
        &profile,
        "--resolve",
        "a.example.test:*:127.0.0.1",
        "--dns-server",
        "127.0.0.1:1",
        "--no-throughput",
        "--timeout",
        "3s",
    ]);
    a.extend(connect_to("a.example.test", 443, port));
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row1_certificate_names_start_no_workflow_command_in_any_format() {
    for cn in [
        "X\n::error title=FORGED::injected\n",
        "Y\u{1b}]0;owned\u{7}\u{1b}[2J\r##[set-output name=a]b",
    ] {
        let fx = Fixture::new(cn);
        let srv = TestServer::start(Mode::Https {
            cert: fx.pki.leaf(&["a.example.test"]),
            routes: github_routes(),
        })
        .await;
        let summary = fx.path("summary.md");
        let gha = || {
            vec![
                ("GITHUB_ACTIONS", "true".to_string()),
                ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
            ]
        };
        // Not trusted (the issuer is named as the unknown CA) and trusted (the leaf's issuer is
        // shown in the report).
        for trusted in [false, true] {
            let mut base = loop_args(&fx, srv.port());
            let ca = if trusted {
                fx.ca.clone()
            } else {
                fx.file("other.pem", &Pki::new("Another CA").ca_pem)
            };
            base.extend(args(&["--ca-file", ca.to_str().unwrap()]));
            for format in ["table", "markdown", "html", "json", "junit"] {
                let mut a = base.clone();
                a.extend(args(&["--format", format, "--verbose"]));
                let r = ran(a, gha()).await;
                let what = format!("{cn:?} trusted={trusted} {format}");
                assert!(
                    r.code == 0 || r.code == 1,
                    "{what}: exit {}\n{}",
                    r.code,
                    r.stderr
                );
                assert_clean(&format!("{what} stdout"), &r.stdout);
                assert_clean(&format!("{what} stderr"), &r.stderr);
                if !trusted {
                    assert!(
                        r.stdout.contains("\\u{"),
                        "{what}: the issuer is shown with visible escapes:\n{}",
                        r.stdout
                    );
                }
            }
            // The saved report read again: `explain` in each of its formats.
            let saved = fx.path("r.json");
            let mut a = base.clone();
            a.extend(args(&["--output-json", saved.to_str().unwrap(), "--quiet"]));
            let r = ran(a, vec![]).await;
            assert!(r.code <= 1, "{}", r.stderr);
            let json = std::fs::read_to_string(&saved).unwrap();
            assert!(
                !json.contains("\\n::error"),
                "JSON keeps the CN raw: {json}"
            );
            assert!(!json.contains("\\u001b"), "JSON keeps the CN raw: {json}");
            for format in ["table", "markdown", "json"] {
                let r = ran(
                    args(&["explain", saved.to_str().unwrap(), "--format", format]),
                    gha(),
                )
                .await;
                assert!(r.code <= 1, "explain {format}: {}", r.stderr);
                assert_clean(&format!("explain {cn:?} {format}"), &r.stdout);
                assert_clean(&format!("explain {cn:?} {format}"), &r.stderr);
            }
        }
        let summary = std::fs::read_to_string(&summary).unwrap();
        assert_clean("step summary", &summary);
    }
}
