//! Small helpers for the words in reports and messages.

/// "1 name", "3 names".
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// "5 s", "2.5 s".
pub fn fmt_duration(d: std::time::Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// `12345` → `12,345`: counts in messages.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The known name closest to a mistyped one, when it is close enough to be what was meant: a
/// Jaro-Winkler similarity of at least 0.8 (`essentail` → `essential`, `dotcon` → `dotcom`; an
/// unrelated name such as `zzz` gets no suggestion). Case is ignored.
pub fn did_you_mean<'a>(typed: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let typed = typed.to_lowercase();
    known
        .into_iter()
        .map(|k| (strsim::jaro_winkler(&typed, &k.to_lowercase()), k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    #[test]
    fn plural() {
        assert_eq!(super::plural(1, "name"), "1 name");
        assert_eq!(super::plural(0, "root"), "0 roots");
        assert_eq!(super::plural(46, "name"), "46 names");
    }

    #[test]
    fn thousands() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(10_000), "10,000");
        assert_eq!(super::thousands(3_000_000), "3,000,000");
    }

    #[test]
    fn did_you_mean_suggests_only_a_close_name() {
        let caps = ["essential", "artifacts", "cache", "lfs"];
        assert_eq!(super::did_you_mean("essentail", caps), Some("essential"));
        assert_eq!(super::did_you_mean("Artifact", caps), Some("artifacts"));
        assert_eq!(super::did_you_mean("zzz", caps), None);
        let profiles = ["dotcom", "ghes", "ghecom"];
        assert_eq!(super::did_you_mean("dotcon", profiles), Some("dotcom"));
        assert_eq!(super::did_you_mean("./my.yaml", profiles), None);
    }
}
