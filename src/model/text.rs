//! Text from outside (profile titles and notes, labels, server headers, certificate names, saved
//! reports) made safe to show: control characters — escape sequences, OSC titles, carriage
//! returns, bells, line breaks — are shown as `\u{…}` escapes instead of reaching a terminal, a
//! workflow log, Markdown or XML raw, and nothing in it can start a GitHub Actions workflow
//! command. One function, used wherever such text enters the report; [`clipped`] also cuts a
//! huge value short.

use std::borrow::Cow;

/// Most characters of one outside value shown in a message; the rest is counted in bytes.
pub const SHOWN_CHARS: usize = 200;

/// `s` with every control character (C0, DEL, C1) written as a visible `\u{XX}` escape, and
/// defused as a workflow command: the runner reads a line whose start (after spaces) is
/// `::name …::` as a command, and `##[name …]` anywhere in a line as a legacy one
/// (actions/runner, `src/Runner.Worker/ActionCommandManager.cs`), so such a start shows its first
/// colon as `\u{3a}` and every `##[` its second `#` as `\u{23}`. Without a raw line break in it,
/// outside text can only begin a line where our own words put it, so its start is all that
/// needs defusing.
pub fn printable(s: &str) -> String {
    let escaped = if s.chars().any(char::is_control) {
        let mut out = String::with_capacity(s.len() + 8);
        for c in s.chars() {
            if c.is_control() {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            } else {
                out.push(c);
            }
        }
        out
    } else {
        s.to_string()
    };
    match defuse_line(&escaped) {
        Cow::Borrowed(_) => escaped,
        Cow::Owned(d) => d,
    }
}

/// `s` cut after [`SHOWN_CHARS`] characters with `…(N bytes)` saying how long it was, for a
/// message that escapes it in its own way (`escape_debug`, `escape_default`).
pub fn clip(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(SHOWN_CHARS) {
        None => Cow::Borrowed(s),
        Some((cut, _)) => Cow::Owned(format!("{}…({} bytes)", &s[..cut], s.len())),
    }
}

/// [`printable`], cut after [`SHOWN_CHARS`] characters with `…(N bytes)` saying how long the
/// whole value was: a 14 KB certificate name or a 100 KB variable must not fill a screen, a CI
/// log or a table cell.
pub fn clipped(s: &str) -> String {
    match s.char_indices().nth(SHOWN_CHARS) {
        None => printable(s),
        Some((cut, _)) => format!("{}…({} bytes)", printable(&s[..cut]), s.len()),
    }
}

/// One line that cannot start a workflow command: a start (after spaces) of `::x…::` shows its
/// first colon as `\u{3a}`, and each `##[` its second `#` as `\u{23}`.
pub fn defuse_line(line: &str) -> Cow<'_, str> {
    defuse(line, "\\u{3a}", "#\\u{23}[")
}

fn defuse<'a>(line: &'a str, colon: &str, hash: &str) -> Cow<'a, str> {
    let body = line.trim_start();
    let starts_command = body.starts_with("::") && body[2..].contains("::");
    if !starts_command && !line.contains("##[") {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len() + 8);
    let rest = if starts_command {
        let lead = line.len() - body.len();
        out.push_str(&line[..lead]);
        out.push_str(colon);
        &line[lead + 1..]
    } else {
        line
    };
    out.push_str(&rest.replace("##[", hash));
    Cow::Owned(out)
}

/// Every line of `text` (line ends kept) defused as [`defuse_line`] does, for the output edge:
/// there the text may be a JSON document already, so the escapes are JSON's (`\u003a`,
/// `\u0023`), which a JSON reader turns back into the very characters. Our own annotations are
/// written without it.
pub fn defuse_lines(text: &str) -> Cow<'_, str> {
    if !text.contains("::") && !text.contains("##[") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        out.push_str(&defuse(line, "\\u003a", "#\\u0023["));
    }
    Cow::Owned(out)
}

/// Every string of a JSON document from outside (a saved report: `explain`, `fleet`) made
/// [`printable`], object keys included, on the way in: whatever field a renderer later shows is
/// then as safe as text this run observed itself.
pub fn printable_json(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            let p = printable(s);
            if p != *s {
                *s = p;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(printable_json),
        Value::Object(map) => {
            if map.keys().any(|k| printable(k) != *k) {
                let old = std::mem::take(map);
                for (k, val) in old {
                    map.insert(printable(&k), val);
                }
            }
            map.values_mut().for_each(printable_json);
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
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
    use super::{clipped, comment_safe, defuse_lines, printable};

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

    #[test]
    fn outside_text_starts_no_workflow_command() {
        assert_eq!(
            printable("X\n::error title=F::x"),
            "X\\u{a}::error title=F::x"
        );
        assert_eq!(printable("::error::x"), "\\u{3a}:error::x");
        assert_eq!(printable("  ::warning t=1::x"), "  \\u{3a}:warning t=1::x");
        assert_eq!(
            printable("a ##[set-output name=x]y ##[add-mask]z"),
            "a #\\u{23}[set-output name=x]y #\\u{23}[add-mask]z"
        );
        // An IPv6 address is no command: one `::` only.
        assert_eq!(printable("::1"), "::1");
        assert_eq!(printable("::ffff:10.0.0.1"), "::ffff:10.0.0.1");
        assert_eq!(printable("host a::b"), "host a::b");
    }

    #[test]
    fn every_line_is_defused_and_line_ends_are_kept() {
        let text = "ok line\n::set-output name=a::b\r\n  ::error::c\nd ##[x]\n";
        assert_eq!(
            defuse_lines(text),
            "ok line\n\\u003a:set-output name=a::b\r\n  \\u003a:error::c\nd #\\u0023[x]\n"
        );
        // At the edge the text may be JSON: the escapes read back as the characters.
        let json = defuse_lines("{\"a\": \"x ##[add-mask]y\"}\n");
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["a"], "x ##[add-mask]y");
        assert_eq!(defuse_lines("a\nb::c\n"), "a\nb::c\n");
    }

    #[test]
    fn every_string_of_a_saved_document_is_escaped_keys_too() {
        let mut v = serde_json::json!({
            "hostname": "h\u{1b}[2J",
            "labels": {"z\none": "::error::x"},
            "n": 3,
            "list": [{"cause": "a\r##[add-mask]b"}, null, true],
        });
        super::printable_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({
                "hostname": "h\\u{1b}[2J",
                "labels": {"z\\u{a}one": "\\u{3a}:error::x"},
                "n": 3,
                "list": [{"cause": "a\\u{d}#\\u{23}[add-mask]b"}, null, true],
            })
        );
    }

    #[test]
    fn huge_values_are_clipped_with_their_size() {
        assert_eq!(clipped("short"), "short");
        assert_eq!(
            super::clip(&"x".repeat(201)),
            format!("{}…(201 bytes)", "x".repeat(200))
        );
        let exact = "é".repeat(200);
        assert_eq!(clipped(&exact), exact);
        let huge = format!("{}\u{1b}", "é".repeat(50_000));
        let c = clipped(&huge);
        assert_eq!(c, format!("{}…(100001 bytes)", "é".repeat(200)));
        // Clipped before escaping: an escape is never cut in half.
        assert_eq!(
            clipped(&"\u{1b}".repeat(300)),
            format!("{}…(300 bytes)", "\\u{1b}".repeat(200))
        );
    }
}
