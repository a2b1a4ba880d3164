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

#[cfg(test)]
mod tests {
    #[test]
    fn plural() {
        assert_eq!(super::plural(1, "name"), "1 name");
        assert_eq!(super::plural(0, "root"), "0 roots");
        assert_eq!(super::plural(46, "name"), "46 names");
    }
}
