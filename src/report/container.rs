//! The container-jobs check judged (issue 21, item 2): a job container's traffic leaves by one
//! of Docker's bridges, so a bridge whose MTU exceeds what the uplink carries, or whose subnet
//! covers an address the runner must reach, breaks container jobs while the host itself passes.
//!
//! - WARN: a bridge's MTU (Docker's configured one where set, else the kernel's) is larger than
//!   the uplink's (the interface of the default route, or the smaller path MTU the kernel learnt
//!   on a probed connection leaving by it); an address pool Docker carves job networks from
//!   covers such an address; `daemon.json` cannot be used.
//! - FAIL: an existing bridge or Docker network's subnet covers an address a probed name
//!   resolved to, or the proxy's address.
//! - SKIP: not Linux, or no Docker (no daemon.json, no API socket, no `docker0`/`br-*` bridge).
//!
//! Informational unless `--require container-jobs` (or `--capability container-jobs`).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use super::TargetResult;
use crate::env::docker::{self, AddressPool, DaemonConfig, DaemonProblem, Subnet};
use crate::env::net::Network;
use crate::env::proxy::ProxySettings;
use crate::model::Verdict;
use crate::probe::docker::{ApiFailure, Observation};
use crate::probe::outcome::Step;

/// The container-jobs check's result.
#[derive(Debug, Clone, Serialize)]
pub struct ContainerReport {
    pub verdict: Verdict,
    pub gating: bool,
    /// Why nothing was checked (verdict `skip`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<ContainerSkip>,
    /// The interface traffic to GitHub leaves by, its MTU and the smallest path MTU seen on it.
    pub uplink: Option<Uplink>,
    /// Docker's bridges and networks.
    pub networks: Vec<DockerNetwork>,
    /// `daemon.json`'s network settings, when there is one that could be read.
    pub daemon: Option<DaemonConfig>,
    /// The pools job networks are carved from; `pools_default`: Docker's own (no
    /// `default-address-pools`).
    pub pools: Vec<AddressPool>,
    pub pools_default: bool,
    /// The API socket, and what asking it gave.
    pub api: ApiState,
    /// What is wrong, worst first.
    pub problems: Vec<ContainerProblem>,
}

/// Why the check was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ContainerSkip {
    NotLinux,
    /// No `daemon.json` in `config_dir`, nothing at `socket`, no `docker0` or `br-*` bridge.
    NoDocker {
        config_dir: String,
        socket: String,
    },
}

/// The uplink container traffic is forwarded to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Uplink {
    pub interface: String,
    pub mtu: Option<u32>,
    /// The smallest path MTU the kernel held on a probed connection leaving by it.
    pub path_mtu: Option<u32>,
}

impl Uplink {
    /// What a packet leaving by it may carry: the smaller of its MTU and the path MTU.
    pub fn limit(&self) -> Option<u32> {
        match (self.mtu, self.path_mtu) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Where a network's MTU comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MtuFrom {
    /// `daemon.json`'s `mtu` (the default bridge).
    DaemonJson,
    /// The network's `com.docker.network.driver.mtu` option (the API).
    NetworkOption,
    /// The kernel's bridge interface.
    Bridge,
}

impl MtuFrom {
    /// The identifier used in reports.
    pub fn id(self) -> &'static str {
        match self {
            MtuFrom::DaemonJson => "daemon_json",
            MtuFrom::NetworkOption => "network_option",
            MtuFrom::Bridge => "bridge",
        }
    }
}

/// One of Docker's networks: a bridge the kernel shows, a network the API lists, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DockerNetwork {
    /// The Docker network's name (from the API; `bridge` for `docker0`).
    pub name: Option<String>,
    /// The kernel bridge carrying it.
    pub bridge: Option<String>,
    pub mtu: Option<u32>,
    pub mtu_from: Option<MtuFrom>,
    pub subnets: Vec<Subnet>,
}

impl DockerNetwork {
    /// How it is named in words: the bridge, with the network's name when there is one.
    pub fn label(&self) -> String {
        match (&self.bridge, &self.name) {
            (Some(b), Some(n)) if n != b => format!("{b} (network {n})"),
            (Some(b), _) => b.clone(),
            (None, Some(n)) => format!("network {n}"),
            (None, None) => "a Docker network".into(),
        }
    }
}

