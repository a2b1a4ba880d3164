//! When runner releases were published.
//!
//! The 30-day rule looks at the OLDEST release newer than the installed one (GitHub gives no jobs
//! to a runner once a newer release has been out for more than 30 days — GitHub changelog
//! 2026-06-12, runner-network-facts.md § "Added in December 2026"; the rule is the service's, the
//! actions/runner source has none). Only a list of releases names the releases in between, so
//! when the installed runner is behind the latest the releases API is asked
//! (`GET api.github.com/repos/actions/runner/releases?per_page=100`: unauthenticated, one of the
//! address's 60 requests an hour). The latest's own date comes from that list, else from its tag
//! page on github.com (`…/releases/tag/vX.Y.Z`, a `<relative-time datetime="…">` in the release
//! header: no token, no quota).

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::throughput::{get_page, Dial};
use crate::env::trust::Trust;
use crate::model::runner::RELEASES;
use crate::model::RunnerVersion;

/// The most of a tag page read: the release header comes early in it.
const PAGE_LIMIT: usize = 2 * 1024 * 1024;

/// The releases API, newest first, as many as one page holds.
pub const RELEASES_API: &str = "https://api.github.com/repos/actions/runner/releases?per_page=100";

/// The most of the releases list read: 100 releases with their assets and notes are about 4 MiB.
const LIST_LIMIT: usize = 8 * 1024 * 1024;

/// A release's date, or why it could not be learned.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseDate {
    /// The page asked.
    pub url: String,
    /// When the release was published (RFC 3339).
    pub published: Option<String>,
    pub failure: Option<DateFailure>,
}

/// Why a release's date could not be learned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DateFailure {
    /// No answer (github.com's own probe says why).
    NoAnswer,
    /// The page answered with this status.
    Status { status: u16 },
    /// The page names no date.
    NoDate,
    /// The answer was not a list of releases (JSON array of `{tag_name, published_at}`).
    NotAList,
    /// The answer was longer than the most read (`limit` bytes).
    TooLarge { limit: usize },
}

/// The releases API's list, or why it could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseList {
    /// The URL asked.
    pub url: String,
    /// The published (not pre-) releases it named, newest version first.
    pub releases: Vec<DatedRelease>,
    pub failure: Option<DateFailure>,
}

/// One release and when it was published (RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatedRelease {
    pub version: RunnerVersion,
    pub published: String,
}

impl DatedRelease {
    pub fn published_at(&self) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(&self.published, &Rfc3339).ok()
    }
}

/// What was learned about release dates: the list (asked only when the installed runner is
/// behind the latest) and the latest's tag page (asked when the list did not date the latest).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReleaseDates {
    pub list: Option<ReleaseList>,
    pub tag_page: Option<ReleaseDate>,
}

/// Learn the dates the version rules need: with an installed runner older than `latest`, the
/// releases list; the latest's date from the list, else from its tag page.
pub async fn dates(
    dial: &dyn Dial,
    trust: &Trust,
    latest: RunnerVersion,
    installed: Option<RunnerVersion>,
    timeout: std::time::Duration,
) -> ReleaseDates {
    let list = match installed {
        Some(i) if i < latest => Some(list(dial, trust, timeout).await),
        _ => None,
    };
    let dated = list
        .as_ref()
        .is_some_and(|l| l.releases.iter().any(|r| r.version == latest));
    let tag_page = match dated {
        true => None,
        false => Some(published(dial, trust, latest, timeout).await),
    };
    ReleaseDates { list, tag_page }
}

/// Ask the releases API for the list of releases, within `timeout`.
pub async fn list(dial: &dyn Dial, trust: &Trust, timeout: std::time::Duration) -> ReleaseList {
    // One byte more than the limit tells an answer cut at the limit from one that fits.
    let (releases, failure) =
        match get_page(dial, trust, RELEASES_API, timeout, LIST_LIMIT + 1).await {
            Err(_) => (vec![], Some(DateFailure::NoAnswer)),
            Ok((status, _)) if status != 200 => (vec![], Some(DateFailure::Status { status })),
            Ok((_, body)) if body.len() > LIST_LIMIT => {
                (vec![], Some(DateFailure::TooLarge { limit: LIST_LIMIT }))
            }
            Ok((_, body)) => match parse_list(&body) {
                Some(r) => (r, None),
                None => (vec![], Some(DateFailure::NotAList)),
            },
        };
    ReleaseList {
        url: RELEASES_API.to_string(),
        releases,
        failure,
    }
}

