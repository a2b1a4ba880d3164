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

/// Library wording that must never reach the user.
fn assert_our_words(e: &ProfileError) {
    let text = e.to_string();
    for leak in [
        "Options",
        "budget",
        "Nodes {",
        "invalid u16",
        "invalid u32",
        "from_str",
        "[67,",
        "Error(",
        "InvalidCharacter",
        "untagged",
        "Raw",
        "(used",
        "(defined",
    ] {
        assert!(!text.contains(leak), "`{leak}` leaked: {text}");
    }
}

/// The error has a position and its snippet: `file:L:C: …`, the line, a caret under column C.
fn assert_pointed(e: &ProfileError, line: u64, column: u64) {
    let text = e.to_string();
    assert_eq!(
        e.pos.map(|p| (p.line, p.column)),
        Some((line, column)),
        "{text}"
    );
    assert!(
        text.starts_with(&format!("test.yaml:{line}:{column}: ")),
        "{text}"
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "message, source line, caret: {text}");
    let bar = lines[2].find("| ").expect("caret line") + 2;
    assert_eq!(lines[2][bar..].find('^'), Some(e.caret), "{text}");
    assert_our_words(e);
}

const CAP: &str =
    "capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries: [{host: a.example}]\n";

#[test]
fn entry_without_host_or_pattern_has_a_position() {
    let src = format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - note: nothing to probe\n");
    let e = err(&src);
    assert!(e.message.contains("needs `host:`"), "{e}");
    assert_pointed(&e, 9, 9);
    let src = format!(
        "{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries: [{{}}]\n"
    );
    let e = err(&src);
    assert!(e.message.contains("needs `host:`"), "{e}");
    assert_eq!(e.pos.map(|p| p.line), Some(8), "{e}");
}

#[test]
fn bad_variable_name_has_a_position() {
    let src = format!("{HEAD}variables:\n  Bad-Var:\n    description: x\n{CAP}");
    let e = err(&src);
    assert!(
        e.message.contains("variable name `Bad-Var` is not valid"),
        "{e}"
    );
    assert_pointed(&e, 5, 3);
}

#[test]
fn default_not_allowed_has_a_position() {
    let src =
        format!("{HEAD}variables:\n  mode:\n    default: maybe\n    allowed: [on, off]\n{CAP}");
    let e = err(&src);
    assert!(
        e.message
            .contains("default `maybe` is not one of the allowed values on, off"),
        "{e}"
    );
    assert_pointed(&e, 6, 14);
}

#[test]
fn empty_capabilities_has_a_position() {
    let e = err(&format!("{HEAD}capabilities: []\n"));
    assert!(e.message.contains("at least one capability"), "{e}");
    assert_pointed(&e, 4, 15);
}

#[test]
fn duplicate_key_in_our_words() {
    let e = err(&format!("{HEAD}name: u\n{CAP}"));
    assert_eq!(
        e.message,
        "duplicate key `name`: each key may appear only once in a mapping"
    );
    assert_pointed(&e, 4, 1);
    let e = err(&format!("{HEAD}variables:\n  a: {{}}\n  a: {{}}\n{CAP}"));
    assert!(e.message.starts_with("duplicate key `a`"), "{e}");
    assert_pointed(&e, 6, 3);
}

#[test]
fn second_document_in_our_words() {
    let e = err(&format!("{HEAD}{CAP}---\nfoo: 1\n"));
    assert!(
        e.message.starts_with("only one YAML document per profile"),
        "{e}"
    );
    assert_pointed(&e, 9, 1);
}

