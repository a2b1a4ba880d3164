//! Host name syntax: LDH labels (RFC 1123), length limits, and `*.` wildcard patterns.
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
