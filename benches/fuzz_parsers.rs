//! Standalone fuzz driver for the profile parser, the allow-list parser and the /meta parser
//! (cargo-fuzz needs a nightly toolchain; this runs on stable). For a number of seconds per target
//! it feeds mutated seeds (the built-in profiles, sample allow lists and /meta documents, and every
//! input that was new in shape) and random token soup to the parser and checks the property of
//! `tests/it/fuzz_corpus.rs` (profiles, allow lists) or [`check_meta`]: `Ok`, or an error
//! positioned inside the text, never a panic.
//!
//! ```text
//! cargo bench --bench fuzz_parsers -- [--seconds N] [--target profile|allowlist|meta|all] [--seed S]
//! cargo bench --bench fuzz_parsers -- --scale
//! ```
//!
//! A failing input is written to `target/fuzz-failures/` and the driver exits 1.
//!
//! `--scale` fuzzes nothing: it times the allow-list matcher and `meta diff` on large generated
//! inputs (100,000 allow-list entries, 20,000 globs, 200,000 /meta names) and prints the time and
//! the process's peak memory (VmHWM) after each step.

#[path = "../tests/it/fuzz_corpus.rs"]
mod fuzz_corpus;

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use fuzz_corpus::*;

struct Args {
    scale: bool,
    seconds: u64,
    targets: Vec<&'static str>,
    seed: u64,
}

fn args() -> Args {
    let mut a = Args {
        scale: false,
        seconds: 60,
        targets: vec!["profile", "allowlist", "meta"],
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => a.seconds = it.next().and_then(|v| v.parse().ok()).unwrap_or(60),
            "--seed" => a.seed = it.next().and_then(|v| v.parse().ok()).unwrap_or(1),
            "--target" => {
                a.targets = match it.next().as_deref() {
                    Some("profile") => vec!["profile"],
                    Some("allowlist") => vec!["allowlist"],
                    Some("meta") => vec!["meta"],
                    _ => vec!["profile", "allowlist", "meta"],
                }
            }
            "--scale" => a.scale = true,
            // `cargo bench` passes `--bench`; ignore it and anything else unknown.
            _ => {}
        }
    }
    a
}

/// A coarse signature of an outcome: Ok with how many capabilities (profiles) or entries
/// (allow lists, capped), or the shape of the error message: its last plain words, without the
/// quoted input (which may itself hold quotes). An input whose signature is new joins the corpus,
/// so mutation reaches further over time.
fn signature(outcome: &Outcome) -> (bool, String) {
    match outcome {
        Outcome::Ok(n) => (true, format!("ok {}", n.min(&8))),
        Outcome::Rejected(m) => {
            let words: Vec<&str> = m
                .split_whitespace()
                .filter(|w| {
                    w.chars()
                        .all(|c| c.is_ascii_alphabetic() || ",:;()".contains(c))
                })
                .collect();
            (false, words[words.len().saturating_sub(6)..].join(" "))
        }
    }
}

/// A parser's property: `Err(description)` when it does not hold.
type Check = fn(&str) -> Result<Outcome, String>;

