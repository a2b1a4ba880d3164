//! Hostile input, third pass (issue 22): secrets in URLs, a profile that explodes into
//! millions of names, and an upload sink that answers before it reads. Loopback only. The
//! property tests of the masking rule are in `fuzz.rs`.
//!
//! | row | case | test |
//! |---|---|---|
//! | 4 | 300 entries × `h{0..999}`: 300,000 names | `hostile_secrets::row4_a_profile_that_explodes_is_refused_before_any_work`; unit: `profile::tests::the_names_cap_names_the_entry_that_crosses_it`, `profile::tests::ranges_are_counted_without_expanding_them`, `cli::output::report_size_tests::a_json_report_over_the_read_cap_is_refused_before_writing` |
//! | 5a | a token as a proxy's user part (`ghp_…:x-oauth-basic@`, `user%3ASECRET:x@`) | `hostile_secrets::row5a_a_token_in_a_proxy_user_part_is_masked_whole_in_every_format`, `serve::serve_masks_a_token_proxy_in_report_json`; unit: `model::secret::tests::the_proxy_masking_table` |
//! | 5b | credentials in the runner's `.runner` / `.credentials` URLs | `hostile_secrets::row5b_runner_file_urls_are_masked_in_warnings` |
//! | 5c | a redirect `Location` with user information and a signed query | `hostile_secrets::row5c_a_redirect_location_with_credentials_is_masked` |
//! | 5d | `--meta-url`, `--throughput-url`, `--upload-url`, profile URLs with credentials or tokens | `hostile_secrets::row5d_user_given_urls_are_masked_in_headers_and_errors` |
//! | 6 | 100 silent connections from one client | `serve::a_client_holding_silent_connections_does_not_starve_scrapes`, `serve::silent_connections_are_dropped_within_about_a_second_and_capped_per_peer` |
//! | 7 | an upload sink that answers 200 after the head and never reads the body | `hostile_secrets::row7_a_sink_that_answers_before_reading_gives_no_rate` |
//! | also | masking over arbitrary user, password and query strings | `fuzz::masked_urls_never_show_the_password_or_the_query`, `fuzz::token_like_user_parts_are_never_shown` |

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::world::*;

const CA: &str = "Hostile Secrets Test CA";

/// `text` must not contain any of `secrets`.
fn assert_hidden(text: &str, secrets: &[&str], what: &str) {
    for s in secrets {
        assert!(!text.contains(s), "`{s}` leaks in {what}:\n{text}");
    }
}

/// A one-name profile (`a.example.test`) in `dir`.
fn loop_profile(dir: &std::path::Path) -> String {
    let p = dir.join("loop.yaml");
    std::fs::write(
        &p,
        "schema_version: 1\nname: loop\ntitle: Loop\ncapabilities:\n  - id: a\n    title: A\n    gating: true\n    entries: [{host: a.example.test}]\n",
    )
    .expect("profile");
    p.display().to_string()
}

/// The LOOP flags of the issue: `a.example.test` on loopback port `port`, no DNS, no throughput.
fn loop_args(profile: &str, port: u16) -> Vec<String> {
    strings(&[
        "check",
        "--profile",
        profile,
        "--connect-to",
        &format!("a.example.test:443:127.0.0.1:{port}"),
        "--resolve",
        "a.example.test:*:127.0.0.1",
        "--dns-server",
        "127.0.0.1:1",
        "--no-throughput",
        "--timeout",
        "2s",
    ])
}

