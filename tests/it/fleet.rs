//! `fleet` and `fleet diff` on real `check` reports: several runs against the loopback world,
//! told apart by `--label` (they run on one machine, so they share the host name), one with a
//! planted difference (a name whose port is closed); plus a corrupt file and a report of
//! another schema version, which are skipped with warnings naming them.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::world::*;

const CA: &str = "Fleet Test Root CA";

/// A loopback world of two capabilities: `core` (api.fleet.test through a two-link CNAME
/// chain) and `results` (results.fleet.test), both gating, both fingerprinted.
pub struct FleetWorld {
    pub fx: Fixture,
    pub dns: DnsServer,
    pub srv: TestServer,
    pub profile: String,
    closed: u16,
    /// `--runner-dir`, `--public-roots`: written once (runs go in parallel and read the `.env`).
    trust_flags: Vec<String>,
}

impl FleetWorld {
    pub async fn start(title: &str) -> FleetWorld {
        let fx = Fixture::new(CA);
        let dns = DnsWorld::new()
            .name("api.fleet.test", cname("edge.cdn.fleet.net", 300))
            .name("edge.cdn.fleet.net", cname("node7.lb.fleet.org", 120))
            .name("node7.lb.fleet.org", loopback(30))
            .name("results.fleet.test", loopback(60))
            .start()
            .await;
        let srv = TestServer::start(Mode::Https {
            cert: fx.pki.leaf(&["api.fleet.test", "results.fleet.test"]),
            routes: github_routes(),
        })
        .await;
        let p = Profile::new("fleettest", title)
            .capability(
                "core",
                "Core API",
                true,
                &fingerprinted(&["api.fleet.test"], "/zen"),
            )
            .capability(
                "results",
                "Results upload",
                true,
                &fingerprinted(&["results.fleet.test"], "/zen"),
            );
        let profile = fx.profile(&p);
        let trust_flags = fx.agreeing_trust_stores();
        FleetWorld {
            trust_flags,
            fx,
            dns,
            srv,
            profile,
            closed: closed_port(),
        }
    }

    /// `check` with `labels`, as `format`; `blocked`: results.fleet.test's port is closed.
    pub async fn check(&self, labels: &[&str], blocked: bool, format: &str) -> Ran {
        let results_port = if blocked {
            self.closed
        } else {
            self.srv.port()
        };
        let mut args = strings(&[
            "check",
            "--profile",
            &self.profile,
            "--format",
            format,
            "--quiet",
            "--timeout",
            "2s",
        ]);
        args.extend(strings(&[
            "--dns-server",
            &self.dns.addr.to_string(),
            "--ca-file",
            &self.fx.ca.display().to_string(),
        ]));
        args.extend(self.trust_flags.iter().cloned());
        args.extend(connect_to("api.fleet.test", 443, self.srv.port()));
        args.extend(connect_to("results.fleet.test", 443, results_port));
        for l in labels {
            args.push("--label".into());
            args.push(l.to_string());
        }
        run_text(args, Vec::new()).await
    }

    /// A JSON report written to `dir/file`; asserts the run's verdict.
    pub async fn report(&self, dir: &Path, file: &str, labels: &[&str], blocked: bool) -> PathBuf {
        let ran = self.check(labels, blocked, "json").await;
        let json = ran.json();
        let expected = if blocked { "fail" } else { "pass" };
        assert_eq!(json["verdict"], expected, "{}\n{}", ran.stdout, ran.stderr);
        let path = dir.join(file);
        std::fs::write(&path, &ran.stdout).expect("write report");
        path
    }
}

/// The sweep of these tests in `dir`: zone a passes, zone b (two hosts, in 198.51.100.0/28; documentation addresses, data only)
/// cannot reach results.fleet.test.
pub async fn sweep(w: &FleetWorld, dir: &Path) {
    let (a, b1, b2) = tokio::join!(
        w.report(
            dir,
            "a1.json",
            &["zone=a", "ip=192.0.2.5", "node=a1"],
            false
        ),
        w.report(
            dir,
            "b1.json",
            &["zone=b", "ip=198.51.100.7", "node=b1"],
            true
        ),
        w.report(
            dir,
            "b2.json",
            &["zone=b", "ip=198.51.100.9", "node=b2"],
            true
        ),
    );
    for p in [a, b1, b2] {
        assert!(p.is_file());
    }
}

fn fleet_cmd(args: &[&str]) -> Ran {
    cli().args(args).output().expect("run fleet").into()
}

