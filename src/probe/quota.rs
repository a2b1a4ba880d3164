//! The REST API's unauthenticated quota of this machine's egress address:
//! `GET https://api.github.com/rate_limit` (it does not count against the quota). 60 requests an
//! hour per public address, shared by every runner behind the same NAT; `setup-*` actions fail
//! with rate-limit errors once it is spent (runner-network-facts.md § "Added in December 2026").

use serde::Serialize;

use super::throughput::{get_page, Dial};
use crate::env::trust::Trust;

/// The URL asked.
pub const RATE_LIMIT_URL: &str = "https://api.github.com/rate_limit";

/// The most of the answer read (a few hundred bytes in practice).
const BODY_LIMIT: usize = 64 * 1024;

/// The core quota as api.github.com reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Quota {
    pub limit: u64,
    pub remaining: u64,
    /// When the quota is refilled (Unix seconds).
    pub reset: u64,
}

/// Ask api.github.com for the quota, within `timeout`; `None` when it gave no usable answer
/// (the api.github.com probe says why it could not be reached).
pub async fn ask(dial: &dyn Dial, trust: &Trust, timeout: std::time::Duration) -> Option<Quota> {
    let (status, body) = get_page(dial, trust, RATE_LIMIT_URL, timeout, BODY_LIMIT)
        .await
        .ok()?;
    if status != 200 {
        return None;
    }
    parse(&body)
}

/// `resources.core` of the answer (else the legacy top-level `rate`).
fn parse(body: &[u8]) -> Option<Quota> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let core = v.pointer("/resources/core").or_else(|| v.get("rate"))?;
    Some(Quota {
        limit: core.get("limit")?.as_u64()?,
        remaining: core.get("remaining")?.as_u64()?,
        reset: core.get("reset")?.as_u64()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_core_quota_is_read() {
        let body = br#"{"resources": {"core": {"limit": 60, "remaining": 5, "reset": 1765152000, "used": 55}}, "rate": {"limit": 60, "remaining": 5, "reset": 1765152000}}"#;
        assert_eq!(
            parse(body),
            Some(Quota {
                limit: 60,
                remaining: 5,
                reset: 1765152000
            })
        );
        assert_eq!(parse(b"<html>captive portal</html>"), None);
        assert_eq!(
            parse(br#"{"resources": {"core": {"limit": "many"}}}"#),
            None
        );
    }
}
