//! Whole-output snapshots of every text renderer for fixed reports (insta): a wording change
//! shows up in review as a diff of `tests/it/snapshots/*.snap`. The reports come from the verdict
//! scenarios (`tests/scenarios/`), so they hold typed failures of every phase. Accept new
//! snapshots locally with `INSTA_UPDATE=always cargo test --test it snapshots` (CI never writes
//! them) and commit the files.

use runner_preflight::render::{self, table::Style, Format};

use crate::scenarios::{load, report_of};

fn report(name: &str) -> runner_preflight::report::Report {
    let (profile, outcomes, fail_on) = load(name);
    report_of(&profile, &outcomes, fail_on)
}

const PLAIN: Style = Style {
    color: false,
    width: 0,
    verbose: false,
};

fn all_formats(name: &str) {
    let r = report(name);
    let stem = name.trim_end_matches(".yaml");
    insta::assert_snapshot!(
        format!("{stem}.table"),
        render::render(&r, Format::Table, &PLAIN)
    );
    insta::assert_snapshot!(
        format!("{stem}.markdown"),
        render::render(&r, Format::Markdown, &PLAIN)
    );
    insta::assert_snapshot!(
        format!("{stem}.junit"),
        render::render(&r, Format::Junit, &PLAIN)
    );
    insta::assert_snapshot!(
        format!("{stem}.annotations"),
        render::annotations::render(&r)
    );
}

#[test]
fn a_run_that_fails_on_dns_and_a_proxy() {
    all_formats("proxy_paths.yaml");
    all_formats("gating_nxdomain.yaml");
}

#[test]
fn a_run_with_a_middlebox_and_a_time_limit() {
    all_formats("not_github_and_unfinished.yaml");
}

#[test]
fn a_run_through_a_path_mtu_black_hole() {
    all_formats("path_mtu_black_hole.yaml");
}

#[test]
fn a_run_on_an_ipv6_only_host() {
    all_formats("ipv6_only_host.yaml");
}

#[test]
fn a_run_that_warns() {
    all_formats("other_family_works.yaml");
    all_formats("dns_warnings.yaml");
}

#[test]
fn json_of_a_failing_run_keeps_its_words_and_typed_failures() {
    let r = report("worst_port_wins.yaml");
    let v: serde_json::Value =
        serde_json::from_str(&render::render(&r, Format::Json, &PLAIN)).unwrap();
    insta::assert_json_snapshot!("worst_port_wins.json", v);
}
