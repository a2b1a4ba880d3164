//! True on today's GitHub (issue 20, https://github.com/runner-preflight/runner-preflight/issues/20):
//! the built-in profiles as the December 2026 facts have them, checked against loopback worlds.

use std::collections::BTreeSet;
use std::time::Duration;

use runner_preflight::plan::{self, Plan, PlanOptions};

use crate::world::*;

/// The test CA of every fixture here.
const CA: &str = "Preflight Today Test Root CA";

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
    let mut args = strings(&[
        "check",
        "--profile",
        profile,
        "--format",
        "json",
        "--quiet",
        "--dns-server",
    ]);
    args.push(dns.addr.to_string());
    args.extend(["--ca-file".to_string(), fx.ca.display().to_string()]);
    args.extend(["--timeout".to_string(), timeout.to_string()]);
    args.extend(fx.agreeing_trust_stores());
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
    let srv = TestServer::start(Mode::Https {
        cert: fx.pki.leaf(&names),
        routes: github_routes(),
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
