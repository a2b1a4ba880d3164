//! Hostile text, third pass (issue 22): words from outside — certificate names, saved reports,
//! profile texts, environment variables, file names, library errors — reach no terminal or CI
//! log raw, start no workflow command, and are clipped when huge. Loopback only.
//!
//! | row | case | test |
//! |---|---|---|
//! | 1 | a CA whose CN holds `\n::error …` or ESC/OSC, under `GITHUB_ACTIONS=true` | `hostile_text::row1_certificate_names_start_no_workflow_command_in_any_format`; unit: `model::text::tests::outside_text_starts_no_workflow_command`, `…::every_line_is_defused_and_line_ends_are_kept` |
//! | 2 | a saved report with ESC/CR/LF/`::error` in every string field (`explain`, `fleet`) | `hostile_text::row2_saved_reports_are_escaped_on_the_way_in`; `fuzz::saved_reports_with_control_characters_are_escaped_on_the_way_in` |
//! | 8 | ESC/OSC in a profile's title and notes (`profile show`, `audit`), `NO_PROXY`, a `.runner` URL | `hostile_text::row8_profile_texts_no_proxy_and_runner_urls_are_escaped`; `fuzz::profiles_with_control_characters_keep_their_texts_safe` |
//! | 8 | a fleet file name, `--capability $'\e[2J'` | `hostile_text::row8_a_fleet_file_name_and_a_capability_flag_are_escaped` |
//! | 12 | malformed HTTP, DNS, TLS (warning alerts), numbers, a `/meta` document cut short | `hostile_text::row12_malformed_http_dns_tls_and_numbers_are_said_in_our_words` |
//! | 13 | a 100 KB `--var`, a 100 KB allow-list line, a 14 KB issuer | `hostile_text::row13_huge_values_are_clipped_in_messages`; `fuzz::clipped_values_are_short_and_safe` |
//! | 14 | a certificate message over 64 KB | `hostile_text::row14_an_oversized_certificate_message_is_named` |

use std::path::Path;

