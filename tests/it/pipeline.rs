//! Pipeline outputs and fleet artefacts: JUnit (validated by xmllint against tests/data/junit.xsd),
//! Markdown, GitHub annotations and job summary, several outputs from one run, `--fail-on`,
//! completions, man page, `--help`, and the files a fleet uses (action.yml, Kubernetes
//! manifests, Dockerfile) checked against the binary and the docs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::world::*;

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// A loopback world whose report has every verdict:
/// - `core` (gating): `ok.test` passes (HTTPS, fingerprint), `dual.test` warns (IPv4 works,
///   IPv6 refused), `*.skip.test` is a documented wildcard with no name to probe (skip);
/// - `extra` (informational): `gone.test` fails (NXDOMAIN).
///
/// Overall WARN, exit code 0 with the default `--fail-on fail`.
struct World {
    dir: tempfile::TempDir,
    ca: PathBuf,
    dns: DnsServer,
    srv: TestServer,
    profile: String,
}

const SKIP_NOTE: &str = "documented wildcard, no stable name: 50% of 'a, b: c' | <x>";

impl World {
    async fn new() -> World {
        let Fixture { dir, pki, ca } = Fixture::new("Pipeline Test Root CA");
        let dns = DnsWorld::new()
            .name("ok.test", loopback(60))
            .name("gone.test", Behaviour::NxDomain)
            .start()
            .await;
        let srv = TestServer::start(Mode::Https {
            cert: pki.leaf(&["ok.test", "dual.test"]),
            routes: github_routes(),
        })
        .await;
        let port = srv.port();
        let profile = format!(
            "schema_version: 1\nname: pipe\ntitle: Pipeline test world\ncapabilities:\n  - id: core\n    title: Core services\n    gating: true\n    entries:\n      - host: ok.test\n        ports: [{port}]\n        http: {{ path: /zen, expect_header: X-GitHub-Request-Id }}\n      - host: dual.test\n        ports: [{port}]\n      - pattern: \"*.skip.test\"\n        note: \"{SKIP_NOTE}\"\n  - id: extra\n    title: Extra downloads\n    gating: false\n    entries:\n      - host: gone.test\n        ports: [{port}]\n"
        );
        let path = dir.path().join("pipe.yaml");
        std::fs::write(&path, profile).expect("write profile");
        agreeing_env(dir.path(), &ca);
        World {
            profile: path.display().to_string(),
            dir,
            ca,
            dns,
            srv,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `check` against this world, with `extra` flags.
    fn args(&self, extra: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = vec![
            "check".into(),
            "--profile".into(),
            self.profile.clone(),
            "--quiet".into(),
            "--dns-server".into(),
            self.dns.addr.to_string(),
            "--ca-file".into(),
            self.ca.display().to_string(),
            "--timeout".into(),
            "2s".into(),
            "--resolve".into(),
            format!("dual.test:{}:127.0.0.1,[::1]", self.srv.port()),
            // Throughput has its own pipeline-output test (tests/it/throughput.rs).
            "--no-throughput".into(),
            // Trust stores that agree on the test CA (runner .env for git and node; the CA as the
            // public roots), so the only warnings are the ones the world plants.
            "--runner-dir".into(),
            self.dir.path().display().to_string(),
            "--public-roots".into(),
            self.ca.display().to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

fn json_of(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}):\n{s}"))
}

// ---------------------------------------------------------------------------------------------
// A small XML tree (quick-xml reader) to look inside the JUnit report.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct El {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<El>,
    text: String,
}

impl El {
    fn attr(&self, k: &str) -> &str {
        self.attrs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("<{}> has no attribute {k}: {self:?}", self.name))
    }
    fn all(&self, name: &str) -> Vec<&El> {
        self.children.iter().filter(|c| c.name == name).collect()
    }
    fn child(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.name == name)
    }
    fn by_name(&self, tag: &str, name: &str) -> &El {
        self.children
            .iter()
            .find(|c| c.name == tag && c.attr("name") == name)
            .unwrap_or_else(|| panic!("no <{tag} name={name:?}> in <{}>", self.name))
    }
}

