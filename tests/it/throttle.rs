//! Throttled loopback servers for throughput tests and the throughput benchmark: a download
//! server that paces its body, and an upload server that *reads* slowly behind a small receive
//! buffer, so the client meets real backpressure and answers only after the whole body; a
//! buffering relay in front of a slow reader; and a sink that answers before reading.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// Pacing tick of the throttled servers.
pub const TICK: Duration = Duration::from_millis(25);

pub struct Throttled {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Throttled {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `bytes_per_sec == 0` means unthrottled.
pub async fn download_server(bytes_per_sec: u64) -> Throttled {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        loop {
            let Ok((s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(serve_download(s, bytes_per_sec));
        }
    });
    Throttled { addr, task }
}

async fn read_head(s: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 || s.read(&mut b).await.ok()? == 0 {
            return None;
        }
        head.push(b[0]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

async fn serve_download(mut s: TcpStream, rate: u64) {
    let Some(head) = read_head(&mut s).await else {
        return;
    };
    // Honour `Range: bytes=0-N`.
    let len: u64 = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("range: bytes=0-")
                .map(|n| n.trim().parse::<u64>().ok().map(|n| n + 1))
        })
        .flatten()
        .unwrap_or(1 << 20);
    let status = if head.to_ascii_lowercase().contains("range:") {
        "206 Partial Content"
    } else {
        "200 OK"
    };
    let resp = format!("HTTP/1.1 {status}\r\nContent-Length: {len}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n");
    if s.write_all(resp.as_bytes()).await.is_err() {
        return;
    }
    if head.starts_with("HEAD ") {
        return;
    }
    let mut left = len;
    if rate == 0 {
        let buf = vec![7u8; 64 * 1024];
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            if s.write_all(&buf[..n]).await.is_err() {
                return;
            }
            left -= n as u64;
        }
        return;
    }
    let per_tick = (rate as f64 * TICK.as_secs_f64()) as usize;
    let buf = vec![7u8; per_tick.max(1)];
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    while left > 0 {
        tick.tick().await;
        let n = left.min(buf.len() as u64) as usize;
        if s.write_all(&buf[..n]).await.is_err() {
            return;
        }
        left -= n as u64;
    }
}

/// Reads request bodies at `bytes_per_sec` (0: as fast as it can).
pub async fn upload_server(bytes_per_sec: u64) -> Throttled {
    let sock = TcpSocket::new_v4().expect("socket");
    // A small receive buffer: the client must meet the slow reader, not a big kernel buffer.
    sock.set_recv_buffer_size(2304).expect("rcvbuf");
    sock.bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    upload_server_on(sock.listen(16).expect("listen"), bytes_per_sec)
}

/// [`upload_server`] on a listener of the caller's (e.g. bound inside a network namespace).
pub fn upload_server_on(listener: tokio::net::TcpListener, bytes_per_sec: u64) -> Throttled {
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        loop {
            let Ok((s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(serve_upload(s, bytes_per_sec));
        }
    });
    Throttled { addr, task }
}

/// One connection of the upload server: requests one after another (keep-alive), each body
/// read at `rate` (shared over the connection), then `200 OK` — only after the whole body.
async fn serve_upload(mut s: TcpStream, rate: u64) {
    let per_tick = ((rate as f64 * TICK.as_secs_f64()) as usize).max(1);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let Some(head) = read_head(&mut s).await else {
            return;
        };
        if !head.starts_with("POST ") {
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await;
            return;
        }
        let mut left = content_length(&head);
        while left > 0 {
            let want = if rate == 0 {
                buf.len()
            } else {
                tick.tick().await;
                per_tick
            };
            let mut budget = want.min(left as usize);
            while budget > 0 {
                let r = if rate == 0 {
                    s.read(&mut buf[..budget]).await.map_err(|_| ())
                } else {
                    match tokio::time::timeout(TICK, s.read(&mut buf[..budget])).await {
                        Ok(r) => r.map_err(|_| ()),
                        Err(_) => break,
                    }
                };
                match r {
                    Ok(0) | Err(()) => return,
                    Ok(n) => {
                        budget -= n;
                        left -= n as u64;
                    }
                }
                if rate == 0 {
                    break;
                }
            }
        }
        if s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .await
            .is_err()
        {
            return;
        }
    }
}

fn content_length(head: &str) -> u64 {
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0)
}

/// A front end that buffers requests, as nginx (or a load balancer) with request buffering
/// does: it takes everything the client sends at once into memory and forwards it to
/// `upstream` at the pace `upstream` reads; answers are relayed back.
pub async fn buffering_relay(upstream: SocketAddr) -> Throttled {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let Ok(up) = TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut ur, mut uw) = up.into_split();
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
                // Client → memory: as fast as the client sends.
                let take = tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = cr.read(&mut buf).await {
                        if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                });
                // Memory → upstream: as slowly as upstream reads.
                let forward = tokio::spawn(async move {
                    while let Some(chunk) = rx.recv().await {
                        if uw.write_all(&chunk).await.is_err() {
                            break;
                        }
                    }
                });
                let mut buf = vec![0u8; 16 * 1024];
                while let Ok(n) = ur.read(&mut buf).await {
                    if n == 0 || cw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
                take.abort();
                forward.abort();
            });
        }
    });
    Throttled { addr, task }
}

/// An upload sink that answers `status` with `Connection: close` as soon as it has a request
/// head, without reading the body (an early 4xx, or a 200 that never looked at the data).
pub async fn early_answer_sink(status: u16) -> Throttled {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                if read_head(&mut s).await.is_none() {
                    return;
                }
                let _ = s
                    .write_all(
                        format!("HTTP/1.1 {status} Whatever\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                            .as_bytes(),
                    )
                    .await;
                let _ = s.shutdown().await;
            });
        }
    });
    Throttled { addr, task }
}

pub fn kbps_to_bytes(kbps: u64) -> u64 {
    kbps * 1000 / 8
}