fn run(target: &'static str, seconds: u64, seed: u64) -> bool {
    let mut rng = FuzzRng::new(seed);
    let (seeds, check): (Vec<String>, Check) = match target {
        "profile" => (profile_seeds(), check_profile),
        "allowlist" => (
            ALLOW_SEEDS.iter().map(|s| s.to_string()).collect(),
            check_allow_list,
        ),
        _ => (
            META_SEEDS.iter().map(|s| s.to_string()).collect(),
            check_meta,
        ),
    };
    let mut corpus = seeds;
    let mut seen: HashSet<(bool, String)> = HashSet::new();
    let (mut execs, mut oks, mut slowest) = (0u64, 0u64, Duration::ZERO);
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    // Panics are caught and reported by us; keep the default hook quiet.
    std::panic::set_hook(Box::new(|_| {}));
    while Instant::now() < until {
        for _ in 0..64 {
            let text = if rng.below(10) == 0 {
                token_soup(&mut rng, 80)
            } else {
                let a = corpus[rng.below(corpus.len())].clone();
                let b = &corpus[rng.below(corpus.len())];
                mutate(&a, b, &mut rng)
            };
            let t0 = Instant::now();
            let outcome = catch_unwind(AssertUnwindSafe(|| check(&text)));
            slowest = slowest.max(t0.elapsed());
            execs += 1;
            let mut sig = None;
            let failure = match outcome {
                Ok(Ok(o)) => {
                    oks += matches!(o, Outcome::Ok(_)) as u64;
                    sig = Some(signature(&o));
                    None
                }
                Ok(Err(why)) => Some(why),
                Err(p) => Some(format!(
                    "panic: {}",
                    p.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default()
                )),
            };
            if let Some(why) = failure {
                let dir =
                    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
                let _ = std::fs::create_dir_all(&dir);
                let file = dir.join(format!("{target}-{seed}-{execs}.txt"));
                let _ = std::fs::write(&file, &text);
                let _ = std::panic::take_hook();
                eprintln!(
                    "{target}: FAILED after {execs} executions: {why}\ninput saved to {}",
                    file.display()
                );
                return false;
            }
            if let Some(sig) = sig.filter(|_| text.len() < 16 * 1024) {
                if seen.insert(sig) && corpus.len() < 4096 {
                    corpus.push(text);
                }
            }
        }
    }
    let _ = std::panic::take_hook();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{target}: {execs} executions in {secs:.0} s ({:.0}/s), {oks} parsed Ok, {} outcome shapes, corpus {}, slowest input {:.1} ms, no failure (seed {seed})",
        execs as f64 / secs,
        seen.len(),
        corpus.len(),
        slowest.as_secs_f64() * 1000.0
    );
    true
}

/// /meta documents in the shapes GitHub serves (github.com, GHES without newer lists).
const META_SEEDS: &[&str] = &[
    r#"{"verifiable_password_authentication": false, "actions": ["4.148.0.0/16"], "domains": {"website": ["*.github.com"], "actions": ["*.actions.githubusercontent.com", "productionresultssa0.blob.core.windows.net"], "actions_inbound": {"full_domains": ["github.com", "api.github.com", "codeload.github.com", "results-receiver.actions.githubusercontent.com"], "wildcard_domains": ["*.actions.githubusercontent.com", "*.pkg.github.com", "*.githubusercontent.com"]}, "artifact_attestations": {"trust_domain": "", "services": ["*.actions.githubusercontent.com", "tuf-repo.github.com", "fulcio.githubapp.com", "timestamp.githubapp.com"]}}}"#,
    "{\n  \"domains\": {\n    \"actions\": [\"ghes.example.com\"],\n    \"actions_inbound\": {\n      \"full_domains\": [\"ghes.example.com\", \"*.ghes.example.com\"],\n      \"wildcard_domains\": []\n    }\n  }\n}\n",
    "\u{feff}{\"domains\": {\"actions\": [\"a.b\", 7, null, \"bad;name.com\", \"*.c.d\"]}}",
];

/// The dotcom plan, built once: the other side of every fuzzed /meta diff.
fn dotcom_plan() -> &'static runner_preflight::plan::Plan {
    static PLAN: std::sync::OnceLock<runner_preflight::plan::Plan> = std::sync::OnceLock::new();
    PLAN.get_or_init(|| {
        let p = runner_preflight::profile::resolve("dotcom").expect("dotcom profile");
        runner_preflight::plan::build(&p, &Default::default()).expect("dotcom plan")
    })
}

/// The /meta property: `Ok` with entries that are valid patterns and a diff with the dotcom
/// profile that renders, or an error with a message in words; never a panic.
fn check_meta(text: &str) -> Result<Outcome, String> {
    use runner_preflight::meta;
    match meta::parse(text) {
        Ok(m) => {
            for e in &m.entries {
                let shown = e.pattern.to_string();
                if runner_preflight::model::Pattern::parse(&shown).as_ref() != Ok(&e.pattern) {
                    return Err(format!("entry `{shown}` does not parse back for {text:?}"));
                }
                if e.sources.is_empty() {
                    return Err(format!("entry `{shown}` has no source for {text:?}"));
                }
            }
            if m.warnings.iter().any(|w| w.is_empty()) {
                return Err(format!("an empty warning for {text:?}"));
            }
            let (d, _) = meta::diff(dotcom_plan(), &m, "fuzz.json");
            if d.meta_side.len() != m.entries.len() {
                return Err(format!("the diff lost /meta entries for {text:?}"));
            }
            let _ = runner_preflight::render::meta::text(&d);
            let _ = runner_preflight::render::meta::json(&d);
            Ok(Outcome::Ok(m.entries.len()))
        }
        Err(e) => {
            let shown = e.to_string();
            if shown.is_empty() {
                return Err(format!("empty error message for {text:?}"));
            }
            Ok(Outcome::Rejected(shown))
        }
    }
}

