//! Errors that end a run before any probing, with the exit code they map to.

use std::fmt;

/// Exit code for usage, profile and input errors (DEVELOPERS.md, conventions).
pub const EXIT_INPUT: u8 = 2;
/// Exit code when a gating capability fails.
pub const EXIT_GATE: u8 = 1;

/// A position in a text file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u64,
    pub column: u64,
}

/// An error in a profile file, pointing at the offending line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileError {
    pub file: String,
    pub pos: Option<Pos>,
    pub message: String,
    /// The offending source line, when known: at most [`SNIPPET_WIDTH`] characters around the
    /// column, with `…` where it was cut.
    pub source_line: Option<String>,
    /// Where the caret goes under `source_line` (characters before it).
    pub caret: usize,
}

/// Characters of the offending line shown around the column.
pub const SNIPPET_WIDTH: usize = 200;
/// A message longer than this (it may echo the user's text) is cut.
const MAX_MESSAGE: usize = 600;

impl ProfileError {
    pub fn new(file: &str, src: &str, pos: Option<Pos>, message: impl Into<String>) -> Self {
        let column = pos.map_or(0, |p| p.column.saturating_sub(1) as usize);
        let snippet = pos.and_then(|p| {
            // YAML's line breaks: CR LF, LF, or a lone CR (which `str::lines` does not split on).
            crate::textfile::lines(src)
                .nth(p.line.saturating_sub(1) as usize)
                .map(|line| {
                    // The line may hold a URL with credentials or a signed query.
                    let (line, column) = crate::model::secret::mask_urls_in(line, column);
                    crop(&line, column)
                })
        });
        let message: String = message.into();
        let message = crate::model::secret::mask_urls_in(&message, 0).0;
        let message = match message.char_indices().nth(MAX_MESSAGE) {
            Some((i, _)) => format!("{}…", &message[..i]),
            None => message,
        };
        let (source_line, caret) = match snippet {
            Some((l, c)) => (Some(l), c),
            None => (None, 0),
        };
        ProfileError {
            file: file.to_string(),
            pos,
            message,
            source_line,
            caret,
        }
    }
}

/// At most [`SNIPPET_WIDTH`] characters of `line` around character `column` (0-based), with
/// `…` marks where cut, and the caret's offset in the result.
fn crop(line: &str, column: usize) -> (String, usize) {
    let chars = line.chars().count();
    if chars <= SNIPPET_WIDTH {
        return (line.to_string(), column);
    }
    let half = SNIPPET_WIDTH / 2;
    let start = column
        .saturating_sub(half)
        .min(chars - SNIPPET_WIDTH.min(chars));
    let end = (start + SNIPPET_WIDTH).min(chars);
    let body: String = line.chars().skip(start).take(end - start).collect();
    let mut out = String::new();
    let mut caret = column - start.min(column);
    if start > 0 {
        out.push('…');
        caret += 1;
    }
    out.push_str(&body);
    if end < chars {
        out.push('…');
    }
    (out, caret)
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Some(p) => write!(f, "{}:{}:{}: {}", self.file, p.line, p.column, self.message)?,
            None => write!(f, "{}: {}", self.file, self.message)?,
        }
        if let (Some(p), Some(line)) = (self.pos, &self.source_line) {
            let gutter = p.line.to_string();
            write!(f, "\n {gutter} | {line}")?;
            let pad = " ".repeat(gutter.len());
            let caret_pad = " ".repeat(self.caret);
            write!(f, "\n {pad} | {caret_pad}^")?;
        }
        Ok(())
    }
}

impl std::error::Error for ProfileError {}

/// Anything wrong with what the user gave us: flags, variables, files.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{0}")]
    Profile(#[from] ProfileError),
    #[error("{0}")]
    Usage(String),
    /// The selection or variables do not fit the profile (worded in `cli::input_words`).
    #[error("{0}")]
    Plan(#[from] PlanError),
}

impl InputError {
    pub fn usage(msg: impl Into<String>) -> Self {
        InputError::Usage(msg.into())
    }
}

/// Which list a capability id came from (the command layer names the flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Only these capabilities are probed.
    Only,
    /// These capabilities are made gating.
    Require,
}

/// The user's selection or variables do not fit the profile (exit 2). Typed: the command layer
/// words it and names the flags (`cli::input_words`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlanError {
    UnknownCapability {
        selection: Selection,
        id: String,
        profile: String,
        /// The profile's capability ids, in its order.
        valid: Vec<String>,
    },
    /// The capability's `when` condition does not hold for these variables.
    InactiveCapability {
        selection: Selection,
        id: String,
        condition: String,
    },
    /// The same variable given twice: which value was meant is not clear.
    DuplicateVar {
        name: String,
        first: String,
        second: String,
    },
    UnknownVariable {
        name: String,
        profile: String,
        known: Vec<String>,
    },
    NotAllowed {
        name: String,
        value: String,
        allowed: Vec<String>,
    },
    /// A control character or `$` in a value.
    BadValue { name: String },
    /// A required variable without a value; `description` is " (what it is)" or empty.
    MissingVariable {
        name: String,
        profile: String,
        description: String,
    },
}

impl std::error::Error for PlanError {}
