//! Hostile input and hostile environments, through the real binary: each case must end in exit 2
//! with a message in our own words (file:line:column and a caret for profiles), never a panic,
//! a library's wording, a debug dump or a leaked secret. Loopback only.
//!
//! The rows of the hostile-input issue and where each is kept (rows that need another module's
//! servers or harness live beside them):
//!
//! | row | case | test |
//! |---|---|---|
//! | 1 | a token in a proxy URL's user part | `hostile::row1_percent_encoded_colon_token_is_masked_whole` |
//! | 2 | `/dev/zero`, `/dev/urandom` as input files | `hostile::row2_*` (profiles, CA files), `audit_meta::endless_allow_lists_and_meta_documents_are_refused_at_the_cap` |
//! | 3 | a full stdout | `pipeline::check_report_to_a_full_stdout_is_an_error`, `cli_edge::commands_that_print_fail_on_a_full_stdout` |
//! | 4 | a write cut short by `ulimit -f` | `pipeline::a_failed_write_leaves_the_previous_report_whole` |
//! | 5 | 100,000 allow-list entries | `audit_meta::audit_with_100k_entries_is_correct`, `audit_meta::many_globs_build_a_matcher_or_name_a_line` |
//! | 6 | shell completions | `cli_edge::bash_completes_every_subcommands_flags_and_values`, `cli_edge::zsh_and_fish_complete_where_the_shells_are_installed` |
//! | 7 | a terminal of 0 columns | `pipeline::a_terminal_of_zero_columns_gets_a_readable_table` |
//! | 8 | control characters in profile texts | `hostile::row8_control_characters_are_escaped_in_every_renderer` |
//! | 9–12 | profile errors without a position, library wording, huge lines, bad HTTP paths | `hostile::row9_*` … `hostile::row12_*`, `hostile::row2_row10_ca_files_are_capped_and_damage_is_worded` |
//! | 13 | hostile `--connect-to` hosts | `hostile::row13_connect_to_hosts_are_checked_before_probing` |
//! | 14 | a BOM, lone CR line ends | `audit_meta::allow_list_with_bom_and_any_line_ends`, `audit_meta::meta_document_with_bom` |
//! | 15 | 200,000 /meta domains | `audit_meta::meta_diff_with_200k_full_domains_is_correct` |
//! | 16 | an output path that is an input | `pipeline::an_output_that_is_an_input_is_refused_before_probing` |
//! | 17 | YAML 1.1 booleans, a repeated `--var` | `hostile::row17_*` |
//! | 18 | SIGINT / SIGTERM | `cli_edge::sigterm_and_sigint_stop_check_at_once_and_say_so` |

use std::path::{Path, PathBuf};

use crate::world::*;

