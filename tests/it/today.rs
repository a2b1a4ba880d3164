//! True on today's GitHub (issue 20, https://github.com/runner-preflight/runner-preflight/issues/20):
//! the built-in profiles as the December 2026 facts have them, checked against loopback worlds.

use std::collections::BTreeSet;
use std::time::Duration;

use runner_preflight::plan::{self, Plan, PlanOptions};

use crate::world::*;

/// The test CA of every fixture here.
const CA: &str = "Preflight Today Test Root CA";

/// `check` of `profile` as JSON, without throughput, against the test's DNS server, with `host`
/// sent to the loopback server on `port` and every trust store agreeing on the test's CA.
fn one_host_json_args(
    profile: &str,
    dns: &DnsServer,
    fx: &Fixture,
    host: &str,
    port: u16,
) -> Vec<String> {
    let mut args = json_args(profile, dns, fx, "2s");
    args.push("--no-throughput".to_string());
    args.extend(connect_to(host, 443, port));
    args
}

/// `check --format json --quiet` of `profile` against `dns` within `timeout`, trusting the
/// fixture's CA in all three stores.
fn json_args(profile: &str, dns: &DnsServer, fx: &Fixture, timeout: &str) -> Vec<String> {
    let mut args = strings(&["check", "--profile", profile, "--format", "json", "--quiet"]);
    args.extend(["--dns-server".to_string(), dns.addr.to_string()]);
    args.extend(["--ca-file".to_string(), fx.ca.display().to_string()]);
    args.extend(["--timeout".to_string(), timeout.to_string()]);
    args.extend(fx.agreeing_trust_stores());
    args
}

fn plan_of(profile: &str, vars: &[(&str, &str)]) -> Plan {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let profile = runner_preflight::profile::resolve(profile).expect("builtin");
    plan::build(&profile, &PlanOptions::new(&vars, &[], &[])).expect("plan")
}

/// The names a plan probes under gating (`true`) or informational (`false`) capabilities.
fn names(plan: &Plan, gating: bool) -> BTreeSet<String> {
    plan.capabilities
        .iter()
        .filter(|c| c.gating == gating)
        .flat_map(|c| c.entries.iter())
        .flat_map(|e| e.targets.iter().map(|t| t.host.clone()))
        .collect()
}

/// `check --format json` of `profile` against `dns`, trusting the fixture's CA in all three stores.
async fn check_json(
    profile: &str,
    dns: &DnsServer,
    fx: &Fixture,
    timeout: &str,
    extra: &[String],
) -> Outcome {
    let mut args = json_args(profile, dns, fx, timeout);
    args.extend(extra.iter().cloned());
    run_json(args).await
}

#[test]
fn ghecom_probes_the_names_a_real_tenant_lists_and_none_that_no_source_has() {
    let plan = plan_of("ghecom", &[("subdomain", "octo"), ("region", "eu")]);
    let gating = names(&plan, true);
    for host in [
        "octo.ghe.com",
        "api.octo.ghe.com",
        "auth.ghe.com",
        "broker.actions.octo.ghe.com",
        "launch-receiver.actions.octo.ghe.com",
        "results-receiver.actions.octo.ghe.com",
        "pkg.actions.octo.ghe.com",
        "github.com",
        "release-assets.githubusercontent.com",
    ] {
        assert!(gating.contains(host), "{host} must gate: {gating:?}");
    }
    let all: BTreeSet<String> = gating.union(&names(&plan, false)).cloned().collect();
    for host in [
        "pipelines.actions.octo.ghe.com",
        "vstoken.actions.octo.ghe.com",
        "token.actions.octo.ghe.com",
        "codeload.octo.ghe.com",
    ] {
        assert!(!all.contains(host), "no source names {host}: {all:?}");
    }
    let info = names(&plan, false);
    for host in [
        "tokenghub.actions.githubusercontent.com",
        "mpsghub.actions.githubusercontent.com",
        "run-proxima-1-prod-weu-01-az3.actions.octo.ghe.com",
    ] {
        assert!(info.contains(host), "{host} is informational: {info:?}");
    }
    // The runner's update package is followed through its redirects, as for github.com.
    let updates = plan
        .capabilities
        .iter()
        .find(|c| c.id == "runner-updates")
        .expect("runner-updates");
    assert!(updates
        .entries
        .iter()
        .any(|e| e.redirect.as_ref().is_some_and(|r| r.runner_package)));
    // The region-specific names belong to the EU tenant only.
    let jp = plan_of("ghecom", &[("subdomain", "octo"), ("region", "jp")]);
    assert!(!names(&jp, false)
        .iter()
        .any(|h| h.starts_with("run-proxima")));
}

#[test]
fn ghes_with_connect_gates_only_on_the_three_github_com_names() {
    let plan = plan_of(
        "ghes",
        &[("hostname", "ghes.example.com"), ("connect", "on")],
    );
    let connect: BTreeSet<String> = plan
        .capabilities
        .iter()
        .filter(|c| c.gating && c.id == "github-connect")
        .flat_map(|c| c.entries.iter())
        .flat_map(|e| e.targets.iter().map(|t| t.host.clone()))
        .collect();
    let want: BTreeSet<String> = ["github.com", "api.github.com", "codeload.github.com"]
        .map(String::from)
        .into();
    assert_eq!(connect, want);
    let gating = names(&plan, true);
    assert!(
        !gating
            .iter()
            .any(|h| h.ends_with(".githubusercontent.com") || h == "ghcr.io"),
        "{gating:?}"
    );
    // A GHES runner never talks to github.com's Actions services.
    let all: BTreeSet<String> = gating.union(&names(&plan, false)).cloned().collect();
    for host in [
        "broker.actions.githubusercontent.com",
        "pipelines.actions.githubusercontent.com",
        "vstoken.actions.githubusercontent.com",
    ] {
        assert!(!all.contains(host), "{all:?}");
    }
}

