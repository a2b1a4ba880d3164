//! Standalone fuzz driver for the profile parser and the allow-list parser (cargo-fuzz needs a
//! nightly toolchain; this runs on stable). For a number of seconds per target it feeds mutated
//! seeds (the built-in profiles, sample allow lists, and every input that was new in shape) and
//! random token soup to the parser and checks the property of `tests/it/fuzz_corpus.rs`: `Ok`, or
//! an error positioned inside the text, never a panic.
//!
//! ```text
//! cargo bench --bench fuzz_parsers -- [--seconds N] [--target profile|allowlist|all] [--seed S]
//! ```
//!
//! A failing input is written to `target/fuzz-failures/` and the driver exits 1.

#[path = "../tests/it/fuzz_corpus.rs"]
mod fuzz_corpus;

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use fuzz_corpus::*;

struct Args {
    seconds: u64,
    targets: Vec<&'static str>,
    seed: u64,
}

fn args() -> Args {
    let mut a = Args {
        seconds: 60,
        targets: vec!["profile", "allowlist"],
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
                    _ => vec!["profile", "allowlist"],
                }
            }
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

fn run(target: &'static str, seconds: u64, seed: u64) -> bool {
    let mut rng = FuzzRng::new(seed);
    let mut corpus: Vec<String> = if target == "profile" {
        profile_seeds()
    } else {
        ALLOW_SEEDS.iter().map(|s| s.to_string()).collect()
    };
    let check: fn(&str) -> Result<Outcome, String> = if target == "profile" {
        check_profile
    } else {
        check_allow_list
    };
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

fn main() {
    let a = args();
    let mut ok = true;
    for t in &a.targets {
        ok &= run(t, a.seconds, a.seed);
    }
    if !ok {
        std::process::exit(1);
    }
}
