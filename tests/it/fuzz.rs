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
