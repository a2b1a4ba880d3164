//! Every format tells the same run the same way (issue 23 row 1): for each verdict scenario in
//! `tests/scenarios/`, the report is rendered in every format and each is parsed back — JSON
//! with serde_json, JUnit with quick-xml, the HTML through its DOM (scraper), the table and
//! the Markdown by their lines, the annotations by their workflow commands — and they must
//! state the same verdict, the same verdict sentence, the same counts and the same causes.

use std::path::Path;

use runner_preflight::render::{self, table::Style, Format};
use scraper::{Html, Selector};

use crate::scenarios::{load, report_of};

/// What a format states about a run.
#[derive(Debug, PartialEq, Eq, Clone)]
struct Stated {
    verdict: String,
    sentence: String,
    /// pass, warn, fail, skip.
    counts: [usize; 4],
    /// (id, title) of each root cause.
    causes: Vec<(usize, String)>,
}

/// "3 names probed: 2 pass, 0 warn, 1 fail, 0 skip" (anything after it ignored).
fn counts_of(line: &str) -> Option<[usize; 4]> {
    let (_, rest) = line.split_once(" probed: ")?;
    let mut out = [0; 4];
    for (i, label) in ["pass", "warn", "fail", "skip"].iter().enumerate() {
        let end = rest.find(&format!(" {label}"))?;
        let start = rest[..end].rfind(' ').map_or(0, |p| p + 1);
        out[i] = rest[start..end].parse().ok()?;
    }
    Some(out)
}

fn json(text: &str) -> Stated {
    let v: serde_json::Value = serde_json::from_str(text).expect("JSON parses");
    let n = |k: &str| v["summary"][k].as_u64().expect("a count") as usize;
    Stated {
        verdict: v["verdict"].as_str().unwrap().to_uppercase(),
        sentence: v["sentence"].as_str().expect("sentence").to_string(),
        counts: [n("pass"), n("warn"), n("fail"), n("skip")],
        causes: v["diagnosis"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["id"].as_u64().unwrap() as usize,
                    d["title"].as_str().expect("title").to_string(),
                )
            })
            .collect(),
    }
}

/// "Verdict: FAIL — SENTENCE; 1 root cause in the Diagnosis above (…)": the sentence ends
/// where the table's own pointers begin.
fn table(text: &str, causes_from: &[(usize, String)]) -> Stated {
    let mut lines = text.lines();
    let verdict_line = lines
        .by_ref()
        .find(|l| l.starts_with("Verdict: "))
        .expect("a Verdict line");
    let (verdict, mut sentence) = verdict_line["Verdict: ".len()..]
        .split_once(" — ")
        .expect("verdict — sentence");
    for tail in [
        "; 1 root cause",
        "; 2 root causes",
        "; 3 root causes",
        "; 4 root causes",
    ] {
        if let Some(i) = sentence.find(tail) {
            sentence = &sentence[..i];
        }
    }
    if let Some(i) = sentence.find(" network warning(s)") {
        sentence = &sentence[..sentence[..i].rfind("; ").unwrap()];
    }
    let counts = lines
        .find_map(counts_of)
        .expect("a counts line after the verdict");
    // "  1. FAIL  TITLE — blocks …": the numbered lines of the Diagnosis block.
    let causes = text
        .lines()
        .take_while(|l| !l.starts_with("Verdict: "))
        .filter_map(|l| {
            let (id, rest) = l.strip_prefix("  ")?.split_once(". ")?;
            let id: usize = id.parse().ok()?;
            let title = rest.split_once("  ")?.1;
            // The title is what the JSON calls it; the rest of the line is the table's.
            cause_titled(id, title, causes_from)
        })
        .collect();
    Stated {
        verdict: verdict.to_string(),
        sentence: sentence.to_string(),
        counts,
        causes,
    }
}