// --- Row 4: a profile that explodes ------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row4_a_profile_that_explodes_is_refused_before_any_work() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut yaml = String::from(
        "schema_version: 1\nname: big\ntitle: Big\ncapabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n",
    );
    for i in 0..300 {
        yaml.push_str(&format!(
            "      - pattern: '*.e{i}.example.test'\n        probe: ['h{{0..999}}.e{i}.example.test']\n"
        ));
    }
    let path = dir.path().join("big.yaml");
    std::fs::write(&path, &yaml).expect("profile");
    let p = path.display().to_string();
    let out = dir.path().join("r.json");
    let o = out.display().to_string();
    for args in [
        strings(&["profile", "validate", &p]),
        strings(&["profile", "show", &p]),
        strings(&["check", "-p", &p, "--no-throughput", "--output-json", &o]),
        strings(&["firewall", "-p", &p, "--offline"]),
    ] {
        let r = run_text(args.clone(), vec![]).await;
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(r.stdout, "", "{args:?}");
        // The 11th entry crosses 10,000: its `probe:` list is at line 30, column 16.
        assert!(
            r.stderr.starts_with(&format!(
                "error: {p}:30:16: the profile names more than 10,000 hosts once `{{A..B}}` ranges are expanded (11,000 with this entry); raise the limit with --max-names"
            )),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert!(!out.exists(), "no report is written");
    // Raised, the cap moves; past the most it can be raised to, the flag itself is refused.
    let raised = run_text(
        strings(&["profile", "validate", &p, "--max-names", "50000"]),
        vec![],
    )
    .await;
    assert_eq!(raised.code, 2, "{}", raised.stderr);
    assert!(
        raised.stderr.contains(":110:16: ") && raised.stderr.contains("51,000 with this entry"),
        "{}",
        raised.stderr
    );
    let over = run_text(
        strings(&["profile", "validate", &p, "--max-names", "50001"]),
        vec![],
    )
    .await;
    assert_eq!(over.code, 2, "{}", over.stderr);
    assert!(
        over.stderr
            .contains("is not a number of names from 1 to 50000"),
        "{}",
        over.stderr
    );
    // 30 entries fit when the cap is raised to 30,000.
    let small: String = yaml
        .lines()
        .take(8 + 60)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.path().join("small.yaml"), small).expect("profile");
    let s = dir.path().join("small.yaml").display().to_string();
    let fits = run_text(
        strings(&["profile", "validate", &s, "--max-names", "30000"]),
        vec![],
    )
    .await;
    assert_eq!(fits.code, 0, "{}", fits.stderr);
    let default = run_text(strings(&["profile", "validate", &s]), vec![]).await;
    assert_eq!(default.code, 2, "{}", default.stderr);
}

// --- Row 5a: a token as a proxy's user part ----------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row5a_a_token_in_a_proxy_user_part_is_masked_whole_in_every_format() {
    let dir = tempfile::tempdir().expect("tmp");
    let profile = loop_profile(dir.path());
    let port = closed_port();
    let proxy_port = closed_port();
    for proxy in [
        format!("http://ghp_SECRETtok:x-oauth-basic@127.0.0.1:{proxy_port}"),
        format!("http://user%3ASECRET:x@127.0.0.1:{proxy_port}"),
        format!("http://SECRETuser:x-access-token@127.0.0.1:{proxy_port}"),
    ] {
        for format in ["table", "json", "junit", "markdown", "html", "prometheus"] {
            let mut args = loop_args(&profile, port);
            args.extend(strings(&["--proxy", &proxy, "--format", format]));
            let r = run_text(args, vec![("GITHUB_ACTIONS", "true".to_string())]).await;
            let all = format!("{}\n{}", r.stdout, r.stderr);
            assert!(r.code == 0 || r.code == 1, "{format}: {all}");
            assert_hidden(
                &all,
                &["SECRET", "ghp_", "user:"],
                &format!("{format} via {proxy}"),
            );
            if format != "prometheus" {
                assert!(
                    all.contains(&format!("http://***@127.0.0.1:{proxy_port}")),
                    "{format}: the masked proxy is shown:\n{all}"
                );
            }
        }
    }
}

// --- Row 5b: the runner's own files ------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row5b_runner_file_urls_are_masked_in_warnings() {
    let dir = tempfile::tempdir().expect("tmp");
    let profile = loop_profile(dir.path());
    let runner = dir.path().join("runner");
    std::fs::create_dir(&runner).expect("runner dir");
    std::fs::write(
        runner.join(".runner"),
        r#"{"ServerUrl": "https://ghp_SECRETtoken@x.example.test/abc/", "GitHubUrl": "https://u:SECRETpw@github.example.test/acme?token=SECRETq"}"#,
    )
    .expect(".runner");
    std::fs::write(
        runner.join(".credentials"),
        r#"{"Scheme": "OAuth", "Data": {"authorizationUrl": "ftp://SECRETuser:SECRETpw@h.example.test/"}}"#,
    )
    .expect(".credentials");
    for format in ["table", "json", "markdown"] {
        let mut args = loop_args(&profile, closed_port());
        args.extend(strings(&[
            "--runner-dir",
            &runner.display().to_string(),
            "--format",
            format,
        ]));
        let r = run_text(args, vec![]).await;
        let all = format!("{}\n{}", r.stdout, r.stderr);
        assert_hidden(&all, &["SECRET", "ghp_"], format);
        if format == "markdown" {
            // The summary names no warning's URL.
            continue;
        }
        for shown in [
            "https://***@x.example.test/abc/",
            "https://***@github.example.test/acme?…",
            "ftp://***@h.example.test/",
        ] {
            assert!(
                all.contains(shown),
                "{format}: `{shown}` in the warning:\n{all}"
            );
        }
    }
}

