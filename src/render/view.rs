//! The view model: the first stage of every human format (issue 23's design step).
//!
//! [`View::new`] reads a [`Report`] once and decides everything the formats state — the verdict
//! sentence, the counts (names by verdict, capabilities, gating capabilities), the numbered root
//! causes, which rows fold into which cause ("see cause N"), each capability's one-liner, the
//! runner-version line and the notes. The table, Markdown, HTML, JUnit and the annotations take
//! their words and numbers from here and add only layout, so the same run says the same thing in
//! every format (before, each re-derived them and they disagreed: "9 names", "10 fail", "9 of 9
//! capabilities", <https://github.com/runner-preflight/runner-preflight/issues/23> row 1).
//!
//! A row folds when the Diagnosis explains it (a root cause that is not `unexplained`): the
//! cause says it once, with its fix, and each section only points at it. A row that fails on its
//! own cause (an `unexplained` diagnosis) keeps its own words and is shown open.

use std::collections::BTreeMap;

use crate::model::Verdict;
use crate::report::diagnose::RootCause;
use crate::report::{
    CapabilityReport, Diagnosis, DirectionResult, EntryReport, Report, TargetResult,
    ThroughputReport,
};
use crate::words::plural;

/// How many of something, by verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
}

impl Counts {
    pub fn total(&self) -> usize {
        self.pass + self.warn + self.fail + self.skip
    }

    fn add(&mut self, v: Verdict) {
        match v {
            Verdict::Pass => self.pass += 1,
            Verdict::Warn => self.warn += 1,
            Verdict::Fail => self.fail += 1,
            Verdict::Skip => self.skip += 1,
        }
    }

    /// "2 pass, 0 warn, 1 fail, 0 skip": every verdict, always in this order.
    pub fn words(&self) -> String {
        format!(
            "{} pass, {} warn, {} fail, {} skip",
            self.pass, self.warn, self.fail, self.skip
        )
    }

    /// "1 pass · 1 fail": only the verdicts that occur.
    pub fn short(&self) -> String {
        [
            (self.pass, "pass"),
            (self.warn, "warn"),
            (self.fail, "fail"),
            (self.skip, "skip"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, l)| format!("{n} {l}"))
        .collect::<Vec<_>>()
        .join(" · ")
    }
}

/// One root cause of the Diagnosis, in the words every format prints.
#[derive(Debug, Clone)]
pub struct CauseLine {
    /// The number every format refers to ("see cause 2").
    pub id: usize,
    pub verdict: Verdict,
    /// It makes the run exit 1.
    pub gating: bool,
    /// "DNS server not answering".
    pub title: String,
    pub summary: String,
    pub fix: String,
    /// The capability ids it blocks (`throughput` for the measurement).
    pub blocks: Vec<String>,
    /// How many names it explains.
    pub names: usize,
    /// Nothing else explains it: the row's own cause stands (the row is not folded).
    pub own: bool,
    /// "see cause 2: DNS server not answering".
    pub reference: String,
}

/// Rows of one section explained by one root cause, shown as one line.
#[derive(Debug, Clone)]
pub struct Fold {
    /// The cause's id.
    pub cause: usize,
    /// "see cause 1: DNS denies public names (NXDOMAIN)".
    pub reference: String,
    /// The worst verdict of the folded rows.
    pub verdict: Verdict,
    /// The folded names, in report order, each once.
    pub hosts: Vec<String>,
}

impl Fold {
    /// "11 names: see cause 1: …".
    pub fn line(&self) -> String {
        format!("{}: {}", plural(self.hosts.len(), "name"), self.reference)
    }
}

/// A probed name shown on its own (not folded into a cause).
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub entry: &'a EntryReport,
    /// Its index among the entry's targets.
    pub index: usize,
    pub target: &'a TargetResult,
    /// Its own cause, in words (`None` when it passes).
    pub cause: Option<String>,
    /// It fails or warns on its own cause: shown unfolded (`<details open>`).
    pub open: bool,
}

/// One capability.
#[derive(Debug, Clone)]
pub struct Section<'a> {
    pub cap: &'a CapabilityReport,
    pub id: String,
    pub title: String,
    pub gating: bool,
    pub verdict: Verdict,
    /// Names (each once, at its worst verdict) and entries with no name to probe (skip).
    pub counts: Counts,
    /// The capability does its job (PASS or WARN): Prometheus's `success` per capability.
    pub success: bool,
    /// What the capability's line says: "see cause 1: …" when a cause explains its first
    /// problem, else that row's own cause (with its name); `None` when it passes.
    pub one_liner: Option<String>,
    /// Rows folded into causes, by cause id.
    pub folds: Vec<Fold>,
    /// The rows shown one by one (everything not folded).
    pub rows: Vec<Row<'a>>,
    /// Documented entries with no name to probe: (pattern, note).
    pub empty: Vec<(&'a str, String)>,
    /// Every row that does not pass is folded into a cause: one line says it all.
    pub covered: bool,
}

