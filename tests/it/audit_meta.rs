//! `audit --allowlist` and `meta diff --meta` with hostile and large inputs: endless devices, BOMs,
//! lone-CR line ends, 100,000-entry allow lists, 200,000-name /meta documents, and the
//! `artifact_attestations` list of /meta. Everything offline: no server is needed.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::world::cli;

const PROFILE: &str = "\
schema_version: 1
name: amtest
title: Audit and meta test
capabilities:
  - id: core
    title: Core
    gating: true
    entries:
      - host: api.test.example
      - host: front.test.example
      - pattern: \"*.svc.test.example\"
        probe: [broker.svc.test.example]
  - id: extra
    title: Extra
    gating: false
    entries:
      - host: dl.test.example
";

struct Fx {
    dir: tempfile::TempDir,
    profile: String,
}

impl Fx {
    fn new() -> Fx {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("profile.yaml");
        std::fs::write(&path, PROFILE).expect("write profile");
        Fx {
            profile: path.display().to_string(),
            dir,
        }
    }
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write file");
        p
    }
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], limit: Duration) -> Out {
    let out = cli()
        .timeout(limit)
        .args(args)
        .output()
        .expect("spawn runner-preflight");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn audit(fx: &Fx, list: &str, format: &str) -> Out {
    run(
        &[
            "audit",
            "--offline",
            "--profile",
            &fx.profile,
            "--allowlist",
            list,
            "--format",
            format,
        ],
        Duration::from_secs(60),
    )
}

fn meta_diff(fx: &Fx, meta: &str, format: &str) -> Out {
    run(
        &[
            "meta",
            "diff",
            "--offline",
            "--profile",
            &fx.profile,
            "--meta",
            meta,
            "--format",
            format,
        ],
        Duration::from_secs(60),
    )
}

/// The JSON `covered_by.line` of a name in an audit report.
fn covered_line(v: &Value, name: &str) -> Option<u64> {
    v["capabilities"]
        .as_array()?
        .iter()
        .flat_map(|c| c["items"].as_array().into_iter().flatten())
        .find(|i| i["name"] == name)?["covered_by"]["line"]
        .as_u64()
}

// ---------------------------------------------------------------------------
// Row 2: endless inputs are read up to a cap, then refused.
// ---------------------------------------------------------------------------

#[test]
fn endless_allow_lists_and_meta_documents_are_refused_at_the_cap() {
    let fx = Fx::new();
    for dev in ["/dev/zero", "/dev/urandom"] {
        let out = audit(&fx, dev, "text");
        assert_eq!(out.code, 2, "{dev}: {}", out.stderr);
        assert!(
            out.stderr.contains(&format!(
                "{dev}: larger than the limit of 16 MiB for an allow list"
            )),
            "{dev}: {}",
            out.stderr
        );
        let out = meta_diff(&fx, dev, "text");
        assert_eq!(out.code, 2, "{dev}: {}", out.stderr);
        assert!(
            out.stderr.contains(&format!(
                "{dev}: larger than the limit of 16 MiB for a /meta document"
            )),
            "{dev}: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty());
    }
    // Not UTF-8, and not there at all: our words, exit 2.
    let bin = fx.dir.path().join("bin.txt");
    std::fs::write(&bin, b"github.com\n\xff\xfe\n").unwrap();
    let out = audit(&fx, bin.to_str().unwrap(), "text");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("not UTF-8 text"), "{}", out.stderr);
    let out = meta_diff(&fx, "/nonexistent/meta.json", "text");
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("/nonexistent/meta.json: cannot read: no such file"),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------
// Row 5: large allow lists.
// ---------------------------------------------------------------------------

/// 100,000 entries: exact names, `*.x` and `.x` suffixes and a few globs, with the profile's names
/// at known lines.
fn big_allow_list() -> String {
    let mut s = String::from("# generated\n");
    for i in 0..100_000u32 {
        let line = match i {
            50_000 => "api.test.example".to_string(),
            70_000 => "*.svc.test.example".to_string(),
            90_000 => ".dl.test.example".to_string(),
            i if i % 1000 == 7 => format!("*.zone{i}.example.org"),
            i if i % 1000 == 8 => format!(".dom{i}.example.org"),
            i if i % 5000 == 9 => format!("edge{i}-*.example.net"),
            i => format!("host{i}.example.com"),
        };
        s.push_str(&line);
        s.push('\n');
    }
    // Line 100,002: the last entry covers front.test.example only through a glob.
    s.push_str("fr?nt.test.*\n");
    s
}

#[test]
fn audit_with_100k_entries_is_correct() {
    let fx = Fx::new();
    let list = fx.file("big.txt", &big_allow_list());
    let out = audit(&fx, list.to_str().unwrap(), "json");
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(v["gaps"], 0);
    // Line numbers: 1 comment, then entry i on line i + 2.
    assert_eq!(covered_line(&v, "api.test.example"), Some(50_002));
    assert_eq!(covered_line(&v, "*.svc.test.example"), Some(70_002));
    assert_eq!(covered_line(&v, "dl.test.example"), Some(90_002));
    assert_eq!(covered_line(&v, "front.test.example"), Some(100_002));
}

#[test]
fn many_globs_build_a_matcher_or_name_a_line() {
    // 20,000 real globs: one globset of them all exceeds the regex engine's limits.
    let fx = Fx::new();
    let mut s = String::new();
    for i in 0..20_000u32 {
        s.push_str(&format!("pipe{i}-*.example.net\n"));
    }
    s.push_str("a?i.test.example\n");
    let list = fx.file("globs.txt", &s);
    let out = audit(&fx, list.to_str().unwrap(), "json");
    assert!(
        !out.stderr.contains(":0:"),
        "an error names line 0: {}",
        out.stderr
    );
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(covered_line(&v, "api.test.example"), Some(20_001));
    assert_eq!(covered_line(&v, "front.test.example"), None);
}

// ---------------------------------------------------------------------------
// Row 14: byte-order marks and lone-CR line ends.
// ---------------------------------------------------------------------------

#[test]
fn allow_list_with_bom_and_any_line_ends() {
    let fx = Fx::new();
    for (name, text) in [
        (
            "bom.txt",
            "\u{feff}api.test.example\nfront.test.example\n*.svc.test.example\ndl.test.example\n",
        ),
        (
            "cr.txt",
            "api.test.example\rfront.test.example\r*.svc.test.example\rdl.test.example\r",
        ),
        (
            "crlf.txt",
            "\u{feff}api.test.example\r\nfront.test.example\r\n*.svc.test.example\r\ndl.test.example\r\n",
        ),
    ] {
        let list = fx.file(name, text);
        let out = audit(&fx, list.to_str().unwrap(), "json");
        assert_eq!(out.code, 0, "{name}: {}\n{}", out.stdout, out.stderr);
        let v: Value = serde_json::from_str(&out.stdout).expect("json");
        assert_eq!(covered_line(&v, "api.test.example"), Some(1), "{name}");
        assert_eq!(covered_line(&v, "dl.test.example"), Some(4), "{name}");
    }
    // Line numbers of errors count lone CRs as line ends too.
    let bad = fx.file("badcr.txt", "api.test.example\r# c\r\rbad;name.example\r");
    let out = audit(&fx, bad.to_str().unwrap(), "text");
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("badcr.txt:4:"), "{}", out.stderr);
}

#[test]
fn meta_document_with_bom() {
    let fx = Fx::new();
    let meta = fx.file(
        "meta.json",
        "\u{feff}{\"domains\": {\"actions_inbound\": {\"full_domains\": [\"api.test.example\"], \"wildcard_domains\": []}, \"actions\": []}}",
    );
    let out = meta_diff(&fx, meta.to_str().unwrap(), "json");
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).expect("json");
    let both = v["profile_side"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "api.test.example")
        .unwrap();
    assert_eq!(both["relation"], "both");
}

