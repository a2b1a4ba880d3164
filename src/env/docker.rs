//! Docker's configuration as container jobs would meet it (Linux): `daemon.json`'s `mtu`, `bip`
//! and `default-address-pools`, and Docker's bridges (`docker0`, `br-*`) with their MTU and the
//! subnets the routing table gives them (the connected routes `ip route` shows as
//! `172.17.0.0/16 dev docker0`). Read once at start, as the rest of the environment; the Docker
//! API (`GET /networks` on the socket) is asked by `probe::docker`.
//!
//! Why it matters: Docker's bridge keeps MTU 1500 when the uplink is smaller (actions/runner#2966),
//! and a job network whose subnet covers an address the runner must reach sends that traffic to
//! the bridge instead of the uplink: the host passes, every container job stalls.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::net::{prefix_covers, Network};

/// `daemon.json` is a few hundred bytes; beyond this it is not Docker's configuration.
const DAEMON_JSON_LIMIT: u64 = 1 << 20;
/// At most this many address pools are read from `daemon.json`.
const MAX_POOLS: usize = 256;

/// Where Docker's configuration and API are looked for (`/etc/docker` and
/// `/var/run/docker.sock`; tests point them elsewhere with hidden flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerPaths {
    /// The directory holding `daemon.json`.
    pub config_dir: PathBuf,
    /// The Docker API's unix socket.
    pub socket: PathBuf,
}

impl Default for DockerPaths {
    fn default() -> Self {
        DockerPaths {
            config_dir: PathBuf::from("/etc/docker"),
            socket: PathBuf::from("/var/run/docker.sock"),
        }
    }
}

/// An IP prefix (`172.17.0.0/16`), kept as given (the address may have host bits, as `bip`'s
/// `172.17.0.1/16` does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Subnet {
    pub addr: IpAddr,
    pub len: u8,
}

impl Subnet {
    /// `ADDR/LEN`; `None` for anything else (a bare address, a length beyond the family's).
    pub fn parse(s: &str) -> Option<Subnet> {
        let (a, l) = s.trim().split_once('/')?;
        let addr: IpAddr = a.parse().ok()?;
        let len: u8 = l.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (len <= max).then_some(Subnet { addr, len })
    }

    pub fn covers(&self, ip: IpAddr) -> bool {
        prefix_covers(self.addr, self.len, ip)
    }

    /// The network address (host bits cleared), for showing: `172.17.0.1/16` → `172.17.0.0`.
    pub fn network(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(a) => {
                let len = u32::from(self.len.min(32));
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) => {
                let len = u32::from(self.len.min(128));
                let mask = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - len)
                };
                IpAddr::V6((u128::from(a) & mask).into())
            }
        }
    }
}

impl From<Subnet> for String {
    fn from(s: Subnet) -> String {
        s.to_string()
    }
}

impl TryFrom<String> for Subnet {
    type Error = String;
    fn try_from(s: String) -> Result<Subnet, String> {
        Subnet::parse(&s).ok_or_else(|| "not an IP prefix (ADDRESS/LENGTH)".to_string())
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network(), self.len)
    }
}

/// One of `default-address-pools`: job networks are carved from `base` in subnets of `size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressPool {
    pub base: Subnet,
    pub size: u8,
}

/// Docker's own pools when `daemon.json` sets none (moby's defaults: 172.17–31.0.0/16 in /16s,
/// 192.168.0.0/16 in /20s): where `docker network create` — and so the runner's per-job
/// networks — take their subnets from.
pub fn default_pools() -> Vec<AddressPool> {
    vec![
        AddressPool {
            base: Subnet {
                addr: IpAddr::V4([172, 17, 0, 0].into()),
                len: 16,
            },
            size: 16,
        },
        AddressPool {
            base: Subnet {
                addr: IpAddr::V4([172, 18, 0, 0].into()),
                len: 15,
            },
            size: 16,
        },
        AddressPool {
            base: Subnet {
                addr: IpAddr::V4([172, 20, 0, 0].into()),
                len: 14,
            },
            size: 16,
        },
        AddressPool {
            base: Subnet {
                addr: IpAddr::V4([172, 24, 0, 0].into()),
                len: 14,
            },
            size: 16,
        },
        AddressPool {
            base: Subnet {
                addr: IpAddr::V4([172, 28, 0, 0].into()),
                len: 14,
            },
            size: 16,
        },
        AddressPool {
            base: Subnet {
                addr: IpAddr::V4([192, 168, 0, 0].into()),
                len: 16,
            },
            size: 20,
        },
    ]
}

