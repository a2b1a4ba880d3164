//! The Docker API's networks (`GET /networks` on its unix socket), when the socket is there and
//! readable: every network's subnets, its bridge and its MTU option — the job networks the
//! runner creates (`github_network_…`) among them. Typed observations only; the verdicts are
//! `report::container`'s.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use serde::{Deserialize, Serialize};

use crate::env::docker::{DockerEnv, DockerPaths, Subnet};
use crate::env::net::Network;
use crate::model::OsError;

/// The API's answer is capped: thousands of networks fit in far less.
pub const MAX_ANSWER: usize = 4 << 20;
/// At most this many networks are kept.
const MAX_NETWORKS: usize = 4096;

/// One Docker network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiNetwork {
    pub name: String,
    pub driver: String,
    pub subnets: Vec<Subnet>,
    /// The kernel bridge carrying it (`docker0`, `br-<id>`), for the bridge driver.
    pub bridge: Option<String>,
    /// `com.docker.network.driver.mtu`, when set.
    pub mtu: Option<u32>,
}

/// Why the networks could not be listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ApiFailure {
    /// The socket could not be connected to (no permission, refused, not a socket).
    #[error("cannot connect: {error:?}")]
    Connect { error: OsError },
    /// No answer within the timeout.
    #[error("no answer within {ms} ms")]
    Timeout { ms: u64 },
    /// The request failed on the way (the connection closed, not HTTP).
    #[error("request failed")]
    Request,
    /// An answer other than 200.
    #[error("status {status}")]
    Status { status: u16 },
    /// The answer is larger than [`MAX_ANSWER`].
    #[error("answer larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// The answer is not the list of networks.
    #[error("answer is not a network list")]
    NotNetworks,
}

/// What the container-jobs check observed: Docker's files and bridges, and the API's networks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// Linux: the only system whose container networking is read here.
    pub linux: bool,
    pub docker: DockerEnv,
    /// The API's networks; `None` when there is no socket.
    pub api: Option<Result<Vec<ApiNetwork>, ApiFailure>>,
}

/// Read Docker's configuration and bridges, and ask its API when the socket is there.
pub async fn observe(paths: &DockerPaths, network: &Network, timeout: Duration) -> Observation {
    let docker = DockerEnv::read(paths, network);
    let api = match docker.socket_present {
        true => Some(networks(&paths.socket, timeout).await),
        false => None,
    };
    Observation {
        linux: cfg!(target_os = "linux"),
        docker,
        api,
    }
}

/// `GET /networks` on `socket`, bounded by `timeout` as a whole.
#[cfg(unix)]
pub async fn networks(socket: &Path, timeout: Duration) -> Result<Vec<ApiNetwork>, ApiFailure> {
    let ms = timeout.as_millis() as u64;
    tokio::time::timeout(timeout, ask(socket))
        .await
        .unwrap_or(Err(ApiFailure::Timeout { ms }))
}

#[cfg(not(unix))]
pub async fn networks(_: &Path, _: Duration) -> Result<Vec<ApiNetwork>, ApiFailure> {
    Err(ApiFailure::Connect {
        error: OsError::default(),
    })
}

#[cfg(unix)]
async fn ask(socket: &Path) -> Result<Vec<ApiNetwork>, ApiFailure> {
    let stream =
        tokio::net::UnixStream::connect(socket)
            .await
            .map_err(|e| ApiFailure::Connect {
                error: OsError::from(&e),
            })?;
    let req = hyper::Request::get("/networks")
        .header("host", "docker")
        .header("user-agent", super::http::USER_AGENT)
        .body(Empty::<Bytes>::new())
        .map_err(|_| ApiFailure::Request)?;
    let (resp, _conn) = super::http::exchange(stream, req)
        .await
        .map_err(|_| ApiFailure::Request)?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(ApiFailure::Status { status });
    }
    let mut body = resp.into_body();
    let mut buf: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ApiFailure::Request)?;
        if let Some(data) = frame.data_ref() {
            if buf.len() + data.len() > MAX_ANSWER {
                return Err(ApiFailure::TooLarge { limit: MAX_ANSWER });
            }
            buf.extend_from_slice(data);
        }
    }
    parse_networks(&buf)
}

