//! Throttled loopback servers for throughput tests and the throughput benchmark: a download
//! server that paces its body, and an upload server that *reads* slowly behind a small receive
//! buffer, so the client meets real backpressure.

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
    let listener = sock.listen(16).expect("listen");
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

async fn serve_upload(mut s: TcpStream, rate: u64) {
    let Some(head) = read_head(&mut s).await else {
        return;
    };
    if !head.starts_with("POST ") {
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await;
        return;
    }
    let mut buf = vec![0u8; 64 * 1024];
    if rate == 0 {
        while let Ok(n) = s.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
        return;
    }
    let per_tick = ((rate as f64 * TICK.as_secs_f64()) as usize).max(1);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    loop {
        tick.tick().await;
        let mut budget = per_tick;
        while budget > 0 {
            match tokio::time::timeout(TICK, s.read(&mut buf[..budget])).await {
                Ok(Ok(0)) | Ok(Err(_)) => return,
                Ok(Ok(n)) => budget -= n,
                Err(_) => break,
            }
        }
    }
}

pub fn kbps_to_bytes(kbps: u64) -> u64 {
    kbps * 1000 / 8
}
