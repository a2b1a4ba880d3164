//! When a runner release was published, read from its tag page on github.com
//! (`…/releases/tag/vX.Y.Z`, a `<relative-time datetime="…">` in the release header): no token,
//! no API quota spent.

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::throughput::{get_page, Dial};
use crate::env::trust::Trust;
use crate::model::runner::RELEASES;
use crate::model::RunnerVersion;

/// The most of a tag page read: the release header comes early in it.
const PAGE_LIMIT: usize = 2 * 1024 * 1024;

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
}
