//! Verdict scenarios, driven by the files in `tests/scenarios/` (no sockets): a profile, the typed
//! observations the prober would have made, and the verdicts the report must give — per target,
//! per capability, overall, the exit code and the causes' words. The report layer is exercised
//! exactly as `check` uses it: `plan::build` → `report::judge_all` → `report::build`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use runner_preflight::model::Verdict;
use runner_preflight::probe::outcome::TargetOutcome;
use runner_preflight::render::words;
use runner_preflight::report::{self, FailOn, Report, RunInfo, Settings};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    profile: String,
    #[serde(default)]
    fail_on: FailOn,
    outcomes: Vec<TargetOutcome>,
    expect: Expect,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[serde(default)]
    targets: BTreeMap<String, Verdict>,
    #[serde(default)]
    capabilities: BTreeMap<String, Verdict>,
    overall: Verdict,
    exit_code: u8,
    /// host → a text its cause must contain (`null`: no cause).
    #[serde(default)]
    causes: BTreeMap<String, Option<String>>,
    /// capability id → a text its cause must contain.
    #[serde(default)]
    capability_causes: BTreeMap<String, String>,
    #[serde(default)]
    summary: Option<Counts>,
}

#[derive(serde::Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Counts {
    pass: usize,
    warn: usize,
    fail: usize,
    skip: usize,
}

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios")
}

/// The report `check` would build from these observations (fixed time and host, so renderings
/// are reproducible).
pub fn report_of(profile_yaml: &str, outcomes: &[TargetOutcome], fail_on: FailOn) -> Report {
    let profile = runner_preflight::profile::parse("scenario.yaml", profile_yaml)
        .unwrap_or_else(|e| panic!("scenario profile: {e}"));
    let plan = runner_preflight::plan::build(&profile, &Default::default()).expect("plan");
    let by_host: HashMap<&str, &TargetOutcome> =
        outcomes.iter().map(|o| (o.host.as_str(), o)).collect();
    let mut observed = HashMap::new();
    for t in plan.targets() {
        let o = by_host
            .get(t.host.as_str())
            .unwrap_or_else(|| panic!("the scenario has no outcome for {}", t.host));
        observed.insert(t, (*o).clone());
    }
    let results = report::judge_all(&observed);
    report::build(
        &plan,
        &results,
        RunInfo {
            generated_at: "2026-12-01T00:00:00Z".into(),
            hostname: "runner-1".into(),
            settings: Settings {
                timeout_ms: 5000,
                max_time_ms: 45000,
                concurrency: 64,
                dns_servers: vec!["192.0.2.53:53".into()],
                dns_servers_given: true,
                ca_files: vec![],
                fail_on,
            },
            duration_ms: 1234,
            throughput: None,
            runner_version: None,
            container_jobs: None,
            network: Default::default(),
        },
    )
}

pub fn load(name: &str) -> (String, Vec<TargetOutcome>, FailOn) {
    let path = scenario_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let s: Scenario =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (s.profile, s.outcomes, s.fail_on)
}

fn check_scenario(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let s: Scenario = serde_saphyr::from_str(&text).map_err(|e| format!("parse: {e}"))?;
    let r = report_of(&s.profile, &s.outcomes, s.fail_on);
    let mut problems = Vec::new();
    let targets: Vec<&report::TargetResult> = r
        .capabilities
        .iter()
        .flat_map(|c| c.entries.iter())
        .flat_map(|e| e.targets.iter())
        .collect();
    for (host, want) in &s.expect.targets {
        let got: Vec<Verdict> = targets
            .iter()
            .filter(|t| &t.host == host)
            .map(|t| t.verdict)
            .collect();
        if got.is_empty() || got.iter().any(|v| v != want) {
            problems.push(format!("target {host}: want {want:?}, got {got:?}"));
        }
    }
    for (host, want) in &s.expect.causes {
        for t in targets.iter().filter(|t| &t.host == host) {
            let got = words::target_cause(t);
            match (want, &got) {
                (None, None) => {}
                (Some(w), Some(g)) if g.contains(w.as_str()) => {}
                _ => problems.push(format!("cause of {host}: want {want:?}, got {got:?}")),
            }
        }
    }
    for (id, want) in &s.expect.capabilities {
        match r.capabilities.iter().find(|c| &c.id == id) {
            Some(c) if c.verdict == *want => {}
            Some(c) => problems.push(format!(
                "capability {id}: want {want:?}, got {:?}",
                c.verdict
            )),
            None => problems.push(format!("capability {id}: not in the report")),
        }
    }
    for (id, want) in &s.expect.capability_causes {
        let got = r
            .capabilities
            .iter()
            .find(|c| &c.id == id)
            .and_then(words::capability_cause);
        if !got.as_deref().is_some_and(|g| g.contains(want.as_str())) {
            problems.push(format!(
                "cause of capability {id}: want {want:?}, got {got:?}"
            ));
        }
    }
    if r.verdict != s.expect.overall {
        problems.push(format!(
            "overall: want {:?}, got {:?}",
            s.expect.overall, r.verdict
        ));
    }
    if r.exit_code != s.expect.exit_code {
        problems.push(format!(
            "exit code: want {}, got {}",
            s.expect.exit_code, r.exit_code
        ));
    }
    if let Some(want) = &s.expect.summary {
        let got = Counts {
            pass: r.summary.pass,
            warn: r.summary.warn,
            fail: r.summary.fail,
            skip: r.summary.skip,
        };
        if &got != want {
            problems.push(format!("summary: want {want:?}, got {got:?}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n  "))
    }
}

#[test]
fn every_scenario_gives_its_verdicts() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenario_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 9, "scenario files: {files:?}");
    let failures: Vec<String> = files
        .iter()
        .filter_map(|p| {
            check_scenario(p)
                .err()
                .map(|e| format!("{}:\n  {e}", p.file_name().unwrap().to_string_lossy()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The harness itself can fail: a wrong expectation is reported, not passed.
#[test]
fn a_wrong_expectation_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(scenario_dir().join("gating_nxdomain.yaml")).unwrap();
    let bad = good.replace("  exit_code: 1", "  exit_code: 0");
    assert_ne!(good, bad);
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, bad).unwrap();
    let err = check_scenario(&path).unwrap_err();
    assert!(err.contains("exit code: want 0, got 1"), "{err}");
}
