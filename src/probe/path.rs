//! The path under a connection: the MSS and path MTU the kernel holds for a connected socket and
//! the interface it leaves by, and second attempts with a clamped MSS that tell a path-MTU black
//! hole from a silent server.
//!
//! A path-MTU black hole (a tunnel or VPN with a smaller MTU that filters ICMP "fragmentation
//! needed" / ICMPv6 "packet too big") lets TCP connect and small packets through, but not the
//! first full-size segment: the server's certificate flight or a large answer never arrives
//! (actions/runner#2966, actions-runner-controller#3691). A connection whose SYN announces a
//! small MSS (`TCP_MAXSEG` set before connect) gets only small segments, which pass: when such a
//! second attempt completes where the first stalls, the path is the cause, not the server.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;

use crate::env::net::Network;

/// The MSS values a stalled connection is tried again with, largest first: 1200 fits every
/// tunnel in common use (IPv6's minimum MTU is 1280), 536 is IPv4's minimum.
pub const CLAMPED_MSS: [u32; 2] = [1200, 536];

/// What the kernel says about a connected socket's path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathInfo {
    /// The MSS this connection uses (`TCP_MAXSEG`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mss: Option<u32>,
    /// The kernel's path MTU to the peer (`IP_MTU` / `IPV6_MTU`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub path_mtu: Option<u32>,
    /// The interface the connection leaves by.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub interface: Option<String>,
    /// That interface's MTU.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub interface_mtu: Option<u32>,
}

