//! Host names and patterns: LDH labels (RFC 1123), length limits, `*.` wildcards, and the
//! validated [`Name`] / [`Pattern`] types every layer passes around.
//!
//! Every name that reaches a probe, a report or a generated config passes through here first.

/// Why a string is not a host name.
pub fn check_hostname(name: &str) -> Result<(), String> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return Err("empty host name".into());
    }
    if name.len() > 253 {
        return Err(format!(
            "host name is {} characters long; at most 253 are allowed",
            name.len()
        ));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(format!(
                "`{name}` has an empty label (two dots in a row, or a leading dot)"
            ));
        }
        if label.len() > 63 {
            return Err(format!(
                "label `{label}` is {} characters long; at most 63 are allowed",
                label.len()
            ));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(format!(
                "`{}` is not a host name: character {} is not allowed (letters, digits, `-` and `.` only)",
                name.escape_debug(),
                describe_char(c)
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("label `{label}` starts or ends with `-`"));
        }
    }
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!(
            "`{name}` has upper-case letters; write host names in lower case"
        ));
    }
    Ok(())
}

/// `*.` followed by a host name with at least two labels.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    let Some(rest) = pattern.strip_prefix("*.") else {
        return Err(format!(
            "`{}` is not a wildcard pattern: it must start with `*.`",
            pattern.escape_debug()
        ));
    };
    check_hostname(rest)?;
    if !rest.contains('.') {
        return Err(format!(
            "`{pattern}` is too broad: a pattern needs at least two labels after `*.`"
        ));
    }
    Ok(())
}

/// Does `name` fall under the wildcard `pattern` (`*.x` matches any name ending in `.x`)?
pub fn pattern_covers(pattern: &str, name: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => name.len() > suffix.len() + 1 && name.ends_with(&format!(".{suffix}")),
        None => pattern == name,
    }
}

fn describe_char(c: char) -> String {
    match c {
        '\n' => "a newline".into(),
        '\t' => "a tab".into(),
        ' ' => "a space".into(),
        c if c.is_control() => format!("U+{:04X}", c as u32),
        c => format!("`{c}`"),
    }
}

/// A host name that passed [`check_hostname`] (lower case, no trailing dot).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

impl Name {
    pub fn new(s: &str) -> Result<Name, String> {
        let s = s.strip_suffix('.').unwrap_or(s);
        check_hostname(s)?;
        Ok(Name(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Is `self` equal to `suffix` or below it?
    pub fn is_at_or_below(&self, suffix: &Name) -> bool {
        self.0 == suffix.0 || self.is_below(suffix)
    }
    /// Is `self` strictly below `suffix` (at any depth)?
    pub fn is_below(&self, suffix: &Name) -> bool {
        self.0.len() > suffix.0.len() + 1
            && self.0.ends_with(&suffix.0)
            && self.0.as_bytes()[self.0.len() - suffix.0.len() - 1] == b'.'
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A documented entry of the profile.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pattern {
    /// Exactly this name.
    Exact(Name),
    /// `*.suffix`: any name below `suffix` (at any depth), not `suffix` itself.
    Wildcard(Name),
}

impl Pattern {
    /// Parse a profile entry (`name` or `*.name`).
    pub fn parse(s: &str) -> Result<Pattern, String> {
        if let Some(rest) = s.strip_prefix("*.") {
            check_pattern(s)?;
            Ok(Pattern::Wildcard(Name::new(rest)?))
        } else {
            Ok(Pattern::Exact(Name::new(s)?))
        }
    }
    pub fn covers(&self, n: &Name) -> bool {
        match self {
            Pattern::Exact(e) => e == n,
            Pattern::Wildcard(s) => n.is_below(s),
        }
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pattern::Exact(n) => write!(f, "{n}"),
            Pattern::Wildcard(n) => write!(f, "*.{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for n in [
            "github.com",
            "api.github.com",
            "run-actions-1-azure-eastus.actions.githubusercontent.com",
            "a.b",
        ] {
            assert!(check_hostname(n).is_ok(), "{n}");
        }
    }

    #[test]
    fn rejects_hostile_names() {
        for n in [
            "",
            "a..b",
            "-a.b",
            "a-.b",
            "a b.com",
            "a\nb.com",
            "a;b.com",
            "a\"b.com",
            "é.com",
            "A.com",
            &"a".repeat(64),
        ] {
            assert!(check_hostname(n).is_err(), "{n:?}");
        }
        let long = vec!["abcdefghij"; 30].join(".");
        assert!(check_hostname(&long).is_err());
    }

    #[test]
    fn patterns() {
        assert!(check_pattern("*.actions.githubusercontent.com").is_ok());
        assert!(check_pattern("*.com").is_err());
        assert!(check_pattern("github.com").is_err());
        assert!(check_pattern("*.*.github.com").is_err());
        assert!(pattern_covers("*.github.com", "api.github.com"));
        assert!(pattern_covers("*.github.com", "a.b.github.com"));
        assert!(!pattern_covers("*.github.com", "github.com"));
        assert!(!pattern_covers("*.github.com", "evilgithub.com"));
    }
}
