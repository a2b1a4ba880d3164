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
    /// The offending source line, when known.
    pub source_line: Option<String>,
}

impl ProfileError {
    pub fn new(file: &str, src: &str, pos: Option<Pos>, message: impl Into<String>) -> Self {
        let source_line = pos.and_then(|p| {
            // YAML's line breaks: CR LF, LF, or a lone CR (which `str::lines` does not split on).
            src.replace("\r\n", "\n")
                .split(['\n', '\r'])
                .nth(p.line.saturating_sub(1) as usize)
                .map(str::to_string)
        });
        ProfileError {
            file: file.to_string(),
            pos,
            message: message.into(),
            source_line,
        }
    }
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
            let caret_pad = " ".repeat(p.column.saturating_sub(1) as usize);
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
}

impl InputError {
    pub fn usage(msg: impl Into<String>) -> Self {
        InputError::Usage(msg.into())
    }
}