#[test]
fn dotcom_keeps_ghcr_io_informational_and_probes_the_jobs_connectivity_urls() {
    let plan = plan_of("dotcom", &[]);
    assert!(!names(&plan, true).contains("ghcr.io"));
    assert!(names(&plan, false).contains("ghcr.io"));
    let specs: Vec<(String, String, Option<u64>)> = plan
        .capabilities
        .iter()
        .filter(|c| c.gating)
        .flat_map(|c| c.entries.iter())
        .flat_map(|e| e.targets.iter())
        .flat_map(|t| {
            t.endpoints
                .iter()
                .filter_map(|ep| ep.http.as_ref())
                .map(|h| (t.host.clone(), h.path.clone(), h.timeout_secs))
        })
        .collect();
    for (host, path) in [
        ("run.actions.githubusercontent.com", "/health"),
        ("token.actions.githubusercontent.com", "/ready"),
    ] {
        assert!(
            specs.contains(&(host.to_string(), path.to_string(), Some(5))),
            "{host}{path} within 5 s: {specs:?}"
        );
    }
}

/// A GHE.com tenant played on loopback: every name the profile gives resolves, presents a
/// certificate from the test CA and answers; the run passes, so the profile holds together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ghecom_profile_passes_against_a_loopback_tenant() {
    let fx = Fixture::new(CA);
    let plan = plan_of("ghecom", &[("subdomain", "octo"), ("region", "eu")]);
    let hosts = plan.hosts();
    let mut world = DnsWorld::new();
    for h in &hosts {
        world.set(h, loopback(60));
    }
    let dns = world.start().await;
    let names: Vec<&str> = hosts.iter().map(String::as_str).collect();
    // github.com names the latest runner release, as it does (the package then answers 200).
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&names),
        routes: github_routes().route(LATEST, tag("2.336.0")),
    })
    .await;
    let mut args = strings(&[
        "--var",
        "subdomain=octo",
        "--var",
        "region=eu",
        "--no-throughput",
        "--connect-to",
    ]);
    args.push(format!(":443:127.0.0.1:{}", srv.port()));
    let o = check_json("ghecom", &dns, &fx, "2s", &args).await;
    assert_eq!(o.code, 0, "{:#}", o.json);
    assert_eq!(o.json["verdict"], "pass");
    for id in [
        "essential",
        "actions-download",
        "artifacts",
        "runner-updates",
    ] {
        let cap = o.json["capabilities"]
            .as_array()
            .expect("caps")
            .iter()
            .find(|c| c["id"] == id)
            .expect("capability");
        assert_eq!(cap["verdict"], "pass", "{id}");
    }
    let seen = srv.server_names();
    for host in [
        "broker.actions.octo.ghe.com",
        "results-receiver.actions.octo.ghe.com",
        "pkg.actions.octo.ghe.com",
        "github.com",
    ] {
        assert!(
            seen.iter().any(|s| s.as_deref() == Some(host)),
            "{host} was not reached: {seen:?}"
        );
    }
}

/// The job's connectivity check waits 5 s for an answer, as the runner's job does, even when the
/// run allows longer: a URL that answers later fails with a 5 s timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_connectivity_check_gives_up_after_five_seconds_as_the_job_does() {
    let fx = Fixture::new(CA);
    let host = "run.actions.githubusercontent.com";
    let dns = DnsWorld::at_loopback(&[host]).start().await;
    // Nobody connects to `never`: the answer on /health is held until the client gives up.
    let never = TestServer::start(Mode::Http {
        routes: github_routes(),
    })
    .await;
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&[host]),
        routes: github_routes().held_until_accepted("/health", never.accepted()),
    })
    .await;
    let profile = fx.profile(&Profile::new("job", "Job checks").capability(
        "essential",
        "Essential",
        true,
        "      - host: run.actions.githubusercontent.com\n        http: { path: /health, timeout: 5 }\n",
    ));
    let o = check_json(
        &profile,
        &dns,
        &fx,
        "20s",
        &connect_to(host, 443, srv.port()),
    )
    .await;
    assert_eq!(o.code, 1, "{:#}", o.json);
    let t = target(&o.json, host);
    let http = t["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["phase"] == "http")
        .expect("http check");
    assert_eq!(http["failure"]["kind"], "timeout", "{http:#}");
    assert!(
        o.elapsed < Duration::from_secs(15),
        "the 20 s run timeout was used: {:?}",
        o.elapsed
    );
}

// ---------------------------------------------------------------------------------------------
// The latest runner release, learned at run time
// ---------------------------------------------------------------------------------------------

const LATEST: &str = "/actions/runner/releases/latest";
const ASSETS: &str = "release-assets.githubusercontent.com";
/// A signed download URL's token: it must never reach an output.
const SIG: &str = "sig=TOKEN-SHOULD-NOT-LEAK";
/// The profile's pinned fallback package.
const PINNED: &str =
    "/actions/runner/releases/download/v2.321.0/actions-runner-linux-x64-2.321.0.tar.gz";

/// A profile whose `updates` capability follows the latest runner package (pinned fallback),
/// with github.com fingerprinted as the built-in profiles do.
fn latest_profile(fx: &Fixture) -> String {
    fx.profile(&Profile::new("latest", "Latest runner").capability(
        "updates",
        "Runner updates",
        true,
        &format!(
            "      - host: github.com\n        http: {{ path: /, expect_header: {FINGERPRINT} }}\n      - redirect:\n          url: \"https://github.com{PINNED}\"\n          expect: [{ASSETS}]\n          runner_package: true\n          runner_release: latest\n"
        ),
    ))
}

/// A fake github.com: `releases/latest` answers `latest` (a 302 to a tag, or something else),
/// every package of `packages` (and the pinned one) redirects to the asset host, and the asset
/// host answers 206 with the package's size, 100 MB + the package's index.
fn fake_github(latest: HttpResponse, packages: &[&str]) -> Routes {
    let mut routes =
        Routes::new(HttpResponse::status(404).header(FINGERPRINT, "R:404")).route(LATEST, latest);
    for (i, p) in packages.iter().chain([&PINNED]).enumerate() {
        let asset = format!("/github-production-release-asset/{i}");
        routes = routes
            .route(
                p,
                HttpResponse::status(302)
                    .header(FINGERPRINT, "R:1")
                    .header("Location", &format!("https://{ASSETS}{asset}?{SIG}")),
            )
            .route(
                &asset,
                HttpResponse::status(206)
                    .header("Content-Range", &format!("bytes 0-0/{}", 100_000_000 + i)),
            );
    }
    routes
}

