//! What an HTTP check asks: the method, the path and the header that proves GitHub answered.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Head,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HttpSpec {
    pub method: Method,
    pub path: String,
    pub expect_header: Option<String>,
    /// Ask for the first byte only (`Range: bytes=0-0`): a download URL answers `206` with the
    /// whole size in `Content-Range`, without sending the file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub first_byte: bool,
    /// A shorter bound for this request than the run's `--timeout`, in seconds: the runner's
    /// job-time connectivity checks give each URL 5 s (actions/runner source,
    /// JobExtension.cs:609–640), so a profile probing them says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
}

impl HttpSpec {
    /// `GET /` with no fingerprint: what a plain-HTTP endpoint without a profile check gets.
    pub fn plain_get() -> HttpSpec {
        HttpSpec {
            method: Method::Get,
            path: "/".into(),
            expect_header: None,
            first_byte: false,
            timeout_secs: None,
        }
    }
}

impl HttpSpec {
    /// The bound for this request: the spec's own when it is shorter than the run's.
    pub fn bound(&self, run_timeout: std::time::Duration) -> std::time::Duration {
        self.timeout_secs
            .map(std::time::Duration::from_secs)
            .map_or(run_timeout, |t| t.min(run_timeout))
    }
}

/// Statuses an HTTP proxy gives on its own behalf (refusal, authentication, upstream failure):
/// through a proxy, without a fingerprint header, they must never count as the server's answer.
pub fn proxy_own_status(status: u16) -> bool {
    matches!(status, 403 | 407 | 502 | 503 | 504)
}
