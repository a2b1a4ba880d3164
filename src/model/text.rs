//! Text from outside (profile titles and notes, labels, server headers, certificate names) made
//! safe to show: control characters — escape sequences, OSC titles, carriage returns, bells,
//! line breaks — are shown as `\u{…}` escapes instead of reaching a terminal, a workflow log,
//! Markdown or XML raw. One function, used wherever such text enters the report.

/// `s` with every control character (C0, DEL, C1) written as a visible `\u{XX}` escape.
pub fn printable(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Text safe on one line of a generated file's comment: anything that could end the comment
/// line, or is not printable ASCII, becomes `?` (rules files are read by strict parsers).
pub fn comment_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' || c == '—' {
                c
            } else {
                '?'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{comment_safe, printable};

    #[test]
    fn comment_lines_cannot_be_ended() {
        assert_eq!(comment_safe("a\nrm -rf /\r\t;x — y"), "a?rm -rf /??;x — y");
        assert_eq!(comment_safe("ünï"), "?n?");
    }

    #[test]
    fn control_characters_become_visible_escapes() {
        assert_eq!(printable("plain title"), "plain title");
        assert_eq!(printable("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(printable("\u{1b}]0;x\u{7}"), "\\u{1b}]0;x\\u{7}");
        assert_eq!(printable("cr\rlf\n"), "cr\\u{d}lf\\u{a}");
        assert_eq!(printable("c1\u{9b}31m"), "c1\\u{9b}31m");
        assert_eq!(printable("tab\there"), "tab\\u{9}here");
        assert_eq!(printable("ünïcode ✓"), "ünïcode ✓");
    }
}