// --- Row 5c: a redirect Location ---------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row5c_a_redirect_location_with_credentials_is_masked() {
    let fx = Fixture::new(CA);
    let location =
        "https://user:SECRETpw@assets.example.test/final?X-Amz-Signature=SECRETsig&token=SECRETtok";
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&["gh.example.test"]),
        routes: Routes::new(HttpResponse::status(302).header("Location", location)),
    })
    .await;
    let p = Profile::new("redir", "Redirect").capability(
        "updates",
        "Updates",
        true,
        &format!(
            "      - redirect:\n          url: \"https://gh.example.test:{}/pkg?sig=SECRETfirst\"\n",
            srv.port()
        ),
    );
    let profile = fx.profile(&p);
    for format in ["table", "json", "junit", "markdown", "html"] {
        let mut args = strings(&[
            "check",
            "--profile",
            &profile,
            "--format",
            format,
            "--no-throughput",
            "--timeout",
            "2s",
            "--dns-server",
            "127.0.0.1:1",
            "--resolve",
            "gh.example.test:*:127.0.0.1",
            "--ca-file",
            &fx.ca.display().to_string(),
        ]);
        args.extend(fx.agreeing_trust_stores());
        if format == "table" {
            // The row's own words: a root cause folds it otherwise (issue 23 row 2).
            args.push("--verbose".into());
        }
        let r = run_text(args, vec![]).await;
        let all = format!("{}\n{}", r.stdout, r.stderr);
        assert_eq!(r.code, 1, "{format}: the chain cannot be followed:\n{all}");
        assert_hidden(&all, &["SECRET", "user:", "X-Amz"], format);
        // Table and JSON name the Location (the summaries name the root cause; HTML escapes
        // `/`).
        assert!(
            !["table", "json"].contains(&format)
                || all.contains("https://***@assets.example.test/final?…"),
            "{format}: the masked Location is named:\n{all}"
        );
    }
}

// --- Row 5d: URLs the user gives ---------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row5d_user_given_urls_are_masked_in_headers_and_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let profile = loop_profile(dir.path());
    let closed = closed_port();
    // meta diff: refused with credentials; a token in the query is hidden in the error.
    for (url, code) in [
        (format!("https://user:SECRETpw@127.0.0.1:{closed}/meta"), 2),
        (
            format!("https://127.0.0.1:{closed}/meta?access_token=SECRETtok"),
            2,
        ),
    ] {
        let r = run_text(
            strings(&[
                "meta",
                "diff",
                "-p",
                &profile,
                "--meta-url",
                &url,
                "--timeout",
                "2s",
            ]),
            vec![],
        )
        .await;
        assert_eq!(r.code, code, "{}", r.stderr);
        assert_hidden(
            &format!("{}{}", r.stdout, r.stderr),
            &["SECRET", "user:"],
            &url,
        );
        assert!(
            r.stderr.contains(&format!("127.0.0.1:{closed}/meta")),
            "{}",
            r.stderr
        );
    }
    // Throughput URLs: credentials are refused, masked; a token in a query is hidden in every
    // format's header and cause.
    let mut args = loop_args(&profile, closed);
    args.retain(|a| a != "--no-throughput");
    let mut with_creds = args.clone();
    with_creds.extend(strings(&[
        "--throughput-url",
        "https://ghp_SECRETtok@127.0.0.1:1/x",
    ]));
    let r = run_text(with_creds, vec![]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_hidden(&r.stderr, &["SECRET", "ghp_"], "--throughput-url");
    assert!(
        r.stderr.contains("https://***@127.0.0.1:1/x"),
        "{}",
        r.stderr
    );
    for format in ["table", "json", "markdown", "html"] {
        let mut a = args.clone();
        a.extend(strings(&[
            "--throughput-url",
            &format!("http://127.0.0.1:{closed}/dl?access_token=SECRETdl"),
            "--upload-url",
            &format!("http://127.0.0.1:{closed}/up?X-Amz-Signature=SECRETup"),
            "--format",
            format,
        ]));
        let r = run_text(a, vec![]).await;
        let all = format!("{}\n{}", r.stdout, r.stderr);
        assert_hidden(&all, &["SECRET", "access_token", "X-Amz"], format);
        assert!(
            !["table", "json"].contains(&format)
                || all.contains(&format!("127.0.0.1:{closed}/dl?…")),
            "{format}:\n{all}"
        );
    }
    // A profile's URLs: the error and the line shown under it are masked.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "schema_version: 1\nname: b\ntitle: B\nthroughput:\n  download: \"https://u:SECRETpw@dl.example.test/x?t=SECRETq\"\ncapabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - redirect:\n          url: \"https://ghp_SECRETtok@a.example.test/x?sig=SECRETsig\"\n",
    )
    .expect("profile");
    let b = bad.display().to_string();
    for args in [
        strings(&["profile", "validate", &b]),
        strings(&["profile", "show", &b]),
    ] {
        let r = run_text(args, vec![]).await;
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert_hidden(&r.stderr, &["SECRET", "ghp_"], "profile error");
        assert!(
            r.stderr.contains(
                "`https://***@a.example.test/x?…`: credentials in the URL are not supported"
            ) && r.stderr.contains("url: \"https://***@a.example.test/x?…\""),
            "{}",
            r.stderr
        );
    }
}