/// Peak resident memory of this process (VmHWM), in MiB.
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let t0 = Instant::now();
    let out = f();
    println!(
        "{what}: {:.0} ms, peak memory {:.0} MiB",
        t0.elapsed().as_secs_f64() * 1000.0,
        peak_mib()
    );
    out
}

/// `--scale`: the matcher and the diff on large inputs (the same shapes as the tests in
/// `tests/it/audit_meta.rs`).
fn scale() {
    use runner_preflight::{audit, firewall, meta, model::Name};
    println!("start: peak memory {:.0} MiB", peak_mib());
    let plan = dotcom_plan();
    let model = firewall::build(plan, &Default::default(), true, vec![], String::new());

    let mut list = String::new();
    for i in 0..100_000u32 {
        let line = match i {
            i if i % 1000 == 7 => format!("*.zone{i}.example.org"),
            i if i % 1000 == 8 => format!(".dom{i}.example.org"),
            i if i % 5000 == 9 => format!("edge{i}-*.example.net"),
            i => format!("host{i}.example.com"),
        };
        list.push_str(&line);
        list.push('\n');
    }
    list.push_str(".github.com\n*.githubusercontent.com\n");
    let text_mib = list.len() as f64 / (1024.0 * 1024.0);
    let parsed = timed(
        &format!("allow list: parse 100,002 entries ({text_mib:.1} MiB)"),
        || audit::AllowList::parse("scale.txt", &list).expect("allow list"),
    );
    let a = timed("allow list: audit the dotcom profile (offline)", || {
        audit::audit(&model, &parsed)
    });
    println!(
        "  {} names audited, {} gaps",
        a.capabilities.iter().map(|c| c.items.len()).sum::<usize>(),
        a.gaps
    );
    let names: Vec<Name> = (0..100_000u32)
        .map(|i| Name::new(&format!("x.host{i}.example.com")).expect("name"))
        .collect();
    let hits = timed("allow list: 100,000 lookups of names not listed", || {
        names
            .iter()
            .filter(|n| parsed.covering_name(n).is_some())
            .count()
    });
    println!("  {hits} covered");
    drop(parsed);

    let mut globs = String::new();
    for i in 0..20_000u32 {
        globs.push_str(&format!("pipe{i}-*.example.net\n"));
    }
    let g = timed("allow list: parse 20,000 globs", || {
        audit::AllowList::parse("globs.txt", &globs).expect("globs")
    });
    timed(
        "allow list: audit the dotcom profile against 20,000 globs",
        || audit::audit(&model, &g),
    );
    drop(g);

    let full: Vec<String> = (0..200_000u32)
        .map(|i| format!("\"n{i}.actions.githubusercontent.com\""))
        .collect();
    let doc = format!(
        "{{\"domains\": {{\"actions_inbound\": {{\"full_domains\": [{}], \"wildcard_domains\": [\"*.actions.githubusercontent.com\"]}}, \"actions\": []}}}}",
        full.join(",")
    );
    let doc_mib = doc.len() as f64 / (1024.0 * 1024.0);
    let m = timed(
        &format!("meta: parse 200,001 names ({doc_mib:.1} MiB)"),
        || meta::parse(&doc).expect("meta"),
    );
    let (d, _) = timed("meta: diff with the dotcom profile", || {
        meta::diff(plan, &m, "scale.json")
    });
    let out = timed("meta: render text and JSON", || {
        runner_preflight::render::meta::text(&d).len()
            + runner_preflight::render::meta::json(&d).len()
    });
    println!(
        "  {} /meta entries, drift {}, {out} bytes rendered",
        d.meta_side.len(),
        d.drift()
    );
}

fn main() {
    let a = args();
    if a.scale {
        scale();
        return;
    }
    let mut ok = true;
    for t in &a.targets {
        ok &= run(t, a.seconds, a.seed);
    }
    if !ok {
        std::process::exit(1);
    }
}
