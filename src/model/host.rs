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
                "`{}` has an empty label (two dots in a row, or a leading dot)",
                name.escape_debug()
            ));
        }
        if label.len() > 63 {
            return Err(format!(
                "label `{}` is {} characters long; at most 63 are allowed",
                super::text::clip(label).escape_debug(),
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

    #[test]
    fn length_limits_are_inclusive() {
        let label63 = "a".repeat(63);
        assert!(check_hostname(&format!("{label63}.com")).is_ok());
        assert!(check_hostname(&format!("{}.com", "a".repeat(64))).is_err());
        // 4 × 63 + 3 dots = 255; trim to exactly 253 and 254.
        let name = |len: usize| {
            let full = [label63.as_str(); 4].join(".");
            let mut n = full[..len].to_string();
            if n.ends_with('.') {
                n.pop();
                n.push('a');
            }
            n
        };
        assert_eq!(name(253).len(), 253);
        assert!(check_hostname(&name(253)).is_ok());
        assert!(
            check_hostname(&format!("{}.", name(253))).is_ok(),
            "trailing dot"
        );
        let err = check_hostname(&name(254)).unwrap_err();
        assert!(err.contains("254 characters"), "{err}");
        assert!(Name::new(&name(253)).is_ok());
    }

    #[test]
    fn error_words_name_the_character() {
        let err = |n: &str| check_hostname(n).unwrap_err();
        assert!(err("a\nb.com").contains("a newline"));
        assert!(err("a\tb.com").contains("a tab"));
        assert!(err("a b.com").contains("a space"));
        assert!(err("a\u{7}b.com").contains("U+0007"));
        assert!(err("a;b.com").contains("`;`"));
        assert!(err("Ab.com").contains("upper-case"));
        assert!(err("a-.com").contains("starts or ends"));
        assert!(err(".a.com").contains("empty label"));
        assert_eq!(err(""), "empty host name");
        assert_eq!(err("."), "empty host name");
    }

    #[test]
    fn names_and_patterns() {
        let n = |s: &str| Name::new(s).unwrap();
        assert_eq!(n("github.com.").as_str(), "github.com");
        assert_eq!(n("github.com").to_string(), "github.com");
        assert!(Name::new("a..b").is_err());
        assert!(n("api.github.com").is_below(&n("github.com")));
        assert!(n("a.b.github.com").is_below(&n("github.com")));
        assert!(!n("github.com").is_below(&n("github.com")));
        assert!(!n("evilgithub.com").is_below(&n("github.com")));
        assert!(!n("x.com").is_below(&n("github.com")));
        assert!(n("github.com").is_at_or_below(&n("github.com")));
        assert!(n("api.github.com").is_at_or_below(&n("github.com")));
        assert!(!n("evilgithub.com").is_at_or_below(&n("github.com")));
        let w = Pattern::parse("*.github.com").unwrap();
        assert_eq!(w, Pattern::Wildcard(n("github.com")));
        assert_eq!(w.to_string(), "*.github.com");
        assert!(w.covers(&n("api.github.com")));
        assert!(!w.covers(&n("github.com")));
        let e = Pattern::parse("github.com").unwrap();
        assert_eq!(e.to_string(), "github.com");
        assert!(e.covers(&n("github.com")));
        assert!(!e.covers(&n("api.github.com")));
        assert!(Pattern::parse("*.com").is_err());
        assert!(Pattern::parse("*.a..b").is_err());
        assert!(Pattern::parse("a b").is_err());
        assert!(pattern_covers("github.com", "github.com"));
        assert!(!pattern_covers("github.com", "api.github.com"));
        assert!(!pattern_covers("*.b.c", ".b.c"));
        assert!(pattern_covers("*.b.c", "a.b.c"));
        assert!(check_pattern("x.*.b.c").is_err());
        assert!(check_pattern("*.a-.b").is_err());
    }
}