fn parse_xml(s: &str) -> El {
    use quick_xml::events::{BytesStart, Event};
    fn start(e: &BytesStart) -> El {
        El {
            name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
            attrs: e
                .attributes()
                .map(|a| {
                    let a = a.expect("attribute");
                    (
                        String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                        a.unescape_value().expect("attribute value").into_owned(),
                    )
                })
                .collect(),
            ..El::default()
        }
    }
    let mut reader = quick_xml::Reader::from_str(s);
    let mut stack: Vec<El> = vec![El::default()];
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => stack.push(start(&e)),
            Event::Empty(e) => {
                let el = start(&e);
                stack.last_mut().expect("parent").children.push(el);
            }
            Event::End(_) => {
                let el = stack.pop().expect("element");
                stack.last_mut().expect("parent").children.push(el);
            }
            Event::Text(t) => {
                let t = t.decode().expect("text").into_owned();
                let t = quick_xml::escape::unescape(&t)
                    .expect("entities")
                    .into_owned();
                stack.last_mut().expect("element").text.push_str(&t);
            }
            Event::GeneralRef(r) => {
                let name = r.decode().expect("reference").into_owned();
                let ch = match name.as_str() {
                    "lt" => "<",
                    "gt" => ">",
                    "amp" => "&",
                    "apos" => "'",
                    "quot" => "\"",
                    other => panic!("unexpected entity &{other};"),
                };
                stack.last_mut().expect("element").text.push_str(ch);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut root = stack.pop().expect("document");
    assert_eq!(root.children.len(), 1, "one root element");
    root.children.remove(0)
}

/// Validate `xml` against tests/data/junit.xsd with xmllint. Missing xmllint fails under CI=true.
fn xmllint_validate(xml: &str, dir: &Path) {
    let file = dir.join("junit-report.xml");
    std::fs::write(&file, xml).expect("write junit");
    let xsd = Path::new(REPO).join("tests/data/junit.xsd");
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(&file)
        .output();
    match out {
        Ok(o) => assert!(
            o.status.success(),
            "xmllint rejects the JUnit report:\n{}\n{xml}",
            text(&o.stderr)
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true");
            assert!(
                !ci,
                "xmllint is not installed (Debian package libxml2-utils): required under CI=true"
            );
            eprintln!(
                "xmllint not installed (libxml2-utils): JUnit schema validation skipped locally"
            );
        }
        Err(e) => panic!("cannot run xmllint: {e}"),
    }
}

#[test]
fn xmllint_rejects_what_the_schema_forbids() {
    // The schema is not vacuous: a test case without a name, or two outcomes, is refused.
    let dir = tempfile::tempdir().expect("tempdir");
    let xsd = Path::new(REPO).join("tests/data/junit.xsd");
    for bad in [
        "<testsuites><testsuite name=\"a\" tests=\"1\" failures=\"0\" errors=\"0\"><testcase classname=\"c\" time=\"0\"/></testsuite></testsuites>",
        "<testsuites><testsuite name=\"a\" tests=\"1\" failures=\"1\" errors=\"0\"><testcase name=\"n\" classname=\"c\" time=\"0\"><failure/><skipped/></testcase></testsuite></testsuites>",
        "<testsuites><testsuite name=\"a\" tests=\"x\" failures=\"0\" errors=\"0\"/></testsuites>",
    ] {
        let f = dir.path().join("bad.xml");
        std::fs::write(&f, bad).expect("write");
        match std::process::Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&xsd)
            .arg(&f)
            .output()
        {
            Ok(o) => assert!(!o.status.success(), "xmllint accepted {bad}"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                assert!(
                    !std::env::var("CI").is_ok_and(|v| v == "true"),
                    "xmllint is not installed (libxml2-utils): required under CI=true"
                );
                return;
            }
            Err(e) => panic!("cannot run xmllint: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junit_report_validates_and_maps_verdicts() {
    let w = World::new().await;
    let out = run_with(w.args(&["--format", "junit"]), vec![]).await;
    let xml = text(&out.stdout);
    assert_eq!(code(&out), 0, "{xml}\n{}", text(&out.stderr));
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    xmllint_validate(&xml, w.dir.path());

    let root = parse_xml(&xml);
    assert_eq!(root.name, "testsuites");
    assert_eq!(root.attr("tests"), "4");
    assert_eq!(root.attr("failures"), "1");
    assert_eq!(root.attr("skipped"), "1");
    assert_eq!(root.attr("errors"), "0");
    let suites = root.all("testsuite");
    assert_eq!(suites.len(), 2, "one testsuite per capability");

    let core = root.by_name("testsuite", "core");
    assert_eq!(core.attr("tests"), "3");
    assert_eq!(core.attr("failures"), "0");
    assert_eq!(core.attr("skipped"), "1");
    let props = core.child("properties").expect("properties");
    let prop = |k: &str| props.by_name("property", k).attr("value").to_string();
    assert_eq!(prop("gating"), "true");
    assert_eq!(prop("verdict"), "WARN");
    assert_eq!(prop("title"), "Core services");

    let ok = core.by_name("testcase", "ok.test");
    assert_eq!(ok.attr("classname"), "pipe.core");
    assert!(ok.child("failure").is_none() && ok.child("skipped").is_none());
    let ok_out = &ok.child("system-out").expect("phase details").text;
    assert!(ok_out.contains("HTTP PASS"), "{ok_out}");

    let dual = core.by_name("testcase", "dual.test");
    assert!(
        dual.child("failure").is_none(),
        "a warning is not a failure"
    );
    let dual_out = &dual.child("system-out").expect("warning note").text;
    assert!(dual_out.starts_with("WARN: "), "{dual_out}");
    assert!(
        dual_out.contains("another address family works"),
        "{dual_out}"
    );

    let skip = core.by_name("testcase", "*.skip.test");
    let skipped = skip.child("skipped").expect("<skipped/>");
    assert_eq!(
        skipped.attr("message"),
        SKIP_NOTE,
        "attribute escaping round-trips"
    );

    let extra = root.by_name("testsuite", "extra");
    let props = extra.child("properties").expect("properties");
    assert_eq!(props.by_name("property", "gating").attr("value"), "false");
    let gone = extra.by_name("testcase", "gone.test");
    let failure = gone.child("failure").expect("<failure>");
    assert!(failure.attr("message").contains("NXDOMAIN"), "{failure:?}");
    assert_eq!(failure.attr("type"), "fail-informational");
    assert!(failure.text.contains("DNS FAIL"), "{failure:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junit_failure_type_follows_gating_and_inactive_capabilities_are_skipped() {
    let w = World::new().await;
    // --require extra makes gone.test's failure gate the run.
    let out = run_with(w.args(&["--format", "junit", "--require", "extra"]), vec![]).await;
    let xml = text(&out.stdout);
    assert_eq!(code(&out), 1, "{xml}");
    xmllint_validate(&xml, w.dir.path());
    let root = parse_xml(&xml);
    let gone = root
        .by_name("testsuite", "extra")
        .by_name("testcase", "gone.test");
    assert_eq!(gone.child("failure").expect("failure").attr("type"), "fail");

    // --capability core: `extra` is not checked and shows as a skipped suite.
    let out = run_with(
        w.args(&["--format", "junit", "--capability", "core"]),
        vec![],
    )
    .await;
    let xml = text(&out.stdout);
    xmllint_validate(&xml, w.dir.path());
    let root = parse_xml(&xml);
    let extra = root.by_name("testsuite", "extra");
    assert_eq!(extra.attr("skipped"), "1");
    let case = extra.by_name("testcase", "extra");
    assert!(
        case.child("skipped")
            .expect("skipped")
            .attr("message")
            .starts_with("not checked: "),
        "{case:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junit_names_a_repeated_host_by_its_http_check() {
    let w = World::new().await;
    let port = w.srv.port();
    let profile = w.path("twice.yaml");
    std::fs::write(
        &profile,
        format!("schema_version: 1\nname: twice\ntitle: Twice\ncapabilities:\n  - id: core\n    title: Core\n    gating: true\n    entries:\n      - host: ok.test\n        ports: [{port}]\n        http: {{ path: /zen, expect_header: X-GitHub-Request-Id }}\n      - host: ok.test\n        ports: [{port}]\n        http: {{ path: /_apis/health, method: POST, expect_header: X-GitHub-Request-Id }}\n"),
    )
    .expect("profile");
    let mut args = w.args(&["--format", "junit"]);
    args[2] = profile.display().to_string();
    let out = run_with(args, vec![]).await;
    let xml = text(&out.stdout);
    assert_eq!(code(&out), 0, "{xml}");
    xmllint_validate(&xml, w.dir.path());
    let root = parse_xml(&xml);
    let names: Vec<&str> = root
        .by_name("testsuite", "core")
        .all("testcase")
        .iter()
        .map(|c| c.attr("name"))
        .collect();
    assert_eq!(names, ["ok.test", "ok.test (POST /_apis/health)"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markdown_summary_has_verdict_tables_and_causes() {
    let w = World::new().await;
    let out = run_with(w.args(&["--format", "markdown"]), vec![]).await;
    let md = text(&out.stdout);
    assert_eq!(code(&out), 0, "{md}");
    assert!(md.starts_with("## ⚠️ runner-preflight: WARN\n"), "{md}");
    assert!(md.contains("Profile `pipe` — Pipeline test world"), "{md}");
    assert!(
        md.contains(
            "**Verdict: WARN** — gating capabilities pass, with warnings\n\n3 names probed: 1 pass, 1 warn, 1 fail, 0 skip"
        ),
        "{md}"
    );
    assert!(md.contains("exit code 0 (`--fail-on fail`)"), "{md}");
    assert!(md.contains("| capability | role | verdict | names | cause |\n|---|---|---|---|---|\n"));
    // Each capability's line points at the root cause that explains it (issue 23 rows 2, 4).
    assert!(
        md.contains(
            "| `core` Core services | gating | ⚠️ WARN | 1 pass · 1 warn · 1 skip | see cause 2: IPv6 egress broken |"
        ),
        "{md}"
    );
    assert!(
        md.contains("| `extra` Extra downloads | informational | ❌ FAIL | 1 fail | see cause 1: DNS denies public names (NXDOMAIN) |"),
        "{md}"
    );
    // The causes say each name's problem in words: gone.test's NXDOMAIN.
    assert!(
        md.contains(
            "1. ❌ **DNS denies public names (NXDOMAIN)** (blocks `extra`) — The DNS server"
        ) && md.contains("says 1 name in gone.test does not exist (NXDOMAIN)"),
        "{md}"
    );
    // A capability a cause covers has no block of its own when every row is explained
    // (extra); core's block stays closed and holds only the rows no cause explains.
    assert!(
        !md.contains("`extra` — Extra downloads (informational)</summary>"),
        "{md}"
    );
    assert!(
        md.contains("<details><summary>⚠️ WARN `core` — Core services (gating): 1 name: see cause 2: IPv6 egress broken</summary>"),
        "{md}"
    );
    assert!(!md.contains("<details open>"), "{md}");
    assert!(md.contains("| name | verdict | DNS | ms | cause |"), "{md}");
    assert!(
        !md.lines().any(|l| l.starts_with("| `gone.test` |")),
        "{md}"
    );
    assert!(
        md.lines()
            .any(|l| l.starts_with("| `ok.test` | ✅ PASS | 127.0.0.1 |")),
        "{md}"
    );
    // The wildcard's note: table and HTML characters escaped.
    let skip = md
        .lines()
        .find(|l| l.starts_with("| `*.skip.test` | ⏭️ SKIP |"))
        .expect("skip row");
    assert!(skip.contains("50% of 'a, b: c' \\| \\<x\\>"), "{skip}");
    // Every table row has the header's number of cells (escaped pipes do not split).
    for l in md.lines().filter(|l| l.starts_with("| ")) {
        let cells = l.replace("\\|", "").matches('|').count();
        assert_eq!(cells, 6, "{l}");
    }
}

/// The annotations of root causes (`::error`/`::warning`); the run's own `::notice` (its
/// verdict and counts) aside.
fn annotation_lines(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| l.starts_with("::") && !l.starts_with("::notice title=runner-preflight%3A "))
        .collect()
}

/// The run's `::notice` (verdict, sentence, counts), exactly one.
fn notice_line(stdout: &str) -> &str {
    let n: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("::notice title=runner-preflight%3A "))
        .collect();
    assert_eq!(n.len(), 1, "one notice of the run: {stdout}");
    n[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_actions_annotations_and_step_summary() {
    let w = World::new().await;
    let summary = w.path("summary.md");
    std::fs::write(&summary, "previous step\n").expect("seed summary");
    let gh = |extra: Vec<(&'static str, &str)>| {
        let mut v = vec![
            ("GITHUB_ACTIONS", "true".to_string()),
            ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
        ];
        v.extend(extra.into_iter().map(|(k, v)| (k, v.to_string())));
        v
    };

    // Table on stdout, then the workflow commands.
    let out = run_with(w.args(&[]), gh(vec![])).await;
    let stdout = text(&out.stdout);
    assert_eq!(code(&out), 0, "{stdout}");
    assert!(stdout.contains("Verdict: WARN"), "{stdout}");
    let ann = annotation_lines(&stdout);
    assert_eq!(ann.len(), 2, "one per root cause: {ann:#?}");
    // … and one notice with the run's verdict, its sentence and the counts.
    assert!(
        notice_line(&stdout).ends_with(
            "::WARN — gating capabilities pass, with warnings%0A3 names probed: 1 pass, 1 warn, 1 fail, 0 skip"
        ),
        "{stdout}"
    );
    // dual.test's IPv6 path fails while IPv4 works (core WARN); gone.test does not resolve
    // (extra, informational, FAIL): two causes, neither gating.
    let core = ann
        .iter()
        .find(|l| {
            l.starts_with("::warning title=runner-preflight cause ")
                && l.contains("(blocks core)::WARN ")
        })
        .unwrap_or_else(|| panic!("{ann:#?}"));
    assert!(core.contains("IPv6 egress broken"), "{core}");
    assert!(core.contains("%0AWARN dual.test: "), "{core}");
    let extra = ann
        .iter()
        .find(|l| {
            l.starts_with("::warning title=runner-preflight cause ")
                && l.contains("(blocks extra)::FAIL ")
        })
        .unwrap_or_else(|| panic!("{ann:#?}"));
    assert!(extra.contains("%0AFAIL gone.test: "), "{extra}");
    assert!(extra.contains("NXDOMAIN"), "{extra}");
    assert!(!extra.contains('\r'));
    let md = read(&summary);
    assert!(
        md.starts_with("previous step\n## ⚠️ runner-preflight: WARN\n"),
        "appended: {md}"
    );

    // --fail-on warn: the same problems gate, so they are errors.
    let out = run_with(w.args(&["--fail-on", "warn"]), gh(vec![])).await;
    assert_eq!(code(&out), 1);
    let stdout = text(&out.stdout);
    let ann = annotation_lines(&stdout);
    assert_eq!(ann.len(), 2, "{ann:#?}");
    assert!(
        ann.iter().all(|l| l.starts_with("::error title=")),
        "{ann:#?}"
    );
    assert_eq!(read(&summary).matches("runner-preflight: WARN").count(), 2);

    // JSON on stdout stays JSON: no workflow commands there, they go to stderr (the runner reads
    // workflow commands there too); the summary is still written.
    let copy = w.path("copy.json");
    let out = run_with(
        w.args(&["--format", "json", "--output-json", copy.to_str().unwrap()]),
        gh(vec![]),
    )
    .await;
    let stdout = text(&out.stdout);
    json_of(&stdout);
    assert!(annotation_lines(&stdout).is_empty());
    assert_eq!(stdout, read(&copy), "stdout is the report and nothing else");
    let stderr = text(&out.stderr);
    let ann = annotation_lines(&stderr);
    assert_eq!(ann.len(), 2, "{stderr}");
    assert!(
        ann.iter()
            .any(|l| l.starts_with("::warning title=runner-preflight cause ")
                && l.contains("(blocks core)::WARN ")),
        "{ann:#?}"
    );
    assert!(!stderr.contains("annotations not printed"), "{stderr}");
    assert_eq!(read(&summary).matches("runner-preflight: WARN").count(), 3);

    // JSON to a file: stdout is free for the workflow commands.
    let out = run_with(
        w.args(&[
            "--format",
            "json",
            "--output",
            w.path("r.json").to_str().unwrap(),
        ]),
        gh(vec![]),
    )
    .await;
    assert_eq!(annotation_lines(&text(&out.stdout)).len(), 2);

    // Outside GitHub Actions: no commands, no summary.
    let before = read(&summary);
    let out = run_with(
        w.args(&[]),
        vec![("GITHUB_STEP_SUMMARY", summary.display().to_string())],
    )
    .await;
    assert!(annotation_lines(&text(&out.stdout)).is_empty());
    assert_eq!(read(&summary), before);

    // An unwritable summary path warns and keeps the verdict's exit code.
    let out = run_with(
        w.args(&["--require", "extra"]),
        vec![
            ("GITHUB_ACTIONS", "true".to_string()),
            ("GITHUB_STEP_SUMMARY", w.dir.path().display().to_string()),
        ],
    )
    .await;
    assert_eq!(code(&out), 1);
    assert!(text(&out.stderr).contains("cannot append to $GITHUB_STEP_SUMMARY"));
    assert!(annotation_lines(&text(&out.stdout))
        .iter()
        .any(|l| l.starts_with("::error title=runner-preflight cause ")
            && l.contains("(blocks extra)::FAIL ")
            && l.contains("%0AFAIL gone.test: ")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_outputs_from_one_run_agree() {
    let w = World::new().await;
    let (j, x, m) = (w.path("r.json"), w.path("r.xml"), w.path("r.md"));
    let out = run_with(
        w.args(&[
            "--format",
            "table",
            "--output-json",
            j.to_str().unwrap(),
            "--output-junit",
            x.to_str().unwrap(),
            "--output-markdown",
            m.to_str().unwrap(),
            "--label",
            "node=worker-7",
            "--label",
            "pool=linux-x64",
        ]),
        vec![],
    )
    .await;
    let table = text(&out.stdout);
    assert_eq!(code(&out), 0, "{table}\n{}", text(&out.stderr));
    assert!(table.contains("Verdict: WARN"), "{table}");
    assert!(
        table.contains("3 names probed: 1 pass, 1 warn, 1 fail"),
        "{table}"
    );

    let json = json_of(&read(&j));
    let xml = read(&x);
    xmllint_validate(&xml, w.dir.path());
    let root = parse_xml(&xml);
    let md = read(&m);

    // Fleet fields.
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["tool"]["name"], "runner-preflight");
    assert_eq!(json["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(json["profile"]["name"], "pipe");
    assert_eq!(json["settings"]["fail_on"], "fail");
    assert_eq!(
        json["labels"],
        serde_json::json!({"node": "worker-7", "pool": "linux-x64"})
    );
    let core_props = root
        .by_name("testsuite", "core")
        .child("properties")
        .expect("properties");
    assert_eq!(
        core_props.by_name("property", "label.node").attr("value"),
        "worker-7"
    );
    assert!(
        md.contains("(`node=worker-7`, `pool=linux-x64`)"),
        "labels in the summary: {md}"
    );
    let host = json["hostname"].as_str().expect("hostname");
    assert!(!host.is_empty());
    let at = json["generated_at"].as_str().expect("generated_at");
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("generated_at {at} is not RFC 3339: {e}"));

    // Same report in every rendering.
    assert_eq!(json["verdict"], "warn");
    assert_eq!(json["exit_code"], 0);
    assert_eq!(root.attr("timestamp"), at);
    assert_eq!(root.by_name("testsuite", "core").attr("hostname"), host);
    assert_eq!(
        root.attr("failures"),
        json["summary"]["fail"].to_string(),
        "failing names"
    );
    assert!(md.contains(&format!("host `{host}` (`node")), "{md}");
    assert!(md.contains(&format!(" · {at} · runner-preflight")), "{md}");
    assert!(md.starts_with("## ⚠️ runner-preflight: WARN"));
    let json_caps: Vec<&str> = json["capabilities"]
        .as_array()
        .expect("capabilities")
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    let xml_caps: Vec<&str> = root
        .all("testsuite")
        .iter()
        .map(|s| s.attr("name"))
        .collect();
    assert_eq!(json_caps, xml_caps);
    let gone_cause = json["capabilities"][1]["cause"].as_str().expect("cause");
    assert!(md.contains(gone_cause.split(": ").next().unwrap_or("")));
    let failure = root
        .by_name("testsuite", "extra")
        .by_name("testcase", "gone.test")
        .child("failure")
        .expect("failure");
    let gone_id = target(&json, "gone.test")["diagnosis_id"]
        .as_u64()
        .expect("diagnosis_id");
    let gone_title = json["diagnosis"]
        .as_array()
        .expect("diagnosis")
        .iter()
        .find(|d| d["id"] == gone_id)
        .map(|d| d["kind"].clone())
        .expect("cause of gone.test");
    assert_eq!(gone_title, "dns_nxdomain");
    assert_eq!(
        format!("gone.test: {}", failure.attr("message")),
        format!("{gone_cause} (see cause {gone_id}: DNS denies public names (NXDOMAIN))"),
        "JUnit message = JSON cause, then its root cause"
    );

    // Environment variables name the same outputs.
    let j2 = w.path("env.json");
    let x2 = w.path("env.xml");
    let out = run_with(
        w.args(&[]),
        vec![
            ("RUNNER_PREFLIGHT_OUTPUT_JSON", j2.display().to_string()),
            ("RUNNER_PREFLIGHT_OUTPUT_JUNIT", x2.display().to_string()),
            ("RUNNER_PREFLIGHT_LABELS", "node=n1,zone=eu-1".into()),
        ],
    )
    .await;
    assert_eq!(code(&out), 0);
    let j = json_of(&read(&j2));
    assert_eq!(j["verdict"], "warn");
    assert_eq!(j["labels"]["zone"], "eu-1");
    assert_eq!(j["labels"]["node"], "n1");
    // A label without `=`, or with a bad key: usage error before probing.
    for bad in ["node", "bad key=x", "=x"] {
        let out = run_with(w.args(&["--label", bad]), vec![]).await;
        assert_eq!(code(&out), 2, "--label {bad}");
    }
    parse_xml(&read(&x2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_files_are_checked_before_probing() {
    let w = World::new().await;
    let dir = w.dir.path().to_str().unwrap().to_string();
    let out = run_with(w.args(&["--output-junit", &dir]), vec![]).await;
    assert_eq!(code(&out), 2);
    assert!(
        text(&out.stderr).contains("--output-junit"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(w.srv.connections(), 0, "nothing probed");
    let f = w.path("same.json");
    let f = f.to_str().unwrap();
    let out = run_with(w.args(&["--output", f, "--output-json", f]), vec![]).await;
    assert_eq!(code(&out), 2);
    assert!(
        text(&out.stderr).contains("name the same file"),
        "{}",
        text(&out.stderr)
    );
    // A file that cannot be written is found before probing: exit 2, nothing probed, nothing written.
    let ok = w.path("ok.json");
    let bad = w.path("missing-dir/r.xml");
    let out = run_with(
        w.args(&[
            "--output-json",
            ok.to_str().unwrap(),
            "--output-junit",
            bad.to_str().unwrap(),
        ]),
        vec![],
    )
    .await;
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr).matches("error: --output-junit").count(),
        1,
        "said once: {}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("does not exist"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !ok.exists(),
        "no output is written when the run cannot start"
    );
    assert_eq!(w.srv.connections(), 0, "nothing probed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_on_decides_whether_warnings_gate() {
    let w = World::new().await;
    let json_run = |extra: Vec<&str>, env: Vec<(&'static str, String)>| {
        let mut a = vec!["--format", "json"];
        a.extend(extra);
        run_with(w.args(&a), env)
    };
    // Overall WARN (a warning and an informational failure).
    let o = json_run(vec![], vec![]).await;
    assert_eq!(code(&o), 0);
    assert_eq!(json_of(&text(&o.stdout))["exit_code"], 0);
    let o = json_run(vec!["--fail-on", "fail"], vec![]).await;
    assert_eq!(code(&o), 0);
    let o = json_run(vec!["--fail-on", "warn"], vec![]).await;
    assert_eq!(code(&o), 1);
    let j = json_of(&text(&o.stdout));
    assert_eq!(j["exit_code"], 1, "the report says how the process exits");
    assert_eq!(j["settings"]["fail_on"], "warn");
    let o = json_run(vec![], vec![("RUNNER_PREFLIGHT_FAIL_ON", "warn".into())]).await;
    assert_eq!(code(&o), 1, "RUNNER_PREFLIGHT_FAIL_ON");
    // The flag wins over the environment.
    let o = json_run(
        vec!["--fail-on", "fail"],
        vec![("RUNNER_PREFLIGHT_FAIL_ON", "warn".into())],
    )
    .await;
    assert_eq!(code(&o), 0);
    // Overall FAIL: 1 whatever --fail-on says.
    for level in ["fail", "warn"] {
        let o = json_run(vec!["--require", "extra", "--fail-on", level], vec![]).await;
        assert_eq!(code(&o), 1, "--fail-on {level}");
    }
    // Overall PASS: 0 even with --fail-on warn (only ok.test is probed: --capability core
    // with dual.test's IPv6 address dropped).
    let args = vec![
        "check".to_string(),
        "--profile".into(),
        w.profile.clone(),
        "--quiet".into(),
        "--format".into(),
        "json".into(),
        "--dns-server".into(),
        w.dns.addr.to_string(),
        "--ca-file".into(),
        w.ca.display().to_string(),
        "--resolve".into(),
        format!("dual.test:{}:127.0.0.1", w.srv.port()),
        "--capability".into(),
        "core".into(),
        "--fail-on".into(),
        "warn".into(),
        "--no-throughput".into(),
        "--runner-dir".into(),
        w.dir.path().display().to_string(),
        "--public-roots".into(),
        w.ca.display().to_string(),
    ];
    let o = run_with(args, vec![]).await;
    let j = json_of(&text(&o.stdout));
    assert_eq!(j["verdict"], "pass", "{j:#}");
    assert_eq!(code(&o), 0);
    // Bad value: usage error.
    let o = json_run(vec!["--fail-on", "sometimes"], vec![]).await;
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("possible values: fail, warn"),
        "{}",
        text(&o.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_environment_variables_set_flags() {
    let w = World::new().await;
    let args = vec![
        "check".to_string(),
        "--quiet".into(),
        "--format".into(),
        "json".into(),
        "--resolve".into(),
        format!("dual.test:{}:127.0.0.1,[::1]", w.srv.port()),
    ];
    let env = vec![
        ("RUNNER_PREFLIGHT_PROFILE", w.profile.clone()),
        ("RUNNER_PREFLIGHT_DNS_SERVER", w.dns.addr.to_string()),
        ("RUNNER_PREFLIGHT_CA_FILE", w.ca.display().to_string()),
        ("RUNNER_PREFLIGHT_TIMEOUT", "1500ms".to_string()),
        ("RUNNER_PREFLIGHT_CONCURRENCY", "3".to_string()),
    ];
    let o = run_with(args, env).await;
    let j = json_of(&text(&o.stdout));
    assert_eq!(j["profile"]["name"], "pipe");
    assert_eq!(j["settings"]["timeout_ms"], 1500);
    assert_eq!(j["settings"]["concurrency"], 3);
    assert_eq!(j["settings"]["dns_servers"][0], w.dns.addr.to_string());
    assert_eq!(j["verdict"], "warn", "{j:#}");
}

// ---------------------------------------------------------------------------------------------
// Completions, man page, --help
// ---------------------------------------------------------------------------------------------

fn run_sync(args: &[&str]) -> Output {
    cli().args(args).output().expect("spawn")
}

#[test]
fn completions_for_every_shell_mention_check() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = run_sync(&["completions", shell]);
        assert_eq!(code(&o), 0, "{shell}: {}", text(&o.stderr));
        let s = text(&o.stdout);
        assert!(s.len() > 500, "{shell}: {s}");
        assert!(s.contains("check"), "{shell}");
        assert!(s.contains("fail-on"), "{shell}");
        assert!(
            s.contains("runner-preflight") || s.contains("runner_preflight"),
            "{shell}"
        );
    }
    let o = run_sync(&["completions", "tcsh"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn man_page_is_roff() {
    let o = run_sync(&["man"]);
    assert_eq!(code(&o), 0);
    let page = text(&o.stdout);
    // clap_mangen first defines the apostrophe string (.ie/.el), then the title.
    let first_macro = page
        .lines()
        .find(|l| !l.starts_with(".ie") && !l.starts_with(".el"))
        .expect("lines");
    assert!(
        first_macro.starts_with(".TH runner-preflight 1"),
        "{first_macro}"
    );
    assert!(page.contains(".SH NAME"));
    assert!(
        page.contains(".SH SUBCOMMANDS") || page.contains("completions"),
        "{page}"
    );
    let o = run_sync(&["man", "check"]);
    assert_eq!(code(&o), 0);
    let page = text(&o.stdout);
    assert!(
        page.lines()
            .any(|l| l.starts_with(".TH runner-preflight-check 1")),
        "{page}"
    );
    assert!(page.contains("fail\\-on"), "{page}");
    assert!(page.contains("RUNNER_PREFLIGHT_FAIL_ON"), "{page}");
    let o = run_sync(&["man", "nope"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("no command `nope`"));
}

#[test]
fn check_help_documents_pipeline_flags_and_examples() {
    let o = run_sync(&["check", "--help"]);
    assert_eq!(code(&o), 0);
    let h = text(&o.stdout);
    for line in [
        "--format <FORMAT>",
        "- junit:",
        "- markdown:",
        "--fail-on <LEVEL>",
        "[env: RUNNER_PREFLIGHT_FAIL_ON=]",
        "--output-json <FILE>",
        "[env: RUNNER_PREFLIGHT_OUTPUT_JSON=]",
        "--output-junit <FILE>",
        "[env: RUNNER_PREFLIGHT_OUTPUT_JUNIT=]",
        "--output-markdown <FILE>",
        "[env: RUNNER_PREFLIGHT_OUTPUT_MARKDOWN=]",
        "[env: RUNNER_PREFLIGHT_DNS_SERVER=]",
        "[env: RUNNER_PREFLIGHT_TIMEOUT=]",
        "[env: RUNNER_PREFLIGHT_CONCURRENCY=]",
        "[env: RUNNER_PREFLIGHT_PROFILE=]",
        "Examples:",
        "  Before registering a runner:",
        "    runner-preflight check --profile dotcom",
        "  Gating a new host in a provisioning pipeline (exit code 1 stops it)",
        "    runner-preflight check --profile dotcom --fail-on warn \\",
        "      --output-json report.json --output-junit report.xml --output-markdown summary.md",
        "$GITHUB_STEP_SUMMARY",
        "Exit codes: 0 every gating capability passes",
    ] {
        assert!(h.contains(line), "check --help lacks {line:?}:\n{h}");
    }
    let o = run_sync(&["--help"]);
    let h = text(&o.stdout);
    for line in [
        "completions",
        "man",
        "runner-preflight completions bash",
        "--fail-on warn",
    ] {
        assert!(h.contains(line), "--help lacks {line:?}:\n{h}");
    }
    let o = run_sync(&["--version"]);
    assert_eq!(
        text(&o.stdout).trim(),
        format!("runner-preflight {}", env!("CARGO_PKG_VERSION"))
    );
}

// ---------------------------------------------------------------------------------------------
// Fleet artefacts: action.yml, Kubernetes manifests, Dockerfile, docs
// ---------------------------------------------------------------------------------------------

pub(crate) fn repo_file(rel: &str) -> String {
    read(&Path::new(REPO).join(rel))
}

pub(crate) fn yaml(rel: &str) -> Value {
    serde_saphyr::from_str::<Value>(&repo_file(rel))
        .unwrap_or_else(|e| panic!("{rel} is not valid YAML: {e}"))
}

/// The long flags `check` accepts, from its --help.
fn check_flags() -> BTreeSet<String> {
    let h = text(&run_sync(&["check", "--help"]).stdout);
    h.split_whitespace()
        .filter(|w| w.starts_with("--"))
        .map(|w| {
            w.trim_end_matches(',')
                .split(['=', '<'])
                .next()
                .unwrap_or("")
                .to_string()
        })
        .filter(|w| w.len() > 2)
        .collect()
}

/// Every `--flag` in `args` is a flag of `check`, and the docs mention it.
pub(crate) fn assert_documented_flags(what: &str, words: &[String]) {
    let flags = check_flags();
    let docs = repo_file("README.md");
    for w in words.iter().filter(|w| w.starts_with("--")) {
        let f = w.split('=').next().unwrap_or("");
        assert!(
            flags.contains(f),
            "{what} uses {f}, not a flag of check: {flags:?}"
        );
        assert!(docs.contains(f), "{what} uses {f}, not in README.md");
    }
}

/// The dist build command as the docs give it (the line in a code block starting with it).
fn docs_dist_build() -> String {
    let docs = repo_file("README.md");
    let line = docs
        .lines()
        .find(|l| l.starts_with("cargo build --profile dist"))
        .expect("README.md has the dist build command at the start of a line");
    line.split('#').next().unwrap_or("").trim().to_string()
}

#[test]
fn dockerfile_builds_with_the_documented_dist_command() {
    let df = repo_file("Dockerfile");
    let dist = docs_dist_build();
    assert_eq!(dist, "cargo build --profile dist --locked");
    let runs: Vec<&str> = df
        .lines()
        .filter_map(|l| l.trim().strip_prefix("RUN "))
        .filter(|l| l.contains("cargo build"))
        .collect();
    assert_eq!(
        runs,
        vec![dist.as_str()],
        "the Dockerfile's build = the docs'"
    );
    let froms: Vec<&str> = df
        .lines()
        .filter_map(|l| l.trim().strip_prefix("FROM "))
        .collect();
    // The binary comes from the build stage by default, or (the release workflow's image,
    // --build-arg BINARY_SOURCE=prebuilt) from the release's static binaries.
    assert_eq!(
        froms,
        [
            "rust:1-bookworm AS build",
            "scratch AS prebuilt",
            "${BINARY_SOURCE} AS binary",
            "debian:bookworm-slim"
        ],
        "multi-stage"
    );
    assert!(
        df.lines().any(|l| l.trim() == "ARG BINARY_SOURCE=build"),
        "{df}"
    );
    assert!(
        df.contains("COPY --from=binary /src/target/dist/runner-preflight "),
        "{df}"
    );
    assert!(df.contains("ca-certificates"));
    assert!(df.contains("target/dist/runner-preflight"));
    let user = df
        .lines()
        .filter_map(|l| l.trim().strip_prefix("USER "))
        .next_back()
        .expect("USER");
    assert!(user != "root" && user != "0", "non-root user: {user}");
    assert!(df.contains("ENTRYPOINT [\"runner-preflight\"]"), "{df}");
    // Cargo.toml's [profile.dist] exists for that command.
    assert!(repo_file("Cargo.toml").contains("[profile.dist]"));
    // .dockerignore keeps the local target dir out of the build context.
    assert!(repo_file(".dockerignore")
        .lines()
        .any(|l| l.trim() == "target"));
}

pub(crate) fn container_args(c: &Value) -> Vec<String> {
    c["args"]
        .as_array()
        .unwrap_or_else(|| panic!("container without args: {c:#}"))
        .iter()
        .map(|a| a.as_str().expect("string arg").to_string())
        .collect()
}

struct ActionStep {
    id: String,
    run: String,
    env: Vec<String>,
}

fn action_steps(action: &Value) -> Vec<ActionStep> {
    action["runs"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| ActionStep {
            id: s["id"].as_str().unwrap_or("").to_string(),
            run: s["run"].as_str().unwrap_or("").to_string(),
            env: s["env"]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
        })
        .collect()
}

#[test]
fn action_yml_is_a_composite_action_with_the_documented_interface() {
    let action = yaml("action.yml");
    assert_eq!(action["runs"]["using"], "composite");
    for input in [
        "profile",
        "vars",
        "capabilities",
        "fail-on",
        "binary",
        "version",
        "download-url",
        "verify-attestation",
        "token",
        "build-from-source",
    ] {
        assert!(
            action["inputs"][input]["description"].is_string(),
            "input {input}"
        );
    }
    assert_eq!(action["inputs"]["fail-on"]["default"], "fail");
    assert_eq!(action["inputs"]["profile"]["default"], "dotcom");
    // Downloading is the default; compiling is asked for.
    assert_eq!(action["inputs"]["build-from-source"]["default"], "false");
    for output in [
        "verdict",
        "exit-code",
        "report-json",
        "report-junit",
        "report-markdown",
    ] {
        let v = action["outputs"][output]["value"].as_str().unwrap_or("");
        assert!(v.contains("steps.check.outputs."), "output {output}: {v}");
    }
    for s in action["runs"]["steps"].as_array().expect("steps") {
        assert_eq!(
            s["shell"], "bash",
            "composite run steps need a shell: {s:#}"
        );
        assert!(
            s.get("uses").is_none(),
            "the action uploads nothing itself: {s:#}"
        );
        // Inputs reach the scripts through env, never by ${{ }} inside the script.
        assert!(!s["run"].as_str().unwrap_or("").contains("${{"), "{s:#}");
    }
    let steps = action_steps(&action);
    let build = steps.iter().find(|s| s.id == "build").expect("build step");
    assert!(
        build.run.lines().any(|l| l.trim() == docs_dist_build()),
        "the action builds with the documented dist command:\n{}",
        build.run
    );
    let check = steps.iter().find(|s| s.id == "check").expect("check step");
    let words: Vec<String> = check
        .run
        .split_whitespace()
        .map(|w| w.trim_matches(|c| c == '(' || c == ')').to_string())
        .collect();
    assert_documented_flags("action.yml", &words);
    for flag in [
        "--fail-on",
        "--output-json",
        "--output-junit",
        "--output-markdown",
    ] {
        assert!(
            words.iter().any(|w| w == flag),
            "action.yml runs check with {flag}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_check_step_runs_the_binary_and_sets_outputs() {
    // Run the action's check step script as the runner would (bash, env from the step's `env`).
    let action = yaml("action.yml");
    let steps = action_steps(&action);
    let step = steps
        .into_iter()
        .find(|s| s.id == "check")
        .expect("check step");
    let mut env_keys = step.env.clone();
    env_keys.sort();
    assert_eq!(
        env_keys,
        [
            "RP_BIN",
            "RP_CAPABILITIES",
            "RP_FAIL_ON",
            "RP_PROFILE",
            "RP_VARS"
        ]
    );

    let w = World::new().await;
    // A profile with a variable, to exercise the `vars` input; dual.test is left out (the
    // action has no --resolve input).
    let port = w.srv.port();
    let profile = w.path("action.yaml");
    std::fs::write(
        &profile,
        format!("schema_version: 1\nname: act\ntitle: Action test\nvariables:\n  okhost: {{ required: true }}\ncapabilities:\n  - id: core\n    title: Core\n    gating: true\n    entries:\n      - host: \"${{okhost}}\"\n        ports: [{port}]\n        http: {{ path: /zen, expect_header: X-GitHub-Request-Id }}\n  - id: extra\n    title: Extra\n    gating: false\n    entries:\n      - host: gone.test\n        ports: [{port}]\n"),
    )
    .expect("profile");
    // The build step with the `binary` input: no build, the binary is checked and handed on.
    let build = action_steps(&action)
        .into_iter()
        .find(|s| s.id == "build")
        .expect("build step");
    let mut build_env = build.env.clone();
    build_env.sort();
    assert_eq!(
        build_env,
        [
            "GH_TOKEN",
            "RP_ACTION_PATH",
            "RP_ACTION_REF",
            "RP_ARCH",
            "RP_BINARY",
            "RP_BUILD_FROM_SOURCE",
            "RP_DOWNLOAD_URL",
            "RP_OS",
            "RP_REPOSITORY",
            "RP_TOOL_CACHE",
            "RP_VERIFY_ATTESTATION",
            "RP_VERSION"
        ]
    );
    let build_output = w.path("build-output");
    let bin = env!("CARGO_BIN_EXE_runner-preflight");
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(&build.run)
        .env("RP_BINARY", bin)
        .env("GITHUB_OUTPUT", &build_output)
        .env("GITHUB_ACTION_PATH", REPO)
        .output()
        .expect("bash");
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).starts_with("runner-preflight "),
        "{}",
        text(&o.stdout)
    );
    assert_eq!(read(&build_output), format!("bin={bin}\n"));

    let temp = w.path("runner-temp");
    std::fs::create_dir(&temp).expect("RUNNER_TEMP");
    let gh_output = w.path("github-output");
    let summary = w.path("step-summary.md");
    let bin = env!("CARGO_BIN_EXE_runner-preflight").to_string();
    let script = step.run.clone();
    // Every capability (the input left empty): `extra` stays informational, so its failure is a
    // warning that --fail-on warn gates.
    let env: Vec<(String, String)> = vec![
        ("RP_BIN".into(), bin),
        ("RP_PROFILE".into(), profile.display().to_string()),
        ("RP_VARS".into(), "  okhost=ok.test  \n\n".into()),
        ("RP_CAPABILITIES".into(), String::new()),
        ("RP_FAIL_ON".into(), "warn".into()),
        ("RUNNER_TEMP".into(), temp.display().to_string()),
        ("GITHUB_OUTPUT".into(), gh_output.display().to_string()),
        ("GITHUB_ACTIONS".into(), "true".into()),
        ("GITHUB_STEP_SUMMARY".into(), summary.display().to_string()),
        ("RUNNER_PREFLIGHT_DNS_SERVER".into(), w.dns.addr.to_string()),
        (
            "RUNNER_PREFLIGHT_CA_FILE".into(),
            w.ca.display().to_string(),
        ),
        ("RUNNER_PREFLIGHT_TIMEOUT".into(), "2s".into()),
    ];
    let trust = w.path("trust");
    std::fs::create_dir_all(trust.join("certs")).expect("trust dir");
    std::fs::write(trust.join("empty.pem"), b"").expect("empty trust file");
    let run_step = |env: Vec<(String, String)>| {
        let script = script.clone();
        let trust = trust.clone();
        tokio::task::spawn_blocking(move || {
            // A clean environment, as on a runner: only PATH, the step's env and the runner's.
            let mut cmd = assert_cmd::Command::new("bash");
            cmd.env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("NO_COLOR", "1")
                .env("SSL_CERT_FILE", trust.join("empty.pem"))
                .env("SSL_CERT_DIR", trust.join("certs"))
                .envs(env)
                .arg("-c")
                .arg(&script)
                .timeout(std::time::Duration::from_secs(60));
            cmd.output().expect("run bash")
        })
    };

    // The `capabilities` input reaches --capability, and a capability named there is judged as
    // required for the run (issue 23 row 10): `extra` alone fails the run under --fail-on fail.
    let mut only_extra = env.clone();
    for (k, v) in only_extra.iter_mut() {
        match k.as_str() {
            "RP_CAPABILITIES" => *v = "extra".into(),
            "RP_FAIL_ON" => *v = "fail".into(),
            "GITHUB_OUTPUT" => *v = w.path("github-output-extra").display().to_string(),
            "GITHUB_STEP_SUMMARY" => *v = w.path("step-summary-extra.md").display().to_string(),
            _ => {}
        }
    }
    let out = run_step(only_extra).await.expect("thread");
    assert_eq!(code(&out), 1, "{}", text(&out.stdout));
    let outputs = read(&w.path("github-output-extra"));
    let json_path = outputs
        .lines()
        .find_map(|l| l.strip_prefix("report-json="))
        .unwrap_or_else(|| panic!("no report-json in {outputs}"));
    let report = json_of(&read(Path::new(json_path)));
    assert_eq!(report["verdict"], "fail", "{report:#}");
    assert_eq!(report["capabilities"][0]["id"], "extra");
    assert_eq!(report["capabilities"][0]["gating"], true);
    assert_eq!(report["inactive"][0]["id"], "core");

    let out = run_step(env).await.expect("thread");
    let stdout = text(&out.stdout);
    assert_eq!(
        code(&out),
        1,
        "--fail-on warn gates the warn verdict:\n{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("Verdict: WARN"), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("::error title=runner-preflight cause ")
                && l.contains("(blocks extra)::FAIL ")
                && l.contains("%0AFAIL gone.test: ")),
        "{stdout}"
    );
    let outputs = read(&gh_output);
    let get = |k: &str| {
        outputs
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("no output {k} in {outputs}"))
            .to_string()
    };
    assert_eq!(get("verdict"), "warn");
    assert_eq!(get("exit-code"), "1");
    let report = json_of(&read(Path::new(&get("report-json"))));
    assert_eq!(report["profile"]["variables"]["okhost"], "ok.test");
    assert_eq!(report["settings"]["fail_on"], "warn");
    assert_eq!(report["verdict"], "warn");
    let xml = read(Path::new(&get("report-junit")));
    xmllint_validate(&xml, w.dir.path());
    assert!(read(Path::new(&get("report-markdown"))).starts_with("## ⚠️ runner-preflight: WARN"));
    assert!(
        read(&summary).starts_with("## ⚠️ runner-preflight: WARN"),
        "job summary written"
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile environments: full disks, file size limits, outputs that are inputs, GitHub Actions
// annotations when stdout carries the report.
// ---------------------------------------------------------------------------------------------

const BIN: &str = env!("CARGO_BIN_EXE_runner-preflight");

/// The CLI (hermetic) with stdout on `/dev/full`: every write to it fails with ENOSPC.
async fn run_to_dev_full(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("open /dev/full");
        hermetic(BIN)
            .args(args)
            .stdout(std::process::Stdio::from(full))
            .output()
            .expect("spawn runner-preflight")
    })
    .await
    .expect("CLI thread panicked")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_report_to_a_full_stdout_is_an_error() {
    let w = World::new().await;
    for format in ["json", "table", "markdown"] {
        let out = run_to_dev_full(w.args(&["--format", format])).await;
        let stderr = text(&out.stderr);
        assert_eq!(code(&out), 2, "--format {format}: {stderr}");
        assert!(
            stderr.contains("cannot write the report to standard output: no space left on device"),
            "--format {format}: {stderr}"
        );
        assert!(!stderr.contains("os error"), "{stderr}");
    }
}

/// `check` under a file size limit of 1 KiB, as `(ulimit -f 1; runner-preflight …)`. SIGXFSZ
/// keeps its default action (the process would be killed without a word): the tool itself
/// ignores it, so the write fails with EFBIG (issue 22, row 11; this helper used to hide that
/// with `trap '' XFSZ`).
async fn run_under_fsize_limit(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        hermetic("bash")
            .arg("-c")
            .arg("ulimit -f 1 && exec \"$@\"")
            .arg("bash")
            .arg(BIN)
            .args(args)
            .output()
            .expect("spawn bash")
    })
    .await
    .expect("CLI thread panicked")
}

fn dir_entries(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_write_leaves_the_previous_report_whole() {
    let w = World::new().await;
    let old = "{\"verdict\": \"pass\", \"previous\": true}\n";
    for flag in ["--output", "--output-json", "--output-junit"] {
        let prev = w.path("prev.report");
        std::fs::write(&prev, old).expect("seed previous report");
        let before = dir_entries(w.dir.path());
        let mut args = vec![flag, prev.to_str().unwrap()];
        if flag == "--output" {
            args.extend(["--format", "json"]);
        }
        let out = run_under_fsize_limit(w.args(&args)).await;
        let stderr = text(&out.stderr);
        assert_eq!(code(&out), 2, "{flag}: {stderr}");
        assert!(stderr.contains(&format!("error: {flag} ")), "{stderr}");
        assert!(stderr.contains("file too large"), "{stderr}");
        assert!(stderr.contains("nothing was replaced"), "{stderr}");
        assert_eq!(read(&prev), old, "{flag}: the previous file is intact");
        assert_eq!(
            dir_entries(w.dir.path()),
            before,
            "{flag}: no temporary file left behind"
        );
    }
    // Without the limit the same run replaces the file with the whole report.
    let prev = w.path("prev.report");
    let out = run_with(
        w.args(&["--format", "json", "--output", prev.to_str().unwrap()]),
        vec![],
    )
    .await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(json_of(&read(&prev))["verdict"], "warn");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_that_is_an_input_is_refused_before_probing() {
    let w = World::new().await;
    let profile_before = read(Path::new(&w.profile));
    let ca_before = read(&w.ca);
    // The same file under another spelling: a `..` detour.
    let detour = w.dir.path().join("sub");
    std::fs::create_dir(&detour).expect("mkdir");
    let profile_detour = detour.join("..").join("pipe.yaml");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--output".into(), w.profile.clone()], "--output"),
        (
            vec!["--output-json".into(), profile_detour.display().to_string()],
            "--output-json",
        ),
        (
            vec!["--output-junit".into(), w.ca.display().to_string()],
            "--output-junit",
        ),
        (
            vec![
                "--output-markdown".into(),
                w.path(".env").display().to_string(),
            ],
            "--output-markdown",
        ),
    ];
    for (extra, flag) in cases {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let out = run_with(w.args(&extra), vec![]).await;
        let stderr = text(&out.stderr);
        assert_eq!(code(&out), 2, "{extra:?}: {stderr}");
        assert!(
            stderr.contains(&format!("error: {flag} ")) && stderr.contains("input"),
            "{extra:?}: {stderr}"
        );
        assert!(stderr.contains("refusing to overwrite"), "{stderr}");
    }
    assert_eq!(w.srv.connections(), 0, "nothing probed");
    assert_eq!(w.dns.queries(), 0, "nothing resolved");
    assert_eq!(read(Path::new(&w.profile)), profile_before);
    assert_eq!(read(&w.ca), ca_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_actions_annotations_go_to_stderr_when_stdout_is_the_report() {
    let w = World::new().await;
    for (format, flag) in [
        ("markdown", "--output-markdown"),
        ("junit", "--output-junit"),
    ] {
        let copy = w.path(&format!("copy.{format}"));
        let args = w.args(&["--format", format, flag, copy.to_str().unwrap()]);
        let plain = run_with(args.clone(), vec![]).await;
        assert_eq!(
            text(&plain.stdout),
            read(&copy),
            "{format} without GitHub Actions"
        );
        assert!(annotation_lines(&text(&plain.stderr)).is_empty());
        let gh = run_with(args, vec![("GITHUB_ACTIONS", "true".into())]).await;
        assert_eq!(code(&gh), code(&plain));
        let stdout = text(&gh.stdout);
        assert_eq!(
            stdout,
            read(&copy),
            "{format}: stdout is the report, byte for byte"
        );
        assert!(annotation_lines(&stdout).is_empty(), "{stdout}");
        let stderr = text(&gh.stderr);
        let ann = annotation_lines(&stderr);
        assert_eq!(ann.len(), 2, "{format}: {stderr}");
        assert!(
            ann.iter()
                .any(|l| l.starts_with("::warning title=runner-preflight cause ")
                    && l.contains("(blocks extra)::FAIL ")
                    && l.contains("%0AFAIL gone.test: ")),
            "{ann:#?}"
        );
    }
}

/// `check` on a pseudo-terminal made by `script`, which reports 0 columns (what a pty without a
/// size says); returns the table lines.
async fn table_on_a_zero_column_pty(w: &World, env: Vec<(String, String)>) -> Vec<String> {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut line = format!("stty cols 0 rows 0; exec {}", quote(BIN));
    // --verbose: every capability as a table (one a cause covers is one line otherwise).
    for a in w.args(&["--format", "table", "--verbose"]) {
        line.push(' ');
        line.push_str(&quote(&a));
    }
    let out = tokio::task::spawn_blocking(move || {
        let mut c = hermetic("script");
        c.args(["-q", "-e", "-c", &line, "/dev/null"]);
        c.env_remove("COLUMNS");
        for (k, v) in env {
            c.env(k, v);
        }
        c.stdin(std::process::Stdio::null())
            .output()
            .expect("spawn script (util-linux)")
    })
    .await
    .expect("script thread panicked");
    let stdout = text(&out.stdout).replace('\r', "");
    assert_eq!(code(&out), 0, "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("Verdict: WARN"), "{stdout}");
    stdout
        .lines()
        .filter(|l| l.starts_with('│') || l.starts_with('┌') || l.starts_with('╞'))
        .map(str::to_string)
        .collect()
}

fn widest(lines: &[String]) -> usize {
    lines.iter().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// Piped (a CI log, `| less`) with no `COLUMNS`: the table fits 80 columns, names whole
/// (issue 23 row 3); `--verbose` still draws every capability's table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipe_without_columns_gets_80_columns() {
    let w = World::new().await;
    let run = |extra: &'static [&'static str]| {
        let args = w.args(&[&["--format", "table"], extra].concat());
        tokio::task::spawn_blocking(move || {
            let mut c = hermetic(BIN);
            c.env_remove("COLUMNS").args(args);
            c.stdin(std::process::Stdio::null())
                .output()
                .expect("run the CLI")
        })
    };
    let out = run(&[]).await.expect("thread");
    let stdout = text(&out.stdout);
    assert_eq!(code(&out), 0, "{stdout}{}", text(&out.stderr));
    for line in stdout.lines() {
        assert!(
            line.chars().count() <= 80,
            "{} columns: {line}\n{stdout}",
            line.chars().count()
        );
    }
    assert!(
        stdout.contains("FAIL  extra — Extra downloads  [informational]: 1 name: see cause"),
        "{stdout}"
    );
    let verbose = run(&["--verbose"]).await.expect("thread");
    let verbose = text(&verbose.stdout);
    assert!(
        verbose.contains("FAIL  extra — Extra downloads  [informational]\n┌"),
        "{verbose}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_of_zero_columns_gets_a_readable_table() {
    let w = World::new().await;
    let lines = table_on_a_zero_column_pty(&w, vec![]).await;
    assert!(!lines.is_empty());
    let header = lines
        .iter()
        .find(|l| l.contains("verdict"))
        .unwrap_or_else(|| panic!("no header line with `verdict` in one piece: {lines:#?}"));
    assert!(
        header.contains("entry") && header.contains("cause"),
        "{header}"
    );
    let width = widest(&lines);
    assert!(
        (60..=80).contains(&width),
        "width {width}, fallback 80: {lines:#?}"
    );
    // COLUMNS is honoured when the terminal does not tell.
    let lines = table_on_a_zero_column_pty(&w, vec![("COLUMNS".into(), "70".into())]).await;
    assert!(widest(&lines) <= 70, "{lines:#?}");
    assert!(widest(&lines) >= 60, "{lines:#?}");
    // … but never below the readable minimum.
    let lines = table_on_a_zero_column_pty(&w, vec![("COLUMNS".into(), "5".into())]).await;
    assert!((55..=60).contains(&widest(&lines)), "{lines:#?}");
}
