//! TCP connect, per address, classified.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use crate::model::Family;

#[derive(Debug)]
pub struct ConnectFailure {
    pub addr: Option<SocketAddr>,
    pub kind: FailKind,
    pub ms: u64,
    pub tried: usize,
}

#[derive(Debug)]
pub enum FailKind {
    Refused,
    TimedOut(Duration),
    NetUnreachable,
    HostUnreachable,
    Other(String),
}

impl ConnectFailure {
    pub fn describe(&self, port: u16, family: Family) -> String {
        let addrs = if self.tried > 1 {
            format!(" ({} addresses tried)", self.tried)
        } else {
            String::new()
        };
        let at = self.addr.map(|a| a.to_string()).unwrap_or_default();
        match &self.kind {
            FailKind::Refused => format!(
                "TCP {at}: connection refused{addrs} (nothing listening on port {}, or a firewall rejecting it)",
                self.addr.map(|a| a.port()).unwrap_or(port)
            ),
            FailKind::TimedOut(d) => format!(
                "TCP {at}: no answer within {}{addrs} (packets dropped: a firewall?)",
                super::dns::fmt_duration(*d)
            ),
            FailKind::NetUnreachable => format!(
                "TCP {at}: network unreachable{addrs} (this host has no {} route)",
                family.label()
            ),
            FailKind::HostUnreachable => format!("TCP {at}: host unreachable{addrs}"),
            FailKind::Other(e) => format!("TCP {at}: {e}{addrs}"),
        }
    }
}

/// Try the addresses in order (at most three), each bounded by `timeout`.
pub async fn connect_any(
    addrs: &[SocketAddr],
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr, u64), ConnectFailure> {
    let started = Instant::now();
    let mut last = None;
    let mut tried = 0;
    for &addr in addrs.iter().take(3) {
        tried += 1;
        let kind = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                return Ok((s, addr, started.elapsed().as_millis() as u64));
            }
            Err(_) => FailKind::TimedOut(timeout),
            Ok(Err(e)) => match e.kind() {
                ErrorKind::ConnectionRefused => FailKind::Refused,
                ErrorKind::NetworkUnreachable => FailKind::NetUnreachable,
                ErrorKind::HostUnreachable => FailKind::HostUnreachable,
                ErrorKind::TimedOut => FailKind::TimedOut(timeout),
                _ => FailKind::Other(e.to_string()),
            },
        };
        last = Some((addr, kind));
    }
    let (addr, kind) = match last {
        Some((a, k)) => (Some(a), k),
        None => (None, FailKind::Other("no address".into())),
    };
    Err(ConnectFailure {
        addr,
        kind,
        ms: started.elapsed().as_millis() as u64,
        tried,
    })
}