/// Cause `id` as a line states it: when the line starts with the title the JSON gives that
/// cause, the title (the rest of the line is the format's own); else the line as it is, which
/// then fails the comparison.
fn cause_titled(
    id: usize,
    title: &str,
    causes_from: &[(usize, String)],
) -> Option<(usize, String)> {
    let known = causes_from.iter().find(|(i, _)| *i == id)?;
    Some((
        id,
        if title.starts_with(&known.1) {
            known.1.clone()
        } else {
            title.to_string()
        },
    ))
}

/// Markdown cell escapes (`\_`, `\|`, …) undone.
fn unescape_md(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn markdown(text: &str) -> Stated {
    let line = text
        .lines()
        .find(|l| l.starts_with("**Verdict: "))
        .expect("a **Verdict:** line");
    let (verdict, sentence) = line["**Verdict: ".len()..]
        .split_once("** — ")
        .expect("**Verdict: X** — sentence");
    let counts = text.lines().find_map(counts_of).expect("a counts line");
    // "1. ❌ **TITLE** (blocks …) — …" under "### Diagnosis".
    let causes = text
        .lines()
        .skip_while(|l| !l.starts_with("### Diagnosis"))
        .take_while(|l| !l.starts_with("| capability"))
        .filter_map(|l| {
            let (id, rest) = l.split_once(". ")?;
            let id: usize = id.parse().ok()?;
            let title = rest.split_once("**")?.1.split_once("**")?.0;
            Some((id, unescape_md(title)))
        })
        .collect();
    Stated {
        verdict: verdict.to_string(),
        sentence: unescape_md(sentence),
        counts,
        causes,
    }
}

fn html(text: &str) -> Stated {
    let dom = Html::parse_document(text);
    let one = |css: &str| {
        let sel = Selector::parse(css).unwrap();
        dom.select(&sel)
            .next()
            .unwrap_or_else(|| panic!("no {css} in the HTML"))
            .text()
            .collect::<String>()
    };
    let li = Selector::parse("li[id^=\"cause-\"]").unwrap();
    let b = Selector::parse("b").unwrap();
    Stated {
        verdict: one("#verdict"),
        sentence: one("#sentence"),
        counts: counts_of(&one("#counts")).expect("counts in #counts"),
        causes: dom
            .select(&li)
            .map(|e| {
                let id = e.value().id().unwrap()["cause-".len()..].parse().unwrap();
                let title = e.select(&b).next().expect("a title").text().collect();
                (id, title)
            })
            .collect(),
    }
}

/// The run-wide properties of the first `<testsuite>` (every suite carries them).
fn junit(text: &str) -> Stated {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut props: Vec<(String, String)> = Vec::new();
    let mut suites = 0;
    loop {
        match reader.read_event().expect("JUnit is well-formed XML") {
            Event::Start(e) if e.name().as_ref() == b"testsuite" => suites += 1,
            Event::Empty(e) if e.name().as_ref() == b"property" && suites == 1 => {
                let attr = |k: &[u8]| {
                    e.attributes()
                        .filter_map(Result::ok)
                        .find(|a| a.key.as_ref() == k)
                        .map(|a| a.unescape_value().unwrap().into_owned())
                        .unwrap_or_default()
                };
                props.push((attr(b"name"), attr(b"value")));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let get = |k: &str| {
        props
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no property {k}: {props:?}"))
    };
    Stated {
        verdict: get("run.verdict"),
        sentence: get("run.sentence"),
        counts: counts_of(&get("run.names")).expect("counts in run.names"),
        causes: props
            .iter()
            .filter_map(|(n, v)| Some((n.strip_prefix("run.cause.")?.parse().ok()?, v.clone())))
            .collect(),
    }
}

fn unescape_command(s: &str) -> String {
    s.replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

fn annotations(text: &str, causes_from: &[(usize, String)]) -> Stated {
    let notice = text
        .lines()
        .find(|l| l.starts_with("::notice title=runner-preflight"))
        .expect("a notice with the run's verdict");
    let message = unescape_command(
        notice
            .split_once("::")
            .unwrap()
            .1
            .split_once("::")
            .unwrap()
            .1,
    );
    let mut lines = message.lines();
    let (verdict, sentence) = lines.next().unwrap().split_once(" — ").unwrap();
    let counts = counts_of(lines.next().unwrap()).expect("counts on the notice's second line");
    // "::error title=runner-preflight cause 1: TITLE (blocks …)::…"
    let causes = text
        .lines()
        .filter_map(|l| {
            let title = unescape_command(l.split_once("title=")?.1.split_once("::")?.0);
            let rest = title.strip_prefix("runner-preflight cause ")?;
            let (id, title) = rest.split_once(": ")?;
            let id: usize = id.parse().ok()?;
            cause_titled(id, title, causes_from)
        })
        .collect();
    Stated {
        verdict: verdict.to_string(),
        sentence: sentence.to_string(),
        counts,
        causes,
    }
}

#[test]
fn every_format_states_the_same_verdict_counts_and_causes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "scenarios: {files:?}");
    let plain = Style::default();
    for name in files {
        let (profile, outcomes, fail_on) = load(&name);
        let r = report_of(&profile, &outcomes, fail_on);
        let want = json(&render::render(&r, Format::Json, &plain));
        let formats = [
            (
                "table",
                table(&render::render(&r, Format::Table, &plain), &want.causes),
            ),
            (
                "table --verbose",
                table(
                    &render::render(
                        &r,
                        Format::Table,
                        &Style {
                            verbose: true,
                            ..Style::default()
                        },
                    ),
                    &want.causes,
                ),
            ),
            (
                "markdown",
                markdown(&render::render(&r, Format::Markdown, &plain)),
            ),
            ("html", html(&render::render(&r, Format::Html, &plain))),
            ("junit", junit(&render::render(&r, Format::Junit, &plain))),
            (
                "annotations",
                annotations(&render::annotations::render(&r), &want.causes),
            ),
        ];
        for (format, got) in formats {
            assert_eq!(got, want, "{name}: {format} disagrees with the JSON report");
        }
    }
}

/// Text as one line: each line break and the indent after it become one space.
fn reflowed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A one-cause run at 80 columns (issue 23 row 3): a capability the Diagnosis covers is one
/// line (no table), every line fits, the Diagnosis is wrapped between words only (its sentences,
/// names and addresses come back whole when the lines are joined); `--verbose` keeps the table.
#[test]
fn a_one_cause_run_fits_80_columns_with_one_line_per_covered_capability() {
    for scenario in [
        "gating_nxdomain.yaml",
        "not_github_and_unfinished.yaml",
        "ipv6_only_host.yaml",
    ] {
        let (profile, outcomes, fail_on) = load(scenario);
        let r = report_of(&profile, &outcomes, fail_on);
        let view = runner_preflight::render::view::View::new(&r);
        let narrow = Style {
            width: 80,
            ..Style::default()
        };
        let text = render::render(&r, Format::Table, &narrow);
        for line in text.lines() {
            assert!(
                line.chars().count() <= 80,
                "{scenario}: a line of {} columns:\n{line}\n\n{text}",
                line.chars().count()
            );
        }
        let flat = reflowed(&text);
        for c in &view.causes {
            assert!(
                flat.contains(&reflowed(&c.summary)),
                "{scenario}: cause {} cut:\n{text}",
                c.id
            );
            assert!(
                flat.contains(&reflowed(&format!("fix: {}", c.fix))),
                "{scenario}:\n{text}"
            );
        }
        let covered: Vec<_> = view.sections.iter().filter(|s| s.covered).collect();
        assert!(
            !covered.is_empty(),
            "{scenario}: no capability covered by a cause"
        );
        for s in &covered {
            let head = format!("{}  {} — {}", s.verdict.label(), s.id, s.title);
            let at = text
                .lines()
                .position(|l| l.starts_with(&head))
                .unwrap_or_else(|| panic!("{scenario}: no line for {}:\n{text}", s.id));
            // The line (and its continuation) says which cause, and no table follows it.
            let block: Vec<&str> = text
                .lines()
                .skip(at)
                .take_while(|l| !l.is_empty())
                .collect();
            let block = reflowed(&block.join("\n"));
            assert!(block.contains(&s.folds[0].reference), "{scenario}: {block}");
            assert!(
                !block.contains('┌'),
                "{scenario}: a table for {}:\n{text}",
                s.id
            );
            for host in s.folds.iter().flat_map(|f| &f.hosts) {
                assert!(
                    !block.contains(host.as_str()),
                    "{scenario}: {host} listed in the line"
                );
            }
        }
        // --verbose: today's full table for the same capability, with each name.
        let verbose = render::render(
            &r,
            Format::Table,
            &Style {
                verbose: true,
                ..Style::default()
            },
        );
        for s in &covered {
            let title = format!("{}  {} — {}", s.verdict.label(), s.id, s.title);
            let at = verbose.find(&title).expect("the capability in --verbose");
            let table = &verbose[at..];
            assert!(
                table.lines().nth(1).is_some_and(|l| l.starts_with('┌')),
                "{verbose}"
            );
            for host in s.folds.iter().flat_map(|f| &f.hosts) {
                assert!(
                    table.contains(host.as_str()),
                    "{host} not in --verbose:\n{verbose}"
                );
            }
        }
    }
}

/// The DNS server said NXDOMAIN at once while the OS resolver (what the runner uses) gave no
/// answer in 5 s: a finding of its own, with both answers and both times (issue 23 row 2),
/// in every format that shows the network findings.
#[test]
fn an_os_resolver_timing_out_beside_a_dns_answer_is_a_finding_with_both_answers() {
    let profile = "schema_version: 1\nname: s\ntitle: S\ncapabilities:\n  - id: essential\n    title: Essential\n    gating: true\n    entries: [{host: github.com}]\n";
    let outcomes: Vec<runner_preflight::probe::outcome::TargetOutcome> = serde_saphyr::from_str(
        r#"
- host: github.com
  dns:
    server: "192.0.2.53:53"
    ms: 33
    failure: {kind: nx_domain, name: github.com, server: "192.0.2.53:53"}
    system: {kind: failed, failure: {kind: timeout, after: 5000}}
"#,
    )
    .expect("outcomes");
    let mut r = report_of(profile, &outcomes, Default::default());
    let results: Vec<&runner_preflight::report::TargetResult> = r
        .capabilities
        .iter()
        .flat_map(|c| c.entries.iter())
        .flat_map(|e| e.targets.iter())
        .collect();
    let found = runner_preflight::report::findings::resolver_disagreements(&results, None);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].hosts, ["github.com"]);
    let words = runner_preflight::render::words::finding_message(&found[0]);
    assert_eq!(
        words,
        "the DNS server 192.0.2.53:53 and the OS resolver (which the runner uses) disagree about github.com: the DNS server said github.com does not exist (NXDOMAIN) in 33 ms; the OS resolver gave no answer within 5 s"
    );
    r.network.findings.extend(found);
    for (format, text) in [
        (
            "table",
            render::render(&r, Format::Table, &Style::default()),
        ),
        ("html", render::render(&r, Format::Html, &Style::default())),
        ("json", render::render(&r, Format::Json, &Style::default())),
    ] {
        assert!(
            text.contains("the OS resolver gave no answer within 5 s"),
            "{format}:\n{text}"
        );
    }
    // Agreeing resolvers (both say the name does not exist) are no finding.
    let agreeing: Vec<runner_preflight::probe::outcome::TargetOutcome> = serde_saphyr::from_str(
        r#"
- host: github.com
  dns:
    server: "192.0.2.53:53"
    failure: {kind: nx_domain, name: github.com, server: "192.0.2.53:53"}
    system: {kind: failed, failure: {kind: error, message: "Name or service not known"}}
"#,
    )
    .expect("outcomes");
    let r = report_of(profile, &agreeing, Default::default());
    let results: Vec<_> = r
        .capabilities
        .iter()
        .flat_map(|c| c.entries.iter())
        .flat_map(|e| e.targets.iter())
        .collect();
    assert!(runner_preflight::report::findings::resolver_disagreements(&results, None).is_empty());
}
