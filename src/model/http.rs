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
}

impl HttpSpec {
    /// `GET /` with no fingerprint: what a plain-HTTP endpoint without a profile check gets.
    pub fn plain_get() -> HttpSpec {
        HttpSpec {
            method: Method::Get,
            path: "/".into(),
            expect_header: None,
            first_byte: false,
        }
    }
}

/// Statuses an HTTP proxy gives on its own behalf (refusal, authentication, upstream failure):
/// through a proxy, without a fingerprint header, they must never count as the server's answer.
pub fn proxy_own_status(status: u16) -> bool {
    matches!(status, 403 | 407 | 502 | 503 | 504)
}