/// What `daemon.json` says about the network (the fields that matter here).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonConfig {
    /// The file read.
    pub path: String,
    /// `mtu`: the MTU of the default bridge's containers.
    pub mtu: Option<u32>,
    /// `bip`: the default bridge's address and prefix.
    pub bip: Option<Subnet>,
    /// `default-address-pools` (empty: Docker's own, [`default_pools`]).
    pub pools: Vec<AddressPool>,
}

/// Why `daemon.json` could not be used (Docker itself would refuse to start with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DaemonProblem {
    /// It could not be read.
    Unreadable { path: String, why: Unreadable },
    /// It is not JSON (at `line`:`column`).
    NotJson {
        path: String,
        line: usize,
        column: usize,
    },
    /// A field has a value Docker would not accept.
    BadField { path: String, field: String },
}

/// Why `daemon.json` could not be read, as facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Unreadable {
    /// Larger than `limit` bytes.
    TooLarge { limit: u64 },
    /// Not UTF-8 (the first bad byte at `offset`).
    NotUtf8 { offset: usize },
    /// Not a regular file (a FIFO, a socket, a device): refused before reading.
    NotRegular,
    /// The OS refused (no permission, …).
    Io { error: crate::model::OsError },
}

/// One of Docker's bridges as the kernel shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bridge {
    pub name: String,
    pub mtu: Option<u32>,
    /// The prefixes routed to it directly (its subnets).
    pub subnets: Vec<Subnet>,
}

/// Docker as seen from the files and the kernel, before the API is asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerEnv {
    /// The directory `daemon.json` was looked for in.
    pub config_dir: String,
    /// `daemon.json`: `None` when there is none.
    pub daemon: Option<Result<DaemonConfig, DaemonProblem>>,
    /// `docker0` and `br-*` bridges.
    pub bridges: Vec<Bridge>,
    /// The API socket's path, and whether something is there.
    pub socket: String,
    pub socket_present: bool,
}

impl DockerEnv {
    /// Read `daemon.json` under `paths.config_dir` and Docker's bridges from `network`.
    pub fn read(paths: &DockerPaths, network: &Network) -> DockerEnv {
        let file = paths.config_dir.join("daemon.json");
        let daemon = file.exists().then(|| read_daemon(&file));
        DockerEnv {
            config_dir: crate::model::text::printable(&paths.config_dir.display().to_string()),
            daemon,
            bridges: bridges(network),
            socket: crate::model::text::printable(&paths.socket.display().to_string()),
            socket_present: std::fs::symlink_metadata(&paths.socket).is_ok(),
        }
    }

    /// Is Docker installed here at all (its configuration, its socket or one of its bridges)?
    pub fn present(&self) -> bool {
        self.daemon.is_some() || self.socket_present || !self.bridges.is_empty()
    }
}

/// Is `name` one of Docker's bridges: the default `docker0`, or a user network's `br-<id>`?
pub fn is_docker_bridge(name: &str) -> bool {
    name == "docker0" || name.starts_with("br-")
}

fn bridges(network: &Network) -> Vec<Bridge> {
    network
        .interfaces
        .iter()
        .filter(|i| i.bridge && is_docker_bridge(&i.name))
        .map(|i| {
            let mut subnets: Vec<Subnet> = network
                .routes
                .iter()
                .filter(|r| r.interface == i.name && r.gateway.is_none())
                // The IPv6 link-local route every interface has is not a subnet of Docker's.
                .filter(|r| !matches!(r.destination, IpAddr::V6(v) if (v.segments()[0] & 0xffc0) == 0xfe80))
                .filter(|r| !r.destination.is_multicast())
                .map(|r| Subnet {
                    addr: r.destination,
                    len: r.prefix_len,
                })
                .collect();
            subnets.sort();
            subnets.dedup();
            Bridge {
                name: i.name.clone(),
                mtu: i.mtu,
                subnets,
            }
        })
        .collect()
}

