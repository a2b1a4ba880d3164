//! `--fail-on`: which overall verdict makes the run exit 1.

use serde::{Deserialize, Serialize};

use crate::model::Verdict;

/// The lowest overall verdict that fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// Exit 1 only when a gating capability fails (warnings allowed).
    #[default]
    Fail,
    /// Also exit 1 when the overall verdict is WARN: a warning anywhere, or an informational
    /// capability failing.
    Warn,
}

impl FailOn {
    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::Fail => "fail",
            FailOn::Warn => "warn",
        }
    }

    /// Does an overall verdict fail the run under this setting?
    pub fn gates(self, overall: Verdict) -> bool {
        match self {
            FailOn::Fail => overall == Verdict::Fail,
            FailOn::Warn => overall >= Verdict::Warn,
        }
    }

    /// Does this capability, on its own, make the run fail?
    pub fn gates_capability(self, gating: bool, verdict: Verdict) -> bool {
        match self {
            FailOn::Fail => gating && verdict == Verdict::Fail,
            FailOn::Warn => verdict >= Verdict::Warn,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_levels() {
        assert!(!FailOn::Fail.gates(Verdict::Warn));
        assert!(FailOn::Fail.gates(Verdict::Fail));
        assert!(FailOn::Warn.gates(Verdict::Warn));
        assert!(FailOn::Warn.gates(Verdict::Fail));
        assert!(!FailOn::Warn.gates(Verdict::Pass));
        assert!(!FailOn::Warn.gates(Verdict::Skip));
        assert!(!FailOn::Fail.gates_capability(false, Verdict::Fail));
        assert!(FailOn::Warn.gates_capability(false, Verdict::Fail));
        assert!(FailOn::Fail.gates_capability(true, Verdict::Fail));
        assert!(!FailOn::Fail.gates_capability(true, Verdict::Warn));
    }

    #[test]
    fn names() {
        assert_eq!(FailOn::Fail.as_str(), "fail");
        assert_eq!(FailOn::Warn.as_str(), "warn");
        assert_eq!(FailOn::default(), FailOn::Fail);
        assert!(FailOn::Warn.gates_capability(false, Verdict::Warn));
        assert!(!FailOn::Warn.gates_capability(true, Verdict::Pass));
    }
}