/// The API socket and what it gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ApiState {
    /// Nothing at the socket's path.
    Absent { socket: String },
    /// Read: this many networks.
    Read { socket: String, networks: usize },
    /// There, but could not be asked (no permission, …): the bridges and files still count.
    Failed { socket: String, failure: ApiFailure },
}

/// An address a job container must reach, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Needed {
    pub address: IpAddr,
    /// The names that resolved to it.
    pub hosts: Vec<String>,
    /// It is the proxy's address.
    pub proxy: bool,
}

/// What is wrong for container jobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ContainerProblem {
    /// An existing network's subnet covers addresses the runner must reach (FAIL).
    SubnetCovers {
        network: String,
        subnet: Subnet,
        needed: Vec<Needed>,
    },
    /// A bridge's MTU is larger than what the uplink carries (WARN).
    MtuAboveUplink {
        network: String,
        mtu: u32,
        mtu_from: MtuFrom,
        uplink: String,
        uplink_mtu: u32,
    },
    /// A pool job networks are carved from covers such addresses (WARN: a future job network
    /// may take that subnet).
    PoolCovers {
        pool: Subnet,
        default_pool: bool,
        needed: Vec<Needed>,
    },
    /// `daemon.json` cannot be used (WARN).
    DaemonConfig { problem: DaemonProblem },
}

impl ContainerProblem {
    pub fn verdict(&self) -> Verdict {
        match self {
            ContainerProblem::SubnetCovers { .. } => Verdict::Fail,
            _ => Verdict::Warn,
        }
    }
}

/// The addresses the runner must reach: every probed name's addresses and the proxy's.
fn needed(targets: &[&TargetResult], proxy: &ProxySettings) -> Vec<Needed> {
    let mut by: BTreeMap<IpAddr, (Vec<String>, bool)> = BTreeMap::new();
    for t in targets {
        for a in &t.dns.obs.addresses {
            let e = by.entry(a.address).or_default();
            if !e.0.contains(&t.host) {
                e.0.push(t.host.clone());
            }
        }
        for c in &t.checks {
            match (&c.obs.step, c.obs.address) {
                (Step::Tunnel { .. } | Step::ProxyConnect { .. }, Some(a)) => {
                    by.entry(a.ip()).or_default().1 = true;
                }
                (Step::Connect { .. }, Some(a)) => {
                    let e = by.entry(a.ip()).or_default();
                    if !e.0.contains(&t.host) {
                        e.0.push(t.host.clone());
                    }
                }
                _ => {}
            }
        }
    }
    for p in [&proxy.https, &proxy.http].into_iter().flatten() {
        if let Ok(ip) = p.url.host.parse::<IpAddr>() {
            by.entry(ip).or_default().1 = true;
        }
    }
    by.into_iter()
        .filter(|(a, _)| !a.is_loopback() && !a.is_unspecified())
        .map(|(address, (mut hosts, proxy))| {
            hosts.sort();
            Needed {
                address,
                hosts,
                proxy,
            }
        })
        .collect()
}

/// The uplink: the interface of the default route (IPv4 first), with the smallest path MTU a
/// probed connection leaving by it held.
fn uplink(network: &Network, targets: &[&TargetResult]) -> Option<Uplink> {
    let default = network
        .routes
        .iter()
        .filter(|r| r.prefix_len == 0 && !docker::is_docker_bridge(&r.interface))
        .min_by_key(|r| !r.destination.is_ipv4())?;
    let interface = default.interface.clone();
    let path_mtu = targets
        .iter()
        .flat_map(|t| &t.checks)
        .filter_map(|c| match &c.obs.step {
            Step::Connect { path: Some(p), .. } if p.interface.as_deref() == Some(&interface) => {
                p.path_mtu
            }
            _ => None,
        })
        .min();
    Some(Uplink {
        mtu: network.interface(&interface).and_then(|i| i.mtu),
        interface,
        path_mtu,
    })
}