/// The fields of one release the rules need; everything else in the answer is ignored.
#[derive(serde::Deserialize)]
struct ApiRelease {
    tag_name: String,
    published_at: Option<String>,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    prerelease: bool,
}

/// The published releases of an API answer whose tag is `vX.Y.Z` and whose date parses, newest
/// version first; `None` when the answer is not a list of releases.
fn parse_list(body: &[u8]) -> Option<Vec<DatedRelease>> {
    let all: Vec<ApiRelease> = serde_json::from_slice(body).ok()?;
    let mut out: Vec<DatedRelease> = all
        .into_iter()
        // A draft or pre-release is not offered to runners (GitHub's "latest" skips them too).
        .filter(|r| !r.draft && !r.prerelease)
        .filter_map(|r| {
            let published = r.published_at?;
            OffsetDateTime::parse(&published, &Rfc3339).ok()?;
            Some(DatedRelease {
                version: r.tag_name.parse().ok()?,
                published,
            })
        })
        .collect();
    out.sort_by_key(|r| std::cmp::Reverse(r.version));
    out.dedup_by(|a, b| a.version == b.version);
    Some(out)
}

impl ReleaseDate {
    pub fn published_at(&self) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(self.published.as_deref()?, &Rfc3339).ok()
    }
}

/// Ask the tag page of `version` for its date, within `timeout`.
pub async fn published(
    dial: &dyn Dial,
    trust: &Trust,
    version: RunnerVersion,
    timeout: std::time::Duration,
) -> ReleaseDate {
    let url = format!("{RELEASES}/tag/v{version}");
    let (published, failure) = match get_page(dial, trust, &url, timeout, PAGE_LIMIT).await {
        Err(_) => (None, Some(DateFailure::NoAnswer)),
        Ok((status, _)) if status != 200 => (None, Some(DateFailure::Status { status })),
        Ok((_, body)) => match date_in_page(&String::from_utf8_lossy(&body)) {
            Some(d) => (Some(d), None),
            None => (None, Some(DateFailure::NoDate)),
        },
    };
    ReleaseDate {
        url,
        published,
        failure,
    }
}

/// The first `<relative-time … datetime="RFC 3339">` of a page, checked to parse.
fn date_in_page(page: &str) -> Option<String> {
    page.match_indices("<relative-time").find_map(|(i, _)| {
        let tag = &page[i..];
        let tag = &tag[..tag.find('>')?];
        let (_, rest) = tag.split_once("datetime=\"")?;
        let value = &rest[..rest.find('"')?];
        OffsetDateTime::parse(value, &Rfc3339)
            .ok()
            .map(|_| value.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_is_read_from_the_release_header() {
        let page = r#"<div><relative-time class="no-wrap" prefix="" datetime="2026-07-20T14:03:11Z">Jul 20</relative-time></div>"#;
        assert_eq!(date_in_page(page).as_deref(), Some("2026-07-20T14:03:11Z"));
        assert_eq!(date_in_page("<relative-time datetime=\"yesterday\">"), None);
        assert_eq!(date_in_page("<p>no date</p>"), None);
    }

    #[test]
    fn the_list_keeps_published_releases_with_a_version_and_a_date() {
        let body = br#"[
            {"tag_name": "v2.337.0-rc1", "published_at": "2026-12-01T00:00:00Z", "prerelease": false},
            {"tag_name": "v2.336.0", "published_at": "2026-11-28T10:00:00Z", "draft": false, "prerelease": false, "assets": [{"name": "x"}]},
            {"tag_name": "v2.340.0", "published_at": "2026-12-02T00:00:00Z", "prerelease": true},
            {"tag_name": "v2.335.1", "published_at": "yesterday"},
            {"tag_name": "v2.334.0", "published_at": null},
            {"tag_name": "v2.330.0", "published_at": "2026-10-29T10:00:00Z"},
            {"tag_name": "v2.335.0", "published_at": "2026-11-01T10:00:00Z"}
        ]"#;
        let list = parse_list(body).expect("a list");
        let versions: Vec<String> = list.iter().map(|r| r.version.to_string()).collect();
        assert_eq!(versions, ["2.336.0", "2.335.0", "2.330.0"]);
        assert_eq!(list[0].published, "2026-11-28T10:00:00Z");
        assert_eq!(
            parse_list(b"{\"message\": \"API rate limit exceeded\"}"),
            None
        );
        assert_eq!(parse_list(b"<html>captive portal</html>"), None);
    }
}
