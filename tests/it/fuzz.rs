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