// ---------------------------------------------------------------------------
// Row 15: a huge /meta document.
// ---------------------------------------------------------------------------

#[test]
fn meta_diff_with_200k_full_domains_is_correct() {
    let fx = Fx::new();
    let mut full: Vec<String> = (0..200_000u32)
        .map(|i| format!("\"n{i}.svc.test.example\""))
        .collect();
    full.push("\"api.test.example\"".into());
    full.push("\"n7.svc.test.example\"".into()); // a duplicate
    let wild: Vec<String> = (0..1000u32)
        .map(|i| format!("\"*.w{i}.example.org\""))
        .chain(["\"*.test.example\"".to_string()])
        .collect();
    let doc = format!(
        "{{\"domains\": {{\"actions_inbound\": {{\"full_domains\": [{}], \"wildcard_domains\": [{}]}}, \"actions\": [\"x.w5.example.org\"]}}}}",
        full.join(","),
        wild.join(",")
    );
    let meta = fx.file("big-meta.json", &doc);
    let out = meta_diff(&fx, meta.to_str().unwrap(), "json");
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).expect("json");
    let side = |s: &str| v[s].as_array().unwrap().clone();
    let profile_side = side("profile_side");
    let meta_side = side("meta_side");
    // 200,000 distinct full domains, api, 1001 wildcards, one actions name.
    assert_eq!(meta_side.len(), 200_000 + 1 + 1001 + 1);
    let rel = |items: &[Value], n: &str| {
        let i = items.iter().find(|i| i["name"] == n).unwrap();
        (i["relation"].clone(), i["by"].clone())
    };
    assert_eq!(rel(&profile_side, "api.test.example").0, "both");
    assert_eq!(
        rel(&profile_side, "front.test.example"),
        ("covered_by".into(), "*.test.example".into())
    );
    assert_eq!(
        rel(&profile_side, "*.svc.test.example"),
        ("covered_by".into(), "*.test.example".into())
    );
    assert_eq!(
        rel(&meta_side, "n199999.svc.test.example"),
        ("covered_by".into(), "*.svc.test.example".into())
    );
    assert_eq!(rel(&meta_side, "*.w3.example.org").0, "missing");
    assert_eq!(rel(&meta_side, "x.w5.example.org").0, "missing");
    let dup = meta_side
        .iter()
        .filter(|i| i["name"] == "n7.svc.test.example")
        .count();
    assert_eq!(dup, 1);
}

