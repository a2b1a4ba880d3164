//! The help and the documentation say the same thing as the program (issue 23 row 14): every
//! flag clap knows is documented, every flag and environment variable the docs name exists, and
//! every environment variable the code reads is in the guide's table.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use super::Cli;

/// Every environment variable the program reads, in one place. The test below finds the reads
/// in the source (clap's `env = …`, `std::env::var(…)`, the runner environment's lookups) and
/// fails on one missing here; each one listed must be in docs/guide.md's "Environment
/// variables" section.
pub const ENV_VARS: &[&str] = &[
    // The flags' variables (clap).
    "RUNNER_PREFLIGHT_PROFILE",
    "RUNNER_PREFLIGHT_CAPABILITY",
    "RUNNER_PREFLIGHT_REQUIRE",
    "RUNNER_PREFLIGHT_FORMAT",
    "RUNNER_PREFLIGHT_OUTPUT",
    "RUNNER_PREFLIGHT_OUTPUT_JSON",
    "RUNNER_PREFLIGHT_OUTPUT_JUNIT",
    "RUNNER_PREFLIGHT_OUTPUT_MARKDOWN",
    "RUNNER_PREFLIGHT_FAIL_ON",
    "RUNNER_PREFLIGHT_TIMEOUT",
    "RUNNER_PREFLIGHT_CONCURRENCY",
    "RUNNER_PREFLIGHT_DNS_SERVER",
    "RUNNER_PREFLIGHT_CA_FILE",
    "RUNNER_PREFLIGHT_LABELS",
    "RUNNER_PREFLIGHT_NO_THROUGHPUT",
    "RUNNER_PREFLIGHT_LISTEN",
    "RUNNER_PREFLIGHT_INTERVAL",
    // Output and terminal.
    "NO_COLOR",
    "CLICOLOR_FORCE",
    "CLICOLOR",
    "COLUMNS",
    "GITHUB_ACTIONS",
    "GITHUB_STEP_SUMMARY",
    // The machine's name in reports.
    "HOSTNAME",
    "COMPUTERNAME",
    // `meta diff --token-env` (its default).
    "GITHUB_TOKEN",
    // The runner's environment (also from its .env): proxies, trust stores, runner settings.
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "GIT_SSL_CAINFO",
    "NODE_EXTRA_CA_CERTS",
    "GITHUB_ACTIONS_RUNNER_TLS_NO_VERIFY",
    "GITHUB_ACTIONS_RUNNER_HTTP_TIMEOUT",
    "GITHUB_ACTIONS_RUNNER_DOWNLOAD_TIMEOUT",
];

/// `--flags` the docs name that belong to other programs (the runner, curl, cargo, Chromium,
/// Docker, Prometheus, the benchmarks' own harness…), never to runner-preflight.
const OTHER_PROGRAMS_FLAGS: &[&str] = &[
    // The runner's `run.sh --check`, curl's `--cacert`.
    "--check",
    "--cacert",
    // cargo and rustc.
    "--bench",
    "--locked",
    "--release",
    "--test",
    "--nocapture",
    "--target",
    "--root",
    "--path",
    "--pedantic",
    "--strict",
    // Docker and the packaging tools.
    "--build-arg",
    "--rm",
    "--network",
    "--prefix",
    "--repo",
    "--binary",
    "--ignore-missing",
    // Chromium (the HTML screenshots).
    "--headless",
    "--disable-gpu",
    "--no-sandbox",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--dump-dom",
    "--screenshot",
    "--user-data-dir",
    // The benchmarks' and the soak test's own options (`cargo bench -- …`).
    "--runs",
    "--warmup",
    "--growth",
    "--growth-delay",
    "--delays",
    "--idle",
    "--persona",
    "--info",
    "--now",
    "--schema",
    // AWS CLI (`--target-fqdns` of a Network Firewall rule group).
    "--target-fqdns",
];

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// README.md and every page of docs/.
fn docs() -> String {
    let mut text = std::fs::read_to_string(repo("README.md")).expect("README.md");
    let mut pages: Vec<PathBuf> = std::fs::read_dir(repo("docs"))
        .expect("docs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    for p in pages {
        text.push('\n');
        text.push_str(&std::fs::read_to_string(&p).expect("a docs page"));
    }
    text
}