const HEAD: &str = "schema_version: 1\nname: t\ntitle: T\n";
const CAP: &str =
    "capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries: [{host: a.example}]\n";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], envs: &[(&str, &str)]) -> Run {
    let mut cmd = cli();
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().expect("spawn runner-preflight");
    Run {
        code: out.status.code().expect("exit code (not a signal)"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Wording of libraries and of Rust itself that must never reach the user.
fn assert_no_leak(text: &str) {
    for leak in [
        "Options",
        "budget",
        "Nodes {",
        "invalid u16",
        "invalid u32",
        "[67,",
        "Error(",
        "Error {",
        "InvalidCharacter",
        "from_str",
        "panicked",
        "stack backtrace",
        "RUST_BACKTRACE",
        "(used at",
        "(os error",
    ] {
        assert!(!text.contains(leak), "`{leak}` leaked:\n{text}");
    }
}

/// Exit 2, nothing on stdout, and our words on stderr.
fn usage_error(r: &Run) -> &str {
    assert_eq!(r.code, 2, "exit code; stderr:\n{}", r.stderr);
    assert_eq!(r.stdout, "", "stdout");
    assert_no_leak(&r.stderr);
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    &r.stderr
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write profile");
    p
}

/// `profile validate` of `text`: exit 2 and the whole stderr, with the file's path as `P`.
fn validate(text: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(dir.path(), "p.yaml", text);
    let path = p.display().to_string();
    let r = run(&["profile", "validate", &path], &[]);
    usage_error(&r).replace(&path, "P")
}

// --- Row 1: proxy credentials ------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row1_percent_encoded_colon_token_is_masked_whole() {
    // A proxy port that refuses: nothing listens there any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dns = DnsWorld::new().start().await;
    let dir = tempfile::tempdir().unwrap();
    let profile = write(dir.path(), "p.yaml", &format!("{HEAD}{CAP}"));
    let url = format!("http://ghp_SECRET%3Apart2@127.0.0.1:{port}");
    let profile = profile.display().to_string();
    let dns_addr = dns.addr.to_string();
    for format in ["table", "json"] {
        let base = [
            "check",
            "--profile",
            &profile,
            "--format",
            format,
            "--dns-server",
            &dns_addr,
            "--timeout",
            "2s",
        ];
        let mut with_flag: Vec<&str> = base.to_vec();
        with_flag.extend(["--proxy", &url]);
        let runs = [
            tokio::task::spawn_blocking({
                let a: Vec<String> = with_flag.iter().map(|s| s.to_string()).collect();
                move || run(&a.iter().map(String::as_str).collect::<Vec<_>>(), &[])
            }),
            tokio::task::spawn_blocking({
                let a: Vec<String> = base.iter().map(|s| s.to_string()).collect();
                let url = url.clone();
                move || {
                    run(
                        &a.iter().map(String::as_str).collect::<Vec<_>>(),
                        &[("https_proxy", &url)],
                    )
                }
            }),
        ];
        for r in runs {
            let r = r.await.unwrap();
            let all = format!("{}\n{}", r.stdout, r.stderr);
            assert!(
                !all.contains("ghp_") && !all.contains("part2") && !all.contains("SECRET"),
                "the token leaks ({format}):\n{all}"
            );
            assert!(
                all.contains(&format!("http://***@127.0.0.1:{port}")),
                "the masked proxy URL is shown ({format}):\n{all}"
            );
            assert_no_leak(&all);
        }
    }
}

// --- Row 2: unbounded reads --------------------------------------------------------------------

#[test]
fn row2_device_files_hit_the_cap() {
    for dev in ["/dev/zero", "/dev/urandom"] {
        let r = run(&["profile", "validate", dev], &[]);
        assert_eq!(
            usage_error(&r),
            format!("error: {dev}: larger than the limit of 4 MiB for a profile\n")
        );
        let r = run(&["check", "--profile", dev], &[]);
        assert_eq!(
            usage_error(&r),
            format!("error: {dev}: larger than the limit of 4 MiB for a profile\n")
        );
    }
}

#[test]
fn row2_not_utf8_and_bom() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("latin1.yaml");
    std::fs::write(&p, b"schema_version: 1\nname: t\ntitle: caf\xe9\n").unwrap();
    let path = p.display().to_string();
    let r = run(&["profile", "validate", &path], &[]);
    assert_eq!(
        usage_error(&r),
        format!("error: {path}: not UTF-8 text (invalid byte at offset 36)\n")
    );
    // A byte-order mark is accepted, and positions still count from the line start.
    let ok = write(dir.path(), "bom.yaml", &format!("\u{feff}{HEAD}{CAP}"));
    let r = run(&["profile", "validate", &ok.display().to_string()], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let bad = write(
        dir.path(),
        "bom-bad.yaml",
        &format!("\u{feff}schema_version: 2\nname: t\ntitle: T\n{CAP}"),
    );
    let bad = bad.display().to_string();
    let r = run(&["profile", "validate", &bad], &[]);
    assert_eq!(
        usage_error(&r),
        format!("error: {bad}:1:17: schema_version 2 is not supported: expected 1\n 1 | schema_version: 2\n   |                 ^\n")
    );
}

// --- Row 9: every profile error has a position -------------------------------------------------

#[test]
fn row9_errors_without_a_position_today() {
    assert_eq!(
        validate(&format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - note: nothing\n")),
        "error: P:9:9: an entry needs `host:` (an exact name) or `pattern:` (a `*.` wildcard)\n 9 |       - note: nothing\n   |         ^\n"
    );
    assert_eq!(
        validate(&format!("{HEAD}variables:\n  Bad-Var: {{}}\n{CAP}")),
        "error: P:5:3: variable name `Bad-Var` is not valid: expected lower-case letters, digits and `_`\n 5 |   Bad-Var: {}\n   |   ^\n"
    );
    assert_eq!(
        validate(&format!("{HEAD}variables:\n  mode: {{default: maybe, allowed: [on, off]}}\n{CAP}")),
        "error: P:5:19: variable `mode`: default `maybe` is not one of the allowed values on, off\n 5 |   mode: {default: maybe, allowed: [on, off]}\n   |                   ^\n"
    );
    assert_eq!(
        validate(&format!("{HEAD}capabilities: []\n")),
        "error: P:4:15: a profile needs at least one capability under `capabilities:`\n 4 | capabilities: []\n   |               ^\n"
    );
}

// --- Row 10: library text ----------------------------------------------------------------------

#[test]
fn row10_duplicate_key() {
    assert_eq!(
        validate(&format!("{HEAD}title: again\n{CAP}")),
        "error: P:4:1: duplicate key `title`: each key may appear only once in a mapping\n 4 | title: again\n   | ^\n"
    );
}

#[test]
fn row10_second_document() {
    let e = validate(&format!("{HEAD}{CAP}---\n{HEAD}{CAP}"));
    assert!(
        e.starts_with("error: P:9:1: only one YAML document per profile"),
        "{e}"
    );
    assert!(e.ends_with(" 9 | ---\n   | ^\n"), "{e}");
}

#[test]
fn row10_merge_key_bomb() {
    let mut bomb = String::from("variables:\n  a0: &a0 {description: x, required: false, default: x, allowed: [x, x, x, x, x, x, x, x, x, x]}\n");
    for i in 1..10 {
        let p = format!("*a{}", i - 1);
        bomb.push_str(&format!(
            "  a{i}: &a{i} {{<<: [{}]}}\n",
            [p.as_str(); 10].join(", ")
        ));
    }
    let e = validate(&format!("{HEAD}{bomb}{CAP}"));
    let first = e.lines().next().unwrap();
    assert!(
        first.starts_with("error: P:") && first.ends_with(": the profile is too large or too deeply nested (YAML aliases expand to more than 100000 nodes)"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 3, "{e}");
}

#[test]
fn row10_port_out_of_range() {
    assert_eq!(
        validate(&format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries: [{{host: a.example, ports: [70000]}}]\n")),
        "error: P:8:41: port 70000 is out of range (1-65535)\n 8 |     entries: [{host: a.example, ports: [70000]}]\n   |                                         ^\n"
    );
}

#[test]
fn row10_tags_and_aliases_in_our_words() {
    for (text, words) in [
        (
            format!("{HEAD}description: !!binary \"!!!\"\n{CAP}"),
            "are not supported in a profile",
        ),
        (
            format!("{HEAD}description: !secret x\n{CAP}"),
            "YAML tag `!secret` is not supported",
        ),
        (
            format!("{HEAD}description: *nowhere\n{CAP}"),
            "refers to an anchor (`&name`) that is not defined",
        ),
    ] {
        let e = validate(&text);
        assert!(e.starts_with("error: P:4:"), "{e}");
        assert!(e.contains(words), "{e}");
    }
}

// --- Row 11: long lines ------------------------------------------------------------------------

#[test]
fn row11_snippet_of_a_huge_line_is_capped() {
    // One 3 MB line (under the 4 MiB cap) with an error in the middle.
    let filler = "a".repeat(1_500_000);
    let text = format!("{{schema_version: 1, name: t, title: T, description: \"{filler}\", capabilities: [{{id: a, title: A, gating: yes, entries: [{{host: a.example}}]}}], sources: [\"{filler}\"]}}\n");
    let e = validate(&text);
    assert!(e.len() < 1000, "{} bytes of error output", e.len());
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), 3, "{e}");
    let column = text.find("gating: yes").unwrap() + "gating: ".len() + 1;
    assert!(
        lines[0].starts_with(&format!(
            "error: P:1:{column}: expected `true` or `false`, found `yes`"
        )),
        "{e}"
    );
    let snippet = lines[1].strip_prefix(" 1 | ").unwrap();
    assert!(snippet.starts_with('…') && snippet.ends_with('…'), "{e}");
    let caret = lines[2].strip_prefix("   | ").unwrap().find('^').unwrap();
    let under: String = snippet.chars().skip(caret).take(3).collect();
    assert_eq!(under, "yes", "{e}");
}

// --- Row 12: HTTP paths ------------------------------------------------------------------------

#[test]
fn row12_http_path_that_is_no_request_target() {
    let text = format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - host: a.example\n        http: {{ path: \"/zen?a=<x>|y\" }}\n");
    assert_eq!(
        validate(&text),
        "error: P:10:23: http path `/zen?a=<x>|y`: character `<` at position 8 is not allowed in a request target; percent-encode it as %3C\n 10 |         http: { path: \"/zen?a=<x>|y\" }\n    |                       ^\n"
    );
    // `check` refuses it too, before any probing.
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "p.yaml", &text);
    let r = run(&["check", "--profile", &p.display().to_string()], &[]);
    assert!(
        usage_error(&r).contains("character `<` at position 8"),
        "{}",
        r.stderr
    );
}

// --- Row 13: --connect-to / --resolve hosts ----------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row13_connect_to_hosts_are_checked_before_probing() {
    let dns = DnsWorld::new().start().await;
    let dns_addr = dns.addr.to_string();
    let dir = tempfile::tempdir().unwrap();
    let profile = write(dir.path(), "p.yaml", &format!("{HEAD}{CAP}"))
        .display()
        .to_string();
    for (flag, value, words) in [
        (
            "--connect-to",
            "h:8444:a;b:8444",
            "`a;b` is not a host name: character `;` is not allowed",
        ),
        (
            "--connect-to",
            "a.example:443:bad host:8444",
            "`bad host` is not a host name: character a space is not allowed",
        ),
        (
            "--connect-to",
            "a.example:443:$(id):8444",
            "`$(id)` is not a host name",
        ),
        (
            "--connect-to",
            "bad host",
            "expected HOST:PORT:CONNECT_HOST:CONNECT_PORT",
        ),
        (
            "--connect-to",
            "$(id)",
            "expected HOST:PORT:CONNECT_HOST:CONNECT_PORT",
        ),
        ("--resolve", "a;b:443:127.0.0.1", "`a;b` is not a host name"),
    ] {
        let args: Vec<String> = [
            "check",
            "--profile",
            &profile,
            "--dns-server",
            &dns_addr,
            flag,
            value,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let r = tokio::task::spawn_blocking(move || {
            run(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[])
        })
        .await
        .unwrap();
        let e = usage_error(&r);
        assert!(e.contains(&format!("{flag} `{value}`")), "{e}");
        assert!(e.contains(words), "{value}: {e}");
    }
    assert_eq!(dns.queries(), 0, "nothing was resolved");
}

// --- Row 17: booleans and repeated variables ---------------------------------------------------

#[test]
fn row17_yaml_1_1_booleans_and_quoted_strings_are_refused() {
    for value in ["yes", "on", "\"false\""] {
        let e = validate(&format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: {value}\n    entries: [{{host: a.example}}]\n"));
        let shown = value.trim_matches('"');
        assert_eq!(
            e,
            format!("error: P:7:13: expected `true` or `false`, found `{shown}` (write an unquoted `true` or `false`)\n 7 |     gating: {value}\n   |             ^\n")
        );
    }
}

#[test]
fn row17_a_variable_given_twice() {
    for cmd in [
        &["profile", "show", "ghes"][..],
        &["check", "--profile", "ghes"][..],
    ] {
        let mut args = cmd.to_vec();
        args.extend(["--var", "hostname=a.example", "--var", "hostname=b.example"]);
        let r = run(&args, &[]);
        assert_eq!(
            usage_error(&r),
            "error: --var hostname given twice (`a.example` and `b.example`): give each variable once\n"
        );
    }
}

// --- Row 8: control characters from a profile reach no renderer raw ------------------------------

#[test]
fn row8_control_characters_are_escaped_in_every_renderer() {
    let dir = tempfile::tempdir().unwrap();
    // An erase-screen sequence in the title, an OSC window title with a bell in a capability's
    // title, a carriage return in a note: YAML double quotes spell them as escapes.
    let profile = write(
        dir.path(),
        "p.yaml",
        "schema_version: 1\nname: t\ntitle: \"T\\e[2J\"\ncapabilities:\n  - id: a\n    title: \"A\\e]0;owned\\x07\"\n    gating: true\n    entries: [{host: a.example, note: \"n\\rfake line\"}]\n",
    );
    let profile = profile.display().to_string();
    let summary = dir.path().join("summary.md");
    let raw = ['\u{1b}', '\u{7}', '\r'];
    for format in ["table", "markdown", "junit", "json"] {
        let r = run(
            &[
                "check",
                "--profile",
                &profile,
                "--format",
                format,
                "--resolve",
                "a.example:443:127.0.0.1",
                "--connect-to",
                &format!("a.example:443:127.0.0.1:{}", closed_port()),
                "--no-throughput",
                "--timeout",
                "2s",
                "--label",
                "zone=\u{1b}[31mred",
            ],
            &[
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
            ],
        );
        assert_eq!(r.code, 1, "{format}: the name fails; stderr:\n{}", r.stderr);
        for (stream, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
            assert!(
                !text.contains(raw),
                "{format} {stream} carries a raw control character:\n{text:?}"
            );
        }
        if format != "json" {
            assert!(
                r.stdout.contains("\\u{1b}"),
                "{format}: the escape is shown visibly:\n{}",
                r.stdout
            );
        }
        // The annotations (stdout for the table, stderr otherwise) are clean too.
        let annotations = if format == "table" {
            &r.stdout
        } else {
            &r.stderr
        };
        assert!(annotations.contains("::error"), "{format}: {annotations}");
    }
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(!summary.contains(raw), "step summary: {summary:?}");
    assert!(summary.contains("\\u{1b}"), "{summary}");
}

// --- Row 2 and 10 for trust files: a runaway or damaged PEM file -----------------------------------

#[test]
fn row2_row10_ca_files_are_capped_and_damage_is_worded() {
    let dir = tempfile::tempdir().unwrap();
    let args = |ca: &str| {
        vec![
            "check".to_string(),
            "--profile".into(),
            "dotcom".into(),
            "--ca-file".into(),
            ca.to_string(),
            "--no-throughput".into(),
        ]
    };
    for dev in ["/dev/zero", "/dev/urandom"] {
        let a = args(dev);
        let r = run(&a.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
        let msg = usage_error(&r);
        assert!(
            msg.contains(&format!("--ca-file {dev}: larger than the limit of 16 MiB")),
            "{msg}"
        );
    }
    // A certificate cut short in the middle of its base64: our words, no byte array.
    let pki = Pki::new("hostile CA");
    let pem = pki.ca_pem.clone();
    let cut = write(dir.path(), "cut.pem", &pem[..pem.len() / 2]);
    let a = args(cut.to_str().unwrap());
    let r = run(&a.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    let msg = usage_error(&r);
    assert!(
        msg.contains(
            "not a valid PEM certificate file (a certificate block is damaged or cut short)"
        ),
        "{msg}"
    );
    let none = write(dir.path(), "none.pem", "just text\n");
    let a = args(none.to_str().unwrap());
    let r = run(&a.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    assert!(
        usage_error(&r).contains("no `-----BEGIN CERTIFICATE-----` block found"),
        "{}",
        r.stderr
    );
}