/// Docker's networks: the kernel's bridges, joined with the API's networks by bridge name, and
/// `daemon.json`'s `bip` and `mtu` for the default bridge.
fn networks(obs: &Observation, daemon: Option<&DaemonConfig>) -> Vec<DockerNetwork> {
    let mut out: Vec<DockerNetwork> = obs
        .docker
        .bridges
        .iter()
        .map(|b| DockerNetwork {
            name: None,
            bridge: Some(b.name.clone()),
            mtu: b.mtu,
            mtu_from: b.mtu.map(|_| MtuFrom::Bridge),
            subnets: b.subnets.clone(),
        })
        .collect();
    if let Some(Ok(api)) = &obs.api {
        for n in api {
            let i = match out
                .iter()
                .position(|o| o.bridge.is_some() && o.bridge == n.bridge)
            {
                Some(i) => i,
                // Only networks with addresses of their own on this host matter here.
                None if n.subnets.is_empty() => continue,
                None => {
                    out.push(DockerNetwork {
                        name: None,
                        bridge: n.bridge.clone(),
                        mtu: None,
                        mtu_from: None,
                        subnets: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            let o = &mut out[i];
            o.name = Some(n.name.clone());
            for s in &n.subnets {
                if !o
                    .subnets
                    .iter()
                    .any(|x| x.network() == s.network() && x.len == s.len)
                {
                    o.subnets.push(*s);
                }
            }
            if let Some(m) = n.mtu {
                o.mtu = Some(m);
                o.mtu_from = Some(MtuFrom::NetworkOption);
            }
        }
    }
    if let Some(d) = daemon {
        let i = match out
            .iter()
            .position(|o| o.bridge.as_deref() == Some("docker0"))
        {
            Some(i) => Some(i),
            None if d.bip.is_some() => {
                out.push(DockerNetwork {
                    name: Some("bridge".into()),
                    bridge: Some("docker0".into()),
                    mtu: None,
                    mtu_from: None,
                    subnets: Vec::new(),
                });
                Some(out.len() - 1)
            }
            None => None,
        };
        if let Some(i) = i {
            let o = &mut out[i];
            if let Some(bip) = d.bip {
                if !o
                    .subnets
                    .iter()
                    .any(|x| x.network() == bip.network() && x.len == bip.len)
                {
                    o.subnets.push(bip);
                }
            }
            // The API's own option for the default bridge already says what daemon.json said.
            if let (Some(m), false) = (d.mtu, o.mtu_from == Some(MtuFrom::NetworkOption)) {
                o.mtu = Some(m);
                o.mtu_from = Some(MtuFrom::DaemonJson);
            }
        }
    }
    out.sort_by(|a, b| a.bridge.cmp(&b.bridge).then(a.name.cmp(&b.name)));
    out
}

/// Judge what was observed against the addresses the run found.
pub fn judge(
    obs: Observation,
    gating: bool,
    network: &Network,
    targets: &[&TargetResult],
    proxy: &ProxySettings,
) -> ContainerReport {
    let api = match &obs.api {
        None => ApiState::Absent {
            socket: obs.docker.socket.clone(),
        },
        Some(Ok(n)) => ApiState::Read {
            socket: obs.docker.socket.clone(),
            networks: n.len(),
        },
        Some(Err(f)) => ApiState::Failed {
            socket: obs.docker.socket.clone(),
            failure: f.clone(),
        },
    };
    let skip = |why: ContainerSkip| ContainerReport {
        verdict: Verdict::Skip,
        gating,
        skipped: Some(why),
        uplink: None,
        networks: Vec::new(),
        daemon: None,
        pools: Vec::new(),
        pools_default: false,
        api: api.clone(),
        problems: Vec::new(),
    };
    if !obs.linux {
        return skip(ContainerSkip::NotLinux);
    }
    if !obs.docker.present() {
        return skip(ContainerSkip::NoDocker {
            config_dir: obs.docker.config_dir.clone(),
            socket: obs.docker.socket.clone(),
        });
    }
    let mut problems = Vec::new();
    let daemon = match &obs.docker.daemon {
        Some(Ok(d)) => Some(d.clone()),
        Some(Err(p)) => {
            problems.push(ContainerProblem::DaemonConfig { problem: p.clone() });
            None
        }
        None => None,
    };
    let networks = networks(&obs, daemon.as_ref());
    let needed = needed(targets, proxy);
    for n in &networks {
        for s in &n.subnets {
            let covered: Vec<Needed> = needed
                .iter()
                .filter(|x| s.covers(x.address))
                .cloned()
                .collect();
            if !covered.is_empty() {
                problems.push(ContainerProblem::SubnetCovers {
                    network: n.label(),
                    subnet: *s,
                    needed: covered,
                });
            }
        }
    }
    let uplink = uplink(network, targets);
    if let Some((up, limit)) = uplink.as_ref().and_then(|u| Some((u, u.limit()?))) {
        for n in &networks {
            if let (Some(mtu), Some(from)) = (n.mtu, n.mtu_from) {
                if mtu > limit {
                    problems.push(ContainerProblem::MtuAboveUplink {
                        network: n.label(),
                        mtu,
                        mtu_from: from,
                        uplink: up.interface.clone(),
                        uplink_mtu: limit,
                    });
                }
            }
        }
    }
    let (pools, pools_default) = match daemon.as_ref().map(|d| d.pools.clone()) {
        Some(p) if !p.is_empty() => (p, false),
        _ => (docker::default_pools(), true),
    };
    for p in &pools {
        let covered: Vec<Needed> = needed
            .iter()
            .filter(|x| p.base.covers(x.address))
            // Docker skips pool subnets that overlap a route of the host (moby's
            // CheckRouteOverlaps): only an address reached by the default route can be taken.
            .filter(|x| network.route_to(x.address).is_none_or(|r| r.prefix_len == 0))
            // Already failing under an existing network's subnet: said once.
            .filter(|x| {
                !problems.iter().any(|pr| matches!(pr, ContainerProblem::SubnetCovers { needed, .. } if needed.contains(x)))
            })
            .cloned()
            .collect();
        if !covered.is_empty() {
            problems.push(ContainerProblem::PoolCovers {
                pool: p.base,
                default_pool: pools_default,
                needed: covered,
            });
        }
    }
    problems.sort_by_key(|p| std::cmp::Reverse(p.verdict()));
    let verdict = problems
        .iter()
        .map(ContainerProblem::verdict)
        .max()
        .unwrap_or(Verdict::Pass);
    ContainerReport {
        verdict,
        gating,
        skipped: None,
        uplink,
        networks,
        daemon,
        pools,
        pools_default,
        api,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::docker::{Bridge, DockerEnv};
    use crate::env::net::{Interface, RouteEntry};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn network() -> Network {
        Network {
            interfaces: vec![
                Interface {
                    name: "docker0".into(),
                    mtu: Some(1500),
                    bridge: true,
                },
                Interface {
                    name: "wg0".into(),
                    mtu: Some(1420),
                    bridge: false,
                },
            ],
            routes: vec![RouteEntry {
                destination: ip("0.0.0.0"),
                prefix_len: 0,
                gateway: None,
                interface: "wg0".into(),
            }],
        }
    }

    fn obs(bridges: Vec<Bridge>, daemon: Option<DaemonConfig>) -> Observation {
        Observation {
            linux: true,
            docker: DockerEnv {
                config_dir: "/etc/docker".into(),
                daemon: daemon.map(Ok),
                bridges,
                socket: "/var/run/docker.sock".into(),
                socket_present: false,
            },
            api: None,
        }
    }

    fn docker0(subnet: &str) -> Bridge {
        Bridge {
            name: "docker0".into(),
            mtu: Some(1500),
            subnets: vec![Subnet::parse(subnet).unwrap()],
        }
    }

    #[test]
    fn a_bridge_mtu_above_the_uplinks_warns_naming_both() {
        let r = judge(
            obs(vec![docker0("172.17.0.0/16")], None),
            false,
            &network(),
            &[],
            &ProxySettings::default(),
        );
        assert_eq!(r.verdict, Verdict::Warn);
        assert_eq!(
            r.problems,
            vec![ContainerProblem::MtuAboveUplink {
                network: "docker0".into(),
                mtu: 1500,
                mtu_from: MtuFrom::Bridge,
                uplink: "wg0".into(),
                uplink_mtu: 1420,
            }]
        );
        // daemon.json's mtu is what the default bridge's containers get.
        let fixed = DaemonConfig {
            mtu: Some(1420),
            ..Default::default()
        };
        let r = judge(
            obs(vec![docker0("172.17.0.0/16")], Some(fixed)),
            false,
            &network(),
            &[],
            &ProxySettings::default(),
        );
        assert_eq!((r.verdict, r.problems.len()), (Verdict::Pass, 0), "{r:?}");
        assert_eq!(r.networks[0].mtu_from, Some(MtuFrom::DaemonJson));
    }

    #[test]
    fn a_pool_warns_only_for_addresses_behind_the_default_route() {
        let proxy_at = |addr: &str| {
            let mut proxy = ProxySettings::default();
            proxy.https = Some(crate::env::proxy::ProxySetting {
                url: crate::env::proxy::ProxyUrl::parse(&format!("http://{addr}:3128")).unwrap(),
                from: "https_proxy".into(),
                origin: crate::env::proxy::Origin::Environment,
            });
            proxy
        };
        let mut net = network();
        net.routes.push(RouteEntry {
            destination: ip("192.168.1.0"),
            prefix_len: 24,
            gateway: None,
            interface: "wg0".into(),
        });
        let fixed = || DaemonConfig {
            mtu: Some(1420),
            ..Default::default()
        };
        // Behind the default route: a job network from 192.168.0.0/16 may take it.
        let r = judge(
            obs(vec![docker0("172.17.0.0/16")], Some(fixed())),
            false,
            &net,
            &[],
            &proxy_at("192.168.77.5"),
        );
        assert_eq!(r.verdict, Verdict::Warn, "{r:?}");
        assert!(
            matches!(&r.problems[..], [ContainerProblem::PoolCovers { pool, default_pool: true, .. }] if pool.to_string() == "192.168.0.0/16"),
            "{r:?}"
        );
        // On a connected LAN route: Docker leaves that range alone.
        let r = judge(
            obs(vec![docker0("172.17.0.0/16")], Some(fixed())),
            false,
            &net,
            &[],
            &proxy_at("192.168.1.10"),
        );
        assert_eq!((r.verdict, r.problems.len()), (Verdict::Pass, 0), "{r:?}");
    }

    #[test]
    fn no_docker_is_a_skip_with_where_it_was_looked_for() {
        let r = judge(
            obs(vec![], None),
            true,
            &network(),
            &[],
            &ProxySettings::default(),
        );
        assert_eq!(r.verdict, Verdict::Skip);
        assert_eq!(
            r.skipped,
            Some(ContainerSkip::NoDocker {
                config_dir: "/etc/docker".into(),
                socket: "/var/run/docker.sock".into()
            })
        );
    }

    #[test]
    fn a_proxy_inside_a_pool_or_subnet_is_named() {
        let mut proxy = ProxySettings::default();
        proxy.https = Some(crate::env::proxy::ProxySetting {
            url: crate::env::proxy::ProxyUrl::parse("http://172.17.0.9:3128").unwrap(),
            from: "https_proxy".into(),
            origin: crate::env::proxy::Origin::Environment,
        });
        let r = judge(
            obs(vec![docker0("172.17.0.0/16")], None),
            false,
            &network(),
            &[],
            &proxy,
        );
        assert_eq!(r.verdict, Verdict::Fail);
        let ContainerProblem::SubnetCovers {
            network, needed, ..
        } = &r.problems[0]
        else {
            panic!("{r:?}")
        };
        assert_eq!(network, "docker0");
        assert!(needed[0].proxy && needed[0].address == ip("172.17.0.9"));
        // Said once, not again under Docker's default pool 172.17.0.0/16.
        assert!(
            !r.problems
                .iter()
                .any(|p| matches!(p, ContainerProblem::PoolCovers { .. })),
            "{r:?}"
        );
    }
}
