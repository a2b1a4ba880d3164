//! TCP connect, per address, classified.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;

use crate::model::OsError;

/// Why a TCP connection could not be made (the words are in `render::words`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TcpFailure {
    /// RST: nothing listening, or a firewall rejecting.
    #[error("connection to {addr} refused")]
    Refused { addr: SocketAddr, tried: usize },
    /// No answer at all within the timeout: packets dropped.
    #[error("no answer from {addr} within {after:?}")]
    Dropped {
        addr: SocketAddr,
        #[serde(with = "crate::model::duration_ms")]
        after: Duration,
        tried: usize,
    },
    #[error("network unreachable for {addr}")]
    NetUnreachable { addr: SocketAddr, tried: usize },
    #[error("host unreachable: {addr}")]
    HostUnreachable { addr: SocketAddr, tried: usize },
    /// Another socket error.
    #[error("{addr}: {error:?}")]
    Other {
        addr: SocketAddr,
        #[serde(default)]
        error: OsError,
        tried: usize,
    },
    /// Nothing to connect to: the name has no address for this port, or the `--connect-to`
    /// host (`redirect_host`) does not resolve.
    #[error("no address to connect to")]
    NoAddress { redirect_host: Option<String> },
}

impl TcpFailure {
    /// The address the last attempt went to.
    pub fn addr(&self) -> Option<SocketAddr> {
        match self {
            TcpFailure::Refused { addr, .. }
            | TcpFailure::Dropped { addr, .. }
            | TcpFailure::NetUnreachable { addr, .. }
            | TcpFailure::HostUnreachable { addr, .. }
            | TcpFailure::Other { addr, .. } => Some(*addr),
            TcpFailure::NoAddress { .. } => None,
        }
    }
}

/// Try the addresses in order (at most three), each bounded by `timeout`. On failure, the
/// last attempt's failure and how long all attempts took.
pub async fn connect_any(
    addrs: &[SocketAddr],
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr, u64), (TcpFailure, u64)> {
    let started = Instant::now();
    let mut last = None;
    for (i, &addr) in addrs.iter().take(3).enumerate() {
        let tried = i + 1;
        let failure = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                return Ok((s, addr, started.elapsed().as_millis() as u64));
            }
            Err(_) => TcpFailure::Dropped {
                addr,
                after: timeout,
                tried,
            },
            Ok(Err(e)) => match e.kind() {
                ErrorKind::ConnectionRefused => TcpFailure::Refused { addr, tried },
                ErrorKind::NetworkUnreachable => TcpFailure::NetUnreachable { addr, tried },
                ErrorKind::HostUnreachable => TcpFailure::HostUnreachable { addr, tried },
                ErrorKind::TimedOut => TcpFailure::Dropped {
                    addr,
                    after: timeout,
                    tried,
                },
                _ => TcpFailure::Other {
                    addr,
                    error: OsError::from(&e),
                    tried,
                },
            },
        };
        last = Some(failure);
    }
    let failure = last.unwrap_or(TcpFailure::NoAddress {
        redirect_host: None,
    });
    Err((failure, started.elapsed().as_millis() as u64))
}