/// Every `--flag` in `text` (a word starting with two dashes, not inside a longer word).
fn flags_in(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("--") {
        let start = i + at;
        let before_ok = start == 0 || {
            let b = bytes[start - 1];
            !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        let rest = &text[start + 2..];
        let len = rest
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
            .unwrap_or(rest.len());
        let name = rest[..len].trim_end_matches('-');
        if before_ok && name.starts_with(|c: char| c.is_ascii_lowercase()) {
            out.insert(format!("--{name}"));
        }
        i = start + 2 + len;
    }
    out
}

/// Every long flag and environment variable of every command, recursively.
fn clap_surface() -> (BTreeSet<String>, BTreeSet<String>) {
    fn walk(cmd: &clap::Command, flags: &mut BTreeSet<String>, env: &mut BTreeSet<String>) {
        for a in cmd.get_arguments() {
            if let Some(l) = a.get_long() {
                flags.insert(format!("--{l}"));
            }
            if let Some(e) = a.get_env() {
                env.insert(e.to_string_lossy().into_owned());
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, flags, env);
        }
    }
    let mut cmd = Cli::command();
    cmd.build();
    let (mut flags, mut env) = (BTreeSet::new(), BTreeSet::new());
    walk(&cmd, &mut flags, &mut env);
    (flags, env)
}

#[test]
fn every_flag_is_documented_and_every_documented_flag_exists() {
    let (flags, _) = clap_surface();
    let docs = docs();
    let documented = flags_in(&docs);
    let undocumented: Vec<&String> = flags.iter().filter(|f| !documented.contains(*f)).collect();
    assert!(
        undocumented.is_empty(),
        "flags no page of the docs names: {undocumented:?}"
    );
    let unknown: Vec<&String> = documented
        .iter()
        .filter(|f| !flags.contains(*f) && !OTHER_PROGRAMS_FLAGS.contains(&f.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "the docs name flags runner-preflight does not have: {unknown:?}"
    );
}

/// The names in `ENV_VARS` the source reads: `env = "X"` (clap), `env::var("X")`,
/// `env::var_os("X")`, `env_value(env, "X")`, `read_var(env, "x", "X")`, `pick("x", "X")`, and
/// the `…_VAR: &str = "X"` constants of the runner's settings.
fn env_reads_in_source() -> BTreeSet<String> {
    fn files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir)
            .expect("src/")
            .map(|e| e.expect("entry"))
        {
            let p = e.path();
            if p.is_dir() {
                files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    files(&repo("src"), &mut paths);
    let patterns = [
        "env = \"",
        "var(\"",
        "var_os(\"",
        "env_value(env, \"",
        "read_var(env, \"",
        "pick(\"",
        "_VAR: &str = \"",
    ];
    let mut out = BTreeSet::new();
    // This file names the patterns themselves.
    paths.retain(|p| !p.ends_with("cli/docs_tests.rs"));
    for p in paths {
        let src = std::fs::read_to_string(&p).expect("source");
        // What tests set is not what the program reads.
        let src = src.split("#[cfg(test)]").next().unwrap_or_default();
        for pat in patterns {
            for (at, _) in src.match_indices(pat) {
                let args = &src[at + pat.len() - 1..];
                // Every quoted upper-case name among the call's arguments (up to its `)`).
                let line = args.split([')', '\n']).next().unwrap_or_default();
                for quoted in line.split('"').skip(1).step_by(2) {
                    let name = quoted.to_ascii_uppercase();
                    if !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                    {
                        out.insert(name);
                    }
                }
            }
        }
    }
    out
}

#[test]
fn every_env_var_read_is_listed_and_in_the_guide() {
    let (_, clap_env) = clap_surface();
    let listed: BTreeSet<String> = ENV_VARS.iter().map(|s| s.to_string()).collect();
    let missing: Vec<&String> = clap_env.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "clap reads {missing:?}: add them to ENV_VARS"
    );
    let read = env_reads_in_source();
    assert!(read.len() >= 20, "{read:?}");
    let missing: Vec<&String> = read.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "the source reads {missing:?}: add them to ENV_VARS"
    );

    let guide = std::fs::read_to_string(repo("docs/guide.md")).expect("guide");
    let section = guide
        .split("\n## Environment variables")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("docs/guide.md has an Environment variables section");
    let absent: Vec<&&str> = ENV_VARS
        .iter()
        .filter(|v| !section.contains(&format!("`{v}`")))
        .collect();
    assert!(
        absent.is_empty(),
        "docs/guide.md's Environment variables section lacks {absent:?}"
    );

    // No page names a RUNNER_PREFLIGHT_ variable the program does not read
    // (`RUNNER_PREFLIGHT_OUTPUT_*` stands for the three).
    let docs = docs();
    let mut rest = docs.as_str();
    while let Some(at) = rest.find("RUNNER_PREFLIGHT_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '*'))
            .unwrap_or(tail.len());
        let name = tail[..end].trim_end_matches('_');
        let known = match name.strip_suffix('*') {
            Some(prefix) => clap_env.iter().any(|e| e.starts_with(prefix)),
            None => clap_env.contains(name),
        };
        assert!(known, "the docs name {name}, which no flag reads");
        rest = &tail[end..];
    }
}

/// The help of the command at `path` (e.g. `["meta", "diff"]`), as `--help` prints it.
fn help_of(path: &[&str]) -> String {
    let mut cmd = Cli::command();
    cmd.build();
    let mut at = &mut cmd;
    for name in path {
        at = at
            .find_subcommand_mut(name)
            .unwrap_or_else(|| panic!("no command {name}"));
    }
    at.render_long_help().to_string()
}

/// Every command's help speaks of that command (issue 23 row 14): `check --timeout` said how
/// `meta diff` uses it, `firewall`, `audit` and `meta diff` took `--require` and `--capability`
/// with `check`'s words about exit codes, and `--format json` pointed at a schema the README
/// does not hold.
#[test]
fn each_command_s_help_speaks_of_itself() {
    let check = help_of(&["check"]);
    assert!(check.contains("schema in docs/json-report.md"), "{check}");
    for foreign in [
        "meta diff",
        "for firewall",
        "firewall and audit",
        "schema in the README",
    ] {
        assert!(
            !check.contains(foreign),
            "check --help says `{foreign}`:\n{check}"
        );
    }
    for cmd in [&["firewall"][..], &["audit"]] {
        let help = help_of(cmd);
        for foreign in [
            "judged as required",
            "exits 1",
            "meta diff",
            "for check",
            "TLS handshake",
        ] {
            assert!(
                !help.contains(foreign),
                "{cmd:?} --help says `{foreign}`:\n{help}"
            );
        }
        assert!(
            help.contains("Mark these capabilities gating in the output"),
            "{help}"
        );
        assert!(help.contains("Time limit for each DNS question"), "{help}");
    }
    let meta = help_of(&["meta", "diff"]);
    assert!(!meta.contains("--require"), "{meta}");
    assert!(!meta.contains("judged as required"), "{meta}");
    assert!(meta.contains("the whole fetch of /meta"), "{meta}");
    assert!(!meta.contains("TLS handshake, an HTTP response"), "{meta}");
    let show = help_of(&["profile", "show"]);
    assert!(show.contains("--profile <PROFILE>"), "{show}");
}

/// Issue 23 row 14: the built-in profiles cited reference copies that are not in the repository
/// (`runner-network-facts.md`, `about-self-hosted-runners-dotcom.txt`, …). A file a profile
/// names must be in the repository, or be a file of another project said as such ("actions/runner
/// source, src/…", "github/docs content/…") or of an installed runner (`bin/…`).
#[test]
fn profiles_cite_no_file_the_repository_lacks() {
    let mut checked = 0;
    for name in crate::profile::BUILTIN_NAMES {
        let path = repo(&format!("profiles/{name}.yaml"));
        let text = std::fs::read_to_string(&path).expect("profile");
        let mut start = None;
        let bytes: Vec<(usize, char)> = text.char_indices().collect();
        let mut words = Vec::new();
        for &(i, c) in bytes.iter().chain(std::iter::once(&(text.len(), ' '))) {
            let part = c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-');
            match (part, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    words.push((s, &text[s..i]));
                    start = None;
                }
                _ => {}
            }
        }
        for (at, word) in words {
            let word = word.trim_end_matches(['.', '-', '/']);
            let is_file = [
                ".md", ".txt", ".cs", ".liquid", ".rs", ".json", ".yaml", ".yml",
            ]
            .iter()
            .any(|ext| word.ends_with(ext))
                && !word.contains("://");
            if !is_file {
                continue;
            }
            checked += 1;
            let before = &text[at.saturating_sub(120)..at];
            let elsewhere = before.contains("actions/runner")
                || before.contains("github/docs")
                || word.starts_with("bin/");
            assert!(
                elsewhere || repo(word).exists(),
                "profiles/{name}.yaml cites `{word}`, which the repository does not contain; say \"GitHub docs, <page>\" or \"actions/runner source, <file>\""
            );
        }
    }
    assert!(checked >= 5, "{checked} file names found in the profiles");
}
