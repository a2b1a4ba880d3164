//! Seeds, a mutator and the properties for fuzzing the two text parsers: the profile parser
//! (`runner_preflight::profile::parse`) and the allow-list parser (`audit::AllowList::parse`).
//!
//! Shared by the proptest tests (`tests/it/fuzz.rs`) and the standalone driver
//! (`benches/fuzz_parsers.rs`), so both check the same property: any text gives `Ok` or an error
//! whose position lies inside the text, and never a panic.

#![allow(dead_code)]

/// A small, fast, deterministic generator (xorshift64*): reproducible from its seed.
#[derive(Clone, Debug)]
pub struct FuzzRng(u64);

impl FuzzRng {
    pub fn new(seed: u64) -> FuzzRng {
        FuzzRng(seed ^ 0x9E37_79B9_7F4A_7C15 | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// One of [`TOKENS`].
    pub fn token(&mut self) -> &'static str {
        TOKENS[self.below(TOKENS.len())]
    }
}

/// Fragments that mean something to YAML, to profiles or to allow lists.
pub const TOKENS: &[&str] = &[
    ":",
    ": ",
    "- ",
    "-",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\n",
    "\r\n",
    "\r",
    "  ",
    "    ",
    "\t",
    "'",
    "\"",
    "&a ",
    "*a",
    "<<: *a",
    "!!str ",
    "!!int ",
    "!tag ",
    "#",
    " # c",
    "---\n",
    "...\n",
    "|\n",
    ">-\n",
    "? ",
    "~",
    "null",
    "true",
    "no",
    "0x1F",
    "1e999",
    "-0",
    "99999999999999999999",
    "${",
    "}",
    "${hostname}",
    "${ x }",
    "{0..2}",
    "{0..999}",
    "{5..1}",
    "{1..}",
    "*.",
    ".",
    "..",
    "*",
    "?",
    "**",
    "*.*",
    "https://",
    "http://a:1/b?c",
    "xn--",
    "é",
    "ß",
    "\u{0}",
    "\u{7f}",
    "\u{feff}",
    "\u{2028}",
    "\u{1F600}",
    "\\",
    "%",
    "@",
    "=",
    "schema_version: 1\n",
    "name: x\n",
    "title: T\n",
    "capabilities:\n",
    "  - id: a\n",
    "    gating: true\n",
    "    entries:\n",
    "      - host: ",
    "pattern: ",
    "probe: [",
    "ports: [443, 80]",
    "scheme: http",
    "http: { path: /, method: POST }",
    "expect_header: X",
    "when: ",
    "variables:\n",
    "  hostname:\n",
    "    required: true\n",
    "default: ",
    "github.com",
    "*.githubusercontent.com",
    ".blob.core.windows.net",
    "a.b.c.d.e.f.g.h.i.j",
    "-bad-.com",
    "x_y.com",
    "[::1]",
    "127.0.0.1",
    "0",
];

/// Valid allow lists in the shapes people write.
pub const ALLOW_SEEDS: &[&str] = &[
    "github.com\napi.github.com\n*.actions.githubusercontent.com\n",
    "# GitHub\n.github.com\n.githubusercontent.com   # raw, objects\n\n*.blob.core.windows.net\n",
    "https://github.com/\nhttps://api.github.com:443/zen\nhttp://codeload.github.com\n",
    "pipelines.actions.githubusercontent.com\nresults-receiver.actions.githubusercontent.com\nproductionresultssa?.blob.core.windows.net\n*.pkg.github.com\nghcr.io\n",
    "GITHUB.COM.\n\t*.GitHubUserContent.com\r\nobjects-origin.githubusercontent.com\n",
];

/// A valid profile that exercises most fields (the built-ins cover the rest).
pub const PROFILE_SEED: &str = "schema_version: 1
name: fuzz
title: Fuzz seed
variables:
  hostname:
    description: The host
    required: true
capabilities:
  - id: core
    title: Core
    gating: true
    entries:
      - host: ${hostname}
        http: { path: /api/v3, method: GET, expect_header: X-GitHub-Request-Id }
      - host: api.github.com
        ports: [443, 80]
      - pattern: \"*.blob.core.windows.net\"
        probe: [\"a{0..2}.blob.core.windows.net\"]
  - id: extra
    title: Extra
    gating: false
    entries:
      - host: codeload.github.com
        scheme: http
";

/// The profile seeds: the built-ins as shipped, plus [`PROFILE_SEED`].
pub fn profile_seeds() -> Vec<String> {
    let mut seeds: Vec<String> = runner_preflight::profile::builtins()
        .map(|(_, src)| src.to_string())
        .collect();
    seeds.push(PROFILE_SEED.to_string());
    seeds
}

fn char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Apply 1 to 8 random edits to `input`: insert a token or random bytes, delete, duplicate or
/// move a span, swap two lines, splice in a piece of `other`, truncate.
pub fn mutate(input: &str, other: &str, rng: &mut FuzzRng) -> String {
    let mut s = input.to_string();
    for _ in 0..1 + rng.below(8) {
        let at = char_boundary(&s, rng.below(s.len() + 1));
        match rng.below(9) {
            0 | 1 => s.insert_str(at, rng.token()),
            2 => {
                let n = 1 + rng.below(16);
                let end = char_boundary(&s, at + n);
                s.replace_range(at..end, "");
            }
            3 => {
                let end = char_boundary(&s, at + rng.below(64));
                let span = s[at..end].to_string();
                s.insert_str(end, &span);
            }
            4 => {
                let bytes: Vec<u8> = (0..1 + rng.below(6)).map(|_| rng.next() as u8).collect();
                s.insert_str(at, &String::from_utf8_lossy(&bytes));
            }
            5 => {
                let mut lines: Vec<&str> = s.split('\n').collect();
                if lines.len() > 1 {
                    let (i, j) = (rng.below(lines.len()), rng.below(lines.len()));
                    lines.swap(i, j);
                }
                s = lines.join("\n");
            }
            6 if !other.is_empty() => {
                let from = char_boundary(other, rng.below(other.len()));
                let to = char_boundary(other, from + rng.below(200));
                s.insert_str(at, &other[from..to]);
            }
            7 => s.truncate(at),
            _ => {
                // Replace one character with a token (a changed indent, a broken key…).
                let end = char_boundary(&s, at + 1);
                let tok = rng.token();
                s.replace_range(at..end, tok);
            }
        }
    }
    s
}

/// Text made of random tokens and random characters.
pub fn token_soup(rng: &mut FuzzRng, max_parts: usize) -> String {
    let mut s = String::new();
    for _ in 0..rng.below(max_parts + 1) {
        if rng.below(4) == 0 {
            if let Some(c) = char::from_u32((rng.next() % 0x11_0000) as u32) {
                s.push(c);
            }
        } else {
            s.push_str(rng.token());
        }
    }
    s
}

/// What a parser said about one input (when the property holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Parsed: how many capabilities (profile) or entries (allow list).
    Ok(usize),
    /// Rejected with this message.
    Rejected(String),
}

/// The profile property. `Err(description)` when it does not hold.
pub fn check_profile(text: &str) -> Result<Outcome, String> {
    match runner_preflight::profile::parse("fuzz.yaml", text) {
        Ok(p) => Ok(Outcome::Ok(p.capabilities.len())),
        Err(e) => {
            let shown = e.to_string();
            if shown.is_empty() || e.message.is_empty() {
                return Err(format!("empty error message for {text:?}"));
            }
            if let Some(p) = e.pos {
                // YAML's line breaks: CR LF, LF, or a lone CR.
                let unified = text.replace("\r\n", "\n").replace('\r', "\n");
                let lines = unified.split('\n').count();
                let line = p.line as usize;
                if line == 0 || line > lines {
                    return Err(format!(
                        "error line {line} outside the text ({lines} lines): {shown} for {text:?}"
                    ));
                }
                let chars = unified
                    .split('\n')
                    .nth(line - 1)
                    .map_or(0, |l| l.chars().count());
                if p.column == 0 || p.column as usize > chars + 1 {
                    return Err(format!(
                        "error column {} outside line {line} ({chars} characters): {shown} for {text:?}",
                        p.column
                    ));
                }
            }
            Ok(Outcome::Rejected(e.message))
        }
    }
}

/// The allow-list property. `Err(description)` when it does not hold.
pub fn check_allow_list(text: &str) -> Result<Outcome, String> {
    match runner_preflight::audit::AllowList::parse("fuzz.txt", text) {
        Ok(list) => {
            // Every entry points at a line of the text and the matcher answers.
            let lines = runner_preflight::textfile::lines(text).count();
            for e in &list.entries {
                if e.line == 0 || e.line > lines {
                    return Err(format!(
                        "entry line {} outside the text for {text:?}",
                        e.line
                    ));
                }
            }
            if let Ok(name) = runner_preflight::model::Name::new("api.github.com") {
                let _ = list.covering_name(&name);
            }
            Ok(Outcome::Ok(list.entries.len()))
        }
        Err(e) => {
            let lines = runner_preflight::textfile::lines(text).count();
            if e.line == 0 || e.line > lines {
                return Err(format!(
                    "error line {} outside the text ({lines} lines): {} for {text:?}",
                    e.line, e.message
                ));
            }
            if e.message.is_empty() {
                return Err(format!("empty error message for {text:?}"));
            }
            Ok(Outcome::Rejected(e.message))
        }
    }
}