fn tag(version: &str) -> HttpResponse {
    HttpResponse::status(302).header(FINGERPRINT, "R:2").header(
        "Location",
        &format!("https://github.com/actions/runner/releases/tag/v{version}"),
    )
}

/// Runs `check` against the fake github.com in `format`; returns the run and the server.
async fn check_latest(routes: Routes, format: &str, extra: &[&str]) -> (Ran, TestServer) {
    let fx = Fixture::new(CA);
    let dns = DnsWorld::at_loopback(&["github.com", ASSETS]).start().await;
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&["github.com", ASSETS]),
        routes,
    })
    .await;
    let mut args = strings(&[
        "check",
        "--profile",
        &latest_profile(&fx),
        "--format",
        format,
        "--quiet",
        "--no-throughput",
        "--timeout",
        "2s",
        "--dns-server",
        &dns.addr.to_string(),
        "--ca-file",
        &fx.ca.display().to_string(),
        "--connect-to",
        &format!(":443:127.0.0.1:{}", srv.port()),
    ]);
    args.extend(fx.agreeing_trust_stores());
    args.extend(strings(extra));
    let ran = run_text(args, vec![]).await;
    (ran, srv)
}

fn redirect_of(json: &serde_json::Value) -> &serde_json::Value {
    &json["capabilities"][0]["entries"][1]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_latest_release_package_for_the_asked_platform_is_followed_through_its_redirect() {
    let packages = [
        "/actions/runner/releases/download/v2.336.0/actions-runner-linux-x64-2.336.0.tar.gz",
        "/actions/runner/releases/download/v2.336.0/actions-runner-win-arm64-2.336.0.zip",
        "/actions/runner/releases/download/v2.336.0/actions-runner-osx-arm64-2.336.0.tar.gz",
    ];
    for (i, (os, arch)) in [("linux", "x64"), ("win", "arm64"), ("osx", "arm64")]
        .into_iter()
        .enumerate()
    {
        let (ran, srv) = check_latest(
            fake_github(tag("2.336.0"), &packages),
            "json",
            &["--runner-os", os, "--runner-arch", arch],
        )
        .await;
        assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
        let json = ran.json();
        let e = redirect_of(&json);
        assert_eq!(e["verdict"], "pass", "{e:#}");
        let rel = &e["redirect"]["release"];
        assert_eq!(rel["latest"], "2.336.0", "{rel:#}");
        assert_eq!(rel["version"], "2.336.0");
        assert_eq!(rel["version_from"], "latest_release");
        assert_eq!(rel["asset_from"], "latest_release");
        assert_eq!(rel["platform_from"], "flags");
        assert_eq!(
            (rel["os"].as_str(), rel["arch"].as_str()),
            (Some(os), Some(arch))
        );
        let asset = packages[i].rsplit('/').next().unwrap_or_default();
        assert_eq!(rel["asset"], asset);
        // The update estimate uses this package's real size.
        assert_eq!(e["redirect"]["size"], 100_000_000 + i as u64, "{e:#}");
        assert_eq!(e["redirect"]["size_from"], "server");
        let paths: Vec<String> = srv.seen_requests().into_iter().map(|r| r.path).collect();
        assert!(paths.iter().any(|p| p == LATEST), "{paths:?}");
        assert!(paths.iter().any(|p| p == packages[i]), "{paths:?}");
        assert!(!paths.iter().any(|p| p == PINNED), "{paths:?}");
        assert!(!ran.stdout.contains(SIG), "{}", ran.stdout);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_table_names_the_version_the_package_and_where_each_came_from() {
    let pkg = "/actions/runner/releases/download/v2.336.0/actions-runner-linux-arm-2.336.0.tar.gz";
    let (ran, _srv) = check_latest(
        fake_github(tag("2.336.0"), &[pkg]),
        "table",
        &["--runner-os", "linux", "--runner-arch", "arm"],
    )
    .await;
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("latest v2.336.0 (github.com releases/latest); package actions-runner-linux-arm-2.336.0.tar.gz (--runner-os/--runner-arch: linux arm)"),
        "{}",
        ran.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_latest_lookup_falls_back_to_the_pinned_package_and_says_so() {
    // releases/latest answers 200 with a page (a filtering proxy's, a changed site): no tag.
    let (ran, srv) = check_latest(
        fake_github(HttpResponse::ok_with(FINGERPRINT, "R:3"), &[]),
        "json",
        &[],
    )
    .await;
    let json = ran.json();
    let e = redirect_of(&json);
    assert_eq!(e["verdict"], "warn", "never a silent PASS: {e:#}");
    let rel = &e["redirect"]["release"];
    assert_eq!(rel["failure"]["kind"], "not_a_tag", "{rel:#}");
    assert_eq!(rel["failure"]["status"], 200);
    assert_eq!(rel["version_from"], "pinned_url");
    assert_eq!(rel["version"], "2.321.0");
    assert_eq!(rel["asset"], "actions-runner-linux-x64-2.321.0.tar.gz");
    assert!(rel["latest"].is_null());
    let paths: Vec<String> = srv.seen_requests().into_iter().map(|r| r.path).collect();
    assert!(paths.iter().any(|p| p == PINNED), "{paths:?}");
    let cause = e["targets"][0]["cause"].as_str().unwrap_or_default();
    assert!(
        cause.contains("latest runner release could not be learned")
            && cause.contains("pinned package was checked instead"),
        "{cause}"
    );
    // A platform the runner publishes nothing for falls back the same way.
    let (ran, _srv) = check_latest(
        fake_github(tag("2.336.0"), &[]),
        "table",
        // --verbose: the name's own row (a cause folds it otherwise, issue 23 row 2).
        &["--runner-os", "osx", "--runner-arch", "arm", "--verbose"],
    )
    .await;
    assert!(
        ran.stdout.contains("latest v2.336.0; latest package not checked: the runner publishes no package for osx arm; fell back to the profile's pinned v2.321.0 package actions-runner-linux-x64-2.321.0.tar.gz"),
        "{}",
        ran.stdout
    );
}

/// No route to GitHub (every name NXDOMAIN): the built-in dotcom profile finishes quickly, every
/// capability fails, and the latest-release lookup folds into the same root cause instead of
/// adding one of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_github_the_latest_lookup_folds_into_the_dns_root_cause() {
    let fx = Fixture::new(CA);
    let dns = DnsWorld::new().start().await;
    let o = check_json("dotcom", &dns, &fx, "2s", &strings(&["--no-throughput"])).await;
    assert_eq!(o.code, 1, "{:#}", o.json);
    for cap in o.json["capabilities"].as_array().expect("caps") {
        if cap["gating"] == true {
            assert_eq!(cap["verdict"], "fail", "{}", cap["id"]);
        }
    }
    let updates = o.json["capabilities"]
        .as_array()
        .expect("caps")
        .iter()
        .find(|c| c["id"] == "runner-updates")
        .expect("runner-updates");
    let e = updates["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["redirect"].is_object())
        .expect("the redirect entry");
    assert_eq!(
        e["redirect"]["release"]["failure"]["kind"], "no_answer",
        "{e:#}"
    );
    assert_eq!(e["verdict"], "fail");
    let causes: Vec<&str> = o.json["diagnosis"]
        .as_array()
        .expect("diagnosis")
        .iter()
        .filter_map(|d| d["kind"].as_str())
        .collect();
    assert_eq!(causes.len(), 1, "one root cause: {causes:?}");
    assert!(o.elapsed < Duration::from_secs(30), "took {:?}", o.elapsed);
}

// ---------------------------------------------------------------------------------------------
// Runner version currency
// ---------------------------------------------------------------------------------------------

/// `latest_profile` with GitHub's version rules: at least 2.329.0, at most 30 days behind.
fn versioned_profile(fx: &Fixture) -> String {
    let base = std::fs::read_to_string(latest_profile(fx)).expect("profile");
    fx.profile_file(
        "versioned.yaml",
        &format!("{base}runner_version:\n  minimum: \"2.329.0\"\n  source: \"GitHub refuses older runners\"\n  max_days_behind: 30\n"),
    )
}

/// An RFC 3339 time `days` ago.
fn days_ago(days: i64) -> String {
    (time::OffsetDateTime::now_utc() - time::Duration::days(days))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format")
}

/// The releases API's path (its `?per_page=100` query is matched without).
const RELEASES_API: &str = "/repos/actions/runner/releases";

/// The releases API's answer: `(version, days ago)`, newest first, with the fields GitHub's
/// answer has around the ones read (assets, notes).
fn releases_list(releases: &[(&str, i64)]) -> HttpResponse {
    let items: Vec<serde_json::Value> = releases
        .iter()
        .map(|(v, d)| {
            serde_json::json!({
                "tag_name": format!("v{v}"),
                "name": format!("v{v}"),
                "draft": false,
                "prerelease": false,
                "published_at": days_ago(*d),
                "body": "## What's Changed",
                "assets": [{"name": format!("actions-runner-linux-x64-{v}.tar.gz"), "size": 200_000_000}],
            })
        })
        .collect();
    HttpResponse::ok_with(FINGERPRINT, "R:7")
        .header("Content-Type", "application/json")
        .body(serde_json::to_vec(&items).expect("json"))
}

/// github.com with v2.336.0 as the latest release, published `released` days ago, its tag page
/// carrying the date as GitHub's does, and api.github.com's releases list with v2.335.0 a
/// month before it.
fn github_with_release(released: i64) -> Routes {
    github_with_release_page(released).route(
        RELEASES_API,
        releases_list(&[
            ("2.336.0", released),
            ("2.335.0", released + 30),
            ("2.334.0", released + 60),
        ]),
    )
}

/// [`github_with_release`] without the releases list (api.github.com answers 404).
fn github_with_release_page(released: i64) -> Routes {
    let pkg = "/actions/runner/releases/download/v2.336.0/actions-runner-linux-x64-2.336.0.tar.gz";
    fake_github(tag("2.336.0"), &[pkg]).route(
        "/actions/runner/releases/tag/v2.336.0",
        HttpResponse::ok_with(FINGERPRINT, "R:5").body(format!(
            "<html><body><h1>v2.336.0</h1><relative-time class=\"no-wrap\" datetime=\"{}\">recently</relative-time></body></html>",
            days_ago(released)
        )),
    )
}

/// How the runner is installed in the fixture's runner directory.
enum Layout {
    /// `bin` → `bin.X.Y.Z`, as update.sh leaves it.
    Linked(&'static str),
    /// A fresh unpack: a plain `bin/` with the package's deps file.
    Unpacked(&'static str),
}

async fn check_version(released: i64, layout: Option<Layout>) -> (Ran, serde_json::Value) {
    check_version_in(github_with_release(released), layout).await
}

/// `check` of the versioned profile against `routes` (github.com, its release assets and
/// api.github.com on one loopback server) with the runner directory laid out as `layout`.
async fn check_version_in(routes: Routes, layout: Option<Layout>) -> (Ran, serde_json::Value) {
    let ran = check_version_as(routes, layout, "json").await;
    let json = ran.json();
    let rv = json["runner_version"].clone();
    (ran, rv)
}

/// The same run in another `--format`.
async fn check_version_as(routes: Routes, layout: Option<Layout>, format: &str) -> Ran {
    let fx = Fixture::new(CA);
    let dir = fx.path("");
    match layout {
        Some(Layout::Linked(v)) => {
            std::fs::create_dir(dir.join(format!("bin.{v}"))).expect("mkdir");
            std::os::unix::fs::symlink(format!("bin.{v}"), dir.join("bin")).expect("symlink");
        }
        Some(Layout::Unpacked(v)) => {
            std::fs::create_dir(dir.join("bin")).expect("mkdir");
            std::fs::write(
                dir.join("bin/Runner.Listener.deps.json"),
                format!("{{\"targets\": {{\".NETCoreApp,Version=v8.0/linux-x64\": {{\"Runner.Listener/{v}\": {{}}}}}}}}"),
            )
            .expect("deps");
        }
        None => {}
    }
    let dns = DnsWorld::at_loopback(&["github.com", ASSETS, "api.github.com"])
        .start()
        .await;
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&["github.com", ASSETS, "api.github.com"]),
        routes,
    })
    .await;
    let mut args = strings(&[
        "check",
        "--profile",
        &versioned_profile(&fx),
        "--format",
        format,
        "--quiet",
        "--no-throughput",
        "--timeout",
        "2s",
        "--runner-os",
        "linux",
        "--runner-arch",
        "x64",
        "--dns-server",
        &dns.addr.to_string(),
        "--ca-file",
        &fx.ca.display().to_string(),
        "--connect-to",
        &format!(":443:127.0.0.1:{}", srv.port()),
    ]);
    // The fixture's directory is the runner directory (--runner-dir) these flags name.
    args.extend(fx.agreeing_trust_stores());
    run_text(args, vec![]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_below_the_registration_minimum_fails_and_the_fix_names_the_package() {
    let (ran, rv) = check_version(10, Some(Layout::Linked("2.320.0"))).await;
    assert_eq!(rv["verdict"], "fail", "{rv:#}");
    assert_eq!(rv["judgement"]["kind"], "below_minimum");
    assert_eq!(rv["installed"]["version"], "2.320.0");
    assert_eq!(rv["installed"]["from"]["kind"], "bin_link");
    assert_eq!(ran.code, 1, "a gating failure: {}", ran.stdout);
    let fix = rv["fix"].as_str().unwrap_or_default();
    assert!(
        fix.contains("actions-runner-linux-x64-2.336.0.tar.gz"),
        "{fix}"
    );
    let message = rv["message"].as_str().unwrap_or_default();
    assert!(message.contains("below v2.329.0"), "{message}");
}

/// Issue 20: the runner's version in every format — for a dashboard, a capability series of its
/// own and the versions as an info series.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_carry_the_runner_version_as_a_capability_and_its_versions() {
    let ran = check_version_as(
        github_with_release(10),
        Some(Layout::Linked("2.320.0")),
        "prometheus",
    )
    .await;
    assert_eq!(ran.code, 1, "{}", ran.stdout);
    let line = |name: &str, has: &[&str]| {
        ran.stdout
            .lines()
            .find(|l| l.starts_with(name) && has.iter().all(|h| l.contains(h)))
            .unwrap_or_else(|| panic!("no {name} with {has:?} in:\n{}", ran.stdout))
            .to_string()
    };
    let success = line(
        "runner_preflight_capability_success{",
        &["capability=\"runner-version\"", "gating=\"true\""],
    );
    assert!(
        success.ends_with(" 0"),
        "below the minimum fails: {success}"
    );
    let info = line(
        "runner_preflight_runner_version_info{",
        &[
            "installed=\"2.320.0\"",
            "latest=\"2.336.0\"",
            "asset=\"actions-runner-linux-x64-2.336.0.tar.gz\"",
        ],
    );
    assert!(info.ends_with(" 1"), "{info}");
    // serve's docs check leaves this series out (its profile has no version rules): its row here.
    let help = ran
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("# HELP runner_preflight_runner_version_info "))
        .expect("HELP line")
        .trim_end_matches('.');
    let docs =
        std::fs::read_to_string(crate::serve::repo("docs/fleet-monitoring.md")).expect("docs page");
    assert!(
        docs.lines()
            .any(|l| l.starts_with("| `runner_preflight_runner_version_info`") && l.contains(help)),
        "docs/fleet-monitoring.md has no row with `{help}`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_latest_runner_passes() {
    let (_, rv) = check_version(10, Some(Layout::Linked("2.336.0"))).await;
    assert_eq!(rv["verdict"], "pass", "{rv:#}");
    assert_eq!(rv["judgement"]["kind"], "current");
    assert_eq!(rv["latest"], "2.336.0");
    assert_eq!(rv["released_days_ago"], 10);
    assert!(rv["fix"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_behind_a_young_release_warns_and_behind_an_old_one_fails() {
    // The installed v2.335.0 (itself 40 days old) is behind v2.336.0, out for 10 days.
    let (ran, rv) = check_version(10, Some(Layout::Linked("2.335.0"))).await;
    assert_eq!(rv["verdict"], "warn", "{rv:#}");
    assert_eq!(
        rv["judgement"],
        serde_json::json!({"kind": "behind", "days": 10})
    );
    assert_ne!(
        ran.code, 1,
        "a warning does not fail the run: {}",
        ran.stdout
    );
    // The same runner when v2.336.0 has been out for 40 days: GitHub gives it no jobs.
    let (ran, rv) = check_version(40, Some(Layout::Linked("2.335.0"))).await;
    assert_eq!(rv["verdict"], "fail", "{rv:#}");
    assert_eq!(
        rv["judgement"],
        serde_json::json!({"kind": "too_far_behind", "days": 40})
    );
    assert_eq!(ran.code, 1);
}

/// The 30 days count from the OLDEST release newer than the installed one, not from the
/// latest: installed v2.334.0, v2.335.0 out 40 days, v2.336.0 (the latest) out 10 days — GitHub
/// gives this runner no jobs although the latest is young (issue 20).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_thirty_days_count_from_the_first_release_after_the_installed_one() {
    let routes = github_with_release_page(10).route(
        RELEASES_API,
        releases_list(&[("2.336.0", 10), ("2.335.0", 40), ("2.334.0", 70)]),
    );
    let (ran, rv) = check_version_in(routes, Some(Layout::Linked("2.334.0"))).await;
    assert_eq!(rv["verdict"], "fail", "{rv:#}");
    assert_eq!(
        rv["judgement"],
        serde_json::json!({"kind": "too_far_behind", "days": 40})
    );
    assert_eq!(rv["newer_release"]["version"], "2.335.0", "{rv:#}");
    assert_eq!(rv["newer_release"]["from"], "releases_list");
    // The latest's own date is still the latest's.
    assert_eq!(rv["latest"], "2.336.0");
    assert_eq!(rv["released_days_ago"], 10);
    assert_eq!(ran.code, 1, "{}", ran.stdout);
    let message = rv["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("v2.335.0, the first release after it, came out 40 days ago"),
        "{message}"
    );
}

/// When the list of releases cannot be read (the quota of this address spent: 403), the latest's
/// date is all there is: a young latest WARNs and says an older release in between may already
/// be past the limit; an old latest FAILs (every release in between is older still).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_release_list_the_latest_date_bounds_the_answer_and_it_says_so() {
    let refused = || {
        HttpResponse::status(403)
            .header(FINGERPRINT, "R:8")
            .body("{\"message\": \"API rate limit exceeded\"}")
    };
    let routes = github_with_release_page(10).route(RELEASES_API, refused());
    let (ran, rv) = check_version_in(routes, Some(Layout::Linked("2.334.0"))).await;
    assert_eq!(rv["verdict"], "warn", "{rv:#}");
    assert_eq!(
        rv["judgement"],
        serde_json::json!({"kind": "behind_list_unknown", "days": 10})
    );
    assert_eq!(rv["releases_failure"]["kind"], "status");
    assert_eq!(rv["releases_failure"]["status"], 403);
    assert_ne!(ran.code, 1, "{}", ran.stdout);
    let message = rv["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("the list of releases could not be read")
            && message.contains("refused with 403"),
        "{message}"
    );
    let routes = github_with_release_page(40).route(RELEASES_API, refused());
    let (ran, rv) = check_version_in(routes, Some(Layout::Linked("2.334.0"))).await;
    assert_eq!(
        rv["judgement"],
        serde_json::json!({"kind": "too_far_behind", "days": 40})
    );
    assert_eq!(ran.code, 1, "{}", ran.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_unpack_is_read_from_its_package_files() {
    let (_, rv) = check_version(10, Some(Layout::Unpacked("2.336.0"))).await;
    assert_eq!(rv["verdict"], "pass", "{rv:#}");
    assert_eq!(rv["installed"]["version"], "2.336.0");
    assert_eq!(rv["installed"]["from"]["kind"], "deps_file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_installed_runner_the_latest_version_is_information() {
    let (ran, rv) = check_version(10, None).await;
    assert_eq!(rv["verdict"], "skip", "{rv:#}");
    assert_eq!(rv["latest"], "2.336.0");
    assert_eq!(ran.code, 0, "{}", ran.stdout);
    let message = rv["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("the latest release is v2.336.0"),
        "{message}"
    );
}

// ---------------------------------------------------------------------------------------------
// The runner's own switches
// ---------------------------------------------------------------------------------------------

/// A proxy that answers 407 offering only NTLM (or NTLM and Negotiate): the runner, Basic only,
/// cannot authenticate, so the advice is a local relay — never "put user:password@ in the URL".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_offering_only_ntlm_gets_its_own_cause_and_the_relay_fix() {
    let fx = Fixture::new(CA);
    let host = "api.github.com";
    let profile = fx.profile(&Profile::new("p", "Proxy").capability(
        "essential",
        "Essential",
        true,
        &fingerprinted(&[host], "/zen"),
    ));
    let dns = DnsWorld::new().start().await;
    for (schemes, with_user) in [(vec!["NTLM"], false), (vec!["Negotiate", "NTLM"], true)] {
        let proxy = TestProxy::start(ProxyMode::Challenge(schemes.clone()), &[]).await;
        let url = if with_user {
            proxy.url_with("alice", "secret")
        } else {
            proxy.url()
        };
        let mut args = strings(&[
            "check",
            "--profile",
            &profile,
            "--format",
            "json",
            "--quiet",
            "--no-throughput",
            "--timeout",
            "2s",
            "--dns-server",
            &dns.addr.to_string(),
            "--ca-file",
            &fx.ca.display().to_string(),
            "--proxy",
            &url,
        ]);
        args.extend(fx.agreeing_trust_stores());
        let ran = run_text(args, vec![]).await;
        assert_eq!(ran.code, 1, "{}", ran.stdout);
        let json = ran.json();
        let c = cause(&json, host);
        assert!(c.contains("only NTLM/Negotiate"), "{schemes:?}: {c}");
        assert!(!c.contains("put user:password@"), "{schemes:?}: {c}");
        let d = &json["diagnosis"][0];
        assert_eq!(d["evidence"]["how"], "auth_unsupported", "{d:#}");
        let fix = d["fix"].as_str().unwrap_or_default();
        assert!(fix.contains("cntlm") && fix.contains("px"), "{fix}");
        assert!(!ran.stdout.contains("secret"), "the password leaked");
    }
}

/// GITHUB_ACTIONS_RUNNER_TLS_NO_VERIFY in the runner's `.env` (or its environment) is a warning
/// that says verification is off for the runner, while this check still verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_no_verify_in_the_runner_env_is_a_warning_and_our_checks_still_verify() {
    let host = "api.github.com";
    for in_env_file in [true, false] {
        let fx = Fixture::new(CA);
        let profile = fx.profile(&Profile::new("p", "NoVerify").capability(
            "essential",
            "Essential",
            true,
            &fingerprinted(&[host], "/zen"),
        ));
        let dns = DnsWorld::at_loopback(&[host]).start().await;
        // A certificate from another CA: the runner with verification off would connect anyway.
        let other = Fixture::new("Some Other Root CA");
        let srv = TestServer::start(Mode::Https {
            cert: other.pki.leaf(&[host]),
            routes: github_routes(),
        })
        .await;
        let args = one_host_json_args(&profile, &dns, &fx, host, srv.port());
        let mut envs = vec![];
        if in_env_file {
            let env_file = fx.path(".env");
            let mut text = std::fs::read_to_string(&env_file).unwrap_or_default();
            text.push_str("GITHUB_ACTIONS_RUNNER_TLS_NO_VERIFY=1\n");
            std::fs::write(&env_file, text).expect("write .env");
        } else {
            envs.push(("GITHUB_ACTIONS_RUNNER_TLS_NO_VERIFY", "1".to_string()));
        }
        let ran = run_text(args, envs).await;
        let json = ran.json();
        let found: Vec<&serde_json::Value> = json["network"]["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| {
                f["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("GITHUB_ACTIONS_RUNNER_TLS_NO_VERIFY is set"))
            })
            .collect();
        assert_eq!(found.len(), 1, "{:#}", json["network"]["findings"]);
        assert_eq!(found[0]["severity"], "warn");
        let message = found[0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(if in_env_file {
                "in the runner's .env"
            } else {
                "in the environment"
            }),
            "{message}"
        );
        assert!(
            message.contains("skips every certificate check"),
            "{message}"
        );
        // Our own verification is not weakened: the wrong CA still fails the TLS check.
        let tls = target(&json, host)["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["phase"] == "tls")
            .cloned()
            .expect("tls check");
        assert_eq!(tls["verdict"], "fail", "{tls:#}");
    }
}

/// With GITHUB_ACTIONS_RUNNER_TLS_NO_VERIFY set, a certificate the runner's own client would
/// accept (actions/runner source, HttpClientHandlerFactory.cs:19) makes the capabilities that
/// client serves WARN — "verification is off" — while capabilities served by node, git or docker
/// (which still verify) keep their FAIL. A value the runner does not read as true ("yes") changes
/// nothing. Our own TLS check fails either way: verification is never weakened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_no_verify_makes_the_runners_own_connections_warn_and_the_others_still_fail() {
    let host = "api.github.com";
    for value in ["1", "TRUE", "yes", ""] {
        let fx = Fixture::new(CA);
        let entries = fingerprinted(&[host], "/zen");
        let profile = fx.profile_file(
            "noverify.yaml",
            &format!(
                "schema_version: 1\nname: nv\ntitle: NoVerify\ncapabilities:\n  - id: essential\n    title: Essential\n    gating: true\n    runner_client: true\n    entries:\n{entries}  - id: oidc\n    title: OIDC\n    gating: true\n    entries:\n{entries}"
            ),
        );
        let dns = DnsWorld::at_loopback(&[host]).start().await;
        let other = Fixture::new("Some Other Root CA");
        let srv = TestServer::start(Mode::Https {
            cert: other.pki.leaf(&[host]),
            routes: github_routes(),
        })
        .await;
        let args = one_host_json_args(&profile, &dns, &fx, host, srv.port());
        let envs = match value {
            "" => vec![],
            v => vec![("GITHUB_ACTIONS_RUNNER_TLS_NO_VERIFY", v.to_string())],
        };
        let ran = run_text(args, envs).await;
        let json = ran.json();
        let cap = |id: &str| {
            json["capabilities"]
                .as_array()
                .expect("capabilities")
                .iter()
                .find(|c| c["id"] == id)
                .cloned()
                .expect("capability")
        };
        let (essential, oidc) = (cap("essential"), cap("oidc"));
        let on = matches!(value, "1" | "TRUE");
        assert_eq!(
            essential["verdict"],
            if on { "warn" } else { "fail" },
            "{value:?}: {essential:#}"
        );
        assert_eq!(oidc["verdict"], "fail", "{value:?}: {oidc:#}");
        assert_eq!(ran.code, 1, "oidc still fails: {}", ran.stdout);
        let t = &essential["entries"][0]["targets"][0];
        assert_eq!(t["runner_skips_verification"] == true, on, "{t:#}");
        let c = t["cause"].as_str().unwrap_or_default();
        assert_eq!(
            c.contains("the runner would accept this because GITHUB_ACTIONS_RUNNER_TLS_NO_VERIFY is set; verification is off"),
            on,
            "{value:?}: {c}"
        );
        let o = oidc["entries"][0]["targets"][0]["cause"]
            .as_str()
            .unwrap_or_default();
        assert!(!o.contains("would accept"), "{o}");
        let tls = t["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["phase"] == "tls")
            .cloned()
            .expect("tls check");
        assert_eq!(tls["verdict"], "fail", "{tls:#}");
        assert!(
            !t["checks"]
                .as_array()
                .expect("checks")
                .iter()
                .any(|c| c["phase"] == "http"),
            "no request over an unverified connection: {t:#}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// meta diff with a token
// ---------------------------------------------------------------------------------------------

const TOKEN: &str = "ghp_TOKEN-MUST-NOT-LEAK-1234";

/// `meta diff --profile ghecom` against a loopback tenant API at `port`, in `format`.
async fn meta_diff_ghecom(
    fx: &Fixture,
    dns: &DnsServer,
    port: u16,
    format: &str,
    envs: Vec<(&str, String)>,
) -> Ran {
    let args = strings(&[
        "meta",
        "diff",
        "--profile",
        "ghecom",
        "--var",
        "subdomain=octo",
        "--var",
        "region=eu",
        "--meta-url",
        &format!("https://api.octo.ghe.com:{port}/meta"),
        "--dns-server",
        &dns.addr.to_string(),
        "--ca-file",
        &fx.ca.display().to_string(),
        "--timeout",
        "2s",
        "--format",
        format,
    ]);
    run_text(args, envs).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meta_diff_sends_the_token_to_ghe_com_and_never_prints_it() {
    let fx = Fixture::new(CA);
    let dns = DnsWorld::at_loopback(&["api.octo.ghe.com"]).start().await;
    let meta = r#"{"domains": {"actions_inbound": {"full_domains": ["octo.ghe.com", "api.octo.ghe.com"], "wildcard_domains": ["*.actions.octo.ghe.com"]}}}"#;
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&["api.octo.ghe.com"]),
        routes: github_routes().route(
            "/meta",
            HttpResponse::ok_with(FINGERPRINT, "M:1")
                .header("Content-Type", "application/json")
                .body(meta),
        ),
    })
    .await;
    // Without a token: a clear error, and nothing is asked.
    let ran = meta_diff_ghecom(&fx, &dns, srv.port(), "text", vec![]).await;
    assert_eq!(ran.code, 2, "{}\n{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr
            .contains("GHE.com answers /meta only with a token: set GITHUB_TOKEN"),
        "{}",
        ran.stderr
    );
    assert!(srv.seen_requests().is_empty());
    // With one (from the variable --token-env names): sent as a bearer token, in no output.
    for format in ["text", "json"] {
        let ran = meta_diff_ghecom(
            &fx,
            &dns,
            srv.port(),
            format,
            vec![("GITHUB_TOKEN", TOKEN.to_string())],
        )
        .await;
        assert!(
            ran.code == 0 || ran.code == 1,
            "{}\n{}",
            ran.stdout,
            ran.stderr
        );
        assert!(ran.stdout.contains("api.octo.ghe.com"), "{}", ran.stdout);
        assert!(!ran.stdout.contains(TOKEN) && !ran.stderr.contains(TOKEN));
    }
    let auth: Vec<String> = srv
        .seen_requests()
        .iter()
        .flat_map(|r| r.headers.iter())
        .filter(|(k, _)| k == "authorization")
        .map(|(_, v)| v.clone())
        .collect();
    assert_eq!(auth, vec![format!("Bearer {TOKEN}"); 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_worded_and_masked_in_the_error() {
    let fx = Fixture::new(CA);
    let dns = DnsWorld::at_loopback(&["api.octo.ghe.com"]).start().await;
    // A server that echoes the token back in what it answers must not get it printed.
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&["api.octo.ghe.com"]),
        routes: Routes::new(
            HttpResponse::status(401)
                .header("WWW-Authenticate", &format!("Bearer error=\"{TOKEN}\""))
                .body(format!("bad credentials: {TOKEN}")),
        ),
    })
    .await;
    let ran = meta_diff_ghecom(
        &fx,
        &dns,
        srv.port(),
        "json",
        vec![("MY_TENANT_TOKEN", TOKEN.to_string())],
    )
    .await;
    // The default variable is unset: --token-env names the one that holds it.
    assert_eq!(ran.code, 2);
    assert!(ran.stderr.contains("set GITHUB_TOKEN"), "{}", ran.stderr);
    let args_with_env = |fmt: &str| {
        strings(&[
            "meta",
            "diff",
            "--profile",
            "ghecom",
            "--var",
            "subdomain=octo",
            "--var",
            "region=eu",
            "--token-env",
            "MY_TENANT_TOKEN",
            "--meta-url",
            &format!("https://api.octo.ghe.com:{}/meta", srv.port()),
            "--dns-server",
            &dns.addr.to_string(),
            "--ca-file",
            &fx.ca.display().to_string(),
            "--timeout",
            "2s",
            "--format",
            fmt,
        ])
    };
    let ran = run_text(
        args_with_env("json"),
        vec![("MY_TENANT_TOKEN", TOKEN.to_string())],
    )
    .await;
    assert_eq!(ran.code, 2, "{}\n{}", ran.stdout, ran.stderr);
    assert!(ran.stderr.contains("answered 401"), "{}", ran.stderr);
    assert!(ran.stderr.contains("wants a valid token"), "{}", ran.stderr);
    assert!(!ran.stdout.contains(TOKEN) && !ran.stderr.contains(TOKEN));
}

// ---------------------------------------------------------------------------------------------
// The unauthenticated API quota of this egress address
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_quota_warns_when_fewer_than_20_of_60_remain() {
    let host = "api.github.com";
    for (remaining, severity) in [(5u64, "warn"), (60, "note")] {
        let fx = Fixture::new(CA);
        let base = Profile::new("q", "Quota").capability(
            "essential",
            "Essential",
            true,
            &fingerprinted(&[host], "/zen"),
        );
        let profile = fx.profile_file("quota.yaml", &format!("{}api_quota: true\n", base.yaml()));
        let dns = DnsWorld::at_loopback(&[host]).start().await;
        let reset = 1_765_152_000u64;
        let srv = TestServer::start(Mode::Https {
            cert: fx.pki.leaf(&[host]),
            routes: github_routes().route(
                "/rate_limit",
                HttpResponse::ok_with(FINGERPRINT, "Q:1").body(format!(
                    "{{\"resources\": {{\"core\": {{\"limit\": 60, \"remaining\": {remaining}, \"reset\": {reset}, \"used\": {}}}}}}}",
                    60 - remaining
                )),
            ),
        })
        .await;
        let args = one_host_json_args(&profile, &dns, &fx, host, srv.port());
        let ran = run_text(args, vec![]).await;
        let json = ran.json();
        let quota: Vec<&serde_json::Value> = json["network"]["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["topic"] == "quota")
            .collect();
        assert_eq!(quota.len(), 1, "{:#}", json["network"]["findings"]);
        assert_eq!(quota[0]["severity"], severity, "{remaining} left");
        let message = quota[0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!(
                "{remaining} of 60 requests left until 2025-12-08T00:00:00Z"
            )),
            "{message}"
        );
        assert!(message.contains("same NAT"), "{message}");
        if severity == "warn" {
            assert_eq!(
                json["verdict"], "warn",
                "a low quota is never an unqualified PASS"
            );
            assert!(quota[0]["fix"]
                .as_str()
                .is_some_and(|f| f.contains("token")));
        } else {
            assert!(quota[0]["fix"].is_null());
        }
        assert!(srv.seen_requests().iter().any(|r| r.path == "/rate_limit"));
    }
}