use crate::world::*;

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
                    || l.starts_with("::warning title=runner-preflight ")
                    || l.starts_with("::notice title=runner-preflight%3A "),
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
                let r = run_text(a, gha()).await;
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
            let r = run_text(a, vec![]).await;
            assert!(r.code <= 1, "{}", r.stderr);
            let json = std::fs::read_to_string(&saved).unwrap();
            assert!(
                !json.contains("\\n::error"),
                "JSON keeps the CN raw: {json}"
            );
            assert!(!json.contains("\\u001b"), "JSON keeps the CN raw: {json}");
            for format in ["table", "markdown", "json"] {
                let r = run_text(
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

// --- Row 2: saved reports are outside text ----------------------------------------------------------

/// Every kind of hostile text a saved report's string can hold.
const HOSTILE: &str = "E\u{1b}]0;owned\u{7}\u{1b}[2J\r\n::error title=SAVED::forged\n##[add-mask]x";

/// A saved report (a real one, from a run whose name fails at a closed port) with `HOSTILE` put
/// in every string a renderer shows: host name, labels, profile, capability, target, causes,
/// `generated_at`, the diagnosis.
async fn hostile_report(dir: &Path, host_tag: &str) -> std::path::PathBuf {
    let fx = Fixture::new("Row2 CA");
    let mut a = loop_args(&fx, closed_port());
    let clean = dir.join(format!("clean-{host_tag}.json"));
    a.extend(args(&["--output-json", clean.to_str().unwrap(), "--quiet"]));
    let r = run_text(a, vec![]).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&clean).unwrap()).unwrap();
    std::fs::remove_file(&clean).unwrap();
    let h = |s: &str| format!("{s}{HOSTILE}");
    v["hostname"] = h(host_tag).into();
    v["generated_at"] = h("2026").into();
    v["labels"] = serde_json::json!({ h("zone"): h("b") });
    v["profile"]["name"] = h("p").into();
    v["profile"]["title"] = h("P").into();
    let cap = &mut v["capabilities"][0];
    cap["id"] = h("core").into();
    cap["title"] = h("Core").into();
    cap["cause"] = h("cap cause").into();
    let t = &mut cap["entries"][0]["targets"][0];
    t["host"] = h("a.example.test").into();
    t["cause"] = h("target cause").into();
    // The diagnosis names its hosts and capabilities too.
    let d = &mut v["diagnosis"][0];
    for key in ["blocks", "hosts", "names"] {
        if let Some(list) = d.get_mut(key).and_then(|x| x.as_array_mut()) {
            for x in list.iter_mut() {
                *x = h(x.as_str().unwrap_or("x")).into();
            }
        }
    }
    let path = dir.join(format!("{host_tag}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row2_saved_reports_are_escaped_on_the_way_in() {
    let dir = tempfile::tempdir().unwrap();
    let one = hostile_report(dir.path(), "host-a").await;
    hostile_report(dir.path(), "host-b").await;
    for format in ["table", "markdown", "json"] {
        let r = run_text(
            args(&["explain", one.to_str().unwrap(), "--format", format]),
            vec![("GITHUB_ACTIONS", "true".into())],
        )
        .await;
        assert_eq!(r.code, 0, "explain {format}: {}", r.stderr);
        assert_clean(&format!("explain {format} stdout"), &r.stdout);
        assert_clean(&format!("explain {format} stderr"), &r.stderr);
        if format != "json" {
            assert!(
                r.stdout.contains("\\u{1b}"),
                "explain {format}:\n{}",
                r.stdout
            );
        }
    }
    for format in ["table", "markdown", "json", "html"] {
        let r = run_text(
            args(&["fleet", dir.path().to_str().unwrap(), "--format", format]),
            vec![("GITHUB_ACTIONS", "true".into())],
        )
        .await;
        assert!(r.code <= 1, "fleet {format}: {}", r.stderr);
        assert_clean(&format!("fleet {format} stdout"), &r.stdout);
        assert_clean(&format!("fleet {format} stderr"), &r.stderr);
        assert!(
            r.stdout.contains("u{1b}") || r.stdout.contains("u{3a}"),
            "fleet {format}: the hostile text is shown escaped:\n{}",
            r.stdout
        );
    }
}

// --- Row 8: profile texts, environment, file names, flags ------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row8_a_fleet_file_name_and_a_capability_flag_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    hostile_report(dir.path(), "host-a").await;
    // A file name with an erase-screen sequence that is not a report: skipped, named escaped.
    std::fs::write(dir.path().join("bad\u{1b}[2J\n::error::x.json"), "{").unwrap();
    let r = run_text(args(&["fleet", dir.path().to_str().unwrap()]), vec![]).await;
    assert!(r.code <= 1, "{}", r.stderr);
    assert_clean("fleet stderr", &r.stderr);
    assert!(r.stderr.contains("bad\\u{1b}[2J"), "{}", r.stderr);
    // `--capability` naming no capability, with an escape sequence in it.
    let fx = Fixture::new("Row8 CA");
    let mut a = loop_args(&fx, closed_port());
    a.extend(args(&["--capability", "\u{1b}[2J\u{1b}]0;t\u{7}"]));
    let r = run_text(a, vec![]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_clean("--capability stderr", &r.stderr);
    assert!(r.stderr.contains("\\u{1b}[2J"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row8_profile_texts_no_proxy_and_runner_urls_are_escaped() {
    let fx = Fixture::new("Row8 CA");
    // ESC/OSC/BEL in the profile's title, a capability's title and description, a note.
    let profile = fx.profile_file(
        "p.yaml",
        "schema_version: 1\nname: t\ntitle: \"T\\e]0;owned\\a\\e[2J\"\ncapabilities:\n  - id: core\n    title: \"C\\e[31m\"\n    description: \"D\\r::error::x\"\n    gating: true\n    entries: [{host: a.example.test, note: \"n\\e[2J\\n::warning::forged\"}]\n",
    );
    let allow = fx.file("allow.txt", "a.example.test\n");
    for (what, a) in [
        ("profile show", args(&["profile", "show", &profile])),
        (
            "audit",
            args(&[
                "audit",
                "--profile",
                &profile,
                "--allowlist",
                allow.to_str().unwrap(),
                "--offline",
            ]),
        ),
        (
            "audit json",
            args(&[
                "audit",
                "--profile",
                &profile,
                "--allowlist",
                allow.to_str().unwrap(),
                "--offline",
                "--format",
                "json",
            ]),
        ),
    ] {
        let r = run_text(a, vec![("GITHUB_ACTIONS", "true".into())]).await;
        assert!(r.code <= 1, "{what}: {}", r.stderr);
        assert_clean(&format!("{what} stdout"), &r.stdout);
        assert_clean(&format!("{what} stderr"), &r.stderr);
        if what == "profile show" {
            assert!(r.stdout.contains("T\\u{1b}]0;owned\\u{7}"), "{}", r.stdout);
            assert!(
                r.stdout
                    .contains("note: n\\u{1b}[2J\\u{a}::warning::forged"),
                "{}",
                r.stdout
            );
        }
    }
    // NO_PROXY with an escape sequence in an entry, and a `.runner` URL holding one.
    std::fs::write(
        fx.path(".runner"),
        "{\"ServerUrl\": \"https://pipelines.example.test/\\u001b]0;owned\\u0007x\", \"GitHubUrl\": \"https://github.example.test/\\u001b[2J\"}",
    )
    .unwrap();
    for format in ["table", "json", "markdown"] {
        let mut a = loop_args(&fx, closed_port());
        a.extend(args(&[
            "--runner-dir",
            fx.dir.path().to_str().unwrap(),
            "--format",
            format,
        ]));
        let r = run_text(
            a,
            vec![
                (
                    "NO_PROXY",
                    "*.corp\u{1b}[2J.example,a\u{1b}]0;x\u{7}".into(),
                ),
                ("https_proxy", format!("http://127.0.0.1:{}", closed_port())),
            ],
        )
        .await;
        assert!(r.code <= 1, "{format}: {}", r.stderr);
        assert_clean(&format!("env {format} stdout"), &r.stdout);
        assert_clean(&format!("env {format} stderr"), &r.stderr);
        let all = format!("{}{}", r.stdout, r.stderr);
        assert_our_words(format, &all);
        if format == "markdown" {
            // The summary shows neither the proxy settings nor the runner's files.
            continue;
        }
        assert!(
            all.contains("corp\\u{1b}[2J") || all.contains("corp\\\\u{1b}[2J"),
            "{format}: the no_proxy entry is shown escaped:\n{all}"
        );
        assert!(
            all.contains("pipelines.example.test/\\u{1b}]0;owned")
                || all.contains("pipelines.example.test/\\\\u{1b}]0;owned"),
            "{format}: the .runner URL is shown escaped:\n{all}"
        );
    }
}

// --- Row 13: hostile values are clipped in messages ---------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row13_huge_values_are_clipped_in_messages() {
    let fx = Fixture::new("Row13 CA");
    let huge = "a".repeat(100_000);
    // A 100 KB `--var` value that makes the host name invalid, and a 100 KB variable name.
    for var in [format!("hostname={huge}"), format!("x{huge}=1")] {
        let r = run_text(args(&["profile", "show", "ghes", "--var", &var]), vec![]).await;
        assert_eq!(r.code, 2, "{}", &r.stderr[..r.stderr.len().min(500)]);
        assert!(
            r.stderr.len() < 2_000,
            "the message is {} bytes:\n{}",
            r.stderr.len(),
            &r.stderr[..500]
        );
        assert!(r.stderr.contains("bytes)"), "{}", r.stderr);
    }
    // A 100 KB allow-list line (two entries on it, and one over-long label).
    for line in [format!("{huge} x\n"), format!("*.b{huge}.example.com\n")] {
        let allow = fx.file("allow.txt", &line);
        let r = run_text(
            args(&["audit", "--allowlist", allow.to_str().unwrap(), "--offline"]),
            vec![],
        )
        .await;
        assert_eq!(r.code, 2, "{}", &r.stderr[..r.stderr.len().min(500)]);
        assert!(
            r.stderr.len() < 2_000,
            "the message is {} bytes:\n{}",
            r.stderr.len(),
            &r.stderr[..500]
        );
        assert!(r.stderr.contains("allow.txt:1:"), "{}", r.stderr);
    }
    // A 14 KB issuer name, presented by an untrusted server: the table stays readable.
    let big = Fixture::new(&format!("Big {}", "I".repeat(14_000)));
    let srv = TestServer::start(Mode::Https {
        cert: big.pki.leaf(&["a.example.test"]),
        routes: github_routes(),
    })
    .await;
    for format in ["table", "json"] {
        let mut a = loop_args(&fx, srv.port());
        a.extend(args(&[
            "--ca-file",
            fx.ca.to_str().unwrap(),
            "--format",
            format,
            "--verbose",
        ]));
        let r = run_text(a, vec![]).await;
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(
            r.stdout.len() < 30_000,
            "{format}: {} bytes of output",
            r.stdout.len()
        );
        assert!(r.stdout.contains("bytes)"), "{format}:\n{}", r.stdout);
        assert!(!r.stdout.contains(&"I".repeat(201)), "{format}");
    }
}

// --- Row 12: the words of libraries never reach users ----------------------------------------------

/// A TCP server on loopback that reads what comes, then writes `answer` and holds the
/// connection until the test ends.
async fn raw_server(answer: Vec<u8>) -> (u16, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(&answer).await;
            held.push(s);
        }
    });
    (port, task)
}

/// A DNS server on loopback (UDP) whose every answer names its record with a compression
/// pointer past the end of the message.
async fn broken_dns() -> (String, tokio::task::JoinHandle<()>) {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = sock.recv_from(&mut buf).await {
            if n < 12 {
                continue;
            }
            let mut m = buf[..n].to_vec();
            m[2] = 0x81; // QR, RD
            m[3] = 0x80; // RA, NOERROR
            m[6] = 0;
            m[7] = 1; // one answer
                      // Answer: a name that points forward, past the message.
            m.extend_from_slice(&[0xC0, 0xF0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
            let _ = sock.send_to(&m, from).await;
        }
    });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row12_malformed_http_dns_tls_and_numbers_are_said_in_our_words() {
    let fx = Fixture::new("Row12 CA");
    let ca = fx.ca.to_str().unwrap().to_string();
    // Malformed HTTP: a header line without a colon.
    let (http_port, _http) =
        raw_server(b"HTTP/1.1 200 OK\r\nBad Header Line\r\nContent-Length: 0\r\n\r\n".to_vec())
            .await;
    // TLS: a stream of warning alerts instead of a ServerHello.
    let alerts: Vec<u8> = (0..40)
        .flat_map(|_| [0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x5a])
        .collect();
    let (tls_port, _tls) = raw_server(alerts).await;
    let (dns, _dns) = broken_dns().await;
    let profile = fx.profile(&Profile::new("loop", "Loop").capability(
        "core",
        "Core",
        true,
        "      - host: a.example.test\n        ports: [80]\n        http: { path: /zen }\n      - host: b.example.test\n      - host: c.example.test\n",
    ));
    for format in ["table", "json"] {
        let mut a = args(&[
            "check",
            "--profile",
            &profile,
            "--resolve",
            "a.example.test:*:127.0.0.1",
            "--resolve",
            "b.example.test:*:127.0.0.1",
            "--dns-server",
            &dns,
            "--ca-file",
            &ca,
            "--no-throughput",
            "--timeout",
            "3s",
            "--format",
            format,
            "--verbose",
        ]);
        a.extend(connect_to("a.example.test", 80, http_port));
        a.extend(connect_to("b.example.test", 443, tls_port));
        let r = run_text(a, vec![]).await;
        assert_eq!(r.code, 1, "{}", r.stderr);
        let all = format!("{}{}", r.stdout, r.stderr);
        assert!(all.contains("is not valid HTTP"), "{format}:\n{all}");
        assert!(
            all.contains("broke the TLS protocol during the handshake"),
            "{format}:\n{all}"
        );
        assert!(
            all.contains("sent an answer that cannot be parsed (damaged, or not a DNS answer)"),
            "{format}:\n{all}"
        );
        if format == "json" {
            // The typed failures and their facts are in the JSON report; the library's text
            // only as a debugging detail, never in a sentence.
            let json = r.json();
            for host in ["a.example.test", "b.example.test", "c.example.test"] {
                assert_our_words(host, target(&json, host)["cause"].as_str().unwrap_or(""));
            }
        } else {
            assert_our_words(format, &all);
        }
    }
    // Numbers, and a /meta document cut short.
    let r = run_text(args(&["check", "--min-kbps", "x"]), vec![]).await;
    assert_eq!(r.code, 2);
    assert_our_words("--min-kbps", &r.stderr);
    assert!(
        r.stderr.contains("`x` is not a whole number"),
        "{}",
        r.stderr
    );
    let meta = fx.file("meta.json", "{\"domains\": ");
    let r = run_text(
        args(&["meta", "diff", "--meta", meta.to_str().unwrap()]),
        vec![],
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_our_words("meta", &r.stderr);
    assert!(r.stderr.contains("it ends too early"), "{}", r.stderr);
}

// --- Row 14: a certificate message over 64 KB -----------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row14_an_oversized_certificate_message_is_named() {
    let fx = Fixture::new("Row14 CA");
    let mut cert = fx.pki.leaf(&["a.example.test"]);
    // The leaf, then the CA's certificate again and again: about 120 KB.
    let ca = fx.pki.ca_der.clone();
    cert.chain
        .extend(std::iter::repeat_n(ca.clone(), 120_000 / ca.len() + 1));
    let srv = TestServer::start(Mode::Https {
        cert,
        routes: github_routes(),
    })
    .await;
    let mut a = loop_args(&fx, srv.port());
    a.extend(args(&[
        "--ca-file",
        fx.ca.to_str().unwrap(),
        "--format",
        "json",
    ]));
    let r = run_text(a, vec![]).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    let cause = crate::world::cause(&r.json(), "a.example.test");
    assert!(
        cause.contains("the server's certificate message is larger than TLS allows (64 KB)"),
        "{cause}"
    );
    assert!(!cause.contains("did not speak TLS"), "{cause}");
}