/// The fields of `daemon.json` read here; everything else is Docker's business.
#[derive(Deserialize)]
struct RawDaemon {
    mtu: Option<serde_json::Value>,
    bip: Option<serde_json::Value>,
    #[serde(rename = "default-address-pools")]
    pools: Option<serde_json::Value>,
}

fn read_daemon(file: &Path) -> Result<DaemonConfig, DaemonProblem> {
    let path = crate::model::text::printable(&file.display().to_string());
    use crate::textfile::ReadError;
    let text = crate::textfile::read_text(file, DAEMON_JSON_LIMIT, "Docker's daemon.json")
        .map_err(|e| DaemonProblem::Unreadable {
            path: path.clone(),
            why: match e {
                ReadError::TooLarge { limit, .. } => Unreadable::TooLarge { limit },
                ReadError::NotUtf8 { offset, .. } => Unreadable::NotUtf8 { offset },
                ReadError::NotRegular { .. } => Unreadable::NotRegular,
                ReadError::Io { source, .. } => Unreadable::Io {
                    error: crate::model::OsError::from(&source),
                },
            },
        })?;
    parse_daemon(crate::textfile::strip_bom(&text), &path)
}

/// `daemon.json`'s network fields, checked as Docker would.
pub fn parse_daemon(text: &str, path: &str) -> Result<DaemonConfig, DaemonProblem> {
    let raw: RawDaemon = serde_json::from_str(text).map_err(|e| DaemonProblem::NotJson {
        path: path.to_string(),
        line: e.line(),
        column: e.column(),
    })?;
    let bad = |field: &str| DaemonProblem::BadField {
        path: path.to_string(),
        field: field.to_string(),
    };
    let mtu = match raw.mtu {
        None | Some(serde_json::Value::Null) => None,
        // Docker takes 0 as "the default" (1500).
        Some(v) => match v.as_u64() {
            Some(0) => None,
            Some(m) if (68..=65535).contains(&m) => Some(m as u32),
            _ => return Err(bad("mtu")),
        },
    };
    let bip = match raw.bip {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => match v.as_str() {
            Some("") => None,
            Some(s) => Some(Subnet::parse(s).ok_or_else(|| bad("bip"))?),
            None => return Err(bad("bip")),
        },
    };
    let mut pools = Vec::new();
    match raw.pools {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Array(items)) => {
            for item in items.iter().take(MAX_POOLS) {
                let base = item
                    .get("base")
                    .and_then(|b| b.as_str())
                    .and_then(Subnet::parse)
                    .ok_or_else(|| bad("default-address-pools"))?;
                let size = item
                    .get("size")
                    .and_then(|s| s.as_u64())
                    .filter(|s| *s <= if base.addr.is_ipv4() { 32 } else { 128 })
                    .ok_or_else(|| bad("default-address-pools"))?;
                pools.push(AddressPool {
                    base,
                    size: size as u8,
                });
            }
        }
        Some(_) => return Err(bad("default-address-pools")),
    }
    Ok(DaemonConfig {
        path: path.to_string(),
        mtu,
        bip,
        pools,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::net::{Interface, RouteEntry};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn daemon_json_gives_mtu_bip_and_pools() {
        let c = parse_daemon(
            r#"{"mtu": 1400, "bip": "10.200.0.1/24", "log-driver": "json-file",
                "default-address-pools": [{"base": "10.201.0.0/16", "size": 24}]}"#,
            "/etc/docker/daemon.json",
        )
        .unwrap();
        assert_eq!(c.mtu, Some(1400));
        let bip = c.bip.unwrap();
        assert_eq!(bip.to_string(), "10.200.0.0/24");
        assert!(bip.covers(ip("10.200.0.77")) && !bip.covers(ip("10.200.1.1")));
        assert_eq!(c.pools.len(), 1);
        assert_eq!(
            (c.pools[0].base.to_string(), c.pools[0].size),
            ("10.201.0.0/16".into(), 24)
        );
        // An empty file section and Docker's "0 means default".
        let c = parse_daemon(r#"{"mtu": 0}"#, "d.json").unwrap();
        assert_eq!((c.mtu, c.bip, c.pools.len()), (None, None, 0));
    }

    #[test]
    fn bad_daemon_json_is_a_typed_problem_not_a_panic() {
        assert!(
            matches!(
                parse_daemon("{\"mtu\": 1400,\n  oops}", "d.json"),
                Err(DaemonProblem::NotJson { line: 2, .. })
            ),
            "the error names the line"
        );
        for (text, field) in [
            (r#"{"mtu": "big"}"#, "mtu"),
            (r#"{"mtu": 70000}"#, "mtu"),
            (r#"{"bip": "10.0.0.1"}"#, "bip"),
            (r#"{"bip": "10.0.0.1/40"}"#, "bip"),
            (
                r#"{"default-address-pools": [{"base": "x"}]}"#,
                "default-address-pools",
            ),
            (
                r#"{"default-address-pools": {"base": "10.0.0.0/8"}}"#,
                "default-address-pools",
            ),
        ] {
            assert_eq!(
                parse_daemon(text, "d.json"),
                Err(DaemonProblem::BadField {
                    path: "d.json".into(),
                    field: field.into()
                }),
                "{text}"
            );
        }
        assert!(matches!(
            parse_daemon("[1, 2]", "d.json"),
            Err(DaemonProblem::NotJson { .. })
        ));
    }

    #[test]
    fn docker_bridges_are_docker0_and_br_with_their_connected_routes() {
        let iface = |name: &str, mtu, bridge| Interface {
            name: name.into(),
            mtu: Some(mtu),
            bridge,
        };
        let route = |d: &str, len, gw: Option<&str>, dev: &str| RouteEntry {
            destination: ip(d),
            prefix_len: len,
            gateway: gw.map(ip),
            interface: dev.into(),
        };
        let network = Network {
            interfaces: vec![
                iface("br-0123456789ab", 1500, true),
                iface("docker0", 1500, true),
                iface("eth0", 1400, false),
                iface("virbr0", 1500, true),
            ],
            routes: vec![
                route("0.0.0.0", 0, Some("192.0.2.1"), "eth0"),
                route("172.17.0.0", 16, None, "docker0"),
                route("172.18.0.0", 16, None, "br-0123456789ab"),
                route("fe80::", 64, None, "docker0"),
                route("192.168.122.0", 24, None, "virbr0"),
            ],
        };
        let b = bridges(&network);
        let names: Vec<&str> = b.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["br-0123456789ab", "docker0"]);
        assert_eq!(b[1].subnets, vec![Subnet::parse("172.17.0.0/16").unwrap()]);
        assert_eq!(b[0].mtu, Some(1500));
    }

    #[test]
    fn docker_is_absent_without_config_socket_or_bridge() {
        let dir = tempfile::tempdir().unwrap();
        let paths = DockerPaths {
            config_dir: dir.path().join("etc-docker"),
            socket: dir.path().join("docker.sock"),
        };
        let env = DockerEnv::read(&paths, &Network::default());
        assert!(!env.present(), "{env:?}");
        std::fs::create_dir(&paths.config_dir).unwrap();
        std::fs::write(paths.config_dir.join("daemon.json"), r#"{"mtu": 1380}"#).unwrap();
        let env = DockerEnv::read(&paths, &Network::default());
        assert!(env.present());
        assert_eq!(env.daemon.unwrap().unwrap().mtu, Some(1380));
        // Hostile files are typed problems, read no further than the cap.
        std::fs::write(
            paths.config_dir.join("daemon.json"),
            vec![b' '; DAEMON_JSON_LIMIT as usize + 1],
        )
        .unwrap();
        let env = DockerEnv::read(&paths, &Network::default());
        assert!(
            matches!(
                env.daemon,
                Some(Err(DaemonProblem::Unreadable {
                    why: Unreadable::TooLarge { .. },
                    ..
                }))
            ),
            "{:?}",
            env.daemon
        );
    }
}