#[test]
fn merge_key_bomb_ends_fast_in_our_words() {
    // A billion laughs with merge keys: 10^9 keys once expanded.
    let mut bomb = String::from("variables:\n  a0: &a0 {description: x, required: false, default: x, allowed: [x, x, x, x, x, x, x, x, x, x]}\n");
    for i in 1..10 {
        let p = format!("*a{}", i - 1);
        let list = [p.as_str(); 10].join(", ");
        bomb.push_str(&format!("  a{i}: &a{i} {{<<: [{list}]}}\n"));
    }
    let e = err(&format!("{HEAD}{bomb}{CAP}"));
    assert!(
        e.message.starts_with(
            "the profile is too large or too deeply nested (YAML aliases expand to more than"
        ),
        "{e}"
    );
    assert!(e.pos.is_some(), "{e}");
    assert_our_words(&e);
    // The classic one, with lists.
    let mut lol = String::from("variables:\n  a0: &a0 {allowed: [x, x, x, x, x, x, x, x, x, x]}\n");
    for i in 1..10 {
        let p = format!("*a{}", i - 1);
        let list = [p.as_str(); 10].join(", ");
        lol.push_str(&format!("  a{i}: &a{i} [{list}]\n"));
    }
    let e = err(&format!("{HEAD}{lol}{CAP}"));
    assert!(e.pos.is_some(), "{e}");
    assert_our_words(&e);
}

#[test]
fn port_out_of_range_in_our_words() {
    let src = format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries: [{{host: a.example, ports: [443, 70000]}}]\n");
    let e = err(&src);
    assert_eq!(e.message, "port 70000 is out of range (1-65535)");
    assert_pointed(&e, 8, 46);
    let src = format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - pattern: \"*.a.example\"\n        probe: [{{host: x.a.example, ports: [-1]}}]\n");
    let e = err(&src);
    assert_eq!(e.message, "port -1 is out of range (1-65535)");
    assert_our_words(&e);
    let e = err(&format!(
        "schema_version: 99999999999\nname: t\ntitle: T\n{CAP}"
    ));
    assert_pointed(&e, 1, 17);
}

#[test]
fn booleans_are_yaml_1_2() {
    for (value, col) in [
        ("yes", 13),
        ("on", 13),
        ("\"false\"", 13),
        ("'true'", 13),
        ("1", 13),
    ] {
        let src = format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: {value}\n    entries: [{{host: a.example}}]\n");
        let e = err(&src);
        assert!(
            e.message.starts_with("expected `true` or `false`"),
            "{value}: {e}"
        );
        assert_pointed(&e, 7, col);
    }
    let src = format!("{HEAD}{CAP}throughput:\n  gating: off\n");
    assert_pointed(&err(&src), 10, 11);
    let ok = format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: false\n    entries: [{{host: a.example}}]\n");
    assert!(!parse("t.yaml", &ok).unwrap().capabilities[0].gating);
}

#[test]
fn long_line_snippet_is_capped_and_caret_stays_right() {
    // A 10 MB single line with an error near its middle.
    let filler = "a".repeat(5_000_000);
    let src = format!("{{schema_version: 1, name: t, title: T, description: \"{filler}\", capabilities: [{{id: a, title: A, gating: yes, entries: [{{host: a.example}}]}}], d2: \"{filler}\"}}\n");
    let e = err(&src);
    let text = e.to_string();
    assert!(text.len() < 1000, "{} bytes of error", text.len());
    let col = e.pos.unwrap().column as usize;
    let line = e.source_line.as_deref().unwrap();
    assert!(line.starts_with('…') && line.ends_with('…'), "{line}");
    // The character under the caret is the one at the reported column.
    let under: char = line.chars().nth(e.caret).unwrap();
    assert_eq!(Some(under), src.chars().nth(col - 1), "{text}");
    assert_eq!(under, 'y', "{text}");
    assert_pointed(&e, 1, col as u64);
    // Near the start of the line: no leading mark, caret at the column.
    let src = format!("{{schema_version: 1, name: T, d: \"{filler}\"}}\n");
    let e = err(&src);
    let line = e.source_line.as_deref().unwrap();
    assert!(!line.starts_with('…') && line.ends_with('…'), "{line}");
    assert_eq!(e.caret as u64, e.pos.unwrap().column - 1);
}

