//! Operating-system failures as facts — the errno the OS gave and its kind — so that typed
//! failures carry them as fields and the words are written where words are written
//! (`render::words::os_error`), never a library's sentence kept in a `String`.

use serde::{Deserialize, Serialize};

/// An operating-system error: its kind and, when the OS gave one, its number (errno).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OsError {
    #[serde(default)]
    pub kind: IoKind,
    /// The OS's error number (Linux errno), when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno: Option<i32>,
}

/// The kinds of socket failure a probe meets; anything else is `Other` (with its errno).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum IoKind {
    ConnectionReset,
    ConnectionAborted,
    ConnectionRefused,
    BrokenPipe,
    /// The peer closed the connection before what was expected arrived.
    UnexpectedEof,
    TimedOut,
    PermissionDenied,
    AddrNotAvailable,
    AddrInUse,
    NetworkUnreachable,
    HostUnreachable,
    NotConnected,
    /// Any other kind; a saved report with a kind this version does not know reads as this.
    #[default]
    #[serde(other)]
    Other,
}

impl From<&std::io::Error> for OsError {
    fn from(e: &std::io::Error) -> OsError {
        use std::io::ErrorKind as K;
        let kind = match e.kind() {
            K::ConnectionReset => IoKind::ConnectionReset,
            K::ConnectionAborted => IoKind::ConnectionAborted,
            K::ConnectionRefused => IoKind::ConnectionRefused,
            K::BrokenPipe => IoKind::BrokenPipe,
            K::UnexpectedEof => IoKind::UnexpectedEof,
            K::TimedOut => IoKind::TimedOut,
            K::PermissionDenied => IoKind::PermissionDenied,
            K::AddrNotAvailable => IoKind::AddrNotAvailable,
            K::AddrInUse => IoKind::AddrInUse,
            K::NetworkUnreachable => IoKind::NetworkUnreachable,
            K::HostUnreachable => IoKind::HostUnreachable,
            K::NotConnected => IoKind::NotConnected,
            _ => IoKind::Other,
        };
        OsError {
            kind,
            errno: e.raw_os_error(),
        }
    }
}

impl OsError {
    /// The first `std::io::Error` in an error's source chain (hyper and rustls wrap the
    /// socket's error), as facts.
    pub fn in_chain(e: &(dyn std::error::Error + 'static)) -> Option<OsError> {
        let mut cur = Some(e);
        while let Some(err) = cur {
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                return Some(OsError::from(io));
            }
            cur = err.source();
        }
        None
    }
}

/// Why the operating system's resolver (getaddrinfo) gave no address: its `EAI_*` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResolverError {
    /// EAI_NONAME: the name does not exist (NXDOMAIN), or has no address.
    NoName,
    /// EAI_NODATA: the name exists but has no address.
    NoData,
    /// EAI_AGAIN: a temporary failure (no name server answered, or SERVFAIL).
    Again,
    /// EAI_FAIL: a permanent failure in name resolution.
    Fail,
    /// EAI_SYSTEM: a system error (`errno` in the failure).
    System,
    /// EAI_MEMORY.
    Memory,
    /// Another code (EAI_FAMILY, EAI_SERVICE, …), or a name the resolver cannot be asked
    /// (an embedded NUL); `code` in the failure says which.
    #[default]
    #[serde(other)]
    Other,
}

/// A failure of the operating system's resolver, as facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GaiError {
    #[serde(default)]
    pub error: ResolverError,
    /// The `EAI_*` number getaddrinfo returned (platform-specific), when it returned one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    /// errno, for `EAI_SYSTEM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno: Option<i32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_keeps_its_kind_and_errno() {
        let e = std::io::Error::from_raw_os_error(libc::ECONNRESET);
        let got = OsError::from(&e);
        assert_eq!(got.kind, IoKind::ConnectionReset);
        assert_eq!(got.errno, Some(libc::ECONNRESET));
    }

    #[test]
    fn the_socket_error_is_found_under_a_wrapper() {
        #[derive(Debug)]
        struct Wrapper(std::io::Error);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("wrapped")
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let w = Wrapper(std::io::Error::from_raw_os_error(libc::EPIPE));
        assert_eq!(
            OsError::in_chain(&w),
            Some(OsError {
                kind: IoKind::BrokenPipe,
                errno: Some(libc::EPIPE)
            })
        );
    }

    #[test]
    fn a_saved_report_with_an_unknown_kind_still_reads() {
        let e: OsError = serde_json::from_str(r#"{"kind":"quantum_tunnelled","errno":5}"#).unwrap();
        assert_eq!(e.kind, IoKind::Other);
        assert_eq!(e.errno, Some(5));
    }
}
