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

/// The authentication schemes a `Proxy-Authenticate` value offers (several challenges may be
/// joined with `, `): `NTLM, Negotiate` → `["ntlm", "negotiate"]`, `Basic realm="x"` →
/// `["basic"]`. A scheme is a token that starts the value or follows a comma, and is not a
/// `name=value` parameter.
pub fn auth_schemes(challenge: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in challenge.split(',') {
        let word = part.split_whitespace().next().unwrap_or_default();
        if word.is_empty() || word.contains('=') || word.contains('"') {
            continue;
        }
        let w = word.to_ascii_lowercase();
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// The proxy asks for authentication the runner cannot give: it offers schemes, and Basic (the
/// only one the runner speaks: actions/runner source, RunnerWebProxy.cs:98–136) is not among them.
pub fn proxy_auth_unsupported(challenge: &str) -> bool {
    let schemes = auth_schemes(challenge);
    !schemes.is_empty() && !schemes.iter().any(|s| s == "basic")
}

/// Statuses an HTTP proxy gives on its own behalf (refusal, authentication, upstream failure):
/// through a proxy, without a fingerprint header, they must never count as the server's answer.
pub fn proxy_own_status(status: u16) -> bool {
    matches!(status, 403 | 407 | 502 | 503 | 504)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_of_a_proxy_challenge() {
        assert_eq!(auth_schemes("NTLM"), vec!["ntlm"]);
        assert_eq!(auth_schemes("Negotiate, NTLM"), vec!["negotiate", "ntlm"]);
        assert_eq!(
            auth_schemes("Basic realm=\"corp, eu\", NTLM"),
            vec!["basic", "ntlm"]
        );
        assert_eq!(
            auth_schemes("Digest realm=\"x\", qop=\"auth\", nonce=\"abc\""),
            vec!["digest"]
        );
        assert!(proxy_auth_unsupported("NTLM"));
        assert!(proxy_auth_unsupported("Negotiate, NTLM"));
        assert!(!proxy_auth_unsupported("NTLM, Basic realm=\"corp\""));
        assert!(!proxy_auth_unsupported(""));
    }
}