#[test]
fn http_path_must_be_a_request_target() {
    let bad = |path: &str| {
        let src = format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - host: a.example\n        http: {{ path: \"{path}\" }}\n");
        err(&src)
    };
    let e = bad("/zen?a=<x>|y");
    assert_eq!(
        e.message,
        "http path `/zen?a=<x>|y`: character `<` at position 8 is not allowed in a request target; percent-encode it as %3C"
    );
    assert_pointed(&e, 10, 23);
    assert!(bad("/a#frag").message.contains("fragment"));
    assert!(bad("/a b").message.contains("no spaces"));
    assert!(bad("zen").message.contains("start with `/`"));
    assert!(check_http_path("/zen?a=%3Cx%3E|y").is_ok());
    assert!(check_http_path("/_apis/connectionData?connectOptions=1&lastChangeId=-1").is_ok());
}

#[test]
fn byte_order_mark_is_accepted_and_positions_stay_right() {
    let src = format!("\u{feff}{HEAD}{CAP}");
    assert!(parse("t.yaml", &src).is_ok());
    let e = err(&format!(
        "\u{feff}schema_version: 2\nname: t\ntitle: T\n{CAP}"
    ));
    assert_pointed(&e, 1, 17);
    assert!(!e.source_line.unwrap().contains('\u{feff}'));
}

#[test]
fn tags_and_syntax_errors_in_our_words() {
    for src in [
        format!("{HEAD}description: !!binary \"!!!\"\n{CAP}"),
        format!("{HEAD}description: !custom x\n{CAP}"),
        format!("{HEAD}description: *nowhere\n{CAP}"),
        format!("{HEAD}sources: [a, b\n{CAP}"),
        format!("{HEAD}title:\n{CAP}"),
    ] {
        let e = err(&src);
        assert!(e.pos.is_some(), "{e}");
        assert_our_words(&e);
    }
}

#[test]
fn unknown_key_and_missing_key_in_our_words() {
    let src = format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - hots: github.com\n");
    let e = err(&src);
    assert!(
        e.message
            .starts_with("unknown field `hots`: expected one of host, pattern"),
        "{e}"
    );
    let e = err(&format!(
        "{HEAD}capabilities:\n  - id: a\n    gating: true\n    entries: [{{host: a.example}}]\n"
    ));
    assert_eq!(e.message, "missing field `title`");
    assert!(e.pos.is_some(), "{e}");
}

#[test]
fn probe_list_errors_keep_their_words() {
    let src = format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - pattern: \"*.a.example\"\n        probe: [{{host: x.a.example, nope: 1}}]\n");
    let e = err(&src);
    assert!(e.message.starts_with("unknown field `nope`"), "{e}");
    assert_our_words(&e);
    let src = format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - pattern: \"*.a.example\"\n        probe: [x.a.example, {{host: y.a.example, ports: [8443]}}]\n");
    let p = parse("t.yaml", &src).unwrap();
    assert_eq!(p.capabilities[0].entries[0].probes.len(), 2);
    assert_eq!(
        p.capabilities[0].entries[0].probes[1].ports,
        Some(vec![8443])
    );
}

#[test]
fn too_many_nodes_without_aliases() {
    let hosts = "x, ".repeat(yaml::MAX_NODES);
    let e = err(&format!("{HEAD}sources: [{hosts}]\n{CAP}"));
    assert!(e.message.starts_with("the profile is too large"), "{e}");
    assert_our_words(&e);
}

fn redirect_profile(redirect: &str) -> String {
    format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - redirect:\n{redirect}")
}

#[test]
fn a_redirect_entry_is_parsed() {
    let p = parse(
        "test.yaml",
        &redirect_profile("          url: \"https://github.com/x/releases/download/v1/f.tar.gz\"\n          method: HEAD\n          expect: [release-assets.githubusercontent.com]\n          size: 150000000\n          runner_package: true\n"),
    )
    .unwrap();
    match &p.capabilities[0].entries[0].kind {
        EntryKind::Redirect(r) => {
            assert_eq!(r.method, Method::Head);
            assert_eq!(r.expect, ["release-assets.githubusercontent.com"]);
            assert_eq!((r.size, r.runner_package), (Some(150_000_000), true));
        }
        other => panic!("{other:?}"),
    }
    // The dotcom profile's runner-updates follows the runner package URL.
    let dotcom = resolve("dotcom").unwrap();
    let updates = dotcom.capability("runner-updates").unwrap();
    assert!(updates.entries.iter().any(|e| matches!(&e.kind, EntryKind::Redirect(r)
        if r.runner_package && r.expect.contains(&"release-assets.githubusercontent.com".to_string()))));
}