// ---------------------------------------------------------------------------
// /meta `domains.artifact_attestations`.
// ---------------------------------------------------------------------------

#[test]
fn meta_diff_reads_artifact_attestations() {
    let fx = Fx::new();
    let meta = fx.file(
        "meta.json",
        r#"{"domains": {
          "actions_inbound": {"full_domains": ["api.test.example"], "wildcard_domains": ["*.svc.test.example"]},
          "actions": ["front.test.example", "dl.test.example"],
          "artifact_attestations": {
            "trust_domain": "",
            "services": ["*.svc.test.example", "tuf-repo.test.example", "fulcio.test.example"]
          }
        }}"#,
    );
    let out = meta_diff(&fx, meta.to_str().unwrap(), "json");
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).expect("json");
    let meta_side = v["meta_side"].as_array().unwrap();
    let item = |n: &str| meta_side.iter().find(|i| i["name"] == n).unwrap().clone();
    assert_eq!(
        item("*.svc.test.example")["in_"],
        serde_json::json!([
            "actions_inbound.wildcard_domains",
            "artifact_attestations.services"
        ])
    );
    assert_eq!(item("tuf-repo.test.example")["relation"], "missing");
    assert_eq!(
        item("fulcio.test.example")["in_"],
        serde_json::json!(["artifact_attestations.services"])
    );
    let text = meta_diff(&fx, meta.to_str().unwrap(), "text").stdout;
    assert!(
        text.contains("only in /meta, NOT in the profile (2):"),
        "{text}"
    );
    assert!(
        text.contains("tuf-repo.test.example  (artifact_attestations.services)"),
        "{text}"
    );
}

#[test]
fn dotcom_lists_the_attestations_capability() {
    let out = run(&["profile", "show", "dotcom"], Duration::from_secs(30));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("attestations"), "{}", out.stdout);
    for host in [
        "tuf-repo.github.com",
        "fulcio.githubapp.com",
        "timestamp.githubapp.com",
    ] {
        assert!(out.stdout.contains(host), "{host}: {}", out.stdout);
    }
}