// --- Row 7: an upload sink that answers before it reads ----------------------------------------

/// Read one request head (up to the blank line), byte by byte; `None` at EOF.
async fn read_head(s: &mut tokio::net::TcpStream) -> Option<()> {
    let mut tail = [0u8; 4];
    loop {
        let mut b = [0u8; 1];
        if s.read(&mut b).await.ok()? == 0 {
            return None;
        }
        tail = [tail[1], tail[2], tail[3], b[0]];
        if &tail == b"\r\n\r\n" {
            return Some(());
        }
    }
}

/// An upload sink that answers `200` (keep-alive, no `Connection: close`) to each request as
/// soon as it has the head and never reads the body; with `close`, it closes the connection
/// after each answer instead of waiting.
async fn answers_before_reading(close: bool) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                // The head of the empty POST that measures the round trip, and of the first
                // body: both answered at once; the body itself is never read.
                for _ in 0..2 {
                    if read_head(&mut s).await.is_none() {
                        return;
                    }
                    let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
                    if s.write_all(ok).await.is_err() {
                        return;
                    }
                    if close {
                        return;
                    }
                }
                // Hold the connection without reading, until the client gives up.
                let _ = s.readable().await;
                std::future::pending::<()>().await;
            });
        }
    });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row7_a_sink_that_answers_before_reading_gives_no_rate() {
    let dir = tempfile::tempdir().expect("tmp");
    let profile = loop_profile(dir.path());
    let probe = TestServer::start(Mode::Http {
        routes: Routes::new(HttpResponse::status(200)),
    })
    .await;
    for close in [false, true] {
        let (sink, task) = answers_before_reading(close).await;
        let args = strings(&[
            "check",
            "--profile",
            &profile,
            "--connect-to",
            &format!("a.example.test:443:127.0.0.1:{}", probe.port()),
            "--resolve",
            "a.example.test:*:127.0.0.1",
            "--dns-server",
            "127.0.0.1:1",
            "--format",
            "json",
            "--timeout",
            "2s",
            "--throughput-time",
            "2s",
            "--upload-url",
            &format!("http://127.0.0.1:{}/sink", sink.port()),
        ]);
        let o = run_json(args).await;
        task.abort();
        let up = o.json["throughput"]["directions"]
            .as_array()
            .expect("directions")
            .iter()
            .find(|d| d["direction"] == "upload")
            .cloned()
            .unwrap_or_else(|| panic!("no upload: {:#}", o.json));
        assert!(
            up["kbps"].is_null(),
            "close={close}: a rate from an early answer: {up:#}"
        );
        if close {
            // Closed while the body was still being written: the connection error is what the
            // client sees first, and no rate comes of it either.
            assert_ne!(up["verdict"], "pass", "{up:#}");
            continue;
        }
        assert_eq!(up["verdict"], "warn", "{up:#}");
        assert_eq!(up["failure"]["kind"], "upload_unconfirmable", "{up:#}");
        assert_eq!(up["failure"]["reason"], "not_read", "{up:#}");
        let detail = up["detail"].as_str().unwrap_or("");
        assert!(
            detail.starts_with("cannot measure upload against this URL")
                && detail.contains("answers before it reads the body"),
            "{detail}"
        );
    }
}
