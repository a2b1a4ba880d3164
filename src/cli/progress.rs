//! Progress of `check` on stderr: a bar on a terminal, plain lines otherwise, nothing with
//! `--quiet`. It also counts the names finished, for the message of an interrupted run.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::output::say;
use crate::probe;
use crate::report::Verdict;
use crate::words::plural;

/// What the run was doing, for "interrupted while …".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Probing,
    Throughput,
    LongPoll,
}

pub struct ProgressDisplay {
    /// Draw anything at all (not `--quiet`).
    show: bool,
    bar: Option<indicatif::ProgressBar>,
    hosts: usize,
    failed: AtomicUsize,
    started: Instant,
    /// Targets not yet finished, per name.
    remaining: Mutex<HashMap<String, usize>>,
    names_done: AtomicUsize,
    phase: Mutex<Phase>,
}

impl ProgressDisplay {
    /// `targets` are the hosts of the targets to probe (one per target, names repeat).
    pub fn new<'a>(show: bool, tty: bool, targets: impl IntoIterator<Item = &'a str>) -> Self {
        let mut remaining: HashMap<String, usize> = HashMap::new();
        for host in targets {
            *remaining.entry(host.to_string()).or_default() += 1;
        }
        let bar = (show && tty).then(|| {
            let b = indicatif::ProgressBar::new(0);
            b.set_style(
                indicatif::ProgressStyle::with_template("{spinner} probing {pos}/{len} {wide_msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        ProgressDisplay {
            show,
            bar,
            hosts: remaining.len(),
            failed: Default::default(),
            started: Instant::now(),
            remaining: Mutex::new(remaining),
            names_done: Default::default(),
            phase: Mutex::new(Phase::Probing),
        }
    }

    pub fn finish(&self) {
        if !self.show {
            return;
        }
        match &self.bar {
            Some(b) => b.finish_and_clear(),
            None => say(&format!(
                "runner-preflight: probed {} in {:.1} s, {} failing",
                plural(self.hosts, "name"),
                self.started.elapsed().as_secs_f64(),
                plural(self.failed.load(Ordering::Relaxed), "target")
            )),
        }
    }

    /// The run moved on to a step after probing.
    pub fn phase(&self, phase: Phase) {
        if let Ok(mut p) = self.phase.lock() {
            *p = phase;
        }
    }

    /// A step after probing (throughput, long poll), said.
    pub fn note(&self, phase: Phase, msg: &str) {
        self.phase(phase);
        if !self.show {
            return;
        }
        match &self.bar {
            Some(b) => b.set_message(msg.to_string()),
            None => say(&format!("runner-preflight: {msg}")),
        }
    }

    /// Clear the bar and say how far the run got: `interrupted after probing 12 of 46 names`.
    pub fn interrupted(&self) -> String {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        let done = self.names_done.load(Ordering::Relaxed);
        let probed = format!("probing {done} of {}", plural(self.hosts, "name"));
        match self.phase.lock().map(|p| *p).unwrap_or(Phase::Probing) {
            Phase::Probing => format!("interrupted after {probed}"),
            Phase::Throughput => format!("interrupted while measuring throughput (after {probed})"),
            Phase::LongPoll => format!("interrupted during the long poll (after {probed})"),
        }
    }
}

impl probe::Progress for ProgressDisplay {
    fn start(&self, total: usize) {
        if !self.show {
            return;
        }
        match &self.bar {
            Some(b) => b.set_length(total as u64),
            None => say(&format!(
                "runner-preflight: probing {} ({} in all, counting each distinct port and HTTP check)…",
                plural(self.hosts, "name"),
                plural(total, "target")
            )),
        }
    }
    fn done(&self, outcome: &crate::probe::outcome::TargetOutcome) {
        // The display shows verdicts: judge the observation as the report will.
        let verdict = crate::report::judge_target(outcome.clone()).verdict;
        let host = outcome.host.as_str();
        if verdict == Verdict::Fail {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut r) = self.remaining.lock() {
            if let Some(n) = r.get_mut(host) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    r.remove(host);
                    self.names_done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if let Some(b) = &self.bar {
            b.inc(1);
            b.set_message(format!("{host}: {}", verdict.label()));
        }
    }
}