/// One throughput direction.
#[derive(Debug, Clone)]
pub struct DirectionLine<'a> {
    pub result: &'a DirectionResult,
    pub id: &'static str,
    pub verdict: Verdict,
    /// Its detail in words.
    pub detail: String,
    /// The cause it folds into ("see cause 1: …"), when the Diagnosis explains it.
    pub fold: Option<Fold>,
}

/// The throughput measurement.
#[derive(Debug, Clone)]
pub struct ThroughputSection<'a> {
    pub report: &'a ThroughputReport,
    pub verdict: Verdict,
    pub gating: bool,
    pub success: bool,
    /// "at least 70 kbit/s up and down".
    pub title: String,
    pub directions: Vec<DirectionLine<'a>>,
    /// What its line says: the cause it folds into or the first problem's detail.
    pub one_liner: Option<String>,
    /// Every direction that does not pass (SKIP aside) folds into a cause.
    pub covered: bool,
}

/// The runner's version (issue 20: every format shows it).
#[derive(Debug, Clone)]
pub struct RunnerVersionLine {
    pub verdict: Verdict,
    pub gating: bool,
    pub success: bool,
    /// "the runner's version GitHub accepts"
    pub title: &'static str,
    pub message: String,
    pub fix: Option<String>,
}

/// Everything the human formats state about one run.
#[derive(Debug, Clone)]
pub struct View<'a> {
    pub report: &'a Report,
    pub verdict: Verdict,
    /// The run passes (exit code 0): Prometheus's `success` per run.
    pub success: bool,
    /// Why the run has its verdict: "4 of 4 gating capabilities fail: essential, api, …;
    /// throughput could not be measured".
    pub sentence: String,
    /// Probed names by verdict (each name once, at its worst).
    pub names: Counts,
    /// "51 names probed: 0 pass, 0 warn, 51 fail, 0 skip".
    pub names_line: String,
    /// Capabilities by verdict (throughput and the runner version not included).
    pub capabilities: Counts,
    /// How many capabilities gate the run, and the ids of those that fail.
    pub gating: usize,
    pub failing_gates: Vec<String>,
    pub causes: Vec<CauseLine>,
    pub sections: Vec<Section<'a>>,
    pub throughput: Option<ThroughputSection<'a>>,
    pub runner_version: Option<RunnerVersionLine>,
    /// Capabilities not checked: "not checked: ID — reason".
    pub inactive: Vec<String>,
    /// Notes of the measurement (e.g. upload needs `--upload-url`).
    pub notes: Vec<String>,
    /// Network findings that warn.
    pub network_warnings: usize,
}

/// The capability id of the throughput measurement in a diagnosis's `blocks`.
const THROUGHPUT: &str = "throughput";