fn dir_arg(d: &Path) -> String {
    d.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_finds_the_planted_difference_and_skips_bad_files() {
    let w = FleetWorld::start("Fleet test").await;
    let dir = tempfile::tempdir().unwrap();
    sweep(&w, dir.path()).await;
    std::fs::write(
        dir.path().join("corrupt.json"),
        "{\"schema_version\": 1, \"host",
    )
    .unwrap();
    let mut v2: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("a1.json")).unwrap())
            .unwrap();
    v2["schema_version"] = 2.into();
    std::fs::write(dir.path().join("future.json"), v2.to_string()).unwrap();
    // Not a *.json file: not read.
    std::fs::write(dir.path().join("notes.txt"), "not a report").unwrap();

    let d = dir_arg(dir.path());
    let json = fleet_cmd(&["fleet", &d, "--format", "json"]);
    assert_eq!(json.code, 1, "a host failed its gate\n{}", json.stderr);
    let v = json.json();
    assert_eq!(v["summary"]["hosts"], 3, "{v:#}");
    assert_eq!(v["summary"]["fail"], 2);
    assert_eq!(v["summary"]["pass"], 1);
    // The warnings name the files.
    for (file, why) in [
        ("corrupt.json", "the JSON ends early"),
        ("future.json", "schema_version 2"),
    ] {
        assert!(
            json.stderr
                .lines()
                .any(|l| l.starts_with("warning: ") && l.contains(file) && l.contains(why)),
            "no warning for {file}: {}",
            json.stderr
        );
        assert!(
            v["skipped"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["file"].as_str().unwrap().ends_with(file)),
            "{v:#}"
        );
    }
    assert!(!json.stderr.contains("notes.txt"));
    assert!(!json.stderr.contains("panicked"));
    // The three runs share this machine's host name: their labels tell them apart.
    let names: Vec<&str> = v["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert!(
        names[0].ends_with("(ip=192.0.2.5, node=a1, zone=a)"),
        "{names:?}"
    );

    // The planted difference: results fails on the two zone-b hosts only.
    let diffs = v["differences"].as_array().unwrap();
    assert_eq!(diffs.len(), 1, "{v:#}");
    let d0 = &diffs[0];
    assert_eq!(d0["capability"], "results");
    assert_eq!(d0["failing"].as_array().unwrap().len(), 2);
    assert_eq!(d0["passing"].as_array().unwrap().len(), 1);
    assert_eq!(d0["explanation"]["labels"]["zone"], "b", "{d0:#}");
    assert_eq!(d0["explanation"]["prefix"]["prefix"], "198.51.100.0/28");
    assert_eq!(d0["explanation"]["prefix"]["label"], "ip");
    // node=b1 / node=b2 differ: not a common label.
    assert!(d0["explanation"]["labels"].get("node").is_none());
    let n0 = &d0["names"][0];
    assert_eq!(n0["host"], "results.fleet.test");
    assert_eq!(
        n0["summary"],
        "2 of 3 hosts cannot reach results.fleet.test: all in subnet 198.51.100.0/28 (label ip) / label zone=b"
    );
    assert_eq!(n0["cause"]["hosts"], 2);
    assert!(
        n0["cause"]["text"]
            .as_str()
            .unwrap()
            .contains("connection refused"),
        "{n0:#}"
    );
    assert!(v["everywhere"].as_array().unwrap().is_empty());

    // The table and Markdown say the same.
    let table = fleet_cmd(&["fleet", &d]);
    assert_eq!(table.code, 1);
    assert!(
        table.stdout.contains("What differs between hosts:"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains(
            "2 of 3 hosts cannot reach results.fleet.test: all in subnet 198.51.100.0/28 (label ip) / label zone=b"
        ),
        "{}",
        table.stdout
    );
    let header = table.stdout.lines().find(|l| l.contains("│ host")).unwrap();
    assert!(
        header.contains("core") && header.contains("results"),
        "{}",
        table.stdout
    );
    let md = fleet_cmd(&["fleet", &d, "--format", "markdown"]);
    assert_eq!(md.code, 1);
    assert!(
        md.stdout
            .contains("| host | labels | verdict | core | results |"),
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains("cannot reach results.fleet.test"));

    // Only the passing host: exit 0, nothing differs.
    let only_a = dir.path().join("a1.json");
    let a = fleet_cmd(&["fleet", &dir_arg(&only_a), "--format", "json"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert!(a.json()["differences"].as_array().unwrap().is_empty());

    // Nothing usable: exit 2, in our words.
    let bad = fleet_cmd(&[
        "fleet",
        &dir_arg(&dir.path().join("corrupt.json")),
        &dir_arg(&dir.path().join("future.json")),
        &dir_arg(&dir.path().join("missing.json")),
    ]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("no usable report"), "{}", bad.stderr);
    assert!(
        bad.stderr
            .contains("missing.json: cannot read: no such file"),
        "{}",
        bad.stderr
    );
    assert!(bad.stdout.is_empty());

    // --output: written atomically; the table on stdout is replaced by a line on stderr.
    let out = dir.path().join("fleet.md");
    let written = fleet_cmd(&["fleet", &d, "--format", "markdown", "-o", &dir_arg(&out)]);
    assert_eq!(written.code, 1);
    assert!(written.stdout.is_empty());
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("cannot reach"));
    // An output inside the inputs is refused before anything is read.
    let clobber = fleet_cmd(&["fleet", &d, "-o", &dir_arg(&dir.path().join("a1.json"))]);
    assert_eq!(clobber.code, 2, "{}", clobber.stderr);
    assert!(
        clobber.stderr.contains("refusing to overwrite an input"),
        "{}",
        clobber.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_finds_a_flipped_capability_and_exits_1_when_worse() {
    let w = FleetWorld::start("Fleet test").await;
    let old = tempfile::tempdir().unwrap();
    let new = tempfile::tempdir().unwrap();
    // Monday: both pass. Tuesday: node a2 cannot reach results; a new node c1 appears.
    let _ = tokio::join!(
        w.report(old.path(), "a1.json", &["node=a1"], false),
        w.report(old.path(), "a2.json", &["node=a2"], false),
        w.report(new.path(), "a1.json", &["node=a1"], false),
        w.report(new.path(), "a2.json", &["node=a2"], true),
        w.report(new.path(), "c1.json", &["node=c1"], false),
    );
    let (o, n) = (dir_arg(old.path()), dir_arg(new.path()));
    let j = fleet_cmd(&["fleet", "diff", &o, &n, "--format", "json"]);
    assert_eq!(j.code, 1, "something got worse\n{}", j.stderr);
    let v = j.json();
    assert_eq!(v["worse"], true);
    assert_eq!(v["unchanged"], 1, "{v:#}");
    assert_eq!(v["appeared"].as_array().unwrap().len(), 1);
    assert!(v["appeared"][0]["name"]
        .as_str()
        .unwrap()
        .contains("node=c1"));
    assert!(v["disappeared"].as_array().unwrap().is_empty());
    let changed = v["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1, "{v:#}");
    let c = &changed[0];
    assert!(c["name"].as_str().unwrap().contains("node=a2"));
    assert_eq!(
        (c["old"].as_str(), c["new"].as_str()),
        (Some("pass"), Some("fail"))
    );
    let cap = &c["capabilities"][0];
    assert_eq!(cap["id"], "results");
    assert_eq!(
        (cap["old"].as_str(), cap["new"].as_str()),
        (Some("pass"), Some("fail"))
    );
    assert_eq!(cap["worse"], true);
    assert_eq!(cap["names"][0]["host"], "results.fleet.test");

    let t = fleet_cmd(&["fleet", "diff", &o, &n]);
    assert_eq!(t.code, 1);
    assert!(
        t.stdout.contains("results: PASS → FAIL (worse)"),
        "{}",
        t.stdout
    );
    assert!(t.stdout.contains("something got worse"), "{}", t.stdout);

    let h = fleet_cmd(&["fleet", "diff", &o, &n, "--format", "html"]);
    assert_eq!(h.code, 1);
    assert!(h.stdout.starts_with("<!doctype html>"), "{}", h.stdout);
    assert!(h.stdout.contains("<h2>Appeared</h2>") && h.stdout.contains("<h2>Changed</h2>"));
    assert!(
        h.stdout.contains("results: PASS → FAIL (worse)"),
        "{}",
        h.stdout
    );
    assert!(!h.stdout.contains("<script") && !h.stdout.contains("<link"));

    // Back the other way: better, and the new host disappears; exit 0.
    let back = fleet_cmd(&["fleet", "diff", &n, &o]);
    assert_eq!(back.code, 0, "{}", back.stdout);
    assert!(back.stdout.contains("nothing got worse"), "{}", back.stdout);
    assert!(back.stdout.contains("disappeared:"), "{}", back.stdout);
    // The same sweep twice: nothing changed.
    let same = fleet_cmd(&["fleet", "diff", &o, &o, "--format", "markdown"]);
    assert_eq!(same.code, 0);
    assert!(same.stdout.contains("0 changed"), "{}", same.stdout);

    // A sweep with nothing usable: exit 2.
    let empty = tempfile::tempdir().unwrap();
    let e = fleet_cmd(&["fleet", "diff", &o, &dir_arg(empty.path())]);
    assert_eq!(e.code, 2, "{}", e.stderr);
    assert!(
        e.stderr.contains("no usable report in the new sweep"),
        "{}",
        e.stderr
    );
}