#[derive(Deserialize)]
struct RawNetwork {
    #[serde(rename = "Name", default)]
    name: String,
    #[serde(rename = "Id", default)]
    id: String,
    #[serde(rename = "Driver", default)]
    driver: String,
    #[serde(rename = "IPAM", default)]
    ipam: Option<RawIpam>,
    #[serde(rename = "Options", default)]
    options: Option<std::collections::BTreeMap<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct RawIpam {
    #[serde(rename = "Config", default)]
    config: Option<Vec<RawIpamConfig>>,
}

#[derive(Deserialize)]
struct RawIpamConfig {
    #[serde(rename = "Subnet", default)]
    subnet: Option<String>,
}

/// The API's network list (`[{Name, Id, Driver, IPAM: {Config: [{Subnet}]}, Options}]`); names
/// and options are outside text, made printable.
pub fn parse_networks(body: &[u8]) -> Result<Vec<ApiNetwork>, ApiFailure> {
    let raw: Vec<RawNetwork> = serde_json::from_slice(body).map_err(|_| ApiFailure::NotNetworks)?;
    let printable = crate::model::text::clipped;
    Ok(raw
        .into_iter()
        .take(MAX_NETWORKS)
        .map(|n| {
            let option = |k: &str| {
                n.options
                    .as_ref()
                    .and_then(|o| o.get(k))
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            let bridge = match n.driver.as_str() {
                "bridge" => Some(
                    option("com.docker.network.bridge.name")
                        .unwrap_or_else(|| format!("br-{}", n.id.get(..12).unwrap_or(&n.id))),
                ),
                _ => None,
            };
            ApiNetwork {
                name: printable(&n.name),
                driver: printable(&n.driver),
                subnets: n
                    .ipam
                    .and_then(|i| i.config)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|c| c.subnet.as_deref().and_then(Subnet::parse))
                    .collect(),
                bridge: bridge.map(|b| printable(&b)),
                mtu: option("com.docker.network.driver.mtu").and_then(|m| m.parse().ok()),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_network_list_gives_subnets_bridges_and_mtu() {
        let body = br#"[
          {"Name": "bridge", "Id": "f1e2d3c4b5a6978877", "Driver": "bridge",
           "IPAM": {"Driver": "default", "Config": [{"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}]},
           "Options": {"com.docker.network.bridge.name": "docker0", "com.docker.network.driver.mtu": "1400"}},
          {"Name": "github_network_5f0e", "Id": "0123456789abcdef0123", "Driver": "bridge",
           "IPAM": {"Config": [{"Subnet": "10.99.0.0/24"}, {"Subnet": "fd00:99::/64"}]}, "Options": {}},
          {"Name": "host", "Id": "aa", "Driver": "host", "IPAM": {"Config": []}, "Options": null}
        ]"#;
        let n = parse_networks(body).unwrap();
        assert_eq!(n.len(), 3);
        assert_eq!(n[0].bridge.as_deref(), Some("docker0"));
        assert_eq!(n[0].mtu, Some(1400));
        assert_eq!(n[1].bridge.as_deref(), Some("br-0123456789ab"));
        assert_eq!(n[1].subnets.len(), 2);
        assert_eq!(n[1].mtu, None);
        assert_eq!((n[2].bridge.as_ref(), n[2].subnets.len()), (None, 0));
        assert_eq!(
            parse_networks(b"{\"message\": \"x\"}"),
            Err(ApiFailure::NotNetworks)
        );
        assert_eq!(parse_networks(b"\x1b[31m"), Err(ApiFailure::NotNetworks));
    }

    #[test]
    fn outside_text_in_the_network_list_is_made_printable() {
        let body = "[{\"Name\": \"job\\u001b[2J\\nnet\", \"Id\": \"ab\", \"Driver\": \"bridge\",
                     \"Options\": {\"com.docker.network.driver.mtu\": \"huge\"}}]";
        let n = parse_networks(body.as_bytes()).unwrap();
        assert!(!n[0].name.chars().any(char::is_control), "{:?}", n[0].name);
        // A short id is its own bridge suffix; a bad MTU option is no MTU.
        assert_eq!((n[0].bridge.as_deref(), n[0].mtu), (Some("br-ab"), None));
    }

    /// A fake API on a unix socket that answers with `head` then `body_len` bytes of `[`, or
    /// never answers when `head` is empty.
    #[cfg(unix)]
    fn fake_api(dir: &Path, head: &'static str, body_len: usize) -> std::path::PathBuf {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let socket = dir.join("docker.sock");
        let listener = tokio::net::UnixListener::bind(&socket).unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                if head.is_empty() {
                    std::future::pending::<()>().await;
                }
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(&vec![b'['; body_len]).await;
            }
        });
        socket
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn an_oversized_or_silent_api_is_a_typed_failure_in_bounded_time() {
        let dir = tempfile::tempdir().unwrap();
        let big = fake_api(
            dir.path(),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
            MAX_ANSWER + 1,
        );
        assert_eq!(
            networks(&big, Duration::from_secs(5)).await,
            Err(ApiFailure::TooLarge { limit: MAX_ANSWER })
        );
        let dir = tempfile::tempdir().unwrap();
        let silent = fake_api(dir.path(), "", 0);
        let started = std::time::Instant::now();
        assert_eq!(
            networks(&silent, Duration::from_millis(300)).await,
            Err(ApiFailure::Timeout { ms: 300 })
        );
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn a_missing_socket_is_a_connect_failure_within_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let r = networks(&dir.path().join("none.sock"), Duration::from_secs(2)).await;
        assert!(
            matches!(r, Err(ApiFailure::Connect { error }) if error.errno.is_some()),
            "{r:?}"
        );
    }
}