/// The path of a connected socket (what cannot be read stays `None`).
pub fn of(stream: &TcpStream, network: &Network) -> PathInfo {
    let sock = socket2::SockRef::from(stream);
    let mss = sock.tcp_mss().ok();
    let peer = stream.peer_addr().ok();
    let (interface, interface_mtu) = peer
        .and_then(|p| network.outgoing(p.ip()))
        .map(|(i, m)| (Some(i), m))
        .unwrap_or((None, None));
    PathInfo {
        mss,
        path_mtu: peer.and_then(|p| path_mtu(stream, p)),
        interface,
        interface_mtu,
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn path_mtu(stream: &TcpStream, peer: SocketAddr) -> Option<u32> {
    let got = match peer {
        SocketAddr::V4(_) => rustix::net::sockopt::ip_mtu(stream),
        SocketAddr::V6(_) => rustix::net::sockopt::ipv6_mtu(stream),
    };
    got.ok()
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn path_mtu(_: &TcpStream, _: SocketAddr) -> Option<u32> {
    None
}

/// A TCP connection to `addr` whose SYN announces `mss`, so the peer sends segments of at
/// most that size.
pub async fn connect_clamped(
    addr: SocketAddr,
    mss: u32,
    timeout: Duration,
) -> std::io::Result<TcpStream> {
    let sock = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket2::SockRef::from(&sock).set_tcp_mss(mss)?;
    let stream = tokio::time::timeout(timeout, sock.connect(addr))
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// One clamped attempt: its MSS, whether it completed, and how long it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClampedTry {
    pub mss: u32,
    pub completed: bool,
    pub ms: u64,
}

/// When the clamped attempts beside a phase bounded by `timeout` start (half-way, so that a
/// normal slow answer does not cost a second connection) and by when they must end: with the
/// first attempt, so a stalled phase — black hole or silent server — takes no longer than
/// `--timeout`. Half the timeout is ample for a clamped attempt on a path where only the
/// segment size is wrong (an RTT or two).
pub fn clamp_schedule(started: Instant, timeout: Duration) -> (Instant, Instant) {
    (started + timeout / 2, started + timeout)
}

/// Runs `first` (the probe's own attempt, bounded by its own timeout). When it is still waiting
/// at `start`, every MSS of [`CLAMPED_MSS`] is tried with `clamped` beside it, each bounded by
/// `deadline`. When `first` ends `stalled`, the clamped attempts are waited for and returned;
/// otherwise they are dropped (and none is returned).
pub async fn with_clamped<T, F, C, CF>(
    first: F,
    stalled: impl Fn(&T) -> bool,
    (start, deadline): (Instant, Instant),
    clamped: C,
) -> (T, Vec<ClampedTry>)
where
    F: Future<Output = T>,
    C: Fn(u32) -> CF,
    CF: Future<Output = bool>,
{
    let mut first = std::pin::pin!(first);
    tokio::select! {
        r = &mut first => return (r, Vec::new()),
        _ = tokio::time::sleep_until(start) => {}
    }
    let tries = clamped_tries(deadline, clamped);
    let mut tries = std::pin::pin!(tries);
    let (r, done) = tokio::select! {
        r = &mut first => (r, None),
        t = &mut tries => (first.await, Some(t)),
    };
    if !stalled(&r) {
        return (r, Vec::new());
    }
    let t = match done {
        Some(t) => t,
        None => tries.await,
    };
    (r, t)
}

/// Every MSS of [`CLAMPED_MSS`] tried with `clamped` at once, each bounded by `deadline`.
fn clamped_tries<C, CF>(deadline: Instant, clamped: C) -> impl Future<Output = Vec<ClampedTry>>
where
    C: Fn(u32) -> CF,
    CF: Future<Output = bool>,
{
    futures::future::join_all(CLAMPED_MSS.map(|mss| {
        let attempt = clamped(mss);
        async move {
            let began = Instant::now();
            let completed = tokio::time::timeout_at(deadline, attempt)
                .await
                .unwrap_or(false);
            ClampedTry {
                mss,
                completed,
                ms: began.elapsed().as_millis() as u64,
            }
        }
    }))
}

/// [`with_clamped`] for an exchange whose own bound is long (an upload's body, bounded by the
/// measurement's time): a clamped attempt that completes while `first` still waits ends the
/// wait — the same exchange, started later, finished sooner, so `first` is stalled, not slow.
/// `None` for `first`'s result then. A slow link slows the clamped attempts as much: they do
/// not finish first.
pub async fn race_clamped<T, F, C, CF>(
    first: F,
    stalled: impl Fn(&T) -> bool,
    (start, deadline): (Instant, Instant),
    clamped: C,
) -> (Option<T>, Vec<ClampedTry>)
where
    F: Future<Output = T>,
    C: Fn(u32) -> CF,
    CF: Future<Output = bool>,
{
    let mut first = std::pin::pin!(first);
    tokio::select! {
        r = &mut first => return (Some(r), Vec::new()),
        _ = tokio::time::sleep_until(start) => {}
    }
    let tries = clamped_tries(deadline, clamped);
    let mut tries = std::pin::pin!(tries);
    tokio::select! {
        r = &mut first => {
            if !stalled(&r) {
                return (Some(r), Vec::new());
            }
            (Some(r), tries.await)
        }
        t = &mut tries => {
            if works_at(&t).is_some() {
                return (None, t);
            }
            let r = first.await;
            let t = if stalled(&r) { t } else { Vec::new() };
            (Some(r), t)
        }
    }
}

/// The largest MSS that completed, when the first attempt stalled and a clamped one did not.
pub fn works_at(tries: &[ClampedTry]) -> Option<u32> {
    tries.iter().filter(|t| t.completed).map(|t| t.mss).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(ms: u64) -> (Instant, Instant) {
        clamp_schedule(Instant::now(), Duration::from_millis(ms))
    }

    #[tokio::test(start_paused = true)]
    async fn a_quick_answer_starts_no_clamped_attempt() {
        let (r, tries) = with_clamped(
            async { 1 },
            |_| true,
            schedule(2000),
            |_| async { panic!("no clamped attempt for a quick answer") },
        )
        .await;
        assert_eq!((r, tries), (1, vec![]));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stall_is_tried_again_with_each_mss_beside_it() {
        let started = Instant::now();
        let (r, tries) = with_clamped(
            async {
                tokio::time::sleep(Duration::from_secs(2)).await;
                "timeout"
            },
            |r| *r == "timeout",
            schedule(2000),
            |mss| async move { mss < 1000 },
        )
        .await;
        assert_eq!(r, "timeout");
        assert_eq!(works_at(&tries), Some(536));
        assert_eq!(tries.len(), 2);
        // Started half-way, not after the first had timed out.
        assert_eq!(started.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_clamped_upload_that_finishes_first_ends_the_wait_and_a_slow_one_does_not() {
        // Black hole: the first never answers; the clamped ones do at once.
        let started = Instant::now();
        let (r, tries) = race_clamped(
            std::future::pending::<&str>(),
            |_| true,
            schedule(2000),
            |_| async { true },
        )
        .await;
        assert_eq!((r, works_at(&tries)), (None, Some(1200)));
        assert_eq!(started.elapsed(), Duration::from_secs(1));
        // A slow link: the first answers at 1.5 s, the clamped ones would need longer.
        let (r, tries) = race_clamped(
            async {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                "answered"
            },
            |r| *r != "answered",
            schedule(2000),
            |_| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                true
            },
        )
        .await;
        assert_eq!((r, tries.len()), (Some("answered"), 0));
    }

    #[tokio::test(start_paused = true)]
    async fn clamped_attempts_end_by_their_deadline_and_a_late_success_drops_them() {
        let started = Instant::now();
        let (_, tries) = with_clamped(
            async { tokio::time::sleep(Duration::from_secs(10)).await },
            |_| true,
            schedule(10_000),
            |_| std::future::pending::<bool>(),
        )
        .await;
        assert_eq!(works_at(&tries), None);
        // Not a moment beyond the first attempt's own timeout.
        assert_eq!(started.elapsed(), Duration::from_secs(10));
        // The first answers late but answers: the clamped attempts are not waited for.
        let started = Instant::now();
        let (_, tries) = with_clamped(
            async { tokio::time::sleep(Duration::from_secs(3)).await },
            |_| false,
            schedule(4000),
            |_| std::future::pending::<bool>(),
        )
        .await;
        assert!(tries.is_empty());
        assert_eq!(started.elapsed(), Duration::from_secs(3));
    }
}
