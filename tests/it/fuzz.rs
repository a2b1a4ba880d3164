//! Fuzz-style property tests of the two text parsers (proptest): arbitrary text, token soup and
//! mutated valid inputs must give `Ok` or an error positioned inside the text, never a panic.
//! The long-running driver is `benches/fuzz_parsers.rs` (see docs/readme-issue-7.md).

use proptest::prelude::*;

use crate::fuzz_corpus::*;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn profile_parser_takes_arbitrary_text(text in "(?s).{0,400}") {
        check_profile(&text).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn profile_parser_takes_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        check_profile(&text).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn profile_parser_takes_token_soup(seed in any::<u64>()) {
        let text = token_soup(&mut FuzzRng::new(seed), 60);
        check_profile(&text).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn allow_list_parser_takes_arbitrary_text(text in "(?s).{0,400}") {
        check_allow_list(&text).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn allow_list_parser_takes_token_soup(seed in any::<u64>()) {
        let text = token_soup(&mut FuzzRng::new(seed), 60);
        check_allow_list(&text).map_err(TestCaseError::fail)?;
    }
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn profile_parser_takes_mutated_profiles(which in 0usize..4, other in 0usize..4, seed in any::<u64>()) {
        let seeds = profile_seeds();
        let text = mutate(&seeds[which % seeds.len()], &seeds[other % seeds.len()], &mut FuzzRng::new(seed));
        check_profile(&text).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn allow_list_parser_takes_mutated_lists(which in 0usize..ALLOW_SEEDS.len(), other in 0usize..ALLOW_SEEDS.len(), seed in any::<u64>()) {
        let text = mutate(ALLOW_SEEDS[which], ALLOW_SEEDS[other], &mut FuzzRng::new(seed));
        check_allow_list(&text).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn seeds_are_valid() {
    for s in profile_seeds() {
        if let Err(e) = runner_preflight::profile::parse("seed.yaml", &s) {
            panic!("{e}");
        }
    }
    for s in ALLOW_SEEDS {
        assert!(matches!(check_allow_list(s), Ok(Outcome::Ok(_))), "{s}");
    }
}

/// Found while writing the property: YAML counts a lone CR as a line break, `str::lines` does
/// not, so the snippet under a profile error showed the wrong line (or none).
#[test]
fn profile_error_snippet_follows_lone_cr_line_breaks() {
    let text = "schema_version: 1\rname: [oops\r";
    let e = runner_preflight::profile::parse("cr.yaml", text).expect_err("invalid");
    let pos = e.pos.expect("position");
    assert_eq!(pos.line, 2, "{e}");
    assert_eq!(e.source_line.as_deref(), Some("name: [oops"), "{e}");
    assert!(matches!(check_profile(text), Ok(Outcome::Rejected(_))));
}

/// Percent-encode what a URL's user information cannot hold literally (as a valid URL would).
fn encode_userinfo(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=".contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Every way a URL is shown: the general rule and the proxy rule.
fn shown(url: &str) -> Vec<String> {
    use runner_preflight::model::secret::{mask_proxy_url, mask_url};
    vec![mask_url(url), mask_proxy_url(url)]
}

proptest! {
    #![proptest_config(config(2048))]

    /// Issue 22 "Also": over arbitrary user, password and query strings, the masked URL never
    /// holds the password (raw or encoded) nor anything of the query. The secrets carry a
    /// marker (`QZ`) the rest of the URL cannot hold, so a hit is a leak.
    #[test]
    fn masked_urls_never_show_the_password_or_the_query(
        user in "[^Q]{0,24}",
        password in "(?s).{0,24}",
        query in "[^#]{0,40}",
        with_user in any::<bool>(),
        scheme in prop::sample::select(vec!["http", "https", "socks5", "ftp"]),
    ) {
        let password = format!("QZ{password}");
        let query_secret = format!("QZ{query}");
        let userinfo = if with_user {
            format!("{}:{}", encode_userinfo(&user), encode_userinfo(&password))
        } else {
            format!(":{}", encode_userinfo(&password))
        };
        let url = format!("{scheme}://{userinfo}@proxy.example:3128/p?q={query_secret}");
        for s in shown(&url) {
            prop_assert!(!s.contains("QZ"), "{url} shown as {s}");
            prop_assert!(!s.contains(&encode_userinfo(&password)), "{url} shown as {s}");
        }
        // Without user information, the query alone.
        let url = format!("{scheme}://h.example/p?{query_secret}#f");
        for s in shown(&url) {
            prop_assert!(!s.contains("QZ"), "{url} shown as {s}");
        }
    }

    /// A user part that is a token (GitHub's prefixes), with any password or none, is never
    /// shown.
    #[test]
    fn token_like_user_parts_are_never_shown(
        prefix in prop::sample::select(vec!["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"]),
        token in "[A-Za-z0-9_]{1,40}",
        password in prop::option::of("(?s).{0,16}"),
    ) {
        let user = format!("{prefix}{token}");
        let userinfo = match &password {
            Some(p) => format!("{user}:{}", encode_userinfo(p)),
            None => user.clone(),
        };
        let url = format!("http://{userinfo}@proxy.example:3128");
        for s in shown(&url) {
            prop_assert!(!s.contains(&user), "{url} shown as {s}");
            prop_assert!(s.starts_with("http://***@proxy.example:3128"), "{url} shown as {s}");
        }
    }

    /// Raw text that may or may not be a URL: whatever follows the first `?` or `#` is never
    /// shown, nor anything before the last `@` that precedes it.
    #[test]
    fn arbitrary_text_keeps_no_query(text in "(?s)[^Q]{0,60}", secret in "[a-z]{0,10}") {
        let raw = format!("{text}?QZ{secret}");
        for s in shown(&raw) {
            prop_assert!(!s.contains("QZ"), "{raw:?} shown as {s:?}");
        }
    }
}

/// Outside text as the renderers receive it: no control character, no start of a workflow
/// command, no legacy `##[` command (issue 22 rows 1, 2, 8).
fn shown_safely(what: &str, s: &str) -> Result<(), TestCaseError> {
    let body = s.trim_start();
    if s.chars().any(char::is_control)
        || (body.starts_with("::") && body[2..].contains("::"))
        || s.contains("##[")
    {
        return Err(TestCaseError::fail(format!(
            "{what} is not shown safely: {s:?}"
        )));
    }
    Ok(())
}

/// Hostile strings: control characters, workflow-command starts, legacy commands, plain text.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("::error title=X::y".to_string()),
        Just("##[add-mask]".to_string()),
        Just("\u{1b}]0;t\u{7}".to_string()),
        Just("\u{1b}[2J".to_string()),
        Just("\r\n".to_string()),
        Just("  ".to_string()),
        "(?s).{0,12}",
    ];
    proptest::collection::vec(piece, 0..6).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config(256))]

    /// A saved report with hostile text in every string field `fleet` reads: every string of
    /// the parsed report is shown safely (issue 22 row 2).
    #[test]
    fn saved_reports_with_control_characters_are_escaped_on_the_way_in(
        host in hostile_text(), key in hostile_text(), value in hostile_text(),
        cap in hostile_text(), cause in hostile_text(), at in hostile_text(),
    ) {
        let json = serde_json::json!({
            "schema_version": 1, "hostname": host, "labels": {key: value},
            "generated_at": at, "profile": {"name": cause, "title": cap},
            "verdict": "fail",
            "capabilities": [{"id": cap, "title": cause, "verdict": "fail", "cause": cause,
                "entries": [{"targets": [{"host": host, "verdict": "fail", "cause": cause}]}]}],
        });
        let r = runner_preflight::fleet::input::parse(&json.to_string())
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        shown_safely("hostname", &r.hostname)?;
        shown_safely("generated_at", &r.generated_at)?;
        shown_safely("profile name", &r.profile.name)?;
        shown_safely("profile title", &r.profile.title)?;
        for (k, v) in &r.labels {
            shown_safely("label key", k)?;
            shown_safely("label value", v)?;
        }
        for c in &r.capabilities {
            shown_safely("capability id", &c.id)?;
            shown_safely("capability title", &c.title)?;
            shown_safely("capability cause", c.cause.as_deref().unwrap_or(""))?;
            for (name, _, cause) in c.names() {
                shown_safely("target host", name)?;
                shown_safely("target cause", cause.unwrap_or(""))?;
            }
        }
    }

    /// A profile with hostile text in its title, a capability's title and description, and a
    /// note: when it parses, every text is shown safely (issue 22 row 8).
    #[test]
    fn profiles_with_control_characters_keep_their_texts_safe(
        title in hostile_text(), cap in hostile_text(), note in hostile_text(),
    ) {
        // JSON strings are YAML double-quoted strings: every character spelled as an escape.
        let q = |s: &str| serde_json::to_string(s).unwrap();
        let text = format!(
            "schema_version: 1\nname: t\ntitle: {}\ncapabilities:\n  - id: a\n    title: {}\n    description: {}\n    gating: true\n    entries: [{{host: a.example, note: {}}}]\n",
            q(&title), q(&cap), q(&cap), q(&note)
        );
        if let Ok(p) = runner_preflight::profile::parse("fuzz.yaml", &text) {
            shown_safely("profile title", &p.title)?;
            for c in &p.capabilities {
                shown_safely("capability title", &c.title)?;
                shown_safely("capability description", c.description.as_deref().unwrap_or(""))?;
                for e in &c.entries {
                    shown_safely("note", e.note.as_deref().unwrap_or(""))?;
                }
            }
        }
    }

    /// Clipping: a value of any size is shown in at most 200 characters and its size.
    #[test]
    fn clipped_values_are_short_and_safe(s in hostile_text(), n in 0usize..3000) {
        let long = s.repeat(n / s.len().max(1) + 1);
        let shown = runner_preflight::model::text::clipped(&long);
        shown_safely("clipped", &shown)?;
        // 200 characters, each escaped to at most 8, and the size note.
        prop_assert!(shown.chars().count() <= 200 * 8 + 30, "{}", shown.len());
    }
}