impl<'a> View<'a> {
    pub fn new(r: &'a Report) -> View<'a> {
        let details = super::diagnosis::details(r);
        let causes: Vec<CauseLine> = r
            .diagnosis
            .iter()
            .map(|d| CauseLine {
                id: d.id,
                verdict: d.verdict,
                gating: d.gating,
                title: super::diagnosis::title(&d.cause),
                summary: super::diagnosis::summary(d, details.get(&d.id).map(String::as_str)),
                fix: super::diagnosis::fix(d),
                blocks: d.blocks.clone(),
                names: d.hosts.len(),
                own: d.cause.is_unexplained(),
                reference: super::diagnosis::reference(d),
            })
            .collect();
        let sections: Vec<Section> = r
            .capabilities
            .iter()
            .map(|c| section(c, &r.diagnosis))
            .collect();
        let mut capabilities = Counts::default();
        for c in &r.capabilities {
            capabilities.add(c.verdict);
        }
        let gating = r.capabilities.iter().filter(|c| c.gating).count();
        let failing_gates: Vec<String> = r
            .capabilities
            .iter()
            .filter(|c| c.gating && c.verdict == Verdict::Fail)
            .map(|c| c.id.clone())
            .collect();
        let names = Counts {
            pass: r.summary.pass,
            warn: r.summary.warn,
            fail: r.summary.fail,
            skip: r.summary.skip,
        };
        let throughput = r
            .throughput
            .as_ref()
            .map(|tp| throughput_section(tp, &r.diagnosis));
        let runner_version = r.runner_version.as_ref().map(|rv| RunnerVersionLine {
            verdict: rv.verdict,
            gating: rv.gating,
            success: rv.verdict != Verdict::Fail,
            title: "the runner's version GitHub accepts",
            message: super::words::runner_version_message(rv),
            fix: super::words::runner_version_fix(rv),
        });
        let network_warnings = r
            .network
            .findings
            .iter()
            .filter(|f| f.severity == crate::report::findings::Severity::Warn)
            .count();
        View {
            report: r,
            verdict: r.verdict,
            success: r.exit_code == 0,
            sentence: sentence(r, gating, &failing_gates),
            names,
            names_line: format!(
                "{} probed: {}",
                plural(names.total(), "name"),
                names.words()
            ),
            capabilities,
            gating,
            failing_gates,
            causes,
            sections,
            throughput,
            runner_version,
            inactive: r
                .inactive
                .iter()
                .map(|i| format!("not checked: {} — {}", i.id, i.reason))
                .collect(),
            notes: r
                .throughput
                .as_ref()
                .map(|t| t.notes.clone())
                .unwrap_or_default(),
            network_warnings,
        }
    }

    /// "FAIL — 4 of 4 gating capabilities fail: …": the verdict and its sentence.
    pub fn verdict_line(&self) -> String {
        format!("{} — {}", self.verdict.label(), self.sentence)
    }

    /// The cause with this id.
    pub fn cause(&self, id: usize) -> Option<&CauseLine> {
        self.causes.iter().find(|c| c.id == id)
    }

    /// Some cause folds at least two rows somewhere: `--verbose` would show more.
    pub fn folds_rows(&self) -> bool {
        self.sections
            .iter()
            .any(|s| s.folds.iter().any(|f| f.hosts.len() >= 2) || s.covered && !s.folds.is_empty())
    }
}

/// Why the run has its verdict, in one sentence.
fn sentence(r: &Report, gating: usize, failing: &[String]) -> String {
    match r.verdict {
        Verdict::Fail => {
            let mut parts = Vec::new();
            if !failing.is_empty() {
                parts.push(format!(
                    "{} of {gating} gating capabilities fail: {}",
                    failing.len(),
                    failing.join(", ")
                ));
            }
            if let Some(t) = r.throughput.as_ref().filter(|t| t.gating_failure()) {
                parts.push(if t.measured_below_floor() {
                    format!("throughput is below the {} kbit/s floor", t.min_kbps)
                } else {
                    "throughput could not be measured".to_string()
                });
            }
            if r.runner_version
                .as_ref()
                .is_some_and(|v| v.gating && v.verdict == Verdict::Fail)
            {
                parts.push("the runner's version is refused by GitHub".to_string());
            }
            if r.container_jobs
                .as_ref()
                .is_some_and(|c| c.gating && c.verdict == Verdict::Fail)
            {
                parts.push(
                    "container jobs cannot reach what they need (container-jobs is required)"
                        .to_string(),
                );
            }
            if parts.is_empty() {
                parts.push("warnings fail the run (--fail-on warn)".to_string());
            }
            parts.join("; ")
        }
        Verdict::Warn => "gating capabilities pass, with warnings".to_string(),
        Verdict::Pass => "every capability passes".to_string(),
        Verdict::Skip => "nothing was probed".to_string(),
    }
}

/// The explained (not `unexplained`) cause of a target, if any.
fn explained<'d>(t: &TargetResult, diagnosis: &'d [Diagnosis]) -> Option<&'d Diagnosis> {
    let id = t.diagnosis_id?;
    diagnosis
        .iter()
        .find(|d| d.id == id && !d.cause.is_unexplained())
}

