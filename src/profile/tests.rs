use super::*;

fn err(src: &str) -> ProfileError {
    parse("test.yaml", src).expect_err("profile should be rejected")
}

const HEAD: &str = "schema_version: 1\nname: t\ntitle: T\n";

#[test]
fn builtins_are_valid() {
    for (name, src) in builtins() {
        let p = parse(name, src).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.name, name);
        assert!(!p.capabilities.is_empty());
    }
}

#[test]
fn unknown_key_names_line_and_column() {
    let src = format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - hots: github.com\n");
    let e = err(&src);
    let pos = e.pos.expect("position");
    assert_eq!(pos.line, 9, "{e}");
    assert_eq!(pos.column, 9, "{e}");
    let text = e.to_string();
    assert!(text.starts_with("test.yaml:9:9: "), "{text}");
    assert!(text.contains("hots"), "{text}");
    assert!(
        text.contains("host"),
        "expected the valid keys to be listed: {text}"
    );
}

#[test]
fn duplicate_capability_id() {
    let src = format!(
        "{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries: [{{host: a.example}}]\n  - id: a\n    title: B\n    gating: false\n    entries: [{{host: b.example}}]\n"
    );
    let e = err(&src);
    assert_eq!(e.pos.map(|p| p.line), Some(9), "{e}");
    assert!(e.message.contains("duplicate capability id `a`"), "{e}");
    assert!(e.message.contains("line 5"), "{e}");
}

#[test]
fn bad_host_syntax() {
    let src = format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - host: \"git hub.com\"\n");
    let e = err(&src);
    assert_eq!(e.pos.map(|p| p.line), Some(9), "{e}");
    assert!(e.message.contains("a space"), "{e}");
}

#[test]
fn bad_pattern_and_uncovered_probe() {
    let src = format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - pattern: \"github.com\"\n");
    assert!(err(&src).message.contains("must start with `*.`"));
    let src = format!(
        "{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - pattern: \"*.github.com\"\n        probe: [api.gitlab.com]\n"
    );
    let e = err(&src);
    assert!(e.message.contains("not covered"), "{e}");
    assert_eq!(e.pos.map(|p| p.line), Some(10), "{e}");
}

#[test]
fn unknown_variable_reference() {
    let src = format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - host: \"${{hostname}}\"\n");
    let e = err(&src);
    assert!(e.message.contains("unknown variable `hostname`"), "{e}");
}

#[test]
fn wrong_type_and_missing_field() {
    let src = format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: maybe\n    entries: [{{host: a.example}}]\n");
    let e = err(&src);
    assert_eq!(e.pos.map(|p| p.line), Some(7), "{e}");
    let src = format!(
        "{HEAD}capabilities:\n  - id: a\n    gating: true\n    entries: [{{host: a.example}}]\n"
    );
    let e = err(&src);
    assert!(e.message.contains("title"), "{e}");
}

#[test]
fn schema_version_checked() {
    let e = err("schema_version: 2\nname: t\ntitle: T\ncapabilities: []\n");
    assert_eq!(e.pos.map(|p| (p.line, p.column)), Some((1, 17)), "{e}");
}

#[test]
fn not_yaml_at_all() {
    let e = err("schema_version: 1\nname: [unclosed\n");
    assert!(e.pos.is_some(), "{e}");
}

#[test]
fn ranges_expand() {
    assert_eq!(
        expand_ranges("a{0..2}.b").unwrap(),
        vec!["a0.b", "a1.b", "a2.b"]
    );
    assert_eq!(expand_ranges("${x}.b").unwrap(), vec!["${x}.b"]);
    assert!(expand_ranges("a{3..1}.b").is_err());
    assert!(expand_ranges("a{x..y}.b").is_err());
    assert_eq!(expand_ranges("r{1..2}-{1..2}.x").unwrap().len(), 4);
    // Deeply nested ranges are refused instead of recursing without bound.
    let many = format!("x{}.a.b", "{0..0}".repeat(5000));
    assert!(expand_ranges(&many).unwrap_err().contains("at most 4"));
}

#[test]
fn substitution() {
    let v = |n: &str| (n == "h").then(|| "ghes.example.com".to_string());
    assert_eq!(
        substitute("codeload.${h}", &v).unwrap(),
        "codeload.ghes.example.com"
    );
    assert!(substitute("${nope}", &v).unwrap_err().contains("nope"));
}