#[test]
fn redirect_errors_point_at_the_line() {
    for (body, line, words) in [
        (
            "          url: \"ftp://x.example/f\"\n",
            10,
            "only http:// and https://",
        ),
        (
            "          url: \"https://x.example/f\"\n          method: POST\n",
            11,
            "redirect method `POST`",
        ),
        (
            "          url: \"https://x.example/f\"\n          size: 0\n",
            11,
            "more than 0 bytes",
        ),
        (
            "          url: \"https://x.example/f\"\n          expect: [\"bad name!\"]\n",
            11,
            "bad name!",
        ),
        (
            "          url: \"https://x.example/f\"\n          follow: 3\n",
            11,
            "follow",
        ),
    ] {
        let e = err(&redirect_profile(body));
        assert_eq!(e.pos.map(|p| p.line), Some(line), "{body}: {e}");
        assert!(
            e.to_string().starts_with(&format!("test.yaml:{line}:")),
            "{e}"
        );
        assert!(e.to_string().contains(words), "{body}: {e}");
    }
    let src = format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - redirect: {{ url: \"https://x.example/f\" }}\n        host: x.example\n");
    assert!(err(&src).to_string().contains("stands alone"));
}

#[test]
fn range_boundaries() {
    // `{` at the very start, the same number twice, exactly 1000 names, 4 ranges.
    assert_eq!(expand_ranges("{1..2}.b").unwrap(), vec!["1.b", "2.b"]);
    assert_eq!(expand_ranges("a{5..5}.b").unwrap(), vec!["a5.b"]);
    assert_eq!(expand_ranges("a{0..999}.b").unwrap().len(), 1000);
    assert!(expand_ranges("a{0..1000}.b").is_err());
    assert_eq!(expand_ranges("{0..9}{0..9}{0..9}").unwrap().len(), 1000);
    assert!(expand_ranges("{0..9}{0..9}{0..9}{0..1}")
        .unwrap_err()
        .contains("more than 1000"));
    assert_eq!(
        expand_ranges("{1..1}{1..1}{1..1}{1..1}").unwrap(),
        vec!["1111"]
    );
    assert!(expand_ranges("{1..1}{1..1}{1..1}{1..1}{1..1}").is_err());
    assert_eq!(
        expand_ranges("a{1..2}b{3..3}").unwrap(),
        vec!["a1b3", "a2b3"]
    );
    assert!(expand_ranges("a{1..2").is_err());
    assert!(expand_ranges("a{12}").is_err());
    assert_eq!(expand_ranges("${v}{1..2}").unwrap(), vec!["${v}1", "${v}2"]);
}

#[test]
fn template_references() {
    assert_eq!(
        template_vars("${a}.x.${bb}").unwrap(),
        vec!["a".to_string(), "bb".to_string()]
    );
    assert!(template_vars("x").unwrap().is_empty());
    assert!(template_vars("${a").is_err());
    let v = |n: &str| Some(format!("<{n}>"));
    assert_eq!(substitute("p${a}q${bb}r", &v).unwrap(), "p<a>q<bb>r");
    assert!(substitute("p${a", &v).is_err());
}

#[test]
fn ids() {
    assert!(valid_id("a-1"));
    assert!(valid_id(&"a".repeat(64)));
    assert!(!valid_id(&"a".repeat(65)));
    for bad in ["", "-a", "A", "a_b", "a.b"] {
        assert!(!valid_id(bad), "{bad:?}");
    }
}

#[test]
fn http_path_errors_name_the_character() {
    assert!(check_http_path("/").is_ok());
    assert!(check_http_path("zen").is_err());
    assert!(check_http_path("/a b").is_err());
    assert!(check_http_path("/a\u{7}").is_err());
    let words = check_http_path("/ab#c").unwrap_err();
    assert!(words.contains("at character 4"), "{words}");
}

fn one_entry(entry: &str) -> String {
    format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - {entry}\n")
}

#[test]
fn a_scheme_is_https_http_or_a_variable() {
    for scheme in ["https", "http"] {
        let p = parse(
            "t.yaml",
            &one_entry(&format!("{{host: a.example, scheme: {scheme}}}")),
        )
        .unwrap_or_else(|e| panic!("{scheme}: {e}"));
        assert_eq!(p.capabilities[0].entries[0].scheme.as_deref(), Some(scheme));
    }
    let e = err(&one_entry("{host: a.example, scheme: ftp}"));
    assert!(
        e.message
            .contains("scheme `ftp` is not valid: expected `https` or `http`"),
        "{e}"
    );
}

#[test]
fn probe_names_under_a_templated_pattern_are_checked_once_the_variables_are_known() {
    // Either side holding `${…}`: coverage cannot be told before the values are known.
    let src = format!(
        "{HEAD}variables:\n  region: {{}}\n  zone: {{}}\ncapabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - pattern: \"*.${{region}}.example\"\n        probe: [x.eu.example, \"y.${{zone}}.example\"]\n"
    );
    let p = parse("t.yaml", &src).unwrap_or_else(|e| panic!("{e}"));
    let probes: Vec<&str> = p.capabilities[0].entries[0]
        .probes
        .iter()
        .map(|n| n.host.as_str())
        .collect();
    assert_eq!(probes, ["x.eu.example", "y.${zone}.example"]);
}

#[test]
fn an_empty_port_list_is_refused() {
    let e = err(&one_entry("{host: a.example, ports: []}"));
    assert!(
        e.message
            .contains("ports must be a non-empty list of numbers from 1 to 65535"),
        "{e}"
    );
}

#[test]
fn an_expected_header_is_a_header_name() {
    let p = parse(
        "t.yaml",
        &one_entry("{host: a.example, http: {path: /, expect_header: X_Request-Id2}}"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let http = p.capabilities[0].entries[0].http.as_ref().expect("http");
    assert_eq!(http.expect_header.as_deref(), Some("x_request-id2"));
    let e = err(&one_entry(
        "{host: a.example, http: {path: /, expect_header: \"x id\"}}",
    ));
    assert!(e.message.contains("is not an HTTP header name"), "{e}");
}

#[test]
fn variables_do_not_count_as_ranges_and_a_range_spans_up_to_1000_numbers() {
    // Four ranges beside a `${var}`: the `{` of `${` is not a fifth range.
    assert_eq!(
        expand_ranges("${a}{1..1}{2..2}{3..3}{4..4}").unwrap(),
        ["${a}1234"]
    );
    let names = expand_ranges("n{500..600}.example").unwrap();
    assert_eq!(names.len(), 101);
    assert_eq!(names[100], "n600.example");
}

#[test]
fn a_redirect_entry_with_any_one_other_key_beside_it_is_refused() {
    for extra in [
        "host: x.example",
        "pattern: \"*.x.example\"",
        "probe: [a.x.example]",
        "ports: [443]",
        "scheme: https",
        "http: { path: / }",
    ] {
        let src = format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - redirect: {{ url: \"https://x.example/f\" }}\n        {extra}\n");
        let refusal = err(&src).to_string();
        assert!(refusal.contains("stands alone"), "{extra}: {refusal}");
    }
}

#[test]
fn an_empty_variable_reference_is_read_as_an_empty_name() {
    assert_eq!(template_vars("${}.${a}").unwrap(), ["", "a"]);
    let e = err(&one_entry("{host: \"${}.example\"}"));
    assert!(e.message.contains("unknown variable ``"), "{e}");
}

#[test]
fn http_timeout_is_kept_and_an_out_of_range_one_names_its_position() {
    let ok = format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - host: a.example\n        http: {{path: /health, timeout: 5}}\n");
    let p = parse("test.yaml", &ok).expect("valid");
    assert_eq!(
        p.capabilities[0].entries[0]
            .http
            .as_ref()
            .and_then(|h| h.timeout_secs),
        Some(5)
    );
    for bad in ["0", "601"] {
        let src = format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n      - host: a.example\n        http:\n          path: /health\n          timeout: {bad}\n");
        let e = err(&src);
        let text = e.to_string();
        assert!(text.starts_with("test.yaml:12:20: "), "{text}");
        assert!(text.contains("from 1 to 600"), "{text}");
    }
}

/// `entries` pattern entries of `h{0..999}` each: 1000 names per entry.
fn exploding_profile(entries: usize) -> String {
    let mut s =
        format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n");
    for i in 0..entries {
        s.push_str(&format!(
            "      - pattern: '*.e{i}.example'\n        probe: ['h{{0..999}}.e{i}.example']\n"
        ));
    }
    s
}

/// Issue 22 row 4: names are counted before any range is expanded, and the entry that
/// crosses the cap is named by line and column.
#[test]
fn the_names_cap_names_the_entry_that_crosses_it() {
    let src = exploding_profile(300);
    let e = parse("big.yaml", &src).unwrap_err();
    // Entry 11 (0-based 10) brings the total to 11,000: its `probe:` is on line 10 + 2×10.
    assert_eq!(e.pos.map(|p| p.line), Some(30), "{e}");
    assert!(
        e.message
            .starts_with("the profile names more than 10,000 hosts")
            && e.message.contains("11,000 with this entry")
            && e.message.contains("--max-names"),
        "{e}"
    );
    assert_our_words(&e);
    // Exactly at the cap is fine; the user can raise it.
    assert!(parse("ok.yaml", &exploding_profile(10)).is_ok());
    let raised = parse_with("big.yaml", &src, Limits { max_names: 50_000 }).unwrap_err();
    assert!(
        raised.message.contains("51,000 with this entry"),
        "{raised}"
    );
    assert!(!raised.message.contains("--max-names"), "{raised}");
    let p = parse_with(
        "ok.yaml",
        &exploding_profile(30),
        Limits { max_names: 30_000 },
    )
    .unwrap();
    assert_eq!(p.capabilities[0].entries.len(), 30);
}

#[test]
fn ranges_are_counted_without_expanding_them() {
    assert_eq!(count_ranges("a.example"), 1);
    assert_eq!(count_ranges("h{0..999}.example"), 1000);
    assert_eq!(count_ranges("h{1..3}-{0..9}.example"), 30);
    assert_eq!(count_ranges("${v}.h{0..1}.example"), 2);
    // Ten ranges of 1000 would be 10^30 names: counted, not built (saturating).
    assert_eq!(count_ranges(&"{0..999}".repeat(10)), u64::MAX);
    // Not ranges: counted as one, and `expand_ranges` says why.
    assert_eq!(count_ranges("h{9..1}.example"), 1);
    assert_eq!(count_ranges("h{a..b}.example"), 1);
}

#[test]
fn host_and_redirect_entries_count_their_names() {
    let mut s =
        format!("{HEAD}capabilities:\n  - id: a\n    title: A\n    gating: true\n    entries:\n");
    s.push_str("      - host: a.example\n");
    s.push_str("      - redirect:\n          url: \"https://b.example/x\"\n          expect: [c.example]\n");
    assert!(parse_with("t.yaml", &s, Limits { max_names: 3 }).is_ok());
    let e = parse_with("t.yaml", &s, Limits { max_names: 2 }).unwrap_err();
    assert!(e.message.contains("(3 with this entry)"), "{e}");
    assert_eq!(e.pos.map(|p| p.line), Some(11), "{e}");
}