fn section<'a>(c: &'a CapabilityReport, diagnosis: &[Diagnosis]) -> Section<'a> {
    let mut folds: BTreeMap<usize, Fold> = BTreeMap::new();
    let mut rows = Vec::new();
    let mut empty = Vec::new();
    // Each name once, at its worst verdict.
    let mut worst: BTreeMap<&str, Verdict> = BTreeMap::new();
    let mut counts = Counts::default();
    for e in &c.entries {
        if e.targets.is_empty() {
            counts.add(Verdict::Skip);
            empty.push((e.pattern.as_str(), e.note.clone().unwrap_or_default()));
            continue;
        }
        for (index, t) in e.targets.iter().enumerate() {
            let w = worst.entry(t.host.as_str()).or_insert(t.verdict);
            *w = (*w).max(t.verdict);
            match explained(t, diagnosis).filter(|_| t.verdict >= Verdict::Warn) {
                Some(d) => {
                    let f = folds.entry(d.id).or_insert_with(|| Fold {
                        cause: d.id,
                        reference: super::diagnosis::reference(d),
                        verdict: t.verdict,
                        hosts: Vec::new(),
                    });
                    f.verdict = f.verdict.max(t.verdict);
                    if !f.hosts.contains(&t.host) {
                        f.hosts.push(t.host.clone());
                    }
                }
                None => rows.push(Row {
                    entry: e,
                    index,
                    target: t,
                    cause: super::words::target_cause(t),
                    open: t.verdict >= Verdict::Warn,
                }),
            }
        }
    }
    for v in worst.values() {
        counts.add(*v);
    }
    let covered = !folds.is_empty() && rows.iter().all(|r| r.target.verdict < Verdict::Warn);
    // The capability's line: the cause of the target the report picked, pointed at when folded.
    let one_liner = c
        .cause_target()
        .and_then(|t| match explained(t, diagnosis) {
            Some(d) => Some(super::diagnosis::reference(d)),
            None => super::words::capability_cause(c),
        });
    let mut folds: Vec<Fold> = folds.into_values().collect();
    folds.sort_by_key(|f| f.cause);
    Section {
        cap: c,
        id: c.id.clone(),
        title: c.title.clone(),
        gating: c.gating,
        verdict: c.verdict,
        counts,
        success: c.verdict != Verdict::Fail,
        one_liner,
        folds,
        rows,
        empty,
        covered,
    }
}

/// The diagnosis that covers a throughput direction: its own (`below the floor`, or an
/// unexplained one naming the direction), else the explained cause of its host or of DNS that
/// the Diagnosis says blocks the throughput.
fn direction_cause<'d>(d: &DirectionResult, diagnosis: &'d [Diagnosis]) -> Option<&'d Diagnosis> {
    let id = d.direction.id();
    let blocking = || {
        diagnosis
            .iter()
            .filter(|x| x.blocks.iter().any(|b| b == THROUGHPUT))
    };
    blocking()
        .find(|x| match &x.cause {
            RootCause::ThroughputBelowFloor { directions, .. } => {
                d.kbps.is_some() && directions.iter().any(|x| x == id)
            }
            RootCause::Unexplained { direction, .. } => direction.as_deref() == Some(id),
            _ => false,
        })
        .or_else(|| {
            d.kbps.is_none().then_some(()).and_then(|()| {
                blocking().find(|x| {
                    !x.cause.is_unexplained()
                        && !matches!(x.cause, RootCause::ThroughputBelowFloor { .. })
                })
            })
        })
}

fn throughput_section<'a>(
    tp: &'a ThroughputReport,
    diagnosis: &[Diagnosis],
) -> ThroughputSection<'a> {
    let directions: Vec<DirectionLine> = tp
        .directions
        .iter()
        .map(|d| {
            let fold = (d.verdict >= Verdict::Warn)
                .then(|| direction_cause(d, diagnosis))
                .flatten()
                .filter(|x| !x.cause.is_unexplained())
                .map(|x| Fold {
                    cause: x.id,
                    reference: super::diagnosis::reference(x),
                    verdict: d.verdict,
                    hosts: Vec::new(),
                });
            DirectionLine {
                result: d,
                id: d.direction.id(),
                verdict: d.verdict,
                detail: super::words_throughput::detail(d),
                fold,
            }
        })
        .collect();
    let problems: Vec<&DirectionLine> = directions
        .iter()
        .filter(|d| d.verdict >= Verdict::Warn)
        .collect();
    let covered = !problems.is_empty() && problems.iter().all(|d| d.fold.is_some());
    let one_liner = problems
        .iter()
        .find(|d| d.verdict == tp.verdict)
        .map(|d| match &d.fold {
            Some(f) => format!("{}: {}", d.id, f.reference),
            None => d.detail.clone(),
        });
    ThroughputSection {
        report: tp,
        verdict: tp.verdict,
        gating: tp.gating,
        success: tp.verdict != Verdict::Fail,
        title: format!("at least {} kbit/s up and down", tp.min_kbps),
        directions,
        one_liner,
        covered,
    }
}
